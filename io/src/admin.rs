//! A small blocking client of the remoting protocol, for `nsadmin`.
//!
//! It speaks only the wire protocol (JSON headers, language JAVA, version 479, as a Java 5.3.3
//! client does), so it works against Apache's NameServer as well as ours, plain or over TLS.
//! Nothing it reads from the network can make it panic: every failure is a [`CallError`].

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::RemotingCommand;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};

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

/// How to reach a NameServer: plain TCP, or TLS.
#[derive(Clone, Debug, Default)]
pub enum Transport {
    #[default]
    Plain,
    Tls(Arc<ClientConfig>),
}

impl Transport {
    /// TLS, verifying the server's certificate against the PEM certificates in `trust` (a CA,
    /// or the server's own self-signed certificate); with `None`, not verifying it at all, as
    /// Java clients do by default (`tls.test.mode.enable=true`).
    pub fn tls(trust: Option<&[u8]>) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let config = match trust {
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|e| format!("trusted certificate: {e}"))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("trusted certificate: {e}"))?;
                }
                if roots.is_empty() {
                    return Err("trusted certificate: no PEM certificate in it".into());
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
                .with_no_client_auth(),
        };
        Ok(Transport::Tls(Arc::new(config)))
    }
}

/// Accepts any server certificate (the handshake signatures are still checked): encryption
/// without authentication of the server, for `--tls` without `--tlsTrustCert`.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A connection's byte stream, plain or TLS.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP (the handshake happens with the first write).
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// Connects to `addr` (`host:port`) over `transport`, trying each resolved address in turn.
/// Over TLS the server name checked is the host part of `addr`.
pub fn open_stream(
    addr: &str,
    timeout: Duration,
    transport: &Transport,
) -> Result<Stream, CallError> {
    let resolved: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| CallError::Unreachable(format!("{addr}: {e}")))?
        .collect();
    let mut last = format!("{addr}: resolves to no address");
    for sa in resolved {
        match TcpStream::connect_timeout(&sa, timeout) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return match transport {
                    Transport::Plain => Ok(Stream::Plain(tcp)),
                    Transport::Tls(config) => {
                        let host = addr
                            .rsplit_once(':')
                            .map_or(addr, |(h, _)| h)
                            .trim_start_matches('[')
                            .trim_end_matches(']');
                        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
                            CallError::Unreachable(format!("{addr}: server name: {e}"))
                        })?;
                        let conn = ClientConnection::new(config.clone(), name)
                            .map_err(|e| CallError::Unreachable(format!("{addr}: TLS: {e}")))?;
                        Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
                    }
                };
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(CallError::Unreachable(last))
}

impl Stream {
    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One connection to one NameServer.
pub struct AdminClient {
    addr: String,
    stream: Stream,
    buf: BytesMut,
    next_opaque: i32,
    timeout: Duration,
}

impl AdminClient {
    /// Connects to `addr` (`host:port`) in plain TCP, trying each resolved address within
    /// `timeout`.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Self, CallError> {
        Self::connect_with(addr, timeout, &Transport::Plain)
    }

    /// Connects to `addr` (`host:port`) over `transport`. The TLS handshake happens with the
    /// first call, within its timeout; the server name checked is the host part of `addr`.
    pub fn connect_with(
        addr: &str,
        timeout: Duration,
        transport: &Transport,
    ) -> Result<Self, CallError> {
        Ok(Self {
            addr: addr.to_owned(),
            stream: open_stream(addr, timeout, transport)?,
            buf: BytesMut::new(),
            next_opaque: 1,
            timeout,
        })
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
        // Both timeouts: over TLS the first write also reads the handshake.
        let tcp = self.stream.tcp();
        tcp.set_write_timeout(Some(self.timeout))
            .and_then(|()| tcp.set_read_timeout(Some(self.timeout)))
            .map_err(unreachable)?;
        self.stream
            .write_all(&frame)
            .and_then(|()| self.stream.flush())
            .map_err(unreachable)?;
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
                .tcp()
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

/// Connects to `addr` in plain TCP and makes one call.
pub fn call_once(
    addr: &str,
    cmd: RemotingCommand,
    timeout: Duration,
) -> Result<RemotingCommand, CallError> {
    call_once_with(addr, cmd, timeout, &Transport::Plain)
}

/// Connects to `addr` over `transport` and makes one call.
pub fn call_once_with(
    addr: &str,
    cmd: RemotingCommand,
    timeout: Duration,
    transport: &Transport,
) -> Result<RemotingCommand, CallError> {
    AdminClient::connect_with(addr, timeout, transport)?.call(cmd)
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
