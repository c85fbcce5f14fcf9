//! Deterministic simulation of the NameServer core.
//!
//! A seeded generator produces schedules of broker registrations, heartbeats, clean shutdowns
//! (UNREGISTER_BROKER), crashes (connection closed), silent partitions (no close, so only expiry
//! removes the broker), reconnects whose old connection closes late (a stale close that must not
//! wipe the fresh registration, apache/rocketmq#11043), KV writes and time jumps that land just
//! before, exactly on and just after broker deadlines. After every step the machine is checked
//! against a reference model and its own table invariants. A failure carries its seed; the same
//! seed replays the same schedule, and the trace hash proves it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use namesrv_core::codec::fastjson::Dialect;
use namesrv_core::config::NamesrvConfig;
use namesrv_core::kv::KvConfig;
use namesrv_core::protocol::bodies::{
    decode_kv_table, ClusterInfo, DataVersion, TopicConfig, TopicRouteData,
};
use namesrv_core::protocol::{flag, request, response, RegisterBrokerRequest, RemotingCommand};
use namesrv_core::{Dispatch, Effect, Input, NameServer, RouteBodies};

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

/// One simulated broker process: a fixed (cluster, group, id, address) and topic set.
#[derive(Clone, Debug)]
struct Broker {
    cluster: String,
    name: String,
    id: i64,
    addr: String,
    topics: Vec<String>,
    timeout_ms: Option<i64>,
    /// The group's `enableActingMaster` (5.x brokers send it on every registration).
    acting_master: bool,
    // model state
    alive: bool,
    last_heartbeat: u64,
    conn: Option<u64>,
    dv_counter: i64,
}

impl Broker {
    fn deadline(&self) -> u64 {
        self.last_heartbeat + self.timeout_ms.map_or(120_000, |t| t as u64)
    }
}

/// What the reference model believes.
#[derive(Default, Debug)]
struct Model {
    /// Per group: topics created by a master or prime slave since the group (re)appeared.
    group_topics: BTreeMap<String, BTreeSet<String>>,
    kv: BTreeMap<String, BTreeMap<String, String>>,
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
}

struct Sim {
    rng: Rng,
    ns: NameServer,
    bodies: SimBodies,
    now: u64,
    brokers: Vec<Broker>,
    model: Model,
    next_conn: u64,
    stale_conns: Vec<u64>,
    opaque: i32,
    trace: String,
    record: bool,
    hash: u64,
    expiries: usize,
    /// Reads answered by the view (every eighth is also asked of the machine).
    reads: u64,
    /// The first read the view and the machine answered differently.
    view_mismatch: Option<String>,
}

/// Route bodies cached as the server caches them: valid for the route generation they were
/// encoded under. With it the view answers from the cache whenever it can, so a change the
/// core forgets to count in the generation shows up as a stale route in the checks (the
/// model's whole-route comparison, and the machine's answer to every eighth read).
#[derive(Default)]
struct SimBodies(
    std::cell::RefCell<std::collections::HashMap<(String, bool), (u64, bytes::Bytes)>>,
);

impl RouteBodies for SimBodies {
    fn get(&self, topic: &str, dialect: Dialect, generation: u64) -> Option<bytes::Bytes> {
        let key = (topic.to_owned(), dialect == Dialect::Standard);
        match self.0.borrow().get(&key) {
            Some((g, body)) if *g == generation => Some(body.clone()),
            _ => None,
        }
    }

    fn put(&self, topic: &str, dialect: Dialect, generation: u64, body: bytes::Bytes) {
        let key = (topic.to_owned(), dialect == Dialect::Standard);
        self.0.borrow_mut().insert(key, (generation, body));
    }
}

fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01B3)
    })
}

impl Sim {
    fn new(seed: u64, record: bool) -> Self {
        let mut rng = Rng::new(seed);
        let n_groups = 1 + rng.below(4) as usize;
        let mut brokers = Vec::new();
        for g in 0..n_groups {
            let cluster = format!("C{}", rng.below(2));
            let name = format!("broker-{g}");
            let members = 1 + rng.below(3) as i64;
            let acting_master = rng.chance(50);
            let topics: Vec<String> = (0..2 + rng.below(3))
                .map(|t| format!("T{}", rng.below(8) + t * 8))
                .collect();
            for id in 0..members {
                let timeout_ms = if rng.chance(50) {
                    Some(5_000 + rng.below(30_000) as i64)
                } else {
                    None
                };
                brokers.push(Broker {
                    cluster: cluster.clone(),
                    name: name.clone(),
                    id,
                    addr: format!("10.0.{g}.{id}:10911"),
                    topics: topics.clone(),
                    timeout_ms,
                    acting_master,
                    alive: false,
                    last_heartbeat: 0,
                    conn: None,
                    dv_counter: 1,
                });
            }
        }
        // Acting master on and off: the route rewrite must never change which groups route.
        let config = NamesrvConfig {
            support_acting_master: rng.chance(50),
            ..NamesrvConfig::default()
        };
        Self {
            rng,
            ns: NameServer::new(config, KvConfig::new(), 0),
            bodies: SimBodies::default(),
            now: 0,
            brokers,
            model: Model::default(),
            next_conn: 1,
            stale_conns: Vec::new(),
            opaque: 0,
            trace: String::new(),
            record,
            hash: 0xcbf2_9ce4_8422_2325,
            expiries: 0,
            reads: 0,
            view_mismatch: None,
        }
    }

