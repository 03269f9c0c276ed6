//! pipectl's job runner: submits a spec's phases to AWS Batch as one dependency graph
//! (`dependsOn`, so AWS sequences them), watches them with batched `DescribeJobs` on an
//! adaptive interval, times every phase and attempt from AWS's timestamps, keeps a run record
//! written atomically after every change, publishes CloudWatch metrics, and resumes a run
//! whose CLI went away (`--attach`).

// Errors carry the operation, code and message by value; they are rare and not hot.
#![allow(clippy::result_large_err)]

mod error;
pub mod metrics;
pub mod poll;
pub mod pricing;
mod run;
pub mod timing;

pub use error::RunError;
/// The run record this crate writes (its own crate, read without AWS).
pub use pipectl_record as record;
pub use pipectl_record::{JobStatus, RunRecord, RunStatus, RunStore};
pub use poll::PollSettings;
pub use run::{Interrupt, Outcome, Progress, RunEvent, RunOptions, Runner, check_budget};
