//! The controller's shell (`enableControllerInNamesrv=true`): its own port (the self peer's
//! port in `controllerDLegerPeers`, as Apache's embedded controller), the event log, the
//! settings file, timers and NOTIFY_BROKER_ROLE_CHANGED delivery, around
//! [`namesrv_core::controller::Controller`].
//!
//! One controller (one peer) is a complete, durable mode: a decision's events are appended
//! and fsynced under the controller's lock before its reply is written, so the lock serialises
//! requests exactly as Apache's single event thread does, and a crash loses nothing that was
//! acknowledged. A group of several peers needs replication (issue 19) and is refused at start.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::BytesMut;
use namesrv_core::codec::{encode_frame, DEFAULT_MAX_FRAME};
use namesrv_core::config::NamesrvConfig;
use namesrv_core::controller::{Controller, ControllerConfig, Effect, Input, Note};
use namesrv_core::protocol::RemotingCommand;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::conn::{self, connection, Limits};
use crate::controller_log::EventLog;
use crate::metrics::Metrics;
use crate::persist;
use crate::tls::Policy;

/// The settings file 1009 writes, inside `controllerStorePath`.
pub const SETTINGS_FILE: &str = "controller.properties";

/// How long a NOTIFY_BROKER_ROLE_CHANGED may take (Apache: 3 s, oneway, no retry; the
/// broker's 5 s poll makes up for a lost one).
const NOTIFY_BUDGET: Duration = Duration::from_secs(3);

/// The controller's settings and what 1009 persisted on earlier runs.
pub struct Settings {
    /// The settings to start with.
    pub config: ControllerConfig,
    /// The keys `<controllerStorePath>/controller.properties` holds (1009's, applied last).
    pub persisted: BTreeMap<String, String>,
}

/// Builds the controller's settings from the NameServer's: the controller keys a `-c` file or
/// `--set` gave (kept in `extra`), `scanNotActiveBrokerInterval` (one key sets both, as in
/// Apache's embedded mode), `~/` expanded, then the keys 1009 persisted on earlier runs (each
/// logged: they win over the file and the command line).
pub fn settings(config: &NamesrvConfig, home: &Path) -> Result<Settings, String> {
    let mut c = ControllerConfig {
        scan_not_active_broker_interval: config.scan_not_active_broker_interval,
        ..ControllerConfig::default()
    };
    for (k, v) in &config.extra {
        c.set(k, v)
            .map_err(|e| format!("bad controller setting: {e}"))?;
    }
    if let Some(rest) = c.store_path.strip_prefix("~/") {
        c.store_path = home.join(rest).display().to_string();
    }
    let file = Path::new(&c.store_path).join(SETTINGS_FILE);
    let mut persisted = BTreeMap::new();
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let props = namesrv_core::config::parse_properties(&text)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let refused = c.blacklist();
            for (k, v) in props {
                if refused.contains(&k) {
                    warn!(file = %file.display(), key = %k, "controller setting ignored: not settable by 1009");
                    continue;
                }
                if c.set(&k, &v)
                    .map_err(|e| format!("{}: {e}", file.display()))?
                {
                    info!(file = %file.display(), key = %k, value = %v, "controller setting from an earlier UPDATE_CONTROLLER_CONFIG");
                    persisted.insert(k, v.trim().to_owned());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", file.display())),
    }
    if !c.controller_type.eq_ignore_ascii_case("DLedger") {
        return Err(format!(
            "controllerType={} is not supported (only DLedger's protocol is served)",
            c.controller_type
        ));
    }
    let peers = c.peer_list()?;
    c.self_peer()?;
    if peers.len() > 1 {
        return Err(format!(
            "controllerDLegerPeers lists {} peers: a replicated controller group is not supported \
             yet; list this node alone (e.g. {}-{})",
            peers.len(),
            c.self_id,
            c.self_peer().map(|p| p.addr).unwrap_or_default()
        ));
    }
    Ok(Settings {
        config: c,
        persisted,
    })
}

/// The controller, its log, and what the connections share.
pub struct Shared {
    inner: Mutex<Inner>,
    epoch: Instant,
    next_conn: AtomicU64,
    /// The controller's next deadline (`u64::MAX`: none), written at the end of every step so
    /// the timer never waits for the lock (a step may be fsyncing an append).
    next_deadline: AtomicU64,
    deadline_changed: Notify,
    notify_tx: mpsc::UnboundedSender<(String, RemotingCommand)>,
    metrics: Metrics,
    writers: tokio::sync::Semaphore,
    frame_budget: tokio::sync::Semaphore,
    settings_path: PathBuf,
}

struct Inner {
    machine: Controller,
    log: EventLog,
}

impl Shared {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| {
            // A step panicked half-way (a bug): the machine may be mid-decision, an append
            // in flight never to complete. Stop deciding; a restart replays the log.
            let mut inner = p.into_inner();
            if inner.machine.fenced().is_none() {
                error!("controller: a step panicked; no more decisions until restart");
                inner
                    .machine
                    .fence("a step panicked; restart the controller".into());
            }
            inner
        })
    }

    /// Steps the controller and carries out its effects until none is left waiting: appends
    /// are fsynced here, under the lock. Returns the replies.
    pub fn step(&self, input: Input) -> Vec<(u64, RemotingCommand)> {
        self.run(input).0
    }

    /// [`Self::step`], also saying how many replicas the step found inactive.
    fn run(&self, input: Input) -> (Vec<(u64, RemotingCommand)>, usize) {
        let mut replies = Vec::new();
        let mut inactive = 0;
        let mut inner = self.lock();
        // Read under the lock: steps see time only move forward.
        let now = self.now();
        let mut pending = vec![input];
        while let Some(input) = pending.pop() {
            for effect in inner.machine.step(now, input) {
                match effect {
                    Effect::Reply { conn, cmd } => replies.push((conn, cmd)),
                    Effect::Append { ticket, events } => {
                        let result = inner.log.append(&events);
                        if let Err(e) = &result {
                            error!(error = %e, "controller event log append failed");
                        }
                        pending.push(Input::Appended { ticket, result });
                    }
                    Effect::PersistConfig { ticket, content } => {
                        let result = persist::write_atomic(&self.settings_path, content.as_bytes())
                            .map_err(|e| format!("{}: {e}", self.settings_path.display()));
                        pending.push(Input::Appended { ticket, result });
                    }
                    Effect::Notify { broker_addr, cmd } => {
                        let _ = self.notify_tx.send((broker_addr, cmd));
                    }
                    Effect::Note(note) => {
                        inactive += usize::from(matches!(note, Note::Inactive { .. }));
                        log_note(&note);
                    }
                }
            }
        }
        let next = inner.machine.next_deadline().unwrap_or(u64::MAX);
        self.next_deadline.store(next, Ordering::SeqCst);
        drop(inner);
        self.deadline_changed.notify_one();
        (replies, inactive)
    }

    /// The controller, for a look (tests, status).
    pub fn with<R>(&self, f: impl FnOnce(&Controller) -> R) -> R {
        f(&self.lock().machine)
    }
}

