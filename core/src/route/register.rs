//! `registerBroker` (spec §3.3) and `registerTopic` (§2.14).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    perm, AppliedBody, BodyPrint, BrokerAddrInfo, BrokerLiveInfo, ConnId, Millis,
    MinBrokerIdChange, RemovalCause, RouteEvent, RouteInfo, Set, DEFAULT_HEARTBEAT_TIMEOUT_MS,
    MASTER_ID,
};
use crate::protocol::bodies::{
    BrokerData, DataVersion, QueueData, TopicConfig, TopicConfigWrapper,
};

/// Everything `registerBroker` takes.
#[derive(Clone, Debug)]
pub struct RegisterArgs<'a> {
    /// `clusterName`: the cluster the broker registers under.
    pub cluster: &'a str,
    /// `brokerAddr`: the broker's `host:port` for clients.
    pub addr: &'a str,
    /// `brokerName`: the broker's group.
    pub name: &'a str,
    /// `brokerId`: 0 for the master, above 0 for slaves.
    pub id: i64,
    /// `haServerAddr`: the broker's HA address.
    pub ha_addr: &'a str,
    /// `zoneName` (the `__ZONE_NAME` ext key): the group's zone.
    pub zone_name: Option<&'a str>,
    /// `heartbeatTimeoutMillis`; `None` or non-positive means the 120 s default.
    pub timeout_ms: Option<i64>,
    /// `None`: a pre-5.x broker.
    pub enable_acting_master: Option<bool>,
    /// What the body gave.
    pub body: RegisterBody<'a>,
    /// The connection the registration came in on; its close will remove the broker.
    pub conn: Option<ConnId>,
}

/// A registration's body, decoded or known unchanged.
#[derive(Clone, Copy, Debug)]
pub enum RegisterBody<'a> {
    /// Decoded: its topics and DataVersion are applied as spec §3.3 says.
    Decoded {
        /// The broker's topic configs and data version.
        wrapper: &'a TopicConfigWrapper,
        /// `None`: leave the filter-server table alone (legacy bodies).
        filter_server_list: Option<&'a [String]>,
        /// The print of the bytes it was decoded from.
        print: BodyPrint,
    },
    /// Not decoded: [`RouteInfo::registration_unchanged`] just said it is the body this
    /// broker's topics were last applied from and that applying it again changes nothing it
    /// says (see [`super::unchanged`]); the header is applied as usual.
    Unchanged,
}

/// The result of a registration that was not refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterOutcome {
    /// Returned to slaves: the master's HA address and address.
    pub ha_server_addr: Option<String>,
    /// `masterAddr`: the group's master address, for a slave whose master is live.
    pub master_addr: Option<String>,
    /// A NOTIFY_MIN_BROKER_ID_CHANGE to send, with `notifyMinBrokerIdChanged`.
    pub notify: Option<MinBrokerIdChange>,
    /// What happened, for logs and metrics.
    pub events: Vec<RouteEvent>,
}

/// Settings `registerBroker` reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterSettings {
    /// `deleteTopicWithBrokerRegistration`: drop the group's topics that a registering master
    /// (or prime slave) no longer lists.
    pub delete_topic_with_broker_registration: bool,
    /// `notifyMinBrokerIdChanged`: produce a [`MinBrokerIdChange`] when a lower id registers.
    pub notify_min_broker_id_changed: bool,
}

