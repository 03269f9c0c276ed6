//! A phase held RUNNABLE, against the local AWS: the local AWS holds the training job with each
//! of Batch's blocked-queue reasons (fault injection); `run` explains it once the phase's
//! expected start has passed, in the progress and in the record, and the queue's runnable
//! timeout (`jobStateTimeLimitActions`, set by `up`) makes Batch cancel a job blocked too long.

mod stack;

use serde_json::Value;
use stack::{Delays, FaultsOff, Stack, aws, ok, stack};

/// Faults and delays are the local AWS's, for every test of this binary: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The seed with commands that run here, training expected to start within a second and its
/// queue cancelling jobs blocked ten minutes (a few seconds on the local AWS's clock).
fn stuck_stack(tag: &str) -> Stack {
    let s = stack("two-hour-pipeline.toml", tag);
    s.local_commands("sleep 1", "true", "true");
    let text = std::fs::read_to_string(&s.spec).unwrap();
    let text = text
        .replacen(
            "[job_queues.training]\n",
            "[job_queues.training]\nrunnable_timeout = \"10m\"\n",
            1,
        )
        .replacen(
            "name = \"training\"\n",
            "name = \"training\"\nexpected_start = \"1s\"\n",
            1,
        );
    std::fs::write(&s.spec, text).unwrap();
    s
}

fn hold(reason: &str, seconds: Option<f64>) {
    let seconds = seconds.map_or("null".to_string(), |s| s.to_string());
    stack::control(
        "POST",
        &format!(
            r#"{{"runnable": {{"queues": "*-training", "reason": "{reason}", "seconds": {seconds}}}}}"#
        ),
    );
}

/// `run --output json`: its events and its record (the last line), whatever its exit code.
fn run(s: &Stack) -> (Vec<Value>, Value) {
    let o = s.run(&[
        "run",
        "--no-metrics",
        "--output",
        "json",
        "--reconcile-every",
        "1",
    ]);
    stack::run_lines(&stack::out(&o))
}

fn stuck_events(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "stuck").collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_blocked_reason_is_explained_and_a_runnable_timeout_cancels() {
    let _one = ONE_AT_A_TIME.lock().await;
    let s = stuck_stack("stuck");
    ok(&s.run(&["up", "--yes"]));
    // `up` set the queue's time-limit actions: one per reason Batch allows them for
    let aws = aws().await;
    let q = aws
        .batch
        .describe_job_queues()
        .job_queues(format!("{}-training", s.name))
        .send()
        .await
        .unwrap();
    let limits = q.job_queues()[0].job_state_time_limit_actions();
    assert_eq!(limits.len(), 3, "{limits:?}");
    assert!(limits.iter().all(|l| l.max_time_seconds() == Some(600)));
    let off = FaultsOff;

    // waits that pass: explained with Batch's reason and the fix, then the run goes on
    for (reason, words) in [
        (
            "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
            "EC2 has no capacity for g4dn.xlarge",
        ),
        (
            "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
            "no instance type of its compute environments",
        ),
    ] {
        hold(reason, Some(4.0));
        let (events, rec) = run(&s);
        assert_eq!(rec["status"], "SUCCEEDED", "{reason}: {rec:#}");
        let stuck = stuck_events(&events);
        assert!(
            stuck
                .iter()
                .any(|e| e["phase"] == "training" && e["code"] == reason),
            "{reason}: {stuck:#?}"
        );
        let e = stuck.iter().find(|e| e["code"] == reason).unwrap();
        assert!(e["explanation"].as_str().unwrap().contains(words), "{e}");
        assert!(!e["fix"].as_str().unwrap().is_empty());
        let training = &rec["phases"][0];
        assert_eq!(training["stuck"]["code"], reason, "the record keeps it");
    }

    // blocked for good: explained, then cancelled by the queue's time-limit action
    let fast = Delays::set(r#"{"time_limit_scale": 0.005}"#); // 600 s pass in 3 s
    hold("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", None);
    let (events, rec) = run(&s);
    assert_eq!(rec["status"], "FAILED", "{rec:#}");
    let training = &rec["phases"][0];
    assert_eq!(
        training["status_reason"],
        "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
    );
    let e = stuck_events(&events)
        .into_iter()
        .find(|e| e["code"] == "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE")
        .expect("explained before it was cancelled");
    assert!(
        e["explanation"]
            .as_str()
            .unwrap()
            .contains("the queue cancels it after 10 min blocked"),
        "{e}"
    );
    drop(fast);
    drop(off);
    ok(&s.run(&["down", "--yes"]));
}
