//! A slow FSx for Lustre end to end against the local AWS: `up` builds the compute side while
//! the file system is still CREATING (launch templates from CreateFileSystem's answer), a
//! second `up` meanwhile converges without replacing anything, `run` waits for the file
//! system to be AVAILABLE before submitting a phase that mounts it, and `down` leaves nothing.
//! Checked with describe calls made here, not with pipectl's word.

mod stack;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use pipectl_aws::Aws;
use serde_json::Value;
use stack::{Delays, aws, ok, stack, tagged};

/// The local AWS's delays are shared: one test of this file at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The stack's file system's lifecycle.
async fn fsx_lifecycle(aws: &Aws, stack: &str) -> String {
    let out = aws.fsx.describe_file_systems().send().await.unwrap();
    let fs = out
        .file_systems()
        .iter()
        .find(|f| {
            f.tags()
                .iter()
                .any(|t| t.key() == Some("pipectl:stack") && t.value() == Some(stack))
        })
        .expect("the stack's file system");
    fs.lifecycle().map(|l| l.as_str().to_string()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn compute_is_valid_before_a_slow_file_system_is_available_and_run_waits_for_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _delays = Delays::set(r#"{"fsx_create": 20}"#);
    let s = stack("two-hour-pipeline.toml", "fsx-creating");
    s.local_commands("echo train", "echo infer", "echo docs");
    let aws = aws().await;

    // `up`, watched event by event: once every queue is done, the compute environments are
    // VALID and the file system is still CREATING.
    let spec = s.spec.to_str().unwrap();
    let mut up = stack::pipectl_command(s.dir.path(), &["up", "--yes", "--output", "json", spec])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut queues_done = 0;
    for line in BufReader::new(up.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let Ok(e) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if e["event"] == "done" && e["id"].as_str().is_some_and(|i| i.starts_with("jq-")) {
            queues_done += 1;
            if queues_done == 3 {
                break;
            }
        }
        assert!(
            !(e["event"] == "done" && e["id"].as_str().is_some_and(|i| i.starts_with("dra-"))),
            "an association was done before the queues: {line}"
        );
    }
    assert_eq!(queues_done, 3, "up ended before its queues were done");
    assert_eq!(fsx_lifecycle(&aws, &s.name).await, "CREATING");
    let ours = stack::compute_environments(&aws, &s.name).await;
    assert_eq!(ours.len(), 3);
    for c in &ours {
        assert_eq!(
            c.status().map(aws_sdk_batch::types::CeStatus::as_str),
            Some("VALID"),
            "{c:?}"
        );
    }
    up.kill().unwrap();
    let _ = up.wait();

    // While it is still CREATING: a second `up` and a run, side by side.
    let again = stack::pipectl_command(
        s.dir.path(),
        &["up", "--yes", "-q", "--output", "json", spec],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let run = s.run(&["run", "--poll", "0.2..1", "--output", "json"]);
    let stdout = ok(&run);
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let first_submit = events
        .iter()
        .position(|e| e["event"] == "submitted")
        .expect("phases submitted");
    let said = |what: &str| {
        events[..first_submit].iter().any(|e| {
            e["event"] == "note" && e["message"].as_str().is_some_and(|m| m.contains(what))
        })
    };
    assert!(said("waiting for file system"), "{stdout}");
    assert!(said("is AVAILABLE after"), "{stdout}");
    assert_eq!(events.last().unwrap()["status"], "SUCCEEDED", "{stdout}");

    let again = again.wait_with_output().unwrap();
    let summary: Value = serde_json::from_str(&ok(&again)).unwrap();
    let mut created: Vec<&str> = summary["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    created.sort();
    // the dashboard and the job-event rule and queue too when the first `up` was stopped
    // before them (they follow the queues)
    created.retain(|id| !matches!(*id, "dashboard" | "events-rule" | "events-queue"));
    assert_eq!(created, ["dra-0", "dra-1", "dra-2"], "{summary:#}");
    // the job-event rule, when the first `up` was stopped between PutRule and PutTargets (it
    // starts as the last queue is done): found without its target, completed
    let updated: Vec<&str> = summary["updated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .filter(|id| *id != "events-rule")
        .collect();
    assert!(updated.is_empty(), "{summary:#}");
    assert_eq!(fsx_lifecycle(&aws, &s.name).await, "AVAILABLE");

    ok(&s.run(&["down", "--yes"]));
    let left = tagged(&aws, &s.name).await;
    assert!(left.is_empty(), "left after down: {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn down_while_the_file_system_is_creating_leaves_nothing() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _delays = Delays::set(r#"{"fsx_create": 20}"#);
    let s = stack("two-hour-pipeline.toml", "fsx-creating-down");
    let aws = aws().await;
    let spec = s.spec.to_str().unwrap();
    let mut up = stack::pipectl_command(s.dir.path(), &["up", "--yes", "--output", "json", spec])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for line in BufReader::new(up.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains(r#""event":"done","id":"fsx""#) {
            break;
        }
    }
    up.kill().unwrap();
    let _ = up.wait();
    assert_eq!(fsx_lifecycle(&aws, &s.name).await, "CREATING");
    ok(&s.run(&["down", "--yes"]));
    let left = tagged(&aws, &s.name).await;
    assert!(left.is_empty(), "left after down: {left:?}");
}
