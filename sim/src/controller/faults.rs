//! Faults and operator actions: crashes, hangs, pauses, stale ALTERs, new replicas, decommissions, admin elections, cleans, settings, controller restarts.

use super::*;

impl Sim {
    pub(super) fn fault_crash(&mut self) -> Result<(), String> {
        if let Some(b) = self.pick(|b| !matches!(b.proc, Proc::Down { .. })) {
            let d = self.restart_delay();
            self.crash_broker(b, d);
        }
        Ok(())
    }

    /// The controller's view of a master: crash it (the case invariant 10 is about).
    pub(super) fn fault_master_crash(&mut self) -> Result<(), String> {
        let masters: Vec<(String, BrokerId)> = self
            .c
            .replicas()
            .iter()
            .filter_map(|(n, s)| s.master.map(|m| (n.clone(), m)))
            .collect();
        if masters.is_empty() {
            return self.fault_crash();
        }
        let (name, m) = masters[self.rng.below(masters.len() as u64) as usize].clone();
        if let Some(b) = self.pick(|b| {
            b.name == name && b.identity == Some(m) && !matches!(b.proc, Proc::Down { .. })
        }) {
            let d = self.restart_delay();
            self.crash_broker(b, d);
        }
        Ok(())
    }

    pub(super) fn fault_hang(&mut self) -> Result<(), String> {
        if let Some(b) = self.pick(|b| b.proc == Proc::Up) {
            self.out.broker_hangs += 1;
            let resume_at =
                (!self.rng.chance(25)).then(|| self.now + 2_000 + self.rng.below(15_000));
            let line = format!(
                "{} broker {} hangs until {resume_at:?}",
                self.now, self.brokers[b].addr
            );
            self.log(line);
            self.brokers[b].proc = Proc::Hung {
                since: self.now,
                resume_at,
            };
        }
        Ok(())
    }

    /// A pause that ends exactly on (or just after) the broker's heartbeat deadline.
    pub(super) fn fault_pause(&mut self) -> Result<(), String> {
        let now = self.now;
        if let Some(b) = self.pick(|b| {
            b.proc == Proc::Up && b.stage == Stage::Running && b.last_hb + b.timeout > now
        }) {
            self.out.broker_hangs += 1;
            let at = self.brokers[b].last_hb + self.brokers[b].timeout + self.rng.below(2);
            let line = format!(
                "{} broker {} pauses until {at}",
                self.now, self.brokers[b].addr
            );
            self.log(line);
            self.brokers[b].proc = Proc::Hung {
                since: now,
                resume_at: Some(at),
            };
        }
        Ok(())
    }

    pub(super) fn fault_restart_broker(&mut self) -> Result<(), String> {
        if let Some(b) = self.pick(|b| matches!(b.proc, Proc::Down { .. })) {
            self.restart_broker(b);
        } else if let Some(b) = self.pick(|b| matches!(b.proc, Proc::Hung { .. })) {
            // Kill the hung one; it comes back later.
            let d = Some(500 + self.rng.below(5_000));
            self.crash_broker(b, d);
        }
        Ok(())
    }

