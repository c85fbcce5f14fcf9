//! Black-box tests of the HTTP port: `/metrics` parsed by a Prometheus text parser with its
//! series moving as requests are made, `/health`, `/ready` flipping after
//! `waitSecondsForService`, and the address-server endpoint `/rocketmq/nsaddr`.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_tests::harness::Reg;
use namesrv_tests::http_client::{get, http};
use namesrv_tests::server::{TempDir, TestServer};
use prometheus_parse::{Sample, Scrape, Value};

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// --- /metrics -------------------------------------------------------------------------------------

struct Metrics {
    scrape: Scrape,
    text: String,
}

fn scrape(port: u16) -> Metrics {
    let r = get(port, "/metrics");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers
            .contains("Content-Type: application/openmetrics-text; version=1.0.0"),
        "{}",
        r.headers
    );
    assert!(r.body.ends_with("# EOF\n"), "no # EOF:\n{}", r.body);
    let scrape = Scrape::parse(r.body.lines().map(|l| Ok(l.to_owned()))).expect("parses");
    // Every sample belongs to a family with HELP and TYPE.
    for s in &scrape.samples {
        let family = ["_total", "_sum", "_count", "_bucket"]
            .iter()
            .find_map(|suffix| s.metric.strip_suffix(suffix))
            .unwrap_or(&s.metric);
        assert!(scrape.docs.contains_key(family), "no HELP for {}", s.metric);
        assert!(
            r.body.contains(&format!("# TYPE {family} ")),
            "no TYPE for {}",
            s.metric
        );
    }
    Metrics {
        scrape,
        text: r.body,
    }
}

fn scalar(s: &Sample) -> Option<f64> {
    match s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
        _ => None,
    }
}

