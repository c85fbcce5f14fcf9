//! Golden frames: real captures from Java, C++, Rust and Alibaba ONS peers (and from a real
//! Apache 4.9.7 NameServer) must decode to exactly what the capture logs say, and the hex
//! examples of spec §1.11 must decode and encode byte for byte.
//!
//! Fixture layout (`tests/fixtures/frames`, see `/work/shared/frames`):
//! - `X-NNN.hex`, `X-NNN-req.hex`, `X-NNN-resp.hex`: a `# ...` comment line, then the hex bytes
//!   of one whole frame. Line `#N` (N = NNN) of `X.log` holds the decoded header and body.
//! - `X-broker-NNN.hex`: client → broker frames of the same sessions; they only have to decode.
//! - `rust-peers/*/frame-NNNNN-DIR-codeC.bin`: whole frames; `frames.jsonl` describes them by `n`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::{LanguageCode, RemotingCommand, SerializeType};
use namesrv_tests::{
    check_against, check_round_trip, comment_field, comment_serialize_type, decode_exactly_one,
    expected_header, frames_dir, read_hex_fixture, read_log, serialize_type_name, Failures,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture discovery

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `X-NNN.hex`
    Plain,
    /// `X-NNN-req.hex`
    Request,
    /// `X-NNN-resp.hex`
    Response,
}

#[derive(Debug, Clone)]
struct HexFile {
    path: PathBuf,
    name: String,
    /// `X` (for broker frames, `X-broker`).
    family: String,
    n: u32,
    kind: Kind,
}

impl HexFile {
    fn is_broker(&self) -> bool {
        self.family.ends_with("-broker")
    }
}

/// Splits `X-NNN[-req|-resp].hex` into its parts.
fn classify(path: &Path) -> Option<HexFile> {
    let name = path.file_name()?.to_str()?.to_owned();
    let stem = name.strip_suffix(".hex")?;
    let (stem, kind) = if let Some(s) = stem.strip_suffix("-req") {
        (s, Kind::Request)
    } else if let Some(s) = stem.strip_suffix("-resp") {
        (s, Kind::Response)
    } else {
        (stem, Kind::Plain)
    };
    let (family, digits) = stem.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(HexFile {
        path: path.to_owned(),
        family: family.to_owned(),
        n: digits.parse().ok()?,
        kind,
        name,
    })
}

