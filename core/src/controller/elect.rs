//! Who becomes master (spec §7): Apache's `DefaultElectPolicy`, with its ranking made total.

use std::collections::BTreeSet;

use super::liveness::{LiveKey, Liveness};
use super::state::{BrokerId, BrokerSet};
use crate::route::Millis;

/// What an election asks for.
pub(crate) struct Ask {
    /// The requester's id (`-1`: the controller's own trigger).
    pub(crate) broker_id: BrokerId,
    /// `designateElect`: an admin asks for this id precisely.
    pub(crate) designate: bool,
    /// `enableElectUncleanMaster`.
    pub(crate) unclean: bool,
}

/// The chosen master, or none.
pub(crate) fn choose(
    name: &str,
    set: &BrokerSet,
    live: &Liveness,
    now: Millis,
    ask: &Ask,
) -> Option<BrokerId> {
    // First election: the requester wins without an aliveness check (§7.2 step 2: a broker asks
    // before its heartbeats are known). Unlike Apache (Q9) it must be registered: an unknown
    // id made master would be a master nobody can reach.
    if set.master_epoch == 0 && ask.broker_id != -1 {
        return set
            .replicas
            .contains_key(&ask.broker_id)
            .then_some(ask.broker_id);
    }
    let prefer = ask.designate.then_some(ask.broker_id);
    let alive = |ids: &mut dyn Iterator<Item = BrokerId>| -> Vec<BrokerId> {
        ids.filter(|id| {
            live.is_alive(
                &LiveKey {
                    cluster: set.cluster.clone(),
                    name: name.to_owned(),
                    id: *id,
                },
                now,
            )
        })
        .collect()
    };
    let from = |candidates: Vec<BrokerId>| -> Option<BrokerId> {
        if candidates.is_empty() {
            return None;
        }
        if let Some(m) = set.master {
            if candidates.contains(&m) && (prefer.is_none() || prefer == Some(m)) {
                return Some(m);
            }
        }
        if let Some(p) = prefer {
            return candidates.contains(&p).then_some(p);
        }
        best(name, set, live, &candidates)
    };
    let in_sync: &BTreeSet<BrokerId> = &set.sync_state_set;
    from(alive(&mut in_sync.iter().copied())).or_else(|| {
        if ask.unclean {
            from(alive(&mut set.replicas.keys().copied()))
        } else {
            None
        }
    })
}

/// The best-ranked candidate: higher epoch, then higher max offset, then lower
/// `electionPriority`, then the lower id. Apache compares by subtraction, which overflows for
/// offsets 2^31 apart (apache/rocketmq#10578), and keeps one of equally ranked candidates at
/// random; here the comparison is direct and ties go to the lowest id.
fn best(name: &str, set: &BrokerSet, live: &Liveness, candidates: &[BrokerId]) -> Option<BrokerId> {
    candidates
        .iter()
        .filter_map(|id| {
            live.get(&LiveKey {
                cluster: set.cluster.clone(),
                name: name.to_owned(),
                id: *id,
            })
            .map(|e| (*id, e.epoch, e.max_offset, e.election_priority))
        })
        .min_by(|a, b| {
            b.1.cmp(&a.1)
                .then(b.2.cmp(&a.2))
                .then(a.3.cmp(&b.3))
                .then(a.0.cmp(&b.0))
        })
        .map(|c| c.0)
}
