//! The controller against Apache 5.3.3's captured frames (`tests/fixtures/frames/controller`,
//! copied from `shared/frames/controller`).
//!
//! 1. Every captured frame decodes, and re-encodes to a frame that decodes the same.
//! 2. The capture is replayed into our controller: every request the brokers, mqadmin and the
//!    probe sent to the leader (`ctrl:9878`) is stepped at its captured time on its own
//!    connection, the captured connection closes are stepped as `Closed`, and each reply must
//!    equal the captured one (code, remark, extFields, body), as must every
//!    NOTIFY_BROKER_ROLE_CHANGED sent to a broker. The capture keeps a periodic heartbeat only
//!    when it changes, so before each step every broker connection that heartbeats is given
//!    its last heartbeat again (the brokers sent one a second).
//!
//! Allowed differences, each for a reason the spec gives: SYSTEM_ERROR remarks (Apache's are
//! Java exception texts), the 1010 body (a listing of a different program's settings), and
//! the header key order (Apache's is a Java HashMap's).

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_frame, DEFAULT_MAX_FRAME};
use namesrv_core::controller::{Controller, ControllerConfig, Effect, Event, Input};
use namesrv_core::protocol::RemotingCommand;
use namesrv_tests::{frames_dir, read_hex_fixture};

fn dir() -> PathBuf {
    frames_dir().join("controller")
}

fn frame(n: u32, kind: &str) -> Option<RemotingCommand> {
    let path = dir().join(format!("{n:03}-{kind}.hex"));
    let fx = read_hex_fixture(&path).ok()?;
    let mut buf = BytesMut::from(&fx.bytes[..]);
    decode_frame(&mut buf, DEFAULT_MAX_FRAME).ok().flatten()
}

#[test]
fn every_controller_frame_decodes_and_round_trips() {
    let mut n = 0;
    for entry in std::fs::read_dir(dir()).expect("controller fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "hex") {
            continue;
        }
        let fx = read_hex_fixture(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut buf = BytesMut::from(&fx.bytes[..]);
        let cmd = decode_frame(&mut buf, DEFAULT_MAX_FRAME)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .unwrap_or_else(|| panic!("{}: not a whole frame", path.display()));
        assert!(buf.is_empty(), "{}: bytes left over", path.display());
        let mut out = BytesMut::new();
        encode_frame(&cmd, &mut out).expect("encodes");
        let again = decode_frame(&mut out, DEFAULT_MAX_FRAME)
            .expect("decodes")
            .expect("whole");
        assert_eq!(again, cmd, "{}", path.display());
        n += 1;
    }
    assert_eq!(n, 234, "every captured frame");
}

/// One line of `controller.log`.
#[derive(Debug)]
enum Line {
    Frame {
        n: u32,
        at: u64,
        src: String,
        dst: String,
        request: bool,
    },
    Fin {
        at: u64,
        client: String,
        server: String,
    },
    Mark(String),
}

fn millis(tok: &str) -> u64 {
    let secs: f64 = tok
        .trim_start_matches('+')
        .trim_end_matches('s')
        .parse()
        .expect("time");
    1_000_000 + (secs * 1000.0).round() as u64
}

fn parse_log() -> Vec<Line> {
    let text = std::fs::read_to_string(dir().join("controller.log")).expect("controller.log");
    let mut out = Vec::new();
    for l in text.lines() {
        let toks: Vec<&str> = l.split_whitespace().collect();
        if let Some(rest) = l.strip_prefix("## ") {
            let t: Vec<&str> = rest.split_whitespace().collect();
            if t.get(2) == Some(&"FIN") {
                // `## time +s FIN from the client on a:1 -> b:2`
                out.push(Line::Fin {
                    at: millis(t[1]),
                    client: t[7].to_owned(),
                    server: t[9].to_owned(),
                });
            } else if t.get(2) == Some(&"mark:") {
                out.push(Line::Mark(t[3..].join(" ")));
            }
        } else if let Some(n) = toks.first().and_then(|t| t.strip_prefix('#')) {
            out.push(Line::Frame {
                n: n.parse().expect("frame number"),
                at: millis(toks[2]),
                src: toks[3].to_owned(),
                dst: toks[5].to_owned(),
                request: toks[6] == "req",
            });
        }
    }
    out
}

const LEADER: &str = "ctrl:9878";

/// Our controller, completing each append at once (as the one-node shell does after fsync).
struct Replay {
    c: Controller,
    conns: BTreeMap<String, u64>,
    /// Per connection, its last heartbeat frame.
    heartbeats: BTreeMap<u64, RemotingCommand>,
    log: Vec<Event>,
    replies: Vec<(u64, RemotingCommand)>,
    notifies: Vec<(String, RemotingCommand)>,
}

impl Replay {
    fn conn(&mut self, who: &str) -> u64 {
        let next = self.conns.len() as u64 + 1;
        *self.conns.entry(who.to_owned()).or_insert(next)
    }

    fn step(&mut self, now: u64, input: Input) {
        let mut pending = vec![input];
        while let Some(input) = pending.pop() {
            for e in self.c.step(now, input) {
                match e {
                    Effect::Reply { conn, cmd } => self.replies.push((conn, cmd)),
                    Effect::Append { ticket, events } => {
                        self.log.extend(events);
                        pending.push(Input::Appended {
                            ticket,
                            result: Ok(()),
                        });
                    }
                    Effect::PersistConfig { ticket, .. } => pending.push(Input::Appended {
                        ticket,
                        result: Ok(()),
                    }),
                    Effect::Notify { broker_addr, cmd } => self.notifies.push((broker_addr, cmd)),
                    Effect::Note(_) => {}
                }
            }
            self.c
                .check_invariants(now)
                .unwrap_or_else(|e| panic!("at {now}: {e}"));
        }
    }

