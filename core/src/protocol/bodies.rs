//! Bodies, with Apache's field names (spec §2): decoded leniently from fastjson output and
//! written in the dialect the peer needs (`Dialect::Legacy` or `Dialect::Standard`).
//! Bean properties are written in alphabetical order, as fastjson's `SortField` does.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::codec::fastjson::{self, as_i64, as_string, Dialect, JsonWriter};

pub use super::compressed::inflate;
use super::compressed::Cursor;

/// Why a body could not be decoded (answered SYSTEM_ERROR, as Apache's RemotingCommandException).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError(pub String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

fn err(msg: impl Into<String>) -> BodyError {
    BodyError(msg.into())
}

fn parse_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, BodyError> {
    match fastjson::parse(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(err(format!("{what}: the body is not a JSON object"))),
        Err(e) => Err(err(format!("{what}: {e}"))),
    }
}

fn int(obj: &Map<String, Value>, key: &str) -> i64 {
    obj.get(key).and_then(as_i64).unwrap_or(0)
}

fn int32(obj: &Map<String, Value>, key: &str) -> i32 {
    i32::try_from(int(obj, key)).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------

/// `DataVersion`: equality compares all three fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DataVersion {
    /// `stateVersion`: the broker's state version; a higher one fences a stale holder of the
    /// same broker id (0 when a 4.x broker omits it).
    pub state_version: i64,
    /// `timestamp`: when the version was last bumped, in epoch milliseconds.
    pub timestamp: i64,
    /// `counter`: incremented on every change of the broker's topic config.
    pub counter: i64,
}

impl DataVersion {
    /// Reads a parsed `dataVersion` object; missing fields are 0, and a non-object is all 0.
    pub fn from_value(v: &Value) -> Self {
        match v {
            Value::Object(o) => Self {
                state_version: int(o, "stateVersion"),
                timestamp: int(o, "timestamp"),
                counter: int(o, "counter"),
            },
            _ => Self::default(),
        }
    }

    /// Decodes a `DataVersion` JSON body (as QUERY_DATA_VERSION carries).
    pub fn decode(bytes: &[u8]) -> Result<Self, BodyError> {
        Ok(Self::from_value(&Value::Object(parse_object(
            bytes,
            "DataVersion",
        )?)))
    }

    /// Writes `{"counter":..,"stateVersion":..,"timestamp":..}` to `w`.
    pub fn write(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.key("counter").long(self.counter);
        w.key("stateVersion").long(self.state_version);
        w.key("timestamp").long(self.timestamp);
        w.end_object();
    }

    /// The JSON text of [`Self::write`], in the legacy dialect.
    pub fn encode(&self) -> String {
        let mut w = JsonWriter::new(Dialect::Legacy);
        self.write(&mut w);
        w.finish()
    }
}

/// The parts of a broker's `TopicConfig` the NameServer uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicConfig {
    /// `topicName`: the topic (empty when the broker sent a config without a name).
    pub topic_name: String,
    /// `readQueueNums`: how many queues consumers read on this broker.
    pub read_queue_nums: i32,
    /// `writeQueueNums`: how many queues producers write on this broker.
    pub write_queue_nums: i32,
    /// `perm`: the topic's [`crate::route::perm`] bits on this broker.
    pub perm: i32,
    /// `topicSysFlag`: the `TopicSysFlag` bits (unit topic, unit subscription).
    pub topic_sys_flag: i32,
}

impl TopicConfig {
    fn from_value(v: &Value) -> Result<Self, BodyError> {
        let Value::Object(o) = v else {
            return Err(err("a topic config is not an object"));
        };
        // The map key is ignored, as in Apache: the name comes from the config itself.
        // A config without a name (Java's `new TopicConfig()`, as Apache's RequestProcessorTest
        // sends) decodes in Apache and the registration still answers SUCCESS, so it must not
        // fail the body: it is kept with an empty name (it still counts for the single-topic
        // guard) and `register_broker` skips it (spec §3.3 step 14, §6.4).
        let topic_name = o.get("topicName").and_then(as_string).unwrap_or_default();
        Ok(Self {
            topic_name,
            read_queue_nums: int32(o, "readQueueNums"),
            write_queue_nums: int32(o, "writeQueueNums"),
            perm: int32(o, "perm"),
            topic_sys_flag: int32(o, "topicSysFlag"),
        })
    }

