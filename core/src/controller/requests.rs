//! One handler per controller request code. A handler reads the applied state and the
//! liveness table and returns a [`Decision`]: the reply, and the events that must be durable
//! before the reply goes out. Nothing here changes state: [`super::Controller`] appends the
//! events, applies them once they are durable, and only then answers.

use std::collections::BTreeSet;

use super::codes::{request as rq, response as rs};
use super::elect::{self, Ask};
use super::event::Event;
use super::liveness::{Heartbeat, LiveKey};
use super::state::BrokerId;
use super::wire::{self, Header, ReplicaView, SetView};
use super::Controller;
use crate::codec::command::SerializeType;
use crate::protocol::RemotingCommand;
use crate::route::{ConnId, Millis};

/// What a request (or the controller's own trigger) comes to.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    /// The reply (none for oneway requests and internal triggers).
    pub(crate) reply: Option<RemotingCommand>,
    /// Events to make durable, then apply, before the reply.
    pub(crate) events: Vec<Event>,
    /// After the events apply, tell this set's live members their new roles (1008).
    pub(crate) notify: Option<String>,
}

impl Decision {
    fn reply(cmd: RemotingCommand) -> Self {
        Self {
            reply: Some(cmd),
            ..Self::default()
        }
    }
}

/// A reply: JSON whatever the request's serialize type (Apache 5.x, §12 Q1).
pub(crate) fn reply(req: &RemotingCommand, code: i32, remark: Option<String>) -> RemotingCommand {
    let mut r = RemotingCommand::response_to(req, code, remark);
    r.serialize_type = SerializeType::Json;
    r
}

fn missing(req: &RemotingCommand, what: &str) -> Decision {
    Decision::reply(reply(
        req,
        rs::SYSTEM_ERROR,
        Some(format!("{what} is required")),
    ))
}

fn empty_ext(mut r: RemotingCommand) -> RemotingCommand {
    r.ext_fields.get_or_insert_with(Default::default);
    r
}

/// BROKER_HEARTBEAT (904) on any node: the liveness table only.
pub(crate) fn heartbeat(
    c: &mut Controller,
    conn: ConnId,
    req: &RemotingCommand,
    now: Millis,
) -> Option<RemotingCommand> {
    let h = Header(req);
    let Some(id) = h.long("brokerId") else {
        return Some(reply(
            req,
            rs::CONTROLLER_INVALID_REQUEST,
            Some("Heart beat with empty brokerId".into()),
        ));
    };
    let hb = Heartbeat {
        key: LiveKey {
            cluster: h.string("clusterName").unwrap_or_default().to_owned(),
            name: h.string("brokerName").unwrap_or_default().to_owned(),
            id,
        },
        address: h.string("brokerAddr").unwrap_or_default().to_owned(),
        timeout_ms: h
            .long("heartbeatTimeoutMills")
            .and_then(|t| Millis::try_from(t).ok())
            .unwrap_or(10_000),
        epoch: h.int("epoch").unwrap_or(-1),
        max_offset: h.long("maxOffset").unwrap_or(-1),
        confirm_offset: h.long("confirmOffset").unwrap_or(-1),
        election_priority: h.int("electionPriority").unwrap_or(i32::MAX),
    };
    let key = hb.key.clone();
    let epoch = hb.epoch;
    c.live.heartbeat(hb, conn, now);
    let mut r = reply(req, rs::SUCCESS, Some("Heart beat success".into()));
    // Only a two-way heartbeat sees its reply: rocketmq-broker 1.0.0's. Java brokers send it
    // oneway, so the lease below never reaches them.
    if !req.is_oneway()
        && h.string("storeReady")
            .is_none_or(|v| v.eq_ignore_ascii_case("true"))
    {
        if let Some(grant) = c.grant_lease(&key, epoch, now) {
            r = r.with_body(grant.into_bytes());
        }
    }
    Some(r)
}

