//! The cost model: what one run of a spec's pipeline costs with a given price sheet, by
//! phase and component, with the all-On-Demand baseline and the saving against it.
//!
//! Compute is priced per instance-second with EC2's 60-second minimum; FSx and S3 per
//! GB-month prorated to the pipeline's length; transfer out per GB (the free allowance only
//! when asked); NAT gateway or interface endpoints per hour and GB. Shared costs are
//! allocated to phases by [`Allocation`].

use serde::Serialize;

use pipectl_spec::instances;
use pipectl_spec::model::{Egress, Phase, Purchase};
use pipectl_spec::{Spec, graph::interface_endpoints};

use crate::allocate::{Allocation, weights};
use crate::checks;
use crate::money::{round6, ser, ser_opt};
use crate::prices::{HOURS_PER_MONTH, PriceSheet, Rate};
use crate::schedule::schedule;

/// EC2 bills Linux instances per second with a 60-second minimum.
pub const MIN_BILLED_SECS: f64 = 60.0;

/// Seconds EC2 bills for one instance that ran `secs` (the 60-second minimum applied).
pub fn billed_secs(secs: f64) -> f64 {
    secs.max(MIN_BILLED_SECS)
}

/// Seconds EC2 bills for attempts that ran `attempt_secs`, each billed separately.
pub fn billed_attempts_secs(attempt_secs: &[f64]) -> f64 {
    attempt_secs.iter().copied().map(billed_secs).sum()
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub allocation: Allocation,
    /// Apply the account's monthly free transfer-out allowance to this pipeline.
    pub free_allowance: bool,
    /// How long the FSx file system lives.
    pub fsx_release: FsxRelease,
}

/// When the FSx file system is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FsxRelease {
    /// At the end of the pipeline (what `pipectl down` after a run does).
    #[default]
    EndOfPipeline,
    /// As soon as the last phase that mounts it has ended.
    AfterLastUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Compute,
    Storage,
    Network,
}

/// One priced (or unpriceable) item.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub component: Component,
    pub item: String,
    /// The phase this is a direct cost of; `None` for shared costs.
    pub phase: Option<String>,
    pub quantity: f64,
    pub unit: &'static str,
    /// How the quantity was reached, e.g. "1 × 35m".
    pub basis: String,
    pub rate: Option<Rate>,
    pub rate_unit: &'static str,
    #[serde(serialize_with = "ser_opt")]
    pub usd: Option<f64>,
    /// Why it matters, e.g. that the source's model left it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseCost {
    pub name: String,
    pub start_minutes: f64,
    pub duration_minutes: f64,
    pub instance_type: String,
    pub purchase: Purchase,
    /// Instances billed for the phase (nodes, or array children packed onto instances).
    pub instances: u32,
    #[serde(serialize_with = "ser")]
    pub compute_usd: f64,
    #[serde(serialize_with = "ser")]
    pub storage_usd: f64,
    #[serde(serialize_with = "ser")]
    pub network_usd: f64,
    #[serde(serialize_with = "ser")]
    pub subtotal_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    #[serde(serialize_with = "ser_opt", skip_serializing_if = "Option::is_none")]
    pub usd_per_item: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Components {
    #[serde(serialize_with = "ser")]
    pub compute: f64,
    #[serde(serialize_with = "ser")]
    pub storage: f64,
    #[serde(serialize_with = "ser")]
    pub network: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SheetRef {
    pub name: String,
    pub path: Option<String>,
    pub date: String,
    pub region: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteLevel {
    Info,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub level: NoteLevel,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub stack: String,
    pub region: String,
    pub price_sheet: SheetRef,
    pub allocation: Allocation,
    pub free_allowance_applied: bool,
    pub makespan_minutes: f64,
    #[serde(serialize_with = "ser")]
    pub total_usd: f64,
    /// False when some item could not be priced: the total then leaves it out.
    pub complete: bool,
    pub components: Components,
    pub phases: Vec<PhaseCost>,
    /// The same pipeline with every instance On-Demand, priced from the same sheet.
    #[serde(serialize_with = "ser_opt")]
    pub baseline_on_demand_total_usd: Option<f64>,
    #[serde(serialize_with = "ser_opt")]
    pub savings_usd: Option<f64>,
    #[serde(serialize_with = "ser_opt")]
    pub savings_pct: Option<f64>,
    pub lines: Vec<Line>,
    pub unpriced: Vec<String>,
    pub notes: Vec<Note>,
}

/// Where a phase runs: the first compute environment of its queue that has a type the job
/// fits on, and there the cheapest such type.
#[derive(Debug, Clone)]
pub struct Placement {
    pub instance_type: String,
    pub purchase: Purchase,
    /// Instances billed (each for `wall_secs / waves`).
    pub instances: u32,
    pub waves: u32,
    pub wall_secs: f64,
}

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
            wall_secs: duration * waves as f64,
        });
    }
    None
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
    let placed = place(spec, phase, prices)?;
    let rate = match placed.purchase {
        Purchase::Spot => prices.spot(&placed.instance_type),
        Purchase::OnDemand => prices.on_demand(&placed.instance_type),
    }?;
    let concurrent = (placed.instances / placed.waves.max(1)).max(1) as f64;
    let billed = billed_attempts_secs(attempt_secs);
    Some(round6(rate.usd * concurrent * billed / 3600.0))
}

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

