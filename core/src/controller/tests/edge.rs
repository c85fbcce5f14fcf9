//! Edge cases: exact deadlines, failed appends, queueing, restarts, settings, leadership.

use super::*;
// ===================== edge cases =====================

/// (a) A master whose heartbeats stop is alive at last + timeout and replaced at
/// last + timeout + 1, exactly the deadline the controller names.
#[test]
fn master_replaced_exactly_at_its_deadline() {
    let mut config = ControllerConfig::default();
    config.set("scanInactiveMasterInterval", "1000000").unwrap();
    let mut h = H::with(config);
    h.registered(2);
    assert_eq!(h.ask(1, elect_req(Some(1), false)).code, rs::SUCCESS);
    assert_eq!(h.ask(1, alter_req(1, 1, &[1, 2], 1)).code, rs::SUCCESS);
    h.take_notifies();
    h.now = T0 + 9000;
    h.beat(Beat::new(2));
    assert_eq!(h.c.next_deadline(), Some(T0 + 10_001));
    assert!(
        h.tick_at(T0 + 10_000).is_empty(),
        "nothing before the deadline"
    );
    assert!(h.c.is_alive(SET, 1, T0 + 10_000));
    assert_eq!(h.set().master, Some(1));
    let e = h.tick_at(T0 + 10_001);
    assert!(!h.c.is_alive(SET, 1, T0 + 10_001));
    assert_eq!(
        e[0],
        Effect::Note(Note::Inactive {
            key: key(1),
            closed: false
        })
    );
    assert!(e
        .iter()
        .any(|x| matches!(x, Effect::Append { events, .. } if *events == [elected(Some(2))])));
    assert_eq!(h.disk.last(), Some(&elected(Some(2))));
    assert!(
        !e.iter().any(|x| matches!(x, Effect::Reply { .. })),
        "no reply for the own trigger"
    );
    let n = h.take_notifies();
    assert_eq!(n.len(), 1);
    assert_notify(&n[0], 2, 2, 2, 3, &[2]);
    assert_eq!(h.c.next_deadline(), Some(T0 + 19_001));
}

/// (b) The master's connection closes: an election at once, and a 1008 to the live
/// survivors only.
#[test]
fn master_connection_close_elects_and_notifies_the_survivors() {
    let mut h = H::single();
    scenario3(&mut h);
    let e = h.step(Input::Closed { conn: 1 });
    assert_eq!(
        e[0],
        Effect::Note(Note::Inactive {
            key: key(1),
            closed: true
        })
    );
    assert!(!e.iter().any(|x| matches!(x, Effect::Reply { .. })));
    assert_eq!(h.disk.last(), Some(&elected(Some(2))));
    let n = h.take_notifies();
    assert_eq!(n.len(), 2);
    assert_notify(&n[0], 2, 2, 2, 3, &[2]);
    assert_notify(&n[1], 3, 2, 2, 3, &[2]);
    // The notification comes after the election is durable.
    let append = e
        .iter()
        .position(|x| matches!(x, Effect::Append { .. }))
        .unwrap();
    let notify = e
        .iter()
        .position(|x| matches!(x, Effect::Notify { .. }))
        .unwrap();
    assert!(append < notify);
    // With notifyBrokerRoleChanged=false nobody is told.
    let mut config = ControllerConfig::default();
    config.set("notifyBrokerRoleChanged", "false").unwrap();
    let mut h = H::with(config);
    scenario3(&mut h);
    h.step(Input::Closed { conn: 1 });
    assert_eq!(h.disk.last(), Some(&elected(Some(2))));
    assert!(h.notifies.is_empty());
}

/// Q7 (decided): a heartbeat moves the entry to its connection, so the late close of a stale
/// connection evicts nobody.
#[test]
fn stale_connection_close_evicts_nobody() {
    let mut h = H::single();
    scenario3(&mut h);
    h.beat(Beat::new(1).on(11));
    let n = h.disk.len();
    let e = h.step(Input::Closed { conn: 1 });
    assert!(e.is_empty(), "{e:?}");
    assert!(h.c.is_alive(SET, 1, h.now));
    assert_eq!(h.disk.len(), n);
    h.step(Input::Closed { conn: 11 });
    assert_eq!(h.disk.last(), Some(&elected(Some(2))));
}

