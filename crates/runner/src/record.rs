//! The run record: what happened in one run, from AWS's own timestamps, written atomically
//! after every change under `<runs-dir>/<run-id>.json`. The metering reads it; `run --attach`
//! resumes from it. Schema `pipectl.run`, version [`RECORD_VERSION`]; README documents it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::RunError;

/// Bumped when a field changes meaning or goes; new optional fields do not bump it.
pub const RECORD_VERSION: u32 = 1;
pub const RECORD_SCHEMA: &str = "pipectl.run";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Jobs submitted and not all ended (or the CLI stopped watching: `--attach` resumes).
    Running,
    Succeeded,
    Failed,
    /// Ended on request (Ctrl-C answered yes): the jobs were terminated.
    Terminated,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceRef {
    pub name: String,
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema: String,
    pub version: u32,
    pub run_id: String,
    pub stack: String,
    pub region: String,
    pub account: String,
    /// `aws`, or the endpoint the calls went to.
    pub endpoint: String,
    pub spec_path: String,
    /// SHA-256 of the spec file's bytes, hex.
    pub spec_sha256: String,
    pub price_sheet: PriceRef,
    /// The whole sheet the run was priced with, so that it is reconciled with the same prices
    /// later (never re-priced silently with a newer catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<pipectl_metering::PriceSheet>,
    /// The estimate of one run from the spec's planned durations, before submitting.
    pub estimate_usd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    /// Milliseconds since the Unix epoch (AWS's unit) on this machine's clock.
    pub submitted_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<i64>,
    pub status: RunStatus,
    pub phases: Vec<PhaseRecord>,
    /// Compute cost of what ran, every attempt billed (60 s minimum each), same price sheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub name: String,
    pub job_queue: String,
    /// `name:revision` of the job definition submitted.
    pub job_definition: String,
    pub job_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    pub depends_on: Vec<String>,
    /// AWS Batch's job status (`SUBMITTED` … `SUCCEEDED`/`FAILED`); `NOT_SUBMITTED` before.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The instance types its queue's compute environments offer, and how they are bought.
    pub instance_types: Vec<String>,
    /// `spot` or `on-demand`.
    pub purchase: String,
    pub nodes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_size: Option<u32>,
    pub planned_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<i64>,
    /// When it could start: submitted, and every dependency ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at_ms: Option<i64>,
    /// When this run's watcher saw the job had ended (this machine's clock): its lag behind
    /// `stopped_at_ms` is what the adaptive polling costs in reaction time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noticed_at_ms: Option<i64>,
    /// Ready → first attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_wait_seconds: Option<f64>,
    /// Sum of every attempt's run time (what compute is billed for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_seconds: Option<f64>,
    /// Ready → stopped: waits, attempts and the gaps between them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_seconds: Option<f64>,
    pub attempts: Vec<Attempt>,
    pub spot_interruptions: u32,
    pub log_streams: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub started_at_ms: i64,
    pub stopped_at_ms: i64,
    pub run_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream: Option<String>,
    /// Its `statusReason` starts with `Host EC2`: the instance went away (Spot reclaimed it).
    pub spot_interruption: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub phase: String,
    /// 1-based; 0 when it never started.
    pub attempt: usize,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The phases cancelled because they depended on it.
    pub cancelled: Vec<String>,
    /// The last lines of its log.
    pub log_tail: Vec<String>,
}

impl PhaseRecord {
    /// The run seconds of every attempt Batch billed (each is billed separately, with EC2's
    /// minimum applied by the metering); a record from before attempts were kept gives its
    /// phase's run seconds as one attempt.
    pub fn attempt_seconds(&self) -> Vec<f64> {
        if self.attempts.is_empty() {
            self.run_seconds.into_iter().collect()
        } else {
            self.attempts.iter().map(|a| a.run_seconds).collect()
        }
    }

    /// A phase not submitted yet: nothing known but its name and plan.
    pub fn new(name: impl Into<String>, planned_seconds: f64) -> Self {
        PhaseRecord {
            name: name.into(),
            job_queue: String::new(),
            job_definition: String::new(),
            job_name: String::new(),
            job_id: None,
            depends_on: vec![],
            status: "NOT_SUBMITTED".into(),
            status_reason: None,
            instance_types: vec![],
            purchase: String::new(),
            nodes: 1,
            array_size: None,
            planned_seconds,
            created_at_ms: None,
            ready_at_ms: None,
            started_at_ms: None,
            stopped_at_ms: None,
            noticed_at_ms: None,
            queue_wait_seconds: None,
            run_seconds: None,
            total_seconds: None,
            attempts: vec![],
            spot_interruptions: 0,
            log_streams: vec![],
            compute_usd: None,
        }
    }
}

impl RunRecord {
    pub fn phase(&self, name: &str) -> Option<&PhaseRecord> {
        self.phases.iter().find(|p| p.name == name)
    }
    pub fn is_finished(&self) -> bool {
        self.status != RunStatus::Running
    }
}

/// The directory of run records.
#[derive(Debug, Clone)]
pub struct RunStore {
    dir: PathBuf,
}

