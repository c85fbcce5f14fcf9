//! Replies, as a broker (or the admin) takes them, each checked against what the controller could have said.

use super::*;

impl Sim {
    pub(super) fn on_reply(&mut self, conn: ConnId, cmd: RemotingCommand) -> Result<(), String> {
        if !cmd.is_response() {
            return self.fail(format!(
                "a reply without the response flag: {}",
                fmt_cmd(&cmd)
            ));
        }
        let Some(req) = self.outstanding.remove(&(conn, cmd.opaque)) else {
            return self.fail(format!(
                "a reply on c{conn} to no outstanding request: {}",
                fmt_cmd(&cmd)
            ));
        };
        let ok = cmd.code == rs::SUCCESS;
        // Whether the broker that asked still waits for this answer.
        let waiting = req.who.and_then(|(b, life)| {
            let br = &self.brokers[b];
            (br.life == life && br.conn == Some(conn) && br.proc == Proc::Up).then_some(b)
        });
        match req.kind {
            Kind::NextId => {
                let Some(b) = waiting else { return Ok(()) };
                if self.brokers[b].stage != Stage::NextId {
                    return Ok(());
                }
                match ext_i64(&cmd, "nextBrokerId").filter(|_| ok) {
                    Some(id) => {
                        let code = format!("{};{}", self.brokers[b].addr, EPOCH_MILLIS + self.now);
                        self.brokers[b].temp = Some((id, code.clone()));
                        self.send_apply(b, id, code, true);
                    }
                    None => self.retry_startup(b, 1_000),
                }
                Ok(())
            }
            Kind::Apply { name, id, code } => {
                if ok {
                    // 6. One check code per (set, id) until that id is cleaned.
                    match self.codes.get(&(name.clone(), id)) {
                        Some(c) if *c != code => {
                            return self.fail(format!(
                                "{name}/{id} was granted to check code {c} and now to {code}"
                            ));
                        }
                        Some(_) => self.out.same_code_retries += 1,
                        None => {
                            self.codes.insert((name.clone(), id), code.clone());
                        }
                    }
                    // 7. Only once the ApplyBrokerId is durable.
                    let durable = self
                        .disk_state
                        .get(&name)
                        .and_then(|s| s.replicas.get(&id))
                        .is_some_and(|r| r.register_check_code == code);
                    if !durable {
                        return self.fail(format!(
                            "1013 {name}/{id} ({code}) answered SUCCESS before its event was durable"
                        ));
                    }
                } else if cmd.code == rs::CONTROLLER_BROKER_ID_INVALID {
                    self.out.id_conflicts += 1;
                }
                let Some(b) = waiting else { return Ok(()) };
                if self.brokers[b].stage != Stage::Apply
                    || self.brokers[b].temp.as_ref() != Some(&(id, code))
                {
                    return Ok(());
                }
                if ok {
                    self.brokers[b].identity = Some(id);
                    self.brokers[b].temp = None;
                    self.send_register(b);
                } else if cmd.code == rs::CONTROLLER_BROKER_ID_INVALID {
                    // Delete the temp file and start over.
                    self.brokers[b].temp = None;
                    let after = 200 + self.rng.below(1_000);
                    self.retry_startup(b, after);
                } else {
                    self.retry_startup(b, 1_000);
                }
                Ok(())
            }
            Kind::Register { name, id, addr } => {
                let master = ext_i64(&cmd, "masterBrokerId");
                let epoch = ext_i32(&cmd, "masterEpoch");
                let ss_epoch = ext_i32(&cmd, "syncStateSetEpoch");
                if ok {
                    let durable = self
                        .disk_state
                        .get(&name)
                        .and_then(|s| s.replicas.get(&id))
                        .is_some_and(|r| r.address == addr);
                    if !durable {
                        return self.fail(format!(
                            "1003 {name}/{id} from {addr} answered SUCCESS before its address was durable"
                        ));
                    }
                    if let (Some(m), Some(e)) = (master, epoch) {
                        self.check_history(&name, m, e, "a 1003 reply")?;
                    }
                }
                let Some(b) = waiting else { return Ok(()) };
                if self.brokers[b].stage != Stage::Register {
                    return Ok(());
                }
                if ok {
                    // One immediate round of heartbeats, then the role or an election.
                    self.heartbeat(b);
                    match (master, epoch, ss_epoch) {
                        (Some(m), Some(e), Some(se)) => {
                            let (set, _) = body_set(&cmd);
                            self.adopt(b, m, e, se, set)?;
                            self.running(b);
                        }
                        _ => self.send_elect(b),
                    }
                } else if cmd.code == rs::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED {
                    // Its id (or set) was cleaned: the operator deletes brokerIdentity.
                    let br = &mut self.brokers[b];
                    br.identity = None;
                    br.temp = None;
                    br.master = None;
                    br.master_epoch = 0;
                    let after = 1_000 + self.rng.below(2_000);
                    self.retry_startup(b, after);
                } else {
                    self.retry_startup(b, 1_000);
                }
                Ok(())
            }
            Kind::Elect {
                name,
                id,
                designate,
            } => {
                let m = ext_i64(&cmd, "masterBrokerId");
                let e = ext_i32(&cmd, "masterEpoch");
                let se = ext_i32(&cmd, "syncStateSetEpoch");
                if ok {
                    let (Some(m), Some(e)) = (m, e) else {
                        return self
                            .fail(format!("a 1002 SUCCESS without master: {}", fmt_cmd(&cmd)));
                    };
                    let set = self.disk_state.get(&name);
                    if set.map(|s| (s.master, s.master_epoch)) != Some((Some(m), e)) {
                        return self.fail(format!(
                            "1002 {name} answered master {m} epoch {e} before it was durable (disk: {:?})",
                            set.map(|s| (s.master, s.master_epoch))
                        ));
                    }
                    if designate && m != id {
                        return self.fail(format!(
                            "an admin designated {name}/{id} and the reply names {m}"
                        ));
                    }
                }
                if ok || cmd.code == rs::CONTROLLER_MASTER_STILL_EXIST {
                    if let (Some(m), Some(e)) = (m, e) {
                        self.check_history(&name, m, e, "a 1002 reply")?;
                    }
                }
                let Some(b) = waiting else { return Ok(()) };
                self.brokers[b].electing = false;
                let in_startup = self.brokers[b].stage == Stage::Elect;
                match (m, e, se) {
                    (Some(m), Some(e), Some(se))
                        if ok || cmd.code == rs::CONTROLLER_MASTER_STILL_EXIST =>
                    {
                        let set = if ok {
                            BTreeSet::from([m])
                        } else {
                            body_set(&cmd).0
                        };
                        self.adopt(b, m, e, se, set)?;
                        if in_startup {
                            self.running(b);
                        }
                    }
                    _ => {
                        if in_startup {
                            // The whole startup is retried every 5 s.
                            self.retry_startup(b, 5_000);
                        }
                    }
                }
                Ok(())
            }
            Kind::Alter {
                name,
                id,
                master_epoch,
                ss_epoch,
                set,
            } => {
                if ok {
                    self.out.alters_ok += 1;
                    let n = ext_i32(&cmd, "newSyncStateSetEpoch");
                    let d = self.disk_state.get(&name);
                    let good = d.is_some_and(|d| {
                        d.master == Some(id)
                            && d.master_epoch == master_epoch
                            && d.sync_state_set == set
                            && Some(d.sync_state_set_epoch) == n
                            && n == Some(ss_epoch + 1)
                    });
                    if !good {
                        return self.fail(format!(
                            "1001 {name} from {id} (masterEpoch {master_epoch}, ssEpoch {ss_epoch}, {set:?}) answered SUCCESS {:?}, the disk says {:?}",
                            n,
                            d.map(|d| (d.master, d.master_epoch, &d.sync_state_set, d.sync_state_set_epoch))
                        ));
                    }
                } else {
                    self.out.alters_refused += 1;
                    if cmd.ext("newSyncStateSetEpoch") != Some("0") && cmd.code != rs::SYSTEM_ERROR
                    {
                        return self.fail(format!(
                            "a 1001 refusal without newSyncStateSetEpoch 0: {}",
                            fmt_cmd(&cmd)
                        ));
                    }
                }
                let Some(b) = waiting else { return Ok(()) };
                self.brokers[b].altering = false;
                if ok {
                    let br = &mut self.brokers[b];
                    if br.is_master() && br.master_epoch == master_epoch {
                        br.ss = set.clone();
                        br.ss_epoch = ss_epoch + 1;
                        br.was_master = Some((master_epoch, ss_epoch + 1, set));
                    }
                }
                Ok(())
            }
            Kind::Poll { name } => {
                if ok {
                    // A read answered at once: it shows the applied state.
                    let Some(set) = self.c.replicas().get(&name) else {
                        return self
                            .fail(format!("1004 {name} answered SUCCESS for an unknown set"));
                    };
                    let m = ext_i64(&cmd, "masterBrokerId");
                    let e = ext_i32(&cmd, "masterEpoch");
                    let (body, body_epoch) = body_set(&cmd);
                    if m != set.master
                        || e != Some(set.master_epoch)
                        || body != set.sync_state_set
                        || body_epoch != set.sync_state_set_epoch
                    {
                        return self.fail(format!(
                            "1004 {name}: {} while the set is {:?}",
                            fmt_cmd(&cmd),
                            set
                        ));
                    }
                }
                let Some(b) = waiting else { return Ok(()) };
                self.brokers[b].polling = false;
                if self.brokers[b].stage != Stage::Running {
                    return Ok(());
                }
                if ok {
                    let m = ext_i64(&cmd, "masterBrokerId");
                    let e = ext_i32(&cmd, "masterEpoch").unwrap_or(0);
                    let (body, body_epoch) = body_set(&cmd);
                    let local = self.brokers[b].master_epoch;
                    if e > local {
                        match m {
                            Some(m) => self.adopt(b, m, e, body_epoch, body)?,
                            None => {
                                if !self.brokers[b].electing {
                                    self.send_elect(b);
                                }
                            }
                        }
                    } else if e == local
                        && self.brokers[b].is_master()
                        && body_epoch > self.brokers[b].ss_epoch
                    {
                        let br = &mut self.brokers[b];
                        br.ss = body.clone();
                        br.ss_epoch = body_epoch;
                        br.was_master = Some((e, body_epoch, body));
                    }
                } else if cmd.code == rs::CONTROLLER_BROKER_METADATA_NOT_EXIST {
                    // Register again (which will find its id gone).
                    self.retry_startup(b, 2_000);
                }
                Ok(())
            }
            Kind::Clean {
                name,
                live_at_send,
                ids,
                living,
            } => {
                if ok {
                    self.out.cleans_ok += 1;
                    if !living {
                        for (id, gen) in &live_at_send {
                            if self.gen(&name, *id) == *gen && self.c.is_alive(&name, *id, self.now)
                            {
                                return self
                                    .fail(format!("1011 cleaned {name}/{id}, alive all along"));
                            }
                        }
                    }
                    let d = self.disk_state.get(&name);
                    let gone = match d {
                        None => true,
                        Some(s) => {
                            !living
                                && !ids.is_empty()
                                && ids.iter().all(|i| !s.replicas.contains_key(i))
                        }
                    };
                    if !gone {
                        return self.fail(format!(
                            "1011 {name} {ids:?} answered SUCCESS before the clean was durable"
                        ));
                    }
                } else {
                    self.out.cleans_refused += 1;
                }
                Ok(())
            }
            Kind::Config { unclean, refused } => {
                if refused {
                    if cmd.code != rs::NO_PERMISSION {
                        return self.fail(format!("a blacklisted 1009 key answered {}", cmd.code));
                    }
                } else if ok {
                    if let Some(v) = unclean {
                        if self.c.config().enable_elect_unclean_master != v {
                            return self.fail(
                                "1009 answered SUCCESS before the setting took effect".into(),
                            );
                        }
                    }
                } else if cmd.code != rs::SYSTEM_ERROR {
                    return self.fail(format!("1009 answered {}", cmd.code));
                }
                Ok(())
            }
        }
    }

    /// A master named for an epoch must be the one that epoch's election chose.
    pub(super) fn check_history(
        &self,
        name: &str,
        m: BrokerId,
        e: i32,
        what: &str,
    ) -> Result<(), String> {
        match self.history.get(&(name.to_owned(), e)) {
            Some(Some(h)) if *h == m => Ok(()),
            other => self.fail(format!(
                "{what} names master {m} of {name} at epoch {e}; the log says {other:?}"
            )),
        }
    }

    // ------------------------------------------------------------------ brokers
}
