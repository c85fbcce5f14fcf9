//! Prometheus metrics, served as OpenMetrics text on `/metrics` (see [`crate::http`]).
//!
//! Counters and the latency histogram are updated where things happen (request handling,
//! route events, the connection loop, persistence). Gauges describing the tables are set from
//! a [`Snapshot`] taken under the read lock at scrape time, so they cost nothing per request.
//!
//! Label values are bounded: request codes outside the 23 a NameServer handles are counted as
//! `code="other"`, results are response-code names, causes and kinds are fixed sets.

use std::time::Duration;

use namesrv_core::protocol::codes::REQUEST_CODES;
use namesrv_core::protocol::{request, response};
use namesrv_core::route::{RemovalCause, RouteEvent};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A request code as a label: the number for the codes a NameServer handles, `other` for the
/// rest (so a client sending random codes cannot grow the series without bound).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct CodeLabel(Option<i32>);

impl CodeLabel {
    pub fn of(code: i32) -> Self {
        Self(namesrv_core::protocol::codes::lookup(code).map(|c| c.code))
    }
}

impl EncodeLabelValue for CodeLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        match self.0 {
            Some(code) => EncodeLabelValue::encode(&code, encoder),
            None => EncodeLabelValue::encode(&"other", encoder),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    code: CodeLabel,
    request: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    code: CodeLabel,
    request: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabel {
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FirstLabel {
    first: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabel {
    op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PersistLabels {
    file: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

/// Why a client connection ended, as a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    ClosedByPeer,
    Idle,
    DecodeError,
    SlowReader,
    ReadError,
    /// Writing replies failed (the peer reset the connection).
    WriteError,
    Shutdown,
    /// A plain connection under `tlsServerMode=enforcing`.
    PlainRefused,
    /// A TLS handshake on a port that serves plain only.
    TlsRefused,
    /// A TLS handshake that failed or timed out.
    TlsHandshake,
}

impl CloseReason {
    pub const ALL: [CloseReason; 10] = [
        CloseReason::ClosedByPeer,
        CloseReason::Idle,
        CloseReason::DecodeError,
        CloseReason::SlowReader,
        CloseReason::ReadError,
        CloseReason::WriteError,
        CloseReason::Shutdown,
        CloseReason::PlainRefused,
        CloseReason::TlsRefused,
        CloseReason::TlsHandshake,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::ClosedByPeer => "closed_by_peer",
            CloseReason::Idle => "idle",
            CloseReason::DecodeError => "decode_error",
            CloseReason::SlowReader => "slow_reader",
            CloseReason::ReadError => "read_error",
            CloseReason::WriteError => "write_error",
            CloseReason::Shutdown => "shutdown",
            CloseReason::PlainRefused => "plain_refused",
            CloseReason::TlsRefused => "tls_refused",
            CloseReason::TlsHandshake => "tls_handshake_failed",
        }
    }
}

/// Which limit closed a connection at accept, as a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// `serverMaxConnections`.
    MaxConnections,
    /// `serverMaxConnectionsPerAddress`.
    MaxConnectionsPerAddress,
}

impl RejectReason {
    pub const ALL: [RejectReason; 2] = [
        RejectReason::MaxConnections,
        RejectReason::MaxConnectionsPerAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::MaxConnections => "max_connections",
            RejectReason::MaxConnectionsPerAddress => "max_connections_per_address",
        }
    }
}

/// What the request counter records as `result`: the reply's response-code name, or
/// `NO_REPLY` for oneway requests and stray responses.
pub fn result_name(reply_code: Option<i32>) -> &'static str {
    match reply_code {
        None => "NO_REPLY",
        Some(response::SUCCESS) => "SUCCESS",
        Some(response::SYSTEM_ERROR) => "SYSTEM_ERROR",
        Some(response::SYSTEM_BUSY) => "SYSTEM_BUSY",
        Some(response::REQUEST_CODE_NOT_SUPPORTED) => "REQUEST_CODE_NOT_SUPPORTED",
        Some(response::NO_PERMISSION) => "NO_PERMISSION",
        Some(response::TOPIC_NOT_EXIST) => "TOPIC_NOT_EXIST",
        Some(response::QUERY_NOT_FOUND) => "QUERY_NOT_FOUND",
        Some(response::GO_AWAY) => "GO_AWAY",
        Some(_) => "OTHER",
    }
}

/// The table sizes and states reported as gauges, read under the machine's read lock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub brokers_live: usize,
    pub broker_groups: usize,
    pub clusters: usize,
    pub topics: usize,
    pub queue_entries: usize,
    pub connections: usize,
    pub kv_namespaces: usize,
    pub kv_entries: usize,
    pub ready: bool,
}

