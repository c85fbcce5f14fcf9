//! Registrations whose body is the one last applied (`route::unchanged`): not decoded ahead,
//! and answered and applied exactly as the general path would (the simulator holds the two
//! equal on every registration of every schedule; these pin the cases by name).

use super::view::{Dispatch, NoRouteBodies};
use super::*;
use crate::protocol::bodies::TopicRouteData;
use crate::protocol::request;

const T0: Millis = 1_000_000;

fn register(topics: &[&str], counter: i64) -> RemotingCommand {
    let configs: Vec<String> = topics
        .iter()
        .map(|t| {
            format!(
                r#""{t}":{{"topicName":"{t}","readQueueNums":4,"writeQueueNums":4,"perm":6,"topicSysFlag":0}}"#
            )
        })
        .collect();
    let body = format!(
        r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"dataVersion":{{"counter":{counter},"timestamp":1}},"topicConfigTable":{{{}}}}}}}"#,
        configs.join(",")
    );
    RemotingCommand::request(request::REGISTER_BROKER)
        .with_ext("brokerName", "B")
        .with_ext("brokerAddr", "10.0.0.1:10911")
        .with_ext("clusterName", "C")
        .with_ext("haServerAddr", "10.0.0.1:10912")
        .with_ext("brokerId", "0")
        .with_ext("compressed", "false")
        .with_ext("bodyCrc32", "0")
        .with_body(body)
}

fn reply(fx: &[Effect]) -> RemotingCommand {
    fx.iter()
        .find_map(|e| match e {
            Effect::Reply { cmd, .. } => Some(cmd.clone()),
            _ => None,
        })
        .expect("a reply")
}

/// Whether the current view would decode `cmd`'s body ahead.
fn decoded_ahead(m: &NameServer, cmd: RemotingCommand) -> bool {
    match m.view().accept(T0, 1, cmd, &NoRouteBodies) {
        Dispatch::Step(Input::Request { request, .. }) => request.is_prepared(),
        d => panic!("a registration is a write: {d:?}"),
    }
}

/// Steps `cmd` as the server does (through the view), persisting whatever is asked.
fn step(m: &mut NameServer, now: Millis, cmd: RemotingCommand) -> RemotingCommand {
    let Dispatch::Step(input) = m.view().accept(now, 1, cmd, &NoRouteBodies) else {
        panic!("a write");
    };
    reply(&m.step_persisting(now, input, |_, _| Ok(())))
}

fn route(m: &mut NameServer, topic: &str) -> Option<TopicRouteData> {
    let cmd = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic);
    let r = reply(&m.step(T0, Input::request(1, cmd)));
    (r.code == response::SUCCESS).then(|| {
        TopicRouteData::decode(r.body.as_deref().unwrap_or_default()).expect("a route body")
    })
}

fn registered(topics: &[&str]) -> NameServer {
    let mut m = NameServer::new(NamesrvConfig::default(), KvConfig::new(), T0);
    assert!(
        decoded_ahead(&m, register(topics, 1)),
        "a first registration"
    );
    assert_eq!(
        step(&mut m, T0, register(topics, 1)).code,
        response::SUCCESS
    );
    m
}

#[test]
fn the_same_body_again_is_not_decoded_and_a_changed_one_is() {
    let m = registered(&["T1", "T2"]);
    assert!(!decoded_ahead(&m, register(&["T1", "T2"], 1)));
    // The machine says the same as its view (the shell asks it when no view is published).
    let limit = 64 << 20;
    assert!(!m.wants_body(&Request::fingerprinted(register(&["T1", "T2"], 1), limit)));
    assert!(m.wants_body(&Request::fingerprinted(register(&["T1", "T2"], 2), limit)));
    // The same version with other topics (a split registration does this): decoded.
    assert!(decoded_ahead(&m, register(&["T1", "T3"], 1)));
    assert!(decoded_ahead(&m, register(&["T1", "T2"], 2)));
    // Another limit in force reads the same bytes differently.
    let r = Request::fingerprinted(register(&["T1", "T2"], 1), 1 << 20);
    assert!(m.wants_body(&r));
}

#[test]
fn an_unchanged_body_refreshes_the_broker_like_any_registration() {
    let mut m = registered(&["T1", "T2"]);
    let later = T0 + 100_000;
    assert_eq!(
        step(&mut m, later, register(&["T1", "T2"], 1)).code,
        response::SUCCESS
    );
    // 120 s from the re-registration, not from the first one.
    assert!(m.next_deadline() == Some(later + 120_000));
}

#[test]
fn a_deleted_topic_comes_back_with_the_unchanged_body() {
    // Apache's isTopicConfigChanged: with the version unchanged, a topic missing the group
    // is created again.
    let mut m = registered(&["T1", "T2"]);
    let delete = RemotingCommand::request(request::DELETE_TOPIC_IN_NAMESRV).with_ext("topic", "T1");
    assert_eq!(step(&mut m, T0, delete).code, response::SUCCESS);
    assert!(route(&mut m, "T1").is_none());
    assert!(
        decoded_ahead(&m, register(&["T1", "T2"], 1)),
        "a topic left"
    );
    step(&mut m, T0, register(&["T1", "T2"], 1));
    assert!(route(&mut m, "T1").is_some());
    // Applied again: unchanged from here on.
    assert!(!decoded_ahead(&m, register(&["T1", "T2"], 1)));
}

