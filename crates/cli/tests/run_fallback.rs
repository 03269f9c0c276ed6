//! A Spot phase's fallback, against the local AWS: training held RUNNABLE for capacity (fault
//! injection) past its `fallback.after`, and training interrupted twice by Spot, each move it
//! to the On-Demand inference queue with the switch priced; its dependents are resubmitted
//! after it; the record keeps both jobs and the reason, and `cost --run` prices the fallback.
//! A kill in the middle of a switch leaves a run `run --attach` completes.

mod stack;

use serde_json::Value;
use std::io::{BufRead, BufReader};

use stack::{FaultsOff, Stack, aws, control, ok, stack};

/// The seed with commands that run here and a fallback for training: after 5 s of waiting
/// for capacity, or at the second Spot interruption.
fn fallback_stack(tag: &str) -> Stack {
    let s = stack("two-hour-pipeline.toml", tag);
    s.local_commands("sleep 3", "true", "true");
    let text = std::fs::read_to_string(&s.spec).unwrap();
    let from = "retry = { attempts = 3, on_spot_interruption = true }\n";
    assert_eq!(text.matches(from).count(), 1);
    let text = text.replacen(
        from,
        &format!(
            "{from}fallback = {{ queue = \"inference\", after = \"5s\", on = [\"capacity\", \"interruptions:2\"] }}\n"
        ),
        1,
    );
    std::fs::write(&s.spec, text).unwrap();
    s
}

const RUN: [&str; 5] = ["run", "--no-metrics", "--reconcile-every", "1", "--output"];

fn fallback_event(events: &[Value]) -> &Value {
    let moves: Vec<&Value> = events.iter().filter(|e| e["event"] == "fallback").collect();
    assert_eq!(moves.len(), 1, "{events:#?}");
    moves[0]
}

