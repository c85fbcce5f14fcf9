//! Limits (issue 9), against the real binary: each is configurable and answered by a clear
//! error or a close, never a crash (the server keeps serving afterwards).

use std::time::{Duration, Instant};

use namesrv_core::protocol::bodies::ClusterInfo;
use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_tests::harness::Reg;
use namesrv_tests::server::{Client, TempDir, TestServer};

fn start(home: &TempDir, settings: &[&str]) -> TestServer {
    let mut args = Vec::new();
    for s in settings {
        args.push("--set");
        args.push(*s);
    }
    TestServer::start_in(&home.0, &args)
}

fn ping() -> RemotingCommand {
    RemotingCommand::request(request::GET_KV_CONFIG)
        .with_ext("namespace", "NS")
        .with_ext("key", "k")
}

/// A client the server answers. Retries for a while: the start-up probe's connection (or a
/// client just dropped) may still hold its slot for a moment.
fn served_client(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = Client::connect(port);
        let opaque = c.send(ping());
        if let Some(r) = c.read() {
            assert_eq!(r.opaque, opaque);
            return c;
        }
        assert!(Instant::now() < deadline, "no connection was served");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a new connection is closed without an answer.
fn refused(port: u16) -> bool {
    let mut c = Client::connect(port);
    c.send(ping());
    c.read().is_none()
}

fn brokers(c: &mut Client) -> usize {
    let r = c.call(RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO));
    assert_eq!(r.code, response::SUCCESS);
    ClusterInfo::decode(r.body.as_deref().unwrap())
        .unwrap()
        .broker_addr_table
        .len()
}

fn topic_exists(c: &mut Client, topic: &str) -> bool {
    let r =
        c.call(RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic));
    r.code == response::SUCCESS
}

#[test]
fn connections_per_source_address_are_limited() {
    let home = TempDir::new("limit-per-addr");
    let server = start(&home, &["serverMaxConnectionsPerAddress=2"]);
    let mut a = served_client(server.port);
    let _b = served_client(server.port);
    assert!(refused(server.port), "a third connection from 127.0.0.1");
    assert!(refused(server.port), "still refused");
    // Refusals don't disturb the connections already open.
    assert_eq!(a.call(ping()).code, response::QUERY_NOT_FOUND);
    // A closed connection gives its slot back.
    drop(a);
    let mut c = served_client(server.port);
    assert_eq!(c.call(ping()).code, response::QUERY_NOT_FOUND);
}

#[test]
fn total_connections_are_limited() {
    let home = TempDir::new("limit-total");
    let server = start(&home, &["serverMaxConnections=2"]);
    let _a = served_client(server.port);
    let mut b = served_client(server.port);
    assert!(refused(server.port));
    assert_eq!(b.call(ping()).code, response::QUERY_NOT_FOUND);
}

#[test]
fn registrations_with_too_many_topics_are_refused_and_change_nothing() {
    let home = TempDir::new("limit-topics");
    let server = start(&home, &["registerBrokerMaxTopics=3"]);
    let mut c = server.client();
    let reg = |topics: &[&str]| Reg::new("C", "127.0.0.1:10911", "B", 0).topics(topics);

    let r = c.call(reg(&["T1", "T2", "T3", "T4"]).command());
    assert_eq!(r.code, response::SYSTEM_ERROR);
    let remark = r.remark.unwrap_or_default();
    assert!(
        remark.contains("4 topics") && remark.contains("registerBrokerMaxTopics=3"),
        "{remark}"
    );
    assert_eq!(brokers(&mut c), 0, "the refused broker was registered");
    assert!(!topic_exists(&mut c, "T1"));

    // Compressed registrations are counted the same way.
    let r = c.call(reg(&["T1", "T2", "T3", "T4"]).compressed(true).command());
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(brokers(&mut c), 0);

    let r = c.call(reg(&["T1", "T2", "T3"]).command());
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert!(topic_exists(&mut c, "T3"));

    // The limit is read per request: raising it lets the larger registration through.
    let update = RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG)
        .with_body("registerBrokerMaxTopics=10\n");
    assert_eq!(c.call(update).code, response::SUCCESS);
    let r = c.call(reg(&["T1", "T2", "T3", "T4"]).command());
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert!(topic_exists(&mut c, "T4"));
}

