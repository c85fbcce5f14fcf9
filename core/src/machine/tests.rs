//! The machine's own contract: one way in, reads equal on both paths, replies held for their
//! persistence, the route generation, readiness.

use super::view::{Dispatch, NoRouteBodies};
use super::*;
use crate::protocol::codes::{Kind, REQUEST_CODES};
use crate::protocol::request;

const T0: Millis = 1_000_000;

fn ns() -> NameServer {
    NameServer::new(NamesrvConfig::default(), KvConfig::new(), T0)
}

fn reply(fx: &[Effect]) -> Option<&RemotingCommand> {
    fx.iter().find_map(|e| match e {
        Effect::Reply { cmd, .. } => Some(cmd),
        _ => None,
    })
}

fn register(name: &str, addr: &str, topics: &[&str], version: i64) -> RemotingCommand {
    let configs: Vec<String> = topics
        .iter()
        .map(|t| {
            format!(
                r#""{t}":{{"topicName":"{t}","readQueueNums":4,"writeQueueNums":4,"perm":6,"topicFilterType":"SINGLE_TAG","topicSysFlag":0,"order":false}}"#
            )
        })
        .collect();
    let body = format!(
        r#"{{"topicConfigSerializeWrapper":{{"topicConfigTable":{{{}}},"dataVersion":{{"timestamp":1,"counter":{version}}}}},"filterServerList":[]}}"#,
        configs.join(",")
    );
    RemotingCommand::request(request::REGISTER_BROKER)
        .with_ext("brokerName", name)
        .with_ext("brokerAddr", addr)
        .with_ext("clusterName", "C")
        .with_ext("haServerAddr", addr)
        .with_ext("brokerId", "0")
        .with_ext("compressed", "false")
        .with_ext("bodyCrc32", "0")
        .with_body(body)
}

fn route(topic: &str) -> RemotingCommand {
    RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic)
}

#[test]
fn every_code_takes_its_tables_path_and_unknown_codes_answer_3() {
    let mut m = ns();
    m.step(
        T0,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2"], 1)),
    );
    let view = m.view();
    for c in &REQUEST_CODES {
        let cmd = RemotingCommand::request(c.code).with_ext("topic", "T");
        let by_view = view.accept(T0, 2, cmd.clone(), &NoRouteBodies);
        match (c.kind, by_view) {
            (Kind::Read, Dispatch::Done(fx)) => {
                // The machine answers a read exactly as the view does.
                let by_machine = m.clone().step(T0, Input::request(2, cmd));
                assert_eq!(fx, by_machine, "{}", c.name);
                let r = reply(&fx).map(|r| r.code);
                assert_ne!(r, Some(response::REQUEST_CODE_NOT_SUPPORTED), "{}", c.name);
            }
            (Kind::Write, Dispatch::Step(Input::Request { request, .. })) => {
                let fx = m.clone().step(T0, Input::Request { conn: 2, request });
                let r = reply(&fx).map(|r| r.code);
                assert_ne!(r, Some(response::REQUEST_CODE_NOT_SUPPORTED), "{}", c.name);
            }
            (kind, d) => panic!("{}: {kind:?} dispatched as {d:?}", c.name),
        }
    }
    for code in (0..1000).filter(|c| crate::protocol::codes::lookup(*c).is_none()) {
        let cmd = RemotingCommand::request(code);
        let Dispatch::Step(input) = view.accept(T0, 2, cmd, &NoRouteBodies) else {
            panic!("unknown code {code} answered by the view");
        };
        let fx = m.clone().step(T0, input);
        assert_eq!(
            reply(&fx).map(|r| r.code),
            Some(response::REQUEST_CODE_NOT_SUPPORTED),
            "{code}"
        );
    }
}

#[test]
fn a_registration_is_decoded_ahead_by_the_view() {
    let m = ns();
    let Dispatch::Step(Input::Request { request, .. }) =
        m.view()
            .accept(T0, 1, register("B", "a:1", &["T", "T2"], 1), &NoRouteBodies)
    else {
        panic!("a registration is a write");
    };
    assert!(request.is_prepared());
}

fn put_kv() -> RemotingCommand {
    RemotingCommand::request(request::PUT_KV_CONFIG)
        .with_ext("namespace", "NS")
        .with_ext("key", "k")
        .with_ext("value", "v")
}

#[test]
fn a_kv_write_is_answered_once_persisted() {
    let mut m = ns();
    let fx = m.step(T0, Input::request(1, put_kv()));
    assert!(reply(&fx).is_none(), "held until persisted: {fx:?}");
    let Some(Effect::Persist {
        ticket,
        file,
        content,
    }) = fx.first()
    else {
        panic!("{fx:?}");
    };
    assert_eq!(*file, StoreFile::Kv);
    assert!(content.contains("\"k\":\"v\""));
    let fx = m.step(
        T0,
        Input::Persisted {
            ticket: *ticket,
            result: Ok(()),
        },
    );
    assert_eq!(reply(&fx).map(|r| r.code), Some(response::SUCCESS));
    assert!(fx.contains(&Effect::KvWritten { op: KvOp::Put }));
    // A second report of the same ticket does nothing.
    assert!(m
        .step(
            T0,
            Input::Persisted {
                ticket: *ticket,
                result: Ok(())
            }
        )
        .is_empty());
}

