//! `docs/protocol.md`'s code list is the request-code table, row for row: the doc cannot drift
//! from what dispatch, ACL and metrics use.

use namesrv_core::protocol::codes::{AclClass, Kind, REQUEST_CODES};

#[test]
fn the_docs_code_list_is_the_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .expect("docs/protocol.md");
    let rows: Vec<String> = doc
        .lines()
        .filter(|l| {
            l.starts_with("| ")
                && l.split('|')
                    .nth(1)
                    .is_some_and(|c| c.trim().parse::<i32>().is_ok())
        })
        .map(|l| l.trim().to_owned())
        .collect();
    let mut want: Vec<String> = REQUEST_CODES
        .iter()
        .map(|c| {
            let kind = match c.kind {
                Kind::Read => "read",
                Kind::Write => "write",
            };
            let acl = match c.acl {
                AclClass::Always => "always signed",
                AclClass::WhenProtectReads => "signed with aclProtectReads",
            };
            format!("| {} | {} | {kind} | {acl} |", c.code, c.name)
        })
        .collect();
    // The one code the NameServer sends rather than answers.
    want.push("| 905 | NOTIFY_MIN_BROKER_ID_CHANGE | outbound | not signed |".into());
    assert_eq!(
        rows, want,
        "docs/protocol.md's code table differs from REQUEST_CODES"
    );
}
