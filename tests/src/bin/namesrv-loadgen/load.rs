//! The route load: closed-loop connections (async or blocking) over one measurement window,
//! and their results.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::conn::{check_reply, peek_frame, route_request, Head, ReqTemplate};
use crate::stats::{fmt_ns, fmt_rate, nanos, us, wait_for_quiet, CpuSample, CpuUse, Hist};

// --- the route load ---------------------------------------------------------------------------------------

#[derive(Clone)]
pub(crate) struct LoadSpec {
    pub(crate) addr: SocketAddr,
    pub(crate) conns: usize,
    pub(crate) threads: usize,
    pub(crate) blocking: bool,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) timeout: Duration,
    pub(crate) templates: Arc<Vec<ReqTemplate>>,
    /// The server process, for its CPU time.
    pub(crate) pid: Option<u32>,
    /// Wait up to this long for an idle machine before the run.
    pub(crate) quiet_wait: Duration,
}

/// When a run starts, when its measurement window opens, and when it ends.
#[derive(Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: Instant,
    pub(crate) from: Instant,
    pub(crate) end: Instant,
}

pub(crate) struct ConnStats {
    requests: u64,
    hist: Hist,
}

impl ConnStats {
    pub(crate) fn new() -> Self {
        Self {
            requests: 0,
            hist: Hist::new(),
        }
    }
}

pub(crate) struct LoadResult {
    conns: usize,
    /// How many runs were added up (compare rounds).
    pub(crate) runs: usize,
    pub(crate) secs: f64,
    requests: u64,
    pub(crate) hist: Hist,
    pub(crate) errors: Vec<String>,
    pub(crate) cpu: CpuUse,
}

impl LoadResult {
    pub(crate) fn empty(conns: usize) -> Self {
        Self {
            conns,
            runs: 0,
            secs: 0.0,
            requests: 0,
            hist: Hist::new(),
            errors: Vec::new(),
            cpu: CpuUse::default(),
        }
    }

    /// Server CPU per request, in microseconds.
    pub(crate) fn server_us_per_request(&self) -> Option<f64> {
        self.cpu
            .server
            .filter(|_| self.requests > 0)
            .map(|s| s * 1e6 / self.requests as f64)
    }

    pub(crate) fn cpu_text(&self) -> String {
        let f = |x: Option<f64>| x.map_or_else(|| "n/a".into(), |x| format!("{x:.2}"));
        format!(
            "server {} µs CPU/req; cores: server {}, loadgen {}, others {}{}",
            self.server_us_per_request()
                .map_or_else(|| "n/a".into(), |x| format!("{x:.1}")),
            f(self.cpu.cores(self.cpu.server)),
            f(self.cpu.cores(self.cpu.loadgen)),
            f(self.cpu.cores(self.cpu.others)),
            if self.cpu.noisy() {
                "  << NOISY: other processes used CPU during the run"
            } else {
                ""
            }
        )
    }

    pub(crate) fn rps(&self) -> f64 {
        if self.secs > 0.0 {
            self.requests as f64 / self.secs
        } else {
            0.0
        }
    }

    pub(crate) fn absorb(&mut self, stats: &ConnStats, error: Option<String>) {
        self.requests += stats.requests;
        self.hist.merge(&stats.hist);
        self.errors.extend(error);
    }

    /// Adds another run of the same load (compare rounds).
    pub(crate) fn add_run(&mut self, other: LoadResult) {
        self.runs += other.runs;
        self.secs += other.secs;
        self.requests += other.requests;
        self.hist.merge(&other.hist);
        self.errors.extend(other.errors);
        self.cpu.add(&other.cpu);
    }

    pub(crate) fn text(&self) -> String {
        format!(
            "{:>4} conns  {:>9} req/s  p50 {:>9}  p99 {:>9}  p99.9 {:>9}  max {:>9}  ({} requests{})",
            self.conns,
            fmt_rate(self.rps()),
            fmt_ns(self.hist.quantile(0.5)),
            fmt_ns(self.hist.quantile(0.99)),
            fmt_ns(self.hist.quantile(0.999)),
            fmt_ns(self.hist.max),
            self.requests,
            if self.errors.is_empty() {
                String::new()
            } else {
                format!(", {} connections failed", self.errors.len())
            }
        )
    }

