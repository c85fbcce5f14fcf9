//! REGISTER_BROKER (103) as a broker sends it: the one encoder of the request, beside its
//! decoders ([`super::headers::RegisterBrokerRequestHeader`], [`RegisterBrokerBody::decode`]).
//! The tests' harness, the simulator, the madsim cluster, the core benchmark and the load
//! generator all build their registrations here, so a change to what a broker sends is made
//! once, and the round-trip test below holds it to what the server reads.

use std::collections::BTreeMap;

use serde_json::Value;

use super::bodies::{DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigWrapper};
use super::{flag, request, RemotingCommand};

/// How the body is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyShape {
    /// JSON with the fields the NameServer reads (`RegisterBrokerBody::encode_json`).
    Json,
    /// JSON as a 5.x Java broker writes it: every `TopicConfig` field (`attributes`, `order`,
    /// `topicFilterType`) and the static-topic members (`mappingDataVersion`,
    /// `topicQueueMappingDetailMap`). rocketmq-namesrv refuses the leaner body; Apache reads
    /// either.
    Java5,
    /// zlib-compressed, Java's `RegisterBrokerBody.encode(true)` layout; the header says
    /// `compressed=true`.
    Compressed,
}

/// A REGISTER_BROKER request under construction; [`Self::command`] encodes it.
#[derive(Clone, Debug)]
pub struct RegisterBrokerRequest {
    /// `clusterName`.
    pub cluster: String,
    /// `brokerAddr`.
    pub addr: String,
    /// `brokerName`: the broker group.
    pub name: String,
    /// `brokerId`: 0 for the master.
    pub id: i64,
    /// `haServerAddr`.
    pub ha: String,
    /// `enableActingMaster`; `None` omits the field (a pre-5.x broker).
    pub enable_acting_master: Option<bool>,
    /// The body's topic configs.
    pub topics: Vec<TopicConfig>,
    /// The body's DataVersion.
    pub dv: DataVersion,
    /// `heartbeatTimeoutMillis`; `None` omits it (the NameServer's 120 s applies).
    pub timeout_ms: Option<i64>,
    /// `__ZONE_NAME`; `None` omits it.
    pub zone: Option<String>,
    /// The body's `filterServerList`.
    pub filter_servers: Vec<String>,
    /// The body's `topicQueueMappingInfoMap` (static topics), by topic.
    pub mapping_infos: BTreeMap<String, Value>,
    /// The command's `version` (the broker's RocketMQ version code).
    pub version: i32,
    /// How the body is written.
    pub shape: BodyShape,
    /// Send `bodyCrc32` (else 0, which skips the check).
    pub with_crc: bool,
    /// Send one-way (no reply).
    pub oneway: bool,
}

/// A topic config as Apache's tests build them: 8 read and 8 write queues, perm 6 (read and
/// write), no system flag.
pub fn topic_config(name: &str) -> TopicConfig {
    TopicConfig {
        topic_name: name.into(),
        read_queue_nums: 8,
        write_queue_nums: 8,
        perm: 6,
        topic_sys_flag: 0,
    }
}

impl RegisterBrokerRequest {
    /// A 5.x master-style registration: no topics, enableActingMaster=false,
    /// DataVersion{counter 1, timestamp 1000}, version 479 (5.3.x), JSON body with its CRC.
    pub fn new(cluster: &str, addr: &str, name: &str, id: i64) -> Self {
        Self {
            cluster: cluster.into(),
            addr: addr.into(),
            name: name.into(),
            id,
            ha: String::new(),
            enable_acting_master: Some(false),
            topics: Vec::new(),
            dv: DataVersion {
                state_version: 0,
                timestamp: 1000,
                counter: 1,
            },
            timeout_ms: None,
            zone: None,
            filter_servers: Vec::new(),
            mapping_infos: BTreeMap::new(),
            version: 479,
            shape: BodyShape::Json,
            with_crc: true,
            oneway: false,
        }
    }