    /// `TopicConfig.decode` of the compressed form: `"name readQ writeQ perm filterType[ attrs]"`.
    fn from_compact(text: &str) -> Result<Self, BodyError> {
        let parts: Vec<&str> = text.split(' ').collect();
        let [name, r, w, p, _filter, ..] = parts.as_slice() else {
            return Err(err(format!(
                "compressed topic config {text:?} has fewer than 5 fields"
            )));
        };
        let num = |s: &str, what: &str| {
            s.parse::<i32>()
                .map_err(|_| err(format!("compressed topic config {text:?}: bad {what}")))
        };
        Ok(Self {
            topic_name: (*name).to_owned(),
            read_queue_nums: num(r, "readQueueNums")?,
            write_queue_nums: num(w, "writeQueueNums")?,
            perm: num(p, "perm")?,
            // Not carried in the compressed form (spec §2.1.2): always 0.
            topic_sys_flag: 0,
        })
    }
}

/// `TopicConfigSerializeWrapper` / `TopicConfigAndMappingSerializeWrapper`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopicConfigWrapper {
    /// `dataVersion`: the version of the broker's topic config.
    pub data_version: DataVersion,
    /// The values of `topicConfigTable` (its keys are ignored, as in Apache).
    pub topic_configs: Vec<TopicConfig>,
    /// Static-topic mapping info (`topicQueueMappingInfoMap`), passed through opaquely.
    pub mapping_infos: BTreeMap<String, Value>,
}

impl TopicConfigWrapper {
    fn from_object(o: &Map<String, Value>) -> Result<Self, BodyError> {
        let data_version = o
            .get("dataVersion")
            .map(DataVersion::from_value)
            .unwrap_or_default();
        let mut topic_configs = Vec::new();
        match o.get("topicConfigTable") {
            Some(Value::Object(table)) => {
                for v in table.values() {
                    topic_configs.push(TopicConfig::from_value(v)?);
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => return Err(err("topicConfigTable is not an object")),
        }
        let mut mapping_infos = BTreeMap::new();
        if let Some(Value::Object(m)) = o.get("topicQueueMappingInfoMap") {
            for (topic, info) in m {
                if info.is_object() {
                    mapping_infos.insert(topic.clone(), info.clone());
                }
            }
        }
        Ok(Self {
            data_version,
            topic_configs,
            mapping_infos,
        })
    }
}

/// What a REGISTER_BROKER body carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegisterBrokerBody {
    /// `topicConfigSerializeWrapper`: the broker's topics and their data version.
    pub wrapper: TopicConfigWrapper,
    /// `None` for legacy bodies: the filter-server table is then left alone.
    pub filter_server_list: Option<Vec<String>>,
}

/// Default bound on an inflated register body (`registerBrokerMaxInflatedBytes`): a zip bomb
/// cannot make us allocate more. The bound in force is the caller's `max_inflated`.
pub const MAX_INFLATED_BODY: usize = 64 * 1024 * 1024;

impl RegisterBrokerBody {
    /// [`Self::decode`] without the plain-JSON fast path: every form fastjson accepts.
    pub fn decode_lenient(
        body: Option<&[u8]>,
        version: i32,
        compressed: bool,
        max_inflated: usize,
    ) -> Result<Self, BodyError> {
        let legacy = version < crate::protocol::version::V3_0_11;
        let Some(body) = body.filter(|b| !b.is_empty()) else {
            return Ok(Self {
                wrapper: TopicConfigWrapper::default(),
                filter_server_list: if legacy { None } else { Some(Vec::new()) },
            });
        };
        if legacy {
            let o = parse_object(body, "TopicConfigSerializeWrapper")?;
            return Ok(Self {
                wrapper: TopicConfigWrapper::from_object(&o)?,
                filter_server_list: None,
            });
        }
        let looks_zlib = body.first() == Some(&0x78);
        if compressed || looks_zlib {
            let plain = inflate(body, max_inflated)?;
            return Self::decode_compact(&plain, version);
        }
        let o = parse_object(body, "RegisterBrokerBody")?;
        let wrapper = match o.get("topicConfigSerializeWrapper") {
            Some(Value::Object(w)) => TopicConfigWrapper::from_object(w)?,
            None | Some(Value::Null) => TopicConfigWrapper::default(),
            Some(_) => return Err(err("topicConfigSerializeWrapper is not an object")),
        };
        let filter_server_list = match o.get("filterServerList") {
            Some(Value::Array(items)) => items.iter().filter_map(as_string).collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            wrapper,
            filter_server_list: Some(filter_server_list),
        })
    }