    /// A 1001 from a broker's stale (or current) view as master.
    pub(super) fn fault_stale_alter(&mut self) -> Result<(), String> {
        let roll = self.rng.below(100);
        if roll < 40 {
            // A confused master (the current one, with a stale or future masterEpoch but the
            // current syncStateSetEpoch), or an impostor (another replica, current epochs).
            let sets: Vec<(String, BrokerId, i32, i32, BTreeSet<BrokerId>)> = self
                .c
                .replicas()
                .iter()
                .filter_map(|(n, s)| {
                    s.master.map(|m| {
                        (
                            n.clone(),
                            m,
                            s.master_epoch,
                            s.sync_state_set_epoch,
                            s.replicas.keys().copied().collect(),
                        )
                    })
                })
                .collect();
            if sets.is_empty() {
                return Ok(());
            }
            let (name, m, epoch, ss_epoch, ids) =
                sets[self.rng.below(sets.len() as u64) as usize].clone();
            let impostor = roll >= 25;
            let b = self.pick(|b| {
                b.name == name
                    && b.proc == Proc::Up
                    && !b.altering
                    && b.identity.is_some()
                    && (b.identity == Some(m)) != impostor
            });
            let Some(b) = b else { return Ok(()) };
            let me = self.brokers[b].identity.unwrap_or_default();
            let epoch = if impostor {
                epoch
            } else if self.rng.chance(80) {
                epoch - 1 - self.rng.below(2) as i32
            } else {
                epoch + 1
            };
            let ids: Vec<BrokerId> = ids.into_iter().collect();
            let mut set = BTreeSet::from([me, ids[self.rng.below(ids.len() as u64) as usize]]);
            if self.rng.chance(50) {
                set.insert(m);
            }
            let line = format!(
                "{} broker {} sends a 1001 as {me} with masterEpoch {epoch} (master {m})",
                self.now, self.brokers[b].addr
            );
            self.log(line);
            self.send_alter(b, me, epoch, ss_epoch, set);
            return Ok(());
        }
        let b = self.pick(|b| b.proc == Proc::Up && b.was_master.is_some() && !b.altering);
        let Some(b) = b else {
            // Or a master whose set knowledge is stale.
            if let Some(b) =
                self.pick(|b| b.proc == Proc::Up && b.is_master() && b.stage == Stage::Running)
            {
                self.master_check(b, true);
            }
            return Ok(());
        };
        let Some(me) = self.brokers[b].identity else {
            return Ok(());
        };
        let Some((epoch, ss_epoch, mut set)) = self.brokers[b].was_master.clone() else {
            return Ok(());
        };
        let others: Vec<BrokerId> = self
            .brokers
            .iter()
            .filter(|o| o.set == self.brokers[b].set)
            .filter_map(|o| o.identity)
            .collect();
        if let Some(&o) = others.get(self.rng.below(others.len().max(1) as u64) as usize) {
            if self.rng.chance(50) {
                set.insert(o);
            } else if o != me {
                set.remove(&o);
            }
        }
        let line = format!(
            "{} broker {} sends a stale 1001",
            self.now, self.brokers[b].addr
        );
        self.log(line);
        self.send_alter(b, me, epoch, ss_epoch, set);
        Ok(())
    }

    pub(super) fn fault_new_replica(&mut self) -> Result<(), String> {
        let s = self.rng.below(SET_NAMES.len() as u64) as usize;
        let Some(first) = self.brokers.iter().find(|b| b.set == s) else {
            return Ok(());
        };
        let (name, cluster) = (first.name.clone(), first.cluster.clone());
        let slot = self.brokers.iter().filter(|b| b.set == s).count();
        if slot >= 6 {
            return Ok(());
        }
        let at = self.now + self.rng.below(100);
        let b = Self::fresh_broker(&mut self.rng, s, &name, &cluster, slot, at);
        let line = format!("{} new replica {}", self.now, b.addr);
        self.log(line);
        self.brokers.push(b);
        Ok(())
    }

    /// Every broker of a set down: wipe their stores, clean the whole set, redeploy later.
    pub(super) fn fault_decommission(&mut self) -> Result<(), String> {
        let s = self.rng.below(SET_NAMES.len() as u64) as usize;
        let members: Vec<usize> = (0..self.brokers.len())
            .filter(|b| self.brokers[*b].set == s)
            .collect();
        if members.is_empty() {
            return Ok(());
        }
        let name = self.brokers[members[0]].name.clone();
        let cluster = self.brokers[members[0]].cluster.clone();
        let line = format!("{} decommission {name}", self.now);
        self.log(line);
        for &b in &members {
            if !matches!(self.brokers[b].proc, Proc::Down { .. }) {
                self.crash_broker(b, None);
            }
        }
        // They stay down until the clean is durable (`redeploy`); if it is not, an
        // operator restarts them as they were. Let the closes land, then wipe the set
        // (isCleanLivingBroker).
        self.drain()?;
        let conn = self.new_conn();
        let ext = [
            ("clusterName", cluster),
            ("brokerName", name.clone()),
            ("isCleanLivingBroker", "true".to_owned()),
            ("invokeTime", (EPOCH_MILLIS + self.now).to_string()),
        ];
        let cmd = self.request(rq::CLEAN_BROKER_DATA, &ext, None);
        self.send(
            None,
            conn,
            cmd,
            Kind::Clean {
                name,
                live_at_send: Vec::new(),
                ids: BTreeSet::new(),
                living: true,
            },
        );
        Ok(())
    }

