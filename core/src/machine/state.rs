//! [`State`]: everything the NameServer knows (route tables, KV, config, ACL accounts, start
//! time), cheap to clone (persistent tables, `Arc`s), and the read-only request handlers that
//! both the machine and a published [`crate::ReadView`] answer with: one implementation of
//! every read, so the two paths cannot disagree.

use std::sync::Arc;

use bytes::Bytes;

use super::view::RouteBodies;
use crate::acl::{self, Accounts, AuthError};
use crate::codec::fastjson::Dialect;
use crate::config::NamesrvConfig;
use crate::kv::{KvConfig, NAMESPACE_ORDER_TOPIC_CONFIG};
use crate::protocol::bodies::{
    encode_broker_member_group, encode_kv_table, encode_topic_list, TopicRouteData,
};
use crate::protocol::headers::{
    self, GetBrokerMemberGroupRequestHeader, GetRouteInfoRequestHeader, HeaderError,
    KvConfigRequestHeader,
};
use crate::protocol::{request, response, version, LanguageCode, RemotingCommand};
use crate::route::{query, Millis, MinBrokerIdChange, RouteInfo};
use crate::{topic_not_exist_remark, Effect};

/// The NameServer's state: what a step changes and a view reads.
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub(crate) route: RouteInfo,
    pub(crate) kv: Arc<KvConfig>,
    pub(crate) config: Arc<NamesrvConfig>,
    /// ACL accounts, kept out of `config` so no config printout can show a secret.
    pub(crate) accounts: Arc<Accounts>,
    /// When the machine was created, on the caller's clock: `needWaitForService` counts from it.
    pub(crate) started_at: Millis,
    pub(crate) shutting_down: bool,
    /// Whether a registration whose body is the one last applied skips its decoding and
    /// topics (`route::unchanged`); off only to hold that path equal to the general one.
    pub(crate) unchanged_registrations: bool,
}

/// Counts of what the tables hold, for gauges (`/metrics`) and status pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Live broker entries (one per broker address and cluster).
    pub brokers_live: usize,
    /// Broker groups (broker names).
    pub broker_groups: usize,
    /// Clusters.
    pub clusters: usize,
    /// Topics with a route.
    pub topics: usize,
    /// Queue-data entries over all topics (one per topic and broker group).
    pub queue_entries: usize,
    /// KV namespaces.
    pub kv_namespaces: usize,
    /// KV entries over all namespaces.
    pub kv_entries: usize,
}

impl State {
    /// Milliseconds left of `needWaitForService`'s wait at `now`, if it still holds.
    pub(crate) fn wait_left(&self, now: Millis) -> Option<Millis> {
        if !self.config.need_wait_for_service {
            return None;
        }
        let wait = Millis::try_from(self.config.wait_seconds_for_service)
            .unwrap_or(0)
            .saturating_mul(1000);
        let waited = now.saturating_sub(self.started_at);
        (waited < wait).then(|| wait - waited)
    }

    /// Whether this NameServer should get traffic (`/ready`): not while `needWaitForService`
    /// holds route queries back, nor once shutdown has begun.
    pub(crate) fn readiness(&self, now: Millis) -> Result<(), String> {
        if self.shutting_down {
            return Err("shutting down".into());
        }
        if let Some(left) = self.wait_left(now) {
            return Err(format!(
                "waiting for service (needWaitForService), {} s left",
                left.div_ceil(1000)
            ));
        }
        Ok(())
    }

    pub(crate) fn stats(&self) -> Stats {
        let route = &self.route;
        Stats {
            brokers_live: route.broker_live_table().len(),
            broker_groups: route.broker_addr_table().len(),
            clusters: route.cluster_addr_table().len(),
            topics: route.topic_queue_table().len(),
            queue_entries: route.queue_entries(),
            kv_namespaces: self.kv.table().len(),
            kv_entries: self.kv.table().values().map(|t| t.len()).sum(),
        }
    }

    /// The signature check for `cmd` (spec: none in Apache; ours with `aclEnable`).
    pub(crate) fn authorize(&self, cmd: &RemotingCommand) -> Result<(), AuthError> {
        if self.config.acl_enable && acl::needs_signature(cmd.code, self.config.acl_protect_reads) {
            acl::verify(&self.accounts, cmd)
        } else {
            Ok(())
        }
    }

