//! The state file: a cache of the physical ids of a stack's resources, written atomically
//! (temporary file + rename) after every resource, and a lock that stops two `up`/`down` on
//! one stack at once. Tags stay the source of truth: `down` works without this file.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ProvisionError;

/// Bumped when the layout changes incompatibly.
pub const STATE_VERSION: u32 = 1;

/// What pipectl knows of one stack's resources: a cache of their ids, not the
/// source of truth (that is AWS, by tags).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// The layout's version ([`STATE_VERSION`]).
    pub version: u32,
    /// The stack's name.
    pub stack: String,
    /// The region the resources live in.
    pub region: String,
    /// The account the resources live in.
    pub account: String,
    /// Where the calls went: `aws` or the endpoint URL.
    pub endpoint: String,
    /// Logical id → what AWS knows it as.
    pub resources: BTreeMap<String, Entry>,
    /// This lifetime's client-token nonce (see `token`): set by the first `up`, renewed by
    /// every `down`, so that AWS never sees one token for two different requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<String>,
}

/// One resource in the state file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// Its kind, kebab-case as `plan --output json` prints it (`compute-environment`).
    pub kind: String,
    /// The id AWS gave it (vpc-…, fs-…), or its name where names are ids (roles, buckets).
    pub physical_id: String,
    /// Its ARN, for the kinds that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Outputs dependents need (launch-template version, FSx DNS name and mount name, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
    /// When pipectl first saw it exist (RFC 3339, UTC): the start of its billable lifetime.
    pub since: String,
}

impl State {
    /// An empty state for a stack, before its first resource.
    pub fn new(stack: &str, region: &str, account: &str, endpoint: &str) -> Self {
        State {
            version: STATE_VERSION,
            stack: stack.into(),
            region: region.into(),
            account: account.into(),
            endpoint: endpoint.into(),
            resources: BTreeMap::new(),
            lifetime: None,
        }
    }
}

/// The state directory of one stack, held locked for as long as this value lives.
#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    // Dropping the file releases the lock; the OS releases it too if the process dies.
    _lock: File,
}

impl StateStore {
    /// Locks `<dir>/<stack>.lock` (waiting for nobody: a held lock is an error naming it).
    pub fn open(dir: &Path, stack: &str) -> Result<Self, ProvisionError> {
        fs::create_dir_all(dir)
            .map_err(|e| ProvisionError::io("create the state directory", dir, e))?;
        let lock_path = dir.join(format!("{stack}.lock"));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| ProvisionError::io("open the lock file", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(ProvisionError::Locked { path: lock_path });
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(ProvisionError::io("lock", &lock_path, e));
            }
        }
        Ok(StateStore {
            path: dir.join(format!("{stack}.json")),
            _lock: lock,
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored state, or `None` when there is none (first `up`, or it was lost).
    pub fn load(&self) -> Result<Option<State>, ProvisionError> {
        let text = match read_text(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ProvisionError::io("read the state file", &self.path, e)),
        };
        let state: State = serde_json::from_str(&text).map_err(|e| ProvisionError::BadState {
            path: self.path.clone(),
            message: format!("line {} column {}: {e}", e.line(), e.column()),
        })?;
        if state.version != STATE_VERSION {
            return Err(ProvisionError::BadState {
                path: self.path.clone(),
                message: format!(
                    "version {} (this pipectl reads version {STATE_VERSION})",
                    state.version
                ),
            });
        }
        Ok(Some(state))
    }

    /// Writes the whole state atomically: a reader (or a crash) sees the old file or the new one.
    pub fn save(&self, state: &State) -> Result<(), ProvisionError> {
        let mut body = serde_json::to_vec_pretty(state).expect("state serialises");
        body.push(b'\n');
        let write = || -> std::io::Result<()> {
            // an exclusive temporary file: a link planted beside the state is never followed
            pipectl_files::write_atomic(&self.path, &body)?;
            if let Some(dir) = self.path.parent() {
                // Make the rename itself durable.
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        };
        write().map_err(|e| ProvisionError::io("write the state file", &self.path, e))
    }

    /// Appends a deleted resource to `<stack>.history.jsonl` beside the state: how long each
    /// resource lived is what it was billed for, and the metering reads it after `down`.
    pub fn record_ended(&self, logical: &str, entry: &Entry) {
        let line = Ended {
            logical: logical.to_string(),
            kind: entry.kind.clone(),
            physical_id: entry.physical_id.clone(),
            since: entry.since.clone(),
            until: now_rfc3339(),
        };
        let path = self.path.with_extension("history.jsonl");
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
            let mut body = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
            body.push(b'\n');
            f.write_all(&body)
        };
        if let Err(e) = write() {
            tracing::warn!(
                "could not record the lifetime of {logical} in {}: {e}",
                path.display()
            );
        }
    }

    /// Removes the state file (after a complete `down`).
    pub fn remove(&self) -> Result<(), ProvisionError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ProvisionError::io("remove the state file", &self.path, e)),
        }
    }
}

