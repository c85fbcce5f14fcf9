//! Unit tests of `bodies`: encoders and decoders against Apache's shapes.

use super::*;

fn tc(name: &str) -> TopicConfig {
    TopicConfig {
        topic_name: name.into(),
        read_queue_nums: 4,
        write_queue_nums: 4,
        perm: 6,
        topic_sys_flag: 0,
    }
}

#[test]
fn register_body_json_round_trip() {
    let body = RegisterBrokerBody {
        wrapper: TopicConfigWrapper {
            data_version: DataVersion {
                state_version: 1,
                timestamp: 2,
                counter: 3,
            },
            topic_configs: vec![tc("A"), tc("B")],
            mapping_infos: BTreeMap::new(),
        },
        filter_server_list: Some(vec!["f:1".into()]),
    };
    let json = body.encode_json();
    let back =
        RegisterBrokerBody::decode(Some(json.as_bytes()), 479, false, MAX_INFLATED_BODY).unwrap();
    assert_eq!(back, body);
}

#[test]
fn register_body_compressed_round_trip_drops_sys_flag() {
    let mut t = tc("A");
    t.topic_sys_flag = 3;
    let body = RegisterBrokerBody {
        wrapper: TopicConfigWrapper {
            data_version: DataVersion::default(),
            topic_configs: vec![t],
            mapping_infos: BTreeMap::new(),
        },
        filter_server_list: Some(vec![]),
    };
    let z = body.encode_compressed(false);
    let back = RegisterBrokerBody::decode(Some(&z), 400, true, MAX_INFLATED_BODY).unwrap();
    assert_eq!(back.wrapper.topic_configs, vec![tc("A")]);
    // Sniffed even when the header says uncompressed (5.x broker quirk).
    let back = RegisterBrokerBody::decode(Some(&z), 400, false, MAX_INFLATED_BODY).unwrap();
    assert_eq!(back.wrapper.topic_configs, vec![tc("A")]);
}

#[test]
fn zip_bomb_is_bounded() {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &vec![0u8; 10 << 20]).unwrap();
    let z = enc.finish().unwrap();
    let e = RegisterBrokerBody::decode(Some(&z), 479, true, 1 << 20).unwrap_err();
    assert!(e.0.contains("inflates beyond"), "{e}");
}

#[test]
fn route_dialects() {
    let mut addrs = BTreeMap::new();
    addrs.insert(0, "10.0.0.1:10911".to_string());
    let r = TopicRouteData {
        broker_datas: vec![BrokerData {
            cluster: "C".into(),
            broker_name: "b".into(),
            broker_addrs: addrs,
            zone_name: None,
            enable_acting_master: false,
        }],
        queue_datas: vec![QueueData {
            broker_name: "b".into(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm: 6,
            topic_sys_flag: 0,
        }],
        ..Default::default()
    };
    assert_eq!(
        r.encode(Dialect::Legacy),
        r#"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911"},"brokerName":"b","cluster":"C","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
    );
    assert!(r
        .encode(Dialect::Standard)
        .contains(r#"{"0":"10.0.0.1:10911"}"#));
    assert_eq!(
        TopicRouteData::decode(r.encode(Dialect::Legacy).as_bytes()).unwrap(),
        r
    );
}

/// rocketmq-broker 1.0.0's `compressedRegister=true`: raw DEFLATE, no zlib header. Accepted,
/// and bounded like zlib.
#[test]
fn raw_deflate_is_accepted_and_bounded() {
    let z = RegisterBrokerBody {
        wrapper: TopicConfigWrapper {
            data_version: DataVersion::default(),
            topic_configs: vec![tc("A")],
            mapping_infos: BTreeMap::new(),
        },
        filter_server_list: Some(vec![]),
    }
    .encode_compressed(false);
    // Strip zlib's 2-byte header and 4-byte Adler-32 trailer: what is left is the raw stream.
    let raw = &z[2..z.len() - 4];
    let back = RegisterBrokerBody::decode(Some(raw), 474, true, MAX_INFLATED_BODY).unwrap();
    assert_eq!(back.wrapper.topic_configs, vec![tc("A")]);

    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &vec![0u8; 10 << 20]).unwrap();
    let bomb = enc.finish().unwrap();
    let e = RegisterBrokerBody::decode(Some(&bomb), 474, true, 1 << 20).unwrap_err();
    assert!(e.0.contains("inflates beyond"), "{e}");

    let e = RegisterBrokerBody::decode(Some(&[0xff, 0xff, 0xff]), 474, true, 1 << 20).unwrap_err();
    assert!(
        e.0.contains("bad raw DEFLATE (no zlib header) stream"),
        "{e}"
    );
    // A zlib header with a corrupt stream still says zlib.
    let e = RegisterBrokerBody::decode(Some(&[0x78, 0x9c, 0xff, 0xff]), 474, true, 1 << 20)
        .unwrap_err();
    assert!(e.0.contains("bad zlib stream"), "{e}");
}
