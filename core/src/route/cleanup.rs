//! Removal paths (spec §3.4–3.5, §2.9, §2.13): UNREGISTER_BROKER, connection close and expiry
//! all end in `RouteInfo::remove_addr_from_group` and `RouteInfo::clean_topics_after_removal`.
//!
//! Java queues unregisters and executes them later with no freshness check, so a stale expiry or
//! channel-close can wipe a fresh re-registration (apache/rocketmq#11043). Here every removal runs
//! synchronously against the current tables: a connection close removes only live entries still
//! owned by that connection, and expiry only entries whose current deadline has passed.

use std::collections::BTreeSet;

use super::register::min_id_change;
use super::{
    perm, BrokerAddrInfo, MinBrokerIdChange, RemovalCause, RouteEvent, RouteInfo, MASTER_ID,
};

/// What a removal changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removal {
    /// Groups that lost their last address and are gone.
    pub removed: BTreeSet<String>,
    /// Groups that lost an address but remain.
    pub reduced: BTreeSet<String>,
    /// NOTIFY_MIN_BROKER_ID_CHANGE messages to send.
    pub notifies: Vec<MinBrokerIdChange>,
    /// What happened, for logs and metrics.
    pub events: Vec<RouteEvent>,
}

impl Removal {
    fn absorb(&mut self, other: Removal) {
        self.removed.extend(other.removed);
        self.reduced.extend(other.reduced);
        self.notifies.extend(other.notifies);
        self.events.extend(other.events);
    }
}

impl RouteInfo {
    /// Removes every id of `addr` from group `name` (apache/rocketmq#5374: by address, not id).
    /// Drops the group, and its name from every cluster, when it becomes empty. Does not touch
    /// topics; call [`Self::clean_topics_after_removal`] after.
    pub(crate) fn remove_addr_from_group(&mut self, name: &str, addr: &str) -> Removal {
        self.remove_addr_from_group_notifying(name, addr, None, false)
    }

    fn remove_addr_from_group_notifying(
        &mut self,
        name: &str,
        addr: &str,
        request_id: Option<i64>,
        notify_enabled: bool,
    ) -> Removal {
        let mut r = Removal::default();
        // Looked at before it is taken for change: a miss copies nothing.
        if !self
            .broker_addr_table
            .get(name)
            .is_some_and(|bd| bd.broker_addrs.values().any(|a| a == addr))
        {
            return r;
        }
        let Some(bd) = self.broker_addr_table.get_mut(name) else {
            return r;
        };
        let min_before = bd.broker_addrs.keys().next().copied();
        let removed_id = request_id.or_else(|| {
            bd.broker_addrs
                .iter()
                .find(|(_, a)| *a == addr)
                .map(|(k, _)| *k)
        });
        let is_min_changed = min_before.is_some() && removed_id == min_before;
        let before = bd.broker_addrs.len();
        bd.broker_addrs.retain(|_, a| a != addr);
        if bd.broker_addrs.len() == before {
            return r;
        }
        if bd.broker_addrs.is_empty() {
            self.broker_addr_table.remove(name);
            // Java removes the name from the request's cluster only; a group registered under
            // two cluster names would then dangle in the other.
            self.cluster_addr_table.update_where(
                |_, names| names.contains(name),
                |_, names| {
                    names.remove(name);
                },
            );
            self.cluster_addr_table.retain(|_, names| !names.is_empty());
            r.removed.insert(name.to_owned());
        } else {
            if is_min_changed && notify_enabled && bd.enable_acting_master {
                if let Some(n) = min_id_change(&bd.broker_addrs, Some(addr), None) {
                    r.notifies.push(n);
                }
            }
            r.reduced.insert(name.to_owned());
        }
        r
    }

    /// Removes live entries for `addr` that no group references any more. Returns whether any
    /// went. This is what keeps Java's orphan live entries (spec §3.5) from existing here.
    pub(crate) fn gc_live_for_addr(&mut self, addr: &str) -> bool {
        let keys: Vec<BrokerAddrInfo> = self
            .broker_live_table
            .keys()
            .filter(|k| k.addr == addr)
            .cloned()
            .collect();
        let mut any = false;
        for k in keys {
            if self.groups_referencing(&k.cluster, &k.addr).is_empty() {
                self.remove_live(&k);
                any = true;
            }
        }
        any
    }

    /// `cleanTopicByUnRegisterRequests`: removed groups lose their queue data (topics left with
    /// none are deleted) and their static-topic mappings (Java never cleans those); reduced
    /// acting-master groups without a master lose write permission.
    pub(crate) fn clean_topics_after_removal(&mut self, r: &Removal) {
        for name in &r.removed {
            self.drop_group_queue_data(name);
        }
        if !r.removed.is_empty() && !self.topic_queue_mapping_info_table.is_empty() {
            self.topic_queue_mapping_info_table.update_where(
                |_, m| names_in(m, &r.removed),
                |_, m| remove_names(m, &r.removed),
            );
            self.topic_queue_mapping_info_table
                .retain(|_, m| !m.is_empty());
        }
        for name in &r.reduced {
            let Some(bd) = self.broker_addr_table.get(name) else {
                continue;
            };
            if !bd.enable_acting_master || bd.broker_addrs.contains_key(&MASTER_ID) {
                continue;
            }
            self.update_perm(name, |p| p & !perm::WRITE);
        }
    }

