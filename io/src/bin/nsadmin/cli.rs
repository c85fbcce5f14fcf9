//! The command line: global options and the subcommands, with mqadmin's names.

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "nsadmin",
    version,
    about = "RocketMQ NameServer admin: the NameServer and controller subcommands of mqadmin, over the remoting protocol",
    after_help = "Exit codes: 0 success, 1 error reply, 2 usage, 3 not found, 4 unreachable."
)]
pub struct Cli {
    /// NameServer address(es), `host:port;host:port` (default: $NAMESRV_ADDR, else 127.0.0.1:9876).
    #[arg(short = 'n', long = "namesrvAddr", global = true)]
    pub namesrv: Option<String>,
    /// Machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Connect and reply timeout per address, in milliseconds.
    #[arg(long = "timeout", global = true, default_value_t = 3000)]
    pub timeout_ms: u64,
    /// ACL access key: sign every request, for a NameServer with `aclEnable=true`
    /// (or an Apache one behind ACL). Needs --secretKey.
    #[arg(long = "accessKey", global = true, requires = "secret_key")]
    pub access_key: Option<String>,
    /// ACL secret key matching --accessKey.
    #[arg(long = "secretKey", global = true, requires = "access_key")]
    pub secret_key: Option<String>,
    /// Connect over TLS (for a NameServer with tlsServerMode=enforcing). Without
    /// --tlsTrustCert the server's certificate is not verified, as Java clients by default.
    #[arg(long = "tls", global = true)]
    pub tls: bool,
    /// PEM certificate(s) to verify the server against: its CA, or its own self-signed
    /// certificate if that is not marked as a CA (basicConstraints CA:FALSE); implies --tls.
    #[arg(long = "tlsTrustCert", global = true, value_name = "PATH")]
    pub tls_trust_cert: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List clusters, broker groups and broker addresses (GET_BROKER_CLUSTER_INFO).
    #[command(name = "clusterList")]
    ClusterList {
        /// Only this cluster.
        #[arg(short = 'c', long = "clusterName")]
        cluster: Option<String>,
    },
    /// List topics (GET_ALL_TOPIC_LIST_FROM_NAMESERVER)
    #[command(name = "topicList")]
    TopicList {
        /// The topics of one cluster (GET_TOPICS_BY_CLUSTER); a bare `-c`: every cluster with
        /// its topics.
        #[arg(short = 'c', long = "clusterName", num_args = 0..=1, default_missing_value = "")]
        cluster: Option<String>,
    },
    /// Show a topic's route (GET_ROUTEINFO_BY_TOPIC).
    #[command(name = "topicRoute")]
    TopicRoute {
        #[arg(short = 't', long = "topic")]
        topic: String,
    },
    /// Show each NameServer's configuration (GET_NAMESRV_CONFIG).
    #[command(name = "getNamesrvConfig")]
    GetNamesrvConfig,
    /// Set one configuration key on every NameServer (UPDATE_NAMESRV_CONFIG).
    #[command(name = "updateNamesrvConfig")]
    UpdateNamesrvConfig {
        #[arg(short = 'k', long = "key")]
        key: String,
        #[arg(short = 'v', long = "value")]
        value: String,
    },
    /// Put a KV entry on every NameServer (PUT_KV_CONFIG).
    #[command(name = "updateKvConfig")]
    UpdateKvConfig {
        #[arg(short = 's', long = "namespace")]
        namespace: String,
        #[arg(short = 'k', long = "key")]
        key: String,
        #[arg(short = 'v', long = "value")]
        value: String,
    },
    /// Delete a KV entry on every NameServer (DELETE_KV_CONFIG).
    #[command(name = "deleteKvConfig")]
    DeleteKvConfig {
        #[arg(short = 's', long = "namespace")]
        namespace: String,
        #[arg(short = 'k', long = "key")]
        key: String,
    },
    /// List the KV entries of a namespace (GET_KVLIST_BY_NAMESPACE).
    #[command(name = "getKvList")]
    GetKvList {
        #[arg(short = 's', long = "namespace")]
        namespace: String,
    },
    /// Take write permission away from a broker group's queues (WIPE_WRITE_PERM_OF_BROKER).
    #[command(name = "wipeWritePerm")]
    WipeWritePerm {
        #[arg(short = 'b', long = "brokerName")]
        broker: String,
    },
    /// Give a broker group's queues read and write permission (ADD_WRITE_PERM_OF_BROKER).
    #[command(name = "addWritePerm")]
    AddWritePerm {
        #[arg(short = 'b', long = "brokerName")]
        broker: String,
    },
    /// Delete a topic's route from the NameServers (DELETE_TOPIC_IN_NAMESRV)
    ///
    /// Unlike mqadmin this does not touch brokers: a broker that still has the topic registers
    /// it again (every 30 s by default).
    #[command(name = "deleteTopic")]
    DeleteTopic {
        #[arg(short = 't', long = "topic")]
        topic: String,
        /// Only this cluster's queues of the topic.
        #[arg(short = 'c', long = "clusterName")]
        cluster: Option<String>,
    },
    /// Compare several NameServers: brokers, topics and routes; exit 1 when they differ
    ///
    /// Asks every address of -n (two or more) for its cluster info, its topic list and the route
    /// of every topic any of them lists, all NameServers at once, and prints what differs:
    /// brokers one lists and another does not (or with other addresses), topics some list and
    /// others do not, routes whose queue counts, perm, topicSysFlag, broker addresses or master
    /// differ. One row per fact, one column per NameServer ("-": has none, "n/a": not
    /// compared, no route there). An unreachable NameServer is reported, the others are still
    /// compared.
    ///
    /// Exit codes: 0 all agree, 1 they differ (or an error reply), 4 one is unreachable and the
    /// others agree, 2 usage (fewer than two addresses).
    #[command(name = "compareNamesrv")]
    CompareNamesrv {
        /// Route requests in flight per NameServer (on one connection each).
        #[arg(
            long = "inFlight",
            default_value_t = 64,
            value_parser = clap::value_parser!(u16).range(1..=1024)
        )]
        in_flight: u16,
    },
    /// Show a controller's group, its leader and its peers (CONTROLLER_GET_METADATA_INFO)
    ///
    /// With several -a addresses, the first that answers.
    #[command(name = "getControllerMetaData")]
    GetControllerMetaData {
        /// Controller address(es), `host:port;host:port` (the controller port, not the
        /// NameServer's).
        #[arg(short = 'a', long = "controllerAddress")]
        controller: String,
    },
    /// Show broker sets' masters, epochs and replicas in sync or not (CONTROLLER_GET_SYNC_STATE_DATA)
    ///
    /// Asks -a for the controller leader, then the leader. With -c the set names come from the
    /// NameServer (-n). Exit 3 when a named set is unknown to the controller.
    #[command(
        name = "getSyncStateSet",
        group(clap::ArgGroup::new("sets").required(true).args(["brokers", "cluster"]))
    )]
    GetSyncStateSet {
        /// Controller address(es).
        #[arg(short = 'a', long = "controllerAddress")]
        controller: String,
        /// Broker set name(s), `broker-a,broker-b`.
        #[arg(short = 'b', long = "brokerName")]
        brokers: Option<String>,
        /// Every set of this cluster, as the NameServer (-n) lists them.
        #[arg(short = 'c', long = "clusterName")]
        cluster: Option<String>,
    },
    /// Make a replica the master of its broker set (CONTROLLER_ELECT_MASTER, designateElect)
    ///
    /// Asks -a for the controller leader, then the leader. Any reply but SUCCESS (the replica
    /// is already master, not alive, not registered) is an error, its remark shown.
    #[command(name = "electMaster")]
    ElectMaster {
        /// Controller address(es).
        #[arg(short = 'a', long = "controllerAddress")]
        controller: String,
        /// The cluster of the broker set.
        #[arg(short = 'c', long = "clusterName")]
        cluster: String,
        /// The broker set: `-bn NAME` as mqadmin spells it (or --brokerName).
        #[arg(long = "brokerName", visible_alias = "bn", value_name = "NAME")]
        broker_name: String,
        /// The controller id of the replica to promote.
        #[arg(short = 'b', long = "brokerId")]
        broker_id: i64,
    },
    /// Remove replicas, or a whole broker set, from the controller (CLEAN_BROKER_DATA)
    ///
    /// Asks -a for the controller leader, then the leader. Without -l the controller refuses
    /// to clean a live replica (or, with no -b, a set that has a master).
    #[command(name = "cleanBrokerMetadata")]
    CleanBrokerMetadata {
        /// Controller address(es).
        #[arg(short = 'a', long = "controllerAddress")]
        controller: String,
        /// The cluster of the broker set.
        #[arg(short = 'c', long = "clusterName")]
        cluster: String,
        /// The broker set: `-bn NAME` as mqadmin spells it (or --brokerName).
        #[arg(long = "brokerName", visible_alias = "bn", value_name = "NAME")]
        broker_name: String,
        /// Controller ids to clean, `1;2;3`.
        #[arg(short = 'b', long = "brokerControllerIdsToClean")]
        ids: Option<String>,
        /// Clean even live replicas: the whole set is removed (isCleanLivingBroker=true).
        #[arg(short = 'l', long = "cleanLivingBroker")]
        clean_living: bool,
    },
    /// Show each controller node's configuration (GET_CONTROLLER_CONFIG)
    ///
    /// Asks every -a address: the settings are per node, not replicated.
    #[command(name = "getControllerConfig")]
    GetControllerConfig {
        /// Controller address(es); every one is asked.
        #[arg(short = 'a', long = "controllerAddress")]
        controller: String,
    },
    /// Set one configuration key on every controller node (UPDATE_CONTROLLER_CONFIG)
    ///
    /// Each node applies and saves it on its own (not replicated). configBlackList,
    /// configStorePath, rocketmqHome and the items of configBlackList are refused.
    #[command(name = "updateControllerConfig")]
    UpdateControllerConfig {
        /// Controller address(es); every one is written.
        #[arg(short = 'a', long = "controllerAddress")]
        controller: String,
        #[arg(short = 'k', long = "key")]
        key: String,
        #[arg(short = 'v', long = "value")]
        value: String,
    },
}

/// mqadmin's two-letter short option `-bn` (`--brokerName`), which clap cannot declare:
/// `-bn X` and `-bn=X` become `--brokerName X` and `--brokerName=X` in the subcommands that
/// have it (electMaster, cleanBrokerMetadata).
pub fn expand_mqadmin_shorts(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let wants_bn = |a: &std::ffi::OsString| {
        a.to_str()
            .is_some_and(|s| matches!(s, "electMaster" | "cleanBrokerMetadata"))
    };
    let Some(at) = args.iter().position(wants_bn) else {
        return args;
    };
    args.into_iter()
        .enumerate()
        .map(|(i, a)| {
            if i <= at {
                return a;
            }
            let rewritten = match a.to_str() {
                Some("-bn") => Some("--brokerName".to_owned()),
                Some(s) => s.strip_prefix("-bn=").map(|v| format!("--brokerName={v}")),
                None => None,
            };
            rewritten.map_or(a, Into::into)
        })
        .collect()
}
