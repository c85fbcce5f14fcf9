//! Helpers shared by the black-box, golden-frame and conformance tests.
//!
//! Fixtures live in `tests/fixtures/` (copied from the captures in `/work/shared/frames`), so
//! the repository tests on its own. Everything here reports problems as `Err(String)` rather
//! than panicking, so a test can collect every mismatch of a fixture family before failing.

pub mod controller;
pub mod harness;
pub mod http_client;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_to_bytes, DEFAULT_MAX_FRAME};
use namesrv_core::protocol::{LanguageCode, RemotingCommand, SerializeType};
use serde_json::Value;

/// `tests/fixtures/frames`, located from this crate's manifest so the working directory of
/// the test runner does not matter.
pub fn frames_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("frames")
}

/// Parses whitespace-separated hex bytes (`"00 0a ff"`); newlines are whitespace too.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    text.split_whitespace()
        .map(|tok| u8::from_str_radix(tok, 16).map_err(|e| format!("bad hex byte {tok:?}: {e}")))
        .collect()
}

/// A `.hex` capture: its `# ...` comment line and the bytes of one whole frame.
#[derive(Debug, Clone)]
pub struct HexFixture {
    pub comment: String,
    pub bytes: Vec<u8>,
}

/// Reads a `.hex` capture: a `# ...` comment line, then hex bytes.
pub fn read_hex_fixture(path: &Path) -> Result<HexFixture, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    if !first.starts_with('#') {
        return Err(format!(
            "{}: first line is not a `#` comment: {first:?}",
            path.display()
        ));
    }
    Ok(HexFixture {
        comment: first.trim_start_matches('#').trim().to_owned(),
        bytes: parse_hex(rest).map_err(|e| format!("{}: {e}", path.display()))?,
    })
}

/// The value of `key=...` in a space-separated comment or log line (up to the next space).
pub fn comment_field<'a>(comment: &'a str, key: &str) -> Option<&'a str> {
    comment.split_whitespace().find_map(|tok| {
        tok.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
    })
}

/// The serialize type a capture's comment announces (`serialize=JSON` / `serialize=ROCKETMQ`).
pub fn comment_serialize_type(comment: &str) -> Result<SerializeType, String> {
    match comment_field(comment, "serialize") {
        Some("JSON") => Ok(SerializeType::Json),
        Some("ROCKETMQ") => Ok(SerializeType::RocketMq),
        other => Err(format!("comment has no serialize=JSON|ROCKETMQ: {other:?}")),
    }
}

/// Decodes `bytes` with [`decode_frame`] and requires exactly one whole frame, nothing left.
pub fn decode_exactly_one(bytes: &[u8]) -> Result<RemotingCommand, String> {
    let mut buf = BytesMut::from(bytes);
    let cmd = match decode_frame(&mut buf, DEFAULT_MAX_FRAME) {
        Ok(Some(cmd)) => cmd,
        Ok(None) => {
            return Err(format!(
                "decode_frame wants more bytes (have {})",
                bytes.len()
            ))
        }
        Err(e) => return Err(format!("decode_frame failed: {e} ({e:?})")),
    };
    if !buf.is_empty() {
        return Err(format!(
            "{} bytes left in the buffer after one frame",
            buf.len()
        ));
    }
    Ok(cmd)
}

/// Encodes `cmd`, decodes the result, and requires the same command back.
pub fn check_round_trip(cmd: &RemotingCommand) -> Result<(), String> {
    let bytes = encode_to_bytes(cmd).map_err(|e| format!("encode_to_bytes failed: {e}"))?;
    let again = decode_exactly_one(&bytes).map_err(|e| format!("re-decoding: {e}"))?;
    if &again != cmd {
        return Err(format!(
            "round trip changed the command:\n  before: {cmd:?}\n  after:  {again:?}"
        ));
    }
    Ok(())
}