fn log_note(note: &Note) {
    match note {
        Note::Inactive { key, closed } => info!(
            cluster = %key.cluster, broker_name = %key.name, broker_id = key.id,
            cause = if *closed { "connection closed" } else { "heartbeat expired" },
            "controller: replica inactive"
        ),
        Note::Elected {
            broker_name,
            master,
            master_epoch,
        } => match master {
            Some(m) => info!(%broker_name, master = m, master_epoch, "controller: master elected"),
            None => warn!(%broker_name, master_epoch, "controller: no master could be elected"),
        },
        Note::Fenced { error } => error!(
            %error,
            "controller: the event log failed; no more decisions are acknowledged until restart"
        ),
    }
}

impl conn::Server for Shared {
    fn request(&self, conn: u64, cmd: RemotingCommand) -> Option<RemotingCommand> {
        let opaque = cmd.opaque;
        let mut out = None;
        for (c, reply) in self.step(Input::Request { conn, cmd }) {
            if c == conn && reply.opaque == opaque && out.is_none() {
                out = Some(reply);
            } else {
                // Every append completes inside `step`, so nothing answers later.
                warn!(conn = c, "controller reply for another request dropped");
            }
        }
        out
    }

    fn is_read(&self, _cmd: &RemotingCommand) -> bool {
        // Everything takes the controller's lock, in order (Apache's one event thread).
        false
    }

    fn writers(&self) -> &tokio::sync::Semaphore {
        &self.writers
    }

    fn frame_budget(&self) -> &tokio::sync::Semaphore {
        &self.frame_budget
    }

