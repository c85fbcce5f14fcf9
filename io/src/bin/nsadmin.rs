//! `nsadmin`: the NameServer half of Apache's `mqadmin`, same subcommand and option names.
//!
//! A client of the remoting protocol only (JSON headers, language JAVA, version 479), so it
//! works against Apache's NameServer too. Human tables by default, `--json` for scripts.
//!
//! Addresses (`-n`, or `NAMESRV_ADDR`, default `127.0.0.1:9876`) may be a `;`-separated list:
//! - queries (clusterList, topicList, topicRoute, getKvList) ask the addresses in order until
//!   one answers SUCCESS; if none does, the first reply that came (not found, an error) is the
//!   answer;
//! - getNamesrvConfig asks every address, as mqadmin does;
//! - writes (updateNamesrvConfig, updateKvConfig, deleteKvConfig, wipeWritePerm, addWritePerm,
//!   deleteTopic) go to every address, as mqadmin does for NameServer-wide writes: each
//!   NameServer holds its own copy, so a write must reach all of them. Each address gets one
//!   line (or one JSON result), and an address that fails does not stop the others.
//!
//! Exit codes: 0 success; 1 an error reply (or a reply that cannot be decoded); 2 bad usage;
//! 3 not found (TOPIC_NOT_EXIST, QUERY_NOT_FOUND); 4 unreachable (no connection, or no reply
//! within `--timeout`). With several addresses the worst outcome wins, in the order
//! 1 > 4 > 3 > 0.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use namesrv::admin::{call_once_with, parse_addr_list, CallError, Transport};
use namesrv_core::codec::fastjson::Dialect;
use namesrv_core::protocol::bodies::{
    decode_kv_table, decode_topic_list, BrokerData, ClusterInfo, TopicRouteData,
};
use namesrv_core::protocol::{request, response, RemotingCommand};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(
    name = "nsadmin",
    version,
    about = "RocketMQ NameServer admin: the NameServer subcommands of mqadmin, over the remoting protocol",
    after_help = "Exit codes: 0 success, 1 error reply, 2 usage, 3 not found, 4 unreachable."
)]
struct Cli {
    /// NameServer address(es), `host:port;host:port` (default: $NAMESRV_ADDR, else 127.0.0.1:9876).
    #[arg(short = 'n', long = "namesrvAddr", global = true)]
    namesrv: Option<String>,
    /// Machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Connect and reply timeout per address, in milliseconds.
    #[arg(long = "timeout", global = true, default_value_t = 3000)]
    timeout_ms: u64,
    /// ACL access key: sign every request, for a NameServer with `aclEnable=true`
    /// (or an Apache one behind ACL). Needs --secretKey.
    #[arg(long = "accessKey", global = true, requires = "secret_key")]
    access_key: Option<String>,
    /// ACL secret key matching --accessKey.
    #[arg(long = "secretKey", global = true, requires = "access_key")]
    secret_key: Option<String>,
    /// Connect over TLS (for a NameServer with tlsServerMode=enforcing). Without
    /// --tlsTrustCert the server's certificate is not verified, as Java clients by default.
    #[arg(long = "tls", global = true)]
    tls: bool,
    /// PEM certificate(s) to verify the server against: its CA, or its own self-signed
    /// certificate if that is not marked as a CA (basicConstraints CA:FALSE); implies --tls.
    #[arg(long = "tlsTrustCert", global = true, value_name = "PATH")]
    tls_trust_cert: Option<std::path::PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
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
}

/// `println!` that ends the process quietly when stdout is gone (`nsadmin topicList | head`)
/// instead of panicking: exit 141, as a shell reports a command killed by SIGPIPE.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(141);
        }
    }};
}

/// How a command ended. The order is the precedence when several addresses disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Ok,
    NotFound,
    Unreachable,
    Error,
}

