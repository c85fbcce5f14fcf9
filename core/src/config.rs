//! `NamesrvConfig` + `NettyServerConfig` (spec §5): every key under Apache's name with Apache's
//! default, read live by the handlers, so UPDATE_NAMESRV_CONFIG takes effect at once wherever
//! Apache reads the key per request.

use std::collections::{BTreeMap, BTreeSet};

/// A config value type: parsed from and rendered to `.properties` text.
pub trait ConfigValue: Sized {
    /// Parses a value as `MixAll.properties2Object` would (surrounding whitespace ignored).
    fn parse_value(s: &str) -> Result<Self, String>;
    /// The value as written to `.properties` and shown by GET_NAMESRV_CONFIG.
    fn render(&self) -> String;
}

impl ConfigValue for bool {
    fn parse_value(s: &str) -> Result<Self, String> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(true),
            t if t.eq_ignore_ascii_case("false") => Ok(false),
            t => Err(format!("expected true or false, got {t:?}")),
        }
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

macro_rules! integer_config_value {
    ($($t:ty),*) => {$(
        impl ConfigValue for $t {
            fn parse_value(s: &str) -> Result<Self, String> {
                s.trim().parse().map_err(|_| format!("expected an integer, got {:?}", s.trim()))
            }
            fn render(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

integer_config_value!(i32, i64);

impl ConfigValue for String {
    fn parse_value(s: &str) -> Result<Self, String> {
        // MixAll.properties2Object trims strings.
        Ok(s.trim().to_owned())
    }
    fn render(&self) -> String {
        self.clone()
    }
}

/// `tlsServerMode`: Apache's `tls.server.mode`. Read at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain only; a TLS ClientHello is closed.
    Disabled,
    /// TLS or plain on the same port, told apart by the first byte (0x16 starts a TLS
    /// handshake; a plain frame's first byte is the top of its length and is never 0x16
    /// under any sane `frameMaxLength`). Without a certificate configured: plain only.
    Permissive,
    /// TLS only; a plain connection is closed.
    Enforcing,
}

impl TlsMode {
    /// The `tlsServerMode` value: `disabled`, `permissive` or `enforcing`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disabled => "disabled",
            TlsMode::Permissive => "permissive",
            TlsMode::Enforcing => "enforcing",
        }
    }
}

impl ConfigValue for TlsMode {
    fn parse_value(s: &str) -> Result<Self, String> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("disabled") => Ok(TlsMode::Disabled),
            t if t.eq_ignore_ascii_case("permissive") => Ok(TlsMode::Permissive),
            t if t.eq_ignore_ascii_case("enforcing") => Ok(TlsMode::Enforcing),
            t => Err(format!(
                "expected disabled, permissive or enforcing, got {t:?}"
            )),
        }
    }
    fn render(&self) -> String {
        self.as_str().to_owned()
    }
}

/// One documented key, for `-p`, the README table and tooling.
#[derive(Clone, Copy, Debug)]
pub struct KeyDoc {
    /// The key as Apache spells it in `.properties` (`listenPort`, `kvConfigPath`, ...).
    pub key: &'static str,
    /// One-line description of what the key does here.
    pub doc: &'static str,
}

