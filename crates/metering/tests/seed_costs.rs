//! The cost model against the seed document's arithmetic, and against list prices.

use std::path::PathBuf;

use pipectl_metering::estimate::Component;
use pipectl_metering::{Allocation, Options, PriceSheet, estimate};
use pipectl_spec::load_file;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed_estimate(sheet: &str, opts: Options) -> pipectl_metering::Estimate {
    let spec = load_file(&root().join("infra-specs/two-hour-pipeline.toml"))
        .unwrap()
        .spec;
    let prices = PriceSheet::load(&root().join("infra-specs/prices").join(sheet)).unwrap();
    estimate(&spec, &prices, opts)
}

fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn seed_prices_reproduce_the_seed_arithmetic() {
    let e = seed_estimate("seed.toml", Options::default());
    let phase_compute: Vec<f64> = e.phases.iter().map(|p| p.compute_usd).collect();
    assert!(
        near(phase_compute[0], 0.158 * 35.0 / 60.0, 1e-9),
        "{phase_compute:?}"
    );
    assert!(near(phase_compute[1], 0.15, 1e-9));
    assert!(near(phase_compute[2], 0.0416 * 73.0 / 60.0, 1e-9));
    assert!(
        near(e.components.compute, 0.293, 0.001),
        "{}",
        e.components.compute
    );
    assert!(
        near(e.components.storage, 0.48, 0.001),
        "{}",
        e.components.storage
    );
    assert!(
        near(e.components.network, 0.45, 0.001),
        "{}",
        e.components.network
    );
    assert!(near(e.total_usd, 1.223, 0.001), "{}", e.total_usd);
    assert!(near(e.makespan_minutes, 120.0, 1e-9));
    // FSx and S3 are reported separately: 0.48 and 0.0003
    let fsx = e
        .lines
        .iter()
        .find(|l| l.item.starts_with("FSx"))
        .unwrap()
        .usd
        .unwrap();
    let s3 = e
        .lines
        .iter()
        .find(|l| l.item.starts_with("S3"))
        .unwrap()
        .usd
        .unwrap();
    assert!(near(fsx, 0.48, 1e-9), "{fsx}");
    assert!(near(s3, 0.0003, 0.00005), "{s3}");
    // The baseline is computed by the tool: all On-Demand is $1.438, a 14.9% saving.
    let base = e.baseline_on_demand_total_usd.unwrap();
    assert!(near(base, 1.438, 0.001), "{base}");
    assert!(near(e.savings_usd.unwrap(), base - e.total_usd, 1e-12));
    assert!(
        near(e.savings_pct.unwrap(), 14.9, 0.05),
        "{:?}",
        e.savings_pct
    );
}

#[test]
fn seed_prices_leave_the_nat_gateway_unpriced_not_free() {
    let e = seed_estimate("seed.toml", Options::default());
    assert!(!e.complete);
    assert!(
        e.unpriced.iter().any(|u| u.contains("NAT gateway")),
        "{:?}",
        e.unpriced
    );
    let nat = e
        .lines
        .iter()
        .find(|l| l.item == "NAT gateway hours")
        .unwrap();
    assert_eq!(nat.usd, None);
    assert!(e.notes.iter().any(|n| n.code == "unpriced"));
}

#[test]
fn seed_claims_are_checked_not_repeated() {
    let e = seed_estimate("seed.toml", Options::default());
    let baseline = e
        .notes
        .iter()
        .find(|n| n.code == "stated-baseline")
        .expect("baseline note");
    assert!(
        baseline.message.contains("$1.7670") && baseline.message.contains("$1.4378"),
        "{}",
        baseline.message
    );
    assert!(baseline.message.contains("14.9%"), "{}", baseline.message);
    let fsx = e
        .notes
        .iter()
        .find(|n| n.code == "fsx-throughput")
        .expect("throughput note");
    assert!(
        fsx.message.contains("240 MB/s") && fsx.message.contains("1.2GB/s"),
        "{}",
        fsx.message
    );
    assert_eq!(
        e.notes.iter().filter(|n| n.code == "stated-agrees").count(),
        4,
        "{:#?}",
        e.notes
    );
}

#[test]
fn list_prices_add_the_nat_gateway_and_label_spot_as_assumed() {
    let e = seed_estimate("us-east-1.toml", Options::default());
    assert!(e.complete, "{:?}", e.unpriced);
    assert_eq!(e.price_sheet.date, "2026-11-01");
    let fsx = e
        .lines
        .iter()
        .find(|l| l.item.starts_with("FSx"))
        .unwrap()
        .usd
        .unwrap();
    assert!(near(fsx, 0.140 * 1200.0 / 730.0 * 2.0, 1e-9), "{fsx}");
    let nat: f64 = e
        .lines
        .iter()
        .filter(|l| l.item.starts_with("NAT"))
        .filter_map(|l| l.usd)
        .sum();
    assert!(near(nat, 0.045 * 2.0 + 0.045 * 12.0, 1e-9), "{nat}");
    assert!(
        e.lines
            .iter()
            .filter(|l| l.item.starts_with("NAT"))
            .all(|l| l.note.is_some())
    );
    assert!(e.notes.iter().any(|n| n.code == "spot-assumed"));
    // components add up to the total, phases add up to the total
    let c = &e.components;
    assert!(near(c.compute + c.storage + c.network, e.total_usd, 1e-9));
    let phases: f64 = e.phases.iter().map(|p| p.subtotal_usd).sum();
    assert!(near(phases, e.total_usd, 1e-9));
}

#[test]
fn every_allocation_rule_conserves_each_component() {
    for allocation in [
        Allocation::TimeOverlap,
        Allocation::Even,
        Allocation::ByCost,
    ] {
        let e = seed_estimate(
            "us-east-1.toml",
            Options {
                allocation,
                ..Options::default()
            },
        );
        for (component, total) in [
            (Component::Storage, e.components.storage),
            (Component::Network, e.components.network),
        ] {
            let allocated: f64 = e
                .phases
                .iter()
                .map(|p| {
                    if component == Component::Storage {
                        p.storage_usd
                    } else {
                        p.network_usd
                    }
                })
                .sum();
            assert!(
                near(allocated, total, 1e-9),
                "{allocation:?} {component:?}: {allocated} vs {total}"
            );
        }
    }
    // time overlap: training gets 35/120 of the FSx + S3 cost
    let e = seed_estimate("seed.toml", Options::default());
    assert!(near(
        e.phases[0].storage_usd,
        e.components.storage * 35.0 / 120.0,
        1e-9
    ));
}

#[test]
fn free_allowance_is_a_switch() {
    let off = seed_estimate("seed.toml", Options::default());
    let on = seed_estimate(
        "seed.toml",
        Options {
            free_allowance: true,
            ..Options::default()
        },
    );
    assert!(near(off.components.network, 0.45, 1e-9));
    assert!(near(on.components.network, 0.0, 1e-9));
    assert!(off.notes.iter().any(|n| n.code == "free-allowance"));
}
