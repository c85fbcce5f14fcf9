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

/// Every key `namesrv -p` prints has a row in the configuration-key table of
/// docs/configuration.md (the README links there): a row starts `| \`key\` |`, so a key
/// merely mentioned in some note does not count.
#[test]
fn docs_document_every_key() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/configuration.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let table = doc
        .split("\n## Configuration keys\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{path} has no \"## Configuration keys\" section"));
    let table = table.split("\n## ").next().unwrap_or(table);
    // The key cells of its rows; a cell may hold several keys (`a` / `b`, or `a`, `b`, `c`).
    let documented: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" | ").next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect();
    let out = namesrv().arg("-p").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let keys: Vec<&str> = text.lines().filter_map(|l| l.split('=').next()).collect();
    assert!(
        keys.len() > 40,
        "namesrv -p printed only {} keys",
        keys.len()
    );
    let missing: Vec<&str> = keys
        .into_iter()
        .filter(|k| !documented.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "{path}'s configuration-key table has no row for {missing:?}"
    );
}
