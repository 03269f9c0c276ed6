//! An estimate as a table for people, CSV and Markdown for documents (JSON is serde's).

use pipectl_metering::Estimate;
use pipectl_metering::estimate::{Line, NoteLevel};
use pipectl_metering::money::{fmt_usd, round6};
use pipectl_spec::model::Purchase;

use super::table::Table;

fn minutes(m: f64) -> String {
    if (m - m.round()).abs() < 1e-9 {
        format!("{m:.0}m")
    } else {
        format!("{m:.1}m")
    }
}

fn usd_or_unpriced(v: Option<f64>) -> String {
    v.map_or_else(|| "unpriced".into(), fmt_usd)
}

fn heading(e: &Estimate) -> String {
    let from = e
        .price_sheet
        .path
        .as_deref()
        .map(|p| format!(" from {p}"))
        .unwrap_or_default();
    format!(
        "Cost estimate for one run of {} ({}): {} phases, {} end to end\nPrices: {} ({}){from}\nShared costs allocated by {}{}\n",
        e.stack,
        e.region,
        e.phases.len(),
        minutes(e.makespan_minutes),
        e.price_sheet.name,
        e.price_sheet.date,
        e.allocation,
        if e.free_allowance_applied {
            "; free transfer allowance applied"
        } else {
            ""
        }
    )
}

fn phase_table(e: &Estimate) -> Table {
    let mut t = Table::new(&[
        "phase",
        "start",
        "duration",
        "instances",
        "compute",
        "storage",
        "network",
        "subtotal",
    ])
    .right_align(&[1, 2, 4, 5, 6, 7]);
    for p in &e.phases {
        t.row(vec![
            p.name.clone(),
            minutes(p.start_minutes),
            minutes(p.duration_minutes),
            format!(
                "{} × {} {}",
                p.instances,
                p.instance_type,
                Purchase::label(p.purchase)
            ),
            fmt_usd(p.compute_usd),
            fmt_usd(p.storage_usd),
            fmt_usd(p.network_usd),
            fmt_usd(p.subtotal_usd),
        ]);
    }
    t.rule();
    let c = &e.components;
    t.row(vec![
        if e.complete {
            "total".into()
        } else {
            "total (priced items)".into()
        },
        String::new(),
        minutes(e.makespan_minutes),
        String::new(),
        fmt_usd(c.compute),
        fmt_usd(c.storage),
        fmt_usd(c.network),
        fmt_usd(e.total_usd),
    ]);
    t
}

fn line_cells(l: &Line) -> Vec<String> {
    let rate = l.rate.as_ref().map_or_else(
        || "—".into(),
        |r| {
            format!(
                "{} {}{}",
                fmt_usd(r.usd),
                l.rate_unit,
                if r.assumed { " (assumed)" } else { "" }
            )
        },
    );
    vec![
        format!("{:?}", l.component).to_lowercase(),
        l.item.clone(),
        format!("{} {}", trim(l.quantity), l.unit),
        l.basis.clone(),
        rate,
        usd_or_unpriced(l.usd),
    ]
}

