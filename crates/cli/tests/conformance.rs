//! What AWS does that a friendly emulator would not, through pipectl end to end against the
//! strict local AWS: client tokens across lifetimes of a stack, IAM propagation, Lustre
//! versions, DELETED records, and a `down` stopped while queues were being deleted. Checked
//! with describe calls and the local AWS's request log, never with pipectl's own word.

mod stack;

use std::process::Stdio;
use std::time::{Duration, Instant};

use stack::{aws, ok, stack, tagged};

/// The request log entries of one operation since the log was last cleared.
fn logged(operation: &str) -> Vec<serde_json::Value> {
    let body = stack::control_at(&format!("requests?operation={operation}"), "GET", "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["requests"].as_array().unwrap().clone()
}

fn tokens(operation: &str, member: &str, stack_name: &str) -> Vec<String> {
    logged(operation)
        .iter()
        .filter(|e| e["parameters"].to_string().contains(stack_name))
        .filter_map(|e| e["parameters"][member].as_str().map(str::to_string))
        .collect()
}

/// Sets local AWS delays for the test and puts the defaults back when dropped.
struct Delays;
impl Delays {
    fn set(body: &str) -> Delays {
        stack::control_at("config", "POST", body);
        Delays
    }
}
impl Drop for Delays {
    fn drop(&mut self) {
        let _ = std::process::Command::new("curl")
            .args(["-fsS", "-X", "DELETE", "http://127.0.0.1:4566/_pipectl/config"])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_down_up_down_sends_each_token_once_and_recovers_from_iam_propagation() {
    // Roles Batch cannot use for 8 s: the compute environments go INVALID first.
    let _delays = Delays::set(r#"{"iam_propagation": 8}"#);
    let s = stack("two-hour-pipeline.toml", "lifetimes");
    let aws = aws().await;
    const CREATES: [(&str, &str); 3] = [
        ("CreateNatGateway", "ClientToken"),
        ("CreateLaunchTemplate", "ClientToken"),
        ("CreateFileSystem", "ClientRequestToken"),
    ];
    // per round, per operation: the tokens sent
    let mut lifetimes: Vec<Vec<Vec<String>>> = Vec::new();
    for round in 0..2 {
        let up = ok(&s.run(&["up", "--yes"]));
        assert!(up.contains("34 created"), "round {round}: {up}");
        let sent: Vec<Vec<String>> = CREATES
            .iter()
            .enumerate()
            .map(|(i, (op, member))| {
                let all = tokens(op, member, &s.name);
                let before = lifetimes.iter().map(|l| l[i].len()).sum::<usize>();
                all[before.min(all.len())..].to_vec()
            })
            .collect();
        assert!(sent.iter().all(|t| !t.is_empty()), "round {round}: {sent:?}");
        lifetimes.push(sent);

        let fs = aws.fsx.describe_file_systems().send().await.unwrap();
        let ours = fs
            .file_systems()
            .iter()
            .find(|f| {
                f.tags()
                    .iter()
                    .any(|t| t.key() == Some("pipectl:stack") && t.value() == Some(s.name.as_str()))
            })
            .expect("the stack's file system");
        assert_eq!(ours.file_system_type_version(), Some("2.15"), "not FSx's 2.10 default");
        let dras = aws
            .fsx
            .describe_data_repository_associations()
            .send()
            .await
            .unwrap();
        assert_eq!(
            dras.associations()
                .iter()
                .filter(|a| a.file_system_id() == ours.file_system_id())
                .count(),
            3
        );
        // Every compute environment went INVALID with an sts:AssumeRole reason and was
        // validated again by `up` (an UpdateComputeEnvironment each), then VALID.
        let updates = logged("UpdateComputeEnvironment")
            .iter()
            .filter(|e| e["parameters"]["computeEnvironment"].as_str().unwrap_or("").starts_with(&s.name))
            .count();
        assert!(updates >= 3 * (round + 1), "round {round}: {updates} re-validations");
        let ces = aws
            .batch
            .describe_compute_environments()
            .send()
            .await
            .unwrap();
        let live: Vec<_> = ces
            .compute_environments()
            .iter()
            .filter(|c| c.compute_environment_name().unwrap_or("").starts_with(&s.name))
            .filter(|c| c.status().map(|s| s.as_str()) != Some("DELETED"))
            .collect();
        assert_eq!(live.len(), 3);
        assert!(live.iter().all(|c| c.status().map(|s| s.as_str()) == Some("VALID")));

        let down = ok(&s.run(&["down", "--yes"]));
        assert!(down.contains("deleted"), "{down}");
        assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
        // Batch still lists them, as DELETED; `status` counts them as gone.
        let status = ok(&s.run(&["status"]));
        assert!(status.contains("0 of 34 resources exist"), "{status}");
    }
    let first: Vec<&String> = lifetimes[0].iter().flatten().collect();
    let reused: Vec<_> = lifetimes[1].iter().flatten().filter(|t| first.contains(t)).collect();
    assert!(reused.is_empty(), "a token of the first lifetime was sent again: {reused:?}");
    for op in ["CreateNatGateway", "CreateLaunchTemplate", "CreateFileSystem", "CreateComputeEnvironment"] {
        let refused: Vec<_> = logged(op)
            .into_iter()
            .filter(|e| e["parameters"].to_string().contains(&s.name) && !e["code"].is_null())
            .collect();
        assert!(refused.is_empty(), "{op} refused: {refused:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_after_a_down_stopped_while_queues_were_deleting_creates_them_again() {
    let _delays = Delays::set(r#"{"queue_delete": 4}"#);
    let s = stack("two-hour-pipeline.toml", "stopped-down");
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));
    let mut down = stack::pipectl_command(s.dir.path(), &["down", "--yes", s.spec.to_str().unwrap()]);
    let mut child = down.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let qs = aws.batch.describe_job_queues().send().await.unwrap();
        let deleting = qs.job_queues().iter().any(|q| {
            q.job_queue_name().unwrap_or("").starts_with(&s.name)
                && q.status().map(|s| s.as_str()) == Some("DELETING")
        });
        if deleting {
            child.kill().unwrap();
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "down finished before a queue was seen DELETING");
        assert!(Instant::now() < deadline, "no queue went DELETING");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.wait().unwrap();
    let started = Instant::now();
    let up = ok(&s.run(&["up", "--yes"]));
    assert!(up.contains("is up"), "{up}");
    assert!(started.elapsed() < Duration::from_secs(180), "up took {:?}", started.elapsed());
    let status: serde_json::Value =
        serde_json::from_str(&ok(&s.run(&["status", "--output", "json"]))).unwrap();
    let rows = status["resources"].as_array().unwrap();
    assert!(
        rows.iter().all(|r| r["exists"] == true && r["drift"].as_array().unwrap().is_empty()),
        "{status:#}"
    );
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}
