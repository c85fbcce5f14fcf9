//! Core cost benchmark: `cargo run --release -p namesrv-sim --bin core-bench`.
//!
//! Measures, inside the state machine only (no sockets): a GET_ROUTEINFO_BY_TOPIC answer
//! through `NameServer::step` and through the read view's `accept` (route assembly + standard
//! JSON encode each time: no body cache), and a REGISTER_BROKER carrying 100 topics (CRC check,
//! body decode, table update) with its DataVersion kept and changed, for a cluster of 100
//! broker groups x 100 topics. Then the loadgen's registration burst inside the machine: 1,000
//! brokers x 100 topics (groups of 10 brokers sharing a topic set: 10,000 topics, 100,000
//! queue entries), with the read view published after every step as the server does, and
//! without. Prints ns/op; compare runs, not absolute numbers.

use std::time::Instant;

use namesrv_core::config::NamesrvConfig;
use namesrv_core::kv::KvConfig;
use namesrv_core::protocol::bodies::DataVersion;
use namesrv_core::protocol::register_request::topic_config;
use namesrv_core::protocol::{request, RegisterBrokerRequest, RemotingCommand};
use namesrv_core::{Input, NameServer, NoRouteBodies};

fn register(name: &str, addr: &str, counter: i64, topics: usize) -> RemotingCommand {
    RegisterBrokerRequest::new("DefaultCluster", addr, name, 0)
        .dv(DataVersion {
            state_version: 0,
            timestamp: 1,
            counter,
        })
        .topic_configs(
            (0..topics)
                .map(|t| topic_config(&format!("Topic{t}")))
                .collect(),
        )
        .command()
}

fn bench(label: &str, iters: u32, mut f: impl FnMut(u32)) {
    for i in 0..iters / 10 {
        f(i);
    }
    let t = Instant::now();
    for i in 0..iters {
        f(i);
    }
    let ns = t.elapsed().as_nanos() as f64 / f64::from(iters);
    println!("{label:<58} {ns:>10.0} ns/op  ({:.0} ops/s)", 1e9 / ns);
}

fn main() {
    // `core-bench burst` / `burst-view`: only the burst, without / with views (for a profiler).
    match std::env::args().nth(1).as_deref() {
        Some("burst") => return burst(false),
        Some("burst-view") => return burst(true),
        Some("scale") => return scale(),
        _ => {}
    }
    let mut ns = NameServer::new(NamesrvConfig::default(), KvConfig::new(), 0);
    for b in 0..100 {
        ns.step(
            0,
            Input::request(
                b,
                register(&format!("broker-{b}"), &format!("10.0.{b}.1:10911"), 1, 100),
            ),
        );
    }
    let routes: Vec<RemotingCommand> = (0..100)
        .map(|t| {
            RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
                .with_ext("topic", format!("Topic{t}"))
        })
        .collect();
    let view = ns.view();
    bench(
        "route query, 100 groups per topic, via step(&mut)",
        2_000,
        |i| {
            let cmd = routes[(i % 100) as usize].clone();
            std::hint::black_box(ns.step(1, Input::request(999, cmd)));
        },
    );
    bench(
        "route query, 100 groups per topic, via the read view",
        2_000,
        |i| {
            let cmd = routes[(i % 100) as usize].clone();
            std::hint::black_box(view.accept(1, 999, cmd, &NoRouteBodies));
        },
    );

    let mut small = NameServer::new(NamesrvConfig::default(), KvConfig::new(), 0);
    small.step(
        0,
        Input::request(1, register("broker-a", "10.0.0.1:10911", 1, 100)),
    );
    let small_view = small.view();
    bench(
        "route query, 1 group per topic, via the read view",
        200_000,
        |i| {
            let cmd = routes[(i % 100) as usize].clone();
            std::hint::black_box(small_view.accept(1, 999, cmd, &NoRouteBodies));
        },
    );

    let same = register("broker-a", "10.0.0.1:10911", 1, 100);
    bench(
        "register 100 topics, unchanged DataVersion (heartbeat)",
        20_000,
        |_| {
            std::hint::black_box(small.step(2, Input::request(1, same.clone())));
        },
    );
    let changed: Vec<RemotingCommand> = (0..64)
        .map(|c| register("broker-a", "10.0.0.1:10911", 2 + c, 100))
        .collect();
    bench(
        "register 100 topics, new DataVersion (re-apply all)",
        20_000,
        |i| {
            let cmd = changed[(i % 64) as usize].clone();
            std::hint::black_box(small.step(3, Input::request(1, cmd)));
        },
    );

    burst(true);
    burst(false);
}