    /// A wholly cleaned set: its brokers' ids are gone for good (§12 Q10), so the operator
    /// stops them, deletes their stores and starts them again as new replicas.
    pub(super) fn redeploy(&mut self, name: &str) {
        let line = format!("{} redeploy {name}", self.now);
        self.log(line);
        let members: Vec<usize> = (0..self.brokers.len())
            .filter(|b| self.brokers[*b].name == name)
            .collect();
        for &b in &members {
            if !matches!(self.brokers[b].proc, Proc::Down { .. }) {
                self.crash_broker(b, None);
            }
            let back = 2_000 + self.rng.below(8_000);
            let br = &mut self.brokers[b];
            br.identity = None;
            br.temp = None;
            br.stored_epoch = -1;
            br.max_offset = 0;
            br.was_master = None;
            if let Proc::Down { restart_at } = &mut br.proc {
                *restart_at = Some(restart_at.unwrap_or(0).max(self.now + back));
            }
        }
    }

    pub(super) fn admin_designate(&mut self) -> Result<(), String> {
        let s = self.rng.below(SET_NAMES.len() as u64) as usize;
        let name = SET_NAMES[s].to_owned();
        let ids: Vec<BrokerId> = self
            .c
            .replicas()
            .get(&name)
            .map(|set| set.replicas.keys().copied().collect())
            .unwrap_or_default();
        let id = if ids.is_empty() || self.rng.chance(10) {
            1 + self.rng.below(6) as BrokerId
        } else {
            ids[self.rng.below(ids.len() as u64) as usize]
        };
        let cluster = self
            .brokers
            .iter()
            .find(|b| b.set == s)
            .map_or("C0".to_owned(), |b| b.cluster.clone());
        let conn = self.new_conn();
        let ext = [
            ("clusterName", cluster),
            ("brokerName", name.clone()),
            ("brokerId", id.to_string()),
            ("designateElect", "true".to_owned()),
            ("invokeTime", (EPOCH_MILLIS + self.now).to_string()),
        ];
        let cmd = self.request(rq::CONTROLLER_ELECT_MASTER, &ext, None);
        self.send(
            None,
            conn,
            cmd,
            Kind::Elect {
                name,
                id,
                designate: true,
            },
        );
        Ok(())
    }

    pub(super) fn admin_clean(&mut self) -> Result<(), String> {
        let sets: Vec<(String, String, Vec<BrokerId>, bool)> = self
            .c
            .replicas()
            .iter()
            .map(|(n, s)| {
                (
                    n.clone(),
                    s.cluster.clone(),
                    s.replicas.keys().copied().collect(),
                    s.master.is_some(),
                )
            })
            .collect();
        if sets.is_empty() {
            return Ok(());
        }
        let (name, cluster, ids, has_master) =
            sets[self.rng.below(sets.len() as u64) as usize].clone();
        let (dead, live): (Vec<BrokerId>, Vec<BrokerId>) = ids
            .iter()
            .partition(|id| !self.c.is_alive(&name, **id, self.now));
        let mut list = BTreeSet::new();
        let mut roll = self.rng.below(100);
        if roll >= 90 && !has_master {
            // An empty list on a masterless set would wipe it while its brokers run.
            roll = 0;
        }
        if roll < 65 {
            for id in &dead {
                if self.rng.chance(60) {
                    list.insert(*id);
                }
            }
            if list.is_empty() {
                if let Some(id) = dead.first() {
                    list.insert(*id);
                }
            }
        }
        if (65..90).contains(&roll) || (roll < 65 && list.is_empty()) {
            // A live one among them: must be refused.
            for id in &dead {
                if self.rng.chance(30) {
                    list.insert(*id);
                }
            }
            if !live.is_empty() {
                list.insert(live[self.rng.below(live.len() as u64) as usize]);
            }
        }
        // roll >= 90: no ids, isCleanLivingBroker false (refused while the set has a master).
        let live_at_send: Vec<(BrokerId, u64)> = list
            .iter()
            .filter(|id| self.c.is_alive(&name, **id, self.now))
            .map(|id| (*id, self.gen(&name, *id)))
            .collect();
        let conn = self.new_conn();
        let mut ext = vec![
            ("brokerName", name.clone()),
            ("brokerControllerIdsToClean", ids_text(&list)),
            ("isCleanLivingBroker", "false".to_owned()),
            ("invokeTime", (EPOCH_MILLIS + self.now).to_string()),
        ];
        if self.rng.chance(80) {
            ext.push(("clusterName", cluster));
        }
        let cmd = self.request(rq::CLEAN_BROKER_DATA, &ext, None);
        self.send(
            None,
            conn,
            cmd,
            Kind::Clean {
                name,
                live_at_send,
                ids: list,
                living: false,
            },
        );
        Ok(())
    }

