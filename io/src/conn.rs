//! One connection's task: the first bytes pick plain or TLS, then frames are read, offered
//! to the shared state (the read view or the machine), and the replies written, until the
//! connection ends; its close is then fed to the machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use namesrv_core::codec::{decode_frame, encode_frame, pending_frame_len};
use namesrv_core::protocol::RemotingCommand;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::metrics::{CloseReason, Metrics};
use crate::tls::{self, Policy, Prefixed};

/// What a connection task needs of the server (so this module knows nothing else of it).
pub(crate) trait Server: Send + Sync {
    /// Answers one request (`None`: no reply, e.g. oneway).
    fn request(&self, conn: u64, cmd: RemotingCommand) -> Option<RemotingCommand>;
    /// Whether the request is answered from the read view (else it takes the machine).
    fn is_read(&self, cmd: &RemotingCommand) -> bool;
    /// Permits for work that takes the machine (writes, closes), run off the I/O workers.
    fn writers(&self) -> &Semaphore;
    /// Bytes of large frames being read or answered, one permit a byte
    /// (`serverMaxInflightFrameBytes`, [`Limits::frame_budget`] permits in all).
    fn frame_budget(&self) -> &Semaphore;
    /// The connection closed; whether that removed brokers (worth an info line).
    fn closed(&self, conn: u64) -> bool;
    /// The counters.
    fn metrics(&self) -> &Metrics;
}

/// A frame longer than this (a registration of a few thousand topics) is read only once it holds
/// its length in the frame budget; smaller frames are read as they come.
pub(crate) const LARGE_FRAME: usize = 256 * 1024;

/// The default frame budget (`serverMaxInflightFrameBytes`): at most this many bytes of large
/// frames are in the server at once, read or being decoded and applied. 300 brokers of 10,000
/// topics send 1.76 MB each at once: without a bound all 528 MB would be read (and the memory
/// kept) while two are decoded at a time; with it about 36 are, and the rest wait in the
/// brokers' socket buffers (a broker's registration timeout is seconds, reading is
/// milliseconds). A frame over the budget takes all of it.
pub(crate) const FRAME_BUDGET: usize = 64 * 1024 * 1024;

/// A large frame holding part of the budget must have arrived whole this long after: a
/// connection that announces a big frame and then trickles it (or nothing) would otherwise
/// keep other brokers' registrations waiting for good. 16 MB at 1 MB/s takes 16 s.
const LARGE_FRAME_WINDOW: Duration = Duration::from_secs(30);

/// Replies encoded from pipelined requests before they are written: bounds a connection's
/// output buffer however many requests one read brought.
const WRITE_BATCH_BYTES: usize = 256 * 1024;

/// Read buffer capacity kept by an idle connection; a larger one is given back once empty.
const READ_BUFFER_KEEP: usize = 16 * 1024;

/// How long a write may wait for a client to read its replies before the connection is closed.
const WRITE_STALL: Duration = Duration::from_secs(30);

/// Per-connection limits read at start.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) idle: Option<Duration>,
    pub(crate) max_frame: usize,
    /// The frame budget's permits in all.
    pub(crate) frame_budget: usize,
}

/// Reads into `buf` within the idle limit; `None` on idle timeout.
async fn read_some<S: AsyncRead + Unpin>(
    rd: &mut S,
    buf: &mut BytesMut,
    idle: Option<Duration>,
) -> Option<std::io::Result<usize>> {
    let read = rd.read_buf(buf);
    match idle {
        Some(d) => tokio::time::timeout(d, read).await.ok(),
        None => Some(read.await),
    }
}

/// How a read ended a connection, if it did.
fn read_outcome(result: Option<std::io::Result<usize>>) -> Option<(CloseReason, String)> {
    match result {
        None => Some((CloseReason::Idle, "idle".to_owned())),
        Some(Ok(0)) => Some((CloseReason::ClosedByPeer, "closed by peer".to_owned())),
        Some(Ok(_)) => None,
        Some(Err(e)) => Some((CloseReason::ReadError, format!("read error: {e}"))),
    }
}

