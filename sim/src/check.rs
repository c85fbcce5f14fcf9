//! After every step: the core's own invariants, the simulator's independent table invariants,
//! and whole replies compared with the model's predictions (106, 105 for every topic, 206,
//! 224, 901, 219, 319), plus the simulated disk against what the model says was persisted.

use std::collections::{BTreeMap, BTreeSet};

use namesrv_core::codec::fastjson;
use namesrv_core::config::parse_properties;
use namesrv_core::kv::KvConfig;
use namesrv_core::protocol::bodies::{
    decode_kv_table, decode_topic_list, BrokerData, ClusterInfo, TopicRouteData,
};
use namesrv_core::protocol::{request, response, RemotingCommand};

use crate::model::{broker_data, clusters, route};
use crate::sim::{Sim, ACCEPTED_KEYS, REFUSED_KEYS};

impl Sim {
    fn ask(&mut self, cmd: RemotingCommand) -> Result<RemotingCommand, String> {
        let code = cmd.code;
        self.call(1, cmd).ok_or(format!("no reply to {code}"))
    }

    pub(crate) fn check(&mut self) -> Result<(), String> {
        self.ns.check_invariants()?;
        self.check_tables()?;
        if let Some(m) = self.view_mismatch.take() {
            return Err(m);
        }
        if self.ns.view().needs_tick(self.now) {
            return Err("a deadline at or before now is still pending".into());
        }
        self.check_cluster_info()?;
        self.check_expiry()?;
        self.check_routes()?;
        self.check_topic_lists()?;
        // The KV store, the config and the disk change only through the steps that mark them
        // (a KV or config write, a persist, a restart): checked after those.
        if std::mem::take(&mut self.store_dirty) {
            self.check_kv()?;
            self.check_config()?;
        }
        Ok(())
    }

    /// The tables' shape, checked here rather than trusted to the core's own check: every
    /// queue data names an existing group, every live entry belongs to a known group's
    /// address, no cluster or group is empty.
    fn check_tables(&self) -> Result<(), String> {
        let r = self.ns.route();
        for (topic, groups) in r.topic_queue_table().iter() {
            for g in groups.keys() {
                if r.broker_addr_table().get(g).is_none() {
                    return Err(format!("topic {topic} has queue data of unknown group {g}"));
                }
            }
        }
        for (key, _) in r.broker_live_table().iter() {
            let known = r
                .broker_addr_table()
                .values()
                .any(|bd| bd.broker_addrs.values().any(|a| *a == key.addr));
            if !known {
                return Err(format!(
                    "live entry {}@{} in no group",
                    key.addr, key.cluster
                ));
            }
        }
        for (cluster, names) in r.cluster_addr_table().iter() {
            if names.is_empty() {
                return Err(format!("empty cluster {cluster}"));
            }
        }
        for (name, bd) in r.broker_addr_table().iter() {
            if bd.broker_addrs.is_empty() {
                return Err(format!("empty group {name}"));
            }
        }
        Ok(())
    }

