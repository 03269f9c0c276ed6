//! Plan against actual: each phase's components priced twice, from the spec's planned
//! durations and from what a run recorded, with the variance split into a quantity part
//! ((actual qty − plan qty) × plan rate) and a price part ((actual rate − plan rate) × actual
//! qty), which add up to the whole variance. Every figure says whether it is `reconciled`
//! (from the run's own timestamps) or still an `estimate` (nothing measured it).

use serde::Serialize;

use pipectl_spec::Spec;
use pipectl_spec::model::{Phase, Purchase};

use crate::estimate::{
    Component, Options, PhaseCost, Priced, SheetRef, billed_attempts_secs, estimate, priced,
};
use crate::money::{round6, ser};
use crate::prices::PriceSheet;
use crate::variant;

/// What a run recorded of one phase.
#[derive(Debug, Clone)]
pub struct ActualPhase {
    /// The spec's phase name.
    pub name: String,
    /// Each attempt's run time (seconds), in order.
    pub attempt_secs: Vec<f64>,
    /// Ready → stopped (seconds), when it ended.
    pub wall_secs: Option<f64>,
    /// The Spot price it actually paid (time-weighted over its attempts), when known.
    pub measured_rate: Option<MeasuredRate>,
    /// What ran on its fallback queue once `run` moved it there; `attempt_secs` are then the
    /// attempts on its own queue.
    pub fallback: Option<FallbackRun>,
    /// Nodes it ran on (a multi-node phase run at another count than the spec's, by `pipectl
    /// sweep`); `None`: the spec's.
    pub nodes: Option<u32>,
}

/// A phase's attempts on its fallback queue.
#[derive(Debug, Clone)]
pub struct FallbackRun {
    /// The spec's key of the queue.
    pub queue: String,
    /// Each attempt's run time there (seconds), in order.
    pub attempt_secs: Vec<f64>,
}

/// A rate measured for the window a phase ran in, and where it came from.
#[derive(Debug, Clone)]
pub struct MeasuredRate {
    /// USD per instance-hour.
    pub usd: f64,
    /// Where it came from, for people (e.g. the Spot price history's window).
    pub note: String,
}

/// How long a shared resource existed, from the provisioner's records.
#[derive(Debug, Clone, Serialize)]
pub struct Lifetime {
    /// `fsx` or `nat-gateway`.
    pub kind: String,
    /// The AWS id (`fs-...`, `nat-...`).
    pub physical_id: String,
    /// When pipectl first saw it exist (RFC 3339, UTC).
    pub since: String,
    /// `None` while it still exists (priced up to now).
    pub until: Option<String>,
    /// Its whole life so far, in hours.
    pub hours: f64,
    /// The hours of the run itself (first submission → last phase stopped).
    pub run_hours: f64,
}

/// A shared resource's billable lifetime, priced.
#[derive(Debug, Clone, Serialize)]
pub struct LifetimeCost {
    /// The lifetime priced.
    #[serde(flatten)]
    pub lifetime: Lifetime,
    /// The rate's unit (`USD/hour`, ...).
    pub unit: &'static str,
    /// The price sheet's rate, in `unit`.
    pub rate: f64,
    /// The whole lifetime: what AWS bills for it.
    #[serde(serialize_with = "ser")]
    pub usd: f64,
    /// Its hours while nothing of the run was using it, priced.
    #[serde(serialize_with = "ser")]
    pub idle_usd: f64,
    /// How the figure was reached, for people.
    pub note: String,
}

/// Whether a figure was measured from the run or only planned (lowercase in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// From the run's timestamps.
    Reconciled,
    /// Not measured: the planned figure, or a rate the sheet itself calls an estimate.
    Estimate,
}

