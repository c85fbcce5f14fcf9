//! Deterministic simulation of the controller ([`namesrv_core::controller`]).
//!
//! A seeded schedule drives one controller with 2-3 broker sets of 2-4 replicas (more join
//! later) that behave as Apache's `ReplicasManager` does (spec §10): a new replica asks 1012,
//! claims its id with 1013 (check code `addr;millis`), registers with 1003, heartbeats (904,
//! oneway, about every second, with the masterEpoch it last adopted or -1 and a growing
//! maxOffset), asks for an election (1002) when 1003 named no live master, polls 1004 every 5 s
//! and adopts a higher masterEpoch, follows 1008, and as master expands and shrinks the
//! SyncStateSet (1001) to the replicas that caught up with it.
//!
//! Faults: crashes (the connection closes), silent hangs and GC pauses that end exactly on or
//! just after a heartbeat deadline (only expiry notices), restarts with the stored id (1003
//! only), a stale epoch and sometimes a new address, restarts with a stale temp id (1013 with
//! the same check code), duplicated 1013s, racing 1013s for the same id with another code, stale
//! 1001s from old masters, admin 1002 designateElect, admin 1011 (of dead ids, of a live one,
//! of a whole decommissioned set, which is then recreated), 1009 (enableElectUncleanMaster
//! toggles, refused keys), appends completed 0-3 steps late (and, rarely, failing: the
//! controller fences until restarted), and controller restarts, graceful (in-flight appends
//! complete first) or crashing (they are lost, their requests never answered). The disk is the
//! events of every append completed Ok; a restart replays it. A restart closes every
//! connection; brokers reconnect with new connection ids.
//!
//! Checked after every input, at every effect, or at the end of every step; a failure names
//! the seed and the step:
//! 1. `check_invariants(now)` holds.
//! 2. One master per set and masterEpoch over the whole run (a history of every applied
//!    ElectMaster; every master a reply, a notification or a broker names agrees with it; no
//!    two brokers act as master of a set at one epoch).
//! 3. masterEpoch and syncStateSetEpoch never go down (until the set is wholly cleaned).
//! 4. The master is in its SyncStateSet.
//! 5. An applied election chose from the previous SyncStateSet, unless unclean elections were
//!    on or it was the set's first; at decision time a chosen master is alive, a masterless
//!    outcome leaves nobody electable, and a new SyncStateSet holds the master and live
//!    registered ids only.
//! 6. No two check codes get SUCCESS for one (set, id) without a clean of it in between.
//! 7. A SUCCESS to 1013, 1003, 1002, 1001, 1011 or 1009 only once what it reports is durable
//!    (checked against the disk when it is sent); the applied state is always the fold of the
//!    completed appends; with nothing in flight, every request has had its answer.
//! 8. A restart replays the disk to the state before it, and the settings file to the settings
//!    in use.
//! 9. NOTIFY_BROKER_ROLE_CHANGED goes to a live replica and names the current master, epochs
//!    and SyncStateSet.
//! 10. A master that goes inactive (close or expiry) while a replica could replace it is
//!     replaced once the appends in flight complete (also when the replica an election in
//!     flight names dies before it applies: the controller elects again then, see
//!     `ControllerOutcome::dead_on_arrival`); and a set with no live master while a replica
//!     could be elected gets one within one scanInactiveMasterInterval.
//!
//! The same seed replays the same schedule: the trace hash (FNV over the textual trace of
//! inputs and effects) proves it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use namesrv_core::config::parse_properties;
use namesrv_core::controller::codes::{request as rq, response as rs};
use namesrv_core::controller::wire::{parse_sync_state_set, sync_state_set_body};
use namesrv_core::controller::{
    BrokerId, Controller, ControllerConfig, Effect, Event, Input, Note, Replicas,
};
use namesrv_core::protocol::{flag, RemotingCommand};

use crate::Rng;

