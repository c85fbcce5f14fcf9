//! Property tests of the wire codec (spec §1.1–§1.3): encode → decode is the identity, frames
//! decode the same however the stream is cut, hostile bytes never panic, and malformed input
//! gives the documented typed errors.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use namesrv_core::codec::{
    decode_frame, encode_frame, encode_to_bytes, CodecError, DEFAULT_MAX_FRAME,
};
use namesrv_core::protocol::{LanguageCode, RemotingCommand, SerializeType};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Generators

/// Characters that stress the JSON escaper and the UTF-8 handling.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => proptest::char::range(' ', '~'),
        2 => proptest::sample::select(vec![
            '"', '\\', '/', '\'', '{', '}', '[', ']', ':', ',', '\n', '\r', '\t', '\0', '\u{1}',
            '\u{8}', '\u{c}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{a0}', 'é', '中',
            '\u{2028}', '\u{2029}', '\u{feff}', '\u{fffd}', '\u{ffff}', '😀', '\u{10ffff}',
        ]),
    ]
}

/// A string of `min..=max` characters (not bytes).
fn text(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), min..=max).prop_map(|v| v.into_iter().collect())
}

/// Non-empty extFields keys of at most 100 bytes.
fn ext_key() -> impl Strategy<Value = String> {
    text(1, 30).prop_filter("key of at most 100 bytes", |k| k.len() <= 100)
}

fn language() -> impl Strategy<Value = LanguageCode> {
    (0u8..=13).prop_map(LanguageCode)
}

fn body() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 1..200).prop_map(Bytes::from))
}

/// A command that must survive a binary (ROCKETMQ) round trip: short code and version, no
/// empty strings (they decode as null) and no empty map (extLen 0 decodes as null).
fn binary_command() -> impl Strategy<Value = RemotingCommand> {
    (
        any::<i16>(),
        language(),
        any::<i16>(),
        any::<i32>(),
        any::<i32>(),
        proptest::option::of(text(1, 40)),
        proptest::option::of(proptest::collection::btree_map(
            ext_key(),
            text(1, 30),
            1..8,
        )),
        body(),
    )
        .prop_map(
            |(code, language, version, opaque, flag, remark, ext_fields, body)| RemotingCommand {
                code: i32::from(code),
                language,
                version: i32::from(version),
                opaque,
                flag,
                remark,
                ext_fields,
                serialize_type: SerializeType::RocketMq,
                body,
            },
        )
}

/// A command that must survive a JSON round trip. JSON keeps what binary cannot: any int
/// code and version, `"remark":""`, `"extFields":{}` and empty values.
fn json_command() -> impl Strategy<Value = RemotingCommand> {
    (
        any::<i32>(),
        language(),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        proptest::option::of(text(0, 40)),
        proptest::option::of(proptest::collection::btree_map(
            ext_key(),
            text(0, 30),
            0..8,
        )),
        body(),
    )
        .prop_map(
            |(code, language, version, opaque, flag, remark, ext_fields, body)| RemotingCommand {
                code,
                language,
                version,
                opaque,
                flag,
                remark,
                ext_fields,
                serialize_type: SerializeType::Json,
                body,
            },
        )
}

fn any_command() -> impl Strategy<Value = RemotingCommand> {
    prop_oneof![binary_command(), json_command()]
}

/// Decodes every whole frame in `buf`, panicking on an error.
fn drain(buf: &mut BytesMut, out: &mut Vec<RemotingCommand>) {
    while let Some(cmd) = decode_frame(buf, DEFAULT_MAX_FRAME).expect("valid stream") {
        out.push(cmd);
    }
}

/// Feeds `bytes` to `decode_frame` and decodes until it stops; must never panic. Returns
/// whether it ended in an error.
fn decode_all_no_panic(bytes: &[u8], max_frame: usize) -> bool {
    let mut buf = BytesMut::from(bytes);
    loop {
        let before = buf.len();
        match decode_frame(&mut buf, max_frame) {
            Ok(Some(_)) => assert!(buf.len() < before, "a decoded frame consumed nothing"),
            Ok(None) => {
                assert_eq!(buf.len(), before, "Ok(None) consumed bytes");
                return false;
            }
            Err(_) => return true,
        }
    }
}