    /// The plaintext layout of `RegisterBrokerBody.encode(true)` (spec §2.1.2).
    fn decode_compact(plain: &[u8], version: i32) -> Result<Self, BodyError> {
        let mut r = Cursor { s: plain, i: 0 };
        let dv_bytes = r.chunk("dataVersion")?;
        let data_version = DataVersion::decode(dv_bytes)?;
        let count = r.count("topic count")?;
        let mut topic_configs = Vec::new();
        for _ in 0..count {
            let text = std::str::from_utf8(r.chunk("topic config")?)
                .map_err(|_| err("compressed topic config is not UTF-8"))?;
            topic_configs.push(TopicConfig::from_compact(text)?);
        }
        let fs = r.chunk("filterServerList")?;
        let filter_server_list = match fastjson::parse(fs) {
            Ok(Value::Array(items)) => items.iter().filter_map(as_string).collect(),
            _ => return Err(err("compressed filterServerList is not a JSON array")),
        };
        let mut mapping_infos = BTreeMap::new();
        if version >= crate::protocol::version::V5_0_0 && r.remaining() > 0 {
            let n = r.count("mapping count")?;
            for _ in 0..n {
                let info = fastjson::parse(r.chunk("mapping info")?)
                    .map_err(|e| err(format!("compressed mapping info: {e}")))?;
                if let Some(topic) = info.get("topic").and_then(as_string) {
                    mapping_infos.insert(topic, info);
                }
            }
        }
        Ok(Self {
            wrapper: TopicConfigWrapper {
                data_version,
                topic_configs,
                mapping_infos,
            },
            filter_server_list: Some(filter_server_list),
        })
    }

    /// Encodes the uncompressed JSON form, as a 5.x broker sends it (used by tests and tools).
    pub fn encode_json(&self) -> String {
        self.write_json(false)
    }

    /// The JSON a 5.x Java broker writes: every `TopicConfig` field (`attributes` too) and the
    /// static-topic members (`mappingDataVersion`, `topicQueueMappingDetailMap`), in fastjson's
    /// key order. rocketmq-namesrv refuses the leaner [`Self::encode_json`]; Apache reads both.
    pub fn encode_java5_json(&self) -> String {
        self.write_json(true)
    }

    fn write_json(&self, java5: bool) -> String {
        let mut w = JsonWriter::new(Dialect::Legacy);
        w.begin_object();
        w.key("filterServerList").begin_array();
        for s in self.filter_server_list.iter().flatten() {
            w.elem().string(s);
        }
        w.end_array();
        w.key("topicConfigSerializeWrapper").begin_object();
        w.key("dataVersion");
        self.wrapper.data_version.write(&mut w);
        if java5 {
            w.key("mappingDataVersion");
            self.wrapper.data_version.write(&mut w);
        }
        w.key("topicConfigTable").begin_object();
        for tc in &self.wrapper.topic_configs {
            w.key(&tc.topic_name).begin_object();
            if java5 {
                w.key("attributes").begin_object().end_object();
            }
            w.key("order").bool(false);
            w.key("perm").long(tc.perm.into());
            w.key("readQueueNums").long(tc.read_queue_nums.into());
            w.key("topicFilterType").string("SINGLE_TAG");
            w.key("topicName").string(&tc.topic_name);
            w.key("topicSysFlag").long(tc.topic_sys_flag.into());
            w.key("writeQueueNums").long(tc.write_queue_nums.into());
            w.end_object();
        }
        w.end_object();
        if java5 {
            w.key("topicQueueMappingDetailMap")
                .begin_object()
                .end_object();
        }
        w.key("topicQueueMappingInfoMap").begin_object();
        for (topic, info) in &self.wrapper.mapping_infos {
            w.key(topic).value(info);
        }
        w.end_object();
        w.end_object();
        w.end_object();
        w.finish()
    }

