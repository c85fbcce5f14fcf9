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

/// Bytes of bodies kept at most, likewise (256 MiB: every route of 16,384 topics of a few KB
/// each, the usual case, still fits). A topic served by 300 broker groups has a 75 KB
/// route body: 10,000 such topics in both dialects would keep 1.5 GB without this bound (it
/// was most of the RSS of issue 15's scale storm after its first round).
const MAX_CACHED_BYTES: usize = 256 * 1024 * 1024;

/// Encoded route bodies per topic and dialect, valid for one route generation (the core
/// decides when that moves; see `namesrv_core::RouteBodies`).
#[derive(Default)]
pub(crate) struct BodyCache {
    inner: RwLock<Cached>,
}

/// The bodies of one generation.
#[derive(Default)]
struct Cached {
    /// The generation the bodies were encoded under.
    generation: u64,
    /// The bodies per topic and dialect.
    bodies: TopicBodies,
    /// Their bytes in all.
    bytes: usize,
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
        if inner.generation != generation {
            return None;
        }
        inner.bodies.get(topic)?.get(dialect_slot(dialect))?.clone()
    }

    fn put(&self, topic: &str, dialect: Dialect, generation: u64, body: Bytes) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.generation != generation {
            if generation < inner.generation {
                // Encoded from an older view than what is cached: drop it.
                return;
            }
            *inner = Cached {
                generation,
                ..Cached::default()
            };
        }
        if inner.bodies.len() >= MAX_CACHED_TOPICS && !inner.bodies.contains_key(topic) {
            return;
        }
        if inner.bytes + body.len() > MAX_CACHED_BYTES {
            return;
        }
        let added = body.len();
        let slots = inner.bodies.entry(topic.to_owned()).or_default();
        let Some(slot) = slots.get_mut(dialect_slot(dialect)) else {
            return;
        };
        let replaced = slot.replace(body).map_or(0, |old| old.len());
        inner.bytes = (inner.bytes + added).saturating_sub(replaced);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_past_the_byte_bound_are_not_kept() {
        let cache = BodyCache::default();
        let big = Bytes::from(vec![b'x'; MAX_CACHED_BYTES / 2 + 1]);
        cache.put("A", Dialect::Standard, 1, big.clone());
        cache.put("B", Dialect::Standard, 1, big.clone());
        assert!(cache.get("A", Dialect::Standard, 1).is_some());
        assert!(
            cache.get("B", Dialect::Standard, 1).is_none(),
            "over the bound"
        );
        // A body replaced counts once.
        cache.put("A", Dialect::Standard, 1, big.clone());
        cache.put("C", Dialect::Legacy, 1, Bytes::from_static(b"{}"));
        assert!(cache.get("C", Dialect::Legacy, 1).is_some());
        // A new generation starts empty.
        cache.put("B", Dialect::Standard, 2, big);
        assert!(cache.get("B", Dialect::Standard, 2).is_some());
        assert!(cache.get("A", Dialect::Standard, 1).is_none());
    }
}