fn frame(serialize_type: u8, header: &[u8], body: &[u8]) -> Vec<u8> {
    let total = 4 + header.len() + body.len();
    let mut v = Vec::with_capacity(4 + total);
    v.extend_from_slice(&(total as u32).to_be_bytes());
    v.extend_from_slice(&((u32::from(serialize_type) << 24) | header.len() as u32).to_be_bytes());
    v.extend_from_slice(header);
    v.extend_from_slice(body);
    v
}

/// Integers that sit on the interesting edges of the binary length fields.
fn edgy_len() -> impl Strategy<Value = i32> {
    prop_oneof![
        0..64i32,
        Just(-1),
        Just(i32::MIN),
        Just(i32::MAX),
        Just(0x7fff),
        Just(0x8000),
        Just(0xffff),
        any::<i32>(),
    ]
}

/// A length field: usually the honest length, sometimes an edgy lie.
fn maybe_lying_len() -> impl Strategy<Value = Option<i32>> {
    prop_oneof![3 => Just(None), 1 => edgy_len().prop_map(Some)]
}

/// String bytes: usually UTF-8 text, sometimes arbitrary bytes.
fn string_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => text(0, 10).prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..12),
    ]
}

/// Binary headers that often decode: the fixed 13 bytes, a remark and extFields entries
/// whose length fields are mostly honest and sometimes edgy lies, and optional trailing bytes.
fn binary_header_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(any::<u8>(), 13),
        maybe_lying_len(),
        string_bytes(),
        maybe_lying_len(),
        proptest::collection::vec(
            (
                prop_oneof![3 => Just(None), 1 => prop_oneof![-2..40i16, any::<i16>()].prop_map(Some)],
                string_bytes(),
                maybe_lying_len(),
                string_bytes(),
            ),
            0..4,
        ),
        proptest::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(fixed, remark_len, remark, ext_len, entries, trailing)| {
            let mut h = fixed;
            let honest = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
            h.extend_from_slice(&remark_len.unwrap_or(honest(remark.len())).to_be_bytes());
            h.extend_from_slice(&remark);
            let mut ext = Vec::new();
            for (klen, k, vlen, v) in entries {
                let klen = klen.unwrap_or(i16::try_from(k.len()).unwrap_or(i16::MAX));
                ext.extend_from_slice(&klen.to_be_bytes());
                ext.extend_from_slice(&k);
                ext.extend_from_slice(&vlen.unwrap_or(honest(v.len())).to_be_bytes());
                ext.extend_from_slice(&v);
            }
            h.extend_from_slice(&ext_len.unwrap_or(honest(ext.len())).to_be_bytes());
            h.extend_from_slice(&ext);
            h.extend_from_slice(&trailing);
            h
        })
}

/// JSON-ish headers: bytes drawn mostly from JSON punctuation, digits, quotes and escapes.
fn jsonish_header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms = proptest::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "'",
        "\\",
        "\\u",
        "\\uD83D",
        "\\uDE00",
        "\\x",
        "0",
        "-",
        "1e999",
        "9223372036854775808",
        "-2147483649",
        "1L",
        "1.5",
        "true",
        "null",
        " ",
        "\"code\"",
        "\"flag\"",
        "\"language\"",
        "\"extFields\"",
        "\"remark\"",
        "\"version\"",
        "\"opaque\"",
        "\"JAVA\"",
        "code",
        "{\"a\":",
        "\u{0}",
        "\u{ff}",
        "é",
        "\u{fffd}",
    ]);
    prop_oneof![
        proptest::collection::vec(atoms, 0..40).prop_map(|v| v.concat().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// A JSON scalar or small container, in fastjson's lenient spellings.
fn lenient_json_value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<i32>().prop_map(|n| format!("\"{n}\"")),
        any::<i32>().prop_map(|n| format!("{n}L")),
        (-1.0e6f64..1.0e6).prop_map(|f| f.to_string()),
        proptest::sample::select(vec![
            "true",
            "false",
            "null",
            "\"JAVA\"",
            "'CPP'",
            "\"RUST\"",
            "\"NOPE\"",
            "\"\"",
            "\"\\u00e9\\n\\\"x\\/\"",
            "'it\\'s'",
            "\"\\uD83D\\uDE00\"",
            "\"\\uD83D\"",
            "1e3",
            "-0",
            "2147483648",
            "-2147483649",
            "[]",
            "[1,\"a\"]",
            "{}",
        ])
        .prop_map(str::to_owned),
        text(0, 12).prop_map(|s| serde_json::Value::String(s).to_string()),
    ];
    scalar.prop_recursive(2, 8, 4, |inner| {
        proptest::collection::vec((lenient_key(), inner), 0..4).prop_map(|pairs| {
            let body: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", body.join(","))
        })
    })
}

