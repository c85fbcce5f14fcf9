//! The wire codec (spec §1): frames, JSON and ROCKETMQ binary headers, fastjson bodies.
//! Pure functions over `bytes`; every malformed input is a typed [`CodecError`].

pub mod binary_header;
pub mod command;
pub mod fastjson;
pub mod frame;
pub mod json_header;
pub(crate) mod plain_json;

pub use frame::{
    decode_frame, encode_frame, encode_to_bytes, pending_frame_len, DEFAULT_MAX_FRAME,
};

/// Why a frame could not be decoded. Apache closes the connection on any of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The length prefix is below the 4 bytes the header-length word needs.
    BadLength(i32),
    /// `4 + total` exceeds the configured maximum (rejected from the prefix, before allocation).
    FrameTooLarge {
        /// The whole frame's length, `4 + total`, as the prefix declares it.
        frame_len: u64,
        /// The configured maximum frame length (`frameMaxLength`).
        max: usize,
    },
    /// The header length in the header-length word is longer than the frame.
    HeaderLongerThanFrame {
        /// The header length from the low 24 bits of the header-length word.
        header_len: usize,
        /// The frame's length after the length prefix (header-length word included).
        frame_len: usize,
    },
    /// The serialize-type byte is neither 0 (JSON) nor 1 (ROCKETMQ).
    UnknownSerializeType(u8),
    /// The JSON header is not (fastjson-lenient) JSON, or not an object.
    MalformedJson(String),
    /// A JSON header field has the wrong type or range.
    BadHeaderField {
        /// The JSON header key (`code`, `opaque`, `extFields`, ...).
        field: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The binary header ends inside `field`.
    TruncatedBinaryHeader {
        /// The binary header field being read when the bytes ran out.
        field: &'static str,
    },
    /// A length inside the binary header is negative or runs past its limit.
    LyingLength {
        /// The length-prefixed binary header field (`remark`, `extFields`, ...).
        field: &'static str,
        /// The length the header declares.
        len: i64,
        /// The most it may be: the bytes left in the header (or in `extFields`).
        limit: usize,
    },
    /// A binary header string is not UTF-8.
    InvalidUtf8 {
        /// The binary header field holding the bad bytes.
        field: &'static str,
    },
    /// A command cannot be encoded (header longer than the 24-bit length field).
    TooLargeToEncode {
        /// The encoded header's length in bytes.
        header_len: usize,
    },
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::BadLength(n) => write!(f, "bad frame length {n} (must be at least 4)"),
            CodecError::FrameTooLarge { frame_len, max } => {
                write!(f, "frame of {frame_len} bytes exceeds the maximum of {max}")
            }
            CodecError::HeaderLongerThanFrame { header_len, frame_len } => write!(
                f,
                "header length {header_len} is longer than the frame ({frame_len} bytes after the length)"
            ),
            CodecError::UnknownSerializeType(t) => write!(f, "unknown serialize type {t}"),
            CodecError::MalformedJson(e) => write!(f, "malformed JSON header: {e}"),
            CodecError::BadHeaderField { field, reason } => {
                write!(f, "bad header field {field}: {reason}")
            }
            CodecError::TruncatedBinaryHeader { field } => {
                write!(f, "binary header truncated in {field}")
            }
            CodecError::LyingLength { field, len, limit } => {
                write!(f, "binary header {field} length {len} outside 0..={limit}")
            }
            CodecError::InvalidUtf8 { field } => write!(f, "binary header {field} is not UTF-8"),
            CodecError::TooLargeToEncode { header_len } => {
                write!(f, "header of {header_len} bytes does not fit the 24-bit length")
            }
        }
    }
}

impl std::error::Error for CodecError {}

impl CodecError {
    /// A short stable name for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            CodecError::BadLength(_) => "bad_length",
            CodecError::FrameTooLarge { .. } => "frame_too_large",
            CodecError::HeaderLongerThanFrame { .. } => "header_longer_than_frame",
            CodecError::UnknownSerializeType(_) => "unknown_serialize_type",
            CodecError::MalformedJson(_) => "malformed_json",
            CodecError::BadHeaderField { .. } => "bad_header_field",
            CodecError::TruncatedBinaryHeader { .. } => "truncated_binary_header",
            CodecError::LyingLength { .. } => "lying_length",
            CodecError::InvalidUtf8 { .. } => "invalid_utf8",
            CodecError::TooLargeToEncode { .. } => "too_large_to_encode",
        }
    }
}