    /// Encodes the compressed form (zlib over the compact layout), as `encode(true)` does.
    pub fn encode_compressed(&self, with_mapping: bool) -> Vec<u8> {
        let mut plain = Vec::new();
        let chunk = |out: &mut Vec<u8>, b: &[u8]| {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        };
        chunk(&mut plain, self.wrapper.data_version.encode().as_bytes());
        plain.extend_from_slice(&(self.wrapper.topic_configs.len() as i32).to_be_bytes());
        for tc in &self.wrapper.topic_configs {
            let text = format!(
                "{} {} {} {} SINGLE_TAG {{}}",
                tc.topic_name, tc.read_queue_nums, tc.write_queue_nums, tc.perm
            );
            chunk(&mut plain, text.as_bytes());
        }
        let mut w = JsonWriter::new(Dialect::Legacy);
        w.begin_array();
        for s in self.filter_server_list.iter().flatten() {
            w.elem().string(s);
        }
        w.end_array();
        chunk(&mut plain, w.finish().as_bytes());
        if with_mapping {
            plain.extend_from_slice(&(self.wrapper.mapping_infos.len() as i32).to_be_bytes());
            for info in self.wrapper.mapping_infos.values() {
                let mut w = JsonWriter::new(Dialect::Legacy);
                w.value(info);
                chunk(&mut plain, w.finish().as_bytes());
            }
        }
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = std::io::Write::write_all(&mut enc, &plain);
        enc.finish().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Route bodies

/// `QueueData`: one broker's queues for a topic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QueueData {
    /// `brokerName`: the broker group holding the queues.
    pub broker_name: String,
    /// `readQueueNums`: how many queues consumers read.
    pub read_queue_nums: i32,
    /// `writeQueueNums`: how many queues producers write.
    pub write_queue_nums: i32,
    /// `perm`: the [`crate::route::perm`] bits (read, write, inherit, priority).
    pub perm: i32,
    /// `topicSysFlag`: the `TopicSysFlag` bits (unit topic, unit subscription).
    pub topic_sys_flag: i32,
}

impl QueueData {
    /// Reads one parsed `queueDatas` entry; `brokerName` is required, the counts default to 0,
    /// and the pre-2021 spelling `topicSynFlag` is accepted.
    pub fn from_value(v: &Value) -> Result<Self, BodyError> {
        let Value::Object(o) = v else {
            return Err(err("a queueData entry is not an object"));
        };
        Ok(Self {
            broker_name: o
                .get("brokerName")
                .and_then(as_string)
                .ok_or_else(|| err("a queueData entry has no brokerName"))?,
            read_queue_nums: int32(o, "readQueueNums"),
            write_queue_nums: int32(o, "writeQueueNums"),
            perm: int32(o, "perm"),
            // Pre-2021 peers spell it topicSynFlag.
            topic_sys_flag: o
                .get("topicSysFlag")
                .or_else(|| o.get("topicSynFlag"))
                .and_then(as_i64)
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0),
        })
    }

    /// Writes the entry as fastjson does (properties in alphabetical order).
    pub fn write(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.key("brokerName").string(&self.broker_name);
        w.key("perm").long(self.perm.into());
        w.key("readQueueNums").long(self.read_queue_nums.into());
        w.key("topicSysFlag").long(self.topic_sys_flag.into());
        w.key("writeQueueNums").long(self.write_queue_nums.into());
        w.end_object();
    }
}

/// `BrokerData`: a broker group (one name, ids → addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerData {
    /// `cluster`: the cluster the group belongs to.
    pub cluster: String,
    /// `brokerName`: the group's name, shared by its master and slaves.
    pub broker_name: String,
    /// `brokerAddrs`: broker id (0 = master) → the broker's `host:port` for clients.
    pub broker_addrs: BTreeMap<i64, String>,
    /// `zoneName`: the group's zone, for zone-aware routing (`ZoneRouteRPCHook`).
    pub zone_name: Option<String>,
    /// `enableActingMaster`: the group lets a slave act as master while the master is gone.
    pub enable_acting_master: bool,
}