#[test]
fn a_failed_persist_is_not_acknowledged() {
    let mut m = ns();
    let fx = m.step(T0, Input::request(1, put_kv()));
    let Some(Effect::Persist { ticket, .. }) = fx.first() else {
        panic!("{fx:?}");
    };
    let fx = m.step(
        T0,
        Input::Persisted {
            ticket: *ticket,
            result: Err("disk full".into()),
        },
    );
    let r = reply(&fx).expect("a reply");
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(
        r.remark.as_deref(),
        Some("applied in memory but not persisted: disk full")
    );
    assert!(!fx.iter().any(|e| matches!(e, Effect::KvWritten { .. })));
    // Still applied in memory, as the remark says.
    assert_eq!(m.kv().get("NS", "k"), Some("v"));
}

#[test]
fn tickets_grow() {
    let mut m = ns();
    let tickets: Vec<u64> = (0..3)
        .flat_map(|_| m.step(T0, Input::request(1, put_kv())))
        .filter_map(|e| match e {
            Effect::Persist { ticket, .. } => Some(ticket),
            _ => None,
        })
        .collect();
    assert_eq!(tickets.len(), 3);
    assert!(tickets.windows(2).all(|w| w[0] < w[1]), "{tickets:?}");
}

#[test]
fn the_route_generation_follows_what_routes_are_made_of() {
    let mut m = ns();
    let g0 = m.route_generation();
    m.step(
        T0,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2"], 1)),
    );
    let g1 = m.route_generation();
    assert_ne!(g0, g1, "a new broker and topic");
    // Unchanged re-registration (same DataVersion), heartbeat, a client's close, a read, a
    // tick: routes read the same, the generation stays.
    m.step(
        T0 + 1,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2"], 1)),
    );
    m.step(
        T0 + 2,
        Input::request(
            1,
            RemotingCommand::request(request::BROKER_HEARTBEAT)
                .with_ext("clusterName", "C")
                .with_ext("brokerAddr", "10.0.0.1:1")
                .with_ext("brokerName", "B")
                .with_ext("brokerId", "0"),
        ),
    );
    m.step(T0 + 3, Input::Closed { conn: 77 });
    m.step(T0 + 4, Input::request(5, route("T")));
    m.step(T0 + 5, Input::Tick);
    assert_eq!(m.route_generation(), g1);
    // A new DataVersion with the same topics changes no route either.
    m.step(
        T0 + 6,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2"], 2)),
    );
    assert_eq!(m.route_generation(), g1);
    // A new topic does; so do KV and config writes.
    m.step(
        T0 + 7,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2", "U"], 3)),
    );
    let g2 = m.route_generation();
    assert_ne!(g2, g1);
    m.step(T0 + 8, Input::request(1, put_kv()));
    assert_ne!(m.route_generation(), g2);
    // The broker's connection closes: its routes go, and the generation moves.
    let g3 = m.route_generation();
    let fx = m.step(T0 + 9, Input::Closed { conn: 1 });
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Route(RouteEvent::BrokerRemoved {
            cause: crate::route::RemovalCause::ConnectionClosed,
            ..
        })
    )));
    assert_ne!(m.route_generation(), g3);
}

#[test]
fn a_published_view_does_not_see_later_writes() {
    let mut m = ns();
    m.step(
        T0,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2"], 1)),
    );
    let before = m.view();
    m.step(T0, Input::Closed { conn: 1 });
    let answer = |v: &ReadView| match v.accept(T0, 2, route("T"), &NoRouteBodies) {
        Dispatch::Done(fx) => reply(&fx).map(|r| r.code),
        Dispatch::Step(_) => None,
    };
    assert_eq!(answer(&before), Some(response::SUCCESS));
    assert_eq!(answer(&m.view()), Some(response::TOPIC_NOT_EXIST));
}

#[test]
fn a_read_waits_for_the_machine_when_a_broker_is_due() {
    let mut m = ns();
    m.step(
        T0,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2"], 1)),
    );
    let view = m.view();
    let due = T0 + crate::route::DEFAULT_HEARTBEAT_TIMEOUT_MS;
    assert!(matches!(
        view.accept(due - 1, 2, route("T"), &NoRouteBodies),
        Dispatch::Done(_)
    ));
    let Dispatch::Step(input) = view.accept(due, 2, route("T"), &NoRouteBodies) else {
        panic!("a due broker must expire before the read");
    };
    let fx = m.step(due, input);
    assert_eq!(reply(&fx).map(|r| r.code), Some(response::TOPIC_NOT_EXIST));
}

#[test]
fn readiness_counts_from_the_machines_own_start() {
    let config = NamesrvConfig {
        need_wait_for_service: true,
        wait_seconds_for_service: 10,
        ..NamesrvConfig::default()
    };
    let mut m = NameServer::new(config, KvConfig::new(), T0);
    let why = m.readiness(T0 + 1).unwrap_err();
    assert!(why.contains("10 s left"), "{why}");
    assert_eq!(m.readiness(T0 + 10_000), Ok(()));
    assert_eq!(m.view().readiness(T0 + 10_000), Ok(()));
    m.step(T0 + 10_000, Input::ShutdownStarted);
    assert_eq!(m.readiness(T0 + 10_000), Err("shutting down".into()));
}

#[test]
fn stats_count_the_tables() {
    let mut m = ns();
    m.step(
        T0,
        Input::request(1, register("B", "10.0.0.1:1", &["T", "T2", "U"], 1)),
    );
    let s = m.stats();
    assert_eq!(
        (
            s.brokers_live,
            s.broker_groups,
            s.clusters,
            s.topics,
            s.queue_entries
        ),
        (1, 1, 1, 3, 3)
    );
}
