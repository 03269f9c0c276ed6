//! What can go wrong around a run, naming the phase, the AWS operation and its code.

use std::path::PathBuf;

use pipectl_aws::AwsError;
use pipectl_record::RecordError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the stack is not ready to run: {what}")]
    NotReady { what: String },
    #[error(
        "the file system {file_system} is still {state} after {seconds}s; no phase that mounts it was submitted"
    )]
    FileSystemNotAvailable {
        file_system: String,
        state: String,
        seconds: u64,
    },
    #[error(
        "the estimate of one run, ${estimate:.4}, exceeds the spec's budget of ${budget:.4}; nothing was submitted"
    )]
    OverBudget { estimate: f64, budget: f64 },
    #[error("no run {run_id} in {}", dir.display())]
    NoSuchRun { run_id: String, dir: PathBuf },
    #[error("run {run_id} belongs to stack {stack}, not {wanted}")]
    OtherStack {
        run_id: String,
        stack: String,
        wanted: String,
    },
    #[error("the run record {} is unreadable: {message}", path.display())]
    BadRecord { path: PathBuf, message: String },
    #[error("failed to {what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "AWS could not be reached for {}s while watching run {run_id}; its jobs were not touched",
        seconds
    )]
    LostContact {
        run_id: String,
        seconds: u64,
        #[source]
        last: AwsError,
    },
}

impl From<RecordError> for RunError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::NoSuchRun { run_id, dir } => RunError::NoSuchRun { run_id, dir },
            RecordError::BadRecord { path, message } => RunError::BadRecord { path, message },
            RecordError::Io { what, path, source } => RunError::Io { what, path, source },
        }
    }
}

impl RunError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::Aws(e) => e.hint().map(str::to_string),
            RunError::NotReady { .. } => Some("run `pipectl up SPEC` first (or again: it puts right what differs)".into()),
            RunError::FileSystemNotAvailable { .. } => Some("FSx for Lustre takes minutes to create on AWS; run again later (`pipectl status SPEC` shows its state)".into()),
            RunError::OverBudget { .. } => Some("raise [stack] budget_usd, shorten the phases, or see `pipectl cost SPEC` for where the money goes".into()),
            RunError::NoSuchRun { .. } => Some("`pipectl runs` lists the runs recorded here (see --runs-dir)".into()),
            RunError::LostContact { run_id, .. } => Some(format!("the jobs keep running in AWS; `pipectl run SPEC --attach {run_id}` resumes watching")),
            RunError::BadRecord { .. } => Some("the record was written by another pipectl version or edited by hand".into()),
            _ => None,
        }
    }
}