mod brokers;
mod checks;
mod effects;
mod faults;
mod replies;
mod run;

type ConnId = u64;
type Millis = u64;

/// Steps per controller schedule, unless told otherwise.
pub const CONTROLLER_STEPS: usize = 300;

/// What a passing controller schedule did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControllerOutcome {
    pub trace_hash: u64,
    pub steps: usize,
    /// Inputs fed to the controller.
    pub inputs: usize,
    /// Applied elections that chose a master.
    pub elections: usize,
    /// Applied masterless elections.
    pub masterless: usize,
    /// Elections applied while enableElectUncleanMaster was on that chose outside the set.
    pub unclean_elections: usize,
    /// Masters that went inactive while another replica could replace them (each checked).
    pub failovers: usize,
    /// Replicas that went inactive while an election naming them master was in flight: that
    /// election still applies, and the controller must elect again at once.
    pub dead_on_arrival: usize,
    /// Sets seen without a live master while a replica could be elected that got one again
    /// (by the inactive-master scan or a broker's 1002).
    pub scan_repairs: usize,
    /// Replicas that went inactive by expiry (not by a close).
    pub expiries: usize,
    /// Controller restarts, and the appends lost by those that crashed.
    pub restarts: usize,
    pub lost_appends: usize,
    /// Appends completed at least one step after they were asked for.
    pub delayed_appends: usize,
    /// Appends that failed (the controller fenced).
    pub failed_appends: usize,
    pub broker_crashes: usize,
    pub broker_hangs: usize,
    /// 1013 refused (2014): a race lost, or a stale temp id.
    pub id_conflicts: usize,
    /// 1013 accepted again with the same check code.
    pub same_code_retries: usize,
    /// 1001 accepted / refused.
    pub alters_ok: usize,
    pub alters_refused: usize,
    /// 1011 accepted / refused.
    pub cleans_ok: usize,
    pub cleans_refused: usize,
    /// Sets wholly cleaned and created again.
    pub recreated_sets: usize,
    /// NOTIFY_BROKER_ROLE_CHANGED sent.
    pub notifies: usize,
}

/// A failed controller schedule.
#[derive(Debug)]
pub struct ControllerFailure {
    pub seed: u64,
    pub step: usize,
    pub message: String,
    pub trace: String,
}

impl std::fmt::Display for ControllerFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "controller schedule failed at step {}: {}",
            self.step, self.message
        )?;
        writeln!(f, "seed: {}", self.seed)?;
        write!(
            f,
            "replay: cargo run -p namesrv-sim --bin namesrv-sim -- controller --seeds 1 --start {} --trace",
            self.seed
        )
    }
}

/// Runs one controller schedule of `steps` steps. With `record`, the failure carries the trace.
pub fn run_controller_schedule(
    seed: u64,
    steps: usize,
    record: bool,
) -> Result<ControllerOutcome, Box<ControllerFailure>> {
    let mut sim = Sim::new(seed, record);
    for step in 0..steps {
        sim.step_no = step;
        if let Err(message) = sim.step() {
            return Err(Box::new(ControllerFailure {
                seed,
                step,
                message,
                trace: std::mem::take(&mut sim.trace),
            }));
        }
    }
    sim.out.trace_hash = sim.hash;
    sim.out.steps = steps;
    Ok(sim.out)
}

/// The textual trace of a controller schedule (for replays).
pub fn controller_trace(seed: u64, steps: usize) -> String {
    match run_controller_schedule(seed, steps, true) {
        Ok(_) => {
            let mut sim = Sim::new(seed, true);
            for step in 0..steps {
                sim.step_no = step;
                let _ = sim.step();
            }
            sim.trace
        }
        Err(f) => f.trace,
    }
}

fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01B3)
    })
}

