//! Typed request headers, decoded from `extFields` (spec §1.7, §2).
//!
//! Apache silently leaves a missing or unparsable field null and fails later with an NPE
//! (SYSTEM_ERROR with a Java stack frame as remark). We fail up front with a [`HeaderError`]
//! that names the field, and the machine answers SYSTEM_ERROR with that text.

use super::RemotingCommand;

/// Why a request header could not be decoded (answered SYSTEM_ERROR with this text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// A required (`@CFNotNull`) extFields entry is absent.
    Missing(&'static str),
    /// A numeric extFields entry does not parse as one.
    NotANumber {
        /// The extFields key.
        field: &'static str,
        /// The value as received.
        value: String,
    },
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::Missing(field) => write!(f, "the request header field {field} is missing"),
            HeaderError::NotANumber { field, value } => {
                write!(
                    f,
                    "the request header field {field} is not a number: {value:?}"
                )
            }
        }
    }
}

impl std::error::Error for HeaderError {}

/// Field access over a command's extFields.
struct Ext<'a>(&'a RemotingCommand);

impl Ext<'_> {
    fn opt(&self, field: &'static str) -> Option<String> {
        self.0.ext(field).map(str::to_owned)
    }

    fn req(&self, field: &'static str) -> Result<String, HeaderError> {
        self.opt(field).ok_or(HeaderError::Missing(field))
    }

    fn opt_i64(&self, field: &'static str) -> Result<Option<i64>, HeaderError> {
        match self.0.ext(field) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| HeaderError::NotANumber {
                    field,
                    value: v.to_owned(),
                }),
        }
    }

    fn req_i64(&self, field: &'static str) -> Result<i64, HeaderError> {
        self.opt_i64(field)?.ok_or(HeaderError::Missing(field))
    }

    /// `Boolean.parseBoolean`: "true" in any case is true, anything else false.
    fn opt_bool(&self, field: &'static str) -> Option<bool> {
        self.0.ext(field).map(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// REGISTER_BROKER (103).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterBrokerRequestHeader {
    /// `brokerName`: the broker's group name.
    pub broker_name: String,
    /// `brokerAddr`: the broker's `host:port` for clients.
    pub broker_addr: String,
    /// `clusterName`: the cluster the broker belongs to.
    pub cluster_name: String,
    /// `haServerAddr`: the broker's HA (replication) address, given to its slaves.
    /// Binary headers turn `""` into null; an absent HA address is an empty one.
    pub ha_server_addr: String,
    /// `brokerId`: 0 for the master, above 0 for slaves.
    pub broker_id: i64,
    /// `heartbeatTimeoutMillis`: how long the broker stays alive without a heartbeat; absent
    /// (or non-positive) means the 120 s default.
    pub heartbeat_timeout_millis: Option<i64>,
    /// `enableActingMaster`: the broker's `enableSlaveActingMaster`.
    /// `None` marks a pre-5.x broker (`isOldVersionBroker`).
    pub enable_acting_master: Option<bool>,
    /// `compressed`: the body is in the compressed form. 5.x Java brokers always send `false`,
    /// so a body that looks compressed is inflated regardless.
    pub compressed: bool,
    /// `bodyCrc32`: `CRC32(body) & 0x7FFFFFFF`, checked when non-zero.
    pub body_crc32: i32,
    /// Extra ext key `__ZONE_NAME`.
    pub zone_name: Option<String>,
}

impl RegisterBrokerRequestHeader {
    /// Reads the header from `cmd`'s extFields; name, address, cluster and id are required.
    pub fn decode(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        let e = Ext(cmd);
        let crc = e.opt_i64("bodyCrc32")?.unwrap_or(0);
        Ok(Self {
            broker_name: e.req("brokerName")?,
            broker_addr: e.req("brokerAddr")?,
            cluster_name: e.req("clusterName")?,
            ha_server_addr: e.opt("haServerAddr").unwrap_or_default(),
            broker_id: e.req_i64("brokerId")?,
            heartbeat_timeout_millis: e.opt_i64("heartbeatTimeoutMillis")?,
            enable_acting_master: e.opt_bool("enableActingMaster"),
            compressed: e.opt_bool("compressed").unwrap_or(false),
            body_crc32: i32::try_from(crc).map_err(|_| HeaderError::NotANumber {
                field: "bodyCrc32",
                value: crc.to_string(),
            })?,
            zone_name: e.opt("__ZONE_NAME"),
        })
    }
}

/// UNREGISTER_BROKER (104) and QUERY_DATA_VERSION (322) share these fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerIdentityHeader {
    /// `brokerName`: the broker's group name.
    pub broker_name: String,
    /// `brokerAddr`: the broker's `host:port` for clients.
    pub broker_addr: String,
    /// `clusterName`: the cluster the broker belongs to.
    pub cluster_name: String,
    /// `brokerId`: 0 for the master, above 0 for slaves.
    pub broker_id: i64,
}