    /// Sets `haServerAddr`.
    pub fn ha(mut self, ha: &str) -> Self {
        self.ha = ha.into();
        self
    }
    /// Sets (or, with `None`, omits) `enableActingMaster`.
    pub fn acting(mut self, v: Option<bool>) -> Self {
        self.enable_acting_master = v;
        self
    }
    /// Topics by name, each a [`topic_config`].
    pub fn topics(mut self, names: &[&str]) -> Self {
        self.topics = names.iter().map(|n| topic_config(n)).collect();
        self
    }
    /// Topic configs as given.
    pub fn topic_configs(mut self, tcs: Vec<TopicConfig>) -> Self {
        self.topics = tcs;
        self
    }
    /// Sets the body's DataVersion.
    pub fn dv(mut self, dv: DataVersion) -> Self {
        self.dv = dv;
        self
    }
    /// Sets `heartbeatTimeoutMillis`.
    pub fn timeout(mut self, ms: i64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
    /// Sets `__ZONE_NAME`.
    pub fn zone(mut self, z: &str) -> Self {
        self.zone = Some(z.into());
        self
    }
    /// Sets the command's version.
    pub fn version(mut self, v: i32) -> Self {
        self.version = v;
        self
    }
    /// Compressed (`true`) or plain JSON (`false`) body.
    pub fn compressed(mut self, c: bool) -> Self {
        self.shape = if c {
            BodyShape::Compressed
        } else {
            BodyShape::Json
        };
        self
    }
    /// Sets how the body is written.
    pub fn shape(mut self, shape: BodyShape) -> Self {
        self.shape = shape;
        self
    }
    /// Sets the body's `filterServerList`.
    pub fn filter_servers(mut self, fs: &[&str]) -> Self {
        self.filter_servers = fs.iter().map(|s| (*s).to_owned()).collect();
        self
    }
    /// Sets the body's static-topic mapping infos.
    pub fn mappings(mut self, mappings: BTreeMap<String, Value>) -> Self {
        self.mapping_infos = mappings;
        self
    }
    /// Sends it one-way.
    pub fn oneway(mut self) -> Self {
        self.oneway = true;
        self
    }

    /// The body as [`RegisterBrokerBody`] (what the server decodes it to).
    pub fn body(&self) -> RegisterBrokerBody {
        RegisterBrokerBody {
            wrapper: TopicConfigWrapper {
                data_version: self.dv,
                topic_configs: self.topics.clone(),
                mapping_infos: self.mapping_infos.clone(),
            },
            filter_server_list: Some(self.filter_servers.clone()),
        }
    }

    /// The body's bytes in [`Self::shape`].
    pub fn body_bytes(&self) -> Vec<u8> {
        match self.shape {
            BodyShape::Json => self.body().encode_json().into_bytes(),
            BodyShape::Java5 => self.body().encode_java5_json().into_bytes(),
            // Java writes the mapping section from 4.9.4 (version code 413) on.
            BodyShape::Compressed => self.body().encode_compressed(self.version >= 413),
        }
    }

    /// The wire command.
    pub fn command(&self) -> RemotingCommand {
        let bytes = self.body_bytes();
        let crc = if self.with_crc { body_crc(&bytes) } else { 0 };
        let mut cmd = RemotingCommand::request(request::REGISTER_BROKER)
            .with_ext("clusterName", self.cluster.clone())
            .with_ext("brokerAddr", self.addr.clone())
            .with_ext("brokerName", self.name.clone())
            .with_ext("brokerId", self.id.to_string())
            .with_ext("haServerAddr", self.ha.clone())
            .with_ext(
                "compressed",
                (self.shape == BodyShape::Compressed).to_string(),
            )
            .with_ext("bodyCrc32", crc.to_string())
            .with_body(bytes);
        cmd.version = self.version;
        if let Some(e) = self.enable_acting_master {
            cmd = cmd.with_ext("enableActingMaster", e.to_string());
        }
        if let Some(t) = self.timeout_ms {
            cmd = cmd.with_ext("heartbeatTimeoutMillis", t.to_string());
        }
        if let Some(z) = &self.zone {
            cmd = cmd.with_ext("__ZONE_NAME", z.clone());
        }
        if self.oneway {
            cmd.flag |= flag::ONEWAY;
        }
        cmd
    }
}

/// `bodyCrc32` as a broker computes it: CRC-32 of the body, sign bit cleared
/// (`UtilAll.crc32(body) & 0x7FFFFFFF`).
pub fn body_crc(body: &[u8]) -> i32 {
    i32::try_from(crc32fast::hash(body) & 0x7FFF_FFFF).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::headers::RegisterBrokerRequestHeader;

    #[test]
    fn every_shape_decodes_to_what_was_encoded() {
        let base = RegisterBrokerRequest::new("C", "10.0.0.1:10911", "b", 1)
            .ha("10.0.0.1:10912")
            .topics(&["%RETRY%g", "T1", "T2"]) // in name order, as a decoded table is
            .timeout(30_000)
            .zone("z1")
            .filter_servers(&["10.0.0.9:1"])
            .mappings(BTreeMap::from([(
                "T1".to_owned(),
                serde_json::json!({"bname": "b", "epoch": 1, "topic": "T1"}),
            )]));
        for shape in [BodyShape::Json, BodyShape::Java5, BodyShape::Compressed] {
            let reg = base.clone().shape(shape);
            let cmd = reg.command();
            assert_eq!(cmd.code, request::REGISTER_BROKER);
            let h = RegisterBrokerRequestHeader::decode(&cmd).unwrap();
            assert_eq!(
                (h.cluster_name.as_str(), h.broker_addr.as_str()),
                ("C", "10.0.0.1:10911")
            );
            assert_eq!((h.broker_name.as_str(), h.broker_id), ("b", 1));
            assert_eq!(h.compressed, shape == BodyShape::Compressed);
            assert_eq!(h.heartbeat_timeout_millis, Some(30_000));
            let body = cmd.body.as_deref().unwrap();
            assert_eq!(h.body_crc32, body_crc(body));
            let back =
                RegisterBrokerBody::decode(Some(body), cmd.version, h.compressed, 1 << 20).unwrap();
            let mut want = reg.body();
            if shape == BodyShape::Compressed {
                // The compact form carries no topicSysFlag (always 0) and no filter servers.
                want.filter_server_list = back.filter_server_list.clone();
            }
            assert_eq!(
                back.wrapper.topic_configs, want.wrapper.topic_configs,
                "{shape:?}"
            );
            assert_eq!(back.wrapper.data_version, reg.dv, "{shape:?}");
            assert_eq!(
                back.wrapper.mapping_infos, want.wrapper.mapping_infos,
                "{shape:?}"
            );
            assert_eq!(
                back.filter_server_list, want.filter_server_list,
                "{shape:?}"
            );
        }
    }

    #[test]
    fn crc_off_and_oneway() {
        let mut reg = RegisterBrokerRequest::new("C", "a:1", "b", 0).oneway();
        reg.with_crc = false;
        let cmd = reg.command();
        assert_eq!(cmd.ext("bodyCrc32"), Some("0"));
        assert!(cmd.is_oneway());
        let cmd = RegisterBrokerRequest::new("C", "a:1", "b", 0)
            .acting(None)
            .command();
        assert_eq!(cmd.ext("enableActingMaster"), None);
        assert_eq!(cmd.ext("heartbeatTimeoutMillis"), None);
        assert_eq!(cmd.ext("__ZONE_NAME"), None);
    }
}
