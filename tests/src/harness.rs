//! A driver for the core state machine: builds wire-level requests, feeds them with virtual
//! time, and checks the tables' invariants after every step.

use std::collections::BTreeMap;

use bytes::Bytes;
use namesrv_core::codec::fastjson::Dialect;
use namesrv_core::config::NamesrvConfig;
use namesrv_core::kv::KvConfig;
use namesrv_core::protocol::bodies::{
    decode_topic_list, ClusterInfo, DataVersion, QueueData, TopicConfig, TopicRouteData,
};
use namesrv_core::protocol::register_request::body_crc;
use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_core::{Dispatch, Effect, Input, NameServer, NoRouteBodies, Request};

pub use namesrv_core::protocol::register_request::topic_config as topic;
/// A REGISTER_BROKER request under construction: the core's one encoder.
pub use namesrv_core::protocol::RegisterBrokerRequest as Reg;

pub fn topics(names: &[&str]) -> Vec<TopicConfig> {
    names.iter().map(|n| topic(n)).collect()
}

/// `DataVersion{counter, timestamp}`.
pub fn dv(counter: i64, timestamp: i64) -> DataVersion {
    DataVersion {
        state_version: 0,
        timestamp,
        counter,
    }
}

/// The machine plus a virtual clock and a log of every effect.
pub struct Harness {
    pub ns: NameServer,
    pub now: u64,
    pub effects: Vec<Effect>,
    next_opaque: i32,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(f: impl FnOnce(&mut NamesrvConfig)) -> Self {
        let mut config = NamesrvConfig::default();
        f(&mut config);
        Self {
            ns: NameServer::new(config, KvConfig::new(), 1_000_000),
            now: 1_000_000,
            effects: Vec::new(),
            next_opaque: 1,
        }
    }

    /// Feeds an input, checks invariants, returns the effects of this step. Persistence the
    /// machine asks for succeeds at once (its `Input::Persisted` is fed back here, and the
    /// effects of both steps are returned together); see [`Self::step_only`] to hold it.
    pub fn step(&mut self, input: Input) -> Vec<Effect> {
        let fx = self.ns.step_persisting(self.now, input, |_, _| Ok(()));
        self.checked(fx)
    }

    /// One step, its persistence left unreported.
    pub fn step_only(&mut self, input: Input) -> Vec<Effect> {
        let fx = self.ns.step(self.now, input);
        self.checked(fx)
    }

    /// Checks the invariants after a step and logs its effects.
    fn checked(&mut self, fx: Vec<Effect>) -> Vec<Effect> {
        if let Err(e) = self.ns.check_invariants() {
            panic!(
                "invariant violated at t={}: {e}\ntables: {:#?}",
                self.now,
                self.ns.route()
            );
        }
        self.effects.extend(fx.iter().cloned());
        fx
    }

    pub fn advance(&mut self, ms: u64) -> Vec<Effect> {
        self.now += ms;
        self.step(Input::Tick)
    }

    /// Sends a request on `conn`; returns its reply (None for oneway).
    pub fn send(&mut self, conn: u64, mut cmd: RemotingCommand) -> Option<RemotingCommand> {
        cmd.opaque = self.next_opaque;
        self.next_opaque += 1;
        let opaque = cmd.opaque;
        // Every frame goes the server's way: offered to the read view, which answers reads
        // and hands the rest (a registration's body decoded ahead) to the machine.
        let view = self.ns.view();
        let reply_in = |fx: Vec<Effect>| {
            fx.into_iter().find_map(|e| match e {
                Effect::Reply { conn: c, cmd } if c == conn && cmd.opaque == opaque => Some(cmd),
                _ => None,
            })
        };
        match view.accept(self.now, conn, cmd.clone(), &NoRouteBodies) {
            Dispatch::Done(fx) => {
                self.effects.extend(fx.iter().cloned());
                let by_view = reply_in(fx);
                // The machine answers a read exactly as its view does.
                let by_machine = reply_in(self.ns.clone().step(
                    self.now,
                    Input::Request {
                        conn,
                        request: Request::new(cmd),
                    },
                ));
                assert_eq!(by_view, by_machine, "the read view and step() disagree");
                by_view
            }
            Dispatch::Step(input) => reply_in(self.step(input)),
        }
    }

