//! What a run costs as it goes, from the run record and the price sheet it was priced with:
//! the estimate checked against the budget before submitting, each ended phase's compute, and
//! the whole run's projection while it runs. Pure.

use pipectl_metering::{PriceSheet, estimate, variant};
use pipectl_record::{PhaseRecord, RunRecord};
use pipectl_spec::Spec;

use crate::error::RunError;

/// The estimate of one run from the planned durations, refused when it exceeds the spec's
/// budget (unless `ignore`). Needs no AWS call: `run` checks it first.
pub fn check_budget(spec: &Spec, prices: &PriceSheet, ignore: bool) -> Result<f64, RunError> {
    let estimate = estimate::estimate(spec, prices, Default::default()).total_usd;
    match spec.stack.budget_usd {
        Some(budget) if estimate > budget && !ignore => {
            Err(RunError::OverBudget { estimate, budget })
        }
        _ => Ok(estimate),
    }
}

/// Compute cost of what the phase ran: every attempt billed, 60 s minimum each, each job's at
/// its queue's price (the phase's own, and its fallback's once it moved).
pub(crate) fn phase_cost(spec: &Spec, prices: &PriceSheet, p: &PhaseRecord) -> Option<f64> {
    cost_with(spec, prices, p, None)
}

/// Compute cost of the phase's current job alone, on the queue it is in.
pub(crate) fn job_cost(spec: &Spec, prices: &PriceSheet, p: &PhaseRecord) -> Option<f64> {
    let phase = spec.phase(&p.name)?;
    match &p.fallback {
        Some(fb) => estimate::compute_usd(
            spec,
            &variant::on_queue(phase, &fb.queue),
            prices,
            &p.attempt_seconds(),
        ),
        None => estimate::compute_usd(spec, phase, prices, &p.attempt_seconds()),
    }
}

/// The phase's attempts priced, with `more` seconds of one more attempt on the queue it is on.
fn cost_with(spec: &Spec, prices: &PriceSheet, p: &PhaseRecord, more: Option<f64>) -> Option<f64> {
    let phase = spec.phase(&p.name)?;
    let mut own = p.own_queue_attempt_seconds();
    let Some(fb) = &p.fallback else {
        own.extend(more);
        return estimate::compute_usd(spec, phase, prices, &own);
    };
    let mut moved = p.attempt_seconds();
    moved.extend(more);
    let own_usd = estimate::compute_usd(spec, phase, prices, &own)?;
    let moved_usd =
        estimate::compute_usd(spec, &variant::on_queue(phase, &fb.queue), prices, &moved)?;
    Some(own_usd + moved_usd)
}

/// The whole run's cost as it now looks: the estimate, with each phase's planned compute
/// replaced by what its ended attempts cost plus, while it has not ended, one more attempt
/// of its planned length (a retried attempt starts the work again) on the queue it is on.
pub(crate) fn projected_cost(spec: &Spec, prices: &PriceSheet, rec: &RunRecord) -> f64 {
    let mut total = rec.estimate_usd;
    for p in &rec.phases {
        let Some(phase) = spec.phase(&p.name) else {
            continue;
        };
        let planned = estimate::compute_usd(spec, phase, prices, &[p.planned_seconds]);
        let now = if p.status.is_terminal() {
            p.compute_usd
        } else {
            cost_with(spec, prices, p, Some(p.planned_seconds))
        };
        total += now.unwrap_or(0.0) - planned.unwrap_or(0.0);
    }
    total
}
