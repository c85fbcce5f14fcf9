//! The `scale` mode (issue 15): a big cluster's registration storm. M brokers, each on its own
//! connection and each its own group, register the same K topics (Q queues each) all at once,
//! every period, for R rounds, with the DataVersion bumped each round or kept; route clients
//! query in closed loops throughout; the server's RSS is sampled every 100 ms (its peak, and
//! its value after each round); then every broker connection is closed and the RSS is read
//! again once the routes are gone.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use namesrv_core::protocol::bodies::DataVersion;
use namesrv_core::protocol::{response, BodyShape, RemotingCommand};
use namesrv_tests::harness::{topic, Reg};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::cli::{resolve, Opts};
use crate::conn::{check_reply, route_request, BlockingConn, ReqTemplate};
use crate::load::{read_head, route_templates};
use crate::register::BrokerConn;
use crate::register_run::hist_json;
use crate::stats::{fmt_ns, fmt_rss, nanos, rss_mib, rss_of, server_pid, Hist};

const CLUSTER: &str = "ScaleCluster";

struct Plan {
    addr: SocketAddr,
    brokers: usize,
    topics: usize,
    queues: i32,
    rounds: usize,
    period: Duration,
    keep_dv: bool,
    clients: usize,
    timeout: Duration,
    settle: Duration,
    pid: Option<u32>,
}

pub(crate) fn scale_mode(o: &Opts) -> Result<(), String> {
    o.allow(&[
        "addr", "brokers", "topics", "queues", "rounds", "period", "dv", "clients", "timeout",
        "settle", "threads", "pid", "json",
    ])?;
    let addr = resolve(o.req("addr")?)?;
    let keep_dv = match o.str("dv").unwrap_or("bump") {
        "bump" => false,
        "keep" => true,
        other => return Err(format!("--dv: {other:?} is neither bump nor keep")),
    };
    let topics = o.positive("topics", 10_000)?;
    if topics < 2 {
        return Err("--topics must be at least 2 (the single-topic guard)".into());
    }
    let plan = Plan {
        addr,
        brokers: o.positive("brokers", 300)?,
        topics,
        queues: o.num("queues", 8)?,
        rounds: o.positive("rounds", 3)?,
        period: o.secs("period", 20.0)?,
        keep_dv,
        clients: o.num("clients", 8)?,
        timeout: o.secs("timeout", 60.0)?,
        settle: o.secs("settle", 30.0)?,
        pid: server_pid(o.pid("pid")?, addr),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.positive("threads", 2)?)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let (text, json, errors) = rt.block_on(run(plan))?;
    if o.flag("json") {
        println!("{json}");
    } else {
        print!("{text}");
    }
    match errors.first() {
        None => Ok(()),
        Some(first) => Err(format!(
            "scale run on {addr} had {} errors; first: {first}",
            errors.len()
        )),
    }
}

fn broker_addr(b: usize) -> String {
    // Loopback addresses only: nothing may ever dial a synthetic broker elsewhere.
    format!(
        "127.{}.{}.{}:10911",
        1 + ((b >> 16) & 0x7f),
        (b >> 8) & 0xff,
        b & 0xff
    )
}

/// One round's registrations: the body every broker sends (the same bytes: a body names no
/// broker) and each broker's header-only frame, its length covering the body.
fn round_frames(
    p: &Plan,
    round: usize,
    names: &[String],
) -> Result<(Bytes, Vec<ReqTemplate>), String> {
    let counter = if p.keep_dv { 1 } else { round as i64 + 1 };
    let tcs = names
        .iter()
        .map(|name| {
            let mut tc = topic(name);
            tc.read_queue_nums = p.queues;
            tc.write_queue_nums = p.queues;
            tc
        })
        .collect();
    let cmd = Reg::new(CLUSTER, &broker_addr(0), "scale-broker-0", 0)
        .topic_configs(tcs)
        .dv(DataVersion {
            state_version: 0,
            timestamp: 1_700_000_000_000,
            counter,
        })
        .shape(BodyShape::Java5)
        .command();
    let body = cmd.body.clone().unwrap_or_default();
    let mut frames = Vec::with_capacity(p.brokers);
    for b in 0..p.brokers {
        let addr = broker_addr(b);
        let ha = addr.replace(":10911", ":10912");
        let head: RemotingCommand = RemotingCommand {
            body: None,
            ..cmd.clone()
        }
        .with_ext("brokerAddr", addr)
        .with_ext("brokerName", format!("scale-broker-{b}"))
        .with_ext("haServerAddr", ha);
        let mut t = ReqTemplate::new(head)?;
        let total = u32::from_be_bytes([t.bytes[0], t.bytes[1], t.bytes[2], t.bytes[3]]);
        let total = u32::try_from(body.len())
            .ok()
            .and_then(|n| total.checked_add(n))
            .ok_or("register body too large for a frame")?;
        t.bytes[..4].copy_from_slice(&total.to_be_bytes());
        frames.push(t);
    }
    Ok((body, frames))
}

