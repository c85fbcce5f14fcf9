//! Spec §6.1, second half: `RouteInfoManagerNewTest`'s topic-config, route pickup, channel-destroy
//! and expiry scenarios (the fixture is in `route_info_new.rs`).

use super::route_info_new::{
    acting, default_broker, global_order, new_test_harness, normal, renamed, slave_broker,
    switch_roles_after_master_is_gone, B, C,
};
use super::*;

// =============================================================================================
// §6.1 RouteInfoManagerNewTest (supportActingMaster = true), continued

#[test]
fn route_info_manager_new_test_is_broker_topic_config_changed() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));

    let stored =
        h.ns.route()
            .query_broker_topic_config(C, A0)
            .expect("stored DV");
    let rim = h.ns.route();
    assert!(!rim.is_broker_topic_config_changed(C, A0, Some(&stored)));
    let later = DataVersion {
        timestamp: stored.timestamp + 1000,
        ..stored
    };
    assert!(rim.is_broker_topic_config_changed(C, A0, Some(&later)));
    let counted = DataVersion {
        counter: stored.counter + 1,
        ..stored
    };
    assert!(rim.is_broker_topic_config_changed(C, A0, Some(&counted)));
    assert!(
        rim.is_broker_topic_config_changed(C, A1, Some(&stored)),
        "unknown broker"
    );

    // The same answers over the wire (QUERY_DATA_VERSION).
    for (dv, changed) in [(stored, "false"), (later, "true"), (counted, "true")] {
        let r = h.call(
            conn_of(A0),
            Harness::query_data_version_cmd(C, A0, B, 0, Some(dv)),
        );
        assert_eq!(r.code, response::SUCCESS);
        assert_eq!(r.ext("changed"), Some(changed), "{dv:?}");
        assert_eq!(
            DataVersion::decode(r.body.as_deref().unwrap()).unwrap(),
            stored
        );
    }
}

/// `isTopicConfigChanged` is private; its three cases are observed through what a
/// re-registration with the same DataVersion does.
#[test]
fn route_info_manager_new_test_is_topic_config_changed() {
    let mut h = new_test_harness();
    // Before any registration everything counts as changed: the first registration applies.
    let reg = normal(default_broker(), &["TestTopic"]);
    reg_ok(&mut h, &reg);
    assert_eq!(h.perm("TestTopic", B), Some(PERM_RW));

    // Same DV and the topic is present: not changed, so a namesrv-side wipe survives.
    h.wipe_write_perm(B);
    reg_ok(&mut h, &reg);
    assert_eq!(h.perm("TestTopic", B), Some(PERM_R));

    // Same DV but TestTopic1 is absent: changed, so it is created (TestTopic stays as it was).
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic", "TestTopic1"]),
    );
    assert_eq!(h.perm("TestTopic1", B), Some(PERM_RW));
    assert_eq!(h.perm("TestTopic", B), Some(PERM_R));
}

#[test]
fn route_info_manager_new_test_query_broker_topic_config() {
    let mut h = new_test_harness();
    let reg = normal(default_broker(), &["TestTopic"]);
    reg_ok(&mut h, &reg);
    assert_eq!(h.ns.route().query_broker_topic_config(C, A0), Some(reg.dv));
    assert_eq!(h.ns.route().query_broker_topic_config(C, A1), None);
    assert_eq!(
        h.ns.route().query_broker_topic_config("OtherCluster", A0),
        None
    );
}

#[test]
fn route_info_manager_new_test_wipe_write_perm_of_broker_by_lock() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    assert_eq!(route(&mut h, "TestTopic").queue_datas[0].perm, PERM_RW);

    // baseTopic and TestTopic.
    assert_eq!(h.wipe_write_perm(B), 2);
    assert_eq!(route(&mut h, "TestTopic").queue_datas[0].perm, PERM_R);
    assert_eq!(h.wipe_write_perm("NoSuchBroker"), 0);
}

