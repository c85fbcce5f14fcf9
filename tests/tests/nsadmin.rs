//! Black-box tests of `nsadmin`: every subcommand against a running `namesrv`, the exit codes,
//! several addresses, and replies shaped as Apache's NameServer sends them.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::bodies::TopicRouteData;
use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_tests::frames_dir;
use namesrv_tests::harness::Reg;
use namesrv_tests::server::{
    free_port, nsadmin_binary, run_nsadmin, Client, NsadminRun, TempDir, TestServer,
};

const OK: i32 = 0;
const ERROR: i32 = 1;
const USAGE: i32 = 2;
const NOT_FOUND: i32 = 3;
const UNREACHABLE: i32 = 4;

type Run = NsadminRun;

fn nsadmin(args: &[&str]) -> Run {
    run_nsadmin(args)
}

/// Runs against `addr` and asserts the exit code.
fn ok(addr: &str, args: &[&str]) -> Run {
    expect(addr, args, OK)
}

fn expect(addr: &str, args: &[&str], code: i32) -> Run {
    let mut all = vec!["-n", addr];
    all.extend_from_slice(args);
    let r = nsadmin(&all);
    assert_eq!(r.code, code, "nsadmin {args:?}: {r:?}");
    r
}

fn addr(s: &TestServer) -> String {
    format!("127.0.0.1:{}", s.port)
}

fn dead_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// A server with cluster C: broker group B (master 0 and slave 1) with topics T and U, and
/// group B2 with topics T and W. (A new broker must list two topics or more: a single-topic
/// registration from an unknown broker is refused, apache/rocketmq#4522.)
/// The client that registered them is returned: closing it would remove the brokers.
fn populated() -> (TestServer, TempDir, Client) {
    let home = TempDir::new("nsadmin");
    let s = TestServer::start_in(&home.0, &[]);
    let mut c = s.client();
    for reg in [
        Reg::new("C", "127.0.0.1:10911", "B", 0).topics(&["T", "U"]),
        Reg::new("C", "127.0.0.1:10921", "B", 1).topics(&["T", "U"]),
        Reg::new("C", "127.0.0.1:10931", "B2", 0).topics(&["T", "W"]),
    ] {
        assert_eq!(c.call(reg.command()).code, response::SUCCESS);
    }
    (s, home, c)
}

fn route(c: &mut Client, topic: &str) -> Option<TopicRouteData> {
    let r =
        c.call(RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic));
    (r.code == response::SUCCESS)
        .then(|| TopicRouteData::decode(r.body.as_deref().unwrap()).unwrap())
}

fn kv_get(c: &mut Client, ns: &str, key: &str) -> Option<String> {
    let r = c.call(
        RemotingCommand::request(request::GET_KV_CONFIG)
            .with_ext("namespace", ns)
            .with_ext("key", key),
    );
    (r.code == response::SUCCESS).then(|| r.ext("value").unwrap_or_default().to_owned())
}

#[test]
fn cluster_list_table_json_and_filter() {
    let (s, _h, _registrar) = populated();
    let a = addr(&s);
    let r = ok(&a, &["clusterList"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("#Cluster Name"), "{r:?}");
    assert_eq!(lines.len(), 4, "{r:?}");
    for (broker, id, baddr) in [
        ("B", "0", "127.0.0.1:10911"),
        ("B", "1", "127.0.0.1:10921"),
        ("B2", "0", "127.0.0.1:10931"),
    ] {
        assert!(
            lines.iter().any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.starts_with(&["C", broker, id, baddr])
            }),
            "no row for {broker}/{id}: {r:?}"
        );
    }

    let j = ok(&a, &["clusterList", "--json"]).json();
    assert_eq!(j["clusterAddrTable"]["C"].as_array().unwrap().len(), 2);
    assert_eq!(
        j["brokerAddrTable"]["B"]["brokerAddrs"]["1"],
        "127.0.0.1:10921"
    );
    assert_eq!(j["brokerAddrTable"]["B2"]["cluster"], "C");

    // -c filters; an unknown cluster is not found.
    let j = ok(&a, &["--json", "clusterList", "-c", "C"]).json();
    assert!(j["clusterAddrTable"]["C"].is_array());
    let r = expect(&a, &["clusterList", "-c", "nope"], NOT_FOUND);
    assert!(r.stderr.contains("nope"), "{r:?}");
}

