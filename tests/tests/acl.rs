//! ACL signatures over the wire (issue 9): with `aclEnable`, unsigned or wrongly signed writes
//! are refused and change nothing, correctly signed ones succeed, reads stay open. Signatures
//! are computed independently of our code, by Python's `hmac` module, as RocketMQ's
//! `AclClientRPCHook` computes them.

use std::process::Command;

use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_tests::server::{TempDir, TestServer};

const ACCESS_KEY: &str = "rocketmq2";
const SECRET: &str = "12345678";

/// Base64(HmacSHA1(secret, values of ext fields sorted by key + body)), by Python.
fn python_signature(cmd: &RemotingCommand, secret: &str) -> String {
    let ext: serde_json::Map<String, serde_json::Value> = cmd
        .ext_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let body = cmd
        .body
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let script = "import sys,json,hmac,hashlib,base64\n\
                  d=json.loads(sys.argv[1])\n\
                  c=''.join(d[k] for k in sorted(d) if k!='Signature').encode()+sys.argv[3].encode()\n\
                  print(base64.b64encode(hmac.new(sys.argv[2].encode(),c,hashlib.sha1).digest()).decode())";
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            &serde_json::Value::Object(ext).to_string(),
            secret,
            &body,
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn signed(cmd: RemotingCommand, access_key: &str, secret: &str) -> RemotingCommand {
    let cmd = cmd.with_ext("AccessKey", access_key);
    let sig = python_signature(&cmd, secret);
    cmd.with_ext("Signature", sig)
}

fn put(k: &str, v: &str) -> RemotingCommand {
    namesrv_tests::harness::put_kv("NS", k, v)
}

fn get(k: &str) -> RemotingCommand {
    namesrv_tests::harness::get_kv("NS", k)
}

fn start_with_acl(home: &TempDir, extra: &[&str]) -> TestServer {
    let file = home.0.join("acl.properties");
    std::fs::write(&file, format!("{ACCESS_KEY}={SECRET}\nother=secret2\n")).unwrap();
    let mut args = vec![
        "--set".to_owned(),
        "aclEnable=true".to_owned(),
        "--set".to_owned(),
        format!("aclFile={}", file.display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    TestServer::start_in(&home.0, &args)
}

#[test]
fn unsigned_and_badly_signed_writes_are_refused_and_change_nothing() {
    let home = TempDir::new("acl");
    let server = start_with_acl(&home, &[]);
    let mut c = server.client();

    let r = c.call(put("k", "unsigned"));
    assert_eq!(r.code, response::NO_PERMISSION);
    assert!(r.remark.unwrap_or_default().contains("AccessKey"));

    let r = c.call(signed(put("k", "wrong"), ACCESS_KEY, "not-the-secret"));
    assert_eq!(r.code, response::NO_PERMISSION);
    assert!(r.remark.unwrap_or_default().contains("does not match"));

    let r = c.call(signed(put("k", "who"), "stranger", SECRET));
    assert_eq!(r.code, response::NO_PERMISSION);

    // A valid signature over different content does not carry over.
    let mut replayed = signed(put("k", "original"), ACCESS_KEY, SECRET);
    replayed = replayed.with_ext("value", "tampered");
    assert_eq!(c.call(replayed).code, response::NO_PERMISSION);

    // Reads stay open, and nothing was written.
    assert_eq!(c.call(get("k")).code, response::QUERY_NOT_FOUND);
}

#[test]
fn refusals_are_counted_in_metrics() {
    let home = TempDir::new("acl-metrics");
    let http_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = start_with_acl(&home, &["--set", &format!("httpListenPort={http_port}")]);
    let mut c = server.client();
    assert_eq!(c.call(put("k", "v")).code, response::NO_PERMISSION);
    assert_eq!(
        c.call(signed(put("k", "v"), ACCESS_KEY, "wrong")).code,
        response::NO_PERMISSION
    );
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", http_port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(
        text.contains(r#"namesrv_auth_failures_total{kind="missing_access_key"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"namesrv_auth_failures_total{kind="bad_signature"} 1"#),
        "{text}"
    );
}

#[test]
fn correctly_signed_writes_succeed_and_reads_stay_open() {
    let home = TempDir::new("acl-ok");
    let server = start_with_acl(&home, &[]);
    let mut c = server.client();
    let r = c.call(signed(put("k", "v"), ACCESS_KEY, SECRET));
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    let r = c.call(signed(
        put("k2", "v2").with_body("ignored body bytes"),
        "other",
        "secret2",
    ));
    assert_eq!(
        r.code,
        response::SUCCESS,
        "body bytes are signed too: {:?}",
        r.remark
    );
    let r = c.call(get("k"));
    assert_eq!(r.ext("value"), Some("v"));
    let r =
        c.call(RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T"));
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
}

#[test]
fn protected_reads_need_a_signature_too() {
    let home = TempDir::new("acl-reads");
    let server = start_with_acl(&home, &["--set", "aclProtectReads=true"]);
    let mut c = server.client();
    assert_eq!(c.call(get("k")).code, response::NO_PERMISSION);
    assert_eq!(
        c.call(signed(get("k"), ACCESS_KEY, SECRET)).code,
        response::QUERY_NOT_FOUND
    );
}

#[test]
fn acl_settings_cannot_be_changed_remotely() {
    let home = TempDir::new("acl-remote");
    let server = start_with_acl(&home, &[]);
    let mut c = server.client();
    for body in [
        "aclEnable=false\n",
        "aclFile=/tmp/mine\n",
        "aclProtectReads=false\n",
    ] {
        let cmd = signed(
            RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG).with_body(body),
            ACCESS_KEY,
            SECRET,
        );
        assert_eq!(c.call(cmd).code, response::NO_PERMISSION, "{body}");
    }
    assert_eq!(
        c.call(put("k", "v")).code,
        response::NO_PERMISSION,
        "still enforcing"
    );
}

#[test]
fn acl_without_accounts_does_not_start() {
    let home = TempDir::new("acl-none");
    let out = Command::new(namesrv_tests::server::binary())
        .args([
            "--bindAddress",
            "127.0.0.1",
            "--listenPort",
            "0",
            "--set",
            "aclEnable=true",
        ])
        .env("HOME", &home.0)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "started open with aclEnable=true and no accounts"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("aclFile"));
}

#[test]
fn nsadmin_signs_with_access_and_secret_keys() {
    let home = TempDir::new("acl-nsadmin");
    let server = start_with_acl(&home, &[]);
    let addr = format!("127.0.0.1:{}", server.port);
    let nsadmin = |extra: &[&str]| {
        Command::new(namesrv_tests::server::nsadmin_binary())
            .args(["-n", &addr])
            .args(extra)
            .args([
                "updateKvConfig",
                "-s",
                "NS",
                "-k",
                "k",
                "-v",
                "from-nsadmin",
            ])
            .output()
            .unwrap()
    };
    let unsigned = nsadmin(&[]);
    assert!(!unsigned.status.success(), "an unsigned write went through");
    let signed = nsadmin(&["--accessKey", ACCESS_KEY, "--secretKey", SECRET]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    assert_eq!(
        server.client().call(get("k")).ext("value"),
        Some("from-nsadmin")
    );
}
