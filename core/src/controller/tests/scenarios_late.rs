//! Spec §11 scenarios 13-34.

use super::*;
/// 13 (the election part): with id 1 dead the controller's trigger elects another id.
#[test]
fn s13_failover_on_the_controller_trigger() {
    let mut h = H::single();
    scenario3(&mut h);
    h.run_for(11_000, &[2, 3]);
    let s = h.set();
    assert!(matches!(s.master, Some(2) | Some(3)));
    assert_eq!(s.master_epoch, 2);
}

/// 15: masterless, then recovery, without unclean.
#[test]
fn s15_masterless_then_recovery() {
    let mut h = H::single();
    scenario3(&mut h);
    let r = h.ask(1, alter_req(1, 1, &[1], 2));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(r.ext("newSyncStateSetEpoch"), Some("3"));
    let n = h.disk.len();
    // 1 dies while 2 and 3 live on: one masterless event, and the scans add none.
    h.run_for(30_000, &[2, 3]);
    assert_eq!(h.disk[n..], [elected(None)]);
    let s = h.set();
    assert_eq!((s.master, s.master_epoch), (None, 2));
    assert_eq!(
        (s.sync_state_set.clone(), s.sync_state_set_epoch),
        (ids(&[1]), 3)
    );
    // 2 is not in the set.
    let r = h.ask(2, elect_req(Some(2), false));
    assert_eq!(r.code, rs::CONTROLLER_ELECT_MASTER_FAILED, "{r:?}");
    assert_eq!(ext(&r), BTreeMap::new());
    assert_eq!(h.disk.len(), n + 1);
    // 1 comes back and asks at once (before the next scan).
    h.beat(Beat::new(1));
    let r = h.ask(1, elect_req(Some(1), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(ext(&r), master_ext(1, 3, 4));
    assert_eq!(h.disk[n + 1..], [elected(Some(1))]);
}

/// 15, the other way back: when 1 returns and does not ask, the leader's scan elects it.
#[test]
fn s15b_the_scan_elects_the_returning_member() {
    let mut h = H::single();
    scenario3(&mut h);
    h.ask(1, alter_req(1, 1, &[1], 2));
    h.run_for(30_000, &[2, 3]);
    let n = h.disk.len();
    h.beat(Beat::new(1));
    h.run_for(5_000, &[1, 2, 3]);
    assert_eq!(h.disk[n..], [elected(Some(1))]);
    assert_eq!(h.set().master_epoch, 3);
}

/// 16: unclean election.
#[test]
fn s16_unclean_election() {
    let mut config = ControllerConfig::default();
    config.set("enableElectUncleanMaster", "true").unwrap();
    let mut h = H::with(config);
    scenario3(&mut h);
    h.ask(1, alter_req(1, 1, &[1], 2));
    let n = h.disk.len();
    h.run_for(11_000, &[2, 3]);
    assert_eq!(h.disk[n..], [elected(Some(2))]);
    let s = h.set();
    assert_eq!((s.master, s.master_epoch), (Some(2), 2));
    assert_eq!(s.sync_state_set, ids(&[2]));
}

/// 18: two brokers race to elect (the second asks while the first's append is in flight);
/// then only broker 2 heartbeats, and with unclean on it becomes master.
#[test]
fn s18_race_to_elect() {
    let mut config = ControllerConfig::default();
    config.set("enableElectUncleanMaster", "true").unwrap();
    let mut h = H::with(config);
    for id in [1, 2] {
        assert_eq!(h.register(id).code, rs::SUCCESS);
        h.beat(Beat::new(id).timeout(3000));
    }
    h.hold = true;
    assert_eq!(h.send(1, elect_req(Some(1), false)), None);
    let second = h.opaque + 1;
    assert_eq!(h.send(2, elect_req(Some(2), false)), None);
    assert_eq!(h.held.len(), 1, "one append at a time");
    h.complete(Ok(()));
    h.hold = false;
    let r1 = h.take_reply(1, second - 1).expect("the first reply");
    assert_eq!(r1.code, rs::SUCCESS);
    assert_eq!(ext(&r1), master_ext(1, 1, 1));
    let r2 = h.take_reply(2, second).expect("the second reply");
    assert_eq!(r2.code, rs::CONTROLLER_MASTER_STILL_EXIST);
    assert_eq!(ext(&r2), master_ext(1, 1, 1));
    assert_eq!(h.disk[2..], [elected(Some(1))]);
    // Broker 1 stops; broker 2 goes on. 1's last heartbeat was at T0 with a 3 s timeout.
    assert_eq!(h.now, T0);
    h.run_for(3000, &[2]);
    assert_eq!(h.disk.len(), 3, "1 is alive at T0 + 3000");
    h.run_for(1, &[2]);
    assert_eq!(h.disk[3..], [elected(Some(2))], "replaced at T0 + 3001");
    assert!(h.notes.contains(&Note::Inactive {
        key: key(1),
        closed: false
    }));
    h.run_for(6999, &[2]);
    let r = h.replica_info();
    assert_eq!(r.ext("masterBrokerId"), Some("2"));
    assert_eq!(r.ext("masterEpoch"), Some("2"));
    assert_eq!(h.disk.len(), 4);
}

/// 19: the 1009 blacklist.
#[test]
fn s19_config_blacklist() {
    let mut h = H::single();
    let r = h.ask(ADMIN, update_config_req("notifyBrokerRoleChanged=true\n"));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(r.ext_fields, None);
    for k in ["configStorePath", "rocketmqHome", "configBlackList"] {
        let r = h.ask(ADMIN, update_config_req(&format!("{k}=/tmp/x\n")));
        assert_eq!(r.code, rs::NO_PERMISSION, "{k}: {r:?}");
        assert_eq!(
            r.remark.as_deref(),
            Some("Can not update config in black list.")
        );
    }
}

/// 20: expiry: one heartbeat with a 3 s timeout; the replica is inactive at 3,001 ms.
#[test]
fn s20_expiry() {
    let mut h = H::single();
    h.beat(Beat::new(1).timeout(3000));
    assert_eq!(h.c.next_deadline(), Some(T0 + 3001));
    assert!(h.tick_at(T0 + 3000).is_empty());
    assert!(h.c.liveness().get(&key(1)).is_some());
    let e = h.tick_at(T0 + 3001);
    assert_eq!(
        e,
        vec![Effect::Note(Note::Inactive {
            key: key(1),
            closed: false
        })]
    );
    assert!(h.c.liveness().is_empty());
    assert_eq!(h.c.next_deadline(), None);
}

/// 25: a retry of 1013 with the same check code is accepted (and appends nothing); another
/// code for a held id is refused.
#[test]
fn s25_apply_retry_with_the_same_check_code() {
    let mut h = H::single();
    h.registered(1);
    let r = h.ask(1, apply_req(SET, 1, &check_code(1)));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(h.disk.len(), 1);
    let r = h.ask(2, apply_req(SET, 1, &check_code(2)));
    assert_eq!(r.code, rs::CONTROLLER_BROKER_ID_INVALID);
    assert_eq!(
        r.remark.as_deref(),
        Some("Fail to apply brokerId: 1 in broker-set: broker-set-a")
    );
    assert_eq!(
        ext(&r),
        exts(&[("brokerName", SET), ("clusterName", CLUSTER)])
    );
    assert_eq!(h.disk.len(), 1);
}

/// 30: a known broker restarts: 1003 only, the reply names the live master; from a new
/// address, UpdateBrokerAddress is appended and the new address is what the set shows.
#[test]
fn s30_known_broker_restarts() {
    let mut h = H::single();
    scenario3(&mut h);
    let n = h.disk.len();
    let r = h.ask(22, register_req(SET, 2, &addr(2)));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(r.ext("masterBrokerId"), Some("1"));
    assert_eq!(r.ext("masterEpoch"), Some("1"));
    assert_eq!(body(&r), ss_body(&[1, 2, 3], 2));
    assert_eq!(h.disk.len(), n);
    let r = h.ask(11, register_req(SET, 1, "10.0.0.1:30911"));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(
        h.disk[n..],
        [Event::UpdateBrokerAddress {
            cluster_name: CLUSTER.into(),
            broker_name: SET.into(),
            broker_id: 1,
            broker_address: "10.0.0.1:30911".into()
        }]
    );
    let r = h.replica_info();
    assert_eq!(r.ext("masterAddress"), Some("10.0.0.1:30911"));
}

/// 31: an admin designates a live slave: 0, 1008 to every live member; the old master's
/// later 1001 gets 2002.
#[test]
fn s31_admin_designate_of_a_live_slave() {
    let mut h = H::single();
    scenario3(&mut h);
    let r = h.ask(ADMIN, elect_req(Some(2), true));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(ext(&r), master_ext(2, 2, 3));
    assert_eq!(body(&r), elect_body(&[1, 2, 3], 2));
    let n = h.take_notifies();
    assert_eq!(n.len(), 3);
    for (i, id) in [1, 2, 3].into_iter().enumerate() {
        assert_notify(&n[i], id, 2, 2, 3, &[2]);
    }
    let r = h.ask(1, alter_req(1, 2, &[1], 3));
    assert_eq!(r.code, rs::CONTROLLER_INVALID_MASTER);
    assert_eq!(
        r.remark.as_deref(),
        Some("Rejecting alter syncStateSet request because the current leader is:{2}, not {1}")
    );
    assert_eq!(ext(&r), exts(&[("newSyncStateSetEpoch", "0")]));
    // The new master expands.
    let r = h.ask(2, alter_req(2, 2, &[1, 2], 3));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(r.ext("newSyncStateSetEpoch"), Some("4"));
}

/// 32: a slave dies: no election, no 1008; the master's shrink is accepted.
#[test]
fn s32_slave_dies() {
    let mut h = H::single();
    scenario3(&mut h);
    let n = h.disk.len();
    let e = h.step(Input::Closed { conn: 2 });
    assert_eq!(
        e,
        vec![Effect::Note(Note::Inactive {
            key: key(2),
            closed: true
        })]
    );
    h.run_for(11_000, &[1, 3]);
    assert_eq!(h.disk.len(), n);
    assert!(h.notifies.is_empty());
    let r = h.ask(1, alter_req(1, 1, &[1, 3], 2));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(ext(&r), exts(&[("newSyncStateSetEpoch", "3")]));
    assert_eq!(body(&r), ss_body(&[1, 3], 3));
    // Expanding back to the dead 2: 2006.
    let r = h.ask(1, alter_req(1, 1, &[1, 2, 3], 3));
    assert_eq!(r.code, rs::CONTROLLER_BROKER_NOT_ALIVE);
    assert_eq!(
        r.remark.as_deref(),
        Some("Rejecting alter syncStateSet request because the replicas {2} don't alive")
    );
}

/// 33: the 1001 rejection order: each request breaks two rules and gets the earlier one.
#[test]
fn s33_alter_rejection_order() {
    let mut h = H::single();
    scenario3(&mut h);
    // Kill 2 (a slave) so that rule 7 can be hit; the set stays {1,2,3} at ssEpoch 2.
    h.step(Input::Closed { conn: 2 });
    let n = h.disk.len();
    let cases: Vec<(RemotingCommand, i32, String)> = vec![
        (
            alter_req_for("broker-z", 2, 9, &[1, 2, 3], 9),
            rs::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            "Broker metadata is not existed".into(),
        ),
        (
            alter_req(2, 9, &[3, 2, 1], 9),
            rs::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            "The newSyncStateSet is equal with oldSyncStateSet, no needed to update syncStateSet"
                .into(),
        ),
        (
            alter_req(2, 9, &[1, 3], 9),
            rs::CONTROLLER_INVALID_MASTER,
            "Rejecting alter syncStateSet request because the current leader is:{1}, not {2}"
                .into(),
        ),
        (
            alter_req(1, 9, &[1, 3], 9),
            rs::CONTROLLER_FENCED_MASTER_EPOCH,
            "Rejecting alter syncStateSet request because the current master epoch is:{1}, not {9}"
                .into(),
        ),
        (
            alter_req(1, 1, &[1, 7], 9),
            rs::CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH,
            "Rejecting alter syncStateSet request because the current syncStateSet epoch is:{2}, not {9}"
                .into(),
        ),
        (
            alter_req(1, 1, &[2, 7], 2),
            rs::CONTROLLER_BROKER_NOT_ALIVE,
            "Rejecting alter syncStateSet request because the replicas {2} don't alive".into(),
        ),
        (
            alter_req(1, 1, &[3, 7], 2),
            rs::CONTROLLER_INVALID_REPLICAS,
            "Rejecting alter syncStateSet request because the replicas {7} don't exist".into(),
        ),
        (
            alter_req(1, 1, &[3], 2),
            rs::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            "Rejecting alter syncStateSet request because the newSyncStateSet don't contains origin leader {1}"
                .into(),
        ),
    ];
    for (i, (req, code, remark)) in cases.into_iter().enumerate() {
        let r = h.ask(1, req);
        assert_eq!(r.code, code, "case {i}: {r:?}");
        assert_eq!(r.remark.as_deref(), Some(remark.as_str()), "case {i}");
        assert_eq!(ext(&r), exts(&[("newSyncStateSetEpoch", "0")]), "case {i}");
        assert_eq!(r.body, None, "case {i}");
    }
    assert_eq!(h.disk.len(), n);
    // A missing masterEpoch or body: SYSTEM_ERROR.
    let mut req = alter_req(1, 1, &[1, 3], 2);
    req.ext_fields.as_mut().unwrap().remove("masterEpoch");
    assert_eq!(h.ask(1, req).code, rs::SYSTEM_ERROR);
    let mut req = alter_req(1, 1, &[1, 3], 2);
    req.body = None;
    assert_eq!(h.ask(1, req).code, rs::SYSTEM_ERROR);
    // A missing masterBrokerId: 2002.
    let mut req = alter_req(1, 1, &[1, 3], 2);
    req.ext_fields.as_mut().unwrap().remove("masterBrokerId");
    assert_eq!(h.ask(1, req).code, rs::CONTROLLER_INVALID_MASTER);
    assert_eq!(h.disk.len(), n);
}

/// 33: the other error replies of 1013, 1003, 1002, 1004, 1006, and the codes not served.
#[test]
fn s33_error_replies() {
    let mut h = H::single();
    h.registered(1);
    // 1013
    let r = h.ask(9, apply_req("broker-new", 2, &check_code(2)));
    assert_eq!(r.code, rs::CONTROLLER_BROKER_ID_INVALID);
    assert_eq!(
        r.remark.as_deref(),
        Some("Broker-set: broker-new hasn't been registered in controller, but broker try to apply brokerId: 2")
    );
    assert_eq!(
        ext(&r),
        exts(&[("brokerName", "broker-new"), ("clusterName", CLUSTER)])
    );
    // Ids below 1 are never handed out (decided): 2014, for a new set and a known one.
    for (name, id) in [("broker-new", 0), (SET, 0), (SET, -1)] {
        let r = h.ask(9, apply_req(name, id, &check_code(2)));
        assert_eq!(r.code, rs::CONTROLLER_BROKER_ID_INVALID, "{name} {id}");
    }
    assert_eq!(h.disk.len(), 1);
    // 1003
    let r = h.ask(9, register_req("broker-new", 1, &addr(1)));
    assert_eq!(r.code, rs::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED);
    assert_eq!(
        r.remark.as_deref(),
        Some("Broker-set: broker-new hasn't been registered in controller")
    );
    assert_eq!(
        ext(&r),
        exts(&[("brokerName", "broker-new"), ("clusterName", CLUSTER)])
    );
    let r = h.ask(9, register_req(SET, 7, &addr(7)));
    assert_eq!(r.code, rs::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED);
    assert_eq!(
        r.remark.as_deref(),
        Some("BrokerId: 7 hasn't been registered in broker-set: broker-set-a")
    );
    // 1002: unknown set, and no brokerName at all.
    let mut req = elect_req(Some(1), false);
    req = req.with_ext("brokerName", "broker-new");
    let r = h.ask(9, req);
    assert_eq!(r.code, rs::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED);
    assert_eq!(r.remark.as_deref(), Some("Broker hasn't been registered"));
    assert_eq!(ext(&r), BTreeMap::new());
    let mut req = elect_req(Some(1), false);
    req.ext_fields.as_mut().unwrap().remove("brokerName");
    assert_eq!(
        h.ask(9, req).code,
        rs::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED
    );
    // The first election needs a registered requester (decided, Q9): 2012, nothing appended.
    let r = h.ask(9, elect_req(Some(5), false));
    assert_eq!(r.code, rs::CONTROLLER_ELECT_MASTER_FAILED, "{r:?}");
    assert_eq!(h.set().master_epoch, 0);
    assert_eq!(h.disk.len(), 1);
    // Missing required fields: SYSTEM_ERROR (Apache's NPE).
    let mut req = register_req(SET, 1, &addr(1));
    req.ext_fields.as_mut().unwrap().remove("brokerAddress");
    let mut req2 = next_id_req(SET);
    req2.ext_fields.as_mut().unwrap().remove("brokerName");
    let mut req3 = apply_req(SET, 2, &check_code(2));
    req3.ext_fields.as_mut().unwrap().remove("appliedBrokerId");
    let mut req4 = apply_req(SET, 2, &check_code(2));
    req4.ext_fields
        .as_mut()
        .unwrap()
        .remove("registerCheckCode");
    let mut req5 = clean_req(Some(CLUSTER), SET, Some("1"), false);
    req5.ext_fields.as_mut().unwrap().remove("brokerName");
    for req in [req, req2, req3, req4, req5] {
        let code = req.code;
        assert_eq!(h.ask(9, req).code, rs::SYSTEM_ERROR, "{code}");
    }
    assert_eq!(h.disk.len(), 1);
    // 1004
    let r = h.ask(9, replica_info_req("broker-new"));
    assert_eq!(r.code, rs::CONTROLLER_BROKER_METADATA_NOT_EXIST);
    assert_eq!(r.remark.as_deref(), Some("Broker metadata is not existed"));
    assert_eq!(r.ext_fields, Some(BTreeMap::new()));
    let r = h.ask(9, RemotingCommand::request(rq::CONTROLLER_GET_REPLICA_INFO));
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    // 1004 with no master yet: only masterEpoch.
    let r = h.replica_info();
    assert_eq!(ext(&r), exts(&[("masterEpoch", "0")]));
    assert_eq!(body(&r), ss_body(&[], 0));
    // 1006: no body, an empty list, unknown names left out.
    for req in [
        RemotingCommand::request(rq::CONTROLLER_GET_SYNC_STATE_DATA),
        sync_data_req("[]"),
    ] {
        let r = h.ask(9, req);
        assert_eq!(r.code, rs::SYSTEM_ERROR);
        assert_eq!(r.remark.as_deref(), Some("not set any response code"));
    }
    let r = h.ask(
        9,
        sync_data_req(&format!(r#"["{SET}","broker-z","{SET}"]"#)),
    );
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(body(&r), sync_data_body(&[], &[(1, true)], None, 0, 0));
    // 1007 and 1016 are not served, leader or not.
    for code in [1007, 1016] {
        let r = h.ask(9, RemotingCommand::request(code));
        assert_eq!(r.code, rs::REQUEST_CODE_NOT_SUPPORTED);
        assert_eq!(
            r.remark,
            Some(format!(" request type {code} not supported"))
        );
    }
    // A ROCKETMQ-serialized request gets a JSON reply (ask checks the type).
    let mut req = replica_info_req(SET);
    req.serialize_type = SerializeType::RocketMq;
    assert_eq!(h.ask(9, req).code, rs::SUCCESS);
    assert!(h.replies.is_empty());
}

/// 34: a two-way heartbeat is answered; without brokerId it gets 2005.
#[test]
fn s34_two_way_heartbeat() {
    let mut h = H::single();
    let mut req = Beat::new(1).cmd();
    req.flag = 0;
    let r = h.ask(1, req.clone());
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(r.remark.as_deref(), Some("Heart beat success"));
    assert_eq!(r.ext_fields, None);
    assert!(h.c.liveness().get(&key(1)).is_some());
    req.ext_fields.as_mut().unwrap().remove("brokerId");
    let r = h.ask(1, req.clone());
    assert_eq!(r.code, rs::CONTROLLER_INVALID_REQUEST);
    assert_eq!(r.remark.as_deref(), Some("Heart beat with empty brokerId"));
    req.flag = flag::ONEWAY;
    assert_eq!(h.send(1, req), None);
    assert_eq!(h.c.liveness().len(), 1);
}
