//! The tokio shell: accept loop, one task per connection (read, answer, write), the timer at
//! the core's next deadline, and the effects (replies, persistence, notifications, logs).
//!
//! Reads (`ReadView::may_answer`) are offered to an up-to-date read view (`ReadView::accept`)
//! and answered there, in parallel on every connection task, with no lock on the machine; the
//! rest become the `Input` for `NameServer::step` (a registration's body decoded outside the
//! lock, unless it is the body last applied: `NameServer::wants_body`), which runs under the
//! machine's mutex. The shell never names a request code. A
//! lock is never held across an `.await`.
//!
//! Views are published lazily: a step first drops the published view, so a burst of writes
//! with no read between them changes the tables in place (a view held across a write makes
//! it copy every node and entry it touches); the first read after a write takes the machine's
//! lock for the O(1) `NameServer::view` and publishes it for every read until the next write.
//! A reply goes out after its step, and a view is only ever made under the lock, so a client
//! reads its own writes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::BytesMut;
use namesrv_core::codec::encode_frame;
use namesrv_core::config::NamesrvConfig;
use namesrv_core::kv::KvConfig;
use namesrv_core::protocol::RemotingCommand;
use namesrv_core::route::{RemovalCause, RouteEvent};
use namesrv_core::{Dispatch, Effect, Input, NameServer, ReadView, Request, StoreFile};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::body_cache::BodyCache;
use crate::conn::{self, connection, Limits};
use crate::memory::Trimmer;
use crate::metrics::{Metrics, RejectReason, Snapshot};
use crate::tls::{self, Policy};
use crate::{http, persist, status_page};

/// What [`Shared::run`] did.
struct Stepped {
    replies: Vec<(u64, RemotingCommand)>,
    /// A `Closed` input removed brokers (worth an info line, not a debug one).
    closed_brokers: bool,
}

/// State shared by every task.
pub struct Shared {
    machine: Mutex<NameServer>,
    /// The machine's read view, when one is published and no step came after it.
    view: RwLock<Option<Arc<ReadView>>>,
    /// The machine's configuration as of its last step: what writes are prepared with
    /// (decoded outside the lock) when no view is published.
    config: RwLock<Arc<NamesrvConfig>>,
    bodies: BodyCache,
    epoch: Instant,
    /// Wakes the timer when the next deadline moved earlier than the one it sleeps toward.
    deadline_changed: Notify,
    /// The deadline the timer sleeps toward (`u64::MAX`: none, or being read). Writes compare
    /// the machine's next deadline with it, so the timer is woken only when it must be, not on
    /// every registration.
    timer_deadline: AtomicU64,
    /// Ticket of the last KV and config snapshot written. Tickets are numbered by the machine
    /// and written before the reply goes out, so an acknowledged change is on disk, and an
    /// older snapshot never overwrites a newer one.
    persisted: std::sync::Mutex<(u64, u64)>,
    connections: AtomicUsize,
    /// Open connections per source address, kept only with `serverMaxConnectionsPerAddress`.
    per_address: std::sync::Mutex<HashMap<IpAddr, usize>>,
    next_conn: AtomicU64,
    kv_path: PathBuf,
    config_path: PathBuf,
    metrics: Metrics,
    /// Writes and closes running off the I/O workers at once ([`WRITERS`]).
    writers: tokio::sync::Semaphore,
    /// Bytes of large frames in the server (`serverMaxInflightFrameBytes`).
    frame_budget: tokio::sync::Semaphore,
    /// Its permits in all.
    frame_budget_total: usize,
    /// Gives freed memory back once the tables have shrunk (`memory`).
    trimmer: Trimmer,
}

/// How many writes (or closes) run at once on blocking threads: two keep both cores of a
/// small host busy decoding bodies while one applies its step, and bound the decoded bodies in
/// memory; a fixed number, so simulated runs interleave the same on every host.
const WRITERS: usize = 2;

