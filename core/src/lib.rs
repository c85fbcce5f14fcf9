//! namesrv-core: a sans-IO RocketMQ NameServer.
//!
//! Bytes in through [`codec`], typed requests in [`protocol`]; [`NameServer::step`] takes an
//! [`Input`] at a time `now` and returns [`Effect`]s; [`NameServer::view`] publishes a
//! [`ReadView`] that answers the read-only codes from any thread. State: the [`route`] tables,
//! the [`kv`] store, the [`config`]. No sockets, files, clocks, randomness or locks: time is
//! an argument.

#![warn(missing_docs, unreachable_pub)]

pub mod acl;
pub mod codec;
pub mod config;
pub mod controller;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod kv;
mod machine;
pub mod protocol;
pub mod route;

pub use machine::{
    route_dialect, topic_not_exist_remark, Dispatch, Effect, Input, KvOp, NameServer,
    NoRouteBodies, ReadView, Request, RouteBodies, Stats, StoreFile,
};
pub use protocol::RemotingCommand;
