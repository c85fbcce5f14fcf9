//! `RouteInfoManager` (spec §3): the five route tables, registration, cleanup and queries.
//!
//! Tables are [`Table`]s: ordered (every answer and every simulation trace is deterministic)
//! and persistent (a clone is O(1) and shares structure, which is what makes the machine's
//! read view cheap). One cleanup path serves UNREGISTER_BROKER, connection close and expiry
//! ([`RouteInfo::remove_live_entry`] / [`RouteInfo::unregister_broker`]).

pub mod cleanup;
pub mod query;
pub mod register;
mod table;
pub mod unchanged;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::protocol::bodies::{BrokerData, DataVersion, QueueData};

pub use register::{RegisterArgs, RegisterOutcome};
pub use table::{Set, Table};
pub use unchanged::{AppliedBody, BodyPrint};

/// A connection, as numbered by the io shell.
pub type ConnId = u64;

/// Milliseconds on the caller's clock. The core never reads a clock.
pub type Millis = u64;

/// `DEFAULT_BROKER_CHANNEL_EXPIRED_TIME`.
pub const DEFAULT_HEARTBEAT_TIMEOUT_MS: Millis = 120_000;

/// `MixAll.MASTER_ID`: the broker id of a group's master (slaves have ids above 0).
pub const MASTER_ID: i64 = 0;

/// `PermName`: the permission bits of a topic's queue data.
pub mod perm {
    /// `PERM_PRIORITY`: Apache's priority bit; stored and passed through (ADD_WRITE_PERM_OF_BROKER
    /// drops it).
    pub const PRIORITY: i32 = 8;
    /// `PERM_READ`: consumers may read the queues.
    pub const READ: i32 = 4;
    /// `PERM_WRITE`: producers may write the queues.
    pub const WRITE: i32 = 2;
    /// `PERM_INHERIT`: other topics may inherit this one's config (as auto-created topics inherit
    /// `TBW102`'s).
    pub const INHERIT: i32 = 1;
}

/// Key of the live and filter-server tables. The same address in two clusters is two brokers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerAddrInfo {
    /// `clusterName`: the cluster the broker registered under.
    pub cluster: String,
    /// `brokerAddr`: the broker's `host:port` for clients.
    pub addr: String,
}

impl BrokerAddrInfo {
    /// The key for `addr` in `cluster`.
    pub fn new(cluster: &str, addr: &str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            addr: addr.to_owned(),
        }
    }
}

/// `BrokerLiveInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerLiveInfo {
    /// `lastUpdateTimestamp`: the last registration or heartbeat, on the caller's clock.
    pub last_update: Millis,
    /// `heartbeatTimeoutMillis`: how long after `last_update` the broker expires.
    pub timeout_ms: Millis,
    /// `dataVersion`: the version of the topic config the broker last registered.
    pub data_version: DataVersion,
    /// The connection that registered last; only its close removes the broker.
    pub conn: Option<ConnId>,
    /// `haServerAddr`: the broker's HA address, returned to its slaves when they register.
    pub ha_server_addr: String,
    /// The body this broker's topics were last applied from, when its last registration
    /// applied them (see [`unchanged`]).
    pub applied: Option<AppliedBody>,
}

impl BrokerLiveInfo {
    /// When the broker expires: `last_update + timeout_ms` (saturating).
    pub fn deadline(&self) -> Millis {
        self.last_update.saturating_add(self.timeout_ms)
    }
}

/// Why a broker address left the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalCause {
    /// The broker sent UNREGISTER_BROKER.
    Unregistered,
    /// The connection it registered through closed.
    ConnectionClosed,
    /// No registration or heartbeat before its deadline.
    Expired,
    /// Fenced by a master with a higher state version (spec §3.3 step 6).
    Fenced,
    /// Its id was taken over by another address without an unregister.
    Displaced,
}

impl RemovalCause {
    /// A short stable name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalCause::Unregistered => "unregistered",
            RemovalCause::ConnectionClosed => "connection_closed",
            RemovalCause::Expired => "expired",
            RemovalCause::Fenced => "fenced",
            RemovalCause::Displaced => "displaced",
        }
    }
}

/// A NOTIFY_MIN_BROKER_ID_CHANGE to send (spec §3.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinBrokerIdChange {
    /// The broker addresses to send it to (oneway).
    pub targets: Vec<String>,
    /// `minBrokerId`: the group's lowest broker id now.
    pub min_broker_id: i64,
    /// `minBrokerAddr`: the address under that id.
    pub min_broker_addr: String,
    /// `offlineBrokerAddr`: the address that left, when a removal caused the change.
    pub offline_broker_addr: Option<String>,
    /// `haBrokerAddr`: the registering broker's HA address, when a registration caused it.
    pub ha_broker_addr: Option<String>,
}