/// CONTROLLER_GET_METADATA_INFO (1005) on any node: the group, the leader this node knows, and
/// every peer.
pub(crate) fn metadata(c: &Controller, req: &RemotingCommand) -> RemotingCommand {
    let mut r = reply(req, rs::SUCCESS, None).with_ext("group", c.config.group.clone());
    let peers = c.config.peer_list().unwrap_or_default();
    if let Some(leader) = &c.leader {
        if let Some(p) = peers.iter().find(|p| &p.id == leader) {
            r = r
                .with_ext("controllerLeaderId", p.id.clone())
                .with_ext("controllerLeaderAddress", p.addr.clone());
        }
    }
    let list: String = peers
        .iter()
        .map(|p| format!("{}:{};", p.id, p.addr))
        .collect();
    r.with_ext("isLeader", c.is_leader().to_string())
        .with_ext("peers", list)
}

/// GET_CONTROLLER_CONFIG (1010) on any node: every setting as sorted `key=value` lines.
pub(crate) fn get_config(c: &Controller, req: &RemotingCommand) -> RemotingCommand {
    let mut all = c.config.all();
    if let Ok(me) = c.config.self_peer() {
        if let Some((_, port)) = me.addr.rsplit_once(':') {
            all.insert("listenPort", port.to_owned());
        }
    }
    let text = super::config::properties_text(&all);
    reply(req, rs::SUCCESS, None).with_body(text.into_bytes())
}

/// What a 1009 changes: the new settings, and the keys it set (for the settings file).
pub(crate) type SettingsUpdate = (super::ControllerConfig, Vec<(String, String)>);

/// UPDATE_CONTROLLER_CONFIG (1009), this node only: the new settings, or the refusal.
pub(crate) fn update_config(
    c: &Controller,
    req: &RemotingCommand,
) -> Result<Option<SettingsUpdate>, RemotingCommand> {
    let Some(body) = req.body.as_ref().filter(|b| !b.is_empty()) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(body);
    let props = crate::config::parse_properties(&text).map_err(|_| {
        reply(
            req,
            rs::SYSTEM_ERROR,
            Some("string2Properties error".into()),
        )
    })?;
    let blacklist = c.config.blacklist();
    if props.iter().any(|(k, _)| blacklist.contains(k)) {
        return Err(reply(
            req,
            rs::NO_PERMISSION,
            Some("Can not update config in black list.".into()),
        ));
    }
    let mut next = c.config.clone();
    let mut changed = Vec::new();
    for (k, v) in &props {
        if v.chars().any(char::is_control) {
            return Err(reply(
                req,
                rs::SYSTEM_ERROR,
                Some(format!(
                    "{k}: control characters are not allowed in a value"
                )),
            ));
        }
        // Unknown keys are ignored, as Apache's properties2Object ignores them.
        if next
            .set(k, v)
            .map_err(|e| reply(req, rs::SYSTEM_ERROR, Some(e)))?
        {
            changed.push((k.clone(), v.trim().to_owned()));
        }
    }
    Ok(Some((next, changed)))
}

/// Handles one leader-only request against the applied state.
pub(crate) fn leader_request(c: &Controller, req: &RemotingCommand, now: Millis) -> Decision {
    match req.code {
        rq::CONTROLLER_GET_NEXT_BROKER_ID => next_broker_id(c, req),
        rq::CONTROLLER_APPLY_BROKER_ID => apply_broker_id(c, req),
        rq::CONTROLLER_REGISTER_BROKER => register(c, req, now),
        rq::CONTROLLER_ELECT_MASTER => elect_request(c, req, now),
        rq::CONTROLLER_ALTER_SYNC_STATE_SET => alter(c, req, now),
        rq::CONTROLLER_GET_REPLICA_INFO => replica_info(c, req),
        rq::CONTROLLER_GET_SYNC_STATE_DATA => sync_state_data(c, req, now),
        rq::CLEAN_BROKER_DATA => clean(c, req, now),
        _ => Decision::reply(reply(
            req,
            rs::REQUEST_CODE_NOT_SUPPORTED,
            Some(format!(" request type {} not supported", req.code)),
        )),
    }
}

fn echo_names(req: &RemotingCommand, mut r: RemotingCommand) -> RemotingCommand {
    for k in ["clusterName", "brokerName"] {
        if let Some(v) = req.ext(k) {
            r = r.with_ext(k, v);
        }
    }
    r
}

