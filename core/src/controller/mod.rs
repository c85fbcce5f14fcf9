//! The RocketMQ 5.x controller (controller mode: broker ids, master election, SyncStateSet),
//! as a sans-IO state machine with the NameServer's rules: [`Controller::step`] takes an
//! [`Input`] at a time `now` and returns [`Effect`]s. No sockets, files or clocks.
//!
//! Every decision is an [`Event`]; the replicated state ([`Replicas`]) is the fold of the
//! events in log order. A write is decided against the applied state, its events go out as
//! [`Effect::Append`], and only when the shell reports them durable ([`Input::Appended`];
//! fsynced by one controller, committed by a Raft group in part 2) are they applied and the
//! request answered. Requests that reach the state wait in one queue meanwhile, so each is
//! decided against everything acknowledged before it, as Apache's single event thread does.
//!
//! What is not replicated is local to each node: the heartbeat table ([`liveness`]), the
//! settings, and who the leader is.

pub mod codes;
pub mod config;
mod elect;
pub mod event;
pub mod liveness;
mod requests;
pub mod state;
#[cfg(test)]
mod tests;
pub mod wire;

use std::collections::VecDeque;

pub use config::ControllerConfig;
pub use event::Event;
pub use liveness::{LiveKey, Liveness};
pub use state::{BrokerId, BrokerSet, Replicas};

use codes::{request as rq, response as rs, Class};
use requests::Decision;

use crate::protocol::codes::version::V5_3_1;
use crate::protocol::RemotingCommand;
use crate::route::{ConnId, Millis};

/// Everything that can happen to a controller.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A decoded frame arrived on a connection.
    Request {
        /// The connection.
        conn: ConnId,
        /// The frame.
        cmd: RemotingCommand,
    },
    /// A connection closed: a replica whose last heartbeat came on it is inactive at once.
    Closed {
        /// The connection.
        conn: ConnId,
    },
    /// Time passed: expire replicas, run the inactive-master scan.
    Tick,
    /// The [`Effect::Append`] (or [`Effect::PersistConfig`]) with this ticket is durable, or
    /// failed.
    Appended {
        /// The effect's ticket.
        ticket: u64,
        /// What writing gave (the error as text).
        result: Result<(), String>,
    },
    /// Who leads the controller group now (`None`: nobody known). One controller leads itself
    /// from the start.
    Leader {
        /// The leader's peer id.
        leader: Option<String>,
    },
    /// Shutdown began: requests above 5.3.1 get GO_AWAY.
    ShutdownStarted,
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send this reply on this connection.
    Reply {
        /// The connection.
        conn: ConnId,
        /// The reply.
        cmd: RemotingCommand,
    },
    /// Make these events durable (append and fsync; commit through Raft), in ticket order,
    /// then report [`Input::Appended`]. A failed append must fail every later one too: the
    /// log may not skip an event.
    Append {
        /// Names this append in [`Input::Appended`].
        ticket: u64,
        /// The events, in order.
        events: Vec<Event>,
    },
    /// Write the settings file (`<controllerStorePath>/controller.properties`), then report
    /// [`Input::Appended`] with this ticket.
    PersistConfig {
        /// Names this write.
        ticket: u64,
        /// The whole file.
        content: String,
    },
    /// Send this oneway request (NOTIFY_BROKER_ROLE_CHANGED) to a broker's remoting port.
    Notify {
        /// `host:port`.
        broker_addr: String,
        /// The request.
        cmd: RemotingCommand,
    },
    /// Worth a log line: a replica became inactive, or an election decided.
    Note(Note),
}

/// Things an operator wants in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A replica stopped being alive.
    Inactive {
        /// Its liveness key.
        key: LiveKey,
        /// Its connection closed (else its heartbeat expired).
        closed: bool,
    },
    /// An election was applied.
    Elected {
        /// The set.
        broker_name: String,
        /// The new master, if any.
        master: Option<BrokerId>,
        /// The new masterEpoch.
        master_epoch: i32,
    },
    /// The event log failed: this controller answers no more writes.
    Fenced {
        /// Why.
        error: String,
    },
}