/// A closed loop of route queries until `stop`; TOPIC_NOT_EXIST (before the first round is
/// applied) counts as an answer.
async fn query_loop(
    addr: SocketAddr,
    first: usize,
    templates: Arc<Vec<ReqTemplate>>,
    stop: Arc<AtomicBool>,
) -> Result<Hist, String> {
    let mut templates = templates.as_ref().clone();
    let topics = templates.len();
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("client connect: {e}"))?;
    let _ = s.set_nodelay(true);
    let mut buf = BytesMut::with_capacity(128 * 1024);
    let mut hist = Hist::new();
    let mut seq = first as u32;
    let mut i = first * 997 % topics;
    while !stop.load(Ordering::Relaxed) {
        let t = &mut templates[i];
        i = (i + 7919) % topics;
        let opaque = t.set_opaque(seq);
        seq = seq.wrapping_add(1);
        let t0 = Instant::now();
        s.write_all(&t.bytes)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let head = read_head(&mut s, &mut buf).await?;
        hist.record(nanos(t0.elapsed()));
        if head.code != response::TOPIC_NOT_EXIST {
            check_reply(&head, &buf, opaque, "GET_ROUTEINFO_BY_TOPIC")?;
        }
        buf.advance(head.len);
    }
    Ok(hist)
}