    /// Sends and expects a reply.
    pub fn call(&mut self, conn: u64, cmd: RemotingCommand) -> RemotingCommand {
        self.send(conn, cmd).expect("a reply")
    }

    /// REGISTER_BROKER on connection `conn`.
    pub fn register_on(&mut self, conn: u64, reg: &Reg) -> Option<RemotingCommand> {
        self.send(conn, reg.command())
    }

    /// REGISTER_BROKER on a connection derived from the address (one per broker).
    pub fn register(&mut self, reg: &Reg) -> RemotingCommand {
        let conn = conn_of(&reg.addr);
        self.register_on(conn, reg).expect("a reply")
    }

    pub fn unregister(
        &mut self,
        cluster: &str,
        addr: &str,
        name: &str,
        id: i64,
    ) -> RemotingCommand {
        let cmd = RemotingCommand::request(request::UNREGISTER_BROKER)
            .with_ext("clusterName", cluster)
            .with_ext("brokerAddr", addr)
            .with_ext("brokerName", name)
            .with_ext("brokerId", id.to_string());
        self.call(9_999, cmd)
    }

    pub fn close(&mut self, conn: u64) -> Vec<Effect> {
        self.step(Input::Closed { conn })
    }

    /// GET_ROUTEINFO_BY_TOPIC as a 5.x client (standard JSON); `None` on TOPIC_NOT_EXIST.
    pub fn route(&mut self, topic: &str) -> Option<TopicRouteData> {
        let r = self.call(
            9_998,
            RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic),
        );
        match r.code {
            response::SUCCESS => Some(
                TopicRouteData::decode(r.body.as_deref().unwrap_or_default()).expect("route body"),
            ),
            response::TOPIC_NOT_EXIST => None,
            other => panic!("unexpected route reply {other}: {:?}", r.remark),
        }
    }

    pub fn cluster_info(&mut self) -> ClusterInfo {
        let r = self.call(
            9_998,
            RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO),
        );
        assert_eq!(r.code, response::SUCCESS);
        ClusterInfo::decode(r.body.as_deref().unwrap_or_default()).expect("cluster info body")
    }

    pub fn all_topics(&mut self) -> Vec<String> {
        let r = self.call(
            9_998,
            RemotingCommand::request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
        );
        assert_eq!(r.code, response::SUCCESS);
        decode_topic_list(r.body.as_deref().unwrap_or_default()).expect("topic list")
    }

    pub fn body_text(cmd: &RemotingCommand) -> String {
        String::from_utf8_lossy(cmd.body.as_ref().map(Bytes::as_ref).unwrap_or_default())
            .into_owned()
    }
}

/// A stable connection id per broker address.
pub fn conn_of(addr: &str) -> u64 {
    addr.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    }) % 1_000_000
        + 10_000
}

// --- helpers added for the conformance tests (tests/tests/conformance.rs) ---------------------

