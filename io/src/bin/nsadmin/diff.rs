//! What compareNamesrv compares, and how: pure functions over what each NameServer answered.
//!
//! - brokers (from GET_BROKER_CLUSTER_INFO), by broker name: its cluster and its address of
//!   every broker id;
//! - topics (from GET_ALL_TOPIC_LIST_FROM_NAMESERVER): listed or not;
//! - routes (GET_ROUTEINFO_BY_TOPIC of every topic any of them lists), by broker name: read
//!   and write queue counts, perm, topicSysFlag, the master's address (id 0) and the address
//!   of every other id. A route is compared among the NameServers that list the topic or
//!   have a route for it; one that lists it but answers TOPIC_NOT_EXIST differs in `route`.

use std::collections::{BTreeMap, BTreeSet};

use namesrv_core::protocol::bodies::{ClusterInfo, TopicRouteData};
use serde_json::Value;

/// A route as compared: per broker name, its queues and its addresses.
pub type RouteView = BTreeMap<String, BrokerView>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerView {
    /// (read queues, write queues, perm, topicSysFlag) of its queue data, if it has one.
    pub queues: Option<(i32, i32, i32, i32)>,
    /// Broker id -> address of its broker data, if it has one.
    pub addrs: Option<BTreeMap<i64, String>>,
}

pub fn route_view(route: &TopicRouteData) -> RouteView {
    let mut view = RouteView::new();
    for qd in &route.queue_datas {
        view.entry(qd.broker_name.clone()).or_default().queues = Some((
            qd.read_queue_nums,
            qd.write_queue_nums,
            qd.perm,
            qd.topic_sys_flag,
        ));
    }
    for bd in &route.broker_datas {
        view.entry(bd.broker_name.clone()).or_default().addrs = Some(bd.broker_addrs.clone());
    }
    view
}

/// One NameServer's answer about one topic's route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteState {
    Route(RouteView),
    /// TOPIC_NOT_EXIST.
    Absent,
    /// Any other reply, or one that cannot be decoded: left out of the comparison.
    Error(String),
}

/// What one reachable NameServer said.
pub struct Snapshot {
    pub cluster: ClusterInfo,
    pub topics: BTreeSet<String>,
    /// Topic -> its route state, for every topic of the union.
    pub routes: BTreeMap<String, RouteState>,
}

/// One difference: a fact and what each compared NameServer says about it. `values` has one
/// entry per reachable NameServer, in order: `None` where that one is not compared (no route
/// to compare), `Some(Value::Null)` where it has nothing (no such broker, queue or id).
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    pub topic: Option<String>,
    pub broker: Option<String>,
    pub field: String,
    pub values: Vec<Option<Value>>,
}

/// Everything that differs.
#[derive(Default, Debug)]
pub struct Differences {
    pub brokers: Vec<Diff>,
    pub topics: Vec<Diff>,
    pub routes: Vec<Diff>,
}

impl Differences {
    pub fn is_empty(&self) -> bool {
        self.brokers.is_empty() && self.topics.is_empty() && self.routes.is_empty()
    }

    /// How many distinct brokers, topics and topics' routes differ.
    pub fn counts(&self) -> (usize, usize, usize) {
        let distinct = |ds: &[Diff], key: fn(&Diff) -> Option<&String>| {
            ds.iter().filter_map(key).collect::<BTreeSet<_>>().len()
        };
        (
            distinct(&self.brokers, |d| d.broker.as_ref()),
            self.topics.len(),
            distinct(&self.routes, |d| d.topic.as_ref()),
        )
    }
}

/// Pushes a diff when the compared values are not all equal.
fn push_if_differs(
    out: &mut Vec<Diff>,
    topic: Option<&str>,
    broker: Option<&str>,
    field: String,
    values: Vec<Option<Value>>,
) {
    let mut compared = values.iter().flatten();
    let Some(first) = compared.next() else { return };
    if compared.all(|v| v == first) {
        return;
    }
    out.push(Diff {
        topic: topic.map(str::to_owned),
        broker: broker.map(str::to_owned),
        field,
        values,
    });
}

/// The address fields of a broker: `master` for id 0, `addr[<id>]` for the others.
fn addr_field(id: i64) -> String {
    if id == 0 {
        "master".into()
    } else {
        format!("addr[{id}]")
    }
}

