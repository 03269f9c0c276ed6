//! The `pipectl` binary as a user runs it: outputs, exit codes, error messages. Snapshot
//! files under tests/snapshots/ hold the exact human-readable output; regenerate them with
//! `UPDATE_SNAPSHOTS=1 cargo test -p pipectl-cli` and review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pipectl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(args)
        .current_dir(root())
        .env_remove("PIPECTL_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipectl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

const SEED: &str = "infra-specs/two-hour-pipeline.toml";
const SEED_PRICES: &str = "infra-specs/prices/seed.toml";

#[test]
fn cost_json_with_seed_prices_has_the_seed_numbers() {
    let o = pipectl(&["cost", SEED, "--prices", SEED_PRICES, "--output", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let f = |p: &str| {
        v.pointer(p)
            .and_then(|x| x.as_f64())
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
fn plan_lists_both_specs_resources() {
    for (spec, resources) in [(SEED, 36), ("infra-specs/two-hour-pipeline-efa.toml", 36)] {
        let o = pipectl(&["-q", "plan", spec, "--output", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["resources"].as_array().unwrap().len(),
            resources,
            "{spec}"
        );
        let text = stdout(&pipectl(&["-q", "plan", spec]));
        assert!(
            text.contains(&format!("{resources} resources to create")),
            "{text}"
        );
    }
}

#[test]
fn invalid_spec_exits_3_with_file_line_col_and_makes_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(root().join(SEED))
        .unwrap()
        .replace("max_vcpus = 16", "max_vcpus = 2");
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l == "max_vcpus = 2").unwrap() + 1;
    for cmd in ["validate", "plan", "cost"] {
        let o = pipectl(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(3), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("bad.toml:{line}:13: error[max-vcpus-too-low]")),
            "{cmd}: {err}"
        );
        assert!(err.contains("help: set max_vcpus to at least 4"), "{err}");
        assert!(!err.contains("panicked"));
        assert!(
            o.stdout.is_empty(),
            "{cmd} printed results for an invalid spec"
        );
    }
}

#[test]
fn validate_reports_json_and_summary() {
    let o = pipectl(&["validate", SEED]);
    assert!(o.status.success());
    // the FSx throughput the seed asks for, and its g3s.xlarge without a Batch image
    assert!(stdout(&o).contains("valid (2 warnings"), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&pipectl(&["validate", SEED, "--output", "json"]).stdout).unwrap();
    assert_eq!(v["valid"], true);
    let line = std::fs::read_to_string(root().join(SEED))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("required_throughput"))
        .unwrap()
        + 1;
    let fsx = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "fsx-throughput-short")
        .expect("the throughput finding");
    assert!(
        fsx["line_col"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{line}:"))
    );
}

#[test]
fn missing_and_non_toml_files_fail_with_a_hint() {
    let o = pipectl(&["validate", "no/such/spec.toml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("failed to read spec no/such/spec.toml")
            && stderr(&o).contains("hint:"),
        "{}",
        stderr(&o)
    );
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("x.toml");
    std::fs::write(&bin, [0x7f, b'E', b'L', b'F', 0xff, 0xfe, 0]).unwrap();
    let o = pipectl(&["cost", bin.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("x.toml:1:5: error[not-utf8]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_price_sheet_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prices.toml");
    std::fs::write(&p, "[sheet]\nname = \"x\"\nregion = \"us-east-1\"\ndate = \"2026-01-01\"\nsource = \"s\"\n[ec2.on_demand]\n\"t3.medium\" = { usd = 0.04, cents = 4 }\n").unwrap();
    let o = pipectl(&["cost", SEED, "--prices", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("prices.toml:7:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown-key"), "{}", stderr(&o));
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

#[test]
fn up_on_aws_refuses_the_seeds_g3s_before_any_call() {
    let o = Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(["up", "--aws", "--yes", SEED])
        .current_dir(root())
        .env_remove("PIPECTL_LOG")
        .env("NO_COLOR", "1")
        // no credentials anywhere: a call would fail differently (exit 6)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run pipectl");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("AWS would refuse this spec"), "{err}");
    assert!(
        err.contains("two-hour-pipeline.toml:"),
        "the place is named: {err}"
    );
    assert!(
        err.contains("g3s.xlarge") && err.contains("image_id"),
        "{err}"
    );
    // validate shows it as a warning, with both ways out
    let v = pipectl(&["validate", SEED]);
    assert!(v.status.success());
    assert!(stderr(&v).contains("gpu-image") || stdout(&v).contains("gpu-image"));
    // the EFA variant (g4dn.xlarge for inference) is what AWS accepts
    let efa = pipectl(&["validate", "infra-specs/two-hour-pipeline-efa.toml"]);
    let text = format!("{}{}", stdout(&efa), stderr(&efa));
    assert!(
        efa.status.success() && !text.contains("gpu-image"),
        "{text}"
    );
}

#[test]
fn plan_names_the_image_type_and_the_lustre_version() {
    let o = pipectl(&["plan", SEED]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(text.contains("ECS_AL2023_NVIDIA (Batch's)"), "{text}");
    assert!(text.contains("ECS_AL2023 (Batch's)"), "{text}");
    assert!(text.contains("Lustre") && text.contains("2.15"), "{text}");
}

/// pipectl with no AWS credentials anywhere (no files, no environment, no instance metadata).
fn without_credentials(args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipectl"));
    c.args(args)
        .current_dir(root())
        .env_remove("PIPECTL_LOG")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().expect("run pipectl")
}

#[test]
fn missing_credentials_are_their_own_error_not_unreachable() {
    let efa = "infra-specs/two-hour-pipeline-efa.toml";
    let start = std::time::Instant::now();
    let o = without_credentials(&["status", "--aws", efa], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(10), "{err}");
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(
        err.contains("aws configure") && err.contains("aws sso login"),
        "{err}"
    );
    assert!(!err.contains("could not reach"), "{err}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "not retried until a deadline"
    );
    // `export AWS_ENDPOINT_URL=` leaves it empty: empty is unset, not a panic
    let o = without_credentials(&["status", "--aws", efa], &[("AWS_ENDPOINT_URL", "")]);
    assert_eq!(o.status.code(), Some(10), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn unusable_connection_options_are_usage_errors_naming_the_value() {
    let efa = "infra-specs/two-hour-pipeline-efa.toml";
    for (args, named) in [
        (
            vec!["status", "--aws", "--profile", "no-such-profile", efa],
            "no-such-profile",
        ),
        (
            vec!["status", "--endpoint-url", "not a url", efa],
            "not a url",
        ),
        (vec!["status", "--endpoint-url", "", efa], "\"\""),
        (vec!["status", "--region", "us east-1", efa], "us east-1"),
        (vec!["up", "--concurrency", "0", efa], "concurrency"),
        (vec!["status", "--max-attempts", "0", efa], "max-attempts"),
    ] {
        let o = without_credentials(&args, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} names {named}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
