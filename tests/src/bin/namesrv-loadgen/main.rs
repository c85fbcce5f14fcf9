//! `namesrv-loadgen`: load for any RocketMQ NameServer, over the remoting protocol (issue 10).
//!
//! ```text
//! namesrv-loadgen route    --addr A [--conns C] [--duration D] [--topics N]
//! namesrv-loadgen register --addr A [--brokers M] [--topics K] [--period S] [--clients C]
//! namesrv-loadgen scale    --addr A [--brokers 300] [--topics 10000] [--dv bump|keep]
//! namesrv-loadgen compare  --a A --b B [--conns 1,16,128] [--duration D] [--rounds R]
//! namesrv-loadgen null-server --listen ADDR
//! namesrv-loadgen failover --controller A [--rounds 20] [--timeout-ms 1000]
//! ```
//!
//! Run `namesrv-loadgen help` for every option. Requests are pre-encoded JSON frames (what a
//! Java client sends) whose opaque is patched in place; replies are checked from their header
//! alone (length, opaque, code), so the generator spends as little of the shared CPU as it can.
//! Latencies go to a log-linear histogram (128 sub-buckets per power of two, < 0.8% error).

use std::process::ExitCode;

use crate::cli::{Opts, USAGE};
use crate::compare::compare_mode;
use crate::failover::failover_mode;
use crate::null_server::null_server_mode;
use crate::register::register_mode;
use crate::route::route_mode;
use crate::scale::scale_mode;
use crate::startup::startup_mode;

mod cli;
mod compare;
mod conn;
mod failover;
mod load;
mod null_server;
mod register;
mod register_run;
mod route;
mod scale;
mod startup;
mod stats;

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
        "scale" => scale_mode(&opts),
        "failover" => failover_mode(&opts),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!(
            "unknown mode {other:?} (route, register, scale, compare, null-server, startup, failover, help)"
        )),
    }
}
