//! Spec §6.4–§6.7 and §6.9: the request processors, the zone hook, KV, the extra scenarios
//! derived from code, and our deliberate deviations from Java.

use super::*;

// =============================================================================================
// §6.4 RequestProcessorTest

/// The fixture: default-broker id 1234 (10-argument overload) with unit-test0/1, r = w = 8.
fn request_processor_harness() -> Harness {
    let mut h = Harness::new();
    reg_ok(
        &mut h,
        &Reg::new(DEF_CLUSTER, DEF_ADDR, DEF_BROKER, 1234)
            .ha("127.0.0.1:1001")
            .zone("")
            .acting(Some(false))
            .topic_configs(vec![
                tc("unit-test0", 8, PERM_RW, 0),
                tc("unit-test1", 8, PERM_RW, 0),
            ])
            .dv(dv(0, TS)),
    );
    h
}

/// `getRemotingCommand(code)`: the ext fields every generic request carries.
fn generic_request(code: i32) -> RemotingCommand {
    java_test_request(code)
        .with_ext("brokerName", "broker")
        .with_ext("brokerAddr", "10.10.1.1")
        .with_ext("clusterName", "cluster")
        .with_ext("haServerAddr", "10.10.2.1")
        .with_ext("brokerId", "2333")
        .with_ext("topic", "unit-test0")
}

/// `new TopicConfig()` as fastjson writes it: no topicName (null is omitted), r = w = 16.
const NAMELESS_TOPIC_CONFIG: &str = r#"{"attributes":{},"order":false,"perm":6,"readQueueNums":16,"topicFilterType":"SINGLE_TAG","topicSysFlag":0,"writeQueueNums":16}"#;

/// `genSampleRegisterCmd(reg)`: REGISTER_BROKER (or UNREGISTER_BROKER, without a body) with the
/// generic ext fields, no enableActingMaster (an old broker), version 0.
fn sample_register_cmd(reg: bool) -> RemotingCommand {
    let code = if reg {
        request::REGISTER_BROKER
    } else {
        request::UNREGISTER_BROKER
    };
    let cmd = java_test_request(code)
        .with_ext("brokerName", "broker")
        .with_ext("brokerAddr", "10.10.1.1")
        .with_ext("clusterName", "cluster")
        .with_ext("haServerAddr", "10.10.2.1")
        .with_ext("brokerId", "2333");
    if !reg {
        return cmd;
    }
    // `RegisterBrokerBody{TopicConfigAndMappingSerializeWrapper{unit-test1, unit-test2}}`
    // `.encode(false)`, as fastjson writes it.
    let dv = format!(r#"{{"counter":0,"stateVersion":0,"timestamp":{TS}}}"#);
    let body = format!(
        r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"dataVersion":{dv},"mappingDataVersion":{dv},"topicConfigTable":{{"unit-test1":{NAMELESS_TOPIC_CONFIG},"unit-test2":{NAMELESS_TOPIC_CONFIG}}},"topicQueueMappingDetailMap":{{}},"topicQueueMappingInfoMap":{{}}}}}}"#
    );
    with_body_and_crc(cmd, body.into_bytes())
}

fn assert_sample_broker_registered(h: &Harness) {
    let bd = &h.ns.route().broker_addr_table()["broker"];
    assert_eq!(bd.broker_name, "broker");
    assert_eq!(
        bd.broker_addrs,
        BTreeMap::from([(2333, "10.10.1.1".to_string())])
    );
    // An old broker (no enableActingMaster) with a non-zero id creates no topics.
    assert!(h
        .ns
        .route()
        .topic_queue_table()
        .values()
        .all(|m| !m.contains_key("broker")));
}

