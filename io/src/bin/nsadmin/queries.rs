//! Read-only subcommands: clusterList, topicList, topicRoute, getKvList.

use std::collections::BTreeMap;

use namesrv_core::codec::fastjson::Dialect;
use namesrv_core::protocol::bodies::{
    decode_kv_table, decode_topic_list, BrokerData, ClusterInfo, TopicRouteData,
};
use namesrv_core::protocol::{request, RemotingCommand};
use serde_json::json;

use crate::client::{Ctx, Failure, Outcome};
use crate::output::{header, perm_text, print_json, print_table, standard_json};

pub fn body<'a>(addr: &str, reply: &'a RemotingCommand) -> Result<&'a [u8], Failure> {
    reply
        .body
        .as_deref()
        .ok_or_else(|| Failure::error(format!("{addr}: the reply has no body")))
}

pub fn decode_failure(addr: &str, what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::error(format!("{addr}: cannot decode the {what}: {e}"))
}

pub fn cluster_info(ctx: &Ctx) -> Result<ClusterInfo, Failure> {
    let (addr, reply) = ctx.query(&RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO))?;
    ClusterInfo::decode(body(&addr, &reply)?).map_err(|e| decode_failure(&addr, "cluster info", e))
}

pub fn broker_rows(bd: &BrokerData) -> Vec<Vec<String>> {
    bd.broker_addrs
        .iter()
        .map(|(id, addr)| {
            vec![
                bd.cluster.clone(),
                bd.broker_name.clone(),
                id.to_string(),
                addr.clone(),
                bd.zone_name.clone().unwrap_or_else(|| "-".into()),
                bd.enable_acting_master.to_string(),
            ]
        })
        .collect()
}

pub fn cluster_list(ctx: &Ctx, only: Option<&str>) -> Result<(), Failure> {
    let mut info = cluster_info(ctx)?;
    if let Some(c) = only {
        let names = info.cluster_addr_table.remove(c).ok_or_else(|| Failure {
            outcome: Outcome::NotFound,
            message: format!("cluster {c} not found"),
        })?;
        info.broker_addr_table.retain(|n, _| names.contains(n));
        info.cluster_addr_table = BTreeMap::from([(c.to_owned(), names)]);
    }
    if ctx.json {
        print_json(&standard_json(&info.encode(Dialect::Standard))?);
        return Ok(());
    }
    let mut rows = vec![header(&[
        "Cluster Name",
        "Broker Name",
        "BID",
        "Addr",
        "Zone",
        "Acting Master",
    ])];
    let mut listed = std::collections::BTreeSet::new();
    for (cluster, names) in &info.cluster_addr_table {
        let mut names = names.clone();
        names.sort();
        for name in names {
            match info.broker_addr_table.get(&name) {
                Some(bd) => {
                    listed.insert(name.clone());
                    let mut bd = bd.clone();
                    bd.cluster.clone_from(cluster);
                    rows.extend(broker_rows(&bd));
                }
                None => rows.push(vec![
                    cluster.clone(),
                    name,
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]),
            }
        }
    }
    // Groups no cluster lists (should not happen, but show rather than hide them).
    for (name, bd) in &info.broker_addr_table {
        if !listed.contains(name) {
            rows.extend(broker_rows(bd));
        }
    }
    print_table(&rows);
    Ok(())
}

pub fn topics_of(ctx: &Ctx, cmd: RemotingCommand) -> Result<Vec<String>, Failure> {
    let (addr, reply) = ctx.query(&cmd)?;
    let mut topics = match reply.body.as_deref() {
        Some(b) => decode_topic_list(b).map_err(|e| decode_failure(&addr, "topic list", e))?,
        None => Vec::new(),
    };
    topics.sort();
    topics.dedup();
    Ok(topics)
}

pub fn topics_by_cluster(ctx: &Ctx, cluster: &str) -> Result<Vec<String>, Failure> {
    topics_of(
        ctx,
        RemotingCommand::request(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", cluster),
    )
}

pub fn topic_list(ctx: &Ctx, cluster: Option<&str>) -> Result<(), Failure> {
    match cluster {
        None => {
            let topics = topics_of(
                ctx,
                RemotingCommand::request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
            )?;
            if ctx.json {
                print_json(&json!({ "topicList": topics }));
            } else {
                for t in topics {
                    outln!("{t}");
                }
            }
        }
        Some("") => {
            let info = cluster_info(ctx)?;
            let mut by_cluster = BTreeMap::new();
            for cluster in info.cluster_addr_table.keys() {
                by_cluster.insert(cluster.clone(), topics_by_cluster(ctx, cluster)?);
            }
            if ctx.json {
                print_json(&json!({ "clusters": by_cluster }));
            } else {
                let mut rows = vec![header(&["Cluster Name", "Topic"])];
                for (cluster, topics) in by_cluster {
                    for t in topics {
                        rows.push(vec![cluster.clone(), t]);
                    }
                }
                print_table(&rows);
            }
        }
        Some(c) => {
            let topics = topics_by_cluster(ctx, c)?;
            if ctx.json {
                print_json(&json!({ "cluster": c, "topicList": topics }));
            } else {
                for t in topics {
                    outln!("{t}");
                }
            }
        }
    }
    Ok(())
}

pub fn topic_route(ctx: &Ctx, topic: &str) -> Result<(), Failure> {
    let cmd = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
        .with_ext("topic", topic)
        .with_ext("acceptStandardJsonOnly", "true");
    let (addr, reply) = ctx.query(&cmd)?;
    let mut route = TopicRouteData::decode(body(&addr, &reply)?)
        .map_err(|e| decode_failure(&addr, "route", e))?;
    route
        .broker_datas
        .sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    route
        .queue_datas
        .sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    if ctx.json {
        print_json(&standard_json(&route.encode(Dialect::Standard))?);
        return Ok(());
    }
    let mut rows = vec![header(&[
        "Cluster Name",
        "Broker Name",
        "BID",
        "Addr",
        "Zone",
        "Acting Master",
    ])];
    for bd in &route.broker_datas {
        rows.extend(broker_rows(bd));
    }
    print_table(&rows);
    outln!();
    let mut rows = vec![header(&[
        "Broker Name",
        "Read Queues",
        "Write Queues",
        "Perm",
        "Sys Flag",
    ])];
    for qd in &route.queue_datas {
        rows.push(vec![
            qd.broker_name.clone(),
            qd.read_queue_nums.to_string(),
            qd.write_queue_nums.to_string(),
            perm_text(qd.perm),
            qd.topic_sys_flag.to_string(),
        ]);
    }
    print_table(&rows);
    if let Some(conf) = &route.order_topic_conf {
        outln!("\norderTopicConf: {conf}");
    }
    if let Some(m) = &route.topic_queue_mapping_by_broker {
        outln!(
            "\nstatic topic mappings for: {}",
            m.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

pub fn get_kv_list(ctx: &Ctx, namespace: &str) -> Result<(), Failure> {
    let cmd =
        RemotingCommand::request(request::GET_KVLIST_BY_NAMESPACE).with_ext("namespace", namespace);
    let (addr, reply) = ctx.query(&cmd)?;
    let table = match reply.body.as_deref() {
        Some(b) => decode_kv_table(b).map_err(|e| decode_failure(&addr, "KV table", e))?,
        None => BTreeMap::new(),
    };
    if ctx.json {
        print_json(&json!({ "table": table }));
    } else {
        let mut rows = vec![header(&["Key", "Value"])];
        rows.extend(table.into_iter().map(|(k, v)| vec![k, v]));
        print_table(&rows);
    }
    Ok(())
}
