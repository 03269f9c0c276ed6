//! Notes on an estimate: where the spec's own inputs disagree with each other or with what the
//! price sheet computes, what was assumed, and what was left unpriced. A figure a source states
//! is checked, never repeated as if computed.

use pipectl_spec::Spec;
use pipectl_spec::fsx;
use pipectl_spec::model::{Fsx, Stated};

use super::lines::Run;
use super::place::MIN_BILLED_SECS;
use super::types::{Estimate, Note, NoteLevel};
use crate::money::fmt_usd;
use crate::prices::PriceSheet;

/// Every note on `est` (warnings first, otherwise in the order below).
pub(crate) fn notes(spec: &Spec, prices: &PriceSheet, est: &Estimate, baseline: &Run) -> Vec<Note> {
    let mut out = Vec::new();
    let mut note = |level, code, message: String| {
        out.push(Note {
            level,
            code,
            message,
        });
    };
    pricing(prices, est, baseline, &mut note);
    if let Some(stated) = &spec.stated {
        stated_figures(stated, prices, est, &mut note);
    }
    if let Some(f) = &spec.fsx {
        file_system(f, est, &mut note);
    }
    billing(spec, prices, est, &mut note);
    out.sort_by_key(|n| std::cmp::Reverse(n.level));
    out
}

