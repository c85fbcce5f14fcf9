//! Smoke test of the `namesrv-loadgen` tool: every mode runs for a fraction of a second against
//! a test server (and the tool's own null server), and its `--json` output parses. Nothing here
//! checks speed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use namesrv_tests::server::{TempDir, TestServer};
use serde_json::Value;

const LOADGEN: &str = env!("CARGO_BIN_EXE_namesrv-loadgen");

/// Runs the tool; requires success; returns its stdout lines as JSON.
fn loadgen(args: &[&str]) -> Vec<Value> {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(LOADGEN)
        .args(args)
        .output()
        .expect("run namesrv-loadgen");
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(
        status.success(),
        "namesrv-loadgen {args:?} failed: {status}\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// The tool's null server on a free port, killed on drop.
struct NullServer {
    child: Child,
    addr: String,
}

impl NullServer {
    fn start() -> Self {
        let mut child = Command::new(LOADGEN)
            .args(["null-server", "--listen", "127.0.0.1:0", "--threads", "1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn null server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("null server output");
        let addr = line
            .trim()
            .strip_prefix("null-server listening on ")
            .unwrap_or_else(|| panic!("unexpected null server output {line:?}"))
            .to_owned();
        Self { child, addr }
    }
}

impl Drop for NullServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

fn check_route_result(v: &Value) {
    for key in [
        "conns", "requests", "rps", "p50_us", "p99_us", "p999_us", "max_us",
    ] {
        num(v, key);
    }
    assert_eq!(v["errors"], 0, "{v}");
    assert!(num(v, "requests") >= 1.0, "no request completed: {v}");
    assert!(num(v, "p50_us") <= num(v, "p99_us"), "{v}");
}

#[test]
fn every_mode_runs_and_its_output_parses() {
    let home = TempDir::new("loadgen");
    let server = TestServer::start_in(&home.0, &[]);
    let ours = format!("127.0.0.1:{}", server.port);
    let null = NullServer::start();
    let short = [
        "--duration",
        "0.3",
        "--warmup",
        "0.1",
        "--topics",
        "5",
        "--json",
    ];

    // route, against both; the RSS of our server is found from its port.
    for addr in [&ours, &null.addr] {
        let mut args = vec!["route", "--addr", addr.as_str(), "--conns", "1,3"];
        args.extend(short);
        let out = loadgen(&args);
        assert_eq!(out.len(), 2, "one line per connection count: {out:?}");
        for v in &out {
            assert_eq!(v["mode"], "route");
            check_route_result(v);
        }
        if addr == &ours {
            assert!(num(&out[0], "rss_mib") > 0.0, "{}", out[0]);
        }
    }
    // The blocking client too.
    let mut args = vec![
        "route",
        "--addr",
        ours.as_str(),
        "--conns",
        "2",
        "--blocking",
    ];
    args.extend(short);
    check_route_result(&loadgen(&args)[0]);

    // compare: one line per connection count, with both sides and the ratios.
    let mut args = vec![
        "compare", "--a", &ours, "--b", &null.addr, "--conns", "1,2", "--rounds", "2",
    ];
    args.extend(short);
    let out = loadgen(&args);
    assert_eq!(out.len(), 2, "{out:?}");
    for v in &out {
        assert_eq!(v["mode"], "compare");
        check_route_result(&v["a"]["result"]);
        check_route_result(&v["b"]["result"]);
        assert!(num(v, "rps_ratio") > 0.0, "{v}");
        assert!(num(v, "p99_ratio") > 0.0, "{v}");
    }

    // register: a handful of brokers, a burst, an idle and a loaded phase.
    let out = loadgen(&[
        "register",
        "--addr",
        &ours,
        "--brokers",
        "6",
        "--topics",
        "3",
        "--spread",
        "3",
        "--period",
        "0.2",
        "--duration",
        "0.4",
        "--clients",
        "2",
        "--idle",
        "0.3",
        "--warmup",
        "0.1",
        "--json",
    ]);
    assert_eq!(out.len(), 1, "{out:?}");
    let v = &out[0];
    assert_eq!(v["mode"], "register");
    assert_eq!(v["burst"]["accepted"], 6, "{v}");
    assert_eq!(v["burst"]["failed"], 0, "{v}");
    assert_eq!(v["route_check_brokers"], 3, "{v}");
    assert!(num(&v["loaded_registrations"], "count") >= 1.0, "{v}");
    assert_eq!(v["loaded_registrations_failed"], 0, "{v}");
    check_route_result(&v["idle_queries"]);
    check_route_result(&v["loaded_queries"]);
    assert!(num(&v["rss_mib"], "end") > 0.0, "{v}");
    // Every broker connection closed at once: the routes went (within the probe's wait).
    assert_eq!(v["drop"]["connections"], 6, "{v}");
    assert_eq!(v["drop"]["groups_left"], 0, "{v}");
    assert!(num(&v["drop"], "routes_gone_ms") >= 0.0, "{v}");
    assert_eq!(v["errors"], 0, "{v}");

    // startup: our binary, started and killed twice on a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let cmd = format!(
        "{} --bindAddress 127.0.0.1 --listenPort {port}",
        namesrv_tests::server::binary().display()
    );
    let out = Command::new(LOADGEN)
        .args([
            "startup", "--addr", &addr, "--cmd", &cmd, "--runs", "2", "--json",
        ])
        .env("HOME", &home.0)
        .output()
        .expect("run namesrv-loadgen startup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("startup JSON");
    assert_eq!(v["mode"], "startup");
    assert!(num(&v["first_accept_ms"], "median") > 0.0, "{v}");
    assert!(
        num(&v["first_reply_ms"], "max") >= num(&v["first_accept_ms"], "median"),
        "{v}"
    );
}

#[test]
fn a_dead_address_is_a_clear_error_not_a_panic() {
    // A port nothing listens on: bind, take the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let out = Command::new(LOADGEN)
        .args([
            "route",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--duration",
            "0.1",
        ])
        .output()
        .expect("run namesrv-loadgen");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("cannot connect"), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn a_broken_server_is_reported_per_connection() {
    // A server that answers every request with garbage: the tool must name the problem.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut s = stream;
                let mut b = [0u8; 4096];
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 || s.write_all(&[0xff; 16]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let out = Command::new(LOADGEN)
        .args([
            "route",
            "--addr",
            &addr.to_string(),
            "--no-register",
            "--conns",
            "3",
            "--duration",
            "0.2",
            "--warmup",
            "0",
        ])
        .output()
        .expect("run namesrv-loadgen");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("3 of 3 connections") && stderr.contains("bad frame length"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
