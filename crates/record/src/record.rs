//! The run record's types: the run, its phases and their attempts, the failure that ended it,
//! and the one billing rule every reader applies to attempts.

use serde::{Deserialize, Serialize};

use crate::status::{JobStatus, Purchase, RunStatus};

/// Bumped when a field changes meaning or goes; new optional fields do not bump it.
pub const RECORD_VERSION: u32 = 1;
/// The `schema` field of every run record.
pub const RECORD_SCHEMA: &str = "pipectl.run";

/// The whole price sheet a run was priced with, kept as written so that the record needs no
/// knowledge of the sheet's format; the metering reads it back (`PriceSheet::from_recorded`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordedPrices(pub serde_json::Value);

/// Which price sheet a run was priced with (the record's `price_sheet`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceRef {
    /// The sheet's `name`.
    pub name: String,
    /// The day its prices were read (YYYY-MM-DD).
    pub date: String,
    /// The file it was loaded from; `None` for the built-in sheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One run: `<runs-dir>/<run-id>.json`, rewritten after every change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always `pipectl.run` ([`RECORD_SCHEMA`]).
    pub schema: String,
    /// The record format's version ([`RECORD_VERSION`]) it was written with.
    pub version: u32,
    /// The run's id: the file's stem and the suffix of its job names.
    pub run_id: String,
    /// The spec's stack name.
    pub stack: String,
    /// The AWS region the jobs ran in.
    pub region: String,
    /// The AWS account id the jobs ran in.
    pub account: String,
    /// `aws`, or the endpoint the calls went to.
    pub endpoint: String,
    /// The spec file's path as given on the command line.
    pub spec_path: String,
    /// SHA-256 of the spec file's bytes, hex.
    pub spec_sha256: String,
    /// Which price sheet priced it.
    pub price_sheet: PriceRef,
    /// The whole sheet the run was priced with, so that it is reconciled with the same prices
    /// later (never re-priced silently with a newer catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<RecordedPrices>,
    /// The estimate of one run from the spec's planned durations, before submitting.
    pub estimate_usd: f64,
    /// The spec's budget for one run, in USD; `None` when it sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    /// Milliseconds since the Unix epoch (AWS's unit) on this machine's clock.
    pub submitted_at_ms: i64,
    /// When the run ended (ms since the Unix epoch); `None` while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<i64>,
    /// Running, or how it ended.
    pub status: RunStatus,
    /// One per spec phase, in the spec's order.
    pub phases: Vec<PhaseRecord>,
    /// Compute cost of what ran, every attempt billed (60 s minimum each), same price sheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_usd: Option<f64>,
    /// What ended the run; `None` unless it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// One phase of a run: its AWS Batch job, timings and cost.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// The spec's phase name.
    pub name: String,
    /// The job queue's name it was submitted to.
    pub job_queue: String,
    /// `name:revision` of the job definition submitted.
    pub job_definition: String,
    /// The Batch job's name (`<stack>-<phase>-<run-id>`, at most 128 characters).
    pub job_name: String,
    /// The Batch job id; `None` until submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The phases it waits for (Batch `dependsOn`), by name.
    pub depends_on: Vec<String>,
    /// AWS Batch's job status (`SUBMITTED` … `SUCCEEDED`/`FAILED`); `NOT_SUBMITTED` before.
    pub status: JobStatus,
    /// Batch's `statusReason` for the job, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The instance types its queue's compute environments offer, and how they are bought.
    pub instance_types: Vec<String>,
    /// Spot or On-Demand, as its compute environments buy.
    pub purchase: Purchase,
    /// Nodes per attempt (more than 1 for a multi-node parallel job).
    pub nodes: u32,
    /// Array job size; `None` for a single job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_size: Option<u32>,
    /// The spec's planned run time, in seconds (what the estimate uses).
    pub planned_seconds: f64,
    /// Batch's `createdAt` (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<i64>,
    /// When it could start: submitted, and every dependency ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at_ms: Option<i64>,
    /// Batch's `startedAt` of the first attempt (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<i64>,
    /// Batch's `stoppedAt` of the last attempt (ms since the Unix epoch).
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
    /// Every attempt Batch made, oldest first.
    pub attempts: Vec<Attempt>,
    /// How many attempts Spot reclaimed.
    pub spot_interruptions: u32,
    /// The CloudWatch Logs streams of its attempts, oldest first.
    pub log_streams: Vec<String>,
    /// Compute cost of its attempts in USD (60 s minimum each); `None` before it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_usd: Option<f64>,
    /// Why its job waited RUNNABLE past the phase's expected start, as `run` last explained it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck: Option<Stuck>,
    /// The switch to the phase's fallback queue, once `run` made it; its job fields above are
    /// then the fallback job's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<FallbackSwitch>,
    /// Jobs of this phase `run` cancelled and submitted again (the phase fell back, or a
    /// phase it depends on did), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<ReplacedJob>,
}

/// Why and when a phase moved to its fallback queue, and what the switch was priced at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FallbackSwitch {
    /// The spec's key of the queue it moved to.
    pub queue: String,
    /// The trigger that fired: `capacity` or `interruptions:N`.
    pub trigger: String,
    /// One sentence: what happened.
    pub reason: String,
    /// When `run` decided (ms since the Unix epoch).
    pub at_ms: i64,
    /// The phase's remaining planned time priced on its own queue (staying), USD; `None`
    /// when the sheet has no price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stay_usd: Option<f64>,
    /// The phase's planned time priced on the fallback queue (a new job starts over), USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_usd: Option<f64>,
}