    fn closed(&self, conn: u64) -> bool {
        // The step's own account of what the close removed (as the NameServer's close does).
        self.run(Input::Closed { conn }).1 > 0
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// A bound controller.
pub struct ControllerServer {
    shared: Arc<Shared>,
    listener: TcpListener,
    notify_rx: mpsc::UnboundedReceiver<(String, RemotingCommand)>,
    idle: Option<Duration>,
}

impl ControllerServer {
    /// Opens the log (replaying it), binds the self peer's port on `bind_address`.
    pub async fn bind(
        settings: Settings,
        bind_address: &str,
        idle: Option<Duration>,
    ) -> Result<Self, String> {
        let Settings {
            config: settings,
            persisted,
        } = settings;
        let store = PathBuf::from(&settings.store_path);
        let fresh = !store.join(crate::controller_log::FILE_NAME).exists();
        let opened = EventLog::open(&store)?;
        if fresh && has_dledger_store(&store) {
            warn!(
                dir = %store.display(),
                "controllerStorePath holds a Java controller's DLedger store (dledger-*): it is \
                 not read; this controller starts empty, and brokers it knew must register again"
            );
        }
        if let Some(n) = opened.truncated {
            warn!(
                file = %opened.log.path().display(),
                bytes = n,
                "controller event log: cut a half-written last record (never acknowledged)"
            );
        }
        let (replicas, applied) = Controller::replay(&opened.events);
        let me = settings.self_peer()?;
        let port = me
            .addr
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .ok_or_else(|| format!("controllerDLegerPeers: no port in {}", me.addr))?;
        let addr = format!("{bind_address}:{port}");
        let listener = TcpListener::bind(addr.as_str())
            .await
            .map_err(|e| format!("controller: cannot listen on {addr}: {e}"))?;
        info!(
            %addr, log = %opened.log.path().display(), events = applied, sets = replicas.len(),
            "controller started (enableControllerInNamesrv)"
        );
        let epoch = Instant::now();
        let mut machine = Controller::new(settings.clone(), replicas, applied, 0);
        // Lease generations must keep growing across restarts: start past any earlier run's.
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        machine.set_lease_generation_base(micros);
        machine.set_persisted_settings(persisted);
        let first_deadline = machine.next_deadline().unwrap_or(u64::MAX);
        let (notify_tx, notify_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                machine,
                log: opened.log,
            }),
            epoch,
            next_conn: AtomicU64::new(1),
            next_deadline: AtomicU64::new(first_deadline),
            deadline_changed: Notify::new(),
            notify_tx,
            metrics: Metrics::new(),
            writers: tokio::sync::Semaphore::new(1),
            frame_budget: tokio::sync::Semaphore::new(conn::FRAME_BUDGET),
            settings_path: store.join(SETTINGS_FILE),
        });
        Ok(Self {
            shared,
            listener,
            notify_rx,
            idle,
        })
    }

    /// The port's address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Serves until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let ControllerServer {
            shared,
            listener,
            mut notify_rx,
            idle,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(timer(shared.clone(), stop_rx.clone()));
        tokio::spawn(async move {
            while let Some((addr, cmd)) = notify_rx.recv().await {
                tokio::spawn(notify(addr, cmd));
            }
        });
        let policy = Arc::new(Policy::PlainOnly {
            why: "the controller port serves plain connections",
        });
        let limits = Limits {
            idle,
            max_frame: DEFAULT_MAX_FRAME,
            frame_budget: conn::FRAME_BUDGET,
        };
        loop {
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(x) => x,
                        Err(e) => {
                            warn!(error = %e, "controller: accept failed");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let conn = shared.next_conn.fetch_add(1, Ordering::Relaxed);
                    let (s, stop, policy) = (shared.clone(), stop_rx.clone(), policy.clone());
                    let s: Arc<dyn conn::Server> = s;
                    tokio::spawn(async move {
                        connection(s, stream, peer, conn, limits, &policy, stop).await;
                    });
                }
            }
        }
        shared.step(Input::ShutdownStarted);
        let _ = stop_tx.send(true);
        info!("controller stopped");
    }
}

/// Sleeps until the controller's next deadline (an expiry, the inactive-master scan), then
/// ticks, off the I/O workers (a tick may elect, and an election is fsynced).
async fn timer(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = shared.next_deadline.load(Ordering::SeqCst);
        let sleep = if next == u64::MAX {
            Duration::from_secs(3600)
        } else {
            Duration::from_millis(next.saturating_sub(shared.now()))
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {
                let s = shared.clone();
                #[allow(deprecated)]
                let _ = tokio::task::spawn_blocking(move || s.step(Input::Tick)).await;
            }
            _ = shared.deadline_changed.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// NOTIFY_BROKER_ROLE_CHANGED on a new connection to the broker's remoting port (as Apache).
async fn notify(addr: String, cmd: RemotingCommand) {
    let mut buf = BytesMut::new();
    if encode_frame(&cmd, &mut buf).is_err() {
        return;
    }
    let send = async {
        let mut s = TcpStream::connect(addr.as_str()).await?;
        s.write_all(&buf).await?;
        s.flush().await?;
        s.shutdown().await
    };
    match tokio::time::timeout(NOTIFY_BUDGET, send).await {
        Ok(Ok(())) => debug!(broker_addr = %addr, "controller: broker notified of its role"),
        Ok(Err(e)) => warn!(broker_addr = %addr, error = %e, "controller: cannot notify broker"),
        Err(_) => warn!(broker_addr = %addr, "controller: timed out notifying broker"),
    }
}

/// Whether `dir` holds a Java controller's DLedger store (`dledger-<selfId>/`).
fn has_dledger_store(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("dledger-"))
    })
}