impl BrokerData {
    /// Reads one parsed `brokerData` object; `brokerAddrs` keys must be numbers (quoted or not).
    pub fn from_value(v: &Value) -> Result<Self, BodyError> {
        let Value::Object(o) = v else {
            return Err(err("a brokerData entry is not an object"));
        };
        let mut broker_addrs = BTreeMap::new();
        if let Some(Value::Object(m)) = o.get("brokerAddrs") {
            for (k, a) in m {
                let id = k
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| err(format!("broker id {k:?} is not a number")))?;
                if let Some(a) = as_string(a) {
                    broker_addrs.insert(id, a);
                }
            }
        }
        Ok(Self {
            cluster: o.get("cluster").and_then(as_string).unwrap_or_default(),
            broker_name: o.get("brokerName").and_then(as_string).unwrap_or_default(),
            broker_addrs,
            zone_name: o.get("zoneName").and_then(as_string),
            enable_acting_master: o
                .get("enableActingMaster")
                .and_then(fastjson::as_bool)
                .unwrap_or(false),
        })
    }

    /// Writes the group as fastjson does: ids as numeric keys (unquoted in the legacy dialect),
    /// `enableActingMaster` always, `zoneName` only when set.
    pub fn write(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.key("brokerAddrs").begin_object();
        for (id, addr) in &self.broker_addrs {
            w.long_key(*id).string(addr);
        }
        w.end_object();
        w.key("brokerName").string(&self.broker_name);
        w.key("cluster").string(&self.cluster);
        // Always written: rocketmq-client-rust 1.0.0 requires it (the 5.x shape).
        w.key("enableActingMaster").bool(self.enable_acting_master);
        if let Some(zone) = &self.zone_name {
            w.key("zoneName").string(zone);
        }
        w.end_object();
    }
}

/// `TopicRouteData`, the answer to GET_ROUTEINFO_BY_TOPIC.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopicRouteData {
    /// `orderTopicConf`: the topic's ORDER_TOPIC_CONFIG KV value (with `orderMessageEnable`).
    pub order_topic_conf: Option<String>,
    /// `queueDatas`: the topic's queues, one entry per broker group.
    pub queue_datas: Vec<QueueData>,
    /// `brokerDatas`: the groups serving the topic, with their addresses.
    pub broker_datas: Vec<BrokerData>,
    /// `filterServerTable`: broker address → its filter servers' addresses.
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    /// `topicQueueMappingByBroker`: static-topic mapping info per broker name, passed through.
    pub topic_queue_mapping_by_broker: Option<BTreeMap<String, Value>>,
}

impl TopicRouteData {
    /// Decodes a `TopicRouteData` body (a GET_ROUTEINFO_BY_TOPIC reply, or what
    /// REGISTER_TOPIC_IN_NAMESRV carries), in either dialect.
    pub fn decode(bytes: &[u8]) -> Result<Self, BodyError> {
        let o = parse_object(bytes, "TopicRouteData")?;
        let list = |key: &str| match o.get(key) {
            Some(Value::Array(items)) => Ok(items.as_slice()),
            None | Some(Value::Null) => Ok(&[][..]),
            Some(_) => Err(err(format!("{key} is not an array"))),
        };
        let queue_datas = list("queueDatas")?
            .iter()
            .map(QueueData::from_value)
            .collect::<Result<_, _>>()?;
        let broker_datas = list("brokerDatas")?
            .iter()
            .map(BrokerData::from_value)
            .collect::<Result<_, _>>()?;
        let mut filter_server_table = BTreeMap::new();
        if let Some(Value::Object(m)) = o.get("filterServerTable") {
            for (addr, servers) in m {
                if let Value::Array(items) = servers {
                    filter_server_table
                        .insert(addr.clone(), items.iter().filter_map(as_string).collect());
                }
            }
        }
        let topic_queue_mapping_by_broker = match o.get("topicQueueMappingByBroker") {
            Some(Value::Object(m)) => Some(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            _ => None,
        };
        Ok(Self {
            order_topic_conf: o.get("orderTopicConf").and_then(as_string),
            queue_datas,
            broker_datas,
            filter_server_table,
            topic_queue_mapping_by_broker,
        })
    }

    /// Encodes the route as Apache does in `dialect`, properties in alphabetical order.
    pub fn encode(&self, dialect: Dialect) -> String {
        let mut w = JsonWriter::new(dialect);
        w.begin_object();
        w.key("brokerDatas").begin_array();
        for bd in &self.broker_datas {
            w.elem();
            bd.write(&mut w);
        }
        w.end_array();
        w.key("filterServerTable").begin_object();
        for (addr, servers) in &self.filter_server_table {
            w.key(addr).begin_array();
            for s in servers {
                w.elem().string(s);
            }
            w.end_array();
        }
        w.end_object();
        if let Some(conf) = &self.order_topic_conf {
            w.key("orderTopicConf").string(conf);
        }
        w.key("queueDatas").begin_array();
        for qd in &self.queue_datas {
            w.elem();
            qd.write(&mut w);
        }
        w.end_array();
        if let Some(m) = &self.topic_queue_mapping_by_broker {
            w.key("topicQueueMappingByBroker").begin_object();
            for (bname, info) in m {
                w.key(bname).value(info);
            }
            w.end_object();
        }
        w.end_object();
        w.finish()
    }
}

/// `ClusterInfo`, the answer to GET_BROKER_CLUSTER_INFO.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterInfo {
    /// `brokerAddrTable`: broker name → its group.
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    /// `clusterAddrTable`: cluster name → the names of its broker groups.
    pub cluster_addr_table: BTreeMap<String, Vec<String>>,
}

