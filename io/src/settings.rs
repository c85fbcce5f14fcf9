//! Start-up configuration: defaults, the `-c` properties file, then command-line overrides.

use std::path::{Path, PathBuf};

use namesrv_core::config::NamesrvConfig;
use namesrv_core::controller::ControllerConfig;

/// A start-up configuration problem, naming where it came from.
#[derive(Debug)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

/// Apache's defaults, with `~` resolved against `home` and `rocketmqHome` from the environment.
pub fn defaults(home: &Path, rocketmq_home: Option<String>) -> NamesrvConfig {
    let base = NamesrvConfig::default();
    NamesrvConfig {
        kv_config_path: home
            .join("namesrv")
            .join("kvConfig.json")
            .display()
            .to_string(),
        config_store_path: home
            .join("namesrv")
            .join("namesrv.properties")
            .display()
            .to_string(),
        rocketmq_home: rocketmq_home.unwrap_or(base.rocketmq_home.clone()),
        ..base
    }
}

/// Applies a `.properties` file. Unknown keys are kept (Apache keeps them too) and returned as
/// warnings; a malformed value is an error naming file, line and key.
pub fn apply_file(config: &mut NamesrvConfig, path: &Path) -> Result<Vec<String>, SettingsError> {
    let text = std::fs::read(path)
        .map_err(|e| SettingsError(format!("{}: cannot read: {e}", path.display())))?;
    let mut warnings = Vec::new();
    let mut error: Option<String> = None;
    let iter = java_properties::PropertiesIter::new(text.as_slice());
    for line in iter {
        let line = line.map_err(|e| SettingsError(format!("{}: {e}", path.display())))?;
        let number = line.line_number();
        if let java_properties::LineContent::KVPair(key, value) = line.consume_content() {
            match config.set(&key, &value) {
                Ok(true) => {}
                Ok(false) => {
                    // The controller's keys (embedded mode reads them from the same file).
                    if !ControllerConfig::is_known_key(&key) {
                        warnings.push(format!(
                            "{}:{number}: unknown key {key} (kept, but it has no effect)",
                            path.display()
                        ));
                    }
                    config.extra.insert(key, value);
                }
                Err(reason) => {
                    error.get_or_insert(format!(
                        "{}:{number}: bad value for {key}: {reason}",
                        path.display()
                    ));
                }
            }
        }
    }
    if let Some(e) = error {
        return Err(SettingsError(e));
    }
    // As Apache: config updates persist to the file the server was started with.
    config.config_store_path = path.display().to_string();
    Ok(warnings)
}

/// Applies `KEY=VALUE` overrides from the command line.
pub fn apply_overrides(config: &mut NamesrvConfig, pairs: &[String]) -> Result<(), SettingsError> {
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| SettingsError(format!("--set {pair}: expected KEY=VALUE")))?;
        match config.set(k.trim(), v) {
            Ok(true) => {}
            Ok(false) if ControllerConfig::is_known_key(k.trim()) => {
                config.extra.insert(k.trim().to_owned(), v.to_owned());
            }
            Ok(false) => return Err(SettingsError(format!("--set {pair}: unknown key {k}"))),
            Err(reason) => return Err(SettingsError(format!("--set {pair}: {reason}"))),
        }
    }
    Ok(())
}

/// `~/...` as Apache's `System.getProperty("user.home")` would resolve it.
pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}
