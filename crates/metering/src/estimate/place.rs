//! What EC2 bills and where a phase runs: the 60-second minimum per instance and attempt,
//! the instance type a phase is placed on (and how many, in how many waves), and the
//! compute cost of attempts that ran.

use pipectl_spec::Spec;
use pipectl_spec::instances;
use pipectl_spec::model::{Phase, Purchase};

use crate::money::round6;
use crate::prices::{PriceSheet, Rate};

/// EC2 bills Linux instances per second with a 60-second minimum.
pub const MIN_BILLED_SECS: f64 = 60.0;

/// Seconds EC2 bills for one instance that ran `secs` (the 60-second minimum applied).
pub fn billed_secs(secs: f64) -> f64 {
    secs.max(MIN_BILLED_SECS)
}

/// Seconds EC2 bills for attempts that ran `attempt_secs`, each billed separately.
pub fn billed_attempts_secs(attempt_secs: &[f64]) -> f64 {
    // a fold from +0.0: `sum` of no f64 is -0.0
    attempt_secs
        .iter()
        .copied()
        .map(billed_secs)
        .fold(0.0, |a, b| a + b)
}

/// Where a phase runs: the first compute environment of its queue that has a type the job
/// fits on, and there the cheapest such type.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The cheapest type of that environment the job fits on.
    pub instance_type: String,
    /// Spot or On-Demand, as that environment buys.
    pub purchase: Purchase,
    /// Instances billed (each for `wall_secs / waves`).
    pub instances: u32,
    /// How many rounds the array's children need (1 unless the environment's max vCPUs caps them).
    pub waves: u32,
    /// The phase's wall time in seconds: its planned duration times `waves`.
    pub wall_secs: f64,
}

/// Places a phase; `None` if no environment of its queue has a priced type it fits on.
pub fn place(spec: &Spec, phase: &Phase, prices: &PriceSheet) -> Option<Placement> {
    let queue = spec.job_queues.get(&phase.queue)?;
    let mem = phase.memory.mib().ceil() as u64;
    for ce in queue
        .compute_environments
        .iter()
        .filter_map(|c| spec.compute_environments.get(c))
    {
        let price = |t: &str| match ce.purchase {
            Purchase::Spot => prices.spot(t),
            Purchase::OnDemand => prices.on_demand(t),
        };
        let fitting = ce.instance_types.iter().filter(|t| {
            instances::lookup(t).is_none_or(|f| {
                f.vcpus >= phase.vcpus && f.memory_mib >= mem && f.gpus >= phase.gpus
            })
        });
        let Some(best) = fitting.min_by(|a, b| {
            let pa = price(a).map_or(f64::INFINITY, |r| r.usd);
            let pb = price(b).map_or(f64::INFINITY, |r| r.usd);
            pa.total_cmp(&pb)
        }) else {
            continue;
        };
        let duration = phase.duration.secs() as f64;
        let (instances, waves) = match (phase.array_size, instances::lookup(best)) {
            (Some(children), facts) => {
                // Children pack onto instances by vCPU, memory and GPU; the CE's max vCPUs
                // caps how many instances run at once.
                let per_instance = facts.map_or(1, |f| {
                    let by_cpu = f.vcpus / phase.vcpus.max(1);
                    let by_mem = (f.memory_mib / mem.max(1)) as u32;
                    // a CPU-only child is not limited by GPUs
                    let by_gpu = f.gpus.checked_div(phase.gpus).unwrap_or(u32::MAX);
                    by_cpu.min(by_mem).min(by_gpu).max(1)
                });
                let concurrent = facts.map_or(1, |f| (ce.max_vcpus / f.vcpus.max(1)).max(1));
                let instances = children.div_ceil(per_instance);
                (instances, instances.div_ceil(concurrent))
            }
            (None, _) => (phase.nodes.max(1), 1),
        };
        return Some(Placement {
            instance_type: best.clone(),
            purchase: ce.purchase,
            instances,
            waves,
            wall_secs: duration * f64::from(waves),
        });
    }
    None
}

/// A phase placed and priced: where it runs, the rate of that instance type as its compute
/// environment buys it, and how many instances run at once.
#[derive(Debug, Clone)]
pub struct Priced {
    /// Where it runs.
    pub placement: Placement,
    /// USD per instance-hour, Spot or On-Demand as the environment buys.
    pub rate: Rate,
    /// Instances billed at once (the placement's instances over its waves).
    pub concurrent: f64,
}

/// Places and prices a phase; `None` when it cannot be placed or the sheet has no price for
/// its instance type.
pub fn priced(spec: &Spec, phase: &Phase, prices: &PriceSheet) -> Option<Priced> {
    let placement = place(spec, phase, prices)?;
    let rate = match placement.purchase {
        Purchase::Spot => prices.spot(&placement.instance_type),
        Purchase::OnDemand => prices.on_demand(&placement.instance_type),
    }?;
    let concurrent = f64::from((placement.instances / placement.waves.max(1)).max(1));
    Some(Priced {
        placement,
        rate,
        concurrent,
    })
}

/// Compute cost of a phase that ran: each attempt billed separately (60 s minimum) on the
/// instances its placement needs, at its compute environment's price (Spot or On-Demand).
/// `None` when the sheet has no price for its instance type.
pub fn compute_usd(
    spec: &Spec,
    phase: &Phase,
    prices: &PriceSheet,
    attempt_secs: &[f64],
) -> Option<f64> {
    let p = priced(spec, phase, prices)?;
    let billed = billed_attempts_secs(attempt_secs);
    Some(round6(p.rate.usd * p.concurrent * billed / 3600.0))
}