impl Metrics {
    /// The value of the series `name` whose labels include `labels`; 0 when absent.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let matching: Vec<f64> = self
            .scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .filter_map(scalar)
            .collect();
        assert!(matching.len() <= 1, "{name} {labels:?} is ambiguous");
        matching.first().copied().unwrap_or(0.0)
    }

    /// Buckets of the latency histogram of `code`: `(le, cumulative count)`.
    fn buckets(&self, code: &str) -> Vec<(f64, f64)> {
        self.scrape
            .samples
            .iter()
            .filter(|s| s.metric == "namesrv_request_duration_seconds")
            .filter(|s| s.labels.get("code") == Some(code))
            .find_map(|s| match &s.value {
                Value::Histogram(h) => Some(h.iter().map(|b| (b.less_than, b.count)).collect()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

fn requests(m: &Metrics, code: &str, result: &str) -> f64 {
    m.get(
        "namesrv_requests_total",
        &[("code", code), ("result", result)],
    )
}

#[test]
fn metrics_move_with_requests() {
    let home = TempDir::new("http-metrics");
    let (s, hp) = TestServer::start_with_http(&home.0, &[]);
    let m0 = scrape(hp);
    for g in [
        "namesrv_brokers_live",
        "namesrv_broker_groups",
        "namesrv_clusters",
        "namesrv_topics",
        "namesrv_queue_entries",
        "namesrv_kv_entries",
    ] {
        assert_eq!(m0.get(g, &[]), 0.0, "{g}");
    }
    assert_eq!(m0.get("namesrv_ready", &[]), 1.0);
    assert_eq!(m0.get("namesrv_build_info", &[]), 1.0);
    // Zero-valued series exist before anything happened.
    assert!(m0
        .text
        .contains("namesrv_broker_removals_total{cause=\"expired\"} 0\n"));

    // Two brokers, three topics (four queue entries). (A new broker must list two topics or more:
    // a single-topic registration from an unknown broker is refused, apache/rocketmq#4522.)
    let mut c = s.client();
    for reg in [
        Reg::new("C", "127.0.0.1:10911", "B", 0).topics(&["T", "U"]),
        Reg::new("C", "127.0.0.1:10921", "B2", 0).topics(&["T", "V"]),
    ] {
        assert_eq!(c.call(reg.command()).code, response::SUCCESS);
    }
    for _ in 0..3 {
        let r = c.call(
            RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "nope"),
        );
        assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    }
    let r =
        c.call(RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T"));
    assert_eq!(r.code, response::SUCCESS);
    let r = c.call(
        RemotingCommand::request(request::PUT_KV_CONFIG)
            .with_ext("namespace", "NS")
            .with_ext("key", "k")
            .with_ext("value", "v"),
    );
    assert_eq!(r.code, response::SUCCESS);
    let r = c.call(RemotingCommand::request(77_777));
    assert_eq!(r.code, response::REQUEST_CODE_NOT_SUPPORTED);

    let m1 = scrape(hp);
    assert_eq!(
        requests(&m1, "103", "SUCCESS") - requests(&m0, "103", "SUCCESS"),
        2.0
    );
    assert_eq!(requests(&m1, "105", "TOPIC_NOT_EXIST"), 3.0);
    assert_eq!(requests(&m1, "105", "SUCCESS"), 1.0);
    assert_eq!(requests(&m1, "100", "SUCCESS"), 1.0);
    assert_eq!(requests(&m1, "other", "REQUEST_CODE_NOT_SUPPORTED"), 1.0);
    assert_eq!(
        m1.get(
            "namesrv_requests_total",
            &[
                ("code", "105"),
                ("request", "GET_ROUTEINFO_BY_TOPIC"),
                ("result", "SUCCESS")
            ]
        ),
        1.0
    );
    assert_eq!(m1.get("namesrv_brokers_live", &[]), 2.0);
    assert_eq!(m1.get("namesrv_broker_groups", &[]), 2.0);
    assert_eq!(m1.get("namesrv_clusters", &[]), 1.0);
    assert_eq!(m1.get("namesrv_topics", &[]), 3.0);
    assert_eq!(m1.get("namesrv_queue_entries", &[]), 4.0);
    assert_eq!(m1.get("namesrv_kv_entries", &[]), 1.0);
    assert_eq!(m1.get("namesrv_kv_namespaces", &[]), 1.0);
    assert!(m1.get("namesrv_connections", &[]) >= 1.0);
    assert_eq!(m1.get("namesrv_kv_writes_total", &[("op", "put")]), 1.0);
    assert_eq!(
        m1.get(
            "namesrv_persist_writes_total",
            &[("file", "kv"), ("result", "ok")]
        ),
        1.0
    );
    assert_eq!(
        m1.get("namesrv_broker_registrations_total", &[("first", "true")]),
        2.0
    );

    // The latency histogram: 4 observations of 105, cumulative buckets ending at +Inf.
    let b = m1.buckets("105");
    assert!(b.len() >= 10, "{b:?}");
    assert!(
        b.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "{b:?}"
    );
    assert_eq!(
        b.last().map(|x| (x.0.is_infinite(), x.1)),
        Some((true, 4.0))
    );
    assert_eq!(
        m1.get("namesrv_request_duration_seconds_count", &[("code", "105")]),
        4.0
    );
    assert!(m1.get("namesrv_request_duration_seconds_sum", &[("code", "105")]) > 0.0);

    // Removals by cause: unregistered, connection_closed, expired.
    let r = c.call(
        RemotingCommand::request(request::UNREGISTER_BROKER)
            .with_ext("brokerName", "B2")
            .with_ext("brokerAddr", "127.0.0.1:10921")
            .with_ext("clusterName", "C")
            .with_ext("brokerId", "0"),
    );
    assert_eq!(r.code, response::SUCCESS);
    {
        let mut other = s.client();
        let reg = Reg::new("C", "127.0.0.1:10931", "B3", 0).topics(&["W", "Y"]);
        let r = other.call(reg.command());
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    } // dropped: its connection closes
    let reg = Reg::new("C", "127.0.0.1:10941", "B4", 0)
        .topics(&["X", "Z"])
        .timeout(300);
    assert_eq!(c.call(reg.command()).code, response::SUCCESS);
    let cause = |m: &Metrics, c: &str| m.get("namesrv_broker_removals_total", &[("cause", c)]);
    wait_until("expiry and connection-close removals", || {
        let m = scrape(hp);
        cause(&m, "expired") == 1.0 && cause(&m, "connection_closed") == 1.0
    });
    let m2 = scrape(hp);
    assert_eq!(cause(&m2, "unregistered"), 1.0);
    assert_eq!(cause(&m2, "fenced"), 0.0);
    assert_eq!(m2.get("namesrv_brokers_live", &[]), 1.0);
    assert_eq!(m2.get("namesrv_topics", &[]), 2.0, "B's T and U remain");

    // A bad frame: a decode error by kind, and a connection closed for it.
    let mut bad = s.client();
    bad.send_raw(&[0, 0, 0, 2, 0, 0]);
    assert!(bad.is_closed(Duration::from_secs(5)));
    wait_until("the decode error counted", || {
        scrape(hp).get("namesrv_decode_errors_total", &[("kind", "bad_length")]) == 1.0
    });
    let m3 = scrape(hp);
    let closed = |m: &Metrics| {
        m.get(
            "namesrv_connections_closed_total",
            &[("reason", "decode_error")],
        )
    };
    let accepted = |m: &Metrics| m.get("namesrv_connections_accepted_total", &[]);
    assert_eq!(closed(&m3) - closed(&m2), 1.0);
    assert_eq!(accepted(&m3) - accepted(&m2), 1.0);
}

// --- /health, /ready ----------------------------------------------------------------------------

#[test]
fn ready_flips_after_wait_seconds_for_service() {
    let home = TempDir::new("http-ready");
    let started = Instant::now();
    let (s, hp) = TestServer::start_with_http(
        &home.0,
        &[
            "--set",
            "needWaitForService=true",
            "--set",
            "waitSecondsForService=3",
        ],
    );
    assert_eq!(get(hp, "/health").status, 200);
    let first = get(hp, "/ready");
    if started.elapsed() < Duration::from_millis(2500) {
        assert_eq!(first.status, 503, "{}", first.body);
        assert!(first.body.contains("needWaitForService"), "{}", first.body);
        assert_eq!(scrape(hp).get("namesrv_ready", &[]), 0.0);
        // The same wait holds route queries back.
        let r = s
            .client()
            .call(RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T"));
        assert_eq!(r.code, response::SYSTEM_ERROR);
        assert_eq!(r.remark.as_deref(), Some("name server not ready"));
    } else {
        eprintln!(
            "start-up took {:?}; skipping the not-ready half",
            started.elapsed()
        );
    }
    wait_until("/ready to answer 200", || get(hp, "/ready").status == 200);
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(get(hp, "/ready").body, "ready\n");
    assert_eq!(scrape(hp).get("namesrv_ready", &[]), 1.0);
    let r = s
        .client()
        .call(RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T"));
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
}

#[test]
fn ready_at_once_without_the_wait_and_not_while_stopping() {
    let home = TempDir::new("http-ready2");
    let (s, hp) = TestServer::start_with_http(&home.0, &[]);
    let r = get(hp, "/ready");
    assert_eq!((r.status, r.body.as_str()), (200, "ready\n"));
    let h = get(hp, "/health");
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
    assert!(h.headers.contains("Content-Length: 3\r\n"));
    assert!(h.headers.contains("Connection: close"));

    // SIGTERM: a clean exit, and the HTTP port goes with the process. (/ready's 503 while
    // connections drain is covered by the io crate's unit tests: the drain is too short to
    // catch from outside.)
    assert!(s.terminate().success());
    assert!(TcpStream::connect(("127.0.0.1", hp)).is_err());
}

// --- /rocketmq/nsaddr and the rest of the HTTP surface ---------------------------------------------

#[test]
fn nsaddr_answers_the_configured_list() {
    let home = TempDir::new("http-nsaddr");
    let (_s, hp) = TestServer::start_with_http(
        &home.0,
        &["--set", "httpNsaddr=10.0.0.1:9876;10.0.0.2:9876"],
    );
    let r = get(hp, "/rocketmq/nsaddr");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "10.0.0.1:9876;10.0.0.2:9876");
    assert!(
        r.headers.contains("Content-Type: text/plain"),
        "{}",
        r.headers
    );
    // What Java clients send (TopAddressing: HTTP/1.1 GET with a query string).
    let r = http(
        hp,
        "GET /rocketmq/nsaddr?nofix=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "10.0.0.1:9876;10.0.0.2:9876")
    );

    let home2 = TempDir::new("http-nsaddr2");
    let (_s2, hp2) = TestServer::start_with_http(&home2.0, &[]);
    assert_eq!(get(hp2, "/rocketmq/nsaddr").status, 404);
}

#[test]
fn unknown_paths_methods_and_garbage() {
    let home = TempDir::new("http-misc");
    let (s, hp) = TestServer::start_with_http(&home.0, &[]);
    assert_eq!(get(hp, "/nope").status, 404);
    let r = http(hp, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405);
    assert!(r.headers.contains("Allow: GET, HEAD"));
    let r = http(hp, "HEAD /health HTTP/1.1\r\n\r\n");
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert!(r.headers.contains("Content-Length: 3\r\n"));
    assert_eq!(http(hp, "hello\r\n\r\n").status, 400);
    let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(http(hp, &huge).status, 431);
    // The remoting port is unaffected by any of it.
    let r = s
        .client()
        .call(RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO));
    assert_eq!(r.code, response::SUCCESS);
}

#[test]
fn http_port_is_off_by_default_and_its_keys_are_not_settable_remotely() {
    let home = TempDir::new("http-off");
    let s = TestServer::start_in(&home.0, &[]);
    let mut c = s.client();
    let r = c.call(RemotingCommand::request(request::GET_NAMESRV_CONFIG));
    let text = String::from_utf8(r.body.unwrap().to_vec()).unwrap();
    assert!(text.contains("httpListenPort=0\n"), "{text}");
    for kv in [
        "httpNsaddr=1.2.3.4:9876",
        "httpListenPort=8080",
        "httpBindAddress=0.0.0.0",
    ] {
        let r = c.call(
            RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG).with_body(format!("{kv}\n")),
        );
        assert_eq!(r.code, response::NO_PERMISSION, "{kv}");
    }
}