impl Outcome {
    fn exit(self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Ok => 0,
            Outcome::Error => 1,
            Outcome::NotFound => 3,
            Outcome::Unreachable => 4,
        })
    }
}

/// A failed command: what to tell the user, and how to exit.
struct Failure {
    outcome: Outcome,
    message: String,
}

impl Failure {
    fn error(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Error,
            message: message.into(),
        }
    }

    fn from_call(e: CallError) -> Self {
        Self {
            outcome: match e {
                CallError::Unreachable(_) => Outcome::Unreachable,
                CallError::Protocol(_) => Outcome::Error,
            },
            message: e.to_string(),
        }
    }
}

fn response_name(code: i32) -> &'static str {
    namesrv::metrics::result_name(Some(code))
}

/// The outcome a reply code stands for.
fn classify(code: i32) -> Outcome {
    match code {
        response::SUCCESS => Outcome::Ok,
        response::TOPIC_NOT_EXIST | response::QUERY_NOT_FOUND => Outcome::NotFound,
        _ => Outcome::Error,
    }
}

/// `NAME (code): remark` of an error reply.
fn reply_text(reply: &RemotingCommand) -> String {
    let remark = reply.remark.as_deref().unwrap_or("");
    format!(
        "{} ({}){}{}",
        response_name(reply.code),
        reply.code,
        if remark.is_empty() { "" } else { ": " },
        remark
    )
}

fn reply_failure(addr: &str, reply: &RemotingCommand) -> Failure {
    Failure {
        outcome: classify(reply.code),
        message: format!("{addr}: {}", reply_text(reply)),
    }
}

struct Ctx {
    addrs: Vec<String>,
    json: bool,
    timeout: Duration,
    /// (access key, secret key) when requests are to be signed.
    credentials: Option<(String, namesrv_core::acl::Secret)>,
    transport: Transport,
}

impl Ctx {
    /// Adds `AccessKey` and `Signature` as RocketMQ's `AclClientRPCHook` does.
    fn signed(&self, cmd: &RemotingCommand) -> RemotingCommand {
        match &self.credentials {
            None => cmd.clone(),
            Some((access_key, secret)) => {
                let cmd = cmd
                    .clone()
                    .with_ext(namesrv_core::acl::ACCESS_KEY, access_key.clone());
                let signature = namesrv_core::acl::sign(secret, &cmd);
                cmd.with_ext(namesrv_core::acl::SIGNATURE, signature)
            }
        }
    }

    /// A query: the addresses are asked in order until one answers SUCCESS (a NameServer
    /// that restarted a moment ago may not know a topic its peers know). If none does, the
    /// first reply that came is the answer; if none came, the addresses are unreachable.
    fn query(&self, cmd: &RemotingCommand) -> Result<(String, RemotingCommand), Failure> {
        let mut first_reply: Option<Failure> = None;
        let mut first_error: Option<Failure> = None;
        for addr in &self.addrs {
            match call_once_with(addr, self.signed(cmd), self.timeout, &self.transport) {
                Ok(reply) if reply.code == response::SUCCESS => return Ok((addr.clone(), reply)),
                Ok(reply) => {
                    first_reply.get_or_insert_with(|| reply_failure(addr, &reply));
                }
                Err(e) => {
                    let f = Failure::from_call(e);
                    let replace = match &first_error {
                        None => true,
                        Some(w) => f.outcome > w.outcome,
                    };
                    if replace {
                        first_error = Some(f);
                    }
                }
            }
        }
        Err(first_reply
            .or(first_error)
            .unwrap_or_else(|| Failure::error("no NameServer address given")))
    }

    /// A call to every address, in order.
    fn each(&self, cmd: &RemotingCommand) -> Vec<(String, Result<RemotingCommand, CallError>)> {
        self.addrs
            .iter()
            .map(|a| {
                let reply = call_once_with(a, self.signed(cmd), self.timeout, &self.transport);
                (a.clone(), reply)
            })
            .collect()
    }
}

