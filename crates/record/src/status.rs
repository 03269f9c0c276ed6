//! The status of a phase's job (AWS Batch's, plus `NOT_SUBMITTED` before it has one) and of a
//! whole run, written in the record as AWS spells them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A phase's job status: AWS Batch's job states, `NOT_SUBMITTED` before submission, and any
/// other word AWS answers kept as it came (`UNKNOWN` when it gave none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum JobStatus {
    /// `NOT_SUBMITTED`: no job yet (the record's initial state).
    #[default]
    NotSubmitted,
    /// `SUBMITTED`: Batch accepted the job.
    Submitted,
    /// Waiting for its dependencies.
    Pending,
    /// Waiting for capacity.
    Runnable,
    /// `STARTING`: placed on an instance, its container starting.
    Starting,
    /// `RUNNING`: its container runs.
    Running,
    /// `SUCCEEDED`: exited 0.
    Succeeded,
    /// `FAILED`: out of attempts, cancelled or terminated.
    Failed,
    /// A status this pipectl does not know, as AWS wrote it.
    Other(String),
}

impl JobStatus {
    /// The word AWS (and the record) uses.
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::NotSubmitted => "NOT_SUBMITTED",
            JobStatus::Submitted => "SUBMITTED",
            JobStatus::Pending => "PENDING",
            JobStatus::Runnable => "RUNNABLE",
            JobStatus::Starting => "STARTING",
            JobStatus::Running => "RUNNING",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
            JobStatus::Other(s) => s,
        }
    }

    /// The job has ended, one way or the other.
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }
}

impl From<&str> for JobStatus {
    fn from(s: &str) -> Self {
        match s {
            "NOT_SUBMITTED" => JobStatus::NotSubmitted,
            "SUBMITTED" => JobStatus::Submitted,
            "PENDING" => JobStatus::Pending,
            "RUNNABLE" => JobStatus::Runnable,
            "STARTING" => JobStatus::Starting,
            "RUNNING" => JobStatus::Running,
            "SUCCEEDED" => JobStatus::Succeeded,
            "FAILED" => JobStatus::Failed,
            other => JobStatus::Other(other.to_string()),
        }
    }
}

impl FromStr for JobStatus {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(JobStatus::from(s))
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that widths and alignment in format strings apply.
        f.pad(self.as_str())
    }
}

impl Serialize for JobStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(JobStatus::from(s.as_str()))
    }
}

/// How a phase's instances are bought, written `spot` or `on-demand`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purchase {
    /// Spot capacity (written `spot`).
    Spot,
    /// On-Demand capacity (written `on-demand`).
    #[default]
    OnDemand,
}

impl Purchase {
    /// The word written in the record (`spot`, `on-demand`).
    pub fn as_str(self) -> &'static str {
        match self {
            Purchase::Spot => "spot",
            Purchase::OnDemand => "on-demand",
        }
    }
}

impl Serialize for Purchase {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Purchase {
    /// Only `spot` is Spot: anything else was bought On-Demand.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(if s == "spot" {
            Purchase::Spot
        } else {
            Purchase::OnDemand
        })
    }
}

/// How a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Jobs submitted and not all ended (or the CLI stopped watching: `--attach` resumes).
    Running,
    /// Every phase succeeded.
    Succeeded,
    /// A phase failed (see the record's `failure`).
    Failed,
    /// Ended on request (Ctrl-C answered yes): the jobs were terminated.
    Terminated,
}

impl RunStatus {
    /// As the record writes it: `SUCCEEDED`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Succeeded => "SUCCEEDED",
            RunStatus::Failed => "FAILED",
            RunStatus::Terminated => "TERMINATED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_statuses_read_and_write_as_aws_spells_them() {
        for word in [
            "NOT_SUBMITTED",
            "SUBMITTED",
            "PENDING",
            "RUNNABLE",
            "STARTING",
            "RUNNING",
            "SUCCEEDED",
            "FAILED",
            "UNKNOWN",
        ] {
            let s = JobStatus::from(word);
            assert_eq!(s.as_str(), word);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{word}\""));
            let back: JobStatus = serde_json::from_str(&format!("\"{word}\"")).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(
            JobStatus::from("UNKNOWN"),
            JobStatus::Other("UNKNOWN".into())
        );
        assert_eq!(format!("{:<10}|", JobStatus::Running), "RUNNING   |");
    }

    #[test]
    fn only_succeeded_and_failed_are_terminal() {
        assert!(JobStatus::Succeeded.is_terminal());
        assert!(JobStatus::Failed.is_terminal());
        assert!(!JobStatus::Running.is_terminal());
        assert!(!JobStatus::Other("UNKNOWN".into()).is_terminal());
    }

    #[test]
    fn purchases_are_written_as_the_spec_writes_them() {
        let spot: Purchase = serde_json::from_str("\"spot\"").unwrap();
        assert_eq!(spot, Purchase::Spot);
        assert_eq!(serde_json::to_string(&spot).unwrap(), "\"spot\"");
        let od: Purchase = serde_json::from_str("\"on-demand\"").unwrap();
        assert_eq!(serde_json::to_string(&od).unwrap(), "\"on-demand\"");
        let blank: Purchase = serde_json::from_str("\"\"").unwrap();
        assert_eq!(blank, Purchase::OnDemand, "only `spot` is Spot");
    }

    #[test]
    fn run_statuses_are_written_in_capitals() {
        for s in [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Terminated,
        ] {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert_eq!(format!("{s:?}").to_uppercase(), s.as_str());
        }
    }
}