/// Something worth a log line or a metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteEvent {
    /// A REGISTER_BROKER was accepted.
    BrokerRegistered {
        /// The cluster it registered under.
        cluster: String,
        /// Its group name.
        broker_name: String,
        /// Its `host:port` for clients.
        broker_addr: String,
        /// Its id in the group (0 = master).
        broker_id: i64,
        /// `registerFirst`: the group or this id had no address before (a new member).
        first: bool,
    },
    /// A broker address left the tables.
    BrokerRemoved {
        /// The cluster of the removed live entry.
        cluster: String,
        /// The removed address.
        broker_addr: String,
        /// The groups that lost the address.
        broker_names: Vec<String>,
        /// Why it was removed.
        cause: RemovalCause,
    },
}

/// The route tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouteInfo {
    pub(crate) topic_queue_table: Table<String, Table<String, QueueData>>,
    pub(crate) broker_addr_table: Table<String, BrokerData>,
    pub(crate) cluster_addr_table: Table<String, Set<String>>,
    pub(crate) broker_live_table: Table<BrokerAddrInfo, BrokerLiveInfo>,
    pub(crate) filter_server_table: Table<BrokerAddrInfo, Vec<String>>,
    pub(crate) topic_queue_mapping_info_table: Table<String, BTreeMap<String, Value>>,
    /// Expiry queue: (deadline, broker) for every live entry.
    pub(crate) deadlines: Table<(Millis, BrokerAddrInfo), ()>,
    /// Broker name -> the topics it has queue data in: the topics of one group without a walk
    /// over every topic, so removing a group, wiping its write permission or dropping its
    /// broker's connection costs O(that group's topics). Kept by [`Self::put_queue_data`],
    /// [`Self::drop_queue_data`] and their batched forms, the only ways queue data comes and
    /// goes. Nested rather than keyed by (name, topic) pairs: a lookup compares a few names
    /// and a few topics, not ~17 pairs of long strings in a tree of every queue-data entry.
    pub(crate) group_topics: Table<String, Set<String>>,
    /// Entries in `group_topics` (queue-data entries over all topics).
    pub(crate) queue_entries: usize,
    /// Queue-data entries removed so far: an [`AppliedBody`] remembers it (see [`unchanged`]).
    pub(crate) queue_removals: u64,
}

impl RouteInfo {
    /// Empty tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `topic`'s queue data of group `qd.broker_name` (creating the topic), index kept.
    pub(crate) fn put_queue_data(&mut self, topic: &str, qd: QueueData) {
        let name = qd.broker_name.clone();
        if self.put_queue_entry(topic, qd) {
            self.index_new_topics(&name, std::iter::once(topic));
        }
    }

    /// Sets `topic`'s queue data of group `qd.broker_name` (creating the topic) and says
    /// whether the group is new to the topic, leaving the group index to the caller: a
    /// registration adds its new topics to the index together ([`Self::index_new_topics`]),
    /// one look-up of the group for all of them instead of one per topic.
    pub(crate) fn put_queue_entry(&mut self, topic: &str, qd: QueueData) -> bool {
        match self.topic_queue_table.get_mut(topic) {
            Some(qdm) => {
                let before = qdm.len();
                qdm.insert(qd.broker_name.clone(), qd);
                qdm.len() > before
            }
            None => {
                let mut qdm = Table::new();
                qdm.insert(qd.broker_name.clone(), qd);
                self.topic_queue_table.insert(topic.to_owned(), qdm);
                true
            }
        }
    }

