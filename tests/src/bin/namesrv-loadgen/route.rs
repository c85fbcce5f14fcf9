//! The `route` mode and its options (shared with `compare`).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;

use crate::cli::{resolve, Opts};
use crate::conn::{bench_topics, setup_route, SetupKeeper};
use crate::load::{route_templates, run_route_load, LoadResult, LoadSpec};
use crate::stats::{fmt_rss, rss_mib, rss_of, server_pid};

pub(crate) struct RouteArgs {
    pub(crate) conns: Vec<usize>,
    threads: Option<usize>,
    blocking: bool,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    timeout: Duration,
    quiet_wait: Duration,
    retry_noisy: usize,
    pub(crate) topics: Vec<String>,
    register: bool,
    pub(crate) json: bool,
}

pub(crate) const ROUTE_KEYS: &[&str] = &[
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

pub(crate) fn route_args(o: &Opts, default_conns: &[usize]) -> Result<RouteArgs, String> {
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

    pub(crate) fn setup(&self, addr: SocketAddr) -> Result<Option<SetupKeeper>, String> {
        if self.register {
            let conn = setup_route(addr, &self.topics)?;
            Ok(Some(SetupKeeper::start(conn, self.topics.clone())))
        } else {
            Ok(None)
        }
    }

    /// One measured run; a run flagged NOISY is run again, up to `--retry-noisy` times. A run
    /// in which any connection failed is an error (after `show` has printed it).
    pub(crate) fn measure(
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

    pub(crate) fn client_desc(&self) -> String {
        if self.blocking {
            "blocking, one thread per connection".into()
        } else {
            format!("tokio, {} thread(s)", self.threads.unwrap_or(1))
        }
    }
}

pub(crate) fn route_mode(o: &Opts) -> Result<(), String> {
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
