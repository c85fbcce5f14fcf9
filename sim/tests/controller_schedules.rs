//! A few hundred controller schedules on every `cargo test` (`namesrv-sim controller --seeds N`
//! runs more).

use namesrv_sim::controller::{run_controller_schedule, ControllerOutcome, CONTROLLER_STEPS};

fn run(seed: u64) -> ControllerOutcome {
    match run_controller_schedule(seed, CONTROLLER_STEPS, false) {
        Ok(o) => o,
        Err(_) => {
            let f = run_controller_schedule(seed, CONTROLLER_STEPS, true)
                .expect_err("a failure replays");
            let lines: Vec<&str> = f.trace.lines().collect();
            let from = lines.len().saturating_sub(300);
            panic!("{}\n{f}", lines[from..].join("\n"));
        }
    }
}

#[test]
fn three_hundred_controller_schedules_hold_every_invariant() {
    let mut total = ControllerOutcome::default();
    for seed in 0..300 {
        let o = run(seed);
        total.inputs += o.inputs;
        total.elections += o.elections;
        total.masterless += o.masterless;
        total.unclean_elections += o.unclean_elections;
        total.failovers += o.failovers;
        total.dead_on_arrival += o.dead_on_arrival;
        total.scan_repairs += o.scan_repairs;
        total.expiries += o.expiries;
        total.restarts += o.restarts;
        total.lost_appends += o.lost_appends;
        total.delayed_appends += o.delayed_appends;
        total.failed_appends += o.failed_appends;
        total.broker_crashes += o.broker_crashes;
        total.broker_hangs += o.broker_hangs;
        total.id_conflicts += o.id_conflicts;
        total.same_code_retries += o.same_code_retries;
        total.alters_ok += o.alters_ok;
        total.alters_refused += o.alters_refused;
        total.cleans_ok += o.cleans_ok;
        total.cleans_refused += o.cleans_refused;
        total.recreated_sets += o.recreated_sets;
        total.notifies += o.notifies;
    }
    eprintln!("{total:#?}");
    // The schedules reach what they are for.
    let t = &total;
    for (what, n, min) in [
        ("elections", t.elections, 1_000),
        ("masterless elections", t.masterless, 20),
        ("unclean elections", t.unclean_elections, 5),
        ("checked failovers", t.failovers, 200),
        ("sets repaired by the scan or a broker", t.scan_repairs, 100),
        ("expiries", t.expiries, 200),
        ("controller restarts", t.restarts, 300),
        ("appends lost in a restart", t.lost_appends, 30),
        ("delayed appends", t.delayed_appends, 1_000),
        ("failed appends", t.failed_appends, 5),
        ("1013 conflicts", t.id_conflicts, 50),
        ("1013 same-code retries", t.same_code_retries, 50),
        ("1001 accepted", t.alters_ok, 500),
        ("1001 refused", t.alters_refused, 200),
        ("1011 accepted", t.cleans_ok, 100),
        ("1011 refused", t.cleans_refused, 100),
        ("sets recreated", t.recreated_sets, 10),
        ("notifications", t.notifies, 500),
    ] {
        assert!(
            n >= min,
            "schedules barely exercise {what}: {n} (want {min})"
        );
    }
}

#[test]
fn a_controller_seed_replays_exactly() {
    for seed in [1, 42, 7_777] {
        let a = run_controller_schedule(seed, CONTROLLER_STEPS, false).unwrap();
        let b = run_controller_schedule(seed, CONTROLLER_STEPS, true).unwrap();
        assert_eq!(a, b);
    }
    assert_ne!(
        run_controller_schedule(1, 50, false).unwrap().trace_hash,
        run_controller_schedule(2, 50, false).unwrap().trace_hash
    );
}