fn addr_value(addrs: Option<&BTreeMap<i64, String>>, id: i64) -> Value {
    addrs
        .and_then(|a| a.get(&id))
        .map_or(Value::Null, |a| Value::from(a.as_str()))
}

fn brokers(snaps: &[&Snapshot], out: &mut Vec<Diff>) {
    let names: BTreeSet<&String> = snaps
        .iter()
        .flat_map(|s| s.cluster.broker_addr_table.keys())
        .collect();
    for name in names {
        let bds: Vec<_> = snaps
            .iter()
            .map(|s| s.cluster.broker_addr_table.get(name))
            .collect();
        let cluster = bds
            .iter()
            .map(|bd| Some(bd.map_or(Value::Null, |bd| Value::from(bd.cluster.as_str()))))
            .collect();
        push_if_differs(out, None, Some(name), "cluster".into(), cluster);
        let ids: BTreeSet<i64> = bds
            .iter()
            .flatten()
            .flat_map(|bd| bd.broker_addrs.keys().copied())
            .collect();
        for id in ids {
            let values = bds
                .iter()
                .map(|bd| Some(addr_value(bd.map(|bd| &bd.broker_addrs), id)))
                .collect();
            push_if_differs(out, None, Some(name), addr_field(id), values);
        }
    }
}

fn routes(topic: &str, snaps: &[&Snapshot], out: &mut Vec<Diff>) {
    // The states compared: of the NameServers that list the topic or have a route for it.
    let states: Vec<Option<&RouteState>> = snaps
        .iter()
        .map(|s| match s.routes.get(topic) {
            Some(RouteState::Error(_)) | None => None,
            Some(r @ RouteState::Route(_)) => Some(r),
            Some(r @ RouteState::Absent) => s.topics.contains(topic).then_some(r),
        })
        .collect();
    let presence = states
        .iter()
        .map(|s| s.map(|s| Value::Bool(matches!(s, RouteState::Route(_)))))
        .collect();
    push_if_differs(out, Some(topic), None, "route".into(), presence);
    let views: Vec<Option<&RouteView>> = states
        .iter()
        .map(|s| match s {
            Some(RouteState::Route(v)) => Some(v),
            _ => None,
        })
        .collect();
    let names: BTreeSet<&String> = views.iter().flatten().flat_map(|v| v.keys()).collect();
    for name in names {
        let bvs: Vec<Option<Option<&BrokerView>>> =
            views.iter().map(|v| v.map(|v| v.get(name))).collect();
        let queue_field = |field: &str, pick: fn(&(i32, i32, i32, i32)) -> i32| {
            let values = bvs
                .iter()
                .map(|bv| {
                    bv.map(|bv| {
                        bv.and_then(|b| b.queues.as_ref())
                            .map_or(Value::Null, |q| Value::from(pick(q)))
                    })
                })
                .collect();
            (field.to_owned(), values)
        };
        for (field, values) in [
            queue_field("readQueueNums", |q| q.0),
            queue_field("writeQueueNums", |q| q.1),
            queue_field("perm", |q| q.2),
            queue_field("topicSysFlag", |q| q.3),
        ] {
            push_if_differs(out, Some(topic), Some(name), field, values);
        }
        let mut ids: BTreeSet<i64> = bvs
            .iter()
            .flatten()
            .flatten()
            .filter_map(|b| b.addrs.as_ref())
            .flat_map(|a| a.keys().copied())
            .collect();
        ids.insert(0); // the master: a group without one differs from one with one
        for id in ids {
            let values = bvs
                .iter()
                .map(|bv| bv.map(|bv| addr_value(bv.and_then(|b| b.addrs.as_ref()), id)))
                .collect();
            push_if_differs(out, Some(topic), Some(name), addr_field(id), values);
        }
    }
}