/// Every metric of the server, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    decode_errors: Family<KindLabel, Counter>,
    auth_failures: Family<KindLabel, Counter>,
    connections_accepted: Counter,
    connections_rejected: Family<ReasonLabel, Counter>,
    connections_closed: Family<ReasonLabel, Counter>,
    registrations: Family<FirstLabel, Counter>,
    removals: Family<CauseLabel, Counter>,
    kv_writes: Family<OpLabel, Counter>,
    persists: Family<PersistLabels, Counter>,
    brokers_live: Gauge,
    broker_groups: Gauge,
    clusters: Gauge,
    topics: Gauge,
    queue_entries: Gauge,
    connections: Gauge,
    kv_namespaces: Gauge,
    kv_entries: Gauge,
    ready: Gauge,
    /// SUCCESS series per handled code, by position in the request-code table: the hot path
    /// (a route answered) skips the families' label hashing and locks.
    success: [std::sync::OnceLock<(Counter, Histogram)>; REQUEST_CODES.len()],
}

fn latency_histogram() -> Histogram {
    // 10 µs × 3^k: 10 µs … 1.8 s in 12 buckets. Reads answer in microseconds; writes that
    // fsync land in the millisecond buckets.
    Histogram::new(exponential_buckets(0.000_01, 3.0, 12))
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("namesrv");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests handled, by request code and result (the reply's response code)",
            requests.clone(),
        );
        let latency = Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from a decoded request to its reply (persistence included), by request code",
            latency.clone(),
        );
        let decode_errors = Family::<KindLabel, Counter>::default();
        registry.register(
            "decode_errors",
            "Frames that could not be decoded (the connection is closed), by kind",
            decode_errors.clone(),
        );
        let auth_failures = Family::<KindLabel, Counter>::default();
        registry.register(
            "auth_failures",
            "Requests refused for a missing or wrong ACL signature (aclEnable), by kind",
            auth_failures.clone(),
        );
        let connections_accepted = Counter::default();
        registry.register(
            "connections_accepted",
            "Client connections accepted",
            connections_accepted.clone(),
        );
        let connections_rejected = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "connections_rejected",
            "Client connections closed at accept by a connection limit, by limit",
            connections_rejected.clone(),
        );
        let connections_closed = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "connections_closed",
            "Client connections closed, by reason",
            connections_closed.clone(),
        );
        let registrations = Family::<FirstLabel, Counter>::default();
        registry.register(
            "broker_registrations",
            "Broker registrations; first=true when the address was not live before",
            registrations.clone(),
        );
        let removals = Family::<CauseLabel, Counter>::default();
        registry.register(
            "broker_removals",
            "Broker addresses removed from the live table, by cause (expired, connection_closed, unregistered, fenced, displaced)",
            removals.clone(),
        );
        let kv_writes = Family::<OpLabel, Counter>::default();
        registry.register(
            "kv_writes",
            "Acknowledged KV writes (PUT_KV_CONFIG, DELETE_KV_CONFIG), by operation",
            kv_writes.clone(),
        );
        let persists = Family::<PersistLabels, Counter>::default();
        registry.register(
            "persist_writes",
            "Atomic file writes of kvConfig.json (file=kv) and the config file (file=config), by result",
            persists.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let brokers_live = gauge(
            &mut registry,
            "brokers_live",
            "Live broker addresses (brokerLiveTable entries)",
        );
        let broker_groups = gauge(
            &mut registry,
            "broker_groups",
            "Broker groups (brokerAddrTable entries)",
        );
        let clusters = gauge(
            &mut registry,
            "clusters",
            "Clusters (clusterAddrTable entries)",
        );
        let topics = gauge(
            &mut registry,
            "topics",
            "Topics with a route (topicQueueTable entries)",
        );
        let queue_entries = gauge(
            &mut registry,
            "queue_entries",
            "Queue entries: one per (topic, broker group) pair in topicQueueTable",
        );
        let connections = gauge(&mut registry, "connections", "Open client connections");
        let kv_namespaces = gauge(&mut registry, "kv_namespaces", "KV namespaces");
        let kv_entries = gauge(&mut registry, "kv_entries", "KV entries, all namespaces");
        let ready = gauge(
            &mut registry,
            "ready",
            "1 when /ready answers 200 (waitSecondsForService has passed and not shutting down)",
        );
        let build_info = Family::<VersionLabel, Gauge>::default();
        registry.register(
            "build_info",
            "Always 1; the version label is the namesrv version",
            build_info.clone(),
        );
        build_info
            .get_or_create(&VersionLabel {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);

        // Series that dashboards and alerts divide by exist from the start, at zero.
        for cause in [
            RemovalCause::Expired,
            RemovalCause::ConnectionClosed,
            RemovalCause::Unregistered,
            RemovalCause::Fenced,
            RemovalCause::Displaced,
        ] {
            let _ = removals.get_or_create(&CauseLabel {
                cause: cause.as_str(),
            });
        }
        for reason in CloseReason::ALL {
            let _ = connections_closed.get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            });
        }
        for reason in RejectReason::ALL {
            let _ = connections_rejected.get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            });
        }
        for op in ["put", "delete"] {
            let _ = kv_writes.get_or_create(&OpLabel { op });
        }

        Self {
            registry,
            requests,
            latency,
            decode_errors,
            auth_failures,
            connections_accepted,
            connections_rejected,
            connections_closed,
            registrations,
            removals,
            kv_writes,
            persists,
            brokers_live,
            broker_groups,
            clusters,
            topics,
            queue_entries,
            connections,
            kv_namespaces,
            kv_entries,
            ready,
            success: std::array::from_fn(|_| std::sync::OnceLock::new()),
        }
    }

    /// One request answered (`reply_code` `None`: no reply was sent).
    pub fn request(&self, code: i32, reply_code: Option<i32>, elapsed: Duration) {
        let cached = (reply_code == Some(response::SUCCESS))
            .then(|| REQUEST_CODES.iter().position(|c| c.code == code))
            .flatten()
            .and_then(|i| self.success.get(i));
        if let Some(series) = cached {
            let (count, latency) = series.get_or_init(|| {
                let labels = LatencyLabels {
                    code: CodeLabel::of(code),
                    request: request::name(code),
                };
                let count = self
                    .requests
                    .get_or_create(&RequestLabels {
                        code: labels.code,
                        request: labels.request,
                        result: result_name(reply_code),
                    })
                    .clone();
                (count, self.latency.get_or_create(&labels).clone())
            });
            count.inc();
            latency.observe(elapsed.as_secs_f64());
            return;
        }
        let code_label = CodeLabel::of(code);
        let name = request::name(code);
        self.requests
            .get_or_create(&RequestLabels {
                code: code_label,
                request: name,
                result: result_name(reply_code),
            })
            .inc();
        self.latency
            .get_or_create(&LatencyLabels {
                code: code_label,
                request: name,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// A KV write acknowledged (the core's `Effect::KvWritten`).
    pub fn kv_write(&self, op: &'static str) {
        self.kv_writes.get_or_create(&OpLabel { op }).inc();
    }

    pub fn route_event(&self, ev: &RouteEvent) {
        match ev {
            RouteEvent::BrokerRegistered { first, .. } => {
                self.registrations
                    .get_or_create(&FirstLabel { first: *first })
                    .inc();
            }
            RouteEvent::BrokerRemoved { cause, .. } => {
                self.removals
                    .get_or_create(&CauseLabel {
                        cause: cause.as_str(),
                    })
                    .inc();
            }
        }
    }

    pub fn decode_error(&self, kind: &'static str) {
        self.decode_errors.get_or_create(&KindLabel { kind }).inc();
    }

    pub fn auth_failure(&self, kind: &'static str) {
        self.auth_failures.get_or_create(&KindLabel { kind }).inc();
    }

    pub fn connection_accepted(&self) {
        self.connections_accepted.inc();
    }

    pub fn connection_rejected(&self, reason: RejectReason) {
        self.connections_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            })
            .inc();
    }

    pub fn connection_closed(&self, reason: CloseReason) {
        self.connections_closed
            .get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            })
            .inc();
    }

    pub fn persisted(&self, kv: bool, ok: bool) {
        self.persists
            .get_or_create(&PersistLabels {
                file: if kv { "kv" } else { "config" },
                result: if ok { "ok" } else { "error" },
            })
            .inc();
    }

    /// The OpenMetrics text, with the gauges set from `snap`.
    pub fn render(&self, snap: &Snapshot) -> String {
        self.brokers_live.set(gauge_value(snap.brokers_live));
        self.broker_groups.set(gauge_value(snap.broker_groups));
        self.clusters.set(gauge_value(snap.clusters));
        self.topics.set(gauge_value(snap.topics));
        self.queue_entries.set(gauge_value(snap.queue_entries));
        self.connections.set(gauge_value(snap.connections));
        self.kv_namespaces.set(gauge_value(snap.kv_namespaces));
        self.kv_entries.set(gauge_value(snap.kv_entries));
        self.ready.set(i64::from(snap.ready));
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_share_one_series() {
        let m = Metrics::new();
        m.request(99_999, Some(3), Duration::from_micros(5));
        m.request(12_345, Some(3), Duration::from_micros(5));
        m.request(105, Some(17), Duration::from_micros(5));
        let text = m.render(&Snapshot::default());
        assert!(text.contains(
            "namesrv_requests_total{code=\"other\",request=\"UNKNOWN\",result=\"REQUEST_CODE_NOT_SUPPORTED\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "namesrv_requests_total{code=\"105\",request=\"GET_ROUTEINFO_BY_TOPIC\",result=\"TOPIC_NOT_EXIST\"} 1\n"
        ), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn kv_writes_are_counted_from_the_cores_effects() {
        // The core emits `Effect::KvWritten` for acknowledged writes only (its tests hold
        // that); a reply code alone no longer counts one.
        let m = Metrics::new();
        m.request(request::PUT_KV_CONFIG, Some(0), Duration::ZERO);
        m.kv_write("put");
        m.kv_write("delete");
        let text = m.render(&Snapshot::default());
        assert!(
            text.contains("namesrv_kv_writes_total{op=\"put\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("namesrv_kv_writes_total{op=\"delete\"} 1\n"),
            "{text}"
        );
    }
}
