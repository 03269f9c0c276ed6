//! `pipectl sweep SPEC --phase NAME --nodes 1,2,4`: runs a multi-node phase at each node count
//! on the same stack (what it depends on once, with the first count), records each run as `run`
//! does, and prints per count the wall seconds, speed-up over the fewest nodes, efficiency and
//! cost per run and per item. Counts the phase's compute environments cannot launch are
//! refused before anything is submitted.

use std::io::Write;

use pipectl_record::{RunRecord, RunStatus, RunStore};
use pipectl_runner::sweep::{self, Sweep};
use pipectl_runner::{Outcome, RunError, RunOptions, Runner};

use super::run::{ended, interrupt};
use super::stack::{connect, runtime};
use crate::cli::{AwsArgs, SweepArgs, TableOrJson};
use crate::error::{CliError, exit};
use crate::options::{load_prices, price_ref, print_warnings, read_spec, spec_sha256};
use crate::render::run_progress::sink;
use crate::render::table::Table;

pub fn run(
    args: &SweepArgs,
    aws_args: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = read_spec(&args.spec)?;
    let (spec, diagnostics) = (loaded.spec, loaded.diagnostics);
    let mut counts = args.nodes.clone();
    counts.sort_unstable();
    counts.dedup();
    // Before any AWS call.
    let refused = sweep::refusals(&spec, &args.phase, &counts);
    if !refused.is_empty() {
        return Err(CliError::Usage(format!(
            "nothing submitted: {}",
            refused.join("; ")
        )));
    }
    let prices = load_prices(args.prices.prices.as_deref(), &spec.stack.region)?;
    let price_ref = price_ref(&prices);
    let sha = spec_sha256(&args.spec);
    let store = RunStore::new(&args.runs_dir);
    let json = matches!(args.output, TableOrJson::Json);
    let spec_path = args.spec.display().to_string();
    let records = runtime()?.block_on(async {
        let aws = connect(aws_args, &spec, quiet).await?;
        print_warnings(&diagnostics, quiet);
        let account = aws.account_id().await.map_err(RunError::from)?;
        let mut records: Vec<RunRecord> = Vec::new();
        for (i, &n) in counts.iter().enumerate() {
            let opts = RunOptions {
                nodes: [(args.phase.clone(), n)].into(),
                metrics: !args.no_metrics,
                ..RunOptions::default()
            };
            let runner = Runner::new(
                aws.clone(),
                sweep::run_spec(&spec, &args.phase, i == 0),
                prices.clone(),
                price_ref.clone(),
                account.clone(),
                store.clone(),
                sink(quiet || json, false, &spec),
                interrupt(),
                opts,
            );
            let mut rec = runner.prepare(&spec_path, &sha, args.ignore_budget).await?;
            if !quiet {
                eprintln!(
                    "Sweep of {}: {n} node(s), run {} ({} of {})",
                    args.phase,
                    rec.run_id,
                    i + 1,
                    counts.len()
                );
            }
            runner.submit(&mut rec).await?;
            let rec = match runner.watch(rec).await? {
                Outcome::Ended(r) => r,
                Outcome::Detached(r) => {
                    return Err(CliError::RunEnded {
                        what: format!(
                            "was left running (Ctrl-C); `pipectl run {} --attach {}` watches it; the sweep stops here",
                            args.spec.display(),
                            r.run_id
                        ),
                        run_id: r.run_id,
                        code: exit::INTERRUPTED,
                    });
                }
            };
            if rec.status != RunStatus::Succeeded {
                if let Some(f) = &rec.failure {
                    for l in &f.log_tail {
                        eprintln!("  | {l}");
                    }
                }
                ended(&rec)?;
            }
            records.push(rec);
        }
        Ok::<_, CliError>(records)
    })?;
    let s = sweep::points(&spec, &args.phase, &records);
    let text = match args.output {
        TableOrJson::Json => serde_json::to_string_pretty(&s).unwrap_or_default() + "\n",
        TableOrJson::Table => table(&s),
    };
    out.write_all(text.as_bytes()).map_err(CliError::Output)
}

/// One row per node count.
fn table(s: &Sweep) -> String {
    let mut t = Table::new(&[
        "nodes",
        "seconds",
        "speed-up",
        "efficiency",
        "$ per run",
        "$ per item",
        "run",
    ]);
    let usd = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.6}"));
    for p in &s.points {
        t.row(vec![
            p.nodes.to_string(),
            format!("{:.1}", p.seconds),
            format!("{:.2}x", p.speedup),
            format!("{:.0}%", p.efficiency * 100.0),
            usd(p.usd_per_run),
            usd(p.usd_per_item),
            p.run_id.clone(),
        ]);
    }
    format!(
        "Sweep of phase {} (compute at the run's prices):\n{}",
        s.phase,
        t.render()
    )
}