/// Compares the snapshots (at least two for anything to differ).
pub fn compare(snaps: &[&Snapshot]) -> Differences {
    let mut d = Differences::default();
    brokers(snaps, &mut d.brokers);
    let topics: BTreeSet<&String> = snaps.iter().flat_map(|s| &s.topics).collect();
    for topic in &topics {
        let listed = snaps
            .iter()
            .map(|s| Some(Value::Bool(s.topics.contains(*topic))))
            .collect();
        push_if_differs(&mut d.topics, Some(topic), None, "listed".into(), listed);
    }
    // Routes of topics no one lists are compared too (a route without a listing).
    let mut all: BTreeSet<&String> = topics;
    all.extend(snaps.iter().flat_map(|s| s.routes.keys()));
    for topic in all {
        routes(topic, snaps, &mut d.routes);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use namesrv_core::protocol::bodies::{BrokerData, QueueData};

    fn bd(name: &str, addrs: &[(i64, &str)]) -> BrokerData {
        BrokerData {
            cluster: "C".into(),
            broker_name: name.into(),
            broker_addrs: addrs.iter().map(|(i, a)| (*i, a.to_string())).collect(),
            zone_name: None,
            enable_acting_master: false,
        }
    }

    fn route(perm: i32, master: &str) -> RouteState {
        RouteState::Route(route_view(&TopicRouteData {
            order_topic_conf: None,
            queue_datas: vec![QueueData {
                broker_name: "B".into(),
                read_queue_nums: 8,
                write_queue_nums: 8,
                perm,
                topic_sys_flag: 0,
            }],
            broker_datas: vec![bd("B", &[(0, master)])],
            filter_server_table: BTreeMap::new(),
            topic_queue_mapping_by_broker: None,
        }))
    }

    fn snap(brokers: &[BrokerData], topics: &[(&str, RouteState)]) -> Snapshot {
        Snapshot {
            cluster: ClusterInfo {
                broker_addr_table: brokers
                    .iter()
                    .map(|b| (b.broker_name.clone(), b.clone()))
                    .collect(),
                cluster_addr_table: BTreeMap::new(),
            },
            topics: topics
                .iter()
                .filter(|(_, r)| *r != RouteState::Absent)
                .map(|(t, _)| t.to_string())
                .collect(),
            routes: topics
                .iter()
                .map(|(t, r)| (t.to_string(), r.clone()))
                .collect(),
        }
    }

    #[test]
    fn equal_snapshots_agree() {
        let a = snap(&[bd("B", &[(0, "x:1")])], &[("T", route(6, "x:1"))]);
        let b = snap(&[bd("B", &[(0, "x:1")])], &[("T", route(6, "x:1"))]);
        assert!(compare(&[&a, &b]).is_empty());
    }

    #[test]
    fn brokers_topics_and_routes_that_differ() {
        let a = snap(
            &[bd("B", &[(0, "x:1")]), bd("X", &[(0, "y:1")])],
            &[("T", route(6, "x:1")), ("U", route(6, "x:1"))],
        );
        let b = snap(
            &[bd("B", &[(0, "x:1")])],
            &[("T", route(4, "z:1")), ("U", RouteState::Absent)],
        );
        let d = compare(&[&a, &b]);
        assert_eq!(d.counts(), (1, 1, 1), "{d:?}");
        assert_eq!(d.brokers.len(), 2); // X's cluster and master
        assert_eq!(d.brokers[0].broker.as_deref(), Some("X"));
        assert_eq!(d.brokers[0].values[1], Some(Value::Null));
        let fields: Vec<&str> = d.routes.iter().map(|r| r.field.as_str()).collect();
        assert_eq!(fields, ["perm", "master"]);
        assert_eq!(d.routes[0].values, [Some(6.into()), Some(4.into())]);
        // U: listed on a only; b's TOPIC_NOT_EXIST is the same fact, not a route difference.
        assert_eq!(d.topics[0].topic.as_deref(), Some("U"));
    }

    #[test]
    fn listed_without_a_route_differs_in_route() {
        let a = snap(&[], &[("T", route(6, "x:1"))]);
        let mut b = snap(&[], &[("T", RouteState::Absent)]);
        b.topics.insert("T".into());
        let d = compare(&[&a, &b]);
        assert!(d.topics.is_empty());
        assert_eq!(d.routes.len(), 1, "{d:?}");
        assert_eq!(d.routes[0].field, "route");
    }

    #[test]
    fn errors_are_left_out() {
        let a = snap(&[], &[("T", route(6, "x:1"))]);
        let b = snap(&[], &[("T", RouteState::Error("boom".into()))]);
        let d = compare(&[&a, &b]);
        assert!(d.routes.is_empty(), "{d:?}");
    }
}
