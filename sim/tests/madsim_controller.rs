//! The real controller shell (`namesrv::controller`) under madsim's simulated network and
//! clock: one controller and two broker sets of 2-3 replicas that behave as controller-mode
//! brokers do (1012/1013/1003, heartbeats every second, 1002 when no master is known, a 1004
//! poll adopting higher epochs, NOTIFY_BROKER_ROLE_CHANGED on their remoting port, and the
//! master's 1001 taking the live replicas in sync). Faults: broker nodes killed (their
//! connections reset) and restarted with their stored id, links between a broker and the
//! controller clogged (only expiry notices), and the controller killed and restarted (its
//! event log replayed from disk).
//!
//! Checked: no two masters of a set at one masterEpoch, over everything any broker adopted
//! from a reply or a notification; after a controller restart the masterEpoch it answers is
//! at least what it answered before; and once every fault has healed, every set has a master
//! that all its replicas follow.
//!
//! Run: `RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target-madsim cargo test -p namesrv-sim
//! --test madsim_controller`; `MADSIM_TEST_NUM=N` runs N seeds, `MADSIM_TEST_SEED=S` one.
#![cfg(madsim)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use madsim::net::NetSim;
use madsim::runtime::Handle;
use namesrv::controller::{ControllerServer, Settings};
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::controller::ControllerConfig;
use namesrv_core::protocol::RemotingCommand;
use namesrv_sim::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep, timeout};

const CTRL: &str = "10.0.1.1:9878";
const CLUSTER: &str = "C";
const RUN_FOR_SECS: u64 = 90;

fn req(code: i32, ext: &[(&str, String)]) -> RemotingCommand {
    ext.iter()
        .fold(RemotingCommand::request(code), |c, (k, v)| {
            c.with_ext(k, v.clone())
        })
}

/// A connection to the controller with its read buffer.
struct Conn {
    s: TcpStream,
    buf: BytesMut,
    opaque: i32,
}

impl Conn {
    async fn open() -> Option<Self> {
        let addr: SocketAddr = CTRL.parse().ok()?;
        let s = timeout(Duration::from_secs(1), TcpStream::connect(addr))
            .await
            .ok()?
            .ok()?;
        Some(Self {
            s,
            buf: BytesMut::new(),
            opaque: 0,
        })
    }

    async fn send(&mut self, cmd: &RemotingCommand) -> Option<()> {
        let frame = encode_to_bytes(cmd).ok()?;
        self.s.write_all(&frame).await.ok()?;
        self.s.flush().await.ok()
    }

    async fn call(&mut self, mut cmd: RemotingCommand) -> Option<RemotingCommand> {
        self.opaque += 1;
        cmd.opaque = self.opaque;
        self.send(&cmd).await?;
        timeout(Duration::from_secs(2), async {
            loop {
                if let Ok(Some(r)) = decode_frame(&mut self.buf, DEFAULT_MAX_FRAME) {
                    if r.opaque == cmd.opaque {
                        return Some(r);
                    }
                    continue;
                }
                if self.s.read_buf(&mut self.buf).await.ok()? == 0 {
                    return None;
                }
            }
        })
        .await
        .ok()
        .flatten()
    }
}

/// What every broker adopted, shared by the simulated nodes.
#[derive(Default)]
struct Observed {
    /// (set, masterEpoch) → the master adopted at it (by anyone, from any source).
    masters: BTreeMap<(String, i32), i64>,
    violations: Vec<String>,
}

impl Observed {
    fn adopt(&mut self, set: &str, epoch: i32, master: i64, who: &str) {
        match self.masters.insert((set.to_owned(), epoch), master) {
            Some(m) if m != master => self.violations.push(format!(
                "{who}: set {set} at masterEpoch {epoch} has master {master}, and {m} was adopted at it before"
            )),
            _ => {}
        }
    }
}

/// A broker's durable store and its role, kept across its node's restarts.
#[derive(Default, Clone)]
struct Store {
    id: Option<i64>,
    master: Option<i64>,
    epoch: i32,
}

#[derive(Clone)]
struct Spec {
    set: String,
    addr: String,
}

fn ext_i64(cmd: &RemotingCommand, k: &str) -> Option<i64> {
    cmd.ext(k).and_then(|v| v.parse().ok())
}

