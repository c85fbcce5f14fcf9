//! REGISTER_BROKER bodies in plain JSON, read in one pass straight into their typed form.
//!
//! Registration is the NameServer's main write, and parsing a 100-topic body through a
//! generic JSON value (a map per topic, a string per key) was most of its cost. This reads
//! what brokers actually send — plain JSON, see [`crate::codec::plain_json`] — and gives up
//! (`None`) on anything else, which [`RegisterBrokerBody::decode_lenient`] then reads. When it
//! answers it answers exactly what the lenient path would (same topic order: by map key, the
//! last of duplicate keys winning; same defaults for absent and null fields); the `register_body`
//! fuzz target and a property test check that.
//!
//! [`RegisterBrokerBody::decode`], the entry point, is here too: it picks this path or the
//! lenient one, so `bodies` (the types and the general path) never calls up into this module.

use super::bodies::{BodyError, DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigWrapper};
use crate::codec::plain_json::Cursor;

/// An integer field: null reads as 0, as on the lenient path.
fn long(c: &mut Cursor<'_>) -> Option<i64> {
    if c.null()? {
        return Some(0);
    }
    c.int()
}

/// An int field: out of range reads as 0, as on the lenient path.
fn int(c: &mut Cursor<'_>) -> Option<i32> {
    Some(i32::try_from(long(c)?).unwrap_or(0))
}

fn data_version(c: &mut Cursor<'_>) -> Option<DataVersion> {
    let mut dv = DataVersion::default();
    if c.peek()? != b'{' {
        // Not an object: the lenient path reads a default version.
        c.skip_value()?;
        return Some(dv);
    }
    if c.open_object()? {
        loop {
            match c.key()? {
                "stateVersion" => dv.state_version = long(c)?,
                "timestamp" => dv.timestamp = long(c)?,
                "counter" => dv.counter = long(c)?,
                _ => c.skip_value()?,
            }
            if !c.more(b'}')? {
                break;
            }
        }
    }
    Some(dv)
}

fn topic_config(c: &mut Cursor<'_>) -> Option<TopicConfig> {
    let mut t = TopicConfig {
        topic_name: String::new(),
        read_queue_nums: 0,
        write_queue_nums: 0,
        perm: 0,
        topic_sys_flag: 0,
    };
    if c.open_object()? {
        loop {
            match c.key()? {
                "topicName" => {
                    t.topic_name = if c.null()? {
                        String::new()
                    } else {
                        c.string()?.to_owned()
                    }
                }
                "readQueueNums" => t.read_queue_nums = int(c)?,
                "writeQueueNums" => t.write_queue_nums = int(c)?,
                "perm" => t.perm = int(c)?,
                "topicSysFlag" => t.topic_sys_flag = int(c)?,
                _ => c.skip_value()?,
            }
            if !c.more(b'}')? {
                break;
            }
        }
    }
    Some(t)
}

/// `topicConfigTable`: configs in key order, the last of duplicate keys winning (the lenient
/// path reads the table into a sorted map).
fn topic_table(c: &mut Cursor<'_>) -> Option<Vec<TopicConfig>> {
    let mut entries: Vec<(&str, TopicConfig)> = Vec::new();
    if c.open_object()? {
        loop {
            let key = c.key()?;
            entries.push((key, topic_config(c)?));
            if !c.more(b'}')? {
                break;
            }
        }
    }
    // Stable: among equal keys the input order stays, so the last one is the one kept.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<TopicConfig> = Vec::with_capacity(entries.len());
    let mut last_key: Option<&str> = None;
    for (key, config) in entries {
        match out.last_mut() {
            Some(last) if last_key == Some(key) => *last = config,
            _ => out.push(config),
        }
        last_key = Some(key);
    }
    Some(out)
}

fn wrapper(c: &mut Cursor<'_>) -> Option<TopicConfigWrapper> {
    let mut w = TopicConfigWrapper::default();
    if c.open_object()? {
        loop {
            match c.key()? {
                "dataVersion" => w.data_version = data_version(c)?,
                "topicConfigTable" => {
                    w.topic_configs = if c.null()? {
                        Vec::new()
                    } else {
                        topic_table(c)?
                    }
                }
                // Static-topic mappings are rare: only an empty map is read here.
                "topicQueueMappingInfoMap" => {
                    if c.peek()? == b'{' {
                        if !c.empty_object()? {
                            return None;
                        }
                    } else {
                        c.skip_value()?;
                    }
                }
                _ => c.skip_value()?,
            }
            if !c.more(b'}')? {
                break;
            }
        }
    }
    Some(w)
}

