//! compareNamesrv: asks every NameServer for its cluster info, its topic list and the route
//! of every topic any of them lists, and reports what differs (see `diff` for what is
//! compared, `report` for how it is shown).
//!
//! Each NameServer gets one connection with up to `--inFlight` route requests in flight
//! (pipelined, replies matched by opaque), and its own thread, so the NameServers are asked
//! concurrently. A NameServer that cannot be reached, or refuses the cluster info or topic
//! list, is reported and left out; the others are still compared.
//!
//! Exit: 0 all agree; 1 they differ (or a reply was an error); 4 one is unreachable (and the
//! others agree); 2 fewer than two addresses. As elsewhere in nsadmin, 1 wins over 4.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use namesrv_core::protocol::bodies::{decode_topic_list, ClusterInfo, TopicRouteData};
use namesrv_core::protocol::{request, response, RemotingCommand};

use crate::client::{reply_failure, reply_text, Ctx, Failure, Outcome};
use crate::diff::{compare, route_view, RouteState, Snapshot};
use crate::pipeline::Pipeline;
use crate::queries::{body, decode_failure};
use crate::report::{report, Server};

/// More topics than this and the progress of the route requests is shown on stderr.
const PROGRESS_ABOVE: usize = 300;

/// Cluster info and topic list of one NameServer, and the connection to ask for routes on.
fn first_look(ctx: &Ctx, addr: &str) -> Result<(Pipeline, ClusterInfo, Vec<String>), Failure> {
    let mut conn =
        Pipeline::connect(addr, ctx.timeout, &ctx.transport).map_err(Failure::from_call)?;
    let cmds = [
        ctx.signed(&RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO)),
        ctx.signed(&RemotingCommand::request(
            request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
        )),
    ];
    let mut replies: [Option<RemotingCommand>; 2] = [None, None];
    conn.run(cmds, 2, |i, reply| {
        if let Some(slot) = replies.get_mut(i) {
            *slot = Some(reply);
        }
    })
    .map_err(Failure::from_call)?;
    let [Some(cluster), Some(topics)] = replies else {
        return Err(Failure::error(format!("{addr}: a reply is missing")));
    };
    for reply in [&cluster, &topics] {
        if reply.code != response::SUCCESS {
            return Err(reply_failure(addr, reply));
        }
    }
    let info = ClusterInfo::decode(body(addr, &cluster)?)
        .map_err(|e| decode_failure(addr, "cluster info", e))?;
    let topics = match topics.body.as_deref() {
        Some(b) => decode_topic_list(b).map_err(|e| decode_failure(addr, "topic list", e))?,
        None => Vec::new(),
    };
    Ok((conn, info, topics))
}

fn route_request(ctx: &Ctx, topic: &str) -> RemotingCommand {
    ctx.signed(
        &RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
            .with_ext("topic", topic)
            .with_ext("acceptStandardJsonOnly", "true"),
    )
}

fn route_state(reply: &RemotingCommand) -> RouteState {
    match reply.code {
        response::SUCCESS => match reply.body.as_deref().map(TopicRouteData::decode) {
            Some(Ok(route)) => RouteState::Route(route_view(&route)),
            Some(Err(e)) => RouteState::Error(format!("cannot decode the route: {e}")),
            None => RouteState::Error("the reply has no body".into()),
        },
        response::TOPIC_NOT_EXIST => RouteState::Absent,
        _ => RouteState::Error(reply_text(reply)),
    }
}

/// The route of every topic of `topics` on one NameServer.
fn all_routes(
    ctx: &Ctx,
    conn: &mut Pipeline,
    topics: &[&String],
    in_flight: usize,
    done: &AtomicUsize,
) -> Result<BTreeMap<String, RouteState>, Failure> {
    let mut states: Vec<Option<RouteState>> = vec![None; topics.len()];
    let cmds = topics.iter().map(|t| route_request(ctx, t));
    conn.run(cmds, in_flight, |i, reply| {
        if let Some(slot) = states.get_mut(i) {
            *slot = Some(route_state(&reply));
        }
        done.fetch_add(1, Ordering::Relaxed);
    })
    .map_err(Failure::from_call)?;
    Ok(topics
        .iter()
        .zip(states)
        .map(|(t, s)| {
            let s = s.unwrap_or_else(|| RouteState::Error("no reply".into()));
            ((*t).clone(), s)
        })
        .collect())
}

