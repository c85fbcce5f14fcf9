//! `namesrv --help` and `-h` open with what the program is, not the crate's description.

use std::process::Command;

const FIRST_LINE: &str = "RocketMQ NameServer, wire-compatible with Apache's mqnamesrv";

fn first_line(flag: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_namesrv"))
        .arg(flag)
        .output()
        .unwrap();
    assert!(out.status.success(), "namesrv {flag}: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn help_opens_with_what_the_program_is() {
    assert_eq!(first_line("--help"), FIRST_LINE);
    assert_eq!(first_line("-h"), FIRST_LINE);
}

#[test]
fn long_help_still_lists_the_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_namesrv"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for opt in ["--configFile", "--printConfigItem", "--set", "--listenPort"] {
        assert!(text.contains(opt), "--help lacks {opt}:\n{text}");
    }
    assert!(!text.contains("tokio shell"), "{text}");
}