/// One line of the reconciliation: planned against actual, with the variance split.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Which part of the bill.
    pub component: Component,
    /// Measured or planned.
    pub basis: Basis,
    /// The quantities' unit (`instance-hours`, ...).
    pub unit: &'static str,
    /// The estimate's quantity, in `unit`.
    pub planned_quantity: f64,
    /// The run's quantity, in `unit`.
    pub actual_quantity: f64,
    /// The estimate's rate, USD per `unit`.
    pub planned_rate: f64,
    /// The rate the run paid, USD per `unit`.
    pub actual_rate: f64,
    /// Planned quantity × planned rate, USD.
    #[serde(serialize_with = "ser")]
    pub planned_usd: f64,
    /// Actual quantity × actual rate, USD.
    #[serde(serialize_with = "ser")]
    pub actual_usd: f64,
    /// (actual − planned quantity) × planned rate, USD.
    #[serde(serialize_with = "ser")]
    pub quantity_variance_usd: f64,
    /// (actual − planned rate) × actual quantity, USD.
    #[serde(serialize_with = "ser")]
    pub price_variance_usd: f64,
    /// Actual − planned, USD (the two variances' sum).
    #[serde(serialize_with = "ser")]
    pub variance_usd: f64,
    /// How the figure was reached, for people.
    pub note: String,
    /// The fallback queue a compute figure is for (`run` moved the phase there); `None` for
    /// the phase's own queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_queue: Option<String>,
}

impl Figure {
    #[allow(clippy::too_many_arguments)]
    fn new(
        component: Component,
        basis: Basis,
        unit: &'static str,
        pq: f64,
        aq: f64,
        pr: f64,
        ar: f64,
        note: String,
    ) -> Figure {
        let (planned, actual) = (pq * pr, aq * ar);
        Figure {
            component,
            basis,
            unit,
            planned_quantity: pq,
            actual_quantity: aq,
            planned_rate: pr,
            actual_rate: ar,
            planned_usd: planned,
            actual_usd: actual,
            quantity_variance_usd: (aq - pq) * pr,
            price_variance_usd: (ar - pr) * aq,
            variance_usd: actual - planned,
            note,
            fallback_queue: None,
        }
    }
}

/// One phase reconciled (an element of `phases` in `cost --run`'s JSON).
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReconciliation {
    /// The spec's phase name.
    pub name: String,
    /// Its planned, actual and variance, flattened into the JSON object.
    #[serde(flatten)]
    pub totals: Totals,
    /// One figure per component.
    pub components: Vec<Figure>,
}

/// Planned, actual and their difference.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Totals {
    /// The estimate's cost, USD.
    #[serde(serialize_with = "ser")]
    pub planned_usd: f64,
    /// What the run cost, USD.
    #[serde(serialize_with = "ser")]
    pub actual_usd: f64,
    /// Actual − planned, USD.
    #[serde(serialize_with = "ser")]
    pub variance_usd: f64,
}

impl Totals {
    fn new(planned: f64, actual: f64) -> Totals {
        Totals {
            planned_usd: round6(planned),
            actual_usd: round6(actual),
            variance_usd: round6(actual - planned),
        }
    }
}

/// One run priced against its plan: what `cost --run` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    /// The spec's stack name.
    pub stack: String,
    /// Which price sheet priced it (the run's recorded one).
    pub price_sheet: SheetRef,
    /// The run's planned, actual and variance, flattened into the JSON object.
    #[serde(flatten)]
    pub totals: Totals,
    /// Whether the monthly free transfer-out allowance was deducted.
    pub free_allowance_applied: bool,
    /// One per phase, in the spec's order.
    pub phases: Vec<PhaseReconciliation>,
    /// Shared resources priced from creation to deletion (not part of the totals above, which
    /// price the run; the difference is what keeping them around cost).
    pub lifetimes: Vec<LifetimeCost>,
}

fn billed_hours(secs: &[f64]) -> f64 {
    billed_attempts_secs(secs) / 3600.0
}