/// Work that needs the replicated state, in arrival order.
#[derive(Clone, Debug, PartialEq)]
enum Job {
    Request {
        conn: ConnId,
        cmd: RemotingCommand,
    },
    /// The controller's own election for a set whose master went inactive.
    Elect {
        broker_name: String,
    },
    /// 1009: new settings, persisted before the reply.
    Config {
        conn: ConnId,
        cmd: RemotingCommand,
    },
}

/// The append or settings write the queue waits for.
#[derive(Clone, Debug)]
struct Inflight {
    ticket: u64,
    events: Vec<Event>,
    /// A settings write: the new settings, and what the file holds after it.
    config: Option<(ControllerConfig, std::collections::BTreeMap<String, String>)>,
    reply: Option<(ConnId, RemotingCommand)>,
    notify: Option<String>,
}

/// A controller node.
#[derive(Clone, Debug)]
pub struct Controller {
    config: ControllerConfig,
    /// The applied (durable) state.
    replicas: Replicas,
    live: Liveness,
    leader: Option<String>,
    queue: VecDeque<Job>,
    inflight: Option<Inflight>,
    next_ticket: u64,
    fenced: Option<String>,
    shutting_down: bool,
    /// When the leader's inactive-master scan runs next.
    next_scan: Option<Millis>,
    /// How many events have been applied (the log's length, for restarts and checks).
    applied: u64,
    /// Per set, the write lease last granted (holder, when it runs out): local, not replicated.
    leases: std::collections::BTreeMap<String, (BrokerId, Millis)>,
    /// The last lease generation handed out; grants strictly increase it.
    lease_generation: u64,
    /// Replicas that went inactive while an append was in flight (set, id).
    gone_in_flight: Vec<(String, BrokerId)>,
    /// No lease is granted before this: a lease an earlier run granted (which this run does
    /// not remember) has run out by then.
    leases_from: Millis,
    /// The settings 1009 changed on this node, over its runs: what `controller.properties`
    /// holds (the rest comes from the start-up configuration).
    persisted: std::collections::BTreeMap<String, String>,
}

/// How long a write lease lasts, and the margin the broker keeps (rocketmq-broker 1.0.0 wants
/// a margin of at least 1 s below the duration).
const LEASE_MS: Millis = 10_000;
const LEASE_MARGIN_MS: Millis = 2_000;

impl Controller {
    /// A controller at `now` with the state replayed from its log. A group of one peer leads
    /// itself from the start; a larger group waits for [`Input::Leader`].
    pub fn new(config: ControllerConfig, replayed: Replicas, applied: u64, now: Millis) -> Self {
        let single = config.peer_list().map(|p| p.len() == 1).unwrap_or(false);
        let leader = single.then(|| config.self_id.clone());
        let mut c = Self {
            config,
            replicas: replayed,
            live: Liveness::default(),
            leader: None,
            queue: VecDeque::new(),
            inflight: None,
            next_ticket: 1,
            fenced: None,
            shutting_down: false,
            next_scan: None,
            applied,
            leases: Default::default(),
            lease_generation: 0,
            gone_in_flight: Vec::new(),
            leases_from: now.saturating_add(LEASE_MS),
            persisted: Default::default(),
        };
        c.set_leader(leader, now, &mut Vec::new());
        c
    }

    /// Folds a log into the state it describes (what a restart does before [`Controller::new`]).
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> (Replicas, u64) {
        let mut r = Replicas::default();
        let mut n = 0;
        for e in events {
            r.apply(e);
            n += 1;
        }
        (r, n)
    }

    /// Where lease generations start (the shell passes something larger than any generation
    /// an earlier run handed out, such as the wall clock in microseconds): a broker refuses a
    /// grant whose generation does not grow.
    pub fn set_lease_generation_base(&mut self, base: u64) {
        self.lease_generation = self.lease_generation.max(base);
    }

    /// A write lease for a set's current master at its current epoch (rocketmq-broker 1.0.0
    /// refuses messages without one). A new master gets none until the lease of the one before
    /// has run out, so two masters never both hold one.
    fn grant_lease(&mut self, key: &LiveKey, epoch: i32, now: Millis) -> Option<String> {
        let set = self.replicas.get(&key.name)?;
        if set.cluster != key.cluster || set.master != Some(key.id) || set.master_epoch != epoch {
            return None;
        }
        if now < self.leases_from {
            return None;
        }
        if let Some((holder, until)) = self.leases.get(&key.name) {
            if *holder != key.id && now < *until {
                return None;
            }
        }
        self.lease_generation += 1;
        self.leases
            .insert(key.name.clone(), (key.id, now.saturating_add(LEASE_MS)));
        Some(wire::lease_body(
            key.id,
            epoch,
            self.lease_generation,
            LEASE_MS,
            LEASE_MARGIN_MS,
        ))
    }

