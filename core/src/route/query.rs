//! Read-only queries (spec §3.6–3.7, §2.7–2.12). All take `&self`, so a shell can serve them
//! from many tasks at once under a read lock.

use std::collections::BTreeMap;

use super::{perm, BrokerAddrInfo, RouteInfo, MASTER_ID};
use crate::protocol::bodies::{BrokerData, ClusterInfo, TopicRouteData};

/// Prefix of the topics acting-master brokers use to sync member groups; never rewritten.
pub const SYNC_BROKER_MEMBER_GROUP_PREFIX: &str = "rmq_sys_SYNC_BROKER_MEMBER_";

impl RouteInfo {
    /// `pickupTopicRouteData`. `None` when the topic is unknown or none of its groups exist.
    pub fn pickup_topic_route_data(
        &self,
        topic: &str,
        support_acting_master: bool,
    ) -> Option<TopicRouteData> {
        let qdm = self.topic_queue_table.get(topic)?;
        let mut route = TopicRouteData {
            queue_datas: qdm.values().cloned().collect(),
            ..Default::default()
        };
        for name in qdm.keys() {
            let Some(bd) = self.broker_addr_table.get(name) else {
                continue;
            };
            if !self.filter_server_table.is_empty() {
                for addr in bd.broker_addrs.values() {
                    if let Some(servers) = self
                        .filter_server_table
                        .get(&BrokerAddrInfo::new(&bd.cluster, addr))
                    {
                        route
                            .filter_server_table
                            .insert(addr.clone(), servers.clone());
                    }
                }
            }
            route.broker_datas.push(bd.clone());
        }
        if route.broker_datas.is_empty() {
            return None;
        }
        route.topic_queue_mapping_by_broker =
            self.topic_queue_mapping_info_table.get(topic).cloned();

        if support_acting_master
            && !topic.starts_with(SYNC_BROKER_MEMBER_GROUP_PREFIX)
            && !route.queue_datas.is_empty()
        {
            let need_acting = route
                .broker_datas
                .iter()
                .any(|bd| !bd.broker_addrs.is_empty() && !bd.broker_addrs.contains_key(&MASTER_ID));
            if need_acting {
                for bd in route.broker_datas.iter_mut() {
                    if bd.broker_addrs.is_empty()
                        || bd.broker_addrs.contains_key(&MASTER_ID)
                        || !bd.enable_acting_master
                    {
                        continue;
                    }
                    let writable = route
                        .queue_datas
                        .iter()
                        .find(|qd| qd.broker_name == bd.broker_name)
                        .is_some_and(|qd| qd.perm & perm::WRITE != 0);
                    if !writable {
                        // The surviving slave with the lowest id is shown as master, read-only.
                        if let Some((_, addr)) = bd.broker_addrs.pop_first() {
                            bd.broker_addrs.insert(MASTER_ID, addr);
                        }
                    }
                }
            }
        }
        Some(route)
    }

    /// `getAllClusterInfo`.
    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            broker_addr_table: self
                .broker_addr_table
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            cluster_addr_table: self
                .cluster_addr_table
                .iter()
                .map(|(c, names)| (c.clone(), names.iter().cloned().collect()))
                .collect(),
        }
    }

    /// `getAllTopicList`: every topic, system and retry topics included.
    pub fn all_topics(&self) -> impl Iterator<Item = &str> {
        self.topic_queue_table.keys().map(String::as_str)
    }

    /// `getTopicsByCluster`: topics with queue data on any group of the cluster; unknown → empty.
    pub fn topics_by_cluster(&self, cluster: &str) -> Vec<&str> {
        let Some(names) = self.cluster_addr_table.get(cluster) else {
            return Vec::new();
        };
        self.topic_queue_table
            .iter()
            .filter(|(_, qdm)| qdm.keys().any(|n| names.contains(n)))
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// `getSystemTopicList`: cluster and broker names, plus one broker address to ask for more.
    pub fn system_topics(&self) -> (Vec<&str>, Option<&str>) {
        let mut topics = Vec::new();
        for (cluster, names) in &self.cluster_addr_table {
            topics.push(cluster.as_str());
            topics.extend(names.iter().map(String::as_str));
        }
        let addr = self
            .broker_addr_table
            .values()
            .find_map(|bd| bd.broker_addrs.values().next().map(String::as_str));
        (topics, addr)
    }

    /// Unit topic lists (311–313): judged by each topic's first queue data.
    pub fn unit_topics(&self, pred: impl Fn(i32) -> bool) -> Vec<&str> {
        self.topic_queue_table
            .iter()
            .filter(|(_, qdm)| {
                qdm.values()
                    .next()
                    .is_some_and(|qd| pred(qd.topic_sys_flag))
            })
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// `getBrokerMemberGroup`: the group's addresses, or none if the name is unknown.
    pub fn broker_member_group(&self, name: &str) -> BTreeMap<i64, String> {
        self.broker_addr_table
            .get(name)
            .map(|bd| bd.broker_addrs.clone())
            .unwrap_or_default()
    }
}

/// `ZoneRouteRPCHook`: keeps groups without a master or in the caller's zone; drops the queue
/// data and filter servers of the others.
pub fn filter_by_zone(route: &mut TopicRouteData, zone: &str) {
    let mut removed: Vec<BrokerData> = Vec::new();
    route.broker_datas.retain(|bd| {
        let keep = !bd.broker_addrs.contains_key(&MASTER_ID)
            || bd
                .zone_name
                .as_deref()
                .is_some_and(|z| z.eq_ignore_ascii_case(zone));
        if !keep {
            removed.push(bd.clone());
        }
        keep
    });
    route
        .queue_datas
        .retain(|qd| !removed.iter().any(|bd| bd.broker_name == qd.broker_name));
    for bd in &removed {
        for addr in bd.broker_addrs.values() {
            route.filter_server_table.remove(addr);
        }
    }
}
