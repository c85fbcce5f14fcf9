//! The route-body cache the read view fills (`namesrv_core::RouteBodies`): encoded
//! GET_ROUTEINFO_BY_TOPIC bodies per topic and dialect, valid for one route generation.

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;
use namesrv_core::codec::fastjson::Dialect;
use namesrv_core::RouteBodies;

/// Topics whose route bodies are kept at most; past it new bodies are not cached until the
/// generation moves, so the cache holds a bounded share of memory.
const MAX_CACHED_TOPICS: usize = 16_384;

/// Encoded route bodies per topic and dialect, valid for one route generation (the core
/// decides when that moves; see `namesrv_core::RouteBodies`).
#[derive(Default)]
pub(crate) struct BodyCache {
    /// The generation the bodies were encoded under, and the bodies per topic and dialect.
    inner: RwLock<(u64, TopicBodies)>,
}

/// Per topic: the legacy and the standard-JSON body.
type TopicBodies = HashMap<String, [Option<Bytes>; 2]>;

fn dialect_slot(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Legacy => 0,
        Dialect::Standard => 1,
    }
}

impl RouteBodies for BodyCache {
    fn get(&self, topic: &str, dialect: Dialect, generation: u64) -> Option<Bytes> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.0 != generation {
            return None;
        }
        inner.1.get(topic)?.get(dialect_slot(dialect))?.clone()
    }

    fn put(&self, topic: &str, dialect: Dialect, generation: u64, body: Bytes) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.0 != generation {
            if generation < inner.0 {
                // Encoded from an older view than what is cached: drop it.
                return;
            }
            *inner = (generation, HashMap::new());
        }
        if inner.1.len() >= MAX_CACHED_TOPICS && !inner.1.contains_key(topic) {
            return;
        }
        let slots = inner.1.entry(topic.to_owned()).or_default();
        if let Some(slot) = slots.get_mut(dialect_slot(dialect)) {
            *slot = Some(body);
        }
    }
}
