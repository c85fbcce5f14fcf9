//! A one-pass reader for plain JSON, the fast paths' common ground.
//!
//! What real peers send is almost always plain JSON: quoted keys, escape-free strings, plain
//! integers. The fast paths (JSON headers, REGISTER_BROKER bodies) read that directly into
//! their typed results, with no intermediate `Value`. Every method answers `None` as soon as
//! the input is anything else (an escape, a fraction, single quotes, a control character,
//! deep nesting), and the caller then hands the whole input to the lenient parser
//! ([`super::fastjson`]), which decides. So the fast paths never need to be as lenient as
//! fastjson: only never to disagree with it when they do answer, which the property tests and
//! fuzz targets check.

/// Nesting skipped values may have before the fast path gives up.
const MAX_SKIP_DEPTH: usize = 16;

pub(crate) struct Cursor<'a> {
    /// The input, checked to be UTF-8 once: strings are then sliced out of it without
    /// validating each again (delimiters are ASCII, so slices fall on character boundaries).
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// `None` when the input is not UTF-8 (the lenient parser then decides).
    pub(crate) fn new(b: &'a [u8]) -> Option<Self> {
        let s = std::str::from_utf8(b).ok()?;
        Some(Self { s, b, i: 0 })
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// Whether only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    pub(crate) fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        self.ws();
        let end = self.i.checked_add(w.len())?;
        (self.b.get(self.i..end)? == w).then(|| self.i = end)
    }

    /// A string without escapes or control characters.
    pub(crate) fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.b.get(self.i..)?;
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let s = self.s.get(self.i..self.i + len)?;
        self.i += len + 1;
        Some(s)
    }

    /// A plain integer: optional minus, at most 18 digits, no leading zero, no fraction or
    /// exponent.
    pub(crate) fn int(&mut self) -> Option<i64> {
        self.ws();
        let neg = self.b.get(self.i) == Some(&b'-');
        let start = self.i + usize::from(neg);
        let rest = self.b.get(start..)?;
        let len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 18 || (len > 1 && rest.first() == Some(&b'0')) {
            return None;
        }
        if let Some(b'.' | b'e' | b'E' | b'L' | b'l' | b'F' | b'f' | b'D' | b'd') = rest.get(len) {
            return None;
        }
        let mut n: i64 = 0;
        for &d in rest.get(..len)? {
            n = n * 10 + i64::from(d - b'0');
        }
        self.i = start + len;
        Some(if neg { -n } else { n })
    }

    /// Consumes `null` if it is next.
    pub(crate) fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.word(b"null")?;
            return Some(true);
        }
        Some(false)
    }

    /// After a member or element: `,` before another one (true), or the closing `close`
    /// (false).
    pub(crate) fn more(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Opens an object; false when it is empty (and already closed).
    pub(crate) fn open_object(&mut self) -> Option<bool> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(false);
        }
        Some(true)
    }

    /// A member's key and its colon.
    pub(crate) fn key(&mut self) -> Option<&'a str> {
        let k = self.string()?;
        self.eat(b':')?;
        Some(k)
    }

    /// Whether the next value is an empty object (consumed) or not (left alone).
    pub(crate) fn empty_object(&mut self) -> Option<bool> {
        let save = self.i;
        if self.peek()? == b'{' {
            self.i += 1;
            if self.peek()? == b'}' {
                self.i += 1;
                return Some(true);
            }
        }
        self.i = save;
        Some(false)
    }

    /// Skips one value of plain JSON (strings escape-free, numbers plain integers).
    pub(crate) fn skip_value(&mut self) -> Option<()> {
        self.skip(0)
    }

    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_SKIP_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                if self.open_object()? {
                    loop {
                        self.key()?;
                        self.skip(depth + 1)?;
                        if !self.more(b'}')? {
                            break;
                        }
                    }
                }
                Some(())
            }
            b'[' => {
                self.i += 1;
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    if !self.more(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            _ => self.int().map(drop),
        }
    }

    /// An array of strings (true) or `null`/absent-like other values left to the caller.
    pub(crate) fn string_array(&mut self) -> Option<Vec<String>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(items);
        }
        loop {
            items.push(self.string()?.to_owned());
            if !self.more(b']')? {
                return Some(items);
            }
        }
    }
}
