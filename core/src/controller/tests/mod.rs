//! The conformance scenarios of the spec (§11) and the edge cases around them, against one
//! controller driven by a small harness that plays the shell: it completes every append (the
//! "disk" keeps what was appended), collects replies and notifications, and checks the
//! machine's invariants after every step.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::codes::{request as rq, response as rs};
use super::*;
use crate::codec::command::{flag, SerializeType};

const T0: Millis = 1_000_000;
const CLUSTER: &str = "DefaultCluster";
const SET: &str = "broker-set-a";
const ADMIN: ConnId = 100;

fn addr(id: BrokerId) -> String {
    format!("127.0.0.1:{}", 30901 + 10 * id)
}

fn check_code(id: BrokerId) -> String {
    format!("{};{}", addr(id), 1_796_164_319_126_i64 + id)
}

fn key(id: BrokerId) -> LiveKey {
    LiveKey {
        cluster: CLUSTER.into(),
        name: SET.into(),
        id,
    }
}

fn ids(v: &[BrokerId]) -> BTreeSet<BrokerId> {
    v.iter().copied().collect()
}

fn group_config() -> ControllerConfig {
    let mut c = ControllerConfig::default();
    c.set(
        "controllerDLegerPeers",
        "n0-127.0.0.1:9878;n1-127.0.0.1:9868;n2-127.0.0.1:9858",
    )
    .unwrap();
    c.set("controllerDLegerGroup", "group1").unwrap();
    c.set("controllerDLegerSelfId", "n0").unwrap();
    c
}

/// One broker's heartbeat values.
#[derive(Clone, Debug)]
struct Beat {
    cluster: String,
    name: String,
    id: BrokerId,
    addr: String,
    epoch: i32,
    max_offset: i64,
    priority: i32,
    timeout: Millis,
    conn: ConnId,
}

impl Beat {
    /// A fresh broker of `SET`: epoch -1, offset 0, default priority and timeout, on
    /// connection `id`.
    fn new(id: BrokerId) -> Self {
        Self {
            cluster: CLUSTER.into(),
            name: SET.into(),
            id,
            addr: addr(id),
            epoch: -1,
            max_offset: 0,
            priority: i32::MAX,
            timeout: 10_000,
            conn: id as ConnId,
        }
    }

    fn at(mut self, epoch: i32, max_offset: i64) -> Self {
        self.epoch = epoch;
        self.max_offset = max_offset;
        self
    }

    fn priority(mut self, p: i32) -> Self {
        self.priority = p;
        self
    }

    fn timeout(mut self, t: Millis) -> Self {
        self.timeout = t;
        self
    }

    fn on(mut self, conn: ConnId) -> Self {
        self.conn = conn;
        self
    }

    /// The BROKER_HEARTBEAT a Java broker sends (oneway).
    fn cmd(&self) -> RemotingCommand {
        let mut c = RemotingCommand::request(rq::BROKER_HEARTBEAT)
            .with_ext("clusterName", self.cluster.clone())
            .with_ext("brokerName", self.name.clone())
            .with_ext("brokerId", self.id.to_string())
            .with_ext("brokerAddr", self.addr.clone())
            .with_ext("epoch", self.epoch.to_string())
            .with_ext("maxOffset", self.max_offset.to_string())
            .with_ext("confirmOffset", self.max_offset.to_string())
            .with_ext("electionPriority", self.priority.to_string())
            .with_ext("heartbeatTimeoutMills", self.timeout.to_string());
        c.flag = flag::ONEWAY;
        c
    }
}

/// The shell around one controller.
struct H {
    c: Controller,
    now: Millis,
    disk: Vec<Event>,
    replies: Vec<(ConnId, RemotingCommand)>,
    notifies: Vec<(String, RemotingCommand)>,
    notes: Vec<Note>,
    /// Keep appends (and settings writes) pending instead of completing them.
    hold: bool,
    /// Pending writes: the ticket, and the events (`None`: a settings write).
    held: VecDeque<(u64, Option<Vec<Event>>)>,
    /// Each broker's last heartbeat, to send again while it lives.
    beats: BTreeMap<BrokerId, Beat>,
    opaque: i32,
}

