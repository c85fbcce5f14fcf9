//! fastjson-compatible JSON: a lenient parser and a writer with Apache's two dialects.
//!
//! Java peers serialize with fastjson 1.2.83, whose default output is not always JSON: maps
//! with `Long`/`Integer` keys come out as `{0:"10.0.0.1:10911"}` (apache/rocketmq#1445).
//! fastjson's parser also accepts single quotes and unquoted names. The parser here accepts all
//! of that and yields a `serde_json::Value`; it never panics, and it bounds nesting depth so a
//! hostile body cannot blow the stack.

use serde_json::{Map, Number, Value};

/// Deepest nesting accepted. Real bodies nest at most 6 levels.
pub const MAX_DEPTH: usize = 64;

/// Why [`parse`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// The byte offset into the input where the problem was found.
    pub offset: usize,
    /// What was wrong there.
    pub reason: &'static str,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed JSON at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for JsonError {}

/// Parses one JSON value (fastjson-lenient) that must fill `input` apart from whitespace.
pub fn parse(input: &[u8]) -> Result<Value, JsonError> {
    let mut p = Parser { s: input, i: 0 };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> JsonError {
        JsonError {
            offset: self.i,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' || c == 0x0c || c == 0x0b {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(q @ (b'"' | b'\'')) => Ok(Value::String(self.string(q)?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => {
                let word = self.bare_word();
                match word {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    _ => Err(self.err("unexpected character")),
                }
            }
        }
    }

    fn bare_word(&mut self) -> &str {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'-' || c == b'.' {
                self.i += 1;
            } else {
                break;
            }
        }
        std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default()).unwrap_or_default()
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.i += 1; // '{'
        let mut map = Map::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.err("unterminated object")),
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(map));
                }
                Some(b',') => {
                    // fastjson tolerates stray and trailing commas.
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            let key = match self.peek() {
                Some(q @ (b'"' | b'\'')) => self.string(q)?,
                _ => {
                    // Unquoted names, including fastjson's numeric map keys (`{0:"a"}`).
                    let w = self.bare_word();
                    if w.is_empty() {
                        return Err(self.err("expected an object key"));
                    }
                    w.to_owned()
                }
            };
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':' after an object key"));
            }
            self.i += 1;
            self.skip_ws();
            let v = self.value(depth + 1)?;
            map.insert(key, v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                None => return Err(self.err("unterminated object")),
                _ => return Err(self.err("expected ',' or '}' in an object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.i += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.err("unterminated array")),
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                Some(b',') => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {}
                None => return Err(self.err("unterminated array")),
                _ => return Err(self.err("expected ',' or ']' in an array")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("bad \\u escape"))?;
        let v = u32::from_str_radix(text, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self, quote: u8) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.i += 1;
            if c == quote {
                break;
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let e = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
            self.i += 1;
            let ch: char = match e {
                b'"' => '"',
                b'\'' => '\'',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'0' => '\0',
                b'u' => {
                    let hi = self.hex4()?;
                    if (0xD800..0xDC00).contains(&hi) {
                        // A surrogate pair; a lone high surrogate becomes U+FFFD, as Java's decoder does.
                        if self.s.get(self.i..self.i + 2) == Some(b"\\u") {
                            self.i += 2;
                            let lo = self.hex4()?;
                            if (0xDC00..0xE000).contains(&lo) {
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                char::from_u32(cp).unwrap_or('\u{FFFD}')
                            } else {
                                '\u{FFFD}'
                            }
                        } else {
                            '\u{FFFD}'
                        }
                    } else {
                        char::from_u32(hi).unwrap_or('\u{FFFD}')
                    }
                }
                _ => return Err(self.err("unknown escape")),
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        // fastjson accepts Java literal suffixes (`1L`, `1.0F`, `1D`).
        if matches!(self.peek(), Some(b'L' | b'l' | b'F' | b'f' | b'D' | b'd')) {
            self.i += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default())
            .unwrap_or_default()
            .trim_end_matches(['L', 'l', 'F', 'f', 'D', 'd']);
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(JsonError {
                offset: start,
                reason: "malformed number",
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writer

/// The two body dialects Apache writes (spec §1.10, §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// fastjson's default: non-string map keys unquoted (`{0:"a"}`), raw UTF-8.
    Legacy,
    /// `BrowserCompatible | MapSortField`: keys quoted and sorted, `/` and non-ASCII escaped.
    Standard,
}

/// A streaming JSON writer. Callers write object fields in the order fastjson would
/// (alphabetical for beans); the writer handles commas, quoting and escaping.
pub struct JsonWriter {
    out: String,
    dialect: Dialect,
    /// One entry per open container: whether it already holds an element.
    nonempty: Vec<bool>,
}

impl JsonWriter {
    /// An empty writer that will write `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            out: String::with_capacity(256),
            dialect,
            nonempty: Vec::new(),
        }
    }

    /// The dialect being written.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The JSON text written so far.
    pub fn finish(self) -> String {
        self.out
    }

    fn comma(&mut self) {
        if let Some(last) = self.nonempty.last_mut() {
            if *last {
                self.out.push(',');
            }
            *last = true;
        }
    }

    /// Opens an object: `{`.
    pub fn begin_object(&mut self) -> &mut Self {
        self.out.push('{');
        self.nonempty.push(false);
        self
    }

    /// Closes the innermost object: `}`.
    pub fn end_object(&mut self) -> &mut Self {
        self.nonempty.pop();
        self.out.push('}');
        self
    }

    /// Opens an array: `[`.
    pub fn begin_array(&mut self) -> &mut Self {
        self.out.push('[');
        self.nonempty.push(false);
        self
    }

    /// Closes the innermost array: `]`.
    pub fn end_array(&mut self) -> &mut Self {
        self.nonempty.pop();
        self.out.push(']');
        self
    }

    /// Starts the next array element.
    pub fn elem(&mut self) -> &mut Self {
        self.comma();
        self
    }

    /// Writes `"name":` (a bean property or a string map key).
    pub fn key(&mut self, name: &str) -> &mut Self {
        self.comma();
        self.write_str(name);
        self.out.push(':');
        self
    }

    /// Writes a numeric map key: unquoted in legacy mode, quoted in standard mode.
    pub fn long_key(&mut self, k: i64) -> &mut Self {
        self.comma();
        match self.dialect {
            Dialect::Legacy => self.out.push_str(&k.to_string()),
            Dialect::Standard => {
                self.out.push('"');
                self.out.push_str(&k.to_string());
                self.out.push('"');
            }
        }
        self.out.push(':');
        self
    }

    /// Writes a quoted string value, escaped as fastjson escapes it in this dialect.
    pub fn string(&mut self, s: &str) -> &mut Self {
        self.write_str(s);
        self
    }

    /// Writes an integer value; in the standard dialect one beyond ±2^53 is written as a
    /// string, as `BrowserCompatible` does.
    pub fn long(&mut self, v: i64) -> &mut Self {
        // BrowserCompatible writes longs beyond 2^53 as strings, so JavaScript keeps them exact.
        if self.dialect == Dialect::Standard && v.unsigned_abs() > 9_007_199_254_740_991 {
            self.out.push('"');
            self.out.push_str(&v.to_string());
            self.out.push('"');
        } else {
            self.out.push_str(&v.to_string());
        }
        self
    }

    /// Writes `true` or `false`.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.out.push_str(if v { "true" } else { "false" });
        self
    }

    /// Writes a pass-through value (static-topic mapping info). Object keys are emitted sorted
    /// in both dialects (`serde_json::Map` is ordered); all keys are quoted.
    pub fn value(&mut self, v: &Value) -> &mut Self {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => {
                self.bool(*b);
            }
            Value::Number(n) => match n.as_i64() {
                Some(i) => {
                    self.long(i);
                }
                None => self.out.push_str(&n.to_string()),
            },
            Value::String(s) => self.write_str(s),
            Value::Array(items) => {
                self.begin_array();
                for item in items {
                    self.elem();
                    self.value(item);
                }
                self.end_array();
            }
            Value::Object(map) => {
                self.begin_object();
                for (k, item) in map {
                    if item.is_null() {
                        continue; // fastjson omits null map values
                    }
                    self.key(k);
                    self.value(item);
                }
                self.end_object();
            }
        }
        self
    }

    fn write_str(&mut self, s: &str) {
        escape_into(&mut self.out, s, self.dialect);
    }
}

/// Appends `s` as a quoted JSON string with fastjson's escaping for `dialect`.
pub fn escape_into(out: &mut String, s: &str, dialect: Dialect) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if dialect == Dialect::Standard => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => push_u_escape(out, c as u32),
            c if dialect == Dialect::Standard && (c as u32) >= 0x7f => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(out, u32::from(*unit));
                }
            }
            c if (0x7f..=0x9f).contains(&(c as u32)) || c == '\u{2028}' || c == '\u{2029}' => {
                push_u_escape(out, c as u32)
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_u_escape(out: &mut String, unit: u32) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push_str("\\u");
    for shift in [12u32, 8, 4, 0] {
        let nibble = ((unit >> shift) & 0xf) as usize;
        out.push(char::from(HEX.get(nibble).copied().unwrap_or(b'0')));
    }
}