impl ClusterInfo {
    /// Encodes the body as Apache does in `dialect`.
    pub fn encode(&self, dialect: Dialect) -> String {
        let mut w = JsonWriter::new(dialect);
        w.begin_object();
        w.key("brokerAddrTable").begin_object();
        for (name, bd) in &self.broker_addr_table {
            w.key(name);
            bd.write(&mut w);
        }
        w.end_object();
        w.key("clusterAddrTable").begin_object();
        for (cluster, names) in &self.cluster_addr_table {
            w.key(cluster).begin_array();
            for n in names {
                w.elem().string(n);
            }
            w.end_array();
        }
        w.end_object();
        w.end_object();
        w.finish()
    }

    /// Decodes a GET_BROKER_CLUSTER_INFO body, in either dialect.
    pub fn decode(bytes: &[u8]) -> Result<Self, BodyError> {
        let o = parse_object(bytes, "ClusterInfo")?;
        let mut info = Self::default();
        if let Some(Value::Object(m)) = o.get("brokerAddrTable") {
            for (name, bd) in m {
                info.broker_addr_table
                    .insert(name.clone(), BrokerData::from_value(bd)?);
            }
        }
        if let Some(Value::Object(m)) = o.get("clusterAddrTable") {
            for (cluster, names) in m {
                if let Value::Array(items) = names {
                    info.cluster_addr_table.insert(
                        cluster.clone(),
                        items.iter().filter_map(as_string).collect(),
                    );
                }
            }
        }
        Ok(info)
    }
}

/// `KVTable`: `{"table":{...}}`.
pub fn encode_kv_table(table: &BTreeMap<String, String>) -> String {
    let mut w = JsonWriter::new(Dialect::Legacy);
    w.begin_object().key("table").begin_object();
    for (k, v) in table {
        w.key(k).string(v);
    }
    w.end_object().end_object();
    w.finish()
}

/// Decodes a `KVTable` body (`{"table":{...}}`); non-string values are skipped.
pub fn decode_kv_table(bytes: &[u8]) -> Result<BTreeMap<String, String>, BodyError> {
    let o = parse_object(bytes, "KVTable")?;
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = o.get("table") {
        for (k, v) in m {
            if let Some(v) = as_string(v) {
                out.insert(k.clone(), v);
            }
        }
    }
    Ok(out)
}

/// `TopicList`: `{"brokerAddr":..,"topicList":[..]}` (brokerAddr only for the system list).
pub fn encode_topic_list<'a>(
    topics: impl IntoIterator<Item = &'a str>,
    broker_addr: Option<&str>,
) -> String {
    let mut w = JsonWriter::new(Dialect::Legacy);
    w.begin_object();
    if let Some(addr) = broker_addr {
        w.key("brokerAddr").string(addr);
    }
    w.key("topicList").begin_array();
    for t in topics {
        w.elem().string(t);
    }
    w.end_array().end_object();
    w.finish()
}

/// Decodes a `TopicList` body to its `topicList` (empty when absent).
pub fn decode_topic_list(bytes: &[u8]) -> Result<Vec<String>, BodyError> {
    let o = parse_object(bytes, "TopicList")?;
    match o.get("topicList") {
        Some(Value::Array(items)) => Ok(items.iter().filter_map(as_string).collect()),
        _ => Ok(Vec::new()),
    }
}

/// `GetBrokerMemberGroupResponseBody`.
pub fn encode_broker_member_group(
    cluster: &str,
    broker_name: &str,
    addrs: &BTreeMap<i64, String>,
    dialect: Dialect,
) -> String {
    let mut w = JsonWriter::new(dialect);
    w.begin_object().key("brokerMemberGroup").begin_object();
    w.key("brokerAddrs").begin_object();
    for (id, a) in addrs {
        w.long_key(*id).string(a);
    }
    w.end_object();
    w.key("brokerName").string(broker_name);
    w.key("cluster").string(cluster);
    w.end_object().end_object();
    w.finish()
}

#[cfg(test)]
#[path = "bodies_tests.rs"]
mod tests;