    /// UNREGISTER_BROKER (spec §3.4), applied at once.
    pub fn unregister_broker(
        &mut self,
        cluster: &str,
        addr: &str,
        name: &str,
        id: i64,
        notify_enabled: bool,
    ) -> Removal {
        let mut r = self.remove_addr_from_group_notifying(name, addr, Some(id), notify_enabled);
        // Java removes the (cluster, addr) live entry unconditionally; we keep it while another
        // group still lists the address, so that group can still expire.
        let key = BrokerAddrInfo::new(cluster, addr);
        if self.groups_referencing(cluster, addr).is_empty() {
            self.remove_live(&key);
        }
        self.gc_live_for_addr(addr);
        self.clean_topics_after_removal(&r);
        r.events.push(RouteEvent::BrokerRemoved {
            cluster: cluster.to_owned(),
            broker_addr: addr.to_owned(),
            broker_names: vec![name.to_owned()],
            cause: RemovalCause::Unregistered,
        });
        r
    }

    /// `onChannelDestroy` for one live entry: expiry or connection close. Every group in the
    /// cluster listing the address loses it; the live entry goes even if no group lists it.
    pub fn remove_live_entry(
        &mut self,
        key: &BrokerAddrInfo,
        cause: RemovalCause,
        notify_enabled: bool,
    ) -> Removal {
        let mut total = Removal::default();
        let names = self.groups_referencing(&key.cluster, &key.addr);
        for name in &names {
            let id = self.broker_addr_table.get(name).and_then(|bd| {
                bd.broker_addrs
                    .iter()
                    .find(|(_, a)| **a == key.addr)
                    .map(|(k, _)| *k)
            });
            total.absorb(self.remove_addr_from_group_notifying(
                name,
                &key.addr,
                id,
                notify_enabled,
            ));
        }
        self.remove_live(key);
        self.gc_live_for_addr(&key.addr);
        self.clean_topics_after_removal(&total);
        total.events.push(RouteEvent::BrokerRemoved {
            cluster: key.cluster.clone(),
            broker_addr: key.addr.clone(),
            broker_names: names,
            cause,
        });
        total
    }

    /// WIPE_WRITE_PERM_OF_BROKER: counts every queue data of the group, changed or not.
    pub fn wipe_write_perm_of_broker(&mut self, name: &str) -> i32 {
        self.update_perm(name, |p| p & !perm::WRITE)
    }

    /// ADD_WRITE_PERM_OF_BROKER: perm becomes exactly READ|WRITE (Apache drops PRIORITY and INHERIT).
    pub fn add_write_perm_of_broker(&mut self, name: &str) -> i32 {
        self.update_perm(name, |_| perm::READ | perm::WRITE)
    }

    fn update_perm(&mut self, name: &str, f: impl Fn(i32) -> i32) -> i32 {
        // Every topic the group serves counts, changed or not (Apache's count); counted in the
        // same walk that picks the ones to change.
        let mut count = 0usize;
        for topic in self.topics_of(name) {
            count += 1;
            // Looked at before taken for change: an unchanged topic is not copied.
            let old = self
                .topic_queue_table
                .get(&topic)
                .and_then(|qdm| qdm.get(name))
                .map(|qd| qd.perm);
            if let Some(p) = old.filter(|p| f(*p) != *p) {
                if let Some(qd) = self
                    .topic_queue_table
                    .get_mut(&topic)
                    .and_then(|qdm| qdm.get_mut(name))
                {
                    qd.perm = f(p);
                }
            }
        }
        i32::try_from(count).unwrap_or(i32::MAX)
    }

    /// DELETE_TOPIC_IN_NAMESRV. With a cluster: only that cluster's groups lose the topic (an
    /// unknown cluster is a no-op). Static mappings go with the queue data (Java keeps them).
    pub fn delete_topic(&mut self, topic: &str, cluster: Option<&str>) {
        match cluster.filter(|c| !c.is_empty()) {
            Some(cluster) => {
                let Some(names) = self.cluster_addr_table.get(cluster) else {
                    return;
                };
                let names: Vec<String> = names.iter().cloned().collect();
                for name in &names {
                    self.drop_queue_data(topic, name);
                }
                let names: std::collections::BTreeSet<String> = names.into_iter().collect();
                if let Some(m) = self.topic_queue_mapping_info_table.get_mut(topic) {
                    m.retain(|n, _| !names.contains(n));
                    if m.is_empty() {
                        self.topic_queue_mapping_info_table.remove(topic);
                    }
                }
            }
            None => {
                let names: Vec<String> = self
                    .topic_queue_table
                    .get(topic)
                    .map(|qdm| qdm.keys().cloned().collect())
                    .unwrap_or_default();
                for name in &names {
                    self.drop_queue_data(topic, name);
                }
                self.topic_queue_mapping_info_table.remove(topic);
            }
        }
    }
}

/// Whether a per-topic map keyed by broker name holds any of `names`.
fn names_in<V>(
    m: &std::collections::BTreeMap<String, V>,
    names: &std::collections::BTreeSet<String>,
) -> bool {
    if names.len() <= 4 {
        names.iter().any(|n| m.contains_key(n.as_str()))
    } else {
        m.keys().any(|k| names.contains(k))
    }
}

/// Removes `names` from a per-topic map keyed by broker name. Usually one group goes at a
/// time: looking each name up is far cheaper than walking every topic's whole map (1,000
/// broker connections dropped at once spent most of their time there).
fn remove_names<V>(
    m: &mut std::collections::BTreeMap<String, V>,
    names: &std::collections::BTreeSet<String>,
) {
    if names.len() <= 4 {
        for name in names {
            m.remove(name.as_str());
        }
    } else {
        m.retain(|name, _| !names.contains(name));
    }
}
