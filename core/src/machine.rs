//! The NameServer state machine: `handle(now, Input) -> Vec<Effect>`, one handler per request
//! code (spec §2). Time is an argument; nothing here blocks, reads a clock or touches a file.

use bytes::Bytes;

use crate::acl::{self, Accounts, AuthError};
use crate::codec::fastjson::Dialect;
use crate::config::{parse_properties, NamesrvConfig, UpdateError};
use crate::kv::{KvConfig, NAMESPACE_ORDER_TOPIC_CONFIG};
use crate::protocol::bodies::{
    encode_broker_member_group, encode_kv_table, encode_topic_list, BodyError, DataVersion,
    RegisterBrokerBody, TopicRouteData,
};
use crate::protocol::headers::{
    self, BrokerHeartbeatRequestHeader, BrokerIdentityHeader, DeleteTopicFromNamesrvRequestHeader,
    GetBrokerMemberGroupRequestHeader, GetRouteInfoRequestHeader, HeaderError,
    KvConfigRequestHeader, RegisterBrokerRequestHeader,
};
use crate::protocol::{request, response, version, LanguageCode, RemotingCommand};
use crate::route::register::RegisterSettings;
use crate::route::{
    query, ConnId, Millis, MinBrokerIdChange, RegisterArgs, RemovalCause, RouteEvent, RouteInfo,
};
use crate::route_cache::RouteCache;

/// Everything that can happen to a NameServer.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A decoded frame arrived on a connection. Connection ids must grow with accept order:
    /// a broker's registration belongs to the newest connection that carried it.
    Request { conn: ConnId, cmd: RemotingCommand },
    /// The same, with its body already decoded by [`PreparedBody::of`] outside the machine (a
    /// shell can do that before taking the lock that guards it, so registrations decode in
    /// parallel). Answered exactly as `Request` would be.
    PreparedRequest {
        conn: ConnId,
        cmd: RemotingCommand,
        body: PreparedBody,
    },
    /// A connection closed (EOF, error, idle timeout): Apache's `onChannelDestroy`.
    Closed { conn: ConnId },
    /// Time passed; expire what is due.
    Tick,
    /// Shutdown began: with `enableShutdownGracefully`, new-version requests get GO_AWAY.
    ShutdownStarted,
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Reply {
        conn: ConnId,
        cmd: RemotingCommand,
    },
    /// Write this as `kvConfigPath` (atomically, keeping `.bak`).
    PersistKv {
        json: String,
    },
    /// Write this as `configStorePath`.
    PersistConfig {
        text: String,
    },
    /// Send this oneway request to a broker (NOTIFY_MIN_BROKER_ID_CHANGE).
    NotifyBroker {
        broker_addr: String,
        cmd: RemotingCommand,
    },
    /// Worth a log line and a metric.
    Route(RouteEvent),
    /// A request refused for its signature (`aclEnable`): count it, log it (no secrets here).
    AuthFailed {
        conn: ConnId,
        code: i32,
        error: AuthError,
    },
}

/// A REGISTER_BROKER body decoded ahead of [`NameServer::handle`]: inflation and JSON parsing,
/// the costly part of a registration, depend only on the request and one limit, so they need not
/// run while the machine is held. `handle` uses it only when the limit it was decoded under is
/// still the one in force, and decodes again otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedBody {
    max_inflated: usize,
    decoded: Result<RegisterBrokerBody, BodyError>,
}

impl PreparedBody {
    /// Decodes `cmd`'s body under `max_inflated` (the machine's
    /// `NamesrvConfig::max_inflated_register_body`); `None` when `cmd` is not a REGISTER_BROKER
    /// request whose header decodes (`handle` then answers it as usual).
    pub fn of(cmd: &RemotingCommand, max_inflated: usize) -> Option<Self> {
        if cmd.code != request::REGISTER_BROKER || cmd.is_response() {
            return None;
        }
        let h = RegisterBrokerRequestHeader::decode(cmd).ok()?;
        Some(Self {
            max_inflated,
            decoded: RegisterBrokerBody::decode(
                cmd.body.as_deref(),
                cmd.version,
                h.compressed,
                max_inflated,
            ),
        })
    }
}