/// Reconciles one run. Compute: instance-hours planned (the planned duration, 60 s minimum)
/// against billed (every attempt, 60 s minimum each) at the sheet's rate. Storage (shared,
/// allocated to phases by time overlap): the phase's share per planned hour, over its actual
/// wall time. Network: the spec's planned transfer (not measured by a run).
pub fn reconcile(
    spec: &Spec,
    prices: &PriceSheet,
    actual: &[ActualPhase],
    opts: Options,
    lifetimes: &[Lifetime],
) -> Reconciliation {
    let est = estimate(spec, prices, opts);
    let mut phases = Vec::new();
    for (phase, planned) in spec.phases.iter().zip(&est.phases) {
        let ran = actual.iter().find(|a| a.name == phase.name);
        let figures: Vec<Figure> = [
            compute_figure(spec, prices, phase, ran),
            fallback_figure(spec, prices, phase, ran),
            storage_figure(phase, planned, ran),
            network_figure(phase, planned, opts),
        ]
        .into_iter()
        .flatten()
        .collect();
        let p: f64 = figures.iter().map(|f| f.planned_usd).sum();
        let a: f64 = figures.iter().map(|f| f.actual_usd).sum();
        phases.push(PhaseReconciliation {
            name: phase.name.clone(),
            totals: Totals::new(p, a),
            components: figures,
        });
    }
    let planned: f64 = phases.iter().map(|p| p.totals.planned_usd).sum();
    let actual_total: f64 = phases.iter().map(|p| p.totals.actual_usd).sum();
    Reconciliation {
        stack: spec.stack.name.clone(),
        price_sheet: est.price_sheet,
        totals: Totals::new(planned, actual_total),
        free_allowance_applied: opts.free_allowance,
        phases,
        lifetimes: lifetimes
            .iter()
            .filter_map(|l| price_lifetime(spec, prices, l))
            .collect(),
    }
}

/// Compute: the planned instance-hours against those billed for every attempt, at the sheet's
/// rate or the Spot rate measured for the run.
fn compute_figure(
    spec: &Spec,
    prices: &PriceSheet,
    phase: &Phase,
    ran: Option<&ActualPhase>,
) -> Option<Figure> {
    let Priced {
        placement: pl,
        rate,
        concurrent: n,
    } = priced(spec, phase, prices)?;
    let pq = n * billed_hours(&[phase.duration.secs() as f64]);
    // a multi-node phase bills one instance per node it ran on
    let ran_n = match ran.and_then(|r| r.nodes) {
        Some(nodes) if phase.array_size.is_none() => f64::from(nodes.max(1)),
        _ => n,
    };
    let aq = ran.map_or(pq, |r| ran_n * billed_hours(&r.attempt_secs));
    let attempts = ran.map_or(0, |r| r.attempt_secs.len());
    let measured = ran
        .and_then(|r| r.measured_rate.as_ref())
        .filter(|_| pl.purchase == Purchase::Spot);
    let rate_note = match measured {
        Some(m) => format!("; {}", m.note),
        None if rate.assumed => "; Spot rate assumed by the sheet".into(),
        None => String::new(),
    };
    Some(Figure::new(
        Component::Compute,
        if ran.is_some() && (measured.is_some() || !rate.assumed) {
            Basis::Reconciled
        } else {
            Basis::Estimate
        },
        "instance-hours",
        pq,
        aq,
        rate.usd,
        measured.map_or(rate.usd, |m| m.usd),
        format!(
            "{} × {} {}, {attempts} attempt(s){rate_note}",
            ran_n,
            pl.instance_type,
            pl.purchase.label(),
        ),
    ))
}

/// Compute on the fallback queue: nothing planned, every attempt there billed at that queue's
/// rate (a switch the plan did not foresee is all variance).
fn fallback_figure(
    spec: &Spec,
    prices: &PriceSheet,
    phase: &Phase,
    ran: Option<&ActualPhase>,
) -> Option<Figure> {
    let fb = ran?.fallback.as_ref()?;
    let Priced {
        placement: pl,
        rate,
        concurrent: n,
    } = priced(spec, &variant::on_queue(phase, &fb.queue), prices)?;
    let figure = Figure::new(
        Component::Compute,
        if rate.assumed {
            Basis::Estimate
        } else {
            Basis::Reconciled
        },
        "instance-hours",
        0.0,
        n * billed_hours(&fb.attempt_secs),
        rate.usd,
        rate.usd,
        format!(
            "fallback to queue {:?}: {n} × {} {}, {} attempt(s)",
            fb.queue,
            pl.instance_type,
            pl.purchase.label(),
            fb.attempt_secs.len()
        ),
    );
    Some(Figure {
        fallback_queue: Some(fb.queue.clone()),
        ..figure
    })
}

