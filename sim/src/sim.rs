//! The simulator's driver: a seeded schedule of every state-changing input, fed to the core
//! the way the server feeds it (reads through the read view, writes through `step`), with its
//! persistence played by a simulated disk that sometimes fails and restarts that start a new
//! core from that disk, as the binary does.

use std::collections::HashMap;
use std::fmt::Write as _;

use bytes::Bytes;
use namesrv_core::codec::fastjson::Dialect;
use namesrv_core::config::{parse_properties, NamesrvConfig};
use namesrv_core::kv::KvConfig;
use namesrv_core::protocol::bodies::{DataVersion, TopicConfig};
use namesrv_core::protocol::{flag, request, response, RegisterBrokerRequest, RemotingCommand};
use namesrv_core::{Dispatch, Effect, Input, NameServer, RouteBodies, StoreFile};

use crate::model::{apply_registration, Broker, Model, PERM_WRITE};
use crate::Rng;

/// Config keys a schedule updates: accepted ones (whose values it checks, across restarts),
/// and keys every update must refuse (NO_PERMISSION, nothing applied).
pub(crate) const ACCEPTED_KEYS: [&str; 3] = [
    "productEnvName",
    "scanNotActiveBrokerInterval",
    "unRegisterBrokerQueueCapacity",
];
pub(crate) const REFUSED_KEYS: [&str; 5] = [
    "kvConfigPath",
    "configStorePath",
    "rocketmqHome",
    "httpNsaddr",
    "aclEnable",
];

/// Route bodies cached as the server caches them: valid for the route generation they were
/// encoded under. With it the view answers from the cache whenever it can, so a change the
/// core forgets to count in the generation shows up as a stale route in the checks (the
/// model's whole-route comparison, and the machine's answer to every eighth read).
#[derive(Default)]
pub(crate) struct SimBodies(std::cell::RefCell<HashMap<(String, bool), (u64, Bytes)>>);

impl RouteBodies for SimBodies {
    fn get(&self, topic: &str, dialect: Dialect, generation: u64) -> Option<Bytes> {
        let key = (topic.to_owned(), dialect == Dialect::Standard);
        match self.0.borrow().get(&key) {
            Some((g, body)) if *g == generation => Some(body.clone()),
            _ => None,
        }
    }

    fn put(&self, topic: &str, dialect: Dialect, generation: u64, body: Bytes) {
        let key = (topic.to_owned(), dialect == Dialect::Standard);
        self.0.borrow_mut().insert(key, (generation, body));
    }
}

/// A persist the machine asked for during the current input, and whether the disk took it.
#[derive(Debug)]
pub(crate) struct Persisted {
    pub(crate) file: StoreFile,
    pub(crate) ok: bool,
}

fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01B3)
    })
}

pub(crate) struct Sim {
    pub(crate) rng: Rng,
    pub(crate) ns: NameServer,
    pub(crate) bodies: SimBodies,
    pub(crate) now: u64,
    pub(crate) brokers: Vec<Broker>,
    pub(crate) model: Model,
    /// The configuration the first core started with (the `-c` file before any update).
    pub(crate) start_config: NamesrvConfig,
    /// `deleteTopicWithBrokerRegistration` for this schedule.
    pub(crate) delete_with_registration: bool,
    /// The simulated disk: the last content written to each file.
    pub(crate) disk_kv: Option<String>,
    pub(crate) disk_config: Option<String>,
    /// Persists of the input being fed.
    pub(crate) persisted: Vec<Persisted>,
    /// The KV store, the config or the disk may have changed since they were last checked.
    pub(crate) store_dirty: bool,
    /// `NamesrvConfig::default()` as properties, parsed once.
    pub(crate) default_props: std::collections::BTreeMap<String, String>,
    pub(crate) next_conn: u64,
    pub(crate) stale_conns: Vec<u64>,
    pub(crate) opaque: i32,
    pub(crate) trace: String,
    pub(crate) record: bool,
    pub(crate) hash: u64,
    pub(crate) expiries: usize,
    pub(crate) restarts: usize,
    /// Registrations the read view found unchanged (not decoded ahead).
    pub(crate) unchanged: usize,
    /// Reads answered by the view (every eighth is also asked of the machine).
    pub(crate) reads: u64,
    /// The first read the view and the machine answered differently.
    pub(crate) view_mismatch: Option<String>,
}

fn topic_config(name: String, rng: &mut Rng) -> TopicConfig {
    let queues = [4, 8, 16];
    TopicConfig {
        topic_name: name,
        read_queue_nums: queues[rng.below(3) as usize],
        write_queue_nums: queues[rng.below(3) as usize],
        perm: [6, 6, 4, 7][rng.below(4) as usize],
        topic_sys_flag: rng.below(4) as i32,
    }
}

