//! The arguments of the IAM commands: `iam-policy` (the operator's policy or the stack's
//! permissions boundary) and `bootstrap` (the administrator's).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    pub spec: PathBuf,
    /// The commands to allow [default: all of them].
    #[arg(long, value_delimiter = ',', value_enum)]
    pub commands: Vec<PolicyCommand>,
    /// The account the stack lives in [default: any, as `*` in the ARNs].
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
    /// Print the stack's permissions boundary (what `pipectl bootstrap` creates) instead.
    #[arg(long)]
    pub boundary: bool,
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    pub spec: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyCommand {
    Up,
    Down,
    Status,
    Run,
    /// `report` and `cost --run` (Spot price history, CloudWatch metrics).
    Report,
}

/// A 12-digit AWS account id.
fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a 12-digit AWS account id"))
    }
}
