//! The controller's event log: `<controllerStorePath>/events.log`, one record per event, each
//! fsynced before the decision it holds is acknowledged, and replayed at start.
//!
//! A record is `[length: u32 BE][crc32 of the length: u32 BE][crc32 of the payload: u32 BE]
//! [payload]`, the payload being [`Event::encode`] (Apache's DLedger entry body: a 2-byte type
//! and the event's JSON). The length has its own checksum, so a damaged length is told from a
//! record cut short.
//!
//! A crash can leave the last record half written (its fsync never returned, so it was never
//! acknowledged): a header or payload that stops at the end of the file, or a last record whose
//! payload checksum fails. That tail is cut off, and kept beside the log as
//! `events.log.torn-<offset>`, with a warning. Anything else that does not read back (a damaged
//! length, a record in the middle whose checksum fails or that does not decode) is corruption:
//! start-up stops with an error naming the file and the offset, and nothing is changed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use namesrv_core::controller::Event;

/// The log's file name inside `controllerStorePath`.
pub const FILE_NAME: &str = "events.log";

/// An open log, positioned at its end.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    file: File,
    /// Set by a failed append: every later append fails too (no event may be skipped).
    failed: Option<String>,
}

/// What opening found.
#[derive(Debug)]
pub struct Opened {
    /// The log, ready for appends.
    pub log: EventLog,
    /// Every event, in order.
    pub events: Vec<Event>,
    /// A torn tail that was cut off (its length in bytes), if any.
    pub truncated: Option<u64>,
}

/// Bytes before a record's payload.
const HEADER: usize = 12;

fn header(len: usize, payload: &[u8]) -> [u8; HEADER] {
    let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    let mut h = [0u8; HEADER];
    h[..4].copy_from_slice(&len);
    h[4..8].copy_from_slice(&crc32fast::hash(&len).to_be_bytes());
    h[8..].copy_from_slice(&crc32fast::hash(payload).to_be_bytes());
    h
}

