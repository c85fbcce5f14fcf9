//! Spec §6.1–§6.3: the RouteInfoManager scenarios.

use super::*;

// =============================================================================================
// §6.1 RouteInfoManagerNewTest (supportActingMaster = true)

const C: &str = "Default_Cluster";
const B: &str = "Default_Broker";
const A0_HA: &str = "127.0.0.1:20911";
const A1_HA: &str = "127.0.0.1:40911";

fn new_test_harness() -> Harness {
    Harness::with_config(|c| c.support_acting_master = true)
}

/// `BrokerBasicInfo.defaultBroker()`: master of B at A0, enableActingMaster = true, DV{1, ts}.
fn default_broker() -> Reg {
    Reg::new(C, A0, B, 0)
        .ha(A0_HA)
        .acting(Some(true))
        .dv(dv(1, TS))
}

/// `BrokerBasicInfo.slaveBroker()`: id 1 of B at A1, enableActingMaster = true.
fn slave_broker() -> Reg {
    Reg::new(C, A1, B, 1)
        .ha(A1_HA)
        .acting(Some(true))
        .dv(dv(1, TS))
}

fn acting(reg: Reg, enable: bool) -> Reg {
    reg.acting(Some(enable))
}

fn renamed(reg: Reg, name: &str) -> Reg {
    Reg {
        name: name.into(),
        ..reg
    }
}

/// `registerBrokerWithNormalTopic` / `registerBrokerWithOrderTopic`: `baseTopic` (r = w = 16,
/// perm 6) plus the topics (r = w = 8, perm 6). Order flags never reach the NameServer.
fn normal(reg: Reg, names: &[&str]) -> Reg {
    let mut tcs = vec![tc("baseTopic", 16, PERM_RW, 0)];
    tcs.extend(names.iter().map(|n| tc(n, 8, PERM_RW, 0)));
    reg.topic_configs(tcs)
}

/// `registerBrokerWithGlobalOrderTopic`: every topic has r = w = 1.
fn global_order(reg: Reg, names: &[&str]) -> Reg {
    let mut tcs = vec![tc("baseTopic", 1, PERM_RW, 0)];
    tcs.extend(names.iter().map(|n| tc(n, 1, PERM_RW, 0)));
    reg.topic_configs(tcs)
}

#[test]
fn route_info_manager_new_test_get_all_cluster_info() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    let another = Reg {
        cluster: "AnotherCluster".into(),
        name: "AnotherBroker".into(),
        addr: A1.into(),
        ..default_broker()
    };
    reg_ok(&mut h, &normal(another, &["TestTopic1"]));

    let info = h.cluster_info();
    let clusters: BTreeSet<&str> = info.cluster_addr_table.keys().map(String::as_str).collect();
    assert_eq!(clusters, BTreeSet::from([C, "AnotherCluster"]));
    assert_eq!(info.cluster_addr_table[C], vec![B.to_string()]);
    assert_eq!(
        info.cluster_addr_table["AnotherCluster"],
        vec!["AnotherBroker".to_string()]
    );
    assert_eq!(info.broker_addr_table[B].broker_addrs[&0], A0);
    assert_eq!(info.broker_addr_table["AnotherBroker"].broker_addrs[&0], A1);
    assert_eq!(
        info.broker_addr_table["AnotherBroker"].cluster,
        "AnotherCluster"
    );
}

#[test]
fn route_info_manager_new_test_delete_topic() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    assert_eq!(h.delete_topic("TestTopic", None).code, response::SUCCESS);
    assert!(h.route("TestTopic").is_none());
    assert!(h.route("baseTopic").is_some(), "only the named topic goes");

    // The same DV re-registers the topic: it is missing, so its config counts as changed.
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    let another = Reg {
        cluster: "AnotherCluster".into(),
        name: "AnotherBroker".into(),
        ..default_broker()
    };
    reg_ok(&mut h, &normal(another, &["TestTopic"]));
    assert_eq!(route(&mut h, "TestTopic").broker_datas.len(), 2);

    assert_eq!(h.delete_topic("TestTopic", Some(C)).code, response::SUCCESS);
    let r = route(&mut h, "TestTopic");
    assert_eq!(r.broker_datas.len(), 1);
    assert_eq!(r.broker_datas[0].broker_name, "AnotherBroker");
    assert_eq!(r.queue_datas.len(), 1);
    assert_eq!(r.queue_datas[0].broker_name, "AnotherBroker");
}