/// Adopts the master a reply or notification names, if its masterEpoch is newer.
fn adopt(
    spec: &Spec,
    store: &Mutex<Store>,
    obs: &Mutex<Observed>,
    cmd: &RemotingCommand,
    src: &str,
) {
    let (Some(m), Some(e)) = (ext_i64(cmd, "masterBrokerId"), ext_i64(cmd, "masterEpoch")) else {
        return;
    };
    let Ok(e) = i32::try_from(e) else { return };
    let mut st = store.lock().unwrap();
    if e > st.epoch {
        st.epoch = e;
        st.master = Some(m);
        obs.lock()
            .unwrap()
            .adopt(&spec.set, e, m, &format!("{} via {src}", spec.addr));
    }
}

/// A controller-mode broker: registers (or re-registers with its stored id), heartbeats,
/// polls, elects when it knows no master, and as master keeps the live replicas in sync.
async fn broker(spec: Spec, store: Arc<Mutex<Store>>, obs: Arc<Mutex<Observed>>) {
    // Its remoting port: NOTIFY_BROKER_ROLE_CHANGED arrives here.
    if let Ok(listener) = TcpListener::bind(spec.addr.as_str()).await {
        let (spec2, store2, obs2) = (spec.clone(), store.clone(), obs.clone());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = BytesMut::new();
                while s.read_buf(&mut buf).await.is_ok_and(|n| n > 0) {}
                if let Ok(Some(cmd)) = decode_frame(&mut buf, DEFAULT_MAX_FRAME) {
                    if cmd.code == 1008 {
                        adopt(&spec2, &store2, &obs2, &cmd, "1008");
                    }
                }
            }
        });
    }
    let names = |s: &Spec| {
        vec![
            ("clusterName", CLUSTER.to_owned()),
            ("brokerName", s.set.clone()),
        ]
    };
    let mut tick: u64 = 0;
    'connect: loop {
        sleep(Duration::from_millis(300)).await;
        let Some(mut c) = Conn::open().await else {
            continue;
        };
        // Registration: an id from the store, or 1012 + 1013.
        let stored = store.lock().unwrap().id;
        let id = match stored {
            Some(id) => id,
            None => {
                let Some(next) = c.call(req(1012, &names(&spec))).await else {
                    continue;
                };
                let Some(id) = ext_i64(&next, "nextBrokerId") else {
                    continue;
                };
                let mut ext = names(&spec);
                ext.push(("appliedBrokerId", id.to_string()));
                ext.push(("registerCheckCode", format!("{};1", spec.addr)));
                match c.call(req(1013, &ext)).await {
                    Some(r) if r.code == 0 => {
                        store.lock().unwrap().id = Some(id);
                        id
                    }
                    _ => continue,
                }
            }
        };
        let mut ext = names(&spec);
        ext.push(("brokerId", id.to_string()));
        ext.push(("brokerAddress", spec.addr.clone()));
        match c.call(req(1003, &ext)).await {
            Some(r) if r.code == 0 => adopt(&spec, &store, &obs, &r, "1003"),
            _ => continue,
        }
        loop {
            tick += 1;
            let (epoch, master) = {
                let st = store.lock().unwrap();
                (st.epoch, st.master)
            };
            let mut hb = req(
                904,
                &[
                    ("clusterName", CLUSTER.to_owned()),
                    ("brokerName", spec.set.clone()),
                    ("brokerId", id.to_string()),
                    ("brokerAddr", spec.addr.clone()),
                    ("epoch", if epoch == 0 { -1 } else { epoch }.to_string()),
                    ("maxOffset", tick.to_string()),
                    ("heartbeatTimeoutMills", "3000".to_owned()),
                ],
            );
            hb.flag = 2;
            if c.send(&hb).await.is_none() {
                continue 'connect;
            }
            if master.is_none() || tick.is_multiple_of(2) {
                let Some(info) = c.call(req(1004, &[("brokerName", spec.set.clone())])).await
                else {
                    continue 'connect;
                };
                adopt(&spec, &store, &obs, &info, "1004");
                let known = store.lock().unwrap().master;
                if info.code == 0 && info.ext("masterBrokerId").is_none() || known.is_none() {
                    let mut ext = names(&spec);
                    ext.push(("brokerId", id.to_string()));
                    if let Some(r) = c.call(req(1002, &ext)).await {
                        if r.code == 0 || r.code == 2011 {
                            adopt(&spec, &store, &obs, &r, "1002");
                        }
                    }
                }
            }
            // As master: take the live replicas in sync (1006 says who is alive).
            let (epoch, master) = {
                let st = store.lock().unwrap();
                (st.epoch, st.master)
            };
            if master == Some(id) && tick.is_multiple_of(3) {
                let data = c
                    .call(req(1006, &[]).with_body(format!("[\"{}\"]", spec.set).into_bytes()))
                    .await;
                let info = c.call(req(1004, &[("brokerName", spec.set.clone())])).await;
                if let (Some(data), Some(info)) = (data, info) {
                    if let (Some(body), Some(ib)) = (data.body.as_ref(), info.body.as_ref()) {
                        let v = namesrv_core::codec::fastjson::parse(body).unwrap_or_default();
                        let set = &v["replicasInfoTable"][spec.set.as_str()];
                        let mut alive: Vec<i64> = Vec::new();
                        for list in ["inSyncReplicas", "notInSyncReplicas"] {
                            for r in set[list].as_array().into_iter().flatten() {
                                if r["alive"].as_bool() == Some(true) {
                                    alive.extend(r["brokerId"].as_i64());
                                }
                            }
                        }
                        alive.sort_unstable();
                        let (current, ss_epoch) =
                            namesrv_core::controller::wire::parse_sync_state_set(ib)
                                .unwrap_or_default();
                        let want: std::collections::BTreeSet<i64> = alive.into_iter().collect();
                        if want.contains(&id) && want != current {
                            let list: Vec<String> = want.iter().map(i64::to_string).collect();
                            let body = format!(
                                "{{\"syncStateSet\":[{}],\"syncStateSetEpoch\":{ss_epoch}}}",
                                list.join(",")
                            );
                            let alter = req(
                                1001,
                                &[
                                    ("brokerName", spec.set.clone()),
                                    ("masterBrokerId", id.to_string()),
                                    ("masterEpoch", epoch.to_string()),
                                ],
                            )
                            .with_body(body.into_bytes());
                            let _ = c.call(alter).await;
                        }
                    }
                }
            }
            sleep(Duration::from_secs(1)).await;
        }
    }
}