pub(crate) async fn connection(
    shared: Arc<dyn Server>,
    mut stream: TcpStream,
    peer: SocketAddr,
    conn: u64,
    limits: Limits,
    tls: &Policy,
    mut stop: watch::Receiver<bool>,
) {
    debug!(conn, %peer, "connection opened");
    // The first bytes tell a TLS handshake from a plain frame.
    let mut buf = BytesMut::with_capacity(4096);
    let first = tokio::select! {
        r = read_some(&mut stream, &mut buf, limits.idle) => read_outcome(r),
        _ = stop.changed() => Some((CloseReason::Shutdown, "server shutting down".to_owned())),
    };
    let (cause, reason) = match first {
        Some(end) => end,
        None => {
            let is_tls = buf.first() == Some(&tls::TLS_HANDSHAKE_BYTE);
            match (is_tls, tls) {
                (false, Policy::Enforcing(_)) => {
                    warn!(conn, %peer, "plain connection refused: tlsServerMode=enforcing accepts TLS only");
                    (
                        CloseReason::PlainRefused,
                        "plain connection refused (tlsServerMode=enforcing)".to_owned(),
                    )
                }
                (false, _) => serve(&shared, stream, buf, peer, conn, limits, stop).await,
                (true, Policy::PlainOnly { why }) => {
                    warn!(conn, %peer, why, "TLS handshake refused: this port serves plain connections only");
                    (
                        CloseReason::TlsRefused,
                        format!("TLS handshake refused ({why})"),
                    )
                }
                (true, Policy::Permissive(cert) | Policy::Enforcing(cert)) => {
                    let acceptor = cert.acceptor();
                    let prefixed = Prefixed::new(buf.split().freeze(), stream);
                    let handshake = tokio::select! {
                        r = tokio::time::timeout(tls::HANDSHAKE_TIMEOUT, acceptor.accept(prefixed)) => Some(r),
                        _ = stop.changed() => None,
                    };
                    match handshake {
                        None => (CloseReason::Shutdown, "server shutting down".to_owned()),
                        Some(Ok(Ok(tls_stream))) => {
                            debug!(conn, %peer, "TLS handshake done");
                            serve(&shared, tls_stream, buf, peer, conn, limits, stop).await
                        }
                        Some(Ok(Err(e))) => {
                            warn!(conn, %peer, error = %e, "TLS handshake failed; closing connection");
                            (
                                CloseReason::TlsHandshake,
                                format!("TLS handshake failed: {e}"),
                            )
                        }
                        Some(Err(_)) => {
                            warn!(conn, %peer, "TLS handshake timed out; closing connection");
                            (
                                CloseReason::TlsHandshake,
                                "TLS handshake timed out".to_owned(),
                            )
                        }
                    }
                }
            }
        }
    };
    shared.metrics().connection_closed(cause);
    // What the close removed, from the machine's own account of it.
    let had_brokers = off_workers(&shared, move |s| s.closed(conn))
        .await
        .unwrap_or(false);
    if had_brokers {
        info!(conn, %peer, reason, "broker connection closed");
    } else {
        debug!(conn, %peer, reason, "connection closed");
    }
}

/// Runs `f` (a write or a close: it takes the machine, and a registration of thousands of
/// topics is decoded and applied in tens of milliseconds) on a blocking thread, at most
/// [`Server::writers`] at once, so the I/O workers keep answering reads from the view
/// meanwhile, and at most that many bodies are decoded at once. `None`: `f` panicked (logged).
async fn off_workers<R: Send + 'static>(
    shared: &Arc<dyn Server>,
    f: impl FnOnce(&dyn Server) -> R + Send + 'static,
) -> Option<R> {
    // The semaphore is never closed, so a permit always comes.
    let _permit = shared.writers().acquire().await.ok();
    let s = shared.clone();
    // Under madsim, spawn_blocking (deprecated there) runs the closure as a simulated task.
    #[allow(deprecated)]
    let done = tokio::task::spawn_blocking(move || f(s.as_ref())).await;
    match done {
        Ok(r) => Some(r),
        Err(e) => {
            warn!(error = %e, "a write failed");
            None
        }
    }
}

