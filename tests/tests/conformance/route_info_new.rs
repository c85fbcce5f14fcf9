//! Spec §6.1, first half: Apache's `RouteInfoManagerNewTest` (supportActingMaster = true), its
//! fixture and the registration, unregistration and broker-role scenarios.

use super::*;

// =============================================================================================
// §6.1 RouteInfoManagerNewTest (supportActingMaster = true)

pub(super) const C: &str = "Default_Cluster";
pub(super) const B: &str = "Default_Broker";
const A0_HA: &str = "127.0.0.1:20911";
const A1_HA: &str = "127.0.0.1:40911";

pub(super) fn new_test_harness() -> Harness {
    Harness::with_config(|c| c.support_acting_master = true)
}

/// `BrokerBasicInfo.defaultBroker()`: master of B at A0, enableActingMaster = true, DV{1, ts}.
pub(super) fn default_broker() -> Reg {
    Reg::new(C, A0, B, 0)
        .ha(A0_HA)
        .acting(Some(true))
        .dv(dv(1, TS))
}

/// `BrokerBasicInfo.slaveBroker()`: id 1 of B at A1, enableActingMaster = true.
pub(super) fn slave_broker() -> Reg {
    Reg::new(C, A1, B, 1)
        .ha(A1_HA)
        .acting(Some(true))
        .dv(dv(1, TS))
}

pub(super) fn acting(reg: Reg, enable: bool) -> Reg {
    reg.acting(Some(enable))
}

pub(super) fn renamed(reg: Reg, name: &str) -> Reg {
    Reg {
        name: name.into(),
        ..reg
    }
}

/// `registerBrokerWithNormalTopic` / `registerBrokerWithOrderTopic`: `baseTopic` (r = w = 16,
/// perm 6) plus the topics (r = w = 8, perm 6). Order flags never reach the NameServer.
pub(super) fn normal(reg: Reg, names: &[&str]) -> Reg {
    let mut tcs = vec![tc("baseTopic", 16, PERM_RW, 0)];
    tcs.extend(names.iter().map(|n| tc(n, 8, PERM_RW, 0)));
    reg.topic_configs(tcs)
}

/// `registerBrokerWithGlobalOrderTopic`: every topic has r = w = 1.
pub(super) fn global_order(reg: Reg, names: &[&str]) -> Reg {
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
pub(super) fn switch_roles_after_master_is_gone(h: &mut Harness, master: &Reg, slave: &Reg) {
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
