//! JSON headers (serializeType 0, spec §1.2): read as leniently as fastjson, written as
//! fastjson writes them (alphabetical properties, nulls omitted).

use std::collections::BTreeMap;

use bytes::BytesMut;
use serde_json::Value;

use super::command::{LanguageCode, RemotingCommand};
use super::fastjson::{self, Dialect};
use super::CodecError;

/// Header fields of a command, without body and serialize type.
#[derive(Debug, PartialEq, Eq)]
pub struct HeaderFields {
    /// `code`: the request or response code.
    pub code: i32,
    /// `language`: the sender's client language.
    pub language: LanguageCode,
    /// `version`: the sender's RocketMQ version (an `MQVersion.Version` ordinal).
    pub version: i32,
    /// `opaque`: the request id a response echoes.
    pub opaque: i32,
    /// `flag`: the response and oneway bits.
    pub flag: i32,
    /// `remark`: free text, on responses usually the error message.
    pub remark: Option<String>,
    /// `extFields`: the custom header's fields as strings.
    pub ext_fields: Option<BTreeMap<String, String>>,
}

fn int_field(obj: &serde_json::Map<String, Value>, field: &'static str) -> Result<i32, CodecError> {
    let Some(v) = obj.get(field) else {
        return Ok(0);
    };
    if v.is_null() {
        return Ok(0);
    }
    let n = fastjson::as_i64(v).ok_or_else(|| CodecError::BadHeaderField {
        field,
        reason: format!("expected an integer, got {v}"),
    })?;
    i32::try_from(n).map_err(|_| CodecError::BadHeaderField {
        field,
        reason: format!("{n} is outside the int range"),
    })
}

/// Decodes a JSON header: through the one-pass fast path when it is sure of the bytes,
/// otherwise through [`decode_lenient`]; both answer the same.
pub fn decode(header: &[u8]) -> Result<HeaderFields, CodecError> {
    if let Some(h) = fast::decode(header) {
        return Ok(h);
    }
    decode_lenient(header)
}

/// The general path: any JSON fastjson accepts, through a parsed value.
pub fn decode_lenient(header: &[u8]) -> Result<HeaderFields, CodecError> {
    let v = fastjson::parse(header).map_err(|e| CodecError::MalformedJson(e.to_string()))?;
    let Value::Object(obj) = v else {
        return Err(CodecError::MalformedJson(
            "the header is not a JSON object".into(),
        ));
    };
    let language = match obj.get("language") {
        Some(Value::String(name)) => LanguageCode::from_name(name),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|b| u8::try_from(b).ok())
            .map(LanguageCode)
            .unwrap_or(LanguageCode::OTHER),
        _ => LanguageCode::JAVA,
    };
    let remark = match obj.get("remark") {
        None | Some(Value::Null) => None,
        Some(v) => Some(fastjson::as_string(v).unwrap_or_else(|| v.to_string())),
    };
    let ext_fields = match obj.get("extFields") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            let mut ext = BTreeMap::new();
            for (k, v) in map {
                // C++ clients send numbers and booleans; fastjson turns them into strings.
                // A null value is an absent field.
                let s = match v {
                    Value::Null => continue,
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) => fastjson::as_string(v).unwrap_or_default(),
                    other => other.to_string(),
                };
                ext.insert(k.clone(), s);
            }
            Some(ext)
        }
        Some(other) => {
            return Err(CodecError::BadHeaderField {
                field: "extFields",
                reason: format!("expected an object, got {other}"),
            })
        }
    };
    Ok(HeaderFields {
        code: int_field(&obj, "code")?,
        language,
        version: int_field(&obj, "version")?,
        opaque: int_field(&obj, "opaque")?,
        flag: int_field(&obj, "flag")?,
        remark,
        ext_fields,
    })
}

/// Encodes a header as fastjson does: properties sorted by name, nulls omitted, and always
/// `serializeTypeCurrentRPC` (rocketmq-client-rust 1.0.0 drops replies without it). Written
/// straight into the frame's buffer: replies are the hot path.
pub fn encode(cmd: &RemotingCommand, out: &mut BytesMut) {
    use std::fmt::Write as _;
    // Writing into a BytesMut cannot fail.
    let _ = write!(out, "{{\"code\":{}", cmd.code);
    if let Some(ext) = &cmd.ext_fields {
        let mut s = String::with_capacity(64);
        s.push_str(",\"extFields\":{");
        let mut first = true;
        for (k, v) in ext {
            if !first {
                s.push(',');
            }
            first = false;
            fastjson::escape_into(&mut s, k, Dialect::Legacy);
            s.push(':');
            fastjson::escape_into(&mut s, v, Dialect::Legacy);
        }
        s.push('}');
        out.extend_from_slice(s.as_bytes());
    }
    let _ = write!(
        out,
        ",\"flag\":{},\"language\":\"{}\",\"opaque\":{}",
        cmd.flag,
        cmd.language.name(),
        cmd.opaque
    );
    if let Some(remark) = &cmd.remark {
        let mut s = String::with_capacity(remark.len() + 12);
        s.push_str(",\"remark\":");
        fastjson::escape_into(&mut s, remark, Dialect::Legacy);
        out.extend_from_slice(s.as_bytes());
    }
    let _ = write!(
        out,
        ",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":{}}}",
        cmd.version
    );
}