#[test]
fn topic_list_all_by_cluster_and_every_cluster() {
    let (s, _h, _registrar) = populated();
    let a = addr(&s);
    let mut c = s.client();
    assert_eq!(
        c.call(
            Reg::new("D", "127.0.0.1:10941", "E", 0)
                .topics(&["V", "V2"])
                .command()
        )
        .code,
        response::SUCCESS
    );

    let r = ok(&a, &["topicList"]);
    let topics: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(topics, ["T", "U", "V", "V2", "W"], "{r:?}");
    let j = ok(&a, &["topicList", "--json"]).json();
    assert_eq!(
        j["topicList"],
        serde_json::json!(["T", "U", "V", "V2", "W"])
    );

    let r = ok(&a, &["topicList", "-c", "D"]);
    assert_eq!(r.stdout.lines().collect::<Vec<_>>(), ["V", "V2"], "{r:?}");
    let j = ok(&a, &["topicList", "-c", "C", "--json"]).json();
    assert_eq!(j["cluster"], "C");
    assert_eq!(j["topicList"], serde_json::json!(["T", "U", "W"]));

    // A bare -c: every cluster with its topics.
    let r = ok(&a, &["topicList", "-c"]);
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["C", "T"],
            vec!["C", "U"],
            vec!["C", "W"],
            vec!["D", "V"],
            vec!["D", "V2"]
        ],
        "{r:?}"
    );
    let j = ok(&a, &["--json", "topicList", "-c"]).json();
    assert_eq!(j["clusters"]["D"], serde_json::json!(["V", "V2"]));

    // An unknown cluster has no topics (SUCCESS with an empty list, as Apache answers).
    let r = ok(&a, &["topicList", "-c", "nope"]);
    assert_eq!(r.stdout, "");
}

#[test]
fn topic_route_table_json_and_not_found() {
    let (s, _h, _registrar) = populated();
    let a = addr(&s);
    let r = ok(&a, &["topicRoute", "-t", "T"]);
    assert!(r.stdout.contains("127.0.0.1:10931"), "{r:?}");
    let queue_rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("#Broker Name"))
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        queue_rows,
        vec![
            vec!["B", "8", "8", "6", "(RW-)", "0"],
            vec!["B2", "8", "8", "6", "(RW-)", "0"]
        ],
        "{r:?}"
    );

    let j = ok(&a, &["topicRoute", "-t", "T", "--json"]).json();
    let bds = j["brokerDatas"].as_array().unwrap();
    assert_eq!(bds.len(), 2);
    assert_eq!(bds[0]["brokerAddrs"]["0"], "127.0.0.1:10911", "{j}");
    assert_eq!(j["queueDatas"][1]["brokerName"], "B2");

    let r = expect(&a, &["topicRoute", "-t", "nope"], NOT_FOUND);
    assert!(r.stderr.contains("TOPIC_NOT_EXIST (17)"), "{r:?}");
    assert_eq!(r.stdout, "");
}

