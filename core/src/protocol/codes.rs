//! Request, response and language codes, named as Apache names them
//! (`RequestCode.java`, `ResponseCode.java`, `RemotingSysResponseCode.java`); the frame vocabulary
//! (`LanguageCode`, `SerializeType`, flags) is in `codec::command`.

/// The request codes a NameServer answers, plus the one it sends (905).
pub mod request {
    /// `PUT_KV_CONFIG`: stores a value under a KV namespace and key.
    pub const PUT_KV_CONFIG: i32 = 100;
    /// `GET_KV_CONFIG`: a KV value by namespace and key (QUERY_NOT_FOUND if absent).
    pub const GET_KV_CONFIG: i32 = 101;
    /// `DELETE_KV_CONFIG`: removes a KV key (the namespace stays).
    pub const DELETE_KV_CONFIG: i32 = 102;
    /// `REGISTER_BROKER`: a broker announces itself and its topic config; also its heartbeat.
    pub const REGISTER_BROKER: i32 = 103;
    /// `UNREGISTER_BROKER`: a broker leaves: its address is removed from the route tables.
    pub const UNREGISTER_BROKER: i32 = 104;
    /// `GET_ROUTEINFO_BY_TOPIC`: a topic's route (queue and broker data).
    pub const GET_ROUTEINFO_BY_TOPIC: i32 = 105;
    /// `GET_BROKER_CLUSTER_INFO`: every broker group and which cluster holds which group.
    pub const GET_BROKER_CLUSTER_INFO: i32 = 106;
    /// `WIPE_WRITE_PERM_OF_BROKER`: clears the write bit of a broker group's queue data on every
    /// topic.
    pub const WIPE_WRITE_PERM_OF_BROKER: i32 = 205;
    /// `GET_ALL_TOPIC_LIST_FROM_NAMESERVER`: every topic name known (with `enableAllTopicList`).
    pub const GET_ALL_TOPIC_LIST_FROM_NAMESERVER: i32 = 206;
    /// `DELETE_TOPIC_IN_NAMESRV`: removes a topic's route, in one cluster or everywhere.
    pub const DELETE_TOPIC_IN_NAMESRV: i32 = 216;
    /// `REGISTER_TOPIC_IN_NAMESRV`: adds or replaces a topic's queue data for known broker groups.
    pub const REGISTER_TOPIC_IN_NAMESRV: i32 = 217;
    /// `GET_KVLIST_BY_NAMESPACE`: every key and value of a KV namespace.
    pub const GET_KVLIST_BY_NAMESPACE: i32 = 219;
    /// `GET_TOPICS_BY_CLUSTER`: the topics with queues on any broker group of a cluster.
    pub const GET_TOPICS_BY_CLUSTER: i32 = 224;
    /// `GET_SYSTEM_TOPIC_LIST_FROM_NS`: the cluster and broker names (system topics) plus one
    /// broker address.
    pub const GET_SYSTEM_TOPIC_LIST_FROM_NS: i32 = 304;
    /// `GET_UNIT_TOPIC_LIST`: the topics flagged as unit topics (`TopicSysFlag` FLAG_UNIT).
    pub const GET_UNIT_TOPIC_LIST: i32 = 311;
    /// `GET_HAS_UNIT_SUB_TOPIC_LIST`: the topics flagged as having unit subscriptions
    /// (FLAG_UNIT_SUB).
    pub const GET_HAS_UNIT_SUB_TOPIC_LIST: i32 = 312;
    /// `GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST`: the non-unit topics that have unit subscriptions.
    pub const GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: i32 = 313;
    /// `UPDATE_NAMESRV_CONFIG`: sets config keys from a `.properties` body, and persists them.
    pub const UPDATE_NAMESRV_CONFIG: i32 = 318;
    /// `GET_NAMESRV_CONFIG`: every config key and value, as `.properties` text.
    pub const GET_NAMESRV_CONFIG: i32 = 319;
    /// `QUERY_DATA_VERSION`: whether the broker's topic-config data version differs from the
    /// stored one; also a heartbeat.
    pub const QUERY_DATA_VERSION: i32 = 322;
    /// `ADD_WRITE_PERM_OF_BROKER`: sets a broker group's queue data to read|write (6) on every
    /// topic.
    pub const ADD_WRITE_PERM_OF_BROKER: i32 = 327;
    /// `GET_BROKER_MEMBER_GROUP`: the ids and addresses of a broker group's members.
    pub const GET_BROKER_MEMBER_GROUP: i32 = 901;
    /// `BROKER_HEARTBEAT`: keeps a registered broker alive (sent by acting-master brokers).
    pub const BROKER_HEARTBEAT: i32 = 904;
    /// Outbound, NameServer → broker (oneway).
    pub const NOTIFY_MIN_BROKER_ID_CHANGE: i32 = 905;