impl Shared {
    /// Milliseconds since start on tokio's clock (virtual under madsim).
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The read view of the current state: the published one, or (after a write) a new one
    /// made under the machine's lock, in O(1), and published.
    fn view(&self) -> Arc<ReadView> {
        if let Some(v) = self
            .view
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            return v.clone();
        }
        // Lock order: the machine, then the view slot (as `run`).
        let m = self.lock_machine();
        let mut slot = self
            .view
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.get_or_insert_with(|| Arc::new(m.view())).clone()
    }

    fn lock_machine(&self) -> std::sync::MutexGuard<'_, NameServer> {
        self.machine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs an input through the machine, publishes its new view and carries out the effects
    /// (persisting what it asks, and reporting that back, until nothing is left). Replies are
    /// returned.
    pub(crate) fn step(&self, input: Input) -> Vec<(u64, RemotingCommand)> {
        self.run(input).replies
    }

    /// [`Self::step`], also telling whether a connection's close removed brokers.
    fn run(&self, input: Input) -> Stepped {
        let mut replies = Vec::new();
        let mut closed_brokers = false;
        let mut next_input = Some(input);
        while let Some(input) = next_input.take() {
            let now = self.now();
            let (effects, next, entries) = {
                let mut m = self.lock_machine();
                // Dropped before the step, so the tables are not shared with it (unless a
                // reader still holds it) and change in place.
                *self
                    .view
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                let fx = m.step(now, input);
                let config = m.shared_config();
                let mut kept = self
                    .config
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if !Arc::ptr_eq(&kept, &config) {
                    *kept = config;
                }
                drop(kept);
                (fx, m.next_deadline(), m.route().queue_entries())
            };
            if self.trimmer.after_step(entries) {
                debug!(
                    entries,
                    "route tables shrank: free memory to be returned to the OS"
                );
            }
            if next.unwrap_or(u64::MAX) < self.timer_deadline.load(Ordering::SeqCst) {
                self.deadline_changed.notify_one();
            }
            for e in effects {
                closed_brokers |= matches!(
                    e,
                    Effect::Route(RouteEvent::BrokerRemoved {
                        cause: RemovalCause::ConnectionClosed,
                        ..
                    })
                );
                if let Some(persisted) = self.effect(e, &mut replies) {
                    // One request persists one file at most; its reply waits for this.
                    next_input = Some(persisted);
                }
            }
        }
        Stepped {
            replies,
            closed_brokers,
        }
    }

    /// Carries out one effect; a persistence returns the input that reports it.
    fn effect(&self, e: Effect, replies: &mut Vec<(u64, RemotingCommand)>) -> Option<Input> {
        match e {
            Effect::Reply { conn, cmd } => replies.push((conn, cmd)),
            Effect::Persist {
                ticket,
                file,
                content,
            } => {
                let result = self.persist(ticket, file, &content);
                return Some(Input::Persisted { ticket, result });
            }
            Effect::NotifyBroker { broker_addr, cmd } => {
                tokio::spawn(notify_broker(broker_addr, cmd));
            }
            Effect::Route(ev) => {
                self.metrics.route_event(&ev);
                log_route_event(&ev);
            }
            Effect::KvWritten { op } => self.metrics.kv_write(op.as_str()),
            Effect::AuthFailed { conn, code, error } => {
                self.metrics.auth_failure(error.kind());
                // Never the secret; the access key is an identifier, not a credential.
                warn!(
                    conn,
                    code,
                    kind = error.kind(),
                    access_key = error.access_key().unwrap_or("-"),
                    "request refused: bad or missing ACL signature"
                );
            }
        }
        None
    }

    /// Writes a snapshot unless a newer one of the same file was written already.
    fn persist(&self, ticket: u64, file: StoreFile, content: &str) -> Result<(), String> {
        let mut last = self
            .persisted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let kv = file == StoreFile::Kv;
        let (slot, path) = if kv {
            (&mut last.0, &self.kv_path)
        } else {
            (&mut last.1, &self.config_path)
        };
        if *slot > ticket {
            return Ok(());
        }
        let written = persist::write_atomic(path, content.as_bytes());
        self.metrics.persisted(kv, written.is_ok());
        match written {
            Ok(()) => {
                *slot = ticket;
                debug!(path = %path.display(), "persisted");
                Ok(())
            }
            Err(e) => {
                warn!(path = %path.display(), error = %e, "cannot persist");
                Err(format!("{}: {e}", path.display()))
            }
        }
    }

    /// Answers one request, counting it and timing it.
    fn request(&self, conn: u64, cmd: RemotingCommand) -> Option<RemotingCommand> {
        let started = std::time::Instant::now();
        let code = cmd.code;
        let reply = self.answer(conn, cmd);
        self.metrics
            .request(code, reply.as_ref().map(|r| r.code), started.elapsed());
        reply
    }

    /// The input for a write: a registration's body fingerprinted and, unless the current
    /// state finds it unchanged, decoded here, outside the machine's lock. The published view
    /// is asked if there is one; else the machine, if its lock is free (no view is made for a
    /// write: that would make its step copy what it changes). The step checks again.
    fn prepare(&self, conn: u64, cmd: RemotingCommand) -> Input {
        let config = self
            .config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut request = Request::fingerprinted(cmd, config.max_inflated_register_body());
        if request.is_fingerprinted() {
            let published = self
                .view
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            // Never waited for: while another write holds the machine, decoding now (as before
            // there was this path) overlaps that write, and the step still skips the walk of
            // an unchanged body.
            let wants = match published {
                Some(view) => view.wants_body(&request),
                None => match self.machine.try_lock() {
                    Ok(m) => m.wants_body(&request),
                    Err(std::sync::TryLockError::Poisoned(p)) => {
                        p.into_inner().wants_body(&request)
                    }
                    Err(std::sync::TryLockError::WouldBlock) => true,
                },
            };
            if wants {
                request.decode_body();
            }
        }
        Input::Request { conn, request }
    }

    /// Answers one request: the current view answers reads; the rest go through `step`.
    fn answer(&self, conn: u64, cmd: RemotingCommand) -> Option<RemotingCommand> {
        let opaque = cmd.opaque;
        let dispatch = if ReadView::may_answer(&cmd) {
            self.view().accept(self.now(), conn, cmd, &self.bodies)
        } else {
            Dispatch::Step(self.prepare(conn, cmd))
        };
        let replies = match dispatch {
            Dispatch::Done(effects) => {
                let mut replies = Vec::new();
                for e in effects {
                    // A read persists nothing, so nothing comes back.
                    let _ = self.effect(e, &mut replies);
                }
                replies
            }
            Dispatch::Step(input) => self.step(input),
        };
        replies
            .into_iter()
            .find(|(c, r)| *c == conn && r.opaque == opaque)
            .map(|(_, r)| r)
    }
}

