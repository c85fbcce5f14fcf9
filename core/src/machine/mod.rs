//! The NameServer state machine. [`NameServer::step`] is the one way its state changes: an
//! [`Input`] at a time `now` in, [`Effect`]s out. [`NameServer::view`] is the read side: an
//! immutable snapshot that answers the read-only codes anywhere, with no lock on the machine.
//! Time is an argument; nothing here blocks, reads a clock or touches a file.
//!
//! - `request`: [`Request`], a frame on its way in (a registration's body decoded ahead).
//! - `state`: what the machine knows, and the read handlers (shared with the view).
//! - `writes`: one handler per code that changes state, expiry, connection cleanup.

mod request;
mod state;
mod view;
mod writes;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::acl::{Accounts, AuthError};
use crate::config::NamesrvConfig;
use crate::kv::KvConfig;
use crate::protocol::{response, RemotingCommand};
use crate::route::{ConnId, Millis, RouteEvent, RouteInfo};

pub use request::Request;
pub(crate) use state::State;
pub use state::{route_dialect, Stats};
pub use view::{Dispatch, NoRouteBodies, ReadView, RouteBodies};

/// Ticket of a [`Effect::Persist`] not yet numbered by [`NameServer::step`].
pub(crate) const UNASSIGNED: u64 = 0;

/// Everything that can happen to a NameServer.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A decoded frame arrived on a connection. Connection ids must grow with accept order:
    /// a broker's registration belongs to the newest connection that carried it.
    Request {
        /// The connection it came on.
        conn: ConnId,
        /// The frame, possibly with its body decoded ahead.
        request: Request,
    },
    /// A connection closed (EOF, error, idle timeout): Apache's `onChannelDestroy`.
    Closed {
        /// The connection.
        conn: ConnId,
    },
    /// Time passed; expire what is due.
    Tick,
    /// Shutdown began: with `enableShutdownGracefully`, new-version requests get GO_AWAY, and
    /// [`NameServer::readiness`] says no.
    ShutdownStarted,
    /// The shell carried out the [`Effect::Persist`] with this ticket: the replies that waited
    /// for it go out now (an error turns a SUCCESS into SYSTEM_ERROR: the change is in memory,
    /// not on disk, and is not acknowledged as durable).
    Persisted {
        /// The effect's ticket.
        ticket: u64,
        /// What writing the file gave (the error as text, for the reply's remark).
        result: Result<(), String>,
    },
}

impl Input {
    /// A request on `conn`, its body left for the machine to decode.
    pub fn request(conn: ConnId, cmd: RemotingCommand) -> Self {
        Input::Request {
            conn,
            request: Request::new(cmd),
        }
    }

    /// A request on `conn` with a REGISTER_BROKER body decoded now, outside the machine,
    /// under `config`'s `registerBrokerMaxInflatedBytes` (what [`ReadView::accept`] hands
    /// back for every frame it does not answer).
    pub fn prepare(conn: ConnId, cmd: RemotingCommand, config: &NamesrvConfig) -> Self {
        Input::Request {
            conn,
            request: Request::prepare(cmd, config.max_inflated_register_body()),
        }
    }
}

/// A file the machine asks to be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreFile {
    /// `kvConfigPath` (the KV store, JSON).
    Kv,
    /// `configStorePath` (the configuration, properties).
    Config,
}

/// A KV write, for the `namesrv_kv_writes_total` counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvOp {
    /// PUT_KV_CONFIG answered SUCCESS.
    Put,
    /// DELETE_KV_CONFIG answered SUCCESS.
    Delete,
}

impl KvOp {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            KvOp::Put => "put",
            KvOp::Delete => "delete",
        }
    }
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send this reply on this connection.
    Reply {
        /// The connection.
        conn: ConnId,
        /// The reply.
        cmd: RemotingCommand,
    },
    /// Write `content` to `file` atomically (keeping `.bak`), then report it with
    /// [`Input::Persisted`] and this ticket: the request's reply waits for it. Tickets grow, so
    /// a shell that writes concurrently can skip a snapshot older than one already written.
    Persist {
        /// Names this write in [`Input::Persisted`].
        ticket: u64,
        /// Which file.
        file: StoreFile,
        /// The whole new content.
        content: String,
    },
    /// Send this oneway request to a broker (NOTIFY_MIN_BROKER_ID_CHANGE).
    NotifyBroker {
        /// `host:port`.
        broker_addr: String,
        /// The request.
        cmd: RemotingCommand,
    },
    /// Worth a log line and a metric. A step for [`Input::Closed`] that removed brokers says
    /// so with `BrokerRemoved { cause: ConnectionClosed, .. }`.
    Route(RouteEvent),
    /// A KV write was acknowledged.
    KvWritten {
        /// Put or delete.
        op: KvOp,
    },
    /// A request refused for its signature (`aclEnable`): count it, log it (no secrets here).
    AuthFailed {
        /// The connection.
        conn: ConnId,
        /// The request code.
        code: i32,
        /// Why.
        error: AuthError,
    },
}