impl RegisterBrokerBody {
    /// Decodes the body of REGISTER_BROKER per spec §2.1 step 2.
    ///
    /// Deliberate deviation: a body that starts like a zlib stream (`0x78`) is inflated even
    /// when the header says `compressed=false`, because 5.x Java brokers with
    /// `compressedRegister=true` always send `compressed=false` (spec §7.3) and Apache then
    /// fails to decode them.
    pub fn decode(
        body: Option<&[u8]>,
        version: i32,
        compressed: bool,
        max_inflated: usize,
    ) -> Result<Self, BodyError> {
        let legacy = version < crate::protocol::version::V3_0_11;
        if let Some(plain) =
            body.filter(|b| !b.is_empty() && (legacy || !(compressed || b.first() == Some(&0x78))))
        {
            if let Some(decoded) = decode(plain, legacy) {
                return Ok(decoded);
            }
        }
        Self::decode_lenient(body, version, compressed, max_inflated)
    }
}

/// A JSON register body: `RegisterBrokerBody` (3.0.11 and later) or, for `legacy` versions,
/// the `TopicConfigSerializeWrapper` itself.
pub(crate) fn decode(body: &[u8], legacy: bool) -> Option<RegisterBrokerBody> {
    let mut c = Cursor::new(body)?;
    let decoded = if legacy {
        RegisterBrokerBody {
            wrapper: wrapper(&mut c)?,
            filter_server_list: None,
        }
    } else {
        let mut w = TopicConfigWrapper::default();
        let mut filter_server_list = Vec::new();
        if c.open_object()? {
            loop {
                match c.key()? {
                    "topicConfigSerializeWrapper" => {
                        w = if c.null()? {
                            TopicConfigWrapper::default()
                        } else {
                            wrapper(&mut c)?
                        }
                    }
                    "filterServerList" => {
                        filter_server_list = if c.peek()? == b'[' {
                            c.string_array()?
                        } else {
                            c.skip_value()?;
                            Vec::new()
                        }
                    }
                    _ => c.skip_value()?,
                }
                if !c.more(b'}')? {
                    break;
                }
            }
        }
        RegisterBrokerBody {
            wrapper: w,
            filter_server_list: Some(filter_server_list),
        }
    };
    c.at_end().then_some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a 5.x Java broker sends (every TopicConfig field, the static-topic members) is read
    /// by the fast path, and reads as the lenient path reads it.
    #[test]
    fn a_java_broker_body_takes_the_fast_path() {
        let dv = r#"{"counter":7,"stateVersion":0,"timestamp":1700000000000}"#;
        let body = format!(
            r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"dataVersion":{dv},"mappingDataVersion":{dv},"topicConfigTable":{{"TopicB":{{"attributes":{{}},"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"TopicB","topicSysFlag":0,"writeQueueNums":8}},"TopicA":{{"attributes":{{"+message.type":"NORMAL"}},"order":true,"perm":4,"readQueueNums":2,"topicFilterType":"MULTI_TAG","topicName":"TopicA","topicSysFlag":1,"writeQueueNums":3}}}},"topicQueueMappingDetailMap":{{}},"topicQueueMappingInfoMap":{{}}}}}}"#
        );
        let fast = decode(body.as_bytes(), false).expect("the fast path reads it");
        let lenient =
            RegisterBrokerBody::decode_lenient(Some(body.as_bytes()), 479, false, 1 << 20);
        assert_eq!(lenient.as_ref(), Ok(&fast));
        let names: Vec<&str> = fast
            .wrapper
            .topic_configs
            .iter()
            .map(|t| t.topic_name.as_str())
            .collect();
        assert_eq!(names, ["TopicA", "TopicB"], "in key order");
        assert_eq!(fast.wrapper.data_version.counter, 7);
        assert_eq!(
            (
                fast.wrapper.topic_configs[0].perm,
                fast.wrapper.topic_configs[0].write_queue_nums,
                fast.wrapper.topic_configs[0].topic_sys_flag
            ),
            (4, 3, 1)
        );
    }
}