/// Q13: epoch and offset are high-water marks.
#[test]
fn heartbeat_epoch_and_offset_only_rise() {
    let mut h = H::single();
    h.beat(Beat::new(1).at(1, 5).priority(3));
    h.beat(Beat::new(1).at(-1, 0).priority(4));
    let e = h.c.liveness().get(&key(1)).unwrap();
    assert_eq!((e.epoch, e.max_offset, e.election_priority), (1, 5, 4));
    h.beat(Beat::new(1).at(1, 9));
    assert_eq!(h.c.liveness().get(&key(1)).unwrap().max_offset, 9);
}

/// (c) A failed append: SYSTEM_ERROR, the state unchanged, and every later leader request
/// SYSTEM_ERROR (fenced); local requests are still served.
#[test]
fn failed_append_fences_the_controller() {
    let mut h = H::single();
    h.registered(2);
    let before = h.c.replicas().clone();
    let applied = h.c.applied();
    h.hold = true;
    assert_eq!(h.send(1, elect_req(Some(1), false)), None);
    let first = h.opaque;
    assert_eq!(
        h.send(3, next_id_req(SET)),
        None,
        "queued behind the append"
    );
    let second = h.opaque;
    let e = h.complete(Err("disk full".into()));
    assert!(e.contains(&Effect::Note(Note::Fenced {
        error: "disk full".into()
    })));
    let r = h
        .take_reply(1, first)
        .expect("the failed write is answered");
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert_eq!(r.ext_fields, None);
    assert_eq!(r.body, None);
    let r = h
        .take_reply(3, second)
        .expect("the queued request is answered");
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert!(h.held.is_empty(), "nothing more appended");
    assert_eq!(h.c.replicas(), &before);
    assert_eq!(h.c.applied(), applied);
    assert_eq!(h.disk.len(), 2);
    assert_eq!(h.c.fenced(), Some("disk full"));
    assert!(h.notifies.is_empty());
    h.hold = false;
    for req in [
        next_id_req(SET),
        replica_info_req(SET),
        register_req(SET, 1, &addr(1)),
        elect_req(Some(1), false),
        sync_data_req(&format!(r#"["{SET}"]"#)),
    ] {
        let code = req.code;
        let r = h.ask(1, req);
        assert_eq!(r.code, rs::SYSTEM_ERROR, "{code}");
    }
    // The master-less set is not elected by the controller either.
    h.run_for(20_000, &[1, 2]);
    assert_eq!(h.disk.len(), 2);
    // Local requests still work.
    let r = h.ask(
        ADMIN,
        RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO),
    );
    assert_eq!(r.code, rs::SUCCESS);
    let r = h.ask(ADMIN, RemotingCommand::request(rq::GET_CONTROLLER_CONFIG));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(h.c.replicas(), &before);
}

/// (d) While an append is in flight, later requests wait, and are answered in order once it
/// is durable, each decided against the state it left.
#[test]
fn requests_wait_for_the_append_in_flight() {
    let mut h = H::single();
    h.registered(1);
    h.hold = true;
    // Two brokers claim id 2 at once; a third asks 1012.
    assert_eq!(h.send(2, apply_req(SET, 2, &check_code(2))), None);
    let a = h.opaque;
    assert_eq!(h.send(22, apply_req(SET, 2, "10.0.0.2:30921;1")), None);
    let b = h.opaque;
    assert_eq!(h.send(23, next_id_req(SET)), None);
    let c = h.opaque;
    // Local requests are not queued.
    let r = h.ask(
        ADMIN,
        RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO),
    );
    assert_eq!(r.code, rs::SUCCESS);
    assert!(h.replies.is_empty());
    assert_eq!(h.held.len(), 1);
    assert_eq!(
        h.c.replicas().get(SET).unwrap().replicas.len(),
        1,
        "not applied yet"
    );
    h.complete(Ok(()));
    assert!(h.held.is_empty(), "the refusal and the read append nothing");
    let order: Vec<(ConnId, i32)> = h.replies.iter().map(|(c, r)| (*c, r.opaque)).collect();
    assert_eq!(order, vec![(2, a), (22, b), (23, c)]);
    let r = h.take_reply(2, a).unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let r = h.take_reply(22, b).unwrap();
    assert_eq!(r.code, rs::CONTROLLER_BROKER_ID_INVALID);
    assert_eq!(
        r.remark.as_deref(),
        Some("Fail to apply brokerId: 2 in broker-set: broker-set-a")
    );
    let r = h.take_reply(23, c).unwrap();
    assert_eq!(r.ext("nextBrokerId"), Some("3"));
    assert_eq!(h.disk, vec![apply_event(1), apply_event(2)]);
}