/// A resource `down` deleted, and when it existed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ended {
    /// Its logical id in the graph.
    pub logical: String,
    /// Its kind, kebab-case (`compute-environment`).
    pub kind: String,
    /// The id AWS gave it.
    pub physical_id: String,
    /// When pipectl first saw it exist (RFC 3339, UTC).
    pub since: String,
    /// When `down` saw it gone (RFC 3339, UTC).
    pub until: String,
}

/// How long one resource existed (or has existed so far), in Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifespan {
    /// Its logical id in the graph.
    pub logical: String,
    /// Its kind, kebab-case (`compute-environment`).
    pub kind: String,
    /// The id AWS gave it.
    pub physical_id: String,
    /// When it began to exist (RFC 3339, UTC).
    pub since: String,
    /// The same instant, in Unix milliseconds.
    pub since_ms: i64,
    /// `None` while it exists.
    pub until: Option<String>,
    /// When it ended, in Unix milliseconds; `None` while it exists.
    pub until_ms: Option<i64>,
}

/// The most of a state file or history pipectl reads (a stack's state is kilobytes).
const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;

/// A state file's or history's text, read to at most [`MAX_STATE_BYTES`] whatever the file
/// reports (a device never ends).
fn read_text(path: &Path) -> std::io::Result<String> {
    let bytes = pipectl_files::read_capped(path, MAX_STATE_BYTES).map_err(|e| match e {
        pipectl_files::ReadError::Io(e) => e,
        pipectl_files::ReadError::TooLarge { cap } => std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("more than {cap} bytes"),
        ),
    })?;
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Every lifetime the state directory knows for `stack`: resources deleted by `down` (from the
/// history) and those that exist now (from the state, without taking its lock: read only);
/// and, naming the file, what could not be read (a truncated state drops the shared resources
/// alive now, most of a run's cost: never silently).
pub fn lifespans(dir: &Path, stack: &str) -> (Vec<Lifespan>, Vec<String>) {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    let history = dir.join(format!("{stack}.history.jsonl"));
    if let Ok(text) = read_text(&history) {
        let mut bad = 0;
        let ended = text.lines().filter_map(|l| {
            let e = serde_json::from_str::<Ended>(l).ok();
            bad += usize::from(e.is_none() && !l.trim().is_empty());
            e
        });
        for e in ended.collect::<Vec<_>>() {
            let (Some(s), Some(u)) = (parse_rfc3339(&e.since), parse_rfc3339(&e.until)) else {
                continue;
            };
            out.push(Lifespan {
                logical: e.logical,
                kind: e.kind,
                physical_id: e.physical_id,
                since: e.since,
                since_ms: s * 1000,
                until: Some(e.until),
                until_ms: Some(u * 1000),
            });
        }
        if bad > 0 {
            unreadable.push(format!(
                "{bad} line(s) of {} are unreadable: the resources they record are left out of the cost",
                history.display()
            ));
        }
    }
    let state_path = dir.join(format!("{stack}.json"));
    let state = match read_text(&state_path) {
        Ok(text) => match serde_json::from_str::<State>(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                unreadable.push(format!(
                    "the state file {} is unreadable ({e}): the stack's resources that exist now (its file system, NAT gateway) are left out of the cost",
                    state_path.display()
                ));
                None
            }
        },
        Err(_) => None,
    };
    if let Some(state) = state {
        for (logical, e) in state.resources {
            let Some(s) = parse_rfc3339(&e.since) else {
                continue;
            };
            out.push(Lifespan {
                logical,
                kind: e.kind,
                physical_id: e.physical_id,
                since: e.since,
                since_ms: s * 1000,
                until: None,
                until_ms: None,
            });
        }
    }
    (out, unreadable)
}

