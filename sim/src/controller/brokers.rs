//! The brokers' side: requests they send (§10) and their lifecycle (start, restart, crash).

use super::*;

impl Sim {
    pub(super) fn conn_of(&mut self, b: usize) -> ConnId {
        if let Some(c) = self.brokers[b].conn {
            return c;
        }
        let c = self.new_conn();
        self.brokers[b].conn = Some(c);
        c
    }

    pub(super) fn new_conn(&mut self) -> ConnId {
        let c = self.next_conn;
        self.next_conn += 1;
        c
    }

    pub(super) fn request(
        &mut self,
        code: i32,
        ext: &[(&str, String)],
        body: Option<String>,
    ) -> RemotingCommand {
        self.opaque += 1;
        let mut cmd = RemotingCommand::request(code).with_opaque(self.opaque);
        for (k, v) in ext {
            cmd = cmd.with_ext(k, v.clone());
        }
        if let Some(b) = body {
            cmd = cmd.with_body(b.into_bytes());
        }
        cmd
    }

    /// Sends a two-way request from broker `b` (or from an admin connection).
    pub(super) fn send(
        &mut self,
        who: Option<usize>,
        conn: ConnId,
        cmd: RemotingCommand,
        kind: Kind,
    ) {
        let who = who.map(|b| (b, self.brokers[b].life));
        self.outstanding
            .insert((conn, cmd.opaque), Req { who, kind });
        self.inbox.push_back(Input::Request { conn, cmd });
    }

    pub(super) fn names(&self, b: usize) -> Vec<(&'static str, String)> {
        vec![
            ("clusterName", self.brokers[b].cluster.clone()),
            ("brokerName", self.brokers[b].name.clone()),
        ]
    }

    pub(super) fn startup(&mut self, b: usize) {
        let br = &self.brokers[b];
        if let Some(_id) = br.identity {
            self.send_register(b);
        } else if let Some((id, code)) = br.temp.clone() {
            self.send_apply(b, id, code, false);
        } else {
            self.brokers[b].stage = Stage::NextId;
            let conn = self.conn_of(b);
            let cmd = self.request(rq::CONTROLLER_GET_NEXT_BROKER_ID, &self.names(b), None);
            self.send(Some(b), conn, cmd, Kind::NextId);
        }
    }

    pub(super) fn retry_startup(&mut self, b: usize, after: Millis) {
        let br = &mut self.brokers[b];
        br.stage = Stage::Idle;
        br.startup_at = Some(self.now + after);
        br.next_hb = None;
        br.next_poll = None;
        br.next_check = None;
    }

    pub(super) fn send_apply(&mut self, b: usize, id: BrokerId, code: String, fresh: bool) {
        self.brokers[b].stage = Stage::Apply;
        let conn = self.conn_of(b);
        let name = self.brokers[b].name.clone();
        let mut ext = self.names(b);
        ext.push(("appliedBrokerId", id.to_string()));
        ext.push(("registerCheckCode", code.clone()));
        let kind = Kind::Apply {
            name: name.clone(),
            id,
            code: code.clone(),
        };
        // A racing replica claims the same id with another check code, before or after.
        let race = fresh && self.rng.chance(10);
        let race_first = self.rng.chance(50);
        if race && race_first {
            self.ghost_apply(b, id);
        }
        let cmd = self.request(rq::CONTROLLER_APPLY_BROKER_ID, &ext, None);
        self.send(Some(b), conn, cmd, kind.clone());
        if self.rng.chance(12) {
            // The client retried (its first attempt timed out): the same check code again.
            let cmd = self.request(rq::CONTROLLER_APPLY_BROKER_ID, &ext, None);
            self.send(Some(b), conn, cmd, kind);
        }
        if race && !race_first {
            self.ghost_apply(b, id);
        }
    }

    pub(super) fn ghost_apply(&mut self, b: usize, id: BrokerId) {
        self.ghosts += 1;
        let (s, name) = (self.brokers[b].set, self.brokers[b].name.clone());
        let addr = format!("10.99.{s}.{}:30911", self.ghosts);
        let code = format!("{addr};{}", EPOCH_MILLIS + self.now);
        let mut ext = self.names(b);
        ext.push(("appliedBrokerId", id.to_string()));
        ext.push(("registerCheckCode", code.clone()));
        let conn = self.new_conn();
        let cmd = self.request(rq::CONTROLLER_APPLY_BROKER_ID, &ext, None);
        self.send(None, conn, cmd, Kind::Apply { name, id, code });
    }

    pub(super) fn send_register(&mut self, b: usize) {
        let Some(id) = self.brokers[b].identity else {
            return;
        };
        self.brokers[b].stage = Stage::Register;
        let conn = self.conn_of(b);
        let (name, addr) = (self.brokers[b].name.clone(), self.brokers[b].addr.clone());
        let mut ext = self.names(b);
        ext.push(("brokerId", id.to_string()));
        ext.push(("brokerAddress", addr.clone()));
        ext.push(("invokeTime", (EPOCH_MILLIS + self.now).to_string()));
        let cmd = self.request(rq::CONTROLLER_REGISTER_BROKER, &ext, None);
        self.send(Some(b), conn, cmd, Kind::Register { name, id, addr });
    }

