//! `KVConfigManager` (spec §4): namespaced string pairs, persisted as `kvConfig.json`.
//! The core only produces the file's text ([`KvConfig::to_json`]); the shell writes it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::codec::fastjson::{self, as_string, Dialect, JsonWriter};

/// `NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`.
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// The KV store (`KVConfigManager.configTable`): namespace → key → value, all strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvConfig {
    table: BTreeMap<String, BTreeMap<String, String>>,
}

/// Why `kvConfig.json` could not be loaded. Apache aborts start-up on a parse error; so do we.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvLoadError(pub String);

impl std::fmt::Display for KvLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KvLoadError {}

impl KvConfig {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// `putKVConfig`. A null value creates the namespace but stores nothing (Java stores a null
    /// that no read can see). Returns whether anything changed.
    pub fn put(&mut self, namespace: &str, key: &str, value: Option<&str>) -> bool {
        let ns = self.table.entry(namespace.to_owned()).or_default();
        match value {
            Some(v) => ns.insert(key.to_owned(), v.to_owned()).as_deref() != Some(v),
            None => ns.remove(key).is_some(),
        }
    }

    /// `getKVConfig`: the value of `key` in `namespace`, if stored.
    pub fn get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.table.get(namespace)?.get(key).map(String::as_str)
    }

    /// `deleteKVConfig`: the namespace stays, even when empty (Apache never removes one).
    pub fn delete(&mut self, namespace: &str, key: &str) -> bool {
        self.table
            .get_mut(namespace)
            .is_some_and(|ns| ns.remove(key).is_some())
    }

    /// `getKVListByNamespace`: `None` if the namespace never existed.
    pub fn namespace(&self, namespace: &str) -> Option<&BTreeMap<String, String>> {
        self.table.get(namespace)
    }

    /// The whole table, namespaces and keys sorted.
    pub fn table(&self) -> &BTreeMap<String, BTreeMap<String, String>> {
        &self.table
    }

    /// `KVConfigSerializeWrapper` JSON: `{"configTable":{"NS":{"k":"v"}}}`.
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::new(Dialect::Legacy);
        w.begin_object().key("configTable").begin_object();
        for (ns, kv) in &self.table {
            w.key(ns).begin_object();
            for (k, v) in kv {
                w.key(k).string(v);
            }
            w.end_object();
        }
        w.end_object().end_object();
        w.finish()
    }

    /// Parses `kvConfig.json` as fastjson would (lenient). Anything but an object with an
    /// optional `configTable` of objects of strings is an error naming what was wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self, KvLoadError> {
        let v = fastjson::parse(bytes).map_err(|e| KvLoadError(e.to_string()))?;
        let Value::Object(root) = v else {
            return Err(KvLoadError("the top level is not a JSON object".into()));
        };
        let mut table = BTreeMap::new();
        match root.get("configTable") {
            None | Some(Value::Null) => {}
            Some(Value::Object(nss)) => {
                for (ns, kv) in nss {
                    let Value::Object(kv) = kv else {
                        return Err(KvLoadError(format!("namespace {ns:?} is not an object")));
                    };
                    let mut m = BTreeMap::new();
                    for (k, v) in kv {
                        if v.is_null() {
                            continue;
                        }
                        let s = as_string(v).ok_or_else(|| {
                            KvLoadError(format!("value of {ns}/{k} is not a string"))
                        })?;
                        m.insert(k.clone(), s);
                    }
                    table.insert(ns.clone(), m);
                }
            }
            Some(_) => return Err(KvLoadError("configTable is not an object".into())),
        }
        Ok(Self { table })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let mut kv = KvConfig::new();
        kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, "broker-name", Some("a"));
        kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, "topic-name", Some("b\"\n"));
        kv.put("empty", "x", None);
        let json = kv.to_json();
        assert_eq!(KvConfig::from_json(json.as_bytes()).unwrap(), kv);
    }

    #[test]
    fn corrupt_files_are_errors() {
        for bad in [
            &b"{"[..],
            b"[]",
            b"{\"configTable\":[]}",
            b"{\"configTable\":{\"a\":1}}",
            b"",
        ] {
            assert!(KvConfig::from_json(bad).is_err());
        }
        assert_eq!(KvConfig::from_json(b"{}").unwrap(), KvConfig::new());
    }
}
