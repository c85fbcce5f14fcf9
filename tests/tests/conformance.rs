//! Conformance scenarios of the Java NameServer spec (`java-namesrv-spec.md` §6), ported from
//! Apache RocketMQ's `namesrv/src/test` to requests over the wire, one `#[test]` per scenario.
//!
//! Mapping of the Java calls (see the harness): `registerBroker(...)` is a REGISTER_BROKER
//! request; the Java "10-argument overload" is `.acting(Some(false))`; `unregisterBroker`,
//! `unRegisterBroker(Set)` and `submitUnRegisterBrokerRequest` are UNREGISTER_BROKER (applied
//! before the reply here); `onChannelDestroy(channel)` is closing the connection the broker
//! registered on; `onChannelDestroy(BrokerAddrInfo)` and `scanNotActiveBroker` are expiry by
//! virtual time.
//!
//! Where our implementation deliberately differs from Java, the test asserts our behaviour and a
//! `deviation_*` test pins the difference down.
//!
//! Layout: this file holds the shared helpers; `conformance/route_info_new.rs` and
//! `route_info_new_topics.rs` have §6.1, `route_info_default.rs` §6.2 and `route_info_static.rs`
//! §6.3 (the RouteInfoManager tests); `conformance/request_processor.rs`, `client_processor.rs`,
//! `zone_route_hook.rs`, `kv_config.rs` and `extra_scenarios.rs` have §6.4–§6.7 and §6.9, and
//! `conformance/deviations.rs` the deviations.
//! One test binary: `cargo test -p namesrv-tests --test conformance`.

use std::collections::{BTreeMap, BTreeSet};

use namesrv_core::kv::{KvConfig, NAMESPACE_ORDER_TOPIC_CONFIG};
use namesrv_core::protocol::bodies::{
    decode_kv_table, decode_topic_list, BrokerData, DataVersion, QueueData, TopicConfig,
    TopicRouteData,
};
use namesrv_core::protocol::{flag, request, response, LanguageCode, RemotingCommand};
use namesrv_core::route::query::filter_by_zone;
use namesrv_core::route::BrokerAddrInfo;
use namesrv_tests::harness::*;
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// A fixed stand-in for the `System.currentTimeMillis()` the Java fixtures put in DataVersions.
const TS: i64 = 1_726_732_800_000;

const PERM_RW: i32 = 6;
const PERM_R: i32 = 4;

fn writeable(perm: i32) -> bool {
    perm & 2 != 0
}

/// Registers and requires SUCCESS.
fn reg_ok(h: &mut Harness, reg: &Reg) -> RemotingCommand {
    let r = h.register(reg);
    assert_eq!(
        r.code,
        response::SUCCESS,
        "registering {}/{} id {}: {:?}",
        reg.name,
        reg.addr,
        reg.id,
        r.remark
    );
    r
}

/// Unregisters and requires SUCCESS.
fn unreg_ok(h: &mut Harness, reg: &Reg) {
    let r = h.unregister(&reg.cluster, &reg.addr, &reg.name, reg.id);
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert_eq!(r.remark, None);
}

/// The same registration under another broker id.
fn with_id(reg: &Reg, id: i64) -> Reg {
    Reg { id, ..reg.clone() }
}

/// `dataVersion.nextVersion()`: counter + 1 and a later timestamp.
fn next_version(reg: &Reg) -> Reg {
    let mut r = reg.clone();
    r.dv.counter += 1;
    r.dv.timestamp += 1;
    r
}

fn keys(addrs: &BTreeMap<i64, String>) -> Vec<i64> {
    addrs.keys().copied().collect()
}

fn tc(name: &str, queues: i32, perm: i32, sys_flag: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.into(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm,
        topic_sys_flag: sys_flag,
    }
}

/// A request as Apache's processor tests build it with `createRequestCommand`: version 0.
fn java_test_request(code: i32) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(code);
    cmd.version = 0;
    cmd
}

fn body_text(cmd: &RemotingCommand) -> String {
    Harness::body_text(cmd)
}

fn topic_set(list: Vec<String>) -> BTreeSet<String> {
    list.into_iter().collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// §6.1's master and slave addresses (also used by the deviation tests).
const A0: &str = "127.0.0.1:10911";
const A1: &str = "127.0.0.1:30911";

/// §6.2 and §6.4's fixture broker.
const DEF_CLUSTER: &str = "default-cluster";
const DEF_BROKER: &str = "default-broker";
const DEF_ADDR: &str = "127.0.0.1:10911";

/// The route of a topic that must exist.
fn route(h: &mut Harness, topic: &str) -> TopicRouteData {
    h.route(topic)
        .unwrap_or_else(|| panic!("topic {topic} should have a route"))
}

/// The address map of the first (only) broker group of a topic's route.
fn first_addrs(h: &mut Harness, topic: &str) -> BTreeMap<i64, String> {
    route(h, topic).broker_datas[0].broker_addrs.clone()
}

#[path = "conformance/route_info_new.rs"]
mod route_info_new;

#[path = "conformance/route_info_new_topics.rs"]
mod route_info_new_topics;

#[path = "conformance/route_info_default.rs"]
mod route_info_default;

#[path = "conformance/route_info_static.rs"]
mod route_info_static;

#[path = "conformance/request_processor.rs"]
mod request_processor;

#[path = "conformance/client_processor.rs"]
mod client_processor;

#[path = "conformance/zone_route_hook.rs"]
mod zone_route_hook;

#[path = "conformance/kv_config.rs"]
mod kv_config;

#[path = "conformance/extra_scenarios.rs"]
mod extra_scenarios;

#[path = "conformance/deviations.rs"]
mod deviations;