#[test]
fn route_info_manager_new_test_pickup_topic_route_data() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));

    let data = route(&mut h, "TestTopic");
    assert_eq!(data.broker_datas.len(), 1);
    assert_eq!(data.broker_datas[0].broker_name, B);
    assert_eq!(data.broker_datas[0].broker_addrs[&0], A0);
    assert_eq!(data.queue_datas.len(), 1);
    let qd = &data.queue_datas[0];
    assert_eq!(qd.broker_name, B);
    assert_eq!(
        (qd.read_queue_nums, qd.write_queue_nums, qd.perm),
        (8, 8, PERM_RW)
    );

    // A second group at the same address in the same cluster.
    reg_ok(
        &mut h,
        &normal(renamed(default_broker(), "AnotherBroker"), &["TestTopic"]),
    );
    let data = route(&mut h, "TestTopic");
    assert_eq!(data.broker_datas.len(), 2);
    assert_eq!(data.queue_datas.len(), 2);
    let names: BTreeSet<&str> = data
        .broker_datas
        .iter()
        .map(|b| b.broker_name.as_str())
        .collect();
    assert_eq!(names, BTreeSet::from([B, "AnotherBroker"]));
    let names: BTreeSet<&str> = data
        .queue_datas
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    assert_eq!(names, BTreeSet::from([B, "AnotherBroker"]));
}

#[test]
fn route_info_manager_new_test_pickup_topic_route_data_with_slave() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    reg_ok(&mut h, &normal(slave_broker(), &["TestTopic"]));
    let r = route(&mut h, "TestTopic");
    assert_eq!(r.broker_datas[0].broker_addrs.len(), 2);
    assert!(writeable(r.queue_datas[0].perm));

    // The acting-master group loses write permission with its master.
    unreg_ok(&mut h, &default_broker());
    let r = route(&mut h, "TestTopic");
    assert_eq!(r.broker_datas[0].broker_addrs.len(), 1);
    assert!(!writeable(r.queue_datas[0].perm));

    // The returning master is a first registration for id 0: perm 6 is re-applied.
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    let r = route(&mut h, "TestTopic");
    assert_eq!(r.broker_datas[0].broker_addrs.len(), 2);
    assert!(writeable(r.queue_datas[0].perm));
}

#[test]
fn route_info_manager_new_test_pickup_partition_order_topic_route_data() {
    let mut h = new_test_harness();
    let topic = "PartitionOrderTopicTest";
    let master = normal(default_broker(), &[topic]);
    let slave = normal(slave_broker(), &[topic]);

    // Case 1: only the slave registers. It is the prime slave of an acting-master group, so its
    // perm is wiped, and the route shows it at id 0.
    reg_ok(&mut h, &slave);
    let r = route(&mut h, topic);
    assert_eq!(
        r.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, A1.to_string())])
    );
    assert!(!writeable(r.queue_datas[0].perm));
    unreg_ok(&mut h, &slave);
    assert!(h.route(topic).is_none());

    // Case 2: slave, master, then the master goes.
    reg_ok(&mut h, &slave);
    reg_ok(&mut h, &master);
    assert!(writeable(route(&mut h, topic).queue_datas[0].perm));
    unreg_ok(&mut h, &master);
    let r = route(&mut h, topic);
    assert_eq!(
        r.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, A1.to_string())])
    );
    assert!(!writeable(r.queue_datas[0].perm));
    unreg_ok(&mut h, &slave);

    // Case 3: two groups on the same two addresses; the master of the first one goes.
    let other = format!("{B}_ANOTHER");
    reg_ok(&mut h, &slave);
    reg_ok(&mut h, &master);
    reg_ok(&mut h, &renamed(master.clone(), &other));
    reg_ok(&mut h, &renamed(slave.clone(), &other));
    let r = route(&mut h, topic);
    assert_eq!(r.broker_datas.len(), 2);
    assert_eq!(r.queue_datas.len(), 2);

    unreg_ok(&mut h, &master);
    let r = route(&mut h, topic);
    assert_eq!(r.broker_datas.len(), 2);
    assert_eq!(r.queue_datas.len(), 2);
    for bd in &r.broker_datas {
        match bd.broker_addrs.len() {
            1 => assert_eq!(bd.broker_addrs, BTreeMap::from([(0, A1.to_string())])),
            2 => assert_eq!(
                bd.broker_addrs,
                BTreeMap::from([(0, A0.to_string()), (1, A1.to_string())])
            ),
            n => panic!("{} has {n} addresses", bd.broker_name),
        }
    }
    assert_eq!(addrs_in(&r, B).map(|a| a.len()), Some(1));
    assert_eq!(addrs_in(&r, &other).map(|a| a.len()), Some(2));
}