fn next_broker_id(c: &Controller, req: &RemotingCommand) -> Decision {
    let h = Header(req);
    let Some(name) = h.string("brokerName") else {
        return missing(req, "brokerName");
    };
    let next = c.replicas.get(name).map_or(1, |s| s.next_assign_id);
    Decision::reply(
        echo_names(req, reply(req, rs::SUCCESS, None)).with_ext("nextBrokerId", next.to_string()),
    )
}

fn apply_broker_id(c: &Controller, req: &RemotingCommand) -> Decision {
    let h = Header(req);
    let Some(name) = h.string("brokerName") else {
        return missing(req, "brokerName");
    };
    let Some(id) = h.long("appliedBrokerId") else {
        return missing(req, "appliedBrokerId");
    };
    let Some(code) = h.string("registerCheckCode") else {
        return missing(req, "registerCheckCode");
    };
    let ok = echo_names(req, reply(req, rs::SUCCESS, None));
    let refuse = |remark: String| {
        Decision::reply(echo_names(
            req,
            reply(req, rs::CONTROLLER_BROKER_ID_INVALID, Some(remark)),
        ))
    };
    let event = Event::ApplyBrokerId {
        cluster_name: h.string("clusterName").unwrap_or_default().to_owned(),
        broker_name: name.to_owned(),
        broker_address: code.split(';').next().unwrap_or_default().to_owned(),
        new_broker_id: id,
        register_check_code: code.to_owned(),
    };
    if id < 1 {
        // 0 means "master" to NameServers; Apache would hand it out (or a negative id).
        return refuse(format!(
            "Fail to apply brokerId: {id} in broker-set: {name}"
        ));
    }
    match c.replicas.get(name) {
        None if id == 1 => Decision {
            reply: Some(ok),
            events: vec![event],
            notify: None,
        },
        None => refuse(format!(
            "Broker-set: {name} hasn't been registered in controller, but broker try to apply brokerId: {id}"
        )),
        Some(set) => match set.replicas.get(&id) {
            None => Decision {
                reply: Some(ok),
                events: vec![event],
                notify: None,
            },
            // A retry after a lost reply: already done, nothing to append.
            Some(r) if r.register_check_code == code => Decision::reply(ok),
            Some(_) => refuse(format!("Fail to apply brokerId: {id} in broker-set: {name}")),
        },
    }
}

fn master_alive(c: &Controller, name: &str, now: Millis) -> Option<BrokerId> {
    let set = c.replicas.get(name)?;
    let m = set.master?;
    c.is_alive(name, m, now).then_some(m)
}

fn register(c: &Controller, req: &RemotingCommand, now: Millis) -> Decision {
    let h = Header(req);
    let Some(name) = h.string("brokerName") else {
        return missing(req, "brokerName");
    };
    let Some(id) = h.long("brokerId") else {
        return missing(req, "brokerId");
    };
    let need = |remark: String| {
        Decision::reply(echo_names(
            req,
            reply(
                req,
                rs::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED,
                Some(remark),
            ),
        ))
    };
    let Some(set) = c.replicas.get(name) else {
        return need(format!(
            "Broker-set: {name} hasn't been registered in controller"
        ));
    };
    let Some(replica) = set.replicas.get(&id) else {
        return need(format!(
            "BrokerId: {id} hasn't been registered in broker-set: {name}"
        ));
    };
    let Some(address) = h.string("brokerAddress") else {
        return missing(req, "brokerAddress");
    };
    let mut r = echo_names(req, reply(req, rs::SUCCESS, None));
    // Only a live master is named (Apache #5631): a registering broker told of a dead master
    // would follow it; told of none, it asks for an election.
    if let Some(m) = master_alive(c, name, now) {
        r = r
            .with_ext("masterBrokerId", m.to_string())
            .with_ext("masterAddress", set.master_address().unwrap_or_default())
            .with_ext("masterEpoch", set.master_epoch.to_string())
            .with_ext("syncStateSetEpoch", set.sync_state_set_epoch.to_string());
    }
    let r = r.with_body(
        wire::sync_state_set_body(&set.sync_state_set, set.sync_state_set_epoch).into_bytes(),
    );
    let events = if replica.address == address {
        Vec::new()
    } else {
        vec![Event::UpdateBrokerAddress {
            cluster_name: h.string("clusterName").unwrap_or_default().to_owned(),
            broker_name: name.to_owned(),
            broker_id: id,
            broker_address: address.to_owned(),
        }]
    };
    Decision {
        reply: Some(r),
        events,
        notify: None,
    }
}