/// Losing leadership answers the queued requests 2007 at once.
#[test]
fn losing_leadership_answers_queued_requests_not_leader() {
    let mut h = H::group();
    h.registered(1);
    h.hold = true;
    assert_eq!(h.send(2, apply_req(SET, 2, &check_code(2))), None);
    assert_eq!(h.send(3, next_id_req(SET)), None);
    let queued = h.opaque;
    h.leader(Some("n1"));
    let r = h.take_reply(3, queued).expect("answered at once");
    assert_eq!(r.code, rs::CONTROLLER_NOT_LEADER);
    assert_eq!(r.ext_fields, None);
    let r = h.ask(3, next_id_req(SET));
    assert_eq!(r.code, rs::CONTROLLER_NOT_LEADER);
}

/// (e) A restart replays the disk into the same state.
#[test]
fn restart_replays_the_same_state() {
    let mut h = H::single();
    scenario3(&mut h);
    h.run_for(11_000, &[2, 3]);
    h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some("1"), false));
    h.register(4);
    h.ask(44, register_req(SET, 4, "10.0.0.4:30941"));
    let info = h.replica_info();
    // What a restart reads back: every record decodes to the event that was appended.
    let records: Vec<Vec<u8>> = h.disk.iter().map(Event::encode).collect();
    let read: Vec<Event> = records
        .iter()
        .map(|r| Event::decode(r).expect("a record"))
        .collect();
    assert_eq!(read, h.disk);
    let (state, n) = Controller::replay(&read);
    assert_eq!(&state, h.c.replicas());
    assert_eq!(n, h.c.applied());
    assert_eq!(n, h.disk.len() as u64);
    let config = h.c.config().clone();
    let mut h2 = H::with(config);
    h2.c = Controller::new(h.c.config().clone(), state, n, h.now);
    h2.now = h.now;
    assert_eq!(h2.c.replicas(), h.c.replicas());
    assert_eq!(h2.c.applied(), h.c.applied());
    h2.opaque = h.opaque - 1;
    let again = h2.replica_info();
    assert_eq!(again, info);
    let r = h2.ask(ADMIN, next_id_req(SET));
    assert_eq!(r.ext("nextBrokerId"), Some("5"));
    // A broker that crashed before its reply retries 1013 with the same code: accepted.
    let r = h2.ask(4, apply_req(SET, 4, &check_code(4)));
    assert_eq!(r.code, rs::SUCCESS);
    assert!(h2.disk.is_empty());
    // The heartbeat table is not replicated: no master is named until it heartbeats.
    let r = h2.ask(2, register_req(SET, 2, &addr(2)));
    assert_eq!(r.ext("masterBrokerId"), None);
    h2.beat(Beat::new(2));
    let r = h2.ask(2, register_req(SET, 2, &addr(2)));
    assert_eq!(r.ext("masterBrokerId"), Some("2"));
}

