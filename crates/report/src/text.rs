//! The report's tables, shared by the HTML page and the Markdown file, and its CSV (the
//! reconciliation, one row per phase and component).

use pipectl_metering::advise::Advice;
use pipectl_metering::analysis::{BreakEven, PhaseOffers, Scenario, Sensitivity};
use pipectl_metering::money::{signed_usd, tidy};

use crate::Report;

/// A table of text cells, for the Markdown and CSV outputs.
pub struct Table {
    /// The column headings.
    pub header: Vec<String>,
    /// The rows, each as wide as the header.
    pub rows: Vec<Vec<String>>,
}

fn t(header: &[&str]) -> Table {
    Table {
        header: header
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        rows: Vec::new(),
    }
}

fn usd(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("${:.2}", tidy(v, 2))
    } else {
        format!("${:.4}", tidy(v, 4))
    }
}

fn opt_usd(v: Option<f64>) -> String {
    v.map_or_else(|| "unpriced".into(), usd)
}

const RECONCILIATION: [&str; 12] = [
    "phase",
    "component",
    "basis",
    "unit",
    "planned qty",
    "actual qty",
    "actual rate",
    "planned $",
    "actual $",
    "qty var $",
    "price var $",
    "note",
];

fn reconciliation(r: &Report) -> Table {
    let mut tb = t(&RECONCILIATION);
    for p in &r.reconciliation.phases {
        for f in &p.components {
            tb.rows.push(vec![
                p.name.clone(),
                format!("{:?}", f.component).to_lowercase(),
                format!("{:?}", f.basis).to_lowercase(),
                f.unit.to_string(),
                format!("{:.4}", f.planned_quantity),
                format!("{:.4}", f.actual_quantity),
                format!("{:.6}", f.actual_rate),
                usd(f.planned_usd),
                usd(f.actual_usd),
                usd(f.quantity_variance_usd),
                usd(f.price_variance_usd),
                f.note.clone(),
            ]);
        }
    }
    tb
}

/// Every table of the report, titled, in order.
pub fn tables(r: &Report) -> Vec<(String, Table)> {
    let mut out = vec![("Plan against actual".to_string(), reconciliation(r))];

    let mut jobs = t(&["phase", "attempt", "queue wait s", "run s", "outcome"]);
    for j in r.jobs.iter().take(200) {
        jobs.rows.push(vec![
            j.phase.clone(),
            j.attempt.to_string(),
            j.ready_ms
                .filter(|_| j.attempt == 1)
                .map_or("".into(), |rd| {
                    format!("{:.1}", (j.started_ms - rd) as f64 / 1000.0)
                }),
            format!("{:.1}", (j.stopped_ms - j.started_ms) as f64 / 1000.0),
            j.outcome.as_str().to_string(),
        ]);
    }
    let more = r.jobs.len().saturating_sub(200);
    out.push((
        if more > 0 {
            format!("Attempts (first 200 of {})", r.jobs.len())
        } else {
            "Attempts".into()
        },
        jobs,
    ));

    if !r.reconciliation.lifetimes.is_empty() {
        let mut lt = t(&[
            "resource",
            "id",
            "since",
            "until",
            "hours",
            "run hours",
            "cost",
            "idle cost",
            "note",
        ]);
        for l in &r.reconciliation.lifetimes {
            lt.rows.push(vec![
                l.lifetime.kind.clone(),
                l.lifetime.physical_id.clone(),
                l.lifetime.since.clone(),
                l.lifetime
                    .until
                    .clone()
                    .unwrap_or_else(|| "(exists)".into()),
                format!("{:.3}", l.lifetime.hours),
                format!("{:.3}", l.lifetime.run_hours),
                usd(l.usd),
                usd(l.idle_usd),
                l.note.clone(),
            ]);
        }
        out.push(("Billable lifetimes of shared resources".into(), lt));
    }

    out.push(advice(&r.advice));
    out.extend(analysis(
        &r.offers,
        &r.scenarios,
        &r.break_evens,
        &r.sensitivity,
    ));

    if !r.metrics.is_empty() {
        let mut m = t(&["namespace", "metric", "phase", "value", "unit"]);
        for v in &r.metrics {
            m.rows.push(vec![
                v.namespace.clone(),
                v.metric.clone(),
                v.phase.clone().unwrap_or_default(),
                format!("{:.4}", v.value),
                v.unit.clone(),
            ]);
        }
        out.push(("CloudWatch values".into(), m));
    }
    out
}

/// The advisor's recommendations as a titled table.
pub fn advice(a: &Advice) -> (String, Table) {
    let mut adv = t(&[
        "recommendation",
        "saving / run",
        "saving %",
        "risk",
        "changes results",
        "in optimum",
    ]);
    for a in &a.recommendations {
        adv.rows.push(vec![
            a.title.clone(),
            usd(a.saving_usd),
            format!("{:.1}%", a.saving_pct),
            a.risk.clone(),
            a.changes_results.clone().unwrap_or_else(|| "no".into()),
            if a.in_optimized { "yes" } else { "no" }.into(),
        ]);
    }
    (
        format!(
            "Advice: {} now, {} optimized ({:.1}% less)",
            usd(a.current_total_usd),
            usd(a.optimized_total_usd),
            a.optimized_saving_pct
        ),
        adv,
    )
}

/// Offers, scenarios, break-even points and sensitivity as titled tables.
pub fn analysis(
    offers: &[PhaseOffers],
    scenarios: &[Scenario],
    break_evens: &[BreakEven],
    sensitivity: &Sensitivity,
) -> Vec<(String, Table)> {
    let mut out = vec![(
        "Ways to buy each phase's instances".into(),
        offers_table(offers),
    )];
    out.extend(scenarios_table(scenarios));
    out.push(("Break-even points".into(), break_even_table(break_evens)));
    out.push(sensitivity_table(sensitivity));
    out
}

