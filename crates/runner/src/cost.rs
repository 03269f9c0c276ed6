//! What a run costs as it goes, from the run record and the price sheet it was priced with:
//! the estimate checked against the budget before submitting, each ended phase's compute, and
//! the whole run's projection while it runs. Pure.

use pipectl_metering::{PriceSheet, estimate};
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

/// Compute cost of what the phase ran: every attempt billed, 60 s minimum each.
pub(crate) fn phase_cost(spec: &Spec, prices: &PriceSheet, p: &PhaseRecord) -> Option<f64> {
    let phase = spec.phase(&p.name)?;
    estimate::compute_usd(spec, phase, prices, &p.attempt_seconds())
}

/// The whole run's cost as it now looks: the estimate, with each phase's planned compute
/// replaced by what its ended attempts cost plus, while it has not ended, one more attempt
/// of its planned length (a retried attempt starts the work again).
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
            let mut secs: Vec<f64> = p.attempts.iter().map(|a| a.run_seconds).collect();
            secs.push(p.planned_seconds);
            estimate::compute_usd(spec, phase, prices, &secs)
        };
        total += now.unwrap_or(0.0) - planned.unwrap_or(0.0);
    }
    total
}
