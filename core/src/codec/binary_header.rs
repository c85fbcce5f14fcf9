//! ROCKETMQ binary headers (serializeType 1, `RocketMQSerializable`, spec §1.3).
//!
//! All integers big-endian. Any string of length 0 decodes as null (so `haServerAddr=""` sent
//! in binary arrives absent); every length is checked against what is left before it is used.

use std::collections::BTreeMap;

use bytes::{BufMut, BytesMut};

use super::command::{LanguageCode, RemotingCommand};
use super::json_header::HeaderFields;
use super::CodecError;

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        let end = self
            .i
            .checked_add(n)
            .ok_or(CodecError::TruncatedBinaryHeader { field })?;
        let bytes = self
            .s
            .get(self.i..end)
            .ok_or(CodecError::TruncatedBinaryHeader { field })?;
        self.i = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodecError> {
        let b = self.take(N, field)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, CodecError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, CodecError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    fn remaining(&self) -> usize {
        self.s.len().saturating_sub(self.i)
    }

    /// A length-prefixed string; `len` was read by the caller. Empty → `None`.
    fn string(
        &mut self,
        len: i64,
        limit: usize,
        field: &'static str,
    ) -> Result<Option<String>, CodecError> {
        let n = usize::try_from(len)
            .ok()
            .filter(|n| *n <= limit)
            .ok_or(CodecError::LyingLength { field, len, limit })?;
        if n == 0 {
            return Ok(None);
        }
        let bytes = self.take(n, field)?;
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| CodecError::InvalidUtf8 { field })
    }
}

/// Decodes a ROCKETMQ binary header (`RocketMQSerializable.rocketMQProtocolDecode`); strings
/// of length 0 come back as `None`, and null extFields keys or values are dropped.
pub fn decode(header: &[u8]) -> Result<HeaderFields, CodecError> {
    let mut r = Reader { s: header, i: 0 };
    let code = r.i16("code")?;
    let [language] = r.array::<1>("language")?;
    let version = r.i16("version")?;
    let opaque = r.i32("opaque")?;
    let flag = r.i32("flag")?;
    let remark_len = r.i32("remarkLen")?;
    let limit = r.remaining();
    let remark = r.string(i64::from(remark_len), limit, "remark")?;
    let ext_len = r.i32("extLen")?;
    let ext_len_usize = usize::try_from(ext_len)
        .ok()
        .filter(|n| *n <= r.remaining())
        .ok_or(CodecError::LyingLength {
            field: "extFields",
            len: i64::from(ext_len),
            limit: r.remaining(),
        })?;
    let ext_fields = if ext_len_usize == 0 {
        None
    } else {
        let mut ext = BTreeMap::new();
        let mut m = Reader {
            s: r.take(ext_len_usize, "extFields")?,
            i: 0,
        };
        while m.remaining() > 0 {
            let key_len = m.i16("extFields key length")?;
            let key = m.string(i64::from(key_len), m.remaining(), "extFields key")?;
            let val_len = m.i32("extFields value length")?;
            let val = m.string(i64::from(val_len), m.remaining(), "extFields value")?;
            // Java stores null keys and values; a lookup of either finds nothing. We drop them.
            if let (Some(k), Some(v)) = (key, val) {
                ext.insert(k, v);
            }
        }
        Some(ext)
    };
    Ok(HeaderFields {
        code: i32::from(code),
        language: LanguageCode(language),
        version: i32::from(version),
        opaque,
        flag,
        remark,
        ext_fields,
    })
}

fn put_len_prefixed_i32(out: &mut BytesMut, s: &str) {
    let len = i32::try_from(s.len()).unwrap_or(i32::MAX);
    out.put_i32(len);
    out.put_slice(s.as_bytes());
}

/// Encodes as `RocketMQSerializable.rocketMQProtocolEncode`. Values wider than the wire fields
/// (code, version) are truncated exactly as Java's `(short)` cast truncates them.
pub fn encode(cmd: &RemotingCommand, out: &mut BytesMut) {
    out.put_i16(cmd.code as i16);
    out.put_u8(cmd.language.0);
    out.put_i16(cmd.version as i16);
    out.put_i32(cmd.opaque);
    out.put_i32(cmd.flag);
    match &cmd.remark {
        Some(r) => put_len_prefixed_i32(out, r),
        None => out.put_i32(0),
    }
    // The ext length comes first: written as 0, patched once the fields are in.
    let len_at = out.len();
    out.put_i32(0);
    if let Some(map) = &cmd.ext_fields {
        for (k, v) in map {
            // Keys longer than a short cannot be represented; Java would corrupt the frame.
            let Ok(klen) = i16::try_from(k.len()) else {
                continue;
            };
            out.put_i16(klen);
            out.put_slice(k.as_bytes());
            put_len_prefixed_i32(out, v);
        }
    }
    let ext_len = i32::try_from(out.len() - len_at - 4).unwrap_or(i32::MAX);
    if let Some(slot) = out.get_mut(len_at..len_at + 4) {
        slot.copy_from_slice(&ext_len.to_be_bytes());
    }
}