/// Serves frames on a plain or TLS stream until it ends; `buf` holds bytes already read.
/// Returns why it ended, once the replies already encoded have been written.
///
/// One task reads, answers and writes: every whole frame already buffered is answered and its
/// reply encoded into one output buffer, which is written before reading again. Compared with
/// a separate writer task this saves two task wake-ups per request (they were most of the
/// shell's latency at 128 connections), and it bounds memory by itself: a client that stops
/// reading its replies stops being read, and is closed after `WRITE_STALL`.
async fn serve<S>(
    shared: &Arc<dyn Server>,
    stream: S,
    mut buf: BytesMut,
    peer: SocketAddr,
    conn: u64,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> (CloseReason, String)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    // Reads and writes take turns in this one task, so the stream needs no splitting.
    let mut stream = stream;
    let mut out = BytesMut::with_capacity(8 * 1024);
    // One idle timer and one shutdown watch for the connection's life, not one per read: a
    // timer armed and cancelled per request showed in profiles. When the timer fires early
    // (there were reads since it was armed) it is moved to the last read plus the limit.
    let idle = limits.idle.unwrap_or(Duration::from_secs(86_400 * 365));
    let mut last_read = Instant::now();
    let idle_timer = tokio::time::sleep(idle);
    tokio::pin!(idle_timer);
    let stopped = stop.changed();
    tokio::pin!(stopped);
    // The budget this connection holds for the large frame it is reading, if any, and when
    // that frame must be in.
    let mut budget = None;
    let mut budget_deadline = Instant::now();
    let end: (CloseReason, String) = 'read: loop {
        // Answer every whole frame already buffered (pipelining), then write, then read more.
        let mut decode_end = None;
        let mut batch_full = false;
        loop {
            match decode_frame(&mut buf, limits.max_frame) {
                Ok(Some(cmd)) => {
                    let reply = if shared.is_read(&cmd) {
                        shared.request(conn, cmd)
                    } else {
                        off_workers(shared, move |s| s.request(conn, cmd))
                            .await
                            .flatten()
                    };
                    // Answered: its bytes are gone, and so is what it held of the budget.
                    budget = None;
                    if let Some(reply) = reply {
                        if let Err(e) = encode_frame(&reply, &mut out) {
                            warn!(conn, error = %e, "cannot encode reply");
                        }
                    }
                    // Many pipelined requests: write what is ready before answering more.
                    if out.len() >= WRITE_BATCH_BYTES {
                        batch_full = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    warn!(conn, %peer, kind = e.kind(), error = %e, "bad frame; closing connection");
                    shared.metrics().decode_error(e.kind());
                    decode_end = Some((CloseReason::DecodeError, format!("decode error: {e}")));
                    break;
                }
            }
        }
        if !out.is_empty() {
            if let Some(end) = write_out(&mut stream, &mut out).await {
                break 'read end;
            }
        }
        if let Some(end) = decode_end {
            break 'read end;
        }
        if batch_full {
            // More frames may be buffered: answer them before reading.
            continue;
        }
        if buf.is_empty() && buf.capacity() > READ_BUFFER_KEEP {
            // A large frame (a registration) grew the buffer: give the memory back rather than
            // keep it per connection; the next large frame reuses what the allocator freed.
            buf = BytesMut::with_capacity(4096);
        } else if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        if budget.is_none() {
            let large = pending_frame_len(&buf)
                .filter(|len| *len > LARGE_FRAME && *len <= limits.max_frame && buf.len() < *len);
            if let Some(len) = large {
                let permits = u32::try_from(len.min(limits.frame_budget)).unwrap_or(u32::MAX);
                budget = tokio::select! {
                    // Never closed, so a permit always comes.
                    p = shared.frame_budget().acquire_many(permits) => p.ok(),
                    _ = &mut stopped => break 'read (CloseReason::Shutdown, "server shutting down".to_owned()),
                };
                budget_deadline = Instant::now() + LARGE_FRAME_WINDOW;
            }
        }
        let result = tokio::select! {
            r = stream.read_buf(&mut buf) => r,
            // Armed only while a large frame holds budget (not polled otherwise).
            _ = tokio::time::sleep_until(budget_deadline), if budget.is_some() => {
                break 'read (CloseReason::Idle, format!(
                    "a large frame not received whole within {} s", LARGE_FRAME_WINDOW.as_secs()
                ));
            }
            _ = &mut idle_timer => {
                let deadline = last_read + idle;
                if Instant::now() >= deadline {
                    break 'read (CloseReason::Idle, "idle".to_owned());
                }
                idle_timer.as_mut().reset(deadline);
                continue 'read;
            }
            _ = &mut stopped => break 'read (CloseReason::Shutdown, "server shutting down".to_owned()),
        };
        last_read = Instant::now();
        if let Some(end) = read_outcome(Some(result)) {
            break 'read end;
        }
    };
    let _ = tokio::time::timeout(WRITE_STALL, stream.shutdown()).await;
    end
}

/// Writes and flushes `out`, then clears it; the reason to close if that fails or stalls.
async fn write_out<W: AsyncWrite + Unpin>(
    wr: &mut W,
    out: &mut BytesMut,
) -> Option<(CloseReason, String)> {
    // Flush explicitly: a no-op on a real socket, but a buffered stream (madsim's simulated
    // TCP, TLS) sends nothing until flushed.
    let write = async {
        wr.write_all(out).await?;
        wr.flush().await
    };
    let end = match tokio::time::timeout(WRITE_STALL, write).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some((CloseReason::WriteError, format!("write error: {e}"))),
        Err(_) => Some((
            CloseReason::SlowReader,
            "client is not reading its replies".to_owned(),
        )),
    };
    out.clear();
    end
}
