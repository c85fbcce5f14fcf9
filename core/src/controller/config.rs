//! The controller's settings: Apache's `ControllerConfig` keys that behaviour depends on, with
//! Apache's defaults, read from the same `.properties` file as the NameServer's (embedded mode)
//! and changed on one node by UPDATE_CONTROLLER_CONFIG (1009).

use std::collections::BTreeMap;

/// One controller peer of `controllerDLegerPeers` (`id-host:port`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// `n0`.
    pub id: String,
    /// `host:port`: its controller port.
    pub addr: String,
}

/// The settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerConfig {
    /// `controllerType`: only `DLedger` (the default) is served; `jRaft` is refused at start.
    pub controller_type: String,
    /// `controllerDLegerGroup`: the group name 1005 reports.
    pub group: String,
    /// `controllerDLegerPeers`: `n0-127.0.0.1:9878;n1-…`.
    pub peers: String,
    /// `controllerDLegerSelfId`: this node's id among the peers.
    pub self_id: String,
    /// `controllerStorePath`: where the event log (and 1009's properties) live.
    pub store_path: String,
    /// `scanNotActiveBrokerInterval` (ms): accepted; replicas expire exactly at their deadline.
    pub scan_not_active_broker_interval: i64,
    /// `scanInactiveMasterInterval` (ms): the leader's scan for sets whose master is not alive.
    pub scan_inactive_master_interval: i64,
    /// `electMasterMaxRetryCount`: accepted; one attempt is made (see docs/controller.md).
    pub elect_master_max_retry_count: i64,
    /// `enableElectUncleanMaster`: elect from outside the SyncStateSet when no member is alive.
    pub enable_elect_unclean_master: bool,
    /// `processReadEvent`: accepted; reads are answered from the applied state.
    pub process_read_event: bool,
    /// `notifyBrokerRoleChanged`: send NOTIFY_BROKER_ROLE_CHANGED (1008) after an election.
    pub notify_broker_role_changed: bool,
    /// `controllerThreadPoolNums`: accepted for compatibility.
    pub controller_thread_pool_nums: i64,
    /// `controllerRequestThreadPoolQueueCapacity`: accepted for compatibility.
    pub controller_request_thread_pool_queue_capacity: i64,
    /// `mappedFileSize`: accepted for compatibility (our log grows as it is written).
    pub mapped_file_size: i64,
    /// `configBlackList`: keys 1009 refuses, `;`-separated.
    pub config_black_list: String,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            controller_type: "DLedger".into(),
            group: "DefaultControllerGroup".into(),
            peers: "n0-127.0.0.1:9878".into(),
            self_id: "n0".into(),
            store_path: "~/DLedgerController".into(),
            scan_not_active_broker_interval: 5000,
            scan_inactive_master_interval: 5000,
            elect_master_max_retry_count: 3,
            enable_elect_unclean_master: false,
            process_read_event: false,
            notify_broker_role_changed: true,
            controller_thread_pool_nums: 16,
            controller_request_thread_pool_queue_capacity: 50000,
            mapped_file_size: 1 << 30,
            config_black_list: "configBlackList;configStorePath".into(),
        }
    }
}

/// Keys 1009 always refuses (besides `configBlackList`'s items), as Apache does; plus the ones
/// that only take effect at start (where a changed value would lie about the running node).
const ALWAYS_REFUSED: [&str; 9] = [
    "configBlackList",
    "configStorePath",
    "rocketmqHome",
    "controllerStorePath",
    "controllerDLegerPeers",
    "controllerDLegerSelfId",
    "controllerDLegerGroup",
    "controllerType",
    "enableControllerInNamesrv",
];

fn parse_bool(v: &str) -> bool {
    // Java's Boolean.parseBoolean.
    v.trim().eq_ignore_ascii_case("true")
}

fn parse_long(key: &str, v: &str) -> Result<i64, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{key}: not a number: {v:?}"))
}

impl ControllerConfig {
    /// Every key this config knows.
    pub const KEYS: [&'static str; 15] = [
        "configBlackList",
        "controllerDLegerGroup",
        "controllerDLegerPeers",
        "controllerDLegerSelfId",
        "controllerRequestThreadPoolQueueCapacity",
        "controllerStorePath",
        "controllerThreadPoolNums",
        "controllerType",
        "electMasterMaxRetryCount",
        "enableElectUncleanMaster",
        "mappedFileSize",
        "notifyBrokerRoleChanged",
        "processReadEvent",
        "scanInactiveMasterInterval",
        "scanNotActiveBrokerInterval",
    ];

    /// Whether `key` is one of [`Self::KEYS`].
    pub fn is_known_key(key: &str) -> bool {
        Self::KEYS.contains(&key)
    }