    fn log(&mut self, line: String) {
        self.hash = fnv(self.hash, line.as_bytes());
        if self.record {
            self.trace.push_str(&line);
            self.trace.push('\n');
        }
    }

    /// Steps the machine, completing any persistence it asks for, and logs the effects.
    fn feed(&mut self, input: Input) -> Vec<Effect> {
        let mut fx = self.ns.step(self.now, input);
        let mut i = 0;
        while i < fx.len() {
            if let Some(Effect::Persist { ticket, .. }) = fx.get(i) {
                let ticket = *ticket;
                let more = self.ns.step(
                    self.now,
                    Input::Persisted {
                        ticket,
                        result: Ok(()),
                    },
                );
                fx.extend(more);
            }
            i += 1;
        }
        self.log_effects(&fx);
        fx
    }

    fn log_effects(&mut self, fx: &[Effect]) {
        for e in fx {
            let line = format!("  {e:?}");
            self.hash = fnv(self.hash, line.as_bytes());
            if self.record {
                let _ = writeln!(self.trace, "{line}");
            }
        }
    }

    fn call(&mut self, conn: u64, mut cmd: RemotingCommand) -> Option<RemotingCommand> {
        self.opaque += 1;
        cmd.opaque = self.opaque;
        let oneway = cmd.is_oneway();
        // The server's way: the read view answers reads, the rest go to the machine. Every
        // eighth read is also asked of the machine, which must answer it the same.
        let fx = match self
            .ns
            .view()
            .accept(self.now, conn, cmd.clone(), &self.bodies)
        {
            Dispatch::Done(fx) => {
                self.reads += 1;
                if self.reads.is_multiple_of(8) {
                    let by_machine = self.ns.clone().step(self.now, Input::request(conn, cmd));
                    if fx != by_machine && self.view_mismatch.is_none() {
                        self.view_mismatch = Some(format!(
                            "the read view and step() disagree\n  view    {fx:?}\n  machine {by_machine:?}"
                        ));
                    }
                }
                self.log_effects(&fx);
                fx
            }
            Dispatch::Step(input) => self.feed(input),
        };
        if oneway {
            return None;
        }
        fx.into_iter().find_map(|e| match e {
            Effect::Reply { cmd, .. } => Some(cmd),
            _ => None,
        })
    }

    /// Brokers whose model deadline has passed are dead, as the machine must agree.
    fn model_expire(&mut self) {
        let now = self.now;
        let mut gone = Vec::new();
        for (i, b) in self.brokers.iter().enumerate() {
            if b.alive && b.deadline() <= now {
                gone.push(i);
            }
        }
        for i in gone {
            self.expiries += 1;
            self.model_remove(i);
        }
    }

    fn model_remove(&mut self, i: usize) {
        self.brokers[i].alive = false;
        self.brokers[i].conn = None;
        let name = self.brokers[i].name.clone();
        if !self.brokers.iter().any(|b| b.alive && b.name == name) {
            self.model.group_topics.remove(&name);
        }
    }

    fn register(&mut self, i: usize, new_conn: bool) -> Result<(), String> {
        if new_conn || self.brokers[i].conn.is_none() {
            if let Some(old) = self.brokers[i].conn {
                self.stale_conns.push(old);
            }
            self.brokers[i].conn = Some(self.next_conn);
            self.next_conn += 1;
        }
        if self.rng.chance(20) {
            self.brokers[i].dv_counter += 1;
        }
        let b = self.brokers[i].clone();
        let mut reg = RegisterBrokerRequest::new(&b.cluster, &b.addr, &b.name, b.id)
            .acting(Some(b.acting_master))
            .dv(DataVersion {
                state_version: 0,
                timestamp: 1,
                counter: b.dv_counter,
            })
            .topic_configs(
                b.topics
                    .iter()
                    .map(|t| TopicConfig {
                        topic_name: t.clone(),
                        read_queue_nums: 4,
                        write_queue_nums: 4,
                        perm: 6,
                        topic_sys_flag: 0,
                    })
                    .collect(),
            );
        reg.timeout_ms = b.timeout_ms;
        let cmd = reg.command();
        let conn = b.conn.unwrap_or_default();
        let reply = self.call(conn, cmd).ok_or("no reply to REGISTER_BROKER")?;
        if reply.code != response::SUCCESS {
            return Err(format!(
                "REGISTER_BROKER of {} answered {} {:?}",
                b.addr, reply.code, reply.remark
            ));
        }
        // Model: the member is alive; a master or the lowest-id member creates its topics.
        let broker = &mut self.brokers[i];
        broker.alive = true;
        broker.last_heartbeat = self.now;
        let min_alive = self
            .brokers
            .iter()
            .filter(|x| x.alive && x.name == b.name)
            .map(|x| x.id)
            .min();
        if b.id == 0 || min_alive == Some(b.id) {
            self.model
                .group_topics
                .entry(b.name.clone())
                .or_default()
                .extend(b.topics.iter().cloned());
        }
        if let Some(master) = reply.ext("masterAddr") {
            let expect = self
                .brokers
                .iter()
                .find(|x| x.alive && x.name == b.name && x.id == 0)
                .map(|x| x.addr.clone());
            if Some(master.to_owned()) != expect {
                return Err(format!(
                    "slave {} told master {master}, model says {expect:?}",
                    b.addr
                ));
            }
        }
        Ok(())
    }