#[test]
fn namesrv_config_get_and_update() {
    let home = TempDir::new("nsadmin-cfg");
    let s1 = TestServer::start_in(&home.0.join("a"), &[]);
    let s2 = TestServer::start_in(&home.0.join("b"), &[]);
    let both = format!("{};{}", addr(&s1), addr(&s2));

    let r = ok(&addr(&s1), &["getNamesrvConfig"]);
    assert!(
        r.stdout
            .starts_with(&format!("============{}====", addr(&s1))),
        "{r:?}"
    );
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("listenPort "))
        .unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(
        row.split_whitespace().nth(1),
        Some(s1.port.to_string().as_str())
    );

    // Writes go to every address; each answers for itself.
    let r = ok(
        &both,
        &[
            "updateNamesrvConfig",
            "-k",
            "orderMessageEnable",
            "-v",
            "true",
        ],
    );
    assert_eq!(
        r.stdout.lines().filter(|l| l.ends_with("OK")).count(),
        2,
        "{r:?}"
    );
    let j = ok(&both, &["getNamesrvConfig", "--json"]).json();
    for s in [&s1, &s2] {
        assert_eq!(j[addr(s)]["orderMessageEnable"], "true", "{j}");
        assert_eq!(j[addr(s)]["listenPort"], s.port.to_string());
    }

    // A refused key is an error, from every address.
    let r = expect(
        &both,
        &["updateNamesrvConfig", "-k", "kvConfigPath", "-v", "/tmp/x"],
        ERROR,
    );
    assert_eq!(r.stderr.matches("NO_PERMISSION (16)").count(), 2, "{r:?}");
    let j = expect(
        &addr(&s1),
        &[
            "--json",
            "updateNamesrvConfig",
            "-k",
            "httpNsaddr",
            "-v",
            "x:1",
        ],
        ERROR,
    )
    .json();
    assert_eq!(j["results"][0]["ok"], false);
    assert_eq!(j["results"][0]["code"], 16);
}

#[test]
fn kv_update_list_delete() {
    let home = TempDir::new("nsadmin-kv");
    let s1 = TestServer::start_in(&home.0.join("a"), &[]);
    let s2 = TestServer::start_in(&home.0.join("b"), &[]);
    let both = format!("{};{}", addr(&s1), addr(&s2));

    ok(
        &both,
        &["updateKvConfig", "-s", "NS", "-k", "k1", "-v", "v1"],
    );
    let j = ok(
        &both,
        &[
            "updateKvConfig",
            "-s",
            "NS",
            "-k",
            "k2",
            "-v",
            "v 2",
            "--json",
        ],
    )
    .json();
    assert_eq!(j["results"].as_array().unwrap().len(), 2);
    assert_eq!(j["results"][1]["namesrv"], addr(&s2));
    assert_eq!(j["results"][1]["ok"], true);
    for s in [&s1, &s2] {
        let mut c = s.client();
        assert_eq!(kv_get(&mut c, "NS", "k2").as_deref(), Some("v 2"));
    }

    let r = ok(&addr(&s2), &["getKvList", "-s", "NS"]);
    let rows: Vec<&str> = r.stdout.lines().collect();
    assert!(rows[0].starts_with("#Key"), "{r:?}");
    assert_eq!(rows[1].split_whitespace().collect::<Vec<_>>(), ["k1", "v1"]);
    assert!(
        rows[2].starts_with("k2 ") && rows[2].ends_with(" v 2"),
        "{r:?}"
    );
    let j = ok(&addr(&s1), &["getKvList", "-s", "NS", "--json"]).json();
    assert_eq!(j["table"], serde_json::json!({"k1": "v1", "k2": "v 2"}));

    ok(&both, &["deleteKvConfig", "-s", "NS", "-k", "k1"]);
    for s in [&s1, &s2] {
        let mut c = s.client();
        assert_eq!(kv_get(&mut c, "NS", "k1"), None);
    }
    let j = ok(&addr(&s2), &["getKvList", "-s", "NS", "--json"]).json();
    assert_eq!(j["table"], serde_json::json!({"k2": "v 2"}));

    let r = expect(&addr(&s1), &["getKvList", "-s", "nope"], NOT_FOUND);
    assert!(r.stderr.contains("QUERY_NOT_FOUND (22)"), "{r:?}");
}

