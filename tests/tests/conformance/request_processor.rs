//! Spec §6.4: Apache's `RequestProcessorTest` (the default request processor).

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
pub(super) fn sample_register_cmd(reg: bool) -> RemotingCommand {
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