#[test]
fn request_processor_test_process_request_put_kv_config() {
    let mut h = request_processor_harness();
    let r = h.call(
        1,
        java_test_request(request::PUT_KV_CONFIG)
            .with_ext("namespace", "namespace")
            .with_ext("key", "key")
            .with_ext("value", "value"),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(r.remark, None);
    assert_eq!(h.ns.kv().get("namespace", "key"), Some("value"));
}

#[test]
fn request_processor_test_process_request_get_kv_config_return_not_null() {
    let mut h = request_processor_harness();
    h.call(
        1,
        java_test_request(request::PUT_KV_CONFIG)
            .with_ext("namespace", "namespace")
            .with_ext("key", "key")
            .with_ext("value", "value"),
    );
    let r = h.call(
        1,
        java_test_request(request::GET_KV_CONFIG)
            .with_ext("namespace", "namespace")
            .with_ext("key", "key"),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(r.remark, None);
    assert_eq!(r.ext("value"), Some("value"));
}

#[test]
fn request_processor_test_process_request_get_kv_config_return_null() {
    let mut h = request_processor_harness();
    let r = h.call(
        1,
        java_test_request(request::GET_KV_CONFIG)
            .with_ext("namespace", "namespace")
            .with_ext("key", "key"),
    );
    assert_eq!(r.code, response::QUERY_NOT_FOUND);
    assert_eq!(
        r.remark.as_deref(),
        Some("No config item, Namespace: namespace Key: key")
    );
    assert_eq!(r.ext("value"), None);
}

#[test]
fn request_processor_test_process_request_delete_kv_config() {
    let mut h = request_processor_harness();
    h.call(
        1,
        java_test_request(request::PUT_KV_CONFIG)
            .with_ext("namespace", "namespace")
            .with_ext("key", "key")
            .with_ext("value", "value"),
    );
    let r = h.call(
        1,
        java_test_request(request::DELETE_KV_CONFIG)
            .with_ext("namespace", "namespace")
            .with_ext("key", "key"),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(r.remark, None);
    assert_eq!(h.ns.kv().get("namespace", "key"), None);
}

#[test]
fn request_processor_test_process_request_unsupported_request() {
    let mut h = request_processor_harness();
    let r = h.call(1, java_test_request(99999));
    assert_eq!(r.code, response::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(
        r.remark.as_deref(),
        Some(" request type 99999 not supported")
    );
}

#[test]
fn request_processor_test_update_config_allowed() {
    let mut h = request_processor_harness();
    // MixAll.properties2String({enableTopicList=false})
    let r = h.update_config("enableTopicList=false\n");
    assert_eq!(r.code, response::SUCCESS);
    assert!(!h.ns.config().enable_topic_list);
    let r = h.update_config("enableTopicList=true\n");
    assert_eq!(r.code, response::SUCCESS);
    assert!(h.ns.config().enable_topic_list);
}

#[test]
fn request_processor_test_update_config_blacklist() {
    let mut h = request_processor_harness();
    let before = h.get_config();
    for body in [
        "configStorePath=test/path\n",
        "kvConfigPath=test/path\n",
        "configBlackList=test;path\n",
        "rocketmqHome=/tmp\n",
        // One blacklisted key refuses the whole request.
        "enableTopicList=false\nkvConfigPath=test/path\n",
    ] {
        let r = h.update_config(body);
        assert_eq!(r.code, response::NO_PERMISSION, "{body:?}");
        assert!(
            r.remark
                .as_deref()
                .unwrap_or_default()
                .contains("Can not update config in black list."),
            "{body:?}: {:?}",
            r.remark
        );
    }
    assert_eq!(h.get_config(), before, "nothing applied");
    assert!(h.ns.config().enable_topic_list);
}

#[test]
fn request_processor_test_update_config_unknown_key() {
    let mut h = request_processor_harness();
    let before = h.get_config();
    // `propertiesMap.toString()` of {key=value}.
    let r = h.update_config("{key=value}");
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(h.get_config(), before, "an unknown key is ignored");
}

#[test]
fn request_processor_test_get_config() {
    let mut h = request_processor_harness();
    let text = h.get_config();
    assert!(text.contains("enableTopicList=true\n"), "{text}");
    assert!(text.contains("listenPort=9876\n"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "sorted by key");
}

#[test]
fn request_processor_test_process_request_register_broker() {
    let mut h = request_processor_harness();
    let cmd = sample_register_cmd(true);
    assert_eq!(
        cmd.version, 0,
        "the legacy TopicConfigSerializeWrapper path"
    );
    let r = h.call(1, cmd);
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert_eq!(r.remark, None);
    assert_sample_broker_registered(&h);
}

#[test]
fn request_processor_test_process_request_register_broker_with_filter_server() {
    let mut h = request_processor_harness();
    let mut cmd = sample_register_cmd(true);
    // version >= V3_0_11: the body is a RegisterBrokerBody.
    cmd.version = 100;
    let r = h.call(1, cmd);
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert_eq!(r.remark, None);
    assert_sample_broker_registered(&h);
}

#[test]
fn request_processor_test_process_request_unregister_broker() {
    let mut h = request_processor_harness();
    assert_eq!(h.call(1, sample_register_cmd(true)).code, response::SUCCESS);
    let r = h.call(1, sample_register_cmd(false));
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(r.remark, None);
    // Java: still non-empty right after (async). Here the unregister is already applied
    // (deviation 1); only the fixture's group is left.
    let names: Vec<&String> = h.ns.route().broker_addr_table().keys().collect();
    assert_eq!(names, vec![DEF_BROKER]);
}

#[test]
fn request_processor_test_get_all_topic_list() {
    let mut h = request_processor_harness();
    assert!(h.ns.config().enable_all_topic_list);
    let r = h.call(
        1,
        java_test_request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(r.remark, None);
    assert_eq!(
        topic_set(decode_topic_list(r.body.as_deref().unwrap()).unwrap()),
        set_of(&["unit-test0", "unit-test1"])
    );

    assert_eq!(
        h.update_config("enableAllTopicList=false\n").code,
        response::SUCCESS
    );
    let r = h.call(
        1,
        java_test_request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
    );
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("disable"));
}

#[test]
fn request_processor_test_get_route_info_by_topic() {
    let mut h = request_processor_harness();
    let r = h.call(1, generic_request(request::GET_ROUTEINFO_BY_TOPIC));
    assert_eq!(r.code, response::SUCCESS);
    // Version 0: the legacy dialect, unquoted Long keys.
    assert!(
        body_text(&r).contains(&format!("{{1234:\"{DEF_ADDR}\"}}")),
        "{}",
        body_text(&r)
    );

    let r = h.call(
        1,
        generic_request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "test"),
    );
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    assert_eq!(r.body, None);
}

/// 106, 322, 901, 904, 327, 205, 206, 216, 304, 311, 312, 313 and 319 with the generic ext
/// fields all answer SUCCESS.
#[test]
fn request_processor_test_generic_requests_succeed() {
    let mut h = request_processor_harness();
    for code in [
        request::GET_BROKER_CLUSTER_INFO,
        request::QUERY_DATA_VERSION,
        request::GET_BROKER_MEMBER_GROUP,
        request::BROKER_HEARTBEAT,
        request::ADD_WRITE_PERM_OF_BROKER,
        request::WIPE_WRITE_PERM_OF_BROKER,
        request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
        request::DELETE_TOPIC_IN_NAMESRV,
        request::GET_SYSTEM_TOPIC_LIST_FROM_NS,
        request::GET_UNIT_TOPIC_LIST,
        request::GET_HAS_UNIT_SUB_TOPIC_LIST,
        request::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST,
        request::GET_NAMESRV_CONFIG,
    ] {
        let r = h.call(1, generic_request(code).with_ext("cluster", DEF_CLUSTER));
        assert_eq!(
            r.code,
            response::SUCCESS,
            "code {code} ({}): {:?}",
            request::name(code),
            r.remark
        );
    }
    // None of them touched the fixture: "broker" / "cluster" are unknown names.
    assert_eq!(h.perm("unit-test0", DEF_BROKER), Some(PERM_RW));
    assert!(h.route("unit-test0").is_some());
}

#[test]
fn request_processor_test_wipe_write_perm_of_broker() {
    let mut h = request_processor_harness();
    let r = h.call(1, generic_request(request::WIPE_WRITE_PERM_OF_BROKER));
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(r.ext("wipeTopicCount"), Some("0"), "no group named broker");
    let r = h.call(
        1,
        generic_request(request::WIPE_WRITE_PERM_OF_BROKER).with_ext("brokerName", DEF_BROKER),
    );
    assert_eq!(r.ext("wipeTopicCount"), Some("2"));
    assert_eq!(h.perm("unit-test0", DEF_BROKER), Some(PERM_R));
}

#[test]
fn request_processor_test_delete_topic_in_namesrv() {
    let mut h = request_processor_harness();
    // clusterName "cluster" is unknown: nothing is deleted.
    let r = h.call(1, generic_request(request::DELETE_TOPIC_IN_NAMESRV));
    assert_eq!(r.code, response::SUCCESS);
    assert!(h.route("unit-test0").is_some());
    let r = h.call(
        1,
        generic_request(request::DELETE_TOPIC_IN_NAMESRV).with_ext("clusterName", DEF_CLUSTER),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert!(h.route("unit-test0").is_none());
    assert!(h.route("unit-test1").is_some());
}

#[test]
fn request_processor_test_get_kv_list_by_namespace() {
    let mut h = request_processor_harness();
    let req = generic_request(request::GET_KVLIST_BY_NAMESPACE)
        .with_ext("namespace", "default-namespace-1");
    let r = h.call(1, req.clone());
    assert_eq!(r.code, response::QUERY_NOT_FOUND);
    assert_eq!(
        r.remark.as_deref(),
        Some("No config item, Namespace: default-namespace-1")
    );
    h.call(
        1,
        java_test_request(request::PUT_KV_CONFIG)
            .with_ext("namespace", "default-namespace-1")
            .with_ext("key", "key")
            .with_ext("value", "value"),
    );
    let r = h.call(1, req);
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(
        decode_kv_table(r.body.as_deref().unwrap()).unwrap(),
        BTreeMap::from([("key".to_string(), "value".to_string())])
    );
}

#[test]
fn request_processor_test_get_topics_by_cluster() {
    let mut h = request_processor_harness();
    let r = h.call(
        1,
        generic_request(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", DEF_CLUSTER),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(
        topic_set(decode_topic_list(r.body.as_deref().unwrap()).unwrap()),
        set_of(&["unit-test0", "unit-test1"])
    );
}

// =============================================================================================
// §6.5 ClientRequestProcessor: needWaitForService (cluster-test mode is not supported)

fn waiting_harness(need_wait: bool, wait_seconds: i32) -> Harness {
    let mut h = Harness::with_config(|c| {
        c.need_wait_for_service = need_wait;
        c.wait_seconds_for_service = wait_seconds;
    });
    // Registration is never held back by the startup wait.
    reg_ok(
        &mut h,
        &Reg::new("c", "10.0.0.1:10911", "b", 0).topics(&["rocketmq-topic-test", "x"]),
    );
    h
}

fn ask_route(h: &mut Harness, topic: &str) -> RemotingCommand {
    h.call(
        1,
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic),
    )
}

#[test]
fn cluster_test_request_processor_test_namesrv_ready() {
    let mut h = waiting_harness(true, 0);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

#[test]
fn cluster_test_request_processor_test_namesrv_no_need_wait_for_service() {
    let mut h = waiting_harness(false, 45);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

#[test]
fn cluster_test_request_processor_test_namesrv_not_ready() {
    let mut h = waiting_harness(true, 45);
    let r = ask_route(&mut h, "rocketmq-topic-test");
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("name server not ready"));
    assert_eq!(r.body, None);
    // The wait comes before the lookup: unknown topics get the same answer.
    assert_eq!(ask_route(&mut h, "unknown").code, response::SYSTEM_ERROR);
    // Ready exactly when 45 s have passed since start.
    h.advance(44_999);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SYSTEM_ERROR
    );
    h.advance(1);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

#[test]
fn cluster_test_request_processor_test_namesrv() {
    let mut h = waiting_harness(true, 3);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SYSTEM_ERROR
    );
    h.advance(4_000);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

fn client_processor_harness() -> Harness {
    let mut h = Harness::new();
    reg_ok(
        &mut h,
        &Reg::new("default-cluster", "127.0.0.1:10911", "broker-a", 0)
            .topic_configs(vec![tc("TestTopic", 4, PERM_RW, 0), tc("x", 4, PERM_RW, 0)]),
    );
    h
}

#[test]
fn client_request_processor_test_get_route_info_by_topic_with_high_version_client() {
    let mut h = client_processor_harness();
    let mut cmd =
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "TestTopic");
    cmd.version = 401; // V4_9_4
    let r = h.call(1, cmd);
    assert_eq!(r.code, response::SUCCESS);
    assert!(body_text(&r).contains(r#""brokerAddrs":{"0":"127.0.0.1:10911"}"#));
}

/// Java: `...WithLowVersionClientAndNoStandardJsonFlag`.
#[test]
fn client_request_processor_test_get_route_info_by_topic_with_low_version_client() {
    let mut h = client_processor_harness();
    let mut cmd = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
        .with_ext("topic", "TestTopic")
        .with_ext("acceptStandardJsonOnly", "false");
    cmd.version = 400; // V4_9_3
    let r = h.call(1, cmd);
    assert_eq!(r.code, response::SUCCESS);
    assert!(body_text(&r).contains(r#""brokerAddrs":{0:"127.0.0.1:10911"}"#));
}

#[test]
fn client_request_processor_test_get_route_info_by_topic_with_name_server_not_ready() {
    let mut h = Harness::with_config(|c| {
        c.need_wait_for_service = true;
        c.wait_seconds_for_service = 60;
    });
    let r = ask_route(&mut h, "TestTopic");
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("name server not ready"));
}

#[test]
fn client_request_processor_test_get_route_info_by_topic_with_topic_not_exist() {
    let mut h = client_processor_harness();
    let r = ask_route(&mut h, "NonExistentTopic");
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    assert!(r
        .remark
        .as_deref()
        .unwrap()
        .starts_with("No topic route info in name server for the topic: NonExistentTopic\n"));
}

// =============================================================================================
// §6.6 ZoneRouteRPCHookTest / ZoneRouteRPCHookMoreTest

const ZONE_A: &str = "127.0.0.1:10911";
const ZONE_B: &str = "127.0.0.1:10912";
const ZONE_D: &str = "127.0.0.1:10913";

/// BrokerA (zone1, master), BrokerB (zone2, master), BrokerD (zone2, a slave only); each address
/// has a filter server so the filter-server table is not empty.
fn zone_harness() -> Harness {
    let mut h = Harness::new();
    reg_ok(
        &mut h,
        &Reg::new("c", ZONE_A, "BrokerA", 0)
            .zone("zone1")
            .filter_servers(&["fs-a:1"])
            .topics(&["T", "x"]),
    );
    reg_ok(
        &mut h,
        &Reg::new("c", ZONE_B, "BrokerB", 0)
            .zone("zone2")
            .filter_servers(&["fs-b:1"])
            .topics(&["T", "x"]),
    );
    reg_ok(
        &mut h,
        &Reg::new("c", ZONE_D, "BrokerD", 1)
            .zone("zone2")
            .filter_servers(&["fs-d:1"])
            .topics(&["T", "x"]),
    );
    h
}

fn zone_route_request(topic: &str, ext: &[(&str, &str)]) -> RemotingCommand {
    let mut cmd =
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic);
    for (k, v) in ext {
        cmd = cmd.with_ext(k, *v);
    }
    cmd
}

fn broker_names(r: &TopicRouteData) -> BTreeSet<String> {
    r.broker_datas
        .iter()
        .map(|b| b.broker_name.clone())
        .collect()
}

fn queue_names(r: &TopicRouteData) -> BTreeSet<String> {
    r.queue_datas
        .iter()
        .map(|q| q.broker_name.clone())
        .collect()
}

fn decoded(r: &RemotingCommand) -> TopicRouteData {
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    TopicRouteData::decode(r.body.as_deref().expect("body")).expect("route body")
}

#[test]
fn zone_route_rpc_hook_test_do_after_response_with_no_zone_mode() {
    let mut h = zone_harness();
    let all = set_of(&["BrokerA", "BrokerB", "BrokerD"]);
    // Not a route query: untouched.
    let r = h.call(
        1,
        RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO)
            .with_ext("__ZONE_MODE", "true")
            .with_ext("__ZONE_NAME", "zone1"),
    );
    assert_eq!(r.code, response::SUCCESS);
    assert!(body_text(&r).contains("BrokerB"));
    // __ZONE_MODE false: untouched.
    let r = decoded(&h.call(
        1,
        zone_route_request("T", &[("__ZONE_MODE", "false"), ("__ZONE_NAME", "zone1")]),
    ));
    assert_eq!(broker_names(&r), all);
    assert_eq!(r.filter_server_table.len(), 3);
}

#[test]
fn zone_route_rpc_hook_test_do_after_response_with_no_zone_name() {
    let mut h = zone_harness();
    let all = set_of(&["BrokerA", "BrokerB", "BrokerD"]);
    for ext in [
        vec![("__ZONE_MODE", "true")],
        vec![("__ZONE_MODE", "true"), ("__ZONE_NAME", "  ")],
    ] {
        let r = decoded(&h.call(1, zone_route_request("T", &ext)));
        assert_eq!(broker_names(&r), all, "{ext:?}");
        assert_eq!(queue_names(&r), all, "{ext:?}");
    }
}

#[test]
fn zone_route_rpc_hook_test_do_after_response_with_no_response() {
    let mut h = zone_harness();
    // A non-SUCCESS answer is left alone: still 17 and no body.
    let r = h.call(
        1,
        zone_route_request("nope", &[("__ZONE_MODE", "true"), ("__ZONE_NAME", "zone1")]),
    );
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    assert_eq!(r.body, None);
}

/// The hook's filter itself, on the Java test's hand-built route (C has no addresses: Java's
/// `null` map cannot exist here, an empty one is the closest).
#[test]
fn zone_route_rpc_hook_test_do_after_response_with_valid_zone_filtering() {
    let bd = |name: &str, zone: &str, addrs: &[(i64, &str)]| BrokerData {
        cluster: String::new(),
        broker_name: name.into(),
        broker_addrs: addrs.iter().map(|(i, a)| (*i, a.to_string())).collect(),
        zone_name: Some(zone.into()),
        enable_acting_master: false,
    };
    let qd = |name: &str| QueueData {
        broker_name: name.into(),
        read_queue_nums: 8,
        write_queue_nums: 8,
        perm: PERM_RW,
        topic_sys_flag: 0,
    };
    let mut route = TopicRouteData {
        broker_datas: vec![
            bd("BrokerA", "zone1", &[(0, ZONE_A)]),
            bd("BrokerB", "zone2", &[(0, ZONE_B)]),
            bd("BrokerC", "zone1", &[]),
        ],
        queue_datas: vec![qd("BrokerA"), qd("BrokerB")],
        filter_server_table: BTreeMap::from([
            (ZONE_A.to_string(), vec![]),
            (ZONE_B.to_string(), vec![]),
        ]),
        ..Default::default()
    };
    filter_by_zone(&mut route, "zone1");
    assert_eq!(route.filter_server_table.len(), 1);
    assert!(route.filter_server_table.contains_key(ZONE_A));
    assert_eq!(queue_names(&route), set_of(&["BrokerA"]));
    assert!(!broker_names(&route).contains("BrokerB"));
    assert!(broker_names(&route).contains("BrokerA"));
}

#[test]
fn zone_route_rpc_hook_more_test_filter_by_zone_name_valid_input_should_filter_correctly() {
    let mut h = zone_harness();
    for zone in ["zone1", "ZONE1"] {
        let r = h.call(
            1,
            zone_route_request("T", &[("__ZONE_MODE", "true"), ("__ZONE_NAME", zone)]),
        );
        // The hook re-encodes in the legacy dialect, even for a 5.x client.
        assert!(
            body_text(&r).contains(&format!("{{0:\"{ZONE_A}\"}}")),
            "{}",
            body_text(&r)
        );
        let route = decoded(&r);
        // B (zone2, with a master) goes with its queue data and filter servers; D has no
        // master and stays.
        assert_eq!(
            broker_names(&route),
            set_of(&["BrokerA", "BrokerD"]),
            "{zone}"
        );
        assert_eq!(
            queue_names(&route),
            set_of(&["BrokerA", "BrokerD"]),
            "{zone}"
        );
        let fs: BTreeSet<&str> = route
            .filter_server_table
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fs, BTreeSet::from([ZONE_A, ZONE_D]), "{zone}");
    }
}

#[test]
fn zone_route_rpc_hook_more_test_filter_by_zone_name_zone_mode_false_should_not_filter() {
    let mut h = zone_harness();
    let r = decoded(&h.call(
        1,
        zone_route_request("T", &[("__ZONE_MODE", "false"), ("__ZONE_NAME", "zone1")]),
    ));
    assert_eq!(r.broker_datas.len(), 3);
    assert_eq!(r.queue_datas.len(), 3);
}

// =============================================================================================
// §6.7 KVConfigManagerTest / KVConfigSerializeWrapperTest

fn put_kv(h: &mut Harness, ns: &str, key: &str, value: &str) -> RemotingCommand {
    h.call(
        1,
        RemotingCommand::request(request::PUT_KV_CONFIG)
            .with_ext("namespace", ns)
            .with_ext("key", key)
            .with_ext("value", value),
    )
}

fn get_kv(h: &mut Harness, ns: &str, key: &str) -> RemotingCommand {
    h.call(
        1,
        RemotingCommand::request(request::GET_KV_CONFIG)
            .with_ext("namespace", ns)
            .with_ext("key", key),
    )
}

fn kv_list(h: &mut Harness, ns: &str) -> RemotingCommand {
    h.call(
        1,
        RemotingCommand::request(request::GET_KVLIST_BY_NAMESPACE).with_ext("namespace", ns),
    )
}

#[test]
fn kv_config_manager_test_put_kv_config() {
    let mut h = Harness::new();
    let r = put_kv(&mut h, NAMESPACE_ORDER_TOPIC_CONFIG, "UnitTest", "test");
    assert_eq!(r.code, response::SUCCESS);

    let r = kv_list(&mut h, NAMESPACE_ORDER_TOPIC_CONFIG);
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(
        decode_kv_table(r.body.as_deref().expect("body")).unwrap(),
        BTreeMap::from([("UnitTest".to_string(), "test".to_string())])
    );
    assert_eq!(
        get_kv(&mut h, NAMESPACE_ORDER_TOPIC_CONFIG, "UnitTest").ext("value"),
        Some("test")
    );
    // Every put is persisted.
    assert!(h.effects.iter().any(|e| matches!(
        e,
        namesrv_core::Effect::PersistKv { json } if json.contains(r#""UnitTest":"test""#)
    )));
    // And a broker's registration returns the ORDER_TOPIC_CONFIG table.
    let reply = reg_ok(
        &mut h,
        &Reg::new("c", "10.0.0.1:1", "b", 0).topics(&["T", "U"]),
    );
    assert_eq!(
        decode_kv_table(reply.body.as_deref().expect("order conf")).unwrap()["UnitTest"],
        "test"
    );
}

#[test]
fn kv_config_manager_test_delete_kv_config() {
    let mut h = Harness::new();
    let r = h.call(
        1,
        RemotingCommand::request(request::DELETE_KV_CONFIG)
            .with_ext("namespace", NAMESPACE_ORDER_TOPIC_CONFIG)
            .with_ext("key", "UnitTest"),
    );
    assert_eq!(r.code, response::SUCCESS);
    // The namespace never existed.
    assert_eq!(
        kv_list(&mut h, NAMESPACE_ORDER_TOPIC_CONFIG).code,
        response::QUERY_NOT_FOUND
    );
    assert_eq!(
        get_kv(&mut h, NAMESPACE_ORDER_TOPIC_CONFIG, "UnitTest").code,
        response::QUERY_NOT_FOUND
    );

    // Once created, a namespace outlives its last key (spec §7.5 quirk 15).
    put_kv(&mut h, NAMESPACE_ORDER_TOPIC_CONFIG, "UnitTest", "test");
    h.call(
        1,
        RemotingCommand::request(request::DELETE_KV_CONFIG)
            .with_ext("namespace", NAMESPACE_ORDER_TOPIC_CONFIG)
            .with_ext("key", "UnitTest"),
    );
    let r = kv_list(&mut h, NAMESPACE_ORDER_TOPIC_CONFIG);
    assert_eq!(r.code, response::SUCCESS);
    assert!(decode_kv_table(r.body.as_deref().unwrap())
        .unwrap()
        .is_empty());
}

#[test]
fn kv_config_serialize_wrapper_test_encode_and_decode() {
    let mut kv = KvConfig::new();
    for (k, v) in [
        ("broker-name", "default-broker"),
        ("topic-name", "default-topic"),
        ("cid", "default-consumer-name"),
    ] {
        kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, k, Some(v));
    }
    let json = kv.to_json();
    assert_eq!(
        json,
        r#"{"configTable":{"ORDER_TOPIC_CONFIG":{"broker-name":"default-broker","cid":"default-consumer-name","topic-name":"default-topic"}}}"#
    );
    let back = KvConfig::from_json(json.as_bytes()).unwrap();
    assert_eq!(back, kv);
    assert_eq!(
        back.get(NAMESPACE_ORDER_TOPIC_CONFIG, "broker-name"),
        Some("default-broker")
    );
    assert_eq!(
        back.get(NAMESPACE_ORDER_TOPIC_CONFIG, "topic-name"),
        Some("default-topic")
    );
    assert_eq!(
        back.get(NAMESPACE_ORDER_TOPIC_CONFIG, "cid"),
        Some("default-consumer-name")
    );
    // What fastjson writes (HashMap order) decodes to the same.
    let java = r#"{"configTable":{"ORDER_TOPIC_CONFIG":{"topic-name":"default-topic","broker-name":"default-broker","cid":"default-consumer-name"}}}"#;
    assert_eq!(KvConfig::from_json(java.as_bytes()).unwrap(), kv);
}

// =============================================================================================
// §6.9 Extra scenarios derived from code

fn with_state_version(reg: Reg, state_version: i64) -> Reg {
    let mut r = reg;
    r.dv.state_version = state_version;
    r
}

#[test]
fn extra_fencing() {
    let mut h = Harness::new();
    let x = with_state_version(
        Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]),
        5,
    );
    reg_ok(&mut h, &x);
    // Y first registers as a slave, then claims id 0 with an older state version.
    let y = with_state_version(
        Reg::new("C", "10.0.0.2:10911", "B", 1).topics(&["T", "U"]),
        3,
    );
    reg_ok(&mut h, &y);
    assert!(h
        .ns
        .route()
        .broker_live_table()
        .contains_key(&BrokerAddrInfo::new("C", &y.addr)));

    let r = reg_ok(&mut h, &with_id(&y, 0));
    assert_eq!(
        r.ext_fields,
        Some(BTreeMap::new()),
        "SUCCESS with an empty header"
    );
    let bd = &h.ns.route().broker_addr_table()["B"];
    assert_eq!(bd.broker_addrs, BTreeMap::from([(0, x.addr.clone())]));
    assert!(!h
        .ns
        .route()
        .broker_live_table()
        .contains_key(&BrokerAddrInfo::new("C", &y.addr)));
    assert!(h
        .ns
        .route()
        .broker_live_table()
        .contains_key(&BrokerAddrInfo::new("C", &x.addr)));

    // A newer (or equal) state version takes over.
    reg_ok(&mut h, &with_state_version(with_id(&y, 0), 5));
    assert_eq!(
        h.ns.route().broker_addr_table()["B"].broker_addrs,
        BTreeMap::from([(0, y.addr.clone())])
    );
}

#[test]
fn extra_single_topic_guard() {
    let mut h = Harness::new();
    let r = h.register(&Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T"]));
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("register broker failed"));
    assert!(h.route("T").is_none());

    // After a full registration the same id may register a single topic (incremental).
    reg_ok(
        &mut h,
        &Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]),
    );
    reg_ok(
        &mut h,
        &Reg::new("C", "10.0.0.1:10911", "B", 0)
            .topics(&["V"])
            .dv(dv(2, 1000)),
    );
    assert!(h.route("V").is_some());

    // A new id of a known group is still refused with one topic.
    let r = h.register(&Reg::new("C", "10.0.0.2:10911", "B", 1).topics(&["T"]));
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(
        keys(&h.ns.route().broker_addr_table()["B"].broker_addrs),
        vec![0]
    );
}

#[test]
fn extra_crc() {
    let mut h = Harness::new();
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]);

    let r = h.call(1, reg.command().with_ext("bodyCrc32", "12345"));
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("crc32 not match"));
    assert!(h.ns.route().broker_addr_table().is_empty());

    // A non-zero CRC with no body fails too (the CRC of nothing is 0).
    let mut no_body = reg.command().with_ext("bodyCrc32", "1");
    no_body.body = None;
    assert_eq!(
        h.call(1, no_body).remark.as_deref(),
        Some("crc32 not match")
    );

    // bodyCrc32 = 0 skips the check.
    let unchecked = Reg {
        with_crc: false,
        ..reg.clone()
    };
    assert_eq!(unchecked.command().ext("bodyCrc32"), Some("0"));
    reg_ok(&mut h, &unchecked);
    assert!(h.route("T").is_some());

    // And a correct CRC passes.
    reg_ok(&mut h, &reg);
}