    /// Apache's name for a request code, for logs and metrics (`UNKNOWN` for the rest).
    pub fn name(code: i32) -> &'static str {
        match super::lookup(code) {
            Some(info) => info.name,
            None if code == NOTIFY_MIN_BROKER_ID_CHANGE => "NOTIFY_MIN_BROKER_ID_CHANGE",
            None => "UNKNOWN",
        }
    }
}

/// Whether a request code only reads the state or may change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Answered from the read view, in parallel, without the machine.
    Read,
    /// Goes through `NameServer::step`.
    Write,
}

/// When `aclEnable` requires a request to be signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclClass {
    /// Always signed (every write; heartbeats too: a forger could keep a dead broker in routes).
    Always,
    /// Signed only with `aclProtectReads=true`.
    WhenProtectReads,
}

/// One request code a NameServer answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    /// The number on the wire.
    pub code: i32,
    /// Apache's `RequestCode` name: logs and the `request` metrics label.
    pub name: &'static str,
    /// Read or write: decides the path the request takes.
    pub kind: Kind,
    /// Signing requirement under `aclEnable`.
    pub acl: AclClass,
}

const fn read(code: i32, name: &'static str) -> CodeInfo {
    CodeInfo {
        code,
        name,
        kind: Kind::Read,
        acl: AclClass::WhenProtectReads,
    }
}

const fn write(code: i32, name: &'static str) -> CodeInfo {
    CodeInfo {
        code,
        name,
        kind: Kind::Write,
        acl: AclClass::Always,
    }
}

/// The one request-code table (spec §2's 23 codes): dispatch, ACL, metrics labels and the code
/// list in `docs/protocol.md` all derive from it. A code not here answers
/// REQUEST_CODE_NOT_SUPPORTED (3).
pub const REQUEST_CODES: [CodeInfo; 23] = {
    use request::*;
    [
        write(PUT_KV_CONFIG, "PUT_KV_CONFIG"),
        read(GET_KV_CONFIG, "GET_KV_CONFIG"),
        write(DELETE_KV_CONFIG, "DELETE_KV_CONFIG"),
        write(REGISTER_BROKER, "REGISTER_BROKER"),
        write(UNREGISTER_BROKER, "UNREGISTER_BROKER"),
        read(GET_ROUTEINFO_BY_TOPIC, "GET_ROUTEINFO_BY_TOPIC"),
        read(GET_BROKER_CLUSTER_INFO, "GET_BROKER_CLUSTER_INFO"),
        write(WIPE_WRITE_PERM_OF_BROKER, "WIPE_WRITE_PERM_OF_BROKER"),
        read(
            GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
            "GET_ALL_TOPIC_LIST_FROM_NAMESERVER",
        ),
        write(DELETE_TOPIC_IN_NAMESRV, "DELETE_TOPIC_IN_NAMESRV"),
        write(REGISTER_TOPIC_IN_NAMESRV, "REGISTER_TOPIC_IN_NAMESRV"),
        read(GET_KVLIST_BY_NAMESPACE, "GET_KVLIST_BY_NAMESPACE"),
        read(GET_TOPICS_BY_CLUSTER, "GET_TOPICS_BY_CLUSTER"),
        read(
            GET_SYSTEM_TOPIC_LIST_FROM_NS,
            "GET_SYSTEM_TOPIC_LIST_FROM_NS",
        ),
        read(GET_UNIT_TOPIC_LIST, "GET_UNIT_TOPIC_LIST"),
        read(GET_HAS_UNIT_SUB_TOPIC_LIST, "GET_HAS_UNIT_SUB_TOPIC_LIST"),
        read(
            GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST,
            "GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST",
        ),
        write(UPDATE_NAMESRV_CONFIG, "UPDATE_NAMESRV_CONFIG"),
        read(GET_NAMESRV_CONFIG, "GET_NAMESRV_CONFIG"),
        // A heartbeat: moves the broker's deadline, so it is a write.
        write(QUERY_DATA_VERSION, "QUERY_DATA_VERSION"),
        write(ADD_WRITE_PERM_OF_BROKER, "ADD_WRITE_PERM_OF_BROKER"),
        read(GET_BROKER_MEMBER_GROUP, "GET_BROKER_MEMBER_GROUP"),
        write(BROKER_HEARTBEAT, "BROKER_HEARTBEAT"),
    ]
};