    pub(super) fn send_elect(&mut self, b: usize) {
        let Some(id) = self.brokers[b].identity else {
            return;
        };
        if self.brokers[b].stage != Stage::Running {
            self.brokers[b].stage = Stage::Elect;
        }
        self.brokers[b].electing = true;
        let conn = self.conn_of(b);
        let name = self.brokers[b].name.clone();
        let mut ext = self.names(b);
        ext.push(("brokerId", id.to_string()));
        ext.push(("designateElect", "false".into()));
        ext.push(("invokeTime", (EPOCH_MILLIS + self.now).to_string()));
        let cmd = self.request(rq::CONTROLLER_ELECT_MASTER, &ext, None);
        self.send(
            Some(b),
            conn,
            cmd,
            Kind::Elect {
                name,
                id,
                designate: false,
            },
        );
    }

    pub(super) fn heartbeat(&mut self, b: usize) {
        let Some(id) = self.brokers[b].identity else {
            return;
        };
        // The commit log grows on a master; a slave copies its master's.
        if self.brokers[b].is_master() {
            self.brokers[b].max_offset += self.rng.below(1_000) as i64;
        } else if let Some(m) = self.brokers[b].master {
            let (set, epoch) = (self.brokers[b].set, self.brokers[b].master_epoch);
            let master = self.brokers.iter().find(|o| {
                o.set == set
                    && o.identity == Some(m)
                    && o.proc == Proc::Up
                    && o.is_master()
                    && o.master_epoch == epoch
            });
            if let Some(mo) = master.map(|o| o.max_offset) {
                let gap = (mo - self.brokers[b].max_offset).max(0);
                self.brokers[b].max_offset += gap.min(1_500);
            }
        }
        let conn = self.conn_of(b);
        let br = &self.brokers[b];
        let ext = [
            ("clusterName", br.cluster.clone()),
            ("brokerName", br.name.clone()),
            ("brokerAddr", br.addr.clone()),
            ("brokerId", id.to_string()),
            ("epoch", br.stored_epoch.to_string()),
            ("maxOffset", br.max_offset.to_string()),
            ("confirmOffset", br.max_offset.to_string()),
            ("heartbeatTimeoutMills", br.timeout.to_string()),
            ("electionPriority", br.priority.to_string()),
        ];
        let mut cmd = self.request(rq::BROKER_HEARTBEAT, &ext, None);
        cmd.flag = flag::ONEWAY;
        self.brokers[b].last_hb = self.now;
        self.inbox.push_back(Input::Request { conn, cmd });
    }

    pub(super) fn poll(&mut self, b: usize) {
        if self.brokers[b].polling {
            return;
        }
        self.brokers[b].polling = true;
        let conn = self.conn_of(b);
        let name = self.brokers[b].name.clone();
        let cmd = self.request(
            rq::CONTROLLER_GET_REPLICA_INFO,
            &[("brokerName", name.clone())],
            None,
        );
        self.send(Some(b), conn, cmd, Kind::Poll { name });
    }

    /// The master's SyncStateSet check: itself and the slaves that caught up with it.
    pub(super) fn master_check(&mut self, b: usize, sloppy: bool) {
        let br = &self.brokers[b];
        let Some(me) = br.identity else { return };
        if br.altering || !br.is_master() {
            return;
        }
        let mut want = BTreeSet::from([me]);
        for o in &self.brokers {
            let following = o.set == br.set
                && o.identity.is_some()
                && o.identity != Some(me)
                && o.stage == Stage::Running
                && o.master == Some(me)
                && o.master_epoch == br.master_epoch
                && o.max_offset + CATCH_UP >= br.max_offset;
            let connected = match o.proc {
                Proc::Up => true,
                Proc::Hung { since, .. } => self.now < since + SLAVE_SILENCE,
                Proc::Down { .. } => false,
            };
            if following && connected {
                want.extend(o.identity);
            }
        }
        if sloppy {
            // Stale knowledge: a replica it still believes in.
            let others: Vec<BrokerId> = self
                .brokers
                .iter()
                .filter(|o| o.set == br.set)
                .filter_map(|o| o.identity)
                .collect();
            if !others.is_empty() {
                want.insert(others[self.rng.below(others.len() as u64) as usize]);
            }
        }
        if want == self.brokers[b].ss {
            return;
        }
        let (epoch, ss_epoch) = (self.brokers[b].master_epoch, self.brokers[b].ss_epoch);
        self.send_alter(b, me, epoch, ss_epoch, want);
    }