/// A job of a phase that `run` replaced by a new one: what it was and what it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplacedJob {
    /// Its Batch job id.
    pub job_id: String,
    /// Its job name.
    pub job_name: String,
    /// The job queue's name it was in.
    pub job_queue: String,
    /// Spot or On-Demand, as its compute environments bought.
    pub purchase: Purchase,
    /// Its status when it was cancelled.
    pub status: JobStatus,
    /// Why it was replaced.
    pub reason: String,
    /// Every attempt it made (billed like any other).
    pub attempts: Vec<Attempt>,
    /// How many of them Spot reclaimed.
    pub spot_interruptions: u32,
    /// Compute cost of its attempts, USD; `None` when unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_usd: Option<f64>,
    /// `run` ended it (its `TerminateJob` succeeded); until then a resumed run ends it again.
    #[serde(default)]
    pub ended: bool,
}

/// A job held RUNNABLE, explained from what AWS said of it and of its compute environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stuck {
    /// Batch's blocked-queue reason (`CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY`, ...), or
    /// pipectl's word for what it found (`SCALING`, `AT_MAX_VCPUS`, `COMPUTE_ENVIRONMENT_INVALID`).
    pub code: String,
    /// One sentence: what holds it.
    pub explanation: String,
    /// What to do about it.
    pub fix: String,
    /// How long it had waited RUNNABLE when explained, in seconds.
    pub waited_seconds: f64,
}

/// One try of a phase's job, as Batch reports it in `attempts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its container's `startedAt` (ms since the Unix epoch).
    pub started_at_ms: i64,
    /// Its container's `stoppedAt` (ms since the Unix epoch).
    pub stopped_at_ms: i64,
    /// Stopped minus started, in seconds.
    pub run_seconds: f64,
    /// The container's exit code; `None` if it never ran (or Spot took it first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Batch's `statusReason` for this attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Its CloudWatch Logs stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream: Option<String>,
    /// Its `statusReason` starts with `Host EC2`: the instance went away (Spot reclaimed it).
    pub spot_interruption: bool,
}

/// What ended a failed run (the record's `failure`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// The phase that failed.
    pub phase: String,
    /// 1-based; 0 when it never started.
    pub attempt: usize,
    /// Batch's reason (or the container's) for the failure.
    pub reason: String,
    /// The failed attempt's container exit code, if it had one.
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

    /// When its current attempt began: after the last one ended, or at the first start.
    pub fn attempt_began_ms(&self) -> Option<i64> {
        self.attempts
            .last()
            .map(|a| a.stopped_at_ms)
            .into_iter()
            .chain(self.started_at_ms)
            .max()
    }

    /// The run seconds of the attempts made on the phase's own queue: every attempt of a
    /// phase that did not fall back (replaced jobs included), else those of the jobs replaced.
    pub fn own_queue_attempt_seconds(&self) -> Vec<f64> {
        let replaced = self
            .replaced
            .iter()
            .flat_map(|r| r.attempts.iter())
            .map(|a| a.run_seconds);
        if self.fallback.is_some() {
            replaced.collect()
        } else {
            replaced.chain(self.attempt_seconds()).collect()
        }
    }

    /// The run seconds of the attempts made on the fallback queue, when the phase fell back.
    pub fn fallback_attempt_seconds(&self) -> Option<Vec<f64>> {
        self.fallback.as_ref().map(|_| self.attempt_seconds())
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
            status: JobStatus::NotSubmitted,
            status_reason: None,
            instance_types: vec![],
            purchase: Purchase::OnDemand,
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
            stuck: None,
            compute_usd: None,
            fallback: None,
            replaced: vec![],
        }
    }
}

impl RunRecord {
    /// The phase of this name; `None` if the spec has none.
    pub fn phase(&self, name: &str) -> Option<&PhaseRecord> {
        self.phases.iter().find(|p| p.name == name)
    }
    /// Whether the run has ended (any status but `RUNNING`).
    pub fn is_finished(&self) -> bool {
        self.status != RunStatus::Running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn attempt(secs: f64) -> Attempt {
        Attempt {
            started_at_ms: 0,
            stopped_at_ms: (secs * 1000.0) as i64,
            run_seconds: secs,
            exit_code: None,
            status_reason: None,
            log_stream: None,
            spot_interruption: false,
        }
    }

    #[test]
    fn every_attempt_is_billed_and_an_old_record_counts_as_one_attempt() {
        let mut p = PhaseRecord::new("training", 2100.0);
        assert!(p.attempt_seconds().is_empty());
        p.run_seconds = Some(30.0);
        assert_eq!(p.attempt_seconds(), vec![30.0]);
        p.attempts = vec![attempt(12.0), attempt(30.0)];
        assert_eq!(p.attempt_seconds(), vec![12.0, 30.0]);
    }

    #[test]
    fn a_phase_not_submitted_says_so_in_the_record() {
        let p = PhaseRecord::new("training", 60.0);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], "NOT_SUBMITTED");
        assert!(v.get("job_id").is_none(), "absent options are left out");
    }
}