#[test]
fn extra_dv_gate() {
    let mut h = Harness::new();
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]);
    reg_ok(&mut h, &reg);
    assert_eq!(h.perm("T", "B"), Some(PERM_RW));
    h.wipe_write_perm("B");
    assert_eq!(h.perm("T", "B"), Some(PERM_R));
    // Same DV: existing queue data are not refreshed.
    reg_ok(&mut h, &reg);
    assert_eq!(h.perm("T", "B"), Some(PERM_R));
    // New DV: the broker's perm is re-applied.
    reg_ok(&mut h, &next_version(&reg));
    assert_eq!(h.perm("T", "B"), Some(PERM_RW));
}

#[test]
fn extra_legacy_vs_standard_json() {
    let mut h = Harness::new();
    reg_ok(
        &mut h,
        &Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]),
    );
    reg_ok(
        &mut h,
        &Reg::new("C", "10.0.0.2:10911", "B", 1).topics(&["T", "U"]),
    );
    let ask = |h: &mut Harness, version: i32, accept: Option<&str>| {
        let mut cmd =
            RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T");
        if let Some(a) = accept {
            cmd = cmd.with_ext("acceptStandardJsonOnly", a);
        }
        cmd.version = version;
        let r = h.call(1, cmd);
        assert_eq!(r.code, response::SUCCESS);
        body_text(&r)
    };
    let legacy = ask(&mut h, 400, None);
    assert!(
        legacy.contains(r#""brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}"#),
        "{legacy}"
    );
    for (version, accept) in [(401, None), (479, None), (400, Some("true"))] {
        let std = ask(&mut h, version, accept);
        assert!(
            std.contains(r#""brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"}"#),
            "{version} {accept:?}: {std}"
        );
        // Standard JSON parses as JSON.
        serde_json::from_str::<serde_json::Value>(&std).expect("standard JSON");
    }
    assert!(serde_json::from_str::<serde_json::Value>(&legacy).is_err());
    assert!(ask(&mut h, 400, Some("false")).contains("{0:\""));
}

#[test]
fn extra_compressed_body() {
    let mut h = Harness::new();
    let flagged = tc("T", 8, PERM_RW, 1);
    // A 4.9.x broker: version < 413, compressed = true, no mapping section.
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0)
        .topic_configs(vec![flagged.clone(), tc("U", 4, 4, 0)])
        .acting(None)
        .version(400)
        .compressed(true);
    let cmd = reg.command();
    assert_eq!(cmd.ext("compressed"), Some("true"));
    assert_eq!(cmd.body.as_deref().unwrap()[0], 0x78, "a zlib stream");
    reg_ok(&mut h, &reg);

    let r = route(&mut h, "T");
    let qd = &r.queue_datas[0];
    assert_eq!(
        (qd.read_queue_nums, qd.write_queue_nums, qd.perm),
        (8, 8, PERM_RW)
    );
    assert_eq!(qd.topic_sys_flag, 0, "not carried in the compressed form");
    assert_eq!(route(&mut h, "U").queue_datas[0].perm, 4);
    assert_eq!(r.topic_queue_mapping_by_broker, None);

    // Uncompressed, the flag is carried.
    reg_ok(
        &mut h,
        &Reg::new("C", "10.0.0.2:10911", "B2", 0).topic_configs(vec![flagged, tc("U", 4, 4, 0)]),
    );
    assert_eq!(
        h.ns.route().topic_queue_table()["T"]["B2"].topic_sys_flag,
        1
    );
}