/// A `QueueData` as REGISTER_TOPIC_IN_NAMESRV carries it.
pub fn queue_data(broker_name: &str, queues: i32, perm: i32) -> QueueData {
    QueueData {
        broker_name: broker_name.into(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm,
        topic_sys_flag: 0,
    }
}

/// Replaces a REGISTER_BROKER command's body and fixes `bodyCrc32` to match it.
/// PUT_KV_CONFIG of `key=value` in `namespace`.
pub fn put_kv(namespace: &str, key: &str, value: &str) -> RemotingCommand {
    RemotingCommand::request(request::PUT_KV_CONFIG)
        .with_ext("namespace", namespace)
        .with_ext("key", key)
        .with_ext("value", value)
}

/// GET_KV_CONFIG of `key` in `namespace`.
pub fn get_kv(namespace: &str, key: &str) -> RemotingCommand {
    RemotingCommand::request(request::GET_KV_CONFIG)
        .with_ext("namespace", namespace)
        .with_ext("key", key)
}

/// `cmd` with `body` and that body's `bodyCrc32`.
pub fn with_body_and_crc(cmd: RemotingCommand, body: Vec<u8>) -> RemotingCommand {
    cmd.with_ext("bodyCrc32", body_crc(&body).to_string())
        .with_body(body)
}

impl Harness {
    /// WIPE_WRITE_PERM_OF_BROKER (205); returns `wipeTopicCount`.
    pub fn wipe_write_perm(&mut self, broker_name: &str) -> i32 {
        let r = self.call(
            9_997,
            RemotingCommand::request(request::WIPE_WRITE_PERM_OF_BROKER)
                .with_ext("brokerName", broker_name),
        );
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
        r.ext("wipeTopicCount")
            .and_then(|v| v.parse().ok())
            .expect("wipeTopicCount")
    }

    /// ADD_WRITE_PERM_OF_BROKER (327); returns `addTopicCount`.
    pub fn add_write_perm(&mut self, broker_name: &str) -> i32 {
        let r = self.call(
            9_997,
            RemotingCommand::request(request::ADD_WRITE_PERM_OF_BROKER)
                .with_ext("brokerName", broker_name),
        );
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
        r.ext("addTopicCount")
            .and_then(|v| v.parse().ok())
            .expect("addTopicCount")
    }

    /// DELETE_TOPIC_IN_NAMESRV (216), optionally limited to one cluster.
    pub fn delete_topic(&mut self, topic: &str, cluster: Option<&str>) -> RemotingCommand {
        let mut cmd =
            RemotingCommand::request(request::DELETE_TOPIC_IN_NAMESRV).with_ext("topic", topic);
        if let Some(c) = cluster {
            cmd = cmd.with_ext("clusterName", c);
        }
        self.call(9_997, cmd)
    }

    /// REGISTER_TOPIC_IN_NAMESRV (217), the way a broker's `registerSingleTopicAll` sends it.
    pub fn register_topic(&mut self, topic: &str, queue_datas: &[QueueData]) -> RemotingCommand {
        let body = TopicRouteData {
            queue_datas: queue_datas.to_vec(),
            ..Default::default()
        }
        .encode(Dialect::Legacy);
        self.call(
            9_997,
            RemotingCommand::request(request::REGISTER_TOPIC_IN_NAMESRV)
                .with_ext("topic", topic)
                .with_body(body.into_bytes()),
        )
    }

    /// UPDATE_NAMESRV_CONFIG (318) with a `.properties` body.
    pub fn update_config(&mut self, properties: &str) -> RemotingCommand {
        self.call(
            9_997,
            RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG)
                .with_body(properties.as_bytes().to_vec()),
        )
    }

    /// GET_NAMESRV_CONFIG (319): the properties text.
    pub fn get_config(&mut self) -> String {
        let r = self.call(9_997, RemotingCommand::request(request::GET_NAMESRV_CONFIG));
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
        Self::body_text(&r)
    }

    /// BROKER_HEARTBEAT (904).
    pub fn heartbeat(&mut self, cluster: &str, addr: &str, name: &str) -> RemotingCommand {
        self.call(
            conn_of(addr),
            RemotingCommand::request(request::BROKER_HEARTBEAT)
                .with_ext("clusterName", cluster)
                .with_ext("brokerAddr", addr)
                .with_ext("brokerName", name),
        )
    }

    /// QUERY_DATA_VERSION (322) as a request (not oneway), with the broker's DataVersion as body.
    pub fn query_data_version_cmd(
        cluster: &str,
        addr: &str,
        name: &str,
        id: i64,
        dv: Option<DataVersion>,
    ) -> RemotingCommand {
        let mut cmd = RemotingCommand::request(request::QUERY_DATA_VERSION)
            .with_ext("clusterName", cluster)
            .with_ext("brokerAddr", addr)
            .with_ext("brokerName", name)
            .with_ext("brokerId", id.to_string());
        if let Some(dv) = dv {
            cmd = cmd.with_body(dv.encode().into_bytes());
        }
        cmd
    }

    /// The perm of `broker`'s queue data for `topic`, straight from the tables.
    pub fn perm(&self, topic: &str, broker: &str) -> Option<i32> {
        self.ns
            .route()
            .topic_queue_table()
            .get(topic)
            .and_then(|m| m.get(broker))
            .map(|qd| qd.perm)
    }
}

/// The address map of `broker_name` in a route, if the route lists that group.
pub fn addrs_in(route: &TopicRouteData, broker_name: &str) -> Option<BTreeMap<i64, String>> {
    route
        .broker_datas
        .iter()
        .find(|bd| bd.broker_name == broker_name)
        .map(|bd| bd.broker_addrs.clone())
}
