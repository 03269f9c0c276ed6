//! The cost model: what one run of a spec's pipeline costs with a given price sheet, by
//! phase and component, with the all-On-Demand baseline and the saving against it.
//!
//! Compute is priced per instance-second with EC2's 60-second minimum; FSx and S3 per
//! GB-month prorated to the pipeline's length; transfer out per GB (the free allowance only
//! when asked); NAT gateway or interface endpoints per hour and GB. Shared costs are
//! allocated to phases by [`Allocation`].
//!
//! Below this module, each imported only from above: `types` (the vocabulary), `place`
//! (billing minimum and placement), `lines` (the priced lines of a run) and `checks` (notes
//! on an estimate).

mod checks;
mod lines;
mod place;
mod types;

use pipectl_spec::Spec;
use pipectl_spec::model::Purchase;

pub use place::{
    MIN_BILLED_SECS, Placement, Priced, billed_attempts_secs, billed_secs, compute_usd, place,
    priced,
};
pub use types::{
    Component, Components, Estimate, FsxRelease, Line, Note, NoteLevel, Options, PhaseCost,
    SheetRef,
};

use crate::allocate::{Allocation, weights};
use crate::prices::PriceSheet;
use lines::{Run, price_run};

/// Prices one run of `spec` with `prices`.
pub fn estimate(spec: &Spec, prices: &PriceSheet, opts: Options) -> Estimate {
    let run = price_run(spec, prices, opts, false);
    let baseline = price_run(spec, prices, opts, true);
    let total = run.total();
    // The baseline differs from the run in compute only; it is comparable when every compute
    // line has an On-Demand price (items unpriced in both are left out of both).
    let baseline_total = baseline.compute_priced().then(|| baseline.total());
    let savings = baseline_total.map(|b| b - total);
    let savings_pct = baseline_total
        .zip(savings)
        .and_then(|(b, s)| (b > 0.0).then(|| s / b * 100.0));

    let makespan = run.intervals.iter().map(|i| i.1).fold(0.0, f64::max);
    let phases = allocate(spec, &run, opts.allocation);
    let mut components = Components::default();
    for l in &run.lines {
        let usd = l.usd.unwrap_or(0.0);
        match l.component {
            Component::Compute => components.compute += usd,
            Component::Storage => components.storage += usd,
            Component::Network => components.network += usd,
        }
    }
    let unpriced: Vec<String> = run
        .lines
        .iter()
        .filter(|l| l.usd.is_none())
        .map(|l| l.item.clone())
        .collect();
    let mut est = Estimate {
        stack: spec.stack.name.clone(),
        region: spec.stack.region.clone(),
        price_sheet: SheetRef {
            name: prices.sheet.name.clone(),
            path: prices.sheet.path.as_ref().map(|p| p.display().to_string()),
            date: prices.sheet.date.clone(),
            region: prices.sheet.region.clone(),
        },
        allocation: opts.allocation,
        free_allowance_applied: opts.free_allowance,
        makespan_minutes: makespan / 60.0,
        total_usd: total,
        complete: unpriced.is_empty(),
        components,
        phases,
        baseline_on_demand_total_usd: baseline_total,
        savings_usd: savings,
        savings_pct,
        lines: run.lines,
        unpriced,
        notes: Vec::new(),
    };
    est.notes = checks::notes(spec, prices, &est, &baseline);
    est
}

fn allocate(spec: &Spec, run: &Run, rule: Allocation) -> Vec<PhaseCost> {
    let direct: Vec<f64> = spec
        .phases
        .iter()
        .map(|p| {
            run.lines
                .iter()
                .filter(|l| l.phase.as_deref() == Some(&p.name))
                .filter_map(|l| l.usd)
                .sum()
        })
        .collect();
    let w = weights(rule, &run.intervals, &direct);
    spec.phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut c = Components::default();
            for l in &run.lines {
                let Some(usd) = l.usd else { continue };
                let share = match &l.phase {
                    Some(name) if name == &p.name => usd,
                    Some(_) => 0.0,
                    None => usd * w[i],
                };
                match l.component {
                    Component::Compute => c.compute += share,
                    Component::Storage => c.storage += share,
                    Component::Network => c.network += share,
                }
            }
            let subtotal = c.compute + c.storage + c.network;
            let pl = run.placements[i].as_ref();
            let (start, end) = run.intervals[i];
            PhaseCost {
                name: p.name.clone(),
                start_minutes: start / 60.0,
                duration_minutes: (end - start) / 60.0,
                instance_type: pl.map_or_else(|| "?".into(), |pl| pl.instance_type.clone()),
                purchase: pl.map_or(Purchase::OnDemand, |pl| pl.purchase),
                instances: pl.map_or(0, |pl| pl.instances),
                compute_usd: c.compute,
                storage_usd: c.storage,
                network_usd: c.network,
                subtotal_usd: subtotal,
                items: p.items,
                usd_per_item: p.items.filter(|n| *n > 0).map(|n| subtotal / n as f64),
            }
        })
        .collect()
}
