//! Black-box tests of the status page on the HTTP port (`httpStatusPageEnable=true`): what the
//! overview and a topic's page show, that every string off the wire is HTML-escaped, that it
//! is off by default and cannot be switched on remotely, and that the other endpoints answer
//! as before. The real-browser check is `tests/browser/run.sh`.

use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_tests::harness::{topic, Reg};
use namesrv_tests::http_client::{get, http};
use namesrv_tests::server::{TempDir, TestServer};

const ON: [&str; 2] = ["--set", "httpStatusPageEnable=true"];

/// A small fleet: a master and a slave in cluster C, a master in cluster D with a hostile name,
/// and a 30 s heartbeat timeout on the slave. Keep what it returns: the brokers go when their
/// connection closes.
#[must_use]
fn fleet(s: &TestServer) -> namesrv_tests::server::Client {
    let mut c = s.client();
    let mut t = topic("TopicTest");
    t.perm = 4;
    t.read_queue_nums = 8;
    t.write_queue_nums = 8;
    for reg in [
        Reg::new("C", "127.0.0.1:10911", "broker-a", 0)
            .topic_configs(vec![t.clone(), topic("%RETRY%group1")])
            .ha("127.0.0.1:10912"),
        // (two topics: a one-topic registration from an unknown id is refused, apache/rocketmq#4522)
        Reg::new("C", "127.0.0.1:10921", "broker-a", 1)
            .topic_configs(vec![t, topic("%RETRY%group1")])
            .timeout(30_000),
        Reg::new("D&<b>", "127.0.0.1:10931", "<script>x</script>", 0)
            .topics(&["<img src=x onerror=alert(1)>", "Plain"]),
    ] {
        let r = c.call(reg.command());
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    }
    c
}

#[test]
fn overview_shows_clusters_groups_roles_heartbeats_and_counts() {
    let home = TempDir::new("status-overview");
    let (s, hp) = TestServer::start_with_http(&home.0, &ON);
    let _brokers = fleet(&s);
    let r = get(hp, "/");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers.contains("Content-Type: text/html; charset=utf-8"),
        "{}",
        r.headers
    );
    assert!(r
        .headers
        .contains("Content-Security-Policy: default-src 'none'"));
    let b = &r.body;
    assert!(b.starts_with("<!DOCTYPE html>"), "{b}");
    assert!(b.contains(r#"name="viewport""#), "readable on a phone");
    assert!(
        !b.contains("<script"),
        "no JavaScript, and no name turned into markup: {b}"
    );
    assert!(!b.contains("src=\"http"), "no external assets");
    for want in [
        "Cluster <code>C</code>",
        "<code>broker-a</code>",
        "<code>127.0.0.1:10911</code>",
        "<code>127.0.0.1:10921</code>",
        "<code>127.0.0.1:10912</code>",
        "master",
        "slave",
        " ago",
        "heartbeatTimeoutMillis 30000",
        "heartbeatTimeoutMillis 120000",
        "<b>2</b>clusters",
        "<b>2</b>broker groups",
        "<b>3</b>live brokers",
        "<b>4</b>topics",
        "<b>1</b>connections",
        r#"href="/topic/%25RETRY%25group1""#,
        r#"<td id="group-broker-a">"#,
        "ready",
    ] {
        assert!(b.contains(want), "the overview lacks {want:?}: {b}");
    }
    // The hostile names are text.
    for want in [
        "Cluster <code>D&amp;&lt;b&gt;</code>",
        "<code>&lt;script&gt;x&lt;/script&gt;</code>",
        "&lt;img src=x onerror=alert(1)&gt;",
    ] {
        assert!(b.contains(want), "the overview lacks {want:?}: {b}");
    }
    // The slave's time left is under its 30 s timeout, the master's under 120 s and above 30 s.
    assert!(b.contains(" s</td>") || b.contains("m "), "{b}");

    // HEAD: the head alone.
    let h = http(hp, "HEAD / HTTP/1.1\r\n\r\n");
    assert_eq!((h.status, h.body.as_str()), (200, ""));
}

#[test]
fn topic_page_shows_the_route_and_escapes_it() {
    let home = TempDir::new("status-topic");
    let (s, hp) = TestServer::start_with_http(&home.0, &ON);
    let _brokers = fleet(&s);
    let r = get(hp, "/topic/TopicTest");
    assert_eq!(r.status, 200, "{}", r.body);
    for want in [
        "Topic <code>TopicTest</code>",
        "<td>8</td><td>8</td>",
        "4 <span class=\"muted\">(read)</span>",
        "<code>127.0.0.1:10911</code>",
        "<code>127.0.0.1:10921</code>",
        "master",
        "slave",
        r#"value="TopicTest""#,
        r#"href="/#group-broker-a""#,
    ] {
        assert!(
            r.body.contains(want),
            "the route page lacks {want:?}: {}",
            r.body
        );
    }
    // A `%` name, encoded or as typed, and the form's query.
    for path in [
        "/topic/%25RETRY%25group1",
        "/topic/%RETRY%group1",
        "/topic?name=%25RETRY%25group1",
    ] {
        let r = get(hp, path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.body.contains("<code>%RETRY%group1</code>"), "{path}");
    }
    // The hostile topic: escaped in the title, the heading, the form and the broker rows.
    let r = get(hp, "/topic/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("<img"), "{}", r.body);
    assert!(r.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(r
        .body
        .contains("<code>&lt;script&gt;x&lt;/script&gt;</code>"));
    assert!(r.body.contains("<code>D&amp;&lt;b&gt;</code>"));
    // No such topic: a page that says so, 404.
    let r = get(hp, "/topic/%3Cb%3Enope");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("No route"), "{}", r.body);
    assert!(r.body.contains("&lt;b&gt;nope") && !r.body.contains("<b>nope"));
    // Not UTF-8.
    assert_eq!(get(hp, "/topic/%ff").status, 400);
}

#[test]
fn status_page_is_off_by_default_not_settable_remotely_and_leaves_the_rest_alone() {
    let home = TempDir::new("status-off");
    let (s, hp) = TestServer::start_with_http(&home.0, &[]);
    let _brokers = fleet(&s);
    assert_eq!(get(hp, "/").status, 404);
    assert_eq!(get(hp, "/topic/TopicTest").status, 404);
    let mut c = s.client();
    let r = c.call(
        RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG)
            .with_body("httpStatusPageEnable=true\n"),
    );
    assert_eq!(r.code, response::NO_PERMISSION, "{:?}", r.remark);
    assert_eq!(get(hp, "/").status, 404);
    // The other endpoints, page on or off.
    let home2 = TempDir::new("status-on-rest");
    let (_s2, hp2) = TestServer::start_with_http(&home2.0, &ON);
    for port in [hp, hp2] {
        let r = get(port, "/health");
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
        assert!(r
            .headers
            .contains("Content-Type: text/plain; charset=utf-8"));
        assert!(!r.headers.contains("Content-Security-Policy"));
        assert_eq!(get(port, "/ready").status, 200);
        assert_eq!(get(port, "/rocketmq/nsaddr").status, 404);
        let m = get(port, "/metrics");
        assert_eq!(m.status, 200);
        assert!(m.body.ends_with("# EOF\n"));
        assert_eq!(get(port, "/nope").status, 404);
    }
}