/// The registration burst of `tests/bench/run.sh` (see the module docs), then every broker's
/// connection closing, timed per step.
/// The process's resident set, from /proc (Linux), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / (1024.0 * 1024.0))
}

/// `core-bench scale`: issue 15's tables inside the machine: 300 groups register the same
/// 10,000 topics (8 queues each; 3 M queue entries), bodies decoded one at a time, no view
/// held; the time per registration and the RSS the tables add (the bodies are encoded first
/// and dropped as they are applied, so what is left is the tables and the allocator's slack).
fn scale() {
    let topics: Vec<_> = (0..10_000)
        .map(|t| topic_config(&format!("ScaleTopic-{t:05}")))
        .collect();
    let mut ns = NameServer::new(NamesrvConfig::default(), KvConfig::new(), 0);
    let before = rss_mib();
    let t = Instant::now();
    for b in 0..300u64 {
        let cmd = RegisterBrokerRequest::new(
            "ScaleCluster",
            &format!("10.2.{}.{}:10911", b / 250, b % 250),
            &format!("scale-broker-{b:03}"),
            0,
        )
        .topic_configs(topics.clone())
        .command();
        std::hint::black_box(ns.step(1, Input::request(b + 1, cmd)));
    }
    let per = t.elapsed().as_secs_f64() / 300.0;
    println!(
        "scale: 300 groups x 10,000 topics: {:.1} ms per registration ({:.2} s in all), {} queue entries, RSS +{:.0} MiB",
        per * 1e3,
        per * 300.0,
        ns.route().queue_entries(),
        rss_mib() - before
    );
}

fn burst(publish: bool) {
    let topics: Vec<Vec<namesrv_core::protocol::bodies::TopicConfig>> = (0..100)
        .map(|g| {
            (0..100)
                .map(|t| topic_config(&format!("G{g}-Topic{t}")))
                .collect()
        })
        .collect();
    let cmds: Vec<RemotingCommand> = (0..1000usize)
        .map(|b| {
            RegisterBrokerRequest::new(
                "DefaultCluster",
                &format!("10.1.{}.{}:10911", b / 250, b % 250),
                &format!("broker-{b}"),
                0,
            )
            .dv(DataVersion {
                state_version: 0,
                timestamp: 1,
                counter: 1,
            })
            .topic_configs(topics.get(b / 10).cloned().unwrap_or_default())
            .command()
        })
        .collect();
    let mut ns = NameServer::new(NamesrvConfig::default(), KvConfig::new(), 0);
    let mut views = Vec::new();
    let how = if publish {
        "view published after each step"
    } else {
        "no view held"
    };
    let t = Instant::now();
    for (b, cmd) in cmds.into_iter().enumerate() {
        std::hint::black_box(ns.step(1, Input::request(b as u64 + 1, cmd)));
        if publish {
            // The server keeps the last view; the one before is dropped when readers let go.
            views.clear();
            views.push(ns.view());
        }
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("{:<58} {ms:>10.1} ms", format!("burst 1000 x 100, {how}"));
    let t = Instant::now();
    for b in 0..1000u64 {
        std::hint::black_box(ns.step(2, Input::Closed { conn: b + 1 }));
        if publish {
            views.clear();
            views.push(ns.view());
        }
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{:<58} {ms:>10.1} ms",
        format!("1000 connections closed, {how}")
    );
}
