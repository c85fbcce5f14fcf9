//! One `register` run: the burst, the loaded and idle phases, the drop, and its report.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::protocol::bodies::TopicRouteData;
use namesrv_core::protocol::response;
use serde_json::{json, Value};

use crate::conn::{route_request, BlockingConn, ReqTemplate};
use crate::load::{route_templates, LoadResult, Window};
use crate::register::{register_cmd, BrokerConn, Clients, RegisterPlan, RegisterReport};
use crate::stats::{fmt_ns, fmt_rss, nanos, rss_mib, rss_of, CpuSample, CpuUse, Hist};

pub(crate) fn hist_json(h: &Hist) -> Value {
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

pub(crate) async fn register_run(p: RegisterPlan) -> Result<RegisterReport, String> {
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
