//! Encoded GET_ROUTEINFO_BY_TOPIC bodies, kept per topic and JSON dialect so that a route asked
//! for again is answered without walking the tables and encoding the JSON anew (route lookups
//! are the hot path of every producer and consumer).
//!
//! Filled from `&self` (many readers at once share the machine under a read lock, hence the
//! lock inside), emptied from `&mut self` at every input the machine handles, so an entry can
//! never outlive the state it was encoded from: whatever a write changes (routes, KV order
//! config, config keys), it changes through `NameServer::handle`.

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;

use crate::codec::fastjson::Dialect;

/// Topics kept at most; past it new bodies are not cached until the next input empties it, so
/// the cache never holds more than a bounded share of memory.
const MAX_TOPICS: usize = 16_384;

#[derive(Default)]
pub(crate) struct RouteCache {
    bodies: RwLock<HashMap<String, [Option<Bytes>; 2]>>,
}

fn slot(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Legacy => 0,
        Dialect::Standard => 1,
    }
}

impl RouteCache {
    pub(crate) fn get(&self, topic: &str, dialect: Dialect) -> Option<Bytes> {
        let bodies = self
            .bodies
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        bodies.get(topic)?.get(slot(dialect))?.clone()
    }

    pub(crate) fn put(&self, topic: &str, dialect: Dialect, body: Bytes) {
        let mut bodies = self
            .bodies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if bodies.len() >= MAX_TOPICS && !bodies.contains_key(topic) {
            return;
        }
        if let Some(s) = bodies
            .entry(topic.to_owned())
            .or_default()
            .get_mut(slot(dialect))
        {
            *s = Some(body);
        }
    }

    /// Forgets everything; called before any change to the state.
    pub(crate) fn clear(&mut self) {
        let bodies = self
            .bodies
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !bodies.is_empty() {
            bodies.clear();
        }
    }
}

/// A clone starts empty: the cache is derived data.
impl Clone for RouteCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for RouteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RouteCache")
    }
}
