//! Stream framing (spec §1.1): `int32 total | int32 (type<<24)|headerLen | header | body`.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{binary_header, json_header, CodecError};
use crate::protocol::{RemotingCommand, SerializeType};

/// Apache's `com.rocketmq.remoting.frameMaxLength` default. Netty compares `4 + total` with it.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// Decodes one command from the front of `buf`, if a whole frame is there.
///
/// `Ok(None)`: need more bytes (nothing consumed). `Err`: the stream is unusable from here on,
/// and the connection should be closed, as Apache's `NettyDecoder` does. The length prefix is
/// checked against `max_frame` before anything is buffered or allocated.
pub fn decode_frame(
    buf: &mut BytesMut,
    max_frame: usize,
) -> Result<Option<RemotingCommand>, CodecError> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(None);
    };
    let total = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    if total < 4 {
        return Err(CodecError::BadLength(total));
    }
    let total = total as usize; // non-negative, checked above
    let frame_len = 4 + total;
    if frame_len > max_frame {
        return Err(CodecError::FrameTooLarge {
            frame_len: frame_len as u64,
            max: max_frame,
        });
    }
    if buf.len() < frame_len {
        buf.reserve(frame_len - buf.len());
        return Ok(None);
    }
    let mut frame = buf.split_to(frame_len).freeze();
    frame.advance(4);
    decode_command(frame).map(Some)
}

/// Decodes a frame without its length prefix.
pub fn decode_command(mut frame: Bytes) -> Result<RemotingCommand, CodecError> {
    let total = frame.len();
    if total < 4 {
        return Err(CodecError::BadLength(total as i32));
    }
    let word = frame.get_u32();
    let header_len = (word & 0x00FF_FFFF) as usize;
    let stype = (word >> 24) as u8;
    if header_len > total - 4 {
        return Err(CodecError::HeaderLongerThanFrame {
            header_len,
            frame_len: total,
        });
    }
    let serialize_type =
        SerializeType::from_code(stype).ok_or(CodecError::UnknownSerializeType(stype))?;
    let header = frame.split_to(header_len);
    let h = match serialize_type {
        SerializeType::Json => json_header::decode(&header)?,
        SerializeType::RocketMq => binary_header::decode(&header)?,
    };
    let body = if frame.is_empty() { None } else { Some(frame) };
    Ok(RemotingCommand {
        code: h.code,
        language: h.language,
        version: h.version,
        opaque: h.opaque,
        flag: h.flag,
        remark: h.remark,
        ext_fields: h.ext_fields,
        serialize_type,
        body,
    })
}

/// Appends the frame of `cmd` to `out`, headers in the command's own serialize type.
pub fn encode_frame(cmd: &RemotingCommand, out: &mut BytesMut) -> Result<(), CodecError> {
    let h = json_header::HeaderFields {
        code: cmd.code,
        language: cmd.language,
        version: cmd.version,
        opaque: cmd.opaque,
        flag: cmd.flag,
        remark: cmd.remark.clone(),
        ext_fields: cmd.ext_fields.clone(),
    };
    let mut header = Vec::with_capacity(192);
    match cmd.serialize_type {
        SerializeType::Json => json_header::encode(&h, &mut header),
        SerializeType::RocketMq => binary_header::encode(&h, &mut header),
    }
    if header.len() > 0x00FF_FFFF {
        return Err(CodecError::TooLargeToEncode {
            header_len: header.len(),
        });
    }
    let body_len = cmd.body.as_ref().map_or(0, Bytes::len);
    let total = 4 + header.len() + body_len;
    let total = u32::try_from(total).map_err(|_| CodecError::TooLargeToEncode {
        header_len: header.len(),
    })?;
    out.reserve(4 + total as usize);
    out.put_u32(total);
    out.put_u32((u32::from(cmd.serialize_type.code()) << 24) | header.len() as u32);
    out.put_slice(&header);
    if let Some(body) = &cmd.body {
        out.put_slice(body);
    }
    Ok(())
}

/// Convenience: the frame of `cmd` as one buffer.
pub fn encode_to_bytes(cmd: &RemotingCommand) -> Result<Bytes, CodecError> {
    let mut out = BytesMut::new();
    encode_frame(cmd, &mut out)?;
    Ok(out.freeze())
}
