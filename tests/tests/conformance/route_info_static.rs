//! Spec §6.3: `RouteInfoManagerStaticRegisterTest`, `RouteInfoManagerBrokerRegisterTest` and
//! `RouteInfoManagerBrokerPermTest`.

use super::*;

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
        h.ns.route().cluster_addr_table()[S_CLUSTER]
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>(),
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
