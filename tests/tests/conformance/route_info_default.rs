//! Spec §6.2: Apache's `RouteInfoManagerTest` (default config).

use super::*;

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
