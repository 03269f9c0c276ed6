//! `pipectl cost SPEC`: the estimate of one run, in four formats. No AWS client is created.

use std::io::Write;

use pipectl_metering::{Options, estimate};

use super::{load_prices, load_spec, metered};
use crate::cli::{AwsArgs, CostArgs, CostOutput};
use crate::error::CliError;
use crate::render::cost;

pub fn run(
    args: &CostArgs,
    aws: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = load_spec(&args.spec, quiet)?;
    if let Some(run) = &args.run.run {
        return reconcile(args, aws, &loaded.spec, run, out);
    }
    let prices = load_prices(args.prices.prices.as_deref(), &loaded.spec.stack.region)?;
    let opts = Options {
        allocation: args.allocation.into(),
        free_allowance: args.free_allowance,
        ..Options::default()
    };
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
    spec: &pipectl_spec::Spec,
    run: &str,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let rec = metered::find_run(&args.run.runs_dir, &spec.stack.name, run)?;
    let opts = Options {
        allocation: args.allocation.into(),
        free_allowance: args.free_allowance,
        ..Options::default()
    };
    let remote = metered::Remote::open(aws, spec, args.run.offline)?;
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
    let r = m.reconciliation;
    let header = [
        "phase",
        "component",
        "basis",
        "unit",
        "planned qty",
        "actual qty",
        "rate",
        "planned $",
        "actual $",
        "qty var $",
        "price var $",
        "variance $",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for p in &r.phases {
        for f in &p.components {
            rows.push(vec![
                p.name.clone(),
                format!("{:?}", f.component).to_lowercase(),
                format!("{:?}", f.basis).to_lowercase(),
                f.unit.to_string(),
                format!("{:.4}", f.planned_quantity),
                format!("{:.4}", f.actual_quantity),
                format!("{:.6}", f.actual_rate),
                format!("{:.6}", f.planned_usd),
                format!("{:.6}", f.actual_usd),
                format!("{:.6}", f.quantity_variance_usd),
                format!("{:.6}", f.price_variance_usd),
                format!("{:.6}", f.variance_usd),
            ]);
        }
    }
    let text = match args.output {
        CostOutput::Json => {
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            v["run_id"] = rec.run_id.clone().into();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        CostOutput::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let io = |e: csv::Error| CliError::Output(std::io::Error::other(e));
            w.write_record(header).map_err(io)?;
            for row in &rows {
                w.write_record(row).map_err(io)?;
            }
            String::from_utf8_lossy(
                &w.into_inner()
                    .map_err(|e| CliError::Output(std::io::Error::other(e.to_string())))?,
            )
            .into_owned()
        }
        CostOutput::Markdown => {
            let mut s = format!(
                "| {} |\n|{}\n",
                header.join(" | "),
                "---|".repeat(header.len())
            );
            for row in &rows {
                s.push_str(&format!("| {} |\n", row.join(" | ")));
            }
            s.push_str(&format!(
                "\nplanned ${:.6}, actual ${:.6}, variance ${:.6}\n",
                r.totals.planned_usd, r.totals.actual_usd, r.totals.variance_usd
            ));
            s.push_str(&lifetimes(&r));
            s
        }
        CostOutput::Table => {
            let mut t = crate::render::table::Table::new(&header);
            for row in rows {
                t.row(row);
            }
            format!(
                "Run {} of stack {} against the plan, priced with \"{}\" ({}):\n{}planned ${:.6}, actual ${:.6}, variance ${:+.6}\n",
                rec.run_id,
                r.stack,
                r.price_sheet.name,
                r.price_sheet.date,
                t.render(),
                r.totals.planned_usd,
                r.totals.actual_usd,
                r.totals.variance_usd
            ) + &lifetimes(&r)
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// The shared resources' billable lives, one line each (empty when none is known).
fn lifetimes(r: &pipectl_metering::reconcile::Reconciliation) -> String {
    let mut s = String::new();
    for l in &r.lifetimes {
        s.push_str(&format!(
            "{} {}: {} to {}, {:.3} h (run {:.3} h): ${:.6}, of which idle ${:.6}; {}\n",
            l.lifetime.kind,
            l.lifetime.physical_id,
            l.lifetime.since,
            l.lifetime.until.as_deref().unwrap_or("now"),
            l.lifetime.hours,
            l.lifetime.run_hours,
            l.usd,
            l.idle_usd,
            l.note
        ));
    }
    if !s.is_empty() {
        s.insert_str(
            0,
            "\nShared resources over their billable lives (not in the totals above):\n",
        );
    }
    s
}
