//! A tiny HTTP/1.1 client for the HTTP-port tests: one request per connection, raw bytes out,
//! the whole reply in.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One HTTP reply: its status, its head (status line and headers) and its body.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

/// Sends `raw` as the whole request and reads the reply to the end (`Connection: close`).
pub fn http(port: u16, raw: &str) -> HttpReply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the HTTP port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read the reply");
    let text = String::from_utf8(out).expect("UTF-8 reply");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    HttpReply {
        status,
        headers: head.to_owned(),
        body: body.to_owned(),
    }
}

/// `GET path`.
pub fn get(port: u16, path: &str) -> HttpReply {
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n"),
    )
}
