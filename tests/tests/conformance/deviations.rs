//! Our deliberate deviations from Java, each pinned down by a `deviation_*` test (plus the
//! prepared-body limit check).

use super::extra_scenarios::with_state_version;
use super::request_processor::sample_register_cmd;
use super::zone_route_hook::broker_names;
use super::*;

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
        reg.clone()
            .mappings(BTreeMap::from([("T".to_string(), mapping("T", "B"))]))
            .command()
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
        .any(|e| matches!(e, namesrv_core::Effect::Persist { .. })));
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

/// A body decoded ahead (`Request::prepare`, as the read view does for the server) under
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
    let request = namesrv_core::Request::prepare(big.clone(), 64 << 20);
    assert!(request.is_prepared(), "a registration");
    let fx = h.step(namesrv_core::Input::Request { conn: 1, request });
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
    let request = namesrv_core::Request::prepare(big, 4096);
    let fx = h.step(namesrv_core::Input::Request { conn: 1, request });
    assert!(fx.iter().any(|e| matches!(
        e,
        namesrv_core::Effect::Reply { cmd, .. } if cmd.code == response::SYSTEM_ERROR
    )));
}
