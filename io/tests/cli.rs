//! The binary's command line: config printing, file errors, overrides.

use std::process::Command;

fn namesrv() -> Command {
    Command::new(env!("CARGO_BIN_EXE_namesrv"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("namesrv-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn print_config_shows_apache_defaults_sorted() {
    let out = namesrv().arg("-p").env("HOME", "/home/x").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "listenPort=9876\n",
        "bindAddress=0.0.0.0\n",
        "kvConfigPath=/home/x/namesrv/kvConfig.json\n",
        "returnOrderTopicConfigToBroker=true\n",
        "serverChannelMaxIdleTimeSeconds=120\n",
        "waitSecondsForService=45\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    let keys: Vec<&str> = text.lines().map(|l| l.split('=').next().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn file_then_flags() {
    let d = temp_dir("file");
    let f = d.join("namesrv.properties");
    std::fs::write(
        &f,
        "listenPort=9999\norderMessageEnable=true\nsomeFutureKey=1\n",
    )
    .unwrap();
    let out = namesrv()
        .arg("-c")
        .arg(&f)
        .arg("--listenPort")
        .arg("9000")
        .arg("-p")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listenPort=9000\n"), "{text}");
    assert!(text.contains("orderMessageEnable=true\n"));
    assert!(text.contains("someFutureKey=1\n"));
    assert!(text.contains(&format!("configStorePath={}\n", f.display())));
}

#[test]
fn malformed_value_names_file_line_and_key() {
    let d = temp_dir("bad");
    let f = d.join("bad.properties");
    std::fs::write(&f, "# comment\nlistenPort=9876\nenableTopicList=maybe\n").unwrap();
    let out = namesrv().arg("-c").arg(&f).arg("-p").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&format!("{}:3", f.display())), "{err}");
    assert!(err.contains("enableTopicList"), "{err}");
}

#[test]
fn unknown_override_is_an_error() {
    let out = namesrv()
        .args(["--set", "noSuchKey=1", "-p"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("unknown key noSuchKey"));
}

#[test]
fn readme_documents_every_key() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let out = namesrv().arg("-p").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let missing: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split('=').next())
        .filter(|k| !readme.contains(&format!("`{k}`")))
        .collect();
    assert!(missing.is_empty(), "README does not document {missing:?}");
}
