//! The controller subcommands of mqadmin: getControllerMetaData, getSyncStateSet, electMaster
//! and cleanBrokerMetadata (getControllerConfig and updateControllerConfig are the per-address
//! patterns of `writes.rs`).
//!
//! `-a` lists controller addresses (the controller port, `controllerDLegerPeers`' port in
//! embedded mode, not the NameServer's). The leader-only requests (1006, 1002, 1011) first ask
//! the addresses in order for the leader (CONTROLLER_GET_METADATA_INFO) and then go to the
//! leader; a CONTROLLER_NOT_LEADER reply (a leader that has just changed) asks again, a few
//! times.

use std::collections::BTreeMap;
use std::time::Duration;

use namesrv_core::codec::fastjson;
use namesrv_core::controller::codes::{request as rq, response as rs};
use namesrv_core::protocol::{response, RemotingCommand};
use serde_json::{json, Map, Value};

use crate::client::{reply_failure, Ctx, Failure, Outcome};
use crate::output::{header, print_json, print_table};
use crate::queries::{body, cluster_info, decode_failure};
use crate::writes::{finish, write_result, Node};

/// Leader-only requests answered CONTROLLER_NOT_LEADER are sent this many times in all.
const LEADER_ATTEMPTS: u32 = 3;
const LEADER_RETRY_PAUSE: Duration = Duration::from_millis(300);

/// A CONTROLLER_GET_METADATA_INFO reply.
struct Metadata {
    group: Option<String>,
    leader_id: Option<String>,
    leader_addr: Option<String>,
    is_leader: bool,
    peers: Vec<String>,
}

