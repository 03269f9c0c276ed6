//! `pipectl iam-policy SPEC`: the least-privilege IAM policy for the commands pipectl runs on
//! this spec's stack, generated from the table of every operation pipectl calls
//! (`pipectl_aws::permissions`), or with `--boundary` the stack's permissions boundary; no AWS
//! call. `pipectl bootstrap SPEC`: an administrator creates that boundary.

use std::io::Write;

use pipectl_aws::permissions::{self, DOWN, REPORT, RUN, STATUS, UP};

use super::stack::{connect, runtime};
use crate::cli::{AwsArgs, BootstrapArgs, IamPolicyArgs, PolicyCommand};
use crate::error::CliError;
use crate::options::{load_spec, print_warnings, read_spec};
use pipectl_provision::boundary::Bootstrapped;
use pipectl_provision::policies;

pub fn run(args: &IamPolicyArgs, quiet: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let loaded = load_spec(&args.spec, quiet)?;
    let spec = &loaded.spec;
    let mask = if args.commands.is_empty() {
        UP | DOWN | STATUS | RUN | REPORT
    } else {
        args.commands.iter().fold(0, |m, c| {
            m | match c {
                PolicyCommand::Up => UP,
                PolicyCommand::Down => DOWN,
                PolicyCommand::Status => STATUS,
                PolicyCommand::Run => RUN,
                PolicyCommand::Report => REPORT,
            }
        })
    };
    let account = args.account.as_deref();
    if args.boundary {
        // an unknown account: one `?` a digit, so the bucket names fit no other stack's
        let doc = policies::boundary_document(spec, account.unwrap_or("????????????"));
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        )?;
        return Ok(());
    }
    let target = policies::policy_target(spec, account);
    let policy = permissions::policy(&target, mask);
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&policy).unwrap_or_default()
    )?;
    Ok(())
}

/// Creates the stack's permissions boundary (or makes the spec's document its default).
pub fn bootstrap(
    args: &BootstrapArgs,
    aws_args: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = read_spec(&args.spec)?;
    runtime()?.block_on(async {
        let aws = connect(aws_args, &loaded.spec, quiet).await?;
        print_warnings(&loaded.diagnostics, quiet);
        let account = aws
            .account_id()
            .await
            .map_err(pipectl_provision::ProvisionError::from)?;
        let arn = policies::boundary_arn(&loaded.spec, &account);
        let done = pipectl_provision::boundary::bootstrap(&aws, &loaded.spec, &account).await?;
        let what = match done {
            Bootstrapped::Created => "created",
            Bootstrapped::Updated => "updated to this spec's document",
            Bootstrapped::Unchanged => "already this spec's; nothing to do",
        };
        writeln!(out, "Permissions boundary {arn}: {what}.")?;
        Ok(())
    })
}