#[test]
fn route_info_manager_new_test_get_all_topic_list() {
    let mut h = new_test_harness();
    assert!(h.all_topics().is_empty());
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic", "TestTopic1", "TestTopic2"]),
    );
    assert_eq!(
        topic_set(h.all_topics()),
        set_of(&["TestTopic", "TestTopic1", "TestTopic2", "baseTopic"])
    );
}

#[test]
fn route_info_manager_new_test_register_broker() {
    let mut h = new_test_harness();
    let master = reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    assert_eq!(master.ext("haServerAddr"), None);
    assert_eq!(master.ext("masterAddr"), None);

    let slave = reg_ok(&mut h, &normal(slave_broker(), &["TestTopic"]));
    assert_eq!(slave.ext("haServerAddr"), Some(A0_HA));
    assert_eq!(slave.ext("masterAddr"), Some(A0));
}

#[test]
fn route_info_manager_new_test_unregister_broker() {
    let mut h = new_test_harness();
    let topics = ["TestTopic", "TestTopic1", "TestTopic2"];
    // unregisterBroker (the synchronous Java path) ...
    reg_ok(&mut h, &normal(default_broker(), &topics));
    unreg_ok(&mut h, &default_broker());
    for t in topics {
        assert!(h.route(t).is_none(), "{t} after unregisterBroker");
    }
    // ... and submitUnRegisterBrokerRequest (the batched Java path) end the same way.
    reg_ok(&mut h, &normal(default_broker(), &topics));
    assert!(h.route("TestTopic").is_some());
    unreg_ok(&mut h, &default_broker());
    for t in topics {
        assert!(
            h.route(t).is_none(),
            "{t} after submitUnRegisterBrokerRequest"
        );
    }
    assert!(h.ns.route().broker_addr_table().is_empty());
    assert!(h.ns.route().broker_live_table().is_empty());
}

#[test]
fn route_info_manager_new_test_register_slave_broker() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    assert_eq!(keys(&first_addrs(&mut h, "TestTopic")), vec![0]);

    reg_ok(&mut h, &normal(slave_broker(), &["TestTopic"]));
    let addrs = first_addrs(&mut h, "TestTopic");
    assert_eq!(
        addrs,
        BTreeMap::from([(0, A0.to_string()), (1, A1.to_string())])
    );
}

#[test]
fn route_info_manager_new_test_create_new_topic() {
    let mut h = new_test_harness();
    reg_ok(&mut h, &normal(default_broker(), &["TestTopic"]));
    reg_ok(&mut h, &normal(slave_broker(), &["TestTopic"]));
    // Same DataVersion: the new topic is still created, because it is missing.
    reg_ok(
        &mut h,
        &normal(default_broker(), &["TestTopic", "TestTopic1"]),
    );
    assert_eq!(
        first_addrs(&mut h, "TestTopic1"),
        BTreeMap::from([(0, A0.to_string()), (1, A1.to_string())])
    );
}

/// Items 8 and 24 share their second half: the slave takes over id 0, the old master returns
/// as id 1.
fn switch_roles_after_master_is_gone(h: &mut Harness, master: &Reg, slave: &Reg) {
    assert_eq!(
        first_addrs(h, "TestTopic"),
        BTreeMap::from([(1, A1.to_string())])
    );

    // Switch slave to master.
    let new_master = next_version(&with_id(slave, 0));
    reg_ok(h, &new_master);
    assert_eq!(
        first_addrs(h, "TestTopic"),
        BTreeMap::from([(0, A1.to_string())])
    );

    // Old master switches to slave.
    let new_slave = next_version(&with_id(master, 1));
    reg_ok(h, &new_slave);
    assert_eq!(
        first_addrs(h, "TestTopic"),
        BTreeMap::from([(0, A1.to_string()), (1, A0.to_string())])
    );
}

