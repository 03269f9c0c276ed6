//! A run reconciled against its plan (`pipectl cost --run`): the variance of each phase's
//! components as a table, JSON, CSV or Markdown, and the shared resources' billable lives.

use pipectl_metering::money::{signed_usd, tidy};
use pipectl_metering::reconcile::Reconciliation;

use super::table::Table;

const HEADER: [&str; 12] = [
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

/// One row per component of each phase, formatted as every output shows it.
fn rows(r: &Reconciliation) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for p in &r.phases {
        for f in &p.components {
            rows.push(vec![
                p.name.clone(),
                match &f.fallback_queue {
                    Some(q) => format!("compute on fallback {q:?}"),
                    None => format!("{:?}", f.component).to_lowercase(),
                },
                format!("{:?}", f.basis).to_lowercase(),
                f.unit.to_string(),
                format!("{:.4}", f.planned_quantity),
                format!("{:.4}", f.actual_quantity),
                format!("{:.6}", f.actual_rate),
                format!("{:.6}", tidy(f.planned_usd, 6)),
                format!("{:.6}", tidy(f.actual_usd, 6)),
                format!("{:.6}", tidy(f.quantity_variance_usd, 6)),
                format!("{:.6}", tidy(f.price_variance_usd, 6)),
                format!("{:.6}", tidy(f.variance_usd, 6)),
            ]);
        }
    }
    rows
}

/// For people: the table, the totals and the shared resources' lives.
pub fn table(r: &Reconciliation, run_id: &str) -> String {
    let mut t = Table::new(&HEADER);
    for row in rows(r) {
        t.row(row);
    }
    format!(
        "Run {run_id} of stack {} against the plan, priced with \"{}\" ({}):\n{}planned ${:.6}, actual ${:.6}, variance {}\n",
        r.stack,
        r.price_sheet.name,
        r.price_sheet.date,
        t.render(),
        tidy(r.totals.planned_usd, 6),
        tidy(r.totals.actual_usd, 6),
        signed_usd(r.totals.variance_usd, 6)
    ) + &lifetimes(r)
}

/// For machines: the reconciliation with the run's id.
pub fn json(r: &Reconciliation, run_id: &str) -> String {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["run_id"] = run_id.into();
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// For spreadsheets: the rows with their header.
pub fn csv(r: &Reconciliation) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for row in rows(r) {
        w.write_record(&row)?;
    }
    let bytes = w.into_inner().map_err(csv::IntoInnerError::into_error)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// For documents: a Markdown table, the totals and the shared resources' lives.
pub fn markdown(r: &Reconciliation) -> String {
    let mut s = format!(
        "| {} |\n|{}\n",
        HEADER.join(" | "),
        "---|".repeat(HEADER.len())
    );
    for row in rows(r) {
        s.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    s.push_str(&format!(
        "\nplanned ${:.6}, actual ${:.6}, variance ${:.6}\n",
        tidy(r.totals.planned_usd, 6),
        tidy(r.totals.actual_usd, 6),
        tidy(r.totals.variance_usd, 6)
    ));
    s.push_str(&lifetimes(r));
    s
}

/// The shared resources' billable lives, one line each (empty when none is known).
fn lifetimes(r: &Reconciliation) -> String {
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
