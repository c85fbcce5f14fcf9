//! Entry points shared by the cargo-fuzz targets in `fuzz/` and the stable corpus replay test
//! (`tests/tests/fuzz_corpus.rs`). Each takes arbitrary bytes and must neither panic nor hang;
//! the ones that build state assert its invariants.

use bytes::BytesMut;

use crate::codec::{decode_frame, encode_to_bytes, fastjson};
use crate::config::{parse_properties, NamesrvConfig};
use crate::kv::KvConfig;
use crate::protocol::bodies::{RegisterBrokerBody, TopicRouteData};
use crate::protocol::RemotingCommand;
use crate::{Dispatch, Input, NameServer, NoRouteBodies};

/// Largest frame the fuzz targets allow (keeps allocations small).
const FUZZ_MAX_FRAME: usize = 1 << 20;

/// The stream decoder fed in chunks. Byte 0 picks the chunk size. Whatever decodes must
/// re-encode and decode to the same command.
pub fn frame_decoder(data: &[u8]) {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut buf = BytesMut::new();
    for piece in rest.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match decode_frame(&mut buf, FUZZ_MAX_FRAME) {
                Ok(Some(cmd)) => round_trip(&cmd),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

fn round_trip(cmd: &RemotingCommand) {
    let Ok(bytes) = encode_to_bytes(cmd) else {
        return;
    };
    let mut buf = BytesMut::from(&bytes[..]);
    let again = decode_frame(&mut buf, usize::MAX).ok().flatten();
    if let Some(again) = again {
        // Binary headers cannot carry empty strings or out-of-range codes; compare what survives.
        assert_eq!(again.opaque, cmd.opaque);
        assert_eq!(again.flag, cmd.flag);
        assert_eq!(again.body, cmd.body);
    }
}

/// A header of either serialize type (byte 0 picks it) behind a valid frame prefix.
pub fn header(data: &[u8]) {
    let Some((&t, header)) = data.split_first() else {
        return;
    };
    // The JSON fast path, whenever it answers, answers what the lenient parser does.
    if let Some(fast) = crate::codec::json_header::fast::decode(header) {
        assert_eq!(
            crate::codec::json_header::decode_lenient(header).ok(),
            Some(fast),
            "fast and lenient JSON header decoders disagree"
        );
    }
    let mut frame = Vec::with_capacity(header.len() + 8);
    let total = (header.len() + 4) as u32;
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&((u32::from(t & 1) << 24) | header.len() as u32).to_be_bytes());
    frame.extend_from_slice(header);
    let mut buf = BytesMut::from(&frame[..]);
    if let Ok(Some(cmd)) = decode_frame(&mut buf, usize::MAX) {
        round_trip(&cmd);
        // Typed headers never panic on whatever extFields arrived.
        let _ = crate::protocol::headers::RegisterBrokerRequestHeader::decode(&cmd);
        let _ = crate::protocol::headers::BrokerIdentityHeader::decode(&cmd);
        let _ = crate::protocol::headers::GetRouteInfoRequestHeader::decode(&cmd);
    }
}

/// The lenient JSON parser; what parses must survive the writer.
pub fn fastjson(data: &[u8]) {
    if let Ok(v) = fastjson::parse(data) {
        for d in [fastjson::Dialect::Legacy, fastjson::Dialect::Standard] {
            let mut w = fastjson::JsonWriter::new(d);
            w.value(&v);
            let text = w.finish();
            assert!(
                fastjson::parse(text.as_bytes()).is_ok(),
                "writer output does not parse: {text}"
            );
        }
    }
}

/// REGISTER_BROKER bodies: byte 0 picks version and the compressed flag.
pub fn register_body(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let version = match sel % 3 {
        0 => 36,
        1 => 400,
        _ => 479,
    };
    let compressed = sel & 4 != 0;
    let fast = RegisterBrokerBody::decode(Some(body), version, compressed, 4 << 20);
    // The plain-JSON fast path, whenever it answers, answers what the lenient path does.
    let lenient = RegisterBrokerBody::decode_lenient(Some(body), version, compressed, 4 << 20);
    assert_eq!(
        fast.ok(),
        lenient.ok(),
        "fast and lenient register body decoders disagree"
    );
}

/// REGISTER_TOPIC_IN_NAMESRV bodies.
pub fn route_body(data: &[u8]) {
    if let Ok(r) = TopicRouteData::decode(data) {
        for d in [fastjson::Dialect::Legacy, fastjson::Dialect::Standard] {
            let text = r.encode(d);
            assert!(
                TopicRouteData::decode(text.as_bytes()).is_ok(),
                "route re-encode does not decode: {text}"
            );
        }
    }
}

/// UPDATE_NAMESRV_CONFIG bodies and the kvConfig.json loader.
pub fn properties_and_kv(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(props) = parse_properties(text) {
            let mut c = NamesrvConfig::default();
            if c.apply_remote_update(&props).is_ok() {
                assert!(!c.to_properties_text().is_empty());
            }
        }
    }
    if let Ok(kv) = KvConfig::from_json(data) {
        assert_eq!(KvConfig::from_json(kv.to_json().as_bytes()).ok(), Some(kv));
    }
}

