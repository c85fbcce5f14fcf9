//! The controller's effects as the shell would carry them out: appends (and their delayed completion), notes, notifications; what each says is checked.

use super::*;

impl Sim {
    pub(super) fn effect(&mut self, e: Effect) -> Result<(), String> {
        let line = match &e {
            Effect::Reply { conn, cmd } => format!("  < c{conn} {}", fmt_cmd(cmd)),
            Effect::Notify { broker_addr, cmd } => {
                format!("  notify {broker_addr} {}", fmt_cmd(cmd))
            }
            other => format!("  {other:?}"),
        };
        self.log(line);
        match e {
            Effect::Reply { conn, cmd } => self.on_reply(conn, cmd),
            Effect::Append { ticket, events } => self.on_append(ticket, events),
            Effect::PersistConfig { ticket, content } => {
                let due = self.step_no + self.delay();
                self.writes.push(Write {
                    ticket,
                    events: None,
                    config: Some(content),
                    due,
                    asked: self.step_no,
                });
                Ok(())
            }
            Effect::Notify { broker_addr, cmd } => self.on_notify(broker_addr, cmd),
            Effect::Note(n) => self.on_note(n),
        }
    }

    pub(super) fn delay(&mut self) -> usize {
        match self.rng.below(10) {
            0..=4 => 0,
            5..=6 => 1,
            7..=8 => 2,
            _ => 3,
        }
    }

    /// A decision to append: checked against the state and liveness it was decided on.
    pub(super) fn on_append(&mut self, ticket: u64, events: Vec<Event>) -> Result<(), String> {
        let unclean = self.c.config().enable_elect_unclean_master;
        for e in &events {
            if let Event::AlterSyncStateSet {
                broker_name,
                new_sync_state_set: new,
            } = e
            {
                // 1001 is decided against the applied state and this controller's liveness.
                let Some(set) = self.c.replicas().get(broker_name) else {
                    return self.fail(format!(
                        "a SyncStateSet decided for unknown set {broker_name}"
                    ));
                };
                let bad = new.iter().find(|id| {
                    !set.replicas.contains_key(id) || !self.c.is_alive(broker_name, **id, self.now)
                });
                if set.master.is_none_or(|m| !new.contains(&m)) || bad.is_some() {
                    return self.fail(format!(
                        "set {broker_name}: SyncStateSet {new:?} decided with master {:?} ({bad:?} not registered or not alive)",
                        set.master
                    ));
                }
                continue;
            }
            let Event::ElectMaster {
                broker_name,
                new_master,
            } = e
            else {
                continue;
            };
            let Some(set) = self.c.replicas().get(broker_name) else {
                return self.fail(format!("an election decided for unknown set {broker_name}"));
            };
            let alive = |id: &BrokerId| self.c.is_alive(broker_name, *id, self.now);
            match new_master {
                None => {
                    let in_sync: Vec<_> = set.sync_state_set.iter().filter(|i| alive(i)).collect();
                    let any: Vec<_> = set.replicas.keys().filter(|i| alive(i)).collect();
                    if !in_sync.is_empty() || (unclean && !any.is_empty()) {
                        return self.fail(format!(
                            "set {broker_name}: a masterless election decided while {:?} could be elected (unclean {unclean})",
                            if in_sync.is_empty() { any } else { in_sync }
                        ));
                    }
                }
                Some(m) => {
                    if set.master_epoch > 0 && !alive(m) {
                        return self.fail(format!(
                            "set {broker_name}: elected {m}, which is not alive"
                        ));
                    }
                }
            }
        }
        let d = self.delay();
        if d > 0 {
            self.out.delayed_appends += 1;
        }
        self.writes.push(Write {
            ticket,
            events: Some(events),
            config: None,
            due: self.step_no + d,
            asked: self.step_no,
        });
        Ok(())
    }