/// What every fallback leaves in the record: training on the inference queue with a finished
/// job, the old job kept and ended, the dependents resubmitted after it, the cost of both.
async fn assert_moved(s: &Stack, rec: &Value, trigger: &str) {
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    let training = &rec["phases"][0];
    assert_eq!(training["fallback"]["queue"], "inference", "{training:#}");
    assert_eq!(training["fallback"]["trigger"], trigger);
    assert_eq!(training["job_queue"], format!("{}-inference", s.name));
    assert_eq!(training["purchase"], "on-demand");
    let replaced = training["replaced"].as_array().unwrap();
    assert_eq!(replaced.len(), 1, "one switch: {training:#}");
    let old = &replaced[0];
    assert_eq!(old["job_queue"], format!("{}-training", s.name));
    assert_eq!(old["purchase"], "spot");
    assert!(
        old["reason"]
            .as_str()
            .unwrap()
            .starts_with("fallback to queue \"inference\"")
    );
    assert!(training["job_name"].as_str().unwrap().ends_with("-r1"));
    // the old job was ended on the local AWS, not left waiting for capacity
    let aws = aws().await;
    let d = aws
        .batch
        .describe_jobs()
        .jobs(old["job_id"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(d.jobs()[0].status().unwrap().as_str(), "FAILED", "{d:?}");
    // every phase after it ran after the new job
    for dep in &rec["phases"].as_array().unwrap()[1..] {
        assert_eq!(dep["status"], "SUCCEEDED");
        assert!(
            dep["started_at_ms"].as_i64() >= training["stopped_at_ms"].as_i64(),
            "{dep:#}"
        );
    }
    // priced: the phase's compute is both jobs'
    let total = training["compute_usd"].as_f64().unwrap();
    let old_usd = old["compute_usd"].as_f64().unwrap_or(0.0);
    assert!(total > old_usd, "{training:#}");
    // `cost --run` shows the fallback as compute of its own
    let cost: Value = serde_json::from_str(&ok(&s.run(&[
        "cost",
        "--run",
        rec["run_id"].as_str().unwrap(),
        "--output",
        "json",
    ])))
    .unwrap();
    let figures = cost["phases"][0]["components"].as_array().unwrap();
    let moved = figures
        .iter()
        .find(|f| f["fallback_queue"] == "inference")
        .unwrap_or_else(|| panic!("no fallback figure: {figures:#?}"));
    assert!(moved["actual_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(moved["planned_usd"].as_f64(), Some(0.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capacity_wait_and_two_interruptions_each_move_training_on_demand() {
    let s = fallback_stack("fallback");
    ok(&s.run(&["up", "--yes"]));
    let off = FaultsOff;

    // no capacity on the Spot queue, ever
    control(
        "POST",
        r#"{"runnable": {"queues": "*-training", "reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", "seconds": null}}"#,
    );
    let (events, rec) = stack::run_lines(&ok(&s.run(&[&RUN[..], &["json"]].concat())));
    let e = fallback_event(&events);
    assert_eq!(e["phase"], "training");
    assert_eq!(
        (e["from_queue"].as_str(), e["to_queue"].as_str()),
        (Some("training"), Some("inference"))
    );
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("RUNNABLE for capacity (CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"),
        "{e}"
    );
    let (stay, switch) = (
        e["stay_usd"].as_f64().unwrap(),
        e["switch_usd"].as_f64().unwrap(),
    );
    assert!(
        switch > stay && stay > 0.0,
        "On-Demand for the whole phase costs more: {e}"
    );
    assert_eq!(
        e["dependents"],
        serde_json::json!(["inference", "documentation"])
    );
    assert_moved(&s, &rec, "capacity").await;
    assert_eq!(rec["phases"][0]["replaced"][0]["status"], "RUNNABLE");

    // killed in the middle of the switch: `run --attach` completes it, once
    let lines = killed_at_fallback(&s);
    assert!(
        lines.iter().any(|l| l.contains("switching costs $")),
        "{lines:#?}"
    );
    let id = latest_run(&s);
    let (_, rec) = stack::run_lines(&ok(&s.run(&[&RUN[..], &["json", "--attach", &id]].concat())));
    assert_eq!(rec["run_id"], id.as_str());
    assert_moved(&s, &rec, "capacity").await;
    drop(off);

    // Spot takes the first two attempts half a second in
    let off = FaultsOff;
    control(
        "POST",
        r#"{"spot": {"queues": "*-training", "count": 2, "after_seconds": 0.5}}"#,
    );
    let (events, rec) = stack::run_lines(&ok(&s.run(&[&RUN[..], &["json"]].concat())));
    let e = fallback_event(&events);
    assert_eq!(e["trigger"], "interruptions:2");
    assert_eq!(e["reason"], "Spot interrupted 2 of its attempts");
    assert_moved(&s, &rec, "interruptions:2").await;
    let old = &rec["phases"][0]["replaced"][0];
    assert_eq!(old["spot_interruptions"], 2);
    assert_eq!(old["attempts"].as_array().unwrap().len(), 2);
    assert!(
        old["compute_usd"].as_f64().unwrap() > 0.0,
        "the lost attempts are billed"
    );
    drop(off);
    ok(&s.run(&["down", "--yes"]));
}

/// `run` SIGKILLed at the line that says training falls back (the switch under way); the lines
/// it printed.
fn killed_at_fallback(s: &Stack) -> Vec<String> {
    let mut child = stack::pipectl_command(
        s.dir.path(),
        &[&RUN[..4], &[s.spec.to_str().unwrap()]].concat(),
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let stop = line.contains("falls back to queue");
        seen.push(line);
        if stop {
            child.kill().unwrap();
            break;
        }
    }
    assert!(
        !child.wait().unwrap().success(),
        "it was meant to be killed: {seen:#?}"
    );
    seen
}

/// The id of the newest run record of the stack.
fn latest_run(s: &Stack) -> String {
    let dir = s.dir.path().join(".pipectl/runs");
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_string))
        .collect();
    ids.sort();
    ids.pop().expect("a run record")
}