#[test]
fn extra_oneway_query_data_version() {
    let mut h = Harness::new();
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]);
    reg_ok(&mut h, &reg);
    let key = BrokerAddrInfo::new("C", &reg.addr);
    h.advance(60_000);

    let mut cmd = Harness::query_data_version_cmd("C", &reg.addr, "B", 0, Some(reg.dv));
    cmd.flag |= flag::ONEWAY;
    assert!(
        h.send(conn_of(&reg.addr), cmd).is_none(),
        "no response frame"
    );
    assert_eq!(h.ns.route().broker_live_table()[&key].last_update, h.now);

    // The original deadline passes; the refreshed one does not.
    h.advance(60_000);
    assert!(h.route("T").is_some());
    h.advance(60_000);
    assert!(h.route("T").is_none());
}

// =============================================================================================
// Deliberate deviations from Java

/// Deviation 1: UNREGISTER_BROKER is applied before SUCCESS is returned (Java queues it).
#[test]
fn deviation_unregister_applies_before_reply() {
    let mut h = Harness::new();
    assert_eq!(h.call(1, sample_register_cmd(true)).code, response::SUCCESS);
    assert!(!h.ns.route().broker_addr_table().is_empty());
    let r = h.call(1, sample_register_cmd(false));
    assert_eq!(r.code, response::SUCCESS);
    assert!(h.ns.route().broker_addr_table().is_empty());
    assert!(h.ns.route().cluster_addr_table().is_empty());
    assert!(h.ns.route().broker_live_table().is_empty());
}