#[test]
fn route_info_manager_new_test_pickup_global_order_topic_route_data() {
    let mut h = new_test_harness();
    let topic = "GlobalOrderTopicTest";
    let master = global_order(default_broker(), &[topic]);
    let slave = global_order(slave_broker(), &[topic]);

    // Case 1: only the slave.
    reg_ok(&mut h, &slave);
    let r = route(&mut h, topic);
    assert_eq!(
        r.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, A1.to_string())])
    );
    let qd = &r.queue_datas[0];
    assert_eq!((qd.read_queue_nums, qd.write_queue_nums), (1, 1));
    assert!(!writeable(qd.perm));
    unreg_ok(&mut h, &slave);

    // Case 2: slave and master, then the master goes. (The Java test re-checks its stale route
    // object here; we ask again.)
    reg_ok(&mut h, &slave);
    reg_ok(&mut h, &master);
    unreg_ok(&mut h, &master);
    let r = route(&mut h, topic);
    assert_eq!(
        r.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, A1.to_string())])
    );
    assert!(!writeable(r.queue_datas[0].perm));
}

#[test]
fn route_info_manager_new_test_register_only_slave_broker() {
    let mut h = new_test_harness();
    let master = normal(default_broker(), &["TestTopic"]);
    let slave = normal(slave_broker(), &["TestTopic"]);

    // Case 1: only the slave.
    reg_ok(&mut h, &slave);
    assert!(!writeable(route(&mut h, "TestTopic").queue_datas[0].perm));
    unreg_ok(&mut h, &slave);

    // Case 2: master and slave, master goes, master comes back.
    reg_ok(&mut h, &master);
    reg_ok(&mut h, &slave);
    assert!(writeable(route(&mut h, "TestTopic").queue_datas[0].perm));
    unreg_ok(&mut h, &master);
    assert!(!writeable(route(&mut h, "TestTopic").queue_datas[0].perm));
    reg_ok(&mut h, &master);
    assert!(writeable(route(&mut h, "TestTopic").queue_datas[0].perm));
}

#[test]
fn route_info_manager_new_test_on_channel_destroy() {
    let mut h = new_test_harness();
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic", "TestTopic1"]),
    );
    h.close(conn_of(A0));
    assert!(h.route("TestTopic").is_none());
    assert!(h.route("TestTopic1").is_none());

    let master = normal(acting(default_broker(), false), &["TestTopic"]);
    let slave = normal(acting(slave_broker(), false), &["TestTopic"]);
    reg_ok(&mut h, &master);
    reg_ok(&mut h, &slave);
    assert_eq!(
        first_addrs(&mut h, "TestTopic"),
        BTreeMap::from([(0, A0.to_string()), (1, A1.to_string())])
    );

    h.close(conn_of(A0));
    assert_eq!(
        first_addrs(&mut h, "TestTopic"),
        BTreeMap::from([(1, A1.to_string())])
    );

    h.close(conn_of(A1));
    assert!(h.route("TestTopic").is_none());
    assert!(h.ns.route().broker_live_table().is_empty());
}

#[test]
fn route_info_manager_new_test_on_channel_destroy_by_broker_info() {
    let mut h = new_test_harness();
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic", "TestTopic1"]),
    );
    // onChannelDestroy(BrokerAddrInfo(C, A0)) is what the scan does to an expired broker.
    h.advance(120_000);
    assert!(h.route("TestTopic").is_none());
    assert!(h.route("TestTopic1").is_none());
    assert!(!h
        .ns
        .route()
        .broker_live_table()
        .contains_key(&BrokerAddrInfo::new(C, A0)));
}

#[test]
fn route_info_manager_new_test_switch_broker_role_channel_destroy() {
    let mut h = new_test_harness();
    let master = normal(acting(default_broker(), false), &["TestTopic"]);
    let slave = normal(acting(slave_broker(), false), &["TestTopic"]);
    reg_ok(&mut h, &master);
    reg_ok(&mut h, &slave);

    // Master down, through its connection.
    h.close(conn_of(A0));
    switch_roles_after_master_is_gone(&mut h, &master, &slave);
}

