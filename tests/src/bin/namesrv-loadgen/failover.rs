//! `failover`: how fast a controller replaces a broker set's master (issue 18's goals).
//!
//! Each round makes a fresh set of two replicas that speak the controller protocol as a
//! controller-mode broker does (1012 → 1013 → 1003, 904 heartbeats, 1002, the master's 1001
//! taking the slave in sync), each with a listening "remoting port", then loses the master:
//! - `close`: the master's controller connection closes (a SIGKILL): time from the close to
//!   NOTIFY_BROKER_ROLE_CHANGED arriving at the slave's port;
//! - `expiry`: the master stops heart-beating with its connection open (a hang): time from the
//!   master's deadline (its last heartbeat + `heartbeatTimeoutMills` + 1 ms) to the slave's
//!   notification.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::RemotingCommand;

use crate::cli::Opts;
use crate::stats::{fmt_ns, nanos, Hist};

struct Conn {
    s: TcpStream,
    buf: BytesMut,
    opaque: i32,
}

impl Conn {
    fn connect(addr: SocketAddr) -> Result<Self, String> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = s.set_nodelay(true);
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            s,
            buf: BytesMut::new(),
            opaque: 0,
        })
    }

    fn send(&mut self, cmd: &RemotingCommand) -> Result<(), String> {
        let bytes = encode_to_bytes(cmd).map_err(|e| e.to_string())?;
        self.s.write_all(&bytes).map_err(|e| e.to_string())
    }

    fn call(&mut self, mut cmd: RemotingCommand) -> Result<RemotingCommand, String> {
        self.opaque += 1;
        cmd.opaque = self.opaque;
        self.send(&cmd)?;
        loop {
            if let Some(r) =
                decode_frame(&mut self.buf, DEFAULT_MAX_FRAME).map_err(|e| e.to_string())?
            {
                if r.opaque == cmd.opaque {
                    return Ok(r);
                }
                continue;
            }
            let mut chunk = [0u8; 4096];
            let n = self.s.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("controller closed the connection".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn req(code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
    ext.iter()
        .fold(RemotingCommand::request(code), |c, (k, v)| {
            c.with_ext(k, *v)
        })
}

fn ok(r: &RemotingCommand, what: &str) -> Result<(), String> {
    if r.code == 0 {
        Ok(())
    } else {
        Err(format!("{what}: code {} {:?}", r.code, r.remark))
    }
}

struct Replica {
    conn: Conn,
    port: TcpListener,
    addr: String,
    id: String,
}

fn heartbeat(r: &mut Replica, name: &str, timeout_ms: u64) -> Result<Instant, String> {
    let mut hb = req(
        904,
        &[
            ("clusterName", "BenchCluster"),
            ("brokerName", name),
            ("brokerId", &r.id),
            ("brokerAddr", &r.addr),
            ("epoch", "1"),
            ("maxOffset", "0"),
            ("heartbeatTimeoutMills", &timeout_ms.to_string()),
        ],
    );
    hb.flag = 2;
    let at = Instant::now();
    r.conn.send(&hb)?;
    // The connection is served in order: once this is answered, the heartbeat is in.
    ok(&r.conn.call(req(1005, &[]))?, "1005")?;
    Ok(at)
}

fn join(ctrl: SocketAddr, name: &str) -> Result<Replica, String> {
    let port = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = format!(
        "127.0.0.1:{}",
        port.local_addr().map_err(|e| e.to_string())?.port()
    );
    let mut conn = Conn::connect(ctrl)?;
    let next = conn.call(req(
        1012,
        &[("clusterName", "BenchCluster"), ("brokerName", name)],
    ))?;
    ok(&next, "1012")?;
    let id = next.ext("nextBrokerId").unwrap_or("1").to_owned();
    let code = format!("{addr};1");
    let applied = conn.call(req(
        1013,
        &[
            ("clusterName", "BenchCluster"),
            ("brokerName", name),
            ("appliedBrokerId", &id),
            ("registerCheckCode", &code),
        ],
    ))?;
    ok(&applied, "1013")?;
    let reg = conn.call(req(
        1003,
        &[
            ("clusterName", "BenchCluster"),
            ("brokerName", name),
            ("brokerId", &id),
            ("brokerAddress", &addr),
        ],
    ))?;
    ok(&reg, "1003")?;
    port.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(Replica {
        conn,
        port,
        addr,
        id,
    })
}

/// Waits for a NOTIFY_BROKER_ROLE_CHANGED naming `master` at `port`; when it arrived.
fn await_notify(port: &TcpListener, master: &str, wait: Duration) -> Result<Instant, String> {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match port.accept() {
            Ok((mut s, _)) => {
                let at = Instant::now();
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                s.set_read_timeout(Some(Duration::from_secs(3)))
                    .map_err(|e| e.to_string())?;
                let mut bytes = Vec::new();
                let _ = s.read_to_end(&mut bytes);
                let mut buf = BytesMut::from(&bytes[..]);
                if let Ok(Some(cmd)) = decode_frame(&mut buf, DEFAULT_MAX_FRAME) {
                    if cmd.code == 1008 && cmd.ext("masterBrokerId") == Some(master) {
                        return Ok(at);
                    }
                }
            }
            Err(_) => std::thread::yield_now(),
        }
    }
    Err(format!(
        "no notification naming master {master} within {wait:?}"
    ))
}

/// A set of two with the first as master and the second in sync; both heart-beating.
fn set_up(
    ctrl: SocketAddr,
    name: &str,
    timeout_ms: u64,
) -> Result<(Replica, Replica, Instant), String> {
    let mut a = join(ctrl, name)?;
    heartbeat(&mut a, name, timeout_ms)?;
    let elected = a.conn.call(req(
        1002,
        &[
            ("clusterName", "BenchCluster"),
            ("brokerName", name),
            ("brokerId", &a.id),
        ],
    ))?;
    ok(&elected, "1002")?;
    let mut b = join(ctrl, name)?;
    heartbeat(&mut b, name, 60_000)?;
    let mut alter = req(
        1001,
        &[
            ("brokerName", name),
            ("masterBrokerId", &a.id),
            ("masterEpoch", elected.ext("masterEpoch").unwrap_or("1")),
        ],
    );
    let body = format!(
        "{{\"syncStateSet\":[{},{}],\"syncStateSetEpoch\":{}}}",
        a.id,
        b.id,
        elected.ext("syncStateSetEpoch").unwrap_or("1")
    );
    alter.body = Some(body.into_bytes().into());
    ok(&a.conn.call(alter)?, "1001")?;
    let last = heartbeat(&mut a, name, timeout_ms)?;
    // Drain the master's own first notification.
    let _ = await_notify(&a.port, &a.id, Duration::from_millis(200));
    Ok((a, b, last))
}

pub(crate) fn failover_mode(opts: &Opts) -> Result<(), String> {
    opts.allow(&["controller", "rounds", "timeout-ms", "json"])?;
    let ctrl: SocketAddr = opts
        .req("controller")?
        .parse()
        .map_err(|e| format!("--controller: {e}"))?;
    let rounds = opts.positive("rounds", 20)?;
    let timeout_ms: u64 = opts.num("timeout-ms", 1000)?;
    let tag = std::process::id();
    let (mut close, mut expiry) = (Hist::new(), Hist::new());
    for round in 0..rounds {
        let (a, b, _) = set_up(ctrl, &format!("fo-close-{tag}-{round}"), 60_000)?;
        let lost = Instant::now();
        drop(a);
        let at = await_notify(&b.port, &b.id, Duration::from_secs(5))?;
        close.record(nanos(at.saturating_duration_since(lost)));

        let (a, b, last) = set_up(ctrl, &format!("fo-hang-{tag}-{round}"), timeout_ms)?;
        let deadline = last + Duration::from_millis(timeout_ms + 1);
        let at = await_notify(&b.port, &b.id, Duration::from_millis(timeout_ms + 5000))?;
        expiry.record(nanos(at.saturating_duration_since(deadline)));
        drop(a);
    }
    let line = |what: &str, h: &Hist| {
        format!(
            "{what}: p50 {} p99 {} max {} ({rounds} rounds)",
            fmt_ns(h.quantile(0.5)),
            fmt_ns(h.quantile(0.99)),
            fmt_ns(h.quantile(1.0))
        )
    };
    if opts.flag("json") {
        println!(
            "{{\"rounds\":{rounds},\"close_p50_ns\":{},\"close_p99_ns\":{},\"close_max_ns\":{},\"expiry_p50_ns\":{},\"expiry_p99_ns\":{},\"expiry_max_ns\":{}}}",
            close.quantile(0.5),
            close.quantile(0.99),
            close.quantile(1.0),
            expiry.quantile(0.5),
            expiry.quantile(0.99),
            expiry.quantile(1.0)
        );
    } else {
        println!(
            "{}",
            line("master connection closed -> slave notified", &close)
        );
        println!(
            "{}",
            line("master heartbeat deadline -> slave notified", &expiry)
        );
    }
    Ok(())
}
