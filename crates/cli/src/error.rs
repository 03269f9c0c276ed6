//! The binary's errors and their exit codes. Libraries return typed errors; this maps each
//! kind to one exit code and renders it once.

use pipectl_spec::LoadError;

/// Exit codes, documented in README.md.
pub mod exit {
    pub const OK: u8 = 0;
    /// Something unexpected: I/O on an output, a bug.
    pub const FAILURE: u8 = 1;
    // 2: the command line itself was wrong (clap exits with it before any work).
    /// A spec or price sheet is unreadable or invalid; nothing was done.
    pub const INVALID_INPUT: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("no built-in price sheet for region {region}")]
    NoPrices { region: String },
    #[error("failed to write output")]
    Output(#[source] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Load(_) | CliError::NoPrices { .. } => exit::INVALID_INPUT,
            CliError::Output(_) => exit::FAILURE,
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
            _ => None,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Output(e)
    }
}