impl Sim {
    pub(crate) fn new(seed: u64, record: bool) -> Self {
        let mut rng = Rng::new(seed);
        let n_groups = 1 + rng.below(4) as usize;
        let mut brokers = Vec::new();
        for g in 0..n_groups {
            let cluster = format!("C{}", rng.below(2));
            let name = format!("broker-{g}");
            let members = 1 + rng.below(3) as i64;
            let acting_master = rng.chance(50);
            let names: Vec<String> = (0..2 + rng.below(3))
                .map(|t| format!("T{}", rng.below(8) + t * 8))
                .collect();
            for id in 0..members {
                let timeout_ms = if rng.chance(50) {
                    Some(5_000 + rng.below(30_000) as i64)
                } else {
                    None
                };
                let topics = names
                    .iter()
                    .map(|n| topic_config(n.clone(), &mut rng))
                    .collect();
                brokers.push(Broker {
                    cluster: cluster.clone(),
                    name: name.clone(),
                    id,
                    addr: format!("10.0.{g}.{id}:10911"),
                    topics,
                    timeout_ms,
                    acting_master,
                    dv: DataVersion {
                        state_version: 0,
                        timestamp: 1,
                        counter: 1,
                    },
                    alive: false,
                    last_heartbeat: 0,
                    conn: None,
                    live_dv: None,
                });
            }
        }
        // Acting master on and off: the route rewrite must never change which groups route.
        let delete_with_registration = rng.chance(30);
        let start_config = NamesrvConfig {
            support_acting_master: rng.chance(50),
            delete_topic_with_broker_registration: delete_with_registration,
            ..NamesrvConfig::default()
        };
        Self {
            rng,
            ns: NameServer::new(start_config.clone(), KvConfig::new(), 0),
            bodies: SimBodies::default(),
            now: 0,
            brokers,
            model: Model::default(),
            start_config,
            delete_with_registration,
            disk_kv: None,
            disk_config: None,
            persisted: Vec::new(),
            store_dirty: true,
            default_props: parse_properties(&NamesrvConfig::default().to_properties_text())
                .unwrap_or_default()
                .into_iter()
                .collect(),
            next_conn: 1,
            stale_conns: Vec::new(),
            opaque: 0,
            trace: String::new(),
            record,
            hash: 0xcbf2_9ce4_8422_2325,
            expiries: 0,
            restarts: 0,
            unchanged: 0,
            reads: 0,
            view_mismatch: None,
        }
    }

    pub(crate) fn log(&mut self, line: String) {
        self.hash = fnv(self.hash, line.as_bytes());
        if self.record {
            self.trace.push_str(&line);
            self.trace.push('\n');
        }
    }

    /// Steps the machine, playing the disk for any persistence it asks for (one write in ten
    /// fails), and logs the effects.
    fn feed(&mut self, input: Input) -> Vec<Effect> {
        let (rng, persisted) = (&mut self.rng, &mut self.persisted);
        let (disk_kv, disk_config) = (&mut self.disk_kv, &mut self.disk_config);
        let fx = self.ns.step_persisting(self.now, input, |file, content| {
            let ok = !rng.chance(10);
            if ok {
                match file {
                    StoreFile::Kv => *disk_kv = Some(content.to_owned()),
                    StoreFile::Config => *disk_config = Some(content.to_owned()),
                }
            }
            persisted.push(Persisted { file, ok });
            if ok {
                Ok(())
            } else {
                Err("simulated disk full".to_owned())
            }
        });
        if !self.persisted.is_empty() {
            self.store_dirty = true;
        }
        self.log_effects(&fx);
        fx
    }

    /// A copy of the machine with the unchanged-body path off, when `input` is a registration.
    fn registrations_held_equal(&mut self, input: &Input) -> Option<NameServer> {
        let Input::Request { request, .. } = input else {
            return None;
        };
        if !request.is_fingerprinted() {
            return None;
        }
        if !request.is_prepared() {
            self.unchanged += 1;
        }
        let mut ns = self.ns.clone();
        ns.set_unchanged_registrations(false);
        Some(ns)
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

    pub(crate) fn call(&mut self, conn: u64, mut cmd: RemotingCommand) -> Option<RemotingCommand> {
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
            Dispatch::Step(input) => {
                // Every registration is also applied by a copy of the machine with the
                // unchanged-body path off, from the raw frame: the two must say and hold the same.
                let general = self.registrations_held_equal(&input);
                let fx = self.feed(input);
                if let Some(mut ns) = general {
                    let by_general = ns.step(self.now, Input::request(conn, cmd));
                    if (fx != by_general || ns.view().route() != self.ns.view().route())
                        && self.view_mismatch.is_none()
                    {
                        self.view_mismatch = Some(format!(
                            "a registration's unchanged-body path and the general path disagree\n  unchanged {fx:?}\n  general   {by_general:?}"
                        ));
                    }
                }
                fx
            }
        };
        if oneway {
            return None;
        }
        fx.into_iter().find_map(|e| match e {
            Effect::Reply { cmd, .. } => Some(cmd),
            _ => None,
        })
    }