fn elect_request(c: &Controller, req: &RemotingCommand, now: Millis) -> Decision {
    let h = Header(req);
    let name = h.string("brokerName").unwrap_or_default();
    let id = h.long("brokerId").unwrap_or(-1);
    let designate = h.boolean("designateElect");
    // fastjson writes the member map's Long keys unquoted and Java brokers expect that; other
    // brokers (rocketmq-broker 1.0.0 parses with serde_json) get standard JSON.
    let quoted = req.language != crate::codec::command::LanguageCode::JAVA;
    let mut d = elect(c, name, id, designate, quoted, now);
    if let Some(r) = d.reply.take() {
        d.reply = Some(with_opaque_of(req, r));
    }
    d
}

/// Carries an election's reply over to the request it answers.
fn with_opaque_of(req: &RemotingCommand, mut r: RemotingCommand) -> RemotingCommand {
    r.opaque = req.opaque;
    r.version = crate::codec::command::CURRENT_VERSION;
    r
}

/// An election (§7.2), from a request or from the controller itself (`broker_id` -1). The
/// reply is built against a placeholder request; [`elect_request`] gives it the real opaque.
pub(crate) fn elect(
    c: &Controller,
    name: &str,
    broker_id: BrokerId,
    designate: bool,
    quoted: bool,
    now: Millis,
) -> Decision {
    let req = RemotingCommand::request(rq::CONTROLLER_ELECT_MASTER);
    let Some(set) = c.replicas.get(name) else {
        return Decision::reply(empty_ext(reply(
            &req,
            rs::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED,
            Some("Broker hasn't been registered".into()),
        )));
    };
    let ask = Ask {
        broker_id,
        designate,
        unclean: c.config.enable_elect_unclean_master,
    };
    match elect::choose(name, set, &c.live, now, &ask) {
        Some(m) if Some(m) == set.master => {
            let r = reply(
                &req,
                rs::CONTROLLER_MASTER_STILL_EXIST,
                Some(format!(
                    "The old master {m} is still alive, not need to elect new master for broker {name}"
                )),
            )
            .with_ext("masterBrokerId", m.to_string())
            .with_ext("masterAddress", set.master_address().unwrap_or_default())
            .with_ext("masterEpoch", set.master_epoch.to_string())
            .with_ext("syncStateSetEpoch", set.sync_state_set_epoch.to_string())
            .with_body(wire::sync_state_set_only(&set.sync_state_set).into_bytes());
            Decision::reply(r)
        }
        Some(m) => {
            let sync = BTreeSet::from([m]);
            let mut r = reply(&req, rs::SUCCESS, None).with_ext("masterBrokerId", m.to_string());
            if let Some(rep) = set.replicas.get(&m) {
                r = r.with_ext("masterAddress", rep.address.clone());
            }
            let r = r
                .with_ext(
                    "masterEpoch",
                    set.master_epoch.saturating_add(1).to_string(),
                )
                .with_ext(
                    "syncStateSetEpoch",
                    set.sync_state_set_epoch.saturating_add(1).to_string(),
                )
                .with_body(wire::elect_body(name, set, &sync, quoted).into_bytes());
            Decision {
                reply: Some(r),
                events: vec![Event::ElectMaster {
                    broker_name: name.to_owned(),
                    new_master: Some(m),
                }],
                notify: Some(name.to_owned()),
            }
        }
        None if broker_id == -1 => {
            // The controller's own trigger: the master is gone and nobody may follow it. One
            // masterless event marks the loss (the epoch moves, so brokers polling 1004 learn
            // it); a set already without a master gets none (Apache appends one per attempt
            // and per scan, §12 Q12: the epoch climbed by 3 every 5 s for nothing).
            let events = if set.master.is_some() {
                vec![Event::ElectMaster {
                    broker_name: name.to_owned(),
                    new_master: None,
                }]
            } else {
                Vec::new()
            };
            Decision {
                reply: Some(empty_ext(reply(
                    &req,
                    rs::CONTROLLER_MASTER_NOT_AVAILABLE,
                    Some("Old master has down and failed to elect a new broker master".into()),
                ))),
                events,
                notify: None,
            }
        }
        None => Decision::reply(empty_ext(reply(
            &req,
            rs::CONTROLLER_ELECT_MASTER_FAILED,
            Some("Failed to elect a new master".into()),
        ))),
    }
}