    /// The disk took (or failed) a write: record it, then tell the controller.
    pub(super) fn complete(&mut self, w: Write, ok: bool) -> Result<(), String> {
        let line = format!(
            "{} disk: ticket {} (asked at step {}) {}",
            self.now,
            w.ticket,
            w.asked,
            if ok { "ok" } else { "FAILED" }
        );
        self.log(line);
        let result = if ok {
            Ok(())
        } else {
            Err("simulated disk failure".to_owned())
        };
        if ok {
            if let Some(events) = &w.events {
                for e in events {
                    self.record_event(e)?;
                }
            }
            if let Some(content) = &w.config {
                self.disk_config = Some(content.clone());
            }
        } else if w.events.is_some() {
            self.out.failed_appends += 1;
            self.restart_due = Some(self.step_no + 1 + self.rng.below(4) as usize);
        }
        let unclean = self.c.config().enable_elect_unclean_master;
        // Fed now, ahead of anything queued, as the shell does when the fsync returns.
        self.feed(Input::Appended {
            ticket: w.ticket,
            result,
        })?;
        if self.c.config().enable_elect_unclean_master != unclean {
            self.config_gen += 1;
        }
        self.scan_bound = self
            .scan_bound
            .max(self.c.config().scan_inactive_master_interval as Millis);
        Ok(())
    }

