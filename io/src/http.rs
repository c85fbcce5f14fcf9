//! The operator's HTTP port: `/metrics`, `/health`, `/ready` and the address-server endpoint
//! `/rocketmq/nsaddr` that RocketMQ clients poll to discover NameServers.
//!
//! A minimal HTTP/1.1 responder on the same tokio runtime, not hyper: four fixed GET routes
//! with small bodies need none of hyper's features, and hyper (+ hyper-util, http,
//! http-body-util, httparse, ...) would roughly double this crate's dependency build on the
//! 2-core machines it is built on. It also runs unchanged on madsim's simulated TcpStream,
//! which hyper's I/O adapters do not. One request per connection (`Connection: close`), the
//! request head is bounded in size and time, and concurrent HTTP connections are capped, so
//! this port cannot be used to tie up the server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::metrics;

/// Largest request head read; anything longer is answered 431 and closed.
const MAX_HEAD: usize = 8 * 1024;
/// Time allowed for the whole request head to arrive.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for the response to be written.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP connections served at once; more are closed at accept.
const MAX_HTTP_CONNECTIONS: usize = 64;

/// A response: status, content type, body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub allow: bool,
}

impl Response {
    fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            allow: false,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// What the HTTP port shows, provided by the server (so this module depends on no server
/// internals, and the server on this module only to spawn it).
pub(crate) trait HttpState: Send + Sync {
    /// `/metrics`'s OpenMetrics text.
    fn metrics_text(&self) -> String;
    /// `/ready`: `Err(why)` when not.
    fn readiness(&self) -> Result<(), String>;
    /// `/rocketmq/nsaddr`'s body (empty: 404).
    fn nsaddr(&self) -> String;
}

/// Answers one parsed request line.
pub(crate) fn route(shared: &dyn HttpState, method: &str, target: &str) -> Response {
    if method != "GET" && method != "HEAD" {
        let mut r = Response::text(405, "only GET and HEAD\n");
        r.allow = true;
        return r;
    }
    // Query strings and fragments do not select anything here.
    let path = target
        .split(['?', '#'])
        .next()
        .unwrap_or(target)
        .trim_end_matches('/');
    match path {
        "/metrics" => Response {
            status: 200,
            content_type: metrics::CONTENT_TYPE,
            body: shared.metrics_text(),
            allow: false,
        },
        "/health" => Response::text(200, "ok\n"),
        "/ready" => match shared.readiness() {
            Ok(()) => Response::text(200, "ready\n"),
            Err(why) => Response::text(503, format!("not ready: {why}\n")),
        },
        "/rocketmq/nsaddr" => {
            let list = shared.nsaddr();
            if list.is_empty() {
                Response::text(404, "httpNsaddr is not configured\n")
            } else {
                // No trailing newline: Java's TopAddressing trims it, but not every client does.
                Response::text(200, list)
            }
        }
        _ => Response::text(404, "not found\n"),
    }
}

fn render(resp: &Response, head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len()
    );
    if resp.allow {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(resp.body.as_bytes());
    }
    bytes
}

/// What the request head came to.
#[derive(Debug, PartialEq, Eq)]
enum Head {
    /// `(method, target)` of a complete head.
    Request(String, String),
    Bad(u16),
}

/// Parses a complete request head (up to and including the blank line).
fn parse_head(head: &[u8]) -> Head {
    let Ok(text) = std::str::from_utf8(head) else {
        return Head::Bad(400);
    };
    let line = text.lines().next().unwrap_or("");
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(target), Some(version), None)
            if !method.is_empty() && target.starts_with('/') && version.starts_with("HTTP/1.") =>
        {
            Head::Request(method.to_owned(), target.to_owned())
        }
        _ => Head::Bad(400),
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
}

async fn read_head(stream: &mut TcpStream) -> Head {
    let mut buf = Vec::with_capacity(512);
    let read = async {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(end) = head_end(&buf) {
                return parse_head(buf.get(..end).unwrap_or(&buf));
            }
            if buf.len() > MAX_HEAD {
                return Head::Bad(431);
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Head::Bad(400),
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            }
        }
    };
    tokio::time::timeout(HEAD_TIMEOUT, read)
        .await
        .unwrap_or(Head::Bad(408))
}

async fn serve_one(shared: Arc<dyn HttpState>, mut stream: TcpStream) {
    let (resp, head_only) = match read_head(&mut stream).await {
        Head::Request(method, target) => {
            debug!(%method, %target, "http request");
            (route(shared.as_ref(), &method, &target), method == "HEAD")
        }
        Head::Bad(status) => (
            Response::text(status, format!("{}\n", reason(status))),
            false,
        ),
    };
    let bytes = render(&resp, head_only);
    let write = async {
        stream.write_all(&bytes).await?;
        stream.flush().await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, write).await;
}

/// Accepts HTTP connections until `stop` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<dyn HttpState>,
    mut stop: watch::Receiver<bool>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        warn!(error = %e, "http accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if active.load(Ordering::Relaxed) >= MAX_HTTP_CONNECTIONS {
                    debug!(%peer, "too many http connections; closing");
                    drop(stream);
                    continue;
                }
                active.fetch_add(1, Ordering::Relaxed);
                let shared = shared.clone();
                let active = active.clone();
                tokio::spawn(async move {
                    serve_one(shared, stream).await;
                    active.fetch_sub(1, Ordering::Relaxed);
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            parse_head(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Head::Request("GET".into(), "/metrics".into())
        );
        assert_eq!(
            parse_head(b"HEAD /ready HTTP/1.0\r\n\r\n"),
            Head::Request("HEAD".into(), "/ready".into())
        );
        assert_eq!(parse_head(b"GET /metrics\r\n\r\n"), Head::Bad(400));
        assert_eq!(parse_head(b"GET metrics HTTP/1.1\r\n\r\n"), Head::Bad(400));
        assert_eq!(parse_head(b"\xff\xfe\r\n\r\n"), Head::Bad(400));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest"), Some(16));
    }

    #[test]
    fn head_responses_have_no_body() {
        let r = Response::text(200, "ok\n");
        let full = String::from_utf8(render(&r, false)).unwrap();
        let head = String::from_utf8(render(&r, true)).unwrap();
        assert!(full.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(full.contains("Content-Length: 3\r\n"));
        assert!(full.ends_with("\r\n\r\nok\n"));
        assert!(head.ends_with("\r\n\r\n"));
    }
}