/// Deviation 2a: A close only removes live entries still registered on that connection
/// (apache/rocketmq#11043).
#[test]
fn deviation_close_of_stale_connection_keeps_reregistered_broker() {
    let mut h = Harness::new();
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]);
    assert_eq!(h.register_on(101, &reg).unwrap().code, response::SUCCESS);
    // The broker reconnects and registers again before the old connection's close is seen.
    assert_eq!(h.register_on(102, &reg).unwrap().code, response::SUCCESS);
    h.close(101);
    assert!(h.route("T").is_some(), "the fresh registration survives");
    h.close(102);
    assert!(h.route("T").is_none());
}

/// Deviation 2c: a registration delayed on an older connection (the broker timed out,
/// reconnected and registered again, then the old frame and the old connection's close arrive)
/// neither takes the registration back to the old connection nor lets its close remove the
/// broker. Found by the madsim harness (seed 3); Java has the same flaw.
#[test]
fn deviation_late_frame_on_old_connection_keeps_broker() {
    let mut h = Harness::new();
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]);
    assert_eq!(h.register_on(101, &reg).unwrap().code, response::SUCCESS);
    assert_eq!(h.register_on(102, &reg).unwrap().code, response::SUCCESS);
    // The delayed frame on the old connection arrives, then that connection's close.
    assert_eq!(h.register_on(101, &reg).unwrap().code, response::SUCCESS);
    h.close(101);
    assert!(
        h.route("T").is_some(),
        "a late frame on an old connection must not orphan the broker"
    );
    // The broker's current connection still owns it: its close removes the broker at once.
    h.close(102);
    assert!(h.route("T").is_none());
}

