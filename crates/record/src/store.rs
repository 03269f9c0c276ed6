//! The directory of run records: each written atomically (temporary file, sync, rename),
//! read back refusing another schema or a newer version, listed oldest first.

use std::path::{Path, PathBuf};

use crate::record::{RECORD_SCHEMA, RECORD_VERSION, RunRecord};

/// What can go wrong reading or writing a run record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No record of this run in the directory.
    #[error("no run {run_id} in {}", dir.display())]
    NoSuchRun {
        /// The run asked for.
        run_id: String,
        /// The runs directory searched.
        dir: PathBuf,
    },
    /// Not JSON, not a run record, or of a newer version than this pipectl reads.
    #[error("the run record {} is unreadable: {message}", path.display())]
    BadRecord {
        /// The record's file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A run id that is not one (`../../x`): ids are letters, digits, `-` and `_` only.
    #[error("{run_id:?} is not a run id (run ids are like 20261122-101500-3f2a)")]
    BadRunId {
        /// What was given.
        run_id: String,
    },
    /// Creating or listing the directory, or reading or writing a record, failed.
    #[error("failed to {what} {}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `create`, ...).
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl RecordError {
    fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        RecordError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The directory of run records.
#[derive(Debug, Clone)]
pub struct RunStore {
    dir: PathBuf,
}

impl RunStore {
    /// The store over this directory (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RunStore { dir: dir.into() }
    }
    /// The directory it reads and writes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Where a run's record lives: `<dir>/<run-id>.json`.
    pub fn path(&self, run_id: &str) -> PathBuf {
        self.dir.join(format!("{run_id}.json"))
    }

    /// Writes the record to a temporary file beside it, syncs, renames: a reader (or a killed
    /// writer) never sees half a record.
    pub fn save(&self, rec: &RunRecord) -> Result<(), RecordError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| RecordError::io("create", &self.dir, e))?;
        let path = self.path(&rec.run_id);
        let mut body = serde_json::to_vec_pretty(rec).expect("a run record serialises");
        body.push(b'\n');
        pipectl_files::write_atomic(&path, &body).map_err(|e| RecordError::io("write", &path, e))
    }

    /// Reads a run's record; fails if the id is not a run id's, or the record is missing, of
    /// another schema or of a newer version.
    pub fn load(&self, run_id: &str) -> Result<RunRecord, RecordError> {
        if !crate::time::is_run_id(run_id) {
            return Err(RecordError::BadRunId {
                run_id: run_id.to_string(),
            });
        }
        let path = self.path(run_id);
        let text = read(&path).map_err(|e| match e {
            RecordError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                RecordError::NoSuchRun {
                    run_id: run_id.to_string(),
                    dir: self.dir.clone(),
                }
            }
            other => other,
        })?;
        parse(&path, &text)
    }

    /// Every record in the directory, oldest first; unreadable files are returned as errors
    /// beside the good ones rather than hiding them.
    pub fn list(&self) -> Result<(Vec<RunRecord>, Vec<RecordError>), RecordError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], vec![])),
            Err(e) => return Err(RecordError::io("read", &self.dir, e)),
        };
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for entry in entries.flatten() {
            let path = entry.path();
            let is_record = path.extension().is_some_and(|x| x == "json")
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !is_record {
                continue;
            }
            match read(&path).and_then(|t| parse(&path, &t)) {
                Ok(r) => good.push(r),
                Err(e) => bad.push(e),
            }
        }
        good.sort_by(|a, b| (a.submitted_at_ms, &a.run_id).cmp(&(b.submitted_at_ms, &b.run_id)));
        Ok((good, bad))
    }
}

/// The newest readable run (of `stack` when given), and the records that could not be read:
/// a truncated newest record must not make "latest" an older run silently, so the caller says
/// which files were passed over.
pub type Latest = (Option<RunRecord>, Vec<RecordError>);

impl RunStore {
    /// The newest run of `stack` (any stack with `None`) among the readable records, and the
    /// unreadable ones beside it.
    pub fn latest(&self, stack: Option<&str>) -> Result<Latest, RecordError> {
        let (runs, bad) = self.list()?;
        let newest = runs
            .into_iter()
            .rev()
            .find(|r| stack.is_none_or(|s| r.stack == s));
        Ok((newest, bad))
    }
}

/// A record's text, read to at most [`MAX_RECORD_BYTES`].
fn read(path: &Path) -> Result<String, RecordError> {
    let bytes = pipectl_files::read_capped(path, MAX_RECORD_BYTES).map_err(|e| match e {
        pipectl_files::ReadError::Io(e) => RecordError::io("read", path, e),
        pipectl_files::ReadError::TooLarge { cap } => RecordError::BadRecord {
            path: path.to_path_buf(),
            message: format!("it holds more than {cap} bytes, more than any run writes"),
        },
    })?;
    String::from_utf8(bytes).map_err(|_| RecordError::BadRecord {
        path: path.to_path_buf(),
        message: "it is not UTF-8 text".into(),
    })
}

