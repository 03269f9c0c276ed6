//! Reconciliation of a run against the seed plan: a measured Spot price shows as price
//! variance, attempts as quantity variance, and shared resources are priced for their lives.

use std::path::PathBuf;

use pipectl_metering::reconcile::{ActualPhase, Basis, Lifetime, MeasuredRate, reconcile};
use pipectl_metering::{Options, PriceSheet};
use pipectl_spec::load_file;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A shipped spec and price sheet, by their paths under `infra-specs/`.
fn shipped(spec: &str, prices: &str) -> (pipectl_spec::Spec, PriceSheet) {
    let spec = load_file(&root().join("infra-specs").join(spec))
        .unwrap()
        .spec;
    let prices = PriceSheet::load(&root().join("infra-specs/prices").join(prices)).unwrap();
    (spec, prices)
}

#[test]
fn measured_spot_prices_lifetimes_and_the_allowance_reconcile() {
    let (spec, prices) = shipped("two-hour-pipeline.toml", "seed.toml");
    let actual = vec![
        ActualPhase {
            name: "training".into(),
            // interrupted after 10 min, then the full 35 min
            attempt_secs: vec![600.0, 2100.0],
            wall_secs: Some(2800.0),
            measured_rate: Some(MeasuredRate {
                usd: 0.20,
                note: "price history".into(),
            }),
            nodes: None,
            fallback: None,
        },
        ActualPhase {
            name: "inference".into(),
            attempt_secs: vec![720.0],
            wall_secs: Some(730.0),
            measured_rate: None,
            nodes: None,
            fallback: None,
        },
    ];
    let fsx = Lifetime {
        kind: "fsx".into(),
        physical_id: "fs-1".into(),
        since: "2026-11-01T00:00:00Z".into(),
        until: Some("2026-11-01T03:00:00Z".into()),
        hours: 3.0,
        run_hours: 2.0,
    };
    let opts = Options {
        free_allowance: true,
        ..Options::default()
    };
    let r = reconcile(&spec, &prices, &actual, opts, &[fsx]);
    let training = &r.phases[0].components[0];
    assert_eq!(training.basis, Basis::Reconciled);
    assert!((training.planned_rate - 0.158).abs() < 1e-12);
    assert!((training.actual_rate - 0.20).abs() < 1e-12);
    assert!((training.actual_quantity - 0.75).abs() < 1e-12);
    assert!((training.quantity_variance_usd - (0.75 - 35.0 / 60.0) * 0.158).abs() < 1e-12);
    assert!((training.price_variance_usd - 0.042 * 0.75).abs() < 1e-12);
    // an On-Demand phase is not re-priced by a Spot history
    let inference = &r.phases[1].components[0];
    assert_eq!(inference.actual_rate, inference.planned_rate);
    // the 100 GB allowance covers the seed's 5 GB: no transfer figure at all
    assert!(r.free_allowance_applied);
    assert!(
        r.phases
            .iter()
            .all(|p| p.components.iter().all(|c| c.planned_usd >= 0.0))
    );
    let network: f64 = r
        .phases
        .iter()
        .flat_map(|p| &p.components)
        .filter(|c| format!("{:?}", c.component) == "Network")
        .map(|c| c.actual_usd)
        .sum();
    assert_eq!(network, 0.0);
    // FSx for 3 hours at the seed's rate, one of them idle
    let l = &r.lifetimes[0];
    let hourly = 0.146 * 1200.0 / 730.0;
    assert!((l.usd - 3.0 * hourly).abs() < 1e-9, "{l:?}");
    assert!((l.idle_usd - hourly).abs() < 1e-9);
    // phase totals add up to the run's
    let sum: f64 = r.phases.iter().map(|p| p.totals.actual_usd).sum();
    assert!((sum - r.totals.actual_usd).abs() < 1e-5);
}

#[test]
fn a_phase_that_fell_back_is_billed_on_both_queues() {
    let (spec, prices) = shipped("two-hour-pipeline.toml", "seed.toml");
    let actual = vec![ActualPhase {
        name: "training".into(),
        // interrupted twice on Spot after 10 min each, then the whole 35 min On-Demand
        attempt_secs: vec![600.0, 600.0],
        wall_secs: Some(3600.0),
        measured_rate: None,
        nodes: None,
        fallback: Some(pipectl_metering::reconcile::FallbackRun {
            queue: "inference".into(),
            attempt_secs: vec![2100.0],
        }),
    }];
    let r = reconcile(&spec, &prices, &actual, Options::default(), &[]);
    let training = &r.phases[0];
    let compute: Vec<_> = training
        .components
        .iter()
        .filter(|f| f.note.contains("g3s.xlarge") || f.note.contains("g4dn.xlarge"))
        .collect();
    assert_eq!(compute.len(), 2, "{:#?}", training.components);
    let own = compute[0];
    assert!((own.actual_quantity - 1200.0 / 3600.0).abs() < 1e-12);
    let moved = compute[1];
    assert!(
        moved.note.starts_with("fallback to queue \"inference\""),
        "{}",
        moved.note
    );
    assert_eq!(moved.planned_usd, 0.0, "the plan did not foresee it");
    assert_eq!(moved.fallback_queue.as_deref(), Some("inference"));
    assert_eq!(own.fallback_queue, None);
    let od = prices.on_demand("g3s.xlarge").unwrap().usd;
    assert!((moved.actual_usd - od * 2100.0 / 3600.0).abs() < 1e-9);
    assert_eq!(moved.basis, Basis::Reconciled);
    let sum: f64 = training.components.iter().map(|f| f.actual_usd).sum();
    assert!((training.totals.actual_usd - sum).abs() < 1e-6);
}

#[test]
fn a_multi_node_phase_is_billed_for_the_nodes_it_ran_on() {
    let (spec, prices) = shipped("two-hour-pipeline-efa.toml", "us-east-1.toml");
    let ran = |nodes: Option<u32>| ActualPhase {
        name: "training".into(),
        attempt_secs: vec![600.0],
        wall_secs: Some(610.0),
        measured_rate: None,
        nodes,
        fallback: None,
    };
    let compute = |nodes| {
        reconcile(&spec, &prices, &[ran(nodes)], Options::default(), &[]).phases[0].components[0]
            .clone()
    };
    // planned: the spec's two nodes for 20 minutes
    let as_spec = compute(None);
    assert!((as_spec.planned_quantity - 2.0 * 20.0 / 60.0).abs() < 1e-12);
    assert!((as_spec.actual_quantity - 2.0 * 600.0 / 3600.0).abs() < 1e-12);
    // a sweep's one-node run: one instance billed
    let one = compute(Some(1));
    assert!((one.actual_quantity - 600.0 / 3600.0).abs() < 1e-12);
    assert!(one.note.starts_with("1 × g4dn.8xlarge"), "{}", one.note);
}