/// An object key: a header property name or something else, quoted three ways.
fn lenient_key() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        proptest::sample::select(vec![
            "code",
            "language",
            "version",
            "opaque",
            "flag",
            "remark",
            "extFields",
            "serializeTypeCurrentRPC",
            "topic",
            "0",
            "a_b$",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_$][a-zA-Z0-9_$]{0,6}",
    ];
    (name, 0..3u8).prop_map(|(n, q)| match q {
        0 => format!("\"{n}\""),
        1 => format!("'{n}'"),
        _ => n,
    })
}

/// Header objects built from lenient keys and values, with stray whitespace and commas.
fn lenient_json_header() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        (
            lenient_key(),
            lenient_json_value(),
            proptest::sample::select(vec![",", " , ", ",,", "\n,\t"]),
        ),
        0..9,
    )
    .prop_map(|pairs| {
        let mut s = String::from("{");
        for (k, v, sep) in pairs {
            s.push_str(&k);
            s.push(':');
            s.push_str(&v);
            s.push_str(sep);
        }
        s.push('}');
        s.into_bytes()
    })
}

/// What an encoder can carry of a decoded command, in its own serialize type:
/// - JSON writes languages by name, and a byte Apache does not know is written as `OTHER`;
/// - binary writes an empty extFields map as extLen 0, which decodes as absent. A decoded
///   binary map can be empty when every entry had an empty (null) key or value: Java keeps such
///   a map too (with null entries), and its encoder skips them the same way.
fn encodable(mut cmd: RemotingCommand) -> RemotingCommand {
    match cmd.serialize_type {
        SerializeType::Json => {
            if !cmd.language.is_known() {
                cmd.language = LanguageCode::OTHER;
            }
        }
        SerializeType::RocketMq => {
            if cmd.ext_fields.as_ref().is_some_and(BTreeMap::is_empty) {
                cmd.ext_fields = None;
            }
        }
    }
    cmd
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Keep the tree clean: no proptest-regressions files next to the tests.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn binary_round_trip(cmd in binary_command()) {
        let bytes = encode_to_bytes(&cmd).expect("encodes");
        let mut buf = BytesMut::from(bytes.as_ref());
        let got = decode_frame(&mut buf, DEFAULT_MAX_FRAME).expect("decodes");
        prop_assert_eq!(got, Some(cmd));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn json_round_trip(cmd in json_command()) {
        let bytes = encode_to_bytes(&cmd).expect("encodes");
        let mut buf = BytesMut::from(bytes.as_ref());
        let got = decode_frame(&mut buf, DEFAULT_MAX_FRAME).expect("decodes");
        prop_assert_eq!(got, Some(cmd));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn split_stream_decodes_like_whole(
        cmds in proptest::collection::vec(any_command(), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut stream = BytesMut::new();
        for cmd in &cmds {
            encode_frame(cmd, &mut stream).expect("encodes");
        }
        let stream = stream.freeze();

        let mut whole = Vec::new();
        let mut buf = BytesMut::from(stream.as_ref());
        drain(&mut buf, &mut whole);
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&whole, &cmds);

        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        points.dedup();
        let mut pieces = Vec::new();
        let mut buf = BytesMut::new();
        for w in points.windows(2) {
            buf.extend_from_slice(&stream[w[0]..w[1]]);
            drain(&mut buf, &mut pieces);
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(pieces, whole);
    }

    #[test]
    fn byte_at_a_time_decodes_like_whole(cmds in proptest::collection::vec(any_command(), 1..3)) {
        let mut stream = BytesMut::new();
        for cmd in &cmds {
            encode_frame(cmd, &mut stream).expect("encodes");
        }
        let mut got = Vec::new();
        let mut buf = BytesMut::new();
        for b in stream.iter() {
            buf.extend_from_slice(&[*b]);
            drain(&mut buf, &mut got);
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, cmds);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        max in prop_oneof![Just(DEFAULT_MAX_FRAME), 0usize..400],
    ) {
        decode_all_no_panic(&bytes, max);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_prefix_never_panic(
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = (rest.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&rest);
        decode_all_no_panic(&bytes, DEFAULT_MAX_FRAME);
    }

    #[test]
    fn arbitrary_json_headers_never_panic(
        header in prop_oneof![jsonish_header_bytes(), lenient_json_header()],
        body in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        decode_all_no_panic(&frame(0, &header, &body), DEFAULT_MAX_FRAME);
    }

    /// The JSON header fast path, whenever it answers, answers what the lenient parser does
    /// (`namesrv_core::fuzzing::header` asserts it).
    #[test]
    fn json_fast_path_agrees_with_the_lenient_parser(
        header in prop_oneof![
            jsonish_header_bytes(),
            lenient_json_header(),
            json_command().prop_map(|c| {
                let bytes = encode_to_bytes(&c).expect("encodes");
                let header_len = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) & 0xFF_FFFF;
                bytes[8..8 + header_len as usize].to_vec()
            }),
        ],
    ) {
        let mut data = vec![0u8];
        data.extend_from_slice(&header);
        namesrv_core::fuzzing::header(&data);
    }

    #[test]
    fn arbitrary_binary_headers_never_panic(
        header in prop_oneof![binary_header_bytes(), proptest::collection::vec(any::<u8>(), 0..64)],
        body in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        decode_all_no_panic(&frame(1, &header, &body), DEFAULT_MAX_FRAME);
    }

    #[test]
    fn arbitrary_header_words_never_panic(
        word in any::<u32>(),
        rest in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = ((4 + rest.len()) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&word.to_be_bytes());
        bytes.extend_from_slice(&rest);
        decode_all_no_panic(&bytes, DEFAULT_MAX_FRAME);
    }

    /// Every JSON header the fastjson-lenient parser accepts re-encodes to one that decodes
    /// to the same command, up to what the wire cannot carry (see [`encodable`]).
    #[test]
    fn decoded_json_headers_are_fixed_points(
        header in prop_oneof![1 => jsonish_header_bytes(), 4 => lenient_json_header()],
    ) {
        let bytes = frame(0, &header, &[]);
        let mut buf = BytesMut::from(bytes.as_slice());
        if let Ok(Some(cmd)) = decode_frame(&mut buf, DEFAULT_MAX_FRAME) {
            let again = encode_to_bytes(&cmd).expect("encodes");
            let mut buf = BytesMut::from(again.as_ref());
            let again = decode_frame(&mut buf, DEFAULT_MAX_FRAME).expect("decodes");
            prop_assert_eq!(again, Some(encodable(cmd)));
        }
    }

    /// Same for binary headers that decode.
    #[test]
    fn decoded_binary_headers_are_fixed_points(header in binary_header_bytes()) {
        let bytes = frame(1, &header, &[]);
        let mut buf = BytesMut::from(bytes.as_slice());
        if let Ok(Some(cmd)) = decode_frame(&mut buf, DEFAULT_MAX_FRAME) {
            let again = encode_to_bytes(&cmd).expect("encodes");
            let mut buf = BytesMut::from(again.as_ref());
            let again = decode_frame(&mut buf, DEFAULT_MAX_FRAME).expect("decodes");
            prop_assert_eq!(again, Some(encodable(cmd)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Typed errors

fn decode(bytes: &[u8]) -> Result<Option<RemotingCommand>, CodecError> {
    decode_frame(&mut BytesMut::from(bytes), DEFAULT_MAX_FRAME)
}

/// The fixed 13 bytes of a binary header: code 105, JAVA, version 479, opaque 7, flag 0.
const BINARY_FIXED: [u8; 13] = [0x00, 0x69, 0x00, 0x01, 0xdf, 0, 0, 0, 7, 0, 0, 0, 0];

#[test]
fn total_below_four_is_bad_length() {
    for total in [0i32, 1, 3, -1, i32::MIN] {
        let mut bytes = total.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0; 8]);
        assert_eq!(
            decode(&bytes),
            Err(CodecError::BadLength(total)),
            "total {total}"
        );
        // The prefix alone is enough to know.
        assert_eq!(
            decode(&total.to_be_bytes()),
            Err(CodecError::BadLength(total))
        );
    }
}

#[test]
fn oversized_prefix_is_rejected_from_the_prefix_alone() {
    // Only the four prefix bytes are present: no need to wait for (or buffer) the frame.
    let mut buf = BytesMut::from(&0x0000_1000u32.to_be_bytes()[..]);
    assert_eq!(
        decode_frame(&mut buf, 1024),
        Err(CodecError::FrameTooLarge {
            frame_len: 0x1004,
            max: 1024
        })
    );
    // Netty compares 4 + total with the maximum: 16777212 is the largest legal total.
    let over = (DEFAULT_MAX_FRAME as u32 - 3).to_be_bytes();
    assert!(matches!(
        decode(&over),
        Err(CodecError::FrameTooLarge { frame_len, max })
            if frame_len == DEFAULT_MAX_FRAME as u64 + 1 && max == DEFAULT_MAX_FRAME
    ));
    let largest = (DEFAULT_MAX_FRAME as u32 - 4).to_be_bytes();
    assert_eq!(decode(&largest), Ok(None));
    assert!(matches!(
        decode(&i32::MAX.to_be_bytes()),
        Err(CodecError::FrameTooLarge { .. })
    ));
}

#[test]
fn partial_frames_need_more_and_consume_nothing() {
    let cmd = RemotingCommand::request(105).with_ext("topic", "TopicTest");
    let bytes = encode_to_bytes(&cmd).expect("encodes");
    for cut in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..cut]);
        assert_eq!(
            decode_frame(&mut buf, DEFAULT_MAX_FRAME),
            Ok(None),
            "cut at {cut}"
        );
        assert_eq!(buf.len(), cut);
    }
}

#[test]
fn header_longer_than_frame() {
    // total 8: the header-length word plus 4 bytes, but the word claims a 5-byte header.
    let bytes = [0, 0, 0, 8, 0, 0, 0, 5, b'{', b'}', b' ', b' '];
    assert_eq!(
        decode(&bytes),
        Err(CodecError::HeaderLongerThanFrame {
            header_len: 5,
            frame_len: 8
        })
    );
    // The largest 24-bit header length in a minimal frame.
    let bytes = [0, 0, 0, 4, 1, 0xff, 0xff, 0xff];
    assert!(matches!(
        decode(&bytes),
        Err(CodecError::HeaderLongerThanFrame {
            header_len: 0xff_ffff,
            ..
        })
    ));
}

#[test]
fn unknown_serialize_type() {
    assert_eq!(
        decode(&[0, 0, 0, 4, 2, 0, 0, 0]),
        Err(CodecError::UnknownSerializeType(2))
    );
    assert_eq!(
        decode(&frame(0xff, b"{}", b"")),
        Err(CodecError::UnknownSerializeType(0xff))
    );
}

#[test]
fn malformed_json_header() {
    for header in [&b"{"[..], b"", b"{\"code\":", b"[1,2]", b"\xff", b"{} x"] {
        let got = decode(&frame(0, header, b""));
        assert!(
            matches!(got, Err(CodecError::MalformedJson(_))),
            "{:?} gave {got:?}",
            String::from_utf8_lossy(header)
        );
    }
}

#[test]
fn truncated_binary_header() {
    let got = decode(&frame(1, &BINARY_FIXED[..5], b""));
    assert!(
        matches!(got, Err(CodecError::TruncatedBinaryHeader { .. })),
        "{got:?}"
    );
    // Every proper prefix of the minimal 21-byte header is truncated somewhere.
    let mut minimal = BINARY_FIXED.to_vec();
    minimal.extend_from_slice(&[0; 8]);
    assert!(decode(&frame(1, &minimal, b"")).is_ok());
    for cut in 0..minimal.len() {
        let got = decode(&frame(1, &minimal[..cut], b""));
        assert!(
            matches!(got, Err(CodecError::TruncatedBinaryHeader { .. })),
            "cut {cut}: {got:?}"
        );
    }
}

#[test]
fn lying_binary_remark_length() {
    let mut header = BINARY_FIXED.to_vec();
    header.extend_from_slice(&0x7fff_ffffi32.to_be_bytes());
    header.extend_from_slice(b"short remark");
    header.extend_from_slice(&0i32.to_be_bytes());
    let got = decode(&frame(1, &header, b""));
    assert!(
        matches!(
            got,
            Err(CodecError::LyingLength {
                field: "remark",
                len: 0x7fff_ffff,
                ..
            })
        ),
        "{got:?}"
    );
    // Negative lengths lie too.
    let mut header = BINARY_FIXED.to_vec();
    header.extend_from_slice(&(-1i32).to_be_bytes());
    header.extend_from_slice(&0i32.to_be_bytes());
    let got = decode(&frame(1, &header, b""));
    assert!(
        matches!(
            got,
            Err(CodecError::LyingLength {
                field: "remark",
                len: -1,
                ..
            })
        ),
        "{got:?}"
    );
}

#[test]
fn lying_binary_ext_length() {
    let mut header = BINARY_FIXED.to_vec();
    header.extend_from_slice(&0i32.to_be_bytes());
    header.extend_from_slice(&100i32.to_be_bytes());
    header.extend_from_slice(&[0, 1, b'k', 0, 0, 0, 1, b'v']);
    let got = decode(&frame(1, &header, b""));
    assert!(
        matches!(
            got,
            Err(CodecError::LyingLength {
                field: "extFields",
                len: 100,
                ..
            })
        ),
        "{got:?}"
    );
}

#[test]
fn binary_empty_strings_decode_as_null() {
    // remarkLen 0, and an entry whose value is empty: both arrive absent (spec §1.3).
    let mut header = BINARY_FIXED.to_vec();
    header.extend_from_slice(&0i32.to_be_bytes());
    let entries: &[u8] = &[
        0, 1, b'a', 0, 0, 0, 0, // "a" -> ""
        0, 1, b'b', 0, 0, 0, 1, b'x', // "b" -> "x"
    ];
    header.extend_from_slice(&(entries.len() as i32).to_be_bytes());
    header.extend_from_slice(entries);
    let cmd = decode(&frame(1, &header, b""))
        .expect("decodes")
        .expect("whole frame");
    assert_eq!(cmd.remark, None);
    assert_eq!(
        cmd.ext_fields,
        Some(BTreeMap::from([("b".to_owned(), "x".to_owned())]))
    );
    assert_eq!(cmd.body, None);
}

#[test]
fn json_empty_remark_and_empty_ext_survive() {
    let mut cmd = RemotingCommand::request(0);
    cmd.remark = Some(String::new());
    cmd.ext_fields = Some(BTreeMap::new());
    let bytes = encode_to_bytes(&cmd).expect("encodes");
    assert_eq!(decode(&bytes), Ok(Some(cmd)));
}