    pub(crate) fn json(&self) -> Value {
        json!({
            "conns": self.conns,
            "seconds": self.secs,
            "requests": self.requests,
            "rps": self.rps().round(),
            "p50_us": us(self.hist.quantile(0.5)),
            "p99_us": us(self.hist.quantile(0.99)),
            "p999_us": us(self.hist.quantile(0.999)),
            "max_us": us(self.hist.max),
            "mean_us": us(self.hist.mean()),
            "errors": self.errors.len(),
            "server_cpu_us_per_req": self.server_us_per_request(),
            "cpu_cores": {
                "server": self.cpu.cores(self.cpu.server),
                "loadgen": self.cpu.cores(self.cpu.loadgen),
                "others": self.cpu.cores(self.cpu.others),
            },
            "noisy": self.cpu.noisy(),
        })
    }

    /// An error listing the failures, if any connection failed.
    pub(crate) fn failures(&self, addr: SocketAddr) -> Result<(), String> {
        match self.errors.first() {
            None => Ok(()),
            Some(first) => Err(format!(
                "{} of {} connections to {addr} failed; first: {first}",
                self.errors.len(),
                self.conns * self.runs.max(1)
            )),
        }
    }
}

pub(crate) fn route_templates(topics: &[String]) -> Result<Arc<Vec<ReqTemplate>>, String> {
    let t = topics
        .iter()
        .map(|t| ReqTemplate::new(route_request(t)))
        .collect::<Result<Vec<_>, _>>()?;
    if t.is_empty() {
        return Err("no topics".into());
    }
    Ok(Arc::new(t))
}

/// One closed-loop connection: request, wait for its reply, record, repeat until the end.
pub(crate) async fn route_loop(
    s: &mut tokio::net::TcpStream,
    templates: &mut [ReqTemplate],
    first: usize,
    w: Window,
    stats: &mut ConnStats,
) -> Result<(), String> {
    tokio::time::sleep_until(w.start.into()).await;
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut seq: u32 = first as u32;
    let mut i = first % templates.len();
    loop {
        let t0 = Instant::now();
        if t0 >= w.end {
            return Ok(());
        }
        let n = templates.len();
        let req = &mut templates[i];
        i = if i + 1 == n { 0 } else { i + 1 };
        let opaque = req.set_opaque(seq);
        seq = seq.wrapping_add(1);
        s.write_all(&req.bytes)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let head = read_head(s, &mut buf).await?;
        let t1 = Instant::now();
        check_reply(&head, &buf, opaque, "GET_ROUTEINFO_BY_TOPIC")?;
        buf.advance(head.len);
        if t1 >= w.from && t1 < w.end {
            stats.hist.record(nanos(t1 - t0));
            stats.requests += 1;
        }
    }
}

