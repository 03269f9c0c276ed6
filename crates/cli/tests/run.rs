//! `pipectl run` end to end against the local AWS: the seed pipeline's three phases (with
//! commands that take seconds here) after `up`, checked through the run record, AWS's own job
//! descriptions and CloudWatch; a failing phase; a CLI killed mid-run and `--attach`.

mod stack;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use stack::{Stack, aws, err, ok, out, stack, tagged};

const POLL: &str = "0.2..1";

fn up(s: &Stack) {
    ok(&s.run(&["up", "--yes"]));
}

fn down(s: &Stack) {
    ok(&s.run(&["down", "--yes"]));
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The record printed last by `--output json`.
fn last_json(stdout: &str) -> Value {
    serde_json::from_str(stdout.lines().last().expect("output")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_run_succeeds_in_dependency_order_with_timings_from_aws() {
    let s = stack("two-hour-pipeline.toml", "run");
    s.local_commands(
        "echo training $PIPECTL_RUN_ID; sleep 3",
        "echo inference; sleep 2",
        "echo docs $PIPECTL_BUCKET_DOCUMENTATION; sleep 1",
    );
    let aws = aws().await;
    up(&s);
    let o = s.run(&["run", "--poll", POLL, "--follow", "--output", "json"]);
    let stdout = ok(&o);
    let rec = last_json(&stdout);
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    let phases = rec["phases"].as_array().unwrap();
    let names: Vec<&str> = phases.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["training", "inference", "documentation"]);
    for (p, secs) in phases.iter().zip([3.0, 2.0, 1.0]) {
        assert_eq!(p["status"], "SUCCEEDED");
        assert_eq!(p["attempts"].as_array().unwrap().len(), 1);
        let run = f(&p["run_seconds"]);
        assert!(
            (run - secs).abs() < 1.0,
            "{} ran {run}s for a {secs}s command",
            p["name"]
        );
        assert!(f(&p["queue_wait_seconds"]) >= 0.0);
        assert!(f(&p["total_seconds"]) >= run + f(&p["queue_wait_seconds"]) - 0.01);
        assert!(f(&p["compute_usd"]) > 0.0);
    }
    // Dependency order, by AWS's timestamps.
    for w in phases.windows(2) {
        assert!(
            f(&w[1]["started_at_ms"]) >= f(&w[0]["stopped_at_ms"]),
            "{w:#?}"
        );
        assert_eq!(
            w[1]["ready_at_ms"], w[0]["stopped_at_ms"],
            "queue wait counts from the dependency's end"
        );
    }
    // The record agrees with what AWS says of the jobs.
    let ids: Vec<String> = phases
        .iter()
        .map(|p| p["job_id"].as_str().unwrap().to_string())
        .collect();
    let jobs = aws
        .batch
        .describe_jobs()
        .set_jobs(Some(ids.clone()))
        .send()
        .await
        .unwrap();
    for j in jobs.jobs() {
        let p = phases
            .iter()
            .find(|p| p["job_id"] == j.job_id().unwrap())
            .unwrap();
        assert_eq!(p["stopped_at_ms"].as_i64(), j.stopped_at());
        assert_eq!(
            j.depends_on().len(),
            p["depends_on"].as_array().unwrap().len()
        );
    }
    // One JSON event per state change on stdout, the job's log followed.
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("event").is_some())
        .collect();
    assert!(
        events.iter().any(|e| e["event"] == "phase"
            && e["phase"] == "inference"
            && e["status"] == "RUNNING")
    );
    let run_id = rec["run_id"].as_str().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "log" && e["line"].as_str().unwrap_or("").contains(run_id)),
        "the job saw its run id: {stdout}"
    );
    assert!(events.iter().any(|e| {
        e["event"] == "log"
            && e["line"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("pipectl-{}-documentation-", s.name))
    }));
    let finished = events.iter().find(|e| e["event"] == "finished").unwrap();
    assert!(
        f(&finished["describe_jobs_calls"]) < 60.0,
        "batched, adaptive polling: {finished}"
    );
    // The record on disk is the one printed; `runs` lists it.
    assert_eq!(s.record(Some(run_id)), rec);
    let runs = ok(&stack::pipectl_in(s.dir.path(), &["runs"]));
    assert!(
        runs.contains(run_id) && runs.contains("Succeeded") && runs.contains("3/3"),
        "{runs}"
    );
    // The metrics the dashboard shows.
    let listed = stack::metrics_of(&aws, "Pipectl", &s.name).await;
    let names: std::collections::BTreeSet<&str> = listed
        .iter()
        .filter_map(|m| m.split_once('/').map(|(_, n)| n))
        .collect();
    for want in [
        "PhaseDuration",
        "QueueWait",
        "Attempts",
        "SpotInterruptions",
        "EstimatedCost",
    ] {
        assert!(names.contains(want), "{want} not published: {names:?}");
    }
    // Reconciled against the plan: per phase planned, actual, variance and components; the
    // compute actually billed is what the record says the attempts cost.
    let r: Value =
        serde_json::from_str(&ok(&s.run(&["cost", "--run", "latest", "--output", "json"])))
            .unwrap();
    assert_eq!(r["run_id"], rec["run_id"]);
    for (p, rp) in r["phases"].as_array().unwrap().iter().zip(phases) {
        assert_eq!(p["name"], rp["name"]);
        let (planned, actual) = (f(&p["planned_usd"]), f(&p["actual_usd"]));
        assert!(
            (f(&p["variance_usd"]) - (actual - planned)).abs() < 1e-5,
            "{p:#}"
        );
        let compute = p["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["component"] == "compute")
            .unwrap();
        assert!(
            (f(&compute["actual_usd"]) - f(&rp["compute_usd"])).abs() < 1e-5,
            "{compute:#} vs {rp:#}"
        );
        assert!(
            f(&compute["actual_quantity"]) < f(&compute["planned_quantity"]),
            "seconds ran, minutes planned"
        );
        assert!(
            (f(&compute["quantity_variance_usd"]) + f(&compute["price_variance_usd"])
                - f(&compute["variance_usd"]))
            .abs()
                < 1e-5
        );
    }
    down(&s);
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_phase_fails_the_run_and_cancels_its_dependents() {
    let s = stack("two-hour-pipeline.toml", "runfail");
    s.local_commands(
        "sleep 1",
        "echo loading the model; echo model file missing >&2; exit 3",
        "sleep 1",
    );
    up(&s);
    let o = s.run(&["run", "--poll", POLL]);
    assert_eq!(o.status.code(), Some(9), "{}\n{}", out(&o), err(&o));
    let e = err(&o);
    assert!(
        e.contains("phase inference") && e.contains("attempt 1"),
        "{e}"
    );
    let report = out(&o);
    assert!(
        report.contains("model file missing")
            && report.contains("cancelled (they depend on it): documentation"),
        "{report}"
    );
    let rec = s.record(None);
    assert_eq!(rec["status"], "FAILED");
    assert_eq!(rec["failure"]["phase"], "inference");
    assert_eq!(rec["failure"]["exit_code"], 3);
    assert_eq!(rec["phases"][0]["status"], "SUCCEEDED");
    assert_eq!(rec["phases"][2]["status"], "FAILED");
    assert!(
        rec["phases"][2]["started_at_ms"].is_null(),
        "documentation never started"
    );
    down(&s);
}

/// Starts `pipectl run` (no terminal) and returns once it reports training RUNNING.
fn run_until_training_runs(s: &Stack, extra: &[&str]) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(["run", "--poll", POLL])
        .args(extra)
        .arg(&s.spec)
        .current_dir(s.dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    // Keeps reading to the end: a closed pipe would fail the CLI's next line.
    std::thread::spawn(move || {
        for l in stderr.lines().map_while(Result::ok) {
            if l.contains("training") && l.contains("RUNNING") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv().expect("run ended before training ran");
    child
}

fn interrupt(child: &std::process::Child) {
    let o = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .output()
        .unwrap();
    assert!(o.status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_terminates_the_jobs_and_with_detach_leaves_them_running() {
    let s = stack("two-hour-pipeline.toml", "ctrlc");
    s.local_commands("sleep 60", "sleep 1", "sleep 1");
    let aws = aws().await;
    up(&s);
    let job = |rec: &Value| rec["phases"][0]["job_id"].as_str().unwrap().to_string();
    let status = async |id: &str| {
        let d = aws.batch.describe_jobs().jobs(id).send().await.unwrap();
        d.jobs()[0].status().unwrap().as_str().to_string()
    };

    // Without a terminal to ask on, Ctrl-C terminates what was submitted.
    let child = run_until_training_runs(&s, &[]);
    interrupt(&child);
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let rec = s.record(None);
    assert_eq!(rec["status"], "TERMINATED");
    assert!(
        rec["phases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "FAILED"),
        "{rec:#}"
    );
    assert_eq!(status(&job(&rec)).await, "FAILED");
    std::fs::remove_dir_all(s.dir.path().join(".pipectl/runs")).unwrap();

    // --detach leaves them running and says how to attach.
    let child = run_until_training_runs(&s, &["--detach"]);
    interrupt(&child);
    let o = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    let rec = s.record(None);
    assert!(
        stdout.contains(&format!("--attach {}", rec["run_id"].as_str().unwrap())),
        "{stdout}"
    );
    assert_eq!(rec["status"], "RUNNING");
    assert_eq!(status(&job(&rec)).await, "RUNNING");
    // `down` ends the jobs it finds before removing the queues.
    down(&s);
    assert_eq!(status(&job(&rec)).await, "FAILED");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_cli_is_replaced_by_attach_and_the_record_completes() {
    let s = stack("two-hour-pipeline.toml", "attach");
    s.local_commands("sleep 4", "sleep 1", "sleep 1");
    let aws = aws().await;
    up(&s);
    let mut child = run_until_training_runs(&s, &[]);
    child.kill().unwrap();
    child.wait().unwrap();
    let rec = s.record(None);
    assert_eq!(rec["status"], "RUNNING", "the killed CLI left the run open");
    let id = rec["run_id"].as_str().unwrap().to_string();
    let o = s.run(&["run", "--poll", POLL, "--attach", &id, "--output", "json"]);
    let stdout = ok(&o);
    let done = last_json(&stdout);
    assert_eq!(done["status"], "SUCCEEDED", "{done:#}");
    // it followed the jobs from the events the queue kept for it, and their later ones
    let finished: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "finished")
        .unwrap();
    assert!(finished["job_events"].as_u64().unwrap() > 0, "{finished}");
    assert!(
        done["phases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "SUCCEEDED")
    );
    assert_eq!(
        done["phases"][0]["job_id"], rec["phases"][0]["job_id"],
        "the same jobs, none submitted again"
    );
    let listed = aws
        .batch
        .list_jobs()
        .job_queue(format!("{}-training", s.name))
        .job_status(aws_sdk_batch::types::JobStatus::Succeeded)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.job_summary_list().len(), 1);
    // Attaching to a run that has ended reports it and submits nothing.
    let again = last_json(&ok(&s.run(&["run", "--attach", &id, "--output", "json"])));
    assert_eq!(again["finished_at_ms"], done["finished_at_ms"]);
    let o = s.run(&["run", "--attach", "20000101-000000-0000"]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    down(&s);
}

#[test]
fn run_on_a_stack_that_is_not_up_submits_nothing_and_says_so() {
    let s = stack("two-hour-pipeline.toml", "notup");
    let o = s.run(&["run"]);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    assert!(
        err(&o).contains("does not exist") && err(&o).contains("pipectl up"),
        "{}",
        err(&o)
    );
    assert!(!s.dir.path().join(".pipectl/runs").exists());
}

#[test]
fn a_budget_below_the_estimate_stops_the_run_before_any_call() {
    let s = stack("two-hour-pipeline.toml", "budget");
    let text = std::fs::read_to_string(&s.spec).unwrap();
    let text = text.replacen(
        "region = \"us-east-1\"",
        "region = \"us-east-1\"\nbudget_usd = 0.5",
        1,
    );
    std::fs::write(&s.spec, text).unwrap();
    // Port 9 has no listener: a call would fail with "could not reach", not the budget.
    let o = s.run(&["--endpoint-url", "http://127.0.0.1:9", "run"]);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    assert!(
        err(&o).contains("exceeds the spec's budget") && err(&o).contains("nothing was submitted"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_bad_poll_interval_is_a_command_line_error() {
    let s = stack("two-hour-pipeline.toml", "poll");
    let o = s.run(&["run", "--poll", "5..1"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("5 s is more than 1 s"), "{}", err(&o));
}