impl RunStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RunStore { dir: dir.into() }
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn path(&self, run_id: &str) -> PathBuf {
        self.dir.join(format!("{run_id}.json"))
    }

    /// Writes the record to a temporary file beside it, syncs, renames: a reader (or a killed
    /// writer) never sees half a record.
    pub fn save(&self, rec: &RunRecord) -> Result<(), RunError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| RunError::io("create", &self.dir, e))?;
        let path = self.path(&rec.run_id);
        let tmp = self.dir.join(format!(".{}.json.tmp", rec.run_id));
        let body = serde_json::to_vec_pretty(rec).expect("a run record serialises");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&body)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| RunError::io("write", &path, e))
    }

    pub fn load(&self, run_id: &str) -> Result<RunRecord, RunError> {
        let path = self.path(run_id);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                RunError::NoSuchRun {
                    run_id: run_id.to_string(),
                    dir: self.dir.clone(),
                }
            } else {
                RunError::io("read", &path, e)
            }
        })?;
        parse(&path, &text)
    }

    /// Every record in the directory, oldest first; unreadable files are returned as errors
    /// beside the good ones rather than hiding them.
    pub fn list(&self) -> Result<(Vec<RunRecord>, Vec<RunError>), RunError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], vec![])),
            Err(e) => return Err(RunError::io("read", &self.dir, e)),
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
            match std::fs::read_to_string(&path)
                .map_err(|e| RunError::io("read", &path, e))
                .and_then(|t| parse(&path, &t))
            {
                Ok(r) => good.push(r),
                Err(e) => bad.push(e),
            }
        }
        good.sort_by(|a, b| (a.submitted_at_ms, &a.run_id).cmp(&(b.submitted_at_ms, &b.run_id)));
        Ok((good, bad))
    }
}

fn parse(path: &Path, text: &str) -> Result<RunRecord, RunError> {
    let rec: RunRecord = serde_json::from_str(text).map_err(|e| RunError::BadRecord {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if rec.schema != RECORD_SCHEMA || rec.version > RECORD_VERSION {
        return Err(RunError::BadRecord {
            path: path.to_path_buf(),
            message: format!(
                "schema {} version {}; this pipectl reads {RECORD_SCHEMA} up to version {RECORD_VERSION}",
                rec.schema, rec.version
            ),
        });
    }
    Ok(rec)
}

/// A run id: UTC time to the second and four hex digits, e.g. `20261122-101500-3f2a`; sorts by
/// time and fits a Batch job name.
pub fn new_run_id(now_ms: i64) -> String {
    let secs = now_ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let salt = (std::process::id() as i64 ^ (now_ms.rem_euclid(1000) * 7919)) & 0xffff;
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}-{salt:04x}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-11-22 10:15:00Z` for a millisecond timestamp.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attempt_is_billed_and_an_old_record_counts_as_one_attempt() {
        let mut p = PhaseRecord::new("training", 2100.0);
        assert!(p.attempt_seconds().is_empty());
        p.run_seconds = Some(30.0);
        assert_eq!(p.attempt_seconds(), vec![30.0]);
        let attempt = |secs: f64| Attempt {
            started_at_ms: 0,
            stopped_at_ms: (secs * 1000.0) as i64,
            run_seconds: secs,
            exit_code: None,
            status_reason: None,
            log_stream: None,
            spot_interruption: false,
        };
        p.attempts = vec![attempt(12.0), attempt(30.0)];
        assert_eq!(p.attempt_seconds(), vec![12.0, 30.0]);
    }

    #[test]
    fn dates_are_converted_like_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        // 2026-11-22 is day 20779.
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(utc(1_795_342_500_000), "2026-11-22 10:15:00Z");
    }

    #[test]
    fn run_ids_sort_by_time_and_are_valid_job_name_parts() {
        let a = new_run_id(1_795_342_500_000);
        let b = new_run_id(1_795_342_501_000);
        assert!(a.starts_with("20261122-101500-"), "{a}");
        assert!(a < b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn records_round_trip_and_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path().join("runs"));
        let rec = RunRecord {
            schema: RECORD_SCHEMA.into(),
            version: RECORD_VERSION,
            run_id: "20261122-101500-0001".into(),
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
            // a sheet as loaded (with the path it came from) reads back from the record
            prices: Some(
                pipectl_metering::prices::builtin("us-east-1")
                    .unwrap()
                    .unwrap(),
            ),
            estimate_usd: 1.0,
            budget_usd: None,
            submitted_at_ms: 5,
            finished_at_ms: None,
            status: RunStatus::Running,
            phases: vec![],
            compute_usd: None,
            failure: None,
        };
        store.save(&rec).unwrap();
        let back = store.load(&rec.run_id).unwrap();
        assert_eq!(back.submitted_at_ms, 5);
        assert_eq!(
            back.prices.unwrap().on_demand("g4dn.xlarge").unwrap().usd,
            0.526
        );
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
            Err(RunError::NoSuchRun { .. })
        ));
    }
}