/// One accepted connection's place in the counts; given back when dropped, however the
/// connection ends.
struct Slot {
    shared: Arc<Shared>,
    address: Option<IpAddr>,
}

impl Shared {
    /// Takes a slot for a new connection from `peer`, or says which limit refuses it.
    fn take_slot(
        self: &Arc<Self>,
        peer: IpAddr,
        max_conns: usize,
        max_per_address: Option<usize>,
    ) -> Result<Slot, RejectReason> {
        if self.connections.load(Ordering::Relaxed) >= max_conns {
            return Err(RejectReason::MaxConnections);
        }
        let address = match max_per_address {
            Some(limit) => {
                let ip = peer.to_canonical();
                let mut table = self
                    .per_address
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let open = table.entry(ip).or_insert(0);
                if *open >= limit {
                    return Err(RejectReason::MaxConnectionsPerAddress);
                }
                *open += 1;
                Some(ip)
            }
            None => None,
        };
        self.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            shared: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.connections.fetch_sub(1, Ordering::Relaxed);
        if let Some(ip) = self.address {
            let mut table = self
                .shared
                .per_address
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(open) = table.get_mut(&ip) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    table.remove(&ip);
                }
            }
        }
    }
}

// --- what the HTTP port shows --------------------------------------------------------------------

impl Shared {}

impl conn::Server for Shared {
    fn request(&self, conn: u64, cmd: RemotingCommand) -> Option<RemotingCommand> {
        Shared::request(self, conn, cmd)
    }

    fn closed(&self, conn: u64) -> bool {
        self.run(Input::Closed { conn }).closed_brokers
    }

    fn is_read(&self, cmd: &RemotingCommand) -> bool {
        ReadView::may_answer(cmd)
    }

    fn writers(&self) -> &tokio::sync::Semaphore {
        &self.writers
    }

