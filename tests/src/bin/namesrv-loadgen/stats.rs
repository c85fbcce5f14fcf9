//! Measurements: the latency histogram and number formatting, the server's RSS, and CPU
//! accounting (the server's CPU per request, and how much CPU others took).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

// --- latency histogram --------------------------------------------------------------------------

const SUB: usize = 128;
const HIST_LEN: usize = SUB + 57 * SUB;

/// Log-linear histogram of nanoseconds: exact below 128 ns, then 128 buckets per power of two.
#[derive(Clone)]
pub(crate) struct Hist {
    counts: Vec<u64>,
    pub(crate) n: u64,
    pub(crate) max: u64,
    sum: u64,
}

impl Hist {
    pub(crate) fn new() -> Self {
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

    pub(crate) fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.n += 1;
        self.max = self.max.max(ns);
        self.sum = self.sum.saturating_add(ns);
    }

    pub(crate) fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.n += other.n;
        self.max = self.max.max(other.max);
        self.sum = self.sum.saturating_add(other.sum);
    }

    /// The latency at quantile `q` (0..=1) in nanoseconds; 0 when empty.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
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

    pub(crate) fn mean(&self) -> u64 {
        self.sum.checked_div(self.n).unwrap_or(0)
    }
}

pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// `54.3 µs`, `1.30 ms`, `2.1 s`.
pub(crate) fn fmt_ns(ns: u64) -> String {
    if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

pub(crate) fn fmt_rate(r: f64) -> String {
    if r >= 1000.0 {
        format!("{:.1}k", r / 1000.0)
    } else {
        format!("{r:.0}")
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
pub(crate) fn server_pid(explicit: Option<u32>, addr: SocketAddr) -> Option<u32> {
    explicit.or_else(|| pid_listening_on(addr.port()))
}

pub(crate) fn rss_of(pid: Option<u32>) -> Option<u64> {
    pid.and_then(rss_kib)
}

pub(crate) fn fmt_rss(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

pub(crate) fn rss_mib(kib: Option<u64>) -> Value {
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
pub(crate) fn wait_for_quiet(max: Duration) -> bool {
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
pub(crate) struct CpuSample {
    at: Instant,
    server: Option<u64>,
    me: Option<u64>,
    machine: Option<u64>,
}

impl CpuSample {
    pub(crate) fn take(server_pid: Option<u32>) -> Self {
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
pub(crate) struct CpuUse {
    wall: f64,
    pub(crate) server: Option<f64>,
    pub(crate) loadgen: Option<f64>,
    /// Everything else on the machine: other builds, other tests. Noise if large.
    pub(crate) others: Option<f64>,
}

impl CpuUse {
    pub(crate) fn between(a: &CpuSample, b: &CpuSample) -> Self {
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
    pub(crate) fn add(&mut self, o: &CpuUse) {
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
    pub(crate) fn cores(&self, x: Option<f64>) -> Option<f64> {
        x.filter(|_| self.wall > 0.0).map(|x| x / self.wall)
    }

    /// True when other processes took more than 0.15 of a core during the run (a quiet
    /// run measures 0 to 0.05: softirq time of the load itself lands here too).
    pub(crate) fn noisy(&self) -> bool {
        self.cores(self.others).is_some_and(|c| c > 0.15)
    }
}
