//! The `null-server` mode: a server that answers every request with one precomputed route
//! (the floor the generator and the kernel cost).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use namesrv_core::codec::encode_to_bytes;
use namesrv_core::protocol::{flag, SerializeType};
use namesrv_tests::harness::Harness;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::{resolve, Opts};
use crate::conn::{bench_topics, expect_success, find, peek_frame, route_request, setup_reg};
use crate::register::java_command;

// --- null server ------------------------------------------------------------------------------------------

/// The precomputed reply: the JSON header cut around its opaque, the binary header with the
/// opaque at a fixed offset, and the route body.
struct NullReply {
    json_prefix: Vec<u8>,
    json_suffix: Vec<u8>,
    binary: Vec<u8>,
    body: Vec<u8>,
}

impl NullReply {
    /// What our server answers to GET_ROUTEINFO_BY_TOPIC for a topic of the setup broker,
    /// computed once by the core state machine.
    fn build() -> Result<Self, String> {
        let topics = bench_topics(1);
        let mut h = Harness::new();
        let reg = h.call(1, java_command(&setup_reg(&topics)));
        expect_success(&reg, "null-server: building the reply")?;
        let mut reply = h.call(1, route_request(&topics[0]));
        expect_success(&reply, "null-server: building the reply")?;
        reply.opaque = 0;
        reply.serialize_type = SerializeType::Json;
        let frame = encode_to_bytes(&reply).map_err(|e| format!("null-server: {e}"))?;
        let header_len =
            (u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) & 0x00FF_FFFF) as usize;
        let header = &frame[8..8 + header_len];
        let at = find(header, b"\"opaque\":0").ok_or("null-server: reply has no opaque")?
            + "\"opaque\":".len();
        let json_prefix = header[..at].to_vec();
        let json_suffix = header[at + 1..].to_vec();
        let body = frame[8 + header_len..].to_vec();
        reply.serialize_type = SerializeType::RocketMq;
        let binary = encode_to_bytes(&reply)
            .map_err(|e| format!("null-server: {e}"))?
            .to_vec();
        Ok(Self {
            json_prefix,
            json_suffix,
            binary,
            body,
        })
    }

    fn write(&self, serialize: SerializeType, opaque: i32, out: &mut Vec<u8>) {
        match serialize {
            SerializeType::Json => {
                let mut digits = [0u8; 11];
                let mut n = 0;
                let mut x = i64::from(opaque).unsigned_abs();
                loop {
                    digits[10 - n] = b'0' + (x % 10) as u8;
                    n += 1;
                    x /= 10;
                    if x == 0 {
                        break;
                    }
                }
                if opaque < 0 {
                    digits[10 - n] = b'-';
                    n += 1;
                }
                let digits = &digits[11 - n..];
                let header_len = self.json_prefix.len() + digits.len() + self.json_suffix.len();
                let total = 4 + header_len + self.body.len();
                out.extend_from_slice(&(total as u32).to_be_bytes());
                out.extend_from_slice(&(header_len as u32).to_be_bytes());
                out.extend_from_slice(&self.json_prefix);
                out.extend_from_slice(digits);
                out.extend_from_slice(&self.json_suffix);
                out.extend_from_slice(&self.body);
            }
            SerializeType::RocketMq => {
                let at = out.len() + 8 + 5;
                out.extend_from_slice(&self.binary);
                out[at..at + 4].copy_from_slice(&opaque.to_be_bytes());
            }
        }
    }
}

pub(crate) fn null_server_mode(o: &Opts) -> Result<(), String> {
    o.allow(&["listen", "threads"])?;
    let listen = resolve(o.req("listen")?)?;
    let threads = o.positive(
        "threads",
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    )?;
    let reply = Arc::new(NullReply::build()?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!("null-server listening on {local}");
        let _ = std::io::stdout().flush();
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(null_conn(stream, reply.clone()));
                }
                Err(e) => {
                    eprintln!("null-server: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

/// Reads, answers every whole frame in the buffer, writes all the answers at once.
async fn null_conn(mut s: tokio::net::TcpStream, reply: Arc<NullReply>) {
    let mut inb = BytesMut::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        if inb.capacity() - inb.len() < 4096 {
            inb.reserve(64 * 1024);
        }
        match s.read_buf(&mut inb).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            match peek_frame(&mut inb) {
                Ok(Some(h)) => {
                    if h.flag & flag::ONEWAY == 0 {
                        reply.write(h.serialize, h.opaque, &mut out);
                    }
                    inb.advance(h.len);
                }
                Ok(None) => break,
                Err(_) => return, // broken stream: close, as Apache does
            }
        }
        if !out.is_empty() {
            if s.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}
