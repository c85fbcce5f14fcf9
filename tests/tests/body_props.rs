//! Property tests of the REGISTER_BROKER body decoder's plain-JSON fast path: whenever it
//! answers, it answers what the lenient (fastjson) path answers. Bodies are drawn the way
//! brokers write them, plus what they never write: duplicate keys, nulls, strings where numbers
//! belong, out-of-range numbers, fractions, unknown members, any member order, stray
//! whitespace. `namesrv_core::fuzzing::register_body` asserts the agreement.

use proptest::prelude::*;

fn ws() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["", "", "", " ", "\n  ", "\t"])
}

/// A number-ish field value, mostly plain.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0i64..20).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => proptest::sample::select(vec![
            "null", "\"8\"", "1.5", "2147483648", "-1", "1e2", "true", "007", "8L", "[]", "{}",
        ])
        .prop_map(str::to_owned),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0u8..6).prop_map(|n| format!("\"Topic{n}\"")),
        1 => proptest::sample::select(vec![
            "null", "5", "\"\"", "\"a\\\"b\"", "'Topic1'", "\"é\"", "\"%RETRY%g\"",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Members in the given order, joined with stray whitespace.
fn object(members: Vec<(String, String)>, pad: &str) -> String {
    let body: Vec<String> = members
        .into_iter()
        .map(|(k, v)| format!("{pad}\"{k}\"{pad}:{pad}{v}"))
        .collect();
    format!("{{{}{pad}}}", body.join(","))
}

fn members(
    fields: Vec<(&'static str, BoxedStrategy<String>)>,
) -> impl Strategy<Value = Vec<(String, String)>> {
    let n = fields.len();
    let drawn: Vec<_> = fields
        .into_iter()
        .map(|(k, s)| (Just(k.to_owned()), s, any::<bool>()))
        .collect();
    (drawn, Just(n)).prop_flat_map(|(items, _)| {
        let kept: Vec<(String, String)> = items
            .into_iter()
            .filter(|(_, _, keep)| *keep)
            .map(|(k, v, _)| (k, v))
            .collect();
        Just(kept).prop_shuffle()
    })
}

fn topic_config() -> impl Strategy<Value = String> {
    (
        members(vec![
            ("topicName", name().boxed()),
            ("readQueueNums", number().boxed()),
            ("writeQueueNums", number().boxed()),
            ("perm", number().boxed()),
            ("topicSysFlag", number().boxed()),
            ("order", Just("false".to_owned()).boxed()),
            ("topicFilterType", Just("\"SINGLE_TAG\"".to_owned()).boxed()),
            ("attributes", Just("{\"+a\":\"b\"}".to_owned()).boxed()),
        ]),
        ws(),
        any::<bool>(),
    )
        .prop_map(|(m, pad, dup)| {
            let mut m = m;
            if dup {
                if let Some(first) = m.first().cloned() {
                    m.push(first);
                }
            }
            object(m, pad)
        })
}

fn topic_table() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::collection::vec(((0u8..8).prop_map(|k| format!("Topic{k}")), topic_config()), 0..8)
            .prop_map(|entries| object(entries, "")),
        1 => proptest::sample::select(vec!["null", "[]", "5", "{\"T\":5}"]).prop_map(str::to_owned),
    ]
}

fn data_version() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => members(vec![
            ("counter", number().boxed()),
            ("timestamp", number().boxed()),
            ("stateVersion", number().boxed()),
        ])
        .prop_map(|m| object(m, "")),
        1 => proptest::sample::select(vec!["null", "5", "\"x\"", "[]"]).prop_map(str::to_owned),
    ]
}

fn wrapper() -> impl Strategy<Value = String> {
    (
        members(vec![
            ("dataVersion", data_version().boxed()),
            ("topicConfigTable", topic_table().boxed()),
            (
                "topicQueueMappingInfoMap",
                proptest::sample::select(vec!["{}", "null", "{\"t\":{}}", "[]"])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            ("unknown", number().boxed()),
        ]),
        ws(),
    )
        .prop_map(|(m, pad)| object(m, pad))
}

fn register_body() -> impl Strategy<Value = String> {
    (
        members(vec![
            ("topicConfigSerializeWrapper", wrapper().boxed()),
            (
                "filterServerList",
                proptest::sample::select(vec!["[]", "[\"a:1\"]", "null", "[1]", "\"x\"", "[null]"])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            ("extra", number().boxed()),
        ]),
        ws(),
        proptest::sample::select(vec!["", " ", "\n", " x", ",", "}"]),
    )
        .prop_map(|(m, pad, tail)| format!("{}{tail}", object(m, pad)))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn register_body_fast_path_agrees_with_the_lenient_path(body in register_body()) {
        // Selector 2: version 479, not compressed (the JSON RegisterBrokerBody form).
        let mut data = vec![2u8];
        data.extend_from_slice(body.as_bytes());
        namesrv_core::fuzzing::register_body(&data);
    }

    #[test]
    fn legacy_wrapper_fast_path_agrees_with_the_lenient_path(body in wrapper()) {
        // Selector 0: version 36, a bare TopicConfigSerializeWrapper.
        let mut data = vec![0u8];
        data.extend_from_slice(body.as_bytes());
        namesrv_core::fuzzing::register_body(&data);
    }
}