// ---------------------------------------------------------------------------------------------
// Lenient field access, as fastjson's bean binding coerces: numbers may arrive as strings and
// strings as numbers.

/// Reads an integer from a number, a numeric string, or a boolean-free value.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a string; numbers and booleans are rendered as fastjson renders them.
pub fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a boolean: JSON booleans, or strings as `Boolean.parseBoolean` reads them.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unquoted_numeric_keys() {
        let v = parse(br#"{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}}"#).unwrap();
        assert_eq!(v["brokerAddrs"]["0"], "10.0.0.1:10911");
        assert_eq!(v["brokerAddrs"]["1"], "10.0.0.2:10911");
    }

    #[test]
    fn parses_single_quotes_and_bare_names() {
        let v = parse(b"{name:'a\\'b', n : -12 , t:true,}").unwrap();
        assert_eq!(v["name"], "a'b");
        assert_eq!(v["n"], -12);
        assert_eq!(v["t"], true);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            &b"{"[..],
            b"{\"a\"",
            b"[1,",
            b"\"\\u12",
            b"{\"a\":}",
            b"nul",
            b"{} x",
            b"\xff",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn bounds_depth() {
        let deep = "[".repeat(10_000);
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err().reason,
            "nested too deeply"
        );
    }

    #[test]
    fn surrogate_pairs_decode() {
        assert_eq!(parse(br#""\uD83D\uDE00""#).unwrap(), "\u{1F600}");
    }

    #[test]
    fn dialects_escape_as_fastjson() {
        let mut s = String::new();
        escape_into(&mut s, "a/b é\n", Dialect::Legacy);
        assert_eq!(s, "\"a/b é\\n\"");
        let mut s = String::new();
        escape_into(&mut s, "a/b é\u{1F600}", Dialect::Standard);
        assert_eq!(s, "\"a\\/b \\u00E9\\uD83D\\uDE00\"");
    }

    #[test]
    fn numeric_keys_by_dialect() {
        for (d, want) in [
            (Dialect::Legacy, r#"{0:"a"}"#),
            (Dialect::Standard, r#"{"0":"a"}"#),
        ] {
            let mut w = JsonWriter::new(d);
            w.begin_object().long_key(0).string("a").end_object();
            assert_eq!(w.finish(), want);
        }
    }
}
