//! namesrv-core: a sans-IO RocketMQ NameServer.
//!
//! Bytes in through [`codec`], typed requests in [`protocol`], one handler per request code in
//! [`machine`] over the [`route`], [`kv`] and [`config`] state, effects out. No sockets, files,
//! clocks or randomness: time is an argument.

pub mod acl;
pub mod codec;
pub mod config;
pub mod fuzzing;
pub mod kv;
pub mod machine;
pub mod protocol;
pub mod route;
mod route_cache;

pub use machine::{Effect, Input, NameServer, PreparedBody};