    fn keep_alive(&mut self, now: u64) {
        let hbs: Vec<(u64, RemotingCommand)> = self
            .heartbeats
            .iter()
            .map(|(c, h)| (*c, h.clone()))
            .collect();
        for (conn, cmd) in hbs {
            self.step(now, Input::Request { conn, cmd });
        }
    }
}

fn compare(n: u32, got: &RemotingCommand, want: &RemotingCommand, errs: &mut Vec<String>) {
    let mut diff = |what: &str, g: String, w: String| {
        if g != w {
            errs.push(format!("#{n} {what}: got {g}, want {w}"));
        }
    };
    diff("code", got.code.to_string(), want.code.to_string());
    diff("flag", got.flag.to_string(), want.flag.to_string());
    diff(
        "serialize",
        format!("{:?}", got.serialize_type),
        format!("{:?}", want.serialize_type),
    );
    if want.code != 1 {
        diff(
            "remark",
            format!("{:?}", got.remark),
            format!("{:?}", want.remark),
        );
    }
    let ext = |c: &RemotingCommand| {
        c.ext_fields.as_ref().map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "AccessKey" && *k != "Signature")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        })
    };
    diff(
        "extFields",
        format!("{:?}", ext(got)),
        format!("{:?}", ext(want)),
    );
    let body = |c: &RemotingCommand| {
        c.body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    if want.code != 0 || !body(want).contains("controllerStorePath") {
        diff("body", body(got), body(want));
    }
}

#[test]
fn the_captured_run_replays_reply_for_reply() {
    let mut config = ControllerConfig::default();
    config
        .set(
            "controllerDLegerPeers",
            "n0-127.0.0.1:9878;n1-127.0.0.1:9868;n2-127.0.0.1:9858",
        )
        .unwrap();
    config.set("controllerDLegerGroup", "group1").unwrap();
    config.set("controllerDLegerSelfId", "n0").unwrap();
    let lines = parse_log();
    let mut r = Replay {
        c: Controller::new(config, Default::default(), 0, 1_000_000),
        conns: BTreeMap::new(),
        heartbeats: BTreeMap::new(),
        log: Vec::new(),
        replies: Vec::new(),
        notifies: Vec::new(),
    };
    let mut errs = Vec::new();
    let mut compared = 0;
    let mut notified = 0;
    // The captured group elected n0 between #2 and #3 (#2 names no leader).
    // Requests sent, by (connection, opaque), to match their captured replies.
    let mut sent: BTreeMap<(String, i32), u32> = BTreeMap::new();
    for line in &lines {
        match line {
            Line::Mark(m) if m.starts_with("SIGKILL controller leader") => break,
            Line::Mark(_) => {}
            Line::Fin { at, client, server } => {
                if server == LEADER {
                    if let Some(conn) = r.conns.remove(client) {
                        r.heartbeats.remove(&conn);
                        r.keep_alive(*at);
                        r.step(*at, Input::Closed { conn });
                    }
                }
            }
            Line::Frame {
                n,
                at,
                src,
                dst,
                request,
            } => {
                if *n == 3 {
                    r.step(
                        *at,
                        Input::Leader {
                            leader: Some("n0".into()),
                        },
                    );
                }
                if *request && dst == LEADER {
                    let cmd = frame(*n, "req").unwrap_or_else(|| panic!("#{n}"));
                    let conn = r.conn(src);
                    r.keep_alive(*at);
                    if cmd.code == 904 && cmd.is_oneway() {
                        r.heartbeats.insert(conn, cmd.clone());
                    }
                    sent.insert((src.clone(), cmd.opaque), *n);
                    r.step(*at, Input::Request { conn, cmd });
                } else if !*request && src == LEADER {
                    let want = frame(*n, "resp").unwrap_or_else(|| panic!("#{n}"));
                    let conn = r.conns[dst.as_str()];
                    let Some(i) = r
                        .replies
                        .iter()
                        .position(|(c, cmd)| *c == conn && cmd.opaque == want.opaque)
                    else {
                        errs.push(format!(
                            "#{n}: no reply from us (to #{:?})",
                            sent.get(&(dst.clone(), want.opaque))
                        ));
                        continue;
                    };
                    let (_, got) = r.replies.remove(i);
                    compare(*n, &got, &want, &mut errs);
                    compared += 1;
                } else if *request && src.starts_with("ctrl-jvm") {
                    let want = frame(*n, "req").unwrap_or_else(|| panic!("#{n}"));
                    let port = dst.trim_start_matches("broker:");
                    let Some(i) = r
                        .notifies
                        .iter()
                        .position(|(addr, _)| addr.ends_with(&format!(":{port}")))
                    else {
                        errs.push(format!(
                            "#{n}: no NOTIFY_BROKER_ROLE_CHANGED to {dst} from us"
                        ));
                        continue;
                    };
                    let (_, got) = r.notifies.remove(i);
                    let mut got = got;
                    got.opaque = want.opaque;
                    compare(*n, &got, &want, &mut errs);
                    notified += 1;
                }
            }
        }
    }
    for (conn, cmd) in &r.replies {
        errs.push(format!("an extra reply on connection {conn}: {cmd:?}"));
    }
    for (addr, _) in &r.notifies {
        errs.push(format!("an extra notification to {addr}"));
    }
    assert!(
        errs.is_empty(),
        "{} mismatches:\n{}",
        errs.len(),
        errs.join("\n")
    );
    assert!(compared > 80, "compared {compared} replies");
    assert_eq!(notified, 3, "the three notifications of the capture");
    // The state is the fold of what was appended.
    let (state, n) = Controller::replay(&r.log);
    assert_eq!(&state, r.c.replicas());
    assert_eq!(n, r.c.applied());
}