    /// A write's reply: SUCCESS, or SYSTEM_ERROR when the disk refused its persist.
    pub(crate) fn expect_written(
        &mut self,
        what: &str,
        reply: Option<RemotingCommand>,
        file: StoreFile,
        should_persist: bool,
    ) -> Result<Option<bool>, String> {
        let persists: Vec<&Persisted> = self.persisted.iter().filter(|p| p.file == file).collect();
        let ok = match (should_persist, persists.as_slice()) {
            (false, []) => None,
            (true, [p]) => Some(p.ok),
            _ => {
                return Err(format!(
                    "{what}: expected {} persist of {file:?}, the machine asked for {:?}",
                    if should_persist { "one" } else { "no" },
                    self.persisted
                ))
            }
        };
        let reply = reply.ok_or_else(|| format!("no reply to {what}"))?;
        let want = if ok == Some(false) {
            response::SYSTEM_ERROR
        } else {
            response::SUCCESS
        };
        if reply.code != want {
            return Err(format!(
                "{what} answered {} {:?}, expected {want}",
                reply.code, reply.remark
            ));
        }
        Ok(ok)
    }

    /// Brokers whose model deadline has passed are dead, as the machine must agree.
    pub(crate) fn model_expire(&mut self) {
        let now = self.now;
        let gone: Vec<usize> = (0..self.brokers.len())
            .filter(|&i| self.brokers[i].alive && self.brokers[i].deadline() <= now)
            .collect();
        for i in gone {
            self.expiries += 1;
            self.model_remove(i);
        }
    }

