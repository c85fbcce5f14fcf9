//! The command line: global options and the subcommands, with mqadmin's names.

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "nsadmin",
    version,
    about = "RocketMQ NameServer admin: the NameServer subcommands of mqadmin, over the remoting protocol",
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
}
