//! JSON headers (serializeType 0, spec §1.2): read as leniently as fastjson, written as
//! fastjson writes them (alphabetical properties, nulls omitted).

use std::collections::BTreeMap;

use serde_json::Value;

use super::fastjson::{self, Dialect};
use super::CodecError;
use crate::protocol::LanguageCode;

/// Header fields of a command, without body and serialize type.
pub struct HeaderFields {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
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

pub fn decode(header: &[u8]) -> Result<HeaderFields, CodecError> {
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
/// `serializeTypeCurrentRPC` (rocketmq-client-rust 1.0.0 drops replies without it).
pub fn encode(h: &HeaderFields, out: &mut Vec<u8>) {
    let mut s = String::with_capacity(160);
    s.push_str("{\"code\":");
    s.push_str(&h.code.to_string());
    if let Some(ext) = &h.ext_fields {
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
    }
    s.push_str(",\"flag\":");
    s.push_str(&h.flag.to_string());
    s.push_str(",\"language\":\"");
    s.push_str(h.language.name());
    s.push_str("\",\"opaque\":");
    s.push_str(&h.opaque.to_string());
    if let Some(remark) = &h.remark {
        s.push_str(",\"remark\":");
        fastjson::escape_into(&mut s, remark, Dialect::Legacy);
    }
    s.push_str(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    s.push_str(&h.version.to_string());
    s.push('}');
    out.extend_from_slice(s.as_bytes());
}