/// Every `.hex` capture, sorted by name. Panics on a `.hex` name that does not follow the layout.
fn hex_files() -> Vec<HexFile> {
    let dir = frames_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the fixture directory {}: {e}", dir.display()));
    let mut files: Vec<HexFile> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .map(|p| classify(&p).unwrap_or_else(|| panic!("unexpected fixture name {}", p.display())))
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

fn families_on_disk() -> BTreeSet<String> {
    hex_files()
        .into_iter()
        .filter(|f| !f.is_broker())
        .map(|f| f.family)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Checks one capture against its comment line and log line.
fn check_hex(file: &HexFile, log: &BTreeMap<u32, namesrv_tests::LogLine>) -> Result<(), String> {
    let fx = read_hex_fixture(&file.path)?;
    let cmd = decode_exactly_one(&fx.bytes)?;
    check_comment(&fx.comment, &fx.bytes, &cmd)?;
    let line = log
        .get(&file.n)
        .ok_or_else(|| format!("no line #{} in {}.log", file.n, file.family))?;
    match comment_field(&line.text, "serialize") {
        Some(s) if s == serialize_type_name(cmd.serialize_type) => {}
        other => {
            return Err(format!(
                "log line says serialize={other:?}, frame is {:?}",
                cmd.serialize_type
            ))
        }
    }
    match file.kind {
        Kind::Plain => {}
        Kind::Request | Kind::Response => {
            let want_response = file.kind == Kind::Response;
            if cmd.is_response() != want_response {
                return Err(format!(
                    "file is a {:?} but flag is {}",
                    file.kind, cmd.flag
                ));
            }
            let tag = if want_response { " resp " } else { " req " };
            if !line.text.contains(tag) {
                return Err(format!("log line #{} is not marked{tag}", file.n));
            }
        }
    }
    check_against(&cmd, &line.expected).map_err(|e| format!("vs log line #{}: {e}", file.n))?;
    // A decoded command is a fixed point of encode → decode, whatever its serialize type.
    check_round_trip(&cmd)
}

/// The comment line: serialize type always; `code=`, `headerLen=`, `bodyLen=` when present.
fn check_comment(comment: &str, bytes: &[u8], cmd: &RemotingCommand) -> Result<(), String> {
    let want = comment_serialize_type(comment)?;
    if want != cmd.serialize_type {
        return Err(format!(
            "comment says {}, decoded {:?}",
            serialize_type_name(want),
            cmd.serialize_type
        ));
    }
    let header_len = bytes
        .get(4..8)
        .map(|w| (u32::from_be_bytes([w[0], w[1], w[2], w[3]]) & 0x00FF_FFFF) as usize)
        .ok_or("frame shorter than 8 bytes")?;
    let body_len = cmd.body.as_ref().map_or(0, Bytes::len);
    for (key, got) in [
        ("code", i64::from(cmd.code)),
        ("headerLen", header_len as i64),
        ("bodyLen", body_len as i64),
    ] {
        if let Some(v) = comment_field(comment, key) {
            let want: i64 = v.parse().map_err(|e| format!("comment {key}={v:?}: {e}"))?;
            if want != got {
                return Err(format!("comment says {key}={want}, frame has {got}"));
            }
        }
    }
    Ok(())
}

/// Checks every non-broker capture of `family`; returns how many there were.
fn check_family(family: &str) -> usize {
    let files: Vec<HexFile> = hex_files()
        .into_iter()
        .filter(|f| f.family == family)
        .collect();
    let log_path = frames_dir().join(format!("{family}.log"));
    let log = read_log(&log_path).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Failures::default();
    for file in &files {
        failures.record(&file.name, check_hex(file, &log));
    }
    failures.finish(family)
}

// ---------------------------------------------------------------------------------------------
// One test per capture family

macro_rules! family_tests {
    ($($test:ident => $family:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_family($family);
            }
        )*
        /// Every family that has a test above.
        const FAMILIES: &[&str] = &[$($family),*];
    };
}

family_tests! {
    alions_consumer => "alions-consumer",
    alions_route_fastjson => "alions-route-fastjson",
    alions_route_none => "alions-route-none",
    cpp1x_route_fastjson => "cpp1x-route-fastjson",
    cpp1x_route_none => "cpp1x-route-none",
    cpp210_push => "cpp210-push",
    cpp210_reply => "cpp210-reply",
    cpp210_route_fastjson => "cpp210-route-fastjson",
    cpp210_route_quoted => "cpp210-route-quoted",
    cpp210_silent => "cpp210-silent",
    java497_admin_json => "java497-admin-json",
    java497_admin_rocketmq => "java497-admin-rocketmq",
    realns497 => "realns497",
    rust_hdr_1 => "rust-hdr-1",
    rust_hdr_st => "rust-hdr-st",
    rust_java_fastjson => "rust-java-fastjson",
    rust_java_quoted => "rust-java-quoted",
    rust_java_v5 => "rust-java-v5",
    rust_minimal_fastjson => "rust-minimal-fastjson",
    rust_minimal_quoted => "rust-minimal-quoted",
    rust_route_quoted => "rust-route-quoted",
    verify_realns => "verify-realns",
}

/// Guards against a wrong fixture path and against captures that no test looks at.
#[test]
fn fixtures_are_present_and_every_family_is_tested() {
    let dir = frames_dir();
    assert!(
        dir.is_dir(),
        "fixture directory {} is missing",
        dir.display()
    );
    let files = hex_files();
    assert!(
        !files.is_empty(),
        "no .hex fixtures found in {}",
        dir.display()
    );
    let on_disk = families_on_disk();
    let tested: BTreeSet<String> = FAMILIES.iter().map(|s| (*s).to_owned()).collect();
    let untested: Vec<_> = on_disk.difference(&tested).collect();
    let missing: Vec<_> = tested.difference(&on_disk).collect();
    assert!(
        untested.is_empty(),
        "capture families without a test: {untested:?}"
    );
    assert!(
        missing.is_empty(),
        "tested families without captures: {missing:?}"
    );
    assert!(
        files.iter().any(HexFile::is_broker),
        "no *-broker-*.hex fixtures found"
    );
    let peers = rust_peer_dirs();
    assert_eq!(
        peers,
        ["broker-to-namesrv", "client-to-namesrv"],
        "rust-peers/ subdirectories changed; add a test per new one"
    );
}

/// The realns497 responses came from a real Apache 4.9.7 server; our encoder must write them
/// so that they decode to the same command (the bytes may differ, e.g. in key order).
#[test]
fn realns497_responses_round_trip() {
    let mut failures = Failures::default();
    for file in hex_files()
        .iter()
        .filter(|f| f.family == "realns497" && f.kind == Kind::Response)
    {
        let result = read_hex_fixture(&file.path)
            .and_then(|fx| decode_exactly_one(&fx.bytes))
            .and_then(|cmd| check_round_trip(&cmd));
        failures.record(&file.name, result);
    }
    failures.finish("realns497 responses");
}

/// Client → broker frames (other request codes): they must still decode, as one whole frame,
/// with the serialize type and code their comment line gives.
#[test]
fn broker_frames_decode() {
    let mut failures = Failures::default();
    for file in hex_files().iter().filter(|f| f.is_broker()) {
        let result = read_hex_fixture(&file.path).and_then(|fx| {
            let cmd = decode_exactly_one(&fx.bytes)?;
            check_comment(&fx.comment, &fx.bytes, &cmd)?;
            check_round_trip(&cmd)
        });
        failures.record(&file.name, result);
    }
    failures.finish("*-broker-*");
}

// ---------------------------------------------------------------------------------------------
// rust-peers/*: whole frames in .bin files, described by frames.jsonl

fn rust_peer_dirs() -> Vec<String> {
    let dir = frames_dir().join("rust-peers");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// `frame-NNNNN-DIR-codeC.bin` → (N, DIR, C).
fn parse_bin_name(name: &str) -> Option<(u64, &str, i32)> {
    let stem = name.strip_prefix("frame-")?.strip_suffix(".bin")?;
    let mut parts = stem.splitn(3, '-');
    let n = parts.next()?.parse().ok()?;
    let dir = parts.next()?;
    let code = parts.next()?.strip_prefix("code")?.parse().ok()?;
    Some((n, dir, code))
}

fn check_peer_frame(path: &Path, records: &BTreeMap<u64, Value>) -> Result<(), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("file name is not UTF-8")?;
    let (n, dir, code) = parse_bin_name(name).ok_or("name is not frame-NNNNN-DIR-codeC.bin")?;
    let rec = records
        .get(&n)
        .ok_or_else(|| format!("frames.jsonl has no record n={n}"))?;
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let cmd = decode_exactly_one(&bytes)?;
    if rec["dir"].as_str() != Some(dir) {
        return Err(format!("record dir {} but file says {dir}", rec["dir"]));
    }
    if cmd.code != code {
        return Err(format!("file name says code {code}, decoded {}", cmd.code));
    }
    if rec["stype"].as_u64() != Some(u64::from(cmd.serialize_type.code())) {
        return Err(format!(
            "record stype {} but decoded {:?}",
            rec["stype"], cmd.serialize_type
        ));
    }
    let body_len = rec["body_len"]
        .as_u64()
        .and_then(|l| usize::try_from(l).ok())
        .ok_or("record has no body_len")?;
    let want = expected_header(&rec["header"], body_len, Vec::new())?;
    check_against(&cmd, &want)?;
    if let Some(preview) = rec["body_preview"].as_str() {
        let body = cmd.body.as_deref().unwrap_or_default();
        if !String::from_utf8_lossy(body).starts_with(preview) {
            return Err("body does not start with body_preview".into());
        }
    }
    check_round_trip(&cmd)
}

fn check_rust_peers(sub: &str) -> usize {
    let dir = frames_dir().join("rust-peers").join(sub);
    let jsonl = dir.join("frames.jsonl");
    let text = std::fs::read_to_string(&jsonl)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", jsonl.display()));
    let mut records = BTreeMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", jsonl.display(), i + 1));
        let n = v["n"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}:{}: no n", jsonl.display(), i + 1));
        records.insert(n, v);
    }
    let mut bins: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    bins.sort();
    let mut failures = Failures::default();
    for bin in &bins {
        let name = bin.file_name().map(|n| n.to_string_lossy().into_owned());
        failures.record(
            name.as_deref().unwrap_or("?"),
            check_peer_frame(bin, &records),
        );
    }
    failures.finish(&format!("rust-peers/{sub}"))
}