impl H {
    fn with(config: ControllerConfig) -> Self {
        Self {
            c: Controller::new(config, Replicas::default(), 0, T0),
            now: T0,
            disk: Vec::new(),
            replies: Vec::new(),
            notifies: Vec::new(),
            notes: Vec::new(),
            hold: false,
            held: VecDeque::new(),
            beats: BTreeMap::new(),
            opaque: 0,
        }
    }

    /// One controller, leading itself.
    fn single() -> Self {
        Self::with(ControllerConfig::default())
    }

    /// Node n0 of a group of three, told it leads.
    fn group() -> Self {
        let mut h = Self::with(group_config());
        assert!(!h.c.is_leader());
        h.leader(Some("n0"));
        assert!(h.c.is_leader());
        h
    }

    /// Steps one input, completes what it asks (unless held), and checks the invariants after
    /// every step. Returns every effect, in order.
    fn step(&mut self, input: Input) -> Vec<Effect> {
        let mut all = Vec::new();
        let mut pending = VecDeque::from([input]);
        while let Some(input) = pending.pop_front() {
            let effects = self.c.step(self.now, input);
            self.c
                .check_invariants(self.now)
                .unwrap_or_else(|e| panic!("at {}: {e}", self.now));
            for e in &effects {
                match e {
                    Effect::Reply { conn, cmd } => self.replies.push((*conn, cmd.clone())),
                    Effect::Append { ticket, events } => {
                        if self.hold {
                            self.held.push_back((*ticket, Some(events.clone())));
                        } else {
                            self.disk.extend(events.iter().cloned());
                            pending.push_back(Input::Appended {
                                ticket: *ticket,
                                result: Ok(()),
                            });
                        }
                    }
                    Effect::PersistConfig { ticket, .. } => {
                        if self.hold {
                            self.held.push_back((*ticket, None));
                        } else {
                            pending.push_back(Input::Appended {
                                ticket: *ticket,
                                result: Ok(()),
                            });
                        }
                    }
                    Effect::Notify { broker_addr, cmd } => {
                        self.notifies.push((broker_addr.clone(), cmd.clone()))
                    }
                    Effect::Note(n) => self.notes.push(n.clone()),
                }
            }
            all.extend(effects);
        }
        all
    }

    /// Completes the oldest held write with `result`.
    fn complete(&mut self, result: Result<(), String>) -> Vec<Effect> {
        let (ticket, events) = self.held.pop_front().expect("a held write");
        if let (Ok(()), Some(events)) = (&result, events) {
            self.disk.extend(events);
        }
        self.step(Input::Appended { ticket, result })
    }

    fn leader(&mut self, leader: Option<&str>) -> Vec<Effect> {
        self.step(Input::Leader {
            leader: leader.map(str::to_owned),
        })
    }

    /// Sends a request; returns its reply, if one came at once.
    fn send(&mut self, conn: ConnId, mut cmd: RemotingCommand) -> Option<RemotingCommand> {
        self.opaque += 1;
        cmd.opaque = self.opaque;
        self.step(Input::Request { conn, cmd });
        self.take_reply(conn, self.opaque)
    }

    fn take_reply(&mut self, conn: ConnId, opaque: i32) -> Option<RemotingCommand> {
        let i = self
            .replies
            .iter()
            .position(|(c, r)| *c == conn && r.opaque == opaque)?;
        let (_, r) = self.replies.remove(i);
        assert!(r.is_response(), "{r:?}");
        assert!(!r.is_oneway(), "{r:?}");
        assert_eq!(r.serialize_type, SerializeType::Json, "{r:?}");
        assert!(
            !self
                .replies
                .iter()
                .any(|(c, x)| *c == conn && x.opaque == opaque),
            "two replies to one request"
        );
        Some(r)
    }

