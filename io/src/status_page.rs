//! The status page on the HTTP port (`httpStatusPageEnable=true`): `GET /` shows the clusters,
//! the broker groups with their addresses, roles, last heartbeats and time left before each
//! expires, and the counts; `GET /topic/<name>` (or `/topic?name=<name>`, the page's form) shows
//! one topic's route, as GET_ROUTEINFO_BY_TOPIC answers it.
//!
//! Rendered on the server from one read view, so a page is one consistent snapshot. No
//! JavaScript and no external assets (the Content-Security-Policy in `http.rs` forbids both);
//! one inline style sheet; a viewport line and tables that scroll sideways, for a phone. Every
//! string that came off the wire (cluster, broker and topic names, addresses, zones, KV values)
//! goes through maud's `(...)` splices, which HTML-escape it; nothing here uses `PreEscaped` on
//! such a string. The overview costs O(brokers) plus a bounded topic list, never a walk over
//! all queue data, so a 300-broker, 10,000-topic fleet renders in a blink.

use std::fmt::Write as _;

use maud::{html, Markup, PreEscaped, DOCTYPE};
use namesrv_core::protocol::bodies::{BrokerData, TopicRouteData};
use namesrv_core::route::{perm, BrokerAddrInfo, Millis, MASTER_ID};
use namesrv_core::ReadView;

