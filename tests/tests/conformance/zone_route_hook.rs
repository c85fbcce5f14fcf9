//! Spec §6.6: `ZoneRouteRPCHookTest` / `ZoneRouteRPCHookMoreTest` (the zone filter on routes).

use super::*;

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

pub(super) fn broker_names(r: &TopicRouteData) -> BTreeSet<String> {
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