pub(crate) async fn read_head(
    s: &mut tokio::net::TcpStream,
    buf: &mut BytesMut,
) -> Result<Head, String> {
    loop {
        if let Some(h) = peek_frame(buf)? {
            return Ok(h);
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(16 * 1024);
        }
        match s.read_buf(buf).await {
            Ok(0) => return Err("server closed the connection".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// The blocking twin of [`route_loop`], one OS thread per connection.
fn route_loop_blocking(
    s: &mut StdStream,
    templates: &mut [ReqTemplate],
    first: usize,
    w: Window,
    timeout: Duration,
    stats: &mut ConnStats,
) -> Result<(), String> {
    s.set_read_timeout(Some(timeout))
        .map_err(|e| format!("socket: {e}"))?;
    if let Some(wait) = w.start.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut seq: u32 = first as u32;
    let mut i = first % templates.len();
    loop {
        let t0 = Instant::now();
        if t0 >= w.end {
            return Ok(());
        }
        let n = templates.len();
        let req = &mut templates[i];
        i = if i + 1 == n { 0 } else { i + 1 };
        let opaque = req.set_opaque(seq);
        seq = seq.wrapping_add(1);
        s.write_all(&req.bytes).map_err(|e| format!("write: {e}"))?;
        let head = loop {
            if let Some(h) = peek_frame(&mut buf)? {
                break h;
            }
            match s.read(&mut chunk) {
                Ok(0) => return Err("server closed the connection".into()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("no reply within {timeout:?}: {e}")),
            }
        };
        let t1 = Instant::now();
        check_reply(&head, &buf, opaque, "GET_ROUTEINFO_BY_TOPIC")?;
        buf.advance(head.len);
        if t1 >= w.from && t1 < w.end {
            stats.hist.record(nanos(t1 - t0));
            stats.requests += 1;
        }
    }
}

/// Connects `spec.conns` connections, then runs them all over the same window.
pub(crate) fn run_route_load(spec: &LoadSpec) -> Result<LoadResult, String> {
    let addr = spec.addr;
    wait_for_quiet(spec.quiet_wait);
    let mut streams = Vec::with_capacity(spec.conns);
    for i in 0..spec.conns {
        let s = StdStream::connect_timeout(&addr, spec.timeout).map_err(|e| {
            format!(
                "connection {} of {}: cannot connect to {addr}: {e}",
                i + 1,
                spec.conns
            )
        })?;
        let _ = s.set_nodelay(true);
        streams.push(s);
    }
    let start = Instant::now() + Duration::from_millis(50);
    let w = Window {
        start,
        from: start + spec.warmup,
        end: start + spec.warmup + spec.duration,
    };
    let grace = spec.timeout;
    let mut result = LoadResult::empty(spec.conns);
    result.runs = 1;
    result.secs = spec.duration.as_secs_f64();

    let mut threads = Vec::new();
    if spec.blocking {
        for (i, mut s) in streams.into_iter().enumerate() {
            let mut templates = spec.templates.as_ref().clone();
            let timeout = spec.timeout;
            threads.push(std::thread::spawn(move || {
                let mut stats = ConnStats::new();
                let r = route_loop_blocking(&mut s, &mut templates, i, w, timeout, &mut stats);
                vec![(stats, r.err())]
            }));
        }
    } else {
        let nthreads = spec.threads.clamp(1, spec.conns);
        let mut shares: Vec<Vec<(usize, StdStream)>> = (0..nthreads).map(|_| Vec::new()).collect();
        for (i, s) in streams.into_iter().enumerate() {
            shares[i % nthreads].push((i, s));
        }
        for share in shares {
            let templates = spec.templates.clone();
            threads.push(std::thread::spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return vec![(ConnStats::new(), Some(format!("runtime: {e}")))],
                };
                rt.block_on(async move {
                    let mut tasks = Vec::new();
                    for (i, s) in share {
                        let mut templates = templates.as_ref().clone();
                        tasks.push(tokio::spawn(async move {
                            let mut stats = ConnStats::new();
                            let err = match prepare_async(s) {
                                Err(e) => Some(e),
                                Ok(mut s) => {
                                    let run = route_loop(&mut s, &mut templates, i, w, &mut stats);
                                    match tokio::time::timeout_at((w.end + grace).into(), run).await
                                    {
                                        Ok(r) => r.err(),
                                        Err(_) => Some(format!(
                                            "no reply within {grace:?} (server stuck?)"
                                        )),
                                    }
                                }
                            };
                            (stats, err)
                        }));
                    }
                    let mut out = Vec::new();
                    for t in tasks {
                        out.push(t.await.unwrap_or_else(|e| {
                            (ConnStats::new(), Some(format!("load task failed: {e}")))
                        }));
                    }
                    out
                })
            }));
        }
    }
    // Sample CPU times over the measurement window while the load threads run.
    let sleep_until = |t: Instant| {
        if let Some(d) = t.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    };
    sleep_until(w.from);
    let before = CpuSample::take(spec.pid);
    sleep_until(w.end);
    result.cpu = CpuUse::between(&before, &CpuSample::take(spec.pid));
    for t in threads {
        match t.join() {
            Ok(outcomes) => {
                for (stats, err) in outcomes {
                    result.absorb(&stats, err);
                }
            }
            Err(_) => result.errors.push("load thread panicked".into()),
        }
    }
    Ok(result)
}

fn prepare_async(s: StdStream) -> Result<tokio::net::TcpStream, String> {
    s.set_nonblocking(true)
        .map_err(|e| format!("socket: {e}"))?;
    tokio::net::TcpStream::from_std(s).map_err(|e| format!("socket: {e}"))
}