    /// 106, whole: every group's BrokerData and every cluster's groups.
    fn check_cluster_info(&mut self) -> Result<(), String> {
        let reply = self.ask(RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO))?;
        let info =
            ClusterInfo::decode(reply.body.as_deref().unwrap_or_default()).map_err(|e| e.0)?;
        let want_clusters = clusters(&self.brokers);
        let want: BTreeMap<String, BrokerData> = want_clusters
            .values()
            .flatten()
            .filter_map(|g| broker_data(&self.brokers, g).map(|d| (g.clone(), d)))
            .collect();
        if info.broker_addr_table != want {
            return Err(format!(
                "cluster info brokers\n  got   {:?}\n  model {want:?}",
                info.broker_addr_table
            ));
        }
        let got_clusters: BTreeMap<String, BTreeSet<String>> = info
            .cluster_addr_table
            .iter()
            .map(|(c, names)| (c.clone(), names.iter().cloned().collect()))
            .collect();
        if got_clusters != want_clusters {
            return Err(format!(
                "cluster info clusters\n  got   {:?}\n  model {want_clusters:?}",
                info.cluster_addr_table
            ));
        }
        // 901 for every group, known or not.
        let groups: BTreeSet<String> = self.brokers.iter().map(|b| b.name.clone()).collect();
        for g in groups {
            let cluster = self
                .brokers
                .iter()
                .find(|b| b.name == g)
                .map(|b| b.cluster.clone())
                .unwrap_or_default();
            let r = self.ask(
                RemotingCommand::request(request::GET_BROKER_MEMBER_GROUP)
                    .with_ext("clusterName", cluster)
                    .with_ext("brokerName", g.clone()),
            )?;
            let v = fastjson::parse(r.body.as_deref().unwrap_or_default())
                .map_err(|e| format!("901 body: {e}"))?;
            let got: BTreeMap<i64, String> = v
                .get("brokerMemberGroup")
                .and_then(|m| m.get("brokerAddrs"))
                .and_then(|a| a.as_object())
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            let want = broker_data(&self.brokers, &g)
                .map(|d| d.broker_addrs)
                .unwrap_or_default();
            if got != want {
                return Err(format!("901 of {g}: got {got:?}, model {want:?}"));
            }
        }
        Ok(())
    }

    /// Expiry is exact: nobody alive in the model is past its deadline, and vice versa.
    fn check_expiry(&self) -> Result<(), String> {
        for b in self.brokers.iter().filter(|b| b.alive) {
            let live = self
                .ns
                .route()
                .broker_live_table()
                .iter()
                .find(|(k, _)| k.addr == b.addr);
            match live {
                Some((_, l))
                    if l.deadline() == b.deadline() && Some(l.data_version) == b.live_dv => {}
                other => {
                    return Err(format!(
                        "{} live entry {:?}, model deadline {} dv {:?}",
                        b.addr,
                        other.map(|x| x.1),
                        b.deadline(),
                        b.live_dv
                    ))
                }
            }
        }
        Ok(())
    }

    /// 105 for every topic any broker has (and one nobody has): the whole route.
    fn check_routes(&mut self) -> Result<(), String> {
        let mut topics: BTreeSet<String> = BTreeSet::new();
        for b in &self.brokers {
            topics.extend(b.topics.iter().map(|t| t.topic_name.clone()));
        }
        for g in self.model.queues.values() {
            topics.extend(g.keys().cloned());
        }
        topics.insert("T-none".into());
        let acting = self.ns.view().config().support_acting_master;
        for t in topics {
            let want = route(&self.model, &self.brokers, &t, acting);
            let r = self.ask(
                RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
                    .with_ext("topic", t.clone()),
            )?;
            let got = if r.code == response::SUCCESS {
                let route = TopicRouteData::decode(r.body.as_deref().unwrap_or_default())
                    .map_err(|e| e.0)?;
                if route.order_topic_conf.is_some() || !route.filter_server_table.is_empty() {
                    return Err(format!(
                        "route of {t} has order conf or filter servers: {route:?}"
                    ));
                }
                Some((route.queue_datas, route.broker_datas))
            } else if r.code == response::TOPIC_NOT_EXIST {
                None
            } else {
                return Err(format!("route of {t} answered {} {:?}", r.code, r.remark));
            };
            if got != want {
                return Err(format!("route of {t}\n  got   {got:?}\n  model {want:?}"));
            }
        }
        Ok(())
    }

    /// 206 (every topic with queue data) and 224 (a cluster's topics), as sets.
    fn check_topic_lists(&mut self) -> Result<(), String> {
        let all: BTreeSet<String> = self
            .model
            .queues
            .values()
            .flatten()
            .map(|(t, _)| t.clone())
            .collect();
        let r = self.ask(RemotingCommand::request(
            request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
        ))?;
        let got: BTreeSet<String> = decode_topic_list(r.body.as_deref().unwrap_or_default())
            .map_err(|e| e.0)?
            .into_iter()
            .collect();
        if got != all {
            return Err(format!("206: got {got:?}, model {all:?}"));
        }
        let by_cluster = clusters(&self.brokers);
        for c in ["C0", "C1", "C2"] {
            let want: BTreeSet<String> = by_cluster
                .get(c)
                .into_iter()
                .flatten()
                .filter_map(|g| self.model.queues.get(g))
                .flat_map(|t| t.keys().cloned())
                .collect();
            let r = self.ask(
                RemotingCommand::request(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", c),
            )?;
            let got: BTreeSet<String> = decode_topic_list(r.body.as_deref().unwrap_or_default())
                .map_err(|e| e.0)?
                .into_iter()
                .collect();
            if got != want {
                return Err(format!("224 of {c}: got {got:?}, model {want:?}"));
            }
        }
        Ok(())
    }

    /// 219 for every namespace, and the KV file on the disk: exactly what was last persisted.
    fn check_kv(&mut self) -> Result<(), String> {
        for (ns, table) in self.model.kv.clone() {
            let r = self.ask(
                RemotingCommand::request(request::GET_KVLIST_BY_NAMESPACE)
                    .with_ext("namespace", ns.clone()),
            )?;
            let got = decode_kv_table(r.body.as_deref().unwrap_or_default()).map_err(|e| e.0)?;
            if got != table {
                return Err(format!("KV namespace {ns}: got {got:?}, model {table:?}"));
            }
        }
        let disk = match &self.disk_kv {
            Some(text) => KvConfig::from_json(text.as_bytes())
                .map_err(|e| format!("the KV file does not load: {e:?}"))?
                .table()
                .clone(),
            None => BTreeMap::new(),
        };
        if disk != self.model.disk_kv {
            return Err(format!(
                "the KV file\n  holds {disk:?}\n  model {:?}",
                self.model.disk_kv
            ));
        }
        Ok(())
    }

    /// 319 and the config file: accepted updates hold (in memory and as last persisted),
    /// refused keys keep their defaults.
    fn check_config(&mut self) -> Result<(), String> {
        let r = self.ask(RemotingCommand::request(request::GET_NAMESRV_CONFIG))?;
        let text = String::from_utf8_lossy(r.body.as_deref().unwrap_or_default()).into_owned();
        let live: BTreeMap<String, String> = parse_properties(&text)?.into_iter().collect();
        let defaults = self.default_props.clone();
        let disk: Option<BTreeMap<String, String>> = match &self.disk_config {
            Some(t) => Some(parse_properties(t)?.into_iter().collect()),
            None => None,
        };
        for key in ACCEPTED_KEYS {
            let want = self.model.config.get(key).or(defaults.get(key));
            if live.get(key) != want {
                return Err(format!("config {key}: {:?}, model {want:?}", live.get(key)));
            }
            if let Some(disk) = &disk {
                let want = self.model.disk_config.get(key).or(defaults.get(key));
                if disk.get(key) != want {
                    return Err(format!(
                        "config file {key}: {:?}, model {want:?}",
                        disk.get(key)
                    ));
                }
            }
        }
        for key in REFUSED_KEYS {
            if live.get(key) != defaults.get(key) {
                return Err(format!("refused key {key} changed: {:?}", live.get(key)));
            }
            if let Some(disk) = &disk {
                if disk.get(key) != defaults.get(key) {
                    return Err(format!(
                        "refused key {key} in the file: {:?}",
                        disk.get(key)
                    ));
                }
            }
        }
        Ok(())
    }
}
