//! The controller's decisions as events: what the log holds, one record per event, and what
//! [`super::Replicas::apply`] folds. Encoded as Apache's DLedger entries hold them (the
//! event's fields as fastjson writes them, keys sorted, with the derived `eventType` name), so
//! a record reads the same in our log as in a Java controller's.

use std::collections::BTreeSet;

use serde_json::Value;

use super::state::BrokerId;
use crate::codec::fastjson::{self, Dialect, JsonWriter};

/// One decision of the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `ALTER_SYNC_STATE_SET_EVENT` (type 1): the master's new SyncStateSet.
    AlterSyncStateSet {
        /// The set.
        broker_name: String,
        /// The new members.
        new_sync_state_set: BTreeSet<BrokerId>,
    },
    /// `APPLY_BROKER_ID_EVENT` (type 2): a replica took an id (creating the set if new).
    ApplyBrokerId {
        /// The cluster (kept only when this creates the set).
        cluster_name: String,
        /// The set.
        broker_name: String,
        /// The address from the check code.
        broker_address: String,
        /// The id taken.
        new_broker_id: BrokerId,
        /// `addr;millis`, so a retry with the same code is accepted.
        register_check_code: String,
    },
    /// `ELECT_MASTER_EVENT` (type 3): an election's outcome; `None`: no master (the epoch still
    /// moves).
    ElectMaster {
        /// The set.
        broker_name: String,
        /// The new master, if one was elected.
        new_master: Option<BrokerId>,
    },
    /// `CLEAN_BROKER_DATA_EVENT` (type 5): ids removed; none listed: the whole set.
    CleanBrokerData {
        /// The set.
        broker_name: String,
        /// The ids to remove; empty: the whole set.
        ids: BTreeSet<BrokerId>,
    },
    /// `UPDATE_BROKER_ADDRESS` (type 6): a replica registered from a new address.
    UpdateBrokerAddress {
        /// The cluster.
        cluster_name: String,
        /// The set.
        broker_name: String,
        /// The replica.
        broker_id: BrokerId,
        /// Its new address.
        broker_address: String,
    },
}

/// Why a log record did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError(pub String);

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EventError {}

impl Event {
    /// Apache's event type number (`EventType.getId`).
    pub fn type_id(&self) -> u16 {
        match self {
            Event::AlterSyncStateSet { .. } => 1,
            Event::ApplyBrokerId { .. } => 2,
            Event::ElectMaster { .. } => 3,
            Event::CleanBrokerData { .. } => 5,
            Event::UpdateBrokerAddress { .. } => 6,
        }
    }

    /// The set the event is about.
    pub fn broker_name(&self) -> &str {
        match self {
            Event::AlterSyncStateSet { broker_name, .. }
            | Event::ApplyBrokerId { broker_name, .. }
            | Event::ElectMaster { broker_name, .. }
            | Event::CleanBrokerData { broker_name, .. }
            | Event::UpdateBrokerAddress { broker_name, .. } => broker_name,
        }
    }

    /// The record: the 2-byte big-endian type, then the event as JSON (Apache's entry body).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.type_id().to_be_bytes().to_vec();
        out.extend_from_slice(self.to_json().as_bytes());
        out
    }

    /// Reads a record written by [`Event::encode`] (or by a Java controller).
    pub fn decode(record: &[u8]) -> Result<Event, EventError> {
        let (ty, json) = match record {
            [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
            _ => return Err(EventError("record shorter than its type".into())),
        };
        let v = fastjson::parse(json).map_err(|e| EventError(e.to_string()))?;
        let s = |k: &str| -> Result<String, EventError> {
            v.get(k)
                .and_then(fastjson::as_string)
                .ok_or_else(|| EventError(format!("event type {ty}: no {k}")))
        };
        let id = |k: &str| -> Result<BrokerId, EventError> {
            v.get(k)
                .and_then(fastjson::as_i64)
                .ok_or_else(|| EventError(format!("event type {ty}: no {k}")))
        };
        let ids = |k: &str| -> Result<BTreeSet<BrokerId>, EventError> {
            match v.get(k) {
                None | Some(Value::Null) => Ok(BTreeSet::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| {
                        fastjson::as_i64(x)
                            .ok_or_else(|| EventError(format!("event type {ty}: bad id in {k}")))
                    })
                    .collect(),
                Some(_) => Err(EventError(format!("event type {ty}: {k} is not a list"))),
            }
        };
        match ty {
            1 => Ok(Event::AlterSyncStateSet {
                broker_name: s("brokerName")?,
                new_sync_state_set: ids("newSyncStateSet")?,
            }),
            2 => Ok(Event::ApplyBrokerId {
                cluster_name: s("clusterName")?,
                broker_name: s("brokerName")?,
                broker_address: s("brokerAddress")?,
                new_broker_id: id("newBrokerId")?,
                register_check_code: s("registerCheckCode")?,
            }),
            3 => {
                let elected = v
                    .get("newMasterElected")
                    .and_then(fastjson::as_bool)
                    .unwrap_or(false);
                let new_master = if elected {
                    Some(id("newMasterBrokerId")?)
                } else {
                    None
                };
                Ok(Event::ElectMaster {
                    broker_name: s("brokerName")?,
                    new_master,
                })
            }
            5 => Ok(Event::CleanBrokerData {
                broker_name: s("brokerName")?,
                ids: ids("brokerIdSetToClean")?,
            }),
            6 => Ok(Event::UpdateBrokerAddress {
                cluster_name: s("clusterName")?,
                broker_name: s("brokerName")?,
                broker_id: id("brokerId")?,
                broker_address: s("brokerAddress")?,
            }),
            other => Err(EventError(format!("unknown event type {other}"))),
        }
    }

    fn to_json(&self) -> String {
        let mut w = JsonWriter::new(Dialect::Standard);
        w.begin_object();
        match self {
            Event::AlterSyncStateSet {
                broker_name,
                new_sync_state_set,
            } => {
                w.key("brokerName").string(broker_name);
                w.key("eventType").string("ALTER_SYNC_STATE_SET_EVENT");
                w.key("newSyncStateSet");
                ids(&mut w, new_sync_state_set);
            }
            Event::ApplyBrokerId {
                cluster_name,
                broker_name,
                broker_address,
                new_broker_id,
                register_check_code,
            } => {
                w.key("brokerAddress").string(broker_address);
                w.key("brokerName").string(broker_name);
                w.key("clusterName").string(cluster_name);
                w.key("eventType").string("APPLY_BROKER_ID_EVENT");
                w.key("newBrokerId").long(*new_broker_id);
                w.key("registerCheckCode").string(register_check_code);
            }
            Event::ElectMaster {
                broker_name,
                new_master,
            } => {
                w.key("brokerName").string(broker_name);
                w.key("eventType").string("ELECT_MASTER_EVENT");
                if let Some(m) = new_master {
                    w.key("newMasterBrokerId").long(*m);
                }
                w.key("newMasterElected").bool(new_master.is_some());
            }
            Event::CleanBrokerData {
                broker_name,
                ids: set,
            } => {
                if !set.is_empty() {
                    w.key("brokerIdSetToClean");
                    ids(&mut w, set);
                }
                w.key("brokerName").string(broker_name);
                w.key("eventType").string("CLEAN_BROKER_DATA_EVENT");
            }
            Event::UpdateBrokerAddress {
                cluster_name,
                broker_name,
                broker_id,
                broker_address,
            } => {
                w.key("brokerAddress").string(broker_address);
                w.key("brokerId").long(*broker_id);
                w.key("brokerName").string(broker_name);
                w.key("clusterName").string(cluster_name);
                w.key("eventType").string("UPDATE_BROKER_ADDRESS");
            }
        }
        w.end_object();
        w.finish()
    }
}

