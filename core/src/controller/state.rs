//! The replicated state: per broker set, its replicas (ids, addresses, check codes) and its
//! sync state (master, epochs, SyncStateSet). It changes only by [`Replicas::apply`] of an
//! [`Event`], so the state is a fold over the event log: what a restart replays, and what a
//! Raft group (part 2) replicates.

use std::collections::{BTreeMap, BTreeSet};

use super::event::Event;

/// A controller-assigned broker id (1, 2, 3, …; 0 is never assigned: it means "master" in
/// NameServer registrations).
pub type BrokerId = i64;

/// One replica of a broker set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    /// `ip:port` of its remoting server (where NOTIFY_BROKER_ROLE_CHANGED goes).
    pub address: String,
    /// The `registerCheckCode` it applied for its id with (`addr;millis`).
    pub register_check_code: String,
}

/// One broker set (every replica sharing a `brokerName`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerSet {
    /// The cluster the set was created in (its first ApplyBrokerId).
    pub cluster: String,
    /// The next id 1012 hands out: a count of adds, never lowered (Apache's
    /// `nextAssignBrokerId`).
    pub next_assign_id: BrokerId,
    /// The registered replicas by id.
    pub replicas: BTreeMap<BrokerId, Replica>,
    /// +1 for every applied election, elected or not; 0: never had a master.
    pub master_epoch: i32,
    /// +1 for every change of the SyncStateSet (an ALTER, or an election that elected).
    pub sync_state_set_epoch: i32,
    /// The ids in sync with the master (the master among them).
    pub sync_state_set: BTreeSet<BrokerId>,
    /// The master's id, if the set has one.
    pub master: Option<BrokerId>,
}

impl BrokerSet {
    /// The master's registered address, if the set has a master and it is registered.
    pub fn master_address(&self) -> Option<&str> {
        self.master
            .and_then(|m| self.replicas.get(&m))
            .map(|r| r.address.as_str())
    }
}

/// Every broker set by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replicas {
    sets: BTreeMap<String, BrokerSet>,
}

impl Replicas {
    /// A set by `brokerName`.
    pub fn get(&self, name: &str) -> Option<&BrokerSet> {
        self.sets.get(name)
    }

    /// Every set, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &BrokerSet)> {
        self.sets.iter()
    }

    /// How many sets there are.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Applies one event, as every controller does in log order (Apache's
    /// `ReplicasInfoManager.applyEvent`). It never fails: an event for an unknown set is
    /// ignored, as Apache ignores it.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::ApplyBrokerId {
                cluster_name,
                broker_name,
                broker_address,
                new_broker_id,
                register_check_code,
            } => {
                let replica = Replica {
                    address: broker_address.clone(),
                    register_check_code: register_check_code.clone(),
                };
                match self.sets.get_mut(broker_name) {
                    Some(set) => {
                        if let std::collections::btree_map::Entry::Vacant(v) =
                            set.replicas.entry(*new_broker_id)
                        {
                            v.insert(replica);
                            set.next_assign_id = set.next_assign_id.saturating_add(1);
                        }
                    }
                    None => {
                        let mut replicas = BTreeMap::new();
                        replicas.insert(*new_broker_id, replica);
                        self.sets.insert(
                            broker_name.clone(),
                            BrokerSet {
                                cluster: cluster_name.clone(),
                                next_assign_id: 2,
                                replicas,
                                master_epoch: 0,
                                sync_state_set_epoch: 0,
                                sync_state_set: BTreeSet::new(),
                                master: None,
                            },
                        );
                    }
                }
            }
            Event::ElectMaster {
                broker_name,
                new_master,
            } => {
                if let Some(set) = self.sets.get_mut(broker_name) {
                    set.master_epoch = set.master_epoch.saturating_add(1);
                    set.master = *new_master;
                    if let Some(m) = new_master {
                        set.sync_state_set = BTreeSet::from([*m]);
                        set.sync_state_set_epoch = set.sync_state_set_epoch.saturating_add(1);
                    }
                }
            }
            Event::AlterSyncStateSet {
                broker_name,
                new_sync_state_set,
            } => {
                if let Some(set) = self.sets.get_mut(broker_name) {
                    set.sync_state_set = new_sync_state_set.clone();
                    set.sync_state_set_epoch = set.sync_state_set_epoch.saturating_add(1);
                }
            }
            Event::CleanBrokerData { broker_name, ids } => {
                if ids.is_empty() {
                    self.sets.remove(broker_name);
                } else if let Some(set) = self.sets.get_mut(broker_name) {
                    // Apache removes the ids from the SyncStateSet without bumping its epoch
                    // (§12 Q10); kept, as brokers compare epochs and a bump here would fence
                    // the master's next ALTER for nothing.
                    for id in ids {
                        set.replicas.remove(id);
                        set.sync_state_set.remove(id);
                        if set.master == Some(*id) {
                            set.master = None;
                        }
                    }
                    if set.replicas.is_empty() {
                        self.sets.remove(broker_name);
                    }
                }
            }
            Event::UpdateBrokerAddress {
                broker_name,
                broker_id,
                broker_address,
                ..
            } => {
                if let Some(r) = self
                    .sets
                    .get_mut(broker_name)
                    .and_then(|s| s.replicas.get_mut(broker_id))
                {
                    r.address = broker_address.clone();
                }
            }
        }
    }
}
