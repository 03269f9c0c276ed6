//! The binary's errors and their exit codes. Libraries return typed errors; this maps each
//! kind to one exit code and renders it once.

use pipectl_spec::LoadError;

/// Exit codes, documented in docs/commands.md.
pub mod exit {
    pub const OK: u8 = 0;
    /// Something unexpected: I/O on an output, a bug.
    pub const FAILURE: u8 = 1;
    /// The command line itself was wrong (clap exits with it before any work; so does pipectl
    /// for a value only checkable after parsing, such as a profile that does not exist).
    pub const USAGE: u8 = 2;
    /// A spec or price sheet is unreadable or invalid; nothing was done.
    pub const INVALID_INPUT: u8 = 3;
    /// AWS refused a request (validation, permission, conflict), or a resource failed.
    pub const AWS_REFUSED: u8 = 4;
    /// A resource did not reach the state it needed in time.
    pub const TIMEOUT: u8 = 5;
    /// AWS could not be reached, or throttled beyond the retries.
    pub const UNREACHABLE: u8 = 6;
    /// Another pipectl holds the stack's lock.
    pub const LOCKED: u8 = 7;
    /// The changes were not confirmed; nothing was changed.
    pub const NOT_CONFIRMED: u8 = 8;
    /// The pipeline ran and a phase failed (its dependents were cancelled).
    pub const RUN_FAILED: u8 = 9;
    /// No usable AWS credentials (none found, or expired / rejected); sign in and run again.
    pub const CREDENTIALS: u8 = 10;
    /// The run was interrupted and its jobs terminated on request.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("no built-in price sheet for region {region}")]
    NoPrices { region: String },
    #[error(transparent)]
    Provision(Box<pipectl_provision::ProvisionError>),
    #[error("{0}")]
    NotConfirmed(String),
    #[error(transparent)]
    Run(Box<pipectl_runner::RunError>),
    /// An AWS call of the CLI's own (the target's account).
    #[error(transparent)]
    Aws(Box<pipectl_aws::AwsError>),
    /// The run ended and did not succeed; the report has been printed.
    #[error("run {run_id} {what}")]
    RunEnded {
        run_id: String,
        what: String,
        code: u8,
    },
    #[error("failed to write output")]
    Output(#[source] std::io::Error),
    /// A file or directory pipectl was asked to write.
    #[error("cannot write {}", path.display())]
    WriteFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A command-line value that cannot be used (exit 2, as clap's own usage errors).
    #[error("{0}")]
    Usage(String),
    /// The spec is valid, but AWS would refuse part of it (a warning that is fatal on AWS).
    #[error("AWS would refuse this spec, so `up` makes no call: {place}: {message}")]
    AwsWouldRefuse {
        place: String,
        message: String,
        hint: Option<String>,
    },
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Load(_) | CliError::NoPrices { .. } | CliError::AwsWouldRefuse { .. } => {
                exit::INVALID_INPUT
            }
            CliError::Output(_) | CliError::WriteFile { .. } => exit::FAILURE,
            CliError::Usage(_) => exit::USAGE,
            CliError::NotConfirmed(_) => exit::NOT_CONFIRMED,
            CliError::RunEnded { code, .. } => *code,
            CliError::Run(r) => {
                use pipectl_runner::RunError as R;
                match &**r {
                    R::Aws(e) => aws_exit(e),
                    R::LostContact { .. } => exit::UNREACHABLE,
                    R::FileSystemNotAvailable { .. } => exit::TIMEOUT,
                    R::NoSuchRun { .. }
                    | R::BadRunId { .. }
                    | R::OtherStack { .. }
                    | R::BadRecord { .. } => exit::INVALID_INPUT,
                    R::Io { .. } => exit::FAILURE,
                    _ => exit::AWS_REFUSED,
                }
            }
            CliError::Aws(e) => aws_exit(e),
            CliError::Provision(p) => {
                use pipectl_provision::ProvisionError as P;
                match p.primary() {
                    P::Locked { .. } => exit::LOCKED,
                    _ if p.is_timeout() => exit::TIMEOUT,
                    P::Aws(e) => aws_exit(e),
                    P::Io { .. } => exit::FAILURE,
                    _ => exit::AWS_REFUSED,
                }
            }
        }
    }
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::NoPrices { .. } => {
                Some("pass --prices FILE (see infra-specs/prices/ for the format)".into())
            }
            CliError::Load(LoadError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Some("check the path; the shipped specs are in infra-specs/".into())
            }
            CliError::Provision(p) => p.hint(),
            CliError::Aws(e) => e.hint().map(str::to_string),
            CliError::Run(r) => r.hint(),
            CliError::AwsWouldRefuse { hint, .. } => hint.clone(),
            CliError::NotConfirmed(_) => Some("pass --yes to confirm without a terminal".into()),
            CliError::WriteFile { .. } => {
                Some("choose a directory you can write to (--dir DIR)".into())
            }
            _ => None,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Output(e)
    }
}

impl From<pipectl_runner::RunError> for CliError {
    fn from(e: pipectl_runner::RunError) -> Self {
        CliError::Run(Box::new(e))
    }
}

impl From<pipectl_provision::ProvisionError> for CliError {
    fn from(e: pipectl_provision::ProvisionError) -> Self {
        CliError::Provision(Box::new(e))
    }
}

/// The exit code of a failed AWS call: credentials, unreachable (or throttled beyond the
/// retries), or a refusal.
fn aws_exit(e: &pipectl_aws::AwsError) -> u8 {
    use pipectl_aws::ErrorKind;
    match e.kind {
        ErrorKind::Credentials => exit::CREDENTIALS,
        ErrorKind::Unreachable | ErrorKind::Throttled => exit::UNREACHABLE,
        _ => exit::AWS_REFUSED,
    }
}

impl From<pipectl_aws::AwsError> for CliError {
    fn from(e: pipectl_aws::AwsError) -> Self {
        CliError::Aws(Box::new(e))
    }
}