/// (f) 1009 and 1010.
#[test]
fn update_and_get_config() {
    let mut h = H::single();
    let before = h.c.config().clone();
    for k in [
        "configBlackList",
        "configStorePath",
        "rocketmqHome",
        "controllerStorePath",
        "controllerDLegerPeers",
    ] {
        let e = {
            h.opaque += 1;
            let mut req = update_config_req(&format!("{k}=x\n"));
            req.opaque = h.opaque;
            h.step(Input::Request {
                conn: ADMIN,
                cmd: req,
            })
        };
        assert!(
            !e.iter().any(|x| matches!(x, Effect::PersistConfig { .. })),
            "{k}"
        );
        let r = h.take_reply(ADMIN, h.opaque).unwrap();
        assert_eq!(r.code, rs::NO_PERMISSION, "{k}");
    }
    // A good key and a bad value in one body: nothing changes.
    let r = h.ask(
        ADMIN,
        update_config_req("enableElectUncleanMaster=true\nelectMasterMaxRetryCount=abc\n"),
    );
    assert_eq!(r.code, rs::SYSTEM_ERROR, "{r:?}");
    assert_eq!(h.c.config(), &before);
    // Good keys: persisted, then applied, then answered.
    h.hold = true;
    h.opaque += 1;
    let persisted = h.opaque;
    let e = h.step(Input::Request {
        conn: ADMIN,
        cmd: update_config_req("enableElectUncleanMaster=true\nscanInactiveMasterInterval=7000\n")
            .with_opaque(persisted),
    });
    let content = e
        .iter()
        .find_map(|x| match x {
            Effect::PersistConfig { content, .. } => Some(content.clone()),
            _ => None,
        })
        .expect("the settings are written");
    assert!(
        content.contains("enableElectUncleanMaster=true\n"),
        "{content}"
    );
    assert!(
        content.contains("scanInactiveMasterInterval=7000\n"),
        "{content}"
    );
    assert!(h.replies.is_empty(), "no reply before the write");
    assert_eq!(h.c.config(), &before, "not applied before it is persisted");
    h.complete(Ok(()));
    h.hold = false;
    let r = h.take_reply(ADMIN, persisted).unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(r.ext_fields, None);
    assert!(h.c.config().enable_elect_unclean_master);
    assert_eq!(h.c.config().scan_inactive_master_interval, 7000);
    let r = h.ask(ADMIN, RemotingCommand::request(rq::GET_CONTROLLER_CONFIG));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(r.ext_fields, None);
    let text = body(&r);
    let lines: Vec<&str> = text.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort_by_key(|l| l.split('=').next().unwrap().to_owned());
    assert_eq!(lines, sorted, "sorted by key");
    for want in [
        "enableElectUncleanMaster=true",
        "scanInactiveMasterInterval=7000",
        "listenPort=9878",
        "notifyBrokerRoleChanged=true",
    ] {
        assert!(lines.contains(&want), "{want} in {text}");
    }
    // A failed settings write: SYSTEM_ERROR, nothing applied, not fenced.
    let before = h.c.config().clone();
    h.hold = true;
    assert_eq!(
        h.send(ADMIN, update_config_req("notifyBrokerRoleChanged=false\n")),
        None
    );
    let o = h.opaque;
    h.complete(Err("read-only".into()));
    h.hold = false;
    assert_eq!(h.take_reply(ADMIN, o).unwrap().code, rs::SYSTEM_ERROR);
    assert_eq!(h.c.config(), &before);
    assert_eq!(h.c.fenced(), None);
    // No body: 0.
    let r = h.ask(
        ADMIN,
        RemotingCommand::request(rq::UPDATE_CONTROLLER_CONFIG),
    );
    assert_eq!(r.code, rs::SUCCESS);
}

