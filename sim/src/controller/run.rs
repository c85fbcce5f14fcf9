//! One step of a schedule: timers, broker work, the controller fed and its state checked.

use super::*;

impl Sim {
    pub(super) fn step(&mut self) -> Result<(), String> {
        let line = format!("== step {} t={}", self.step_no, self.now);
        self.log(line);
        if self.restart_due.is_some_and(|s| s <= self.step_no) {
            self.restart_controller(false)?;
        }
        let roll = self.rng.below(100);
        match roll {
            0..=21 => {
                let t = self.next_timer().unwrap_or(self.now + 1_000);
                self.advance_to(t.max(self.now))?;
            }
            22..=39 => {
                let t = self.now + 1 + self.rng.below(2_000);
                self.advance_to(t)?;
            }
            40..=47 => {
                // Land on a heartbeat deadline: the last instant the first replica to expire is alive
                // (lastUpdate + timeout), the first instant it is not, or 1 ms later.
                match self.c.liveness().next_expiry() {
                    Some(e) => {
                        let t = (e - 1 + self.rng.below(3)).max(self.now);
                        self.advance_to(t)?;
                    }
                    None => {
                        let t = self.now + 1 + self.rng.below(1_000);
                        self.advance_to(t)?;
                    }
                }
            }
            48..=51 => self.fault_crash()?,
            52..=55 => self.fault_hang()?,
            56..=58 => self.fault_pause()?,
            59..=61 => self.fault_restart_broker()?,
            62..=64 => self.fault_stale_alter()?,
            65..=67 => self.admin_designate()?,
            68..=72 => self.admin_clean()?,
            73..=75 => self.admin_config()?,
            76 => self.fault_new_replica()?,
            77 => self.fault_decommission()?,
            78..=79 => {
                let graceful = self.rng.chance(50);
                self.restart_controller(graceful)?;
            }
            80..=83 => self.fault_master_crash()?,
            _ => {
                // Let the pending appends complete with time standing still.
            }
        }
        self.drain()?;
        self.end_of_step()
    }

    /// The earliest timer: a broker's, or the controller's next deadline.
    pub(super) fn next_timer(&self) -> Option<Millis> {
        let mut t = self.c.next_deadline();
        let mut take = |x: Option<Millis>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for b in &self.brokers {
            match b.proc {
                Proc::Down { restart_at } => take(restart_at),
                Proc::Hung { resume_at, .. } => take(resume_at),
                Proc::Up => {
                    take(b.startup_at);
                    take(b.next_hb);
                    take(b.next_poll);
                    take(b.next_check);
                }
            }
        }
        t
    }

    /// Moves time to `target`, firing every timer due on the way at its exact instant.
    pub(super) fn advance_to(&mut self, target: Millis) -> Result<(), String> {
        let mut guard = 0;
        while let Some(t) = self.next_timer().filter(|t| *t <= target) {
            self.now = self.now.max(t);
            self.fire_due()?;
            self.drain()?;
            guard += 1;
            if guard > 100_000 {
                return self.fail("the timers do not advance".into());
            }
        }
        if target > self.now {
            self.now = target;
            self.inbox.push_back(Input::Tick);
            self.drain()?;
        }
        Ok(())
    }

    pub(super) fn fire_due(&mut self) -> Result<(), String> {
        let tick_first = self.rng.chance(50);
        let due = self.c.next_deadline().is_some_and(|d| d <= self.now);
        if due && tick_first {
            self.inbox.push_back(Input::Tick);
        }
        for b in 0..self.brokers.len() {
            self.fire_broker(b)?;
        }
        if due && !tick_first {
            self.inbox.push_back(Input::Tick);
        }
        Ok(())
    }