    pub(super) fn send_alter(
        &mut self,
        b: usize,
        me: BrokerId,
        epoch: i32,
        ss_epoch: i32,
        set: BTreeSet<BrokerId>,
    ) {
        self.brokers[b].altering = true;
        let conn = self.conn_of(b);
        let name = self.brokers[b].name.clone();
        let ext = [
            ("brokerName", name.clone()),
            ("masterBrokerId", me.to_string()),
            ("masterEpoch", epoch.to_string()),
            ("invokeTime", (EPOCH_MILLIS + self.now).to_string()),
        ];
        let body = sync_state_set_body(&set, ss_epoch);
        let cmd = self.request(rq::CONTROLLER_ALTER_SYNC_STATE_SET, &ext, Some(body));
        self.send(
            Some(b),
            conn,
            cmd,
            Kind::Alter {
                name,
                id: me,
                master_epoch: epoch,
                ss_epoch,
                set,
            },
        );
    }

    /// The role switch of §10.4, only for a higher masterEpoch.
    pub(super) fn adopt(
        &mut self,
        b: usize,
        m: BrokerId,
        e: i32,
        se: i32,
        set: BTreeSet<BrokerId>,
    ) -> Result<(), String> {
        if e <= self.brokers[b].master_epoch {
            return Ok(());
        }
        let name = self.brokers[b].name.clone();
        self.check_history(&name, m, e, "a role the broker adopted")?;
        let now = self.now;
        let check_in = self.rng.below(5_000);
        let br = &mut self.brokers[b];
        br.master_epoch = e;
        br.master = Some(m);
        br.stored_epoch = e;
        if br.identity == Some(m) {
            br.ss = set.clone();
            br.ss_epoch = se;
            br.was_master = Some((e, se, set));
            if br.stage == Stage::Running {
                br.next_check = Some(now + check_in);
            }
        } else {
            br.ss.clear();
            br.next_check = None;
        }
        Ok(())
    }

    pub(super) fn running(&mut self, b: usize) {
        let now = self.now;
        let br = &mut self.brokers[b];
        br.stage = Stage::Running;
        br.next_hb = Some(now + 1_000);
        br.next_poll = Some(now + 3_000);
        br.next_check = br.is_master().then_some(now + 3_000);
    }

    pub(super) fn restart_broker(&mut self, b: usize) {
        let line = format!("{} broker {} restarts", self.now, self.brokers[b].addr);
        let new_addr = self.rng.chance(20);
        let truncated = self.rng.chance(30);
        let br = &mut self.brokers[b];
        br.proc = Proc::Up;
        br.life += 1;
        br.conn = None;
        if new_addr {
            br.incarnation += 1;
            br.addr = format!(
                "10.0.{}.{}:{}",
                br.set,
                br.slot,
                30911 + 10 * br.incarnation
            );
        }
        if truncated {
            br.stored_epoch = -1;
        }
        br.master_epoch = 0;
        br.master = None;
        br.ss.clear();
        br.ss_epoch = 0;
        br.stage = Stage::Idle;
        br.startup_at = Some(self.now);
        br.next_hb = None;
        br.next_poll = None;
        br.next_check = None;
        br.polling = false;
        br.altering = false;
        br.electing = false;
        self.log(line);
    }

    pub(super) fn resume_broker(&mut self, b: usize) {
        let line = format!("{} broker {} resumes", self.now, self.brokers[b].addr);
        self.log(line);
        let now = self.now;
        let br = &mut self.brokers[b];
        br.proc = Proc::Up;
        br.life += 1;
        br.polling = false;
        br.altering = false;
        br.electing = false;
        if br.stage == Stage::Running {
            // Everything overdue fires now: the stale 1001 check first.
            br.next_hb = Some(now);
            br.next_poll = Some(now);
            br.next_check = br.is_master().then_some(now);
        } else {
            br.stage = Stage::Idle;
            br.startup_at = Some(now);
        }
    }

    pub(super) fn crash_broker(&mut self, b: usize, restart_after: Option<Millis>) {
        self.out.broker_crashes += 1;
        let line = format!("{} broker {} crashes", self.now, self.brokers[b].addr);
        self.log(line);
        if let Some(conn) = self.brokers[b].conn.take() {
            self.inbox.push_back(Input::Closed { conn });
        }
        let now = self.now;
        let br = &mut self.brokers[b];
        br.proc = Proc::Down {
            restart_at: restart_after.map(|d| now + d),
        };
        br.life += 1;
        br.stage = Stage::Idle;
        br.startup_at = None;
        br.next_hb = None;
        br.next_poll = None;
        br.next_check = None;
    }

    // ------------------------------------------------------------------ faults

    pub(super) fn pick(&mut self, pred: impl Fn(&Broker) -> bool) -> Option<usize> {
        let c: Vec<usize> = (0..self.brokers.len())
            .filter(|b| pred(&self.brokers[*b]))
            .collect();
        if c.is_empty() {
            None
        } else {
            Some(c[self.rng.below(c.len() as u64) as usize])
        }
    }

    pub(super) fn restart_delay(&mut self) -> Option<Millis> {
        (!self.rng.chance(20)).then(|| 1_000 + self.rng.below(20_000))
    }
}
