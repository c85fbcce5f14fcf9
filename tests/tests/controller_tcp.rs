//! The embedded controller over TCP, as brokers in controller mode use it: ids, election, a
//! master's connection closing (NOTIFY_BROKER_ROLE_CHANGED to the survivor's remoting port),
//! a SIGKILL and restart from the event log, and a corrupt log stopping start-up.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::RemotingCommand;
use namesrv_tests::server::{binary, free_port, Client, TempDir, TestServer};

struct Ctrl {
    server: TestServer,
    port: u16,
}

fn args(port: u16, store: &std::path::Path) -> Vec<String> {
    vec![
        "--set".into(),
        "enableControllerInNamesrv=true".into(),
        "--set".into(),
        format!("controllerDLegerPeers=n0-127.0.0.1:{port}"),
        "--set".into(),
        "controllerDLegerGroup=group1".into(),
        "--set".into(),
        format!("controllerStorePath={}", store.display()),
    ]
}

fn start(home: &TempDir, port: u16) -> Ctrl {
    let store = home.0.join("ctrl");
    let a = args(port, &store);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    Ctrl {
        server: TestServer::start_in(&home.0, &refs),
        port,
    }
}

fn client(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Client::connect(port);
        }
        assert!(Instant::now() < deadline, "controller port {port} not up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn req(code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
    ext.iter()
        .fold(RemotingCommand::request(code), |c, (k, v)| {
            c.with_ext(k, *v)
        })
}

fn heartbeat(c: &mut Client, name: &str, id: &str, addr: &str, epoch: &str) {
    let mut hb = req(
        904,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerName", name),
            ("brokerId", id),
            ("brokerAddr", addr),
            ("epoch", epoch),
            ("maxOffset", "0"),
            ("confirmOffset", "0"),
            ("heartbeatTimeoutMills", "10000"),
            ("electionPriority", "2147483647"),
        ],
    );
    hb.flag = 2;
    c.send(hb);
}

/// A broker's remoting port, collecting what the controller sends it.
fn broker_port() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = format!("127.0.0.1:{}", l.local_addr().expect("addr").port());
    (l, addr)
}

fn receive_one(l: &TcpListener, wait: Duration) -> Option<RemotingCommand> {
    l.set_nonblocking(true).ok()?;
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Ok((mut s, _)) = l.accept() {
            s.set_nonblocking(false).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
            let mut bytes = Vec::new();
            let _ = s.read_to_end(&mut bytes);
            let mut buf = BytesMut::from(&bytes[..]);
            return decode_frame(&mut buf, DEFAULT_MAX_FRAME).ok().flatten();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// 1012 -> 1013 -> 1003, as a broker with a fresh store; returns its id and the 1003 reply.
fn join(c: &mut Client, name: &str, addr: &str) -> (String, RemotingCommand) {
    let next = c.call(req(
        1012,
        &[("clusterName", "DefaultCluster"), ("brokerName", name)],
    ));
    assert_eq!(next.code, 0, "{next:?}");
    let id = next.ext("nextBrokerId").expect("nextBrokerId").to_owned();
    let code = format!("{addr};1796164319126");
    let applied = c.call(req(
        1013,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerName", name),
            ("appliedBrokerId", &id),
            ("registerCheckCode", &code),
        ],
    ));
    assert_eq!(applied.code, 0, "{applied:?}");
    let reg = c.call(req(
        1003,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerName", name),
            ("brokerId", &id),
            ("brokerAddress", addr),
        ],
    ));
    assert_eq!(reg.code, 0, "{reg:?}");
    (id, reg)
}

