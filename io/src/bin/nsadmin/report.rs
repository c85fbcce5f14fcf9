//! compareNamesrv's output: a table of the NameServers, then what differs grouped as brokers,
//! topics and routes, one row per fact and one column per NameServer; or the same as JSON.

use serde_json::{json, Map, Value};

use crate::client::{Failure, Outcome};
use crate::diff::{Diff, Differences, RouteState, Snapshot};
use crate::output::{header, perm_text, print_json, print_table};

/// At most this many per-topic errors on stderr (all of them are in the JSON).
const ERRORS_SHOWN: usize = 20;

/// One NameServer of `-n`: what it said, or why it said nothing usable.
pub struct Server<'a> {
    pub addr: &'a str,
    pub snapshot: Option<&'a Snapshot>,
    pub failure: Option<&'a Failure>,
}

fn state(s: &Server) -> &'static str {
    match (s.snapshot, s.failure.map(|f| f.outcome)) {
        (Some(_), _) => "ok",
        (None, Some(Outcome::Unreachable)) => "unreachable",
        _ => "error",
    }
}

/// A cell of the human table.
fn cell(field: &str, v: Option<&Value>) -> String {
    match v {
        None => "n/a".into(),
        Some(Value::Null) => "-".into(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        Some(Value::Number(n)) if field == "perm" => n
            .as_i64()
            .map_or_else(|| n.to_string(), |p| perm_text(p as i32)),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// `{addr: value}` of the compared NameServers.
fn values_json(addrs: &[&str], d: &Diff) -> Value {
    let mut m = Map::new();
    for (addr, v) in addrs.iter().zip(&d.values) {
        if let Some(v) = v {
            m.insert((*addr).to_owned(), v.clone());
        }
    }
    Value::Object(m)
}

fn diff_json(addrs: &[&str], d: &Diff) -> Value {
    let mut m = Map::new();
    if let Some(t) = &d.topic {
        m.insert("topic".into(), Value::from(t.as_str()));
    }
    if d.topic.is_none() || d.field != "listed" {
        m.insert("brokerName".into(), json!(d.broker));
        m.insert("field".into(), Value::from(d.field.as_str()));
    }
    m.insert("values".into(), values_json(addrs, d));
    if d.field == "listed" {
        let (known, unknown): (Vec<_>, Vec<_>) = addrs
            .iter()
            .zip(&d.values)
            .partition(|(_, v)| matches!(v, Some(Value::Bool(true))));
        m.insert(
            "knownTo".into(),
            json!(known.iter().map(|p| p.0).collect::<Vec<_>>()),
        );
        m.insert(
            "unknownTo".into(),
            json!(unknown.iter().map(|p| p.0).collect::<Vec<_>>()),
        );
    }
    Value::Object(m)
}

fn section(
    title: &str,
    cols: &[&str],
    addrs: &[&str],
    diffs: &[Diff],
    key: fn(&Diff) -> Vec<String>,
) {
    if diffs.is_empty() {
        return;
    }
    outln!();
    outln!("{title} ({}):", diffs.len());
    let mut h = header(cols);
    h.extend(addrs.iter().map(|a| format!("#{a}")));
    let mut rows = vec![h];
    for d in diffs {
        let mut row = key(d);
        row.extend(d.values.iter().map(|v| cell(&d.field, v.as_ref())));
        rows.push(row);
    }
    print_table(&rows);
}

fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// Prints the comparison and says how the command ends.
pub fn report(json_out: bool, servers: &[Server], d: &Differences) -> Result<(), Failure> {
    let compared: Vec<(&str, &Snapshot)> = servers
        .iter()
        .filter_map(|s| s.snapshot.map(|snap| (s.addr, snap)))
        .collect();
    let addrs: Vec<&str> = compared.iter().map(|c| c.0).collect();
    let mut errors = Vec::new();
    for s in servers {
        if let Some(f) = s.failure {
            errors.push(f.message.clone());
        }
    }
    for (addr, snap) in &compared {
        for (topic, r) in &snap.routes {
            if let RouteState::Error(e) = r {
                errors.push(format!("{addr}: route of {topic}: {e}"));
            }
        }
    }
    let route_errors = errors.len() - servers.iter().filter(|s| s.failure.is_some()).count();
    let agree = compared.len() >= 2 && d.is_empty() && route_errors == 0;
    let (brokers, topics, routes) = d.counts();

    if json_out {
        let namesrvs: Vec<Value> = servers
            .iter()
            .map(|s| match (s.snapshot, s.failure) {
                (Some(snap), _) => json!({
                    "addr": s.addr,
                    "state": "ok",
                    "brokers": snap.cluster.broker_addr_table.len(),
                    "topics": snap.topics.len(),
                }),
                (None, f) => json!({
                    "addr": s.addr,
                    "state": state(s),
                    "error": f.map(|f| f.message.clone()),
                }),
            })
            .collect();
        let list = |ds: &[Diff]| ds.iter().map(|x| diff_json(&addrs, x)).collect::<Vec<_>>();
        print_json(&json!({
            "namesrvs": namesrvs,
            "agree": agree,
            "brokers": list(&d.brokers),
            "topics": list(&d.topics),
            "routes": list(&d.routes),
            "errors": errors,
        }));
    } else {
        for e in errors.iter().take(ERRORS_SHOWN) {
            eprintln!("nsadmin: {e}");
        }
        if errors.len() > ERRORS_SHOWN {
            eprintln!("nsadmin: ... and {} more", errors.len() - ERRORS_SHOWN);
        }
        let mut rows = vec![header(&["NameServer", "State", "Brokers", "Topics"])];
        for s in servers {
            let (b, t) = s.snapshot.map_or(("-".into(), "-".into()), |snap| {
                (
                    snap.cluster.broker_addr_table.len().to_string(),
                    snap.topics.len().to_string(),
                )
            });
            rows.push(vec![s.addr.to_owned(), state(s).into(), b, t]);
        }
        print_table(&rows);
        let broker_key = |d: &Diff| vec![d.broker.clone().unwrap_or_default(), d.field.clone()];
        let topic_key = |d: &Diff| vec![d.topic.clone().unwrap_or_default()];
        let route_key = |d: &Diff| {
            vec![
                d.topic.clone().unwrap_or_default(),
                d.broker.clone().unwrap_or_else(|| "-".into()),
                d.field.clone(),
            ]
        };
        section(
            "Brokers that differ",
            &["Broker Name", "What"],
            &addrs,
            &d.brokers,
            broker_key,
        );
        section(
            "Topics that differ",
            &["Topic"],
            &addrs,
            &d.topics,
            topic_key,
        );
        section(
            "Routes that differ",
            &["Topic", "Broker Name", "What"],
            &addrs,
            &d.routes,
            route_key,
        );
        outln!();
        let missing = servers.len() - compared.len();
        if compared.len() < 2 {
            outln!("Fewer than two NameServers answered: nothing compared.");
        } else if !d.is_empty() {
            outln!(
                "The NameServers differ: {}, {}, {} differ.",
                plural(brokers, "broker"),
                plural(topics, "topic"),
                plural(routes, "route")
            );
        } else {
            let (nb, nt) = compared.first().map_or((0, 0), |(_, s)| {
                (s.cluster.broker_addr_table.len(), s.topics.len())
            });
            let who = if missing == 0 {
                format!("All {} NameServers agree", compared.len())
            } else {
                format!(
                    "The {} NameServers that answered agree ({} did not)",
                    compared.len(),
                    missing
                )
            };
            let caveat = if route_errors > 0 {
                format!(
                    ", but {} could not be compared",
                    plural(route_errors, "route")
                )
            } else {
                String::new()
            };
            outln!(
                "{who}: {}, {}{caveat}.",
                plural(nb, "broker"),
                plural(nt, "topic")
            );
        }
    }

    let mut outcome = servers
        .iter()
        .filter_map(|s| s.failure.map(|f| f.outcome))
        .max()
        .unwrap_or(Outcome::Ok);
    if !d.is_empty() || route_errors > 0 {
        outcome = outcome.max(Outcome::Error);
    }
    if outcome == Outcome::Ok {
        Ok(())
    } else {
        // Everything has been printed already.
        Err(Failure {
            outcome,
            message: String::new(),
        })
    }
}
