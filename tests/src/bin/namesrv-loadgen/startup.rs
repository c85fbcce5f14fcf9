//! The `startup` mode: how long a server takes from spawn to its first accepted connection and
//! first route reply.

use std::net::{SocketAddr, TcpStream as StdStream};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{resolve, Opts};
use crate::conn::{route_request, BlockingConn};

// --- start-up -------------------------------------------------------------------------------------------

pub(crate) fn startup_mode(o: &Opts) -> Result<(), String> {
    o.allow(&["addr", "cmd", "runs", "json"])?;
    let addr = resolve(o.req("addr")?)?;
    let cmd: Vec<&str> = o.req("cmd")?.split_whitespace().collect();
    let Some((program, args)) = cmd.split_first() else {
        return Err("--cmd is empty".into());
    };
    let runs = o.positive("runs", 10)?;
    if StdStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(format!("something already listens on {addr}"));
    }
    let (mut accepted, mut replied) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut child = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let result = first_reply(addr, t0);
        let _ = child.kill();
        let _ = child.wait();
        let (a, r) = result?;
        accepted.push(a);
        replied.push(r);
        // The port must be free again before the next run.
        let free_by = Instant::now() + Duration::from_secs(10);
        while StdStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            if Instant::now() > free_by {
                return Err(format!("{addr} still answers after the server was killed"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    accepted.sort();
    replied.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let median = |v: &[Duration]| v.get(v.len() / 2).map(ms).unwrap_or(0.0);
    let worst = |v: &[Duration]| v.last().map(ms).unwrap_or(0.0);
    if o.flag("json") {
        println!(
            "{}",
            json!({
                "mode": "startup",
                "addr": addr.to_string(),
                "command": o.req("cmd")?,
                "runs": runs,
                "first_accept_ms": {"median": median(&accepted), "max": worst(&accepted)},
                "first_reply_ms": {"median": median(&replied), "max": worst(&replied)},
            })
        );
    } else {
        println!(
            "start-up of `{}` ({runs} runs): first accepted connection median {:.1} ms, max {:.1} ms; first reply median {:.1} ms, max {:.1} ms",
            o.req("cmd")?,
            median(&accepted),
            worst(&accepted),
            median(&replied),
            worst(&replied)
        );
    }
    Ok(())
}

/// Connects every millisecond until `addr` accepts, then asks one route; the times from `t0`.
fn first_reply(addr: SocketAddr, t0: Instant) -> Result<(Duration, Duration), String> {
    let deadline = t0 + Duration::from_secs(30);
    loop {
        if let Ok(mut c) = BlockingConn::connect(addr, Duration::from_secs(5)) {
            let accepted = t0.elapsed();
            c.call(route_request("startup-probe"))?;
            return Ok((accepted, t0.elapsed()));
        }
        if Instant::now() > deadline {
            return Err(format!("nothing accepted on {addr} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