/// The priced lines of one run, before allocation.
pub(crate) struct Run {
    pub lines: Vec<Line>,
    pub placements: Vec<Option<Placement>>,
    pub intervals: Vec<(f64, f64)>,
}

impl Run {
    pub fn total(&self) -> f64 {
        self.lines.iter().filter_map(|l| l.usd).sum()
    }
    pub fn compute_priced(&self) -> bool {
        self.lines
            .iter()
            .filter(|l| l.component == Component::Compute)
            .all(|l| l.usd.is_some())
    }
}

fn price_run(spec: &Spec, prices: &PriceSheet, opts: Options, all_on_demand: bool) -> Run {
    let mut lines = Vec::new();
    let placements: Vec<Option<Placement>> =
        spec.phases.iter().map(|p| place(spec, p, prices)).collect();
    let wall: Vec<f64> = spec
        .phases
        .iter()
        .zip(&placements)
        .map(|(p, pl)| {
            pl.as_ref()
                .map_or(p.duration.secs() as f64, |pl| pl.wall_secs)
        })
        .collect();
    let intervals = schedule(spec, &wall);
    let makespan_h = intervals.iter().map(|i| i.1).fold(0.0, f64::max) / 3600.0;

    // Compute: direct, per phase.
    for (phase, placement) in spec.phases.iter().zip(&placements) {
        let Some(pl) = placement else {
            lines.push(Line {
                component: Component::Compute,
                item: format!(
                    "{}: no instance type of queue {:?} fits",
                    phase.name, phase.queue
                ),
                phase: Some(phase.name.clone()),
                quantity: 0.0,
                unit: "instance-hours",
                basis: String::new(),
                rate: None,
                rate_unit: "per hour",
                usd: None,
                note: None,
            });
            continue;
        };
        let purchase = if all_on_demand {
            Purchase::OnDemand
        } else {
            pl.purchase
        };
        let rate = match purchase {
            Purchase::Spot => prices.spot(&pl.instance_type),
            Purchase::OnDemand => prices.on_demand(&pl.instance_type),
        };
        let per_instance_secs = billed_secs(phase.duration.secs() as f64);
        let hours = pl.instances as f64 * per_instance_secs / 3600.0;
        let label = match purchase {
            Purchase::Spot => "Spot",
            Purchase::OnDemand => "On-Demand",
        };
        lines.push(Line {
            component: Component::Compute,
            item: format!("{}: {} {label}", phase.name, pl.instance_type),
            phase: Some(phase.name.clone()),
            quantity: hours,
            unit: "instance-hours",
            basis: format!("{} × {}", pl.instances, phase.duration),
            usd: rate.as_ref().map(|r| r.usd * hours),
            rate,
            rate_unit: "per hour",
            note: None,
        });
    }

    // Storage: shared, for the pipeline's length.
    if let Some(f) = &spec.fsx {
        let gb = f.capacity.gib(); // FSx bills provisioned GiB as "GB"
        let fsx_h = match opts.fsx_release {
            FsxRelease::EndOfPipeline => makespan_h,
            FsxRelease::AfterLastUse => {
                spec.phases
                    .iter()
                    .zip(&intervals)
                    .filter(|(p, _)| spec.phase_uses_fsx(p))
                    .map(|(_, i)| i.1)
                    .fold(0.0, f64::max)
                    / 3600.0
            }
        };
        let months = fsx_h / HOURS_PER_MONTH;
        let rate = prices.fsx(f.deployment_type.as_aws(), f.throughput_per_tib);
        let tier = f
            .throughput_per_tib
            .map(|t| format!("/{t}"))
            .unwrap_or_default();
        lines.push(Line {
            component: Component::Storage,
            item: format!(
                "FSx for Lustre {}{tier} {}",
                f.deployment_type.as_aws(),
                f.capacity
            ),
            phase: None,
            quantity: gb * months,
            unit: "GB-months",
            basis: format!("{gb:.0} GB × {fsx_h:.2} h"),
            usd: rate.as_ref().map(|r| r.usd * gb * months),
            rate,
            rate_unit: "per GB-month",
            note: None,
        });
    }
    if !spec.buckets.is_empty() {
        let gb: f64 = spec.buckets.values().map(|b| b.size.gb()).sum();
        let months = makespan_h / HOURS_PER_MONTH;
        let rate = prices.s3_standard();
        lines.push(Line {
            component: Component::Storage,
            item: format!("S3 Standard, {} buckets", spec.buckets.len()),
            phase: None,
            quantity: gb * months,
            unit: "GB-months",
            basis: format!("{gb:.1} GB × {makespan_h:.2} h"),
            usd: rate.as_ref().map(|r| r.usd * gb * months),
            rate,
            rate_unit: "per GB-month",
            note: None,
        });
    }

    // Network: transfer out is direct per phase; the allowance is taken off in phase order.
    let rate = prices.transfer_out();
    let mut allowance = if opts.free_allowance {
        prices.data_transfer.free_allowance_gb.unwrap_or(0.0)
    } else {
        0.0
    };
    for phase in spec.phases.iter().filter(|p| p.data_out.bytes() > 0) {
        let gb = phase.data_out.gb();
        let free = allowance.min(gb);
        allowance -= free;
        let billable = gb - free;
        lines.push(Line {
            component: Component::Network,
            item: format!("{}: data transfer out", phase.name),
            phase: Some(phase.name.clone()),
            quantity: billable,
            unit: "GB",
            basis: if free > 0.0 {
                format!("{gb:.1} GB − {free:.1} GB free allowance")
            } else {
                format!("{gb:.1} GB")
            },
            usd: rate.as_ref().map(|r| r.usd * billable),
            rate: rate.clone(),
            rate_unit: "per GB",
            note: None,
        });
    }
    if spec.network.cidr.is_some() {
        let not_in_source = spec
            .stated
            .is_some()
            .then(|| "egress for the private subnets; not in the source's model".to_string());
        match spec.network.egress {
            Egress::NatGateway => {
                let rate = prices.nat_hour();
                lines.push(Line {
                    component: Component::Network,
                    item: "NAT gateway hours".into(),
                    phase: None,
                    quantity: makespan_h,
                    unit: "hours",
                    basis: format!("1 × {makespan_h:.2} h"),
                    usd: rate.as_ref().map(|r| r.usd * makespan_h),
                    rate,
                    rate_unit: "per hour",
                    note: not_in_source.clone(),
                });
                let gb = spec.network.nat_data.map_or(0.0, |s| s.gb());
                if gb > 0.0 {
                    let rate = prices.nat_gb();
                    lines.push(Line {
                        component: Component::Network,
                        item: "NAT gateway data processed".into(),
                        phase: None,
                        quantity: gb,
                        unit: "GB",
                        basis: format!("{gb:.1} GB (network.nat_data)"),
                        usd: rate.as_ref().map(|r| r.usd * gb),
                        rate,
                        rate_unit: "per GB",
                        note: not_in_source,
                    });
                }
            }
            Egress::VpcEndpoints => {
                let zones = spec.network.availability_zones.len() as f64;
                let endpoints = interface_endpoints(spec).len();
                let qty = endpoints as f64 * zones * makespan_h;
                let rate = prices.endpoint_hour();
                lines.push(Line {
                    component: Component::Network,
                    item: format!("{endpoints} interface endpoints × {zones:.0} zones",),
                    phase: None,
                    quantity: qty,
                    unit: "endpoint-zone-hours",
                    basis: format!("{endpoints} × {zones:.0} × {makespan_h:.2} h",),
                    usd: rate.as_ref().map(|r| r.usd * qty),
                    rate,
                    rate_unit: "per hour",
                    note: not_in_source,
                });
            }
            Egress::None => {}
        }
    }
    Run {
        lines,
        placements,
        intervals,
    }
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
