//! `RemotingCommand`: one frame of the protocol, header fields plus optional body.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::codes::{flag, version, LanguageCode, SerializeType};

/// A decoded (or to-be-encoded) remoting command.
///
/// `ext_fields` distinguishes absent (`None`) from empty (`Some({})`) because Apache's JSON
/// responses do: a response whose custom header has only null fields carries `"extFields":{}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemotingCommand {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    pub ext_fields: Option<BTreeMap<String, String>>,
    pub serialize_type: SerializeType,
    pub body: Option<Bytes>,
}

impl RemotingCommand {
    /// A request as a Java client would build it.
    pub fn request(code: i32) -> Self {
        Self {
            code,
            language: LanguageCode::JAVA,
            version: version::CURRENT,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: None,
            serialize_type: SerializeType::Json,
            body: None,
        }
    }

    /// The reply to `request`: same opaque and serialize type, response flag set,
    /// language JAVA and our version, as Apache's `writeResponse` does.
    pub fn response_to(request: &RemotingCommand, code: i32, remark: Option<String>) -> Self {
        Self {
            code,
            language: LanguageCode::JAVA,
            version: version::CURRENT,
            opaque: request.opaque,
            flag: flag::RESPONSE,
            remark,
            ext_fields: None,
            serialize_type: request.serialize_type,
            body: None,
        }
    }

    pub fn is_response(&self) -> bool {
        self.flag & flag::RESPONSE != 0
    }

    pub fn is_oneway(&self) -> bool {
        self.flag & flag::ONEWAY != 0
    }

    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields.as_ref()?.get(key).map(String::as_str)
    }

    pub fn with_ext(mut self, key: &str, value: impl Into<String>) -> Self {
        self.ext_fields
            .get_or_insert_with(BTreeMap::new)
            .insert(key.to_owned(), value.into());
        self
    }

    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub fn with_opaque(mut self, opaque: i32) -> Self {
        self.opaque = opaque;
        self
    }
}