/// The one form of time the state file holds: RFC 3339 UTC with seconds.
const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SSZ` (the form [`now_rfc3339`] writes).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    // Exactly that form: chrono alone would also take one-digit fields.
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(s, FORMAT)
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    rfc3339(secs)
}

pub(crate) fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format(FORMAT)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        for secs in [0, 951_782_400, 1_795_000_000, 4_107_542_399] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        assert_eq!(parse_rfc3339("2026-11-01T00:00:00Z"), Some(1_793_491_200));
        assert_eq!(parse_rfc3339("2026-11-01 00:00:00"), None);
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-1-01T00:00:00Z"), None);
    }

    #[test]
    fn deleted_resources_keep_their_lifetimes() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path(), "s").unwrap();
        let mut st = State::new("s", "us-east-1", "1", "aws");
        let e = Entry {
            kind: "fsx".into(),
            physical_id: "fs-1".into(),
            arn: None,
            attrs: BTreeMap::new(),
            since: "2026-11-01T00:00:00Z".into(),
        };
        st.resources.insert("fsx".into(), e.clone());
        st.resources.insert(
            "bucket-x".into(),
            Entry {
                kind: "bucket".into(),
                ..e.clone()
            },
        );
        store.save(&st).unwrap();
        store.record_ended("fsx", &e);
        st.resources.remove("fsx");
        store.save(&st).unwrap();
        let (l, unreadable) = lifespans(dir.path(), "s");
        assert!(unreadable.is_empty(), "{unreadable:?}");
        let fsx = l.iter().find(|l| l.kind == "fsx").unwrap();
        assert_eq!(fsx.since_ms, 1_793_491_200_000);
        assert!(fsx.until_ms.unwrap() > fsx.since_ms);
        let bucket = l.iter().find(|l| l.kind == "bucket").unwrap();
        assert_eq!(bucket.until, None);
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_381_199), "2026-11-22T20:59:59Z");
    }

    #[test]
    fn state_round_trips_and_a_second_lock_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path(), "s").unwrap();
        assert_eq!(store.load().unwrap(), None);
        let mut st = State::new("s", "us-east-1", "000000000000", "http://127.0.0.1:4566");
        st.resources.insert(
            "vpc".into(),
            Entry {
                kind: "vpc".into(),
                physical_id: "vpc-1".into(),
                arn: None,
                attrs: BTreeMap::new(),
                since: now_rfc3339(),
            },
        );
        store.save(&st).unwrap();
        assert_eq!(store.load().unwrap(), Some(st));
        assert!(
            !dir.path().join("s.json.tmp").exists(),
            "no temporary file left behind"
        );

        let err = StateStore::open(dir.path(), "s").unwrap_err();
        assert!(matches!(err, ProvisionError::Locked { .. }), "{err}");
        drop(store);
        StateStore::open(dir.path(), "s").expect("the lock is released when the holder goes");
    }

    #[test]
    fn a_damaged_or_newer_state_file_is_refused_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path(), "s").unwrap();
        fs::write(store.path(), "{ not json").unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("s.json") && err.contains("line 1"), "{err}");
        let mut v = serde_json::to_value(State::new("s", "r", "a", "e")).unwrap();
        v["version"] = 99.into();
        fs::write(store.path(), v.to_string()).unwrap();
        assert!(store.load().unwrap_err().to_string().contains("version 99"));
    }

    #[test]
    fn a_truncated_state_or_history_is_named_not_dropped_silently() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.json"), "{\"version\": 1, \"resou").unwrap();
        std::fs::write(
            dir.path().join("s.history.jsonl"),
            "{\"logical\": \"fsx\"\n",
        )
        .unwrap();
        let (l, unreadable) = lifespans(dir.path(), "s");
        assert!(l.is_empty());
        assert_eq!(unreadable.len(), 2, "{unreadable:?}");
        assert!(unreadable[0].contains("s.history.jsonl"));
        assert!(unreadable[1].contains("s.json") && unreadable[1].contains("left out of the cost"));
    }
}