macro_rules! config {
    ($( $(#[$m:meta])* $field:ident : $ty:ty = $key:literal, $default:expr, $doc:literal; )*) => {
        /// Every NameServer setting. Unknown keys from a `-c` file are kept in `extra`
        /// (Apache's `Configuration` keeps them too, and GET_NAMESRV_CONFIG shows them).
        #[derive(Clone, Debug, PartialEq)]
        pub struct NamesrvConfig {
            $( $(#[$m])* pub $field: $ty, )*
            /// Keys we do not know, from a `-c` file, kept as given.
            pub extra: BTreeMap<String, String>,
        }

        impl Default for NamesrvConfig {
            fn default() -> Self {
                Self { $( $field: $default, )* extra: BTreeMap::new() }
            }
        }

        impl NamesrvConfig {
            /// Every known key with its description, in declaration order.
            pub const KEYS: &'static [KeyDoc] = &[
                $( KeyDoc { key: $key, doc: $doc }, )*
            ];

            /// The value of a known key, or of an extra one.
            pub fn get(&self, key: &str) -> Option<String> {
                match key {
                    $( $key => Some(self.$field.render()), )*
                    _ => self.extra.get(key).cloned(),
                }
            }

            /// Sets a known key. `Ok(false)`: not a key we know (the caller decides what that means).
            pub fn set(&mut self, key: &str, value: &str) -> Result<bool, String> {
                match key {
                    $( $key => { self.$field = <$ty as ConfigValue>::parse_value(value)?; Ok(true) } )*
                    _ => Ok(false),
                }
            }

            /// Whether `key` is one of [`Self::KEYS`] (extra keys are not).
            pub fn is_known_key(key: &str) -> bool {
                matches!(key, $( $key )|*)
            }
        }
    };
}

config! {
    // --- NamesrvConfig ------------------------------------------------------------------------
    /// `rocketmqHome`: RocketMQ's install directory, from `ROCKETMQ_HOME`; never settable remotely.
    rocketmq_home: String = "rocketmqHome", String::new(), "RocketMQ home; from ROCKETMQ_HOME. Never settable remotely.";
    /// `kvConfigPath`: the file the KV store (`KVConfigManager`) persists to; never settable
    /// remotely.
    kv_config_path: String = "kvConfigPath", String::from("~/namesrv/kvConfig.json"), "KV store file. Never settable remotely.";
    /// `configStorePath`: the file UPDATE_NAMESRV_CONFIG persists to; the `-c` file when given;
    /// never settable remotely.
    config_store_path: String = "configStorePath", String::from("~/namesrv/namesrv.properties"), "Where UPDATE_NAMESRV_CONFIG persists; the -c file when given. Never settable remotely.";
    /// `productEnvName`: the product environment name used only by Apache's cluster-test mode (not
    /// supported).
    product_env_name: String = "productEnvName", String::from("center"), "Cluster-test mode only (not supported).";
    /// `clusterTest`: Apache's cluster-test mode (`ClusterTestRequestProcessor`); not supported, a
    /// warning if set.
    cluster_test: bool = "clusterTest", false, "Apache's cluster-test mode; not supported, a warning if set.";
    /// `orderMessageEnable`: attach the topic's `orderTopicConf` from the KV store to route
    /// replies.
    order_message_enable: bool = "orderMessageEnable", false, "Attach orderTopicConf from KV to route replies.";
    /// `returnOrderTopicConfigToBroker`: return the ORDER_TOPIC_CONFIG KV namespace in
    /// REGISTER_BROKER replies.
    return_order_topic_config_to_broker: bool = "returnOrderTopicConfigToBroker", true, "Return the ORDER_TOPIC_CONFIG table in REGISTER_BROKER replies.";
    /// `clientRequestThreadPoolNums`: Apache's thread count for client route queries; accepted for
    /// compatibility, no thread pools here.
    client_request_thread_pool_nums: i32 = "clientRequestThreadPoolNums", 8, "Accepted for compatibility; no thread pools here.";
    /// `defaultThreadPoolNums`: Apache's thread count for all other requests; accepted for
    /// compatibility, no thread pools here.
    default_thread_pool_nums: i32 = "defaultThreadPoolNums", 16, "Accepted for compatibility; no thread pools here.";
    /// `clientRequestThreadPoolQueueCapacity`: Apache's queue capacity of the client-request pool;
    /// accepted for compatibility.
    client_request_thread_pool_queue_capacity: i32 = "clientRequestThreadPoolQueueCapacity", 50000, "Accepted for compatibility.";
    /// `defaultThreadPoolQueueCapacity`: Apache's queue capacity of the default pool; accepted for
    /// compatibility.
    default_thread_pool_queue_capacity: i32 = "defaultThreadPoolQueueCapacity", 10000, "Accepted for compatibility.";
    /// `scanNotActiveBrokerInterval`: Apache's period (ms) of the expired-broker scan; accepted for
    /// compatibility: brokers expire exactly at their deadline, no scan.
    scan_not_active_broker_interval: i64 = "scanNotActiveBrokerInterval", 5000, "Accepted for compatibility: brokers expire exactly at their deadline, no scan.";
    /// `unRegisterBrokerQueueCapacity`: Apache's capacity of the batched-unregistration queue;
    /// accepted for compatibility: unregistration is immediate.
    un_register_broker_queue_capacity: i32 = "unRegisterBrokerQueueCapacity", 3000, "Accepted for compatibility: unregistration is immediate, no queue.";
    /// `supportActingMaster`: when a broker group's master is gone, show its lowest surviving slave
    /// as master (read-only) in routes.
    support_acting_master: bool = "supportActingMaster", false, "Show the lowest surviving slave as master (read-only) in routes.";
    /// `enableAllTopicList`: answer GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).
    enable_all_topic_list: bool = "enableAllTopicList", true, "Answer GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).";
    /// `enableTopicList`: answer GET_TOPICS_BY_CLUSTER (224) and the unit topic lists (311-313).
    enable_topic_list: bool = "enableTopicList", true, "Answer 224 and 311-313.";
    /// `notifyMinBrokerIdChanged`: send NOTIFY_MIN_BROKER_ID_CHANGE (905) to a group's brokers when
    /// its lowest broker id changes.
    notify_min_broker_id_changed: bool = "notifyMinBrokerIdChanged", false, "Send NOTIFY_MIN_BROKER_ID_CHANGE (905) to brokers.";
    /// `enableControllerInNamesrv`: run the 5.x controller inside the NameServer, on the self
    /// peer's port of `controllerDLegerPeers` (docs/controller.md); read at start.
    enable_controller_in_namesrv: bool = "enableControllerInNamesrv", false, "Start the embedded 5.x controller (docs/controller.md); read at start.";
    /// `needWaitForService`: answer route queries with SYSTEM_ERROR until `waitSecondsForService`
    /// after start.
    need_wait_for_service: bool = "needWaitForService", false, "Answer route queries with SYSTEM_ERROR until waitSecondsForService after start.";
    /// `waitSecondsForService`: how long after start `needWaitForService` refuses route queries, in
    /// seconds.
    wait_seconds_for_service: i32 = "waitSecondsForService", 45, "See needWaitForService.";
    /// `deleteTopicWithBrokerRegistration`: a master's (or prime slave's) registration removes its
    /// group from the topics it no longer lists.
    delete_topic_with_broker_registration: bool = "deleteTopicWithBrokerRegistration", false, "A master's registration removes its topics it no longer lists.";
    /// `configBlackList`: `;`-separated keys UPDATE_NAMESRV_CONFIG may not set, on top of the fixed
    /// four.
    config_black_list: String = "configBlackList", String::from("configBlackList;configStorePath;kvConfigPath"), "Keys UPDATE_NAMESRV_CONFIG may not set (';'-separated), on top of the fixed four.";
    // --- NettyServerConfig --------------------------------------------------------------------
    /// `bindAddress`: the address the remoting listener binds (`NettyServerConfig.bindAddress`).
    bind_address: String = "bindAddress", String::from("0.0.0.0"), "Listen address.";
    /// `listenPort`: the remoting listener's port (9876 by default, as `NamesrvStartup` sets it).
    listen_port: i32 = "listenPort", 9876, "Listen port.";
    /// `serverWorkerThreads`: Apache's Netty codec executor threads; accepted for compatibility.
    server_worker_threads: i32 = "serverWorkerThreads", 8, "Accepted for compatibility.";
    /// `serverCallbackExecutorThreads`: Apache's public callback executor threads; accepted for
    /// compatibility.
    server_callback_executor_threads: i32 = "serverCallbackExecutorThreads", 0, "Accepted for compatibility.";
    /// `serverSelectorThreads`: Apache's Netty selector (I/O) threads; accepted for compatibility.
    server_selector_threads: i32 = "serverSelectorThreads", 3, "Accepted for compatibility.";
    /// `serverOnewaySemaphoreValue`: Apache's limit on concurrent outbound oneway requests;
    /// accepted for compatibility.
    server_oneway_semaphore_value: i32 = "serverOnewaySemaphoreValue", 256, "Accepted for compatibility.";
    /// `serverAsyncSemaphoreValue`: Apache's limit on concurrent outbound async requests; accepted
    /// for compatibility.
    server_async_semaphore_value: i32 = "serverAsyncSemaphoreValue", 64, "Accepted for compatibility.";
    /// `serverChannelMaxIdleTimeSeconds`: close connections idle this many seconds (0 = never).
    server_channel_max_idle_time_seconds: i32 = "serverChannelMaxIdleTimeSeconds", 120, "Close connections idle this long (0 = never).";
    /// `serverSocketSndBufSize`: Apache's `SO_SNDBUF` (0 = OS default); accepted for compatibility.
    server_socket_snd_buf_size: i32 = "serverSocketSndBufSize", 0, "Accepted for compatibility (OS default).";
    /// `serverSocketRcvBufSize`: Apache's `SO_RCVBUF` (0 = OS default); accepted for compatibility.
    server_socket_rcv_buf_size: i32 = "serverSocketRcvBufSize", 0, "Accepted for compatibility (OS default).";
    /// `writeBufferHighWaterMark`: Apache's Netty write-buffer high water mark; accepted for
    /// compatibility.
    write_buffer_high_water_mark: i32 = "writeBufferHighWaterMark", 0, "Accepted for compatibility.";
    /// `writeBufferLowWaterMark`: Apache's Netty write-buffer low water mark; accepted for
    /// compatibility.
    write_buffer_low_water_mark: i32 = "writeBufferLowWaterMark", 0, "Accepted for compatibility.";
    /// `serverSocketBacklog`: Apache's `SO_BACKLOG`; accepted for compatibility, the listener
    /// backlog is 1024.
    server_socket_backlog: i32 = "serverSocketBacklog", 1024, "Accepted for compatibility; the listener backlog is 1024.";
    /// `serverNettyWorkerGroupEnable`: Apache's switch for a separate Netty worker group; accepted
    /// for compatibility.
    server_netty_worker_group_enable: bool = "serverNettyWorkerGroupEnable", true, "Accepted for compatibility.";
    /// `serverPooledByteBufAllocatorEnable`: Apache's switch for Netty's pooled buffers; accepted
    /// for compatibility.
    server_pooled_byte_buf_allocator_enable: bool = "serverPooledByteBufAllocatorEnable", true, "Accepted for compatibility.";
    /// `enableShutdownGracefully`: while shutting down, answer requests of version > 475 with
    /// GO_AWAY (1500).
    enable_shutdown_gracefully: bool = "enableShutdownGracefully", false, "While shutting down, answer requests of version > 475 with GO_AWAY (1500).";
    /// `shutdownWaitTimeSeconds`: the longest wait for in-flight requests at shutdown, in seconds.
    shutdown_wait_time_seconds: i32 = "shutdownWaitTimeSeconds", 30, "Longest wait for in-flight requests at shutdown.";
    /// `useEpollNativeSelector`: Apache's switch for Netty's native epoll transport; accepted for
    /// compatibility.
    use_epoll_native_selector: bool = "useEpollNativeSelector", false, "Accepted for compatibility.";
    // --- ours ---------------------------------------------------------------------------------
    /// `frameMaxLength`: the largest frame accepted, in bytes (Apache's
    /// `-Dcom.rocketmq.remoting.frameMaxLength`).
    frame_max_length: i64 = "frameMaxLength", 16_777_216, "Largest frame accepted (Apache's -Dcom.rocketmq.remoting.frameMaxLength).";
    /// `serverMaxConnections`: connections beyond this many are closed at accept, with a log line.
    server_max_connections: i32 = "serverMaxConnections", 65_536, "Connections beyond this are closed at accept, with a log line.";
    /// `httpListenPort`: port of the HTTP listener (`/metrics`, `/health`, `/ready`,
    /// `/rocketmq/nsaddr`); 0 disables it; never settable remotely.
    http_listen_port: i32 = "httpListenPort", 0, "Port of the HTTP listener (/metrics, /health, /ready, /rocketmq/nsaddr); 0 disables it. Never settable remotely.";
    /// `httpBindAddress`: address of the HTTP listener; empty means `bindAddress`; never settable
    /// remotely.
    http_bind_address: String = "httpBindAddress", String::new(), "Address of the HTTP listener; empty means bindAddress. Never settable remotely.";
    /// `httpNsaddr`: what `GET /rocketmq/nsaddr` answers: the NameServer list as clients write it
    /// (`host:port;host:port`); empty answers 404; never settable remotely.
    http_nsaddr: String = "httpNsaddr", String::new(), "What GET /rocketmq/nsaddr answers: the NameServer list as clients write it (host:port;host:port); empty answers 404. Never settable remotely.";
    /// `httpStatusPageEnable`: serve the status page (`GET /` and `/topic/<name>`) on the HTTP
    /// port; read live; never settable remotely.
    http_status_page_enable: bool = "httpStatusPageEnable", false, "Serve the status page (GET / and /topic/<name>: clusters, brokers, heartbeats, routes) on the HTTP port. Read live. Never settable remotely.";
    /// `aclEnable`: require RocketMQ ACL signatures (`AccessKey`/`Signature`, HmacSHA1) on requests
    /// that change state; never settable remotely.
    acl_enable: bool = "aclEnable", false, "Require RocketMQ ACL signatures (AccessKey/Signature, HmacSHA1) on requests that change state. Never settable remotely.";
    /// `aclProtectReads`: with `aclEnable`, require signatures on read-only requests too; never
    /// settable remotely.
    acl_protect_reads: bool = "aclProtectReads", false, "With aclEnable, require signatures on read-only requests too. Never settable remotely.";
    /// `aclFile`: the accounts for `aclEnable`: a `.properties` file of `accessKey=secretKey`
    /// lines; never settable remotely.
    acl_file: String = "aclFile", String::new(), "Accounts for aclEnable: a .properties file of accessKey=secretKey lines. Never settable remotely.";
    /// `tlsServerMode`: Apache's `tls.server.mode`: disabled, permissive or enforcing; read at
    /// start; never settable remotely.
    tls_server_mode: TlsMode = "tlsServerMode", TlsMode::Permissive, "Apache's tls.server.mode: disabled, permissive (TLS or plain on the same port; plain only without a certificate) or enforcing. Read at start. Never settable remotely.";
    /// `tlsServerCertPath`: PEM certificate chain for TLS (Apache's `tls.server.certPath`),
    /// reloaded when the file changes; never settable remotely.
    tls_server_cert_path: String = "tlsServerCertPath", String::new(), "PEM certificate chain for TLS (Apache's tls.server.certPath), reloaded when the file changes. Never settable remotely.";
    /// `tlsServerKeyPath`: PEM private key for TLS (Apache's `tls.server.keyPath`), reloaded when
    /// the file changes; never settable remotely.
    tls_server_key_path: String = "tlsServerKeyPath", String::new(), "PEM private key for TLS, unencrypted PKCS#8, PKCS#1 or SEC1 (Apache's tls.server.keyPath), reloaded when the file changes. Never settable remotely.";
    /// `serverMaxConnectionsPerAddress`: connections from one source IP beyond this many are closed
    /// at accept (0 = no limit); read at start.
    server_max_connections_per_address: i32 = "serverMaxConnectionsPerAddress", 0, "Connections from one source IP address beyond this are closed at accept, with a log line (0 = no limit). Read at start.";
    /// `serverMaxInflightFrameBytes`: bytes of large frames (over 256 KiB: registrations of
    /// thousands of topics) read into the server at once, over every connection; the rest wait
    /// in the senders' socket buffers. 0 or less = 64 MiB; read at start.
    server_max_inflight_frame_bytes: i64 = "serverMaxInflightFrameBytes", 67_108_864, "Bytes of large frames (over 256 KiB, e.g. registrations of thousands of topics) read into the server at once over all connections; the rest wait in the senders' socket buffers (0 or less = 64 MiB). Read at start.";
    /// `registerBrokerMaxTopics`: a REGISTER_BROKER listing more topics than this is refused with
    /// SYSTEM_ERROR (0 = no limit).
    register_broker_max_topics: i32 = "registerBrokerMaxTopics", 100_000, "A REGISTER_BROKER listing more topics is refused with SYSTEM_ERROR and changes nothing (0 = no limit).";
    /// `runtimeWorkerThreads`: threads serving connections; 0 = one per CPU core less one, at least
    /// one; read at start.
    runtime_worker_threads: i32 = "runtimeWorkerThreads", 0, "Threads serving connections; 0 = one per CPU core less one, at least one (a core is left to the kernel's network stack and to co-located processes: see Benchmarks). Read at start.";
    /// `registerBrokerMaxInflatedBytes`: a compressed REGISTER_BROKER body inflating beyond this
    /// many bytes is refused (0 or less = 64 MiB).
    register_broker_max_inflated_bytes: i64 = "registerBrokerMaxInflatedBytes", 67_108_864, "A compressed REGISTER_BROKER body inflating beyond this many bytes is refused with SYSTEM_ERROR (0 or less = the default, 64 MiB).";
}

/// Keys no remote update may set, whatever `configBlackList` says (spec §5.3).
pub const FIXED_BLACKLIST: [&str; 4] = [
    "configBlackList",
    "configStorePath",
    "kvConfigPath",
    "rocketmqHome",
];

/// Authentication settings: a remote update could otherwise switch signing off or point the
/// accounts at a file of its choosing.
pub const ACL_BLACKLIST: [&str; 3] = ["aclEnable", "aclFile", "aclProtectReads"];

/// Our HTTP keys, also refused to UPDATE_NAMESRV_CONFIG: a remote client that could set
/// `httpNsaddr` could point every client polling the address endpoint at a NameServer of its
/// choosing, the listener keys would expose the endpoint at the next start, and the status page
/// shows every broker's address to whoever reaches the HTTP port.
pub const HTTP_BLACKLIST: [&str; 4] = [
    "httpBindAddress",
    "httpListenPort",
    "httpNsaddr",
    "httpStatusPageEnable",
];

/// TLS settings: the paths name files (a remote update could point the certificate at any
/// file the process can read), and the mode is a security switch like `aclEnable`.
pub const TLS_BLACKLIST: [&str; 3] = ["tlsServerCertPath", "tlsServerKeyPath", "tlsServerMode"];

/// Why UPDATE_NAMESRV_CONFIG was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateError {
    /// → 16 NO_PERMISSION "Can not update config in black list."
    Blacklisted(String),
    /// A control character in a key or value: it would inject lines into the persisted file.
    ControlCharacter(String),
    /// A known key with a value of the wrong type.
    BadValue {
        /// The key whose value did not parse.
        key: String,
        /// Why the value did not parse.
        reason: String,
    },
}

impl NamesrvConfig {
    /// The effective blacklist: the fixed four, our HTTP, ACL and TLS keys, plus
    /// `configBlackList`.
    pub fn blacklist(&self) -> BTreeSet<String> {
        let mut set: BTreeSet<String> = FIXED_BLACKLIST
            .iter()
            .chain(HTTP_BLACKLIST.iter())
            .chain(ACL_BLACKLIST.iter())
            .chain(TLS_BLACKLIST.iter())
            .map(|s| (*s).to_owned())
            .collect();
        set.extend(
            self.config_black_list
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        set
    }

    /// UPDATE_NAMESRV_CONFIG: all or nothing. Unknown keys are ignored, as Apache's
    /// `mergeIfExist` ignores them. Returns whether anything was applied.
    pub fn apply_remote_update(&mut self, props: &[(String, String)]) -> Result<bool, UpdateError> {
        let blacklist = self.blacklist();
        if let Some((k, _)) = props.iter().find(|(k, _)| blacklist.contains(k)) {
            return Err(UpdateError::Blacklisted(k.clone()));
        }
        if let Some((k, _)) = props
            .iter()
            .find(|(k, v)| has_control_char(k) || has_control_char(v))
        {
            return Err(UpdateError::ControlCharacter(k.clone()));
        }
        let mut next = self.clone();
        let mut applied = false;
        for (k, v) in props {
            match next.set(k, v) {
                Ok(known) => applied |= known,
                Err(reason) => {
                    return Err(UpdateError::BadValue {
                        key: k.clone(),
                        reason,
                    })
                }
            }
        }
        *self = next;
        Ok(applied)
    }

    /// Every key and value, sorted by key (what GET_NAMESRV_CONFIG returns and what is persisted).
    pub fn all_properties(&self) -> BTreeMap<String, String> {
        let mut all = self.extra.clone();
        for k in Self::KEYS {
            if let Some(v) = self.get(k.key) {
                all.insert(k.key.to_owned(), v);
            }
        }
        all
    }

    /// `key=value\n` lines sorted by key, values raw, as `MixAll.properties2String` writes them.
    pub fn to_properties_text(&self) -> String {
        let mut s = String::new();
        for (k, v) in self.all_properties() {
            s.push_str(&k);
            s.push('=');
            s.push_str(&v);
            s.push('\n');
        }
        s
    }
}

impl NamesrvConfig {
    /// `registerBrokerMaxInflatedBytes` as a byte count; non-positive means the default.
    pub fn max_inflated_register_body(&self) -> usize {
        usize::try_from(self.register_broker_max_inflated_bytes)
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or(crate::protocol::bodies::MAX_INFLATED_BODY)
    }

    /// `registerBrokerMaxTopics`; `None` when unlimited (0 or less).
    pub fn max_topics_per_registration(&self) -> Option<usize> {
        usize::try_from(self.register_broker_max_topics)
            .ok()
            .filter(|n| *n > 0)
    }
}

fn has_control_char(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// Parses `.properties` text as `Properties.load` does (escapes, `\uXXXX`, continuations).
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    java_properties::PropertiesIter::new(text.as_bytes())
        .read_into(|k, v| out.push((k, v)))
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_mode_and_limit_keys() {
        let mut c = NamesrvConfig::default();
        assert_eq!(c.tls_server_mode, TlsMode::Permissive);
        assert_eq!(c.get("tlsServerMode").as_deref(), Some("permissive"));
        assert_eq!(c.set("tlsServerMode", " Enforcing "), Ok(true));
        assert_eq!(c.tls_server_mode, TlsMode::Enforcing);
        assert!(c.set("tlsServerMode", "on").is_err());
        assert_eq!(c.max_inflated_register_body(), 64 << 20);
        c.register_broker_max_inflated_bytes = -1;
        assert_eq!(c.max_inflated_register_body(), 64 << 20);
        c.register_broker_max_inflated_bytes = 1000;
        assert_eq!(c.max_inflated_register_body(), 1000);
        assert_eq!(c.max_topics_per_registration(), Some(100_000));
        c.register_broker_max_topics = 0;
        assert_eq!(c.max_topics_per_registration(), None);
        // Limits are live and settable remotely; the TLS keys are not.
        assert_eq!(
            c.apply_remote_update(&[("registerBrokerMaxTopics".into(), "5".into())]),
            Ok(true)
        );
        assert_eq!(c.max_topics_per_registration(), Some(5));
    }

    #[test]
    fn newline_injection_is_refused() {
        let mut c = NamesrvConfig::default();
        let props = parse_properties("productEnvName=x\\nkvConfigPath=/etc/cron.d/x\n").unwrap();
        assert_eq!(props[0].1, "x\nkvConfigPath=/etc/cron.d/x");
        assert_eq!(
            c.apply_remote_update(&props),
            Err(UpdateError::ControlCharacter("productEnvName".into()))
        );
        assert_eq!(c.product_env_name, "center");
    }

    #[test]
    fn blacklist_and_live_keys() {
        let mut c = NamesrvConfig::default();
        for k in [
            "configStorePath",
            "kvConfigPath",
            "configBlackList",
            "rocketmqHome",
        ] {
            let r = c.apply_remote_update(&[(k.into(), "x".into())]);
            assert_eq!(r, Err(UpdateError::Blacklisted(k.into())));
        }
        for k in HTTP_BLACKLIST
            .iter()
            .chain(&ACL_BLACKLIST)
            .chain(&TLS_BLACKLIST)
        {
            let r = c.apply_remote_update(&[((*k).into(), "1".into())]);
            assert_eq!(r, Err(UpdateError::Blacklisted((*k).into())));
        }
        assert_eq!(
            c.apply_remote_update(&[("enableTopicList".into(), "false".into())]),
            Ok(true)
        );
        assert!(!c.enable_topic_list);
        assert_eq!(
            c.apply_remote_update(&[("{key".into(), "value}".into())]),
            Ok(false)
        );
        assert!(c.to_properties_text().contains("enableTopicList=false\n"));
    }
}
