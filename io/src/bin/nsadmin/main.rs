//! `nsadmin`: the NameServer and controller subcommands of Apache's `mqadmin`, same subcommand
//! and option names.
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
//! Controller subcommands take the controller's address(es) with `-a` instead (its own port,
//! not the NameServer's): getControllerMetaData asks them in order until one answers;
//! getSyncStateSet, electMaster and cleanBrokerMetadata ask them for the leader, then send to
//! the leader; getControllerConfig and updateControllerConfig go to every address (each node
//! keeps its own settings).
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
mod controller;
mod diff;
mod pipeline;
mod queries;
mod report;
mod writes;

use cli::{Cli, Cmd};
use client::{Ctx, Failure, Outcome};
use namesrv_core::controller::codes::request as ctrl_request;
use queries::{cluster_list, get_kv_list, topic_list, topic_route};
use writes::{get_config, write_all, write_each, Node};

fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Ctx::from_cli(&cli)?;
    let req = RemotingCommand::request;
    match cli.cmd {
        Cmd::ClusterList { cluster } => cluster_list(&ctx, cluster.as_deref()),
        Cmd::TopicList { cluster } => topic_list(&ctx, cluster.as_deref()),
        Cmd::TopicRoute { topic } => topic_route(&ctx, &topic),
        Cmd::GetNamesrvConfig => get_config(&ctx, request::GET_NAMESRV_CONFIG),
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
        Cmd::GetControllerMetaData { controller } => {
            controller::get_controller_metadata(&ctx.with_addrs(&controller, "-a")?)
        }
        Cmd::GetSyncStateSet {
            controller,
            brokers,
            cluster,
        } => controller::get_sync_state_set(
            &ctx,
            &ctx.with_addrs(&controller, "-a")?,
            brokers.as_deref(),
            cluster.as_deref(),
        ),
        Cmd::ElectMaster {
            controller,
            cluster,
            broker_name,
            broker_id,
        } => controller::elect_master(
            &ctx.with_addrs(&controller, "-a")?,
            &cluster,
            &broker_name,
            broker_id,
        ),
        Cmd::CleanBrokerMetadata {
            controller,
            cluster,
            broker_name,
            ids,
            clean_living,
        } => controller::clean_broker_metadata(
            &ctx.with_addrs(&controller, "-a")?,
            &cluster,
            &broker_name,
            ids.as_deref(),
            clean_living,
        ),
        Cmd::GetControllerConfig { controller } => get_config(
            &ctx.with_addrs(&controller, "-a")?,
            ctrl_request::GET_CONTROLLER_CONFIG,
        ),
        Cmd::UpdateControllerConfig {
            controller,
            key,
            value,
        } => write_each(
            &ctx.with_addrs(&controller, "-a")?,
            req(ctrl_request::UPDATE_CONTROLLER_CONFIG)
                .with_body(controller::config_body(&key, &value)?),
            &format!("update config {}={value}", key.trim()),
            None,
            Node::Controller,
        ),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::expand_mqadmin_shorts(std::env::args_os().collect()));
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