    /// One event made durable: invariants 2, 5 and 6's bookkeeping.
    pub(super) fn record_event(&mut self, e: &Event) -> Result<(), String> {
        let prev = self.disk_state.get(e.broker_name()).cloned();
        if let Event::ElectMaster {
            broker_name,
            new_master: Some(m),
        } = e
        {
            if let Some(prev) = &prev {
                let unclean = self.c.config().enable_elect_unclean_master;
                let first = prev.master_epoch == 0;
                if !prev.sync_state_set.contains(m) {
                    if !unclean && !first {
                        return self.fail(format!(
                            "set {broker_name}: elected {m} from outside the SyncStateSet {:?} (masterEpoch {}) with enableElectUncleanMaster off",
                            prev.sync_state_set, prev.master_epoch
                        ));
                    }
                    if unclean && !first {
                        self.out.unclean_elections += 1;
                    }
                }
            }
        }
        self.disk.push(e.clone());
        self.disk_state.apply(e);
        let name = e.broker_name().to_owned();
        match e {
            Event::ElectMaster { new_master, .. } => {
                if let Some(set) = self.disk_state.get(&name) {
                    let epoch = set.master_epoch;
                    if let Some(old) = self.history.insert((name.clone(), epoch), *new_master) {
                        if old != *new_master {
                            return self.fail(format!(
                                "set {name}: masterEpoch {epoch} elected {old:?} and then {new_master:?}"
                            ));
                        }
                    }
                    if new_master.is_some() {
                        self.out.elections += 1;
                    } else {
                        self.out.masterless += 1;
                    }
                }
            }
            Event::ApplyBrokerId { .. }
                if prev.is_none() && self.history.keys().any(|(n, _)| *n == name) =>
            {
                return self.fail(format!("set {name} created again with history left"));
            }
            Event::CleanBrokerData { ids, .. } => {
                let gone = self.disk_state.get(&name).is_none();
                if gone {
                    // Wholly cleaned: its epochs start again when it is recreated.
                    self.history.retain(|(n, _), _| *n != name);
                    self.codes.retain(|(n, _), _| *n != name);
                    if prev.is_some() {
                        self.out.recreated_sets += 1;
                    }
                    self.redeploy(&name);
                } else {
                    for id in ids {
                        self.codes.remove(&(name.clone(), *id));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn on_note(&mut self, n: Note) -> Result<(), String> {
        match n {
            Note::Inactive { key, closed } => {
                *self.live_gen.entry((key.name.clone(), key.id)).or_default() += 1;
                let elect_in_flight = self.writes.iter().any(|w| {
                    w.events.iter().flatten().any(|e| {
                        matches!(e, Event::ElectMaster { broker_name, new_master: Some(m) }
                            if *broker_name == key.name && *m == key.id)
                    })
                });
                if elect_in_flight {
                    self.out.dead_on_arrival += 1;
                    let line = format!(
                        "  (sim: {}/{} went inactive while the election naming it master is in flight)",
                        key.name, key.id
                    );
                    self.log(line);
                    self.victims.insert((key.name.clone(), key.id));
                }
                if !closed {
                    self.out.expiries += 1;
                }
                let Some(set) = self.c.replicas().get(&key.name) else {
                    return Ok(());
                };
                if set.master != Some(key.id)
                    || set.cluster != key.cluster
                    || !self.c.is_leader()
                    || self.c.fenced().is_some()
                {
                    return Ok(());
                }
                let unclean = self.c.config().enable_elect_unclean_master;
                let pool: Vec<BrokerId> = if unclean {
                    set.replicas.keys().copied().collect()
                } else {
                    set.sync_state_set.iter().copied().collect()
                };
                let candidates: Vec<(BrokerId, u64)> = pool
                    .into_iter()
                    .filter(|id| *id != key.id && self.c.is_alive(&key.name, *id, self.now))
                    .map(|id| (id, self.gen(&key.name, id)))
                    .collect();
                if !candidates.is_empty() {
                    self.out.failovers += 1;
                    self.obligations.push(Obligation {
                        name: key.name,
                        since_step: self.step_no,
                        master: key.id,
                        candidates,
                        unclean,
                        config_gen: self.config_gen,
                    });
                }
                Ok(())
            }
            Note::Elected {
                broker_name,
                master,
                master_epoch,
            } => {
                let h = self.history.get(&(broker_name.clone(), master_epoch));
                if h != Some(&master) {
                    return self.fail(format!(
                        "set {broker_name}: noted election of {master:?} at epoch {master_epoch}, the log says {h:?}"
                    ));
                }
                Ok(())
            }
            Note::Fenced { .. } => {
                self.obligations.clear();
                Ok(())
            }
        }
    }

    pub(super) fn gen(&self, name: &str, id: BrokerId) -> u64 {
        self.live_gen
            .get(&(name.to_owned(), id))
            .copied()
            .unwrap_or(0)
    }

    /// Invariant 9: a notification goes to a live replica and names the current master.
    pub(super) fn on_notify(&mut self, addr: String, cmd: RemotingCommand) -> Result<(), String> {
        self.out.notifies += 1;
        // Two ids may share an address (a broker whose store was deleted registers again
        // before its old id is cleaned): one of them must be alive.
        let found: Vec<(String, BrokerId)> = self
            .c
            .replicas()
            .iter()
            .flat_map(|(name, set)| {
                set.replicas
                    .iter()
                    .filter(|(_, r)| r.address == addr)
                    .map(|(id, _)| (name.clone(), *id))
            })
            .collect();
        if found.is_empty() {
            return self.fail(format!("a notification to {addr}, which no replica has"));
        }
        let Some((name, id)) = found
            .iter()
            .find(|(n, id)| self.c.is_alive(n, *id, self.now))
            .cloned()
        else {
            return self.fail(format!(
                "a notification to {addr} ({found:?}), which is not alive"
            ));
        };
        let set = self.c.replicas().get(&name).cloned().expect("found in it");
        let m = ext_i64(&cmd, "masterBrokerId");
        let e = ext_i32(&cmd, "masterEpoch");
        let se = ext_i32(&cmd, "syncStateSetEpoch");
        let (body, body_epoch) = body_set(&cmd);
        if m != set.master
            || e != Some(set.master_epoch)
            || se != Some(set.sync_state_set_epoch)
            || body != set.sync_state_set
            || body_epoch != set.sync_state_set_epoch
            || cmd.ext("masterAddress") != set.master_address()
        {
            return self.fail(format!(
                "a notification to {name}/{id} says {}, the set is master {:?} epoch {} ss {:?} epoch {}",
                fmt_cmd(&cmd),
                set.master,
                set.master_epoch,
                set.sync_state_set,
                set.sync_state_set_epoch
            ));
        }
        if !cmd.is_oneway() || cmd.code != rq::NOTIFY_BROKER_ROLE_CHANGED {
            return self.fail("a notification that is not a oneway 1008".into());
        }
        // Deliver it to a running broker at that address (§4).
        let b = self.brokers.iter().position(|b| {
            b.addr == addr && b.proc == Proc::Up && b.identity == Some(id) && b.name == name
        });
        if let (Some(b), Some(m), Some(e), Some(se)) = (b, m, e, se) {
            if self.brokers[b].stage == Stage::Running && e > self.brokers[b].master_epoch {
                self.adopt(b, m, e, se, body)?;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ replies
}