/// The TOPIC_NOT_EXIST remark, with Apache 5.x's FAQ link.
pub fn topic_not_exist_remark(topic: &str) -> String {
    format!(
        "No topic route info in name server for the topic: {topic}\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."
    )
}

/// The NameServer.
#[derive(Clone, Debug)]
pub struct NameServer {
    route: RouteInfo,
    kv: KvConfig,
    config: NamesrvConfig,
    started_at: Millis,
    shutting_down: bool,
    /// ACL accounts, kept out of `config` so no config printout can show a secret.
    accounts: Accounts,
    /// Route bodies already encoded; emptied by every input.
    route_cache: RouteCache,
}

impl NameServer {
    pub fn new(config: NamesrvConfig, kv: KvConfig, now: Millis) -> Self {
        Self {
            route: RouteInfo::new(),
            kv,
            config,
            started_at: now,
            shutting_down: false,
            accounts: Accounts::default(),
            route_cache: RouteCache::default(),
        }
    }

    /// Sets the ACL accounts checked when `aclEnable` is on.
    pub fn set_accounts(&mut self, accounts: Accounts) {
        self.accounts = accounts;
    }

    /// The signature check for `cmd` (spec: none in Apache; ours with `aclEnable`).
    fn authorize(&self, cmd: &RemotingCommand) -> Result<(), AuthError> {
        let needs =
            self.config.acl_enable && acl::needs_signature(cmd.code, self.config.acl_protect_reads);
        if needs {
            acl::verify(&self.accounts, cmd)
        } else {
            Ok(())
        }
    }

    pub fn route(&self) -> &RouteInfo {
        &self.route
    }

    pub fn kv(&self) -> &KvConfig {
        &self.kv
    }

    pub fn config(&self) -> &NamesrvConfig {
        &self.config
    }

    /// When the machine next wants `Input::Tick` (the earliest broker deadline).
    pub fn next_deadline(&self) -> Option<Millis> {
        self.route.next_deadline()
    }

    /// Whether something is due at `now`: if so, a read must go through [`Self::handle`].
    pub fn needs_tick(&self, now: Millis) -> bool {
        self.next_deadline().is_some_and(|d| d <= now)
    }

    /// Codes answered from `&self` by [`Self::query`]: the table's reads.
    pub fn is_read_only(code: i32) -> bool {
        crate::protocol::codes::is_read(code)
    }

    /// The tables' invariants (see [`RouteInfo::check_invariants`]).
    pub fn check_invariants(&self) -> Result<(), String> {
        self.route.check_invariants()
    }

