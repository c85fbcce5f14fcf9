//! The checks at the end of every step: the failover obligations and the scan bound (invariant 10).

use super::*;

impl Sim {
    pub(super) fn end_of_step(&mut self) -> Result<(), String> {
        self.check(true)?;
        if self.writes.is_empty() {
            // Nothing in flight: the controller's queue is empty, so every request is answered.
            if let Some(((conn, opaque), req)) = self.outstanding.iter().next() {
                return self.fail(format!(
                    "nothing in flight, yet c{conn} o{opaque} ({:?}) has no answer",
                    req.kind
                ));
            }
            // 10. A master that went inactive while an in-sync replica was alive is replaced.
            let obligations = std::mem::take(&mut self.obligations);
            for o in obligations {
                self.check_obligation(&o)?;
            }
            self.victims.clear();
            self.check_repairs()?;
        }
        // 2 (as brokers see it): at most one broker acts as master per set and epoch.
        let mut masters: BTreeMap<(String, i32), BrokerId> = BTreeMap::new();
        for b in &self.brokers {
            if matches!(b.proc, Proc::Down { .. }) || !b.is_master() {
                continue;
            }
            let id = b.identity.unwrap_or_default();
            if let Some(other) = masters.insert((b.name.clone(), b.master_epoch), id) {
                if other != id {
                    return self.fail(format!(
                        "brokers {other} and {id} of {} both act as master at epoch {}",
                        b.name, b.master_epoch
                    ));
                }
            }
        }
        Ok(())
    }

    /// Invariant 10, second part: a set without a live master while a replica could be
    /// elected (continuously alive, in the SyncStateSet unless unclean elections are on) gets
    /// one by the first moment nothing is in flight after one scan interval.
    pub(super) fn check_repairs(&mut self) -> Result<(), String> {
        if self.c.fenced().is_some() {
            self.repairs.clear();
            return Ok(());
        }
        let unclean = self.c.config().enable_elect_unclean_master;
        let mut next = BTreeMap::new();
        for (name, set) in self.c.replicas().iter() {
            let alive = |id: &BrokerId| self.c.is_alive(name, *id, self.now);
            if set.master.is_some_and(|m| alive(&m)) {
                if self.repairs.contains_key(name) {
                    self.out.scan_repairs += 1;
                }
                continue;
            }
            let pool: Vec<BrokerId> = if unclean {
                set.replicas.keys().copied().collect()
            } else {
                set.sync_state_set.iter().copied().collect()
            };
            let eligible: Vec<BrokerId> = pool.into_iter().filter(|id| alive(id)).collect();
            if eligible.is_empty() {
                continue;
            }
            let state = (
                set.master,
                set.master_epoch,
                set.sync_state_set.clone(),
                set.replicas.len(),
            );
            let r = match self.repairs.get(name) {
                Some(r) if r.state == state && r.config_gen == self.config_gen => r.clone(),
                _ => Repair {
                    since: self.now,
                    state,
                    config_gen: self.config_gen,
                },
            };
            let overdue = eligible.iter().find(|id| {
                let since = self
                    .alive_since
                    .get(&(set.cluster.clone(), name.clone(), **id))
                    .copied()
                    .unwrap_or(self.now)
                    .max(r.since);
                self.now > since + self.scan_bound + 1
            });
            if let Some(id) = overdue {
                return self.fail(format!(
                    "set {name}: no live master (master {:?}, epoch {}, ss {:?}) since t={}ms, while {id} could be elected; the scan (every {} ms at most) did not elect",
                    set.master, set.master_epoch, set.sync_state_set, r.since, self.scan_bound
                ));
            }
            next.insert(name.clone(), r);
        }
        self.repairs = next;
        Ok(())
    }

    pub(super) fn check_obligation(&mut self, o: &Obligation) -> Result<(), String> {
        let Some(set) = self.c.replicas().get(&o.name) else {
            return Ok(());
        };
        let unclean = o.unclean
            && o.config_gen == self.config_gen
            && self.c.config().enable_elect_unclean_master;
        let eligible: Vec<BrokerId> = o
            .candidates
            .iter()
            .filter(|(id, gen)| {
                self.gen(&o.name, *id) == *gen
                    && self.c.is_alive(&o.name, *id, self.now)
                    && set.replicas.contains_key(id)
                    && (unclean || set.sync_state_set.contains(id))
            })
            .map(|(id, _)| *id)
            .collect();
        if eligible.is_empty() {
            return Ok(());
        }
        let ok = set
            .master
            .is_some_and(|m| self.c.is_alive(&o.name, m, self.now));
        if !ok {
            return self.fail(format!(
                "set {}: master {} went inactive at step {}; {eligible:?} stayed alive and eligible, yet the set has master {:?} (epoch {}, ss {:?})",
                o.name, o.master, o.since_step, set.master, set.master_epoch, set.sync_state_set
            ));
        }
        Ok(())
    }
}