/// Structure-aware: the bytes are a stream of frames from a few connections, interleaved with
/// closes and time jumps; the machine's invariants must hold after every step.
pub fn machine(data: &[u8]) {
    let mut ns = NameServer::new(NamesrvConfig::default(), KvConfig::new(), 0);
    let mut now = 0u64;
    let mut bufs: [BytesMut; 3] = Default::default();
    let mut i = 0;
    while i < data.len() {
        let op = data[i];
        i += 1;
        let conn = usize::from(op >> 6) % 3;
        match op & 0x3f {
            0 => {
                drive(&mut ns, now, Input::Closed { conn: conn as u64 });
            }
            1 => {
                now += 1 + u64::from(*data.get(i).unwrap_or(&0)) * 1000;
                i += 1;
                drive(&mut ns, now, Input::Tick);
            }
            n => {
                let len = usize::from(n) * 4;
                let end = (i + len).min(data.len());
                bufs[conn].extend_from_slice(&data[i..end]);
                i = end;
                loop {
                    match decode_frame(&mut bufs[conn], FUZZ_MAX_FRAME) {
                        Ok(Some(cmd)) => {
                            let conn = conn as u64;
                            // Connection 1 goes the server's way (the read view answers reads
                            // and decodes registrations ahead); the others straight to the
                            // machine: both paths are fuzzed.
                            if conn == 1 {
                                // A registration is also applied by a copy with the
                                // unchanged-body path off, from the raw frame: both must agree.
                                let mut general = ns.clone();
                                general.set_unchanged_registrations(false);
                                let raw = cmd.clone();
                                if let Dispatch::Step(input) =
                                    ns.view().accept(now, conn, cmd, &NoRouteBodies)
                                {
                                    let registration = matches!(
                                        &input,
                                        Input::Request { request, .. } if request.is_fingerprinted()
                                    );
                                    let fx = drive(&mut ns, now, input);
                                    if registration {
                                        let by_general =
                                            drive(&mut general, now, Input::request(conn, raw));
                                        assert_eq!(fx, by_general, "unchanged-body path differs");
                                        assert!(
                                            ns.view().route() == general.view().route(),
                                            "unchanged-body path left other tables"
                                        );
                                    }
                                }
                            } else {
                                drive(&mut ns, now, Input::request(conn, cmd));
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            bufs[conn].clear();
                            drive(&mut ns, now, Input::Closed { conn: conn as u64 });
                            break;
                        }
                    }
                }
            }
        }
        if let Err(e) = ns.check_invariants() {
            panic!("invariant violated: {e}");
        }
    }
}

/// Steps the machine and completes every persistence it asks for (alternately failing, so
/// both replies are exercised).
fn drive(ns: &mut NameServer, now: u64, input: Input) -> Vec<crate::Effect> {
    let mut writes = 0u64;
    ns.step_persisting(now, input, |_, _| {
        writes += 1;
        if writes.is_multiple_of(2) {
            Ok(())
        } else {
            Err("disk full".to_owned())
        }
    })
}

/// A fuzz target: arbitrary bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, for the replay test.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame_decoder", frame_decoder),
    ("header", header),
    ("fastjson", fastjson),
    ("register_body", register_body),
    ("route_body", route_body),
    ("properties_and_kv", properties_and_kv),
    ("machine", machine),
    ("controller", controller),
    ("controller_bodies", controller_bodies),
];

