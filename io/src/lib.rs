//! The tokio shell around `namesrv-core`: TCP, timers, persistence, configuration.
//! The binaries `namesrv` and `nsadmin` are thin CLIs over this library; the simulator drives
//! it too.

pub mod admin;
mod body_cache;
mod conn;
pub mod controller;
pub mod controller_log;
pub mod http;
mod memory;
pub mod metrics;
pub mod persist;
pub mod server;
pub mod settings;
mod status_page;
pub mod tls;
