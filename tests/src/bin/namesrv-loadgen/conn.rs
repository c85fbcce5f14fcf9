//! Connections: pre-encoded request templates, header-only reply checks, the blocking client
//! for setup and checks, and the keeper of the setup broker.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use namesrv_core::codec::frame::decode_command;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::bodies::TopicRouteData;
use namesrv_core::protocol::{request, response, RemotingCommand, SerializeType};
use namesrv_tests::harness::{topic, Reg};

use crate::register::java_command;
use crate::{BENCH_BROKER, BENCH_BROKER_ADDR, BENCH_CLUSTER, OPAQUE_BASE};

// --- frames: pre-encoded requests, header-only reply checks ---------------------------------------

/// A pre-encoded JSON request whose opaque is ten ASCII digits at `opaque_at`.
#[derive(Clone)]
pub(crate) struct ReqTemplate {
    pub(crate) bytes: Vec<u8>,
    opaque_at: usize,
}

impl ReqTemplate {
    pub(crate) fn new(mut cmd: RemotingCommand) -> Result<Self, String> {
        cmd.opaque = OPAQUE_BASE as i32;
        cmd.serialize_type = SerializeType::Json;
        let bytes = encode_to_bytes(&cmd)
            .map_err(|e| format!("cannot encode request: {e}"))?
            .to_vec();
        let header_len =
            (u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) & 0x00FF_FFFF) as usize;
        let header = &bytes[8..8 + header_len];
        let pat = format!("\"opaque\":{OPAQUE_BASE}");
        let at =
            find(header, pat.as_bytes()).ok_or("encoded request has no opaque field to patch")?;
        Ok(Self {
            bytes,
            opaque_at: 8 + at + "\"opaque\":".len(),
        })
    }

    /// Writes opaque number `seq` into the frame; returns the opaque as sent.
    pub(crate) fn set_opaque(&mut self, seq: u32) -> i32 {
        let v = OPAQUE_BASE + seq % OPAQUE_BASE;
        let mut x = v;
        for k in (0..10).rev() {
            self.bytes[self.opaque_at + k] = b'0' + (x % 10) as u8;
            x /= 10;
        }
        v as i32
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(p) = hay[from..].iter().position(|&b| b == first) {
        let at = from + p;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The integer after `key` (e.g. `"opaque":`) in a JSON header.
fn json_int(header: &[u8], key: &[u8]) -> Option<i32> {
    let mut i = find(header, key)? + key.len();
    while header.get(i) == Some(&b' ') {
        i += 1;
    }
    let neg = header.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    let mut v: i64 = 0;
    let start = i;
    while let Some(d) = header.get(i).filter(|b| b.is_ascii_digit()) {
        v = v * 10 + i64::from(d - b'0');
        if v > i64::from(u32::MAX) {
            return None;
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    i32::try_from(if neg { -v } else { v }).ok()
}

/// What the generator and the null server need from a frame, read from its header only.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head {
    /// Bytes of the whole frame, length prefix included.
    pub(crate) len: usize,
    pub(crate) serialize: SerializeType,
    pub(crate) code: i32,
    pub(crate) opaque: i32,
    pub(crate) flag: i32,
}

/// The head of the first frame in `buf`, `Ok(None)` if it is not all there yet (and then room
/// for it is reserved). Errors mean the stream is broken.
pub(crate) fn peek_frame(buf: &mut BytesMut) -> Result<Option<Head>, String> {
    let Some(p) = buf.get(..8) else {
        return Ok(None);
    };
    let total = i32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    let word = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    if total < 4 || total as usize + 4 > DEFAULT_MAX_FRAME {
        return Err(format!("bad frame length {total}"));
    }
    let len = total as usize + 4;
    if buf.len() < len {
        buf.reserve(len - buf.len());
        return Ok(None);
    }
    let header_len = (word & 0x00FF_FFFF) as usize;
    if header_len > total as usize - 4 {
        return Err(format!(
            "header length {header_len} is longer than the frame ({total})"
        ));
    }
    let header = &buf[8..8 + header_len];
    let head = match word >> 24 {
        0 => match (
            json_int(header, b"\"code\":"),
            json_int(header, b"\"opaque\":"),
            json_int(header, b"\"flag\":"),
        ) {
            (Some(code), Some(opaque), Some(flag)) => Head {
                len,
                serialize: SerializeType::Json,
                code,
                opaque,
                flag,
            },
            // Unusual spelling (spaces, quoted numbers): decode it properly.
            _ => {
                let cmd = decode_command(Bytes::copy_from_slice(&buf[4..len]))
                    .map_err(|e| format!("bad frame: {e}"))?;
                Head {
                    len,
                    serialize: SerializeType::Json,
                    code: cmd.code,
                    opaque: cmd.opaque,
                    flag: cmd.flag,
                }
            }
        },
        1 if header_len >= 13 => Head {
            len,
            serialize: SerializeType::RocketMq,
            code: i32::from(i16::from_be_bytes([header[0], header[1]])),
            opaque: i32::from_be_bytes([header[5], header[6], header[7], header[8]]),
            flag: i32::from_be_bytes([header[9], header[10], header[11], header[12]]),
        },
        t => {
            return Err(format!(
                "bad frame: serialize type {t}, header length {header_len}"
            ))
        }
    };
    Ok(Some(head))
}

/// Checks a reply head; on a non-SUCCESS code, decodes the frame for its remark.
pub(crate) fn check_reply(head: &Head, buf: &[u8], opaque: i32, what: &str) -> Result<(), String> {
    if head.opaque != opaque {
        return Err(format!(
            "{what}: reply opaque {} does not match the request's {opaque}",
            head.opaque
        ));
    }
    if head.code != response::SUCCESS {
        let remark = decode_command(Bytes::copy_from_slice(&buf[4..head.len]))
            .ok()
            .and_then(|c| c.remark)
            .unwrap_or_default();
        return Err(format!("{what}: reply code {} {remark:?}", head.code));
    }
    Ok(())
}

pub(crate) fn route_request(topic: &str) -> RemotingCommand {
    RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic)
}

pub(crate) fn bench_topics(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("bench-topic-{i}")).collect()
}

/// The setup broker: heartbeat timeout of an hour, so long runs need no re-registration. It
/// also lists `bench-setup`, so a one-topic run is not refused by the single-topic guard
/// (a first registration of exactly one topic is taken for a racing incremental one).
pub(crate) fn setup_reg(topics: &[String]) -> Reg {
    let mut configs: Vec<_> = topics.iter().map(|t| topic(t)).collect();
    configs.push(topic("bench-setup"));
    // An HA address as brokers send it: rocketmq-namesrv refuses a registration without one.
    Reg::new(BENCH_CLUSTER, BENCH_BROKER_ADDR, BENCH_BROKER, 0)
        .ha("127.0.0.1:10912")
        .topic_configs(configs)
        .timeout(3_600_000)
}

// --- a blocking client for setup and checks ---------------------------------------------------------

pub(crate) struct BlockingConn {
    stream: StdStream,
    buf: BytesMut,
    next_opaque: i32,
    addr: SocketAddr,
}

impl BlockingConn {
    pub(crate) fn connect(addr: SocketAddr, timeout: Duration) -> Result<Self, String> {
        let stream = StdStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| format!("{addr}: {e}"))?;
        Ok(Self {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            next_opaque: 1,
            addr,
        })
    }

    pub(crate) fn call(&mut self, mut cmd: RemotingCommand) -> Result<RemotingCommand, String> {
        let addr = self.addr;
        cmd.opaque = self.next_opaque;
        self.next_opaque += 1;
        let frame = encode_to_bytes(&cmd).map_err(|e| format!("cannot encode: {e}"))?;
        self.stream
            .write_all(&frame)
            .map_err(|e| format!("{addr}: write: {e}"))?;
        loop {
            match decode_frame(&mut self.buf, DEFAULT_MAX_FRAME) {
                Ok(Some(reply)) if reply.opaque == cmd.opaque && reply.is_response() => {
                    return Ok(reply)
                }
                Ok(Some(_)) => continue, // not ours (a server-initiated request): skip
                Ok(None) => {}
                Err(e) => return Err(format!("{addr}: bad reply frame: {e}")),
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(format!("{addr}: server closed the connection")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("{addr}: no reply: {e}")),
            }
        }
    }
}

