//! The tokio shell around `namesrv-core`: TCP, timers, persistence, configuration.
//! The binary `namesrv` is a thin CLI over this library; the simulator drives it too.

pub mod http;
pub mod metrics;
pub mod persist;
pub mod server;
pub mod settings;
