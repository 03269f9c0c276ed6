//! Metering a real run against the local AWS: Spot priced from the price history of the hours
//! the job ran, FSx priced for its life from `up` to `down`, the report's files written and
//! opened in headless Chromium (a screenshot kept as a test artefact), the stack's dashboard
//! in CloudWatch.

mod stack;

use std::process::Command;

use serde_json::Value;
use stack::{aws, control_at, ok, root, stack, tagged};

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn iso(ms: i64) -> String {
    // epoch seconds are accepted by the local AWS's control endpoint
    format!("{}", ms as f64 / 1000.0)
}

/// Opens `page` in headless Chromium: its DOM after load, what it logged, and a screenshot.
fn chromium(page: &std::path::Path, screenshot: &std::path::Path) -> (String, String) {
    let exe = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("Chromium is not installed: tests/run-all installs the Debian package chromium");
    let profile = tempfile::tempdir().unwrap();
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let url = format!("file://{}", page.display());
    let dom = Command::new(exe)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &url])
        .output()
        .expect("chromium runs");
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let shot = Command::new(exe)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--window-size=1200,2400", "--hide-scrollbars"])
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    (
        String::from_utf8_lossy(&dom.stdout).into_owned(),
        String::from_utf8_lossy(&dom.stderr).into_owned() + &String::from_utf8_lossy(&shot.stderr),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_is_metered_reported_and_opened_in_a_browser() {
    let s = stack("two-hour-pipeline.toml", "report");
    s.local_commands("sleep 3", "sleep 1", "sleep 1");
    // A Spot type of its own, so that the price history loaded below prices no other test.
    let text = std::fs::read_to_string(&s.spec).unwrap();
    std::fs::write(
        &s.spec,
        text.replacen(
            "instance_types = [\"g4dn.xlarge\"]",
            "instance_types = [\"g4dn.2xlarge\"]",
            1,
        ),
    )
    .unwrap();
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));

    // The dashboard `up` made: the runner's metrics, FSx, the clusters, GPUs.
    let name = format!("pipectl-{}", s.name);
    let body = aws
        .cloudwatch
        .get_dashboard()
        .dashboard_name(&name)
        .send()
        .await
        .unwrap()
        .dashboard_body
        .unwrap();
    let dash: Value = serde_json::from_str(&body).unwrap();
    let text = dash.to_string();
    for want in [
        "PhaseDuration",
        "QueueWait",
        "SpotInterruptions",
        "EstimatedCost",
        "AWS/FSx",
        "AWS/ECS",
        "nvidia_smi_utilization_gpu",
        "{Pipectl/Workload,Stack,Phase}",
    ] {
        assert!(text.contains(want), "{want} not on the dashboard: {text}");
    }

    let o = s.run(&["run", "--poll", "0.2..1", "--follow", "--output", "json"]);
    let rec: Value = serde_json::from_str(ok(&o).lines().last().unwrap()).unwrap();
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    assert!(
        rec["prices"]["sheet"]["name"].is_string(),
        "the sheet is stored with the run"
    );
    let training = &rec["phases"][0];
    let a = &training["attempts"][0];
    let (start, stop) = (
        a["started_at_ms"].as_i64().unwrap(),
        a["stopped_at_ms"].as_i64().unwrap(),
    );
    // Zone a: $0.20 until halfway through the attempt, then $0.40 (average $0.30);
    // zone b: $0.10 throughout. Batch does not say the zone: the higher is taken.
    let mid = start + (stop - start) / 2;
    let prices = serde_json::json!({"prices": [
        {"InstanceType": "g4dn.2xlarge", "AvailabilityZone": "us-east-1a", "SpotPrice": 0.20, "Timestamp": iso(start - 3_600_000)},
        {"InstanceType": "g4dn.2xlarge", "AvailabilityZone": "us-east-1a", "SpotPrice": 0.40, "Timestamp": iso(mid)},
        {"InstanceType": "g4dn.2xlarge", "AvailabilityZone": "us-east-1b", "SpotPrice": 0.10, "Timestamp": iso(start - 60_000)},
        {"InstanceType": "g4dn.2xlarge", "AvailabilityZone": "us-east-1a", "SpotPrice": 9.99, "Timestamp": iso(stop + 3_600_000)},
    ]});
    control_at("spot-prices", "POST", &prices.to_string());
    let expected =
        (0.20 * (mid - start) as f64 + 0.40 * (stop - mid) as f64) / (stop - start) as f64;

    let cost: Value =
        serde_json::from_str(&ok(&s.run(&["cost", "--run", "latest", "--output", "json"])))
            .unwrap();
    let compute = &cost["phases"][0]["components"][0];
    assert_eq!(compute["component"], "compute");
    assert_eq!(compute["basis"], "reconciled", "{compute:#}");
    assert!(
        (f(&compute["actual_rate"]) - expected).abs() < 1e-4,
        "{compute:#}"
    );
    assert!(
        compute["note"]
            .as_str()
            .unwrap()
            .contains("highest of us-east-1a"),
        "{compute:#}"
    );
    let sheet_rate = f(&compute["planned_rate"]);
    assert!(
        (f(&compute["price_variance_usd"])
            - (expected - sheet_rate) * f(&compute["actual_quantity"]))
        .abs()
            < 1e-5
    );
    // offline: the sheet's rate, and said
    let off = s.run(&["cost", "--run", "latest", "--offline", "--output", "json"]);
    let offline: Value = serde_json::from_str(&ok(&off)).unwrap();
    assert_eq!(
        offline["phases"][0]["components"][0]["actual_rate"],
        compute["planned_rate"]
    );
    assert!(String::from_utf8_lossy(&off.stderr).contains("offline"));
    // FSx exists: priced up to now, its whole life so far.
    let lt = &cost["lifetimes"][0];
    assert_eq!(lt["kind"], "fsx", "{cost:#}");
    assert!(lt["until"].is_null());
    assert!(f(&lt["hours"]) >= f(&lt["run_hours"]) && f(&lt["usd"]) > 0.0);

    // The report.
    let dir = s.dir.path().join("report");
    // the spec is the one the run recorded
    let o = stack::pipectl_in(
        s.dir.path(),
        &["report", "--run", "latest", "--out", dir.to_str().unwrap()],
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.starts_with(&format!(
            "target: local AWS at {}, region ",
            stack::endpoint()
        )),
        "the report says which AWS it read first: {e}"
    );
    let out = ok(&o);
    assert!(out.contains("index.html"), "{out}");
    for file in ["index.html", "report.json", "report.csv", "report.md"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["run_id"], rec["run_id"]);
    assert_eq!(report["jobs"].as_array().unwrap().len(), 3);
    let metrics = report["metrics"].as_array().unwrap();
    assert!(
        metrics
            .iter()
            .any(|m| m["metric"] == "PhaseDuration" && m["phase"] == "training"),
        "read back from CloudWatch: {:#}",
        report["notes"]
    );
    assert!(
        (f(&report["reconciliation"]["phases"][0]["components"][0]["actual_rate"]) - expected)
            .abs()
            < 1e-4
    );

    // Opened in a browser: it loads, draws every chart, logs no error; a screenshot is kept.
    let artefacts = root().join("target/test-artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    let png = artefacts.join("report-index.png");
    let _ = std::fs::remove_file(&png);
    let (dom, log) = chromium(&dir.join("index.html"), &png);
    assert!(dom.contains(&format!(
        "Run {} of {}",
        rec["run_id"].as_str().unwrap(),
        s.name
    )));
    assert!(
        dom.matches("<svg").count() >= 6,
        "charts drawn: {}",
        dom.matches("<svg").count()
    );
    for bad in ["Uncaught", "ERR_FILE_NOT_FOUND", "Failed to load resource"] {
        assert!(!log.contains(bad), "{bad} in the browser's log:\n{log}");
    }
    let shot = std::fs::read(&png).expect("screenshot written");
    assert_eq!(&shot[1..4], b"PNG");
    assert!(
        shot.len() > 20_000,
        "a page, not a blank: {} bytes",
        shot.len()
    );

    // After `down`, FSx is priced from creation to deletion.
    ok(&s.run(&["down", "--yes"]));
    let after: Value = serde_json::from_str(&ok(&s.run(&[
        "cost",
        "--run",
        "latest",
        "--offline",
        "--output",
        "json",
    ])))
    .unwrap();
    let lifetimes = after["lifetimes"].as_array().unwrap();
    for kind in ["fsx", "nat-gateway"] {
        let lt = lifetimes
            .iter()
            .find(|l| l["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} lifetime: {after:#}"));
        assert!(lt["until"].is_string(), "{after:#}");
    }
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
    control_at("spot-prices", "DELETE", "{}");
}