fn trim(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn baseline_lines(e: &Estimate) -> String {
    match (e.baseline_on_demand_total_usd, e.savings_usd, e.savings_pct) {
        (Some(b), Some(s), Some(p)) => format!(
            "All On-Demand baseline: {}   saving: {} ({p:.1}%)\n",
            fmt_usd(b),
            fmt_usd(s)
        ),
        (Some(b), _, _) => format!("All On-Demand baseline: {}\n", fmt_usd(b)),
        _ => "All On-Demand baseline: cannot be priced with this sheet\n".into(),
    }
}

pub fn table(e: &Estimate) -> String {
    let mut out = heading(e);
    out.push('\n');
    out.push_str(&phase_table(e).render());
    out.push_str(&baseline_lines(e));
    out.push_str("\nLine items\n");
    let mut t =
        Table::new(&["component", "item", "quantity", "basis", "rate", "usd"]).right_align(&[5]);
    for l in &e.lines {
        t.row(line_cells(l));
    }
    out.push_str(&t.render());
    for l in e.lines.iter().filter(|l| l.note.is_some()) {
        out.push_str(&format!(
            "  * {}: {}\n",
            l.item,
            l.note.as_deref().unwrap_or("")
        ));
    }
    if !e.notes.is_empty() {
        out.push_str("\nNotes\n");
        for n in &e.notes {
            let mark = match n.level {
                NoteLevel::Warning => "!",
                NoteLevel::Info => "-",
            };
            out.push_str(&format!("  {mark} [{}] {}\n", n.code, n.message));
        }
    }
    out
}

pub fn markdown(e: &Estimate) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("# Cost estimate: {}\n\n", e.stack);
    for l in heading(e).lines() {
        out.push_str(&format!("{l}  \n"));
    }
    out.push_str("\n| phase | start | duration | instances | compute | storage | network | subtotal |\n|---|--:|--:|---|--:|--:|--:|--:|\n");
    for p in &e.phases {
        out.push_str(&format!(
            "| {} | {} | {} | {} × {} {} | {} | {} | {} | {} |\n",
            esc(&p.name),
            minutes(p.start_minutes),
            minutes(p.duration_minutes),
            p.instances,
            p.instance_type,
            Purchase::label(p.purchase),
            fmt_usd(p.compute_usd),
            fmt_usd(p.storage_usd),
            fmt_usd(p.network_usd),
            fmt_usd(p.subtotal_usd)
        ));
    }
    let c = &e.components;
    out.push_str(&format!(
        "| **total** | | {} | | {} | {} | {} | **{}** |\n\n",
        minutes(e.makespan_minutes),
        fmt_usd(c.compute),
        fmt_usd(c.storage),
        fmt_usd(c.network),
        fmt_usd(e.total_usd)
    ));
    out.push_str(&baseline_lines(e));
    out.push_str("\n## Line items\n\n| component | item | quantity | basis | rate | usd |\n|---|---|--:|---|--:|--:|\n");
    for l in &e.lines {
        let cells: Vec<String> = line_cells(l).iter().map(|c| esc(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if !e.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for n in &e.notes {
            out.push_str(&format!(
                "- **{:?}** `{}`: {}\n",
                n.level,
                n.code,
                esc(&n.message)
            ));
        }
    }
    out
}

/// One row per phase plus a total and a baseline row; money rounded to micro-dollars.
pub fn csv(e: &Estimate) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "row",
        "phase",
        "start_minutes",
        "duration_minutes",
        "instance_type",
        "purchase",
        "instances",
        "compute_usd",
        "storage_usd",
        "network_usd",
        "subtotal_usd",
        "price_sheet",
        "price_date",
    ])?;
    let money = |v: f64| round6(v).to_string();
    for p in &e.phases {
        w.write_record([
            "phase",
            &p.name,
            &p.start_minutes.to_string(),
            &p.duration_minutes.to_string(),
            &p.instance_type,
            Purchase::label(p.purchase),
            &p.instances.to_string(),
            &money(p.compute_usd),
            &money(p.storage_usd),
            &money(p.network_usd),
            &money(p.subtotal_usd),
            &e.price_sheet.name,
            &e.price_sheet.date,
        ])?;
    }
    let c = &e.components;
    w.write_record([
        "total",
        "",
        "0",
        &e.makespan_minutes.to_string(),
        "",
        "",
        "",
        &money(c.compute),
        &money(c.storage),
        &money(c.network),
        &money(e.total_usd),
        &e.price_sheet.name,
        &e.price_sheet.date,
    ])?;
    if let Some(b) = e.baseline_on_demand_total_usd {
        w.write_record([
            "baseline_on_demand",
            "",
            "",
            "",
            "",
            "On-Demand",
            "",
            "",
            "",
            "",
            &money(b),
            &e.price_sheet.name,
            &e.price_sheet.date,
        ])?;
    }
    let bytes = w.into_inner().map_err(csv::IntoInnerError::into_error)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
