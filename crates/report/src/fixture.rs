//! A report of the seed pipeline with `jobs` synthetic attempts, for the benchmark and the
//! tests (not for users: the CLI builds reports from run records).

use std::path::Path;

use pipectl_metering::analysis::{Volume, break_evens, offers, scenarios, sensitivity};
use pipectl_metering::reconcile::{ActualPhase, reconcile};
use pipectl_metering::{Options, PriceSheet, advise::advise, estimate};

use crate::{JobBar, MetricValue, Outcome, REPORT_SCHEMA, Report, ScalingPoint};

const SPEC: &str = include_str!("../../../infra-specs/two-hour-pipeline.toml");
const PRICES: &str = include_str!("../../../infra-specs/prices/us-east-1.toml");

pub fn sample(jobs: usize) -> Report {
    let spec = pipectl_spec::load_str(Path::new("two-hour-pipeline.toml"), SPEC.into())
        .expect("the seed spec loads")
        .spec;
    let prices = PriceSheet::parse(Path::new("us-east-1.toml"), PRICES.into()).expect("sheet");
    let opts = Options::default();
    let names: Vec<String> = spec.phases.iter().map(|p| p.name.clone()).collect();
    let mut bars = Vec::with_capacity(jobs);
    let t0 = 1_793_491_200_000i64;
    for i in 0..jobs {
        let phase = &names[i % names.len()];
        let start = t0 + (i as i64) * 1_000;
        bars.push(JobBar {
            phase: phase.clone(),
            attempt: 1 + (i / names.len()) % 2,
            ready_ms: Some(start - 5_000),
            started_ms: start,
            stopped_ms: start + 60_000 + (i as i64 % 7) * 1_000,
            outcome: if i % 50 == 7 {
                Outcome::Interrupted
            } else {
                Outcome::Succeeded
            },
        });
    }
    let actual: Vec<ActualPhase> = spec
        .phases
        .iter()
        .map(|p| ActualPhase {
            name: p.name.clone(),
            attempt_secs: bars
                .iter()
                .filter(|b| b.phase == p.name)
                .map(|b| (b.stopped_ms - b.started_ms) as f64 / 1000.0)
                .collect(),
            wall_secs: Some(p.duration.secs() as f64 * 1.1),
            measured_rate: None,
            nodes: None,
            fallback: None,
        })
        .collect();
    Report {
        schema: REPORT_SCHEMA,
        run_id: "20261101T000000Z-sample".into(),
        stack: spec.stack.name.clone(),
        status: "SUCCEEDED".into(),
        spec_path: "infra-specs/two-hour-pipeline.toml".into(),
        submitted_at: "2026-11-01T00:00:00Z".into(),
        finished_at: Some("2026-11-01T02:00:00Z".into()),
        jobs: bars,
        reconciliation: reconcile(&spec, &prices, &actual, opts, &[]),
        estimate: estimate(&spec, &prices, opts),
        offers: offers(&spec, &prices),
        scenarios: scenarios(
            &spec,
            &prices,
            opts,
            &[
                Volume::RunsPerMonth(1.0),
                Volume::RunsPerMonth(30.0),
                Volume::RunsPerMonth(300.0),
            ],
        ),
        break_evens: break_evens(&spec, &prices, opts),
        sensitivity: sensitivity(&spec, &prices, opts, 20.0),
        advice: advise(&spec, &prices, opts, "plan"),
        scaling: vec![
            ScalingPoint {
                phase: "training".into(),
                nodes: 1,
                seconds: 2100.0,
                usd: Some(0.15),
                run_id: "a".into(),
            },
            ScalingPoint {
                phase: "training".into(),
                nodes: 2,
                seconds: 1200.0,
                usd: Some(0.17),
                run_id: "b".into(),
            },
        ],
        metrics: names
            .iter()
            .map(|p| MetricValue {
                namespace: "Pipectl".into(),
                metric: "PhaseDuration".into(),
                phase: Some(p.clone()),
                value: 60.0,
                unit: "Seconds".into(),
            })
            .collect(),
        items: vec![],
        notes: vec![],
    }
}