/// Deviation 2b: Expiry happens exactly at last heartbeat + timeout (inclusive), not on a 5 s scan.
#[test]
fn deviation_expiry_at_exact_deadline() {
    let mut h = Harness::new();
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0)
        .topics(&["T", "U"])
        .timeout(10_000);
    reg_ok(&mut h, &reg);
    assert_eq!(h.ns.next_deadline(), Some(h.now + 10_000));
    h.advance(9_999);
    assert!(h.route("T").is_some());
    h.advance(1);
    assert!(h.route("T").is_none());

    // A heartbeat moves the deadline.
    reg_ok(&mut h, &reg);
    h.advance(5_000);
    h.heartbeat("C", &reg.addr, "B");
    h.advance(9_999);
    assert!(h.route("T").is_some());
    h.advance(1);
    assert!(h.route("T").is_none());
}

/// Deviation 3a: A refused first registration (single-topic guard) leaves no cluster entry and no
/// empty BrokerData (Java leaves both).
#[test]
fn deviation_refused_registration_leaves_no_trace() {
    let mut h = Harness::new();
    let r = h.register(&Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T"]));
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert!(h.ns.route().cluster_addr_table().is_empty());
    assert!(h.ns.route().broker_addr_table().is_empty());
    assert!(h.ns.route().broker_live_table().is_empty());
    assert!(h.cluster_info().cluster_addr_table.is_empty());
}

/// Deviation 3b: The fence is checked before anything is written: the group's zone and acting flag
/// are not overwritten by the fenced registration (Java's steps 1–5 would have run).
#[test]
fn deviation_fencing_checked_before_mutation() {
    let mut h = Harness::new();
    let x = with_state_version(
        Reg::new("C", "10.0.0.1:10911", "B", 0)
            .zone("z1")
            .topics(&["T", "U"]),
        5,
    );
    reg_ok(&mut h, &x);
    let y = with_state_version(
        Reg::new("C", "10.0.0.2:10911", "B", 0)
            .zone("z2")
            .acting(Some(true))
            .topics(&["T", "U"]),
        3,
    );
    let r = reg_ok(&mut h, &y);
    assert_eq!(r.ext_fields, Some(BTreeMap::new()));
    let bd = &h.ns.route().broker_addr_table()["B"];
    assert_eq!(bd.zone_name.as_deref(), Some("z1"));
    assert!(!bd.enable_acting_master);
    assert_eq!(bd.broker_addrs, BTreeMap::from([(0, x.addr.clone())]));
    assert_eq!(h.ns.route().broker_live_table().len(), 1);
}

/// Deviation 4: An address displaced from its id (testMasterChangeFromSlave) loses its live entry,
/// so its old connection's close or its old deadline changes nothing.
#[test]
fn deviation_displaced_address_loses_live_entry() {
    let mut h = Harness::new();
    let old = Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]);
    reg_ok(&mut h, &old);
    h.advance(1_000);
    let new = Reg::new("C", "10.0.0.2:10911", "B", 0).topics(&["T", "U"]);
    reg_ok(&mut h, &new);
    assert_eq!(
        h.ns.route().broker_addr_table()["B"].broker_addrs,
        BTreeMap::from([(0, new.addr.clone())])
    );
    let live: Vec<&str> =
        h.ns.route()
            .broker_live_table()
            .keys()
            .map(|k| k.addr.as_str())
            .collect();
    assert_eq!(
        live,
        vec![new.addr.as_str()],
        "no orphan for the displaced address"
    );

    h.close(conn_of(&old.addr));
    assert_eq!(keys(&first_addrs(&mut h, "T")), vec![0]);
    h.advance(119_000); // the displaced address's old deadline
    assert_eq!(first_addrs(&mut h, "T")[&0], new.addr);
}

