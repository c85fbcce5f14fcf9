//! Re-registrations that change nothing, recognised without reading their bodies.
//!
//! A broker re-registers every 30 s, and in a steady cluster its body is the same bytes each
//! time: the same DataVersion, the same topics. Apache parses every one of them (for a broker
//! of 10,000 topics, 1.76 MB of JSON) and then, the DataVersion being unchanged, only checks
//! that the group still has queue data in each listed topic. We remember a print of the body
//! each live broker's topics were last applied from ([`AppliedBody`]); a registration whose
//! body has that print, for the group it was applied to, from an address still at its id,
//! while no queue data has been removed anywhere since, would find every topic present and
//! change nothing the body says, so its body is neither decoded nor walked
//! ([`RouteInfo::registration_unchanged`]).
//!
//! Why that is exact: the same bytes (with the same `version` and `compressed`, which decide
//! how they are read) decode to the same topics, DataVersion and filter-server list. Right
//! after the last application every listed topic had the group's queue data, and queue data
//! only leaves through [`RouteInfo`]'s one removal path, which counts every removal
//! (`RouteInfo::queue_removals`); so if the count has not moved, every topic still has it.
//! With the DataVersion unchanged, existing queue data is not updated and static-topic
//! mappings are not applied (spec §3.3 step 9), and the filter-server list is the one already
//! stored. What the header says (timeout, zone, acting master, HA address) is applied as on
//! the general path. The machine's tests and the simulator hold both paths equal.

use xxhash_rust::xxh3::xxh3_128;

use super::{BrokerAddrInfo, RouteInfo};
use crate::route::register::RegisterSettings;

/// What identifies a REGISTER_BROKER body: a 128-bit hash of its bytes as they came off the
/// wire (compressed or not), its length, and what decides how they are decoded (the command's
/// version, the header's `compressed`, the `registerBrokerMaxInflatedBytes` in force: a body
/// applied under a higher limit may be refused under a lower one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyPrint {
    hash: u128,
    len: usize,
    version: i32,
    compressed: bool,
    max_inflated: usize,
}

impl BodyPrint {
    /// The print of `body` sent with command version `version` and the header's `compressed`,
    /// to be decoded under `max_inflated`. xxh3 reads a 1.76 MB body in well under a
    /// millisecond; a collision between two bodies of one broker would need 2^64
    /// registrations on average.
    pub fn of(body: Option<&[u8]>, version: i32, compressed: bool, max_inflated: usize) -> Self {
        let body = body.unwrap_or_default();
        Self {
            hash: xxh3_128(body),
            len: body.len(),
            version,
            compressed,
            max_inflated,
        }
    }

    /// The header's `compressed` it was taken with.
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// The `registerBrokerMaxInflatedBytes` it was taken under.
    pub fn max_inflated(&self) -> usize {
        self.max_inflated
    }
}

/// The body a live broker's topics were last applied from (kept in its live entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedBody {
    /// The body's print.
    pub print: BodyPrint,
    /// The group its topics were applied to: an address registered under two names (a broker
    /// renamed without unregistering) has one live entry, and the same bytes sent for the
    /// other name must still be applied there.
    pub group: String,
    /// How many topic configs it listed (the `registerBrokerMaxTopics` check reads it).
    pub topics: usize,
    /// The count of queue-data entries ever removed (`RouteInfo::queue_removals`, moved
    /// whenever a topic loses a group) right after it was applied.
    pub removals: u64,
}

impl RouteInfo {
    /// The topic count of the body a registration of `name`/`id` at `addr` in `cluster` with
    /// body print `print` would re-apply, when applying it could change nothing its body says
    /// (see the module docs); `None`: decode the body and take the general path.
    ///
    /// Never with `deleteTopicWithBrokerRegistration`: that drops the group's topics the body
    /// does not list, and the group may have gained topics since.
    pub fn registration_unchanged(
        &self,
        cluster: &str,
        addr: &str,
        name: &str,
        id: i64,
        print: &BodyPrint,
        settings: RegisterSettings,
    ) -> Option<usize> {
        if settings.delete_topic_with_broker_registration {
            return None;
        }
        // Not a first registration: the group exists and the id still maps to this address.
        // An applied body is only remembered when its topics were applied (as master or prime
        // slave), so skipping them is right whatever role the broker has now.
        let group = self.broker_addr_table.get(name)?;
        if group.broker_addrs.get(&id).map(String::as_str) != Some(addr) {
            return None;
        }
        let live = self
            .broker_live_table
            .get(&BrokerAddrInfo::new(cluster, addr))?;
        let applied = live.applied.as_ref()?;
        let same = applied.print == *print && applied.group == name;
        (same && applied.removals == self.queue_removals).then_some(applied.topics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_print_tells_apart_everything_that_decides_the_decoding() {
        let body = Some(&b"{\"a\":1}"[..]);
        let p = BodyPrint::of(body, 479, false, 1000);
        assert_eq!(p, BodyPrint::of(body, 479, false, 1000));
        assert_eq!(p.max_inflated(), 1000);
        assert_ne!(p, BodyPrint::of(Some(&b"{\"a\":2}"[..]), 479, false, 1000));
        assert_ne!(p, BodyPrint::of(body, 399, false, 1000));
        assert_ne!(p, BodyPrint::of(body, 479, true, 1000));
        assert!(!p.compressed() && BodyPrint::of(body, 479, true, 1000).compressed());
        assert_ne!(p, BodyPrint::of(body, 479, false, 999));
        assert_eq!(
            BodyPrint::of(None, 1, false, 0),
            BodyPrint::of(Some(&[]), 1, false, 0)
        );
    }
}