/// Runs `work` for every item on its own thread; while they run, reports `done` of `total`
/// on stderr about once a second when `show` is set.
fn concurrently<T, R, F>(items: Vec<T>, show: Option<(&AtomicUsize, usize)>, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| scope.spawn(move || work(item)))
            .collect();
        let mut last = Instant::now();
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            if let Some((done, total)) = show {
                if last.elapsed() >= Duration::from_secs(1) {
                    last = Instant::now();
                    let n = done.load(Ordering::Relaxed);
                    eprintln!("nsadmin: compareNamesrv: {n}/{total} routes");
                }
            }
        }
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                // A panic in a worker is a bug; pass it on rather than hide it.
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect()
    })
}

pub fn compare_namesrv(ctx: &Ctx, in_flight: usize) -> Result<(), Failure> {
    let mut addrs: Vec<String> = Vec::new();
    for a in &ctx.addrs {
        if !addrs.contains(a) {
            addrs.push(a.clone());
        }
    }
    if addrs.len() < 2 {
        return Err(Failure {
            outcome: Outcome::Usage,
            message: format!(
                "compareNamesrv needs two NameServer addresses or more (-n 'a:9876;b:9876'), got {}",
                addrs.len()
            ),
        });
    }

    // Cluster info and topic list of every NameServer.
    let looks = concurrently(addrs.clone(), None, |a| first_look(ctx, &a));
    let mut failed: BTreeMap<usize, Failure> = BTreeMap::new();
    let mut reached = Vec::new();
    for (i, look) in looks.into_iter().enumerate() {
        match look {
            Ok((conn, info, topics)) => reached.push((i, conn, info, topics)),
            Err(f) => {
                failed.insert(i, f);
            }
        }
    }

    // The route of every topic any of them lists, from each.
    let union: BTreeSet<String> = reached
        .iter()
        .flat_map(|(_, _, _, topics)| topics.iter().cloned())
        .collect();
    let union: Vec<&String> = union.iter().collect();
    // Only one reached: nothing to compare it with, so no routes to ask for.
    let alone = reached.len() < 2;
    let done = AtomicUsize::new(0);
    let total = union.len() * reached.len();
    let show = (union.len() > PROGRESS_ABOVE && !alone).then_some((&done, total));
    if show.is_some() {
        eprintln!(
            "nsadmin: compareNamesrv: asking {} NameServers for the routes of {} topics",
            reached.len(),
            union.len()
        );
    }
    let results = concurrently(reached, show, |(i, mut conn, cluster, topics)| {
        let routes = if alone {
            Ok(BTreeMap::new())
        } else {
            all_routes(ctx, &mut conn, &union, in_flight, &done)
        };
        (i, cluster, topics, routes)
    });

    let mut snapshots: BTreeMap<usize, Snapshot> = BTreeMap::new();
    for (i, cluster, topics, routes) in results {
        match routes {
            Ok(routes) => {
                let topics = topics.into_iter().collect();
                snapshots.insert(
                    i,
                    Snapshot {
                        cluster,
                        topics,
                        routes,
                    },
                );
            }
            Err(f) => {
                failed.insert(i, f);
            }
        }
    }

    let compared: Vec<&Snapshot> = snapshots.values().collect();
    let differences = compare(&compared);
    let servers: Vec<Server> = addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| Server {
            addr,
            snapshot: snapshots.get(&i),
            failure: failed.get(&i),
        })
        .collect();
    report(ctx.json, &servers, &differences)
}