async fn run(p: Plan) -> Result<(String, Value, Vec<String>), String> {
    use std::fmt::Write as _;
    let mut text = String::new();
    let mut errors = Vec::new();
    let names: Vec<String> = (0..p.topics).map(|j| format!("scale-topic-{j}")).collect();
    let mut frames = Vec::with_capacity(p.rounds);
    let mut body_len = 0;
    for r in 0..p.rounds {
        // With the DataVersion kept every round sends the same bytes.
        if p.keep_dv && r > 0 {
            break;
        }
        let f = round_frames(&p, r, &names)?;
        body_len = f.0.len();
        frames.push(f);
    }
    let _ = writeln!(
        text,
        "scale on {}: {} brokers x {} topics x {} queues ({:.2} MB body, {} queue entries), \
         {} rounds every {:?}, DataVersion {}",
        p.addr,
        p.brokers,
        p.topics,
        p.queues,
        body_len as f64 / 1e6,
        p.brokers * p.topics,
        p.rounds,
        p.period,
        if p.keep_dv {
            "kept"
        } else {
            "bumped each round"
        }
    );

    // RSS every 100 ms: the peak of the run and of the current round.
    let peak = Arc::new(AtomicU64::new(0));
    let round_peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, round_peak, sampling, pid) =
            (peak.clone(), round_peak.clone(), sampling.clone(), p.pid);
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Some(kib) = rss_of(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                    round_peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let rss_start = rss_of(p.pid);

    let mut brokers = Vec::with_capacity(p.brokers);
    for _ in 0..p.brokers {
        let stream = tokio::time::timeout(p.timeout, tokio::net::TcpStream::connect(p.addr))
            .await
            .map_err(|_| format!("broker connect to {}: timed out", p.addr))?
            .map_err(|e| format!("broker connect to {}: {e}", p.addr))?;
        let _ = stream.set_nodelay(true);
        brokers.push(Some(BrokerConn {
            stream,
            // Each round puts its own frame here.
            template: frames[0].1[0].clone(),
            buf: BytesMut::with_capacity(8 * 1024),
            seq: 0,
        }));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let queries_of = route_templates(&names)?;
    let clients: Vec<_> = (0..p.clients)
        .map(|c| tokio::spawn(query_loop(p.addr, c, queries_of.clone(), stop.clone())))
        .collect();

    let t0 = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut rounds_json = Vec::new();
    for r in 0..p.rounds {
        let (body, templates) = &frames[r.min(frames.len() - 1)];
        let at = t0 + p.period * r as u32;
        tokio::time::sleep_until(at).await;
        round_peak.store(0, Ordering::Relaxed);
        let mut tasks = Vec::new();
        for (b, slot) in brokers.iter_mut().enumerate() {
            let Some(mut c) = slot.take() else { continue };
            c.template = templates[b].clone();
            let body = body.clone();
            let timeout = p.timeout;
            tasks.push(tokio::spawn(async move {
                let r = match tokio::time::timeout(timeout, c.register_with(&body)).await {
                    Ok(r) => r,
                    Err(_) => Err(format!("no reply within {timeout:?}")),
                };
                (b, c, r)
            }));
        }
        let mut hist = Hist::new();
        let mut failed = Vec::new();
        for t in tasks {
            match t.await {
                Ok((b, c, Ok(ns))) => {
                    hist.record(ns);
                    brokers[b] = Some(c);
                }
                // A broker whose registration failed leaves the run (its connection closes).
                Ok((_, _, Err(e))) => failed.push(e),
                Err(e) => failed.push(format!("broker task failed: {e}")),
            }
        }
        let wall = at.elapsed();
        let rss_after = rss_of(p.pid);
        // A round shorter than the sampling period may see no sample: its end is one.
        let rpeak = Some(round_peak.load(Ordering::Relaxed))
            .max(rss_after)
            .filter(|k| *k > 0);
        let _ = writeln!(
            text,
            "  round {}: {} accepted, {} failed, all answered in {}; registration p50 {}  p99 {}  \
             max {}; RSS peak {}, after {}",
            r + 1,
            hist.n,
            failed.len(),
            fmt_ns(nanos(wall)),
            fmt_ns(hist.quantile(0.5)),
            fmt_ns(hist.quantile(0.99)),
            fmt_ns(hist.max),
            fmt_rss(rpeak),
            fmt_rss(rss_after)
        );
        if let Some(e) = failed.first() {
            let _ = writeln!(text, "           first failure: {e}");
            errors.push(format!(
                "round {}: {} registrations failed: {e}",
                r + 1,
                failed.len()
            ));
        }
        rounds_json.push(json!({
            "round": r + 1,
            "accepted": hist.n,
            "failed": failed.len(),
            "wall_ms": wall.as_secs_f64() * 1e3,
            "registration": hist_json(&hist),
            "rss_peak_mib": rss_mib(rpeak),
            "rss_after_mib": rss_mib(rss_after),
        }));
    }
    stop.store(true, Ordering::Relaxed);
    let mut queries = Hist::new();
    for c in clients {
        match c.await {
            Ok(Ok(h)) => queries.merge(&h),
            Ok(Err(e)) => errors.push(format!("route client: {e}")),
            Err(e) => errors.push(format!("route client task: {e}")),
        }
    }
    let _ = writeln!(
        text,
        "  route queries during the storm: {} answered; p50 {}  p99 {}  max {}",
        queries.n,
        fmt_ns(queries.quantile(0.5)),
        fmt_ns(queries.quantile(0.99)),
        fmt_ns(queries.max)
    );

    // Every broker leaves at once; wait for its routes to go, then for the memory to.
    brokers.clear();
    let (addr, settle) = (p.addr, p.settle);
    let gone = tokio::task::spawn_blocking(move || {
        let left = Instant::now();
        while left.elapsed() < settle {
            let code = BlockingConn::connect(addr, Duration::from_secs(5))
                .and_then(|mut c| c.call(route_request("scale-topic-0")))
                .map(|r| r.code);
            if code == Ok(response::TOPIC_NOT_EXIST) {
                return Some(left.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    })
    .await
    .map_err(|e| format!("waiting for the routes to go: {e}"))?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_left = rss_of(p.pid);
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let rss_peak = Some(peak.load(Ordering::Relaxed)).filter(|k| *k > 0);
    let _ = writeln!(
        text,
        "  every broker left: routes gone in {}; RSS at start {}, peak {}, 2 s after the routes \
         went {}",
        gone.map_or_else(|| format!("more than {:?}", p.settle), |d| fmt_ns(nanos(d))),
        fmt_rss(rss_start),
        fmt_rss(rss_peak),
        fmt_rss(rss_left)
    );
    if gone.is_none() {
        errors.push(format!(
            "routes still there {:?} after every broker left",
            p.settle
        ));
    }
    let json = json!({
        "mode": "scale",
        "addr": p.addr.to_string(),
        "brokers": p.brokers,
        "topics": p.topics,
        "queues": p.queues,
        "body_bytes": body_len,
        "data_version": if p.keep_dv { "kept" } else { "bumped" },
        "rounds": rounds_json,
        "queries": hist_json(&queries),
        "routes_gone_ms": gone.map(|d| d.as_secs_f64() * 1e3),
        "rss_start_mib": rss_mib(rss_start),
        "rss_peak_mib": rss_mib(rss_peak),
        "rss_after_left_mib": rss_mib(rss_left),
        "errors": errors,
    });
    Ok((text, json, errors))
}
