//! Black-box tests: the real `namesrv` binary on a loopback port, over TCP.

use std::time::{Duration, Instant};

use namesrv_core::protocol::bodies::{decode_kv_table, ClusterInfo, TopicRouteData};
use namesrv_core::protocol::{flag, request, response, RemotingCommand, SerializeType};
use namesrv_tests::harness::Reg;
use namesrv_tests::server::{Client, TempDir, TestServer};

fn start() -> (TestServer, TempDir) {
    let home = TempDir::new("bb");
    (TestServer::start_in(&home.0, &[]), home)
}

fn route(c: &mut Client, topic: &str) -> Option<TopicRouteData> {
    let r =
        c.call(RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic));
    match r.code {
        response::SUCCESS => Some(TopicRouteData::decode(r.body.as_deref().unwrap()).unwrap()),
        response::TOPIC_NOT_EXIST => None,
        other => panic!("route reply {other} {:?}", r.remark),
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kv_put(ns: &str, k: &str, v: &str) -> RemotingCommand {
    RemotingCommand::request(request::PUT_KV_CONFIG)
        .with_ext("namespace", ns)
        .with_ext("key", k)
        .with_ext("value", v)
}

fn kv_get(ns: &str, k: &str) -> RemotingCommand {
    RemotingCommand::request(request::GET_KV_CONFIG)
        .with_ext("namespace", ns)
        .with_ext("key", k)
}

/// One request per handled code (plus an unknown one), with the headers each needs.
fn every_code() -> Vec<(RemotingCommand, i32)> {
    let b = |code| RemotingCommand::request(code);
    vec![
        (kv_put("NS", "k", "v"), response::SUCCESS),
        (kv_get("NS", "k"), response::SUCCESS),
        (b(request::GET_KVLIST_BY_NAMESPACE).with_ext("namespace", "NS"), response::SUCCESS),
        (b(request::DELETE_KV_CONFIG).with_ext("namespace", "NS").with_ext("key", "k"), response::SUCCESS),
        (kv_get("NS", "k"), response::QUERY_NOT_FOUND),
        (Reg::new("C", "127.0.0.1:10911", "B", 0).topics(&["T", "U"]).command(), response::SUCCESS),
        (b(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T"), response::SUCCESS),
        (b(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "nope"), response::TOPIC_NOT_EXIST),
        (b(request::GET_BROKER_CLUSTER_INFO), response::SUCCESS),
        (b(request::WIPE_WRITE_PERM_OF_BROKER).with_ext("brokerName", "B"), response::SUCCESS),
        (b(request::ADD_WRITE_PERM_OF_BROKER).with_ext("brokerName", "B"), response::SUCCESS),
        (b(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER), response::SUCCESS),
        (b(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", "C"), response::SUCCESS),
        (b(request::GET_SYSTEM_TOPIC_LIST_FROM_NS), response::SUCCESS),
        (b(request::GET_UNIT_TOPIC_LIST), response::SUCCESS),
        (b(request::GET_HAS_UNIT_SUB_TOPIC_LIST), response::SUCCESS),
        (b(request::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST), response::SUCCESS),
        (b(request::GET_NAMESRV_CONFIG), response::SUCCESS),
        (b(request::UPDATE_NAMESRV_CONFIG).with_body("enableTopicList=true\n"), response::SUCCESS),
        (b(request::UPDATE_NAMESRV_CONFIG).with_body("kvConfigPath=/tmp/x\n"), response::NO_PERMISSION),
        (
            b(request::QUERY_DATA_VERSION)
                .with_ext("brokerName", "B")
                .with_ext("brokerAddr", "127.0.0.1:10911")
                .with_ext("clusterName", "C")
                .with_ext("brokerId", "0"),
            response::SUCCESS,
        ),
        (
            b(request::BROKER_HEARTBEAT)
                .with_ext("brokerName", "B")
                .with_ext("brokerAddr", "127.0.0.1:10911")
                .with_ext("clusterName", "C"),
            response::SUCCESS,
        ),
        (b(request::GET_BROKER_MEMBER_GROUP).with_ext("clusterName", "C").with_ext("brokerName", "B"), response::SUCCESS),
        (b(request::REGISTER_TOPIC_IN_NAMESRV).with_ext("topic", "V").with_body(r#"{"brokerDatas":[],"filterServerTable":{},"queueDatas":[{"brokerName":"B","perm":6,"readQueueNums":2,"topicSysFlag":0,"writeQueueNums":2}]}"#), response::SUCCESS),
        (b(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "V"), response::SUCCESS),
        (b(request::DELETE_TOPIC_IN_NAMESRV).with_ext("topic", "V"), response::SUCCESS),
        (b(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "V"), response::TOPIC_NOT_EXIST),
        (
            b(request::UNREGISTER_BROKER)
                .with_ext("brokerName", "B")
                .with_ext("brokerAddr", "127.0.0.1:10911")
                .with_ext("clusterName", "C")
                .with_ext("brokerId", "0"),
            response::SUCCESS,
        ),
        (b(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T"), response::TOPIC_NOT_EXIST),
        (b(99_999), response::REQUEST_CODE_NOT_SUPPORTED),
    ]
}

#[test]
fn every_request_code_in_both_serialize_types() {
    let (server, _home) = start();
    for stype in [SerializeType::Json, SerializeType::RocketMq] {
        let mut c = server.client();
        for (mut cmd, want) in every_code() {
            cmd.serialize_type = stype;
            let code = cmd.code;
            let reply = c.call(cmd);
            assert_eq!(
                reply.code, want,
                "{stype:?} code {code}: remark {:?}",
                reply.remark
            );
            assert_eq!(
                reply.serialize_type, stype,
                "reply in the request's serialize type"
            );
            assert!(reply.is_response());
        }
    }
}

#[test]
fn json_replies_carry_serialize_type_current_rpc() {
    let (server, _home) = start();
    let mut c = server.client();
    c.send(RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO));
    // Read the raw frame to see the header text.
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    use std::io::Read;
    while raw.len() < 8
        || raw.len() < 4 + u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize
    {
        let n = c.stream.read(&mut buf).unwrap();
        assert!(n > 0);
        raw.extend_from_slice(&buf[..n]);
    }
    let hlen = (u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]) & 0xFFFFFF) as usize;
    let header = std::str::from_utf8(&raw[8..8 + hlen]).unwrap();
    assert!(
        header.contains(r#""serializeTypeCurrentRPC":"JSON""#),
        "{header}"
    );
    assert!(header.contains(r#""language":"JAVA""#), "{header}");
}

#[test]
fn pipelined_thousand_requests_on_one_connection() {
    let (server, _home) = start();
    let mut c = server.client();
    let mut opaques = Vec::new();
    for i in 0..1000 {
        let cmd = if i % 2 == 0 {
            RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
                .with_ext("topic", format!("T{i}"))
        } else {
            kv_put("P", &format!("k{i}"), "v")
        };
        opaques.push(c.send(cmd));
    }
    for (i, want) in opaques.iter().enumerate() {
        let r = c.read().expect("reply");
        assert_eq!(r.opaque, *want);
        assert_eq!(
            r.code,
            if i % 2 == 0 {
                response::TOPIC_NOT_EXIST
            } else {
                response::SUCCESS
            }
        );
    }
}

#[test]
fn oneway_requests_get_no_reply() {
    let (server, _home) = start();
    let mut c = server.client();
    let mut cmd = kv_put("O", "k", "v");
    cmd.flag |= flag::ONEWAY;
    c.send(cmd);
    // The next reply is the GET's: the oneway PUT was applied and not answered.
    let r = c.call(kv_get("O", "k"));
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(r.ext("value"), Some("v"));
}

#[test]
fn connection_close_removes_the_broker() {
    let (server, _home) = start();
    let mut broker = server.client();
    let r = broker.call(
        Reg::new("C", "10.0.0.1:10911", "B", 0)
            .topics(&["T", "U"])
            .command(),
    );
    assert_eq!(r.code, response::SUCCESS);
    let mut client = server.client();
    assert!(route(&mut client, "T").is_some());
    drop(broker);
    wait_until(
        "routes to vanish after the broker's connection closed",
        || route(&mut client, "T").is_none(),
    );
    let info = client.call(RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO));
    let info = ClusterInfo::decode(info.body.as_deref().unwrap()).unwrap();
    assert!(info.broker_addr_table.is_empty() && info.cluster_addr_table.is_empty());
}

#[test]
fn broker_expires_after_its_heartbeat_timeout() {
    let (server, _home) = start();
    let mut broker = server.client();
    let r = broker.call(
        Reg::new("C", "10.0.0.2:10911", "B", 0)
            .topics(&["T", "U"])
            .timeout(700)
            .command(),
    );
    assert_eq!(r.code, response::SUCCESS);
    let mut client = server.client();
    assert!(route(&mut client, "T").is_some());
    // The broker's connection stays open; only the missed heartbeats remove it.
    let started = Instant::now();
    wait_until("expiry", || route(&mut client, "T").is_none());
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "expired too early: {:?}",
        started.elapsed()
    );
    drop(broker);
}

#[test]
fn heartbeats_keep_a_broker_alive() {
    let (server, _home) = start();
    let mut broker = server.client();
    let reg = Reg::new("C", "10.0.0.3:10911", "B", 0)
        .topics(&["T", "U"])
        .timeout(600);
    broker.call(reg.command());
    let mut client = server.client();
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(200));
        let mut hb = RemotingCommand::request(request::BROKER_HEARTBEAT)
            .with_ext("clusterName", "C")
            .with_ext("brokerAddr", "10.0.0.3:10911")
            .with_ext("brokerName", "B");
        hb.flag |= flag::ONEWAY;
        broker.send(hb);
        assert!(
            route(&mut client, "T").is_some(),
            "expired despite heartbeats"
        );
    }
}

#[test]
fn kv_survives_kill_9_and_restart() {
    let home = TempDir::new("kv");
    let server = TestServer::start_in(&home.0, &[]);
    let mut c = server.client();
    for i in 0..50 {
        assert_eq!(
            c.call(kv_put(
                "ORDER_TOPIC_CONFIG",
                &format!("T{i}"),
                &format!("b:{i}")
            ))
            .code,
            0
        );
    }
    let server = server.kill9_and_restart();
    let mut c = server.client();
    let r = c.call(
        RemotingCommand::request(request::GET_KVLIST_BY_NAMESPACE)
            .with_ext("namespace", "ORDER_TOPIC_CONFIG"),
    );
    assert_eq!(r.code, response::SUCCESS);
    let table = decode_kv_table(r.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        table.len(),
        50,
        "acknowledged KV writes lost across kill -9"
    );
    assert_eq!(table["T49"], "b:49");
}

#[test]
fn corrupt_kv_file_stops_start_up_and_backup_flag_recovers() {
    let home = TempDir::new("corrupt");
    let dir = home.0.join("namesrv");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("kvConfig.json"),
        b"{\"configTable\":{\"NS\":{\"k\":",
    )
    .unwrap();
    std::fs::write(
        dir.join("kvConfig.json.bak"),
        b"{\"configTable\":{\"NS\":{\"k\":\"old\"}}}",
    )
    .unwrap();
    let out = std::process::Command::new(namesrv_tests::server::binary())
        .args(["--bindAddress", "127.0.0.1", "--listenPort", "0"])
        .env("HOME", &home.0)
        .output()
        .unwrap();
    assert!(!out.status.success(), "started on a corrupt kvConfig.json");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kvConfig.json") && err.contains("--kv-use-backup"),
        "{err}"
    );
    let server = TestServer::start_in(&home.0, &["--kv-use-backup"]);
    let r = server.client().call(kv_get("NS", "k"));
    assert_eq!(r.ext("value"), Some("old"));
}

#[test]
fn malformed_frames_close_only_their_connection() {
    let (server, _home) = start();
    let mut good = server.client();
    assert_eq!(good.call(kv_put("M", "k", "v")).code, 0);
    let rss_before = server.rss_kib();
    let bad_frames: Vec<Vec<u8>> = vec![
        vec![0, 0, 0, 2, 0, 0],                               // length below 4
        vec![0x7f, 0xff, 0xff, 0xff],                         // 2 GiB frame announced
        vec![0, 0x10, 0, 1], // 1 MiB + 1 over the limit? no: 1 MiB frame, then EOF
        vec![0, 0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0], // unknown serialize type
        vec![0, 0, 0, 8, 0, 0, 0, 9, b'{', b'{', b'{', b'{'], // header longer than frame
        vec![0, 0, 0, 5, 0, 0, 0, 1, b'{'], // malformed JSON
        vec![0, 0, 0, 9, 1, 0, 0, 5, 0, 1, 0, 0, 0], // truncated binary header
    ];
    for _ in 0..30 {
        for frame in &bad_frames {
            let mut bad = server.client();
            bad.send_raw(frame);
            if frame != &bad_frames[2] {
                assert!(
                    bad.is_closed(Duration::from_secs(5)),
                    "connection not closed after {frame:?}"
                );
            }
        }
    }
    let r = good.call(kv_get("M", "k"));
    assert_eq!(
        r.ext("value"),
        Some("v"),
        "the well-behaved client was disturbed"
    );
    if let (Some(before), Some(after)) = (rss_before, server.rss_kib()) {
        assert!(
            after < before + 64 * 1024,
            "RSS grew from {before} KiB to {after} KiB"
        );
    }
}

#[test]
fn sigterm_exits_zero_and_keeps_kv() {
    let home = TempDir::new("term");
    let server = TestServer::start_in(&home.0, &[]);
    assert_eq!(server.client().call(kv_put("S", "k", "v")).code, 0);
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let text = std::fs::read_to_string(home.0.join("namesrv").join("kvConfig.json")).unwrap();
    assert!(text.contains("\"S\":{\"k\":\"v\"}"), "{text}");
}

#[test]
fn config_update_is_persisted_to_the_config_file() {
    let home = TempDir::new("cfg");
    let file = home.0.join("namesrv.properties");
    std::fs::write(&file, "orderMessageEnable=false\n").unwrap();
    let server = TestServer::start_in(&home.0, &["-c", file.to_str().unwrap()]);
    let mut c = server.client();
    let r = c.call(
        RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG)
            .with_body("orderMessageEnable=true\n"),
    );
    assert_eq!(r.code, response::SUCCESS);
    let r = c.call(RemotingCommand::request(request::GET_NAMESRV_CONFIG));
    assert!(
        String::from_utf8_lossy(r.body.as_deref().unwrap()).contains("orderMessageEnable=true\n")
    );
    wait_until("config file rewrite", || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("orderMessageEnable=true\n")
    });
    assert!(file.with_extension("properties.bak").exists());
}

#[test]
fn a_kv_write_that_cannot_be_persisted_is_not_acknowledged() {
    let home = TempDir::new("unwritable");
    let server = TestServer::start_in(&home.0, &[]);
    // After start-up, the KV directory becomes a regular file: no write can succeed.
    let dir = home.0.join("namesrv");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::write(&dir, b"x").unwrap();
    let r = server.client().call(kv_put("NS", "k", "v"));
    assert_eq!(r.code, response::SYSTEM_ERROR, "{:?}", r.remark);
    assert!(r.remark.unwrap_or_default().contains("not persisted"));
}