    /// Adds `topics`, which [`Self::put_queue_entry`] just gave group `name` queue data in, to
    /// the group index.
    pub(crate) fn index_new_topics<'t>(
        &mut self,
        name: &str,
        topics: impl IntoIterator<Item = &'t str>,
    ) {
        let mut topics = topics.into_iter().peekable();
        if topics.peek().is_none() {
            return;
        }
        let set = self
            .group_topics
            .get_or_insert_with(name.to_owned(), Set::new);
        // The group had no entry in these topics, so by the index's invariant (checked after
        // every simulated step) the set lacks them: one look-up each.
        for topic in topics {
            if set.insert_absent(topic.to_owned()) {
                self.queue_entries += 1;
            }
        }
    }

    /// Removes `topic`'s queue data of group `name` (and the topic when none is left), index
    /// kept. A miss changes nothing.
    pub(crate) fn drop_queue_data(&mut self, topic: &str, name: &str) {
        if !self
            .topic_queue_table
            .get(topic)
            .is_some_and(|qdm| qdm.contains_key(name))
        {
            return;
        }
        if let Some(topics) = self.group_topics.get_mut(name) {
            if topics.remove(topic) {
                self.queue_entries -= 1;
            }
            if topics.is_empty() {
                self.group_topics.remove(name);
            }
        }
        self.drop_queue_entry(topic, name);
    }

    /// Removes all of group `name`'s queue data (and the topics left with none), index kept:
    /// the group leaves the index in one write and each of its topics is looked up once, not
    /// three times as [`Self::drop_queue_data`] per topic would.
    pub(crate) fn drop_group_queue_data(&mut self, name: &str) {
        // An O(1) clone of the set's root; the table's reference goes with the removal, so
        // walking it below copies nothing.
        let Some(topics) = self.group_topics.take(name) else {
            return;
        };
        self.queue_entries = self.queue_entries.saturating_sub(topics.len());
        for topic in &topics {
            self.drop_queue_entry(topic, name);
        }
    }

    /// `topic` loses group `name`'s entry, and goes when none is left; the index is the
    /// caller's.
    fn drop_queue_entry(&mut self, topic: &str, name: &str) {
        if let Some(qdm) = self.topic_queue_table.get_mut(topic) {
            if qdm.remove(name) {
                self.queue_removals = self.queue_removals.wrapping_add(1);
            }
            if qdm.is_empty() {
                self.topic_queue_table.remove(topic);
            }
        }
    }

    /// The topics group `name` has queue data in, in name order: O(their number).
    pub(crate) fn topics_of(&self, name: &str) -> Vec<String> {
        self.group_topics
            .get(name)
            .map(|topics| topics.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Queue-data entries over all topics (one per topic and group), in O(1).
    pub fn queue_entries(&self) -> usize {
        self.queue_entries
    }

    // --- read access for tests, the simulator and tools -------------------------------------

    /// `topicQueueTable`: topic → broker name → its queue data.
    pub fn topic_queue_table(&self) -> &Table<String, Table<String, QueueData>> {
        &self.topic_queue_table
    }

    /// `brokerAddrTable`: broker name → the group (cluster, ids → addresses).
    pub fn broker_addr_table(&self) -> &Table<String, BrokerData> {
        &self.broker_addr_table
    }

    /// `clusterAddrTable`: cluster name → the names of its broker groups.
    pub fn cluster_addr_table(&self) -> &Table<String, Set<String>> {
        &self.cluster_addr_table
    }

    /// `brokerLiveTable`: (cluster, address) → liveness (last heartbeat, timeout, data version).
    pub fn broker_live_table(&self) -> &Table<BrokerAddrInfo, BrokerLiveInfo> {
        &self.broker_live_table
    }

    /// `filterServerTable`: (cluster, address) → that broker's filter server addresses.
    pub fn filter_server_table(&self) -> &Table<BrokerAddrInfo, Vec<String>> {
        &self.filter_server_table
    }

    /// `topicQueueMappingInfoTable`: topic → broker name → static-topic mapping info.
    pub fn topic_queue_mapping_info_table(&self) -> &Table<String, BTreeMap<String, Value>> {
        &self.topic_queue_mapping_info_table
    }

    /// The earliest instant at which a broker expires, if any broker is live.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.first().map(|((d, _), ())| *d)
    }

    // --- liveness -------------------------------------------------------------------------------

    pub(crate) fn set_live(&mut self, key: BrokerAddrInfo, info: BrokerLiveInfo) {
        if let Some(old) = self.broker_live_table.get(&key) {
            self.deadlines.remove(&(old.deadline(), key.clone()));
        }
        self.deadlines.insert((info.deadline(), key.clone()), ());
        self.broker_live_table.insert(key, info);
    }

    pub(crate) fn remove_live(&mut self, key: &BrokerAddrInfo) -> Option<BrokerLiveInfo> {
        let old = self.broker_live_table.take(key)?;
        self.deadlines.remove(&(old.deadline(), key.clone()));
        self.filter_server_table.remove(key);
        Some(old)
    }

    /// Refreshes `lastUpdateTimestamp` (QUERY_DATA_VERSION, BROKER_HEARTBEAT). Unknown → no-op.
    pub fn update_broker_info_update_timestamp(
        &mut self,
        cluster: &str,
        addr: &str,
        now: Millis,
    ) -> bool {
        let key = BrokerAddrInfo::new(cluster, addr);
        let Some(info) = self.broker_live_table.get(&key) else {
            return false;
        };
        let mut info = info.clone();
        info.last_update = now;
        self.set_live(key, info);
        true
    }

    /// Live entries whose deadline is at or before `now`, earliest first.
    pub fn expired_at(&self, now: Millis) -> Vec<BrokerAddrInfo> {
        self.deadlines
            .keys()
            .take_while(|(d, _)| *d <= now)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// Live entries registered through `conn`.
    pub fn live_entries_on(&self, conn: ConnId) -> Vec<BrokerAddrInfo> {
        self.broker_live_table
            .iter()
            .filter(|(_, v)| v.conn == Some(conn))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Names of broker groups in `cluster` that list `addr`: the groups a live entry stands for.
    /// Membership is by the cluster's name set and by `BrokerData.cluster`, so a group that
    /// registered under a second cluster name is still found (Java only checks the latter).
    pub(crate) fn groups_referencing(&self, cluster: &str, addr: &str) -> Vec<String> {
        let in_set = self.cluster_addr_table.get(cluster);
        self.broker_addr_table
            .iter()
            .filter(|(name, bd)| {
                (bd.cluster == cluster || in_set.is_some_and(|s| s.contains(*name)))
                    && bd.broker_addrs.values().any(|a| a == addr)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    // --- invariants -----------------------------------------------------------------------------

    /// The tables' invariants, checked by the unit tests, the simulator and the fuzzer after
    /// every step. Returns the first violation found.
    pub fn check_invariants(&self) -> Result<(), String> {
        let indexed: usize = self.topic_queue_table.values().map(Table::len).sum();
        let in_index: usize = self.group_topics.values().map(Set::len).sum();
        if indexed != in_index || indexed != self.queue_entries {
            return Err(format!(
                "{indexed} queue data, {in_index} in the group index, {} counted",
                self.queue_entries
            ));
        }
        if let Some((name, _)) = self.group_topics.iter().find(|(_, t)| t.is_empty()) {
            return Err(format!("group {name} indexed with no topics"));
        }
        for (topic, qdm) in &self.topic_queue_table {
            if qdm.is_empty() {
                return Err(format!("topic {topic} has no queue data"));
            }
            for name in qdm.keys() {
                if !self
                    .group_topics
                    .get(name)
                    .is_some_and(|topics| topics.contains(topic))
                {
                    return Err(format!("queue data {name}/{topic} missing from the index"));
                }
            }
            for (name, qd) in qdm {
                if &qd.broker_name != name {
                    return Err(format!(
                        "topic {topic}: queue data keyed {name} names {}",
                        qd.broker_name
                    ));
                }
            }
        }
        for (cluster, names) in &self.cluster_addr_table {
            if names.is_empty() {
                return Err(format!("cluster {cluster} has no brokers"));
            }
            for n in names {
                if !self.broker_addr_table.contains_key(n) {
                    return Err(format!("cluster {cluster} lists unknown broker {n}"));
                }
            }
        }
        for (name, bd) in &self.broker_addr_table {
            if bd.broker_addrs.is_empty() {
                return Err(format!("broker group {name} has no addresses"));
            }
            if !self.cluster_addr_table.values().any(|s| s.contains(name)) {
                return Err(format!("broker group {name} is in no cluster"));
            }
            for addr in bd.broker_addrs.values() {
                let live = self.broker_live_table.keys().any(|k| {
                    k.addr == *addr
                        && (bd.cluster == k.cluster
                            || self
                                .cluster_addr_table
                                .get(&k.cluster)
                                .is_some_and(|s| s.contains(name)))
                });
                if !live {
                    return Err(format!("broker {name} address {addr} has no live entry"));
                }
            }
            let mut seen = BTreeSet::new();
            for addr in bd.broker_addrs.values() {
                if !seen.insert(addr) {
                    return Err(format!("broker {name} lists address {addr} under two ids"));
                }
            }
        }
        for key in self.broker_live_table.keys() {
            if self.groups_referencing(&key.cluster, &key.addr).is_empty() {
                return Err(format!("orphan live entry {}@{}", key.addr, key.cluster));
            }
        }
        for key in self.filter_server_table.keys() {
            if !self.broker_live_table.contains_key(key) {
                return Err(format!(
                    "filter servers for {}@{} without a live entry",
                    key.addr, key.cluster
                ));
            }
        }
        if self.deadlines.len() != self.broker_live_table.len() {
            return Err("expiry queue and live table differ in size".into());
        }
        for (k, v) in &self.broker_live_table {
            if !self.deadlines.contains_key(&(v.deadline(), k.clone())) {
                return Err(format!(
                    "live entry {}@{} missing from the expiry queue",
                    k.addr, k.cluster
                ));
            }
        }
        for (topic, m) in &self.topic_queue_mapping_info_table {
            for bname in m.keys() {
                if !self.broker_addr_table.contains_key(bname) {
                    return Err(format!(
                        "static mapping of {topic} names unknown broker {bname}"
                    ));
                }
            }
        }
        Ok(())
    }
}