/// The controller's body and record readers on arbitrary bytes: the log record decoder, the
/// 1001 SyncStateSet body, the 1006 name list. A record that decodes re-encodes to itself.
pub fn controller_bodies(data: &[u8]) {
    use crate::controller::{wire, Event};
    if let Ok(e) = Event::decode(data) {
        assert_eq!(Event::decode(&e.encode()), Ok(e));
    }
    let _ = wire::parse_sync_state_set(data);
    let mut replicas = crate::controller::Replicas::default();
    if let Ok(e) = Event::decode(data) {
        replicas.apply(&e);
    }
}

/// Structure-aware, as [`machine`]: a stream of raw frames on three connections, closes, time
/// jumps, and requests built from a few bytes (heartbeats, 1012/1013/1003, elections, ALTERs,
/// cleans) so deep states are reached without a corpus. Appends complete at once, one in
/// sixteen failing when the input says so; the invariants hold after every step, and the log
/// of completed appends replays to the controller's state.
pub fn controller(data: &[u8]) {
    use crate::controller::{Controller, ControllerConfig, Effect, Event, Input};
    let mut c = Controller::new(ControllerConfig::default(), Default::default(), 0, 0);
    let mut disk: Vec<Event> = Vec::new();
    let mut now = 0u64;
    let mut bufs: [BytesMut; 3] = Default::default();
    let mut i = 0;
    let mut fail_next = false;
    // Write leases granted, per set: (holder, until). No lease may go to another replica of a
    // set while the one before it holds (rocketmq-broker 1.0.0 writes only under a lease).
    let mut leases: std::collections::BTreeMap<String, (i64, u64)> = Default::default();
    let mut drive = |c: &mut Controller, now: u64, input: Input, fail: bool| {
        let mut replies = Vec::new();
        let mut pending = vec![input];
        while let Some(input) = pending.pop() {
            for e in c.step(now, input) {
                match e {
                    Effect::Reply { cmd, .. } => replies.push(cmd),
                    Effect::Append { ticket, events } => {
                        let result = if fail {
                            Err("disk full".to_owned())
                        } else {
                            disk.extend(events);
                            Ok(())
                        };
                        pending.push(Input::Appended { ticket, result });
                    }
                    Effect::PersistConfig { ticket, .. } => pending.push(Input::Appended {
                        ticket,
                        result: Ok(()),
                    }),
                    _ => {}
                }
            }
            if let Err(e) = c.check_invariants(now) {
                panic!("controller invariant violated: {e}");
            }
        }
        replies
    };
    let byte = |i: usize| u64::from(*data.get(i).unwrap_or(&0));
    while i < data.len() {
        let op = data[i];
        i += 1;
        let conn = u64::from(op >> 6) % 3;
        let set = format!("s{}", byte(i) % 3);
        let id = (byte(i) >> 2) % 4 + 1;
        let cmd = |code: i32, ext: &[(&str, String)]| {
            ext.iter()
                .fold(RemotingCommand::request(code), |r, (k, v)| {
                    r.with_ext(k, v.clone())
                })
        };
        let base = [("clusterName", "c".to_owned()), ("brokerName", set.clone())];
        let mut two_way_heartbeat = None;
        let built = match op & 0x3f {
            0 => {
                drive(&mut c, now, Input::Closed { conn }, false);
                None
            }
            1 => {
                now += 1 + byte(i) * 97;
                i += 1;
                drive(&mut c, now, Input::Tick, false);
                None
            }
            2 => {
                fail_next = byte(i) % 16 == 0;
                i += 1;
                None
            }
            3 => {
                let mut hb = cmd(904, &base)
                    .with_ext("brokerId", id.to_string())
                    .with_ext("brokerAddr", format!("10.0.0.{id}:1"))
                    .with_ext("epoch", (byte(i + 1) % 4).to_string())
                    .with_ext("maxOffset", byte(i + 2).to_string())
                    .with_ext(
                        "heartbeatTimeoutMills",
                        (1000 + byte(i + 3) * 50).to_string(),
                    );
                // Two-way, as rocketmq-broker 1.0.0 sends it: a master may get a lease.
                if byte(i + 1) & 0x80 == 0 {
                    hb.flag = crate::codec::command::flag::ONEWAY;
                } else {
                    two_way_heartbeat = Some((set.clone(), id as i64));
                }
                i += 4;
                Some(hb)
            }
            4 => {
                i += 1;
                Some(
                    cmd(1013, &base)
                        .with_ext("appliedBrokerId", id.to_string())
                        .with_ext(
                            "registerCheckCode",
                            format!("10.0.0.{id}:1;{}", byte(i) % 2),
                        ),
                )
            }
            5 => {
                i += 1;
                Some(
                    cmd(1003, &base)
                        .with_ext("brokerId", id.to_string())
                        .with_ext("brokerAddress", format!("10.0.0.{id}:{}", byte(i) % 2 + 1)),
                )
            }
            6 => {
                i += 1;
                Some(
                    cmd(1002, &base)
                        .with_ext(
                            "brokerId",
                            (id as i64 - (byte(i) % 2) as i64 * (id as i64 + 1)).to_string(),
                        )
                        .with_ext("designateElect", (byte(i) % 3 == 0).to_string()),
                )
            }
            7 => {
                let members: Vec<String> = (1..=4)
                    .filter(|m| byte(i + 1) & (1 << m) != 0)
                    .map(|m| m.to_string())
                    .collect();
                let body = format!(
                    "{{\"syncStateSet\":[{}],\"syncStateSetEpoch\":{}}}",
                    members.join(","),
                    byte(i + 2) % 4
                );
                let r = cmd(1001, &[("brokerName", set.clone())])
                    .with_ext("masterBrokerId", id.to_string())
                    .with_ext("masterEpoch", (byte(i + 3) % 4).to_string())
                    .with_body(body.into_bytes());
                i += 4;
                Some(r)
            }
            8 => {
                i += 1;
                Some(
                    cmd(1011, &base)
                        .with_ext("brokerControllerIdsToClean", id.to_string())
                        .with_ext("isCleanLivingBroker", (byte(i) % 5 == 0).to_string()),
                )
            }
            n => {
                let len = usize::from(n) * 4;
                let end = (i + len).min(data.len());
                let k = conn as usize;
                bufs[k].extend_from_slice(data.get(i..end).unwrap_or_default());
                i = end;
                loop {
                    match decode_frame(&mut bufs[k], FUZZ_MAX_FRAME) {
                        Ok(Some(cmd)) => {
                            drive(&mut c, now, Input::Request { conn, cmd }, fail_next);
                        }
                        Ok(None) => break,
                        Err(_) => {
                            bufs[k].clear();
                            drive(&mut c, now, Input::Closed { conn }, false);
                            break;
                        }
                    }
                }
                None
            }
        };
        if let Some(cmd) = built {
            let replies = drive(&mut c, now, Input::Request { conn, cmd }, fail_next);
            if let Some((set, id)) = two_way_heartbeat {
                let granted = replies
                    .iter()
                    .filter_map(|r| r.body.as_ref())
                    .filter_map(|b| fastjson::parse(b).ok())
                    .any(|v| v.get("leaseDurationMillis").is_some());
                if granted {
                    if let Some((holder, until)) = leases.get(&set) {
                        assert!(
                            *holder == id || now >= *until,
                            "set {set}: a lease to {id} while {holder}'s holds until {until} (now {now})"
                        );
                    }
                    leases.insert(set, (id, now + 10_000));
                }
            }
        }
    }
    let (state, n) = Controller::replay(&disk);
    assert!(
        &state == c.replicas(),
        "the log does not replay to the state"
    );
    assert_eq!(n, c.applied());
}