#[test]
fn rust_peers_broker_to_namesrv() {
    check_rust_peers("broker-to-namesrv");
}

#[test]
fn rust_peers_client_to_namesrv() {
    check_rust_peers("client-to-namesrv");
}

// ---------------------------------------------------------------------------------------------
// Spec §1.11 hex examples

/// §1.11 (a): GET_ROUTEINFO_BY_TOPIC, JSON header, Java 5.3.3 client, opaque 0, TopicTest.
const SPEC_A_JSON: &str = "
00 00 00 87 00 00 00 83 7b 22 63 6f 64 65 22 3a 31 30 35 2c 22 65 78 74 46 69 65 6c 64 73 22 3a
7b 22 74 6f 70 69 63 22 3a 22 54 6f 70 69 63 54 65 73 74 22 7d 2c 22 66 6c 61 67 22 3a 30 2c 22
6c 61 6e 67 75 61 67 65 22 3a 22 4a 41 56 41 22 2c 22 6f 70 61 71 75 65 22 3a 30 2c 22 73 65 72
69 61 6c 69 7a 65 54 79 70 65 43 75 72 72 65 6e 74 52 50 43 22 3a 22 4a 53 4f 4e 22 2c 22 76 65
72 73 69 6f 6e 22 3a 34 37 39 7d
";