    /// Feeds one input at `now`. Expiry runs first, so no answer ever shows a broker past its
    /// deadline, whether or not the shell's timer fired on time.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Effect> {
        // Any input may change what a route reads as (tables, KV order config, config keys).
        self.route_cache.clear();
        let mut fx = Vec::new();
        self.expire(now, &mut fx);
        match input {
            Input::Tick => {}
            Input::ShutdownStarted => self.shutting_down = true,
            Input::Closed { conn } => {
                for key in self.route.live_entries_on(conn) {
                    let r = self.route.remove_live_entry(
                        &key,
                        RemovalCause::ConnectionClosed,
                        self.notify_enabled(),
                    );
                    self.push_removal(r.notifies, r.events, &mut fx);
                }
            }
            Input::Request { conn, cmd } => self.request(now, conn, cmd, None, &mut fx),
            Input::PreparedRequest { conn, cmd, body } => {
                self.request(now, conn, cmd, Some(body), &mut fx)
            }
        }
        fx
    }

    fn request(
        &mut self,
        now: Millis,
        conn: ConnId,
        cmd: RemotingCommand,
        body: Option<PreparedBody>,
        fx: &mut Vec<Effect>,
    ) {
        if cmd.is_response() {
            // A response to a request we never sent: Apache logs and drops it.
            return;
        }
        let reply = self.dispatch(now, conn, &cmd, body, fx);
        if !cmd.is_oneway() {
            fx.push(Effect::Reply { conn, cmd: reply });
        }
    }

    /// Answers a read-only request from `&self`. `None` when the code is not read-only, the
    /// request is oneway or a response, or expiry is due (call [`Self::handle`] then).
    pub fn query(&self, now: Millis, cmd: &RemotingCommand) -> Option<RemotingCommand> {
        if !Self::is_read_only(cmd.code)
            || cmd.is_oneway()
            || cmd.is_response()
            || self.needs_tick(now)
            // A refused read must be reported as an effect, which only `handle` can do.
            || (self.config.acl_enable && self.config.acl_protect_reads)
        {
            return None;
        }
        if let Some(go_away) = self.go_away(cmd) {
            return Some(go_away);
        }
        Some(self.read(now, cmd))
    }

    fn notify_enabled(&self) -> bool {
        self.config.notify_min_broker_id_changed
    }

    fn expire(&mut self, now: Millis, fx: &mut Vec<Effect>) {
        for key in self.route.expired_at(now) {
            let r =
                self.route
                    .remove_live_entry(&key, RemovalCause::Expired, self.notify_enabled());
            self.push_removal(r.notifies, r.events, fx);
        }
    }

    fn push_removal(
        &self,
        notifies: Vec<MinBrokerIdChange>,
        events: Vec<RouteEvent>,
        fx: &mut Vec<Effect>,
    ) {
        for n in notifies {
            push_notify(&n, fx);
        }
        fx.extend(events.into_iter().map(Effect::Route));
    }

    fn go_away(&self, cmd: &RemotingCommand) -> Option<RemotingCommand> {
        (self.shutting_down
            && self.config.enable_shutdown_gracefully
            && cmd.version > version::V5_3_1)
            .then(|| {
                RemotingCommand::response_to(cmd, response::GO_AWAY, Some("please go away".into()))
            })
    }

    fn dispatch(
        &mut self,
        now: Millis,
        conn: ConnId,
        cmd: &RemotingCommand,
        body: Option<PreparedBody>,
        fx: &mut Vec<Effect>,
    ) -> RemotingCommand {
        if let Some(go_away) = self.go_away(cmd) {
            return go_away;
        }
        if let Err(error) = self.authorize(cmd) {
            let reply =
                RemotingCommand::response_to(cmd, response::NO_PERMISSION, Some(error.to_string()));
            fx.push(Effect::AuthFailed {
                conn,
                code: cmd.code,
                error,
            });
            return reply;
        }
        if Self::is_read_only(cmd.code) {
            return self.read(now, cmd);
        }
        let result = match cmd.code {
            request::PUT_KV_CONFIG => Ok(self.put_kv_config(cmd, fx)),
            request::DELETE_KV_CONFIG => Ok(self.delete_kv_config(cmd, fx)),
            request::REGISTER_BROKER => self.register_broker(now, conn, cmd, body, fx),
            request::UNREGISTER_BROKER => self.unregister_broker(cmd, fx),
            request::WIPE_WRITE_PERM_OF_BROKER => self.change_write_perm(cmd, false),
            request::ADD_WRITE_PERM_OF_BROKER => self.change_write_perm(cmd, true),
            request::DELETE_TOPIC_IN_NAMESRV => self.delete_topic(cmd),
            request::REGISTER_TOPIC_IN_NAMESRV => self.register_topic(cmd),
            request::UPDATE_NAMESRV_CONFIG => Ok(self.update_config(cmd, fx)),
            request::QUERY_DATA_VERSION => self.query_data_version(now, cmd),
            request::BROKER_HEARTBEAT => self.broker_heartbeat(now, cmd),
            code => Ok(RemotingCommand::response_to(
                cmd,
                response::REQUEST_CODE_NOT_SUPPORTED,
                // Apache's remark, leading space included.
                Some(format!(" request type {code} not supported")),
            )),
        };
        result.unwrap_or_else(|e| header_error(cmd, &e))
    }

    fn read(&self, now: Millis, cmd: &RemotingCommand) -> RemotingCommand {
        let result = match cmd.code {
            request::GET_KV_CONFIG => Ok(self.get_kv_config(cmd)),
            request::GET_KVLIST_BY_NAMESPACE => self.get_kv_list_by_namespace(cmd),
            request::GET_ROUTEINFO_BY_TOPIC => self.get_route_info_by_topic(now, cmd),
            request::GET_BROKER_CLUSTER_INFO => Ok(self.get_broker_cluster_info(cmd)),
            request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => Ok(self.get_all_topic_list(cmd)),
            request::GET_TOPICS_BY_CLUSTER => self.get_topics_by_cluster(cmd),
            request::GET_SYSTEM_TOPIC_LIST_FROM_NS => Ok(self.get_system_topic_list(cmd)),
            request::GET_UNIT_TOPIC_LIST => Ok(self.get_unit_topics(cmd, |f| f & 1 != 0)),
            request::GET_HAS_UNIT_SUB_TOPIC_LIST => Ok(self.get_unit_topics(cmd, |f| f & 2 != 0)),
            request::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => {
                Ok(self.get_unit_topics(cmd, |f| f & 1 == 0 && f & 2 != 0))
            }
            request::GET_NAMESRV_CONFIG => Ok(self.get_config(cmd)),
            request::GET_BROKER_MEMBER_GROUP => self.get_broker_member_group(cmd),
            _ => Ok(RemotingCommand::response_to(
                cmd,
                response::REQUEST_CODE_NOT_SUPPORTED,
                None,
            )),
        };
        result.unwrap_or_else(|e| header_error(cmd, &e))
    }

    // --- KV (100, 101, 102, 219) ------------------------------------------------------------------

    fn persist_kv(&self, fx: &mut Vec<Effect>) {
        fx.push(Effect::PersistKv {
            json: self.kv.to_json(),
        });
    }

    fn put_kv_config(&mut self, cmd: &RemotingCommand, fx: &mut Vec<Effect>) -> RemotingCommand {
        let h = KvConfigRequestHeader::decode(cmd);
        let (Some(ns), Some(key)) = (h.namespace, h.key) else {
            return RemotingCommand::response_to(
                cmd,
                response::SYSTEM_ERROR,
                Some("namespace or key is null".into()),
            );
        };
        // The namespace may be new even when the pair is unchanged; persisting is cheap and rare.
        self.kv.put(&ns, &key, h.value.as_deref());
        self.persist_kv(fx);
        ok(cmd)
    }

    fn get_kv_config(&self, cmd: &RemotingCommand) -> RemotingCommand {
        let h = KvConfigRequestHeader::decode(cmd);
        let ns = h.namespace.as_deref().unwrap_or("null");
        let key = h.key.as_deref().unwrap_or("null");
        match self.kv.get(ns, key) {
            Some(v) => ok(cmd).with_ext("value", v),
            None => {
                let mut r = RemotingCommand::response_to(
                    cmd,
                    response::QUERY_NOT_FOUND,
                    Some(format!("No config item, Namespace: {ns} Key: {key}")),
                );
                r.ext_fields = Some(Default::default());
                r
            }
        }
    }

    fn delete_kv_config(&mut self, cmd: &RemotingCommand, fx: &mut Vec<Effect>) -> RemotingCommand {
        let h = KvConfigRequestHeader::decode(cmd);
        if let (Some(ns), Some(key)) = (h.namespace, h.key) {
            if self.kv.delete(&ns, &key) {
                self.persist_kv(fx);
            }
        }
        ok(cmd)
    }

    fn get_kv_list_by_namespace(
        &self,
        cmd: &RemotingCommand,
    ) -> Result<RemotingCommand, HeaderError> {
        let ns = headers::required(cmd, "namespace")?;
        Ok(match self.kv.namespace(&ns) {
            Some(table) => ok(cmd).with_body(encode_kv_table(table)),
            None => RemotingCommand::response_to(
                cmd,
                response::QUERY_NOT_FOUND,
                Some(format!("No config item, Namespace: {ns}")),
            ),
        })
    }

    // --- brokers (103, 104, 322, 904) ------------------------------------------------------------

    fn register_broker(
        &mut self,
        now: Millis,
        conn: ConnId,
        cmd: &RemotingCommand,
        prepared: Option<PreparedBody>,
        fx: &mut Vec<Effect>,
    ) -> Result<RemotingCommand, HeaderError> {
        let h = RegisterBrokerRequestHeader::decode(cmd)?;
        let body = cmd.body.as_deref();
        if h.body_crc32 != 0 {
            let crc = (crc32fast::hash(body.unwrap_or_default()) & 0x7FFF_FFFF) as i32;
            if crc != h.body_crc32 {
                return Ok(RemotingCommand::response_to(
                    cmd,
                    response::SYSTEM_ERROR,
                    Some("crc32 not match".into()),
                ));
            }
        }
        let max_inflated = self.config.max_inflated_register_body();
        let decoded = match prepared.filter(|p| p.max_inflated == max_inflated) {
            Some(p) => p.decoded,
            None => RegisterBrokerBody::decode(body, cmd.version, h.compressed, max_inflated),
        };
        let decoded = match decoded {
            Ok(b) => b,
            Err(e) => {
                return Ok(RemotingCommand::response_to(
                    cmd,
                    response::SYSTEM_ERROR,
                    Some(e.0),
                ))
            }
        };
        // Checked before anything is written: a refused registration changes nothing.
        let topics = decoded.wrapper.topic_configs.len();
        if let Some(max) = self.config.max_topics_per_registration() {
            if topics > max {
                return Ok(RemotingCommand::response_to(
                    cmd,
                    response::SYSTEM_ERROR,
                    Some(format!(
                        "register broker refused: {topics} topics in one registration, more than registerBrokerMaxTopics={max}"
                    )),
                ));
            }
        }
        let args = RegisterArgs {
            cluster: &h.cluster_name,
            addr: &h.broker_addr,
            name: &h.broker_name,
            id: h.broker_id,
            ha_addr: &h.ha_server_addr,
            zone_name: h.zone_name.as_deref(),
            timeout_ms: h.heartbeat_timeout_millis,
            enable_acting_master: h.enable_acting_master,
            wrapper: &decoded.wrapper,
            filter_server_list: decoded.filter_server_list.as_deref(),
            conn: Some(conn),
        };
        let settings = RegisterSettings {
            delete_topic_with_broker_registration: self
                .config
                .delete_topic_with_broker_registration,
            notify_min_broker_id_changed: self.config.notify_min_broker_id_changed,
        };
        let Ok(outcome) = self.route.register_broker(&args, settings, now) else {
            return Ok(RemotingCommand::response_to(
                cmd,
                response::SYSTEM_ERROR,
                Some("register broker failed".into()),
            ));
        };
        if let Some(n) = &outcome.notify {
            push_notify(n, fx);
        }
        fx.extend(outcome.events.into_iter().map(Effect::Route));
        // RegisterBrokerResponseHeader: extFields is `{}` for a master, both fields for a slave.
        let mut reply = ok(cmd);
        reply.ext_fields = Some(Default::default());
        if let Some(ha) = outcome.ha_server_addr {
            reply = reply.with_ext("haServerAddr", ha);
        }
        if let Some(master) = outcome.master_addr {
            reply = reply.with_ext("masterAddr", master);
        }
        if self.config.return_order_topic_config_to_broker {
            if let Some(table) = self.kv.namespace(NAMESPACE_ORDER_TOPIC_CONFIG) {
                reply = reply.with_body(encode_kv_table(table));
            }
        }
        Ok(reply)
    }

    fn unregister_broker(
        &mut self,
        cmd: &RemotingCommand,
        fx: &mut Vec<Effect>,
    ) -> Result<RemotingCommand, HeaderError> {
        let h = BrokerIdentityHeader::decode(cmd)?;
        let r = self.route.unregister_broker(
            &h.cluster_name,
            &h.broker_addr,
            &h.broker_name,
            h.broker_id,
            self.notify_enabled(),
        );
        self.push_removal(r.notifies, r.events, fx);
        Ok(ok(cmd))
    }

    fn query_data_version(
        &mut self,
        now: Millis,
        cmd: &RemotingCommand,
    ) -> Result<RemotingCommand, HeaderError> {
        let h = BrokerIdentityHeader::decode(cmd)?;
        let dv = match cmd.body.as_deref() {
            Some(b) if !b.is_empty() => match DataVersion::decode(b) {
                Ok(dv) => Some(dv),
                Err(e) => {
                    return Ok(RemotingCommand::response_to(
                        cmd,
                        response::SYSTEM_ERROR,
                        Some(e.0),
                    ))
                }
            },
            _ => None,
        };
        let changed =
            self.route
                .is_broker_topic_config_changed(&h.cluster_name, &h.broker_addr, dv.as_ref());
        // This request is also a heartbeat.
        self.route
            .update_broker_info_update_timestamp(&h.cluster_name, &h.broker_addr, now);
        let mut reply = ok(cmd).with_ext("changed", changed.to_string());
        if let Some(stored) = self
            .route
            .query_broker_topic_config(&h.cluster_name, &h.broker_addr)
        {
            reply = reply.with_body(stored.encode());
        }
        Ok(reply)
    }

    fn broker_heartbeat(
        &mut self,
        now: Millis,
        cmd: &RemotingCommand,
    ) -> Result<RemotingCommand, HeaderError> {
        let h = BrokerHeartbeatRequestHeader::decode(cmd)?;
        self.route
            .update_broker_info_update_timestamp(&h.cluster_name, &h.broker_addr, now);
        Ok(ok(cmd))
    }

    // --- routes (105, 106, 901) ------------------------------------------------------------------

    fn get_route_info_by_topic(
        &self,
        now: Millis,
        cmd: &RemotingCommand,
    ) -> Result<RemotingCommand, HeaderError> {
        if self.config.need_wait_for_service {
            let wait = Millis::try_from(self.config.wait_seconds_for_service)
                .unwrap_or(0)
                .saturating_mul(1000);
            if now.saturating_sub(self.started_at) < wait {
                return Ok(RemotingCommand::response_to(
                    cmd,
                    response::SYSTEM_ERROR,
                    Some("name server not ready".into()),
                ));
            }
        }
        let h = GetRouteInfoRequestHeader::decode(cmd)?;
        let zone = h
            .zone_name
            .as_deref()
            .filter(|z| h.zone_mode && !z.trim().is_empty());
        let mut dialect = route_dialect(cmd, h.accept_standard_json_only);
        // Zone-filtered answers differ per zone and are rare: not cached.
        if zone.is_none() {
            if let Some(body) = self.route_cache.get(&h.topic, dialect) {
                return Ok(ok(cmd).with_body(body));
            }
        }
        let Some(mut route) = self
            .route
            .pickup_topic_route_data(&h.topic, self.config.support_acting_master)
        else {
            return Ok(RemotingCommand::response_to(
                cmd,
                response::TOPIC_NOT_EXIST,
                Some(topic_not_exist_remark(&h.topic)),
            ));
        };
        if self.config.order_message_enable {
            route.order_topic_conf = self
                .kv
                .get(NAMESPACE_ORDER_TOPIC_CONFIG, &h.topic)
                .map(str::to_owned);
        }
        let Some(zone) = zone else {
            let body = encode_route(&route, dialect);
            self.route_cache.put(&h.topic, dialect, body.clone());
            return Ok(ok(cmd).with_body(body));
        };
        query::filter_by_zone(&mut route, zone);
        // Apache's hook re-encodes in the legacy dialect; a RUST client cannot read that.
        if cmd.language != LanguageCode::RUST {
            dialect = Dialect::Legacy;
        }
        Ok(ok(cmd).with_body(encode_route(&route, dialect)))
    }

    fn get_broker_cluster_info(&self, cmd: &RemotingCommand) -> RemotingCommand {
        ok(cmd).with_body(self.route.cluster_info().encode(fixed_legacy_dialect(cmd)))
    }

    fn get_broker_member_group(
        &self,
        cmd: &RemotingCommand,
    ) -> Result<RemotingCommand, HeaderError> {
        let h = GetBrokerMemberGroupRequestHeader::decode(cmd)?;
        let addrs = self.route.broker_member_group(&h.broker_name);
        let body = encode_broker_member_group(
            &h.cluster_name,
            &h.broker_name,
            &addrs,
            fixed_legacy_dialect(cmd),
        );
        // Apache never clears the default remark on this path (spec §1.8).
        let mut r = ok(cmd).with_body(body);
        r.remark = Some("not set any response code".into());
        Ok(r)
    }

    // --- topic lists (206, 224, 304, 311-313) -----------------------------------------------------

    fn get_all_topic_list(&self, cmd: &RemotingCommand) -> RemotingCommand {
        if !self.config.enable_all_topic_list {
            return disabled(cmd);
        }
        ok(cmd).with_body(encode_topic_list(self.route.all_topics(), None))
    }

    fn get_topics_by_cluster(&self, cmd: &RemotingCommand) -> Result<RemotingCommand, HeaderError> {
        if !self.config.enable_topic_list {
            return Ok(disabled(cmd));
        }
        let cluster = headers::required(cmd, "cluster")?;
        Ok(ok(cmd).with_body(encode_topic_list(
            self.route.topics_by_cluster(&cluster),
            None,
        )))
    }

    fn get_system_topic_list(&self, cmd: &RemotingCommand) -> RemotingCommand {
        let (topics, addr) = self.route.system_topics();
        ok(cmd).with_body(encode_topic_list(topics, addr))
    }

    fn get_unit_topics(
        &self,
        cmd: &RemotingCommand,
        pred: impl Fn(i32) -> bool,
    ) -> RemotingCommand {
        if !self.config.enable_topic_list {
            return disabled(cmd);
        }
        ok(cmd).with_body(encode_topic_list(self.route.unit_topics(pred), None))
    }

    // --- admin writes (205, 327, 216, 217) -------------------------------------------------------

    fn change_write_perm(
        &mut self,
        cmd: &RemotingCommand,
        add: bool,
    ) -> Result<RemotingCommand, HeaderError> {
        let name = headers::required(cmd, "brokerName")?;
        Ok(if add {
            let n = self.route.add_write_perm_of_broker(&name);
            ok(cmd).with_ext("addTopicCount", n.to_string())
        } else {
            let n = self.route.wipe_write_perm_of_broker(&name);
            ok(cmd).with_ext("wipeTopicCount", n.to_string())
        })
    }

    fn delete_topic(&mut self, cmd: &RemotingCommand) -> Result<RemotingCommand, HeaderError> {
        let h = DeleteTopicFromNamesrvRequestHeader::decode(cmd)?;
        self.route.delete_topic(&h.topic, h.cluster_name.as_deref());
        Ok(ok(cmd))
    }

    fn register_topic(&mut self, cmd: &RemotingCommand) -> Result<RemotingCommand, HeaderError> {
        let topic = headers::required(cmd, "topic")?;
        if let Some(body) = cmd.body.as_deref().filter(|b| !b.is_empty()) {
            match TopicRouteData::decode(body) {
                Ok(route) => self.route.register_topic(&topic, &route.queue_datas),
                Err(e) => {
                    return Ok(RemotingCommand::response_to(
                        cmd,
                        response::SYSTEM_ERROR,
                        Some(e.0),
                    ))
                }
            }
        }
        Ok(ok(cmd))
    }

    // --- config (318, 319) -----------------------------------------------------------------------

    fn update_config(&mut self, cmd: &RemotingCommand, fx: &mut Vec<Effect>) -> RemotingCommand {
        let Some(body) = cmd.body.as_deref().filter(|b| !b.is_empty()) else {
            return ok(cmd);
        };
        let props = match std::str::from_utf8(body)
            .map_err(|e| e.to_string())
            .and_then(parse_properties)
        {
            Ok(p) => p,
            Err(_) => {
                return RemotingCommand::response_to(
                    cmd,
                    response::SYSTEM_ERROR,
                    Some("string2Properties error".into()),
                )
            }
        };
        match self.config.apply_remote_update(&props) {
            Ok(_) => {
                fx.push(Effect::PersistConfig {
                    text: self.config.to_properties_text(),
                });
                ok(cmd)
            }
            Err(UpdateError::Blacklisted(_)) => RemotingCommand::response_to(
                cmd,
                response::NO_PERMISSION,
                Some("Can not update config in black list.".into()),
            ),
            Err(UpdateError::ControlCharacter(key)) => RemotingCommand::response_to(
                cmd,
                response::NO_PERMISSION,
                Some(format!(
                    "Can not update config: the key or value of {key} holds a control character."
                )),
            ),
            Err(UpdateError::BadValue { key, reason }) => RemotingCommand::response_to(
                cmd,
                response::SYSTEM_ERROR,
                Some(format!(
                    "Can not update config: bad value for {key}: {reason}"
                )),
            ),
        }
    }

    fn get_config(&self, cmd: &RemotingCommand) -> RemotingCommand {
        ok(cmd).with_body(self.config.to_properties_text())
    }
}