/// The table's entry for `code`, if the NameServer handles it.
pub fn lookup(code: i32) -> Option<&'static CodeInfo> {
    REQUEST_CODES.iter().find(|c| c.code == code)
}

/// Whether `code` is a handled read-only code.
pub fn is_read(code: i32) -> bool {
    lookup(code).is_some_and(|c| c.kind == Kind::Read)
}

/// Response codes (`RemotingSysResponseCode` and the subset of `ResponseCode` a NameServer uses).
pub mod response {
    /// `SUCCESS`: the request succeeded.
    pub const SUCCESS: i32 = 0;
    /// `SYSTEM_ERROR`: the request failed (bad header or body, a disabled query, a refused
    /// registration); the remark says why.
    pub const SYSTEM_ERROR: i32 = 1;
    /// `SYSTEM_BUSY`: the server is overloaded (`RemotingSysResponseCode`); the core never sends
    /// it.
    pub const SYSTEM_BUSY: i32 = 2;
    /// `REQUEST_CODE_NOT_SUPPORTED`: the request code is not one the NameServer handles.
    pub const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;
    /// `NO_PERMISSION`: refused: a blacklisted config key, or an ACL signature missing or wrong.
    pub const NO_PERMISSION: i32 = 16;
    /// `TOPIC_NOT_EXIST`: GET_ROUTEINFO_BY_TOPIC found no route for the topic.
    pub const TOPIC_NOT_EXIST: i32 = 17;
    /// `QUERY_NOT_FOUND`: the KV key or namespace asked for does not exist.
    pub const QUERY_NOT_FOUND: i32 = 22;
    /// `GO_AWAY`: the server is shutting down gracefully; the client should use another NameServer.
    pub const GO_AWAY: i32 = 1500;
}

/// `MQVersion.Version` ordinals that change behaviour.
pub mod version {
    /// Bodies of REGISTER_BROKER are `RegisterBrokerBody` from here on; older ones are legacy wrappers.
    pub const V3_0_11: i32 = 37;
    /// Route replies are standard JSON from here on (apache/rocketmq#4473).
    pub const V4_9_4: i32 = 401;
    /// Compressed register bodies carry the static-topic mapping section from here on.
    pub const V5_0_0: i32 = 413;
    /// 5.3.1: with `enableShutdownGracefully`, requests above this version get GO_AWAY while
    /// shutting down.
    pub const V5_3_1: i32 = 475;
    /// What our replies announce (Apache 5.3.3, `MQVersion.CURRENT_VERSION`).
    pub const CURRENT: i32 = crate::codec::command::CURRENT_VERSION;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handled_code_appears_exactly_once() {
        let mut codes: Vec<i32> = REQUEST_CODES.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), REQUEST_CODES.len(), "a code listed twice");
        for c in &REQUEST_CODES {
            assert_eq!(lookup(c.code), Some(c));
            assert_eq!(request::name(c.code), c.name);
            // Every write is always signed: a write left "WhenProtectReads" would be accepted
            // unsigned under aclEnable.
            assert_eq!(
                c.kind == Kind::Write,
                c.acl == AclClass::Always,
                "{}",
                c.name
            );
        }
        assert_eq!(
            lookup(request::NOTIFY_MIN_BROKER_ID_CHANGE),
            None,
            "sent, not handled"
        );
        assert_eq!(lookup(9999), None);
    }

    #[test]
    fn reads_are_the_twelve_queries() {
        let reads = REQUEST_CODES
            .iter()
            .filter(|c| c.kind == Kind::Read)
            .count();
        assert_eq!(reads, 12);
        assert!(is_read(request::GET_ROUTEINFO_BY_TOPIC));
        assert!(!is_read(request::REGISTER_BROKER));
        assert!(!is_read(request::BROKER_HEARTBEAT));
        assert!(!is_read(9999));
    }
}
