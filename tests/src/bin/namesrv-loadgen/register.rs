//! The `register` mode: its broker registrations, the route clients alongside, and its options.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use namesrv_core::protocol::{BodyShape, RemotingCommand};
use namesrv_tests::harness::{topic, Reg};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::cli::{resolve, Opts};
use crate::conn::{check_reply, ReqTemplate};
use crate::load::{read_head, route_loop, ConnStats, LoadResult, Window};
use crate::register_run::register_run;
use crate::stats::{nanos, server_pid, CpuSample, CpuUse};

// --- register -------------------------------------------------------------------------------------------

/// Broker `b` of the register mode: group `b / spread` shares topics `reg-topic-{g*K .. g*K+K}`.
pub(crate) fn register_cmd(b: usize, spread: usize, topics: usize) -> RemotingCommand {
    let g = b / spread;
    let names: Vec<String> = (0..topics)
        .map(|j| format!("reg-topic-{}", g * topics + j))
        .collect();
    // Loopback addresses only: nothing may ever dial a synthetic broker elsewhere.
    let host = format!(
        "127.{}.{}.{}",
        1 + ((b >> 16) & 0x7f),
        (b >> 8) & 0xff,
        b & 0xff
    );
    let reg = Reg::new(
        "RegBench",
        &format!("{host}:10911"),
        &format!("reg-broker-{b}"),
        0,
    )
    .ha(&format!("{host}:10912"))
    .topic_configs(names.iter().map(|t| topic(t)).collect());
    java_command(&reg)
}

/// `reg`'s REGISTER_BROKER with the body a 5.x Java broker sends (the core's
/// [`BodyShape::Java5`]): rocketmq-namesrv requires it (it refuses our leaner body) and the
/// others read or skip it. Every server under test gets the same bytes.
pub(crate) fn java_command(reg: &Reg) -> RemotingCommand {
    reg.clone().shape(BodyShape::Java5).command()
}

pub(crate) struct BrokerConn {
    pub(crate) stream: tokio::net::TcpStream,
    pub(crate) template: ReqTemplate,
    pub(crate) buf: BytesMut,
    pub(crate) seq: u32,
}

impl BrokerConn {
    /// One registration; its latency.
    pub(crate) async fn register(&mut self) -> Result<u64, String> {
        self.register_with(&[]).await
    }

    /// One registration whose frame is the template followed by `tail` (a body shared by
    /// many brokers, the template's length field counting it); its latency.
    pub(crate) async fn register_with(&mut self, tail: &[u8]) -> Result<u64, String> {
        let opaque = self.template.set_opaque(self.seq);
        self.seq = self.seq.wrapping_add(1);
        let t0 = Instant::now();
        self.stream
            .write_all(&self.template.bytes)
            .await
            .map_err(|e| format!("write: {e}"))?;
        if !tail.is_empty() {
            self.stream
                .write_all(tail)
                .await
                .map_err(|e| format!("write: {e}"))?;
        }
        let head = read_head(&mut self.stream, &mut self.buf).await?;
        let ns = nanos(t0.elapsed());
        check_reply(&head, &self.buf, opaque, "REGISTER_BROKER")?;
        self.buf.advance(head.len);
        Ok(ns)
    }
}

pub(crate) struct Clients {
    pub(crate) streams: Vec<tokio::net::TcpStream>,
    pub(crate) templates: Arc<Vec<ReqTemplate>>,
    /// The server, for CPU accounting over each window.
    pub(crate) pid: Option<u32>,
}

impl Clients {
    /// Every client in a closed loop over the window; the streams come back afterwards.
    pub(crate) async fn run(&mut self, w: Window, grace: Duration) -> LoadResult {
        let mut result = LoadResult::empty(self.streams.len());
        result.runs = 1;
        result.secs = (w.end - w.from).as_secs_f64();
        let mut tasks = Vec::new();
        for (i, mut s) in std::mem::take(&mut self.streams).into_iter().enumerate() {
            let mut templates = self.templates.as_ref().clone();
            tasks.push(tokio::spawn(async move {
                let mut stats = ConnStats::new();
                let run = route_loop(&mut s, &mut templates, i * 7, w, &mut stats);
                let err = match tokio::time::timeout_at((w.end + grace).into(), run).await {
                    Ok(r) => r.err(),
                    Err(_) => Some(format!("no reply within {grace:?} (server stuck?)")),
                };
                (s, stats, err)
            }));
        }
        tokio::time::sleep_until(w.from.into()).await;
        let before = CpuSample::take(self.pid);
        tokio::time::sleep_until(w.end.into()).await;
        result.cpu = CpuUse::between(&before, &CpuSample::take(self.pid));
        for t in tasks {
            match t.await {
                Ok((s, stats, err)) => {
                    if err.is_none() {
                        self.streams.push(s);
                    }
                    result.absorb(&stats, err);
                }
                Err(e) => result.errors.push(format!("client task failed: {e}")),
            }
        }
        result
    }
}

pub(crate) fn register_mode(o: &Opts) -> Result<(), String> {
    o.allow(&[
        "addr", "brokers", "topics", "spread", "period", "duration", "clients", "idle", "warmup",
        "threads", "timeout", "pid", "json",
    ])?;
    let addr = resolve(o.req("addr")?)?;
    let brokers = o.positive("brokers", 1000)?;
    let topics = o.positive("topics", 100)?;
    if topics < 2 {
        // A first registration of exactly one topic is refused (the single-topic guard).
        return Err("--topics must be at least 2 for register".into());
    }
    let spread = o.positive("spread", 10)?.min(brokers);
    let period = o.secs("period", 30.0)?;
    let duration = o.secs("duration", period.as_secs_f64())?;
    let clients = o.num("clients", 128usize)?;
    let idle = o.secs("idle", 5.0)?;
    let warmup = o.secs("warmup", 1.0)?;
    let threads = o.positive("threads", 2)?;
    let timeout = o.secs("timeout", 30.0)?;
    let json_out = o.flag("json");
    if period.is_zero() {
        return Err("--period must be above 0".into());
    }
    let pid = server_pid(o.pid("pid")?, addr);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let plan = RegisterPlan {
        addr,
        brokers,
        topics,
        spread,
        period,
        duration,
        clients,
        idle,
        warmup,
        timeout,
        pid,
    };
    let report = rt.block_on(register_run(plan))?;
    if json_out {
        println!("{}", report.json);
    } else {
        print!("{}", report.text);
    }
    match report.errors.first() {
        None => Ok(()),
        Some(first) => Err(format!(
            "register run on {addr} had {} errors; first: {first}",
            report.errors.len()
        )),
    }
}

pub(crate) struct RegisterPlan {
    pub(crate) addr: SocketAddr,
    pub(crate) brokers: usize,
    pub(crate) topics: usize,
    pub(crate) spread: usize,
    pub(crate) period: Duration,
    pub(crate) duration: Duration,
    pub(crate) clients: usize,
    pub(crate) idle: Duration,
    pub(crate) warmup: Duration,
    pub(crate) timeout: Duration,
    pub(crate) pid: Option<u32>,
}

pub(crate) struct RegisterReport {
    pub(crate) text: String,
    pub(crate) json: Value,
    pub(crate) errors: Vec<String>,
}