    fn frame_budget(&self) -> &tokio::sync::Semaphore {
        &self.frame_budget
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

impl http::HttpState for Shared {
    /// `/metrics`: the counters plus gauges read from the current view.
    fn metrics_text(&self) -> String {
        let view = self.view();
        let stats = view.stats();
        let snap = Snapshot {
            brokers_live: stats.brokers_live,
            broker_groups: stats.broker_groups,
            clusters: stats.clusters,
            topics: stats.topics,
            queue_entries: stats.queue_entries,
            connections: self.connections.load(Ordering::Relaxed),
            kv_namespaces: stats.kv_namespaces,
            kv_entries: stats.kv_entries,
            ready: view.readiness(self.now()).is_ok(),
        };
        self.metrics.render(&snap)
    }

    /// `/ready`: the core's readiness (`needWaitForService` from the machine's start,
    /// shutdown begun).
    fn readiness(&self) -> Result<(), String> {
        self.view().readiness(self.now())
    }

    /// `/rocketmq/nsaddr`: the configured `httpNsaddr`, trimmed.
    fn nsaddr(&self) -> String {
        self.view().config().http_nsaddr.trim().to_owned()
    }

    /// The status page, from one view, while `httpStatusPageEnable` is on (read live).
    fn page(&self, page: http::Page<'_>) -> Option<(u16, String)> {
        let view = self.view();
        if !view.config().http_status_page_enable {
            return None;
        }
        let ctx = status_page::Context {
            now: self.now(),
            connections: self.connections.load(Ordering::Relaxed),
        };
        Some(match page {
            http::Page::Overview => (200, status_page::overview(&view, &ctx)),
            http::Page::Topic(name) => status_page::topic(&view, &ctx, name),
        })
    }
}

fn log_route_event(ev: &RouteEvent) {
    match ev {
        RouteEvent::BrokerRegistered {
            cluster,
            broker_name,
            broker_addr,
            broker_id,
            first,
        } => {
            if *first {
                info!(
                    cluster,
                    broker_name, broker_addr, broker_id, "broker registered"
                );
            } else {
                debug!(
                    cluster,
                    broker_name, broker_addr, broker_id, "broker re-registered"
                );
            }
        }
        RouteEvent::BrokerRemoved {
            cluster,
            broker_addr,
            broker_names,
            cause,
        } => {
            info!(cluster, broker_addr, broker_names = ?broker_names, cause = cause.as_str(), "broker removed");
        }
    }
}

/// NOTIFY_MIN_BROKER_ID_CHANGE: oneway, best effort, 300 ms like Apache.
async fn notify_broker(addr: String, cmd: RemotingCommand) {
    let mut buf = BytesMut::new();
    if encode_frame(&cmd, &mut buf).is_err() {
        return;
    }
    let send = async {
        let mut s = TcpStream::connect(addr.as_str()).await?;
        s.write_all(&buf).await?;
        s.flush().await
    };
    match tokio::time::timeout(Duration::from_millis(300), send).await {
        Ok(Ok(())) => debug!(broker_addr = %addr, "notified broker of min broker id change"),
        Ok(Err(e)) => warn!(broker_addr = %addr, error = %e, "cannot notify broker"),
        Err(_) => warn!(broker_addr = %addr, "timed out notifying broker"),
    }
}

/// A running server.
pub struct Server {
    shared: Arc<Shared>,
    listener: TcpListener,
    http: Option<TcpListener>,
    tls: Arc<Policy>,
    config: NamesrvConfig,
}

/// Where the HTTP port listens, if `httpListenPort` enables it.
pub fn http_bind_addr(config: &NamesrvConfig) -> Option<String> {
    if config.http_listen_port <= 0 {
        return None;
    }
    let host = if config.http_bind_address.trim().is_empty() {
        config.bind_address.trim()
    } else {
        config.http_bind_address.trim()
    };
    Some(format!("{host}:{}", config.http_listen_port))
}

impl Server {
    pub async fn bind(config: NamesrvConfig, kv: KvConfig) -> std::io::Result<Self> {
        // TLS settings first: a bad certificate stops start-up before the port is taken.
        let (tls, warning) = Policy::from_config(&config)?;
        if let Some(w) = warning {
            warn!("{w}");
        }
        let addr = format!("{}:{}", config.bind_address, config.listen_port);
        let listener = TcpListener::bind(addr.as_str()).await?;
        let http =
            match http_bind_addr(&config) {
                Some(addr) => Some(TcpListener::bind(addr.as_str()).await.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("HTTP port {addr}: {e}"))
                })?),
                None => None,
            };
        let epoch = Instant::now();
        // The machine starts at time 0 of the shell's clock (`Shared::now`).
        let mut machine = NameServer::new(config.clone(), kv, 0);
        if config.acl_enable {
            machine.set_accounts(load_accounts(&config.acl_file)?);
        }
        let prepare_config = RwLock::new(machine.shared_config());
        let frame_budget = usize::try_from(config.server_max_inflight_frame_bytes)
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or(conn::FRAME_BUDGET)
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared {
            machine: Mutex::new(machine),
            view: RwLock::new(None),
            config: prepare_config,
            bodies: BodyCache::default(),
            epoch,
            deadline_changed: Notify::new(),
            timer_deadline: AtomicU64::new(u64::MAX),
            persisted: std::sync::Mutex::new((0, 0)),
            connections: AtomicUsize::new(0),
            per_address: std::sync::Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            kv_path: PathBuf::from(&config.kv_config_path),
            config_path: PathBuf::from(&config.config_store_path),
            metrics: Metrics::new(),
            writers: tokio::sync::Semaphore::new(WRITERS),
            frame_budget: tokio::sync::Semaphore::new(frame_budget),
            frame_budget_total: frame_budget,
            trimmer: Trimmer::default(),
        });
        Ok(Self {
            shared,
            listener,
            http,
            tls: Arc::new(tls),
            config,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The HTTP port's address, when enabled.
    pub fn http_local_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.http.as_ref().map(TcpListener::local_addr)
    }

    /// What the remoting port accepts: plain only, TLS or plain, TLS only.
    pub fn tls_description(&self) -> &'static str {
        self.tls.describe()
    }

    /// Serves until `shutdown` turns true; then stops accepting, lets connections finish the
    /// request in hand and flush their replies, persists, and returns.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let Server {
            shared,
            listener,
            http,
            tls,
            config,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(timer(shared.clone(), stop_rx.clone()));
        if let Some(cert) = tls.certificate() {
            tokio::spawn(reload_certificate(cert.clone(), stop_rx.clone()));
        }
        // The HTTP port outlives the connections: /ready says 503 while they drain.
        let (http_stop_tx, http_stop_rx) = watch::channel(false);
        if let Some(l) = http {
            tokio::spawn(http::serve(l, shared.clone(), http_stop_rx));
        }
        let max_conns = usize::try_from(config.server_max_connections)
            .unwrap_or(usize::MAX)
            .max(1);
        let max_per_address = usize::try_from(config.server_max_connections_per_address)
            .ok()
            .filter(|n| *n > 0);
        let idle = u64::try_from(config.server_channel_max_idle_time_seconds)
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::from_secs);
        let max_frame = usize::try_from(config.frame_max_length)
            .unwrap_or(namesrv_core::codec::DEFAULT_MAX_FRAME);
        let mut tasks = Vec::new();
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
                            warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let slot = match shared.take_slot(peer.ip(), max_conns, max_per_address) {
                        Ok(slot) => slot,
                        Err(why) => {
                            match why {
                                RejectReason::MaxConnections => warn!(%peer, limit = max_conns,
                                    "connection limit (serverMaxConnections) reached; closing new connection"),
                                RejectReason::MaxConnectionsPerAddress => warn!(%peer,
                                    limit = max_per_address.unwrap_or(0),
                                    "per-address connection limit (serverMaxConnectionsPerAddress) reached; closing new connection"),
                            }
                            shared.metrics.connection_rejected(why);
                            drop(stream);
                            continue;
                        }
                    };
                    shared.metrics.connection_accepted();
                    let _ = stream.set_nodelay(true);
                    let conn = shared.next_conn.fetch_add(1, Ordering::Relaxed);
                    let limits = Limits {
                        idle,
                        max_frame,
                        frame_budget: shared.frame_budget_total,
                    };
                    let (shared2, stop, tls) = (shared.clone(), stop_rx.clone(), tls.clone());
                    tasks.retain(|t: &tokio::task::JoinHandle<()>| !t.is_finished());
                    tasks.push(tokio::spawn(async move {
                        connection(shared2, stream, peer, conn, limits, &tls, stop).await;
                        drop(slot);
                    }));
                }
            }
        }
        info!("shutting down: no new connections");
        drop(listener);
        shared.step(Input::ShutdownStarted);
        let _ = stop_tx.send(true);
        let wait =
            Duration::from_secs(u64::try_from(config.shutdown_wait_time_seconds).unwrap_or(30));
        let _ = tokio::time::timeout(wait, async {
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;
        // Every acknowledged change is already on disk; write the final state once more.
        // Under the newest ticket: nothing comes after it.
        let json = shared.view().kv().to_json();
        let _ = shared.persist(u64::MAX, StoreFile::Kv, &json);
        let _ = http_stop_tx.send(true);
        info!("stopped");
    }
}

