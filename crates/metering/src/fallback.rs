//! What a fallback from Spot costs: for each Spot phase, its expected compute per run as the
//! spec stands and with a fallback (the spec's own, or the cheapest On-Demand queue it fits
//! on), under the sheet's Spot interruption assumption, with the worst case (the whole phase on
//! the fallback queue, as when a capacity wait triggers it) and the chance that interruptions
//! alone fail the phase. Pure.
//!
//! The model: interruptions come at a constant rate λ per hour of running (from the sheet's
//! monthly share); an attempt of T hours is interrupted with p = 1 − e^(−λT), and an
//! interrupted attempt ran on average 1/λ − T·e^(−λT)/p before it was. Attempt k runs when the
//! k − 1 before it were interrupted. With `interruptions:N`, the phase moves after the Nth and
//! runs once, whole, On-Demand (not interrupted).

use serde::Serialize;

use pipectl_spec::Spec;
use pipectl_spec::model::{FallbackTrigger, Phase, Purchase};

use crate::estimate::{place, priced};
use crate::money::ser;
use crate::prices::PriceSheet;
use crate::variant;

/// One Spot phase's fallback, priced (an element of `fallbacks` in `advise`'s JSON).
#[derive(Debug, Clone, Serialize)]
pub struct FallbackPrice {
    /// The phase.
    pub phase: String,
    /// The spec's queue it would move to.
    pub queue: String,
    /// Whether the spec already sets this fallback (else `advise` proposes it).
    pub in_spec: bool,
    /// The triggers priced (`capacity`, `interruptions:N`).
    pub on: Vec<String>,
    /// What to write in the spec.
    pub action: String,
    /// Expected compute per run without a fallback, USD (interrupted attempts included).
    #[serde(serialize_with = "ser")]
    pub without_usd: f64,
    /// Expected compute per run with it, USD.
    #[serde(serialize_with = "ser")]
    pub with_usd: f64,
    /// `with_usd − without_usd`: what the fallback adds in expectation, USD.
    #[serde(serialize_with = "ser")]
    pub expected_extra_usd: f64,
    /// The whole phase on the fallback queue (a capacity wait moves it before it ran), USD.
    #[serde(serialize_with = "ser")]
    pub worst_usd: f64,
    /// The chance that Spot interrupts every attempt and the phase fails, without the fallback.
    pub failure_without: f64,
    /// The same with it (0 when `interruptions:N` moves it first).
    pub failure_with: f64,
    /// The assumption the expectation rests on, labelled as one.
    pub assumption: String,
}

