//! `pipectl run` under injected faults: a Spot interruption on the training queue (Batch
//! retries it; the record counts it and keeps the lost attempt's time), and throttling of
//! Batch (the run completes; nothing is marked failed that did not fail). A test binary of
//! its own: fault injection is global to the local AWS, and cargo runs test binaries one after
//! another. Both scenarios share one stack, one after the other.

mod stack;

use serde_json::Value;
use stack::{FaultsOff, control, err, ok, out, stack};

fn record(stdout: &str) -> Value {
    serde_json::from_str(stdout.lines().last().expect("output")).unwrap()
}

#[test]
fn runs_survive_spot_interruptions_and_throttling() {
    let s = stack("two-hour-pipeline.toml", "runfaults");
    s.local_commands("sleep 3", "sleep 1", "sleep 1");
    // A budget just above the estimate: the lost attempt pushes the projection over it.
    let cost: Value = serde_json::from_str(&ok(&s.run(&["cost", "--output", "json"]))).unwrap();
    let budget = cost["total_usd"].as_f64().unwrap() + 0.0005;
    let text = std::fs::read_to_string(&s.spec).unwrap();
    std::fs::write(
        &s.spec,
        text.replacen(
            "region = \"us-east-1\"",
            &format!("region = \"us-east-1\"\nbudget_usd = {budget}"),
            1,
        ),
    )
    .unwrap();
    ok(&s.run(&["up", "--yes"]));
    let faults_off = FaultsOff;

    // The first training attempt loses its instance 1 s in.
    control(
        "POST",
        &format!(
            r#"{{"spot": {{"queues": "{}-training", "count": 1, "after_seconds": 1.0}}}}"#,
            s.name
        ),
    );
    let o = s.run(&["run", "--poll", "0.2..1", "--output", "json"]);
    let rec = record(&ok(&o));
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    let training = &rec["phases"][0];
    assert_eq!(training["name"], "training");
    assert_eq!(training["spot_interruptions"], 1, "{training:#}");
    let attempts = training["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["spot_interruption"], true);
    assert!(
        attempts[0]["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("Host EC2")
    );
    let lost = attempts[0]["run_seconds"].as_f64().unwrap();
    assert!(
        (0.9..2.0).contains(&lost),
        "the interrupted attempt ran ~1 s: {lost}"
    );
    let run = training["run_seconds"].as_f64().unwrap();
    assert!(
        run >= lost + 3.0 - 0.01,
        "run time keeps the lost attempt: {run}"
    );
    assert!(
        out(&o).contains("\"spot_interruption\":true"),
        "an attempt-ended event says so"
    );
    assert!(
        out(&o).contains("\"event\":\"budget-warning\""),
        "the projection crossed the budget: {}",
        out(&o)
    );
    // The second attempt is billed too (60 s minimum each).
    assert!(training["compute_usd"].as_f64().unwrap() > 0.0);

    // A quarter of Batch's answers throttled.
    control(
        "POST",
        r#"{"seed": 5, "throttle_rate": 0.25, "services": ["batch"]}"#,
    );
    let o = s.run(&["run", "--poll", "0.2..1", "--output", "json"]);
    let counts: Value = serde_json::from_str(&control("GET", "")).unwrap();
    drop(faults_off);
    let rec = record(&ok(&o));
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}\n{}", err(&o));
    for p in rec["phases"].as_array().unwrap() {
        assert_eq!(p["status"], "SUCCEEDED");
        assert_eq!(
            p["attempts"].as_array().unwrap().len(),
            1,
            "no attempt lost to throttling"
        );
    }
    assert!(
        counts["counts"]["throttled"].as_u64().unwrap() > 0,
        "{counts}"
    );
    ok(&s.run(&["down", "--yes"]));
}