    fn step(&mut self, step: usize) -> Result<(), String> {
        let n = self.brokers.len() as u64;
        let i = self.rng.below(n) as usize;
        let roll = self.rng.below(100);
        match roll {
            0..=24 => {
                let reconnect = self.brokers[i].alive && self.rng.chance(15);
                self.log(format!(
                    "#{step} t={} register {} reconnect={reconnect}",
                    self.now, self.brokers[i].addr
                ));
                self.register(i, reconnect)?;
            }
            25..=39 => {
                let b = self.brokers[i].clone();
                self.log(format!("#{step} t={} heartbeat {}", self.now, b.addr));
                let mut hb = RemotingCommand::request(request::BROKER_HEARTBEAT)
                    .with_ext("clusterName", b.cluster.clone())
                    .with_ext("brokerAddr", b.addr.clone())
                    .with_ext("brokerName", b.name.clone());
                hb.flag |= flag::ONEWAY;
                self.call(b.conn.unwrap_or(0), hb);
                self.model_expire();
                if self.brokers[i].alive {
                    self.brokers[i].last_heartbeat = self.now;
                }
            }
            40..=46 => {
                let b = self.brokers[i].clone();
                self.log(format!("#{step} t={} unregister {}", self.now, b.addr));
                let cmd = RemotingCommand::request(request::UNREGISTER_BROKER)
                    .with_ext("clusterName", b.cluster.clone())
                    .with_ext("brokerAddr", b.addr.clone())
                    .with_ext("brokerName", b.name.clone())
                    .with_ext("brokerId", b.id.to_string());
                self.call(b.conn.unwrap_or(0), cmd);
                self.model_expire();
                if b.alive {
                    self.model_remove(i);
                }
                if let Some(c) = b.conn {
                    self.feed(Input::Closed { conn: c });
                }
            }
            47..=53 => {
                let b = self.brokers[i].clone();
                self.log(format!("#{step} t={} crash {}", self.now, b.addr));
                if let Some(c) = b.conn {
                    self.feed(Input::Closed { conn: c });
                    self.model_expire();
                    if self.brokers[i].alive {
                        self.model_remove(i);
                    }
                }
            }
            54..=57 => {
                // A silent partition: the broker stops talking but nothing closes.
                self.log(format!(
                    "#{step} t={} partition {}",
                    self.now, self.brokers[i].addr
                ));
                self.brokers[i].conn = None;
            }
            58..=62 => {
                if let Some(c) = self.stale_conns.pop() {
                    // Sometimes a registration delayed on the old connection arrives first
                    // (the broker timed out and reconnected): it refreshes the broker's
                    // heartbeat but must not make the old connection's close remove it.
                    let late = self
                        .brokers
                        .iter()
                        .position(|b| b.alive && b.conn.is_some_and(|cur| cur > c));
                    if let (Some(i), true) = (late, self.rng.chance(50)) {
                        self.log(format!(
                            "#{step} t={} late register of {} on old conn {c}",
                            self.now, self.brokers[i].addr
                        ));
                        let cur = self.brokers[i].conn;
                        self.brokers[i].conn = Some(c);
                        let r = self.register(i, false);
                        self.brokers[i].conn = cur;
                        r?;
                    }
                    self.log(format!("#{step} t={} stale-close conn {c}", self.now));
                    self.feed(Input::Closed { conn: c });
                }
            }
            63..=69 => {
                let ns = format!("NS{}", self.rng.below(2));
                let key = format!("k{}", self.rng.below(4));
                let del = self.rng.chance(30);
                self.log(format!(
                    "#{step} t={} kv {} {ns}/{key}",
                    self.now,
                    if del { "delete" } else { "put" }
                ));
                let code = if del {
                    request::DELETE_KV_CONFIG
                } else {
                    request::PUT_KV_CONFIG
                };
                let value = format!("v{step}");
                let cmd = RemotingCommand::request(code)
                    .with_ext("namespace", ns.clone())
                    .with_ext("key", key.clone())
                    .with_ext("value", value.clone());
                self.call(999_999, cmd);
                // A delete never creates a namespace; a put does.
                if del {
                    if let Some(table) = self.model.kv.get_mut(&ns) {
                        table.remove(&key);
                    }
                } else {
                    self.model.kv.entry(ns).or_default().insert(key, value);
                }
            }
            _ => {
                // Time passes: to just before, at, or just after some live broker's deadline,
                // or by a random amount.
                let alive: Vec<u64> = self
                    .brokers
                    .iter()
                    .filter(|b| b.alive)
                    .map(Broker::deadline)
                    .collect();
                let target = if !alive.is_empty() && self.rng.chance(60) {
                    let d = alive[self.rng.below(alive.len() as u64) as usize];
                    let delta = self.rng.below(3) as i64 - 1;
                    (d as i64 + delta).max(self.now as i64) as u64
                } else {
                    self.now + 1 + self.rng.below(20_000)
                };
                self.log(format!("#{step} t={} advance to {target}", self.now));
                self.now = target;
                self.feed(Input::Tick);
                self.model_expire();
            }
        }
        self.check()
    }

