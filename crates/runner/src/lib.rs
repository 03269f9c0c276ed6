//! pipectl's job runner: submits a spec's phases to AWS Batch as one dependency graph
//! (`dependsOn`, so AWS sequences them), watches them from Batch's job state-change events
//! (the stack's SQS queue) with a slow reconciling `DescribeJobs`, or with batched
//! `DescribeJobs` on an adaptive interval when there are no events, times every phase and attempt from AWS's timestamps, keeps a run record
//! written atomically after every change, publishes CloudWatch metrics, and resumes a run
//! whose CLI went away (`--attach`).
//!
//! One module per job: the context (what a run works with), events, prepare, submit,
//! the watcher (a thin loop over pure decisions), failure handling, log following, cost and
//! metric publishing.
// Errors carry the operation, code and message by value; they are rare and not hot.
#![allow(clippy::result_large_err)]

mod blocked;
mod context;
mod cost;
mod error;
mod events;
mod failure;
pub mod fallback;
mod file_system;
pub mod job_events;
mod logs;
pub mod metrics;
pub mod poll;
mod prepare;
pub mod pricing;
mod publish;
mod resubmit;
pub mod stuck;
mod submit;
pub mod sweep;
pub mod timing;
mod watch;

pub use context::{Interrupt, Outcome, Progress, RunOptions, Runner};
pub use cost::check_budget;
pub use error::RunError;
pub use events::RunEvent;
/// The run record this crate writes (its own crate, read without AWS).
pub use pipectl_record as record;
pub use pipectl_record::{JobStatus, RunRecord, RunStatus, RunStore};
pub use poll::PollSettings;
