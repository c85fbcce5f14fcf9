//! How nsadmin talks to NameServers: outcomes and failures, reply classification, request
//! signing (ACL), the transport (plain or TLS), and the query / call-every-address patterns.

use std::process::ExitCode;
use std::time::Duration;

use namesrv::admin::{call_once_with, parse_addr_list, CallError, Transport};
use namesrv_core::protocol::{response, RemotingCommand};

use crate::cli::Cli;

/// How a command ended. The order is the precedence when several addresses disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    NotFound,
    Unreachable,
    Error,
    /// Bad usage found after parsing (clap exits 2 by itself for the rest).
    Usage,
}

impl Outcome {
    pub fn exit(self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Ok => 0,
            Outcome::Error => 1,
            Outcome::NotFound => 3,
            Outcome::Unreachable => 4,
            Outcome::Usage => 2,
        })
    }
}

/// A failed command: what to tell the user, and how to exit.
pub struct Failure {
    pub outcome: Outcome,
    pub message: String,
}

impl Failure {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Error,
            message: message.into(),
        }
    }

    pub fn from_call(e: CallError) -> Self {
        Self {
            outcome: match e {
                CallError::Unreachable(_) => Outcome::Unreachable,
                CallError::Protocol(_) => Outcome::Error,
            },
            message: e.to_string(),
        }
    }
}

/// The name of a reply code: the NameServer's, else the controller's (2000-2014).
pub fn response_name(code: i32) -> &'static str {
    use namesrv_core::controller::codes::response as c;
    match code {
        c::CONTROLLER_FENCED_MASTER_EPOCH => "CONTROLLER_FENCED_MASTER_EPOCH",
        c::CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH => "CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH",
        c::CONTROLLER_INVALID_MASTER => "CONTROLLER_INVALID_MASTER",
        c::CONTROLLER_INVALID_REPLICAS => "CONTROLLER_INVALID_REPLICAS",
        c::CONTROLLER_MASTER_NOT_AVAILABLE => "CONTROLLER_MASTER_NOT_AVAILABLE",
        c::CONTROLLER_INVALID_REQUEST => "CONTROLLER_INVALID_REQUEST",
        c::CONTROLLER_BROKER_NOT_ALIVE => "CONTROLLER_BROKER_NOT_ALIVE",
        c::CONTROLLER_NOT_LEADER => "CONTROLLER_NOT_LEADER",
        c::CONTROLLER_BROKER_METADATA_NOT_EXIST => "CONTROLLER_BROKER_METADATA_NOT_EXIST",
        c::CONTROLLER_INVALID_CLEAN_BROKER_METADATA => "CONTROLLER_INVALID_CLEAN_BROKER_METADATA",
        c::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED => "CONTROLLER_BROKER_NEED_TO_BE_REGISTERED",
        c::CONTROLLER_MASTER_STILL_EXIST => "CONTROLLER_MASTER_STILL_EXIST",
        c::CONTROLLER_ELECT_MASTER_FAILED => "CONTROLLER_ELECT_MASTER_FAILED",
        c::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED => "CONTROLLER_ALTER_SYNC_STATE_SET_FAILED",
        c::CONTROLLER_BROKER_ID_INVALID => "CONTROLLER_BROKER_ID_INVALID",
        _ => namesrv::metrics::result_name(Some(code)),
    }
}

/// The outcome a reply code stands for.
pub fn classify(code: i32) -> Outcome {
    match code {
        response::SUCCESS => Outcome::Ok,
        response::TOPIC_NOT_EXIST | response::QUERY_NOT_FOUND => Outcome::NotFound,
        _ => Outcome::Error,
    }
}

/// `NAME (code): remark` of an error reply.
pub fn reply_text(reply: &RemotingCommand) -> String {
    let remark = reply.remark.as_deref().unwrap_or("");
    format!(
        "{} ({}){}{}",
        response_name(reply.code),
        reply.code,
        if remark.is_empty() { "" } else { ": " },
        remark
    )
}

pub fn reply_failure(addr: &str, reply: &RemotingCommand) -> Failure {
    Failure {
        outcome: classify(reply.code),
        message: format!("{addr}: {}", reply_text(reply)),
    }
}

pub struct Ctx {
    pub addrs: Vec<String>,
    pub json: bool,
    pub timeout: Duration,
    /// (access key, secret key) when requests are to be signed.
    pub credentials: Option<(String, namesrv_core::acl::Secret)>,
    pub transport: Transport,
}

impl Ctx {
    /// The addresses (`-n`, else `NAMESRV_ADDR`, else `127.0.0.1:9876`), the transport
    /// (`--tls`, `--tlsTrustCert`) and the credentials (`--accessKey`, `--secretKey`).
    pub fn from_cli(cli: &Cli) -> Result<Self, Failure> {
        let list = cli
            .namesrv
            .clone()
            .or_else(|| std::env::var("NAMESRV_ADDR").ok())
            .unwrap_or_else(|| "127.0.0.1:9876".into());
        let addrs = parse_addr_list(&list);
        if addrs.is_empty() {
            return Err(Failure::error(format!("no address in {list:?}")));
        }
        let transport = match (&cli.tls_trust_cert, cli.tls) {
            (Some(path), _) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Failure::error(format!("--tlsTrustCert {}: {e}", path.display()))
                })?;
                Transport::tls(Some(&pem)).map_err(|e| {
                    Failure::error(format!("--tlsTrustCert {}: {e}", path.display()))
                })?
            }
            (None, true) => Transport::tls(None).map_err(Failure::error)?,
            (None, false) => Transport::Plain,
        };
        Ok(Ctx {
            addrs,
            json: cli.json,
            timeout: Duration::from_millis(cli.timeout_ms.max(1)),
            credentials: match (&cli.access_key, &cli.secret_key) {
                (Some(a), Some(k)) => Some((a.clone(), namesrv_core::acl::Secret::new(k))),
                _ => None,
            },
            transport,
        })
    }

    /// The same options aimed at other addresses (a controller's `-a` list); bad usage if the
    /// list holds none.
    pub fn with_addrs(&self, list: &str, option: &str) -> Result<Ctx, Failure> {
        let addrs = parse_addr_list(list);
        if addrs.is_empty() {
            return Err(Failure {
                outcome: Outcome::Usage,
                message: format!("{option}: no address in {list:?}"),
            });
        }
        Ok(Ctx {
            addrs,
            json: self.json,
            timeout: self.timeout,
            credentials: self.credentials.clone(),
            transport: self.transport.clone(),
        })
    }

    /// One call to one address.
    pub fn call(&self, addr: &str, cmd: &RemotingCommand) -> Result<RemotingCommand, CallError> {
        call_once_with(addr, self.signed(cmd), self.timeout, &self.transport)
    }

    /// Adds `AccessKey` and `Signature` as RocketMQ's `AclClientRPCHook` does.
    pub fn signed(&self, cmd: &RemotingCommand) -> RemotingCommand {
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
    pub fn query(&self, cmd: &RemotingCommand) -> Result<(String, RemotingCommand), Failure> {
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
    pub fn each(&self, cmd: &RemotingCommand) -> Vec<(String, Result<RemotingCommand, CallError>)> {
        self.addrs
            .iter()
            .map(|a| {
                let reply = call_once_with(a, self.signed(cmd), self.timeout, &self.transport);
                (a.clone(), reply)
            })
            .collect()
    }
}