fn offers_table(offers: &[PhaseOffers]) -> Table {
    let mut off = t(&[
        "phase",
        "type",
        "offer",
        "rate $/h",
        "per run",
        "monthly commitment",
        "pays above runs/month",
    ]);
    for p in offers {
        for o in &p.offers {
            off.rows.push(vec![
                p.phase.clone(),
                p.instance_type.clone(),
                format!(
                    "{}{}",
                    o.offer.label(),
                    if o.assumed { " (assumed)" } else { "" }
                ),
                o.rate.map_or("unpriced".into(), |r| format!("{r:.4}")),
                o.per_run_usd.map_or(String::new(), usd),
                o.monthly_commitment_usd.map_or(String::new(), usd),
                o.break_even_runs_per_month
                    .map_or(String::new(), |n| format!("{n:.0}")),
            ]);
        }
    }
    off
}

fn scenarios_table(scenarios: &[Scenario]) -> Option<(String, Table)> {
    let first = scenarios.first()?;
    let mut h: Vec<String> = vec!["scenario".into()];
    h.extend(first.costs.iter().map(|c| format!("{} /month", c.label)));
    h.push("cheapest".into());
    h.push("per item (as specified)".into());
    let mut sc = Table {
        header: h,
        rows: Vec::new(),
    };
    for s in scenarios {
        let mut row = vec![s.label.clone()];
        row.extend(s.costs.iter().map(|c| opt_usd(c.monthly_usd)));
        row.push(s.cheapest.clone().unwrap_or_default());
        row.push(
            s.costs
                .first()
                .and_then(|c| c.per_item_usd)
                .map_or(String::new(), |v| format!("${:.6}", tidy(v, 6))),
        );
        sc.rows.push(row);
    }
    Some(("Monthly scenarios".into(), sc))
}

fn break_even_table(break_evens: &[BreakEven]) -> Table {
    let mut be = t(&["between", "runs/month", "requests/day", "meaning"]);
    for b in break_evens {
        be.rows.push(vec![
            b.between.clone(),
            format!("{:.0}", b.runs_per_month),
            b.requests_per_day
                .map_or(String::new(), |v| format!("{v:.0}")),
            b.meaning.clone(),
        ]);
    }
    if be.rows.is_empty() {
        be.rows.push(vec![
            "every commitment and buying per use".into(),
            "none".into(),
            String::new(),
            "no commitment costs less than this pipeline's own offers at any volume (Spot below \
             the committed rate, or use outgrowing what one instance covers)"
                .into(),
        ]);
    }
    be
}

fn sensitivity_table(sensitivity: &Sensitivity) -> (String, Table) {
    let mut se = t(&["input", "kind", "−% total", "+% total", "swing"]);
    for row in &sensitivity.rows {
        se.rows.push(vec![
            row.input.clone(),
            row.kind.into(),
            usd(row.low_total_usd),
            usd(row.high_total_usd),
            usd(row.swing_usd),
        ]);
    }
    (
        format!(
            "Sensitivity: each input ±{:.0}% (base {})",
            sensitivity.percent,
            usd(sensitivity.base_total_usd)
        ),
        se,
    )
}

/// `report.md`: the run's summary and tables in Markdown.
pub fn markdown(r: &Report) -> String {
    let rec = &r.reconciliation;
    let mut s = format!(
        "# Run {} of {}\n\n{} · prices \"{}\" ({})\n\nPlanned {}, actual {}, variance {}; optimized plan {}.\n",
        md_text(&r.run_id),
        md_text(&r.stack),
        md_text(&r.status),
        md_text(&rec.price_sheet.name),
        md_text(&rec.price_sheet.date),
        usd(rec.totals.planned_usd),
        usd(rec.totals.actual_usd),
        signed_usd(rec.totals.variance_usd, 4),
        usd(r.advice.optimized_total_usd),
    );
    for (title, tb) in tables(r) {
        s.push_str(&format!(
            "\n## {title}\n\n| {} |\n|{}\n",
            tb.header.join(" | "),
            "---|".repeat(tb.header.len())
        ));
        for row in &tb.rows {
            let cells: Vec<String> = row.iter().map(|c| md_text(c)).collect();
            s.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    if !r.notes.is_empty() {
        s.push_str("\n## Notes\n\n");
        for n in &r.notes {
            s.push_str(&format!("- {}\n", md_text(n)));
        }
    }
    s
}

/// Text from the record (names, reasons, notes) as Markdown that renders as that text: no raw
/// HTML (`<`, `>`, `&` escaped), no cell break (`|`), no line break.
fn md_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// A CSV cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is prefixed with `'` (OWASP's advice on CSV injection); numbers stay numbers.
fn csv_cell(s: String) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && s.trim().parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s
    }
}

/// `report.csv`: the reconciliation's rows, each led by the run id; `Err` if the CSV writer fails.
pub fn csv(r: &Report) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    let mut header: Vec<&str> = vec!["run_id"];
    header.extend(RECONCILIATION);
    w.write_record(&header).map_err(e)?;
    for row in reconciliation(r).rows {
        let mut full = vec![csv_cell(r.run_id.clone())];
        full.extend(row.into_iter().map(csv_cell));
        w.write_record(&full).map_err(e)?;
    }
    let bytes = w.into_inner().map_err(|x| x.to_string())?;
    String::from_utf8(bytes).map_err(|x| x.to_string())
}
