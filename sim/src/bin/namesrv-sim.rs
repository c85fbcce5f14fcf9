//! `namesrv-sim run --seeds N [--start S] [--steps K] [--seconds T]` runs N schedules (with
//! `--seconds`, stops starting new ones after T seconds: CI's time budget);
//! `namesrv-sim replay SEED [--steps K]` replays one and prints its event trace;
//! `namesrv-sim controller --seeds N [--start S] [--steps K] [--seconds T] [--trace]` runs N
//! controller schedules (`--trace`: print each one's trace).

use std::process::ExitCode;

use namesrv_sim::{run_schedule, trace_of, DEFAULT_STEPS};

fn arg_value(args: &[String], flag: &str) -> Option<u64> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps = arg_value(&args, "--steps").map_or(DEFAULT_STEPS, |s| s as usize);
    match args.first().map(String::as_str) {
        Some("run") => {
            let seeds = arg_value(&args, "--seeds").unwrap_or(1000);
            let start = arg_value(&args, "--start").unwrap_or(0);
            let budget = arg_value(&args, "--seconds").map(std::time::Duration::from_secs);
            let t0 = std::time::Instant::now();
            let (mut expiries, mut restarts, mut unchanged, mut ran) = (0, 0, 0, 0);
            for seed in start..start + seeds {
                if budget.is_some_and(|b| t0.elapsed() >= b) {
                    break;
                }
                ran += 1;
                match run_schedule(seed, steps, false) {
                    Ok(o) => {
                        expiries += o.expiries;
                        restarts += o.restarts;
                        unchanged += o.unchanged;
                    }
                    Err(_) => {
                        // Re-run with the trace on for the report.
                        let f = run_schedule(seed, steps, true).err();
                        if let Some(f) = f {
                            eprintln!("{}", f.trace);
                            eprintln!("{f}");
                        }
                        return ExitCode::FAILURE;
                    }
                }
            }
            let cut = budget_note(ran, seeds, start);
            println!(
                "simulated {ran} schedules x {steps} steps ({expiries} expiries, {restarts} restarts, {unchanged} unchanged registrations) in {:.1}s: {ran} passed, 0 failed{cut}",
                t0.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Some("replay") => {
            let Some(seed) = args.get(1).and_then(|s| s.parse::<u64>().ok()) else {
                eprintln!("usage: namesrv-sim replay SEED [--steps K]");
                return ExitCode::from(2);
            };
            print!("{}", trace_of(seed, steps));
            match run_schedule(seed, steps, false) {
                Ok(o) => {
                    println!("seed {seed}: passed, trace hash {:016x}", o.trace_hash);
                    ExitCode::SUCCESS
                }
                Err(f) => {
                    println!("{f}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("controller") => controller(&args),
        _ => {
            eprintln!("usage: namesrv-sim run --seeds N [--start S] [--steps K] [--seconds T] | replay SEED [--steps K] | controller --seeds N [--start S] [--steps K] [--seconds T] [--trace]");
            ExitCode::from(2)
        }
    }
}

/// `controller --seeds N [--start S] [--steps K] [--seconds T] [--trace]`.
fn controller(args: &[String]) -> ExitCode {
    use namesrv_sim::controller::{controller_trace, run_controller_schedule, CONTROLLER_STEPS};
    let steps = arg_value(args, "--steps").map_or(CONTROLLER_STEPS, |s| s as usize);
    let seeds = arg_value(args, "--seeds").unwrap_or(1000);
    let start = arg_value(args, "--start").unwrap_or(0);
    let budget = arg_value(args, "--seconds").map(std::time::Duration::from_secs);
    let print_trace = args.iter().any(|a| a == "--trace");
    let t0 = std::time::Instant::now();
    let (mut ran, mut elections, mut failovers, mut restarts, mut inputs, mut doa) =
        (0, 0, 0, 0, 0, 0);
    for seed in start..start + seeds {
        if budget.is_some_and(|b| t0.elapsed() >= b) {
            break;
        }
        ran += 1;
        if print_trace {
            print!("{}", controller_trace(seed, steps));
        }
        match run_controller_schedule(seed, steps, false) {
            Ok(o) => {
                elections += o.elections;
                failovers += o.failovers;
                restarts += o.restarts;
                inputs += o.inputs;
                doa += o.dead_on_arrival;
                if print_trace {
                    println!("seed {seed}: passed, trace hash {:016x}", o.trace_hash);
                }
            }
            Err(_) => {
                if let Err(f) = run_controller_schedule(seed, steps, true) {
                    if !print_trace {
                        let lines: Vec<&str> = f.trace.lines().collect();
                        let from = lines.len().saturating_sub(200);
                        eprintln!("... (the last {} lines of the trace)", lines.len() - from);
                        eprintln!("{}", lines[from..].join("\n"));
                    }
                    eprintln!("{f}");
                }
                return ExitCode::FAILURE;
            }
        }
    }
    let cut = budget_note(ran, seeds, start);
    println!(
        "simulated {ran} controller schedules x {steps} steps ({inputs} inputs, {elections} elections, {failovers} checked failovers, {restarts} controller restarts, {doa} masters dead before their election applied, each replaced at once) in {:.1}s: {ran} passed, 0 failed{cut}",
        t0.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

/// What a run cut short by its `--seconds` budget says after its summary (nothing otherwise).
fn budget_note(ran: u64, seeds: u64, start: u64) -> String {
    if ran < seeds {
        format!(
            " (of {seeds}: the --seconds budget ran out; next: --start {})",
            start + ran
        )
    } else {
        String::new()
    }
}
