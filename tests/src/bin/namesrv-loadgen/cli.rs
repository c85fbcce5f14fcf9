//! The command line: the usage text, option parsing and address resolution.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

pub(crate) const USAGE: &str = "\
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
  scale --addr A [--brokers 300] [--topics 10000] [--queues 8] [--rounds 3] [--period 20]
        [--dv bump|keep] [--clients 8] [--settle 30] [--timeout 60]
        A big cluster (issue 15): M brokers, each on its own connection and its own group,
        register the same K topics of Q queues all at once every --period seconds for
        --rounds rounds, the DataVersion bumped each round or kept; C clients query routes in
        closed loops throughout. Then every broker connection closes. Reports registration
        latency per round, query p99/max over the storm, the server's RSS (sampled every
        100 ms: peak, after each round, and 2 s after every broker's routes are gone).
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
  failover --controller A [--rounds 20] [--timeout-ms 1000] [--json]
        Against a 5.x controller (namesrv with enableControllerInNamesrv): each round makes a
        set of two replicas, master and in-sync slave, then loses the master twice over: its
        connection closed (time to NOTIFY_BROKER_ROLE_CHANGED at the slave's port), and its
        heartbeats stopped (time from its deadline, last heartbeat + --timeout-ms, to the
        notification). Reports p50/p99/max of each.

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

// --- command line ------------------------------------------------------------------------------

pub(crate) struct Opts {
    pub(crate) mode: String,
    vals: HashMap<String, String>,
    flags: Vec<String>,
}

const FLAGS: &[&str] = &["json", "no-register", "blocking"];

impl Opts {
    pub(crate) fn parse(args: Vec<String>) -> Result<Self, String> {
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
    pub(crate) fn allow(&self, keys: &[&str]) -> Result<(), String> {
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

    pub(crate) fn flag(&self, k: &str) -> bool {
        self.flags.iter().any(|f| f == k)
    }

    pub(crate) fn str(&self, k: &str) -> Option<&str> {
        self.vals.get(k).map(String::as_str)
    }

    pub(crate) fn req(&self, k: &str) -> Result<&str, String> {
        self.str(k)
            .ok_or_else(|| format!("{}: --{k} is required", self.mode))
    }

    pub(crate) fn num<T: std::str::FromStr>(&self, k: &str, default: T) -> Result<T, String> {
        match self.str(k) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{k}: {v:?} is not a valid number")),
        }
    }

    pub(crate) fn secs(&self, k: &str, default: f64) -> Result<Duration, String> {
        let s: f64 = self.num(k, default)?;
        if !(0.0..=1e6).contains(&s) {
            return Err(format!("--{k}: {s} is not a duration in seconds"));
        }
        Ok(Duration::from_secs_f64(s))
    }

    pub(crate) fn positive(&self, k: &str, default: usize) -> Result<usize, String> {
        let n: usize = self.num(k, default)?;
        if n == 0 {
            return Err(format!("--{k} must be at least 1"));
        }
        Ok(n)
    }

    pub(crate) fn list(&self, k: &str, default: &[usize]) -> Result<Vec<usize>, String> {
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

    pub(crate) fn pid(&self, k: &str) -> Result<Option<u32>, String> {
        self.str(k)
            .map(|v| v.parse().map_err(|_| format!("--{k}: {v:?} is not a pid")))
            .transpose()
    }
}

pub(crate) fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr:?} resolves to no address"))
}