    /// Sends a request that must be answered at once.
    fn ask(&mut self, conn: ConnId, cmd: RemotingCommand) -> RemotingCommand {
        let code = cmd.code;
        self.send(conn, cmd)
            .unwrap_or_else(|| panic!("no reply to {code} at {}", self.now))
    }

    /// Sends a heartbeat (oneway) and keeps it to send again.
    fn beat(&mut self, b: Beat) {
        let cmd = b.cmd();
        self.beats.insert(b.id, b.clone());
        assert_eq!(
            self.send(b.conn, cmd),
            None,
            "oneway heartbeats get no reply"
        );
    }

    /// 1012 -> 1013 -> 1003 for id `id` of `SET`, asserting the first two; returns the 1003
    /// reply.
    fn register(&mut self, id: BrokerId) -> RemotingCommand {
        let r = self.ask(id as ConnId, next_id_req(SET));
        assert_eq!(r.code, rs::SUCCESS, "{r:?}");
        assert_eq!(
            ext(&r),
            exts(&[
                ("brokerName", SET),
                ("clusterName", CLUSTER),
                ("nextBrokerId", &id.to_string())
            ])
        );
        assert_eq!(r.body, None);
        let r = self.ask(id as ConnId, apply_req(SET, id, &check_code(id)));
        assert_eq!(r.code, rs::SUCCESS, "{r:?}");
        assert_eq!(r.remark, None);
        assert_eq!(
            ext(&r),
            exts(&[("brokerName", SET), ("clusterName", CLUSTER)])
        );
        self.ask(id as ConnId, register_req(SET, id, &addr(id)))
    }

    /// Registers ids 1..=n and gives each a first heartbeat.
    fn registered(&mut self, n: BrokerId) {
        for id in 1..=n {
            let r = self.register(id);
            assert_eq!(r.code, rs::SUCCESS, "{r:?}");
            self.beat(Beat::new(id));
        }
    }

    /// Steps a Tick at `t`.
    fn tick_at(&mut self, t: Millis) -> Vec<Effect> {
        assert!(t >= self.now);
        self.now = t;
        self.step(Input::Tick)
    }

    /// Lets `ms` pass, stepping at every deadline the controller names, while the brokers in
    /// `alive` heartbeat once a second (their last heartbeat again).
    fn run_for(&mut self, ms: Millis, alive: &[BrokerId]) -> Vec<Effect> {
        let end = self.now + ms;
        let mut next_beat = self.now + 1000;
        let mut all = Vec::new();
        loop {
            let mut t = end.min(next_beat);
            if let Some(d) = self.c.next_deadline() {
                assert!(d > self.now, "deadline {d} not after {}", self.now);
                t = t.min(d);
            }
            self.now = t;
            all.extend(self.step(Input::Tick));
            if t == next_beat {
                for id in alive {
                    let b = self.beats[id].clone();
                    self.beat(b);
                }
                next_beat += 1000;
            }
            if t >= end {
                return all;
            }
        }
    }

    fn set(&self) -> &BrokerSet {
        self.c.replicas().get(SET).expect("the set exists")
    }

    /// 1004 for `SET`.
    fn replica_info(&mut self) -> RemotingCommand {
        self.ask(ADMIN, replica_info_req(SET))
    }

    fn take_notifies(&mut self) -> Vec<(String, RemotingCommand)> {
        std::mem::take(&mut self.notifies)
    }
}

// ---- requests as the brokers and mqadmin send them ----

fn next_id_req(name: &str) -> RemotingCommand {
    RemotingCommand::request(rq::CONTROLLER_GET_NEXT_BROKER_ID)
        .with_ext("clusterName", CLUSTER)
        .with_ext("brokerName", name)
}

fn apply_req(name: &str, id: BrokerId, code: &str) -> RemotingCommand {
    RemotingCommand::request(rq::CONTROLLER_APPLY_BROKER_ID)
        .with_ext("clusterName", CLUSTER)
        .with_ext("brokerName", name)
        .with_ext("appliedBrokerId", id.to_string())
        .with_ext("registerCheckCode", code)
}

