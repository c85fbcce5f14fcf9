//! The controller's event log: `<controllerStorePath>/events.log`, one record per event, each
//! fsynced before the decision it holds is acknowledged, and replayed at start.
//!
//! A record is `[length: u32 BE][crc32 of the payload: u32 BE][payload]`, the payload being
//! [`Event::encode`] (Apache's DLedger entry body: a 2-byte type and the event's JSON). A crash
//! can leave the last record half written: a tail too short for its announced length was never
//! acknowledged (its fsync had not returned), so it is cut off with a warning. Anything else
//! that does not read back (a checksum or a record that does not decode) is corruption: start-up
//! stops with an error naming the file and the offset, and nothing is truncated.

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

fn header(len: usize, payload: &[u8]) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[..4].copy_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    h[4..].copy_from_slice(&crc32fast::hash(payload).to_be_bytes());
    h
}

impl EventLog {
    /// Opens (creating if absent) the log in `dir`, reading every record.
    pub fn open(dir: &Path) -> Result<Opened, String> {
        let path = dir.join(FILE_NAME);
        let err = |what: String| format!("{}: {what}", path.display());
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| err(e.to_string()))?;
        if created {
            // The new file's name must survive a crash too.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| err(e.to_string()))?;
        let mut events = Vec::new();
        let mut at = 0usize;
        let mut truncated = None;
        while at < bytes.len() {
            let rest = bytes.get(at..).unwrap_or_default();
            let Some((head, body)) = rest.split_first_chunk::<8>() else {
                truncated = Some((bytes.len() - at) as u64);
                break;
            };
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let crc = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
            let Some(payload) = body.get(..len) else {
                truncated = Some((bytes.len() - at) as u64);
                break;
            };
            if crc32fast::hash(payload) != crc {
                return Err(err(format!(
                    "record at byte {at} is corrupt (checksum mismatch); the log is not replayed. \
                     Restore the file from a backup or move it away to start empty"
                )));
            }
            let event = Event::decode(payload)
                .map_err(|e| err(format!("record at byte {at} does not decode: {e}")))?;
            events.push(event);
            at += 8 + len;
        }
        if truncated.is_some() {
            file.set_len(at as u64).map_err(|e| err(e.to_string()))?;
            file.sync_all().map_err(|e| err(e.to_string()))?;
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
        // A flipped byte inside the first record: an error naming the file, file untouched.
        let mut bad = full.clone();
        bad[12] ^= 0x20;
        fs::write(&path, &bad).unwrap();
        let e = EventLog::open(&d).unwrap_err();
        assert!(e.contains("events.log") && e.contains("corrupt"), "{e}");
        assert_eq!(fs::read(&path).unwrap(), bad);
        let _ = fs::remove_dir_all(&d);
    }
}
