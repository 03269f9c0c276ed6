//! `advise`'s price of a fallback from Spot on the seed pipeline: the queue it proposes, the
//! worst case from the sheet's On-Demand price, and the expectation under the sheet's
//! interruption assumption checked against arithmetic done here.

use std::path::PathBuf;

use pipectl_metering::PriceSheet;
use pipectl_metering::fallback::fallbacks;
use pipectl_spec::{Spec, load_str};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed(edit: impl Fn(String) -> String) -> Spec {
    let path = root().join("infra-specs/two-hour-pipeline.toml");
    let text = edit(std::fs::read_to_string(&path).unwrap());
    load_str(&path, text).unwrap().spec
}

/// The built-in sheet with its interruption assumption set to `monthly` (or removed).
fn sheet(monthly: Option<f64>) -> PriceSheet {
    let path = root().join("infra-specs/prices/us-east-1.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let from = "monthly_rate = 0.10";
    assert_eq!(text.matches(from).count(), 1);
    let text = match monthly {
        Some(m) => text.replace(from, &format!("monthly_rate = {m}")),
        None => {
            let start = text.find("[ec2.spot_interruption]").unwrap();
            let end = start + text[start..].find("\n\n").unwrap();
            format!("{}{}", &text[..start], &text[end..])
        }
    };
    PriceSheet::parse(&path, text).unwrap()
}

#[test]
fn the_seeds_spot_training_gets_the_on_demand_queue_it_fits_on_priced() {
    let spec = seed(|t| t);
    let prices = sheet(Some(0.10));
    let f = fallbacks(&spec, &prices);
    assert_eq!(f.len(), 1, "only training is Spot: {f:#?}");
    let t = &f[0];
    assert_eq!(
        (t.phase.as_str(), t.queue.as_str()),
        ("training", "inference")
    );
    assert!(!t.in_spec);
    // retry.attempts = 3: the last retry goes On-Demand
    assert_eq!(t.on, ["capacity", "interruptions:2"]);
    let hours = 35.0 / 60.0;
    let od = prices.on_demand("g3s.xlarge").unwrap().usd;
    assert!((t.worst_usd - hours * od).abs() < 1e-9);
    // p per attempt from the monthly share, and the expectation with the fallback
    let lambda = -(1.0f64 - 0.10).ln() / 730.0;
    let p = 1.0 - (-lambda * hours).exp();
    let spot = prices.spot("g4dn.xlarge").unwrap().usd;
    assert!(
        t.without_usd > hours * spot,
        "interrupted attempts cost on top"
    );
    assert!(t.expected_extra_usd > 0.0);
    assert!((t.failure_without - p.powi(3)).abs() < 1e-18);
    assert_eq!(t.failure_with, 0.0);
    assert!(
        t.assumption
            .starts_with("assumed, not measured: Spot interrupts 10 %")
    );
    assert!(t.action.contains("fallback = { queue = \"inference\""));
}

#[test]
fn more_interruptions_cost_more_and_the_specs_own_fallback_is_priced_as_written() {
    let often = fallbacks(&seed(|t| t), &sheet(Some(0.9)));
    let rare = fallbacks(&seed(|t| t), &sheet(Some(0.01)));
    assert!(often[0].expected_extra_usd > rare[0].expected_extra_usd);
    assert!(often[0].failure_without > rare[0].failure_without);
    let own = seed(|t| {
        t.replacen(
            "retry = { attempts = 3, on_spot_interruption = true }",
            "retry = { attempts = 3, on_spot_interruption = true }\nfallback = { queue = \"inference\", on = [\"capacity\"] }",
            1,
        )
    });
    let f = fallbacks(&own, &sheet(Some(0.9)));
    assert!(f[0].in_spec);
    assert_eq!(f[0].on, ["capacity"]);
    // capacity only: interruptions are not moved, so the expectation does not change
    assert!(f[0].expected_extra_usd.abs() < 1e-12);
    assert_eq!(f[0].failure_with, f[0].failure_without);
}

#[test]
fn without_an_interruption_assumption_nothing_is_priced() {
    assert!(fallbacks(&seed(|t| t), &sheet(None)).is_empty());
}
