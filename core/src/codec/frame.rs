//! Stream framing (spec §1.1): `int32 total | int32 (type<<24)|headerLen | header | body`.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::command::{RemotingCommand, SerializeType};
use super::{binary_header, json_header, CodecError};

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

/// The whole length (prefix included) of the frame `buf` begins with, once its 4-byte prefix
/// is there and says a valid length; what [`decode_frame`] waits for.
pub fn pending_frame_len(buf: &[u8]) -> Option<usize> {
    let prefix: [u8; 4] = buf.get(..4)?.try_into().ok()?;
    let total = usize::try_from(i32::from_be_bytes(prefix)).ok()?;
    total.checked_add(4)
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

/// Appends the frame of `cmd` to `out`, headers in the command's own serialize type. The
/// header is written in place and the two length words patched in after it: no copy of the
/// command and no intermediate buffer (replies are the hot path).
pub fn encode_frame(cmd: &RemotingCommand, out: &mut BytesMut) -> Result<(), CodecError> {
    let body_len = cmd.body.as_ref().map_or(0, Bytes::len);
    let start = out.len();
    out.reserve(8 + 192 + body_len);
    out.put_u64(0); // total length and serialize type | header length, patched below
    match cmd.serialize_type {
        SerializeType::Json => json_header::encode(cmd, out),
        SerializeType::RocketMq => binary_header::encode(cmd, out),
    }
    let header_len = out.len() - start - 8;
    let too_large = CodecError::TooLargeToEncode { header_len };
    if header_len > 0x00FF_FFFF {
        out.truncate(start);
        return Err(too_large);
    }
    let Ok(total) = u32::try_from(4 + header_len + body_len) else {
        out.truncate(start);
        return Err(too_large);
    };
    let word = (u32::from(cmd.serialize_type.code()) << 24) | header_len as u32;
    if let Some(prefix) = out.get_mut(start..start + 8) {
        prefix[..4].copy_from_slice(&total.to_be_bytes());
        prefix[4..].copy_from_slice(&word.to_be_bytes());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_frame_length_is_known_from_its_prefix() {
        assert_eq!(pending_frame_len(&[0, 0, 1]), None, "no whole prefix yet");
        assert_eq!(pending_frame_len(&[0, 0, 1, 0]), Some(260));
        assert_eq!(
            pending_frame_len(&[0, 0x1b, 0, 0, 9, 9]),
            Some(0x1b_0000 + 4)
        );
        assert_eq!(
            pending_frame_len(&[0xff, 0xff, 0xff, 0xff]),
            None,
            "negative"
        );
        // What decode_frame waits for: it answers once exactly that many bytes are there.
        let cmd = RemotingCommand::request(103).with_body(vec![b'x'; 300]);
        let mut buf = BytesMut::new();
        encode_frame(&cmd, &mut buf).expect("encodes");
        let len = pending_frame_len(&buf).expect("a prefix");
        assert_eq!(len, buf.len());
        let mut short = BytesMut::from(&buf[..len - 1]);
        assert!(matches!(
            decode_frame(&mut short, DEFAULT_MAX_FRAME),
            Ok(None)
        ));
    }
}
