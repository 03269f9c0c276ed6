//! `pipectl run SPEC`: submit the pipeline, watch it, report every phase's timing and cost;
//! `--attach RUN_ID` resumes a run whose CLI went away; `pipectl runs` lists the records.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use pipectl_provision::{Session, Timeouts};
use pipectl_record::{JobStatus, RunRecord, RunStatus, RunStore, utc};
use pipectl_runner::{Interrupt, Outcome, RunError, RunOptions, Runner};

use super::stack::{connect, runtime};
use crate::cli::{AwsArgs, RunArgs, RunsArgs, TableOrJson};
use crate::error::{CliError, exit};
use crate::options::{load_prices, price_ref, print_warnings, read_spec, spec_sha256};
use crate::render::progress;
use crate::render::run_progress::{mmss, sink};
use crate::render::table::Table;

pub fn run(
    args: &RunArgs,
    aws_args: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = read_spec(&args.spec)?;
    let prices = load_prices(args.prices.prices.as_deref(), &loaded.spec.stack.region)?;
    let poll = args.poll;
    let json = matches!(args.output, TableOrJson::Json);
    let sha = spec_sha256(&args.spec);
    let price_ref = price_ref(&prices);
    let store = RunStore::new(&args.runs_dir);
    let (spec, diagnostics) = (loaded.spec, loaded.diagnostics);
    if args.attach.is_none() {
        // Before any AWS call.
        pipectl_runner::check_budget(&spec, &prices, args.ignore_budget)?;
    }
    runtime()?.block_on(async {
        let aws = connect(aws_args, &spec, quiet).await?;
        print_warnings(&diagnostics, quiet);
        let account = aws.account_id().await.map_err(RunError::from)?;
        let opts = RunOptions {
            poll,
            detach: args.detach,
            follow: args.follow,
            metrics: !args.no_metrics,
            events: !args.no_events,
            reconcile_every: args.reconcile_every,
            ..RunOptions::default()
        };
        let runner = Runner::new(
            aws.clone(),
            spec.clone(),
            prices,
            price_ref,
            account,
            store.clone(),
            sink(quiet, json, &spec),
            interrupt(),
            opts,
        );
        let mut rec =
            open_record(args, &runner, &store, &spec.stack.name, &sha, quiet || json).await?;
        if !rec.is_finished() {
            runner.submit(&mut rec).await?;
            rec = match runner.watch(rec).await? {
                Outcome::Ended(r) => r,
                Outcome::Detached(r) => {
                    writeln!(
                        out,
                        "Run {} left running. Attach again: pipectl run {} --attach {}",
                        r.run_id,
                        args.spec.display(),
                        r.run_id
                    )?;
                    return Ok(());
                }
            };
        }
        if json {
            writeln!(out, "{}", serde_json::to_string(&rec).unwrap_or_default())?;
        } else {
            write!(out, "{}", report(&rec, &store))?;
        }
        if args.down_after {
            tear_down(aws, spec, aws_args, quiet, json, &rec, out).await?;
        }
        ended(&rec)
    })
}

/// The run to watch: the one `--attach` names (refused if another stack's), or a new one
/// prepared (queues checked, budget checked, record written).
async fn open_record(
    args: &RunArgs,
    runner: &Runner,
    store: &RunStore,
    stack: &str,
    sha: &str,
    silent: bool,
) -> Result<RunRecord, CliError> {
    Ok(match &args.attach {
        Some(id) => {
            let rec = store.load(id).map_err(RunError::from)?;
            if rec.stack != stack {
                return Err(RunError::OtherStack {
                    run_id: id.clone(),
                    stack: rec.stack,
                    wanted: stack.to_string(),
                }
                .into());
            }
            if !silent {
                eprintln!(
                    "Attaching to run {id} of stack {} (submitted {})",
                    rec.stack,
                    utc(rec.submitted_at_ms)
                );
            }
            rec
        }
        None => {
            let rec = runner
                .prepare(&args.spec.display().to_string(), sha, args.ignore_budget)
                .await?;
            if !silent {
                eprintln!(
                    "Run {} of stack {}: {} phase(s), estimate ${:.4}{}; record {}",
                    rec.run_id,
                    rec.stack,
                    rec.phases.len(),
                    rec.estimate_usd,
                    rec.budget_usd
                        .map(|b| format!(" (budget ${b:.4})"))
                        .unwrap_or_default(),
                    store.path(&rec.run_id).display()
                );
            }
            rec
        }
    })
}

/// `--down-after`: the stack removed once the run has ended.
async fn tear_down(
    aws: pipectl_aws::Aws,
    spec: pipectl_spec::Spec,
    aws_args: &AwsArgs,
    quiet: bool,
    json: bool,
    rec: &RunRecord,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut session = Session::open(
        aws,
        spec,
        &aws_args.state_dir,
        Timeouts::default(),
        progress::sink(quiet, json),
    )
    .await?;
    let s = pipectl_provision::destroy(
        session.ctx.clone(),
        &session.store,
        &mut session.state,
        true,
    )
    .await?;
    if !json {
        writeln!(
            out,
            "--down-after: stack {} removed ({} deleted, kept {}) in {:.1}s",
            rec.stack,
            s.deleted.len(),
            s.kept.join(", "),
            s.seconds
        )?;
    }
    Ok(())
}