const SET_NAMES: [&str; 3] = ["broker-a", "broker-b", "broker-c"];
/// The check code's clock: the broker's wall clock at `now`.
const EPOCH_MILLIS: u64 = 1_700_000_000_000;
/// A slave this far behind its master is not caught up.
const CATCH_UP: i64 = 500;
/// A master drops a silent slave from its set after this long (haMaxTimeSlaveNotCatchup, short).
const SLAVE_SILENCE: Millis = 5_000;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Proc {
    /// Not running; restarts at `restart_at` if set.
    Down {
        restart_at: Option<Millis>,
    },
    Up,
    /// Alive but silent (a hang, a long GC pause): sends and handles nothing.
    Hung {
        since: Millis,
        resume_at: Option<Millis>,
    },
}

/// Where a broker is in its startup (§10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for `startup_at`.
    Idle,
    NextId,
    Apply,
    Register,
    Elect,
    Running,
}

#[derive(Clone, Debug)]
struct Broker {
    set: usize,
    name: String,
    cluster: String,
    slot: usize,
    incarnation: u32,
    addr: String,
    timeout: Millis,
    priority: i32,
    // The store: brokerIdentity, brokerIdentity-temp, the HA epoch file and the commit log.
    identity: Option<BrokerId>,
    temp: Option<(BrokerId, String)>,
    stored_epoch: i32,
    max_offset: i64,
    // The process.
    proc: Proc,
    /// Bumped whenever the process forgets what it asked (crash, restart, resume, reconnect).
    life: u64,
    conn: Option<ConnId>,
    stage: Stage,
    startup_at: Option<Millis>,
    next_hb: Option<Millis>,
    last_hb: Millis,
    next_poll: Option<Millis>,
    next_check: Option<Millis>,
    polling: bool,
    altering: bool,
    electing: bool,
    // The role (ReplicasManager's memory).
    master_epoch: i32,
    master: Option<BrokerId>,
    ss: BTreeSet<BrokerId>,
    ss_epoch: i32,
    /// Its last view as master: (masterEpoch, syncStateSetEpoch, set), for stale 1001s.
    was_master: Option<(i32, i32, BTreeSet<BrokerId>)>,
}

impl Broker {
    fn is_master(&self) -> bool {
        self.identity.is_some() && self.master == self.identity
    }
}

#[derive(Clone, Debug)]
enum Kind {
    NextId,
    Apply {
        name: String,
        id: BrokerId,
        code: String,
    },
    Register {
        name: String,
        id: BrokerId,
        addr: String,
    },
    Elect {
        name: String,
        id: BrokerId,
        designate: bool,
    },
    Alter {
        name: String,
        id: BrokerId,
        master_epoch: i32,
        ss_epoch: i32,
        set: BTreeSet<BrokerId>,
    },
    Poll {
        name: String,
    },
    Clean {
        name: String,
        /// Listed ids alive at send time, with their liveness generation.
        live_at_send: Vec<(BrokerId, u64)>,
        ids: BTreeSet<BrokerId>,
        living: bool,
    },
    Config {
        unclean: Option<bool>,
        refused: bool,
    },
}

#[derive(Clone, Debug)]
struct Req {
    /// The broker that sent it and its life then (None: an admin or a ghost).
    who: Option<(usize, u64)>,
    kind: Kind,
}

/// An Append or PersistConfig not yet completed.
#[derive(Clone, Debug)]
struct Write {
    ticket: u64,
    events: Option<Vec<Event>>,
    config: Option<String>,
    /// The step at which it completes.
    due: usize,
    asked: usize,
}

/// A set without a live master while a replica could be elected: the inactive-master scan
/// must repair it within one interval (invariant 10, second part).
#[derive(Clone, Debug)]
struct Repair {
    since: Millis,
    state: (Option<BrokerId>, i32, BTreeSet<BrokerId>, usize),
    config_gen: u64,
}