#[test]
fn route_info_manager_new_test_keep_topic_with_broker_registration() {
    let mut h = new_test_harness();
    assert!(!h.ns.config().delete_topic_with_broker_registration);
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic", "TestTopic1"]),
    );
    assert!(h.route("TestTopic").is_some());
    assert!(h.route("TestTopic1").is_some());

    reg_ok(&mut h, &normal(default_broker(), &["TestTopic1"]));
    assert!(h.route("TestTopic").is_some());
    assert!(h.route("TestTopic1").is_some());
}

fn delete_with_registration_harness() -> Harness {
    Harness::with_config(|c| {
        c.support_acting_master = true;
        c.delete_topic_with_broker_registration = true;
    })
}

#[test]
fn route_info_manager_new_test_delete_topic_with_broker_registration() {
    let mut h = delete_with_registration_harness();
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic", "TestTopic1"]),
    );
    assert!(h.route("TestTopic").is_some());
    assert!(h.route("TestTopic1").is_some());

    // Same DataVersion: the deletion does not need a DV change.
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic1"]));
    assert!(h.route("TestTopic").is_none());
    assert!(h.route("TestTopic1").is_some());
}

#[test]
fn route_info_manager_new_test_delete_topic_with_broker_registration2() {
    let mut h = delete_with_registration_harness();
    let master1 = default_broker();
    let master2 = Reg {
        name: format!("{B}1"),
        addr: format!("{A0}9"),
        ..default_broker()
    };
    reg_ok(
        &mut h,
        &normal(master1.clone(), &["TestTopic", "TestTopic1"]),
    );
    reg_ok(
        &mut h,
        &normal(master2.clone(), &["TestTopic", "TestTopic1"]),
    );
    assert_eq!(route(&mut h, "TestTopic").broker_datas.len(), 2);
    assert_eq!(route(&mut h, "TestTopic1").broker_datas.len(), 2);

    reg_ok(&mut h, &normal(master1, &["TestTopic1"]));
    let r = route(&mut h, "TestTopic");
    assert_eq!(r.broker_datas.len(), 1);
    assert_eq!(r.broker_datas[0].broker_name, master2.name);
    assert_eq!(route(&mut h, "TestTopic1").broker_datas.len(), 2);

    reg_ok(&mut h, &normal(master2, &["TestTopic1"]));
    assert!(h.route("TestTopic").is_none());
    assert_eq!(route(&mut h, "TestTopic1").broker_datas.len(), 2);
}

#[test]
fn route_info_manager_new_test_register_single_topic_with_broker_registration() {
    let mut h = delete_with_registration_harness();
    let master = default_broker();
    let qd = [queue_data(B, 8, PERM_RW)];

    // Ignored: no such broker group yet (still SUCCESS).
    assert_eq!(h.register_topic("TestTopic", &qd).code, response::SUCCESS);
    assert!(h.route("TestTopic").is_none());

    reg_ok(&mut h, &normal(master.clone(), &["TestTopic"]));
    assert!(h.route("TestTopic").is_some());
    assert_eq!(h.register_topic("TestTopic1", &qd).code, response::SUCCESS);
    assert!(h.route("TestTopic1").is_some());

    reg_ok(
        &mut h,
        &normal(master.clone(), &["TestTopic", "TestTopic1"]),
    );
    assert!(h.route("TestTopic").is_some());
    assert!(h.route("TestTopic1").is_some());

    // The broker no longer lists TestTopic1.
    reg_ok(&mut h, &normal(master.clone(), &["TestTopic"]));
    assert!(h.route("TestTopic").is_some());
    assert!(h.route("TestTopic1").is_none());

    h.register_topic("TestTopic1", &qd);
    assert!(h.route("TestTopic1").is_some());

    unreg_ok(&mut h, &master);
    assert!(h.route("TestTopic").is_none());
    assert!(h.route("TestTopic1").is_none());
}

#[test]
fn route_info_manager_new_test_scan_not_active_broker() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    h.advance(0); // a scan with nothing due
    assert!(h.route("TestTopic").is_some());

    // Re-registered with a 30 s heartbeat timeout.
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic"]).timeout(30_000),
    );
    h.advance(29_999);
    assert!(h.route("TestTopic").is_some());
    h.advance(1);
    assert!(h.route("TestTopic").is_none());
    assert!(h.ns.route().broker_live_table().is_empty());
    assert!(h.ns.route().broker_addr_table().is_empty());
}
