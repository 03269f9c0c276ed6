//! What can go wrong while provisioning, each naming the resource, the AWS operation and code
//! where there is one; the CLI maps each to an exit code.

use std::path::{Path, PathBuf};

use pipectl_aws::AwsError;
use pipectl_aws::wait::WaitError;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{resource}: {source}")]
    Wait {
        resource: String,
        #[source]
        source: WaitError,
    },
    #[error("another pipectl holds the lock {}", path.display())]
    Locked { path: PathBuf },
    #[error("the state file {} is unreadable: {message}", path.display())]
    BadState { path: PathBuf, message: String },
    #[error("failed to {what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state file {} belongs to {what}", path.display())]
    StateMismatch { path: PathBuf, what: String },
    #[error("{resource}: {message}")]
    Refused {
        resource: String,
        message: String,
        hint: Option<String>,
    },
    #[error("{count} resource(s) failed; the first: {first}")]
    Several {
        count: usize,
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

    pub fn is_timeout(&self) -> bool {
        matches!(
            self.primary(),
            ProvisionError::Wait {
                source: WaitError::Timeout { .. },
                ..
            }
        )
    }

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
