//! The simulator's admin, KV and config writes, and restarts: each sends its request, checks
//! the reply the model predicts, and updates the model.

use namesrv_core::codec::fastjson::Dialect;
use namesrv_core::config::parse_properties;
use namesrv_core::kv::KvConfig;
use namesrv_core::protocol::bodies::{QueueData, TopicRouteData};
use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_core::{NameServer, StoreFile};

use crate::model::{clusters, PERM_WRITE};
use crate::sim::{Sim, SimBodies, ACCEPTED_KEYS, REFUSED_KEYS};

impl Sim {
    /// WIPE (205) or ADD (327) write permission: every queue data of the group, counted.
    pub(crate) fn write_perm(&mut self, group: &str, wipe: bool) -> Result<(), String> {
        let code = if wipe {
            request::WIPE_WRITE_PERM_OF_BROKER
        } else {
            request::ADD_WRITE_PERM_OF_BROKER
        };
        let cmd = RemotingCommand::request(code).with_ext("brokerName", group);
        let reply = self.call(999_998, cmd).ok_or("no reply to 205/327")?;
        let mut count = 0;
        if let Some(topics) = self.model.queues.get_mut(group) {
            for q in topics.values_mut() {
                q.perm = if wipe { q.perm & !PERM_WRITE } else { 6 };
                count += 1;
            }
        }
        let key = if wipe {
            "wipeTopicCount"
        } else {
            "addTopicCount"
        };
        let want = count.to_string();
        if reply.code != response::SUCCESS || reply.ext(key) != Some(want.as_str()) {
            return Err(format!(
                "{key} of {group}: {} {:?}, model says {want}",
                reply.code,
                reply.ext(key)
            ));
        }
        Ok(())
    }

    /// DELETE_TOPIC_IN_NAMESRV (216), in one cluster or everywhere.
    pub(crate) fn delete_topic(
        &mut self,
        topic: &str,
        cluster: Option<&str>,
    ) -> Result<(), String> {
        let mut cmd =
            RemotingCommand::request(request::DELETE_TOPIC_IN_NAMESRV).with_ext("topic", topic);
        if let Some(c) = cluster {
            cmd = cmd.with_ext("clusterName", c);
        }
        let reply = self.call(999_998, cmd).ok_or("no reply to 216")?;
        if reply.code != response::SUCCESS {
            return Err(format!("DELETE_TOPIC_IN_NAMESRV answered {}", reply.code));
        }
        let groups: Vec<String> = match cluster {
            Some(c) => clusters(&self.brokers)
                .get(c)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
            None => self.model.queues.keys().cloned().collect(),
        };
        for g in groups {
            if let Some(t) = self.model.queues.get_mut(&g) {
                t.remove(topic);
            }
        }
        Ok(())
    }

    /// REGISTER_TOPIC_IN_NAMESRV (217): spec §2.14, partial application included.
    pub(crate) fn register_topic(&mut self, topic: &str, groups: &[String]) -> Result<(), String> {
        let queue_datas: Vec<QueueData> = groups
            .iter()
            .map(|g| QueueData {
                broker_name: g.clone(),
                read_queue_nums: 2,
                write_queue_nums: 2,
                perm: 6,
                topic_sys_flag: 0,
            })
            .collect();
        let body = TopicRouteData {
            queue_datas: queue_datas.clone(),
            ..Default::default()
        }
        .encode(Dialect::Standard);
        let cmd = RemotingCommand::request(request::REGISTER_TOPIC_IN_NAMESRV)
            .with_ext("topic", topic)
            .with_body(body);
        let reply = self.call(999_998, cmd).ok_or("no reply to 217")?;
        if reply.code != response::SUCCESS {
            return Err(format!("REGISTER_TOPIC_IN_NAMESRV answered {}", reply.code));
        }
        // A group is known while it has a member (brokerAddrTable).
        let known: Vec<bool> = queue_datas
            .iter()
            .map(|q| {
                self.brokers
                    .iter()
                    .any(|b| b.alive && b.name == q.broker_name)
            })
            .collect();
        let exists = self.model.queues.values().any(|t| t.contains_key(topic));
        if !exists && known.contains(&false) {
            return Ok(());
        }
        for (q, known) in queue_datas.into_iter().zip(known) {
            if !known {
                break;
            }
            self.model
                .queues
                .entry(q.broker_name.clone())
                .or_default()
                .insert(topic.to_owned(), q);
        }
        Ok(())
    }

