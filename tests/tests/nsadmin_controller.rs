//! Black-box tests of nsadmin's controller subcommands (getControllerMetaData, getSyncStateSet,
//! electMaster, cleanBrokerMetadata, getControllerConfig, updateControllerConfig) against a
//! namesrv with the embedded controller, whose broker sets are driven over TCP as brokers in
//! controller mode drive them.

use namesrv_core::protocol::response;
use namesrv_tests::controller::{args, broker_port, client, heartbeat, join, req, CLUSTER};
use namesrv_tests::harness::Reg;
use namesrv_tests::server::{
    free_port, nsadmin_binary, run_nsadmin, Client, NsadminRun, TempDir, TestServer,
};

const OK: i32 = 0;
const ERROR: i32 = 1;
const USAGE: i32 = 2;
const NOT_FOUND: i32 = 3;
const UNREACHABLE: i32 = 4;

/// The master `master` (at `epoch`) takes `set` into its SyncStateSet, whose epoch it holds
/// as `set_epoch`.
fn alter(c: &mut Client, master: &str, epoch: &str, set: &str, set_epoch: i64) {
    let mut cmd = req(
        1001,
        &[
            ("brokerName", "broker-a"),
            ("masterBrokerId", master),
            ("masterEpoch", epoch),
        ],
    );
    cmd.body = Some(
        format!(r#"{{"syncStateSet":[{set}],"syncStateSetEpoch":{set_epoch}}}"#)
            .into_bytes()
            .into(),
    );
    let r = c.call(cmd);
    assert_eq!(r.code, 0, "{r:?}");
}

fn run(args: &[&str], code: i32) -> NsadminRun {
    let r = run_nsadmin(args);
    assert_eq!(r.code, code, "nsadmin {args:?}: {r:?}");
    r
}

/// The words of the line that starts with `key` (`#MasterEpoch  2` -> ["#MasterEpoch", "2"]).
fn row<'a>(r: &'a NsadminRun, key: &str) -> Vec<&'a str> {
    r.stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.first() == Some(&key))
        .unwrap_or_else(|| panic!("no {key} line: {r:?}"))
}

/// The rows of a getSyncStateSet replica table: (kind, id, address, alive).
fn replica_rows(r: &NsadminRun) -> Vec<(String, String, String, String)> {
    r.stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() == 4 && (w[0] == "InSync" || w[0] == "NotInSync"))
        .map(|w| (w[0].into(), w[1].into(), w[2].into(), w[3].into()))
        .collect()
}