#[test]
fn route_info_manager_new_test_switch_broker_role() {
    let mut h = new_test_harness();
    let master = normal(acting(default_broker(), false), &["TestTopic"]);
    let slave = normal(acting(slave_broker(), false), &["TestTopic"]);
    reg_ok(&mut h, &master);
    reg_ok(&mut h, &slave);

    // Master down.
    unreg_ok(&mut h, &master);
    switch_roles_after_master_is_gone(&mut h, &master, &slave);
}

#[test]
fn route_info_manager_new_test_un_register_slave_broker() {
    let mut h = new_test_harness();
    let master = normal(default_broker(), &["TestTopic"]);
    let slave = normal(slave_broker(), &["TestTopic"]);
    for round in ["unregisterBroker", "submitUnRegisterBrokerRequest"] {
        reg_ok(&mut h, &master);
        reg_ok(&mut h, &slave);
        unreg_ok(&mut h, &slave);
        let r = route(&mut h, "TestTopic");
        assert_eq!(r.broker_datas.len(), 1, "{round}");
        assert_eq!(
            r.broker_datas[0].broker_addrs,
            BTreeMap::from([(0, A0.to_string())]),
            "{round}"
        );
        assert_eq!(r.queue_datas[0].perm, PERM_RW, "{round}");
    }
}

#[test]
fn route_info_manager_new_test_un_register_master_broker() {
    let mut h = new_test_harness();
    reg_ok(
        &mut h,
        &normal(acting(default_broker(), true), &["TestTopic"]),
    );
    reg_ok(&mut h, &normal(slave_broker(), &["TestTopic"]));

    unreg_ok(&mut h, &default_broker());
    let r = route(&mut h, "TestTopic");
    assert_eq!(r.broker_datas.len(), 1);
    // Acting master: the slave is shown at id 0, read-only.
    assert_eq!(
        r.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, A1.to_string())])
    );
    assert_eq!(r.queue_datas.len(), 1);
    assert_eq!(r.queue_datas[0].perm, PERM_R);
    // The tables themselves still hold the slave under its own id.
    assert_eq!(
        keys(&h.ns.route().broker_addr_table()[B].broker_addrs),
        vec![1]
    );
}

#[test]
fn route_info_manager_new_test_un_register_master_broker_old_version() {
    let mut h = new_test_harness();
    reg_ok(
        &mut h,
        &normal(acting(default_broker(), false), &["TestTopic"]),
    );
    reg_ok(
        &mut h,
        &normal(acting(slave_broker(), false), &["TestTopic"]),
    );

    unreg_ok(&mut h, &default_broker());
    let r = route(&mut h, "TestTopic");
    assert_eq!(r.broker_datas.len(), 1);
    assert_eq!(r.broker_datas[0].broker_addrs.get(&0), None);
    assert_eq!(
        r.broker_datas[0].broker_addrs,
        BTreeMap::from([(1, A1.to_string())])
    );
    assert_eq!(r.queue_datas.len(), 1);
    assert_eq!(r.queue_datas[0].perm, PERM_RW);
}

#[test]
fn route_info_manager_new_test_submit_multi_un_register_requests() {
    let mut h = new_test_harness();
    let master1 = normal(default_broker(), &["TestTopic1"]);
    let master2 = Reg {
        name: format!("{B}1"),
        addr: format!("{A0}9"),
        ..normal(default_broker(), &["TestTopic2"])
    };
    reg_ok(&mut h, &master1);
    reg_ok(&mut h, &master2);
    assert!(h.route("TestTopic1").is_some());
    assert!(h.route("TestTopic2").is_some());

    unreg_ok(&mut h, &master1);
    unreg_ok(&mut h, &master2);
    assert!(h.route("TestTopic1").is_none());
    assert!(h.route("TestTopic2").is_none());
    assert!(h.ns.route().cluster_addr_table().is_empty());
}

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

// =============================================================================================
// §6.2 RouteInfoManagerTest (default config)

/// `testRegisterBroker`, the fixture of every test here: id 1234 through the 10-argument
/// overload (enableActingMaster = false), so it is the prime slave and its topics are created.
fn default_registration() -> Reg {
    Reg::new(DEF_CLUSTER, DEF_ADDR, DEF_BROKER, 1234)
        .ha("127.0.0.1:1001")
        .zone("")
        .acting(Some(false))
        // `new TopicConfig(name)`: r = w = 16, perm 6.
        .topic_configs(vec![
            tc("unit-test0", 16, PERM_RW, 0),
            tc("unit-test1", 16, PERM_RW, 0),
        ])
        .dv(dv(10, 100))
}