/// Fsyncs a directory, so a name created in it survives a crash.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl EventLog {
    /// Opens (creating if absent) the log in `dir`, reading every record.
    pub fn open(dir: &Path) -> Result<Opened, String> {
        let path = dir.join(FILE_NAME);
        let err = |what: String| format!("{}: {what}", path.display());
        // Every directory this creates must survive a crash too, with the log in it.
        let mut missing = Vec::new();
        let mut d = dir;
        while !d.as_os_str().is_empty() && !d.exists() {
            missing.push(d.to_owned());
            d = d.parent().unwrap_or(Path::new(""));
        }
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for created in missing.iter().rev() {
            if let Some(parent) = created.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
        }
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| err(e.to_string()))?;
        if created {
            sync_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| err(e.to_string()))?;
        let mut events = Vec::new();
        let mut at = 0usize;
        let mut torn = false;
        while at < bytes.len() {
            let rest = bytes.get(at..).unwrap_or_default();
            let Some((head, body)) = rest.split_first_chunk::<HEADER>() else {
                torn = true;
                break;
            };
            let len_bytes = [head[0], head[1], head[2], head[3]];
            let len_crc = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
            let crc = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
            if crc32fast::hash(&len_bytes) != len_crc {
                return Err(err(format!(
                    "the record at byte {at} has a damaged length; the log is not replayed. \
                     Everything before byte {at} reads back: to start from that, copy the file \
                     aside and truncate it to {at} bytes (truncate -s {at})"
                )));
            }
            let len = u32::from_be_bytes(len_bytes) as usize;
            let Some(payload) = body.get(..len) else {
                torn = true;
                break;
            };
            let last = at + HEADER + len == bytes.len();
            if crc32fast::hash(payload) != crc {
                if last {
                    // The last append, written in part before a crash: never acknowledged.
                    torn = true;
                    break;
                }
                return Err(err(format!(
                    "the record at byte {at} is corrupt (checksum mismatch); the log is not \
                     replayed. Everything before byte {at} reads back: to start from that, \
                     copy the file aside and truncate it to {at} bytes (truncate -s {at})"
                )));
            }
            let event = Event::decode(payload)
                .map_err(|e| err(format!("record at byte {at} does not decode: {e}")))?;
            events.push(event);
            at += HEADER + len;
        }
        let mut truncated = None;
        if torn {
            // Kept aside, never just dropped: an operator can look at what was cut.
            let aside = dir.join(format!("{FILE_NAME}.torn-{at}"));
            fs::write(&aside, bytes.get(at..).unwrap_or_default())
                .map_err(|e| format!("{}: {e}", aside.display()))?;
            file.set_len(at as u64).map_err(|e| err(e.to_string()))?;
            file.sync_all().map_err(|e| err(e.to_string()))?;
            sync_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            truncated = Some((bytes.len() - at) as u64);
        }
        Ok(Opened {
            log: EventLog {
                path,
                file,
                failed: None,
            },
            events,
            truncated,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the events as one write and fsyncs it. After a failure every later append
    /// fails too.
    pub fn append(&mut self, events: &[Event]) -> Result<(), String> {
        if let Some(e) = &self.failed {
            return Err(format!("an earlier append failed: {e}"));
        }
        let mut buf = Vec::new();
        for e in events {
            let payload = e.encode();
            buf.extend_from_slice(&header(payload.len(), &payload));
            buf.extend_from_slice(&payload);
        }
        let result: io::Result<()> = (|| {
            self.file.write_all(&buf)?;
            self.file.sync_data()
        })();
        result.map_err(|e| {
            let msg = format!("{}: {e}", self.path.display());
            self.failed = Some(msg.clone());
            msg
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("namesrv-ctrl-log-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn events() -> Vec<Event> {
        vec![
            Event::ApplyBrokerId {
                cluster_name: "c".into(),
                broker_name: "b".into(),
                broker_address: "127.0.0.1:1".into(),
                new_broker_id: 1,
                register_check_code: "127.0.0.1:1;5".into(),
            },
            Event::ElectMaster {
                broker_name: "b".into(),
                new_master: Some(1),
            },
            Event::AlterSyncStateSet {
                broker_name: "b".into(),
                new_sync_state_set: BTreeSet::from([1]),
            },
        ]
    }

    /// The length of the last record of `log` (header and payload).
    fn last_record_len(log: &[u8]) -> usize {
        let mut at = 0;
        let mut last = 0;
        while at < log.len() {
            let len = u32::from_be_bytes([log[at], log[at + 1], log[at + 2], log[at + 3]]) as usize;
            last = HEADER + len;
            at += last;
        }
        last
    }

    #[test]
    fn appends_replay_in_order() {
        let d = dir("order");
        let mut o = EventLog::open(&d).unwrap();
        assert!(o.events.is_empty());
        o.log.append(&events()[..2]).unwrap();
        o.log.append(&events()[2..]).unwrap();
        drop(o);
        let o = EventLog::open(&d).unwrap();
        assert_eq!(o.events, events());
        assert_eq!(o.truncated, None);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_torn_tail_is_cut_and_corruption_stops_start_up() {
        let d = dir("torn");
        let mut o = EventLog::open(&d).unwrap();
        o.log.append(&events()).unwrap();
        let path = o.log.path().to_owned();
        drop(o);
        let full = fs::read(&path).unwrap();
        // Half of the last record: cut, the first two kept.
        fs::write(&path, &full[..full.len() - 5]).unwrap();
        let o = EventLog::open(&d).unwrap();
        assert_eq!(o.events, events()[..2].to_vec());
        assert!(o.truncated.is_some());
        drop(o);
        assert!(d
            .join(format!(
                "{FILE_NAME}.torn-{}",
                full.len() - last_record_len(&full)
            ))
            .exists());
        // A flipped byte inside the first record: an error naming the file, file untouched.
        let mut bad = full.clone();
        bad[HEADER + 4] ^= 0x20;
        fs::write(&path, &bad).unwrap();
        let e = EventLog::open(&d).unwrap_err();
        assert!(e.contains("events.log") && e.contains("corrupt"), "{e}");
        assert_eq!(fs::read(&path).unwrap(), bad);
        // A damaged length (a high bit flipped): an error, not a torn tail cut away.
        let mut bad = full.clone();
        bad[0] ^= 0x01;
        fs::write(&path, &bad).unwrap();
        let e = EventLog::open(&d).unwrap_err();
        assert!(
            e.contains("damaged length") && e.contains("truncate -s 0"),
            "{e}"
        );
        assert_eq!(fs::read(&path).unwrap(), bad);
        // The last record's payload damaged (a partly written append): cut, the rest kept.
        let mut bad = full.clone();
        let n = bad.len();
        bad[n - 3] ^= 0x20;
        fs::write(&path, &bad).unwrap();
        let o = EventLog::open(&d).unwrap();
        assert_eq!(o.events, events()[..2].to_vec());
        let _ = fs::remove_dir_all(&d);
    }
}
