//! TLS on the remoting port: rustls with the ring provider, Apache's three modes
//! (`tlsServerMode`), and the certificate reloaded when its files change.
//!
//! Every connection's first bytes are read before anything else: 0x16 starts a TLS handshake
//! record, anything else is a plain frame (whose first byte is the top byte of its length, and
//! 0x16 there would mean a frame of at least 352 MiB). What the mode allows is served on the
//! same port; what it does not is closed with a log line.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::{Buf, Bytes};
use namesrv_core::config::{NamesrvConfig, TlsMode};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

/// The first byte of a TLS record carrying a handshake message (the ClientHello).
pub const TLS_HANDSHAKE_BYTE: u8 = 0x16;

/// How often the certificate and key files are checked for changes.
pub const RELOAD_POLL: Duration = Duration::from_secs(2);

/// Longest a TLS handshake may take before the connection is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the port accepts, decided at start from `tlsServerMode` and the certificate paths.
pub enum Policy {
    /// Plain only. `why` says why a ClientHello is refused (for the log line).
    PlainOnly { why: &'static str },
    /// TLS or plain, by the first byte.
    Permissive(Arc<Certificate>),
    /// TLS only.
    Enforcing(Arc<Certificate>),
}

impl Policy {
    /// Reads the mode and loads the certificate. Errors stop start-up: a server told to serve
    /// TLS must not run without it. The second value is a warning to log, if any.
    pub fn from_config(config: &NamesrvConfig) -> std::io::Result<(Self, Option<String>)> {
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        let cert = config.tls_server_cert_path.trim();
        let key = config.tls_server_key_path.trim();
        let mode = config.tls_server_mode;
        if mode == TlsMode::Disabled {
            let warning = (!cert.is_empty() || !key.is_empty()).then(|| {
                "tlsServerMode=disabled: tlsServerCertPath and tlsServerKeyPath are ignored"
                    .to_owned()
            });
            return Ok((
                Policy::PlainOnly {
                    why: "tlsServerMode=disabled",
                },
                warning,
            ));
        }
        match (cert.is_empty(), key.is_empty()) {
            (true, true) if mode == TlsMode::Permissive => {
                return Ok((
                    Policy::PlainOnly {
                        why: "no certificate configured (tlsServerCertPath)",
                    },
                    None,
                ))
            }
            (true, true) => {
                return Err(invalid(
                    "tlsServerMode=enforcing needs tlsServerCertPath and tlsServerKeyPath".into(),
                ))
            }
            (true, false) | (false, true) => {
                return Err(invalid(format!(
                    "tlsServerMode={}: tlsServerCertPath and tlsServerKeyPath go together",
                    mode.as_str()
                )))
            }
            (false, false) => {}
        }
        let certificate = Certificate::load(Path::new(cert), Path::new(key)).map_err(invalid)?;
        let certificate = Arc::new(certificate);
        Ok((
            if mode == TlsMode::Enforcing {
                Policy::Enforcing(certificate)
            } else {
                Policy::Permissive(certificate)
            },
            None,
        ))
    }

    /// The certificate, when TLS is served at all.
    pub fn certificate(&self) -> Option<&Arc<Certificate>> {
        match self {
            Policy::PlainOnly { .. } => None,
            Policy::Permissive(c) | Policy::Enforcing(c) => Some(c),
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Policy::PlainOnly { .. } => "plain only",
            Policy::Permissive(_) => "TLS or plain (permissive)",
            Policy::Enforcing(_) => "TLS only (enforcing)",
        }
    }
}

/// What identifies a version of a file: modification time and length (`None`: unreadable).
type Stamp = Option<(Option<SystemTime>, u64)>;

fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.modified().ok(), m.len()))
}

/// The certificate chain and key in force, and the files they come from.
pub struct Certificate {
    cert_path: PathBuf,
    key_path: PathBuf,
    acceptor: RwLock<TlsAcceptor>,
    /// The files' stamps at the last load attempt, successful or not: a file that failed to
    /// load is tried again only once it changes again.
    stamps: Mutex<(Stamp, Stamp)>,
}