fn print_json(v: &Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => outln!("{s}"),
        Err(e) => eprintln!("nsadmin: cannot render JSON: {e}"),
    }
}

/// Re-parses a body we encoded as standard JSON (keys quoted), for pretty printing.
fn standard_json(text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::error(format!("cannot render JSON: {e}")))
}

/// Prints rows as aligned columns; the first row is the header.
fn print_table(rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    for row in rows {
        let mut line = String::new();
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i < last {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell.chars().count());
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        outln!("{}", line.trim_end());
    }
}

fn header(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|c| format!("#{c}")).collect()
}

fn body<'a>(addr: &str, reply: &'a RemotingCommand) -> Result<&'a [u8], Failure> {
    reply
        .body
        .as_deref()
        .ok_or_else(|| Failure::error(format!("{addr}: the reply has no body")))
}

fn decode_failure(addr: &str, what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::error(format!("{addr}: cannot decode the {what}: {e}"))
}

fn cluster_info(ctx: &Ctx) -> Result<ClusterInfo, Failure> {
    let (addr, reply) = ctx.query(&RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO))?;
    ClusterInfo::decode(body(&addr, &reply)?).map_err(|e| decode_failure(&addr, "cluster info", e))
}

fn broker_rows(bd: &BrokerData) -> Vec<Vec<String>> {
    bd.broker_addrs
        .iter()
        .map(|(id, addr)| {
            vec![
                bd.cluster.clone(),
                bd.broker_name.clone(),
                id.to_string(),
                addr.clone(),
                bd.zone_name.clone().unwrap_or_else(|| "-".into()),
                bd.enable_acting_master.to_string(),
            ]
        })
        .collect()
}

fn cluster_list(ctx: &Ctx, only: Option<&str>) -> Result<(), Failure> {
    let mut info = cluster_info(ctx)?;
    if let Some(c) = only {
        let names = info.cluster_addr_table.remove(c).ok_or_else(|| Failure {
            outcome: Outcome::NotFound,
            message: format!("cluster {c} not found"),
        })?;
        info.broker_addr_table.retain(|n, _| names.contains(n));
        info.cluster_addr_table = BTreeMap::from([(c.to_owned(), names)]);
    }
    if ctx.json {
        print_json(&standard_json(&info.encode(Dialect::Standard))?);
        return Ok(());
    }
    let mut rows = vec![header(&[
        "Cluster Name",
        "Broker Name",
        "BID",
        "Addr",
        "Zone",
        "Acting Master",
    ])];
    let mut listed = std::collections::BTreeSet::new();
    for (cluster, names) in &info.cluster_addr_table {
        let mut names = names.clone();
        names.sort();
        for name in names {
            match info.broker_addr_table.get(&name) {
                Some(bd) => {
                    listed.insert(name.clone());
                    let mut bd = bd.clone();
                    bd.cluster.clone_from(cluster);
                    rows.extend(broker_rows(&bd));
                }
                None => rows.push(vec![
                    cluster.clone(),
                    name,
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]),
            }
        }
    }
    // Groups no cluster lists (should not happen, but show rather than hide them).
    for (name, bd) in &info.broker_addr_table {
        if !listed.contains(name) {
            rows.extend(broker_rows(bd));
        }
    }
    print_table(&rows);
    Ok(())
}

fn topics_of(ctx: &Ctx, cmd: RemotingCommand) -> Result<Vec<String>, Failure> {
    let (addr, reply) = ctx.query(&cmd)?;
    let mut topics = match reply.body.as_deref() {
        Some(b) => decode_topic_list(b).map_err(|e| decode_failure(&addr, "topic list", e))?,
        None => Vec::new(),
    };
    topics.sort();
    topics.dedup();
    Ok(topics)
}