/// Decodes a Python `bytes` literal (`b'...'` or `b"..."`, as `repr(bytes)` prints it) at the
/// start of `s`; returns the bytes and what follows the closing quote.
pub fn parse_py_bytes_literal(s: &str) -> Result<(Vec<u8>, &str), String> {
    let rest = s
        .strip_prefix('b')
        .ok_or_else(|| format!("not a bytes literal: {:?}", truncate(s, 40)))?;
    let quote = rest
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')
        .ok_or_else(|| format!("bytes literal without a quote: {:?}", truncate(s, 40)))?;
    let mut out = Vec::new();
    let mut it = rest.char_indices().skip(1);
    while let Some((i, c)) = it.next() {
        if c == quote {
            return Ok((out, &rest[i + c.len_utf8()..]));
        }
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let (_, e) = it.next().ok_or("unterminated escape in bytes literal")?;
        match e {
            '\\' => out.push(b'\\'),
            '\'' => out.push(b'\''),
            '"' => out.push(b'"'),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'a' => out.push(0x07),
            'b' => out.push(0x08),
            'f' => out.push(0x0c),
            'v' => out.push(0x0b),
            'x' => {
                let hi = it.next().map(|(_, c)| c);
                let lo = it.next().map(|(_, c)| c);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err("truncated \\x escape in bytes literal".into());
                };
                let byte = u8::from_str_radix(&format!("{hi}{lo}"), 16)
                    .map_err(|e| format!("bad \\x escape \\x{hi}{lo}: {e}"))?;
                out.push(byte);
            }
            other => return Err(format!("unknown escape \\{other} in bytes literal")),
        }
    }
    Err("unterminated bytes literal".into())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// What a decoded log line (or a `frames.jsonl` record) says a frame holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedFrame {
    pub code: i32,
    /// The language as logged: an enum name, or (rarely) a raw byte.
    pub language: ExpectedLanguage,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    /// `extFields`; absent, `null` and `{}` are all the empty map.
    pub ext_fields: BTreeMap<String, String>,
    /// The body length the capture recorded.
    pub body_len: usize,
    /// The leading body bytes the capture recorded (possibly all of them, possibly none).
    pub body_prefix: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedLanguage {
    Name(String),
    Byte(u8),
}

fn json_i32(header: &Value, field: &str) -> Result<i32, String> {
    let v = header
        .get(field)
        .ok_or_else(|| format!("header has no {field:?}"))?;
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("header {field:?} is not an integer: {v}"))?;
    i32::try_from(n).map_err(|_| format!("header {field:?} = {n} is outside the int range"))
}

/// A JSON scalar as the string fastjson would bind it to (`4` → `"4"`, `true` → `"true"`).
fn json_scalar_string(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("not a scalar: {other}")),
    }
}

/// Reads the header fields from a logged header object (`{"code": 105, ...}`).
pub fn expected_header(
    header: &Value,
    body_len: usize,
    body_prefix: Vec<u8>,
) -> Result<ExpectedFrame, String> {
    if !header.is_object() {
        return Err(format!("header is not an object: {header}"));
    }
    let language = match header.get("language") {
        Some(Value::String(s)) => ExpectedLanguage::Name(s.clone()),
        Some(Value::Number(n)) => ExpectedLanguage::Byte(
            n.as_u64()
                .and_then(|b| u8::try_from(b).ok())
                .ok_or_else(|| format!("language byte out of range: {n}"))?,
        ),
        other => {
            return Err(format!(
                "header language is neither a name nor a byte: {other:?}"
            ))
        }
    };
    let remark = match header.get("remark") {
        None | Some(Value::Null) => None,
        Some(v) => Some(json_scalar_string(v).map_err(|e| format!("remark: {e}"))?),
    };
    let mut ext_fields = BTreeMap::new();
    match header.get("extFields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                if v.is_null() {
                    continue;
                }
                let s = json_scalar_string(v).map_err(|e| format!("extFields[{k:?}]: {e}"))?;
                ext_fields.insert(k.clone(), s);
            }
        }
        Some(other) => return Err(format!("extFields is not an object: {other}")),
    }
    Ok(ExpectedFrame {
        code: json_i32(header, "code")?,
        language,
        version: json_i32(header, "version")?,
        opaque: json_i32(header, "opaque")?,
        flag: json_i32(header, "flag")?,
        remark,
        ext_fields,
        body_len,
        body_prefix,
    })
}

/// One `#N ...` line of a decoded capture log.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub n: u32,
    /// The whole line, for messages and for fields such as `serialize=`.
    pub text: String,
    pub expected: ExpectedFrame,
}

