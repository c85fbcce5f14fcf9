//! A few hundred core schedules on every `cargo test`; CI runs 10,000 (see .ci/run).

use namesrv_sim::{run_schedule, DEFAULT_STEPS};

#[test]
fn three_hundred_schedules_hold_every_invariant() {
    let mut expiries = 0;
    for seed in 0..300 {
        match run_schedule(seed, DEFAULT_STEPS, true) {
            Ok(o) => expiries += o.expiries,
            Err(f) => panic!("{}\n{f}", f.trace),
        }
    }
    assert!(
        expiries > 100,
        "schedules barely exercise expiry ({expiries})"
    );
}

#[test]
fn a_seed_replays_exactly() {
    for seed in [1, 42, 7_777] {
        let a = run_schedule(seed, DEFAULT_STEPS, false).unwrap();
        let b = run_schedule(seed, DEFAULT_STEPS, true).unwrap();
        assert_eq!(a, b);
    }
    assert_ne!(
        run_schedule(1, 50, false).unwrap().trace_hash,
        run_schedule(2, 50, false).unwrap().trace_hash
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

    /// proptest front-end over the same model check: arbitrary seeds and schedule lengths.
    #[test]
    fn arbitrary_schedules_match_the_reference_model(seed in proptest::prelude::any::<u64>(), steps in 1usize..400) {
        if let Err(f) = run_schedule(seed, steps, false) {
            let f = run_schedule(seed, steps, true).err().unwrap_or(f);
            proptest::prop_assert!(false, "{}\n{f}", f.trace);
        }
    }
}