impl RouteInfo {
    /// `RouteInfoManager.registerBroker`. `Err(())` is the single-topic guard's refusal
    /// (→ SYSTEM_ERROR "register broker failed").
    ///
    /// Deliberate deviations (README "Deviations"): the guard and the state-version fence are
    /// checked before anything is written, so a refused registration leaves no half-made broker
    /// group behind; an address displaced from its id loses its live entry (no orphans).
    // The only refusal is the single-topic guard, which carries no detail (clippy's
    // result_unit_err would otherwise fail `-D warnings`).
    #[allow(clippy::result_unit_err)]
    pub fn register_broker(
        &mut self,
        a: &RegisterArgs<'_>,
        settings: RegisterSettings,
        now: Millis,
    ) -> Result<RegisterOutcome, ()> {
        let mut out = RegisterOutcome::default();
        let key = BrokerAddrInfo::new(a.cluster, a.addr);
        // An unchanged body is the one the live entry's version came from.
        let (dv, topic_count, kept) = match a.body {
            RegisterBody::Decoded { wrapper, .. } => {
                (wrapper.data_version, wrapper.topic_configs.len(), None)
            }
            RegisterBody::Unchanged => {
                let live = self.broker_live_table.get(&key);
                let kept = live.and_then(|l| l.applied.clone());
                debug_assert!(kept.is_some(), "an unchanged body of an unknown broker");
                (
                    live.map(|l| l.data_version).unwrap_or_default(),
                    kept.as_ref().map_or(0, |k| k.topics),
                    kept,
                )
            }
        };

        // Step 7 (checked first): a single-topic registration from an id the group does not know
        // is an incremental registration racing the first full one (apache/rocketmq#4522).
        let knows_id = self
            .broker_addr_table
            .get(a.name)
            .is_some_and(|bd| bd.broker_addrs.contains_key(&a.id));
        if !knows_id && topic_count == 1 {
            return Err(());
        }

        // Step 6 (checked first): state-version fencing against the current holder of the id.
        if let Some(old_addr) = self
            .broker_addr_table
            .get(a.name)
            .and_then(|bd| bd.broker_addrs.get(&a.id))
            .filter(|old| old.as_str() != a.addr)
        {
            let holder = BrokerAddrInfo::new(a.cluster, old_addr);
            if let Some(live) = self.broker_live_table.get(&holder) {
                if live.data_version.state_version > dv.state_version {
                    // The fenced address leaves this group and, if nothing else lists it, the live table.
                    let removed = self.remove_addr_from_group(a.name, a.addr);
                    self.gc_live_for_addr(a.addr);
                    self.clean_topics_after_removal(&removed);
                    out.events.push(RouteEvent::BrokerRemoved {
                        cluster: a.cluster.to_owned(),
                        broker_addr: a.addr.to_owned(),
                        broker_names: vec![a.name.to_owned()],
                        cause: RemovalCause::Fenced,
                    });
                    return Ok(out);
                }
            }
        }

        // Step 1.
        // Tables are changed only where something changed: an unchanged table keeps its
        // version, so cached route bodies stay valid across plain re-registrations.
        if !self
            .cluster_addr_table
            .get(a.cluster)
            .is_some_and(|names| names.contains(a.name))
        {
            self.cluster_addr_table
                .get_or_insert_with(a.cluster.to_owned(), Set::new)
                .insert(a.name.to_owned());
        }

        // Step 2: the group; its cluster is fixed at first registration.
        let mut register_first = false;
        let stored = self.broker_addr_table.get(a.name);
        let mut group = match stored {
            Some(bd) => bd.clone(),
            None => {
                register_first = true;
                BrokerData {
                    cluster: a.cluster.to_owned(),
                    broker_name: a.name.to_owned(),
                    broker_addrs: BTreeMap::new(),
                    zone_name: None,
                    enable_acting_master: false,
                }
            }
        };
        let bd = &mut group;

        // Step 3: last writer wins, for every member.
        let is_old_version_broker = a.enable_acting_master.is_none();
        bd.enable_acting_master = a.enable_acting_master.unwrap_or(false);
        bd.zone_name = a.zone_name.map(str::to_owned);

        // Step 4.
        let prev_min = bd.broker_addrs.keys().next().copied().unwrap_or(0);
        let is_min_broker_id_changed = !bd.broker_addrs.is_empty() && a.id < prev_min
            || bd.broker_addrs.is_empty() && a.id < 0;

        // Step 5: one address, one id (the slave → master switch).
        bd.broker_addrs.retain(|k, v| !(v == a.addr && *k != a.id));

        // Step 8.
        let old_addr = bd.broker_addrs.insert(a.id, a.addr.to_owned());
        register_first |= old_addr.as_deref().is_none_or(str::is_empty);
        let is_master = a.id == MASTER_ID;
        let min_id = bd.broker_addrs.keys().next().copied().unwrap_or(a.id);
        let is_prime_slave = !is_old_version_broker && !is_master && a.id == min_id;
        let acting_master = bd.enable_acting_master;
        let group_addrs = bd.broker_addrs.clone();
        if self.broker_addr_table.get(a.name) != Some(&group) {
            self.broker_addr_table.insert(a.name.to_owned(), group);
        }

        if let Some(displaced) = old_addr.filter(|o| !o.is_empty() && o != a.addr) {
            // Java leaves the displaced address's live entry behind forever (spec §3.5).
            if self.gc_live_for_addr(&displaced) {
                out.events.push(RouteEvent::BrokerRemoved {
                    cluster: a.cluster.to_owned(),
                    broker_addr: displaced,
                    broker_names: vec![a.name.to_owned()],
                    cause: RemovalCause::Displaced,
                });
            }
        }

        // Step 9: topic configs from the master or the prime slave (an unchanged body has
        // nothing to apply: every topic it lists has the group's queue data, and with its
        // version unchanged none is updated and no mapping applied).
        let dv_changed = self
            .broker_live_table
            .get(&key)
            .is_none_or(|l| l.data_version != dv);
        let decoded = match a.body {
            RegisterBody::Decoded { wrapper, print, .. } => Some((wrapper, print)),
            RegisterBody::Unchanged => None,
        };
        // What the live entry will remember: this body if its topics are applied now (or were,
        // unchanged), else nothing, as the general path would.
        let applies = is_master || is_prime_slave;
        let mut applied = if decoded.is_none() && applies {
            kept
        } else {
            None
        };
        if let Some((wrapper, print)) = decoded.filter(|_| applies) {
            if settings.delete_topic_with_broker_registration && wrapper.mapping_infos.is_empty() {
                let keep: std::collections::BTreeSet<&str> = wrapper
                    .topic_configs
                    .iter()
                    .map(|tc| tc.topic_name.as_str())
                    .collect();
                for topic in self.topics_of(a.name) {
                    if !keep.contains(topic.as_str()) {
                        self.drop_queue_data(&topic, a.name);
                    }
                }
            }
            // A nameless topic config makes Apache throw an NPE here, leaving the registration
            // half-applied (no live entry) yet answered SUCCESS; we skip it and apply the rest.
            // The topics new to the group join the group index together, after the loop.
            let mut new_topics: Vec<&str> = Vec::new();
            for tc in wrapper
                .topic_configs
                .iter()
                .filter(|tc| !tc.topic_name.is_empty())
            {
                // Applied when the registration is new or its version changed, and in any case
                // where the group is missing from the topic.
                let mut perm = tc.perm;
                if is_prime_slave && acting_master {
                    perm &= !perm::WRITE;
                }
                if self.create_and_update_queue_data(a.name, tc, perm, register_first || dv_changed)
                {
                    new_topics.push(&tc.topic_name);
                }
            }
            self.index_new_topics(a.name, new_topics);
            if dv_changed || register_first {
                for (topic, info) in &wrapper.mapping_infos {
                    let bname = info
                        .get("bname")
                        .and_then(Value::as_str)
                        .unwrap_or(a.name)
                        .to_owned();
                    // Only mappings of a known group are kept, so they can be cleaned with it.
                    let same = self
                        .topic_queue_mapping_info_table
                        .get(topic)
                        .and_then(|m| m.get(&bname))
                        == Some(info);
                    if !same && self.broker_addr_table.contains_key(&bname) {
                        self.topic_queue_mapping_info_table
                            .get_or_insert_with(topic.clone(), BTreeMap::new)
                            .insert(bname, info.clone());
                    }
                }
            }
            // Counted after the loop: the deletions above (with deleteTopicWithBrokerRegistration,
            // which never takes the unchanged path) are this body's own doing.
            applied = Some(AppliedBody {
                print,
                group: a.name.to_owned(),
                topics: topic_count,
                removals: self.queue_removals,
            });
        }

        // Step 10. The registration is owned by the newest connection it arrived on. Connection
        // ids grow with accept order, so a frame delayed on an older connection (the broker timed
        // out, reconnected and re-registered, then the old frame and the old connection's close
        // arrive) cannot hand ownership back to the old connection, whose close would then wipe
        // a healthy broker (found by the madsim harness, seed 3; Java has the same flaw).
        let conn = match (
            self.broker_live_table.get(&key).and_then(|l| l.conn),
            a.conn,
        ) {
            (Some(owner), Some(this)) => Some(owner.max(this)),
            (owner, this) => this.or(owner),
        };
        let timeout_ms = a
            .timeout_ms
            .and_then(|t| Millis::try_from(t).ok())
            .filter(|t| *t > 0)
            .unwrap_or(DEFAULT_HEARTBEAT_TIMEOUT_MS);
        self.set_live(
            key.clone(),
            BrokerLiveInfo {
                last_update: now,
                timeout_ms,
                data_version: dv,
                conn,
                ha_server_addr: a.ha_addr.to_owned(),
                applied,
            },
        );

        // Step 11.
        // (An unchanged body's list is the one stored.)
        let filter_server_list = match a.body {
            RegisterBody::Decoded {
                filter_server_list, ..
            } => filter_server_list,
            RegisterBody::Unchanged => None,
        };
        if let Some(list) = filter_server_list {
            if list.is_empty() {
                self.filter_server_table.remove(&key);
            } else {
                self.filter_server_table.insert(key.clone(), list.to_vec());
            }
        }

        // Step 12: slaves learn their master.
        if a.id != MASTER_ID {
            if let Some(master_addr) = group_addrs.get(&MASTER_ID) {
                if let Some(master) = self
                    .broker_live_table
                    .get(&BrokerAddrInfo::new(a.cluster, master_addr))
                {
                    out.ha_server_addr = Some(master.ha_server_addr.clone());
                    out.master_addr = Some(master_addr.clone());
                }
            }
        }

        // Step 13.
        if is_min_broker_id_changed && settings.notify_min_broker_id_changed {
            out.notify = min_id_change(&group_addrs, None, Some(a.ha_addr));
        }

        out.events.push(RouteEvent::BrokerRegistered {
            cluster: a.cluster.to_owned(),
            broker_name: a.name.to_owned(),
            broker_addr: a.addr.to_owned(),
            broker_id: a.id,
            first: register_first,
        });
        Ok(out)
    }