    pub(super) fn admin_config(&mut self) -> Result<(), String> {
        let roll = self.rng.below(100);
        let (body, unclean, refused) = if roll < 70 {
            let v = !self.c.config().enable_elect_unclean_master;
            (format!("enableElectUncleanMaster={v}\n"), Some(v), false)
        } else if roll < 80 {
            let v = self.rng.chance(80);
            (format!("notifyBrokerRoleChanged={v}\n"), None, false)
        } else if roll < 90 {
            let v = [1_000, 2_000, 5_000][self.rng.below(3) as usize];
            (format!("scanInactiveMasterInterval={v}\n"), None, false)
        } else {
            ("configStorePath=/tmp/x\n".to_owned(), None, true)
        };
        let conn = self.new_conn();
        let cmd = self.request(rq::UPDATE_CONTROLLER_CONFIG, &[], Some(body));
        self.send(None, conn, cmd, Kind::Config { unclean, refused });
        Ok(())
    }

    // ------------------------------------------------------------------ controller restarts

    /// A new controller from the disk. Graceful: the appends in flight complete first; else
    /// they are lost and their requests never answered. Every connection closes.
    pub(super) fn restart_controller(&mut self, graceful: bool) -> Result<(), String> {
        self.restart_due = None;
        self.drain()?;
        if graceful && self.c.fenced().is_none() {
            while !self.writes.is_empty() {
                let w = self.writes.remove(0);
                self.complete(w, true)?;
                while let Some(input) = self.inbox.pop_front() {
                    self.feed(input)?;
                }
            }
        }
        let lost = self.writes.iter().filter(|w| w.events.is_some()).count();
        self.out.lost_appends += lost;
        self.out.restarts += 1;
        let line = format!(
            "{} controller restarts ({}; {} writes lost)",
            self.now,
            if graceful { "graceful" } else { "crash" },
            self.writes.len()
        );
        self.log(line);
        self.writes.clear();
        self.inbox.clear();
        let old = self.c.replicas().clone();
        let (replayed, n) = Controller::replay(&self.disk);
        // 8. The log replays to what the old controller had applied.
        if replayed != old {
            return self.fail(format!(
                "the replayed log differs from the state before the restart:\n  before {old:?}\n  replay {replayed:?}"
            ));
        }
        let (config, persisted) = config_from(self.disk_config.as_deref(), &self.start_config);
        if &config != self.c.config() {
            return self.fail(format!(
                "the settings on disk are not the settings in use:\n  disk   {config:?}\n  in use {:?}",
                self.c.config()
            ));
        }
        self.c = Controller::new(config, replayed, n, self.now);
        self.c.set_persisted_settings(persisted);
        if self.c.replicas() != &Controller::replay(&self.disk).0 {
            return self.fail("the restarted controller's state is not the replayed log".into());
        }
        // Every connection is gone: nothing asked of the old controller will be answered.
        self.outstanding.clear();
        self.obligations.clear();
        self.live_gen.clear();
        self.victims.clear();
        self.repairs.clear();
        let now = self.now;
        for b in 0..self.brokers.len() {
            let br = &mut self.brokers[b];
            br.conn = None;
            br.life += 1;
            br.polling = false;
            br.altering = false;
            br.electing = false;
            if br.proc == Proc::Up
                && matches!(
                    br.stage,
                    Stage::NextId | Stage::Apply | Stage::Register | Stage::Elect
                )
            {
                let after = 200 + self.rng.below(1_500);
                let br = &mut self.brokers[b];
                br.stage = Stage::Idle;
                br.startup_at = Some(now + after);
            }
        }
        self.check(true)
    }

    // ------------------------------------------------------------------ end of a step
}