impl Metadata {
    fn of(reply: &RemotingCommand) -> Self {
        let text = |k: &str| {
            reply
                .ext(k)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Metadata {
            group: text("group"),
            leader_id: text("controllerLeaderId"),
            leader_addr: text("controllerLeaderAddress"),
            is_leader: reply
                .ext("isLeader")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            peers: reply
                .ext("peers")
                .unwrap_or("")
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// An error reply to 1005, with a hint when the address is not a controller at all.
fn metadata_failure(addr: &str, reply: &RemotingCommand) -> Failure {
    let mut f = reply_failure(addr, reply);
    if reply.code == response::REQUEST_CODE_NOT_SUPPORTED {
        f.message.push_str(
            " (not a controller? -a takes the controller port, e.g. 9878, not the NameServer's)",
        );
    }
    f
}

/// Asks the `-a` addresses in order for the controller metadata: the first SUCCESS (naming a
/// leader, when `need_leader`). Otherwise the first error reply, else the worst call failure.
fn ask_metadata(ctx: &Ctx, need_leader: bool) -> Result<(String, Metadata), Failure> {
    let cmd = RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO);
    let mut first_reply: Option<Failure> = None;
    let mut first_error: Option<Failure> = None;
    let mut leaderless = Vec::new();
    for addr in &ctx.addrs {
        match ctx.call(addr, &cmd) {
            Ok(reply) if reply.code == response::SUCCESS => {
                let m = Metadata::of(&reply);
                if !need_leader || m.leader_addr.is_some() {
                    return Ok((addr.clone(), m));
                }
                leaderless.push(addr.clone());
            }
            Ok(reply) => {
                first_reply.get_or_insert_with(|| metadata_failure(addr, &reply));
            }
            Err(e) => {
                let f = Failure::from_call(e);
                if first_error.as_ref().is_none_or(|w| f.outcome > w.outcome) {
                    first_error = Some(f);
                }
            }
        }
    }
    if !leaderless.is_empty() {
        return Err(Failure::error(format!(
            "no controller leader known to {} (an election may be under way; try again)",
            leaderless.join(", ")
        )));
    }
    Err(first_reply
        .or(first_error)
        .unwrap_or_else(|| Failure::error("no controller address given")))
}

/// Sends a leader-only request to the leader; returns the leader's address and its reply.
fn leader_call(ctx: &Ctx, cmd: &RemotingCommand) -> Result<(String, RemotingCommand), Failure> {
    let mut attempt = 1;
    loop {
        let (asked, m) = ask_metadata(ctx, true)?;
        let leader = m.leader_addr.ok_or_else(|| {
            Failure::error(format!("{asked}: the reply names no controller leader"))
        })?;
        let reply = ctx.call(&leader, cmd).map_err(Failure::from_call)?;
        if reply.code == rs::CONTROLLER_NOT_LEADER && attempt < LEADER_ATTEMPTS {
            attempt += 1;
            std::thread::sleep(LEADER_RETRY_PAUSE);
            continue;
        }
        return Ok((leader, reply));
    }
}

fn now_millis() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        .to_string()
}

fn or_dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn kv(key: &str, value: String) -> Vec<String> {
    vec![format!("#{key}"), value]
}

/// A leader's answer to a write, as `write_result` shows it: one line (stdout when OK, stderr
/// otherwise) or one JSON object; the exit follows the reply code.
fn report_write(
    ctx: &Ctx,
    leader: &str,
    reply: RemotingCommand,
    what: &str,
) -> Result<(), Failure> {
    let (outcome, line, entry) = write_result(leader, Ok(reply), what, None, Node::Controller);
    if ctx.json {
        print_json(&entry);
    } else if outcome == Outcome::Ok {
        outln!("{line}");
    } else {
        eprintln!("{line}");
    }
    finish(outcome)
}

/// getControllerMetaData: group, leader, whether the answering node leads, peers.
pub fn get_controller_metadata(ctx: &Ctx) -> Result<(), Failure> {
    let (addr, m) = ask_metadata(ctx, false)?;
    if ctx.json {
        print_json(&json!({
            "controller": addr,
            "group": m.group,
            "controllerLeaderId": m.leader_id,
            "controllerLeaderAddress": m.leader_addr,
            "isLeader": m.is_leader,
            "peers": m.peers,
        }));
        return Ok(());
    }
    let mut rows = vec![
        kv("Controller", addr),
        kv("ControllerGroup", or_dash(m.group)),
        kv("ControllerLeaderId", or_dash(m.leader_id)),
        kv("ControllerLeaderAddress", or_dash(m.leader_addr)),
        kv("IsLeader", m.is_leader.to_string()),
    ];
    rows.extend(m.peers.into_iter().map(|p| kv("Peer", p)));
    print_table(&rows);
    Ok(())
}

/// One replica of a 1006 reply.
struct Replica {
    id: i64,
    address: String,
    alive: bool,
}

/// One broker set of a 1006 reply (`BrokerReplicasInfo.ReplicasInfo`).
struct SetInfo {
    master_id: Option<i64>,
    master_addr: Option<String>,
    master_epoch: Option<i64>,
    sync_state_set_epoch: Option<i64>,
    in_sync: Vec<Replica>,
    not_in_sync: Vec<Replica>,
}

fn replicas(set: &Map<String, Value>, key: &str) -> Result<Vec<Replica>, String> {
    let list = match set.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(format!("{key} is not a list")),
    };
    list.iter()
        .map(|r| {
            let id = r
                .get("brokerId")
                .and_then(fastjson::as_i64)
                .ok_or_else(|| format!("{key}: a replica without a brokerId"))?;
            Ok(Replica {
                id,
                address: r
                    .get("brokerAddress")
                    .and_then(fastjson::as_string)
                    .unwrap_or_default(),
                alive: r.get("alive").and_then(fastjson::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

/// Reads a `BrokerReplicasInfo` body: `{"replicasInfoTable":{name:{…}}}`.
fn parse_replicas_info(raw: &[u8]) -> Result<BTreeMap<String, SetInfo>, String> {
    let v = fastjson::parse(raw).map_err(|e| e.to_string())?;
    let Value::Object(top) = v else {
        return Err("not a JSON object".into());
    };
    let table = match top.get("replicasInfoTable") {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(t)) => t,
        Some(_) => return Err("replicasInfoTable is not a map".into()),
    };
    let mut out = BTreeMap::new();
    for (name, set) in table {
        let Value::Object(set) = set else {
            return Err(format!("{name}: not an object"));
        };
        let long = |k: &str| set.get(k).and_then(fastjson::as_i64);
        let info = SetInfo {
            master_id: long("masterBrokerId"),
            master_addr: set
                .get("masterAddress")
                .and_then(fastjson::as_string)
                .filter(|a| !a.is_empty()),
            master_epoch: long("masterEpoch"),
            sync_state_set_epoch: long("syncStateSetEpoch"),
            in_sync: replicas(set, "inSyncReplicas").map_err(|e| format!("{name}: {e}"))?,
            not_in_sync: replicas(set, "notInSyncReplicas").map_err(|e| format!("{name}: {e}"))?,
        };
        out.insert(name.clone(), info);
    }
    Ok(out)
}

fn replicas_json(name: &str, list: &[Replica]) -> Value {
    Value::Array(
        list.iter()
            .map(|r| {
                json!({
                    "alive": r.alive,
                    "brokerAddress": r.address,
                    "brokerId": r.id,
                    "brokerName": name,
                })
            })
            .collect(),
    )
}

/// getSyncStateSet: the sets named by `-b` (comma-separated), or every set the NameServer
/// lists in cluster `-c`. `ns` is the NameServer context (for `-c`), `ctrl` the controller's.
pub fn get_sync_state_set(
    ns: &Ctx,
    ctrl: &Ctx,
    brokers: Option<&str>,
    cluster: Option<&str>,
) -> Result<(), Failure> {
    let mut names: Vec<String> = match (brokers, cluster) {
        (Some(b), _) => b
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect(),
        (None, Some(c)) => {
            let info = cluster_info(ns)?;
            let mut names = info
                .cluster_addr_table
                .get(c)
                .cloned()
                .ok_or_else(|| Failure {
                    outcome: Outcome::NotFound,
                    message: format!("cluster {c} not found"),
                })?;
            names.sort();
            names
        }
        (None, None) => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    if names.is_empty() {
        return Err(Failure {
            outcome: Outcome::Usage,
            message: "no broker name: give -b broker-a[,broker-b] or -c cluster".into(),
        });
    }
    let request_body = serde_json::to_vec(&names)
        .map_err(|e| Failure::error(format!("cannot encode the names: {e}")))?;
    let cmd = RemotingCommand::request(rq::CONTROLLER_GET_SYNC_STATE_DATA).with_body(request_body);
    let (leader, reply) = leader_call(ctrl, &cmd)?;
    if reply.code != response::SUCCESS {
        return Err(reply_failure(&leader, &reply));
    }
    let sets = parse_replicas_info(body(&leader, &reply)?)
        .map_err(|e| decode_failure(&leader, "sync state data", e))?;

    let mut outcome = Outcome::Ok;
    for n in names.iter().filter(|n| !sets.contains_key(*n)) {
        eprintln!("nsadmin: broker set {n}: unknown to the controller");
        outcome = Outcome::NotFound;
    }
    if ctrl.json {
        let table: Map<String, Value> = sets
            .iter()
            .map(|(name, s)| {
                let mut m = json!({
                    "inSyncReplicas": replicas_json(name, &s.in_sync),
                    "masterAddress": s.master_addr,
                    "masterBrokerId": s.master_id,
                    "masterEpoch": s.master_epoch,
                    "notInSyncReplicas": replicas_json(name, &s.not_in_sync),
                    "syncStateSetEpoch": s.sync_state_set_epoch,
                });
                if let Value::Object(o) = &mut m {
                    o.retain(|_, v| !v.is_null());
                }
                (name.clone(), m)
            })
            .collect();
        print_json(&json!({ "replicasInfoTable": table }));
        return finish(outcome);
    }
    let mut first = true;
    for name in &names {
        let Some(s) = sets.get(name) else { continue };
        if !first {
            outln!();
        }
        first = false;
        print_table(&[
            kv("BrokerName", name.clone()),
            kv("MasterBrokerId", or_dash(s.master_id)),
            kv("MasterAddr", or_dash(s.master_addr.as_deref())),
            kv("MasterEpoch", or_dash(s.master_epoch)),
            kv("SyncStateSetEpoch", or_dash(s.sync_state_set_epoch)),
            kv("SyncStateSetNums", s.in_sync.len().to_string()),
        ]);
        let mut rows = vec![header(&["Replica", "BrokerId", "Address", "Alive"])];
        for (kind, list) in [("InSync", &s.in_sync), ("NotInSync", &s.not_in_sync)] {
            rows.extend(list.iter().map(|r| {
                vec![
                    kind.to_owned(),
                    r.id.to_string(),
                    if r.address.is_empty() {
                        "-".to_owned()
                    } else {
                        r.address.clone()
                    },
                    r.alive.to_string(),
                ]
            }));
        }
        print_table(&rows);
    }
    finish(outcome)
}

/// Reads an `ElectMasterResponseBody`: the set's members (`brokerMemberGroup.brokerAddrs`,
/// whose keys fastjson writes unquoted) and the new SyncStateSet.
fn parse_elect_body(raw: &[u8]) -> Result<(BTreeMap<i64, String>, Vec<i64>), String> {
    let v = fastjson::parse(raw).map_err(|e| e.to_string())?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let mut members = BTreeMap::new();
    match v
        .get("brokerMemberGroup")
        .and_then(|g| g.get("brokerAddrs"))
    {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, a) in m {
                let id = k
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("brokerAddrs: {k:?} is not a broker id"))?;
                let a = fastjson::as_string(a)
                    .ok_or_else(|| format!("brokerAddrs[{k}] is not an address"))?;
                members.insert(id, a);
            }
        }
        Some(_) => return Err("brokerAddrs is not a map".into()),
    }
    let sync = match v.get("syncStateSet") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| fastjson::as_i64(x).ok_or_else(|| "syncStateSet: not a broker id".to_owned()))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("syncStateSet is not a list".into()),
    };
    Ok((members, sync))
}

/// electMaster: make replica `id` of set `name` the master (designateElect=true).
pub fn elect_master(ctx: &Ctx, cluster: &str, name: &str, id: i64) -> Result<(), Failure> {
    let cmd = RemotingCommand::request(rq::CONTROLLER_ELECT_MASTER)
        .with_ext("clusterName", cluster)
        .with_ext("brokerName", name)
        .with_ext("brokerId", id.to_string())
        .with_ext("designateElect", "true")
        .with_ext("invokeTime", now_millis());
    let what = format!("elect broker[{name}] id {id} master");
    let (leader, reply) = leader_call(ctx, &cmd)?;
    if reply.code != response::SUCCESS {
        return report_write(ctx, &leader, reply, &what);
    }
    let long = |k: &str| {
        reply
            .ext(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| Failure::error(format!("{leader}: the election reply has no valid {k}")))
    };
    let master_id = long("masterBrokerId")?;
    let master_epoch = long("masterEpoch")?;
    let sync_epoch = long("syncStateSetEpoch")?;
    let master_addr = reply
        .ext("masterAddress")
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| {
            Failure::error(format!("{leader}: the election reply has no masterAddress"))
        })?
        .to_owned();
    let (members, sync) = match reply.body.as_deref() {
        None | Some([]) => (BTreeMap::new(), Vec::new()),
        Some(b) => parse_elect_body(b).map_err(|e| decode_failure(&leader, "election reply", e))?,
    };
    if ctx.json {
        let addrs: Map<String, Value> = members
            .iter()
            .map(|(id, a)| (id.to_string(), Value::from(a.as_str())))
            .collect();
        print_json(&json!({
            "controller": leader,
            "ok": true,
            "code": reply.code,
            "result": crate::client::response_name(reply.code),
            "clusterName": cluster,
            "brokerName": name,
            "masterBrokerId": master_id,
            "masterAddress": master_addr,
            "masterEpoch": master_epoch,
            "syncStateSetEpoch": sync_epoch,
            "syncStateSet": sync,
            "brokerAddrs": addrs,
        }));
        return Ok(());
    }
    let set_text: Vec<String> = sync.iter().map(i64::to_string).collect();
    let mut rows = vec![
        kv("ClusterName", cluster.to_owned()),
        kv("BrokerName", name.to_owned()),
        kv("MasterBrokerId", master_id.to_string()),
        kv("BrokerMasterAddr", master_addr),
        kv("MasterEpoch", master_epoch.to_string()),
        kv("SyncStateSetEpoch", sync_epoch.to_string()),
        kv(
            "SyncStateSet",
            or_dash((!sync.is_empty()).then(|| set_text.join(","))),
        ),
    ];
    rows.extend(
        members
            .into_iter()
            .map(|(id, a)| vec!["#Broker".to_owned(), id.to_string(), a]),
    );
    print_table(&rows);
    Ok(())
}

/// cleanBrokerMetadata: remove ids `1;2` (or, with `-l`, the whole set) from the controller.
pub fn clean_broker_metadata(
    ctx: &Ctx,
    cluster: &str,
    name: &str,
    ids: Option<&str>,
    clean_living: bool,
) -> Result<(), Failure> {
    let ids = ids.map(str::trim).filter(|i| !i.is_empty());
    let mut cmd = RemotingCommand::request(rq::CLEAN_BROKER_DATA)
        .with_ext("clusterName", cluster)
        .with_ext("brokerName", name)
        .with_ext("isCleanLivingBroker", clean_living.to_string())
        .with_ext("invokeTime", now_millis());
    if let Some(i) = ids {
        cmd = cmd.with_ext("brokerControllerIdsToClean", i);
    }
    let what = match ids {
        Some(i) => format!("clean broker[{name}] ids[{i}] metadata"),
        None => format!("clean broker[{name}] metadata"),
    };
    let (leader, reply) = leader_call(ctx, &cmd)?;
    report_write(ctx, &leader, reply, &what)
}

/// updateControllerConfig's body, `key=value\n`; a key or value that would break the
/// properties text (a line break, or `=`/`:` in the key) is bad usage.
pub fn config_body(key: &str, value: &str) -> Result<String, Failure> {
    let usage = |message: String| Failure {
        outcome: Outcome::Usage,
        message,
    };
    let key = key.trim();
    if key.is_empty() || key.contains(['=', ':', '\n', '\r', ' ', '\t']) {
        return Err(usage(format!("-k {key:?}: not a configuration key")));
    }
    if value.contains(['\n', '\r']) {
        return Err(usage(format!(
            "-v: a value cannot hold a line break ({value:?})"
        )));
    }
    Ok(format!("{key}={value}\n"))
}