fn alter(c: &Controller, req: &RemotingCommand, now: Millis) -> Decision {
    let h = Header(req);
    let fail = |code: i32, remark: String| {
        Decision::reply(reply(req, code, Some(remark)).with_ext("newSyncStateSetEpoch", "0"))
    };
    let Some(name) = h.string("brokerName") else {
        return missing(req, "brokerName");
    };
    let Some(master_epoch) = h.int("masterEpoch") else {
        return missing(req, "masterEpoch");
    };
    let Some(body) = req.body.as_ref().filter(|b| !b.is_empty()) else {
        return missing(req, "the SyncStateSet body");
    };
    let (new_set, epoch) = match wire::parse_sync_state_set(body) {
        Ok(x) => x,
        Err(e) => {
            return Decision::reply(reply(
                req,
                rs::SYSTEM_ERROR,
                Some(format!("bad SyncStateSet body: {e}")),
            ))
        }
    };
    let Some(set) = c.replicas.get(name) else {
        return fail(
            rs::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            "Broker metadata is not existed".into(),
        );
    };
    if new_set == set.sync_state_set {
        return fail(
            rs::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            "The newSyncStateSet is equal with oldSyncStateSet, no needed to update syncStateSet"
                .into(),
        );
    }
    let asked = h.long("masterBrokerId");
    if set.master.is_none() || asked != set.master {
        let show = |x: Option<BrokerId>| x.map_or("null".to_owned(), |v| v.to_string());
        return fail(
            rs::CONTROLLER_INVALID_MASTER,
            format!(
                "Rejecting alter syncStateSet request because the current leader is:{{{}}}, not {{{}}}",
                show(set.master),
                show(asked)
            ),
        );
    }
    if master_epoch != set.master_epoch {
        return fail(
            rs::CONTROLLER_FENCED_MASTER_EPOCH,
            format!(
                "Rejecting alter syncStateSet request because the current master epoch is:{{{}}}, not {{{master_epoch}}}",
                set.master_epoch
            ),
        );
    }
    if epoch != set.sync_state_set_epoch {
        return fail(
            rs::CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH,
            format!(
                "Rejecting alter syncStateSet request because the current syncStateSet epoch is:{{{}}}, not {{{epoch}}}",
                set.sync_state_set_epoch
            ),
        );
    }
    for id in &new_set {
        if !set.replicas.contains_key(id) {
            return fail(
                rs::CONTROLLER_INVALID_REPLICAS,
                format!("Rejecting alter syncStateSet request because the replicas {{{id}}} don't exist"),
            );
        }
        if !c.is_alive(name, *id, now) {
            return fail(
                rs::CONTROLLER_BROKER_NOT_ALIVE,
                format!("Rejecting alter syncStateSet request because the replicas {{{id}}} don't alive"),
            );
        }
    }
    if let Some(m) = set.master.filter(|m| !new_set.contains(m)) {
        return fail(
            rs::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            format!("Rejecting alter syncStateSet request because the newSyncStateSet don't contains origin leader {{{m}}}"),
        );
    }
    let next = set.sync_state_set_epoch.saturating_add(1);
    let r = reply(req, rs::SUCCESS, None)
        .with_ext("newSyncStateSetEpoch", next.to_string())
        .with_body(wire::sync_state_set_body(&new_set, next).into_bytes());
    Decision {
        reply: Some(r),
        events: vec![Event::AlterSyncStateSet {
            broker_name: name.to_owned(),
            new_sync_state_set: new_set,
        }],
        notify: None,
    }
}

