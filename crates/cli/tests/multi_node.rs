//! Multi-node training for real, against the local AWS: the EFA variant of the seed runs the
//! example workload, its training data-parallel over the job's nodes (one process per node,
//! gradients averaged over TCP through the main node). `pipectl sweep --nodes 1,2` measures
//! both counts from their records and the report draws them; a node lost mid-training fails
//! the job with the node named; the whole pipeline runs end to end on two nodes.

mod stack;

use rnn_textgen::workload::TrainMetrics;
use serde_json::Value;
use stack::{FaultsOff, Stack, aws, control, ok, stack};

/// The EFA spec with this build of the workload, few training steps, a short I/O timeout.
fn efa_stack() -> Stack {
    let s = stack("two-hour-pipeline-efa.toml", "mnp");
    s.workload_commands(
        &["--steps", "2400", "--io-timeout-seconds", "10"],
        &["--requests", "20"],
    );
    s
}

async fn metrics(aws: &pipectl_aws::Aws, bucket: &str, run_id: &str) -> TrainMetrics {
    let o = aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(format!("runs/{run_id}/train-metrics.json"))
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&o.body.collect().await.unwrap().into_bytes()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_efa_variant_trains_data_parallel_sweeps_and_names_a_lost_node() {
    let s = efa_stack();
    ok(&s.run(&["up", "--yes"]));
    let aws = aws().await;
    let account = aws.account_id().await.unwrap();
    let bucket = |k: &str| format!("pipectl-{}-{k}-{account}", s.name);
    let o = stack::workload(&["upload-corpus", "--input-bucket", &bucket("input-data")]);
    assert!(o.status.success(), "{o:?}");

    // counts the compute environment cannot launch: refused before anything is submitted
    let o = s.run(&["sweep", "--phase", "training", "--nodes", "1,2,4"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stack::err(&o).contains("4 nodes of phase \"training\" cannot be launched"));
    assert!(
        !s.dir.path().join(".pipectl/runs").exists(),
        "no run was started"
    );

    // the sweep: one run per count, points from the records
    let sweep: Value = serde_json::from_str(&ok(&s.run(&[
        "sweep",
        "--phase",
        "training",
        "--nodes",
        "1,2",
        "--no-metrics",
        "--output",
        "json",
    ])))
    .unwrap();
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{sweep:#}");
    assert_eq!(
        (points[0]["nodes"].as_u64(), points[1]["nodes"].as_u64()),
        (Some(1), Some(2))
    );
    let recs: Vec<Value> = points
        .iter()
        .map(|p| s.record(Some(p["run_id"].as_str().unwrap())))
        .collect();
    let secs = |r: &Value| {
        r["phases"][0]["attempts"][0]["run_seconds"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(recs[1]["phases"][0]["nodes"], 2);
    let speedup = secs(&recs[0]) / secs(&recs[1]);
    assert!((points[1]["speedup"].as_f64().unwrap() - speedup).abs() < 1e-9);
    assert!((points[1]["efficiency"].as_f64().unwrap() - speedup / 2.0).abs() < 1e-9);
    assert_eq!(
        points[1]["usd_per_run"],
        recs[1]["phases"][0]["compute_usd"]
    );
    assert_eq!(
        recs[0]["phases"].as_array().unwrap().len(),
        1,
        "training has no dependency"
    );
    // `cost --run` bills the one-node run for one instance, not the spec's two
    let cost: Value = serde_json::from_str(&ok(&s.run(&[
        "cost",
        "--run",
        recs[0]["run_id"].as_str().unwrap(),
        "--output",
        "json",
    ])))
    .unwrap();
    let compute = &cost["phases"][0]["components"][0];
    assert!(
        compute["note"]
            .as_str()
            .unwrap()
            .starts_with("1 × g4dn.8xlarge"),
        "{compute:#}"
    );

    // two processes that averaged their gradients; the model as good as one node's
    let one = metrics(
        &aws,
        &bucket("model-weights"),
        recs[0]["run_id"].as_str().unwrap(),
    )
    .await;
    let two = metrics(
        &aws,
        &bucket("model-weights"),
        recs[1]["run_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!((one.nodes, two.nodes), (1, 2));
    assert_eq!(two.per_node.len(), 2);
    assert!(
        two.per_node
            .iter()
            .all(|n| n.steps == 1200 && n.communication_seconds > 0.0),
        "{two:?}"
    );
    assert_eq!(two.steps, one.steps, "the same sequences in all");
    assert!(
        two.held_out_loss_after <= one.held_out_loss_after + TOLERANCE,
        "2 nodes {} against 1 node {} (tolerance {TOLERANCE})",
        two.held_out_loss_after,
        one.held_out_loss_after
    );

    // the report of the sweep's last run draws both points
    let dir = s.dir.path().join("report");
    ok(&stack::pipectl_in(
        s.dir.path(),
        &[
            "report",
            "--run",
            "latest",
            "--offline",
            "--out",
            dir.to_str().unwrap(),
            "--spec",
            s.spec.to_str().unwrap(),
        ],
    ));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let scaling: Vec<u64> = report["scaling"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["phase"] == "training")
        .map(|p| p["nodes"].as_u64().unwrap())
        .collect();
    assert_eq!(scaling, [1, 2], "{:#}", report["scaling"]);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let chart = &html[html.find("id=\"scaling\"").expect("the scaling chart")..];
    assert!(
        chart[..chart.find("</figure>").unwrap_or(chart.len())].contains("<svg"),
        "drawn, not empty"
    );

    // a node lost mid-training, in both attempts the phase allows: the main node names it and
    // fails the job
    let off = FaultsOff;
    control(
        "POST",
        r#"{"node_loss": {"queues": "*-training", "node": 1, "after_seconds": 1.0, "count": 2}}"#,
    );
    let o = s.run(&["run", "--no-metrics", "--output", "json"]);
    assert_eq!(o.status.code(), Some(9), "{o:?}");
    let (_, rec) = stack::run_lines(&stack::out(&o));
    let failure = &rec["failure"];
    assert_eq!(failure["phase"], "training", "{rec:#}");
    assert_eq!(
        rec["phases"][0]["attempts"].as_array().unwrap().len(),
        2,
        "retried once"
    );
    let tail = failure["log_tail"].as_array().unwrap();
    assert!(
        tail.iter()
            .any(|l| l.as_str().unwrap().contains("node 1: lost mid-training")),
        "{tail:#?}"
    );
    drop(off);

    // the whole pipeline on two nodes
    let (_, rec) = stack::run_lines(&ok(&s.run(&["run", "--no-metrics", "--output", "json"])));
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    assert_eq!(rec["phases"][0]["nodes"], 2);
    ok(&s.run(&["down", "--yes"]));
}

/// How much worse (nats per character) two nodes' held-out loss may be than one node's after
/// the same sequences: two nodes make half the updates, each of two sequences' mean gradient.
const TOLERANCE: f32 = 0.15;
