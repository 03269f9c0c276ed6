//! What a run reports as it goes: one event per submission, status change, ended attempt,
//! log line, cancellation, loss or return of contact, budget warning and the end.

use pipectl_record::{JobStatus, RunStatus};
use serde::Serialize;

/// What a run reports as it goes; `--output json` prints each as one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RunEvent {
    Submitted {
        run_id: String,
        phase: String,
        job_id: String,
        job_name: String,
    },
    /// A phase's job changed status (or started another attempt).
    Phase {
        phase: String,
        status: JobStatus,
        attempt: usize,
        max_attempts: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Since its current attempt started, by AWS's clock.
        #[serde(skip_serializing_if = "Option::is_none")]
        running_seconds: Option<f64>,
        planned_seconds: f64,
    },
    /// An attempt ended; a Spot interruption is retried by Batch when the phase allows it.
    AttemptEnded {
        phase: String,
        attempt: usize,
        run_seconds: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        spot_interruption: bool,
    },
    Log {
        phase: String,
        line: String,
    },
    Cancelled {
        phase: String,
        because: String,
    },
    Unreachable {
        error: String,
        seconds: u64,
    },
    Reachable,
    BudgetWarning {
        projected_usd: f64,
        budget_usd: f64,
    },
    Note {
        message: String,
    },
    Finished {
        run_id: String,
        status: RunStatus,
        seconds: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        compute_usd: Option<f64>,
        describe_jobs_calls: u64,
    },
}
