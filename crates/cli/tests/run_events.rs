//! `pipectl run` from Batch's job events against the local AWS: `up` makes the stack's
//! EventBridge rule and SQS queue, the local AWS sends a "Batch Job State Change" event at
//! every status change, and the run follows them with DescribeJobs only reconciling (counted
//! from the local AWS's request log, not from pipectl's word); events sent twice, late or never
//! still give the record DescribeJobs would; without the queue the run polls as before.

mod stack;

use serde_json::Value;
use stack::{FaultsOff, Stack, aws, ok, stack};

/// The event faults are the local AWS's, for every test of this binary: one test at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// DescribeJobs requests the local AWS logged that asked about any of `jobs`.
fn describe_jobs_about(jobs: &[String]) -> usize {
    let body = stack::control_at("requests?operation=DescribeJobs", "GET", "");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let asked = e["parameters"]["jobs"].to_string();
            jobs.iter().any(|j| asked.contains(j.as_str()))
        })
        .count()
}

fn job_ids(rec: &Value) -> Vec<String> {
    rec["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["job_id"].as_str().unwrap().to_string())
        .collect()
}

/// The JSON lines of a `run --output json`: its events, and the record last.
fn run_json(s: &Stack, extra: &[&str]) -> (Vec<Value>, Value) {
    let mut args = vec!["run", "--no-metrics", "--output", "json"];
    args.extend_from_slice(extra);
    stack::run_lines(&ok(&s.run(&args)))
}

/// What the record says of each phase, and what DescribeJobs says of its job, side by side.
async fn record_and_aws(rec: &Value) -> Vec<(Value, Value)> {
    let aws = aws().await;
    let ids = job_ids(rec);
    let jobs = aws
        .batch
        .describe_jobs()
        .set_jobs(Some(ids.clone()))
        .send()
        .await
        .unwrap();
    rec["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let j = jobs
                .jobs()
                .iter()
                .find(|j| j.job_id() == p["job_id"].as_str())
                .unwrap();
            let mine = serde_json::json!([
                p["status"],
                p["started_at_ms"],
                p["stopped_at_ms"],
                p["attempts"].as_array().unwrap().len()
            ]);
            let theirs = serde_json::json!([
                j.status().unwrap().as_str(),
                j.started_at(),
                j.stopped_at(),
                j.attempts().len()
            ]);
            (mine, theirs)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn events_drive_the_run_and_describe_jobs_only_reconciles() {
    let _one = ONE_AT_A_TIME.lock().await;
    let s = stack("two-hour-pipeline.toml", "events");
    s.local_commands("sleep 3", "sleep 2", "sleep 1");
    ok(&s.run(&["up", "--yes"]));

    let (events, rec) = run_json(&s, &[]);
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    let finished = events.iter().find(|e| e["event"] == "finished").unwrap();
    assert!(
        finished["job_events"].as_u64().unwrap() >= 12,
        "four changes per job at least: {finished}"
    );
    let with_events = describe_jobs_about(&job_ids(&rec));
    // one before the first event, then one a minute: the run lasts well under a minute
    assert!(with_events <= 2, "{with_events} DescribeJobs with events");
    assert_eq!(
        with_events as u64,
        finished["describe_jobs_calls"].as_u64().unwrap()
    );
    for (mine, theirs) in record_and_aws(&rec).await {
        assert_eq!(mine, theirs);
    }
    // noticed within a second and a half of AWS's stop, every phase
    for p in rec["phases"].as_array().unwrap() {
        let late = p["noticed_at_ms"].as_i64().unwrap() - p["stopped_at_ms"].as_i64().unwrap();
        assert!(late <= 1_500, "{} noticed {late} ms late", p["name"]);
    }

    // the same jobs watched by polling: many more DescribeJobs
    let (events, rec) = run_json(&s, &["--no-events"]);
    assert_eq!(rec["status"], "SUCCEEDED");
    let finished = events.iter().find(|e| e["event"] == "finished").unwrap();
    assert_eq!(finished["job_events"], 0);
    let polled = describe_jobs_about(&job_ids(&rec));
    assert!(
        polled > with_events * 2,
        "polling {polled}, events {with_events}"
    );

    ok(&s.run(&["down", "--yes"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn events_sent_twice_late_or_never_still_give_the_record_describe_jobs_gives() {
    let _one = ONE_AT_A_TIME.lock().await;
    let s = stack("two-hour-pipeline.toml", "events-faults");
    s.local_commands("sleep 2", "sleep 1", "sleep 1");
    ok(&s.run(&["up", "--yes"]));
    let off = FaultsOff;
    stack::control(
        "POST",
        r#"{"seed": 11, "events": {"duplicate_rate": 0.5, "delay_rate": 0.5,
            "delay_seconds": 1.5, "drop_rate": 0.3}}"#,
    );
    // a lost end is noticed at the next reconciliation: every 3 s here
    let (events, rec) = run_json(&s, &["--reconcile-every", "3"]);
    let counts: Value = serde_json::from_str(&stack::control("GET", "")).unwrap();
    let c = &counts["counts"];
    assert!(
        c["events_duplicated"].as_u64().unwrap() > 0
            && c["events_delayed"].as_u64().unwrap() > 0
            && c["events_dropped"].as_u64().unwrap() > 0,
        "every fault happened: {c}"
    );
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "finished" && e["job_events"].as_u64().unwrap() > 0)
    );
    for (mine, theirs) in record_and_aws(&rec).await {
        assert_eq!(mine, theirs);
    }
    drop(off);
    ok(&s.run(&["down", "--yes"]));
}