    pub(super) fn fire_broker(&mut self, b: usize) -> Result<(), String> {
        let now = self.now;
        match self.brokers[b].proc {
            Proc::Down { restart_at } => {
                if restart_at.is_some_and(|t| t <= now) {
                    self.restart_broker(b);
                }
                return Ok(());
            }
            Proc::Hung { resume_at, .. } => {
                if resume_at.is_some_and(|t| t <= now) {
                    self.resume_broker(b);
                } else {
                    return Ok(());
                }
            }
            Proc::Up => {}
        }
        if self.brokers[b].startup_at.is_some_and(|t| t <= now) {
            self.brokers[b].startup_at = None;
            self.startup(b);
        }
        if self.brokers[b].next_hb.is_some_and(|t| t <= now) {
            if self.brokers[b].stage == Stage::Running {
                self.heartbeat(b);
                let next = now + 980 + self.rng.below(41);
                self.brokers[b].next_hb = Some(next);
            } else {
                self.brokers[b].next_hb = None;
            }
        }
        if self.brokers[b].next_poll.is_some_and(|t| t <= now) {
            if self.brokers[b].stage == Stage::Running {
                self.brokers[b].next_poll = Some(now + 5_000);
                self.poll(b);
            } else {
                self.brokers[b].next_poll = None;
            }
        }
        if self.brokers[b].next_check.is_some_and(|t| t <= now) {
            if self.brokers[b].stage == Stage::Running && self.brokers[b].is_master() {
                self.brokers[b].next_check = Some(now + 5_000);
                self.master_check(b, false);
            } else {
                self.brokers[b].next_check = None;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ feeding the controller

    /// Feeds queued inputs, then completes the writes due at this step, until nothing is left.
    pub(super) fn drain(&mut self) -> Result<(), String> {
        loop {
            while let Some(input) = self.inbox.pop_front() {
                self.feed(input)?;
            }
            let Some(i) = self.writes.iter().position(|w| w.due <= self.step_no) else {
                return Ok(());
            };
            let w = self.writes.remove(i);
            let fail = w.events.is_some() && self.rng.below(400) == 0
                || w.config.is_some() && self.rng.below(30) == 0;
            self.complete(w, !fail)?;
        }
    }

    pub(super) fn feed(&mut self, input: Input) -> Result<(), String> {
        let line = match &input {
            Input::Request { conn, cmd } => format!("{} > c{conn} {}", self.now, fmt_cmd(cmd)),
            other => format!("{} > {other:?}", self.now),
        };
        self.log(line);
        let full = matches!(input, Input::Appended { .. });
        let effects = self.c.step(self.now, input);
        self.out.inputs += 1;
        self.check(full)?;
        for e in effects {
            self.effect(e)?;
        }
        Ok(())
    }

    /// Invariants after every input.
    pub(super) fn check(&mut self, full: bool) -> Result<(), String> {
        // 1. The controller's own.
        if let Err(e) = self.c.check_invariants(self.now) {
            return self.fail(format!("check_invariants: {e}"));
        }
        // 7/8. The applied state is the fold of exactly the completed appends (the whole
        // state is compared when an append completes and at the end of every step).
        if full && self.c.replicas() != &self.disk_state {
            return self.fail(format!(
                "the applied state differs from the fold of the completed appends:\n  applied {:?}\n  disk    {:?}",
                self.c.replicas(),
                self.disk_state
            ));
        }
        if self.c.applied() != self.disk.len() as u64 {
            return self.fail(format!(
                "applied {} events, the disk holds {}",
                self.c.applied(),
                self.disk.len()
            ));
        }
        // 3. Epochs never go down (4. the master is in its set: check_invariants and here).
        let t = self.now;
        for (name, set) in self.c.replicas().iter() {
            let now = (set.master_epoch, set.sync_state_set_epoch);
            match self.epochs.get_mut(name) {
                Some(last) => {
                    if now.0 < last.0 || now.1 < last.1 {
                        return Err(format!(
                            "t={t}ms: set {name}: epochs went from {last:?} to {now:?}"
                        ));
                    }
                    *last = now;
                }
                None => {
                    self.epochs.insert(name.clone(), now);
                }
            }
            if let Some(m) = set.master {
                if !set.sync_state_set.contains(&m) {
                    return self.fail(format!("set {name}: master {m} not in its SyncStateSet"));
                }
            }
        }
        if self.epochs.len() != self.c.replicas().len() {
            // A set wholly cleaned: its epochs start again.
            let r = self.c.replicas();
            self.epochs.retain(|n, _| r.get(n).is_some());
        }
        // Since when each replica has been alive (rebuilt only when the table's keys change).
        let same = self
            .c
            .liveness()
            .iter()
            .map(|(k, _)| (&k.cluster, &k.name, k.id))
            .eq(self.alive_since.keys().map(|(c, n, i)| (c, n, *i)));
        if !same {
            let live: BTreeSet<(String, String, BrokerId)> = self
                .c
                .liveness()
                .iter()
                .map(|(k, _)| (k.cluster.clone(), k.name.clone(), k.id))
                .collect();
            self.alive_since.retain(|k, _| live.contains(k));
            for k in live {
                self.alive_since.entry(k).or_insert(self.now);
            }
        }
        Ok(())
    }
}