    /// GO_AWAY for new-version clients once shutdown began (`enableShutdownGracefully`).
    pub(crate) fn go_away(&self, cmd: &RemotingCommand) -> Option<RemotingCommand> {
        (self.shutting_down
            && self.config.enable_shutdown_gracefully
            && cmd.version > version::V5_3_1)
            .then(|| {
                RemotingCommand::response_to(cmd, response::GO_AWAY, Some("please go away".into()))
            })
    }

    /// Answers `cmd` before its handler when it must be: GO_AWAY while shutting down, or
    /// NO_PERMISSION (with its [`Effect::AuthFailed`]) for a bad or missing signature.
    pub(crate) fn gate(
        &self,
        conn: u64,
        cmd: &RemotingCommand,
        fx: &mut Vec<Effect>,
    ) -> Option<RemotingCommand> {
        if let Some(go_away) = self.go_away(cmd) {
            return Some(go_away);
        }
        if let Err(error) = self.authorize(cmd) {
            let reply =
                RemotingCommand::response_to(cmd, response::NO_PERMISSION, Some(error.to_string()));
            fx.push(Effect::AuthFailed {
                conn,
                code: cmd.code,
                error,
            });
            return Some(reply);
        }
        None
    }

    /// Answers a read-only code (see [`crate::protocol::codes::is_read`]); `bodies` caches
    /// route bodies under `generation`.
    pub(crate) fn read(
        &self,
        now: Millis,
        cmd: &RemotingCommand,
        bodies: &dyn RouteBodies,
        generation: u64,
    ) -> RemotingCommand {
        let result = match cmd.code {
            request::GET_KV_CONFIG => Ok(self.get_kv_config(cmd)),
            request::GET_KVLIST_BY_NAMESPACE => self.get_kv_list_by_namespace(cmd),
            request::GET_ROUTEINFO_BY_TOPIC => {
                self.get_route_info_by_topic(now, cmd, bodies, generation)
            }
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

    /// A topic's route as GET_ROUTEINFO_BY_TOPIC answers it before zone filtering: queue and
    /// broker data, filter servers, static mappings, and `orderTopicConf` from the KV store
    /// when `orderMessageEnable` is on. `None`: no such topic.
    pub(crate) fn topic_route(&self, topic: &str) -> Option<TopicRouteData> {
        let mut route = self
            .route
            .pickup_topic_route_data(topic, self.config.support_acting_master)?;
        if self.config.order_message_enable {
            route.order_topic_conf = self
                .kv
                .get(NAMESPACE_ORDER_TOPIC_CONFIG, topic)
                .map(str::to_owned);
        }
        Some(route)
    }

    fn get_route_info_by_topic(
        &self,
        now: Millis,
        cmd: &RemotingCommand,
        bodies: &dyn RouteBodies,
        generation: u64,
    ) -> Result<RemotingCommand, HeaderError> {
        if self.wait_left(now).is_some() {
            return Ok(RemotingCommand::response_to(
                cmd,
                response::SYSTEM_ERROR,
                Some("name server not ready".into()),
            ));
        }
        let h = GetRouteInfoRequestHeader::decode(cmd)?;
        let zone = h
            .zone_name
            .as_deref()
            .filter(|z| h.zone_mode && !z.trim().is_empty());
        let mut dialect = route_dialect(cmd, h.accept_standard_json_only);
        // Zone-filtered answers differ per zone and are rare: not cached.
        if zone.is_none() {
            if let Some(body) = bodies.get(&h.topic, dialect, generation) {
                return Ok(ok(cmd).with_body(body));
            }
        }
        let Some(mut route) = self.topic_route(&h.topic) else {
            return Ok(RemotingCommand::response_to(
                cmd,
                response::TOPIC_NOT_EXIST,
                Some(topic_not_exist_remark(&h.topic)),
            ));
        };
        let Some(zone) = zone else {
            let body = encode_route(&route, dialect);
            bodies.put(&h.topic, dialect, generation, body.clone());
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

    fn get_config(&self, cmd: &RemotingCommand) -> RemotingCommand {
        ok(cmd).with_body(self.config.to_properties_text())
    }
}

pub(crate) fn ok(cmd: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(cmd, response::SUCCESS, None)
}

pub(crate) fn disabled(cmd: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(cmd, response::SYSTEM_ERROR, Some("disable".into()))
}

pub(crate) fn header_error(cmd: &RemotingCommand, e: &HeaderError) -> RemotingCommand {
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

pub(crate) fn push_notify(n: &MinBrokerIdChange, fx: &mut Vec<Effect>) {
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
