//! What can go wrong while provisioning, each naming the resource, the AWS operation and code
//! where there is one; the CLI maps each to an exit code.

use std::path::{Path, PathBuf};

use pipectl_aws::AwsError;
use pipectl_aws::wait::WaitError;

/// A provisioning failure.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// An AWS call failed (it names the resource, operation and error code).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Waiting for a resource timed out, or AWS reported it failed.
    #[error("{resource}: {source}")]
    Wait {
        /// The resource's logical id.
        resource: String,
        /// Why the wait ended.
        #[source]
        source: WaitError,
    },
    /// Another `pipectl up` or `down` on the same stack holds its lock.
    #[error("another pipectl holds the lock {}", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The state file cannot be parsed.
    #[error("the state file {} is unreadable: {message}", path.display())]
    BadState {
        /// The state file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// Reading or writing a local file failed.
    #[error("failed to {what} {}", path.display())]
    Io {
        /// What was being done ("read the state file", "lock").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The state file was written for another account, region or endpoint.
    #[error("the state file {} belongs to {what}", path.display())]
    StateMismatch {
        /// The state file.
        path: PathBuf,
        /// Whose it is, in words.
        what: String,
    },
    /// pipectl will not do what it would take (replace a resource, delete one in use, ...).
    #[error("{resource}: {message}")]
    Refused {
        /// The resource's logical id.
        resource: String,
        /// What is refused and why.
        message: String,
        /// What the user can do instead.
        hint: Option<String>,
    },
    /// Several resources failed; the first one decides the exit code.
    #[error("{count} resource(s) failed; the first: {first}")]
    Several {
        /// How many failed.
        count: usize,
        /// The first failure.
        first: Box<ProvisionError>,
    },
}

impl ProvisionError {
    pub(crate) fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        ProvisionError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn refused(
        resource: impl Into<String>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) -> Self {
        ProvisionError::Refused {
            resource: resource.into(),
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }

    pub(crate) fn wait(resource: impl Into<String>, source: WaitError) -> Self {
        match source {
            WaitError::Aws(e) => ProvisionError::Aws(e),
            other => ProvisionError::Wait {
                resource: resource.into(),
                source: other,
            },
        }
    }

    /// The error that decides the exit code (the first of several).
    pub fn primary(&self) -> &ProvisionError {
        match self {
            ProvisionError::Several { first, .. } => first.primary(),
            other => other,
        }
    }

    /// Whether the deciding error is a wait that timed out (running the command again resumes).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.primary(),
            ProvisionError::Wait {
                source: WaitError::Timeout { .. },
                ..
            }
        )
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self.primary() {
            ProvisionError::Aws(e) => e.hint().map(str::to_string),
            ProvisionError::Locked { .. } => Some("wait for the other `pipectl up`/`down` on this stack to finish; the lock goes with its process".into()),
            ProvisionError::Wait { source: WaitError::Timeout { .. }, .. } => {
                Some("run the command again: it resumes from what exists; `pipectl status` shows each resource's state".into())
            }
            ProvisionError::Wait { source: WaitError::Failed { .. }, .. } => {
                Some("the reason above is AWS's; fix the cause, then `pipectl down` and `pipectl up` again".into())
            }
            ProvisionError::BadState { .. } => Some("move the file aside: `down` and `up` find the stack's resources by their tags".into()),
            ProvisionError::StateMismatch { .. } => Some("use --state-dir to keep stacks of different accounts or endpoints apart".into()),
            ProvisionError::Refused { hint, .. } => hint.clone(),
            _ => None,
        }
    }
}