/// Java removes the `(cluster, addr)` live entry on unregister even when another group at that
/// address still lists it (§6.1 item 19 case 3); we keep it, so that group can still expire.
#[test]
fn deviation_unregister_keeps_live_entry_shared_with_another_group() {
    let mut h = Harness::new();
    reg_ok(&mut h, &Reg::new("C", A0, "B1", 0).topics(&["T", "U"]));
    reg_ok(&mut h, &Reg::new("C", A0, "B2", 0).topics(&["T", "U"]));
    assert_eq!(h.unregister("C", A0, "B1", 0).code, response::SUCCESS);
    assert!(h
        .ns
        .route()
        .broker_live_table()
        .contains_key(&BrokerAddrInfo::new("C", A0)));
    assert_eq!(broker_names(&route(&mut h, "T")), set_of(&["B2"]));
    h.advance(120_000);
    assert!(h.route("T").is_none());
}

fn mapping(topic: &str, bname: &str) -> serde_json::Value {
    json!({
        "bname": bname,
        "currIdMap": {"0": 0},
        "dirty": false,
        "epoch": 1,
        "scope": "__global__",
        "topic": topic,
        "totalQueues": 8
    })
}

/// Deviation 5: Static-topic mapping info goes with its broker group and with its topic (Java keeps
/// it).
#[test]
fn deviation_static_topic_mapping_cleaned_with_group_and_topic() {
    let mut h = Harness::new();
    let reg = Reg::new("C", "10.0.0.1:10911", "B", 0).topics(&["T", "U"]);
    let with_mappings = |reg: &Reg| {
        reg.command_with_mappings(BTreeMap::from([("T".to_string(), mapping("T", "B"))]))
    };
    assert_eq!(
        h.call(conn_of(&reg.addr), with_mappings(&reg)).code,
        response::SUCCESS
    );
    let r = route(&mut h, "T");
    assert_eq!(
        r.topic_queue_mapping_by_broker
            .as_ref()
            .map(|m| m.contains_key("B")),
        Some(true)
    );
    assert!(h
        .ns
        .route()
        .topic_queue_mapping_info_table()
        .contains_key("T"));

    // Deleting the topic deletes its mapping.
    h.delete_topic("T", None);
    assert!(h.ns.route().topic_queue_mapping_info_table().is_empty());

    // A new DV brings both back; the group's departure removes the mapping again.
    let next = next_version(&reg);
    assert_eq!(
        h.call(conn_of(&reg.addr), with_mappings(&next)).code,
        response::SUCCESS
    );
    assert!(h
        .ns
        .route()
        .topic_queue_mapping_info_table()
        .contains_key("T"));
    unreg_ok(&mut h, &reg);
    assert!(h.ns.route().topic_queue_mapping_info_table().is_empty());
}

/// Deviation 6: A control character in a config key or value is refused (no newline injection into
/// the persisted file), and nothing is applied.
#[test]
fn deviation_config_control_character_refused() {
    let mut h = Harness::new();
    let before = h.get_config();
    for body in [
        // `\n` is an escape in .properties text: the value holds a real newline.
        "productEnvName=x\\nkvConfigPath=/tmp/x\n",
        "enableTopicList=false\nproduct\\tEnvName=x\n",
    ] {
        let r = h.update_config(body);
        assert_eq!(r.code, response::NO_PERMISSION, "{body:?}");
        assert_eq!(h.get_config(), before, "{body:?}: nothing applied");
    }
    assert_eq!(h.ns.config().product_env_name, "center");
    assert!(h.ns.config().enable_topic_list);
    assert!(!h
        .effects
        .iter()
        .any(|e| matches!(e, namesrv_core::Effect::PersistConfig { .. })));
}