/// (g) GO_AWAY once shutdown began, for requests above 5.3.1.
#[test]
fn go_away_after_shutdown_started() {
    let mut h = H::single();
    h.registered(1);
    h.step(Input::ShutdownStarted);
    for code in [
        rq::CONTROLLER_GET_REPLICA_INFO,
        rq::CONTROLLER_GET_METADATA_INFO,
        rq::GET_CONTROLLER_CONFIG,
        rq::CONTROLLER_GET_NEXT_BROKER_ID,
    ] {
        let mut req = replica_info_req(SET);
        req.code = code;
        let r = h.ask(1, req);
        assert_eq!(r.code, rs::GO_AWAY, "{code}");
        assert_eq!(r.remark.as_deref(), Some("please go away"));
    }
    let mut hb = Beat::new(1).cmd();
    hb.flag = 0;
    assert_eq!(h.ask(1, hb).code, rs::GO_AWAY);
    // At 5.3.1 and below: served.
    let mut req = replica_info_req(SET);
    req.version = 475;
    assert_eq!(h.ask(1, req).code, rs::SUCCESS);
    let mut req = RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO);
    req.version = 475;
    assert_eq!(h.ask(1, req).code, rs::SUCCESS);
}

/// (h) A node that does not lead: 2007 for leader requests, 1005 without leader fields; once
/// told it leads, it serves.
#[test]
fn non_leader_refuses_until_it_leads() {
    let mut h = H::with(group_config());
    let r = h.ask(1, replica_info_req(SET));
    assert_eq!(r.code, rs::CONTROLLER_NOT_LEADER);
    assert_eq!(
        r.remark.as_deref(),
        Some("The controller is not in leader state")
    );
    assert_eq!(r.ext_fields, None);
    let peers = "n0:127.0.0.1:9878;n1:127.0.0.1:9868;n2:127.0.0.1:9858;";
    let r = h.ask(
        1,
        RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO),
    );
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(
        ext(&r),
        exts(&[("group", "group1"), ("isLeader", "false"), ("peers", peers)])
    );
    assert_eq!(r.body, None);
    // Heartbeats are local: recorded on a follower too.
    h.beat(Beat::new(1));
    assert!(h.c.liveness().get(&key(1)).is_some());
    // Another node leads.
    h.leader(Some("n1"));
    let r = h.ask(
        1,
        RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO),
    );
    assert_eq!(
        ext(&r),
        exts(&[
            ("controllerLeaderAddress", "127.0.0.1:9868"),
            ("controllerLeaderId", "n1"),
            ("group", "group1"),
            ("isLeader", "false"),
            ("peers", peers)
        ])
    );
    for req in [
        next_id_req(SET),
        apply_req(SET, 1, &check_code(1)),
        register_req(SET, 1, &addr(1)),
        elect_req(Some(1), false),
        alter_req(1, 1, &[1], 1),
        sync_data_req(&format!(r#"["{SET}"]"#)),
        clean_req(Some(CLUSTER), SET, Some("1"), false),
    ] {
        let code = req.code;
        let r = h.ask(1, req);
        assert_eq!(r.code, rs::CONTROLLER_NOT_LEADER, "{code}");
        assert_eq!(r.ext_fields, None, "{code}");
    }
    assert!(h.disk.is_empty());
    // This node leads.
    h.leader(Some("n0"));
    let r = h.ask(
        1,
        RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO),
    );
    assert_eq!(
        ext(&r),
        exts(&[
            ("controllerLeaderAddress", "127.0.0.1:9878"),
            ("controllerLeaderId", "n0"),
            ("group", "group1"),
            ("isLeader", "true"),
            ("peers", peers)
        ])
    );
    let r = h.ask(1, replica_info_req(SET));
    assert_eq!(r.code, rs::CONTROLLER_BROKER_METADATA_NOT_EXIST);
    assert_eq!(h.register(1).code, rs::SUCCESS);
    assert_eq!(h.disk, vec![apply_event(1)]);
}

/// A single controller leads itself from the start.
#[test]
fn single_node_metadata() {
    let mut h = H::single();
    let r = h.ask(
        1,
        RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO),
    );
    assert_eq!(
        ext(&r),
        exts(&[
            ("controllerLeaderAddress", "127.0.0.1:9878"),
            ("controllerLeaderId", "n0"),
            ("group", "DefaultControllerGroup"),
            ("isLeader", "true"),
            ("peers", "n0:127.0.0.1:9878;")
        ])
    );
}