impl Certificate {
    /// Loads both files; the error names the file and what is wrong with it.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, String> {
        let stamps = (stamp(cert_path), stamp(key_path));
        let config = server_config(cert_path, key_path)?;
        Ok(Self {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            acceptor: RwLock::new(TlsAcceptor::from(config)),
            stamps: Mutex::new(stamps),
        })
    }

    /// The acceptor for a new connection (connections keep the one they started with).
    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reloads when either file changed since the last attempt. A failed reload keeps the
    /// certificate in force. Returns whether a new certificate was loaded.
    pub fn reload_if_changed(&self) -> bool {
        let now = (stamp(&self.cert_path), stamp(&self.key_path));
        {
            let mut last = self
                .stamps
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if *last == now {
                return false;
            }
            *last = now;
        }
        match server_config(&self.cert_path, &self.key_path) {
            Ok(config) => {
                *self
                    .acceptor
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = TlsAcceptor::from(config);
                info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
                true
            }
            Err(e) => {
                warn!(error = %e, "TLS certificate not reloaded; keeping the previous one");
                false
            }
        }
    }
}

/// A rustls server configuration from PEM files, with the ring provider and its safe defaults
/// (TLS 1.2 and 1.3), no client authentication.
fn server_config(cert_path: &Path, key_path: &Path) -> Result<Arc<ServerConfig>, String> {
    let cert_pem = std::fs::read(cert_path)
        .map_err(|e| format!("tlsServerCertPath {}: {e}", cert_path.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tlsServerCertPath {}: {e}", cert_path.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "tlsServerCertPath {}: no PEM certificate in it",
            cert_path.display()
        ));
    }
    let key_pem = std::fs::read(key_path)
        .map_err(|e| format!("tlsServerKeyPath {}: {e}", key_path.display()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!(
            "tlsServerKeyPath {}: no usable PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1): {e}",
            key_path.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            format!(
                "tlsServerCertPath {} with tlsServerKeyPath {}: {e}",
                cert_path.display(),
                key_path.display()
            )
        })?;
    Ok(Arc::new(config))
}

/// A stream whose first bytes were already read (to tell TLS from plain): they are read again
/// first, then the stream itself.
pub struct Prefixed<S> {
    prefix: Bytes,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Bytes, inner: S) -> Self {
        Self { prefix, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.prefix.has_remaining() {
            let n = self.prefix.len().min(buf.remaining());
            let chunk = self.prefix.split_to(n);
            buf.put_slice(&chunk);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn prefixed_reads_the_prefix_first() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let rest: &[u8] = b"defg";
            let mut s = Prefixed::new(Bytes::from_static(b"abc"), rest);
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.unwrap();
            assert_eq!(out, b"abcdefg");
        });
    }

    #[test]
    fn start_up_refuses_half_or_missing_tls_settings() {
        let mut c = NamesrvConfig::default();
        let (p, w) = Policy::from_config(&c).unwrap();
        assert!(matches!(p, Policy::PlainOnly { .. }) && w.is_none());
        c.tls_server_mode = TlsMode::Enforcing;
        let e = Policy::from_config(&c).err().unwrap().to_string();
        assert!(e.contains("tlsServerCertPath"), "{e}");
        c.tls_server_mode = TlsMode::Permissive;
        c.tls_server_cert_path = "/nonexistent/cert.pem".into();
        let e = Policy::from_config(&c).err().unwrap().to_string();
        assert!(e.contains("go together"), "{e}");
        c.tls_server_key_path = "/nonexistent/key.pem".into();
        let e = Policy::from_config(&c).err().unwrap().to_string();
        assert!(e.contains("/nonexistent/cert.pem"), "{e}");
        c.tls_server_mode = TlsMode::Disabled;
        let (p, w) = Policy::from_config(&c).unwrap();
        assert!(matches!(p, Policy::PlainOnly { .. }) && w.is_some());
    }
}