/// A master went inactive while these in-sync replicas were alive: once the appends in flight
/// complete, the set must have a live master (invariant 10).
#[derive(Clone, Debug)]
struct Obligation {
    name: String,
    since_step: usize,
    master: BrokerId,
    candidates: Vec<(BrokerId, u64)>,
    unclean: bool,
    config_gen: u64,
}

struct Sim {
    rng: Rng,
    step_no: usize,
    now: Millis,
    c: Controller,
    start_config: ControllerConfig,
    /// The simulated disk: every event of every append completed Ok, in order.
    disk: Vec<Event>,
    /// The fold of `disk`.
    disk_state: Replicas,
    /// The last settings file written Ok.
    disk_config: Option<String>,
    writes: Vec<Write>,
    inbox: VecDeque<Input>,
    brokers: Vec<Broker>,
    ghosts: u32,
    next_conn: ConnId,
    opaque: i32,
    outstanding: BTreeMap<(ConnId, i32), Req>,
    /// (set, masterEpoch) -> the master that epoch elected (invariant 2).
    history: BTreeMap<(String, i32), Option<BrokerId>>,
    /// Last seen (masterEpoch, syncStateSetEpoch) per set (invariant 3).
    epochs: BTreeMap<String, (i32, i32)>,
    /// (set, id) -> the check code that got SUCCESS for it (invariant 6).
    codes: BTreeMap<(String, BrokerId), String>,
    /// (set, id) -> how many times it went inactive on this controller.
    live_gen: BTreeMap<(String, BrokerId), u64>,
    /// Bumped when a completed settings write changes enableElectUncleanMaster.
    config_gen: u64,
    obligations: Vec<Obligation>,
    /// Replicas that went inactive while an election naming them master was in flight.
    victims: BTreeSet<(String, BrokerId)>,
    /// Per set: since when it has had no live master while a replica could be elected.
    repairs: BTreeMap<String, Repair>,
    /// Per liveness key (cluster, set, id): since when it has been alive on this controller.
    alive_since: BTreeMap<(String, String, BrokerId), Millis>,
    /// The longest scanInactiveMasterInterval configured so far.
    scan_bound: Millis,
    /// A fenced controller restarts at this step.
    restart_due: Option<usize>,
    trace: String,
    record: bool,
    hash: u64,
    out: ControllerOutcome,
}

fn ext_i64(cmd: &RemotingCommand, key: &str) -> Option<i64> {
    cmd.ext(key).and_then(|v| v.trim().parse().ok())
}

fn ext_i32(cmd: &RemotingCommand, key: &str) -> Option<i32> {
    cmd.ext(key).and_then(|v| v.trim().parse().ok())
}

fn body_set(cmd: &RemotingCommand) -> (BTreeSet<BrokerId>, i32) {
    cmd.body
        .as_ref()
        .and_then(|b| parse_sync_state_set(b).ok())
        .unwrap_or_default()
}

fn fmt_cmd(cmd: &RemotingCommand) -> String {
    let mut s = format!("{} o{} f{}", cmd.code, cmd.opaque, cmd.flag);
    if let Some(r) = &cmd.remark {
        let _ = write!(s, " {r:?}");
    }
    if let Some(ext) = &cmd.ext_fields {
        s.push_str(" {");
        for (i, (k, v)) in ext.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{k}={v}");
        }
        s.push('}');
    }
    if let Some(b) = &cmd.body {
        let _ = write!(s, " {}", String::from_utf8_lossy(b));
    }
    s
}

fn ids_text(ids: &BTreeSet<BrokerId>) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// What a restarted controller runs with, as the shell builds it: the start-up settings, then
/// the keys 1009 persisted (the file holds only those); and that file's keys.
fn config_from(
    text: Option<&str>,
    start: &ControllerConfig,
) -> (ControllerConfig, BTreeMap<String, String>) {
    let mut c = start.clone();
    let mut persisted = BTreeMap::new();
    for (k, v) in parse_properties(text.unwrap_or_default()).unwrap_or_default() {
        if c.set(&k, &v) == Ok(true) {
            persisted.insert(k, v.trim().to_owned());
        }
    }
    (c, persisted)
}

