//! What a run reports as it goes: one event per submission, status change, ended attempt,
//! log line, cancellation, stuck job, fallback, loss or return of contact, budget warning and
//! the end.

use pipectl_record::{JobStatus, RunStatus};
use serde::Serialize;

/// What a run reports as it goes; `--output json` prints each as one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RunEvent {
    /// The jobs were submitted (one event per phase).
    Submitted {
        /// The run's id.
        run_id: String,
        /// The spec's phase name.
        phase: String,
        /// Batch's job id.
        job_id: String,
        /// Batch's job name.
        job_name: String,
    },
    /// A phase's job changed status (or started another attempt).
    Phase {
        /// The spec's phase name.
        phase: String,
        /// Batch's status now.
        status: JobStatus,
        /// The attempt under way, 1-based.
        attempt: usize,
        /// Attempts it may make (the spec's `retry.attempts`).
        max_attempts: u32,
        /// Batch's `statusReason`, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Since its current attempt started, by AWS's clock.
        #[serde(skip_serializing_if = "Option::is_none")]
        running_seconds: Option<f64>,
        /// The spec's planned run time, in seconds.
        planned_seconds: f64,
    },
    /// An attempt ended; a Spot interruption is retried by Batch when the phase allows it.
    AttemptEnded {
        /// The spec's phase name.
        phase: String,
        /// Which attempt, 1-based.
        attempt: usize,
        /// Its run time, in seconds.
        run_seconds: f64,
        /// Its container's exit code, if it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        /// Batch's `statusReason` for it, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Spot reclaimed its instance.
        spot_interruption: bool,
    },
    /// A line of a phase's CloudWatch Logs stream.
    Log {
        /// The spec's phase name.
        phase: String,
        /// The log line.
        line: String,
    },
    /// A phase's job was terminated because one it depends on failed.
    Cancelled {
        /// The cancelled phase.
        phase: String,
        /// Why (the reason given to Batch's `TerminateJob`).
        because: String,
    },
    /// AWS could not be reached; the watch keeps trying.
    Unreachable {
        /// The last error.
        error: String,
        /// Seconds since AWS last answered.
        seconds: u64,
    },
    /// AWS answers again.
    Reachable,
    /// The projected cost of the run passed the spec's budget (once per run).
    BudgetWarning {
        /// Projected cost of the whole run, USD.
        projected_usd: f64,
        /// The spec's budget, USD.
        budget_usd: f64,
    },
    /// Something worth saying that fits no other event (e.g. jobs terminated).
    Note {
        /// The sentence for people.
        message: String,
    },
    /// A phase waits RUNNABLE past its expected start: why, and what to do.
    Stuck {
        /// The phase.
        phase: String,
        /// Batch's blocked-queue reason, or what pipectl found (`SCALING`, `AT_MAX_VCPUS`, ...).
        code: String,
        /// One sentence: what holds it.
        explanation: String,
        /// What to do about it.
        fix: String,
    },
    /// A phase moves to its fallback queue: why, and the switch priced against staying.
    Fallback {
        /// The phase.
        phase: String,
        /// The spec's key of the queue it leaves.
        from_queue: String,
        /// The spec's key of the queue it moves to.
        to_queue: String,
        /// `capacity` or `interruptions:N`.
        trigger: String,
        /// One sentence: what happened.
        reason: String,
        /// Its remaining planned time on its own queue, USD.
        #[serde(skip_serializing_if = "Option::is_none")]
        stay_usd: Option<f64>,
        /// Its planned time on the fallback queue, USD.
        #[serde(skip_serializing_if = "Option::is_none")]
        switch_usd: Option<f64>,
        /// What its attempts so far cost (paid either way), USD.
        #[serde(skip_serializing_if = "Option::is_none")]
        spent_usd: Option<f64>,
        /// The phases that depend on it, resubmitted with it.
        dependents: Vec<String>,
    },
    /// The run ended.
    Finished {
        /// The run's id.
        run_id: String,
        /// How it ended.
        status: RunStatus,
        /// Submission to end, in seconds.
        seconds: f64,
        /// Compute cost of every attempt, USD; `None` when unpriced.
        #[serde(skip_serializing_if = "Option::is_none")]
        compute_usd: Option<f64>,
        /// How many `DescribeJobs` calls the watch made.
        describe_jobs_calls: u64,
        /// How many messages the watch read from the stack's job-event queue.
        job_events: u64,
    },
}
