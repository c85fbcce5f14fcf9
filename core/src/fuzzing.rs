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
];
