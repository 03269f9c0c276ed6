//! What a run costs as it goes, from the run record and the price sheet it was priced with:
//! the estimate checked against the budget before submitting, each ended phase's compute, and
//! the whole run's projection while it runs. Pure.

use pipectl_metering::{PriceSheet, estimate, variant};
use pipectl_record::{PhaseRecord, RunRecord};
use pipectl_spec::Spec;
use pipectl_spec::model::Phase;

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

/// The spec's phase as the record ran it: on its record's node count, and on `queue` when
/// given (its fallback's).
fn as_ran(spec: &Spec, p: &PhaseRecord, queue: Option<&str>) -> Option<Phase> {
    let phase = spec.phase(&p.name)?;
    let phase = match queue {
        Some(q) => variant::on_queue(phase, q),
        None => phase.clone(),
    };
    Some(Phase {
        nodes: p.nodes.max(1),
        ..phase
    })
}

/// Compute cost of the phase's current job alone, on the queue it is in.
pub(crate) fn job_cost(spec: &Spec, prices: &PriceSheet, p: &PhaseRecord) -> Option<f64> {
    let queue = p.fallback.as_ref().map(|f| f.queue.as_str());
    estimate::compute_usd(spec, &as_ran(spec, p, queue)?, prices, &p.attempt_seconds())
}

/// The phase's attempts priced, with `more` seconds of one more attempt on the queue it is on.
fn cost_with(spec: &Spec, prices: &PriceSheet, p: &PhaseRecord, more: Option<f64>) -> Option<f64> {
    let own_phase = as_ran(spec, p, None)?;
    let mut own = p.own_queue_attempt_seconds();
    let Some(fb) = &p.fallback else {
        own.extend(more);
        return estimate::compute_usd(spec, &own_phase, prices, &own);
    };
    let mut moved = p.attempt_seconds();
    moved.extend(more);
    let own_usd = estimate::compute_usd(spec, &own_phase, prices, &own)?;
    let moved_usd =
        estimate::compute_usd(spec, &as_ran(spec, p, Some(&fb.queue))?, prices, &moved)?;
    Some(own_usd + moved_usd)
}

/// The whole run's cost as it now looks: the estimate, with each phase's planned compute
/// replaced by what its ended attempts cost plus, while it has not ended, one more attempt
/// of its planned length (a retried attempt starts the work again) on the queue it is on.
pub(crate) fn projected_cost(spec: &Spec, prices: &PriceSheet, rec: &RunRecord) -> f64 {
    let mut total = rec.estimate_usd;
    for p in &rec.phases {
        let Some(phase) = as_ran(spec, p, None) else {
            continue;
        };
        let planned = estimate::compute_usd(spec, &phase, prices, &[p.planned_seconds]);
        let now = if p.status.is_terminal() {
            p.compute_usd
        } else {
            cost_with(spec, prices, p, Some(p.planned_seconds))
        };
        total += now.unwrap_or(0.0) - planned.unwrap_or(0.0);
    }
    total
}
