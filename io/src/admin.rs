//! A small blocking client of the remoting protocol, for `nsadmin`.
//!
//! It speaks only the wire protocol (JSON headers, language JAVA, version 479, as a Java 5.3.3
//! client does), so it works against Apache's NameServer as well as ours. Nothing it reads from
//! the network can make it panic: every failure is a [`CallError`].

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::RemotingCommand;

/// Why a call got no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No connection, or the connection failed or timed out before the reply.
    Unreachable(String),
    /// The peer answered with bytes that are not a remoting frame.
    Protocol(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Unreachable(e) => write!(f, "unreachable: {e}"),
            CallError::Protocol(e) => write!(f, "protocol error: {e}"),
        }
    }
}

impl std::error::Error for CallError {}

/// Splits a RocketMQ address list (`host:port;host:port`) into its addresses.
pub fn parse_addr_list(list: &str) -> Vec<String> {
    list.split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One connection to one NameServer.
pub struct AdminClient {
    addr: String,
    stream: TcpStream,
    buf: BytesMut,
    next_opaque: i32,
    timeout: Duration,
}

impl AdminClient {
    /// Connects to `addr` (`host:port`), trying each resolved address within `timeout`.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Self, CallError> {
        let resolved: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|e| CallError::Unreachable(format!("{addr}: {e}")))?
            .collect();
        let mut last = format!("{addr}: resolves to no address");
        for sa in resolved {
            match TcpStream::connect_timeout(&sa, timeout) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(Self {
                        addr: addr.to_owned(),
                        stream,
                        buf: BytesMut::new(),
                        next_opaque: 1,
                        timeout,
                    });
                }
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
        Err(CallError::Unreachable(last))
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends `cmd` and waits for the reply with its opaque, at most the client's timeout.
    pub fn call(&mut self, mut cmd: RemotingCommand) -> Result<RemotingCommand, CallError> {
        let unreachable = |e: std::io::Error| CallError::Unreachable(format!("{}: {e}", self.addr));
        cmd.opaque = self.next_opaque;
        self.next_opaque = self.next_opaque.wrapping_add(1);
        let frame = encode_to_bytes(&cmd).map_err(|e| CallError::Protocol(e.to_string()))?;
        let deadline = Instant::now() + self.timeout;
        self.stream
            .set_write_timeout(Some(self.timeout))
            .map_err(unreachable)?;
        self.stream.write_all(&frame).map_err(unreachable)?;
        loop {
            match decode_frame(&mut self.buf, DEFAULT_MAX_FRAME) {
                Ok(Some(reply)) if reply.is_response() && reply.opaque == cmd.opaque => {
                    return Ok(reply)
                }
                // A stray frame (another opaque, or a request from the peer): not ours.
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => {
                    return Err(CallError::Protocol(format!(
                        "{}: bad reply frame: {e}",
                        self.addr
                    )))
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CallError::Unreachable(format!(
                    "{}: no reply within {} ms",
                    self.addr,
                    self.timeout.as_millis()
                )));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| CallError::Unreachable(format!("{}: {e}", self.addr)))?;
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(CallError::Unreachable(format!(
                        "{}: connection closed before the reply",
                        self.addr
                    )))
                }
                Ok(n) => self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(CallError::Unreachable(format!(
                        "{}: no reply within {} ms",
                        self.addr,
                        self.timeout.as_millis()
                    )))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(CallError::Unreachable(format!("{}: {e}", self.addr)));
                }
            }
        }
    }
}

/// Connects to `addr` and makes one call.
pub fn call_once(
    addr: &str,
    cmd: RemotingCommand,
    timeout: Duration,
) -> Result<RemotingCommand, CallError> {
    AdminClient::connect(addr, timeout)?.call(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists() {
        assert_eq!(
            parse_addr_list(" 10.0.0.1:9876; 10.0.0.2:9876;;"),
            vec!["10.0.0.1:9876", "10.0.0.2:9876"]
        );
        assert!(parse_addr_list(" ; ").is_empty());
    }

    #[test]
    fn closed_port_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let r = call_once(
            &format!("127.0.0.1:{port}"),
            RemotingCommand::request(106),
            Duration::from_millis(500),
        );
        assert!(matches!(r, Err(CallError::Unreachable(_))), "{r:?}");
    }

    #[test]
    fn garbage_reply_is_a_protocol_error() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut b = [0u8; 256];
            let _ = s.read(&mut b);
            // total=2: below the 4 bytes a header-length word needs.
            let _ = s.write_all(&[0, 0, 0, 2, 0, 0]);
        });
        let r = call_once(
            &addr.to_string(),
            RemotingCommand::request(106),
            Duration::from_secs(5),
        );
        assert!(matches!(r, Err(CallError::Protocol(_))), "{r:?}");
        t.join().unwrap();
    }
}
