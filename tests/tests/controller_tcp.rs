//! The embedded controller over TCP, as brokers in controller mode use it: ids, election, a
//! master's connection closing (NOTIFY_BROKER_ROLE_CHANGED to the survivor's remoting port),
//! a SIGKILL and restart from the event log, and a corrupt log stopping start-up.

use std::time::{Duration, Instant};

use namesrv_tests::controller::{args, broker_port, client, heartbeat, join, receive_one, req};
use namesrv_tests::server::{binary, free_port, TempDir, TestServer};

struct Ctrl {
    server: TestServer,
    port: u16,
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