fn topics_by_cluster(ctx: &Ctx, cluster: &str) -> Result<Vec<String>, Failure> {
    topics_of(
        ctx,
        RemotingCommand::request(request::GET_TOPICS_BY_CLUSTER).with_ext("cluster", cluster),
    )
}

fn topic_list(ctx: &Ctx, cluster: Option<&str>) -> Result<(), Failure> {
    match cluster {
        None => {
            let topics = topics_of(
                ctx,
                RemotingCommand::request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
            )?;
            if ctx.json {
                print_json(&json!({ "topicList": topics }));
            } else {
                for t in topics {
                    outln!("{t}");
                }
            }
        }
        Some("") => {
            let info = cluster_info(ctx)?;
            let mut by_cluster = BTreeMap::new();
            for cluster in info.cluster_addr_table.keys() {
                by_cluster.insert(cluster.clone(), topics_by_cluster(ctx, cluster)?);
            }
            if ctx.json {
                print_json(&json!({ "clusters": by_cluster }));
            } else {
                let mut rows = vec![header(&["Cluster Name", "Topic"])];
                for (cluster, topics) in by_cluster {
                    for t in topics {
                        rows.push(vec![cluster.clone(), t]);
                    }
                }
                print_table(&rows);
            }
        }
        Some(c) => {
            let topics = topics_by_cluster(ctx, c)?;
            if ctx.json {
                print_json(&json!({ "cluster": c, "topicList": topics }));
            } else {
                for t in topics {
                    outln!("{t}");
                }
            }
        }
    }
    Ok(())
}

fn perm_text(perm: i32) -> String {
    let mut s = String::new();
    s.push(if perm & 4 != 0 { 'R' } else { '-' });
    s.push(if perm & 2 != 0 { 'W' } else { '-' });
    s.push(if perm & 1 != 0 { 'X' } else { '-' });
    format!("{perm} ({s})")
}

