//! The operator's HTTP port: `/metrics`, `/health`, `/ready`, the address-server endpoint
//! `/rocketmq/nsaddr` that RocketMQ clients poll to discover NameServers, and the status page
//! (`/`, `/topic/<name>`; `httpStatusPageEnable`, see `status_page.rs`).
//!
//! A minimal HTTP/1.1 responder on the same tokio runtime, not hyper: a few fixed GET routes
//! need none of hyper's features, and hyper (+ hyper-util, http, http-body-util, ...) would
//! roughly double this crate's dependency build on the 2-core machines it is built on. It also
//! runs unchanged on madsim's simulated TcpStream, which hyper's I/O adapters do not. Request
//! heads are parsed by `httparse` (hyper's own parser, no dependencies). One request per
//! connection (`Connection: close`), the request head is bounded in size and time, and
//! concurrent HTTP connections are capped, so this port cannot be used to tie up the server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::{metrics, status_page};

/// Largest request head read; anything longer is answered 431 and closed.
const MAX_HEAD: usize = 8 * 1024;
/// Most header lines parsed; more are answered 431.
const MAX_HEADERS: usize = 64;
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

    fn html(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: HTML,
            body,
            allow: false,
        }
    }
}

const HTML: &str = "text/html; charset=utf-8";

/// Sent with every HTML page: no scripts, no frames, nothing fetched from elsewhere; the page's
/// one inline style sheet is all it needs. A string that slipped past escaping still could not
/// run.
const HTML_HEADERS: &str = "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n";

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
    /// A status page as `(status, HTML)`; `None` while `httpStatusPageEnable` is off.
    fn page(&self, page: Page<'_>) -> Option<(u16, String)>;
}

/// The status pages (see `status_page.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page<'a> {
    /// `GET /`.
    Overview,
    /// `GET /topic/<name>` or `GET /topic?name=<name>`; the name percent-decoded.
    Topic(&'a str),
}

/// Answers one parsed request line.
pub(crate) fn route(shared: &dyn HttpState, method: &str, target: &str) -> Response {
    if method != "GET" && method != "HEAD" {
        let mut r = Response::text(405, "only GET and HEAD\n");
        r.allow = true;
        return r;
    }
    // Query strings and fragments do not select anything here (but the topic form's).
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = path.split('#').next().unwrap_or(path);
    let query = query.split('#').next().unwrap_or(query);
    if path == "/" || path == "/topic" || path.starts_with("/topic/") {
        return status_page(shared, path, query);
    }
    let path = path.trim_end_matches('/');
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

/// `/`, `/topic/<name>`, `/topic?name=<name>`: the status page, or 404 as any unknown path when
/// it is off.
fn status_page(shared: &dyn HttpState, path: &str, query: &str) -> Response {
    let name = match path.strip_prefix("/topic") {
        None => None,
        Some("") | Some("/") => {
            let raw = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("name="))
                .unwrap_or("");
            Some(status_page::decode_component(raw, true))
        }
        Some(rest) => Some(status_page::decode_component(
            rest.trim_start_matches('/'),
            false,
        )),
    };
    let page = match &name {
        None => Page::Overview,
        Some(Some(name)) => Page::Topic(name.trim()),
        Some(None) => return Response::text(400, "the topic name is not UTF-8\n"),
    };
    match shared.page(page) {
        Some((status, body)) => Response::html(status, body),
        None => Response::text(404, "not found\n"),
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
    if resp.content_type == HTML {
        out.push_str(HTML_HEADERS);
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

/// Parses what has arrived of a request head: `None` while it is incomplete.
fn parse_head(buf: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) => None,
        Ok(httparse::Status::Complete(_)) => Some(match (req.method, req.path) {
            (Some(method), Some(target)) if target.starts_with('/') => {
                Head::Request(method.to_owned(), target.to_owned())
            }
            // An absolute-form or `*` target: not something this port serves.
            _ => Head::Bad(400),
        }),
        Err(httparse::Error::TooManyHeaders) => Some(Head::Bad(431)),
        Err(_) => Some(Head::Bad(400)),
    }
}

async fn read_head(stream: &mut TcpStream) -> Head {
    let mut buf = Vec::with_capacity(512);
    let read = async {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(head) = parse_head(&buf) {
                return head;
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

    fn parse(s: &[u8]) -> Option<Head> {
        parse_head(s)
    }

    #[test]
    fn request_lines() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Head::Request("GET".into(), "/metrics".into()))
        );
        assert_eq!(
            parse(b"HEAD /ready HTTP/1.0\r\n\r\n"),
            Some(Head::Request("HEAD".into(), "/ready".into()))
        );
        assert_eq!(parse(b"GET /metrics\r\n\r\n"), Some(Head::Bad(400)));
        assert_eq!(parse(b"GET metrics HTTP/1.1\r\n\r\n"), Some(Head::Bad(400)));
        assert_eq!(
            parse(b"GET http://x/ HTTP/1.1\r\n\r\n"),
            Some(Head::Bad(400))
        );
        assert_eq!(parse(b"\xff\xfe\r\n\r\n"), Some(Head::Bad(400)));
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(parse(b"GET / HTT"), None);
        assert_eq!(
            parse(b"GET / HTTP/1.1\n\nrest"),
            Some(Head::Request("GET".into(), "/".into()))
        );
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X: y\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(parse(many.as_bytes()), Some(Head::Bad(431)));
    }

    struct Off;
    impl HttpState for Off {
        fn metrics_text(&self) -> String {
            String::new()
        }
        fn readiness(&self) -> Result<(), String> {
            Ok(())
        }
        fn nsaddr(&self) -> String {
            String::new()
        }
        fn page(&self, page: Page<'_>) -> Option<(u16, String)> {
            match page {
                Page::Overview => None,
                Page::Topic(t) => Some((200, format!("topic={t}"))),
            }
        }
    }

    #[test]
    fn status_page_paths() {
        let body = |target: &str| route(&Off, "GET", target);
        assert_eq!(body("/").status, 404, "off: as any unknown path");
        assert_eq!(body("/topic/%25RETRY%25g").body, "topic=%RETRY%g");
        assert_eq!(body("/topic/%RETRY%g").body, "topic=%RETRY%g");
        assert_eq!(body("/topic?name=a+b&x=1").body, "topic=a b");
        assert_eq!(body("/topic/?name=T#frag").body, "topic=T");
        assert_eq!(body("/topic/T?x=1").body, "topic=T");
        assert_eq!(body("/topic/%ff").status, 400);
        assert_eq!(body("/topic/T").content_type, HTML);
        let bytes = String::from_utf8(render(&body("/topic/T"), false)).unwrap();
        assert!(
            bytes.contains("Content-Security-Policy: default-src 'none'"),
            "{bytes}"
        );
        assert!(!String::from_utf8(render(&body("/health"), false))
            .unwrap()
            .contains("Content-Security-Policy"));
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