#[test]
fn a_wiped_write_permission_stays_wiped_across_unchanged_bodies() {
    let mut m = registered(&["T1", "T2"]);
    let wipe =
        RemotingCommand::request(request::WIPE_WRITE_PERM_OF_BROKER).with_ext("brokerName", "B");
    assert_eq!(step(&mut m, T0, wipe).code, response::SUCCESS);
    assert!(!decoded_ahead(&m, register(&["T1", "T2"], 1)));
    step(&mut m, T0, register(&["T1", "T2"], 1));
    let perm = route(&mut m, "T1").map(|r| r.queue_datas[0].perm);
    assert_eq!(perm, Some(4), "read only, as the general path leaves it");
}

#[test]
fn delete_topic_with_broker_registration_always_decodes() {
    let config = NamesrvConfig {
        delete_topic_with_broker_registration: true,
        ..NamesrvConfig::default()
    };
    let mut m = NameServer::new(config, KvConfig::new(), T0);
    step(&mut m, T0, register(&["T1", "T2"], 1));
    assert!(decoded_ahead(&m, register(&["T1", "T2"], 1)));
}

#[test]
fn the_topic_limit_still_refuses_an_unchanged_body() {
    let mut m = registered(&["T1", "T2"]);
    let update = RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG)
        .with_body("registerBrokerMaxTopics=1\n");
    assert_eq!(step(&mut m, T0, update).code, response::SUCCESS);
    assert!(!decoded_ahead(&m, register(&["T1", "T2"], 1)));
    let r = step(&mut m, T0, register(&["T1", "T2"], 1));
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert!(
        r.remark
            .as_deref()
            .unwrap_or_default()
            .contains("registerBrokerMaxTopics=1"),
        "{:?}",
        r.remark
    );
}

#[test]
fn a_slave_that_becomes_prime_applies_its_topics() {
    // A slave's topics are not applied while a master is there, so nothing is remembered
    // for it, and once the master has gone its unchanged body is decoded and applied.
    let mut m = registered(&["T1", "T2"]);
    let slave = |topics: &[&str]| {
        let mut cmd = register(topics, 1)
            .with_ext("brokerAddr", "10.0.0.2:10911")
            .with_ext("brokerId", "1");
        cmd = cmd.with_ext("enableActingMaster", "true");
        cmd
    };
    step(&mut m, T0, slave(&["T1", "T2", "T9"]));
    assert!(
        route(&mut m, "T9").is_none(),
        "a slave's topics wait for the master"
    );
    assert!(decoded_ahead(&m, slave(&["T1", "T2", "T9"])));
    let unregister = RemotingCommand::request(request::UNREGISTER_BROKER)
        .with_ext("brokerName", "B")
        .with_ext("brokerAddr", "10.0.0.1:10911")
        .with_ext("clusterName", "C")
        .with_ext("brokerId", "0");
    step(&mut m, T0, unregister);
    step(&mut m, T0, slave(&["T1", "T2", "T9"]));
    assert!(route(&mut m, "T9").is_some(), "the prime slave's topics");
}

#[test]
fn a_body_decoded_ahead_is_decoded_under_the_limit_given() {
    use crate::protocol::{BodyShape, RegisterBrokerRequest};
    let cmd = RegisterBrokerRequest::new("C", "10.0.0.1:10911", "B", 0)
        .topics(&["T1", "T2"])
        .shape(BodyShape::Compressed)
        .command();
    let decoded = |limit: usize| {
        Request::prepare(cmd.clone(), limit)
            .body
            .and_then(|p| p.decoded)
            .map(|d| d.is_ok())
    };
    assert_eq!(decoded(64 << 20), Some(true));
    assert_eq!(decoded(16), Some(false), "over the inflation limit");
}

#[test]
fn with_the_path_off_every_body_is_decoded() {
    let mut m = registered(&["T1", "T2"]);
    m.set_unchanged_registrations(false);
    assert!(decoded_ahead(&m, register(&["T1", "T2"], 1)));
    m.set_unchanged_registrations(true);
    assert!(!decoded_ahead(&m, register(&["T1", "T2"], 1)));
}

#[test]
fn only_registrations_are_fingerprinted() {
    let limit = 64 << 20;
    assert!(Request::fingerprinted(register(&["T1", "T2"], 1), limit).is_fingerprinted());
    let route = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "T");
    assert!(!Request::fingerprinted(route, limit).is_fingerprinted());
    // A registration whose header does not decode is left for the machine to refuse.
    let headless = RemotingCommand::request(request::REGISTER_BROKER);
    assert!(!Request::fingerprinted(headless, limit).is_fingerprinted());
}

#[test]
fn the_same_bytes_for_another_group_of_the_address_are_applied() {
    // A broker renamed without unregistering: its address is in both groups, with one live
    // entry. The body last applied to the new name must still be applied to the old one.
    let mut m = registered(&["T1", "T2"]);
    let renamed = register(&["T1", "T2", "T3"], 2).with_ext("brokerName", "B2");
    step(&mut m, T0, renamed);
    assert!(decoded_ahead(&m, register(&["T1", "T2", "T3"], 2)));
    step(&mut m, T0, register(&["T1", "T2", "T3"], 2));
    let groups: Vec<String> = route(&mut m, "T3")
        .map(|r| r.queue_datas.into_iter().map(|q| q.broker_name).collect())
        .unwrap_or_default();
    assert_eq!(groups, ["B", "B2"]);
}
