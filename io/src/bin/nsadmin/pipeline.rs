//! A pipelined connection to one NameServer, plain or TLS: many requests in flight on one
//! connection, replies matched by opaque (a NameServer may answer out of order). For
//! compareNamesrv, which asks each NameServer for the route of every topic.
//!
//! Blocking I/O, one thread per connection. The window bounds the requests in flight; requests
//! are small (a few hundred bytes), so a full window always fits in the socket buffers and
//! writing it cannot block on a peer that is busy writing replies we have not read yet.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv::admin::{open_stream, CallError, Stream, Transport};
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::RemotingCommand;

/// One connection; `timeout` bounds the connect and every wait for a reply.
pub struct Pipeline {
    addr: String,
    stream: Stream,
    buf: BytesMut,
    chunk: Vec<u8>,
    next_opaque: i32,
    timeout: Duration,
}

impl Pipeline {
    /// Connects to `addr` (`host:port`) over `transport`, trying each resolved address. Over
    /// TLS the handshake happens with the first write; the name checked is the host of `addr`.
    pub fn connect(
        addr: &str,
        timeout: Duration,
        transport: &Transport,
    ) -> Result<Self, CallError> {
        let stream = open_stream(addr, timeout, transport)?;
        let tcp = stream.tcp();
        tcp.set_write_timeout(Some(timeout))
            .and_then(|()| tcp.set_read_timeout(Some(timeout)))
            .map_err(|e| CallError::Unreachable(format!("{addr}: {e}")))?;
        Ok(Self {
            addr: addr.to_owned(),
            stream,
            buf: BytesMut::new(),
            chunk: vec![0; 64 * 1024],
            next_opaque: 1,
            timeout,
        })
    }

    /// Sends every request of `cmds`, at most `window` unanswered at a time, and hands each
    /// reply to `on_reply` with the index of its request (in the order the replies come).
    /// An error ends the run: the connection is then of no further use.
    pub fn run<I, F>(&mut self, cmds: I, window: usize, mut on_reply: F) -> Result<(), CallError>
    where
        I: IntoIterator<Item = RemotingCommand>,
        F: FnMut(usize, RemotingCommand),
    {
        let window = window.max(1);
        let mut cmds = cmds.into_iter().enumerate();
        let mut pending: HashMap<i32, usize> = HashMap::new();
        let mut out = BytesMut::new();
        loop {
            while pending.len() < window {
                let Some((i, mut cmd)) = cmds.next() else {
                    break;
                };
                cmd.opaque = self.next_opaque;
                self.next_opaque = self.next_opaque.wrapping_add(1);
                let frame =
                    encode_to_bytes(&cmd).map_err(|e| CallError::Protocol(e.to_string()))?;
                out.extend_from_slice(&frame);
                pending.insert(cmd.opaque, i);
            }
            if !out.is_empty() {
                self.stream
                    .write_all(&out)
                    .and_then(|()| self.stream.flush())
                    .map_err(|e| CallError::Unreachable(format!("{}: {e}", self.addr)))?;
                out.clear();
            }
            if pending.is_empty() {
                return Ok(());
            }
            // Wait for one reply, then take every other one already buffered.
            let mut wait = true;
            while let Some(reply) = self.next_frame(wait)? {
                wait = false;
                if !reply.is_response() {
                    continue; // a request from the peer: not ours
                }
                if let Some(i) = pending.remove(&reply.opaque) {
                    on_reply(i, reply);
                }
            }
        }
    }

    /// The next whole frame: from the buffer, else (when `wait`) read within the timeout.
    fn next_frame(&mut self, wait: bool) -> Result<Option<RemotingCommand>, CallError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match decode_frame(&mut self.buf, DEFAULT_MAX_FRAME) {
                Ok(Some(cmd)) => return Ok(Some(cmd)),
                Ok(None) if !wait => return Ok(None),
                Ok(None) => {}
                Err(e) => {
                    return Err(CallError::Protocol(format!(
                        "{}: bad reply frame: {e}",
                        self.addr
                    )))
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let no_reply = || {
                CallError::Unreachable(format!(
                    "{}: no reply within {} ms",
                    self.addr,
                    self.timeout.as_millis()
                ))
            };
            if left.is_zero() {
                return Err(no_reply());
            }
            self.stream
                .tcp()
                .set_read_timeout(Some(left))
                .map_err(|e| CallError::Unreachable(format!("{}: {e}", self.addr)))?;
            match self.stream.read(&mut self.chunk) {
                Ok(0) => {
                    return Err(CallError::Unreachable(format!(
                        "{}: connection closed before the reply",
                        self.addr
                    )))
                }
                Ok(n) => self
                    .buf
                    .extend_from_slice(self.chunk.get(..n).unwrap_or_default()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(no_reply())
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CallError::Unreachable(format!("{}: {e}", self.addr))),
            }
        }
    }
}