    /// `createAndUpdateQueueData`, with `perm` in place of the config's: creates the group's
    /// entry for the topic if missing, else updates it when `update_existing`. One lookup of
    /// the topic (these maps hold every topic, and registrations carry hundreds), and an
    /// existing entry is updated in place, so re-registrations allocate nothing per topic.
    /// Whether the group is new to the topic: the caller adds those to the group index.
    fn create_and_update_queue_data(
        &mut self,
        broker_name: &str,
        tc: &TopicConfig,
        perm: i32,
        update_existing: bool,
    ) -> bool {
        let fresh = || QueueData {
            broker_name: broker_name.to_owned(),
            read_queue_nums: tc.read_queue_nums,
            write_queue_nums: tc.write_queue_nums,
            perm,
            topic_sys_flag: tc.topic_sys_flag,
        };
        // Compared before taken for change: an unchanged topic is not copied.
        if let Some(qd) = self
            .topic_queue_table
            .get(tc.topic_name.as_str())
            .and_then(|qdm| qdm.get(broker_name))
        {
            if !update_existing
                || (qd.read_queue_nums == tc.read_queue_nums
                    && qd.write_queue_nums == tc.write_queue_nums
                    && qd.perm == perm
                    && qd.topic_sys_flag == tc.topic_sys_flag)
            {
                return false;
            }
        }
        // An existing entry reaching here is to be updated (the look above returned otherwise).
        self.put_queue_entry(&tc.topic_name, fresh())
    }