    pub(crate) fn model_remove(&mut self, i: usize) {
        let b = &mut self.brokers[i];
        b.alive = false;
        b.conn = None;
        b.live_dv = None;
        let (name, acting) = (b.name.clone(), b.acting_master);
        if !self.brokers.iter().any(|b| b.alive && b.name == name) {
            self.model.queues.remove(&name);
        } else if acting
            && !self
                .brokers
                .iter()
                .any(|b| b.alive && b.name == name && b.id == 0)
        {
            // A reduced acting-master group with no master left loses write permission
            // (spec §3.4 step 4) until a registration re-applies its configs.
            for q in self
                .model
                .queues
                .get_mut(&name)
                .into_iter()
                .flat_map(|t| t.values_mut())
            {
                q.perm &= !PERM_WRITE;
            }
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
        // The broker's own changes: its topic configs (perm, queue counts, flags), with a
        // DataVersion bump as a real broker makes; sometimes a bump alone; rarely a change
        // without a bump, which the NameServer must not pick up for topics it already has.
        if self.rng.chance(15) && !self.brokers[i].topics.is_empty() {
            let t = self.rng.below(self.brokers[i].topics.len() as u64) as usize;
            let name = self.brokers[i].topics[t].topic_name.clone();
            self.brokers[i].topics[t] = topic_config(name, &mut self.rng);
            if !self.rng.chance(10) {
                self.brokers[i].dv.counter += 1;
            }
        } else if self.rng.chance(15) {
            self.brokers[i].dv.counter += 1;
        }
        let b = self.brokers[i].clone();
        let mut reg = RegisterBrokerRequest::new(&b.cluster, &b.addr, &b.name, b.id)
            .acting(Some(b.acting_master))
            .dv(b.dv)
            .topic_configs(b.topics.clone());
        reg.timeout_ms = b.timeout_ms;
        let conn = b.conn.unwrap_or_default();
        let reply = self
            .call(conn, reg.command())
            .ok_or("no reply to REGISTER_BROKER")?;
        if reply.code != response::SUCCESS {
            return Err(format!(
                "REGISTER_BROKER of {} answered {} {:?}",
                b.addr, reply.code, reply.remark
            ));
        }
        apply_registration(
            &mut self.model,
            &self.brokers,
            &b,
            b.dv,
            self.delete_with_registration,
        );
        let broker = &mut self.brokers[i];
        broker.alive = true;
        broker.last_heartbeat = self.now;
        broker.live_dv = Some(b.dv);
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

    /// QUERY_DATA_VERSION (322): `changed` as the model's live DataVersion says; a heartbeat.
    fn query_data_version(&mut self, i: usize) -> Result<(), String> {
        let b = self.brokers[i].clone();
        // Sometimes the broker asks with a DataVersion it has not registered yet.
        let dv = if self.rng.chance(30) {
            DataVersion {
                counter: b.dv.counter + 1,
                ..b.dv
            }
        } else {
            b.dv
        };
        let cmd = RemotingCommand::request(request::QUERY_DATA_VERSION)
            .with_ext("clusterName", b.cluster.clone())
            .with_ext("brokerAddr", b.addr.clone())
            .with_ext("brokerName", b.name.clone())
            .with_ext("brokerId", b.id.to_string())
            .with_body(dv.encode());
        let reply = self
            .call(b.conn.unwrap_or(0), cmd)
            .ok_or("no reply to QUERY_DATA_VERSION")?;
        self.model_expire();
        let b = &mut self.brokers[i];
        let want = (b.live_dv != Some(dv)).to_string();
        if reply.code != response::SUCCESS || reply.ext("changed") != Some(want.as_str()) {
            return Err(format!(
                "QUERY_DATA_VERSION of {} answered {} changed={:?}, model says changed={want}",
                b.addr,
                reply.code,
                reply.ext("changed")
            ));
        }
        if b.alive {
            b.last_heartbeat = self.now;
        }
        Ok(())
    }

    pub(crate) fn step(&mut self, step: usize) -> Result<(), String> {
        let n = self.brokers.len() as u64;
        let i = self.rng.below(n) as usize;
        let roll = self.rng.below(100);
        self.persisted.clear();
        match roll {
            0..=21 => {
                let reconnect = self.brokers[i].alive && self.rng.chance(15);
                self.log(format!(
                    "#{step} t={} register {} reconnect={reconnect}",
                    self.now, self.brokers[i].addr
                ));
                self.register(i, reconnect)?;
            }
            22..=31 => {
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
            32..=35 => {
                self.log(format!(
                    "#{step} t={} query-data-version {}",
                    self.now, self.brokers[i].addr
                ));
                self.query_data_version(i)?;
            }
            36..=41 => {
                let b = self.brokers[i].clone();
                self.log(format!("#{step} t={} unregister {}", self.now, b.addr));
                let cmd = RemotingCommand::request(request::UNREGISTER_BROKER)
                    .with_ext("clusterName", b.cluster.clone())
                    .with_ext("brokerAddr", b.addr.clone())
                    .with_ext("brokerName", b.name.clone())
                    .with_ext("brokerId", b.id.to_string());
                self.call(b.conn.unwrap_or(0), cmd);
                self.model_expire();
                if self.brokers[i].alive {
                    self.model_remove(i);
                }
                if let Some(c) = b.conn {
                    self.feed(Input::Closed { conn: c });
                }
            }
            42..=47 => {
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
            48..=50 => {
                // A silent partition: the broker stops talking but nothing closes.
                self.log(format!(
                    "#{step} t={} partition {}",
                    self.now, self.brokers[i].addr
                ));
                self.brokers[i].conn = None;
            }
            51..=55 => self.stale_close(step)?,
            56..=61 => self.kv_write(step)?,
            62..=64 => {
                let group = self.brokers[i].name.clone();
                let wipe = self.rng.chance(60);
                self.log(format!(
                    "#{step} t={} {} write perm of {group}",
                    self.now,
                    if wipe { "wipe" } else { "add" }
                ));
                self.write_perm(&group, wipe)?;
            }
            65..=66 => {
                let topic = self.any_topic(i);
                let cluster = self
                    .rng
                    .chance(40)
                    .then(|| format!("C{}", self.rng.below(3)));
                self.log(format!(
                    "#{step} t={} delete topic {topic} in {cluster:?}",
                    self.now
                ));
                self.delete_topic(&topic, cluster.as_deref())?;
            }
            67 => {
                let topic = self.any_topic(i);
                let mut groups: Vec<String> = (0..1 + self.rng.below(2))
                    .map(|_| format!("broker-{}", self.rng.below(5)))
                    .collect();
                groups.dedup();
                self.log(format!(
                    "#{step} t={} register topic {topic} on {groups:?}",
                    self.now
                ));
                self.register_topic(&topic, &groups)?;
            }
            68..=70 => self.config_write(step)?,
            71 => self.restart(step)?,
            _ => self.advance(step),
        }
        self.check()
    }

    /// A topic some broker has, or one nobody has.
    fn any_topic(&mut self, i: usize) -> String {
        let topics = &self.brokers[i].topics;
        if topics.is_empty() || self.rng.chance(10) {
            return "T-none".into();
        }
        topics[self.rng.below(topics.len() as u64) as usize]
            .topic_name
            .clone()
    }

    fn stale_close(&mut self, step: usize) -> Result<(), String> {
        let Some(c) = self.stale_conns.pop() else {
            return Ok(());
        };
        // Sometimes a registration delayed on the old connection arrives first (the broker
        // timed out and reconnected): it refreshes the broker's heartbeat but must not make the
        // old connection's close remove it.
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
        Ok(())
    }

    /// Time passes: to just before, at, or just after some live broker's deadline, or by a
    /// random amount.
    fn advance(&mut self, step: usize) {
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