#[test]
fn write_perm_wipe_and_add() {
    let (s, _h, _registrar) = populated();
    let a = addr(&s);
    let mut c = s.client();

    let r = ok(&a, &["wipeWritePerm", "-b", "B"]);
    assert_eq!(
        r.stdout.trim(),
        format!("wipe write perm of broker[B] in name server[{a}] OK, 2")
    );
    for t in ["T", "U"] {
        let rd = route(&mut c, t).unwrap();
        let qd = rd
            .queue_datas
            .iter()
            .find(|q| q.broker_name == "B")
            .unwrap();
        assert_eq!(qd.perm, 4, "{t}");
    }
    let b2 = route(&mut c, "T").unwrap();
    let qd = b2
        .queue_datas
        .iter()
        .find(|q| q.broker_name == "B2")
        .unwrap();
    assert_eq!(qd.perm, 6);

    let j = ok(&a, &["addWritePerm", "-b", "B", "--json"]).json();
    assert_eq!(j["results"][0]["addTopicCount"], 2, "{j}");
    let rd = route(&mut c, "U").unwrap();
    assert_eq!(rd.queue_datas[0].perm, 6);

    // An unknown broker group touches nothing, and that is not an error (Apache: count 0).
    let r = ok(&a, &["wipeWritePerm", "-b", "nope"]);
    assert!(r.stdout.trim().ends_with("OK, 0"), "{r:?}");
}

#[test]
fn delete_topic_whole_and_per_cluster() {
    let (s, _h, _registrar) = populated();
    let a = addr(&s);
    let mut c = s.client();
    assert_eq!(
        c.call(
            Reg::new("D", "127.0.0.1:10941", "E", 0)
                .topics(&["T", "Z"])
                .command()
        )
        .code,
        response::SUCCESS
    );

    // -c: only that cluster's queues go.
    ok(&a, &["deleteTopic", "-t", "T", "-c", "D"]);
    let rd = route(&mut c, "T").unwrap();
    let mut names: Vec<&str> = rd
        .queue_datas
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["B", "B2"]);

    let r = ok(&a, &["deleteTopic", "-t", "T"]);
    assert_eq!(
        r.stdout.trim(),
        format!("delete topic[T] in name server[{a}] OK")
    );
    assert!(route(&mut c, "T").is_none());
    expect(&a, &["topicRoute", "-t", "T"], NOT_FOUND);
    ok(&a, &["topicRoute", "-t", "U"]);
}

#[test]
fn unreachable_and_partly_reachable_addresses() {
    let (s, _h, _registrar) = populated();
    let live = addr(&s);
    let dead = dead_addr();

    let r = expect(&dead, &["clusterList"], UNREACHABLE);
    assert!(r.stderr.contains("unreachable"), "{r:?}");
    expect(
        &dead,
        &["updateKvConfig", "-s", "N", "-k", "k", "-v", "v"],
        UNREACHABLE,
    );
    expect(&dead, &["getNamesrvConfig"], UNREACHABLE);

    // Queries fall through to the next address.
    let mixed = format!("{dead};{live}");
    let r = ok(&mixed, &["topicRoute", "-t", "T"]);
    assert!(r.stdout.contains("127.0.0.1:10911"), "{r:?}");

    // Writes reach every address they can, and say which they could not.
    let r = expect(
        &mixed,
        &["updateKvConfig", "-s", "N", "-k", "k", "-v", "v"],
        UNREACHABLE,
    );
    assert!(
        r.stdout.contains(&format!("name server[{live}] OK")),
        "{r:?}"
    );
    assert!(
        r.stderr.contains(&format!("name server[{dead}] FAILED")),
        "{r:?}"
    );
    let mut c = s.client();
    assert_eq!(kv_get(&mut c, "N", "k").as_deref(), Some("v"));

    // A not-found from one address and unreachable from the other: the reply wins.
    expect(
        &format!("{live};{dead}"),
        &["topicRoute", "-t", "nope"],
        NOT_FOUND,
    );

    // NAMESRV_ADDR is the default address list.
    let out = Command::new(nsadmin_binary())
        .arg("topicList")
        .env("NAMESRV_ADDR", &mixed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(OK));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(nsadmin(&["noSuchCommand"]).code, USAGE);
    assert_eq!(nsadmin(&["topicRoute"]).code, USAGE);
    assert_eq!(
        nsadmin(&["updateKvConfig", "-s", "N", "-k", "k"]).code,
        USAGE
    );
    let help = nsadmin(&["--help"]);
    assert_eq!(help.code, OK);
    for sub in [
        "clusterList",
        "topicList",
        "topicRoute",
        "getNamesrvConfig",
        "updateNamesrvConfig",
        "updateKvConfig",
        "deleteKvConfig",
        "getKvList",
        "wipeWritePerm",
        "addWritePerm",
        "deleteTopic",
    ] {
        assert!(help.stdout.contains(sub), "help lacks {sub}: {help:?}");
    }
}