    /// The settings an earlier 1009 persisted (read back at start), so the next 1009 writes
    /// them again with its own keys.
    pub fn set_persisted_settings(&mut self, props: std::collections::BTreeMap<String, String>) {
        self.persisted = props;
    }

    /// Stops deciding: every write from now on gets SYSTEM_ERROR, and work queued or in
    /// flight is dropped (the shell calls this when a step panicked, so the machine may be
    /// half-way through one; a restart replays the log).
    pub fn fence(&mut self, why: String) {
        self.fenced = Some(why);
        self.inflight = None;
        self.queue.clear();
    }

    /// The applied state.
    pub fn replicas(&self) -> &Replicas {
        &self.replicas
    }

    /// The heartbeat table.
    pub fn liveness(&self) -> &Liveness {
        &self.live
    }

    /// The settings.
    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    /// How many events have been applied.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Whether this node leads its group.
    pub fn is_leader(&self) -> bool {
        self.leader.as_deref() == Some(self.config.self_id.as_str())
    }

    /// Why the log failed, if it did.
    pub fn fenced(&self) -> Option<&str> {
        self.fenced.as_deref()
    }

    /// Whether a replica is alive at `now` (keyed by its set's cluster, as Apache keys it).
    pub fn is_alive(&self, name: &str, id: BrokerId, now: Millis) -> bool {
        self.replicas.get(name).is_some_and(|s| {
            self.live.is_alive(
                &LiveKey {
                    cluster: s.cluster.clone(),
                    name: name.to_owned(),
                    id,
                },
                now,
            )
        })
    }