/// The TOPIC_NOT_EXIST remark, with Apache 5.x's FAQ link.
pub fn topic_not_exist_remark(topic: &str) -> String {
    format!(
        "No topic route info in name server for the topic: {topic}\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."
    )
}

/// What a route body is encoded from, as of the last step: when any of it moved, the route
/// generation moves and every cached body is stale. The tables are compared by their write
/// counts, not kept as clones: a clone kept here would make every later write copy each
/// entry it touches (a topic's whole queue-data map per registered topic). The KV store and
/// the configuration are kept as `Arc`s (their writes are rare, and copy-on-write). The live
/// table and the expiry queue are not here: heartbeats change them and no route reads them.
#[derive(Clone, Debug, Default)]
struct RouteInputs {
    tables: [u64; 4],
    kv: Option<Arc<KvConfig>>,
    config: Option<Arc<NamesrvConfig>>,
}

impl RouteInputs {
    fn of(state: &State) -> Self {
        let r = &state.route;
        Self {
            tables: [
                r.topic_queue_table().version(),
                r.broker_addr_table().version(),
                r.filter_server_table().version(),
                r.topic_queue_mapping_info_table().version(),
            ],
            kv: Some(state.kv.clone()),
            config: Some(state.config.clone()),
        }
    }

    fn same_as(&self, other: &Self) -> bool {
        self.tables == other.tables
            && arc_eq(&self.kv, &other.kv)
            && arc_eq(&self.config, &other.config)
    }
}

fn arc_eq<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// The NameServer.
#[derive(Clone, Debug)]
pub struct NameServer {
    state: State,
    /// Next [`Effect::Persist`] ticket.
    next_ticket: u64,
    /// Effects (the reply, its KV count) waiting for their persistence, by ticket.
    held: BTreeMap<u64, Vec<Effect>>,
    /// What the route generation was last computed from.
    route_inputs: RouteInputs,
    route_generation: u64,
}

impl NameServer {
    /// A NameServer started at `now` (on the caller's clock) with this configuration and KV
    /// store (as loaded from `kvConfig.json`).
    pub fn new(config: NamesrvConfig, kv: KvConfig, now: Millis) -> Self {
        let state = State {
            route: RouteInfo::new(),
            kv: Arc::new(kv),
            config: Arc::new(config),
            accounts: Arc::new(Accounts::default()),
            started_at: now,
            shutting_down: false,
            unchanged_registrations: true,
        };
        Self {
            route_inputs: RouteInputs::of(&state),
            state,
            next_ticket: 1,
            held: BTreeMap::new(),
            route_generation: 1,
        }
    }

    /// Sets the ACL accounts checked when `aclEnable` is on (before serving).
    pub fn set_accounts(&mut self, accounts: Accounts) {
        self.state.accounts = Arc::new(accounts);
    }

    /// The route tables.
    pub fn route(&self) -> &RouteInfo {
        &self.state.route
    }

    /// The KV store.
    pub fn kv(&self) -> &KvConfig {
        &self.state.kv
    }

    /// The configuration in force.
    pub fn config(&self) -> &NamesrvConfig {
        &self.state.config
    }

    /// The configuration in force, shared: O(1), and unchanged by later steps (a remote
    /// update makes the machine a new one), so a shell can keep it to prepare inputs with.
    pub fn shared_config(&self) -> Arc<NamesrvConfig> {
        self.state.config.clone()
    }

    /// When the machine next wants [`Input::Tick`] (the earliest broker deadline).
    pub fn next_deadline(&self) -> Option<Millis> {
        self.state.route.next_deadline()
    }

    /// Whether this NameServer should get traffic at `now` (`/ready`): not while
    /// `needWaitForService` holds route queries back (counted from the machine's own start),
    /// nor once shutdown has begun. The error says why.
    pub fn readiness(&self, now: Millis) -> Result<(), String> {
        self.state.readiness(now)
    }

    /// Counts of what the tables hold.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// Moves whenever what a route body is encoded from changes (topic, broker, filter-server
    /// and static-mapping tables, the KV store, the configuration); caches of encoded bodies
    /// key on it.
    pub fn route_generation(&self) -> u64 {
        self.route_generation
    }

    /// The read view of the current state: O(1) (persistent tables, `Arc`s), immutable,
    /// `Send + Sync`. It answers reads as of now; later steps do not change it (make a new one after them).
    pub fn view(&self) -> ReadView {
        ReadView::new(self.state.clone(), self.route_generation)
    }

