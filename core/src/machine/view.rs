//! [`ReadView`]: the read side of the machine. An immutable snapshot of the state, made on
//! demand (O(1): persistent tables, `Arc`s), `Send + Sync`, that answers every
//! read-only request code with no lock on the machine, and hands everything else back as the
//! [`Input`] for [`crate::NameServer::step`]. So the shell never decides what a read is, nor
//! how a body is decoded: it offers each frame to the current view.

use bytes::Bytes;

use super::State;
use super::{Effect, Input, Request, Stats};
use crate::codec::fastjson::Dialect;
use crate::protocol::codes;
use crate::protocol::RemotingCommand;
use crate::route::{ConnId, Millis};

/// A cache of encoded GET_ROUTEINFO_BY_TOPIC bodies, per topic and dialect, kept by the shell
/// (it may lock inside; the core holds no locks). An entry is valid only for the generation it
/// was stored under: [`ReadView::route_generation`] moves whenever what a route is encoded from
/// changes, so a body never outlives its state.
pub trait RouteBodies {
    /// The body stored for `topic` in `dialect` under `generation`, if any.
    fn get(&self, topic: &str, dialect: Dialect, generation: u64) -> Option<Bytes>;
    /// Stores a body just encoded.
    fn put(&self, topic: &str, dialect: Dialect, generation: u64, body: Bytes);
}

/// No cache: every route is encoded anew (tests, tools, the machine's own path).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRouteBodies;

impl RouteBodies for NoRouteBodies {
    fn get(&self, _: &str, _: Dialect, _: u64) -> Option<Bytes> {
        None
    }
    fn put(&self, _: &str, _: Dialect, _: u64, _: Bytes) {}
}

/// What to do with a frame, as [`ReadView::accept`] decides.
#[derive(Debug)]
pub enum Dispatch {
    /// Answered here: carry these effects out (a reply, maybe an auth failure).
    Done(Vec<Effect>),
    /// Not a read (or something is due first): feed this to [`crate::NameServer::step`].
    Step(Input),
}

/// An immutable snapshot of the NameServer (see the module docs).
#[derive(Clone, Debug)]
pub struct ReadView {
    state: State,
    generation: u64,
}

impl ReadView {
    pub(crate) fn new(state: State, generation: u64) -> Self {
        Self { state, generation }
    }

    /// Answers `cmd` (from `conn`) at `now` if it is a read this snapshot can answer; else
    /// returns the input for the machine, with a REGISTER_BROKER body decoded here, outside
    /// the machine, under the limit in force. A read waits for the machine when a broker is
    /// due to expire at `now`, so no answer shows a broker past its deadline.
    pub fn accept(
        &self,
        now: Millis,
        conn: ConnId,
        cmd: RemotingCommand,
        bodies: &dyn RouteBodies,
    ) -> Dispatch {
        if !Self::may_answer(&cmd) || self.needs_tick(now) {
            return Dispatch::Step(self.prepare(conn, cmd));
        }
        let mut fx = Vec::new();
        let reply = match self.state.gate(conn, &cmd, &mut fx) {
            Some(refused) => refused,
            None => self.state.read(now, &cmd, bodies, self.generation),
        };
        fx.push(Effect::Reply { conn, cmd: reply });
        Dispatch::Done(fx)
    }

    /// The input for a frame the machine must step: a REGISTER_BROKER body decoded here,
    /// outside the machine, under the limit in force, unless this view finds it unchanged
    /// ([`crate::NameServer::wants_body`]).
    pub fn prepare(&self, conn: ConnId, cmd: RemotingCommand) -> Input {
        let mut request =
            Request::fingerprinted(cmd, self.state.config.max_inflated_register_body());
        if self.wants_body(&request) {
            request.decode_body();
        }
        Input::Request { conn, request }
    }

    /// See [`crate::NameServer::wants_body`], as of this view.
    pub fn wants_body(&self, request: &Request) -> bool {
        self.state.wants_body(request)
    }

    /// Whether [`Self::accept`] may answer `cmd` from a view: a read-only code, expecting a
    /// reply. A shell that publishes views lazily asks this first: a frame for which it says no
    /// goes to the machine as [`Input::prepare`] makes it, and needs no up-to-date view.
    pub fn may_answer(cmd: &RemotingCommand) -> bool {
        codes::is_read(cmd.code) && !cmd.is_oneway() && !cmd.is_response()
    }

    /// Whether a broker is due to expire at `now` (reads then go through the machine).
    pub fn needs_tick(&self, now: Millis) -> bool {
        self.next_deadline().is_some_and(|d| d <= now)
    }

    /// The earliest broker deadline, when the machine next wants [`Input::Tick`].
    pub fn next_deadline(&self) -> Option<Millis> {
        self.state.route.next_deadline()
    }

    /// The generation route bodies are cached under (see [`RouteBodies`]).
    pub fn route_generation(&self) -> u64 {
        self.generation
    }

    /// See [`crate::NameServer::readiness`].
    pub fn readiness(&self, now: Millis) -> Result<(), String> {
        self.state.readiness(now)
    }

    /// Counts of what the tables hold.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// A topic's route as GET_ROUTEINFO_BY_TOPIC answers it (before zone filtering), for
    /// pages that show one; `None`: no such topic.
    pub fn topic_route(&self, topic: &str) -> Option<crate::protocol::bodies::TopicRouteData> {
        self.state.topic_route(topic)
    }

    /// The route tables as of this view.
    pub fn route(&self) -> &crate::route::RouteInfo {
        &self.state.route
    }

    /// The KV store as of this view.
    pub fn kv(&self) -> &crate::kv::KvConfig {
        &self.state.kv
    }

    /// The configuration as of this view.
    pub fn config(&self) -> &crate::config::NamesrvConfig {
        &self.state.config
    }
}