#[test]
fn brokers_get_ids_a_master_fails_over_and_a_restart_keeps_it() {
    let home = TempDir::new("ctrl-tcp");
    let port = free_port();
    let ctrl = start(&home, port);

    let mut admin = client(ctrl.port);
    let meta = admin.call(req(1005, &[]));
    assert_eq!(meta.code, 0);
    assert_eq!(meta.ext("isLeader"), Some("true"));
    assert_eq!(meta.ext("controllerLeaderId"), Some("n0"));
    assert_eq!(meta.ext("group"), Some("group1"));
    let me = format!("n0:127.0.0.1:{port};");
    assert_eq!(meta.ext("peers"), Some(me.as_str()));

    let (la, addr_a) = broker_port();
    let (lb, addr_b) = broker_port();
    let mut a = client(ctrl.port);
    let (id_a, reg_a) = join(&mut a, "broker-a", &addr_a);
    assert_eq!(id_a, "1");
    assert_eq!(reg_a.ext("masterBrokerId"), None, "no master yet");
    heartbeat(&mut a, "broker-a", "1", &addr_a, "-1");
    let elected = a.call(req(
        1002,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerName", "broker-a"),
            ("brokerId", "1"),
            ("designateElect", "false"),
        ],
    ));
    assert_eq!(elected.code, 0, "{elected:?}");
    assert_eq!(elected.ext("masterBrokerId"), Some("1"));
    assert_eq!(elected.ext("masterEpoch"), Some("1"));
    // Its own election is announced to it as well (a real broker's port is not open yet then,
    // as Apache's first notification is lost too).
    let first = receive_one(&la, Duration::from_secs(5)).expect("first notification");
    assert_eq!(first.ext("masterEpoch"), Some("1"));

    let mut b = client(ctrl.port);
    let (id_b, reg_b) = join(&mut b, "broker-a", &addr_b);
    assert_eq!(id_b, "2");
    assert_eq!(reg_b.ext("masterBrokerId"), Some("1"));
    heartbeat(&mut b, "broker-a", "2", &addr_b, "1");
    // A connection's frames are handled in order: once this is answered, so is the heartbeat.
    assert_eq!(b.call(req(1005, &[])).code, 0);
    // The master takes the slave into its SyncStateSet.
    let mut alter = req(
        1001,
        &[
            ("brokerName", "broker-a"),
            ("masterBrokerId", "1"),
            ("masterEpoch", "1"),
        ],
    );
    alter.body = Some(br#"{"syncStateSet":[1,2],"syncStateSetEpoch":1}"#.to_vec().into());
    let altered = a.call(alter);
    assert_eq!(altered.code, 0, "{altered:?}");
    assert_eq!(altered.ext("newSyncStateSetEpoch"), Some("2"));

    // The master's connection closes: the survivor is told at its remoting port.
    let started = Instant::now();
    drop(a);
    let note = receive_one(&lb, Duration::from_secs(5)).expect("NOTIFY_BROKER_ROLE_CHANGED");
    let took = started.elapsed();
    assert_eq!(note.code, 1008);
    assert!(note.is_oneway());
    assert_eq!(note.ext("masterBrokerId"), Some("2"));
    assert_eq!(note.ext("masterAddress"), Some(addr_b.as_str()));
    assert_eq!(note.ext("masterEpoch"), Some("2"));
    assert_eq!(note.ext("syncStateSetEpoch"), Some("3"));
    assert_eq!(
        note.body.as_deref(),
        Some(&br#"{"syncStateSet":[2],"syncStateSetEpoch":3}"#[..])
    );
    eprintln!("master close -> NOTIFY_BROKER_ROLE_CHANGED at the survivor: {took:?}");
    assert!(
        receive_one(&la, Duration::from_millis(200)).is_none(),
        "the dead master is not notified"
    );

    // SIGKILL and restart: the state comes back from the log.
    drop(b);
    drop(admin);
    let server = ctrl.server.kill9_and_restart();
    let mut admin = client(port);
    let info = admin.call(req(1004, &[("brokerName", "broker-a")]));
    assert_eq!(info.code, 0, "{info:?}");
    assert_eq!(info.ext("masterBrokerId"), Some("2"));
    assert_eq!(info.ext("masterEpoch"), Some("2"));
    assert_eq!(
        info.body.as_deref(),
        Some(&br#"{"syncStateSet":[2],"syncStateSetEpoch":3}"#[..])
    );
    let next = admin.call(req(
        1012,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerName", "broker-a"),
        ],
    ));
    assert_eq!(next.ext("nextBrokerId"), Some("3"));
    drop(admin);
    drop(server);

    // A corrupt record: start-up stops, naming the file.
    let log = home.0.join("ctrl").join("events.log");
    let mut bytes = std::fs::read(&log).expect("log");
    bytes[12] ^= 0x40;
    std::fs::write(&log, &bytes).expect("write");
    let a = args(port, &home.0.join("ctrl"));
    let out = std::process::Command::new(binary())
        .args([
            "--bindAddress",
            "127.0.0.1",
            "--listenPort",
            &free_port().to_string(),
        ])
        .args(&a)
        .env("HOME", &home.0)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("events.log") && stderr.contains("corrupt"),
        "{stderr}"
    );
}

#[test]
fn a_group_of_several_peers_is_refused_until_it_can_be_replicated() {
    let home = TempDir::new("ctrl-peers");
    let out = std::process::Command::new(binary())
        .args([
            "--bindAddress",
            "127.0.0.1",
            "--listenPort",
            &free_port().to_string(),
        ])
        .args([
            "--set",
            "enableControllerInNamesrv=true",
            "--set",
            "controllerDLegerPeers=n0-127.0.0.1:1;n1-127.0.0.1:2",
        ])
        .env("HOME", &home.0)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 peers"), "{stderr}");
}
