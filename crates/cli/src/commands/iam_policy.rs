//! `pipectl iam-policy SPEC`: the least-privilege IAM policy for the commands pipectl runs on
//! this spec's stack, generated from the table of every operation pipectl calls
//! (`pipectl_aws::permissions`). No AWS call.

use std::io::Write;

use pipectl_aws::permissions::{self, DOWN, REPORT, RUN, STATUS, Target, UP};
use pipectl_spec::model::RoleMode;

use crate::cli::{IamPolicyArgs, PolicyCommand};
use crate::error::CliError;
use crate::options::load_spec;

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
    let existing_roles = [
        &spec.iam.service_role,
        &spec.iam.instance_role,
        &spec.iam.job_role,
    ]
    .into_iter()
    .filter(|r| r.mode == RoleMode::Existing)
    .filter_map(|r| r.name.clone())
    .collect();
    let target = Target {
        stack: &spec.stack.name,
        region: &spec.stack.region,
        account: args.account.as_deref().unwrap_or("*"),
        existing_roles,
    };
    let policy = permissions::policy(&target, mask);
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&policy).unwrap_or_default()
    )?;
    Ok(())
}
