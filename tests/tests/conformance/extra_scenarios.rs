//! Spec §6.9: the extra scenarios derived from code (fencing, guards, CRC, DataVersion, JSON,
//! compression, oneway).

use super::*;

// =============================================================================================
// §6.9 Extra scenarios derived from code

pub(super) fn with_state_version(reg: Reg, state_version: i64) -> Reg {
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