// --- Apache-shaped replies -----------------------------------------------------------------------

/// What the fake answers a request with: `(code, remark, ext, body)`.
type Answer = (
    i32,
    Option<String>,
    Vec<(&'static str, String)>,
    Option<Vec<u8>>,
);

/// A one-connection-at-a-time fake NameServer on a loopback port, answering every request
/// with `answer(request)`. It records the requests it saw.
fn fake_namesrv(
    answer: impl Fn(&RemotingCommand) -> Answer + Send + 'static,
) -> (String, std::sync::mpsc::Receiver<RemotingCommand>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = BytesMut::new();
            let mut chunk = [0u8; 4096];
            loop {
                match decode_frame(&mut buf, DEFAULT_MAX_FRAME) {
                    Ok(Some(req)) => {
                        let (code, remark, ext, body) = answer(&req);
                        let mut reply = RemotingCommand::response_to(&req, code, remark);
                        // What Apache 4.9.7 announces.
                        reply.version = 407;
                        for (k, v) in ext {
                            reply = reply.with_ext(k, v);
                        }
                        if let Some(b) = body {
                            reply = reply.with_body(b);
                        }
                        let _ = tx.send(req);
                        if stream.write_all(&encode_to_bytes(&reply).unwrap()).is_err() {
                            break;
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(_) => break,
                }
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        }
    });
    (a, rx)
}

/// GET_NAMESRV_CONFIG's body as a real Apache 4.9.7 NameServer sent it (frame #8 of
/// `tests/fixtures/frames/realns497.log`): HashMap order, not sorted.
const APACHE_CONFIG: &str = "serverSocketBacklog=1024\nwriteBufferHighWaterMark=0\nserverWorkerThreads=8\nserverSelectorThreads=3\nserverChannelMaxIdleTimeSeconds=120\nwriteBufferLowWaterMark=0\nserverSocketRcvBufSize=0\nserverAsyncSemaphoreValue=64\nkvConfigPath=/opt/rocketmq/home/namesrv/kvConfig.json\nconfigStorePath=/opt/rocketmq/namesrv.properties\nclusterTest=false\norderMessageEnable=false\nserverSocketSndBufSize=0\nserverOnewaySemaphoreValue=256\nserverCallbackExecutorThreads=0\nlistenPort=19876\nrocketmqHome=/opt/rocketmq/rmqhome\nproductEnvName=center\nuseEpollNativeSelector=false\nserverPooledByteBufAllocatorEnable=true\n";

#[test]
fn works_against_apache_shaped_replies() {
    // Apache's 106 body is fastjson's legacy form: unquoted numeric keys, HashMap order.
    const CLUSTER: &str = r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}"#;
    const ROUTE: &str = r#"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":0,"writeQueueNums":4}]}"#;
    let log = std::fs::read_to_string(frames_dir().join("realns497.log")).unwrap();
    assert!(log.contains(&APACHE_CONFIG.replace('\n', "\\n")));
    let (a, seen) = fake_namesrv(move |req| {
        match req.code {
        request::GET_BROKER_CLUSTER_INFO => (0, None, vec![], Some(CLUSTER.into())),
        request::GET_ROUTEINFO_BY_TOPIC if req.ext("topic") == Some("TopicTest") => {
            (0, None, vec![], Some(ROUTE.into()))
        }
        request::GET_ROUTEINFO_BY_TOPIC => (
            response::TOPIC_NOT_EXIST,
            Some("No topic route info in name server for the topic: x\nSee http://rocketmq.apache.org/docs/faq/ for further details.".into()),
            vec![],
            None,
        ),
        request::GET_NAMESRV_CONFIG => (0, None, vec![], Some(APACHE_CONFIG.into())),
        request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => {
            (0, None, vec![], Some(br#"{"topicList":["TopicTest","TBW102"]}"#.to_vec()))
        }
        request::GET_KVLIST_BY_NAMESPACE => (
            response::QUERY_NOT_FOUND,
            Some("No config item, Namespace: ORDER_TOPIC_CONFIG".into()),
            vec![],
            None,
        ),
        request::WIPE_WRITE_PERM_OF_BROKER => (0, None, vec![("wipeTopicCount", "3".into())], None),
        _ => (0, None, vec![], None),
    }
    });

    let j = ok(&a, &["clusterList", "--json"]).json();
    assert_eq!(
        j["brokerAddrTable"]["broker-a"]["brokerAddrs"]["1"],
        "10.0.0.2:10911"
    );
    let r = ok(&a, &["clusterList"]);
    assert!(r.stdout.contains("10.0.0.2:10911"), "{r:?}");

    let j = ok(&a, &["topicRoute", "-t", "TopicTest", "--json"]).json();
    assert_eq!(j["queueDatas"][0]["topicSysFlag"], 0);
    assert_eq!(j["brokerDatas"][0]["brokerAddrs"]["0"], "10.0.0.1:10911");
    expect(&a, &["topicRoute", "-t", "x"], NOT_FOUND);

    let j = ok(&a, &["getNamesrvConfig", "--json"]).json();
    assert_eq!(j[&a]["serverSocketBacklog"], "1024", "{j}");
    assert_eq!(j[&a]["listenPort"], "19876");
    let r = ok(&a, &["getNamesrvConfig"]);
    assert!(r.stdout.contains("kvConfigPath"), "{r:?}");
    assert_eq!(ok(&a, &["topicList"]).stdout, "TBW102\nTopicTest\n");
    expect(&a, &["getKvList", "-s", "ORDER_TOPIC_CONFIG"], NOT_FOUND);
    let r = ok(&a, &["wipeWritePerm", "-b", "broker-a"]);
    assert!(r.stdout.trim().ends_with("OK, 3"), "{r:?}");

    // What it sent: JSON headers, language JAVA, version 479, the mqadmin header names.
    let reqs: Vec<RemotingCommand> = seen.try_iter().collect();
    assert!(reqs.len() >= 8);
    for r in &reqs {
        assert_eq!(r.language.name(), "JAVA");
        assert_eq!(r.version, 479);
        assert_eq!(
            r.serialize_type,
            namesrv_core::protocol::SerializeType::Json
        );
    }
    let route_req = reqs
        .iter()
        .find(|r| r.code == request::GET_ROUTEINFO_BY_TOPIC)
        .unwrap();
    assert_eq!(route_req.ext("acceptStandardJsonOnly"), Some("true"));
    let wipe = reqs
        .iter()
        .find(|r| r.code == request::WIPE_WRITE_PERM_OF_BROKER)
        .unwrap();
    assert_eq!(wipe.ext("brokerName"), Some("broker-a"));
}

#[test]
fn a_peer_that_is_not_a_namesrv_is_an_error_not_a_crash() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut b = [0u8; 512];
            let _ = s.read(&mut b);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    let r = expect(&a, &["clusterList"], ERROR);
    assert!(r.stderr.contains("protocol error"), "{r:?}");
}