    /// When the controller next needs an [`Input::Tick`].
    pub fn next_deadline(&self) -> Option<Millis> {
        let scan = self.next_scan.filter(|_| !self.replicas.is_empty());
        match (self.live.next_expiry(), scan) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The one way state changes.
    pub fn step(&mut self, now: Millis, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        self.expire(now, &mut out);
        match input {
            Input::Request { conn, cmd } => self.request(now, conn, cmd, &mut out),
            Input::Closed { conn } => {
                for key in self.live.closed(conn) {
                    self.inactive(key, true, &mut out);
                }
            }
            Input::Tick => {}
            Input::Appended { ticket, result } => self.appended(now, ticket, result, &mut out),
            Input::Leader { leader } => self.set_leader(leader, now, &mut out),
            Input::ShutdownStarted => self.shutting_down = true,
        }
        self.scan(now);
        self.pump(now, &mut out);
        out
    }

    fn set_leader(&mut self, leader: Option<String>, now: Millis, out: &mut Vec<Effect>) {
        self.leader = leader;
        if self.is_leader() {
            if self.next_scan.is_none() {
                self.next_scan = Some(now.saturating_add(self.scan_interval()));
            }
        } else {
            self.next_scan = None;
            // Leader work still queued is answered at once (Apache's stopped scheduler leaves
            // it to time out): the broker asks 1005 for the new leader and tries again there.
            let queued: Vec<Job> = self.queue.drain(..).collect();
            for job in queued {
                match job {
                    Job::Request { conn, cmd } if !cmd.is_oneway() => out.push(Effect::Reply {
                        conn,
                        cmd: not_leader(&cmd),
                    }),
                    Job::Config { .. } => self.queue.push_back(job),
                    _ => {}
                }
            }
        }
    }

    fn scan_interval(&self) -> Millis {
        Millis::try_from(self.config.scan_inactive_master_interval)
            .unwrap_or(5000)
            .max(1)
    }

    fn expire(&mut self, now: Millis, out: &mut Vec<Effect>) {
        for key in self.live.expire(now) {
            self.inactive(key, false, out);
        }
    }

    /// A replica stopped being alive: if it was its set's master, the leader elects.
    fn inactive(&mut self, key: LiveKey, closed: bool, out: &mut Vec<Effect>) {
        let was_master = self
            .replicas
            .get(&key.name)
            .is_some_and(|s| s.master == Some(key.id) && s.cluster == key.cluster);
        if was_master && self.is_leader() {
            self.queue.push_back(Job::Elect {
                broker_name: key.name.clone(),
            });
        }
        if self.inflight.is_some() {
            self.gone_in_flight.push((key.name.clone(), key.id));
        }
        out.push(Effect::Note(Note::Inactive { key, closed }));
    }

    /// The leader's periodic scan: sets whose master is not alive while a replica is.
    fn scan(&mut self, now: Millis) {
        let Some(at) = self.next_scan else { return };
        if at > now || !self.is_leader() {
            return;
        }
        let interval = self.scan_interval();
        // The next run on the same grid, after now.
        let behind = (now - at) / interval + 1;
        self.next_scan = Some(at.saturating_add(behind.saturating_mul(interval)));
        let due: Vec<String> = self
            .replicas
            .iter()
            .filter(|(name, set)| {
                let master_alive = set.master.is_some_and(|m| self.is_alive(name, m, now));
                !master_alive && set.replicas.keys().any(|id| self.is_alive(name, *id, now))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for broker_name in due {
            let queued = self
                .queue
                .iter()
                .any(|j| matches!(j, Job::Elect { broker_name: b } if *b == broker_name));
            if !queued {
                self.queue.push_back(Job::Elect { broker_name });
            }
        }
    }

    fn request(&mut self, now: Millis, conn: ConnId, cmd: RemotingCommand, out: &mut Vec<Effect>) {
        if cmd.is_response() {
            return;
        }
        let oneway = cmd.is_oneway();
        let answer = |out: &mut Vec<Effect>, r: RemotingCommand| {
            if !oneway {
                out.push(Effect::Reply { conn, cmd: r });
            }
        };
        if self.shutting_down && cmd.version > V5_3_1 {
            answer(
                out,
                requests::reply(&cmd, rs::GO_AWAY, Some("please go away".into())),
            );
            return;
        }
        match codes::class(cmd.code) {
            None => answer(
                out,
                requests::reply(
                    &cmd,
                    rs::REQUEST_CODE_NOT_SUPPORTED,
                    Some(format!(" request type {} not supported", cmd.code)),
                ),
            ),
            Some(Class::Local) => match cmd.code {
                rq::BROKER_HEARTBEAT => {
                    if let Some(r) = requests::heartbeat(self, conn, &cmd, now) {
                        answer(out, r);
                    }
                }
                rq::CONTROLLER_GET_METADATA_INFO => answer(out, requests::metadata(self, &cmd)),
                rq::GET_CONTROLLER_CONFIG => answer(out, requests::get_config(self, &cmd)),
                _ => self.queue.push_back(Job::Config { conn, cmd }),
            },
            Some(Class::Leader) => {
                if !self.is_leader() {
                    answer(out, not_leader(&cmd));
                } else if let Some(why) = &self.fenced {
                    answer(out, fenced(&cmd, why));
                } else {
                    self.queue.push_back(Job::Request { conn, cmd });
                }
            }
        }
    }

    /// Decides queued work until one decision has to wait for the log.
    fn pump(&mut self, now: Millis, out: &mut Vec<Effect>) {
        while self.inflight.is_none() {
            let Some(job) = self.queue.pop_front() else {
                return;
            };
            let (conn, oneway, decision, config) = match job {
                Job::Request { conn, cmd } => {
                    if let Some(why) = &self.fenced {
                        if !cmd.is_oneway() {
                            out.push(Effect::Reply {
                                conn,
                                cmd: fenced(&cmd, why),
                            });
                        }
                        continue;
                    }
                    let d = requests::leader_request(self, &cmd, now);
                    (Some(conn), cmd.is_oneway(), d, None)
                }
                Job::Elect { broker_name } => {
                    if !self.is_leader() || self.fenced.is_some() {
                        continue;
                    }
                    let mut d = requests::elect(self, &broker_name, -1, false, false, now);
                    d.reply = None;
                    (None, true, d, None)
                }
                Job::Config { conn, cmd } => match requests::update_config(self, &cmd) {
                    Err(r) => (
                        Some(conn),
                        cmd.is_oneway(),
                        Decision {
                            reply: Some(r),
                            ..Decision::default()
                        },
                        None,
                    ),
                    Ok(next) => {
                        let r = requests::reply(&cmd, rs::SUCCESS, None);
                        (
                            Some(conn),
                            cmd.is_oneway(),
                            Decision {
                                reply: Some(r),
                                ..Decision::default()
                            },
                            next,
                        )
                    }
                },
            };
            let reply = match (conn, decision.reply) {
                (Some(conn), Some(r)) if !oneway => Some((conn, r)),
                _ => None,
            };
            if let Some((next, changed)) = config {
                // The file keeps only what 1009 set (on this node, over its runs): the keys
                // the operator's own configuration sets are not frozen by one update.
                let mut file = self.persisted.clone();
                file.extend(changed);
                let ticket = self.ticket();
                out.push(Effect::PersistConfig {
                    ticket,
                    content: config::properties_text(&file),
                });
                self.inflight = Some(Inflight {
                    ticket,
                    events: Vec::new(),
                    config: Some((next, file)),
                    reply,
                    notify: None,
                });
            } else if decision.events.is_empty() {
                if let Some((conn, cmd)) = reply {
                    out.push(Effect::Reply { conn, cmd });
                }
            } else {
                let ticket = self.ticket();
                out.push(Effect::Append {
                    ticket,
                    events: decision.events.clone(),
                });
                self.inflight = Some(Inflight {
                    ticket,
                    events: decision.events,
                    config: None,
                    reply,
                    notify: decision.notify,
                });
            }
        }
    }

    fn ticket(&mut self) -> u64 {
        let t = self.next_ticket;
        self.next_ticket += 1;
        t
    }

    fn appended(
        &mut self,
        now: Millis,
        ticket: u64,
        result: Result<(), String>,
        out: &mut Vec<Effect>,
    ) {
        let Some(inflight) = self.inflight.take_if(|i| i.ticket == ticket) else {
            return;
        };
        let gone_in_flight = std::mem::take(&mut self.gone_in_flight);
        match (result, inflight.config) {
            (Ok(()), Some((next, file))) => {
                self.config = next;
                self.persisted = file;
                if let Some((conn, cmd)) = inflight.reply {
                    out.push(Effect::Reply { conn, cmd });
                }
            }
            (Err(e), Some(_)) => {
                if let Some((conn, cmd)) = inflight.reply {
                    let r = RemotingCommand {
                        code: rs::SYSTEM_ERROR,
                        remark: Some(format!("the settings were not persisted: {e}")),
                        ..cmd
                    };
                    out.push(Effect::Reply { conn, cmd: r });
                }
            }
            (Ok(()), None) => {
                for e in &inflight.events {
                    self.replicas.apply(e);
                    self.applied += 1;
                    if let Event::ElectMaster {
                        broker_name,
                        new_master,
                    } = e
                    {
                        let master_epoch =
                            self.replicas.get(broker_name).map_or(0, |s| s.master_epoch);
                        out.push(Effect::Note(Note::Elected {
                            broker_name: broker_name.clone(),
                            master: *new_master,
                            master_epoch,
                        }));
                    }
                }
                if let Some((conn, cmd)) = inflight.reply {
                    out.push(Effect::Reply { conn, cmd });
                }
                if let Some(name) = inflight.notify {
                    self.notify(&name, now, out);
                }
                // A master elected while its append was in flight may have gone inactive
                // meanwhile: its close or expiry found it not yet master and elected nobody.
                // Elect again now rather than a scan later (found by the simulator). Only then:
                // a first election may rightly name a replica not heard from yet.
                for e in &inflight.events {
                    if let Event::ElectMaster {
                        broker_name,
                        new_master: Some(m),
                    } = e
                    {
                        let queued = self.queue.iter().any(
                            |j| matches!(j, Job::Elect { broker_name: b } if b == broker_name),
                        );
                        let gone = gone_in_flight
                            .iter()
                            .any(|(n, id)| n == broker_name && id == m);
                        if self.is_leader()
                            && !queued
                            && gone
                            && !self.is_alive(broker_name, *m, now)
                        {
                            self.queue.push_back(Job::Elect {
                                broker_name: broker_name.clone(),
                            });
                        }
                    }
                }
            }
            (Err(e), None) => {
                // The log may now be missing this entry: nothing later may be acknowledged
                // on top of it. Answer, fence, and let the operator restart from the file.
                if let Some((conn, cmd)) = inflight.reply {
                    let r = RemotingCommand {
                        code: rs::SYSTEM_ERROR,
                        remark: Some(format!("the decision was not made durable: {e}")),
                        ext_fields: None,
                        body: None,
                        ..cmd
                    };
                    out.push(Effect::Reply { conn, cmd: r });
                }
                out.push(Effect::Note(Note::Fenced { error: e.clone() }));
                self.fenced = Some(e);
            }
        }
    }

    /// NOTIFY_BROKER_ROLE_CHANGED to every live member of the set, after an election applied.
    fn notify(&self, name: &str, now: Millis, out: &mut Vec<Effect>) {
        if !self.config.notify_broker_role_changed {
            return;
        }
        let Some(set) = self.replicas.get(name) else {
            return;
        };
        let Some(master) = set.master else { return };
        let body = wire::sync_state_set_body(&set.sync_state_set, set.sync_state_set_epoch);
        for (id, r) in &set.replicas {
            if !self.is_alive(name, *id, now) {
                continue;
            }
            let mut cmd = RemotingCommand::request(rq::NOTIFY_BROKER_ROLE_CHANGED)
                .with_ext("masterAddress", set.master_address().unwrap_or_default())
                .with_ext("masterBrokerId", master.to_string())
                .with_ext("masterEpoch", set.master_epoch.to_string())
                .with_ext("syncStateSetEpoch", set.sync_state_set_epoch.to_string())
                .with_body(body.clone().into_bytes());
            cmd.flag = crate::codec::command::flag::ONEWAY;
            out.push(Effect::Notify {
                broker_addr: r.address.clone(),
                cmd,
            });
        }
    }

    /// The machine's own invariants (for the simulators): the expiry index matches the table;
    /// every master is registered and in its SyncStateSet; the SyncStateSet holds registered
    /// ids only; ids are below the next id handed out; no deadline at or before `now` is
    /// pending; nothing waits in the queue while nothing is in flight.
    pub fn check_invariants(&self, now: Millis) -> Result<(), String> {
        self.live.check()?;
        if let Some(d) = self.live.next_expiry() {
            if d <= now {
                return Err(format!(
                    "a replica expiring at {d} is still listed at {now}"
                ));
            }
        }
        if let Some(s) = self.next_scan {
            if s <= now && self.is_leader() {
                return Err(format!("the scan due at {s} has not run at {now}"));
            }
        }
        if self.inflight.is_none() && !self.queue.is_empty() {
            return Err("work queued with nothing in flight".into());
        }
        for (name, set) in self.replicas.iter() {
            if set.replicas.is_empty() {
                return Err(format!("set {name} has no replicas"));
            }
            if let Some(m) = set.master {
                if !set.sync_state_set.contains(&m) {
                    return Err(format!("set {name}: master {m} is not in its SyncStateSet"));
                }
            }
            for id in &set.sync_state_set {
                if !set.replicas.contains_key(id) {
                    return Err(format!("set {name}: in-sync id {id} is not registered"));
                }
            }
            if let Some(bad) = set.replicas.keys().find(|id| **id < 1) {
                return Err(format!(
                    "set {name}: id {bad} is not a controller id (1, 2, ...)"
                ));
            }
            if set.master.is_some_and(|m| !set.replicas.contains_key(&m)) {
                return Err(format!("set {name}: its master is not registered"));
            }
        }
        Ok(())
    }
}

fn not_leader(cmd: &RemotingCommand) -> RemotingCommand {
    requests::reply(
        cmd,
        rs::CONTROLLER_NOT_LEADER,
        Some("The controller is not in leader state".into()),
    )
}

fn fenced(cmd: &RemotingCommand, why: &str) -> RemotingCommand {
    requests::reply(
        cmd,
        rs::SYSTEM_ERROR,
        Some(format!(
            "the controller's event log failed ({why}); restart it"
        )),
    )
}