/// A node that becomes leader while a master is dead elects at its first scan, one interval
/// after it took over, and not before.
#[test]
fn new_leader_scan_elects_for_a_dead_master() {
    let mut h = H::group();
    scenario3(&mut h);
    h.leader(Some("n1"));
    h.run_for(11_000, &[2, 3]);
    let n = h.disk.len();
    assert_eq!(h.set().master, Some(1));
    let t = h.now;
    h.leader(Some("n0"));
    // Q16: a dead master is not named to a registering broker.
    let r = h.ask(2, register_req(SET, 2, &addr(2)));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(
        ext(&r),
        exts(&[("brokerName", SET), ("clusterName", CLUSTER)])
    );
    assert_eq!(h.c.next_deadline(), Some(t + 5000));
    assert!(h.tick_at(t + 4999).is_empty());
    h.tick_at(t + 5000);
    assert_eq!(h.disk[n..], [elected(Some(2))]);
    assert_eq!(h.set().master_epoch, 2);
}

/// The scan does not elect when nobody of the set is alive, nor for a set with a live master.
#[test]
fn scan_leaves_healthy_and_dead_sets_alone() {
    let mut h = H::single();
    scenario3(&mut h);
    let n = h.disk.len();
    h.run_for(30_000, &[1, 2, 3]);
    assert_eq!(h.disk.len(), n);
    h.run_for(30_000, &[]);
    assert_eq!(h.disk[n..], [elected(None)], "the master's loss only");
}

/// Cleaning the master's id clears the master (decided). A clusterName other than the set's
/// makes the liveness lookup miss, so the live master can be cleaned this way.
#[test]
fn clean_of_the_master_clears_the_master() {
    let mut h = H::single();
    scenario3(&mut h);
    let r = h.ask(
        ADMIN,
        clean_req(Some("OtherCluster"), SET, Some("1"), false),
    );
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    let s = h.set();
    assert_eq!(s.master, None);
    assert_eq!(s.sync_state_set, ids(&[2, 3]));
    let r = h.replica_info();
    assert_eq!(ext(&r), exts(&[("masterEpoch", "1")]));
    // The set has live replicas and no master: the scan elects among the in-sync ones.
    let n = h.disk.len();
    h.run_for(5_000, &[2, 3]);
    assert_eq!(h.disk[n..], [elected(Some(2))]);
}

/// Q11: nextBrokerId counts adds and never goes down.
#[test]
fn next_broker_id_never_goes_down() {
    let mut h = H::single();
    h.registered(3);
    h.run_for(11_000, &[1, 3]);
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some("2"), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    let r = h.ask(ADMIN, next_id_req(SET));
    assert_eq!(r.ext("nextBrokerId"), Some("4"));
    // Id 2 is free again and can be applied for; the counter still counts the add.
    let r = h.ask(2, apply_req(SET, 2, &check_code(2)));
    assert_eq!(r.code, rs::SUCCESS);
    let r = h.ask(ADMIN, next_id_req(SET));
    assert_eq!(r.ext("nextBrokerId"), Some("5"));
}

/// The first election (masterEpoch 0): the requested id wins if it is registered, alive or
/// not, designated or not (§7.2 step 2; Q9 as decided); the controller's own trigger (-1)
/// finds nobody and appends nothing, as the set has no master.
#[test]
fn first_election_rules() {
    let mut h = H::single();
    for id in [1, 2] {
        assert_eq!(h.register(id).code, rs::SUCCESS);
    }
    let r = h.ask(ADMIN, elect_req(None, false));
    assert_eq!(r.code, rs::CONTROLLER_MASTER_NOT_AVAILABLE, "{r:?}");
    assert_eq!(h.disk.len(), 2);
    // Nobody heartbeats; an admin designates 2.
    let r = h.ask(ADMIN, elect_req(Some(2), true));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(ext(&r), master_ext(2, 1, 1));
    assert_eq!(body(&r), elect_body(&[1, 2], 2));
    assert_eq!(h.disk[2..], [elected(Some(2))]);
    assert!(h.notifies.is_empty(), "nobody alive to tell");
}

