//! `namesrv`: a RocketMQ NameServer, a drop-in for Apache's `mqnamesrv`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use namesrv::{controller, persist, server, settings};
use namesrv_core::config::NamesrvConfig;
use tracing::{error, info, warn};

/// The command line. `about` is spelled out: a bare `about` would show the crate's description.
#[derive(Parser, Debug)]
#[command(
    name = "namesrv",
    version,
    about = "RocketMQ NameServer, wire-compatible with Apache's mqnamesrv",
    long_about = "RocketMQ NameServer, wire-compatible with Apache's mqnamesrv\n\n\
                  Brokers register with it and producers and consumers ask it for topic routes, \
                  over RocketMQ's remoting protocol (port 9876 by default). It reads Apache's \
                  configuration keys: a .properties file with -c, single keys with --set; -p \
                  prints the effective configuration, as `mqnamesrv -p` does."
)]
struct Cli {
    /// Java .properties file with Apache's keys (as `mqnamesrv -c`).
    #[arg(short = 'c', long = "configFile")]
    config_file: Option<PathBuf>,
    /// Print the effective configuration and exit (as `mqnamesrv -p`).
    #[arg(short = 'p', long = "printConfigItem")]
    print_config: bool,
    /// Override a key, e.g. `--set listenPort=9877` (repeatable; wins over the file).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Shorthand for `--set listenPort=PORT`.
    #[arg(long = "listenPort")]
    listen_port: Option<u16>,
    /// Shorthand for `--set bindAddress=ADDR`.
    #[arg(long = "bindAddress")]
    bind_address: Option<String>,
    /// Load `<kvConfigPath>.bak` instead of a corrupt `kvConfigPath`.
    #[arg(long = "kv-use-backup")]
    kv_use_backup: bool,
    /// Log format.
    #[arg(long = "log-format", value_parser = ["human", "json"], default_value = "human")]
    log_format: String,
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load_config(cli: &Cli) -> Result<(NamesrvConfig, Vec<String>), String> {
    let mut config = settings::defaults(&settings::home_dir(), std::env::var("ROCKETMQ_HOME").ok());
    let mut warnings = Vec::new();
    if let Some(path) = &cli.config_file {
        warnings = settings::apply_file(&mut config, path).map_err(|e| e.to_string())?;
    }
    let mut overrides = cli.set.clone();
    if let Some(p) = cli.listen_port {
        overrides.push(format!("listenPort={p}"));
    }
    if let Some(b) = &cli.bind_address {
        overrides.push(format!("bindAddress={b}"));
    }
    settings::apply_overrides(&mut config, &overrides).map_err(|e| e.to_string())?;
    if config.cluster_test {
        warnings.push("clusterTest=true is not supported; serving routes normally".into());
    }
    Ok((config, warnings))
}

/// `runtimeWorkerThreads`, or by default one per core less one, at least one. A route lookup
/// costs a few microseconds, so one thread already answers well over 100k lookups a second;
/// what a NameServer needs more is a short tail, and on a small machine shared with the
/// kernel's network processing and other processes, a worker thread more than there are free
/// cores gets preempted with connections queued behind it (measured on 2 cores: p99 at 128
/// connections 2.2x the null server's with two workers, 0.7x with one).
fn worker_threads(configured: i32) -> usize {
    match usize::try_from(configured) {
        Ok(n) if n > 0 => n.min(1024),
        _ => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (config, warnings) = match load_config(&cli) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("namesrv: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.print_config {
        print!("{}", config.to_properties_text());
        return ExitCode::SUCCESS;
    }
    init_logging(&cli.log_format);
    for w in warnings {
        warn!("{w}");
    }
    let kv = match persist::load_kv(
        std::path::Path::new(&config.kv_config_path),
        cli.kv_use_backup,
    ) {
        Ok(kv) => kv,
        Err(e) => {
            error!("{e}");
            eprintln!("namesrv: {e}");
            return ExitCode::from(1);
        }
    };
    // The embedded controller (Apache's enableControllerInNamesrv): its settings are checked
    // before anything starts, so a bad one stops start-up with a clear message.
    let controller_settings = if config.enable_controller_in_namesrv {
        match controller::settings(&config, &settings::home_dir()) {
            Ok(c) => Some(c),
            Err(e) => {
                error!("{e}");
                eprintln!("namesrv: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(worker_threads(config.runtime_worker_threads));
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("namesrv: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(async move {
        // The controller's port first: once the NameServer's port answers, both do.
        let mut controller = None;
        if let Some(c) = controller_settings {
            let idle = u64::try_from(config.server_channel_max_idle_time_seconds)
                .ok()
                .filter(|s| *s > 0)
                .map(std::time::Duration::from_secs);
            match controller::ControllerServer::bind(c, &config.bind_address, idle).await {
                Ok(ctrl) => controller = Some(ctrl),
                Err(e) => {
                    error!("{e}");
                    eprintln!("namesrv: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        let server = match server::Server::bind(config.clone(), kv).await {
            Ok(s) => s,
            // A bad ACL or TLS setting (its file unreadable, malformed, missing) is not a
            // listening problem: say what it is.
            Err(e) if matches!(e.kind(), std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData) => {
                error!(error = %e, "cannot start");
                eprintln!("namesrv: {e}");
                return ExitCode::from(1);
            }
            Err(e) => {
                error!(bind = %format!("{}:{}", config.bind_address, config.listen_port), error = %e, "cannot listen");
                eprintln!("namesrv: cannot listen on {}:{}: {e}", config.bind_address, config.listen_port);
                return ExitCode::from(1);
            }
        };
        match server.local_addr() {
            Ok(addr) => info!(%addr, kv = %config.kv_config_path, "The Name Server boot success. serializeType=JSON"),
            Err(_) => info!("The Name Server boot success."),
        }
        info!(tls_server_mode = config.tls_server_mode.as_str(), serves = server.tls_description(), "remoting port");
        if let Some(Ok(addr)) = server.http_local_addr() {
            info!(%addr, "HTTP port: /metrics /health /ready /rocketmq/nsaddr");
        }
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut controller_task = None;
        if let Some(ctrl) = controller {
            controller_task = Some(tokio::spawn(ctrl.run(rx.clone())));
        }
        tokio::spawn(async move {
            wait_for_signal().await;
            let _ = tx.send(true);
        });
        server.run(rx).await;
        if let Some(t) = controller_task {
            let _ = t.await;
        }
        ExitCode::SUCCESS
    })
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = int.recv() => info!("SIGINT received"),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
