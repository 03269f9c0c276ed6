//! `cost`, `advise` and `analyze`: the seed's numbers, formats, allocation, unpriced items, savings.

use super::*;

#[test]
fn cost_json_with_seed_prices_has_the_seed_numbers() {
    let o = pipectl(&["cost", SEED, "--prices", SEED_PRICES, "--output", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let f = |p: &str| {
        v.pointer(p)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or_else(|| panic!("{p} missing in {v}"))
    };
    let near = |a: f64, b: f64| (a - b).abs() <= 0.001;
    assert!(near(f("/total_usd"), 1.223));
    assert!(near(f("/components/compute"), 0.293));
    assert!(near(f("/components/storage"), 0.48));
    assert!(near(f("/components/network"), 0.45));
    assert!(near(f("/baseline_on_demand_total_usd"), 1.438));
    assert!(near(f("/savings_usd"), 1.438 - 1.223));
    let phases = v["phases"].as_array().unwrap();
    let names: Vec<&str> = phases.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["training", "inference", "documentation"]);
    let compute: Vec<f64> = phases
        .iter()
        .map(|p| p["compute_usd"].as_f64().unwrap())
        .collect();
    assert!(
        near(compute[0], 0.092) && near(compute[1], 0.15) && near(compute[2], 0.051),
        "{compute:?}"
    );
    let minutes: Vec<f64> = phases
        .iter()
        .map(|p| p["duration_minutes"].as_f64().unwrap())
        .collect();
    assert_eq!(minutes, [35.0, 12.0, 73.0]);
    let subtotals: f64 = phases
        .iter()
        .map(|p| p["subtotal_usd"].as_f64().unwrap())
        .sum();
    assert!(near(subtotals, f("/total_usd")));
    assert_eq!(v["price_sheet"]["name"], "Seed document prices");
}

#[test]
fn cost_without_prices_uses_and_names_the_list_sheet() {
    let o = pipectl(&["cost", SEED, "--output", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["price_sheet"]["name"], "AWS list prices, us-east-1");
    assert_eq!(v["price_sheet"]["date"], "2026-11-01");
    assert_eq!(v["complete"], true);
    let table = stdout(&pipectl(&["-q", "cost", SEED]));
    assert!(
        table.contains("AWS list prices, us-east-1 (2026-11-01)"),
        "{table}"
    );
    assert!(table.contains("NAT gateway hours"), "{table}");
}

#[test]
fn cost_table_snapshot_with_seed_prices() {
    let o = pipectl(&["-q", "cost", SEED, "--prices", SEED_PRICES]);
    assert!(o.status.success());
    snapshot("cost-seed.txt", &stdout(&o));
}

#[test]
fn cost_csv_and_markdown() {
    let csv = stdout(&pipectl(&[
        "-q",
        "cost",
        SEED,
        "--prices",
        SEED_PRICES,
        "--output",
        "csv",
    ]));
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("row,phase,start_minutes"), "{csv}");
    assert_eq!(
        rows.len(),
        1 + 3 + 2,
        "header, three phases, total, baseline:\n{csv}"
    );
    assert!(
        rows[4].starts_with("total,") && rows[4].contains(",1.223"),
        "{}",
        rows[4]
    );
    let md = stdout(&pipectl(&[
        "-q",
        "cost",
        SEED,
        "--prices",
        SEED_PRICES,
        "--output",
        "markdown",
    ]));
    assert!(md.starts_with("# Cost estimate: two-hour-pipeline"));
    assert!(md.contains("| training | 0m | 35m |"), "{md}");
    assert!(md.contains("`stated-baseline`"));
}

#[test]
fn allocation_rules_change_phase_shares_not_the_total() {
    let total = |rule: &str| {
        let v: serde_json::Value = serde_json::from_slice(
            &pipectl(&["-q", "cost", SEED, "--output", "json", "--allocation", rule]).stdout,
        )
        .unwrap();
        (
            v["total_usd"].as_f64().unwrap(),
            v["phases"][0]["storage_usd"].as_f64().unwrap(),
        )
    };
    let (t1, s1) = total("time-overlap");
    let (t2, s2) = total("even");
    assert!((t1 - t2).abs() < 1e-9);
    assert!(
        (s1 - s2).abs() > 0.01,
        "training's storage share differs: {s1} vs {s2}"
    );
}

#[test]
fn unpriced_items_are_never_zero() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prices.toml");
    std::fs::write(&p, "[sheet]\nname = \"partial\"\nregion = \"us-east-1\"\ndate = \"2026-01-01\"\nsource = \"s\"\n[ec2.on_demand]\n\"t3.medium\" = { usd = 0.0416 }\n").unwrap();
    let v: serde_json::Value = serde_json::from_slice(
        &pipectl(&[
            "-q",
            "cost",
            SEED,
            "--prices",
            p.to_str().unwrap(),
            "--output",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(v["complete"], false);
    assert!(
        v["unpriced"].as_array().unwrap().len() >= 5,
        "{}",
        v["unpriced"]
    );
    let lines = v["lines"].as_array().unwrap();
    let fsx = lines
        .iter()
        .find(|l| l["item"].as_str().unwrap().starts_with("FSx"))
        .unwrap();
    assert!(fsx["usd"].is_null(), "{fsx}");
    assert!(v["baseline_on_demand_total_usd"].is_null());
}

#[test]
fn advise_savings_are_differences_of_the_cost_model() {
    let spec = root().join("infra-specs/two-hour-pipeline.toml");
    let spec = spec.to_str().unwrap();
    let o = pipectl(&["-q", "advise", spec, "--output", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let cost: serde_json::Value =
        serde_json::from_str(&stdout(&pipectl(&["-q", "cost", spec, "--output", "json"]))).unwrap();
    let current = a["current_total_usd"].as_f64().unwrap();
    assert!((current - cost["total_usd"].as_f64().unwrap()).abs() < 1e-6);
    // the Spot training phase's fallback, priced apart from the savings
    let fb = &a["fallbacks"][0];
    assert_eq!(
        (fb["phase"].as_str(), fb["queue"].as_str()),
        (Some("training"), Some("inference"))
    );
    assert!(
        fb["assumption"]
            .as_str()
            .unwrap()
            .starts_with("assumed, not measured")
    );
    let recs = a["recommendations"].as_array().unwrap();
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for want in [
        "release-fsx",
        "keep-data-in-region",
        "spot-inference",
        "instance-type-inference",
    ] {
        assert!(ids.contains(&want), "{want} missing: {ids:?}");
    }
    for r in recs {
        let (saving, after) = (
            r["saving_usd"].as_f64().unwrap(),
            r["total_after_usd"].as_f64().unwrap(),
        );
        assert!((current - after - saving).abs() < 2e-6, "{r:#}");
        assert!(saving > 0.0);
    }
    // keeping the 5 GB in the region saves exactly its transfer at the list price
    let egress = recs
        .iter()
        .find(|r| r["id"] == "keep-data-in-region")
        .unwrap();
    assert!((egress["saving_usd"].as_f64().unwrap() - 5.0 * 0.09).abs() < 1e-6);
    let optimized = a["optimized_total_usd"].as_f64().unwrap();
    assert!(optimized < current - 0.45 - 0.28, "{optimized}");
    let table = stdout(&pipectl(&["-q", "advise", spec]));
    assert!(table.contains("Release FSx after inference"), "{table}");
    assert!(
        table.contains("with every recommendation that computes the same"),
        "{table}"
    );
}

#[test]
fn analyze_prices_offers_scenarios_and_sensitivity() {
    let spec = root().join("infra-specs/two-hour-pipeline.toml");
    let spec = spec.to_str().unwrap();
    let o = pipectl(&[
        "-q",
        "analyze",
        spec,
        "--runs-per-month",
        "1,100",
        "--sensitivity",
        "10",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 2);
    assert_eq!(v["offers"].as_array().unwrap().len(), 3);
    let rows = v["sensitivity"]["rows"].as_array().unwrap();
    assert!(
        rows.windows(2)
            .all(|w| w[0]["swing_usd"].as_f64() >= w[1]["swing_usd"].as_f64())
    );
    assert_eq!(v["sensitivity"]["percent"], 10.0);
    // a bad percentage is a command-line error
    let bad = pipectl(&["-q", "analyze", spec, "--sensitivity", "150"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("not a percentage"));
}