    fn check(&mut self) -> Result<(), String> {
        self.ns.check_invariants()?;
        if let Some(m) = self.view_mismatch.take() {
            return Err(m);
        }
        if self.ns.view().needs_tick(self.now) {
            return Err("a deadline at or before now is still pending".into());
        }
        // Membership: every group's addresses are exactly the model's live members.
        let info = self
            .call(
                1,
                RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO),
            )
            .ok_or("no 106 reply")?;
        let info =
            ClusterInfo::decode(info.body.as_deref().unwrap_or_default()).map_err(|e| e.0)?;
        let mut want: BTreeMap<String, BTreeMap<i64, String>> = BTreeMap::new();
        for b in self.brokers.iter().filter(|b| b.alive) {
            want.entry(b.name.clone())
                .or_default()
                .insert(b.id, b.addr.clone());
        }
        let got: BTreeMap<String, BTreeMap<i64, String>> = info
            .broker_addr_table
            .iter()
            .map(|(k, v)| (k.clone(), v.broker_addrs.clone()))
            .collect();
        if got != want {
            return Err(format!("cluster info\n  got   {got:?}\n  model {want:?}"));
        }
        // Expiry is exact: nobody alive in the model is past its deadline, and vice versa.
        for b in self.brokers.iter().filter(|b| b.alive) {
            let live = self
                .ns
                .route()
                .broker_live_table()
                .iter()
                .find(|(k, _)| k.addr == b.addr);
            match live {
                Some((_, l)) if l.deadline() == b.deadline() => {}
                other => {
                    return Err(format!(
                        "{} live entry {:?}, model deadline {}",
                        b.addr,
                        other.map(|x| x.1),
                        b.deadline()
                    ))
                }
            }
        }
        // Routes: a topic routes to exactly the groups that created it and still exist.
        let mut topics: BTreeSet<String> = BTreeSet::new();
        for b in &self.brokers {
            topics.extend(b.topics.iter().cloned());
        }
        for t in topics {
            let want: BTreeSet<String> = self
                .model
                .group_topics
                .iter()
                .filter(|(_, ts)| ts.contains(&t))
                .map(|(g, _)| g.clone())
                .collect();
            let r = self
                .call(
                    1,
                    RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
                        .with_ext("topic", t.clone()),
                )
                .ok_or("no 105 reply")?;
            let got: BTreeSet<String> = if r.code == response::SUCCESS {
                let route = TopicRouteData::decode(r.body.as_deref().unwrap_or_default())
                    .map_err(|e| e.0)?;
                route
                    .queue_datas
                    .iter()
                    .map(|q| q.broker_name.clone())
                    .collect()
            } else {
                BTreeSet::new()
            };
            if got != want {
                return Err(format!("route of {t}: got {got:?}, model {want:?}"));
            }
        }
        // KV.
        for (ns, table) in self.model.kv.clone() {
            let r = self
                .call(
                    1,
                    RemotingCommand::request(request::GET_KVLIST_BY_NAMESPACE)
                        .with_ext("namespace", ns.clone()),
                )
                .ok_or("no 219 reply")?;
            let got = decode_kv_table(r.body.as_deref().unwrap_or_default()).map_err(|e| e.0)?;
            if got != table {
                return Err(format!("KV namespace {ns}: got {got:?}, model {table:?}"));
            }
        }
        Ok(())
    }
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
