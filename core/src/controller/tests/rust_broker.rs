//! What rocketmq-broker 1.0.0 needs beyond Apache's protocol: two-way heartbeats answered
//! with a write lease for the current master, and election bodies a strict JSON parser reads.

use super::*;

/// The two-way heartbeat rocketmq-broker 1.0.0 sends (with `storeReady`).
fn rust_beat(b: &Beat) -> RemotingCommand {
    let mut c = b.cmd().with_ext("storeReady", "true");
    c.flag = 0;
    c.language = crate::codec::command::LanguageCode::RUST;
    c
}

fn lease(r: &RemotingCommand) -> Option<serde_json::Value> {
    r.body
        .as_ref()
        .map(|b| serde_json::from_slice(b).expect("the lease is standard JSON"))
}

#[test]
fn the_master_gets_a_lease_with_a_growing_generation_and_nobody_else_does() {
    let mut h = H::single();
    h.c.set_lease_generation_base(1_000);
    scenario3(&mut h);
    // No lease in a controller's first 10 s (one an earlier run granted may still hold).
    assert_eq!(lease(&h.ask(1, rust_beat(&Beat::new(1).at(1, 0)))), None);
    h.run_for(10_000, &[1, 2, 3]);
    // The master at its epoch: a lease.
    let b1 = Beat::new(1).at(1, 0);
    let r = h.ask(1, rust_beat(&b1));
    assert_eq!(r.code, rs::SUCCESS);
    let first = lease(&r).expect("a lease for the master");
    assert_eq!(first["brokerId"], 1);
    assert_eq!(first["masterEpoch"], 1);
    assert_eq!(first["leaseDurationMillis"], 10_000);
    assert_eq!(first["safetyMarginMillis"], 2_000);
    assert!(first["generation"].as_u64().unwrap() > 1_000);
    let again = lease(&h.ask(1, rust_beat(&b1))).expect("renewed");
    assert!(again["generation"].as_u64() > first["generation"].as_u64());
    // A slave, a master at a stale epoch, a store not ready, a oneway heartbeat: none.
    assert_eq!(lease(&h.ask(2, rust_beat(&Beat::new(2).at(1, 0)))), None);
    assert_eq!(lease(&h.ask(1, rust_beat(&Beat::new(1).at(0, 0)))), None);
    let not_ready = rust_beat(&b1).with_ext("storeReady", "false");
    assert_eq!(lease(&h.ask(1, not_ready)), None);
    assert_eq!(h.send(1, b1.cmd()), None, "oneway: no reply at all");
}

#[test]
fn a_new_master_waits_for_the_old_masters_lease_to_run_out() {
    let mut h = H::single();
    scenario3(&mut h);
    h.run_for(10_000, &[1, 2, 3]);
    let granted_at = h.now;
    assert!(lease(&h.ask(1, rust_beat(&Beat::new(1).at(1, 0)))).is_some());
    // The master's connection closes: 2 is elected (masterEpoch 2) at once.
    h.step(Input::Closed { conn: 1 });
    assert_eq!(h.set().master, Some(2));
    let b2 = Beat::new(2).at(2, 0);
    assert_eq!(
        lease(&h.ask(2, rust_beat(&b2))),
        None,
        "the old master may still write until its lease runs out"
    );
    h.now = granted_at + 9_999;
    assert_eq!(lease(&h.ask(2, rust_beat(&b2))), None);
    h.now = granted_at + 10_000;
    let l = lease(&h.ask(2, rust_beat(&b2))).expect("the old lease has run out");
    assert_eq!(l["brokerId"], 2);
    assert_eq!(l["masterEpoch"], 2);
}

#[test]
fn election_bodies_are_standard_json_for_brokers_that_are_not_java() {
    let mut h = H::single();
    h.registered(2);
    let mut req = elect_req(Some(1), false);
    req.language = crate::codec::command::LanguageCode::RUST;
    let r = h.ask(1, req);
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    let json: serde_json::Value =
        serde_json::from_slice(r.body.as_deref().unwrap()).expect("standard JSON");
    assert_eq!(json["brokerMemberGroup"]["brokerAddrs"]["1"], addr(1));
    // A Java request gets fastjson's form, byte for byte Apache's.
    assert_eq!(h.ask(1, alter_req(1, 1, &[1, 2], 1)).code, rs::SUCCESS);
    let r = h.ask(ADMIN, elect_req(Some(2), true));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    let text = body(&r);
    assert!(
        text.contains(&format!("{{1:\"{}\",2:\"{}\"}}", addr(1), addr(2))),
        "{text}"
    );
}

#[test]
fn a_replica_heart_beating_on_two_connections_stays_alive_until_the_last_closes() {
    // A broker may heartbeat on several connections (rocketmq-broker 1.0.0 sends 904 to the
    // leader and to every controllerAddr entry): only the close of the last says it is gone.
    let mut h = H::single();
    scenario3(&mut h);
    h.beat(Beat::new(1).on(11));
    h.step(Input::Closed { conn: 1 });
    assert_eq!(
        h.set().master,
        Some(1),
        "still heart-beating on connection 11"
    );
    assert!(h.take_notifies().is_empty());
    h.step(Input::Closed { conn: 11 });
    assert_ne!(
        h.set().master,
        Some(1),
        "its last connection closed: failed over"
    );
    assert_eq!(h.set().master_epoch, 2);
}

#[test]
fn a_restarted_controller_grants_no_lease_until_any_earlier_one_has_run_out() {
    // The old master may hold a lease the restarted controller never heard of: the new master
    // elected before the restart gets none for a lease's length.
    let mut h = H::single();
    scenario3(&mut h);
    h.run_for(10_000, &[1, 2, 3]);
    assert!(lease(&h.ask(1, rust_beat(&Beat::new(1).at(1, 0)))).is_some());
    let (state, n) = Controller::replay(&h.disk);
    let mut restarted = Controller::new(h.c.config().clone(), state, n, h.now);
    let mut beat = rust_beat(&Beat::new(1).at(1, 0));
    beat.opaque = 1;
    let reply = |c: &mut Controller, now: Millis, beat: &RemotingCommand| {
        c.step(
            now,
            Input::Request {
                conn: 1,
                cmd: beat.clone(),
            },
        )
        .into_iter()
        .find_map(|e| match e {
            Effect::Reply { cmd, .. } => Some(cmd),
            _ => None,
        })
        .expect("a two-way heartbeat is answered")
    };
    assert_eq!(lease(&reply(&mut restarted, h.now + 9_999, &beat)), None);
    assert!(lease(&reply(&mut restarted, h.now + 10_000, &beat)).is_some());
}