    /// Sets a key. `Ok(false)`: not a controller key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let v = value.trim();
        match key {
            "controllerType" => self.controller_type = v.into(),
            "controllerDLegerGroup" => self.group = v.into(),
            "controllerDLegerPeers" => self.peers = v.into(),
            "controllerDLegerSelfId" => self.self_id = v.into(),
            "controllerStorePath" => self.store_path = v.into(),
            "configBlackList" => self.config_black_list = v.into(),
            "scanNotActiveBrokerInterval" => {
                self.scan_not_active_broker_interval = parse_long(key, v)?
            }
            "scanInactiveMasterInterval" => {
                // Each scan takes the controller's lock; below 100 ms it would be most of
                // what the controller does.
                let ms = parse_long(key, v)?;
                if ms < 100 {
                    return Err(format!("{key}: {ms} ms is below the minimum of 100"));
                }
                self.scan_inactive_master_interval = ms
            }
            "electMasterMaxRetryCount" => self.elect_master_max_retry_count = parse_long(key, v)?,
            "enableElectUncleanMaster" => self.enable_elect_unclean_master = parse_bool(v),
            "processReadEvent" => self.process_read_event = parse_bool(v),
            "notifyBrokerRoleChanged" => self.notify_broker_role_changed = parse_bool(v),
            "controllerThreadPoolNums" => self.controller_thread_pool_nums = parse_long(key, v)?,
            "controllerRequestThreadPoolQueueCapacity" => {
                self.controller_request_thread_pool_queue_capacity = parse_long(key, v)?
            }
            "mappedFileSize" => self.mapped_file_size = parse_long(key, v)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Every key and value, sorted by key (what 1010 lists and 1009 persists).
    pub fn all(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("configBlackList", self.config_black_list.clone()),
            ("controllerDLegerGroup", self.group.clone()),
            ("controllerDLegerPeers", self.peers.clone()),
            ("controllerDLegerSelfId", self.self_id.clone()),
            (
                "controllerRequestThreadPoolQueueCapacity",
                self.controller_request_thread_pool_queue_capacity
                    .to_string(),
            ),
            ("controllerStorePath", self.store_path.clone()),
            (
                "controllerThreadPoolNums",
                self.controller_thread_pool_nums.to_string(),
            ),
            ("controllerType", self.controller_type.clone()),
            (
                "electMasterMaxRetryCount",
                self.elect_master_max_retry_count.to_string(),
            ),
            (
                "enableElectUncleanMaster",
                self.enable_elect_unclean_master.to_string(),
            ),
            ("mappedFileSize", self.mapped_file_size.to_string()),
            (
                "notifyBrokerRoleChanged",
                self.notify_broker_role_changed.to_string(),
            ),
            ("processReadEvent", self.process_read_event.to_string()),
            (
                "scanInactiveMasterInterval",
                self.scan_inactive_master_interval.to_string(),
            ),
            (
                "scanNotActiveBrokerInterval",
                self.scan_not_active_broker_interval.to_string(),
            ),
        ])
    }

    /// The peers of `controllerDLegerPeers`, in the order given.
    pub fn peer_list(&self) -> Result<Vec<Peer>, String> {
        let mut out: Vec<Peer> = Vec::new();
        for part in self
            .peers
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (id, addr) = part
                .split_once('-')
                .filter(|(id, addr)| !id.is_empty() && addr.contains(':'))
                .ok_or_else(|| {
                    format!("controllerDLegerPeers: {part:?} is not id-host:port (e.g. n0-127.0.0.1:9878)")
                })?;
            if out.iter().any(|p| p.id == id) {
                return Err(format!("controllerDLegerPeers: peer {id} listed twice"));
            }
            out.push(Peer {
                id: id.into(),
                addr: addr.into(),
            });
        }
        if out.is_empty() {
            return Err("controllerDLegerPeers is empty".into());
        }
        Ok(out)
    }

    /// This node's own peer entry.
    pub fn self_peer(&self) -> Result<Peer, String> {
        self.peer_list()?
            .into_iter()
            .find(|p| p.id == self.self_id)
            .ok_or_else(|| {
                format!(
                    "controllerDLegerSelfId {} is not among controllerDLegerPeers {}",
                    self.self_id, self.peers
                )
            })
    }

    /// The keys 1009 refuses.
    pub fn blacklist(&self) -> Vec<String> {
        let mut out: Vec<String> = ALWAYS_REFUSED.iter().map(|s| (*s).to_owned()).collect();
        out.extend(
            self.config_black_list
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        out
    }
}

/// `key=value` lines, in the pairs' order: what 1010 answers and `controller.properties` holds.
pub fn properties_text<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(k.as_ref());
        out.push('=');
        out.push_str(v.as_ref());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_self_is_found() {
        let mut c = ControllerConfig::default();
        c.set(
            "controllerDLegerPeers",
            "n0-127.0.0.1:9878;n1-127.0.0.1:9868;",
        )
        .unwrap();
        c.set("controllerDLegerSelfId", "n1").unwrap();
        assert_eq!(c.peer_list().unwrap().len(), 2);
        assert_eq!(c.self_peer().unwrap().addr, "127.0.0.1:9868");
        c.set("controllerDLegerSelfId", "n7").unwrap();
        assert!(c.self_peer().is_err());
        c.set("controllerDLegerPeers", "n0:9878").unwrap();
        assert!(c.peer_list().is_err());
    }

    #[test]
    fn every_key_is_listed_and_settable() {
        let c = ControllerConfig::default();
        let all = c.all();
        assert_eq!(all.len(), ControllerConfig::KEYS.len());
        for k in ControllerConfig::KEYS {
            assert!(all.contains_key(k), "{k}");
            let mut d = ControllerConfig::default();
            assert_eq!(d.set(k, &all[k]), Ok(true), "{k}");
            assert_eq!(d, c, "{k} round-trips");
        }
        assert!(ControllerConfig::default().set("nope", "1") == Ok(false));
        assert!(ControllerConfig::default()
            .set("electMasterMaxRetryCount", "x")
            .is_err());
    }
}