/// The exit of a run that ended: success, interrupted, or failed with its reason.
pub(crate) fn ended(rec: &RunRecord) -> Result<(), CliError> {
    match rec.status {
        RunStatus::Succeeded => Ok(()),
        RunStatus::Terminated => Err(CliError::RunEnded {
            run_id: rec.run_id.clone(),
            what: "was interrupted; its jobs were terminated".into(),
            code: exit::INTERRUPTED,
        }),
        _ => Err(CliError::RunEnded {
            run_id: rec.run_id.clone(),
            what: match &rec.failure {
                Some(f) => format!(
                    "failed: phase {} (attempt {}): {}",
                    f.phase, f.attempt, f.reason
                ),
                None => "failed".into(),
            },
            code: exit::RUN_FAILED,
        }),
    }
}

/// Ctrl-C: ask on a terminal; without one, terminate (jobs left running cost money unseen).
pub(crate) fn interrupt() -> Interrupt {
    Arc::new(|open: usize| {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "\ninterrupted: terminating {open} job(s) (use --detach to leave them running)"
            );
            return true;
        }
        eprint!("\nTerminate the {open} job(s) not ended? [y/N] (N leaves them running) ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes")
    })
}

/// The table of phases, the failure if any, and where the record is.
fn report(rec: &RunRecord, store: &RunStore) -> String {
    let mut t = Table::new(&[
        "phase",
        "status",
        "attempts",
        "spot int.",
        "queue wait",
        "run",
        "total",
        "planned",
        "compute $",
    ]);
    let opt = |v: Option<f64>| v.map_or("-".into(), mmss);
    for p in &rec.phases {
        t.row(vec![
            p.name.clone(),
            p.status.to_string(),
            p.attempts.len().to_string(),
            p.spot_interruptions.to_string(),
            opt(p.queue_wait_seconds),
            opt(p.run_seconds),
            opt(p.total_seconds),
            mmss(p.planned_seconds),
            p.compute_usd.map_or("-".into(), |c| format!("{c:.6}")),
        ]);
    }
    let mut s = format!(
        "Run {} of stack {}: {:?}\n",
        rec.run_id, rec.stack, rec.status
    );
    s.push_str(&t.render());
    if let Some(c) = rec.compute_usd {
        s.push_str(&format!(
            "compute ${c:.6} for what ran (estimate for the whole pipeline: ${:.4})\n",
            rec.estimate_usd
        ));
    }
    for p in &rec.phases {
        if let Some(fb) = &p.fallback {
            let spent: f64 = p.replaced.iter().filter_map(|r| r.compute_usd).sum();
            s.push_str(&format!(
                "{} fell back to queue {:?} ({}): {}; the replaced job cost ${spent:.6}\n",
                p.name, fb.queue, fb.trigger, fb.reason
            ));
        }
    }
    if let Some(f) = &rec.failure {
        s.push_str(&format!(
            "failed: phase {} attempt {}{}: {}\n",
            f.phase,
            f.attempt,
            f.exit_code
                .map(|c| format!(" (exit {c})"))
                .unwrap_or_default(),
            f.reason
        ));
        if !f.cancelled.is_empty() {
            s.push_str(&format!(
                "cancelled (they depend on it): {}\n",
                f.cancelled.join(", ")
            ));
        }
        if !f.log_tail.is_empty() {
            s.push_str("last lines of its log:\n");
            for l in &f.log_tail {
                s.push_str(&format!("  | {l}\n"));
            }
        }
    }
    s.push_str(&format!("Record: {}\n", store.path(&rec.run_id).display()));
    s
}

/// `pipectl runs`.
pub fn list(args: &RunsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = RunStore::new(&args.runs_dir);
    let (runs, bad) = store.list().map_err(RunError::from)?;
    for b in &bad {
        eprintln!("warning: {b}");
    }
    if matches!(args.output, TableOrJson::Json) {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&runs).unwrap_or_default()
        )?;
        return Ok(());
    }
    if runs.is_empty() {
        writeln!(out, "No runs recorded in {}.", store.dir().display())?;
        return Ok(());
    }
    let mut t = Table::new(&[
        "run",
        "stack",
        "submitted",
        "status",
        "phases",
        "wall",
        "compute $",
    ]);
    for r in &runs {
        let done = r
            .phases
            .iter()
            .filter(|p| p.status == JobStatus::Succeeded)
            .count();
        t.row(vec![
            r.run_id.clone(),
            r.stack.clone(),
            utc(r.submitted_at_ms),
            format!("{:?}", r.status),
            format!("{done}/{} succeeded", r.phases.len()),
            r.finished_at_ms.map_or("-".into(), |f| {
                mmss((f - r.submitted_at_ms) as f64 / 1000.0)
            }),
            r.compute_usd.map_or("-".into(), |c| format!("{c:.6}")),
        ]);
    }
    write!(out, "{}", t.render())?;
    Ok(())
}