fn route_info_manager_test_harness() -> Harness {
    let mut h = Harness::new();
    reg_ok(&mut h, &default_registration());
    h
}

#[test]
fn route_info_manager_test_register_broker() {
    let mut h = Harness::new();
    let r = reg_ok(&mut h, &default_registration());
    assert_eq!(r.remark, None);
    assert_eq!(r.ext_fields, Some(BTreeMap::new()), "no master to report");

    let route = route(&mut h, "unit-test0");
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        BTreeMap::from([(1234, DEF_ADDR.to_string())])
    );
    // Prime slave, but enableActingMaster = false: perm is not wiped.
    assert_eq!(route.queue_datas[0].perm, PERM_RW);
    assert_eq!(route.queue_datas[0].read_queue_nums, 16);
    assert!(h.route("unit-test1").is_some());
}

#[test]
fn route_info_manager_test_query_broker_topic_config() {
    let mut h = route_info_manager_test_harness();
    let target = dv(10, 100);
    assert_eq!(
        h.ns.route()
            .query_broker_topic_config(DEF_CLUSTER, DEF_ADDR),
        Some(target)
    );

    // The same address in another cluster is another broker.
    let target1 = dv(20, 200);
    let other = Reg::new("default-cluster-1", DEF_ADDR, "default-broker-1", 1234)
        .ha("127.0.0.1:1001")
        .zone("")
        .acting(Some(false))
        .topic_configs(vec![
            tc("unit-test-0", 16, PERM_RW, 0),
            tc("unit-test-1", 16, PERM_RW, 0),
        ])
        .dv(target1);
    reg_ok(&mut h, &other);
    assert_ne!(
        h.ns.route()
            .query_broker_topic_config(DEF_CLUSTER, DEF_ADDR),
        Some(target1)
    );
    assert_eq!(
        h.ns.route()
            .query_broker_topic_config("default-cluster-1", DEF_ADDR),
        Some(target1)
    );

    unreg_ok(&mut h, &other);
    assert_eq!(
        h.ns.route()
            .query_broker_topic_config(DEF_CLUSTER, DEF_ADDR),
        Some(target)
    );
    assert_eq!(
        h.ns.route()
            .query_broker_topic_config("default-cluster-1", DEF_ADDR),
        None
    );
}

#[test]
fn route_info_manager_test_wipe_write_perm_of_broker_by_lock() {
    let mut h = route_info_manager_test_harness();
    // Java injects {topic-a: {broker-a: perm 6}}; we register it.
    reg_ok(
        &mut h,
        &Reg::new("c", "10.0.0.9:10911", "broker-a", 0).topic_configs(vec![
            tc("topic-a", 8, PERM_RW, 0),
            tc("topic-b", 8, PERM_RW, 0),
        ]),
    );
    h.delete_topic("topic-b", None);
    assert_eq!(h.wipe_write_perm("broker-a"), 1);
    assert_eq!(h.perm("topic-a", "broker-a"), Some(PERM_R));
    assert_eq!(
        h.perm("unit-test0", DEF_BROKER),
        Some(PERM_RW),
        "other groups untouched"
    );
}

#[test]
fn route_info_manager_test_add_write_perm_of_broker_by_lock() {
    let mut h = route_info_manager_test_harness();
    reg_ok(
        &mut h,
        &Reg::new("c", "10.0.0.9:10911", "broker-a", 0).topic_configs(vec![
            tc("topic-a", 8, PERM_RW, 0),
            // PRIORITY | READ | WRITE: ADD resets it to exactly READ | WRITE.
            tc("topic-p", 8, 8 | PERM_RW, 0),
        ]),
    );
    assert_eq!(h.wipe_write_perm("broker-a"), 2);
    assert_eq!(h.perm("topic-a", "broker-a"), Some(PERM_R));
    assert_eq!(h.add_write_perm("broker-a"), 2);
    assert_eq!(h.perm("topic-a", "broker-a"), Some(PERM_RW));
    assert_eq!(h.perm("topic-p", "broker-a"), Some(PERM_RW));
}