/// Every Spot phase's fallback, priced; empty when the sheet has no interruption assumption
/// or no phase runs on Spot.
pub fn fallbacks(spec: &Spec, prices: &PriceSheet) -> Vec<FallbackPrice> {
    let Some(assumed) = &prices.ec2.spot_interruption else {
        return vec![];
    };
    spec.phases
        .iter()
        .filter_map(|phase| {
            let spot = place(spec, phase, prices).filter(|p| p.purchase == Purchase::Spot)?;
            let spot_hourly = hourly(spec, phase, prices)?;
            let (queue, on, in_spec) = match &phase.fallback {
                Some(f) => (f.queue.clone(), f.on.clone(), true),
                None => (
                    cheapest_on_demand(spec, phase, prices)?,
                    proposed(phase),
                    false,
                ),
            };
            let moved = variant::on_queue(phase, &queue);
            let od_hourly = hourly(spec, &moved, prices)?;
            let t = phase.duration.secs() as f64 / 3600.0;
            let lambda = assumed.per_hour();
            let attempts = phase.retry.attempts.max(1);
            let retried = phase.retry.on_spot_interruption;
            let (without, fail_without) = expected(lambda, t, if retried { attempts } else { 1 });
            let n = on.iter().find_map(|o| match o {
                FallbackTrigger::Interruptions(n) => Some(*n),
                FallbackTrigger::Capacity => None,
            });
            let (with, fail_with) = match n {
                Some(n) => {
                    let (spot_h, _) = expected(lambda, t, n);
                    let p = 1.0 - (-lambda * t).exp();
                    (spot_h * spot_hourly + p.powi(n as i32) * t * od_hourly, 0.0)
                }
                None => (without * spot_hourly, fail_without),
            };
            let on: Vec<String> = on.iter().map(ToString::to_string).collect();
            Some(FallbackPrice {
                phase: phase.name.clone(),
                action: format!(
                    "fallback = {{ queue = {queue:?}, after = \"15m\", on = [{}] }} in phase {:?}",
                    on.iter()
                        .map(|o| format!("{o:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    phase.name
                ),
                queue,
                in_spec,
                on,
                without_usd: without * spot_hourly,
                with_usd: with,
                expected_extra_usd: with - without * spot_hourly,
                worst_usd: t * od_hourly,
                failure_without: fail_without,
                failure_with: fail_with,
                assumption: format!(
                    "assumed, not measured: Spot interrupts {:.0} % of {} instances a month ({})",
                    assumed.monthly_rate * 100.0,
                    spot.instance_type,
                    assumed.source,
                ),
            })
        })
        .collect()
}

/// Expected hours of running over up to `attempts` attempts of `t` hours, and the chance all
/// of them are interrupted.
fn expected(lambda: f64, t: f64, attempts: u32) -> (f64, f64) {
    let p = 1.0 - (-lambda * t).exp();
    // the mean time to an interruption that came within the attempt; t/2 when λt is tiny
    let lost = if lambda * t < 1e-9 {
        t / 2.0
    } else {
        1.0 / lambda - t * (-lambda * t).exp() / p
    };
    let mut hours = 0.0;
    for k in 0..attempts {
        hours += p.powi(k as i32) * ((1.0 - p) * t + p * lost);
    }
    (hours, p.powi(attempts as i32))
}

/// The phase's compute per hour of running on its placement (every instance it needs), USD.
fn hourly(spec: &Spec, phase: &Phase, prices: &PriceSheet) -> Option<f64> {
    priced(spec, phase, prices).map(|p| p.rate.usd * p.concurrent)
}

/// The spec's On-Demand queue, other than the phase's, where it runs cheapest.
fn cheapest_on_demand(spec: &Spec, phase: &Phase, prices: &PriceSheet) -> Option<String> {
    spec.job_queues
        .keys()
        .filter(|q| **q != phase.queue)
        .filter_map(|q| {
            let moved = variant::on_queue(phase, q);
            let pl = place(spec, &moved, prices)?;
            (pl.purchase == Purchase::OnDemand).then_some(())?;
            Some((q.clone(), hourly(spec, &moved, prices)?))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(q, _)| q)
}

/// The triggers `advise` proposes: capacity, and interruptions one short of the attempts (the
/// last retry goes On-Demand) when the phase retries at all.
fn proposed(phase: &Phase) -> Vec<FallbackTrigger> {
    let mut on = vec![FallbackTrigger::Capacity];
    if phase.retry.on_spot_interruption && phase.retry.attempts >= 2 {
        on.push(FallbackTrigger::Interruptions(phase.retry.attempts - 1));
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_no_interruptions_an_attempt_runs_once_and_whole() {
        let (h, fail) = expected(0.0, 0.5, 3);
        assert!((h - 0.5).abs() < 1e-12);
        assert_eq!(fail, 0.0);
    }

    #[test]
    fn interruptions_add_lost_time_and_a_chance_to_fail() {
        // λt = ln 2: each attempt is interrupted with p = 1/2
        let t = 1.0;
        let lambda = std::f64::consts::LN_2;
        let (h, fail) = expected(lambda, t, 2);
        let lost = 1.0 / lambda - t * 0.5 / 0.5;
        let want = (0.5 * t + 0.5 * lost) * (1.0 + 0.5);
        assert!((h - want).abs() < 1e-12, "{h} against {want}");
        assert!((fail - 0.25).abs() < 1e-12);
        assert!(
            lost > 0.0 && lost < t / 2.0,
            "the front-loaded mean: {lost}"
        );
    }
}
