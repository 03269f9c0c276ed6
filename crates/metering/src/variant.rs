//! Variants of a spec for what-if pricing: the same pipeline with other durations, another way
//! of buying a phase's instances, another instance type, less data out. Every scenario,
//! sensitivity and recommendation is priced by running the one cost model ([`estimate`]) on
//! such a variant, so that a saving is always the difference of two estimates.
//!
//! [`estimate`]: crate::estimate::estimate

use pipectl_spec::Spec;
use pipectl_spec::model::{Phase, Purchase};
use pipectl_spec::units::{Duration, Size};

/// The compute environments a phase's queue can place it on.
pub fn phase_ces(spec: &Spec, phase: &str) -> Vec<String> {
    spec.phase(phase)
        .and_then(|p| spec.job_queues.get(&p.queue))
        .map(|q| q.compute_environments.clone())
        .unwrap_or_default()
}

/// The phases (other than `phase`) whose queues share a compute environment with it: changing
/// that environment changes them too.
pub fn sharing_phases(spec: &Spec, phase: &str) -> Vec<String> {
    let mine = phase_ces(spec, phase);
    spec.phases
        .iter()
        .filter(|p| p.name != phase)
        .filter(|p| phase_ces(spec, &p.name).iter().any(|c| mine.contains(c)))
        .map(|p| p.name.clone())
        .collect()
}

/// The phase as it would run on another of the spec's queues (its fallback): priced there.
pub fn on_queue(phase: &Phase, queue: &str) -> Phase {
    Phase {
        queue: queue.to_string(),
        ..phase.clone()
    }
}

/// `spec` with each named phase run on the given number of nodes.
pub fn with_nodes(spec: &Spec, nodes: &std::collections::BTreeMap<String, u32>) -> Spec {
    let mut s = spec.clone();
    for p in &mut s.phases {
        if let Some(&n) = nodes.get(&p.name) {
            p.nodes = n.max(1);
        }
    }
    s
}

/// `spec` with each named phase's planned duration replaced (seconds, rounded).
pub fn with_durations(spec: &Spec, durations: &[(String, f64)]) -> Spec {
    let mut s = spec.clone();
    for p in &mut s.phases {
        if let Some((_, secs)) = durations.iter().find(|(n, _)| n == &p.name) {
            p.duration = Duration::from_secs(secs.round().max(1.0) as u64);
        }
    }
    s
}

/// `spec` with the compute environments of `phase` bought as `purchase`.
pub fn with_purchase(spec: &Spec, phase: &str, purchase: Purchase) -> Spec {
    let mut s = spec.clone();
    for ce in phase_ces(spec, phase) {
        if let Some(c) = s.compute_environments.get_mut(&ce) {
            c.purchase = purchase;
        }
    }
    s
}

/// `spec` with every compute environment that can be Spot bought as Spot (multi-node jobs
/// cannot run on Spot in Batch, so their environments stay as they are).
pub fn all_spot(spec: &Spec) -> Spec {
    let mut s = spec.clone();
    for p in spec.phases.iter().filter(|p| p.nodes <= 1) {
        s = with_purchase(&s, &p.name, Purchase::Spot);
    }
    s
}

/// `spec` with the compute environments of `phase` offering only `instance_type`, and the
/// phase's memory request set to `memory` when given.
pub fn with_instance_type(
    spec: &Spec,
    phase: &str,
    instance_type: &str,
    memory: Option<Size>,
) -> Spec {
    let mut s = spec.clone();
    for ce in phase_ces(spec, phase) {
        if let Some(c) = s.compute_environments.get_mut(&ce) {
            c.instance_types = vec![instance_type.to_string()];
        }
    }
    if let Some(m) = memory
        && let Some(p) = s.phases.iter_mut().find(|p| p.name == phase)
    {
        p.memory = m;
    }
    s
}

/// `spec` with no phase sending data out of AWS.
pub fn without_egress(spec: &Spec) -> Spec {
    let mut s = spec.clone();
    for p in &mut s.phases {
        p.data_out = Size::from_bytes(0);
    }
    s
}

/// `spec` with one input scaled by `factor`.
pub fn scaled(spec: &Spec, input: &Input, factor: f64) -> Spec {
    let mut s = spec.clone();
    match input {
        Input::Duration(name) => {
            if let Some(p) = s.phases.iter_mut().find(|p| &p.name == name) {
                let secs = p.duration.secs() as f64 * factor;
                p.duration = Duration::from_secs(secs.round().max(1.0) as u64);
            }
        }
        Input::DataOut(name) => {
            if let Some(p) = s.phases.iter_mut().find(|p| &p.name == name) {
                p.data_out = Size::from_bytes((p.data_out.bytes() as f64 * factor).round() as u64);
            }
        }
        Input::BucketSizes => {
            for b in s.buckets.values_mut() {
                b.size = Size::from_bytes((b.size.bytes() as f64 * factor).round() as u64);
            }
        }
        Input::Price(_) => {}
    }
    s
}

/// An input of the cost model that a sensitivity analysis varies.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A phase's planned run time.
    Duration(String),
    /// A phase's data sent out of AWS.
    DataOut(String),
    /// The stored size of every bucket.
    BucketSizes,
    /// A price of the sheet.
    Price(crate::prices::PriceKey),
}