    /// The tables' invariants (see [`RouteInfo::check_invariants`]).
    pub fn check_invariants(&self) -> Result<(), String> {
        self.state.route.check_invariants()
    }

    /// Whether [`Request::decode_body`] is worth running before this request is stepped: false
    /// for a REGISTER_BROKER whose body is the one its broker's topics were last applied from,
    /// when applying it again would change nothing it says (`route::unchanged`; the step
    /// checks again and decodes it itself if the state moved meanwhile), and for requests
    /// that were not fingerprinted.
    pub fn wants_body(&self, request: &Request) -> bool {
        self.state.wants_body(request)
    }

    /// Turns the unchanged-registration path off (or back on), so tests and the simulator can
    /// hold it equal to the general path. On by default.
    #[doc(hidden)]
    pub fn set_unchanged_registrations(&mut self, on: bool) {
        self.state.unchanged_registrations = on;
    }

    /// Feeds one input at `now`. Expiry runs first, so no answer ever shows a broker past its
    /// deadline, whether or not the shell's timer fired on time.
    pub fn step(&mut self, now: Millis, input: Input) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.state.expire(now, &mut fx);
        match input {
            Input::Tick => {}
            Input::ShutdownStarted => self.state.shutting_down = true,
            Input::Closed { conn } => self.state.closed(conn, &mut fx),
            Input::Request { conn, request } => self.request(now, conn, request, &mut fx),
            Input::Persisted { ticket, result } => self.persisted(ticket, result, &mut fx),
        }
        let inputs = RouteInputs::of(&self.state);
        if !inputs.same_as(&self.route_inputs) {
            self.route_inputs = inputs;
            self.route_generation = self.route_generation.wrapping_add(1);
        }
        fx
    }

    /// [`Self::step`] for a driver that persists synchronously (tests, the simulator, the
    /// fuzz targets; the server persists outside its lock instead): every [`Effect::Persist`]
    /// is handed to `persist` and its result fed straight back as [`Input::Persisted`]. Returns
    /// the effects of all those steps in order, the `Persist` effects included.
    pub fn step_persisting(
        &mut self,
        now: Millis,
        input: Input,
        mut persist: impl FnMut(StoreFile, &str) -> Result<(), String>,
    ) -> Vec<Effect> {
        let mut fx = self.step(now, input);
        let mut i = 0;
        while let Some(e) = fx.get(i) {
            if let Effect::Persist {
                ticket,
                file,
                content,
            } = e
            {
                let (ticket, result) = (*ticket, persist(*file, content));
                let more = self.step(now, Input::Persisted { ticket, result });
                fx.extend(more);
            }
            i += 1;
        }
        fx
    }

    fn request(&mut self, now: Millis, conn: ConnId, request: Request, fx: &mut Vec<Effect>) {
        let Request { cmd, body } = request;
        if cmd.is_response() {
            // A response to a request we never sent: Apache logs and drops it.
            return;
        }
        let mut own = Vec::new();
        let reply = self.state.dispatch(now, conn, &cmd, body, &mut own);
        if !cmd.is_oneway() {
            own.push(Effect::Reply { conn, cmd: reply });
        }
        // A write that must be persisted is acknowledged once it is: its reply (and its KV
        // count) wait under the Persist's ticket.
        let mut ticket = None;
        for e in &mut own {
            if let Effect::Persist { ticket: t, .. } = e {
                let n = self.next_ticket;
                self.next_ticket += 1;
                *t = n;
                ticket = Some(n);
            }
        }
        let Some(ticket) = ticket else {
            fx.append(&mut own);
            return;
        };
        let (wait, now_out): (Vec<Effect>, Vec<Effect>) = own
            .into_iter()
            .partition(|e| matches!(e, Effect::Reply { .. } | Effect::KvWritten { .. }));
        fx.extend(now_out);
        self.held.insert(ticket, wait);
    }

    fn persisted(&mut self, ticket: u64, result: Result<(), String>, fx: &mut Vec<Effect>) {
        // One request's snapshots (at most one here) share the last ticket; earlier ones of
        // the same request have nothing held.
        let Some(waiting) = self.held.remove(&ticket) else {
            return;
        };
        match result {
            Ok(()) => fx.extend(waiting),
            Err(e) => {
                for effect in waiting {
                    match effect {
                        Effect::Reply { conn, mut cmd } => {
                            if cmd.code == response::SUCCESS {
                                cmd.code = response::SYSTEM_ERROR;
                                cmd.remark =
                                    Some(format!("applied in memory but not persisted: {e}"));
                            }
                            fx.push(Effect::Reply { conn, cmd });
                        }
                        // Not acknowledged, so not counted.
                        Effect::KvWritten { .. } => {}
                        other => fx.push(other),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod unchanged_tests;