/// Deviation 7: When a group's last address goes, its name leaves every cluster's set (Java: only
/// the unregister request's cluster).
#[test]
fn deviation_group_removed_from_every_cluster() {
    let mut h = Harness::new();
    reg_ok(&mut h, &Reg::new("C1", A0, "B", 0).topics(&["T", "U"]));
    reg_ok(&mut h, &Reg::new("C2", A1, "B", 1).topics(&["T", "U"]));
    assert_eq!(
        h.ns.route().cluster_addr_table().keys().collect::<Vec<_>>(),
        vec!["C1", "C2"]
    );
    // The group's cluster is fixed at its first registration.
    assert_eq!(h.ns.route().broker_addr_table()["B"].cluster, "C1");

    unreg_ok(&mut h, &Reg::new("C2", A1, "B", 1));
    unreg_ok(&mut h, &Reg::new("C1", A0, "B", 0));
    assert!(h.ns.route().cluster_addr_table().is_empty());
    assert!(h.cluster_info().cluster_addr_table.is_empty());
}

/// Deviation 8: 106 and 901 answer standard JSON to a RUST client (legacy otherwise); 105 answers
/// standard JSON for version >= 401, acceptStandardJsonOnly or RUST.
#[test]
fn deviation_json_dialect_by_language_and_version() {
    let mut h = Harness::new();
    reg_ok(&mut h, &Reg::new("C", A0, "B", 0).topics(&["T", "U"]));
    let send = |h: &mut Harness, cmd: RemotingCommand, lang: LanguageCode, version: i32| {
        let mut cmd = cmd;
        cmd.language = lang;
        cmd.version = version;
        let r = h.call(1, cmd);
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
        body_text(&r)
    };
    let cluster = RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO);
    let member = RemotingCommand::request(request::GET_BROKER_MEMBER_GROUP)
        .with_ext("clusterName", "C")
        .with_ext("brokerName", "B");
    let routeq = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T");

    for cmd in [&cluster, &member] {
        let java = send(&mut h, cmd.clone(), LanguageCode::JAVA, 479);
        assert!(java.contains(&format!("{{0:\"{A0}\"}}")), "{java}");
        let rust = send(&mut h, cmd.clone(), LanguageCode::RUST, 479);
        assert!(rust.contains(&format!("{{\"0\":\"{A0}\"}}")), "{rust}");
    }
    assert!(send(&mut h, routeq.clone(), LanguageCode::JAVA, 400).contains("{0:\""));
    assert!(send(&mut h, routeq.clone(), LanguageCode::GO, 400).contains("{0:\""));
    assert!(send(&mut h, routeq.clone(), LanguageCode::JAVA, 401).contains("{\"0\":\""));
    assert!(send(&mut h, routeq.clone(), LanguageCode::RUST, 400).contains("{\"0\":\""));
    assert!(send(
        &mut h,
        routeq.with_ext("acceptStandardJsonOnly", "true"),
        LanguageCode::GO,
        400
    )
    .contains("{\"0\":\""));
}

/// Deviation 9: A missing required header field is SYSTEM_ERROR with a remark naming it.
#[test]
fn deviation_missing_header_field_named() {
    let mut h = Harness::new();
    let reg = Reg::new("C", A0, "B", 0).topics(&["T", "U"]);
    let mut cmd = reg.command();
    cmd.ext_fields.as_mut().unwrap().remove("brokerId");
    let r = h.call(1, cmd);
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert!(
        r.remark.as_deref().unwrap().contains("brokerId"),
        "{:?}",
        r.remark
    );
    assert!(h.ns.route().broker_addr_table().is_empty());

    let r = h.call(
        1,
        RemotingCommand::request(request::UNREGISTER_BROKER)
            .with_ext("clusterName", "C")
            .with_ext("brokerAddr", A0)
            .with_ext("brokerId", "0"),
    );
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert!(
        r.remark.as_deref().unwrap().contains("brokerName"),
        "{:?}",
        r.remark
    );

    // Java answers 17 for a route query without a topic; we name the field.
    let r = h.call(1, RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC));
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert!(
        r.remark.as_deref().unwrap().contains("topic"),
        "{:?}",
        r.remark
    );
}

/// Deviation 10: A REGISTER_BROKER body starting with a zlib header is inflated even when the
/// header says `compressed=false` (what 5.x brokers with compressedRegister=true send).
#[test]
fn deviation_zlib_body_inflated_without_compressed_flag() {
    let mut h = Harness::new();
    let reg = Reg::new("C", A0, "B", 0)
        .topics(&["T", "U"])
        .compressed(true);
    let cmd = reg.command().with_ext("compressed", "false");
    assert_eq!(cmd.body.as_deref().unwrap()[0], 0x78);
    let r = h.call(conn_of(A0), cmd);
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert!(h.route("T").is_some());
    assert!(h.route("U").is_some());
}

/// A body decoded ahead (`Input::PreparedRequest`, as the server sends registrations) under
/// another inflation limit than the one in force is decoded again under the one in force.
#[test]
fn prepared_body_under_another_limit_is_decoded_again() {
    let mut h = Harness::with_config(|c| c.register_broker_max_inflated_bytes = 4096);
    let names: Vec<String> = (0..200)
        .map(|i| format!("a-rather-long-and-repetitive-topic-name-{i:04}"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let big = Reg::new("C", "10.0.0.1:10911", "B", 0)
        .topics(&names)
        .compressed(true)
        .command();
    // Decoded under the default 64 MiB: it inflates fine there.
    let body = namesrv_core::PreparedBody::of(&big, 64 << 20).expect("a registration");
    let fx = h.step(namesrv_core::Input::PreparedRequest {
        conn: 1,
        cmd: big.clone(),
        body,
    });
    let reply = fx
        .iter()
        .find_map(|e| match e {
            namesrv_core::Effect::Reply { cmd, .. } => Some(cmd.clone()),
            _ => None,
        })
        .expect("a reply");
    assert_eq!(reply.code, response::SYSTEM_ERROR);
    assert!(
        reply
            .remark
            .as_deref()
            .unwrap_or_default()
            .contains("inflates beyond 4096 bytes"),
        "{:?}",
        reply.remark
    );
    assert!(h.ns.route().broker_live_table().is_empty());

    // Decoded under the limit in force, it is refused the same way.
    let body = namesrv_core::PreparedBody::of(&big, 4096).expect("a registration");
    let fx = h.step(namesrv_core::Input::PreparedRequest {
        conn: 1,
        cmd: big,
        body,
    });
    assert!(fx.iter().any(|e| matches!(
        e,
        namesrv_core::Effect::Reply { cmd, .. } if cmd.code == response::SYSTEM_ERROR
    )));
}
