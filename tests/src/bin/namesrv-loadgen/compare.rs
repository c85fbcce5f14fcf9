//! The `compare` mode: two servers, the same route load, alternating rounds.

use std::time::Duration;

use serde_json::json;

use crate::cli::{resolve, Opts};
use crate::load::LoadResult;
use crate::route::{route_args, ROUTE_KEYS};
use crate::stats::{fmt_ns, fmt_rate, fmt_rss, rss_mib, rss_of, server_pid};

// --- compare ------------------------------------------------------------------------------------------

pub(crate) fn compare_mode(o: &Opts) -> Result<(), String> {
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