impl BrokerIdentityHeader {
    /// Reads the header from `cmd`'s extFields; all four fields are required.
    pub fn decode(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        let e = Ext(cmd);
        Ok(Self {
            broker_name: e.req("brokerName")?,
            broker_addr: e.req("brokerAddr")?,
            cluster_name: e.req("clusterName")?,
            broker_id: e.req_i64("brokerId")?,
        })
    }
}

/// BROKER_HEARTBEAT (904): only cluster and address matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerHeartbeatRequestHeader {
    /// `clusterName`: the cluster the broker belongs to.
    pub cluster_name: String,
    /// `brokerAddr`: the broker's `host:port` for clients.
    pub broker_addr: String,
    /// `brokerName`: the broker's group name (not needed to find the live entry).
    pub broker_name: Option<String>,
}

impl BrokerHeartbeatRequestHeader {
    /// Reads the header from `cmd`'s extFields; cluster and address are required.
    pub fn decode(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        let e = Ext(cmd);
        Ok(Self {
            cluster_name: e.req("clusterName")?,
            broker_addr: e.req("brokerAddr")?,
            broker_name: e.opt("brokerName"),
        })
    }
}

/// GET_ROUTEINFO_BY_TOPIC (105).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRouteInfoRequestHeader {
    /// `topic`: the topic whose route is asked for.
    pub topic: String,
    /// `acceptStandardJsonOnly`: the client wants the standard JSON dialect whatever its version.
    pub accept_standard_json_only: bool,
    /// `__ZONE_MODE` / `__ZONE_NAME` for the nearby-route filter.
    pub zone_mode: bool,
    /// `__ZONE_NAME`: the client's zone, used when `zone_mode` is on.
    pub zone_name: Option<String>,
}

impl GetRouteInfoRequestHeader {
    /// Reads the header from `cmd`'s extFields; `topic` is required.
    pub fn decode(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        let e = Ext(cmd);
        Ok(Self {
            topic: e.req("topic")?,
            accept_standard_json_only: e.opt_bool("acceptStandardJsonOnly").unwrap_or(false),
            zone_mode: e.opt_bool("__ZONE_MODE").unwrap_or(false),
            zone_name: e.opt("__ZONE_NAME"),
        })
    }
}

/// Headers with one required string field: `brokerName` (205, 327), `topic` (217),
/// `cluster` (224), `namespace` (219).
pub fn required(cmd: &RemotingCommand, field: &'static str) -> Result<String, HeaderError> {
    Ext(cmd).req(field)
}

/// An optional string field of `cmd`'s header; `None` when absent.
pub fn optional(cmd: &RemotingCommand, field: &'static str) -> Option<String> {
    Ext(cmd).opt(field)
}

/// DELETE_TOPIC_IN_NAMESRV (216).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTopicFromNamesrvRequestHeader {
    /// `topic`: the topic to remove.
    pub topic: String,
    /// `clusterName`: if set, remove the topic only from this cluster's broker groups.
    pub cluster_name: Option<String>,
}

impl DeleteTopicFromNamesrvRequestHeader {
    /// Reads the header from `cmd`'s extFields; `topic` is required.
    pub fn decode(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        let e = Ext(cmd);
        Ok(Self {
            topic: e.req("topic")?,
            cluster_name: e.opt("clusterName"),
        })
    }
}

/// GET_BROKER_MEMBER_GROUP (901).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBrokerMemberGroupRequestHeader {
    /// `clusterName`: echoed in the reply, not checked against the tables.
    pub cluster_name: String,
    /// `brokerName`: the group whose members are asked for.
    pub broker_name: String,
}

impl GetBrokerMemberGroupRequestHeader {
    /// Reads the header from `cmd`'s extFields; both fields are required.
    pub fn decode(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        let e = Ext(cmd);
        Ok(Self {
            cluster_name: e.req("clusterName")?,
            broker_name: e.req("brokerName")?,
        })
    }
}

/// KV codes 100–102: fields are optional on the wire; the handlers decide what absence means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvConfigRequestHeader {
    /// `namespace`: the KV namespace (e.g. ORDER_TOPIC_CONFIG).
    pub namespace: Option<String>,
    /// `key`: the key within the namespace.
    pub key: Option<String>,
    /// `value`: the value to store (PUT_KV_CONFIG only).
    pub value: Option<String>,
}

impl KvConfigRequestHeader {
    /// Reads the header from `cmd`'s extFields; every field may be absent.
    pub fn decode(cmd: &RemotingCommand) -> Self {
        let e = Ext(cmd);
        Self {
            namespace: e.opt("namespace"),
            key: e.opt("key"),
            value: e.opt("value"),
        }
    }
}
