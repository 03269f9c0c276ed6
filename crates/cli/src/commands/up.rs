//! `pipectl up SPEC`: validate (no AWS call for an invalid spec), lock the stack, read what
//! exists, show the changes, confirm, apply, summarise.

use std::io::Write;

use pipectl_provision::{Session, Timeouts};

use super::stack::{confirm, connect, render_plan, runtime};
use crate::cli::{AwsArgs, TableOrJson, UpArgs};
use crate::error::CliError;
use crate::options::{print_warnings, read_spec};
use crate::render::progress;

pub fn run(
    args: &UpArgs,
    aws_args: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = read_spec(&args.spec)?;
    // On every target: the local AWS is AWS's stand-in and refuses what AWS refuses, so a
    // spec AWS would refuse half-way through stops here, before any call.
    refuse_what_aws_refuses(&loaded)?;
    let json = matches!(args.output, TableOrJson::Json);
    runtime()?.block_on(async {
        let aws = connect(aws_args, &loaded.spec, quiet).await?;
        print_warnings(&loaded.diagnostics, quiet);
        let mut session = Session::open(aws, loaded.spec, &aws_args.state_dir, Timeouts::default(), progress::sink(quiet, json)).await?;
        // every role pipectl creates carries the stack's boundary: without it, no change at all
        pipectl_provision::boundary::check(&session.ctx).await?;
        let plan = pipectl_provision::plan(&session.ctx).await?;
        if plan.is_noop() {
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&serde_json::json!({"stack": plan.stack, "changes": 0, "plan": plan})).unwrap_or_default())?;
            } else {
                writeln!(out, "Stack {} is up to date: {} resources, no create or update call made.", plan.stack, plan.changes.len())?;
            }
            // Refresh the state file from what was found (it may have been lost).
            let summary = pipectl_provision::apply(session.ctx.clone(), &plan, &session.store, &mut session.state, args.concurrency).await?;
            tracing::debug!(calls = ?summary.calls, "calls made");
            return Ok(());
        }
        if !json || args.dry_run {
            let text = render_plan(&plan, false);
            if args.dry_run {
                if json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&plan).unwrap_or_default())?;
                } else {
                    write!(out, "{text}")?;
                }
                return Ok(());
            }
            if !quiet {
                eprint!("Stack {} in {}:\n{text}", plan.stack, session.ctx.aws.region);
            }
        }
        confirm(&format!("Apply these changes to stack {}?", plan.stack), args.yes)?;
        let summary = pipectl_provision::apply(session.ctx.clone(), &plan, &session.store, &mut session.state, args.concurrency).await?;
        if json {
            writeln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default())?;
        } else {
            let calls: u64 = summary.calls.values().sum();
            writeln!(
                out,
                "Stack {} is up: {} created, {} updated, {} unchanged in {:.1}s ({calls} AWS calls). State: {}",
                plan.stack,
                summary.created.len(),
                summary.updated.len(),
                summary.unchanged.len(),
                summary.seconds,
                session.store.path().display()
            )?;
        }
        Ok(())
    })
}

/// Findings that are warnings for `validate` but that AWS refuses (a GPU type without a
/// Batch-provided image): `up` stops before any call, on AWS and on the local AWS alike.
const FATAL_ON_AWS: &[&str] = &["gpu-image"];

fn refuse_what_aws_refuses(loaded: &pipectl_spec::LoadedSpec) -> Result<(), CliError> {
    let Some(f) = loaded
        .diagnostics
        .findings
        .iter()
        .find(|f| FATAL_ON_AWS.contains(&f.code))
    else {
        return Ok(());
    };
    let file = loaded.diagnostics.file.display();
    let place = match f.line_col {
        Some(lc) => format!("{file}:{lc}"),
        None => file.to_string(),
    };
    Err(CliError::AwsWouldRefuse {
        place,
        message: f.message.clone(),
        hint: f.hint.clone(),
    })
}
