//! Deterministic simulation of the NameServer core.
//!
//! A seeded generator produces schedules of every state-changing input: broker registrations
//! whose topic configs (perm, queue counts, flags) change with and without a DataVersion bump,
//! heartbeats and QUERY_DATA_VERSION, clean shutdowns (UNREGISTER_BROKER), crashes (connection
//! closed), silent partitions (no close, so only expiry removes the broker), reconnects whose
//! old connection closes late (a stale close that must not wipe the fresh registration,
//! apache/rocketmq#11043), write-permission wipes and adds, topic deletes and registrations,
//! KV writes, config updates (refused ones included), restarts from what the simulated disk
//! holds (which fails one write in ten), and time jumps that land just before, exactly on and
//! just after broker deadlines. After every step the machine is checked against a reference
//! model ([`model`]): whole replies, the disk, and table invariants. A failure carries its
//! seed; the same seed replays the same schedule, and the trace hash proves it.

mod check;
pub mod controller;
mod model;
mod sim;
mod writes;

use sim::Sim;

/// splitmix64: tiny, fast, and the same on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A failed schedule.
#[derive(Debug)]
pub struct Failure {
    pub seed: u64,
    pub step: usize,
    pub message: String,
    pub trace: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "schedule failed at step {}: {}", self.step, self.message)?;
        writeln!(f, "seed: {}", self.seed)?;
        write!(
            f,
            "replay: cargo run -p namesrv-sim --bin namesrv-sim -- replay {}",
            self.seed
        )
    }
}

/// The result of a passing schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub trace_hash: u64,
    pub steps: usize,
    pub expiries: usize,
    /// Restarts of the core from the simulated disk.
    pub restarts: usize,
    /// Registrations the read view found unchanged (their bodies not decoded ahead).
    pub unchanged: usize,
}

/// Runs one schedule of `steps` steps. With `record`, the failure carries the event trace.
pub fn run_schedule(seed: u64, steps: usize, record: bool) -> Result<Outcome, Box<Failure>> {
    let mut sim = Sim::new(seed, record);
    for step in 0..steps {
        if let Err(message) = sim.step(step) {
            return Err(Box::new(Failure {
                seed,
                step,
                message,
                trace: sim.trace,
            }));
        }
    }
    Ok(Outcome {
        trace_hash: sim.hash,
        steps,
        expiries: sim.expiries,
        restarts: sim.restarts,
        unchanged: sim.unchanged,
    })
}

/// The event trace of a schedule (for replays).
pub fn trace_of(seed: u64, steps: usize) -> String {
    match run_schedule(seed, steps, true) {
        Ok(_) => {
            let mut sim = Sim::new(seed, true);
            for step in 0..steps {
                let _ = sim.step(step);
            }
            sim.trace
        }
        Err(f) => f.trace,
    }
}

/// Steps per schedule, unless told otherwise.
pub const DEFAULT_STEPS: usize = 300;