#[test]
fn compressed_bodies_inflating_beyond_the_bound_are_refused() {
    let home = TempDir::new("limit-inflate");
    let server = start(&home, &["registerBrokerMaxInflatedBytes=4096"]);
    let mut c = server.client();
    let names: Vec<String> = (0..200)
        .map(|i| format!("a-rather-long-and-repetitive-topic-name-{i:04}"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let big = Reg::new("C", "127.0.0.1:10911", "B", 0)
        .topics(&names)
        .compressed(true)
        .command();
    let body = big.body.as_deref().unwrap();
    assert_eq!(body.first(), Some(&0x78), "a zlib body");
    assert!(body.len() < 4096, "small on the wire: {} bytes", body.len());

    let r = c.call(big);
    assert_eq!(r.code, response::SYSTEM_ERROR);
    let remark = r.remark.unwrap_or_default();
    assert!(remark.contains("inflates beyond 4096 bytes"), "{remark}");
    assert_eq!(brokers(&mut c), 0);
    assert!(!topic_exists(&mut c, names[0]));

    // Under the bound, a compressed registration goes through on the same connection.
    let small = Reg::new("C", "127.0.0.1:10911", "B", 0)
        .topics(&names[..3])
        .compressed(true)
        .command();
    let r = c.call(small);
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert!(topic_exists(&mut c, names[2]));
}

#[test]
fn frames_over_the_limit_close_the_connection() {
    let home = TempDir::new("limit-frame");
    let server = start(&home, &["frameMaxLength=1024"]);
    let mut c = server.client();
    let big = RemotingCommand::request(request::PUT_KV_CONFIG)
        .with_ext("namespace", "NS")
        .with_ext("key", "k")
        .with_ext("value", "v")
        .with_body(vec![b'x'; 2048]);
    c.send(big);
    assert!(c.read().is_none(), "an oversized frame was answered");
    // The server is fine; the next connection is served and nothing was written.
    assert_eq!(server.client().call(ping()).code, response::QUERY_NOT_FOUND);
}

#[test]
fn large_registrations_at_once_all_get_through_a_small_frame_budget() {
    // A budget smaller than one frame: every large frame takes all of it in turn, and the
    // others wait in their sockets; none is lost, none stalls for good.
    let home = TempDir::new("limit-inflight");
    let server = start(&home, &["serverMaxInflightFrameBytes=100000"]);
    let names: Vec<String> = (0..2_500).map(|i| format!("BudgetTopic-{i:05}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let cmds: Vec<RemotingCommand> = (0..12)
        .map(|b| {
            Reg::new(
                "C",
                &format!("127.0.0.1:{}", 20_000 + b),
                &format!("B{b}"),
                0,
            )
            .topics(&names)
            .command()
        })
        .collect();
    assert!(
        cmds.iter()
            .all(|c| c.body.as_ref().is_some_and(|b| b.len() > 256 * 1024)),
        "each frame is a large one"
    );
    let mut clients: Vec<Client> = cmds.iter().map(|_| server.client()).collect();
    let opaques: Vec<i32> = clients
        .iter_mut()
        .zip(cmds)
        .map(|(c, cmd)| c.send(cmd))
        .collect();
    for (c, opaque) in clients.iter_mut().zip(opaques) {
        let r = c.read().expect("a reply to every registration");
        assert_eq!(
            (r.opaque, r.code),
            (opaque, response::SUCCESS),
            "{:?}",
            r.remark
        );
    }
    let mut c = served_client(server.port);
    assert_eq!(brokers(&mut c), 12);
    assert!(topic_exists(&mut c, "BudgetTopic-02499"));
}

#[test]
fn a_large_frame_that_never_arrives_loses_its_budget() {
    // A connection announces a 10 MB frame and sends almost none of it, taking the whole
    // budget: it is closed 30 s later, and a broker's registration waiting behind it goes on.
    let home = TempDir::new("limit-inflight-stall");
    let server = start(&home, &["serverMaxInflightFrameBytes=100000"]);
    let mut stalled = Client::connect(server.port);
    let mut prefix = (10_000_000i32).to_be_bytes().to_vec();
    prefix.extend_from_slice(&[0u8; 64]);
    stalled.send_raw(&prefix);
    std::thread::sleep(Duration::from_millis(300));
    let names: Vec<String> = (0..2_500).map(|i| format!("StallTopic-{i:05}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut broker = Client::connect(server.port);
    broker
        .stream
        .set_read_timeout(Some(Duration::from_secs(45)))
        .expect("timeout");
    let started = Instant::now();
    let r = broker.call(
        Reg::new("C", "127.0.0.1:20001", "B", 0)
            .topics(&names)
            .command(),
    );
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "answered after {:?}: the stalled frame did not hold the budget",
        started.elapsed()
    );
    assert!(
        stalled.is_closed(Duration::from_secs(5)),
        "the stalled connection is closed"
    );
}