fn replica_info(c: &Controller, req: &RemotingCommand) -> Decision {
    let h = Header(req);
    if !h.present() {
        return missing(req, "the request header");
    }
    let Some(name) = h.string("brokerName") else {
        return missing(req, "brokerName");
    };
    let Some(set) = c.replicas.get(name) else {
        return Decision::reply(empty_ext(reply(
            req,
            rs::CONTROLLER_BROKER_METADATA_NOT_EXIST,
            Some("Broker metadata is not existed".into()),
        )));
    };
    let mut r = reply(req, rs::SUCCESS, None);
    if let Some(m) = set.master {
        r = r.with_ext("masterBrokerId", m.to_string());
        if let Some(addr) = set.master_address() {
            r = r.with_ext("masterAddress", addr);
        }
    }
    let r = r
        .with_ext("masterEpoch", set.master_epoch.to_string())
        .with_body(
            wire::sync_state_set_body(&set.sync_state_set, set.sync_state_set_epoch).into_bytes(),
        );
    Decision::reply(r)
}

fn sync_state_data(c: &Controller, req: &RemotingCommand, now: Millis) -> Decision {
    let names = req
        .body
        .as_ref()
        .and_then(|b| wire::parse_name_list(b))
        .filter(|n| !n.is_empty());
    let Some(names) = names else {
        return Decision::reply(reply(
            req,
            rs::SYSTEM_ERROR,
            Some("not set any response code".into()),
        ));
    };
    let mut views = Vec::new();
    let mut seen = BTreeSet::new();
    for name in &names {
        let Some(set) = c.replicas.get(name) else {
            continue;
        };
        if !seen.insert(name.as_str()) {
            continue;
        }
        let (mut in_sync, mut not_in_sync) = (Vec::new(), Vec::new());
        for (id, r) in &set.replicas {
            let v = ReplicaView {
                alive: c.is_alive(name, *id, now),
                address: &r.address,
                id: *id,
            };
            if set.sync_state_set.contains(id) {
                in_sync.push(v);
            } else {
                not_in_sync.push(v);
            }
        }
        views.push(SetView {
            name,
            set,
            in_sync,
            not_in_sync,
        });
    }
    Decision::reply(
        reply(req, rs::SUCCESS, None).with_body(wire::replicas_info_body(&views).into_bytes()),
    )
}

fn clean(c: &Controller, req: &RemotingCommand, now: Millis) -> Decision {
    let h = Header(req);
    let fail = |remark: String| {
        Decision::reply(reply(
            req,
            rs::CONTROLLER_INVALID_CLEAN_BROKER_METADATA,
            Some(remark),
        ))
    };
    let Some(name) = h.string("brokerName") else {
        return missing(req, "brokerName");
    };
    let set = c.replicas.get(name);
    let mut ids = BTreeSet::new();
    if !h.boolean("isCleanLivingBroker") {
        let list = h
            .string("brokerControllerIdsToClean")
            .map(str::trim)
            .unwrap_or_default();
        if list.is_empty() {
            if set.is_some_and(|s| s.master.is_some()) {
                return fail(format!("Broker {name} is still alive, clean up failure"));
            }
        } else {
            // Java's split drops trailing empty strings: "1;2;" is ids 1 and 2.
            for part in list.trim_end_matches(';').split(';') {
                match part.trim().parse::<BrokerId>() {
                    Ok(id) => {
                        ids.insert(id);
                    }
                    Err(_) => {
                        return fail(format!(
                            "Please set the option <brokerControllerIdsToClean> according to the format, exception: java.lang.NumberFormatException: For input string: \"{part}\""
                        ))
                    }
                }
            }
            // Liveness is looked up under the set's own cluster when the request names none
            // (Apache looks up a key that never exists then, §12 Q10, and cleans a live id).
            let cluster = h
                .string("clusterName")
                .map(str::to_owned)
                .or_else(|| set.map(|s| s.cluster.clone()))
                .unwrap_or_default();
            for id in &ids {
                let key = LiveKey {
                    cluster: cluster.clone(),
                    name: name.to_owned(),
                    id: *id,
                };
                if c.live.is_alive(&key, now) {
                    return fail(format!(
                        "Broker [{name},  {id}] is still alive, clean up failure"
                    ));
                }
            }
        }
    }
    if set.is_none() {
        return fail(format!(
            "Broker {name} is not existed,clean broker data failure."
        ));
    }
    Decision {
        reply: Some(reply(req, rs::SUCCESS, None)),
        events: vec![Event::CleanBrokerData {
            broker_name: name.to_owned(),
            ids,
        }],
        notify: None,
    }
}