impl Sim {
    fn new(seed: u64, record: bool) -> Self {
        let mut rng = Rng::new(seed);
        let n_sets = 2 + rng.below(2) as usize;
        let mut brokers = Vec::new();
        for (s, name) in SET_NAMES.iter().enumerate().take(n_sets) {
            let cluster = format!("C{}", rng.below(2));
            let replicas = 2 + rng.below(3) as usize;
            // The first replicas of a set often start together: they race for id 1.
            let base = rng.below(300);
            for slot in 0..replicas {
                let start = if slot < 2 && rng.chance(50) {
                    base + rng.below(5)
                } else {
                    rng.below(8_000)
                };
                brokers.push(Self::fresh_broker(
                    &mut rng,
                    s,
                    name,
                    &cluster,
                    slot,
                    1 + start,
                ));
            }
        }
        let start_config = ControllerConfig {
            scan_inactive_master_interval: [1_000, 2_000, 5_000][rng.below(3) as usize],
            enable_elect_unclean_master: rng.chance(20),
            notify_broker_role_changed: !rng.chance(10),
            ..ControllerConfig::default()
        };
        let c = Controller::new(start_config.clone(), Replicas::default(), 0, 0);
        let scan_bound = start_config.scan_inactive_master_interval as Millis;
        let mut sim = Self {
            rng,
            step_no: 0,
            now: 0,
            c,
            start_config,
            disk: Vec::new(),
            disk_state: Replicas::default(),
            disk_config: None,
            writes: Vec::new(),
            inbox: VecDeque::new(),
            brokers,
            ghosts: 0,
            next_conn: 1,
            opaque: 0,
            outstanding: BTreeMap::new(),
            history: BTreeMap::new(),
            epochs: BTreeMap::new(),
            codes: BTreeMap::new(),
            live_gen: BTreeMap::new(),
            config_gen: 0,
            obligations: Vec::new(),
            victims: BTreeSet::new(),
            repairs: BTreeMap::new(),
            alive_since: BTreeMap::new(),
            scan_bound: 0,
            restart_due: None,
            trace: String::new(),
            record,
            hash: 0xcbf2_9ce4_8422_2325,
            out: ControllerOutcome::default(),
        };
        sim.scan_bound = scan_bound;
        sim
    }

    fn fresh_broker(
        rng: &mut Rng,
        set: usize,
        name: &str,
        cluster: &str,
        slot: usize,
        start_at: Millis,
    ) -> Broker {
        Broker {
            set,
            name: name.to_owned(),
            cluster: cluster.to_owned(),
            slot,
            incarnation: 0,
            addr: format!("10.0.{set}.{slot}:30911"),
            timeout: 3_000 + rng.below(7_001),
            priority: if rng.chance(70) {
                i32::MAX
            } else {
                1 + rng.below(3) as i32
            },
            identity: None,
            temp: None,
            stored_epoch: -1,
            max_offset: 0,
            proc: Proc::Up,
            life: 0,
            conn: None,
            stage: Stage::Idle,
            startup_at: Some(start_at),
            next_hb: None,
            last_hb: 0,
            next_poll: None,
            next_check: None,
            polling: false,
            altering: false,
            electing: false,
            master_epoch: 0,
            master: None,
            ss: BTreeSet::new(),
            ss_epoch: 0,
            was_master: None,
        }
    }

    fn log(&mut self, line: String) {
        self.hash = fnv(self.hash, line.as_bytes());
        self.hash = fnv(self.hash, b"\n");
        if self.record {
            self.trace.push_str(&line);
            self.trace.push('\n');
        }
    }

    fn fail<T>(&self, msg: String) -> Result<T, String> {
        Err(format!("t={}ms: {msg}", self.now))
    }

    // ------------------------------------------------------------------ the schedule
}
