//! Controller headers and bodies: lenient header fields as Apache decodes them, and the reply
//! bodies as fastjson writes them.

use std::collections::BTreeSet;

use serde_json::Value;

use super::event::ids;
use super::state::{BrokerId, BrokerSet};
use crate::codec::fastjson::{self, Dialect, JsonWriter};
use crate::protocol::RemotingCommand;

/// Header fields read as `decodeCommandCustomHeaderDirectly` reads them: a missing field, or
/// one that does not parse, keeps its default; booleans are `Boolean.parseBoolean`.
pub(crate) struct Header<'a>(pub(crate) &'a RemotingCommand);

impl Header<'_> {
    /// Whether the request carried `extFields` at all.
    pub(crate) fn present(&self) -> bool {
        self.0.ext_fields.is_some()
    }

    pub(crate) fn string(&self, key: &str) -> Option<&str> {
        self.0.ext(key)
    }

    pub(crate) fn long(&self, key: &str) -> Option<i64> {
        self.0.ext(key).and_then(|v| v.trim().parse().ok())
    }

    pub(crate) fn int(&self, key: &str) -> Option<i32> {
        self.0.ext(key).and_then(|v| v.trim().parse().ok())
    }

    pub(crate) fn boolean(&self, key: &str) -> bool {
        self.0
            .ext(key)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

/// `SyncStateSet` body: `{"syncStateSet":[…],"syncStateSetEpoch":N}`.
pub fn sync_state_set_body(set: &BTreeSet<BrokerId>, epoch: i32) -> String {
    let mut w = JsonWriter::new(Dialect::Legacy);
    w.begin_object();
    w.key("syncStateSet");
    ids(&mut w, set);
    w.key("syncStateSetEpoch").long(i64::from(epoch));
    w.end_object();
    w.finish()
}

/// A 2011 body: `{"syncStateSet":[…]}` (no epoch, as Apache writes it).
pub(crate) fn sync_state_set_only(set: &BTreeSet<BrokerId>) -> String {
    let mut w = JsonWriter::new(Dialect::Legacy);
    w.begin_object();
    w.key("syncStateSet");
    ids(&mut w, set);
    w.end_object();
    w.finish()
}

/// `ElectMasterResponseBody`: the set's members (every registered id, alive or not) and the new
/// SyncStateSet. The `brokerAddrs` keys are unquoted numbers, as fastjson writes a map with
/// `Long` keys (§12 Q2), unless `quoted` (standard JSON, for strict parsers).
pub(crate) fn elect_body(
    name: &str,
    set: &BrokerSet,
    sync: &BTreeSet<BrokerId>,
    quoted: bool,
) -> String {
    let mut w = JsonWriter::new(if quoted {
        Dialect::Standard
    } else {
        Dialect::Legacy
    });
    w.begin_object();
    w.key("brokerMemberGroup").begin_object();
    w.key("brokerAddrs").begin_object();
    for (id, r) in &set.replicas {
        w.long_key(*id).string(&r.address);
    }
    w.end_object();
    w.key("brokerName").string(name);
    w.key("cluster").string(&set.cluster);
    w.end_object();
    w.key("syncStateSet");
    ids(&mut w, sync);
    w.end_object();
    w.finish()
}

/// One replica of a 1006 reply.
pub(crate) struct ReplicaView<'a> {
    pub(crate) alive: bool,
    pub(crate) address: &'a str,
    pub(crate) id: BrokerId,
}

/// One set of a 1006 reply.
pub(crate) struct SetView<'a> {
    pub(crate) name: &'a str,
    pub(crate) set: &'a BrokerSet,
    pub(crate) in_sync: Vec<ReplicaView<'a>>,
    pub(crate) not_in_sync: Vec<ReplicaView<'a>>,
}

/// `BrokerReplicasInfo`: `{"replicasInfoTable":{name:{…}}}`.
pub(crate) fn replicas_info_body(sets: &[SetView<'_>]) -> String {
    let mut w = JsonWriter::new(Dialect::Legacy);
    w.begin_object();
    w.key("replicasInfoTable").begin_object();
    for s in sets {
        w.key(s.name).begin_object();
        w.key("inSyncReplicas");
        replicas(&mut w, s.name, &s.in_sync);
        if let Some(addr) = s.set.master_address() {
            w.key("masterAddress").string(addr);
        }
        if let Some(m) = s.set.master {
            w.key("masterBrokerId").long(m);
        }
        w.key("masterEpoch").long(i64::from(s.set.master_epoch));
        w.key("notInSyncReplicas");
        replicas(&mut w, s.name, &s.not_in_sync);
        w.key("syncStateSetEpoch")
            .long(i64::from(s.set.sync_state_set_epoch));
        w.end_object();
    }
    w.end_object();
    w.end_object();
    w.finish()
}

fn replicas(w: &mut JsonWriter, name: &str, list: &[ReplicaView<'_>]) {
    w.begin_array();
    for r in list {
        w.elem().begin_object();
        w.key("alive").bool(r.alive);
        w.key("brokerAddress").string(r.address);
        w.key("brokerId").long(r.id);
        w.key("brokerName").string(name);
        w.end_object();
    }
    w.end_array();
}

/// Reads a `SyncStateSet` body (1001's request): the members and the epoch the sender holds.
pub fn parse_sync_state_set(body: &[u8]) -> Result<(BTreeSet<BrokerId>, i32), String> {
    let v = fastjson::parse(body).map_err(|e| e.to_string())?;
    let set = match v.get("syncStateSet") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| fastjson::as_i64(x).ok_or_else(|| "syncStateSet: not an id".to_owned()))
            .collect::<Result<BTreeSet<_>, _>>()?,
        None | Some(Value::Null) => BTreeSet::new(),
        Some(_) => return Err("syncStateSet is not a list".into()),
    };
    let epoch = v
        .get("syncStateSetEpoch")
        .and_then(fastjson::as_i64)
        .and_then(|e| i32::try_from(e).ok())
        .unwrap_or(0);
    Ok((set, epoch))
}

/// Reads a 1006 body: a JSON array of set names.
pub(crate) fn parse_name_list(body: &[u8]) -> Option<Vec<String>> {
    match fastjson::parse(body).ok()? {
        Value::Array(a) => Some(a.iter().filter_map(fastjson::as_string).collect()),
        _ => None,
    }
}

/// The write lease a rocketmq-broker 1.0.0 master needs before it takes messages
/// (`ControllerWriteLeaseGrant`, a Rust-only extension carried by the two-way 904 reply).
pub(crate) fn lease_body(
    id: BrokerId,
    master_epoch: i32,
    generation: u64,
    duration: u64,
    margin: u64,
) -> String {
    let mut w = JsonWriter::new(Dialect::Standard);
    w.begin_object();
    w.key("brokerId").long(id);
    w.key("generation")
        .long(i64::try_from(generation).unwrap_or(i64::MAX));
    w.key("leaseDurationMillis")
        .long(i64::try_from(duration).unwrap_or(i64::MAX));
    w.key("masterEpoch").long(i64::from(master_epoch));
    w.key("safetyMarginMillis")
        .long(i64::try_from(margin).unwrap_or(i64::MAX));
    w.end_object();
    w.finish()
}