fn register_req(name: &str, id: BrokerId, address: &str) -> RemotingCommand {
    RemotingCommand::request(rq::CONTROLLER_REGISTER_BROKER)
        .with_ext("clusterName", CLUSTER)
        .with_ext("brokerName", name)
        .with_ext("brokerId", id.to_string())
        .with_ext("brokerAddress", address)
        .with_ext("invokeTime", "1796164319200")
}

/// 1002: `id` None leaves `brokerId` out (the controller's own trigger).
fn elect_req(id: Option<BrokerId>, designate: bool) -> RemotingCommand {
    let mut r = RemotingCommand::request(rq::CONTROLLER_ELECT_MASTER)
        .with_ext("clusterName", CLUSTER)
        .with_ext("brokerName", SET)
        .with_ext("designateElect", designate.to_string())
        .with_ext("invokeTime", "1796164319300");
    if let Some(id) = id {
        r = r.with_ext("brokerId", id.to_string());
    }
    r
}

fn alter_req(
    master: BrokerId,
    master_epoch: i32,
    set: &[BrokerId],
    ss_epoch: i32,
) -> RemotingCommand {
    alter_req_for(SET, master, master_epoch, set, ss_epoch)
}

fn alter_req_for(
    name: &str,
    master: BrokerId,
    master_epoch: i32,
    set: &[BrokerId],
    ss_epoch: i32,
) -> RemotingCommand {
    RemotingCommand::request(rq::CONTROLLER_ALTER_SYNC_STATE_SET)
        .with_ext("brokerName", name)
        .with_ext("masterBrokerId", master.to_string())
        .with_ext("masterEpoch", master_epoch.to_string())
        .with_ext("invokeTime", "1796164319400")
        .with_body(ss_body(set, ss_epoch).into_bytes())
}

fn replica_info_req(name: &str) -> RemotingCommand {
    RemotingCommand::request(rq::CONTROLLER_GET_REPLICA_INFO).with_ext("brokerName", name)
}

fn sync_data_req(body: &str) -> RemotingCommand {
    RemotingCommand::request(rq::CONTROLLER_GET_SYNC_STATE_DATA).with_body(body.as_bytes().to_vec())
}

fn clean_req(
    cluster: Option<&str>,
    name: &str,
    ids: Option<&str>,
    living: bool,
) -> RemotingCommand {
    let mut r = RemotingCommand::request(rq::CLEAN_BROKER_DATA)
        .with_ext("brokerName", name)
        .with_ext("isCleanLivingBroker", living.to_string())
        .with_ext("invokeTime", "1796164319500");
    if let Some(c) = cluster {
        r = r.with_ext("clusterName", c);
    }
    if let Some(i) = ids {
        r = r.with_ext("brokerControllerIdsToClean", i);
    }
    r
}

fn update_config_req(body: &str) -> RemotingCommand {
    RemotingCommand::request(rq::UPDATE_CONTROLLER_CONFIG).with_body(body.as_bytes().to_vec())
}

// ---- expected headers and bodies ----

fn ext(r: &RemotingCommand) -> BTreeMap<String, String> {
    r.ext_fields
        .clone()
        .unwrap_or_else(|| panic!("no extFields in {r:?}"))
}

fn exts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn body(r: &RemotingCommand) -> String {
    String::from_utf8(r.body.as_ref().expect("a body").to_vec()).expect("utf-8")
}

