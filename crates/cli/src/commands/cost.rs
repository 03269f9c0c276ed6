//! `pipectl cost SPEC`: the estimate of one run, in four formats. No AWS client is created.

use std::io::Write;

use pipectl_metering::estimate;

use super::metered;
use crate::cli::{AwsArgs, CostArgs, CostOutput};
use crate::error::CliError;
use crate::options::{self, load_prices, print_warnings, read_spec};
use crate::render::{cost, reconcile};

pub fn run(
    args: &CostArgs,
    aws: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = read_spec(&args.spec)?;
    if let Some(run) = &args.run.run {
        return reconcile(args, aws, &loaded, run, quiet, out);
    }
    print_warnings(&loaded.diagnostics, quiet);
    let prices = load_prices(args.prices.prices.as_deref(), &loaded.spec.stack.region)?;
    let opts = options::metering(Some(args.allocation.into()), args.free_allowance);
    let est = estimate(&loaded.spec, &prices, opts);
    let text = match args.output {
        CostOutput::Table => cost::table(&est),
        CostOutput::Json => serde_json::to_string_pretty(&est).unwrap_or_default() + "\n",
        CostOutput::Csv => {
            cost::csv(&est).map_err(|e| CliError::Output(std::io::Error::other(e)))?
        }
        CostOutput::Markdown => cost::markdown(&est),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// `pipectl cost SPEC --run RUN_ID|latest`: plan against what the run recorded, priced with the
/// sheet the run was priced with (stored in its record).
fn reconcile(
    args: &CostArgs,
    aws: &AwsArgs,
    loaded: &pipectl_spec::LoadedSpec,
    run: &str,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let spec = &loaded.spec;
    let rec = metered::find_run(&args.run.runs_dir, Some(&spec.stack.name), run)?;
    let opts = options::metering(Some(args.allocation.into()), args.free_allowance);
    let remote = metered::Remote::open(aws, spec, args.run.offline, quiet)?;
    print_warnings(&loaded.diagnostics, quiet);
    let m = metered::meter(
        spec,
        &rec,
        args.prices.prices.as_deref(),
        opts,
        &aws.state_dir,
        remote.as_ref(),
    )?;
    for n in &m.notes {
        eprintln!("note: {n}");
    }
    let r = &m.reconciliation;
    let text = match args.output {
        CostOutput::Table => reconcile::table(r, &rec.run_id),
        CostOutput::Json => reconcile::json(r, &rec.run_id),
        CostOutput::Csv => {
            reconcile::csv(r).map_err(|e| CliError::Output(std::io::Error::other(e)))?
        }
        CostOutput::Markdown => reconcile::markdown(r),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}