/// Storage: the phase's share of the shared storage per planned hour, over its wall time.
fn storage_figure(phase: &Phase, planned: &PhaseCost, ran: Option<&ActualPhase>) -> Option<Figure> {
    let planned_h = phase.duration.secs() as f64 / 3600.0;
    if planned.storage_usd > 0.0 && planned_h > 0.0 {
        let rate = planned.storage_usd / planned_h;
        let aq = ran
            .and_then(|r| r.wall_secs)
            .map_or(planned_h, |s| s / 3600.0);
        return Some(Figure::new(
            Component::Storage,
            if ran.is_some_and(|r| r.wall_secs.is_some()) {
                Basis::Reconciled
            } else {
                Basis::Estimate
            },
            "phase-hours of shared storage",
            planned_h,
            aq,
            rate,
            rate,
            "FSx and S3 allocated by time overlap, over the phase's wall time".into(),
        ));
    }
    None
}

/// Network: the planned transfer out (a run does not measure it).
fn network_figure(phase: &Phase, planned: &PhaseCost, opts: Options) -> Option<Figure> {
    if planned.network_usd > 0.0 {
        let gb = phase.data_out.gb();
        let rate = if gb > 0.0 {
            planned.network_usd / gb
        } else {
            planned.network_usd
        };
        let q = if gb > 0.0 { gb } else { 1.0 };
        return Some(Figure::new(
            Component::Network,
            Basis::Estimate,
            "GB out",
            q,
            q,
            rate,
            rate,
            if opts.free_allowance {
                "planned transfer, after the free allowance; a run does not measure it".into()
            } else {
                "planned transfer; a run does not measure it".into()
            },
        ));
    }
    None
}

/// Prices a shared resource for its whole life: FSx per GB-month of its capacity, a NAT
/// gateway per hour.
fn price_lifetime(spec: &Spec, prices: &PriceSheet, l: &Lifetime) -> Option<LifetimeCost> {
    let (unit, rate, note) = match l.kind.as_str() {
        "fsx" => {
            let f = spec.fsx.as_ref()?;
            let gb = f.capacity.gib();
            let r = prices.fsx(f.deployment_type.as_aws(), f.throughput_per_tib)?;
            (
                "hours",
                r.usd * gb / crate::prices::HOURS_PER_MONTH,
                format!("{gb:.0} GB × {:.4} $/GB-month, by the second", r.usd),
            )
        }
        "nat-gateway" => {
            let r = prices.nat_hour()?;
            (
                "hours",
                r.usd,
                "per hour it exists, data processed not included".into(),
            )
        }
        _ => return None,
    };
    let idle = (l.hours - l.run_hours).max(0.0);
    Some(LifetimeCost {
        lifetime: l.clone(),
        unit,
        rate,
        usd: rate * l.hours,
        idle_usd: rate * idle,
        note: if l.until.is_none() {
            format!("{note}; still exists: priced up to now")
        } else {
            note
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_and_price_variance_add_up_to_the_variance() {
        let f = Figure::new(
            Component::Compute,
            Basis::Reconciled,
            "h",
            2.0,
            3.5,
            0.5,
            0.42,
            String::new(),
        );
        assert!((f.quantity_variance_usd - 0.75).abs() < 1e-12);
        assert!((f.price_variance_usd - (-0.28)).abs() < 1e-12);
        assert!((f.quantity_variance_usd + f.price_variance_usd - f.variance_usd).abs() < 1e-12);
        assert!((f.variance_usd - (3.5 * 0.42 - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn every_attempt_is_billed_with_the_minimum() {
        assert!((billed_hours(&[10.0, 120.0]) - 180.0 / 3600.0).abs() < 1e-12);
    }
}