/// Adds one note.
trait NoteSink: FnMut(NoteLevel, &'static str, String) {}
impl<F: FnMut(NoteLevel, &'static str, String)> NoteSink for F {}

/// What the sheet could not price, and what it assumed.
fn pricing(prices: &PriceSheet, est: &Estimate, baseline: &Run, note: &mut impl NoteSink) {
    if !est.complete {
        note(
            NoteLevel::Warning,
            "unpriced",
            format!(
                "not in price sheet {:?}, so left out of the total (not counted as $0): {}",
                prices.sheet.name,
                est.unpriced.join("; ")
            ),
        );
    }
    if !baseline.compute_priced() {
        note(NoteLevel::Warning, "no-baseline", "the all-On-Demand baseline cannot be priced: the sheet lacks an On-Demand price for a type in use".into());
    }
    let mut assumed: Vec<String> = est
        .lines
        .iter()
        .filter(|l| l.rate.as_ref().is_some_and(|r| r.assumed))
        .map(|l| {
            format!(
                "{} at {}/h ({})",
                l.item,
                fmt_usd(l.rate.as_ref().map_or(0.0, |r| r.usd)),
                l.rate.as_ref().map_or("", |r| r.source.as_str())
            )
        })
        .collect();
    assumed.dedup();
    for a in assumed {
        note(
            NoteLevel::Info,
            "spot-assumed",
            format!("Spot price assumed: {a}"),
        );
    }
}

/// The source's own figures against what this sheet computes.
fn stated_figures(stated: &Stated, prices: &PriceSheet, est: &Estimate, note: &mut impl NoteSink) {
    let from = stated
        .source
        .clone()
        .unwrap_or_else(|| "the spec's [stated] figures".into());
    let checks = [
        ("compute", stated.compute_usd, Some(est.components.compute)),
        ("storage", stated.storage_usd, Some(est.components.storage)),
        ("network", stated.network_usd, Some(est.components.network)),
        ("total", stated.total_usd, Some(est.total_usd)),
    ];
    for (what, claimed, computed) in checks {
        let (Some(claimed), Some(computed)) = (claimed, computed) else {
            continue;
        };
        if agrees(claimed, computed) {
            note(
                NoteLevel::Info,
                "stated-agrees",
                format!(
                    "{what}: stated {} agrees with {} computed from {:?}",
                    fmt_usd(claimed),
                    fmt_usd(computed),
                    prices.sheet.name
                ),
            );
        } else {
            note(
                NoteLevel::Warning,
                "stated-differs",
                format!(
                    "{what}: {from} states {}, {:?} gives {}",
                    fmt_usd(claimed),
                    prices.sheet.name,
                    fmt_usd(computed)
                ),
            );
        }
    }
    if let (Some(claimed), Some(base)) = (stated.baseline_usd, est.baseline_on_demand_total_usd) {
        if !agrees(claimed, base) {
            let pct = est.savings_pct.unwrap_or(0.0);
            let claimed_pct = stated
                .savings_pct
                .map(|p| format!(", not {p}%"))
                .unwrap_or_default();
            note(
                NoteLevel::Warning,
                "stated-baseline",
                format!(
                    "{from} compares against {} but follows it from no stated baseline; every instance On-Demand costs {}, so the saving is {} ({pct:.1}%{claimed_pct})",
                    fmt_usd(claimed),
                    fmt_usd(base),
                    fmt_usd(base - est.total_usd)
                ),
            );
        }
    } else if let (Some(claimed), Some(pct)) = (stated.savings_pct, est.savings_pct)
        && (claimed - pct).abs() > 0.5
    {
        note(
            NoteLevel::Warning,
            "stated-differs",
            format!("saving: {from} states {claimed}%, the all-On-Demand baseline gives {pct:.1}%"),
        );
    }
}

/// The file system's sustained throughput against the spec's need, and its billed lifetime.
fn file_system(f: &Fsx, est: &Estimate, note: &mut impl NoteSink) {
    let perf = fsx::performance(f);
    if let Some(req) = f
        .required_throughput
        .filter(|r| r.mb_per_s() > perf.baseline_mb_s)
    {
        let burst = perf
            .burst_mb_s
            .map(|b| format!(", bursting to {b:.0} MB/s on credits"))
            .unwrap_or_default();
        let fix = fsx::cheapest_sustaining(f, req.mb_per_s())
            .map(|s| format!("; sustained {req} needs {s}"))
            .unwrap_or_default();
        note(
            NoteLevel::Warning,
            "fsx-throughput",
            format!(
                "the spec requires {req} from FSx, but {} at {} sustains {:.0} MB/s{burst}{fix}, at a higher price",
                f.deployment_type.as_aws(),
                f.capacity,
                perf.baseline_mb_s
            ),
        );
    }
    note(
        NoteLevel::Info,
        "billed-lifetime",
        format!(
            "FSx bills from creation (typically 6-15 min before it is AVAILABLE) to deletion; this estimate counts the pipeline's {:.0} min",
            est.makespan_minutes
        ),
    );
}

/// The free transfer allowance, EC2's minimum and the budget.
fn billing(spec: &Spec, prices: &PriceSheet, est: &Estimate, note: &mut impl NoteSink) {
    let out_gb: f64 = spec.phases.iter().map(|p| p.data_out.gb()).sum();
    if out_gb > 0.0
        && !est.free_allowance_applied
        && let (Some(free), Some(rate)) = (
            prices.data_transfer.free_allowance_gb,
            prices.transfer_out(),
        )
    {
        let saved = out_gb.min(free) * rate.usd;
        note(
            NoteLevel::Info,
            "free-allowance",
            format!(
                "the first {free:.0} GB out each month are free per account; not applied (--free-allowance applies it: {} less here)",
                fmt_usd(saved)
            ),
        );
    }
    for p in spec
        .phases
        .iter()
        .filter(|p| (p.duration.secs() as f64) < MIN_BILLED_SECS)
    {
        note(
            NoteLevel::Info,
            "min-billing",
            format!(
                "{}: {} is billed as 60 s, EC2's minimum",
                p.name, p.duration
            ),
        );
    }
    if let Some(budget) = spec.stack.budget_usd
        && est.total_usd > budget
    {
        note(
            NoteLevel::Warning,
            "over-budget",
            format!(
                "estimate {} exceeds the stack's budget of {}",
                fmt_usd(est.total_usd),
                fmt_usd(budget)
            ),
        );
    }
}

/// Stated figures are rounded by their authors: agreement is within half a cent or 0.5%.
fn agrees(claimed: f64, computed: f64) -> bool {
    (claimed - computed).abs() <= 0.005_f64.max(computed.abs() * 0.005)
}