const SPEC_A_HEADER: &str = r#"{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":0,"serializeTypeCurrentRPC":"JSON","version":479}"#;

/// §1.11 (b): the same request with a ROCKETMQ binary header.
const SPEC_B_ROCKETMQ: &str = "
00 00 00 2d 01 00 00 29   00 69   00   01 df   00 00 00 00   00 00 00 00   00 00 00 00
00 00 00 14   00 05 74 6f 70 69 63   00 00 00 09 54 6f 70 69 63 54 65 73 74
";

/// §1.11 (c): the TOPIC_NOT_EXIST response header (JSON), exactly as Java writes it.
const SPEC_C_HEADER: &str = r#"{"code":17,"flag":1,"language":"JAVA","opaque":0,"remark":"No topic route info in name server for the topic: TopicTest\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.","serializeTypeCurrentRPC":"JSON","version":479}"#;

const SPEC_C_REMARK: &str = "No topic route info in name server for the topic: TopicTest\n\
     See https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.";

fn hex(text: &str) -> Vec<u8> {
    namesrv_tests::parse_hex(text).expect("valid hex constant")
}

fn assert_spec_route_request(bytes: &[u8], serialize_type: SerializeType) {
    let cmd = decode_exactly_one(bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cmd.serialize_type, serialize_type);
    assert_eq!(cmd.code, 105);
    assert_eq!(cmd.opaque, 0);
    assert_eq!(cmd.flag, 0);
    assert_eq!(cmd.version, 479);
    assert_eq!(cmd.language, LanguageCode::JAVA);
    assert_eq!(cmd.language.name(), "JAVA");
    assert_eq!(cmd.remark, None);
    assert_eq!(cmd.ext("topic"), Some("TopicTest"));
    assert_eq!(cmd.ext_fields.as_ref().map(BTreeMap::len), Some(1));
    assert_eq!(cmd.body, None);
    let again = encode_to_bytes(&cmd).expect("encodes");
    assert_eq!(
        again.as_ref(),
        bytes,
        "re-encoding is not byte for byte the spec example"
    );
}

#[test]
fn spec_1_11_a_json_route_request() {
    let bytes = hex(SPEC_A_JSON);
    assert_eq!(bytes.len(), 139);
    assert_eq!(&bytes[8..], SPEC_A_HEADER.as_bytes());
    assert_spec_route_request(&bytes, SerializeType::Json);
}

#[test]
fn spec_1_11_b_rocketmq_route_request() {
    let bytes = hex(SPEC_B_ROCKETMQ);
    assert_eq!(bytes.len(), 49);
    assert_spec_route_request(&bytes, SerializeType::RocketMq);
}