/// More clean rules: an unknown set with ids; a blank list on a set without a master
/// removes the whole set (Apache).
#[test]
fn clean_unknown_set_and_blank_list() {
    let mut h = H::single();
    h.registered(2);
    let r = h.ask(
        ADMIN,
        clean_req(Some(CLUSTER), "broker12", Some("5"), false),
    );
    assert_eq!(r.code, rs::CONTROLLER_INVALID_CLEAN_BROKER_METADATA);
    assert_eq!(
        r.remark.as_deref(),
        Some("Broker broker12 is not existed,clean broker data failure.")
    );
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some(""), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(
        h.disk.last(),
        Some(&Event::CleanBrokerData {
            broker_name: SET.into(),
            ids: BTreeSet::new()
        })
    );
    assert!(h.c.replicas().is_empty());
}

/// Spec §3.11 and Q18: Apache lists `processReadEvent` as `isProcessReadEvent`, a key 1009 does
/// not take; we list the settable name (docs/controller.md).
#[test]
fn config_listing_names_the_settable_key() {
    let mut h = H::single();
    let r = h.ask(ADMIN, RemotingCommand::request(rq::GET_CONTROLLER_CONFIG));
    let text = body(&r);
    assert!(
        text.lines().any(|l| l == "processReadEvent=false"),
        "{text}"
    );
    assert!(!text.contains("isProcessReadEvent"), "{text}");
}

/// An election decided for a live replica whose append is still in flight when that replica
/// dies: its close found it not yet master, so once the election applies the controller
/// elects again at once instead of leaving a dead master until the next scan (found by the
/// simulator, seed 326).
#[test]
fn a_master_that_died_while_its_election_was_in_flight_is_replaced_at_once() {
    let mut h = H::single();
    scenario3(&mut h);
    h.hold = true;
    // An admin switches to 2; before that is durable, 2's connection closes.
    assert_eq!(h.send(ADMIN, elect_req(Some(2), true)), None);
    h.step(Input::Closed { conn: 2 });
    h.hold = false;
    h.complete(Ok(()));
    // Applied: 2 was master at epoch 2 for a moment; the controller elected again from the
    // SyncStateSet {2}, where nobody is alive: one masterless event, and the scan or a
    // broker's 1002 takes it from there. No dead master is left standing.
    assert_ne!(h.set().master, Some(2));
    assert_eq!(
        h.disk.last(),
        Some(&Event::ElectMaster {
            broker_name: SET.into(),
            new_master: None
        })
    );
}

/// The settings file keeps only what 1009 set, merged over this node's runs: keys of the
/// operator's own configuration are not frozen into it by an unrelated update.
#[test]
fn the_settings_file_holds_only_the_keys_1009_set() {
    let mut c = Controller::new(ControllerConfig::default(), Replicas::default(), 0, T0);
    c.set_persisted_settings(BTreeMap::from([(
        "notifyBrokerRoleChanged".to_owned(),
        "false".to_owned(),
    )]));
    let fx = c.step(
        T0,
        Input::Request {
            conn: ADMIN,
            cmd: update_config_req("electMasterMaxRetryCount=5\nnoSuchKey=1\n"),
        },
    );
    let content = fx.iter().find_map(|e| match e {
        Effect::PersistConfig { content, .. } => Some(content.clone()),
        _ => None,
    });
    assert_eq!(
        content.as_deref(),
        Some("electMasterMaxRetryCount=5\nnotifyBrokerRoleChanged=false\n")
    );
}

/// Java's split drops trailing empty strings: "2;" cleans id 2, as Apache does.
#[test]
fn a_trailing_semicolon_in_the_clean_list_is_ignored() {
    let mut h = H::single();
    scenario3(&mut h);
    h.step(Input::Closed { conn: 2 });
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some("2;"), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert!(!h.set().replicas.contains_key(&2));
}