fn ok(cmd: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(cmd, response::SUCCESS, None)
}

fn disabled(cmd: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(cmd, response::SYSTEM_ERROR, Some("disable".into()))
}

fn header_error(cmd: &RemotingCommand, e: &HeaderError) -> RemotingCommand {
    RemotingCommand::response_to(cmd, response::SYSTEM_ERROR, Some(e.to_string()))
}

/// Route dialect (spec §2.2): standard for `version >= 401` or `acceptStandardJsonOnly`, legacy
/// otherwise (the Go client breaks on quoted keys, apache/rocketmq-client-go#845).
pub fn route_dialect(cmd: &RemotingCommand, accept_standard_json_only: bool) -> Dialect {
    if cmd.version >= version::V4_9_4
        || accept_standard_json_only
        || cmd.language == LanguageCode::RUST
    {
        Dialect::Standard
    } else {
        Dialect::Legacy
    }
}

/// 106 and 901 are always legacy in Apache; rocketmq-client-rust cannot parse that form.
fn fixed_legacy_dialect(cmd: &RemotingCommand) -> Dialect {
    if cmd.language == LanguageCode::RUST {
        Dialect::Standard
    } else {
        Dialect::Legacy
    }
}

fn encode_route(route: &TopicRouteData, dialect: Dialect) -> Bytes {
    Bytes::from(route.encode(dialect))
}

fn push_notify(n: &MinBrokerIdChange, fx: &mut Vec<Effect>) {
    let mut cmd = RemotingCommand::request(request::NOTIFY_MIN_BROKER_ID_CHANGE)
        .with_ext("minBrokerId", n.min_broker_id.to_string())
        .with_ext("minBrokerAddr", n.min_broker_addr.clone());
    if let Some(o) = &n.offline_broker_addr {
        cmd = cmd.with_ext("offlineBrokerAddr", o.clone());
    }
    if let Some(h) = &n.ha_broker_addr {
        cmd = cmd.with_ext("haBrokerAddr", h.clone());
    }
    cmd.flag |= crate::protocol::flag::ONEWAY;
    for target in &n.targets {
        fx.push(Effect::NotifyBroker {
            broker_addr: target.clone(),
            cmd: cmd.clone(),
        });
    }
}