#[test]
fn spec_1_11_c_topic_not_exist_response() {
    let cmd = RemotingCommand {
        code: 17,
        language: LanguageCode::JAVA,
        version: 479,
        opaque: 0,
        flag: 1,
        remark: Some(SPEC_C_REMARK.to_owned()),
        ext_fields: None,
        serialize_type: SerializeType::Json,
        body: None,
    };
    let bytes = encode_to_bytes(&cmd).expect("encodes");
    assert_eq!(SPEC_C_HEADER.len(), 245);
    assert_eq!(
        &bytes[..8],
        &[0x00, 0x00, 0x00, 0xf9, 0x00, 0x00, 0x00, 0xf5]
    );
    assert_eq!(
        std::str::from_utf8(&bytes[8..]).expect("UTF-8 header"),
        SPEC_C_HEADER
    );
    assert_eq!(bytes.len(), 4 + 0xf9);
    // And it decodes back to the command.
    let mut buf = bytes::BytesMut::from(bytes.as_ref());
    assert_eq!(
        decode_frame(&mut buf, DEFAULT_MAX_FRAME).expect("decodes"),
        Some(cmd)
    );
    assert!(buf.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The fixture parsers themselves

#[test]
fn helper_hex_parses() {
    assert_eq!(
        namesrv_tests::parse_hex("00 0a\nFF ").unwrap(),
        vec![0, 10, 255]
    );
    assert!(namesrv_tests::parse_hex("0g").is_err());
}

#[test]
fn helper_py_bytes_literals() {
    use namesrv_tests::parse_py_bytes_literal;
    let (b, rest) = parse_py_bytes_literal(r#"b'a\'b\\\x00\n"' tail"#).unwrap();
    assert_eq!(b, b"a'b\\\x00\n\"");
    assert_eq!(rest, " tail");
    let (b, rest) = parse_py_bytes_literal(r#"b"it's""#).unwrap();
    assert_eq!(b, b"it's");
    assert_eq!(rest, "");
    assert!(parse_py_bytes_literal("b'open").is_err());
}

#[test]
fn helper_log_lines_parse() {
    let l = namesrv_tests::parse_log_line(
        r#"#4 01:43:20 S->C resp serialize=JSON code=17  header={"code": 17, "flag": 1, "language": "JAVA", "opaque": 2, "remark": "x", "extFields": {"d": 4, "e": "s"}, "version": 407} body(3)=b'{}}'"#,
    )
    .unwrap();
    assert_eq!(l.n, 4);
    assert_eq!(l.expected.code, 17);
    assert_eq!(l.expected.remark.as_deref(), Some("x"));
    assert_eq!(l.expected.ext_fields["d"], "4");
    assert_eq!(l.expected.body_len, 3);
    assert_eq!(l.expected.body_prefix, b"{}}");
    assert_eq!(comment_field(&l.text, "serialize"), Some("JSON"));
}

/// rocketmq-broker 1.0.0 with `compressedRegister=true` sends its body as raw DEFLATE (no zlib
/// header); Apache's NameServer refuses it, we accept it (docs/compatibility.md). The captured
/// frame registers through the whole machine, CRC check included, and its topics route.
#[test]
fn rust_broker_raw_deflate_registration_registers() {
    use namesrv_tests::harness::Harness;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("interop/fixtures/rocketmq-broker-1.0.0-compressed-register.bin");
    let bytes = std::fs::read(&path).unwrap();
    let cmd = decode_exactly_one(&bytes).unwrap();
    assert_eq!(cmd.code, 103);
    assert_eq!(cmd.ext("compressed"), Some("true"));
    let body = cmd.body.clone().unwrap();
    assert_ne!(body[0], 0x78, "the capture is raw DEFLATE, not zlib");

    let mut h = Harness::new();
    let reply = h.call(1, cmd);
    assert_eq!(reply.code, 0, "{:?}", reply.remark);
    let info = h.cluster_info();
    assert_eq!(
        info.broker_addr_table["broker-a"].broker_addrs[&0],
        "127.0.0.1:10911"
    );
    let topics = h.all_topics();
    assert!(!topics.is_empty(), "no topic registered");
    for t in &topics {
        let route = h.route(t).unwrap_or_else(|| panic!("{t} has no route"));
        assert_eq!(route.queue_datas[0].broker_name, "broker-a");
    }
}