/// The largest record pipectl reads (a run of a thousand phases, each with its attempts, is a
/// few megabytes).
pub const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

fn parse(path: &Path, text: &str) -> Result<RunRecord, RecordError> {
    let rec: RunRecord = serde_json::from_str(text).map_err(|e| RecordError::BadRecord {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if rec.schema != RECORD_SCHEMA || rec.version > RECORD_VERSION {
        return Err(RecordError::BadRecord {
            path: path.to_path_buf(),
            message: format!(
                "schema {} version {}; this pipectl reads {RECORD_SCHEMA} up to version {RECORD_VERSION}",
                rec.schema, rec.version
            ),
        });
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{PhaseRecord, PriceRef, RecordedPrices};
    use crate::status::{JobStatus, RunStatus};

    /// A small record of stack `s`.
    fn sample(run_id: &str) -> RunRecord {
        RunRecord {
            schema: RECORD_SCHEMA.into(),
            version: RECORD_VERSION,
            run_id: run_id.into(),
            stack: "s".into(),
            region: "us-east-1".into(),
            account: "000000000000".into(),
            endpoint: "aws".into(),
            spec_path: "x.toml".into(),
            spec_sha256: "ab".into(),
            price_sheet: PriceRef {
                name: "n".into(),
                date: "d".into(),
                path: None,
            },
            prices: Some(RecordedPrices(serde_json::json!({
                "sheet": {"name": "n", "date": "d"},
                "ec2": {"on_demand": {"g4dn.xlarge": {"usd": 0.526}}}
            }))),
            estimate_usd: 1.0,
            budget_usd: None,
            submitted_at_ms: 5,
            finished_at_ms: None,
            status: RunStatus::Running,
            phases: vec![PhaseRecord {
                status: JobStatus::Running,
                ..PhaseRecord::new("training", 60.0)
            }],
            compute_usd: None,
            failure: None,
        }
    }

    #[test]
    fn records_round_trip_and_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path().join("runs"));
        let rec = sample("20261122-101500-0001");
        store.save(&rec).unwrap();
        let back = store.load(&rec.run_id).unwrap();
        assert_eq!(back.submitted_at_ms, 5);
        assert_eq!(back.prices, rec.prices, "the sheet reads back as written");
        assert_eq!(back.phases[0].status, JobStatus::Running);
        let (all, bad) = store.list().unwrap();
        assert_eq!((all.len(), bad.len()), (1, 0));
        let newer = std::fs::read_to_string(store.path(&rec.run_id))
            .unwrap()
            .replace("\"version\": 1", "\"version\": 99");
        std::fs::write(store.path(&rec.run_id), newer).unwrap();
        let e = store.load(&rec.run_id).unwrap_err().to_string();
        assert!(e.contains("version 99"), "{e}");
        assert!(matches!(
            store.load("nope"),
            Err(RecordError::NoSuchRun { .. })
        ));
    }

    #[test]
    fn a_truncated_newest_record_is_returned_beside_the_older_latest() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        store.save(&sample("20261122-101500-0001")).unwrap();
        let newer = serde_json::to_string(&sample("20261123-101500-0002")).unwrap();
        std::fs::write(
            store.path("20261123-101500-0002"),
            &newer[..newer.len() / 2],
        )
        .unwrap();
        let (newest, bad) = store.latest(Some("s")).unwrap();
        assert_eq!(
            newest.map(|r| r.run_id).as_deref(),
            Some("20261122-101500-0001")
        );
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].to_string().contains("20261123-101500-0002.json"),
            "{}",
            bad[0]
        );
    }

    #[test]
    fn a_run_id_never_reaches_outside_the_runs_directory() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("a/runs");
        std::fs::create_dir_all(&runs).unwrap();
        // a valid record one level up, where `../x` would find it
        std::fs::write(
            dir.path().join("a/x.json"),
            r#"{"schema": "pipectl.run", "version": 1}"#,
        )
        .unwrap();
        let store = RunStore::new(&runs);
        for id in ["../x", "../../a/x", "/etc/passwd"] {
            assert!(
                matches!(store.load(id), Err(RecordError::BadRunId { .. })),
                "{id}"
            );
        }
    }

    #[test]
    fn a_record_that_never_ends_is_refused_without_reading_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        if !std::path::Path::new("/dev/zero").exists() {
            return;
        }
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("20261122-101500-0001.json"))
            .unwrap();
        let e = store.load("20261122-101500-0001").unwrap_err().to_string();
        assert!(e.contains("more than"), "{e}");
    }
}