    /// `registerTopic` (REGISTER_TOPIC_IN_NAMESRV). Apache's partial application on an existing
    /// topic is kept: entries before the first unknown broker stay applied.
    pub fn register_topic(&mut self, topic: &str, queue_datas: &[QueueData]) {
        if queue_datas.is_empty() {
            return;
        }
        let known = |qd: &QueueData| self.broker_addr_table.contains_key(&qd.broker_name);
        if self.topic_queue_table.contains_key(topic) {
            // Applied in order up to the first unknown broker (Apache's partial application).
            let applied: Vec<QueueData> = queue_datas
                .iter()
                .take_while(|qd| known(qd))
                .cloned()
                .collect();
            for qd in applied {
                self.put_queue_data(topic, qd);
            }
        } else if queue_datas.iter().all(known) {
            for qd in queue_datas {
                self.put_queue_data(topic, qd.clone());
            }
        }
    }

    /// `isBrokerTopicConfigChanged`: true when unknown or when the stored version differs.
    pub fn is_broker_topic_config_changed(
        &self,
        cluster: &str,
        addr: &str,
        dv: Option<&DataVersion>,
    ) -> bool {
        match (
            self.broker_live_table
                .get(&BrokerAddrInfo::new(cluster, addr)),
            dv,
        ) {
            (Some(live), Some(dv)) => live.data_version != *dv,
            _ => true,
        }
    }

    /// `queryBrokerTopicConfig`: the stored data version of a live broker.
    pub fn query_broker_topic_config(&self, cluster: &str, addr: &str) -> Option<DataVersion> {
        self.broker_live_table
            .get(&BrokerAddrInfo::new(cluster, addr))
            .map(|l| l.data_version)
    }
}

/// Targets and fields of NOTIFY_MIN_BROKER_ID_CHANGE for a group's address map (spec §3.9).
pub(crate) fn min_id_change(
    addrs: &BTreeMap<i64, String>,
    offline: Option<&str>,
    ha: Option<&str>,
) -> Option<MinBrokerIdChange> {
    let (&min_id, min_addr) = addrs.iter().next()?;
    let targets = if offline.is_some() || addrs.len() == 1 {
        addrs.values().cloned().collect()
    } else {
        addrs
            .iter()
            .filter(|(id, _)| **id != min_id)
            .map(|(_, a)| a.clone())
            .collect()
    };
    Some(MinBrokerIdChange {
        targets,
        min_broker_id: min_id,
        min_broker_addr: min_addr.clone(),
        offline_broker_addr: offline.map(str::to_owned),
        ha_broker_addr: ha.filter(|h| !h.is_empty()).map(str::to_owned),
    })
}
