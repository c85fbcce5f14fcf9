//! Spec §6.7: `KVConfigManagerTest` / `KVConfigSerializeWrapperTest` (PUT/GET/DELETE_KV_CONFIG).

use super::*;

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
        namesrv_core::Effect::Persist { file: namesrv_core::StoreFile::Kv, content, .. }
            if content.contains(r#""UnitTest":"test""#)
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