/// What the controller answers for a set: (masterBrokerId, masterEpoch).
async fn replica_info(set: &str) -> Option<(Option<i64>, i32)> {
    let mut c = Conn::open().await?;
    let r = c.call(req(1004, &[("brokerName", set.to_owned())])).await?;
    if r.code != 0 {
        return None;
    }
    let epoch = i32::try_from(ext_i64(&r, "masterEpoch")?).ok()?;
    Some((ext_i64(&r, "masterBrokerId"), epoch))
}

#[madsim::test]
async fn controller_and_brokers_under_faults() {
    let handle = Handle::current();
    let seed = handle.seed();
    let mut rng = Rng::new(seed);
    let dir =
        std::env::temp_dir().join(format!("namesrv-madsim-ctrl-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ctrl = handle
        .create_node()
        .name("ctrl")
        .ip("10.0.1.1".parse().unwrap())
        .init(move || {
            let dir = dir.clone();
            async move {
                let mut config = ControllerConfig::default();
                config
                    .set("controllerDLegerPeers", &format!("n0-{CTRL}"))
                    .unwrap();
                config.set("enableElectUncleanMaster", "true").unwrap();
                config.set("scanInactiveMasterInterval", "2000").unwrap();
                config.store_path = dir.display().to_string();
                let settings = Settings {
                    config,
                    persisted: Default::default(),
                };
                let server = ControllerServer::bind(settings, "0.0.0.0", None)
                    .await
                    .expect("the controller starts and replays its log");
                let (_keep, rx) = tokio::sync::watch::channel(false);
                server.run(rx).await;
            }
        })
        .build();

    let obs = Arc::new(Mutex::new(Observed::default()));
    let mut nodes = Vec::new();
    let mut stores = Vec::new();
    let mut specs = Vec::new();
    for s in 0..2 {
        for _ in 0..2 + rng.below(2) {
            let n = specs.len() + 1;
            let spec = Spec {
                set: format!("set-{s}"),
                addr: format!("10.0.2.{n}:10911"),
            };
            let store = Arc::new(Mutex::new(Store::default()));
            let (spec2, store2, obs2) = (spec.clone(), store.clone(), obs.clone());
            let node = handle
                .create_node()
                .name(format!("broker{n}"))
                .ip(format!("10.0.2.{n}").parse().unwrap())
                .init(move || broker(spec2.clone(), store2.clone(), obs2.clone()))
                .build();
            nodes.push(node);
            stores.push(store);
            specs.push(spec);
        }
    }
    let checker = handle
        .create_node()
        .name("checker")
        .ip("10.0.3.1".parse().unwrap())
        .build();
    let net = NetSim::current();
    let mut down: BTreeMap<usize, u64> = BTreeMap::new();
    let mut clogged: BTreeMap<usize, u64> = BTreeMap::new();
    let mut acknowledged: BTreeMap<String, i32> = BTreeMap::new();
    for t in 0..RUN_FOR_SECS {
        sleep(Duration::from_secs(1)).await;
        // Heal what is due.
        for (b, until) in down.clone() {
            if until == t {
                handle.restart(nodes[b].id());
                down.remove(&b);
            }
        }
        for (b, until) in clogged.clone() {
            if until == t {
                net.unclog_link(nodes[b].id(), ctrl.id());
                net.unclog_link(ctrl.id(), nodes[b].id());
                clogged.remove(&b);
            }
        }
        if t < RUN_FOR_SECS - 30 && t > 10 {
            let b = rng.below(nodes.len() as u64) as usize;
            match rng.below(20) {
                0 | 1 if !down.contains_key(&b) => {
                    handle.kill(nodes[b].id());
                    // The broker restarts with its store (its id kept); its role it learns again.
                    {
                        let mut st = stores[b].lock().unwrap();
                        st.master = None;
                        st.epoch = 0;
                    }
                    down.insert(b, t + 2 + rng.below(6));
                }
                2 if !clogged.contains_key(&b) => {
                    net.clog_link(nodes[b].id(), ctrl.id());
                    net.clog_link(ctrl.id(), nodes[b].id());
                    clogged.insert(b, t + 2 + rng.below(6));
                }
                3 if rng.chance(30) => {
                    // What the controller answers before a restart, it answers after it.
                    for s in 0..2 {
                        let set = format!("set-{s}");
                        let r = checker.spawn(async move { replica_info(&set).await });
                        if let Ok(Some((_, epoch))) = r.await {
                            acknowledged.insert(format!("set-{s}"), epoch);
                        }
                    }
                    handle.kill(ctrl.id());
                    handle.restart(ctrl.id());
                    sleep(Duration::from_millis(500)).await;
                    for (set, before) in acknowledged.clone() {
                        let s2 = set.clone();
                        let r = checker.spawn(async move { replica_info(&s2).await });
                        if let Ok(Some((_, after))) = r.await {
                            assert!(
                                after >= before,
                                "seed {seed}: set {set} at masterEpoch {after} after the controller restarted, {before} before"
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        let v = obs.lock().unwrap().violations.clone();
        assert!(v.is_empty(), "seed {seed}: {}", v.join("\n"));
    }
    let (masters, epochs) = {
        let o = obs.lock().unwrap();
        (
            o.masters.len(),
            o.masters.keys().map(|(_, e)| *e).max().unwrap_or(0),
        )
    };
    // Elections happened (the first ones at least, and the failovers the faults caused).
    assert!(
        masters >= 2,
        "seed {seed}: only {masters} (set, epoch) masters adopted"
    );
    if std::env::var("SIM_DEBUG").is_ok() {
        eprintln!("seed {seed}: {masters} masters adopted, highest masterEpoch {epochs}");
    }
    // Everything healed for 30 s: every set has a master that is up and that all of its
    // replicas follow.
    for s in 0..2 {
        let set = format!("set-{s}");
        let s2 = set.clone();
        let info = checker.spawn(async move { replica_info(&s2).await }).await;
        let Ok(Some((Some(master), epoch))) = info else {
            panic!("seed {seed}: set {set} has no master after every fault healed: {info:?}");
        };
        for (b, spec) in specs.iter().enumerate() {
            if spec.set != set {
                continue;
            }
            let st = stores[b].lock().unwrap().clone();
            assert_eq!(
                (st.master, st.epoch),
                (Some(master), epoch),
                "seed {seed}: {} follows {:?} at {}, the controller says {master} at {epoch}",
                spec.addr,
                st.master,
                st.epoch
            );
        }
    }
}
