//! Spec §11 scenarios 1-12.

use super::*;
// ===================== §11 scenarios =====================

/// 1 (and 27): three brokers register; ids 1, 2, 3; no master; every id not in sync.
#[test]
fn s01_register_three() {
    let mut h = H::single();
    for id in 1..=3 {
        let r = h.register(id);
        assert_eq!(r.code, rs::SUCCESS, "{r:?}");
        assert_eq!(r.remark, None);
        // No master: only the echoed names.
        assert_eq!(
            ext(&r),
            exts(&[("brokerName", SET), ("clusterName", CLUSTER)])
        );
        assert_eq!(body(&r), r#"{"syncStateSet":[],"syncStateSetEpoch":0}"#);
        h.beat(Beat::new(id));
    }
    assert_eq!(h.disk, vec![apply_event(1), apply_event(2), apply_event(3)]);
    let s = h.set();
    assert_eq!(s.master, None);
    assert_eq!((s.master_epoch, s.sync_state_set_epoch), (0, 0));
    assert_eq!(s.next_assign_id, 4);
    let r = h.ask(ADMIN, sync_data_req(&format!(r#"["{SET}"]"#)));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(r.ext_fields, None);
    assert_eq!(
        body(&r),
        sync_data_body(&[], &[(1, true), (2, true), (3, true)], None, 0, 0)
    );
    // 1012 for a fourth.
    let r = h.ask(ADMIN, next_id_req(SET));
    assert_eq!(r.ext("nextBrokerId"), Some("4"));
    // Registering again with the same address appends nothing.
    let r = h.ask(1, register_req(SET, 1, &addr(1)));
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(h.disk.len(), 3);
}

/// 2 (and 27): the first 1002 wins; later ones get 2011 naming the master.
#[test]
fn s02_first_elect_wins() {
    let mut h = H::single();
    h.registered(3);
    let r = h.ask(1, elect_req(Some(1), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(r.remark, None);
    assert_eq!(ext(&r), master_ext(1, 1, 1));
    assert_eq!(body(&r), elect_body(&[1, 2, 3], 1));
    assert_eq!(h.disk.len(), 4);
    assert_eq!(h.disk[3], elected(Some(1)));
    // Every live member is told (§4).
    let n = h.take_notifies();
    assert_eq!(n.len(), 3);
    for (i, id) in [1, 2, 3].into_iter().enumerate() {
        assert_notify(&n[i], id, 1, 1, 1, &[1]);
    }
    let before = h.c.replicas().clone();
    for id in [2, 3] {
        let r = h.ask(id as ConnId, elect_req(Some(id), false));
        assert_eq!(r.code, rs::CONTROLLER_MASTER_STILL_EXIST, "{r:?}");
        assert_eq!(
            r.remark.as_deref(),
            Some("The old master 1 is still alive, not need to elect new master for broker broker-set-a")
        );
        assert_eq!(ext(&r), master_ext(1, 1, 1));
        assert_eq!(body(&r), r#"{"syncStateSet":[1]}"#);
    }
    assert_eq!(h.c.replicas(), &before);
    assert_eq!(h.disk.len(), 4);
    assert!(h.notifies.is_empty(), "no 1008 after 2011");
}

/// 3: the master expands the set.
#[test]
fn s03_expand() {
    let mut h = H::single();
    scenario2(&mut h);
    let r = h.ask(1, alter_req(1, 1, &[1, 2, 3], 1));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(ext(&r), exts(&[("newSyncStateSetEpoch", "2")]));
    assert_eq!(body(&r), ss_body(&[1, 2, 3], 2));
    assert_eq!(h.disk.last(), Some(&altered(&[1, 2, 3])));
    let r = h.ask(ADMIN, sync_data_req(&format!(r#"["{SET}"]"#)));
    assert_eq!(
        body(&r),
        sync_data_body(&[(1, true), (2, true), (3, true)], &[], Some(1), 1, 2)
    );
    let r = h.replica_info();
    assert_eq!(
        ext(&r),
        exts(&[
            ("masterAddress", &addr(1)),
            ("masterBrokerId", "1"),
            ("masterEpoch", "1")
        ])
    );
    assert_eq!(body(&r), ss_body(&[1, 2, 3], 2));
}

/// 4 (and 28): a late registrant learns the live master from 1003; its 1002 gets 2011.
#[test]
fn s04_late_registrant_learns_the_master() {
    let mut h = H::single();
    h.registered(2);
    let r = h.ask(1, elect_req(Some(1), false));
    assert_eq!(r.code, rs::SUCCESS);
    let r = h.register(3);
    assert_eq!(r.code, rs::SUCCESS);
    let mut want = master_ext(1, 1, 1);
    want.insert("brokerName".into(), SET.into());
    want.insert("clusterName".into(), CLUSTER.into());
    assert_eq!(ext(&r), want);
    assert_eq!(body(&r), ss_body(&[1], 1));
    h.beat(Beat::new(3));
    let r = h.ask(3, elect_req(Some(3), false));
    assert_eq!(r.code, rs::CONTROLLER_MASTER_STILL_EXIST);
    assert_eq!(ext(&r), master_ext(1, 1, 1));
    let s = h.set();
    assert_eq!(s.sync_state_set, ids(&[1]));
    assert_eq!(s.sync_state_set_epoch, 1);
    assert_eq!(s.master_epoch, 1);
}

/// 5: only id 3 alive; its 1002 makes it master. The controller's own trigger would win this
/// race as soon as master 1 expires, so the master dies while this node is not the leader.
#[test]
fn s05_only_survivor_takes_over() {
    let mut h = H::group();
    scenario3(&mut h);
    h.leader(Some("n1"));
    h.run_for(11_000, &[3]);
    assert!(!h.c.is_alive(SET, 1, h.now) && !h.c.is_alive(SET, 2, h.now));
    h.leader(Some("n0"));
    let n = h.disk.len();
    let r = h.ask(3, elect_req(Some(3), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(ext(&r), master_ext(3, 2, 3));
    assert_eq!(body(&r), elect_body(&[1, 2, 3], 3));
    assert_eq!(h.disk[n..], [elected(Some(3))]);
    let s = h.set();
    assert_eq!(s.sync_state_set, ids(&[3]));
    let r = h.ask(ADMIN, sync_data_req(&format!(r#"["{SET}"]"#)));
    assert_eq!(
        body(&r),
        sync_data_body(&[(3, true)], &[(1, false), (2, false)], Some(3), 2, 3)
    );
    let notes = h.take_notifies();
    assert_eq!(notes.len(), 1, "only the live member is told");
    assert_notify(&notes[0], 3, 3, 2, 3, &[3]);
}

/// 6: a controller-style election (brokerId -1) with every id alive keeps the master.
#[test]
fn s06_controller_trigger_keeps_a_healthy_master() {
    let mut h = H::single();
    scenario3(&mut h);
    let n = h.disk.len();
    for req in [elect_req(None, false), elect_req(Some(-1), false)] {
        let r = h.ask(ADMIN, req);
        assert_eq!(r.code, rs::CONTROLLER_MASTER_STILL_EXIST, "{r:?}");
        assert_eq!(ext(&r), master_ext(1, 1, 2));
        assert_eq!(body(&r), r#"{"syncStateSet":[1,2,3]}"#);
    }
    assert_eq!(h.disk.len(), n);
}

/// Scenario 3, then the heartbeats of 2 and 3 say `b2` and `b3`, and master 1 expires.
fn failover_with(b2: Beat, b3: Beat) -> H {
    let mut h = H::single();
    scenario3(&mut h);
    h.beat(b2);
    h.beat(b3);
    h.run_for(11_000, &[2, 3]);
    h
}

fn assert_failed_over_to(h: &mut H, m: BrokerId) {
    let s = h.set();
    assert_eq!(s.master, Some(m));
    assert_eq!(s.master_epoch, 2);
    assert_eq!(s.sync_state_set, ids(&[m]));
    assert_eq!(s.sync_state_set_epoch, 3);
    assert_eq!(h.disk.last(), Some(&elected(Some(m))));
    assert_eq!(h.disk.len(), 6, "one election event");
    assert!(h.notes.contains(&Note::Inactive {
        key: key(1),
        closed: false
    }));
    let r = h.replica_info();
    assert_eq!(r.ext("masterBrokerId"), Some(m.to_string().as_str()));
    assert_eq!(r.ext("masterEpoch"), Some("2"));
    let n = h.take_notifies();
    assert_eq!(n.len(), 2, "to 2 and 3, not to the dead 1");
    assert_notify(&n[0], 2, m, 2, 3, &[m]);
    assert_notify(&n[1], 3, m, 2, 3, &[m]);
}

/// 7: the higher epoch wins.
#[test]
fn s07_higher_epoch_wins() {
    let mut h = failover_with(Beat::new(2).at(1, 2), Beat::new(3).at(0, 3));
    assert_failed_over_to(&mut h, 2);
}

/// 8: on an equal epoch the higher offset wins; also across a gap of 2^32 (§12 Q8).
#[test]
fn s08_higher_offset_wins_on_an_equal_epoch() {
    let mut h = failover_with(Beat::new(2).at(1, 2), Beat::new(3).at(1, 3));
    assert_failed_over_to(&mut h, 3);
    let mut h = failover_with(Beat::new(2).at(1, 1 << 32), Beat::new(3).at(1, 1));
    assert_failed_over_to(&mut h, 2);
    let mut h = failover_with(Beat::new(2).at(1, 1), Beat::new(3).at(1, (1 << 32) + 1));
    assert_failed_over_to(&mut h, 3);
}

/// 9: on an equal epoch and offset the lower priority value wins; then the lower id.
#[test]
fn s09_lower_priority_wins() {
    let mut h = failover_with(
        Beat::new(2).at(1, 3).priority(2),
        Beat::new(3).at(1, 3).priority(1),
    );
    assert_failed_over_to(&mut h, 3);
    let mut h = failover_with(Beat::new(2).at(1, 3), Beat::new(3).at(1, 3));
    assert_failed_over_to(&mut h, 2);
}

/// 10: admin designate.
#[test]
fn s10_admin_designate() {
    let mut h = H::group();
    scenario3(&mut h);
    // The controller triggers with id 1 dead: another id (2, on a tie) becomes master.
    h.run_for(11_000, &[2, 3]);
    assert_eq!(h.set().master, Some(2));
    assert_eq!(h.set().master_epoch, 2);
    assert_eq!(h.set().sync_state_set_epoch, 3);
    // 1 comes back; master 2 expands to {1,2,3}.
    h.beat(Beat::new(1));
    let r = h.ask(2, alter_req(2, 2, &[1, 2, 3], 3));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(r.ext("newSyncStateSetEpoch"), Some("4"));
    // 1 dies: a slave, so no election.
    let n = h.disk.len();
    h.run_for(11_000, &[2, 3]);
    assert_eq!(h.disk.len(), n);
    h.take_notifies();
    // Designate the dead 1: 2012, no fallback to ranking.
    let r = h.ask(ADMIN, elect_req(Some(1), true));
    assert_eq!(r.code, rs::CONTROLLER_ELECT_MASTER_FAILED, "{r:?}");
    assert_eq!(r.remark.as_deref(), Some("Failed to elect a new master"));
    assert_eq!(ext(&r), BTreeMap::new());
    assert_eq!(r.body, None);
    // Designate the current master: 2011.
    let r = h.ask(ADMIN, elect_req(Some(2), true));
    assert_eq!(r.code, rs::CONTROLLER_MASTER_STILL_EXIST, "{r:?}");
    assert_eq!(ext(&r), master_ext(2, 2, 4));
    assert_eq!(h.disk.len(), n);
    // 1 alive, master 2 dead (while this node did not lead, so nothing elected on its own).
    h.beat(Beat::new(1));
    h.leader(Some("n1"));
    h.run_for(11_000, &[1, 3]);
    h.leader(Some("n0"));
    assert_eq!(h.disk.len(), n);
    let r = h.ask(ADMIN, elect_req(Some(1), true));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(ext(&r), master_ext(1, 3, 5));
    assert_eq!(h.disk[n..], [elected(Some(1))]);
    let notes = h.take_notifies();
    assert_eq!(notes.len(), 2);
    assert_notify(&notes[0], 1, 1, 3, 5, &[1]);
    assert_notify(&notes[1], 3, 1, 3, 5, &[1]);
}

/// 11: nobody eligible: exactly one masterless event; the set and its epoch stay.
#[test]
fn s11_nobody_eligible() {
    let mut h = H::single();
    h.registered(2);
    let r = h.ask(1, elect_req(Some(1), false));
    assert_eq!(r.code, rs::SUCCESS);
    h.take_notifies();
    // 1 dies; 2 (not in the set) lives on, so the leader's scan keeps looking at the set.
    h.run_for(40_000, &[2]);
    assert_eq!(h.disk[3..], [elected(None)], "exactly one masterless event");
    assert!(h.notifies.is_empty());
    assert!(h.notes.contains(&Note::Elected {
        broker_name: SET.into(),
        master: None,
        master_epoch: 2
    }));
    let r = h.replica_info();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(ext(&r), exts(&[("masterEpoch", "2")]));
    assert_eq!(body(&r), ss_body(&[1], 1));
    // A wire request with brokerId -1 now: 2004, and nothing more appended (the set has no
    // master already).
    let r = h.ask(ADMIN, elect_req(None, false));
    assert_eq!(r.code, rs::CONTROLLER_MASTER_NOT_AVAILABLE, "{r:?}");
    assert_eq!(
        r.remark.as_deref(),
        Some("Old master has down and failed to elect a new broker master")
    );
    assert_eq!(ext(&r), BTreeMap::new());
    assert_eq!(h.disk.len(), 4);
    // A broker-triggered one: 2012.
    let r = h.ask(2, elect_req(Some(2), false));
    assert_eq!(r.code, rs::CONTROLLER_ELECT_MASTER_FAILED, "{r:?}");
    assert_eq!(h.disk.len(), 4);
    // 1001 on a set without a master: 2002.
    let r = h.ask(1, alter_req(1, 2, &[1, 2], 1));
    assert_eq!(r.code, rs::CONTROLLER_INVALID_MASTER, "{r:?}");
    assert_eq!(
        r.remark.as_deref(),
        Some("Rejecting alter syncStateSet request because the current leader is:{null}, not {1}")
    );
}

/// 12: the clean rules.
#[test]
fn s12_clean_rules() {
    let mut h = H::single();
    scenario3(&mut h);
    let n = h.disk.len();
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some("1"), false));
    assert_eq!(r.code, rs::CONTROLLER_INVALID_CLEAN_BROKER_METADATA);
    assert_eq!(
        r.remark.as_deref(),
        Some("Broker [broker-set-a,  1] is still alive, clean up failure")
    );
    // Without clusterName, liveness is looked up under the set's own cluster (decided, Q10).
    let r = h.ask(ADMIN, clean_req(None, SET, Some("2"), false));
    assert_eq!(
        r.code,
        rs::CONTROLLER_INVALID_CLEAN_BROKER_METADATA,
        "{r:?}"
    );
    assert_eq!(
        r.remark.as_deref(),
        Some("Broker [broker-set-a,  2] is still alive, clean up failure")
    );
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, None, false));
    assert_eq!(r.code, rs::CONTROLLER_INVALID_CLEAN_BROKER_METADATA);
    assert_eq!(
        r.remark.as_deref(),
        Some("Broker broker-set-a is still alive, clean up failure")
    );
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some("1;x"), false));
    assert_eq!(r.code, rs::CONTROLLER_INVALID_CLEAN_BROKER_METADATA);
    assert_eq!(
        r.remark.as_deref(),
        Some("Please set the option <brokerControllerIdsToClean> according to the format, exception: java.lang.NumberFormatException: For input string: \"x\"")
    );
    assert_eq!(h.disk.len(), n);
    // Everybody dies (the master's loss appends one masterless event).
    h.run_for(11_000, &[]);
    assert_eq!(h.disk[n..], [elected(None)]);
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some("1"), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(r.ext_fields, None);
    assert_eq!(r.body, None);
    assert_eq!(
        h.disk.last(),
        Some(&Event::CleanBrokerData {
            broker_name: SET.into(),
            ids: ids(&[1])
        })
    );
    let s = h.set();
    assert!(!s.replicas.contains_key(&1));
    assert_eq!(s.sync_state_set, ids(&[2, 3]));
    assert_eq!(s.sync_state_set_epoch, 2, "a clean does not bump the epoch");
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), SET, Some("1;2;3"), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(h.c.replicas().get(SET), None, "the emptied set is gone");
    let r = h.replica_info();
    assert_eq!(r.code, rs::CONTROLLER_BROKER_METADATA_NOT_EXIST);
    // An unknown set.
    let r = h.ask(ADMIN, clean_req(Some(CLUSTER), "broker12", None, true));
    assert_eq!(r.code, rs::CONTROLLER_INVALID_CLEAN_BROKER_METADATA);
    assert_eq!(
        r.remark.as_deref(),
        Some("Broker broker12 is not existed,clean broker data failure.")
    );
    // No clusterName, isCleanLivingBroker=true on a live set: the whole set goes.
    let mut h = H::single();
    scenario3(&mut h);
    let r = h.ask(ADMIN, clean_req(None, SET, Some("2"), true));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    assert_eq!(
        h.disk.last(),
        Some(&Event::CleanBrokerData {
            broker_name: SET.into(),
            ids: BTreeSet::new()
        })
    );
    assert!(h.c.replicas().is_empty());
    // A new set of the same name starts at id 1 again.
    let r = h.ask(ADMIN, next_id_req(SET));
    assert_eq!(r.ext("nextBrokerId"), Some("1"));
}
