//! Who is alive: the heartbeat table every controller keeps for itself (Apache's
//! `DefaultBrokerHeartbeatManager`). Not replicated: brokers heartbeat every controller.
//!
//! Deliberate difference (spec §12 Q7, apache/rocketmq#11045): an entry remembers every open
//! connection its heartbeats came on (the last few), and a close makes the replica inactive
//! only when it was the last of them; the address follows the latest heartbeat. Apache keeps
//! the first connection forever, so the late close of a stale connection evicted a healthy
//! broker and could fail its set over; and a broker may heartbeat on several connections
//! (rocketmq-broker 1.0.0 sends 904 to the leader and to every `controllerAddr` entry).

use std::collections::{BTreeMap, BTreeSet};

use super::state::BrokerId;
use crate::route::{ConnId, Millis};

/// How many heartbeat connections an entry remembers: a broker that opened more since has
/// moved on from the oldest, whose close then says nothing of it.
pub const MAX_CONNS: usize = 4;

/// Apache's liveness key: (clusterName, brokerName, brokerId).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LiveKey {
    /// `clusterName` as the heartbeat said it.
    pub cluster: String,
    /// `brokerName`.
    pub name: String,
    /// `brokerId` (the controller-assigned id).
    pub id: BrokerId,
}

/// What the last heartbeats said of one replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveInfo {
    /// `brokerAddr`.
    pub address: String,
    /// When the last heartbeat came.
    pub last_update: Millis,
    /// `heartbeatTimeoutMills`.
    pub timeout_ms: Millis,
    /// The open connections its heartbeats came on, the latest last (at most
    /// [`MAX_CONNS`]): when the last of them closes the replica is inactive at once.
    pub conns: Vec<ConnId>,
    /// The replica's last HA epoch (-1: none), a high-water mark with `max_offset`.
    pub epoch: i32,
    /// Its commit log's end.
    pub max_offset: i64,
    /// Its confirm offset.
    pub confirm_offset: i64,
    /// `electionPriority`: lower wins among equals.
    pub election_priority: i32,
}

impl LiveInfo {
    /// Alive while `now <= last_update + timeout` (Apache: `last + timeout >= now`); this is the
    /// first instant it is not.
    pub fn expires_at(&self) -> Millis {
        self.last_update
            .saturating_add(self.timeout_ms)
            .saturating_add(1)
    }
}

/// A heartbeat's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// The key.
    pub key: LiveKey,
    /// `brokerAddr`.
    pub address: String,
    /// `heartbeatTimeoutMills` (default 10,000).
    pub timeout_ms: Millis,
    /// `epoch` (default -1).
    pub epoch: i32,
    /// `maxOffset` (default -1).
    pub max_offset: i64,
    /// `confirmOffset` (default -1).
    pub confirm_offset: i64,
    /// `electionPriority` (default `i32::MAX`).
    pub election_priority: i32,
}

/// The table, with its entries ordered by when they expire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Liveness {
    table: BTreeMap<LiveKey, LiveInfo>,
    expiry: BTreeSet<(Millis, LiveKey)>,
}

impl Liveness {
    /// Records a heartbeat that came on `conn` at `now`.
    pub fn heartbeat(&mut self, hb: Heartbeat, conn: ConnId, now: Millis) {
        let entry = match self.table.get(&hb.key) {
            Some(old) => {
                self.expiry.remove(&(old.expires_at(), hb.key.clone()));
                let mut e = old.clone();
                // Epoch and offsets are a high-water mark (Apache; §7.4).
                if hb.epoch > e.epoch || (hb.epoch == e.epoch && hb.max_offset > e.max_offset) {
                    e.epoch = hb.epoch;
                    e.max_offset = hb.max_offset;
                    e.confirm_offset = hb.confirm_offset;
                }
                e.last_update = now;
                e.timeout_ms = hb.timeout_ms;
                e.election_priority = hb.election_priority;
                e.conns.retain(|c| *c != conn);
                e.conns.push(conn);
                if e.conns.len() > MAX_CONNS {
                    e.conns.remove(0);
                }
                e.address = hb.address;
                e
            }
            None => LiveInfo {
                address: hb.address,
                last_update: now,
                timeout_ms: hb.timeout_ms,
                conns: vec![conn],
                epoch: hb.epoch,
                max_offset: hb.max_offset,
                confirm_offset: hb.confirm_offset,
                election_priority: hb.election_priority,
            },
        };
        self.expiry.insert((entry.expires_at(), hb.key.clone()));
        self.table.insert(hb.key, entry);
    }

    /// Whether the replica is alive at `now`.
    pub fn is_alive(&self, key: &LiveKey, now: Millis) -> bool {
        self.table.get(key).is_some_and(|e| now < e.expires_at())
    }

    /// The entry of a replica.
    pub fn get(&self, key: &LiveKey) -> Option<&LiveInfo> {
        self.table.get(key)
    }

    /// Removes and returns the entries expired at `now`, earliest first.
    pub fn expire(&mut self, now: Millis) -> Vec<LiveKey> {
        let mut out = Vec::new();
        while let Some((at, key)) = self.expiry.first().cloned() {
            if at > now {
                break;
            }
            self.expiry.remove(&(at, key.clone()));
            self.table.remove(&key);
            out.push(key);
        }
        out
    }

    /// Forgets `conn`; removes and returns the entries it was the last open heartbeat
    /// connection of.
    pub fn closed(&mut self, conn: ConnId) -> Vec<LiveKey> {
        let mut gone = Vec::new();
        for (k, e) in self.table.iter_mut() {
            if let Some(i) = e.conns.iter().position(|c| *c == conn) {
                e.conns.remove(i);
                if e.conns.is_empty() {
                    gone.push(k.clone());
                }
            }
        }
        for k in &gone {
            if let Some(e) = self.table.remove(k) {
                self.expiry.remove(&(e.expires_at(), k.clone()));
            }
        }
        gone
    }

    /// When the next entry expires.
    pub fn next_expiry(&self) -> Option<Millis> {
        self.expiry.first().map(|(at, _)| *at)
    }

    /// Every entry.
    pub fn iter(&self) -> impl Iterator<Item = (&LiveKey, &LiveInfo)> {
        self.table.iter()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The expiry index holds exactly the table's entries (for the simulators).
    pub fn check(&self) -> Result<(), String> {
        if self.expiry.len() != self.table.len() {
            return Err(format!(
                "liveness: {} expiry entries for {} replicas",
                self.expiry.len(),
                self.table.len()
            ));
        }
        for (k, e) in &self.table {
            if e.conns.is_empty() || e.conns.len() > MAX_CONNS {
                return Err(format!("liveness: {k:?} has {} connections", e.conns.len()));
            }
            if !self.expiry.contains(&(e.expires_at(), k.clone())) {
                return Err(format!("liveness: {k:?} missing from the expiry index"));
            }
        }
        Ok(())
    }
}
