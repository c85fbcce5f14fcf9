//! Output: tables and JSON on stdout, quiet on a closed pipe.

use serde_json::Value;

use crate::client::Failure;

/// `println!` that ends the process quietly when stdout is gone (`nsadmin topicList | head`)
/// instead of panicking: exit 141, as a shell reports a command killed by SIGPIPE.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(141);
        }
    }};
}

pub fn print_json(v: &Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => outln!("{s}"),
        Err(e) => eprintln!("nsadmin: cannot render JSON: {e}"),
    }
}

/// Re-parses a body we encoded as standard JSON (keys quoted), for pretty printing.
pub fn standard_json(text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::error(format!("cannot render JSON: {e}")))
}

/// Prints rows as aligned columns; the first row is the header.
pub fn print_table(rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    for row in rows {
        let mut line = String::new();
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i < last {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell.chars().count());
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        outln!("{}", line.trim_end());
    }
}

pub fn header(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|c| format!("#{c}")).collect()
}

/// `6 (RW-)`: a queue permission with its read / write / inherit bits spelled out.
pub fn perm_text(perm: i32) -> String {
    let mut s = String::new();
    s.push(if perm & 4 != 0 { 'R' } else { '-' });
    s.push(if perm & 2 != 0 { 'W' } else { '-' });
    s.push(if perm & 1 != 0 { 'X' } else { '-' });
    format!("{perm} ({s})")
}
