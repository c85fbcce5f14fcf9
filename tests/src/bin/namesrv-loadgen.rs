//! `namesrv-loadgen`: load for any RocketMQ NameServer, over the remoting protocol (issue 10).
//!
//! ```text
//! namesrv-loadgen route    --addr A [--conns C] [--duration D] [--topics N]
//! namesrv-loadgen register --addr A [--brokers M] [--topics K] [--period S] [--clients C]
//! namesrv-loadgen compare  --a A --b B [--conns 1,16,128] [--duration D] [--rounds R]
//! namesrv-loadgen null-server --listen ADDR
//! ```
//!
//! Run `namesrv-loadgen help` for every option. Requests are pre-encoded JSON frames (what a
//! Java client sends) whose opaque is patched in place; replies are checked from their header
//! alone (length, opaque, code), so the generator spends as little of the shared CPU as it can.
//! Latencies go to a log-linear histogram (128 sub-buckets per power of two, < 0.8% error).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use namesrv_core::codec::frame::decode_command;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::bodies::TopicRouteData;
use namesrv_core::protocol::{flag, request, response, RemotingCommand, SerializeType};
use namesrv_tests::harness::{topic, with_body_and_crc, Harness, Reg};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USAGE: &str = "\
namesrv-loadgen: load for RocketMQ NameServers over the remoting protocol

MODES
  route --addr A [--conns 16] [--duration 10] [--warmup 1] [--topics 100]
        C connections, each a closed loop of GET_ROUTEINFO_BY_TOPIC (105) over the topic set.
        Before the run, one broker registers the topics on a connection kept open for the run
        (--no-register skips that). Reports req/s, p50/p99/p99.9 latency, server RSS.
  register --addr A [--brokers 1000] [--topics 100] [--spread 10] [--period 30]
        [--duration PERIOD] [--clients 128] [--idle 5]
        M brokers, each on its own connection, register (103) K topics all at once (burst);
        then C clients query routes for --idle seconds (idle baseline); then for --duration
        seconds every broker re-registers each --period seconds (spread evenly) while the
        clients query. Brokers come in groups of --spread sharing the same K topics (so
        M/spread*K topics, M*K queue entries). Reports registration latency, query latency
        idle vs loaded, and the server's RSS.
  compare --a A --b B [--label-a a] [--label-b b] [--conns 1,16,128] [--duration 10]
        [--rounds 1] [--warmup 1] [--topics 100] [--pid-a P] [--pid-b P]
        The route load against A, then B, alternately (A B A B ... per connection count);
        prints each run, then a table with the ratios A/B.
  startup --addr A --cmd 'PROGRAM ARGS...' [--runs 10]
        Starts the server (the command, split at spaces, inheriting this environment) and
        measures the time to its first accepted connection and to its first reply (a
        GET_ROUTEINFO_BY_TOPIC, whatever its code), then kills it; the median and the worst
        of the runs.
  null-server --listen ADDR [--threads N]
        Answers every request with one precomputed reply (the route our server gives for the
        setup broker), echoing the opaque, with no lookup: the ceiling of loopback + syscalls.

COMMON OPTIONS
  --threads T     load threads (route/compare: each a single-threaded tokio runtime, the
                  connections spread over them; default 1, one thread per connection with
                  --blocking); register: runtime workers (default 2)
  --blocking      route/compare: one OS thread per connection, blocking sockets
  --pid P         the server process for RSS (default: the process listening on the port)
  --json          one JSON object per result on stdout instead of text
  --timeout S     a reply later than this is an error (default 5)
  --quiet-wait S  route/compare: before each run, wait up to S seconds for the machine to
                  be idle (other processes under 0.1 core); every run reports the CPU
                  that other processes took during it, and flags it NOISY above 0.15 core
  --retry-noisy N route/compare: run again (up to N times) a run flagged NOISY

Durations are seconds (fractions allowed). Exit status 1 with a message on any error.
";

/// Fixed names of the setup broker. The null server's reply is the route our server gives
/// for exactly this broker, so both answer with the same bytes.
const BENCH_CLUSTER: &str = "BenchCluster";
const BENCH_BROKER: &str = "bench-broker-a";
const BENCH_BROKER_ADDR: &str = "127.0.0.1:10911";

/// Request opaques are 10-digit numbers so they can be patched in place in the JSON header.
const OPAQUE_BASE: u32 = 1_000_000_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("namesrv-loadgen: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let opts = Opts::parse(args)?;
    match opts.mode.as_str() {
        "route" => route_mode(&opts),
        "register" => register_mode(&opts),
        "compare" => compare_mode(&opts),
        "null-server" => null_server_mode(&opts),
        "startup" => startup_mode(&opts),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!(
            "unknown mode {other:?} (route, register, compare, null-server, startup, help)"
        )),
    }
}

// --- command line ------------------------------------------------------------------------------

struct Opts {
    mode: String,
    vals: HashMap<String, String>,
    flags: Vec<String>,
}

const FLAGS: &[&str] = &["json", "no-register", "blocking"];

impl Opts {
    fn parse(args: Vec<String>) -> Result<Self, String> {
        let mut it = args.into_iter();
        let mode = it
            .next()
            .ok_or_else(|| format!("no mode given\n\n{USAGE}"))?;
        let mut vals = HashMap::new();
        let mut flags = Vec::new();
        while let Some(arg) = it.next() {
            let key = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg:?} (options are --key value)"))?;
            if let Some((k, v)) = key.split_once('=') {
                vals.insert(k.to_owned(), v.to_owned());
            } else if FLAGS.contains(&key) {
                flags.push(key.to_owned());
            } else {
                let v = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
                vals.insert(key.to_owned(), v);
            }
        }
        Ok(Self { mode, vals, flags })
    }

    /// Refuses options this mode does not know, so a typo is not silently ignored.
    fn allow(&self, keys: &[&str]) -> Result<(), String> {
        for k in self.vals.keys().chain(self.flags.iter()) {
            if !keys.contains(&k.as_str()) {
                return Err(format!(
                    "{}: unknown option --{k} (see `namesrv-loadgen help`)",
                    self.mode
                ));
            }
        }
        Ok(())
    }

    fn flag(&self, k: &str) -> bool {
        self.flags.iter().any(|f| f == k)
    }

    fn str(&self, k: &str) -> Option<&str> {
        self.vals.get(k).map(String::as_str)
    }

    fn req(&self, k: &str) -> Result<&str, String> {
        self.str(k)
            .ok_or_else(|| format!("{}: --{k} is required", self.mode))
    }

    fn num<T: std::str::FromStr>(&self, k: &str, default: T) -> Result<T, String> {
        match self.str(k) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{k}: {v:?} is not a valid number")),
        }
    }

    fn secs(&self, k: &str, default: f64) -> Result<Duration, String> {
        let s: f64 = self.num(k, default)?;
        if !(0.0..=1e6).contains(&s) {
            return Err(format!("--{k}: {s} is not a duration in seconds"));
        }
        Ok(Duration::from_secs_f64(s))
    }

    fn positive(&self, k: &str, default: usize) -> Result<usize, String> {
        let n: usize = self.num(k, default)?;
        if n == 0 {
            return Err(format!("--{k} must be at least 1"));
        }
        Ok(n)
    }

    fn list(&self, k: &str, default: &[usize]) -> Result<Vec<usize>, String> {
        match self.str(k) {
            None => Ok(default.to_vec()),
            Some(v) => v
                .split(',')
                .map(|x| match x.trim().parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("--{k}: {x:?} is not a positive number")),
                })
                .collect(),
        }
    }

    fn pid(&self, k: &str) -> Result<Option<u32>, String> {
        self.str(k)
            .map(|v| v.parse().map_err(|_| format!("--{k}: {v:?} is not a pid")))
            .transpose()
    }
}

fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr:?} resolves to no address"))
}

// --- latency histogram --------------------------------------------------------------------------

const SUB: usize = 128;
const HIST_LEN: usize = SUB + 57 * SUB;

/// Log-linear histogram of nanoseconds: exact below 128 ns, then 128 buckets per power of two.
#[derive(Clone)]
struct Hist {
    counts: Vec<u64>,
    n: u64,
    max: u64,
    sum: u64,
}

impl Hist {
    fn new() -> Self {
        Self {
            counts: vec![0; HIST_LEN],
            n: 0,
            max: 0,
            sum: 0,
        }
    }

    fn index(v: u64) -> usize {
        if v < SUB as u64 {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as usize; // 7..=63
        let m = (v >> (e - 7)) as usize; // 128..=255
        SUB + (e - 7) * SUB + (m - SUB)
    }

    /// The middle of bucket `i`.
    fn value(i: usize) -> u64 {
        if i < SUB {
            return i as u64;
        }
        let e = (i - SUB) / SUB + 7;
        let m = ((i - SUB) % SUB + SUB) as u64;
        (m << (e - 7)) + ((1u64 << (e - 7)) >> 1)
    }

    fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.n += 1;
        self.max = self.max.max(ns);
        self.sum = self.sum.saturating_add(ns);
    }

    fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.n += other.n;
        self.max = self.max.max(other.max);
        self.sum = self.sum.saturating_add(other.sum);
    }

    /// The latency at quantile `q` (0..=1) in nanoseconds; 0 when empty.
    fn quantile(&self, q: f64) -> u64 {
        if self.n == 0 {
            return 0;
        }
        let target = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Self::value(i).min(self.max);
            }
        }
        self.max
    }

    fn mean(&self) -> u64 {
        self.sum.checked_div(self.n).unwrap_or(0)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// `54.3 µs`, `1.30 ms`, `2.1 s`.
fn fmt_ns(ns: u64) -> String {
    if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

fn fmt_rate(r: f64) -> String {
    if r >= 1000.0 {
        format!("{:.1}k", r / 1000.0)
    } else {
        format!("{r:.0}")
    }
}

// --- frames: pre-encoded requests, header-only reply checks ---------------------------------------

/// A pre-encoded JSON request whose opaque is ten ASCII digits at `opaque_at`.
#[derive(Clone)]
struct ReqTemplate {
    bytes: Vec<u8>,
    opaque_at: usize,
}

impl ReqTemplate {
    fn new(mut cmd: RemotingCommand) -> Result<Self, String> {
        cmd.opaque = OPAQUE_BASE as i32;
        cmd.serialize_type = SerializeType::Json;
        let bytes = encode_to_bytes(&cmd)
            .map_err(|e| format!("cannot encode request: {e}"))?
            .to_vec();
        let header_len =
            (u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) & 0x00FF_FFFF) as usize;
        let header = &bytes[8..8 + header_len];
        let pat = format!("\"opaque\":{OPAQUE_BASE}");
        let at =
            find(header, pat.as_bytes()).ok_or("encoded request has no opaque field to patch")?;
        Ok(Self {
            bytes,
            opaque_at: 8 + at + "\"opaque\":".len(),
        })
    }

    /// Writes opaque number `seq` into the frame; returns the opaque as sent.
    fn set_opaque(&mut self, seq: u32) -> i32 {
        let v = OPAQUE_BASE + seq % OPAQUE_BASE;
        let mut x = v;
        for k in (0..10).rev() {
            self.bytes[self.opaque_at + k] = b'0' + (x % 10) as u8;
            x /= 10;
        }
        v as i32
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(p) = hay[from..].iter().position(|&b| b == first) {
        let at = from + p;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The integer after `key` (e.g. `"opaque":`) in a JSON header.
fn json_int(header: &[u8], key: &[u8]) -> Option<i32> {
    let mut i = find(header, key)? + key.len();
    while header.get(i) == Some(&b' ') {
        i += 1;
    }
    let neg = header.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    let mut v: i64 = 0;
    let start = i;
    while let Some(d) = header.get(i).filter(|b| b.is_ascii_digit()) {
        v = v * 10 + i64::from(d - b'0');
        if v > i64::from(u32::MAX) {
            return None;
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    i32::try_from(if neg { -v } else { v }).ok()
}

/// What the generator and the null server need from a frame, read from its header only.
#[derive(Clone, Copy, Debug)]
struct Head {
    /// Bytes of the whole frame, length prefix included.
    len: usize,
    serialize: SerializeType,
    code: i32,
    opaque: i32,
    flag: i32,
}

/// The head of the first frame in `buf`, `Ok(None)` if it is not all there yet (and then room
/// for it is reserved). Errors mean the stream is broken.
fn peek_frame(buf: &mut BytesMut) -> Result<Option<Head>, String> {
    let Some(p) = buf.get(..8) else {
        return Ok(None);
    };
    let total = i32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    let word = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    if total < 4 || total as usize + 4 > DEFAULT_MAX_FRAME {
        return Err(format!("bad frame length {total}"));
    }
    let len = total as usize + 4;
    if buf.len() < len {
        buf.reserve(len - buf.len());
        return Ok(None);
    }
    let header_len = (word & 0x00FF_FFFF) as usize;
    if header_len > total as usize - 4 {
        return Err(format!(
            "header length {header_len} is longer than the frame ({total})"
        ));
    }
    let header = &buf[8..8 + header_len];
    let head = match word >> 24 {
        0 => match (
            json_int(header, b"\"code\":"),
            json_int(header, b"\"opaque\":"),
            json_int(header, b"\"flag\":"),
        ) {
            (Some(code), Some(opaque), Some(flag)) => Head {
                len,
                serialize: SerializeType::Json,
                code,
                opaque,
                flag,
            },
            // Unusual spelling (spaces, quoted numbers): decode it properly.
            _ => {
                let cmd = decode_command(Bytes::copy_from_slice(&buf[4..len]))
                    .map_err(|e| format!("bad frame: {e}"))?;
                Head {
                    len,
                    serialize: SerializeType::Json,
                    code: cmd.code,
                    opaque: cmd.opaque,
                    flag: cmd.flag,
                }
            }
        },
        1 if header_len >= 13 => Head {
            len,
            serialize: SerializeType::RocketMq,
            code: i32::from(i16::from_be_bytes([header[0], header[1]])),
            opaque: i32::from_be_bytes([header[5], header[6], header[7], header[8]]),
            flag: i32::from_be_bytes([header[9], header[10], header[11], header[12]]),
        },
        t => {
            return Err(format!(
                "bad frame: serialize type {t}, header length {header_len}"
            ))
        }
    };
    Ok(Some(head))
}

/// Checks a reply head; on a non-SUCCESS code, decodes the frame for its remark.
fn check_reply(head: &Head, buf: &[u8], opaque: i32, what: &str) -> Result<(), String> {
    if head.opaque != opaque {
        return Err(format!(
            "{what}: reply opaque {} does not match the request's {opaque}",
            head.opaque
        ));
    }
    if head.code != response::SUCCESS {
        let remark = decode_command(Bytes::copy_from_slice(&buf[4..head.len]))
            .ok()
            .and_then(|c| c.remark)
            .unwrap_or_default();
        return Err(format!("{what}: reply code {} {remark:?}", head.code));
    }
    Ok(())
}

fn route_request(topic: &str) -> RemotingCommand {
    RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic)
}

fn bench_topics(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("bench-topic-{i}")).collect()
}

/// The setup broker: heartbeat timeout of an hour, so long runs need no re-registration. It
/// also lists `bench-setup`, so a one-topic run is not refused by the single-topic guard
/// (a first registration of exactly one topic is taken for a racing incremental one).
fn setup_reg(topics: &[String]) -> Reg {
    let mut configs: Vec<_> = topics.iter().map(|t| topic(t)).collect();
    configs.push(topic("bench-setup"));
    // An HA address as brokers send it: rocketmq-namesrv refuses a registration without one.
    Reg::new(BENCH_CLUSTER, BENCH_BROKER_ADDR, BENCH_BROKER, 0)
        .ha("127.0.0.1:10912")
        .topic_configs(configs)
        .timeout(3_600_000)
}

// --- a blocking client for setup and checks ---------------------------------------------------------

struct BlockingConn {
    stream: StdStream,
    buf: BytesMut,
    next_opaque: i32,
    addr: SocketAddr,
}

impl BlockingConn {
    fn connect(addr: SocketAddr, timeout: Duration) -> Result<Self, String> {
        let stream = StdStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| format!("{addr}: {e}"))?;
        Ok(Self {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            next_opaque: 1,
            addr,
        })
    }

    fn call(&mut self, mut cmd: RemotingCommand) -> Result<RemotingCommand, String> {
        let addr = self.addr;
        cmd.opaque = self.next_opaque;
        self.next_opaque += 1;
        let frame = encode_to_bytes(&cmd).map_err(|e| format!("cannot encode: {e}"))?;
        self.stream
            .write_all(&frame)
            .map_err(|e| format!("{addr}: write: {e}"))?;
        loop {
            match decode_frame(&mut self.buf, DEFAULT_MAX_FRAME) {
                Ok(Some(reply)) if reply.opaque == cmd.opaque && reply.is_response() => {
                    return Ok(reply)
                }
                Ok(Some(_)) => continue, // not ours (a server-initiated request): skip
                Ok(None) => {}
                Err(e) => return Err(format!("{addr}: bad reply frame: {e}")),
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(format!("{addr}: server closed the connection")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("{addr}: no reply: {e}")),
            }
        }
    }
}

fn expect_success(reply: &RemotingCommand, what: &str) -> Result<(), String> {
    if reply.code == response::SUCCESS {
        Ok(())
    } else {
        Err(format!(
            "{what}: reply code {} {:?}",
            reply.code,
            reply.remark.as_deref().unwrap_or("")
        ))
    }
}

/// Registers the setup broker with `topics` and checks every topic has a route through it.
/// The connection is returned so the caller keeps it (and so the broker) for the run.
fn setup_route(addr: SocketAddr, topics: &[String]) -> Result<BlockingConn, String> {
    let mut c = BlockingConn::connect(addr, Duration::from_secs(10))?;
    let reply = c.call(java_command(&setup_reg(topics)))?;
    expect_success(&reply, &format!("setup: REGISTER_BROKER at {addr}"))?;
    for t in topics {
        let reply = c.call(route_request(t))?;
        expect_success(&reply, &format!("setup: route of {t} at {addr}"))?;
        let route = TopicRouteData::decode(reply.body.as_deref().unwrap_or_default())
            .map_err(|e| format!("setup: route of {t} at {addr} does not decode: {e:?}"))?;
        if !route
            .broker_datas
            .iter()
            .any(|b| b.broker_name == BENCH_BROKER)
        {
            return Err(format!(
                "setup: the route of {t} at {addr} does not list {BENCH_BROKER}"
            ));
        }
    }
    Ok(c)
}

/// Keeps the setup broker registered for the whole run: re-registers every 30 s on its
/// connection, as a broker does. A silent connection would be closed by the server after
/// `serverChannelMaxIdleTimeSeconds` (120 s by default), and the routes with it.
struct SetupKeeper {
    stop: Arc<std::sync::atomic::AtomicBool>,
    failed: Arc<std::sync::Mutex<Option<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SetupKeeper {
    fn start(mut conn: BlockingConn, topics: Vec<String>) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let failed = Arc::new(std::sync::Mutex::new(None));
        let (stop2, failed2) = (stop.clone(), failed.clone());
        let thread = std::thread::spawn(move || loop {
            for _ in 0..300 {
                if stop2.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let addr = conn.addr;
            let what = format!("setup broker re-registration at {addr}");
            let r = conn
                .call(java_command(&setup_reg(&topics)))
                .and_then(|reply| expect_success(&reply, &what));
            if let Err(e) = r {
                eprintln!("namesrv-loadgen: {e}");
                if let Ok(mut f) = failed2.lock() {
                    *f = Some(e);
                }
                return;
            }
        });
        Self {
            stop,
            failed,
            thread: Some(thread),
        }
    }

    /// An error once a re-registration failed (the routes may be gone).
    fn check(&self) -> Result<(), String> {
        match self.failed.lock().ok().and_then(|f| f.clone()) {
            Some(e) => Err(format!("the setup broker is no longer registered: {e}")),
            None => Ok(()),
        }
    }
}

impl Drop for SetupKeeper {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// --- server RSS -----------------------------------------------------------------------------------------

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The process holding a listening TCP socket on `port` (Linux, own processes only).
fn pid_listening_on(port: u16) -> Option<u32> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            let local_port = f[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                if inodes.iter().any(|i| target.as_os_str() == i.as_str()) {
                    return Some(pid);
                }
            }
        }
    }
    None
}

/// The server's pid: `explicit`, else whoever listens on the address's port.
fn server_pid(explicit: Option<u32>, addr: SocketAddr) -> Option<u32> {
    explicit.or_else(|| pid_listening_on(addr.port()))
}

fn rss_of(pid: Option<u32>) -> Option<u64> {
    pid.and_then(rss_kib)
}

fn fmt_rss(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn rss_mib(kib: Option<u64>) -> Value {
    kib.map_or(Value::Null, |k| {
        json!((k as f64 / 1024.0 * 10.0).round() / 10.0)
    })
}

// --- CPU accounting: the server's CPU per request, and how much CPU others took ------------------

/// Linux clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on every mainstream kernel).
const TICKS_PER_SEC: f64 = 100.0;

/// utime + stime of a process, in clock ticks.
fn proc_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Busy ticks of the whole machine (all CPUs): everything but idle and iowait.
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let total: u64 = v.iter().take(8).sum();
    total.checked_sub(v.get(3)? + v.get(4).copied().unwrap_or(0))
}

/// Waits (at most `max`) until the whole machine has been nearly idle (under 0.1 core busy)
/// for a second, so a run does not start in the middle of someone else's build. Returns
/// whether it got quiet.
fn wait_for_quiet(max: Duration) -> bool {
    if max.is_zero() {
        return true;
    }
    let deadline = Instant::now() + max;
    let mut told = false;
    loop {
        let a = machine_busy_ticks();
        std::thread::sleep(Duration::from_secs(1));
        let busy = machine_busy_ticks()
            .zip(a)
            .map(|(b, a)| b.saturating_sub(a) as f64 / TICKS_PER_SEC);
        match busy {
            None => return true, // no /proc/stat: nothing to wait for
            Some(b) if b < 0.1 => return true,
            Some(b) if Instant::now() >= deadline => {
                eprintln!("namesrv-loadgen: machine still busy ({b:.2} cores); running anyway");
                return false;
            }
            Some(b) => {
                if !told {
                    eprintln!(
                        "namesrv-loadgen: waiting for the machine to go quiet ({b:.2} cores busy)"
                    );
                    told = true;
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
struct CpuSample {
    at: Instant,
    server: Option<u64>,
    me: Option<u64>,
    machine: Option<u64>,
}

impl CpuSample {
    fn take(server_pid: Option<u32>) -> Self {
        Self {
            at: Instant::now(),
            server: server_pid.and_then(|p| proc_ticks(&p.to_string())),
            me: proc_ticks("self"),
            machine: machine_busy_ticks(),
        }
    }
}

/// CPU used between two samples, in seconds of one core.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    wall: f64,
    server: Option<f64>,
    loadgen: Option<f64>,
    /// Everything else on the machine: other builds, other tests. Noise if large.
    others: Option<f64>,
}

impl CpuUse {
    fn between(a: &CpuSample, b: &CpuSample) -> Self {
        let d = |x: Option<u64>, y: Option<u64>| Some(y?.checked_sub(x?)? as f64 / TICKS_PER_SEC);
        let server = d(a.server, b.server);
        let loadgen = d(a.me, b.me);
        let others = d(a.machine, b.machine)
            .map(|m| (m - server.unwrap_or(0.0) - loadgen.unwrap_or(0.0)).max(0.0));
        Self {
            wall: (b.at - a.at).as_secs_f64(),
            server,
            loadgen,
            others,
        }
    }

    /// Sums two runs; a figure missing from either is missing from the sum.
    fn add(&mut self, o: &CpuUse) {
        let first = self.wall == 0.0;
        let add = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => Some(x + y),
            (None, y) if first => y,
            _ => None,
        };
        self.server = add(self.server, o.server);
        self.loadgen = add(self.loadgen, o.loadgen);
        self.others = add(self.others, o.others);
        self.wall += o.wall;
    }

    /// Cores' worth of CPU: `x` seconds over the wall time.
    fn cores(&self, x: Option<f64>) -> Option<f64> {
        x.filter(|_| self.wall > 0.0).map(|x| x / self.wall)
    }

    /// True when other processes took more than 0.15 of a core during the run (a quiet
    /// run measures 0 to 0.05: softirq time of the load itself lands here too).
    fn noisy(&self) -> bool {
        self.cores(self.others).is_some_and(|c| c > 0.15)
    }
}

// --- the route load ---------------------------------------------------------------------------------------

#[derive(Clone)]
struct LoadSpec {
    addr: SocketAddr,
    conns: usize,
    threads: usize,
    blocking: bool,
    warmup: Duration,
    duration: Duration,
    timeout: Duration,
    templates: Arc<Vec<ReqTemplate>>,
    /// The server process, for its CPU time.
    pid: Option<u32>,
    /// Wait up to this long for an idle machine before the run.
    quiet_wait: Duration,
}

/// When a run starts, when its measurement window opens, and when it ends.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    from: Instant,
    end: Instant,
}

struct ConnStats {
    requests: u64,
    hist: Hist,
}

impl ConnStats {
    fn new() -> Self {
        Self {
            requests: 0,
            hist: Hist::new(),
        }
    }
}

struct LoadResult {
    conns: usize,
    /// How many runs were added up (compare rounds).
    runs: usize,
    secs: f64,
    requests: u64,
    hist: Hist,
    errors: Vec<String>,
    cpu: CpuUse,
}

impl LoadResult {
    fn empty(conns: usize) -> Self {
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
    fn server_us_per_request(&self) -> Option<f64> {
        self.cpu
            .server
            .filter(|_| self.requests > 0)
            .map(|s| s * 1e6 / self.requests as f64)
    }

    fn cpu_text(&self) -> String {
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

    fn rps(&self) -> f64 {
        if self.secs > 0.0 {
            self.requests as f64 / self.secs
        } else {
            0.0
        }
    }

    fn absorb(&mut self, stats: &ConnStats, error: Option<String>) {
        self.requests += stats.requests;
        self.hist.merge(&stats.hist);
        self.errors.extend(error);
    }

    /// Adds another run of the same load (compare rounds).
    fn add_run(&mut self, other: LoadResult) {
        self.runs += other.runs;
        self.secs += other.secs;
        self.requests += other.requests;
        self.hist.merge(&other.hist);
        self.errors.extend(other.errors);
        self.cpu.add(&other.cpu);
    }

    fn text(&self) -> String {
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

    fn json(&self) -> Value {
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
    fn failures(&self, addr: SocketAddr) -> Result<(), String> {
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

fn route_templates(topics: &[String]) -> Result<Arc<Vec<ReqTemplate>>, String> {
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
async fn route_loop(
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

async fn read_head(s: &mut tokio::net::TcpStream, buf: &mut BytesMut) -> Result<Head, String> {
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
fn run_route_load(spec: &LoadSpec) -> Result<LoadResult, String> {
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

struct RouteArgs {
    conns: Vec<usize>,
    threads: Option<usize>,
    blocking: bool,
    warmup: Duration,
    duration: Duration,
    timeout: Duration,
    quiet_wait: Duration,
    retry_noisy: usize,
    topics: Vec<String>,
    register: bool,
    json: bool,
}

const ROUTE_KEYS: &[&str] = &[
    "conns",
    "threads",
    "blocking",
    "warmup",
    "duration",
    "timeout",
    "quiet-wait",
    "retry-noisy",
    "topics",
    "no-register",
    "json",
];

fn route_args(o: &Opts, default_conns: &[usize]) -> Result<RouteArgs, String> {
    Ok(RouteArgs {
        conns: o.list("conns", default_conns)?,
        threads: o
            .str("threads")
            .map(|_| o.positive("threads", 1))
            .transpose()?,
        blocking: o.flag("blocking"),
        warmup: o.secs("warmup", 1.0)?,
        duration: o.secs("duration", 10.0)?,
        timeout: o.secs("timeout", 5.0)?,
        quiet_wait: o.secs("quiet-wait", 0.0)?,
        retry_noisy: o.num("retry-noisy", 0)?,
        topics: bench_topics(o.positive("topics", 100)?),
        register: !o.flag("no-register"),
        json: o.flag("json"),
    })
}

impl RouteArgs {
    fn spec(&self, addr: SocketAddr, conns: usize, pid: Option<u32>) -> Result<LoadSpec, String> {
        Ok(LoadSpec {
            pid,
            quiet_wait: self.quiet_wait,
            addr,
            conns,
            threads: self.threads.unwrap_or(1),
            blocking: self.blocking,
            warmup: self.warmup,
            duration: self.duration,
            timeout: self.timeout,
            templates: route_templates(&self.topics)?,
        })
    }

    fn setup(&self, addr: SocketAddr) -> Result<Option<SetupKeeper>, String> {
        if self.register {
            let conn = setup_route(addr, &self.topics)?;
            Ok(Some(SetupKeeper::start(conn, self.topics.clone())))
        } else {
            Ok(None)
        }
    }

    /// One measured run; a run flagged NOISY is run again, up to `--retry-noisy` times. A run
    /// in which any connection failed is an error (after `show` has printed it).
    fn measure(
        &self,
        addr: SocketAddr,
        conns: usize,
        pid: Option<u32>,
        keeper: &Option<SetupKeeper>,
        show: &dyn Fn(&LoadResult),
    ) -> Result<LoadResult, String> {
        let mut attempt = 0;
        loop {
            if let Some(k) = keeper {
                k.check()?;
            }
            let r = run_route_load(&self.spec(addr, conns, pid)?)?;
            if r.errors.is_empty() && r.cpu.noisy() && attempt < self.retry_noisy {
                attempt += 1;
                eprintln!(
                    "namesrv-loadgen: {addr}, {conns} conns: discarding a noisy run \
                     ({:.2} cores used by other processes; retry {attempt} of {})",
                    r.cpu.cores(r.cpu.others).unwrap_or(0.0),
                    self.retry_noisy
                );
                continue;
            }
            show(&r);
            r.failures(addr)?;
            return Ok(r);
        }
    }

    fn client_desc(&self) -> String {
        if self.blocking {
            "blocking, one thread per connection".into()
        } else {
            format!("tokio, {} thread(s)", self.threads.unwrap_or(1))
        }
    }
}

fn route_mode(o: &Opts) -> Result<(), String> {
    let mut keys = ROUTE_KEYS.to_vec();
    keys.extend(["addr", "pid"]);
    o.allow(&keys)?;
    let addr = resolve(o.req("addr")?)?;
    let args = route_args(o, &[16])?;
    let pid = server_pid(o.pid("pid")?, addr);
    let keeper = args.setup(addr)?;
    if !args.json {
        println!(
            "route load on {addr}: {} topics, {} s + {} s warm-up, client {}",
            args.topics.len(),
            args.duration.as_secs_f64(),
            args.warmup.as_secs_f64(),
            args.client_desc()
        );
    }
    for &c in &args.conns {
        let show = |r: &LoadResult| {
            let rss = rss_of(pid);
            if args.json {
                let mut v = r.json();
                v["mode"] = json!("route");
                v["addr"] = json!(addr.to_string());
                v["rss_mib"] = rss_mib(rss);
                println!("{v}");
            } else {
                println!("{}  server RSS {}", r.text(), fmt_rss(rss));
                println!("      {}", r.cpu_text());
            }
        };
        args.measure(addr, c, pid, &keeper, &show)?;
    }
    Ok(())
}

// --- compare ------------------------------------------------------------------------------------------

fn compare_mode(o: &Opts) -> Result<(), String> {
    let mut keys = ROUTE_KEYS.to_vec();
    keys.extend(["a", "b", "label-a", "label-b", "rounds", "pid-a", "pid-b"]);
    o.allow(&keys)?;
    let a = resolve(o.req("a")?)?;
    let b = resolve(o.req("b")?)?;
    let label_a = o.str("label-a").unwrap_or("a").to_owned();
    let label_b = o.str("label-b").unwrap_or("b").to_owned();
    let rounds = o.positive("rounds", 1)?;
    let args = route_args(o, &[1, 16, 128])?;
    let pid_a = server_pid(o.pid("pid-a")?, a);
    let pid_b = server_pid(o.pid("pid-b")?, b);
    let keeper_a = args.setup(a)?;
    let keeper_b = args.setup(b)?;
    if !args.json {
        println!(
            "compare {label_a} ({a}) with {label_b} ({b}): {} topics, {rounds} round(s) of {} s \
             (+{} s warm-up) each, alternating; client {}",
            args.topics.len(),
            args.duration.as_secs_f64(),
            args.warmup.as_secs_f64(),
            args.client_desc()
        );
    }
    let mut rows = Vec::new();
    for &c in &args.conns {
        let mut total_a = LoadResult::empty(c);
        let mut total_b = LoadResult::empty(c);
        for round in 0..rounds {
            for (label, addr, pid, keeper, total) in [
                (&label_a, a, pid_a, &keeper_a, &mut total_a),
                (&label_b, b, pid_b, &keeper_b, &mut total_b),
            ] {
                let show = |r: &LoadResult| {
                    if !args.json {
                        println!("  round {} {label:>8}: {}", round + 1, r.text());
                        println!("                  {}", r.cpu_text());
                    }
                };
                let r = args.measure(addr, c, pid, keeper, &show)?;
                total.add_run(r);
                // Let the closed connections drain before the other side's run.
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        let (rss_a, rss_b) = (rss_of(pid_a), rss_of(pid_b));
        let ratio = |x: f64, y: f64| if y > 0.0 { x / y } else { f64::NAN };
        let rps_ratio = ratio(total_a.rps(), total_b.rps());
        let p99_ratio = ratio(
            total_a.hist.quantile(0.99) as f64,
            total_b.hist.quantile(0.99) as f64,
        );
        if args.json {
            println!(
                "{}",
                json!({
                    "mode": "compare",
                    "conns": c,
                    "rounds": rounds,
                    "a": { "label": label_a, "addr": a.to_string(), "rss_mib": rss_mib(rss_a), "result": total_a.json() },
                    "b": { "label": label_b, "addr": b.to_string(), "rss_mib": rss_mib(rss_b), "result": total_b.json() },
                    "rps_ratio": (rps_ratio * 1000.0).round() / 1000.0,
                    "p99_ratio": (p99_ratio * 1000.0).round() / 1000.0,
                })
            );
        } else {
            println!(
                "{c:>4} conns: {label_a}/{label_b} throughput {rps_ratio:.2}, p99 {p99_ratio:.2}"
            );
        }
        rows.push((c, total_a, total_b, rss_a, rss_b, rps_ratio, p99_ratio));
    }
    if !args.json {
        println!();
        println!(
            "| conns | {label_a} req/s | {label_a} p50 / p99 | {label_a} CPU/req | {label_a} RSS \
             | {label_b} req/s | {label_b} p50 / p99 | {label_b} CPU/req | {label_b} RSS \
             | req/s {label_a}/{label_b} | p99 {label_a}/{label_b} | others' CPU |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        let cpu = |r: &LoadResult| {
            r.server_us_per_request()
                .map_or_else(|| "n/a".into(), |x| format!("{x:.1} µs"))
        };
        let others = |r: &LoadResult| r.cpu.cores(r.cpu.others).unwrap_or(0.0);
        for (c, ra, rb, rss_a, rss_b, rr, pr) in &rows {
            println!(
                "| {c} | {} | {} / {} | {} | {} | {} | {} / {} | {} | {} | {:.2} | {:.2} | {:.2} / {:.2} cores |",
                fmt_rate(ra.rps()),
                fmt_ns(ra.hist.quantile(0.5)),
                fmt_ns(ra.hist.quantile(0.99)),
                cpu(ra),
                fmt_rss(*rss_a),
                fmt_rate(rb.rps()),
                fmt_ns(rb.hist.quantile(0.5)),
                fmt_ns(rb.hist.quantile(0.99)),
                cpu(rb),
                fmt_rss(*rss_b),
                rr,
                pr,
                others(ra),
                others(rb),
            );
        }
    }
    Ok(())
}

// --- register -------------------------------------------------------------------------------------------

/// Broker `b` of the register mode: group `b / spread` shares topics `reg-topic-{g*K .. g*K+K}`.
fn register_cmd(b: usize, spread: usize, topics: usize) -> RemotingCommand {
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

/// `reg`'s REGISTER_BROKER with the body a 5.x Java broker sends: every TopicConfig field
/// and the static-topic members, which rocketmq-namesrv requires (it refuses our leaner body)
/// and the others read or skip. Every server under test gets the same bytes.
fn java_command(reg: &Reg) -> RemotingCommand {
    let dv = format!(
        "{{\"counter\":{},\"stateVersion\":{},\"timestamp\":{}}}",
        reg.dv.counter, reg.dv.state_version, reg.dv.timestamp
    );
    let table: Vec<String> = reg
        .topics
        .iter()
        .map(|t| {
            format!(
                "\"{n}\":{{\"attributes\":{{}},\"order\":false,\"perm\":{},\"readQueueNums\":{},\"topicFilterType\":\"SINGLE_TAG\",\"topicName\":\"{n}\",\"topicSysFlag\":{},\"writeQueueNums\":{}}}",
                t.perm,
                t.read_queue_nums,
                t.topic_sys_flag,
                t.write_queue_nums,
                n = t.topic_name
            )
        })
        .collect();
    let body = format!(
        "{{\"filterServerList\":[],\"topicConfigSerializeWrapper\":{{\"dataVersion\":{dv},\"mappingDataVersion\":{dv},\"topicConfigTable\":{{{}}},\"topicQueueMappingDetailMap\":{{}},\"topicQueueMappingInfoMap\":{{}}}}}}",
        table.join(",")
    );
    with_body_and_crc(reg.command(), body.into_bytes())
}

struct BrokerConn {
    stream: tokio::net::TcpStream,
    template: ReqTemplate,
    buf: BytesMut,
    seq: u32,
}

impl BrokerConn {
    /// One registration; its latency.
    async fn register(&mut self) -> Result<u64, String> {
        let opaque = self.template.set_opaque(self.seq);
        self.seq = self.seq.wrapping_add(1);
        let t0 = Instant::now();
        self.stream
            .write_all(&self.template.bytes)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let head = read_head(&mut self.stream, &mut self.buf).await?;
        let ns = nanos(t0.elapsed());
        check_reply(&head, &self.buf, opaque, "REGISTER_BROKER")?;
        self.buf.advance(head.len);
        Ok(ns)
    }
}

struct Clients {
    streams: Vec<tokio::net::TcpStream>,
    templates: Arc<Vec<ReqTemplate>>,
    /// The server, for CPU accounting over each window.
    pid: Option<u32>,
}

impl Clients {
    /// Every client in a closed loop over the window; the streams come back afterwards.
    async fn run(&mut self, w: Window, grace: Duration) -> LoadResult {
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

fn register_mode(o: &Opts) -> Result<(), String> {
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

struct RegisterPlan {
    addr: SocketAddr,
    brokers: usize,
    topics: usize,
    spread: usize,
    period: Duration,
    duration: Duration,
    clients: usize,
    idle: Duration,
    warmup: Duration,
    timeout: Duration,
    pid: Option<u32>,
}

struct RegisterReport {
    text: String,
    json: Value,
    errors: Vec<String>,
}

fn hist_json(h: &Hist) -> Value {
    json!({
        "count": h.n,
        "p50_ms": h.quantile(0.5) as f64 / 1e6,
        "p99_ms": h.quantile(0.99) as f64 / 1e6,
        "max_ms": h.max as f64 / 1e6,
    })
}

fn hist_text(h: &Hist) -> String {
    format!(
        "p50 {}  p99 {}  max {}",
        fmt_ns(h.quantile(0.5)),
        fmt_ns(h.quantile(0.99)),
        fmt_ns(h.max)
    )
}

async fn register_run(p: RegisterPlan) -> Result<RegisterReport, String> {
    use std::fmt::Write as _;
    let addr = p.addr;
    let groups = p.brokers.div_ceil(p.spread);
    let distinct = groups * p.topics;
    let mut text = String::new();
    let mut errors = Vec::new();
    let _ = writeln!(
        text,
        "register on {addr}: {} brokers x {} topics ({} brokers per topic: {distinct} topics, {} queue entries), each broker on its own connection",
        p.brokers,
        p.topics,
        p.spread,
        p.brokers * p.topics
    );
    let rss_before = rss_of(p.pid);

    // Pre-encode every registration, then connect every broker.
    let mut templates = Vec::with_capacity(p.brokers);
    for b in 0..p.brokers {
        templates.push(ReqTemplate::new(register_cmd(b, p.spread, p.topics))?);
    }
    let mut conns = Vec::with_capacity(p.brokers);
    let mut connect_failed = 0usize;
    let mut first_connect_error = None;
    for template in templates {
        match tokio::time::timeout(p.timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                conns.push(BrokerConn {
                    stream,
                    template,
                    buf: BytesMut::with_capacity(8 * 1024),
                    seq: 0,
                });
            }
            Ok(Err(e)) => {
                connect_failed += 1;
                first_connect_error.get_or_insert_with(|| e.to_string());
            }
            Err(_) => {
                connect_failed += 1;
                first_connect_error.get_or_insert_with(|| "timed out".into());
            }
        }
    }
    if conns.is_empty() {
        return Err(format!(
            "no broker could connect to {addr}: {}",
            first_connect_error.unwrap_or_default()
        ));
    }
    if let Some(e) = &first_connect_error {
        errors.push(format!("{connect_failed} broker connections failed: {e}"));
    }
    let _ = writeln!(
        text,
        "  connect:  {} ok, {connect_failed} failed{}",
        conns.len(),
        first_connect_error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    );

    // Burst: every broker registers at the same instant.
    let burst_at = tokio::time::Instant::now() + Duration::from_millis(100);
    let burst_t0 = Instant::now();
    let burst_cpu0 = CpuSample::take(p.pid);
    let mut tasks = Vec::new();
    for mut c in conns {
        let timeout = p.timeout;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(burst_at).await;
            let r = match tokio::time::timeout(timeout, c.register()).await {
                Ok(r) => r,
                Err(_) => Err(format!("no reply within {timeout:?}")),
            };
            (c, r)
        }));
    }
    let mut burst = Hist::new();
    let mut conns = Vec::new();
    let mut burst_failed = Vec::new();
    for t in tasks {
        match t.await {
            Ok((c, Ok(ns))) => {
                burst.record(ns);
                conns.push(c);
            }
            Ok((_, Err(e))) => burst_failed.push(e),
            Err(e) => burst_failed.push(format!("broker task failed: {e}")),
        }
    }
    let burst_wall = burst_t0
        .elapsed()
        .saturating_sub(Duration::from_millis(100));
    let burst_cpu = CpuUse::between(&burst_cpu0, &CpuSample::take(p.pid));
    // Server CPU per accepted registration: the server does nothing else during the burst.
    let burst_cpu_us = burst_cpu
        .server
        .filter(|_| burst.n > 0)
        .map(|s| s * 1e6 / burst.n as f64);
    let rss_burst = rss_of(p.pid);
    let _ = writeln!(
        text,
        "  burst:    {} accepted, {} failed in {}; registration {}",
        burst.n,
        burst_failed.len(),
        fmt_ns(nanos(burst_wall)),
        hist_text(&burst)
    );
    let _ = writeln!(
        text,
        "            server CPU {} per registration (±10 ms clock ticks over the burst); \
         other processes {:.2} s",
        burst_cpu_us.map_or_else(|| "n/a".into(), |u| format!("{u:.0} µs")),
        burst_cpu.others.unwrap_or(0.0)
    );
    if let Some(e) = burst_failed.first() {
        let _ = writeln!(text, "            first failure: {e}");
        errors.push(format!("{} registrations failed: {e}", burst_failed.len()));
    }

    // A route of the first group, fully decoded, as a sanity check.
    let check_topic = "reg-topic-0".to_owned();
    let route_brokers = match BlockingConn::connect(addr, Duration::from_secs(10))
        .and_then(|mut c| c.call(route_request(&check_topic)))
    {
        Ok(r) if r.code == response::SUCCESS => {
            TopicRouteData::decode(r.body.as_deref().unwrap_or_default())
                .map(|route| route.broker_datas.len())
                .unwrap_or(0)
        }
        _ => 0,
    };
    let _ = writeln!(
        text,
        "  check:    route of {check_topic} lists {route_brokers} brokers (expected {})",
        p.spread
    );

    // Clients: idle baseline, no registrations.
    let mut client_streams = Vec::with_capacity(p.clients);
    for _ in 0..p.clients {
        let s = tokio::time::timeout(p.timeout, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| format!("client connect to {addr}: timed out"))?
            .map_err(|e| format!("client connect to {addr}: {e}"))?;
        let _ = s.set_nodelay(true);
        client_streams.push(s);
    }
    // Up to 1000 of the registered topics, evenly spaced over the groups.
    let sample = distinct.min(1000);
    let query_topics: Vec<String> = (0..sample)
        .map(|i| format!("reg-topic-{}", i * distinct / sample))
        .collect();
    let mut cl = Clients {
        streams: client_streams,
        templates: route_templates(&query_topics)?,
        pid: p.pid,
    };
    let idle_result = if p.clients > 0 {
        let start = Instant::now() + Duration::from_millis(20);
        let w = Window {
            start,
            from: start + p.warmup,
            end: start + p.warmup + p.idle,
        };
        Some(cl.run(w, p.timeout).await)
    } else {
        None
    };
    let rss_idle = rss_of(p.pid);

    // Loaded: re-registrations spread over each period while the clients query.
    let start = Instant::now() + Duration::from_millis(20);
    let end = start + p.duration;
    let w = Window {
        start,
        from: start,
        end,
    };
    let n = conns.len();
    let mut tasks = Vec::new();
    for (b, mut c) in conns.into_iter().enumerate() {
        let offset = p.period.mul_f64(b as f64 / n as f64);
        let (period, timeout) = (p.period, p.timeout);
        tasks.push(tokio::spawn(async move {
            let mut h = Hist::new();
            let mut at = start + offset;
            while at < end {
                tokio::time::sleep_until(at.into()).await;
                match tokio::time::timeout(timeout, c.register()).await {
                    Ok(Ok(ns)) => h.record(ns),
                    Ok(Err(e)) => return (c, h, Some(e)),
                    Err(_) => return (c, h, Some(format!("no reply within {timeout:?}"))),
                }
                at += period;
            }
            (c, h, None)
        }));
    }
    let loaded_result = if p.clients > 0 {
        Some(cl.run(w, p.timeout).await)
    } else {
        tokio::time::sleep_until(end.into()).await;
        None
    };
    let mut regs = Hist::new();
    let mut keep = Vec::new();
    let mut reg_failed = Vec::new();
    for t in tasks {
        match t.await {
            Ok((c, h, err)) => {
                regs.merge(&h);
                reg_failed.extend(err);
                keep.push(c);
            }
            Err(e) => reg_failed.push(format!("broker task failed: {e}")),
        }
    }
    // Measured while every broker is still connected.
    let rss_end = rss_of(p.pid);
    drop(cl);

    // Drop: every broker connection closes at once; how long until no group's route is left
    // (the server learns of it only from the closed connections).
    let probe_topics: Vec<String> = (0..groups)
        .map(|g| format!("reg-topic-{}", g * p.topics))
        .collect();
    let dropped = keep.len();
    let dropped_at = Instant::now();
    drop(keep);
    let timeout = p.timeout;
    let (drop_gone, drop_left, drop_error) = tokio::task::spawn_blocking(move || {
        routes_gone(addr, timeout, &probe_topics, dropped_at, DROP_WAIT)
    })
    .await
    .map_err(|e| format!("drop probe: {e}"))?;
    if let Some(e) = &drop_error {
        errors.push(format!("drop probe: {e}"));
    }
    let _ = writeln!(
        text,
        "  drop:     {dropped} broker connections closed at once: {}",
        match drop_gone {
            Some(d) => format!(
                "every route gone {} later ({} groups probed)",
                fmt_ns(nanos(d)),
                groups
            ),
            None => format!(
                "{drop_left} of {groups} groups still routed {} s later",
                DROP_WAIT.as_secs()
            ),
        }
    );
    if let Some(e) = &drop_error {
        let _ = writeln!(text, "            probe error (reconnected): {e}");
    }

    if let Some(r) = &idle_result {
        let _ = writeln!(text, "  idle:     queries {}", r.text().trim_start());
        let _ = writeln!(text, "            {}", r.cpu_text());
    }
    let _ = writeln!(
        text,
        "  loaded:   {} re-registrations over {} s (period {} s): {}{}",
        regs.n,
        p.duration.as_secs_f64(),
        p.period.as_secs_f64(),
        hist_text(&regs),
        if reg_failed.is_empty() {
            String::new()
        } else {
            format!(", {} failed", reg_failed.len())
        }
    );
    if let Some(e) = reg_failed.first() {
        errors.push(format!("{} re-registrations failed: {e}", reg_failed.len()));
    }
    let mut p99_ratio = Value::Null;
    if let Some(r) = &loaded_result {
        let _ = writeln!(text, "  loaded:   queries {}", r.text().trim_start());
        let _ = writeln!(
            text,
            "            {} (server CPU includes the registrations)",
            r.cpu_text()
        );
        if let Some(i) = &idle_result {
            let (a, b) = (r.hist.quantile(0.99), i.hist.quantile(0.99));
            if b > 0 {
                let ratio = a as f64 / b as f64;
                p99_ratio = json!((ratio * 100.0).round() / 100.0);
                let _ = writeln!(text, "  query p99 loaded/idle: {ratio:.2}");
            }
        }
    }
    for r in idle_result.iter().chain(loaded_result.iter()) {
        if let Err(e) = r.failures(addr) {
            errors.push(e);
        }
    }
    let _ = writeln!(
        text,
        "  server RSS: before {}, after burst {}, after idle {}, end {}",
        fmt_rss(rss_before),
        fmt_rss(rss_burst),
        fmt_rss(rss_idle),
        fmt_rss(rss_end)
    );
    let json = json!({
        "mode": "register",
        "addr": addr.to_string(),
        "brokers": p.brokers,
        "topics": p.topics,
        "spread": p.spread,
        "connected": burst.n as usize + burst_failed.len(),
        "connect_failed": connect_failed,
        "burst": {
            "accepted": burst.n,
            "failed": burst_failed.len(),
            "wall_ms": burst_wall.as_secs_f64() * 1e3,
            "server_cpu_us_per_registration": burst_cpu_us,
            "latency": hist_json(&burst),
        },
        "route_check_brokers": route_brokers,
        "drop": {
            "connections": dropped,
            "routes_gone_ms": drop_gone.map(|d| d.as_secs_f64() * 1e3),
            "groups_left": drop_left,
        },
        "loaded_registrations": hist_json(&regs),
        "loaded_registrations_failed": reg_failed.len(),
        "idle_queries": idle_result.as_ref().map(LoadResult::json),
        "loaded_queries": loaded_result.as_ref().map(LoadResult::json),
        "query_p99_loaded_over_idle": p99_ratio,
        "rss_mib": {
            "before": rss_mib(rss_before),
            "after_burst": rss_mib(rss_burst),
            "after_idle": rss_mib(rss_idle),
            "end": rss_mib(rss_end),
        },
        "errors": errors.len(),
    });
    Ok(RegisterReport { text, json, errors })
}

/// How long the drop phase waits for routes to go.
const DROP_WAIT: Duration = Duration::from_secs(10);

/// Polls the route of each of `topics` until none is left (every one TOPIC_NOT_EXIST);
/// the time from `since` when that happened, or `None` and how many were still routed when
/// `wait` ran out.
fn routes_gone(
    addr: SocketAddr,
    timeout: Duration,
    topics: &[String],
    since: Instant,
    wait: Duration,
) -> (Option<Duration>, usize, Option<String>) {
    let mut probe: Option<BlockingConn> = None;
    let mut last_error = None;
    let mut left = topics.len();
    loop {
        // A server may close the probe (or refuse it while it is busy): connect again.
        let round = (|| {
            let conn = match probe.as_mut() {
                Some(c) => c,
                None => probe.insert(BlockingConn::connect(addr, timeout)?),
            };
            let mut n = 0;
            for t in topics {
                let r = conn.call(route_request(t))?;
                match r.code {
                    response::SUCCESS => n += 1,
                    response::TOPIC_NOT_EXIST => {}
                    other => return Err(format!("route of {t} during the drop: code {other}")),
                }
            }
            Ok(n)
        })();
        match round {
            Ok(n) => left = n,
            Err(e) => {
                probe = None;
                last_error = Some(e);
            }
        }
        let elapsed = since.elapsed();
        if left == 0 {
            return (Some(elapsed), 0, last_error);
        }
        if elapsed > wait {
            return (None, left, last_error);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

// --- start-up -------------------------------------------------------------------------------------------

fn startup_mode(o: &Opts) -> Result<(), String> {
    o.allow(&["addr", "cmd", "runs", "json"])?;
    let addr = resolve(o.req("addr")?)?;
    let cmd: Vec<&str> = o.req("cmd")?.split_whitespace().collect();
    let Some((program, args)) = cmd.split_first() else {
        return Err("--cmd is empty".into());
    };
    let runs = o.positive("runs", 10)?;
    if StdStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(format!("something already listens on {addr}"));
    }
    let (mut accepted, mut replied) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut child = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let result = first_reply(addr, t0);
        let _ = child.kill();
        let _ = child.wait();
        let (a, r) = result?;
        accepted.push(a);
        replied.push(r);
        // The port must be free again before the next run.
        let free_by = Instant::now() + Duration::from_secs(10);
        while StdStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            if Instant::now() > free_by {
                return Err(format!("{addr} still answers after the server was killed"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    accepted.sort();
    replied.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let median = |v: &[Duration]| v.get(v.len() / 2).map(ms).unwrap_or(0.0);
    let worst = |v: &[Duration]| v.last().map(ms).unwrap_or(0.0);
    if o.flag("json") {
        println!(
            "{}",
            json!({
                "mode": "startup",
                "addr": addr.to_string(),
                "command": o.req("cmd")?,
                "runs": runs,
                "first_accept_ms": {"median": median(&accepted), "max": worst(&accepted)},
                "first_reply_ms": {"median": median(&replied), "max": worst(&replied)},
            })
        );
    } else {
        println!(
            "start-up of `{}` ({runs} runs): first accepted connection median {:.1} ms, max {:.1} ms; first reply median {:.1} ms, max {:.1} ms",
            o.req("cmd")?,
            median(&accepted),
            worst(&accepted),
            median(&replied),
            worst(&replied)
        );
    }
    Ok(())
}

/// Connects every millisecond until `addr` accepts, then asks one route; the times from `t0`.
fn first_reply(addr: SocketAddr, t0: Instant) -> Result<(Duration, Duration), String> {
    let deadline = t0 + Duration::from_secs(30);
    loop {
        if let Ok(mut c) = BlockingConn::connect(addr, Duration::from_secs(5)) {
            let accepted = t0.elapsed();
            c.call(route_request("startup-probe"))?;
            return Ok((accepted, t0.elapsed()));
        }
        if Instant::now() > deadline {
            return Err(format!("nothing accepted on {addr} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

// --- null server ------------------------------------------------------------------------------------------

/// The precomputed reply: the JSON header cut around its opaque, the binary header with the
/// opaque at a fixed offset, and the route body.
struct NullReply {
    json_prefix: Vec<u8>,
    json_suffix: Vec<u8>,
    binary: Vec<u8>,
    body: Vec<u8>,
}

impl NullReply {
    /// What our server answers to GET_ROUTEINFO_BY_TOPIC for a topic of the setup broker,
    /// computed once by the core state machine.
    fn build() -> Result<Self, String> {
        let topics = bench_topics(1);
        let mut h = Harness::new();
        let reg = h.call(1, java_command(&setup_reg(&topics)));
        expect_success(&reg, "null-server: building the reply")?;
        let mut reply = h.call(1, route_request(&topics[0]));
        expect_success(&reply, "null-server: building the reply")?;
        reply.opaque = 0;
        reply.serialize_type = SerializeType::Json;
        let frame = encode_to_bytes(&reply).map_err(|e| format!("null-server: {e}"))?;
        let header_len =
            (u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) & 0x00FF_FFFF) as usize;
        let header = &frame[8..8 + header_len];
        let at = find(header, b"\"opaque\":0").ok_or("null-server: reply has no opaque")?
            + "\"opaque\":".len();
        let json_prefix = header[..at].to_vec();
        let json_suffix = header[at + 1..].to_vec();
        let body = frame[8 + header_len..].to_vec();
        reply.serialize_type = SerializeType::RocketMq;
        let binary = encode_to_bytes(&reply)
            .map_err(|e| format!("null-server: {e}"))?
            .to_vec();
        Ok(Self {
            json_prefix,
            json_suffix,
            binary,
            body,
        })
    }

    fn write(&self, serialize: SerializeType, opaque: i32, out: &mut Vec<u8>) {
        match serialize {
            SerializeType::Json => {
                let mut digits = [0u8; 11];
                let mut n = 0;
                let mut x = i64::from(opaque).unsigned_abs();
                loop {
                    digits[10 - n] = b'0' + (x % 10) as u8;
                    n += 1;
                    x /= 10;
                    if x == 0 {
                        break;
                    }
                }
                if opaque < 0 {
                    digits[10 - n] = b'-';
                    n += 1;
                }
                let digits = &digits[11 - n..];
                let header_len = self.json_prefix.len() + digits.len() + self.json_suffix.len();
                let total = 4 + header_len + self.body.len();
                out.extend_from_slice(&(total as u32).to_be_bytes());
                out.extend_from_slice(&(header_len as u32).to_be_bytes());
                out.extend_from_slice(&self.json_prefix);
                out.extend_from_slice(digits);
                out.extend_from_slice(&self.json_suffix);
                out.extend_from_slice(&self.body);
            }
            SerializeType::RocketMq => {
                let at = out.len() + 8 + 5;
                out.extend_from_slice(&self.binary);
                out[at..at + 4].copy_from_slice(&opaque.to_be_bytes());
            }
        }
    }
}

fn null_server_mode(o: &Opts) -> Result<(), String> {
    o.allow(&["listen", "threads"])?;
    let listen = resolve(o.req("listen")?)?;
    let threads = o.positive(
        "threads",
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    )?;
    let reply = Arc::new(NullReply::build()?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!("null-server listening on {local}");
        let _ = std::io::stdout().flush();
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(null_conn(stream, reply.clone()));
                }
                Err(e) => {
                    eprintln!("null-server: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

/// Reads, answers every whole frame in the buffer, writes all the answers at once.
async fn null_conn(mut s: tokio::net::TcpStream, reply: Arc<NullReply>) {
    let mut inb = BytesMut::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        if inb.capacity() - inb.len() < 4096 {
            inb.reserve(64 * 1024);
        }
        match s.read_buf(&mut inb).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            match peek_frame(&mut inb) {
                Ok(Some(h)) => {
                    if h.flag & flag::ONEWAY == 0 {
                        reply.write(h.serialize, h.opaque, &mut out);
                    }
                    inb.advance(h.len);
                }
                Ok(None) => break,
                Err(_) => return, // broken stream: close, as Apache does
            }
        }
        if !out.is_empty() {
            if s.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}