pub(crate) fn expect_success(reply: &RemotingCommand, what: &str) -> Result<(), String> {
    if reply.code == response::SUCCESS {
        Ok(())
    } else {
        Err(format!(
            "{what}: reply code {} {:?}",
            reply.code,
            reply.remark.as_deref().unwrap_or("")
        ))
    }
}

/// Registers the setup broker with `topics` and checks every topic has a route through it.
/// The connection is returned so the caller keeps it (and so the broker) for the run.
pub(crate) fn setup_route(addr: SocketAddr, topics: &[String]) -> Result<BlockingConn, String> {
    let mut c = BlockingConn::connect(addr, Duration::from_secs(10))?;
    let reply = c.call(java_command(&setup_reg(topics)))?;
    expect_success(&reply, &format!("setup: REGISTER_BROKER at {addr}"))?;
    for t in topics {
        let reply = c.call(route_request(t))?;
        expect_success(&reply, &format!("setup: route of {t} at {addr}"))?;
        let route = TopicRouteData::decode(reply.body.as_deref().unwrap_or_default())
            .map_err(|e| format!("setup: route of {t} at {addr} does not decode: {e:?}"))?;
        if !route
            .broker_datas
            .iter()
            .any(|b| b.broker_name == BENCH_BROKER)
        {
            return Err(format!(
                "setup: the route of {t} at {addr} does not list {BENCH_BROKER}"
            ));
        }
    }
    Ok(c)
}

/// Keeps the setup broker registered for the whole run: re-registers every 30 s on its
/// connection, as a broker does. A silent connection would be closed by the server after
/// `serverChannelMaxIdleTimeSeconds` (120 s by default), and the routes with it.
pub(crate) struct SetupKeeper {
    stop: Arc<std::sync::atomic::AtomicBool>,
    failed: Arc<std::sync::Mutex<Option<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SetupKeeper {
    pub(crate) fn start(mut conn: BlockingConn, topics: Vec<String>) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let failed = Arc::new(std::sync::Mutex::new(None));
        let (stop2, failed2) = (stop.clone(), failed.clone());
        let thread = std::thread::spawn(move || loop {
            for _ in 0..300 {
                if stop2.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let addr = conn.addr;
            let what = format!("setup broker re-registration at {addr}");
            let r = conn
                .call(java_command(&setup_reg(&topics)))
                .and_then(|reply| expect_success(&reply, &what));
            if let Err(e) = r {
                eprintln!("namesrv-loadgen: {e}");
                if let Ok(mut f) = failed2.lock() {
                    *f = Some(e);
                }
                return;
            }
        });
        Self {
            stop,
            failed,
            thread: Some(thread),
        }
    }

    /// An error once a re-registration failed (the routes may be gone).
    pub(crate) fn check(&self) -> Result<(), String> {
        match self.failed.lock().ok().and_then(|f| f.clone()) {
            Some(e) => Err(format!("the setup broker is no longer registered: {e}")),
            None => Ok(()),
        }
    }
}

impl Drop for SetupKeeper {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
