//! `pipectl advise SPEC [--run RUN_ID]`: priced recommendations; `pipectl analyze SPEC`: ways to
//! buy, monthly scenarios, break-even points and sensitivity. Both from the plan's durations,
//! or a run's (`--run`), with the run's own price sheet. No AWS call.

use std::io::Write;

use pipectl_metering::advise::advise;
use pipectl_metering::analysis::{Volume, break_evens, offers, scenarios, sensitivity};
use pipectl_metering::fallback::FallbackPrice;
use pipectl_metering::{PriceSheet, variant};
use pipectl_report::text::Table as ReportTable;
use pipectl_spec::Spec;

use super::metered;
use crate::cli::{AdviseArgs, AnalysisArgs, AnalyzeArgs, RunRef, TableOrJson};
use crate::error::CliError;
use crate::options::{load_prices, load_spec};
use crate::render::table::Table;

/// The spec at `path` to price (the plan's, or with a run's billed durations), its sheet, and
/// the basis; notes about the sheet go to stderr.
pub fn basis(
    path: &std::path::Path,
    quiet: bool,
    prices_file: Option<&std::path::Path>,
    run: &RunRef,
) -> Result<(Spec, PriceSheet, String), CliError> {
    let spec = load_spec(path, quiet)?.spec;
    let Some(id) = &run.run else {
        let prices = load_prices(prices_file, &spec.stack.region)?;
        return Ok((spec, prices, "plan".into()));
    };
    let rec = metered::find_run(&run.runs_dir, Some(&spec.stack.name), id)?;
    let mut notes = Vec::new();
    let prices = metered::run_prices(&rec, prices_file, &spec.stack.region, &mut notes)?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    let durations: Vec<(String, f64)> = rec
        .phases
        .iter()
        .filter_map(|p| p.run_seconds.map(|s| (p.name.clone(), s)))
        .collect();
    Ok((
        variant::with_durations(&spec, &durations),
        prices,
        format!("run {}", rec.run_id),
    ))
}

pub fn render_table(title: &str, t: &ReportTable) -> String {
    let header: Vec<&str> = t.header.iter().map(String::as_str).collect();
    let mut out = Table::new(&header);
    for row in &t.rows {
        out.row(row.clone());
    }
    format!("{title}\n{}\n", out.render())
}

pub fn run(args: &AdviseArgs, quiet: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let (spec, prices, basis) = basis(&args.spec, quiet, args.prices.prices.as_deref(), &args.run)?;
    let opts = crate::options::metering(None, args.free_allowance);
    let a = advise(&spec, &prices, opts, &basis);
    let text = match args.output {
        TableOrJson::Json => serde_json::to_string_pretty(&a).unwrap_or_default() + "\n",
        TableOrJson::Table => {
            let mut s = format!(
                "Stack {} ({}), priced with \"{}\" ({}):\n",
                a.stack, a.basis, a.price_sheet.name, a.price_sheet.date
            );
            for (i, r) in a.recommendations.iter().enumerate() {
                s.push_str(&format!(
                    "\n{}. {}: saves ${:.4} per run ({:.1}%){}\n   do:   {}\n   risk: {}\n   results: {}\n",
                    i + 1,
                    r.title,
                    r.saving_usd,
                    r.saving_pct,
                    if r.in_optimized { "" } else { ", not in the optimized total" },
                    r.action,
                    r.risk,
                    r.changes_results.as_deref().unwrap_or("computed the same"),
                ));
            }
            if a.recommendations.is_empty() {
                s.push_str("\nNo change the advisor knows saves money on this pipeline.\n");
            }
            s.push_str(&format!(
                "\nNow ${:.4} per run; with every recommendation that computes the same: ${:.4} (saves ${:.4}, {:.1}%).\n",
                a.current_total_usd, a.optimized_total_usd, a.optimized_saving_usd, a.optimized_saving_pct
            ));
            s.push_str(&fallbacks(&a.fallbacks));
            s
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// The Spot phases' fallbacks: what each adds in expectation and at worst.
fn fallbacks(f: &[FallbackPrice]) -> String {
    let mut s = String::new();
    for p in f {
        s.push_str(&format!(
            "\n{} {} on Spot: fallback to queue {:?} on {}: ${:.6} per run in expectation (${:.6} without, ${:.6} with), ${:.4} at worst (the whole phase there); interruptions fail the phase with chance {:.2e} without, {:.2e} with\n   {}\n   {}\n",
            if p.in_spec { "Phase" } else { "Add a fallback to phase" },
            p.phase,
            p.queue,
            p.on.join(" or "),
            p.expected_extra_usd,
            p.without_usd,
            p.with_usd,
            p.worst_usd,
            p.failure_without,
            p.failure_with,
            if p.in_spec { "in the spec".to_string() } else { format!("do:   {}", p.action) },
            p.assumption,
        ));
    }
    s
}

pub fn volumes(a: &AnalysisArgs) -> Vec<Volume> {
    a.runs_per_month
        .iter()
        .map(|&n| Volume::RunsPerMonth(n))
        .chain(
            a.requests_per_day
                .iter()
                .map(|&r| Volume::RequestsPerDay(r)),
        )
        .collect()
}

pub fn analyze(args: &AnalyzeArgs, quiet: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let (spec, prices, basis) = basis(&args.spec, quiet, args.prices.prices.as_deref(), &args.run)?;
    let a = &args.analysis;
    if !a.requests_per_day.is_empty() && pipectl_metering::analysis::item_phase(&spec).is_none() {
        eprintln!(
            "note: no phase declares `items`: --requests-per-day cannot be turned into runs and is left out"
        );
    }
    let opts = crate::options::metering(None, a.free_allowance);
    let o = offers(&spec, &prices);
    let sc = scenarios(&spec, &prices, opts, &volumes(a));
    let be = break_evens(&spec, &prices, opts);
    let se = sensitivity(&spec, &prices, opts, a.sensitivity);
    let text = match args.output {
        TableOrJson::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "stack": spec.stack.name,
                "basis": basis,
                "price_sheet": { "name": prices.sheet.name, "date": prices.sheet.date },
                "offers": o,
                "scenarios": sc,
                "break_evens": be,
                "sensitivity": se,
            }))
            .unwrap_or_default()
                + "\n"
        }
        TableOrJson::Table => {
            let mut s = format!(
                "Stack {} ({basis}), priced with \"{}\" ({}):\n\n",
                spec.stack.name, prices.sheet.name, prices.sheet.date
            );
            for (title, t) in pipectl_report::text::analysis(&o, &sc, &be, &se) {
                s.push_str(&render_table(&title, &t));
                s.push('\n');
            }
            s
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}
