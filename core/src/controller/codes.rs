//! The controller's request and response codes (Apache's `RequestCode` 904 and 1001-1013,
//! `ResponseCode` 2000-2016).

/// Request codes a controller answers, and the one it sends (1008).
pub mod request {
    /// `BROKER_HEARTBEAT`: a replica is alive (oneway, every second, to every controller).
    pub const BROKER_HEARTBEAT: i32 = 904;
    /// `CONTROLLER_ALTER_SYNC_STATE_SET`: the master's new SyncStateSet.
    pub const CONTROLLER_ALTER_SYNC_STATE_SET: i32 = 1001;
    /// `CONTROLLER_ELECT_MASTER`: elect a master (a broker, an admin, or the controller itself).
    pub const CONTROLLER_ELECT_MASTER: i32 = 1002;
    /// `CONTROLLER_REGISTER_BROKER`: a replica with an id registers; the reply names the master.
    pub const CONTROLLER_REGISTER_BROKER: i32 = 1003;
    /// `CONTROLLER_GET_REPLICA_INFO`: a set's master, epochs and SyncStateSet.
    pub const CONTROLLER_GET_REPLICA_INFO: i32 = 1004;
    /// `CONTROLLER_GET_METADATA_INFO`: the controller group, its leader and peers (any node).
    pub const CONTROLLER_GET_METADATA_INFO: i32 = 1005;
    /// `CONTROLLER_GET_SYNC_STATE_DATA`: sets' replicas, in sync or not, alive or not.
    pub const CONTROLLER_GET_SYNC_STATE_DATA: i32 = 1006;
    /// `NOTIFY_BROKER_ROLE_CHANGED`: controller → broker, oneway, after an election.
    pub const NOTIFY_BROKER_ROLE_CHANGED: i32 = 1008;
    /// `UPDATE_CONTROLLER_CONFIG`: settings of the addressed node (not replicated).
    pub const UPDATE_CONTROLLER_CONFIG: i32 = 1009;
    /// `GET_CONTROLLER_CONFIG`: settings of the addressed node.
    pub const GET_CONTROLLER_CONFIG: i32 = 1010;
    /// `CLEAN_BROKER_DATA`: remove ids (or a whole set) from the controller.
    pub const CLEAN_BROKER_DATA: i32 = 1011;
    /// `CONTROLLER_GET_NEXT_BROKER_ID`: the id a new replica should apply for.
    pub const CONTROLLER_GET_NEXT_BROKER_ID: i32 = 1012;
    /// `CONTROLLER_APPLY_BROKER_ID`: a new replica claims an id.
    pub const CONTROLLER_APPLY_BROKER_ID: i32 = 1013;
}

/// What each request code is, for dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Answered by any node from its own state (904, 1005, 1009, 1010).
    Local,
    /// Answered by the leader only, in order, against the replicated state.
    Leader,
}

/// The codes served, with their Apache name and class.
pub const CODES: [(i32, &str, Class); 12] = [
    (request::BROKER_HEARTBEAT, "BROKER_HEARTBEAT", Class::Local),
    (
        request::CONTROLLER_ALTER_SYNC_STATE_SET,
        "CONTROLLER_ALTER_SYNC_STATE_SET",
        Class::Leader,
    ),
    (
        request::CONTROLLER_ELECT_MASTER,
        "CONTROLLER_ELECT_MASTER",
        Class::Leader,
    ),
    (
        request::CONTROLLER_REGISTER_BROKER,
        "CONTROLLER_REGISTER_BROKER",
        Class::Leader,
    ),
    (
        request::CONTROLLER_GET_REPLICA_INFO,
        "CONTROLLER_GET_REPLICA_INFO",
        Class::Leader,
    ),
    (
        request::CONTROLLER_GET_METADATA_INFO,
        "CONTROLLER_GET_METADATA_INFO",
        Class::Local,
    ),
    (
        request::CONTROLLER_GET_SYNC_STATE_DATA,
        "CONTROLLER_GET_SYNC_STATE_DATA",
        Class::Leader,
    ),
    (
        request::UPDATE_CONTROLLER_CONFIG,
        "UPDATE_CONTROLLER_CONFIG",
        Class::Local,
    ),
    (
        request::GET_CONTROLLER_CONFIG,
        "GET_CONTROLLER_CONFIG",
        Class::Local,
    ),
    (
        request::CLEAN_BROKER_DATA,
        "CLEAN_BROKER_DATA",
        Class::Leader,
    ),
    (
        request::CONTROLLER_GET_NEXT_BROKER_ID,
        "CONTROLLER_GET_NEXT_BROKER_ID",
        Class::Leader,
    ),
    (
        request::CONTROLLER_APPLY_BROKER_ID,
        "CONTROLLER_APPLY_BROKER_ID",
        Class::Leader,
    ),
];

