//! The frame model: `RemotingCommand` (one frame, header fields plus optional body) and the
//! header vocabulary the codec needs to read and write one (`LanguageCode`, `SerializeType`,
//! the flag bits). It lives in the codec, the lowest layer; `protocol` re-exports it, so no
//! module of the codec reaches up into the protocol.

use std::collections::BTreeMap;

use bytes::Bytes;

/// The `version` our requests and replies announce (Apache 5.3.3, `MQVersion.CURRENT_VERSION`);
/// `protocol::CURRENT_VERSION`.
pub const CURRENT_VERSION: i32 = 479;

/// A decoded (or to-be-encoded) remoting command.
///
/// `ext_fields` distinguishes absent (`None`) from empty (`Some({})`) because Apache's JSON
/// responses do: a response whose custom header has only null fields carries `"extFields":{}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemotingCommand {
    /// `code`: the request code (`RequestCode`) of a request, the response code
    /// (`ResponseCode`) of a response.
    pub code: i32,
    /// `language`: the sender's client language.
    pub language: LanguageCode,
    /// `version`: the sender's RocketMQ version (an `MQVersion.Version` ordinal).
    pub version: i32,
    /// `opaque`: the request id a response echoes, so the sender can match them up.
    pub opaque: i32,
    /// `flag`: the [`flag`] bits (response, oneway).
    pub flag: i32,
    /// `remark`: free text, on responses usually the error message.
    pub remark: Option<String>,
    /// `extFields`: the custom header's fields as strings, sorted by key.
    pub ext_fields: Option<BTreeMap<String, String>>,
    /// How the header is (to be) serialized on the wire, JSON or ROCKETMQ binary.
    pub serialize_type: SerializeType,
    /// The body after the header, if any (often fastjson).
    pub body: Option<Bytes>,
}

impl RemotingCommand {
    /// A request as a Java client would build it.
    pub fn request(code: i32) -> Self {
        Self {
            code,
            language: LanguageCode::JAVA,
            version: CURRENT_VERSION,
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
            version: CURRENT_VERSION,
            opaque: request.opaque,
            flag: flag::RESPONSE,
            remark,
            ext_fields: None,
            serialize_type: request.serialize_type,
            body: None,
        }
    }

    /// Whether the [`flag::RESPONSE`] bit is set.
    pub fn is_response(&self) -> bool {
        self.flag & flag::RESPONSE != 0
    }

    /// Whether the [`flag::ONEWAY`] bit is set: the sender expects no reply.
    pub fn is_oneway(&self) -> bool {
        self.flag & flag::ONEWAY != 0
    }

    /// The extFields value under `key`, if present.
    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields.as_ref()?.get(key).map(String::as_str)
    }

    /// Sets the extFields entry `key` (creating the map if absent), builder style.
    pub fn with_ext(mut self, key: &str, value: impl Into<String>) -> Self {
        self.ext_fields
            .get_or_insert_with(BTreeMap::new)
            .insert(key.to_owned(), value.into());
        self
    }

    /// Sets the body, builder style.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets the opaque (request id), builder style.
    pub fn with_opaque(mut self, opaque: i32) -> Self {
        self.opaque = opaque;
        self
    }
}

/// `LanguageCode`: a byte on the binary wire, an enum name in JSON. Unknown bytes are kept as they came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LanguageCode(pub u8);

impl LanguageCode {
    /// `JAVA` (0): the Java client and broker.
    pub const JAVA: Self = Self(0);
    /// `CPP` (1): the C++ client.
    pub const CPP: Self = Self(1);
    /// `DOTNET` (2): the .NET client.
    pub const DOTNET: Self = Self(2);
    /// `PYTHON` (3): the Python client.
    pub const PYTHON: Self = Self(3);
    /// `DELPHI` (4): the Delphi client.
    pub const DELPHI: Self = Self(4);
    /// `ERLANG` (5): the Erlang client.
    pub const ERLANG: Self = Self(5);
    /// `RUBY` (6): the Ruby client.
    pub const RUBY: Self = Self(6);
    /// `OTHER` (7): any other language; also what unknown names parse to, and how unknown
    /// bytes are written in JSON.
    pub const OTHER: Self = Self(7);
    /// `HTTP` (8): HTTP clients.
    pub const HTTP: Self = Self(8);
    /// `GO` (9): the Go client.
    pub const GO: Self = Self(9);
    /// `PHP` (10): the PHP client.
    pub const PHP: Self = Self(10);
    /// `OMS` (11): OpenMessaging clients.
    pub const OMS: Self = Self(11);
    /// `RUST` (12): the Rust client.
    pub const RUST: Self = Self(12);
    /// `NODE_JS` (13): the Node.js client.
    pub const NODE_JS: Self = Self(13);

    const NAMES: [&'static str; 14] = [
        "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO",
        "PHP", "OMS", "RUST", "NODE_JS",
    ];

    /// The enum name; bytes Apache does not know are written as `OTHER`.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("OTHER")
    }

    /// Parses an enum name. fastjson maps unknown names to null; we keep them as `OTHER`.
    pub fn from_name(name: &str) -> Self {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| u8::try_from(i).ok())
            .map(Self)
            .unwrap_or(Self::OTHER)
    }

    /// Whether the byte is one Apache's `LanguageCode` names (0..=13).
    pub fn is_known(self) -> bool {
        usize::from(self.0) < Self::NAMES.len()
    }
}

/// Header serialization (`SerializeType.java`): the high byte of the header-length word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SerializeType {
    /// `JSON` (0): the header is a fastjson object.
    Json,
    /// `ROCKETMQ` (1): the compact binary header of `RocketMQSerializable`.
    RocketMq,
}

impl SerializeType {
    /// The wire byte: 0 for JSON, 1 for ROCKETMQ.
    pub fn code(self) -> u8 {
        match self {
            SerializeType::Json => 0,
            SerializeType::RocketMq => 1,
        }
    }

    /// The type for a wire byte; `None` for bytes other than 0 and 1.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(SerializeType::Json),
            1 => Some(SerializeType::RocketMq),
            _ => None,
        }
    }
}

/// Flag bits of a command.
pub mod flag {
    /// Set on responses (`RPC_TYPE`).
    pub const RESPONSE: i32 = 1;
    /// Set on oneway requests (`RPC_ONEWAY`): processed, never answered.
    pub const ONEWAY: i32 = 2;
}