/// Reads the ACL accounts file (`aclFile`: `accessKey=secretKey` lines). An unreadable, malformed
/// or empty file stops start-up: a server told to authenticate must not run open.
fn load_accounts(path: &str) -> std::io::Result<namesrv_core::acl::Accounts> {
    let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidData, msg);
    if path.is_empty() {
        return Err(invalid(
            "aclEnable=true needs aclFile (accessKey=secretKey lines)".into(),
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| invalid(format!("aclFile {path}: {e}")))?;
    let accounts = namesrv_core::acl::Accounts::from_properties(&text)
        .map_err(|e| invalid(format!("aclFile {path}: {e}")))?;
    if accounts.0.is_empty() {
        return Err(invalid(format!("aclFile {path}: no accounts")));
    }
    Ok(accounts)
}

/// Sleeps until the machine's next deadline (or until a deadline may have moved), then ticks.
async fn timer(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        // MAX while reading: a write that lands meanwhile sees it and wakes us (a Notify
        // keeps one wake-up for a task not waiting yet), so no earlier deadline is missed.
        shared.timer_deadline.store(u64::MAX, Ordering::SeqCst);
        let next = shared.lock_machine().next_deadline();
        shared
            .timer_deadline
            .store(next.unwrap_or(u64::MAX), Ordering::SeqCst);
        let sleep = match next {
            Some(d) => {
                let now = shared.now();
                Duration::from_millis(d.saturating_sub(now))
            }
            None => Duration::from_secs(3600),
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {
                // The deadline slept toward is due (a step expires first, whatever it is).
                shared.step(Input::Tick);
            }
            _ = shared.deadline_changed.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Re-reads the certificate and key when their files change, until shutdown.
async fn reload_certificate(cert: Arc<tls::Certificate>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tls::RELOAD_POLL) => {
                cert.reload_if_changed();
            }
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpState;

    #[test]
    fn readiness_follows_the_wait_and_shutdown() {
        let dir = std::env::temp_dir().join(format!("namesrv-ready-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let config = NamesrvConfig {
            bind_address: "127.0.0.1".into(),
            listen_port: 0,
            need_wait_for_service: true,
            wait_seconds_for_service: 3600,
            kv_config_path: dir.join("kvConfig.json").display().to_string(),
            config_store_path: dir.join("namesrv.properties").display().to_string(),
            ..NamesrvConfig::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = Server::bind(config, KvConfig::new()).await.unwrap();
            assert!(server.http_local_addr().is_none(), "off by default");
            let shared = server.shared.clone();
            let why = shared.readiness().unwrap_err();
            assert!(why.contains("needWaitForService"), "{why}");
            assert_eq!(http::route(shared.as_ref(), "GET", "/ready").status, 503);
            assert!(shared.metrics_text().contains("\nnamesrv_ready 0\n"));

            // The wait is read live, as the core reads it for route queries.
            let update =
                RemotingCommand::request(namesrv_core::protocol::request::UPDATE_NAMESRV_CONFIG)
                    .with_body("needWaitForService=false\n");
            let replies = shared.step(Input::request(1, update));
            assert_eq!(replies.first().map(|(_, r)| r.code), Some(0));
            assert_eq!(shared.readiness(), Ok(()));
            assert_eq!(http::route(shared.as_ref(), "GET", "/ready").status, 200);
            assert!(shared.metrics_text().contains("\nnamesrv_ready 1\n"));

            // Once shutdown begins: 503, while /health stays 200.
            shared.step(Input::ShutdownStarted);
            let r = http::route(shared.as_ref(), "GET", "/ready");
            assert_eq!(
                (r.status, r.body.as_str()),
                (503, "not ready: shutting down\n")
            );
            assert_eq!(http::route(shared.as_ref(), "GET", "/health").status, 200);
            assert_eq!(
                http::route(shared.as_ref(), "GET", "/rocketmq/nsaddr").status,
                404
            );
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