/// Parses one log line: `#N ... header={json} body=b'...'` or `... body(LEN)=b'...'`.
pub fn parse_log_line(line: &str) -> Result<LogLine, String> {
    let rest = line
        .strip_prefix('#')
        .ok_or_else(|| format!("log line does not start with '#': {:?}", truncate(line, 60)))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n: u32 = digits
        .parse()
        .map_err(|e| format!("log line has no frame number: {e}"))?;
    let at = line
        .find(" header=")
        .ok_or_else(|| format!("log line #{n} has no header="))?;
    let json_text = &line[at + " header=".len()..];
    let mut stream = serde_json::Deserializer::from_str(json_text).into_iter::<Value>();
    let header = stream
        .next()
        .ok_or_else(|| format!("log line #{n}: empty header"))?
        .map_err(|e| format!("log line #{n}: header is not JSON: {e}"))?;
    let after = &json_text[stream.byte_offset()..];
    let after = after
        .strip_prefix(" body")
        .ok_or_else(|| format!("log line #{n}: no body after the header"))?;
    let (declared_len, literal) = if let Some(eq) = after.strip_prefix('=') {
        (None, eq)
    } else if let Some(paren) = after.strip_prefix('(') {
        let (len, tail) = paren
            .split_once(")=")
            .ok_or_else(|| format!("log line #{n}: malformed body(LEN)="))?;
        let len: usize = len
            .parse()
            .map_err(|e| format!("log line #{n}: body length {len:?}: {e}"))?;
        (Some(len), tail)
    } else {
        return Err(format!("log line #{n}: malformed body field"));
    };
    let (body, tail) =
        parse_py_bytes_literal(literal).map_err(|e| format!("log line #{n}: body: {e}"))?;
    if !tail.trim().is_empty() {
        return Err(format!(
            "log line #{n}: trailing text after the body: {tail:?}"
        ));
    }
    let body_len = declared_len.unwrap_or(body.len());
    let expected =
        expected_header(&header, body_len, body).map_err(|e| format!("log line #{n}: {e}"))?;
    Ok(LogLine {
        n,
        text: line.to_owned(),
        expected,
    })
}

/// Reads a capture log into its lines by frame number. Blank lines are skipped.
pub fn read_log(path: &Path) -> Result<BTreeMap<u32, LogLine>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let parsed = parse_log_line(line).map_err(|e| format!("{}: {e}", path.display()))?;
        if lines.insert(parsed.n, parsed).is_some() {
            return Err(format!("{}: frame number repeated", path.display()));
        }
    }
    Ok(lines)
}

/// Compares a decoded command with what the capture says; lists every mismatching field.
pub fn check_against(cmd: &RemotingCommand, want: &ExpectedFrame) -> Result<(), String> {
    let mut errs = Vec::new();
    let mut cmp = |field: &str, got: String, want: String| {
        if got != want {
            errs.push(format!("{field}: got {got}, want {want}"));
        }
    };
    cmp("code", cmd.code.to_string(), want.code.to_string());
    cmp("opaque", cmd.opaque.to_string(), want.opaque.to_string());
    cmp("flag", cmd.flag.to_string(), want.flag.to_string());
    cmp("version", cmd.version.to_string(), want.version.to_string());
    match &want.language {
        ExpectedLanguage::Name(name) => {
            cmp("language", cmd.language.name().to_owned(), name.clone());
        }
        ExpectedLanguage::Byte(b) => cmp(
            "language",
            format!("{:?}", cmd.language),
            format!("{:?}", LanguageCode(*b)),
        ),
    }
    cmp(
        "remark",
        format!("{:?}", cmd.remark),
        format!("{:?}", want.remark),
    );
    let ext = cmd.ext_fields.clone().unwrap_or_default();
    cmp(
        "extFields",
        format!("{ext:?}"),
        format!("{:?}", want.ext_fields),
    );
    let body: &[u8] = cmd.body.as_deref().unwrap_or_default();
    cmp(
        "body length",
        body.len().to_string(),
        want.body_len.to_string(),
    );
    if !body.starts_with(&want.body_prefix) {
        errs.push(format!(
            "body: does not start with the {} logged bytes",
            want.body_prefix.len()
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// Name of the serialize type as the captures write it.
pub fn serialize_type_name(t: SerializeType) -> &'static str {
    match t {
        SerializeType::Json => "JSON",
        SerializeType::RocketMq => "ROCKETMQ",
    }
}

/// Collects failures of many fixtures and panics once, listing all of them.
#[derive(Debug, Default)]
pub struct Failures {
    pub checked: usize,
    pub failures: Vec<String>,
}

impl Failures {
    pub fn record(&mut self, what: &str, result: Result<(), String>) {
        self.checked += 1;
        if let Err(e) = result {
            self.failures.push(format!("{what}: {e}"));
        }
    }

    /// Panics with every failure, or if nothing was checked at all.
    pub fn finish(self, family: &str) -> usize {
        assert!(
            self.checked > 0,
            "no fixtures found for {family} under {}",
            frames_dir().display()
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} fixtures of {family} failed:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
        eprintln!("{family}: {} fixtures checked", self.checked);
        self.checked
    }
}
pub mod server;
