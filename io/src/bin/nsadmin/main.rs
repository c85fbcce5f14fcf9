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
//!   line (or one JSON result), and an address that fails does not stop the others;
//! - compareNamesrv asks every address (two or more) and prints what differs between them.
//!
//! Exit codes: 0 success; 1 an error reply (or a reply that cannot be decoded); 2 bad usage;
//! 3 not found (TOPIC_NOT_EXIST, QUERY_NOT_FOUND); 4 unreachable (no connection, or no reply
//! within `--timeout`). With several addresses the worst outcome wins, in the order
//! 1 > 4 > 3 > 0.

use std::process::ExitCode;

use clap::Parser;
use namesrv_core::protocol::{request, RemotingCommand};

#[macro_use]
mod output;
mod cli;
mod client;
mod compare;
mod diff;
mod pipeline;
mod queries;
mod report;
mod writes;

use cli::{Cli, Cmd};
use client::{Ctx, Failure, Outcome};
use queries::{cluster_list, get_kv_list, topic_list, topic_route};
use writes::{get_namesrv_config, write_all};

fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Ctx::from_cli(&cli)?;
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
        Cmd::CompareNamesrv { in_flight } => compare::compare_namesrv(&ctx, usize::from(in_flight)),
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