/// The class of a served code; `None`: answered 3 (REQUEST_CODE_NOT_SUPPORTED).
pub fn class(code: i32) -> Option<Class> {
    CODES.iter().find(|c| c.0 == code).map(|c| c.2)
}

/// Apache's name of a served code (`"UNKNOWN"` otherwise).
pub fn name(code: i32) -> &'static str {
    CODES
        .iter()
        .find(|c| c.0 == code)
        .map_or("UNKNOWN", |c| c.1)
}

/// Response codes.
pub mod response {
    pub use crate::protocol::codes::response::{
        GO_AWAY, NO_PERMISSION, REQUEST_CODE_NOT_SUPPORTED, SUCCESS, SYSTEM_ERROR,
    };
    /// `CONTROLLER_FENCED_MASTER_EPOCH`: 1001 with a stale masterEpoch.
    pub const CONTROLLER_FENCED_MASTER_EPOCH: i32 = 2000;
    /// `CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH`: 1001 with a stale syncStateSetEpoch.
    pub const CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH: i32 = 2001;
    /// `CONTROLLER_INVALID_MASTER`: 1001 from a broker that is not the master.
    pub const CONTROLLER_INVALID_MASTER: i32 = 2002;
    /// `CONTROLLER_INVALID_REPLICAS`: 1001 naming an id that is not registered.
    pub const CONTROLLER_INVALID_REPLICAS: i32 = 2003;
    /// `CONTROLLER_MASTER_NOT_AVAILABLE`: the controller's own election found nobody.
    pub const CONTROLLER_MASTER_NOT_AVAILABLE: i32 = 2004;
    /// `CONTROLLER_INVALID_REQUEST`: 904 without brokerId.
    pub const CONTROLLER_INVALID_REQUEST: i32 = 2005;
    /// `CONTROLLER_BROKER_NOT_ALIVE`: 1001 naming a replica that is not alive.
    pub const CONTROLLER_BROKER_NOT_ALIVE: i32 = 2006;
    /// `CONTROLLER_NOT_LEADER`: a leader-only request on another node.
    pub const CONTROLLER_NOT_LEADER: i32 = 2007;
    /// `CONTROLLER_BROKER_METADATA_NOT_EXIST`: 1004 for an unknown set.
    pub const CONTROLLER_BROKER_METADATA_NOT_EXIST: i32 = 2008;
    /// `CONTROLLER_INVALID_CLEAN_BROKER_METADATA`: 1011 refused.
    pub const CONTROLLER_INVALID_CLEAN_BROKER_METADATA: i32 = 2009;
    /// `CONTROLLER_BROKER_NEED_TO_BE_REGISTERED`: 1003 or 1002 for an unknown set or id.
    pub const CONTROLLER_BROKER_NEED_TO_BE_REGISTERED: i32 = 2010;
    /// `CONTROLLER_MASTER_STILL_EXIST`: 1002 when the current master stays.
    pub const CONTROLLER_MASTER_STILL_EXIST: i32 = 2011;
    /// `CONTROLLER_ELECT_MASTER_FAILED`: 1002 from a broker or admin, nobody eligible.
    pub const CONTROLLER_ELECT_MASTER_FAILED: i32 = 2012;
    /// `CONTROLLER_ALTER_SYNC_STATE_SET_FAILED`: 1001 refused (unknown set, same set, master
    /// left out).
    pub const CONTROLLER_ALTER_SYNC_STATE_SET_FAILED: i32 = 2013;
    /// `CONTROLLER_BROKER_ID_INVALID`: 1013 refused.
    pub const CONTROLLER_BROKER_ID_INVALID: i32 = 2014;
}