fn topic_route(ctx: &Ctx, topic: &str) -> Result<(), Failure> {
    let cmd = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
        .with_ext("topic", topic)
        .with_ext("acceptStandardJsonOnly", "true");
    let (addr, reply) = ctx.query(&cmd)?;
    let mut route = TopicRouteData::decode(body(&addr, &reply)?)
        .map_err(|e| decode_failure(&addr, "route", e))?;
    route
        .broker_datas
        .sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    route
        .queue_datas
        .sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    if ctx.json {
        print_json(&standard_json(&route.encode(Dialect::Standard))?);
        return Ok(());
    }
    let mut rows = vec![header(&[
        "Cluster Name",
        "Broker Name",
        "BID",
        "Addr",
        "Zone",
        "Acting Master",
    ])];
    for bd in &route.broker_datas {
        rows.extend(broker_rows(bd));
    }
    print_table(&rows);
    outln!();
    let mut rows = vec![header(&[
        "Broker Name",
        "Read Queues",
        "Write Queues",
        "Perm",
        "Sys Flag",
    ])];
    for qd in &route.queue_datas {
        rows.push(vec![
            qd.broker_name.clone(),
            qd.read_queue_nums.to_string(),
            qd.write_queue_nums.to_string(),
            perm_text(qd.perm),
            qd.topic_sys_flag.to_string(),
        ]);
    }
    print_table(&rows);
    if let Some(conf) = &route.order_topic_conf {
        outln!("\norderTopicConf: {conf}");
    }
    if let Some(m) = &route.topic_queue_mapping_by_broker {
        outln!(
            "\nstatic topic mappings for: {}",
            m.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// `key=value` lines as GET_NAMESRV_CONFIG sends them (raw values, sorted by key).
fn parse_config_text(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn get_namesrv_config(ctx: &Ctx) -> Result<(), Failure> {
    let mut outcome = Outcome::Ok;
    let mut all = serde_json::Map::new();
    let mut first = true;
    for (addr, result) in ctx.each(&RemotingCommand::request(request::GET_NAMESRV_CONFIG)) {
        let config = match result {
            Ok(reply) if reply.code == response::SUCCESS => {
                let text = reply
                    .body
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                parse_config_text(&text)
            }
            Ok(reply) => {
                let f = reply_failure(&addr, &reply);
                eprintln!("nsadmin: {}", f.message);
                outcome = outcome.max(f.outcome);
                continue;
            }
            Err(e) => {
                let f = Failure::from_call(e);
                eprintln!("nsadmin: {}", f.message);
                outcome = outcome.max(f.outcome);
                continue;
            }
        };
        if ctx.json {
            all.insert(addr, json!(config));
        } else {
            if !first {
                outln!();
            }
            first = false;
            outln!("============{addr}============");
            let mut rows = vec![header(&["Key", "Value"])];
            rows.extend(config.into_iter().map(|(k, v)| vec![k, v]));
            print_table(&rows);
        }
    }
    if ctx.json && !all.is_empty() {
        print_json(&Value::Object(all));
    }
    finish(outcome)
}

fn finish(outcome: Outcome) -> Result<(), Failure> {
    if outcome == Outcome::Ok {
        Ok(())
    } else {
        // Every address's problem has been printed already.
        Err(Failure {
            outcome,
            message: String::new(),
        })
    }
}

/// A write to every address: one line (or JSON result) per address. `count_field` names the
/// reply header with a count worth showing (wipeTopicCount, addTopicCount).
fn write_all(
    ctx: &Ctx,
    cmd: RemotingCommand,
    what: &str,
    count_field: Option<&str>,
) -> Result<(), Failure> {
    let mut outcome = Outcome::Ok;
    let mut results = Vec::new();
    for (addr, result) in ctx.each(&cmd) {
        let (this, line, mut entry) = match result {
            Ok(reply) => {
                let count = count_field.and_then(|f| reply.ext(f)).map(str::to_owned);
                let o = classify(reply.code);
                let line = if o == Outcome::Ok {
                    match &count {
                        Some(n) => format!("{what} in name server[{addr}] OK, {n}"),
                        None => format!("{what} in name server[{addr}] OK"),
                    }
                } else {
                    format!(
                        "{what} in name server[{addr}] FAILED: {}",
                        reply_text(&reply)
                    )
                };
                let mut entry = json!({
                    "namesrv": addr,
                    "ok": o == Outcome::Ok,
                    "code": reply.code,
                    "result": response_name(reply.code),
                    "remark": reply.remark,
                });
                if let (Some(f), Some(n), Value::Object(m)) = (count_field, &count, &mut entry) {
                    let v = n
                        .parse::<i64>()
                        .map(Value::from)
                        .unwrap_or_else(|_| Value::from(n.clone()));
                    m.insert(f.to_owned(), v);
                }
                (o, line, entry)
            }
            Err(e) => {
                let f = Failure::from_call(e);
                let line = format!("{what} in name server[{addr}] FAILED: {}", f.message);
                let entry = json!({ "namesrv": addr, "ok": false, "error": f.message });
                (f.outcome, line, entry)
            }
        };
        outcome = outcome.max(this);
        if ctx.json {
            if let Value::Object(m) = &mut entry {
                m.retain(|_, v| !v.is_null());
            }
            results.push(entry);
        } else if this == Outcome::Ok {
            outln!("{line}");
        } else {
            eprintln!("{line}");
        }
    }
    if ctx.json {
        print_json(&json!({ "results": results }));
    }
    finish(outcome)
}

fn get_kv_list(ctx: &Ctx, namespace: &str) -> Result<(), Failure> {
    let cmd =
        RemotingCommand::request(request::GET_KVLIST_BY_NAMESPACE).with_ext("namespace", namespace);
    let (addr, reply) = ctx.query(&cmd)?;
    let table = match reply.body.as_deref() {
        Some(b) => decode_kv_table(b).map_err(|e| decode_failure(&addr, "KV table", e))?,
        None => BTreeMap::new(),
    };
    if ctx.json {
        print_json(&json!({ "table": table }));
    } else {
        let mut rows = vec![header(&["Key", "Value"])];
        rows.extend(table.into_iter().map(|(k, v)| vec![k, v]));
        print_table(&rows);
    }
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    let list = cli
        .namesrv
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:9876".into());
    let addrs = parse_addr_list(&list);
    if addrs.is_empty() {
        return Err(Failure::error(format!("no address in {list:?}")));
    }
    let transport = match (&cli.tls_trust_cert, cli.tls) {
        (Some(path), _) => {
            let pem = std::fs::read(path)
                .map_err(|e| Failure::error(format!("--tlsTrustCert {}: {e}", path.display())))?;
            Transport::tls(Some(&pem))
                .map_err(|e| Failure::error(format!("--tlsTrustCert {}: {e}", path.display())))?
        }
        (None, true) => Transport::tls(None).map_err(Failure::error)?,
        (None, false) => Transport::Plain,
    };
    let ctx = Ctx {
        addrs,
        json: cli.json,
        timeout: Duration::from_millis(cli.timeout_ms.max(1)),
        credentials: match (&cli.access_key, &cli.secret_key) {
            (Some(a), Some(k)) => Some((a.clone(), namesrv_core::acl::Secret::new(k))),
            _ => None,
        },
        transport,
    };
    let req = RemotingCommand::request;
    match cli.cmd {
        Cmd::ClusterList { cluster } => cluster_list(&ctx, cluster.as_deref()),
        Cmd::TopicList { cluster } => topic_list(&ctx, cluster.as_deref()),
        Cmd::TopicRoute { topic } => topic_route(&ctx, &topic),
        Cmd::GetNamesrvConfig => get_namesrv_config(&ctx),
        Cmd::UpdateNamesrvConfig { key, value } => write_all(
            &ctx,
            req(request::UPDATE_NAMESRV_CONFIG).with_body(format!("{key}={value}\n")),
            &format!("update config {key}={value}"),
            None,
        ),
        Cmd::UpdateKvConfig {
            namespace,
            key,
            value,
        } => write_all(
            &ctx,
            req(request::PUT_KV_CONFIG)
                .with_ext("namespace", namespace.as_str())
                .with_ext("key", key.as_str())
                .with_ext("value", value.as_str()),
            &format!("update kv config {namespace}/{key}"),
            None,
        ),
        Cmd::DeleteKvConfig { namespace, key } => write_all(
            &ctx,
            req(request::DELETE_KV_CONFIG)
                .with_ext("namespace", namespace.as_str())
                .with_ext("key", key.as_str()),
            &format!("delete kv config {namespace}/{key}"),
            None,
        ),
        Cmd::GetKvList { namespace } => get_kv_list(&ctx, &namespace),
        Cmd::WipeWritePerm { broker } => write_all(
            &ctx,
            req(request::WIPE_WRITE_PERM_OF_BROKER).with_ext("brokerName", broker.as_str()),
            &format!("wipe write perm of broker[{broker}]"),
            Some("wipeTopicCount"),
        ),
        Cmd::AddWritePerm { broker } => write_all(
            &ctx,
            req(request::ADD_WRITE_PERM_OF_BROKER).with_ext("brokerName", broker.as_str()),
            &format!("add write perm of broker[{broker}]"),
            Some("addTopicCount"),
        ),
        Cmd::DeleteTopic { topic, cluster } => {
            let mut cmd = req(request::DELETE_TOPIC_IN_NAMESRV).with_ext("topic", topic.as_str());
            if let Some(c) = &cluster {
                cmd = cmd.with_ext("clusterName", c.as_str());
            }
            write_all(&ctx, cmd, &format!("delete topic[{topic}]"), None)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => Outcome::Ok.exit(),
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("nsadmin: {}", f.message);
            }
            f.outcome.exit()
        }
    }
}
