//! The cost charts: Spot against On-Demand per phase, the component breakdown, the
//! plan-to-actual waterfall, cost per job and per item, and the CloudWatch values.

use pipectl_metering::estimate::Component;
use pipectl_metering::money::{signed_usd, tidy};
use pipectl_metering::prices::Offer;

use super::Chart;
use super::draw::{DOWN, PALETTE, PLAN, Series, UP, bars, chart, empty};
use crate::Report;

pub(super) fn spot_vs_on_demand(r: &Report) -> Chart {
    let title = "Spot against On-Demand: compute per run";
    let cats: Vec<String> = r.offers.iter().map(|o| o.phase.clone()).collect();
    let pick = |offer: Offer| -> Vec<(usize, f64, f64)> {
        r.offers
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                o.offers
                    .iter()
                    .find(|x| x.offer == offer)
                    .and_then(|x| x.per_run_usd)
                    .map(|v| (i, 0.0, v))
            })
            .collect()
    };
    if cats.is_empty() {
        return empty("spot", title, "no phase could be placed".into());
    }
    let series = [
        Series {
            name: "Spot".into(),
            color: PALETTE[1],
            spans: pick(Offer::Spot),
        },
        Series {
            name: "On-Demand".into(),
            color: PALETTE[0],
            spans: pick(Offer::OnDemand),
        },
    ];
    let assumed = r
        .offers
        .iter()
        .any(|o| o.offers.iter().any(|x| x.offer == Offer::Spot && x.assumed));
    let caption = format!(
        "Per run at the planned durations. {}",
        if assumed {
            "Spot rates here are the price sheet's assumption; the reconciliation uses the Spot price history where AWS answered."
        } else {
            "Spot rates from the price sheet."
        }
    );
    chart(
        "spot",
        title,
        bars(title, "USD per run", &cats, &series, true),
        caption,
    )
}

pub(super) fn components(r: &Report) -> Chart {
    let title = "Cost by component and phase (actual)";
    let cats: Vec<String> = r
        .reconciliation
        .phases
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let mut series: Vec<Series> = [Component::Compute, Component::Storage, Component::Network]
        .iter()
        .enumerate()
        .map(|(k, c)| Series {
            name: format!("{c:?}").to_lowercase(),
            color: PALETTE[k],
            spans: Vec::new(),
        })
        .collect();
    for (i, p) in r.reconciliation.phases.iter().enumerate() {
        let mut base = 0.0;
        for (k, c) in [Component::Compute, Component::Storage, Component::Network]
            .iter()
            .enumerate()
        {
            let v: f64 = p
                .components
                .iter()
                .filter(|f| f.component == *c)
                .map(|f| f.actual_usd)
                .sum();
            if v > 0.0 {
                series[k].spans.push((i, base, base + v));
                base += v;
            }
        }
    }
    chart(
        "components",
        title,
        bars(title, "USD", &cats, &series, false),
        "Stacked: compute, shared storage allocated by time overlap, transfer out.".into(),
    )
}

pub(super) fn waterfall(r: &Report) -> Chart {
    let title = "Plan to actual: variance by phase";
    let rec = &r.reconciliation;
    let mut cats = vec!["planned".to_string()];
    let mut plan = vec![(0, 0.0, rec.totals.planned_usd)];
    let (mut up, mut down) = (Vec::new(), Vec::new());
    let mut level = rec.totals.planned_usd;
    for (i, p) in rec.phases.iter().enumerate() {
        cats.push(p.name.clone());
        let v = p.totals.variance_usd;
        let span = (i + 1, level.min(level + v), level.max(level + v));
        if v >= 0.0 {
            up.push(span);
        } else {
            down.push(span);
        }
        level += v;
    }
    cats.push("actual".into());
    plan.push((cats.len() - 1, 0.0, rec.totals.actual_usd));
    let series = [
        Series {
            name: "total".into(),
            color: PLAN,
            spans: plan,
        },
        Series {
            name: "over plan".into(),
            color: UP,
            spans: up,
        },
        Series {
            name: "under plan".into(),
            color: DOWN,
            spans: down,
        },
    ];
    chart(
        "waterfall",
        title,
        bars(title, "USD", &cats, &series, false),
        format!(
            "Planned ${:.4}, actual ${:.4}, variance {}.",
            tidy(rec.totals.planned_usd, 4),
            tidy(rec.totals.actual_usd, 4),
            signed_usd(rec.totals.variance_usd, 4)
        ),
    )
}

pub(super) fn per_job(r: &Report) -> Chart {
    let title = "Cost per job and per item";
    let rec = &r.reconciliation;
    let cats: Vec<String> = rec.phases.iter().map(|p| p.name.clone()).collect();
    let attempts = |p: &str| r.jobs.iter().filter(|j| j.phase == p).count().max(1);
    let per_job: Vec<(usize, f64, f64)> = rec
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| (i, 0.0, p.totals.actual_usd / attempts(&p.name) as f64))
        .collect();
    let items: Vec<String> = r
        .items
        .iter()
        .filter_map(|(phase, n)| {
            let p = rec.phases.iter().find(|p| &p.name == phase)?;
            Some(format!(
                "{phase}: ${:.6} per item ({n} items)",
                tidy(p.totals.actual_usd / *n as f64, 6)
            ))
        })
        .collect();
    let series = [Series {
        name: String::new(),
        color: PALETTE[0],
        spans: per_job,
    }];
    chart(
        "per-job",
        title,
        bars(title, "USD per attempt", &cats, &series, false),
        if items.is_empty() {
            "Actual cost of each phase divided by its attempts. No phase declares `items`, so there is no cost per item.".into()
        } else {
            format!(
                "Actual cost of each phase divided by its attempts. {}.",
                items.join("; ")
            )
        },
    )
}

pub(super) fn metrics(r: &Report) -> Chart {
    let title = "CloudWatch: the run's metrics";
    if r.metrics.is_empty() {
        return empty(
            "metrics",
            title,
            "CloudWatch returned no values for this run (see the notes).".into(),
        );
    }
    let mut names: Vec<&str> = r.metrics.iter().map(|m| m.metric.as_str()).collect();
    names.sort();
    names.dedup();
    let mut phases: Vec<String> = r.metrics.iter().filter_map(|m| m.phase.clone()).collect();
    phases.sort();
    phases.dedup();
    // Seconds on one chart; the counts and costs are in the table below it.
    let series: Vec<Series> = names
        .iter()
        .filter(|n| {
            r.metrics
                .iter()
                .any(|m| &m.metric == *n && m.unit == "Seconds")
        })
        .enumerate()
        .map(|(k, n)| Series {
            name: n.to_string(),
            color: PALETTE[k % PALETTE.len()],
            spans: r
                .metrics
                .iter()
                .filter(|m| &m.metric == n)
                .filter_map(|m| {
                    let i = phases.iter().position(|p| Some(p) == m.phase.as_ref())?;
                    Some((i, 0.0, m.value))
                })
                .collect(),
        })
        .collect();
    if series.is_empty() {
        return empty("metrics", title, "no time metrics in CloudWatch".into());
    }
    chart(
        "metrics",
        title,
        bars(title, "seconds", &phases, &series, true),
        "Read back from CloudWatch (namespace Pipectl), as the stack's dashboard shows them."
            .into(),
    )
}
