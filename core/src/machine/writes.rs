//! The write handlers: one per request code that changes state (spec §2), applied to
//! [`State`] by [`crate::NameServer::step`], plus expiry and the cleanup a closed connection
//! brings. Each returns its reply and pushes its other effects.

use std::sync::Arc;

use super::request::PreparedBody;
use super::state::{header_error, ok, push_notify, State};
use super::view::NoRouteBodies;
use super::{KvOp, StoreFile, UNASSIGNED};
use crate::config::{parse_properties, UpdateError};
use crate::kv::NAMESPACE_ORDER_TOPIC_CONFIG;
use crate::protocol::bodies::{encode_kv_table, DataVersion, RegisterBrokerBody, TopicRouteData};
use crate::protocol::codes;
use crate::protocol::headers::{
    self, BrokerHeartbeatRequestHeader, BrokerIdentityHeader, DeleteTopicFromNamesrvRequestHeader,
    HeaderError, KvConfigRequestHeader, RegisterBrokerRequestHeader,
};
use crate::protocol::{request, response, RemotingCommand};
use crate::route::register::RegisterBody;
use crate::route::register::RegisterSettings;
use crate::route::{
    BodyPrint, ConnId, Millis, MinBrokerIdChange, RegisterArgs, RemovalCause, RouteEvent,
};
use crate::Effect;

impl State {
    fn notify_enabled(&self) -> bool {
        self.config.notify_min_broker_id_changed
    }

    pub(crate) fn expire(&mut self, now: Millis, fx: &mut Vec<Effect>) {
        for key in self.route.expired_at(now) {
            let r =
                self.route
                    .remove_live_entry(&key, RemovalCause::Expired, self.notify_enabled());
            self.push_removal(r.notifies, r.events, fx);
        }
    }

    pub(crate) fn push_removal(
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

    pub(crate) fn dispatch(
        &mut self,
        now: Millis,
        conn: ConnId,
        cmd: &RemotingCommand,
        body: Option<Box<PreparedBody>>,
        fx: &mut Vec<Effect>,
    ) -> RemotingCommand {
        if let Some(reply) = self.gate(conn, cmd, fx) {
            return reply;
        }
        if codes::is_read(cmd.code) {
            // Answered as the read view answers it (no body cache in the machine).
            return self.read(now, cmd, &NoRouteBodies, 0);
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

    // --- KV (100, 101, 102, 219) ------------------------------------------------------------------

    /// Asks for the KV store to be persisted; the reply waits for the result (see
    /// [`crate::Input::Persisted`]).
    fn persist_kv(&self, fx: &mut Vec<Effect>) {
        fx.push(Effect::Persist {
            ticket: UNASSIGNED,
            file: StoreFile::Kv,
            content: self.kv.to_json(),
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
        Arc::make_mut(&mut self.kv).put(&ns, &key, h.value.as_deref());
        self.persist_kv(fx);
        fx.push(Effect::KvWritten { op: KvOp::Put });
        ok(cmd)
    }

    fn delete_kv_config(&mut self, cmd: &RemotingCommand, fx: &mut Vec<Effect>) -> RemotingCommand {
        let h = KvConfigRequestHeader::decode(cmd);
        if let (Some(ns), Some(key)) = (h.namespace, h.key) {
            // Looked up first: deleting what is not there changes (and copies) nothing.
            if self.kv.get(&ns, &key).is_some() && Arc::make_mut(&mut self.kv).delete(&ns, &key) {
                self.persist_kv(fx);
            }
        }
        fx.push(Effect::KvWritten { op: KvOp::Delete });
        ok(cmd)
    }

    // --- brokers (103, 104, 322, 904) ------------------------------------------------------------

    fn register_broker(
        &mut self,
        now: Millis,
        conn: ConnId,
        cmd: &RemotingCommand,
        prepared: Option<Box<PreparedBody>>,
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
        // What was done ahead counts only under the limit still in force.
        let (print, decoded) = match prepared.filter(|p| p.print.max_inflated() == max_inflated) {
            Some(p) => (p.print, p.decoded),
            None => (
                BodyPrint::of(body, cmd.version, h.compressed, max_inflated),
                None,
            ),
        };
        let settings = self.register_settings();
        let owned: RegisterBrokerBody;
        let (body, topics) = match self.unchanged_topics(&h, &print) {
            Some(topics) => (RegisterBody::Unchanged, topics),
            None => {
                let decoded = decoded.unwrap_or_else(|| {
                    RegisterBrokerBody::decode(body, cmd.version, h.compressed, max_inflated)
                });
                owned = match decoded {
                    Ok(b) => b,
                    Err(e) => {
                        return Ok(RemotingCommand::response_to(
                            cmd,
                            response::SYSTEM_ERROR,
                            Some(e.0),
                        ))
                    }
                };
                let body = RegisterBody::Decoded {
                    wrapper: &owned.wrapper,
                    filter_server_list: owned.filter_server_list.as_deref(),
                    print,
                };
                (body, owned.wrapper.topic_configs.len())
            }
        };
        // Checked before anything is written: a refused registration changes nothing.
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
            body,
            conn: Some(conn),
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

    fn register_settings(&self) -> RegisterSettings {
        RegisterSettings {
            delete_topic_with_broker_registration: self
                .config
                .delete_topic_with_broker_registration,
            notify_min_broker_id_changed: self.config.notify_min_broker_id_changed,
        }
    }

    /// See [`crate::NameServer::wants_body`].
    pub(crate) fn wants_body(&self, request: &super::Request) -> bool {
        request
            .registration()
            .is_some_and(|(h, print)| self.unchanged_topics(&h, &print).is_none())
    }

    /// The topic count of a registration's body when it is the one last applied and applying
    /// it again changes nothing it says (`route::unchanged`), so it needs no decoding.
    pub(crate) fn unchanged_topics(
        &self,
        h: &RegisterBrokerRequestHeader,
        print: &BodyPrint,
    ) -> Option<usize> {
        if !self.unchanged_registrations {
            return None;
        }
        self.route.registration_unchanged(
            &h.cluster_name,
            &h.broker_addr,
            &h.broker_name,
            h.broker_id,
            print,
            self.register_settings(),
        )
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
        match Arc::make_mut(&mut self.config).apply_remote_update(&props) {
            Ok(_) => {
                fx.push(Effect::Persist {
                    ticket: UNASSIGNED,
                    file: StoreFile::Config,
                    content: self.config.to_properties_text(),
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

    /// A connection closed: Apache's `onChannelDestroy`, for the brokers it still owns.
    pub(crate) fn closed(&mut self, conn: ConnId, fx: &mut Vec<Effect>) {
        for key in self.route.live_entries_on(conn) {
            let r = self.route.remove_live_entry(
                &key,
                RemovalCause::ConnectionClosed,
                self.notify_enabled(),
            );
            self.push_removal(r.notifies, r.events, fx);
        }
    }
}
