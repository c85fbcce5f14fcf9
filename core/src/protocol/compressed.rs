//! A compressed REGISTER_BROKER body (`compressedRegister=true`): inflating it under a bound,
//! and the cursor over its length-prefixed sections (spec §2.3).

use std::io::Read;

use super::bodies::BodyError;

fn err(msg: impl Into<String>) -> BodyError {
    BodyError(msg.into())
}

/// Inflates a compressed registration body, failing once the output would exceed `max`.
///
/// Java's broker (`compressedRegister=true`) writes a zlib stream, as Apache's NameServer reads.
/// rocketmq-broker 1.0.0 writes raw DEFLATE with no zlib header, which Apache refuses; we accept
/// it as a listed deviation (docs/compatibility.md). Which one a body is is decided by its first
/// two bytes: a zlib header names method 8 and its 16 bits are a multiple of 31 (RFC 1950), which
/// a raw stream's first bytes satisfy only by chance; such a raw stream is refused as before.
pub fn inflate(body: &[u8], max: usize) -> Result<Vec<u8>, BodyError> {
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    let read = if has_zlib_header(body) {
        flate2::read::ZlibDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out)
    } else {
        flate2::read::DeflateDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out)
    };
    read.map_err(|e| {
        let what = if has_zlib_header(body) {
            "zlib"
        } else {
            "raw DEFLATE (no zlib header)"
        };
        err(format!(
            "Failed to decode RegisterBrokerBody: bad {what} stream: {e}"
        ))
    })?;
    if out.len() > max {
        return Err(err(format!(
            "Failed to decode RegisterBrokerBody: inflates beyond {max} bytes"
        )));
    }
    Ok(out)
}

/// RFC 1950's header: compression method 8 (deflate), a window of at most 32 KiB, and CMF·256+FLG
/// divisible by 31. A preset dictionary (FDICT) is never written by a broker, so it is refused.
fn has_zlib_header(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && flg & 0x20 == 0
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

pub(crate) struct Cursor<'a> {
    pub(crate) s: &'a [u8],
    pub(crate) i: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn remaining(&self) -> usize {
        self.s.len().saturating_sub(self.i)
    }

    pub(crate) fn count(&mut self, what: &str) -> Result<usize, BodyError> {
        let b = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| err(format!("compressed body truncated at {what}")))?;
        self.i += 4;
        let n = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        // Each entry needs at least its 4-byte length, so a count can be checked up front.
        usize::try_from(n)
            .ok()
            .filter(|n| n.saturating_mul(4) <= self.remaining())
            .ok_or_else(|| err(format!("compressed body: {what} {n} is impossible")))
    }

    pub(crate) fn chunk(&mut self, what: &str) -> Result<&'a [u8], BodyError> {
        let b = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| err(format!("compressed body truncated at {what}")))?;
        let n = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.i += 4;
        let n = usize::try_from(n)
            .map_err(|_| err(format!("compressed body: negative length for {what}")))?;
        let end = self
            .i
            .checked_add(n)
            .ok_or_else(|| err("compressed body: length overflow"))?;
        let out = self
            .s
            .get(self.i..end)
            .ok_or_else(|| err(format!("compressed body truncated in {what}")))?;
        self.i = end;
        Ok(out)
    }
}
