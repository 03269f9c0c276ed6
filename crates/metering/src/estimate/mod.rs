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
    // Each phase's own lines and the shared ones, by line index, gathered once: asking every
    // line of every phase made an estimate quadratic in phases (and `analyze` makes one per
    // input). Sums keep the lines' order, so every figure is what it was.
    let index = spec.phase_indices();
    let mut own: Vec<Vec<usize>> = vec![Vec::new(); spec.phases.len()];
    let mut shared: Vec<usize> = Vec::new();
    for (k, l) in run.lines.iter().enumerate() {
        match &l.phase {
            Some(name) => {
                if let Some(&i) = index.get(name.as_str()) {
                    own[i].push(k);
                }
            }
            None => shared.push(k),
        }
    }
    let direct: Vec<f64> = own
        .iter()
        .map(|ks| ks.iter().filter_map(|&k| run.lines[k].usd).sum())
        .collect();
    let w = weights(rule, &run.intervals, &direct);
    spec.phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut c = Components::default();
            let (mut a, mut b) = (own[i].iter().peekable(), shared.iter().peekable());
            // the two lists merged back into the lines' order
            while let Some(k) = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x < y => a.next(),
                (Some(_), None) => a.next(),
                (_, Some(_)) => b.next(),
                (None, None) => None,
            } {
                let l = &run.lines[*k];
                let Some(usd) = l.usd else { continue };
                let share = if l.phase.is_some() { usd } else { usd * w[i] };
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
