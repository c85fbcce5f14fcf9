//! Helpers for the black-box tests of the embedded controller: starting a namesrv with it,
//! and speaking to it over TCP as a broker in controller mode does.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::RemotingCommand;

use crate::server::Client;

/// The cluster every test broker is in.
pub const CLUSTER: &str = "DefaultCluster";

/// The `--set` arguments that start the controller on `port` with its files in `store`.
pub fn args(port: u16, store: &std::path::Path) -> Vec<String> {
    vec![
        "--set".into(),
        "enableControllerInNamesrv=true".into(),
        "--set".into(),
        format!("controllerDLegerPeers=n0-127.0.0.1:{port}"),
        "--set".into(),
        "controllerDLegerGroup=group1".into(),
        "--set".into(),
        format!("controllerStorePath={}", store.display()),
    ]
}

/// A client of the controller port, once it accepts connections (within 10 s).
pub fn client(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Client::connect(port);
        }
        assert!(Instant::now() < deadline, "controller port {port} not up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A request with these extFields.
pub fn req(code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
    ext.iter()
        .fold(RemotingCommand::request(code), |c, (k, v)| {
            c.with_ext(k, *v)
        })
}

/// A oneway BROKER_HEARTBEAT as a Java broker sends it, then a 1005 on the same connection:
/// frames of a connection are handled in order, so once that is answered the heartbeat is in.
pub fn heartbeat(c: &mut Client, name: &str, id: &str, addr: &str, epoch: &str) {
    let mut hb = req(
        904,
        &[
            ("clusterName", CLUSTER),
            ("brokerName", name),
            ("brokerId", id),
            ("brokerAddr", addr),
            ("epoch", epoch),
            ("maxOffset", "0"),
            ("confirmOffset", "0"),
            ("heartbeatTimeoutMills", "10000"),
            ("electionPriority", "2147483647"),
        ],
    );
    hb.flag = 2;
    c.send(hb);
    assert_eq!(c.call(req(1005, &[])).code, 0);
}

/// A broker's remoting port, where the controller's notifications land, and its address.
pub fn broker_port() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = format!("127.0.0.1:{}", l.local_addr().expect("addr").port());
    (l, addr)
}

/// The next frame sent to a broker port within `wait`.
pub fn receive_one(l: &TcpListener, wait: Duration) -> Option<RemotingCommand> {
    l.set_nonblocking(true).ok()?;
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Ok((mut s, _)) = l.accept() {
            s.set_nonblocking(false).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
            let mut bytes = Vec::new();
            let _ = s.read_to_end(&mut bytes);
            let mut buf = BytesMut::from(&bytes[..]);
            return decode_frame(&mut buf, DEFAULT_MAX_FRAME).ok().flatten();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// 1012 -> 1013 -> 1003, as a broker with a fresh store; its id and the 1003 reply.
pub fn join(c: &mut Client, name: &str, addr: &str) -> (String, RemotingCommand) {
    let next = c.call(req(1012, &[("clusterName", CLUSTER), ("brokerName", name)]));
    assert_eq!(next.code, 0, "{next:?}");
    let id = next.ext("nextBrokerId").expect("nextBrokerId").to_owned();
    let code = format!("{addr};1796164319126");
    let applied = c.call(req(
        1013,
        &[
            ("clusterName", CLUSTER),
            ("brokerName", name),
            ("appliedBrokerId", &id),
            ("registerCheckCode", &code),
        ],
    ));
    assert_eq!(applied.code, 0, "{applied:?}");
    let reg = c.call(req(
        1003,
        &[
            ("clusterName", CLUSTER),
            ("brokerName", name),
            ("brokerId", &id),
            ("brokerAddress", addr),
        ],
    ));
    assert_eq!(reg.code, 0, "{reg:?}");
    (id, reg)
}