/// Topic names listed on the overview, in name order; the form finds the rest.
const TOPICS_LISTED: usize = 200;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:72rem;padding:.75rem;color:#1b1f24;background:#fff;line-height:1.4}\
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.4rem 0 .4rem}h3{font-size:1rem;margin:1rem 0 .3rem}\
.scroll{overflow-x:auto}table{border-collapse:collapse;min-width:100%;font-size:.9rem}\
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;white-space:nowrap}\
th{background:#f6f8fa}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em;word-break:break-all}\
.counts{display:flex;flex-wrap:wrap;gap:.5rem;padding:0;list-style:none}\
.counts li{border:1px solid #d0d7de;border-radius:.4rem;padding:.35rem .6rem}.counts b{display:block;font-size:1.2rem}\
.ok{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e}.muted{color:#59636e}\
form{margin:.5rem 0}input{font-size:1rem;padding:.3rem;max-width:60%}button{font-size:1rem;padding:.3rem .7rem}";

/// What the overview shows besides the view: the shell's own numbers.
pub(crate) struct Context {
    /// Milliseconds on the machine's clock (what heartbeats are stamped with).
    pub now: Millis,
    /// Open remoting connections.
    pub connections: usize,
}

/// `GET /`.
pub(crate) fn overview(view: &ReadView, ctx: &Context) -> String {
    let route = view.route();
    let stats = view.stats();
    let readiness = view.readiness(ctx.now);
    let topics_total = stats.topics;
    let body = html! {
        h1 { "RocketMQ NameServer" }
        p.muted { "namesrv " (env!("CARGO_PKG_VERSION")) " · " (readiness_text(&readiness)) }
        ul.counts {
            (count("clusters", stats.clusters))
            (count("broker groups", stats.broker_groups))
            (count("live brokers", stats.brokers_live))
            (count("topics", topics_total))
            (count("connections", ctx.connections))
            (count("KV namespaces", stats.kv_namespaces))
            (count("KV entries", stats.kv_entries))
        }
        h2 { "Clusters" }
        @if stats.clusters == 0 {
            p.muted { "No broker has registered." }
        }
        @for (cluster, names) in route.cluster_addr_table().iter() {
            h3 { "Cluster " code { (cluster) } " · " (plural(names.len(), "broker group")) }
            div.scroll { table {
                thead { tr {
                    th { "broker group" } th { "id" } th { "role" } th { "address" }
                    th { "zone" } th { "last heartbeat" } th { "expires in" } th { "HA address" }
                } }
                tbody {
                    @for name in names {
                        @match route.broker_addr_table().get(name) {
                            Some(bd) => (group_rows(view, bd, ctx.now)),
                            None => tr { td { code { (name) } } td colspan="7" .bad { "listed in the cluster but has no broker data" } },
                        }
                    }
                }
            } }
        }
        h2 { "Topics" }
        (topic_form(""))
        @if topics_total == 0 {
            p.muted { "No topic has a route." }
        } @else {
            p {
                @if topics_total > TOPICS_LISTED { "The first " (TOPICS_LISTED) " of " (topics_total) ", by name:" }
                @else { (plural(topics_total, "topic")) ", by name:" }
            }
            p { @for (i, topic) in route.all_topics().take(TOPICS_LISTED).enumerate() {
                @if i > 0 { " · " }
                a href=(topic_href(topic)) { code { (topic) } }
            } }
        }
    };
    page("namesrv status", body)
}

/// `GET /topic/<name>`: the page and its status (404 for a topic with no route).
pub(crate) fn topic(view: &ReadView, ctx: &Context, name: &str) -> (u16, String) {
    let back = html! { p { a href="/" { "← all clusters" } } };
    let Some(route) = view.topic_route(name) else {
        let body = html! {
            (back)
            h1 { "Topic " code { (name) } }
            p.bad { "No route: no broker serves this topic." }
            (topic_form(name))
        };
        return (404, page(&format!("{name} · namesrv"), body));
    };
    let body = html! {
        (back)
        h1 { "Topic " code { (name) } }
        (topic_form(name))
        h2 { "Queues" }
        div.scroll { table {
            thead { tr { th { "broker group" } th { "read queues" } th { "write queues" } th { "perm" } th { "topic sys flag" } } }
            tbody { @for q in &route.queue_datas { tr {
                td { code { (q.broker_name) } }
                td { (q.read_queue_nums) } td { (q.write_queue_nums) }
                td { (q.perm) " " span.muted { "(" (perm_text(q.perm)) ")" } }
                td { (q.topic_sys_flag) }
            } } }
        } }
        h2 { "Brokers" }
        div.scroll { table {
            thead { tr {
                th { "broker group" } th { "cluster" } th { "id" } th { "role" } th { "address" }
                th { "zone" } th { "last heartbeat" } th { "expires in" }
            } }
            tbody { @for bd in &route.broker_datas { (route_broker_rows(view, bd, ctx.now)) } }
        } }
        (route_extras(&route))
    };
    (200, page(&format!("{name} · namesrv"), body))
}

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

fn count(label: &str, n: usize) -> Markup {
    html! { li { b { (n) } (label) } }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn readiness_text(r: &Result<(), String>) -> Markup {
    match r {
        Ok(()) => html! { span.ok { "ready" } },
        Err(why) => html! { span.warn { "not ready: " (why) } },
    }
}

fn topic_form(value: &str) -> Markup {
    html! {
        form action="/topic" method="get" {
            label { "Topic " input name="name" value=(value) placeholder="TopicTest" autocapitalize="off" spellcheck="false"; }
            " " button type="submit" { "Show route" }
        }
    }
}

/// The role as the route shows it: id 0 is the master; with acting master on and no id 0,
/// the lowest id stands in for it (spec §3.5).
fn role(bd: &BrokerData, id: i64) -> &'static str {
    let acting = bd.enable_acting_master
        && !bd.broker_addrs.contains_key(&MASTER_ID)
        && bd.broker_addrs.keys().next() == Some(&id);
    match id {
        MASTER_ID => "master",
        _ if acting => "slave, acting master",
        _ => "slave",
    }
}

/// One row per address of a broker group on the overview (the group named on its first row).
fn group_rows(view: &ReadView, bd: &BrokerData, now: Millis) -> Markup {
    html! {
        @if bd.broker_addrs.is_empty() {
            tr { td { code { (bd.broker_name) } } td colspan="7" .muted { "no address" } }
        }
        @for (i, (id, addr)) in bd.broker_addrs.iter().enumerate() {
            tr {
                @if i == 0 { td id=(group_id(&bd.broker_name)) { code { (bd.broker_name) } } } @else { td {} }
                td { (id) } td { (role(bd, *id)) } td { code { (addr) } }
                td { (bd.zone_name.as_deref().unwrap_or("")) }
                (liveness(view, &bd.cluster, addr, now, true))
            }
        }
    }
}

/// A route's broker data: the rows of the overview, with the cluster.
fn route_broker_rows(view: &ReadView, bd: &BrokerData, now: Millis) -> Markup {
    html! {
        @for (i, (id, addr)) in bd.broker_addrs.iter().enumerate() {
            tr {
                td { @if i == 0 { a href=(group_href(&bd.broker_name)) { code { (bd.broker_name) } } } }
                td { @if i == 0 { code { (bd.cluster) } } }
                td { (id) } td { (role(bd, *id)) } td { code { (addr) } }
                td { (bd.zone_name.as_deref().unwrap_or("")) }
                (liveness(view, &bd.cluster, addr, now, false))
            }
        }
    }
}

/// The last-heartbeat and expires-in cells (and the HA address when `ha`).
fn liveness(view: &ReadView, cluster: &str, addr: &str, now: Millis, ha: bool) -> Markup {
    let live = view
        .route()
        .broker_live_table()
        .get(&BrokerAddrInfo::new(cluster, addr));
    html! {
        @match live {
            Some(l) => {
                td { (ago(now.saturating_sub(l.last_update))) }
                @let left = l.deadline().saturating_sub(now);
                td.(if left < 10_000 { "warn" } else { "ok" }) title=(format!("heartbeatTimeoutMillis {}", l.timeout_ms)) { (seconds(left)) }
                @if ha { td { code { (l.ha_server_addr) } } }
            }
            None => {
                td.bad { "no heartbeat" } td { } @if ha { td { } }
            }
        }
    }
}

fn ago(ms: Millis) -> String {
    format!("{} ago", seconds(ms))
}

fn seconds(ms: Millis) -> String {
    let s = ms / 1000;
    let tenths = (ms % 1000) / 100;
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}.{tenths} s")
    }
}

fn perm_text(p: i32) -> String {
    let mut parts = Vec::new();
    if p & perm::READ != 0 {
        parts.push("read");
    }
    if p & perm::WRITE != 0 {
        parts.push("write");
    }
    if p & perm::INHERIT != 0 {
        parts.push("inherit");
    }
    if p & perm::PRIORITY != 0 {
        parts.push("priority");
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Order config, filter servers and static mappings, when the route has them.
fn route_extras(route: &TopicRouteData) -> Markup {
    html! {
        @if let Some(conf) = &route.order_topic_conf {
            h2 { "Order topic config" }
            p { code { (conf) } }
        }
        @if route.filter_server_table.values().any(|v| !v.is_empty()) {
            h2 { "Filter servers" }
            div.scroll { table {
                thead { tr { th { "broker address" } th { "filter servers" } } }
                tbody { @for (addr, list) in &route.filter_server_table { tr {
                    td { code { (addr) } } td { code { (list.join(", ")) } }
                } } }
            } }
        }
        @if let Some(m) = route.topic_queue_mapping_by_broker.as_ref().filter(|m| !m.is_empty()) {
            h2 { "Static topic mappings" }
            p { "Broker groups with a mapping: " @for (i, b) in m.keys().enumerate() { @if i > 0 { ", " } code { (b) } } }
        }
    }
}

fn group_id(name: &str) -> String {
    format!("group-{}", encode_component(name))
}

/// The overview's rows of a broker group.
fn group_href(name: &str) -> String {
    format!("/#{}", group_id(name))
}

/// The link to a topic's page (the name percent-encoded: `%RETRY%group` has `%` in it).
pub(crate) fn topic_href(topic: &str) -> String {
    format!("/topic/{}", encode_component(topic))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space when `form`); a `%` not followed by two hex
/// digits stays as it is, so `/topic/%RETRY%g` typed by hand finds `%RETRY%g`. `None`: the
/// bytes are not UTF-8.
pub(crate) fn decode_component(s: &str, form: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', _, _) if form => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_round_trip() {
        for s in [
            "%RETRY%group",
            "a b/c?d#e&f=g",
            "TopicTest",
            "<script>",
            "中文",
        ] {
            assert_eq!(
                decode_component(&encode_component(s), false).as_deref(),
                Some(s)
            );
        }
        assert_eq!(
            decode_component("%RETRY%g", false).as_deref(),
            Some("%RETRY%g")
        );
        assert_eq!(decode_component("a+b", true).as_deref(), Some("a b"));
        assert_eq!(decode_component("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(decode_component("%ff", false), None);
        assert_eq!(decode_component("%4", false).as_deref(), Some("%4"));
    }

    #[test]
    fn durations() {
        assert_eq!(seconds(0), "0.0 s");
        assert_eq!(seconds(12_345), "12.3 s");
        assert_eq!(seconds(119_999), "1m 59s");
        assert_eq!(seconds(3_600_000 * 2 + 60_000 * 5), "2h 05m");
    }

    #[test]
    fn perms() {
        assert_eq!(perm_text(6), "read, write");
        assert_eq!(perm_text(4), "read");
        assert_eq!(perm_text(0), "none");
    }
}
