//! The reference model: what the NameServer must hold and answer, written from the spec
//! (§2, §3.3), independently of the core's code. The simulator updates it beside every input
//! and compares whole replies against its predictions.

use std::collections::{BTreeMap, BTreeSet};

use namesrv_core::protocol::bodies::{BrokerData, DataVersion, QueueData, TopicConfig};

/// `PermName.PERM_WRITE`.
pub(crate) const PERM_WRITE: i32 = 2;

/// One simulated broker process: a fixed (cluster, group, id, address), its own topic configs
/// and DataVersion, and what the model believes the NameServer holds of it.
#[derive(Clone, Debug)]
pub(crate) struct Broker {
    pub(crate) cluster: String,
    pub(crate) name: String,
    pub(crate) id: i64,
    pub(crate) addr: String,
    /// The broker's own topic configs (they change, with or without a DataVersion bump).
    pub(crate) topics: Vec<TopicConfig>,
    pub(crate) timeout_ms: Option<i64>,
    /// The group's `enableActingMaster` (5.x brokers send it on every registration).
    pub(crate) acting_master: bool,
    /// The broker's own DataVersion.
    pub(crate) dv: DataVersion,
    // --- what the NameServer holds of it ---------------------------------------------------
    /// Its address is in its group (a live entry exists).
    pub(crate) alive: bool,
    pub(crate) last_heartbeat: u64,
    /// The connection its last registration came on.
    pub(crate) conn: Option<u64>,
    /// The DataVersion of its live entry.
    pub(crate) live_dv: Option<DataVersion>,
}

impl Broker {
    pub(crate) fn deadline(&self) -> u64 {
        self.last_heartbeat + self.timeout_ms.map_or(120_000, |t| t as u64)
    }
}

/// What the reference model believes, besides the brokers.
#[derive(Default, Debug)]
pub(crate) struct Model {
    /// `topicQueueTable` by group: group → topic → queue data.
    pub(crate) queues: BTreeMap<String, BTreeMap<String, QueueData>>,
    /// The KV store in memory, and as the last successful persist wrote it.
    pub(crate) kv: BTreeMap<String, BTreeMap<String, String>>,
    pub(crate) disk_kv: BTreeMap<String, BTreeMap<String, String>>,
    /// Accepted UPDATE_NAMESRV_CONFIG keys in memory, and as last persisted.
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) disk_config: BTreeMap<String, String>,
}

/// The registration's effect on the queue data (spec §3.3 steps 8–9), for broker `b` of
/// `brokers` registering its topic configs with DataVersion `dv`; called before `b` is marked
/// alive. `register_first`: its id had no address in the group. With `delete_missing`
/// (`deleteTopicWithBrokerRegistration`), the group's topics the broker no longer lists go.
pub(crate) fn apply_registration(
    model: &mut Model,
    brokers: &[Broker],
    b: &Broker,
    dv: DataVersion,
    delete_missing: bool,
) {
    let register_first = !b.alive;
    let dv_changed = b.live_dv != Some(dv);
    let min_id = brokers
        .iter()
        .filter(|x| x.name == b.name && (x.alive || x.id == b.id))
        .map(|x| x.id)
        .min();
    let is_master = b.id == 0;
    let prime_slave = !is_master && min_id == Some(b.id);
    if !(is_master || prime_slave) {
        return;
    }
    let group = model.queues.entry(b.name.clone()).or_default();
    if delete_missing {
        group.retain(|topic, _| b.topics.iter().any(|tc| &tc.topic_name == topic));
    }
    for tc in &b.topics {
        if register_first || dv_changed || !group.contains_key(&tc.topic_name) {
            let perm = if prime_slave && b.acting_master {
                tc.perm & !PERM_WRITE
            } else {
                tc.perm
            };
            group.insert(
                tc.topic_name.clone(),
                QueueData {
                    broker_name: b.name.clone(),
                    read_queue_nums: tc.read_queue_nums,
                    write_queue_nums: tc.write_queue_nums,
                    perm,
                    topic_sys_flag: tc.topic_sys_flag,
                },
            );
        }
    }
}

/// The group's BrokerData as cluster info and routes show it, if the group exists.
pub(crate) fn broker_data(brokers: &[Broker], name: &str) -> Option<BrokerData> {
    let members: Vec<&Broker> = brokers
        .iter()
        .filter(|b| b.alive && b.name == name)
        .collect();
    let first = members.first()?;
    Some(BrokerData {
        cluster: first.cluster.clone(),
        broker_name: name.to_owned(),
        broker_addrs: members.iter().map(|b| (b.id, b.addr.clone())).collect(),
        zone_name: None,
        enable_acting_master: first.acting_master,
    })
}

/// Groups with a live member, by cluster.
pub(crate) fn clusters(brokers: &[Broker]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in brokers.iter().filter(|b| b.alive) {
        out.entry(b.cluster.clone())
            .or_default()
            .insert(b.name.clone());
    }
    out
}

/// A topic's route as GET_ROUTEINFO_BY_TOPIC must answer it: queue data by group name, the
/// groups' broker data, and (with `supportActingMaster`) a masterless group whose queue data is
/// not writable shows its lowest-id member as master (spec §2.2).
pub(crate) fn route(
    model: &Model,
    brokers: &[Broker],
    topic: &str,
    support_acting_master: bool,
) -> Option<(Vec<QueueData>, Vec<BrokerData>)> {
    let queues: Vec<QueueData> = model
        .queues
        .values()
        .filter_map(|g| g.get(topic).cloned())
        .collect();
    let mut datas: Vec<BrokerData> = queues
        .iter()
        .filter_map(|q| broker_data(brokers, &q.broker_name))
        .collect();
    if datas.is_empty() {
        return None;
    }
    let masterless =
        |d: &BrokerData| !d.broker_addrs.is_empty() && !d.broker_addrs.contains_key(&0);
    if support_acting_master && datas.iter().any(masterless) {
        for d in datas.iter_mut() {
            let writable = queues
                .iter()
                .find(|q| q.broker_name == d.broker_name)
                .is_some_and(|q| q.perm & PERM_WRITE != 0);
            if masterless(d) && d.enable_acting_master && !writable {
                if let Some((_, addr)) = d.broker_addrs.pop_first() {
                    d.broker_addrs.insert(0, addr);
                }
            }
        }
    }
    Some((queues, datas))
}