#[test]
fn route_info_manager_test_pickup_topic_route_data() {
    let mut h = route_info_manager_test_harness();
    assert!(h.route("unit_test").is_none());
    let r = h.call(
        1,
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "unit_test"),
    );
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    assert_eq!(r.body, None);
    assert_eq!(
        r.remark.as_deref(),
        Some("No topic route info in name server for the topic: unit_test\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.")
    );
}

#[test]
fn route_info_manager_test_get_all_cluster_info() {
    let mut h = route_info_manager_test_harness();
    let r = h.call(
        1,
        RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert!(r.body.is_some());
    let info = h.cluster_info();
    assert_eq!(
        info.cluster_addr_table[DEF_CLUSTER],
        vec![DEF_BROKER.to_string()]
    );
    assert_eq!(
        info.broker_addr_table[DEF_BROKER].broker_addrs,
        BTreeMap::from([(1234, DEF_ADDR.to_string())])
    );
}

#[test]
fn route_info_manager_test_get_all_topic_list() {
    let mut h = route_info_manager_test_harness();
    assert_eq!(
        topic_set(h.all_topics()),
        set_of(&["unit-test0", "unit-test1"])
    );
}

#[test]
fn route_info_manager_test_get_system_topic_list() {
    let mut h = route_info_manager_test_harness();
    let r = h.call(
        1,
        RemotingCommand::request(request::GET_SYSTEM_TOPIC_LIST_FROM_NS),
    );
    assert_eq!(r.code, response::SUCCESS);
    let body = r.body.as_deref().expect("body");
    assert_eq!(
        topic_set(decode_topic_list(body).unwrap()),
        set_of(&[DEF_CLUSTER, DEF_BROKER])
    );
    assert!(
        body_text(&r).contains(&format!("\"brokerAddr\":\"{DEF_ADDR}\"")),
        "{}",
        body_text(&r)
    );
}

#[test]
fn route_info_manager_test_get_topics_by_cluster() {
    let mut h = route_info_manager_test_harness();
    let r = h.call(
        1,
        RemotingCommand::request(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", DEF_CLUSTER),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(
        topic_set(decode_topic_list(r.body.as_deref().unwrap()).unwrap()),
        set_of(&["unit-test0", "unit-test1"])
    );
}

/// A second group whose topics carry the unit flags (1 = UNIT, 2 = UNIT_SUB).
fn register_unit_topics(h: &mut Harness) {
    reg_ok(
        h,
        &Reg::new("c", "10.0.0.9:10911", "unit-broker", 0).topic_configs(vec![
            tc("unit", 8, PERM_RW, 1),
            tc("unit-sub", 8, PERM_RW, 2),
            tc("unit-both", 8, PERM_RW, 3),
        ]),
    );
}

fn unit_list(h: &mut Harness, code: i32) -> BTreeSet<String> {
    let r = h.call(1, RemotingCommand::request(code));
    assert_eq!(r.code, response::SUCCESS, "{code}: {:?}", r.remark);
    topic_set(decode_topic_list(r.body.as_deref().expect("body")).unwrap())
}

#[test]
fn route_info_manager_test_get_unit_topics() {
    let mut h = route_info_manager_test_harness();
    assert!(unit_list(&mut h, request::GET_UNIT_TOPIC_LIST).is_empty());
    register_unit_topics(&mut h);
    assert_eq!(
        unit_list(&mut h, request::GET_UNIT_TOPIC_LIST),
        set_of(&["unit", "unit-both"])
    );
}

#[test]
fn route_info_manager_test_get_has_unit_sub_topic_list() {
    let mut h = route_info_manager_test_harness();
    register_unit_topics(&mut h);
    assert_eq!(
        unit_list(&mut h, request::GET_HAS_UNIT_SUB_TOPIC_LIST),
        set_of(&["unit-sub", "unit-both"])
    );
}

#[test]
fn route_info_manager_test_get_has_unit_sub_un_unit_topic_list() {
    let mut h = route_info_manager_test_harness();
    register_unit_topics(&mut h);
    assert_eq!(
        unit_list(&mut h, request::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST),
        set_of(&["unit-sub"])
    );
}

// =============================================================================================
// §6.3 RouteInfoManagerStaticRegisterTest / BrokerRegisterTest / BrokerPermTest

const S_CLUSTER: &str = "cluster";

fn s_broker(i: usize) -> String {
    format!("broker-{i}")
}

/// `getBrokerAddr(cluster, brokerName, id)`: `cluster-broker-0:1`.
fn s_addr(name: &str, id: i64) -> String {
    format!("{S_CLUSTER}-{name}:{id}")
}

fn s_topic(i: usize) -> String {
    format!("topic-{i}")
}

fn s_topics() -> Vec<TopicConfig> {
    (0..10).map(|i| tc(&s_topic(i), 8, PERM_RW, 0)).collect()
}

/// One fixture member: zone = its address, ha = "", 10-argument overload, no DataVersion in the
/// wrapper (a fresh `new DataVersion()`), empty filter-server list.
fn s_reg(name: &str, id: i64) -> Reg {
    let addr = s_addr(name, id);
    Reg::new(S_CLUSTER, &addr, name, id)
        .zone(&addr)
        .acting(Some(false))
        .topic_configs(s_topics())
        .dv(dv(0, TS))
}

/// `registerCluster(cluster, "broker", 3 names, 3 per name, "topic", 10 topics)`.
fn static_cluster() -> Harness {
    let mut h = Harness::new();
    for i in 0..3 {
        for id in 0..3 {
            reg_ok(&mut h, &s_reg(&s_broker(i), id));
        }
    }
    h
}

fn s_all_topics() -> BTreeSet<String> {
    (0..10).map(s_topic).collect()
}

fn s_all_brokers() -> BTreeSet<String> {
    (0..3).map(s_broker).collect()
}

#[test]
fn route_info_manager_static_register_test_get_all_cluster_info() {
    let mut h = static_cluster();
    let info = h.cluster_info();
    assert_eq!(info.cluster_addr_table.len(), 1);
    let names: BTreeSet<String> = info.cluster_addr_table[S_CLUSTER].iter().cloned().collect();
    assert_eq!(names, s_all_brokers());
    assert_eq!(
        h.ns.route().cluster_addr_table()[S_CLUSTER],
        s_all_brokers()
    );
}

#[test]
fn route_info_manager_static_register_test_get_all_topic_list() {
    let mut h = static_cluster();
    assert_eq!(topic_set(h.all_topics()), s_all_topics());
}

#[test]
fn route_info_manager_static_register_test_get_topics_by_cluster() {
    let mut h = static_cluster();
    let r = h.call(
        1,
        RemotingCommand::request(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", S_CLUSTER),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(
        topic_set(decode_topic_list(r.body.as_deref().unwrap()).unwrap()),
        s_all_topics()
    );
    // Unknown cluster: an empty list, still SUCCESS (spec §7.5 quirk 14).
    let r = h.call(
        1,
        RemotingCommand::request(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", "nope"),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert!(decode_topic_list(r.body.as_deref().unwrap())
        .unwrap()
        .is_empty());
}

#[test]
fn route_info_manager_static_register_test_pickup_topic_route_data() {
    let mut h = static_cluster();
    let r = route(&mut h, &s_topic(0));

    // Broker data, sorted; equality is on the name and the addresses.
    let mut got: Vec<(String, BTreeMap<i64, String>)> = r
        .broker_datas
        .iter()
        .map(|bd| (bd.broker_name.clone(), bd.broker_addrs.clone()))
        .collect();
    got.sort();
    let want: Vec<(String, BTreeMap<i64, String>)> = (0..3)
        .map(|i| {
            let name = s_broker(i);
            let addrs = (0..3).map(|id| (id, s_addr(&name, id))).collect();
            (name, addrs)
        })
        .collect();
    assert_eq!(got, want);
    for bd in &r.broker_datas {
        assert_eq!(bd.cluster, S_CLUSTER);
        // The zone is written by every member's registration: the last one (id 2) wins.
        assert_eq!(
            bd.zone_name.as_deref(),
            Some(s_addr(&bd.broker_name, 2).as_str())
        );
    }

    // Queue data.
    let mut names = BTreeSet::new();
    for qd in &r.queue_datas {
        names.insert(qd.broker_name.clone());
        assert_eq!(
            (
                qd.write_queue_nums,
                qd.read_queue_nums,
                qd.perm,
                qd.topic_sys_flag
            ),
            (8, 8, PERM_RW, 0)
        );
    }
    assert_eq!(names, s_all_brokers());
}

#[test]
fn route_info_manager_static_register_test_delete_topic() {
    let mut h = static_cluster();
    assert_eq!(h.delete_topic(&s_topic(0), None).code, response::SUCCESS);
    assert!(h.route(&s_topic(0)).is_none());
    assert!(h.route(&s_topic(1)).is_some());
}

#[test]
fn route_info_manager_broker_register_test_master_change_from_slave() {
    let mut h = static_cluster();
    let name = s_broker(0);
    let topic = s_topic(0);
    let origin_master = s_addr(&name, 0);
    assert_eq!(
        addrs_in(&route(&mut h, &topic), &name).unwrap()[&0],
        origin_master
    );

    // The address of id 1 registers as id 0 (a fresh DataVersion, as the Java fixture's wrapper).
    let new_master = s_addr(&name, 1);
    let reg = with_id(&s_reg(&name, 1), 0).dv(dv(0, TS + 1));
    assert_eq!(reg.addr, new_master);
    reg_ok(&mut h, &reg);

    let addrs = addrs_in(&route(&mut h, &topic), &name).unwrap();
    assert_eq!(addrs[&0], new_master);
    // Step 5 removed the old <1, addr> entry; the old id-0 address was overwritten.
    assert_eq!(
        addrs,
        BTreeMap::from([(0, new_master), (2, s_addr(&name, 2))])
    );
}

#[test]
fn route_info_manager_broker_register_test_unregister_broker() {
    let mut h = static_cluster();
    let name = s_broker(0);
    unreg_ok(&mut h, &s_reg(&name, 2));
    let addrs = addrs_in(&route(&mut h, &s_topic(0)), &name).unwrap();
    assert!(!addrs.contains_key(&2));
    assert_eq!(keys(&addrs), vec![0, 1]);
}

/// `testScanNotActiveBroker` (each broker made stale in turn, each scan expires exactly one):
/// every broker but one keeps heartbeating; only that one expires.
#[test]
fn route_info_manager_broker_register_test_scan_not_active_broker() {
    let mut h = static_cluster();
    let stale = s_addr(&s_broker(0), 2);
    h.advance(60_000);
    for i in 0..3 {
        let name = s_broker(i);
        for id in 0..3 {
            let addr = s_addr(&name, id);
            if addr != stale {
                assert_eq!(h.heartbeat(S_CLUSTER, &addr, &name).code, response::SUCCESS);
            }
        }
    }
    assert_eq!(h.ns.route().broker_live_table().len(), 9);
    h.advance(60_000);
    assert_eq!(h.ns.route().broker_live_table().len(), 8);
    assert!(!h
        .ns
        .route()
        .broker_live_table()
        .contains_key(&BrokerAddrInfo::new(S_CLUSTER, &stale)));
    let addrs = addrs_in(&route(&mut h, &s_topic(0)), &s_broker(0)).unwrap();
    assert_eq!(keys(&addrs), vec![0, 1]);
}

#[test]
fn route_info_manager_broker_perm_test_wipe_write_perm_of_broker_by_lock() {
    let mut h = static_cluster();
    let name = s_broker(0);
    assert_eq!(h.wipe_write_perm(&name), 10);
    for i in 0..10 {
        assert_eq!(h.perm(&s_topic(i), &name), Some(PERM_R));
        assert_eq!(h.perm(&s_topic(i), &s_broker(1)), Some(PERM_RW));
    }
    // Already read-only: still counted.
    assert_eq!(h.wipe_write_perm(&name), 10);
    assert_eq!(h.perm(&s_topic(0), &name), Some(PERM_R));
}

#[test]
fn route_info_manager_broker_perm_test_add_write_perm_of_broker_by_lock() {
    let mut h = static_cluster();
    let name = s_broker(0);
    h.wipe_write_perm(&name);
    assert_eq!(h.perm(&s_topic(0), &name), Some(PERM_R));
    assert_eq!(h.add_write_perm(&name), 10);
    for i in 0..10 {
        assert_eq!(h.perm(&s_topic(i), &name), Some(PERM_RW));
    }
}