/// A fast path for the headers real clients send: one pass over the bytes, no intermediate
/// value. It accepts only plain JSON it is sure of (escape-free strings, plain integers, string
/// or null extFields values) and gives up (`None`) on anything else, which then goes through
/// [`decode_lenient`]. Whenever it answers, it answers what [`decode_lenient`] would: the
/// property tests and the `header` fuzz target check that.
pub(crate) mod fast {
    use std::collections::BTreeMap;

    use super::HeaderFields;
    use crate::codec::command::LanguageCode;
    use crate::codec::plain_json::Cursor;

    fn int32(c: &mut Cursor<'_>) -> Option<i32> {
        i32::try_from(c.int()?).ok()
    }

    fn ext_fields(c: &mut Cursor<'_>) -> Option<Option<BTreeMap<String, String>>> {
        if c.null()? {
            return Some(None);
        }
        let mut ext = BTreeMap::new();
        if c.open_object()? {
            loop {
                let k = c.key()?;
                // A null value is an absent field, as on the lenient path.
                if !c.null()? {
                    ext.insert(k.to_owned(), c.string()?.to_owned());
                }
                if !c.more(b'}')? {
                    break;
                }
            }
        }
        Some(Some(ext))
    }

    pub(crate) fn decode(header: &[u8]) -> Option<HeaderFields> {
        let mut c = Cursor::new(header)?;
        let mut h = HeaderFields {
            code: 0,
            language: LanguageCode::JAVA,
            version: 0,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: None,
        };
        if c.open_object()? {
            loop {
                match c.key()? {
                    "code" => h.code = int32(&mut c)?,
                    "version" => h.version = int32(&mut c)?,
                    "opaque" => h.opaque = int32(&mut c)?,
                    "flag" => h.flag = int32(&mut c)?,
                    "language" => h.language = LanguageCode::from_name(c.string()?),
                    "remark" => {
                        h.remark = if c.null()? {
                            None
                        } else {
                            Some(c.string()?.to_owned())
                        }
                    }
                    "extFields" => h.ext_fields = ext_fields(&mut c)?,
                    // Anything else (serializeTypeCurrentRPC): a plain string only.
                    _ => {
                        c.string()?;
                    }
                }
                if !c.more(b'}')? {
                    break;
                }
            }
        }
        // Nothing but whitespace may follow.
        c.at_end().then_some(h)
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    fn same(text: &str) {
        let fast = fast::decode(text.as_bytes());
        let slow = decode_lenient(text.as_bytes());
        if let Some(f) = fast {
            assert_eq!(slow.ok(), Some(f), "{text}");
        }
    }

    #[test]
    fn fast_path_answers_what_the_lenient_path_answers() {
        for text in [
            r#"{"code":105,"extFields":{"topic":"TopicA"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#,
            r#" { "code" : -1 , "opaque" : 2147483647 , "language" : "CPP", "remark" : null } "#,
            r#"{"code":1,"extFields":{"a":null,"b":"","c":"é"},"remark":"x"}"#,
            r#"{"code":1,"code":2}"#,
            r#"{}"#,
            r#"{"extFields":{}}"#,
            r#"{"extFields":null,"language":"RUST"}"#,
        ] {
            assert!(fast::decode(text.as_bytes()).is_some(), "{text}");
            same(text);
        }
        // Handed to the lenient path: escapes, numbers in extFields, fractions, big numbers,
        // unquoted keys, trailing bytes, leading zeros.
        for text in [
            r#"{"code":1,"remark":"a\nb"}"#,
            r#"{"code":1,"extFields":{"n":5}}"#,
            r#"{"code":1.0}"#,
            r#"{"code":99999999999}"#,
            r#"{code:1}"#,
            r#"{"code":1}x"#,
            r#"{"code":01}"#,
            r#"{"code":"1"}"#,
            "{\"remark\":\"a\u{1}\"}",
        ] {
            assert!(fast::decode(text.as_bytes()).is_none(), "{text}");
        }
    }
}