fn id_list(v: &[BrokerId]) -> String {
    v.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn ss_body(set: &[BrokerId], epoch: i32) -> String {
    format!(
        r#"{{"syncStateSet":[{}],"syncStateSetEpoch":{epoch}}}"#,
        id_list(set)
    )
}

/// The ElectMaster success body (`brokerAddrs` keys unquoted, §12 Q2).
fn elect_body(members: &[BrokerId], master: BrokerId) -> String {
    let addrs = members
        .iter()
        .map(|i| format!(r#"{i}:"{}""#, addr(*i)))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"brokerMemberGroup":{{"brokerAddrs":{{{addrs}}},"brokerName":"{SET}","cluster":"{CLUSTER}"}},"syncStateSet":[{master}]}}"#
    )
}

/// The header of a 0 election reply, a 2011 reply, or a 1008.
fn master_ext(master: BrokerId, epoch: i32, ss_epoch: i32) -> BTreeMap<String, String> {
    exts(&[
        ("masterAddress", &addr(master)),
        ("masterBrokerId", &master.to_string()),
        ("masterEpoch", &epoch.to_string()),
        ("syncStateSetEpoch", &ss_epoch.to_string()),
    ])
}

fn replica_json(id: BrokerId, alive: bool) -> String {
    format!(
        r#"{{"alive":{alive},"brokerAddress":"{}","brokerId":{id},"brokerName":"{SET}"}}"#,
        addr(id)
    )
}

/// A 1006 body for `SET`.
fn sync_data_body(
    in_sync: &[(BrokerId, bool)],
    not_in_sync: &[(BrokerId, bool)],
    master: Option<BrokerId>,
    epoch: i32,
    ss_epoch: i32,
) -> String {
    let list = |v: &[(BrokerId, bool)]| {
        v.iter()
            .map(|(i, a)| replica_json(*i, *a))
            .collect::<Vec<_>>()
            .join(",")
    };
    let m = master.map_or(String::new(), |m| {
        format!(r#""masterAddress":"{}","masterBrokerId":{m},"#, addr(m))
    });
    format!(
        r#"{{"replicasInfoTable":{{"{SET}":{{"inSyncReplicas":[{}],{m}"masterEpoch":{epoch},"notInSyncReplicas":[{}],"syncStateSetEpoch":{ss_epoch}}}}}}}"#,
        list(in_sync),
        list(not_in_sync)
    )
}

fn apply_event(id: BrokerId) -> Event {
    Event::ApplyBrokerId {
        cluster_name: CLUSTER.into(),
        broker_name: SET.into(),
        broker_address: addr(id),
        new_broker_id: id,
        register_check_code: check_code(id),
    }
}

fn elected(m: Option<BrokerId>) -> Event {
    Event::ElectMaster {
        broker_name: SET.into(),
        new_master: m,
    }
}

fn altered(v: &[BrokerId]) -> Event {
    Event::AlterSyncStateSet {
        broker_name: SET.into(),
        new_sync_state_set: ids(v),
    }
}

/// Checks a 1008 to `to` naming `master`.
fn assert_notify(
    n: &(String, RemotingCommand),
    to: BrokerId,
    master: BrokerId,
    epoch: i32,
    ss_epoch: i32,
    set: &[BrokerId],
) {
    assert_eq!(n.0, addr(to));
    assert_eq!(n.1.code, rq::NOTIFY_BROKER_ROLE_CHANGED);
    assert_eq!(n.1.flag, flag::ONEWAY);
    assert_eq!(ext(&n.1), master_ext(master, epoch, ss_epoch));
    assert_eq!(body(&n.1), ss_body(set, ss_epoch));
}

// ---- scenario set-ups ----

/// Scenario 2: ids 1-3 registered and alive, 1 elected (masterEpoch 1, ssEpoch 1).
fn scenario2(h: &mut H) {
    h.registered(3);
    let r = h.ask(1, elect_req(Some(1), false));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
    h.take_notifies();
}

/// Scenario 3: scenario 2, then master 1 expands the set to {1,2,3} (ssEpoch 2).
fn scenario3(h: &mut H) {
    scenario2(h);
    let r = h.ask(1, alter_req(1, 1, &[1, 2, 3], 1));
    assert_eq!(r.code, rs::SUCCESS, "{r:?}");
}

mod edge;
mod rust_broker;
mod scenarios;
mod scenarios_late;