/// Writes a JSON array of ids.
pub(crate) fn ids(w: &mut JsonWriter, set: &BTreeSet<BrokerId>) {
    w.begin_array();
    for id in set {
        w.elem().long(*id);
    }
    w.end_array();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Event> {
        vec![
            Event::AlterSyncStateSet {
                broker_name: "broker-a".into(),
                new_sync_state_set: BTreeSet::from([1, 2]),
            },
            Event::ApplyBrokerId {
                cluster_name: "DefaultCluster".into(),
                broker_name: "broker-a".into(),
                broker_address: "127.0.0.1:30911".into(),
                new_broker_id: 1,
                register_check_code: "127.0.0.1:30911;1796164319126".into(),
            },
            Event::ElectMaster {
                broker_name: "broker-a".into(),
                new_master: Some(1),
            },
            Event::ElectMaster {
                broker_name: "broker-a".into(),
                new_master: None,
            },
            Event::CleanBrokerData {
                broker_name: "broker-a".into(),
                ids: BTreeSet::from([2]),
            },
            Event::CleanBrokerData {
                broker_name: "broker-a".into(),
                ids: BTreeSet::new(),
            },
            Event::UpdateBrokerAddress {
                cluster_name: "c".into(),
                broker_name: "broker-a".into(),
                broker_id: 3,
                broker_address: "10.0.0.1:1".into(),
            },
        ]
    }

    #[test]
    fn records_round_trip() {
        for e in all() {
            assert_eq!(Event::decode(&e.encode()), Ok(e.clone()), "{e:?}");
        }
    }

    #[test]
    fn records_read_as_apache_writes_them() {
        // The spec's §6.2 table, as read from a Java controller's DLedger data file.
        let apply = br#"{"brokerAddress":"127.0.0.1:30911","brokerName":"broker-a","clusterName":"DefaultCluster","eventType":"APPLY_BROKER_ID_EVENT","newBrokerId":1,"registerCheckCode":"127.0.0.1:30911;1796164319126"}"#;
        let e = &all()[1];
        assert_eq!(&e.encode()[2..], apply);
        assert_eq!(e.encode()[..2], [0, 2]);
        let alter = br#"{"brokerName":"broker-a","eventType":"ALTER_SYNC_STATE_SET_EVENT","newSyncStateSet":[1,2]}"#;
        assert_eq!(&all()[0].encode()[2..], alter);
        let elect = br#"{"brokerName":"broker-a","eventType":"ELECT_MASTER_EVENT","newMasterBrokerId":1,"newMasterElected":true}"#;
        assert_eq!(&all()[2].encode()[2..], elect);
        let clean = br#"{"brokerIdSetToClean":[2],"brokerName":"broker-a","eventType":"CLEAN_BROKER_DATA_EVENT"}"#;
        assert_eq!(&all()[4].encode()[2..], clean);
    }

    #[test]
    fn bad_records_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"\x00",
            b"\x00\x02{}",
            b"\x00\x09{}",
            b"\x00\x01{\"brokerName\":\"a\",\"newSyncStateSet\":7}",
            b"\x00\x03not json",
        ] {
            assert!(Event::decode(bad).is_err(), "{bad:?}");
        }
    }
}
