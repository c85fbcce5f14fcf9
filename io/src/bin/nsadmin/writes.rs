//! Subcommands that ask or change every address: getNamesrvConfig and the NameServer-wide
//! writes (updateNamesrvConfig, updateKvConfig, deleteKvConfig, wipeWritePerm, addWritePerm,
//! deleteTopic); getControllerConfig and updateControllerConfig, to every controller node.

use std::collections::BTreeMap;

use namesrv::admin::CallError;
use namesrv_core::protocol::{response, RemotingCommand};
use serde_json::{json, Value};

use crate::client::{classify, reply_failure, reply_text, response_name, Ctx, Failure, Outcome};
use crate::output::{header, print_json, print_table};

/// `key=value` lines as GET_NAMESRV_CONFIG sends them (raw values, sorted by key).
pub fn parse_config_text(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// What kind of server an address is, for the lines and JSON results of a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Namesrv,
    Controller,
}

impl Node {
    fn word(self) -> &'static str {
        match self {
            Node::Namesrv => "name server",
            Node::Controller => "controller",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Node::Namesrv => "namesrv",
            Node::Controller => "controller",
        }
    }
}

/// The configuration of every address (GET_NAMESRV_CONFIG, GET_CONTROLLER_CONFIG): one
/// `key=value` table per address, or `{"<addr>":{"key":"value",…}}`.
pub fn get_config(ctx: &Ctx, code: i32) -> Result<(), Failure> {
    let mut outcome = Outcome::Ok;
    let mut all = serde_json::Map::new();
    let mut first = true;
    for (addr, result) in ctx.each(&RemotingCommand::request(code)) {
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

pub fn finish(outcome: Outcome) -> Result<(), Failure> {
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
pub fn write_all(
    ctx: &Ctx,
    cmd: RemotingCommand,
    what: &str,
    count_field: Option<&str>,
) -> Result<(), Failure> {
    write_each(ctx, cmd, what, count_field, Node::Namesrv)
}

/// [`write_all`] to NameServers or controller nodes.
pub fn write_each(
    ctx: &Ctx,
    cmd: RemotingCommand,
    what: &str,
    count_field: Option<&str>,
    node: Node,
) -> Result<(), Failure> {
    let mut outcome = Outcome::Ok;
    let mut results = Vec::new();
    for (addr, result) in ctx.each(&cmd) {
        let (this, line, entry) = write_result(&addr, result, what, count_field, node);
        outcome = outcome.max(this);
        if ctx.json {
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

/// One address's write: its outcome, its line (`<what> in <node>[<addr>] OK`, or `FAILED:`
/// with the reply's name, code and remark) and its JSON result (no null fields).
pub fn write_result(
    addr: &str,
    result: Result<RemotingCommand, CallError>,
    what: &str,
    count_field: Option<&str>,
    node: Node,
) -> (Outcome, String, Value) {
    let word = node.word();
    let (this, line, mut entry) = match result {
        Ok(reply) => {
            let count = count_field.and_then(|f| reply.ext(f)).map(str::to_owned);
            let o = classify(reply.code);
            let line = if o == Outcome::Ok {
                match &count {
                    Some(n) => format!("{what} in {word}[{addr}] OK, {n}"),
                    None => format!("{what} in {word}[{addr}] OK"),
                }
            } else {
                format!("{what} in {word}[{addr}] FAILED: {}", reply_text(&reply))
            };
            let mut entry = json!({
                node.key(): addr,
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
            let line = format!("{what} in {word}[{addr}] FAILED: {}", f.message);
            let entry = json!({ node.key(): addr, "ok": false, "error": f.message });
            (f.outcome, line, entry)
        }
    };
    if let Value::Object(m) = &mut entry {
        m.retain(|_, v| !v.is_null());
    }
    (this, line, entry)
}