#[test]
fn controller_subcommands_against_the_embedded_controller() {
    // Built before any broker heartbeats: a first build would outlast their 10 s timeout.
    nsadmin_binary();
    let home = TempDir::new("nsadmin-ctrl");
    let port = free_port();
    let store = home.0.join("ctrl");
    let a = args(port, &store);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let server = TestServer::start_in(&home.0, &refs);
    let ctrl = format!("127.0.0.1:{port}");
    let ns = format!("127.0.0.1:{}", server.port);
    let dead = format!("127.0.0.1:{}", free_port());

    // broker-a: master 1 (elected by itself), slave 2 taken into its SyncStateSet, and 3,
    // registered but never alive. broker-b: one replica, never alive.
    let (_la, addr_a) = broker_port();
    let (_lb, addr_b) = broker_port();
    let (_lc, addr_c) = broker_port();
    let (_ld, addr_d) = broker_port();
    let mut a = client(port);
    assert_eq!(join(&mut a, "broker-a", &addr_a).0, "1");
    heartbeat(&mut a, "broker-a", "1", &addr_a, "-1");
    let elected = a.call(req(
        1002,
        &[
            ("clusterName", CLUSTER),
            ("brokerName", "broker-a"),
            ("brokerId", "1"),
            ("designateElect", "false"),
        ],
    ));
    assert_eq!(elected.code, 0, "{elected:?}");
    assert_eq!(elected.ext("masterEpoch"), Some("1"));
    let mut b = client(port);
    assert_eq!(join(&mut b, "broker-a", &addr_b).0, "2");
    heartbeat(&mut b, "broker-a", "2", &addr_b, "1");
    alter(&mut a, "1", "1", "1,2", 1);
    let mut c = client(port);
    assert_eq!(join(&mut c, "broker-a", &addr_c).0, "3");
    assert_eq!(join(&mut c, "broker-b", &addr_d).0, "1");
    // broker-a is in the NameServer's route table too, for getSyncStateSet -c.
    let mut registrar = server.client();
    let reg = Reg::new(CLUSTER, &addr_a, "broker-a", 0).topics(&["T", "U"]);
    assert_eq!(registrar.call(reg.command()).code, response::SUCCESS);

    // getControllerMetaData: text and JSON; the NameServer's port is not a controller.
    let r = run(&["getControllerMetaData", "-a", &ctrl], OK);
    assert_eq!(row(&r, "#ControllerGroup"), ["#ControllerGroup", "group1"]);
    assert_eq!(
        row(&r, "#ControllerLeaderId"),
        ["#ControllerLeaderId", "n0"]
    );
    assert_eq!(
        row(&r, "#ControllerLeaderAddress"),
        ["#ControllerLeaderAddress", ctrl.as_str()]
    );
    assert_eq!(row(&r, "#IsLeader"), ["#IsLeader", "true"]);
    let peer = format!("n0:{ctrl}");
    assert_eq!(row(&r, "#Peer"), ["#Peer", peer.as_str()]);
    let j = run(&["getControllerMetaData", "-a", &ctrl, "--json"], OK).json();
    assert_eq!(j["group"], "group1");
    assert_eq!(j["controllerLeaderId"], "n0");
    assert_eq!(j["controllerLeaderAddress"], ctrl.as_str());
    assert_eq!(j["isLeader"], true);
    assert_eq!(j["peers"], serde_json::json!([peer]));
    // A dead address first: the next one answers.
    let both = format!("{dead};{ctrl}");
    let j = run(&["--json", "getControllerMetaData", "-a", &both], OK).json();
    assert_eq!(j["controller"], ctrl.as_str());
    let r = run(&["getControllerMetaData", "-a", &ns], ERROR);
    assert!(r.stderr.contains("not a controller"), "{r:?}");
    run(&["getControllerMetaData", "-a", &dead], UNREACHABLE);
    run(&["getControllerMetaData", "-a", " ; "], USAGE);

    // getSyncStateSet before any admin action: 1 masters, 1 and 2 in sync, 3 not alive.
    let r = run(&["getSyncStateSet", "-a", &ctrl, "-b", "broker-a"], OK);
    assert_eq!(row(&r, "#BrokerName"), ["#BrokerName", "broker-a"]);
    assert_eq!(row(&r, "#MasterBrokerId"), ["#MasterBrokerId", "1"]);
    assert_eq!(row(&r, "#MasterAddr"), ["#MasterAddr", addr_a.as_str()]);
    assert_eq!(row(&r, "#MasterEpoch"), ["#MasterEpoch", "1"]);
    assert_eq!(row(&r, "#SyncStateSetEpoch"), ["#SyncStateSetEpoch", "2"]);
    assert_eq!(row(&r, "#SyncStateSetNums"), ["#SyncStateSetNums", "2"]);
    let rows = replica_rows(&r);
    let want = |k: &str, id: &str, addr: &str, alive: &str| {
        (
            k.to_owned(),
            id.to_owned(),
            addr.to_owned(),
            alive.to_owned(),
        )
    };
    assert_eq!(
        rows,
        [
            want("InSync", "1", &addr_a, "true"),
            want("InSync", "2", &addr_b, "true"),
            want("NotInSync", "3", &addr_c, "false"),
        ],
        "{r:?}"
    );

    // electMaster of the slave: it becomes master with epoch 2.
    heartbeat(&mut a, "broker-a", "1", &addr_a, "1");
    heartbeat(&mut b, "broker-a", "2", &addr_b, "1");
    let r = run(
        &[
            "electMaster",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn",
            "broker-a",
            "-b",
            "2",
        ],
        OK,
    );
    assert_eq!(row(&r, "#MasterBrokerId"), ["#MasterBrokerId", "2"]);
    assert_eq!(
        row(&r, "#BrokerMasterAddr"),
        ["#BrokerMasterAddr", addr_b.as_str()]
    );
    assert_eq!(row(&r, "#MasterEpoch"), ["#MasterEpoch", "2"]);
    assert_eq!(row(&r, "#SyncStateSetEpoch"), ["#SyncStateSetEpoch", "3"]);
    assert_eq!(row(&r, "#SyncStateSet"), ["#SyncStateSet", "2"]);
    let members: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|w: &Vec<&str>| w.first() == Some(&"#Broker"))
        .collect();
    assert_eq!(
        members,
        [
            vec!["#Broker", "1", addr_a.as_str()],
            vec!["#Broker", "2", addr_b.as_str()],
            vec!["#Broker", "3", addr_c.as_str()],
        ],
        "{r:?}"
    );

    // Again: the master is still alive, so the controller refuses (2011), in text and JSON.
    let r = run(
        &[
            "electMaster",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn=broker-a",
            "-b",
            "2",
        ],
        ERROR,
    );
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(
        r.stderr.contains("CONTROLLER_MASTER_STILL_EXIST (2011)")
            && r.stderr.contains("is still alive"),
        "{r:?}"
    );
    let r = run(
        &[
            "--json",
            "electMaster",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "--brokerName",
            "broker-a",
            "-b",
            "2",
        ],
        ERROR,
    );
    let j = r.json();
    assert_eq!(j["ok"], false, "{r:?}");
    assert_eq!(j["code"], 2011);
    assert_eq!(j["controller"], ctrl.as_str());
    assert!(j["remark"].as_str().unwrap_or("").contains("still alive"));

    // getSyncStateSet shows the new master, text and JSON.
    let r = run(&["getSyncStateSet", "-a", &ctrl, "-b", "broker-a"], OK);
    assert_eq!(row(&r, "#MasterBrokerId"), ["#MasterBrokerId", "2"]);
    assert_eq!(row(&r, "#MasterAddr"), ["#MasterAddr", addr_b.as_str()]);
    assert_eq!(row(&r, "#MasterEpoch"), ["#MasterEpoch", "2"]);
    assert_eq!(row(&r, "#SyncStateSetEpoch"), ["#SyncStateSetEpoch", "3"]);
    assert_eq!(
        replica_rows(&r),
        [
            want("InSync", "2", &addr_b, "true"),
            want("NotInSync", "1", &addr_a, "true"),
            want("NotInSync", "3", &addr_c, "false"),
        ],
        "{r:?}"
    );
    let j = run(
        &["getSyncStateSet", "-a", &ctrl, "-b", "broker-a", "--json"],
        OK,
    )
    .json();
    let set = &j["replicasInfoTable"]["broker-a"];
    assert_eq!(set["masterBrokerId"], 2);
    assert_eq!(set["masterAddress"], addr_b.as_str());
    assert_eq!(set["masterEpoch"], 2);
    assert_eq!(set["syncStateSetEpoch"], 3);
    assert_eq!(set["inSyncReplicas"][0]["brokerId"], 2);
    assert_eq!(set["inSyncReplicas"][0]["alive"], true);
    assert_eq!(set["notInSyncReplicas"].as_array().map(Vec::len), Some(2));
    assert_eq!(set["notInSyncReplicas"][1]["alive"], false);
    // Two sets at once, one unknown: the known one is shown, the exit is "not found".
    let r = run(
        &["getSyncStateSet", "-a", &ctrl, "-b", "broker-a,broker-z"],
        NOT_FOUND,
    );
    assert_eq!(row(&r, "#MasterBrokerId"), ["#MasterBrokerId", "2"]);
    assert!(r.stderr.contains("broker-z"), "{r:?}");
    // -c: the cluster's sets as the NameServer lists them.
    let j = run(
        &[
            "-n",
            &ns,
            "getSyncStateSet",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "--json",
        ],
        OK,
    )
    .json();
    let table = j["replicasInfoTable"].as_object().expect("table");
    assert_eq!(table.keys().collect::<Vec<_>>(), ["broker-a"]);
    run(
        &["-n", &ns, "getSyncStateSet", "-a", &ctrl, "-c", "nope"],
        NOT_FOUND,
    );

    // The new master takes 1 back into its set; electMaster --json of 1 then.
    heartbeat(&mut a, "broker-a", "1", &addr_a, "2");
    heartbeat(&mut b, "broker-a", "2", &addr_b, "2");
    alter(&mut b, "2", "2", "1,2", 3);
    let j = run(
        &[
            "electMaster",
            "--json",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn",
            "broker-a",
            "-b",
            "1",
        ],
        OK,
    )
    .json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["masterBrokerId"], 1);
    assert_eq!(j["masterAddress"], addr_a.as_str());
    assert_eq!(j["masterEpoch"], 3);
    assert_eq!(j["syncStateSetEpoch"], 5);
    assert_eq!(j["syncStateSet"], serde_json::json!([1]));
    assert_eq!(j["brokerAddrs"]["2"], addr_b.as_str());
    // An unknown set.
    let r = run(
        &[
            "electMaster",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn",
            "broker-z",
            "-b",
            "1",
        ],
        ERROR,
    );
    assert!(r.stderr.contains("(2010)"), "{r:?}");

    // cleanBrokerMetadata: a live id is refused, with the remark (text and JSON).
    let r = run(
        &[
            "cleanBrokerMetadata",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn",
            "broker-a",
            "-b",
            "2",
        ],
        ERROR,
    );
    assert!(
        r.stderr.contains("FAILED")
            && r.stderr.contains("(2009)")
            && r.stderr.contains("is still alive, clean up failure"),
        "{r:?}"
    );
    let j = run(
        &[
            "cleanBrokerMetadata",
            "--json",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn",
            "broker-a",
            "-b",
            "2",
        ],
        ERROR,
    )
    .json();
    assert_eq!(j["ok"], false);
    assert_eq!(j["code"], 2009);
    assert_eq!(j["result"], "CONTROLLER_INVALID_CLEAN_BROKER_METADATA");
    // A dead id is removed.
    let r = run(
        &[
            "cleanBrokerMetadata",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn",
            "broker-a",
            "-b",
            "3",
        ],
        OK,
    );
    assert!(r.stdout.contains("OK"), "{r:?}");
    let r = run(&["getSyncStateSet", "-a", &ctrl, "-b", "broker-a"], OK);
    assert_eq!(
        replica_rows(&r)
            .iter()
            .map(|x| x.1.as_str())
            .collect::<Vec<_>>(),
        ["1", "2"],
        "{r:?}"
    );
    // -l: the whole of broker-b.
    let j = run(
        &[
            "--json",
            "cleanBrokerMetadata",
            "-a",
            &ctrl,
            "-c",
            CLUSTER,
            "-bn",
            "broker-b",
            "-l",
        ],
        OK,
    )
    .json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["controller"], ctrl.as_str());
    run(
        &["getSyncStateSet", "-a", &ctrl, "-b", "broker-b"],
        NOT_FOUND,
    );

    // updateControllerConfig: a blacklisted key is refused; another is set and shown.
    let r = run(
        &[
            "updateControllerConfig",
            "-a",
            &ctrl,
            "-k",
            "configStorePath",
            "-v",
            "/tmp/elsewhere",
        ],
        ERROR,
    );
    assert!(
        r.stderr.contains("NO_PERMISSION (16)") && r.stderr.contains("black list"),
        "{r:?}"
    );
    let r = run(
        &[
            "updateControllerConfig",
            "-a",
            &ctrl,
            "-k",
            "electMasterMaxRetryCount",
            "-v",
            "5",
        ],
        OK,
    );
    assert!(
        r.stdout.contains(&format!(
            "update config electMasterMaxRetryCount=5 in controller[{ctrl}] OK"
        )),
        "{r:?}"
    );
    run(
        &[
            "updateControllerConfig",
            "-a",
            &ctrl,
            "-k",
            "electMasterMaxRetryCount",
            "-v",
            "5\nconfigStorePath=/tmp",
        ],
        USAGE,
    );
    let r = run(&["getControllerConfig", "-a", &ctrl], OK);
    assert!(
        r.stdout
            .contains(&format!("============{ctrl}============")),
        "{r:?}"
    );
    assert_eq!(
        row(&r, "electMasterMaxRetryCount"),
        ["electMasterMaxRetryCount", "5"]
    );
    assert_eq!(
        row(&r, "controllerDLegerGroup"),
        ["controllerDLegerGroup", "group1"]
    );
    let j = run(&["getControllerConfig", "-a", &ctrl, "--json"], OK).json();
    assert_eq!(j[ctrl.as_str()]["electMasterMaxRetryCount"], "5");
    // Every address is asked: a dead one is reported, the live one still shown.
    let r = run(
        &[
            "--json",
            "getControllerConfig",
            "-a",
            &format!("{ctrl};{dead}"),
        ],
        UNREACHABLE,
    );
    assert_eq!(r.json()[ctrl.as_str()]["electMasterMaxRetryCount"], "5");
    assert!(r.stderr.contains(&dead), "{r:?}");

    drop((a, b, c, registrar));
}
