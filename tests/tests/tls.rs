//! TLS on the remoting port (issue 9), against the real binary: Apache's three modes
//! (`tlsServerMode`), one port for TLS and plain in permissive mode, and the certificate
//! reloaded when its files change. Certificates are made here with rcgen (a throwaway CA and
//! leaves signed by it); the client is rustls, verifying the server against that CA.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::{request, response, RemotingCommand};
use namesrv_tests::server::{binary, TempDir, TestServer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A test CA: signs server certificates, and is the client's only trust anchor.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A server certificate (PEM, as the server reads it) and its DER (as the client sees it).
struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl Ca {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "namesrv test CA");
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    fn leaf(&self, common_name: &str) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }

    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}

/// Writes the leaf's PEM files; returns (cert path, key path).
fn write_leaf(dir: &Path, leaf: &Leaf) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert, &leaf.cert_pem).unwrap();
    std::fs::write(&key, &leaf.key_pem).unwrap();
    (cert, key)
}

fn start(home: &TempDir, mode: &str, files: Option<&(PathBuf, PathBuf)>) -> TestServer {
    let mut args = vec!["--set".to_owned(), format!("tlsServerMode={mode}")];
    if let Some((cert, key)) = files {
        args.push("--set".into());
        args.push(format!("tlsServerCertPath={}", cert.display()));
        args.push("--set".into());
        args.push(format!("tlsServerKeyPath={}", key.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    TestServer::start_in(&home.0, &args)
}

/// A remoting connection over any byte stream (plain TCP or rustls).
struct Conn<S: Read + Write> {
    stream: S,
    buf: BytesMut,
    opaque: i32,
}

impl<S: Read + Write> Conn<S> {
    fn new(stream: S) -> Self {
        Self {
            stream,
            buf: BytesMut::new(),
            opaque: 0,
        }
    }

    /// Sends and waits for the reply; an I/O error or EOF (the server closed) is `Err`.
    fn call(&mut self, mut cmd: RemotingCommand) -> std::io::Result<RemotingCommand> {
        self.opaque += 1;
        cmd.opaque = self.opaque;
        self.stream.write_all(&encode_to_bytes(&cmd).unwrap())?;
        self.stream.flush()?;
        loop {
            if let Some(reply) = decode_frame(&mut self.buf, DEFAULT_MAX_FRAME).unwrap() {
                assert_eq!(reply.opaque, cmd.opaque);
                return Ok(reply);
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

fn tcp(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn plain(port: u16) -> Conn<TcpStream> {
    Conn::new(tcp(port))
}

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

fn tls(port: u16, config: &Arc<ClientConfig>) -> Conn<TlsStream> {
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(config.clone(), name).unwrap();
    Conn::new(StreamOwned::new(conn, tcp(port)))
}

/// The certificate the server presented (after a completed request).
fn presented(c: &Conn<TlsStream>) -> CertificateDer<'static> {
    c.stream.conn.peer_certificates().unwrap()[0].clone()
}

fn put(k: &str, v: &str) -> RemotingCommand {
    namesrv_tests::harness::put_kv("NS", k, v)
}

fn get(k: &str) -> RemotingCommand {
    namesrv_tests::harness::get_kv("NS", k)
}

#[test]
fn permissive_serves_tls_and_plain_on_the_same_port() {
    let home = TempDir::new("tls-permissive");
    let ca = Ca::new();
    let leaf = ca.leaf("namesrv-1");
    let files = write_leaf(&home.0, &leaf);
    let server = start(&home, "permissive", Some(&files));
    let client_config = ca.client_config();

    let mut secure = tls(server.port, &client_config);
    let r = secure.call(put("k", "over-tls")).expect("a TLS request");
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    assert_eq!(presented(&secure), leaf.der);

    let mut clear = plain(server.port);
    let r = clear.call(get("k")).expect("a plain request");
    assert_eq!(r.ext("value"), Some("over-tls"));
    let r = clear.call(put("k", "in-clear")).unwrap();
    assert_eq!(r.code, response::SUCCESS);

    // Both stay open and keep working, pipelined requests included.
    let r = secure.call(get("k")).unwrap();
    assert_eq!(r.ext("value"), Some("in-clear"));
    for i in 0..20 {
        let r = secure.call(put("k", &i.to_string())).unwrap();
        assert_eq!(r.code, response::SUCCESS);
    }
    assert_eq!(clear.call(get("k")).unwrap().ext("value"), Some("19"));
}

#[test]
fn enforcing_closes_plain_connections() {
    let home = TempDir::new("tls-enforcing");
    let ca = Ca::new();
    let files = write_leaf(&home.0, &ca.leaf("namesrv-1"));
    let server = start(&home, "enforcing", Some(&files));

    let mut clear = plain(server.port);
    assert!(
        clear.call(put("k", "plain")).is_err(),
        "a plain request was answered in enforcing mode"
    );

    let mut secure = tls(server.port, &ca.client_config());
    let r = secure.call(get("k")).expect("a TLS request");
    assert_eq!(
        r.code,
        response::QUERY_NOT_FOUND,
        "the plain write changed nothing"
    );
}

#[test]
fn disabled_closes_tls_connections() {
    let home = TempDir::new("tls-disabled");
    let ca = Ca::new();
    let files = write_leaf(&home.0, &ca.leaf("namesrv-1"));
    // Certificate paths are ignored (with a warning) when TLS is disabled.
    let server = start(&home, "disabled", Some(&files));
    let mut secure = tls(server.port, &ca.client_config());
    assert!(
        secure.call(put("k", "tls")).is_err(),
        "TLS served while disabled"
    );
    let r = plain(server.port).call(get("k")).expect("a plain request");
    assert_eq!(r.code, response::QUERY_NOT_FOUND);
}

#[test]
fn permissive_without_a_certificate_is_plain_only() {
    let home = TempDir::new("tls-nocert");
    let ca = Ca::new();
    let server = start(&home, "permissive", None);
    assert!(tls(server.port, &ca.client_config())
        .call(get("k"))
        .is_err());
    let r = plain(server.port).call(get("k")).expect("a plain request");
    assert_eq!(r.code, response::QUERY_NOT_FOUND);
}

#[test]
fn bad_tls_settings_stop_start_up() {
    let home = TempDir::new("tls-bad");
    let ca = Ca::new();
    let (cert, _) = write_leaf(&home.0, &ca.leaf("namesrv-1"));
    let other = ca.leaf("other");
    let wrong_key = home.0.join("other.key");
    std::fs::write(&wrong_key, &other.key_pem).unwrap();
    let run = |extra: &[String]| {
        let out = std::process::Command::new(binary())
            .args(["--bindAddress", "127.0.0.1", "--listenPort", "0"])
            .args(extra)
            .env("HOME", &home.0)
            .output()
            .unwrap();
        assert!(!out.status.success(), "started with {extra:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let set = |kv: String| ["--set".to_owned(), kv];
    let err = run(&set("tlsServerMode=enforcing".into()));
    assert!(err.contains("tlsServerCertPath"), "{err}");
    let err = run(&set("tlsServerMode=sometimes".into()));
    assert!(err.contains("tlsServerMode"), "{err}");
    let mut args = set(format!("tlsServerCertPath={}", cert.display())).to_vec();
    args.extend(set(format!("tlsServerKeyPath={}", wrong_key.display())));
    let err = run(&args);
    assert!(err.contains("tlsServerKeyPath"), "{err}");
}

#[test]
fn tls_settings_cannot_be_changed_remotely() {
    let home = TempDir::new("tls-remote");
    let server = start(&home, "permissive", None);
    let mut c = plain(server.port);
    for body in [
        "tlsServerMode=disabled\n",
        "tlsServerCertPath=/etc/shadow\n",
        "tlsServerKeyPath=/etc/shadow\n",
    ] {
        let cmd = RemotingCommand::request(request::UPDATE_NAMESRV_CONFIG).with_body(body);
        assert_eq!(c.call(cmd).unwrap().code, response::NO_PERMISSION, "{body}");
    }
}

#[test]
fn certificate_is_reloaded_when_its_files_change() {
    let home = TempDir::new("tls-reload");
    let ca = Ca::new();
    let first = ca.leaf("namesrv-first");
    let files = write_leaf(&home.0, &first);
    let server = start(&home, "permissive", Some(&files));
    let config = ca.client_config();
    let mut before = tls(server.port, &config);
    before.call(get("k")).unwrap();
    assert_eq!(presented(&before), first.der);

    // A broken certificate file is not loaded: the previous certificate stays in force.
    std::fs::write(&files.0, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    std::thread::sleep(Duration::from_millis(4500)); // two polls
    let mut during = tls(server.port, &config);
    during
        .call(get("k"))
        .expect("served with the previous certificate");
    assert_eq!(presented(&during), first.der);

    // Replace both files (certificate first: for a moment they do not match).
    let second = ca.leaf("namesrv-second");
    write_leaf(&home.0, &second);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut c = tls(server.port, &config);
        c.call(get("k")).unwrap();
        if presented(&c) == second.der {
            break;
        }
        assert_eq!(presented(&c), first.der);
        assert!(Instant::now() < deadline, "new certificate not picked up");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Connections made before the reload keep working.
    assert_eq!(
        before.call(get("k")).unwrap().code,
        response::QUERY_NOT_FOUND
    );
}

#[test]
fn nsadmin_speaks_tls() {
    let home = TempDir::new("tls-nsadmin");
    let ca = Ca::new();
    let files = write_leaf(&home.0, &ca.leaf("namesrv-1"));
    let server = start(&home, "enforcing", Some(&files));
    let ca_file = home.0.join("ca.crt");
    std::fs::write(&ca_file, ca.cert.pem()).unwrap();
    let stranger = home.0.join("stranger.crt");
    std::fs::write(&stranger, Ca::new().cert.pem()).unwrap();
    let addr = format!("127.0.0.1:{}", server.port);
    let nsadmin = |extra: &[&str], value: &str| {
        std::process::Command::new(namesrv_tests::server::nsadmin_binary())
            .args(["-n", &addr, "--timeout", "5000"])
            .args(extra)
            .args(["updateKvConfig", "-s", "NS", "-k", "k", "-v", value])
            .output()
            .unwrap()
    };
    let ca_arg = format!("--tlsTrustCert={}", ca_file.display());
    let out = nsadmin(&[&ca_arg], "verified");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = nsadmin(&["--tls"], "unverified");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Plain is refused by the server; a certificate from another CA by nsadmin.
    let out = nsadmin(&[], "plain");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let stranger_arg = format!("--tlsTrustCert={}", stranger.display());
    let out = nsadmin(&[&stranger_arg], "stranger");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("certificate"));

    let mut c = tls(server.port, &ca.client_config());
    assert_eq!(c.call(get("k")).unwrap().ext("value"), Some("unverified"));
}
