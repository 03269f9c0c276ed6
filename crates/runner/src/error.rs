//! What can go wrong around a run, naming the phase, the AWS operation and its code.

use std::path::PathBuf;

use pipectl_aws::AwsError;
use pipectl_record::RecordError;

/// What can stop `run`, `run --attach` or reading a run back.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A resource the run needs is missing or not ready (`up` has not finished).
    #[error("the stack is not ready to run: {what}")]
    NotReady {
        /// Which resource, and how it stands.
        what: String,
    },
    /// The stack's file system did not become AVAILABLE in time: no phase that mounts it was
    /// submitted.
    #[error(
        "the file system {file_system} is still {state} after {seconds}s; no phase that mounts it was submitted"
    )]
    FileSystemNotAvailable {
        /// The file system's id (`fs-…`).
        file_system: String,
        /// Its lifecycle when the wait gave up (CREATING, UPDATING, ...).
        state: String,
        /// How long `run` waited.
        seconds: u64,
    },
    /// The estimate of one run exceeds the spec's budget: nothing was submitted.
    #[error(
        "the estimate of one run, ${estimate:.4}, exceeds the spec's budget of ${budget:.4}; nothing was submitted"
    )]
    OverBudget {
        /// The estimate of one run, USD.
        estimate: f64,
        /// The spec's budget, USD.
        budget: f64,
    },
    /// No record of this run in the runs directory.
    #[error("no run {run_id} in {}", dir.display())]
    NoSuchRun {
        /// The run asked for.
        run_id: String,
        /// The runs directory searched.
        dir: PathBuf,
    },
    /// A run id that is not one (`../../x`): it is never made into a path.
    #[error("{run_id:?} is not a run id (run ids are like 20261122-101500-3f2a)")]
    BadRunId {
        /// What was given.
        run_id: String,
    },
    /// The run's record names another stack than the spec's.
    #[error("run {run_id} belongs to stack {stack}, not {wanted}")]
    OtherStack {
        /// The run asked for.
        run_id: String,
        /// The stack its record names.
        stack: String,
        /// The spec's stack.
        wanted: String,
    },
    /// The run's record is not JSON, not a run record, or of a newer version.
    #[error("the run record {} is unreadable: {message}", path.display())]
    BadRecord {
        /// The record's file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Creating or listing the runs directory, or reading or writing a record, failed.
    #[error("failed to {what} {}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `create`).
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// AWS did not answer for too long while watching; the jobs were left as they were.
    #[error(
        "AWS could not be reached for {}s while watching run {run_id}; its jobs were not touched",
        seconds
    )]
    LostContact {
        /// The run being watched.
        run_id: String,
        /// How long AWS did not answer, in seconds.
        seconds: u64,
        /// The last error.
        #[source]
        last: AwsError,
    },
}

impl From<RecordError> for RunError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::NoSuchRun { run_id, dir } => RunError::NoSuchRun { run_id, dir },
            RecordError::BadRecord { path, message } => RunError::BadRecord { path, message },
            RecordError::BadRunId { run_id } => RunError::BadRunId { run_id },
            RecordError::Io { what, path, source } => RunError::Io { what, path, source },
        }
    }
}

impl RunError {
    /// What to do about it, printed under the error; `None` when there is nothing to add.
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::Aws(e) => e.hint().map(str::to_string),
            RunError::NotReady { .. } => Some("run `pipectl up SPEC` first (or again: it puts right what differs)".into()),
            RunError::FileSystemNotAvailable { .. } => Some("FSx for Lustre takes minutes to create on AWS; run again later (`pipectl status SPEC` shows its state)".into()),
            RunError::OverBudget { .. } => Some("raise [stack] budget_usd, shorten the phases, or see `pipectl cost SPEC` for where the money goes".into()),
            RunError::NoSuchRun { .. } | RunError::BadRunId { .. } => Some("`pipectl runs` lists the runs recorded here (see --runs-dir)".into()),
            RunError::LostContact { run_id, .. } => Some(format!("the jobs keep running in AWS; `pipectl run SPEC --attach {run_id}` resumes watching")),
            RunError::BadRecord { .. } => Some("the record was written by another pipectl version or edited by hand".into()),
            _ => None,
        }
    }
}
