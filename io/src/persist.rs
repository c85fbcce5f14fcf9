//! Durable files: KV store and config. Nothing acknowledged is lost: the previous file is
//! copied to `<path>.bak` (as Apache does), the new content goes to a temporary file that is
//! fsynced and renamed over the target, and the directory is fsynced.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use namesrv_core::kv::KvConfig;

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

pub fn backup_path(path: &Path) -> PathBuf {
    with_suffix(path, ".bak")
}

/// Atomically replaces `path` with `content`, keeping the previous content as `path.bak`.
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    if path.exists() {
        let bak = backup_path(path);
        let tmp_bak = with_suffix(path, ".bak.tmp");
        fs::copy(path, &tmp_bak)?;
        File::open(&tmp_bak)?.sync_all()?;
        fs::rename(&tmp_bak, &bak)?;
    }
    let tmp = with_suffix(path, ".tmp");
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Why the KV store could not be loaded at start-up.
#[derive(Debug)]
pub struct KvLoadFailure {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for KvLoadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot load KV store {}: {} (start with --kv-use-backup to load {} instead)",
            self.path.display(),
            self.reason,
            backup_path(&self.path).display()
        )
    }
}

/// Loads `kvConfig.json`: missing → empty (as Apache); unreadable or corrupt → an error naming
/// the file, never a silently empty store. With `use_backup`, loads `<path>.bak` instead.
pub fn load_kv(path: &Path, use_backup: bool) -> Result<KvConfig, KvLoadFailure> {
    let path = if use_backup {
        backup_path(path)
    } else {
        path.to_owned()
    };
    match fs::read(&path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(KvConfig::new()),
        Ok(bytes) => KvConfig::from_json(&bytes).map_err(|e| KvLoadFailure {
            path,
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(KvConfig::new()),
        Err(e) => Err(KvLoadFailure {
            path,
            reason: e.to_string(),
        }),
    }
}
