//! Starts the real `namesrv` binary on a free loopback port and talks to it over TCP.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::RemotingCommand;

/// The `namesrv` binary next to this test executable (`target/<profile>/namesrv`). Built once
/// per test process with cargo (a no-op when fresh), because `cargo test -p namesrv-tests`
/// alone would otherwise run a stale binary.
pub fn binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("current exe");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target/<profile>");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "-q", "-p", "namesrv", "--bin", "namesrv"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo build");
            assert!(status.success(), "cannot build namesrv");
            profile_dir.join(format!("namesrv{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

/// The `nsadmin` binary next to `namesrv`, built the same way (once per test process).
pub fn nsadmin_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let namesrv = binary();
            let profile_dir = namesrv.parent().expect("target/<profile>");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "-q", "-p", "namesrv", "--bin", "nsadmin"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo build");
            assert!(status.success(), "cannot build nsadmin");
            profile_dir.join(format!("nsadmin{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

/// What a run of the real `nsadmin` printed, and its exit code.
pub struct NsadminRun {
    /// Exit code (-1: killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl NsadminRun {
    /// Standard output parsed as JSON (`--json`); panics with the whole run otherwise.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:?}"))
    }
}

impl std::fmt::Debug for NsadminRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the real `nsadmin` with `args` (no `NAMESRV_ADDR` from the environment).
pub fn run_nsadmin(args: &[&str]) -> NsadminRun {
    let out = Command::new(nsadmin_binary())
        .args(args)
        .env_remove("NAMESRV_ADDR")
        .output()
        .expect("run nsadmin");
    NsadminRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The TCP ports process `pid` holds a listening socket on (Linux: the LISTEN rows of
/// `/proc/net/tcp{,6}` whose socket inode is among the process's open files).
pub fn listening_ports(pid: u32) -> std::collections::HashSet<u16> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut ports = std::collections::HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for row in text.lines().skip(1) {
            let f: Vec<&str> = row.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            if *state != "0A" || !inodes.contains(*inode) {
                continue;
            }
            if let Some(port) = local
                .rsplit(':')
                .next()
                .and_then(|h| u16::from_str_radix(h, 16).ok())
            {
                ports.insert(port);
            }
        }
    }
    ports
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("namesrv-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Self(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `namesrv` child process.
pub struct TestServer {
    pub child: Child,
    pub port: u16,
    pub home: PathBuf,
    args: Vec<String>,
}

impl TestServer {
    /// Starts with HOME at `home` (so kvConfig.json lands in `home/namesrv/`), plus `args`.
    pub fn start_in(home: &Path, args: &[&str]) -> Self {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Self::spawn(home, args)
    }

    /// Starts with the HTTP port (`httpListenPort`) on a free port as well; returns it too.
    pub fn start_with_http(home: &Path, args: &[&str]) -> (Self, u16) {
        for _ in 0..5 {
            let http = free_port();
            let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            all.push("--set".into());
            all.push(format!("httpListenPort={http}"));
            if let Some(s) = Self::try_spawn(home, all, &[http], 1) {
                return (s, http);
            }
        }
        panic!("namesrv did not start with an HTTP port");
    }

    fn spawn(home: &Path, args: Vec<String>) -> Self {
        Self::try_spawn(home, args, &[], 5).expect("namesrv did not start")
    }

    /// Starts the binary on a free port and waits until *that child* listens on it (and on
    /// `also`). Probing with a connect is not enough: a connect to a port nobody listens on
    /// can succeed by TCP self-connect, and a port handed out by `free_port` can be taken by a
    /// concurrent test's server, whose listener would answer for a child that failed to bind.
    fn try_spawn(home: &Path, args: Vec<String>, also: &[u16], attempts: usize) -> Option<Self> {
        for _ in 0..attempts {
            let port = free_port();
            let mut child = Command::new(binary())
                .args([
                    "--bindAddress",
                    "127.0.0.1",
                    "--listenPort",
                    &port.to_string(),
                ])
                .args(&args)
                .env("HOME", home)
                .env(
                    "RUST_LOG",
                    std::env::var("NAMESRV_TEST_LOG").unwrap_or_else(|_| "error".into()),
                )
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn namesrv");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let listening = listening_ports(child.id());
                if listening.contains(&port) && also.iter().all(|p| listening.contains(p)) {
                    return Some(Self {
                        child,
                        port,
                        home: home.to_owned(),
                        args,
                    });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken or bad config; retry on another port
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        None
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port)
    }

    /// SIGKILL, then start again with the same HOME and args (new port).
    pub fn kill9_and_restart(mut self) -> Self {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (home, args) = (self.home.clone(), self.args.clone());
        Self::spawn(&home, args)
    }

    /// SIGTERM and wait for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "namesrv did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resident set size in KiB (Linux).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking remoting client.
pub struct Client {
    pub stream: TcpStream,
    buf: BytesMut,
    next_opaque: i32,
}

impl Client {
    pub fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            buf: BytesMut::new(),
            next_opaque: 1,
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends `cmd` with a fresh opaque (returned) without waiting.
    pub fn send(&mut self, mut cmd: RemotingCommand) -> i32 {
        cmd.opaque = self.next_opaque;
        self.next_opaque += 1;
        let frame = encode_to_bytes(&cmd).expect("encode");
        self.send_raw(&frame);
        cmd.opaque
    }

    /// Reads one frame; `None` on EOF or timeout.
    pub fn read(&mut self) -> Option<RemotingCommand> {
        loop {
            if let Ok(Some(cmd)) = decode_frame(&mut self.buf, DEFAULT_MAX_FRAME) {
                return Some(cmd);
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Sends and waits for the reply with the same opaque.
    pub fn call(&mut self, cmd: RemotingCommand) -> RemotingCommand {
        let opaque = self.send(cmd);
        let reply = self.read().expect("a reply");
        assert_eq!(reply.opaque, opaque, "reply out of order");
        reply
    }

    /// Whether the server closed this connection (EOF within `wait`).
    pub fn is_closed(&mut self, wait: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(wait));
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_)) && {
            // Distinguish a timeout (still open) from EOF/reset.
            let mut b = [0u8; 1];
            let _ = self.stream.set_nonblocking(true);
            let r = self.stream.read(&mut b);
            let _ = self.stream.set_nonblocking(false);
            !matches!(r, Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock)
        }
    }
}
