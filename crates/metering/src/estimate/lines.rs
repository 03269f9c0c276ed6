//! The priced lines of one run of a spec, before allocation: compute per phase (on its
//! placement, Spot or On-Demand, or all On-Demand for the baseline), storage shared over the
//! pipeline's length, transfer out per phase, and the private subnets' egress.

use pipectl_spec::model::{Egress, Phase, Purchase};
use pipectl_spec::{Spec, graph::interface_endpoints};

use super::place::{Placement, billed_secs, place};
use super::types::{Component, FsxRelease, Line, Options};
use crate::prices::{HOURS_PER_MONTH, PriceSheet};
use crate::schedule::schedule;

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

pub(crate) fn price_run(
    spec: &Spec,
    prices: &PriceSheet,
    opts: Options,
    all_on_demand: bool,
) -> Run {
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
    let mut lines = Vec::new();
    for (phase, placement) in spec.phases.iter().zip(&placements) {
        lines.push(compute_line(
            phase,
            placement.as_ref(),
            prices,
            all_on_demand,
        ));
    }
    lines.extend(storage_lines(spec, prices, opts, &intervals, makespan_h));
    lines.extend(transfer_lines(spec, prices, opts));
    lines.extend(egress_lines(spec, prices, makespan_h));
    Run {
        lines,
        placements,
        intervals,
    }
}

/// Compute: direct, per phase.
fn compute_line(
    phase: &Phase,
    placement: Option<&Placement>,
    prices: &PriceSheet,
    all_on_demand: bool,
) -> Line {
    let Some(pl) = placement else {
        return Line {
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
        };
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
    let hours = f64::from(pl.instances) * per_instance_secs / 3600.0;
    let label = purchase.label();
    Line {
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
    }
}

/// Storage: shared, for the pipeline's length.
fn storage_lines(
    spec: &Spec,
    prices: &PriceSheet,
    opts: Options,
    intervals: &[(f64, f64)],
    makespan_h: f64,
) -> Vec<Line> {
    let mut lines = Vec::new();
    if let Some(f) = &spec.fsx {
        let gb = f.capacity.gib(); // FSx bills provisioned GiB as "GB"
        let fsx_h = match opts.fsx_release {
            FsxRelease::EndOfPipeline => makespan_h,
            FsxRelease::AfterLastUse => {
                spec.phases
                    .iter()
                    .zip(intervals)
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
    lines
}

/// Network: transfer out is direct per phase; the allowance is taken off in phase order.
fn transfer_lines(spec: &Spec, prices: &PriceSheet, opts: Options) -> Vec<Line> {
    let rate = prices.transfer_out();
    let mut allowance = if opts.free_allowance {
        prices.data_transfer.free_allowance_gb.unwrap_or(0.0)
    } else {
        0.0
    };
    let mut lines = Vec::new();
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
    lines
}

/// The private subnets' egress: a NAT gateway (hours and data) or interface endpoints.
fn egress_lines(spec: &Spec, prices: &PriceSheet, makespan_h: f64) -> Vec<Line> {
    let mut lines = Vec::new();
    if spec.network.cidr.is_none() {
        return lines;
    }
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
            let gb = spec
                .network
                .nat_data
                .map_or(0.0, pipectl_spec::units::Size::gb);
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
    lines
}