    /// PUT/DELETE_KV_CONFIG, the disk checked by [`Sim::check`].
    pub(crate) fn kv_write(&mut self, step: usize) -> Result<(), String> {
        self.store_dirty = true;
        let ns = format!("NS{}", self.rng.below(2));
        let key = format!("k{}", self.rng.below(4));
        let del = self.rng.chance(30);
        self.log(format!(
            "#{step} t={} kv {} {ns}/{key}",
            self.now,
            if del { "delete" } else { "put" }
        ));
        let value = format!("v{step}");
        let code = if del {
            request::DELETE_KV_CONFIG
        } else {
            request::PUT_KV_CONFIG
        };
        let cmd = RemotingCommand::request(code)
            .with_ext("namespace", ns.clone())
            .with_ext("key", key.clone())
            .with_ext("value", value.clone());
        self.persisted.clear();
        let reply = self.call(999_999, cmd);
        // A delete never creates a namespace, and persists only what it removed; a put
        // always persists.
        let changed = if del {
            self.model
                .kv
                .get_mut(&ns)
                .is_some_and(|t| t.remove(&key).is_some())
        } else {
            self.model.kv.entry(ns).or_default().insert(key, value);
            true
        };
        let what = if del {
            "DELETE_KV_CONFIG"
        } else {
            "PUT_KV_CONFIG"
        };
        if self.expect_written(what, reply, StoreFile::Kv, changed)? == Some(true) {
            self.model.disk_kv = self.model.kv.clone();
        }
        Ok(())
    }

    /// UPDATE_NAMESRV_CONFIG: accepted keys, or an update every NameServer must refuse whole.
    pub(crate) fn config_write(&mut self, step: usize) -> Result<(), String> {
        self.store_dirty = true;
        let accepted = ACCEPTED_KEYS[self.rng.below(ACCEPTED_KEYS.len() as u64) as usize];
        let value = if accepted == "productEnvName" {
            format!("env{step}")
        } else {
            (1000 + step).to_string()
        };
        let refused = match self.rng.below(4) {
            0 => None,
            1 => Some(format!(
                "{}=/tmp/x\n",
                REFUSED_KEYS[self.rng.below(REFUSED_KEYS.len() as u64) as usize]
            )),
            2 => Some(format!(
                "{accepted}={value}\n{}=true\n",
                REFUSED_KEYS[self.rng.below(REFUSED_KEYS.len() as u64) as usize]
            )),
            // A control character would smuggle a line into the persisted file.
            _ => Some(format!("{accepted}=a\u{1}b\n")),
        };
        self.log(format!(
            "#{step} t={} config {}",
            self.now,
            refused.as_deref().unwrap_or(&format!("{accepted}={value}"))
        ));
        let body = refused
            .clone()
            .unwrap_or_else(|| format!("{accepted}={value}\n"));
        let cmd = RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG).with_body(body);
        self.persisted.clear();
        let reply = self.call(999_999, cmd);
        if refused.is_some() {
            let code = reply.as_ref().map(|r| r.code);
            if code != Some(response::NO_PERMISSION) || !self.persisted.is_empty() {
                return Err(format!(
                    "a refused config update answered {code:?} and persisted {:?}",
                    self.persisted
                ));
            }
            return Ok(());
        }
        self.model.config.insert(accepted.to_owned(), value);
        if self.expect_written("UPDATE_NAMESRV_CONFIG", reply, StoreFile::Config, true)?
            == Some(true)
        {
            self.model.disk_config = self.model.config.clone();
        }
        Ok(())
    }

    /// The process restarts: a new core from what the disk holds, as the binary starts (the
    /// KV file, the `-c` properties file the updates were written to); every route is gone
    /// until brokers register again, and every old connection with the old process.
    pub(crate) fn restart(&mut self, step: usize) -> Result<(), String> {
        self.log(format!("#{step} t={} restart", self.now));
        self.restarts += 1;
        self.store_dirty = true;
        let kv = match &self.disk_kv {
            Some(text) => KvConfig::from_json(text.as_bytes())
                .map_err(|e| format!("the KV file does not load: {e:?}"))?,
            None => KvConfig::new(),
        };
        let mut config = self.start_config.clone();
        if let Some(text) = &self.disk_config {
            for (k, v) in parse_properties(text)? {
                config
                    .set(&k, &v)
                    .map_err(|e| format!("the config file does not load: {k}: {e}"))?;
            }
        }
        self.ns = NameServer::new(config, kv, self.now);
        self.bodies = SimBodies::default();
        for b in &mut self.brokers {
            b.alive = false;
            b.conn = None;
            b.live_dv = None;
        }
        self.stale_conns.clear();
        self.model.queues.clear();
        self.model.kv = self.model.disk_kv.clone();
        self.model.config = self.model.disk_config.clone();
        Ok(())
    }
}
