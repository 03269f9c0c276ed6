//! `pipectl down SPEC`: remove everything tagged with the stack, in the order AWS requires.

use std::io::Write;

use pipectl_provision::{Session, Timeouts};

use super::stack::{confirm, connect, runtime};
use crate::cli::{AwsArgs, DownArgs, TableOrJson};
use crate::error::CliError;
use crate::options::{print_warnings, read_spec};
use crate::render::progress;

pub fn run(
    args: &DownArgs,
    aws_args: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = read_spec(&args.spec)?;
    let json = matches!(args.output, TableOrJson::Json);
    let stack = loaded.spec.stack.name.clone();
    runtime()?.block_on(async {
        let aws = connect(aws_args, &loaded.spec, quiet).await?;
        print_warnings(&loaded.diagnostics, quiet);
        let mut session = Session::open(aws, loaded.spec, &aws_args.state_dir, Timeouts::default(), progress::sink(quiet, json)).await?;
        let what = if args.keep_data { "everything but the S3 buckets" } else { "every resource, S3 objects included" };
        confirm(&format!("Delete {what} of stack {stack}?"), args.yes)?;
        let summary = pipectl_provision::destroy(session.ctx.clone(), &session.store, &mut session.state, args.keep_data).await?;
        if json {
            writeln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default())?;
        } else if summary.deleted.is_empty() && summary.kept.is_empty() {
            writeln!(out, "Stack {stack}: nothing tagged with it exists; nothing to do.")?;
        } else {
            let calls: u64 = summary.calls.values().sum();
            write!(out, "Stack {stack} is down: {} deleted", summary.deleted.len())?;
            if !summary.kept.is_empty() {
                write!(out, ", kept {} (--keep-data)", summary.kept.join(", "))?;
            }
            writeln!(out, " in {:.1}s ({calls} AWS calls).", summary.seconds)?;
        }
        for u in &summary.untracked {
            writeln!(out, "note: {u} was in the state file but is not tagged with the stack in AWS; left alone")?;
        }
        Ok(())
    })
}
