//! The example pipeline end to end against the local AWS, with the real workload in every phase
//! (fewer training steps than the shipped spec, so the test takes seconds): `up`, the corpus
//! uploaded, `run`, then what each phase left in S3 and CloudWatch checked against the run
//! record and against the model read back, then `down`.

mod stack;

use rnn_textgen::workload::{InferMetrics, RunDocument, Sample, TrainMetrics};
use serde_json::Value;
use stack::{aws, err, ok, out, stack, tagged, workload};

async fn get(aws: &pipectl_aws::Aws, bucket: &str, key: &str) -> Vec<u8> {
    let o = aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
    o.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_trains_infers_and_documents_through_s3() {
    let s = stack("examples/rnn-textgen/pipeline.toml", "rnn");
    s.workload_commands(&["--steps", "3000"], &["--requests", "40"]);

    ok(&s.run(&["up", "--yes"]));
    let aws = aws().await;
    let account = aws.account_id().await.unwrap();
    let bucket = |k: &str| format!("pipectl-{}-{k}-{account}", s.name);

    // Inference before any training: a clear error naming the object and a hint, exit 1.
    let o = workload(&[
        "infer",
        "--run-id",
        "never-trained",
        "--model-bucket",
        &bucket("model-weights"),
        "--results-bucket",
        &bucket("results"),
        "--no-metrics",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(&format!(
            "s3://{}/runs/never-trained/model.json",
            bucket("model-weights")
        )) && e.contains("GetObject")
            && e.contains("NoSuchKey")
            && e.contains("hint:"),
        "{e}"
    );

    let o = workload(&["upload-corpus", "--input-bucket", &bucket("input-data")]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));

    let o = s.run(&["run", "--poll", "0.2..1", "--follow", "--output", "json"]);
    let stdout = ok(&o);
    let rec: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(rec["status"], "SUCCEEDED", "{rec:#}");
    let run_id = rec["run_id"].as_str().unwrap().to_string();
    // one field of every phase of the record, in order
    let per_phase = |field: &str| -> Vec<String> {
        rec["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[field].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        per_phase("name"),
        ["training", "inference", "documentation"]
    );
    // the workload's own log lines, followed, carry the run id in the keys they wrote
    assert!(
        stdout.contains(&format!("runs/{run_id}/model.json")),
        "{stdout}"
    );

    // training: weights that load, a loss that fell, figures that agree with the weights
    let key = |n: &str| format!("runs/{run_id}/{n}");
    let weights = get(&aws, &bucket("model-weights"), &key("model.json")).await;
    let model = rnn_textgen::Model::from_json(std::str::from_utf8(&weights).unwrap()).unwrap();
    let tm: TrainMetrics = serde_json::from_slice(
        &get(&aws, &bucket("model-weights"), &key("train-metrics.json")).await,
    )
    .unwrap();
    assert_eq!(tm.run_id, run_id);
    assert_eq!(tm.steps, 3000);
    assert_eq!(tm.parameters, model.parameters());
    assert_eq!(tm.model_bytes, weights.len());
    assert_eq!(tm.corpus.bytes, rnn_textgen::workload::CORPUS.len());
    assert!(tm.final_loss < tm.first_loss - 1.0, "{tm:?}");
    assert!(
        tm.held_out_loss_after < tm.held_out_loss_before - 1.0,
        "{tm:?}"
    );
    assert!(tm.samples_per_second > 0.0 && tm.train_seconds > 0.0);
    assert!(tm.peak_memory_bytes.is_some_and(|b| b > 1_000_000));
    // the loss the metrics claim is the loss of the weights written
    let held_out = rnn_textgen::workload::split_held_out(rnn_textgen::workload::CORPUS).1;
    assert!((model.evaluate(held_out) - tm.held_out_loss_after).abs() < 1e-4);

    // inference: the samples come from those weights (the vocabulary), the percentiles order
    let im: InferMetrics =
        serde_json::from_slice(&get(&aws, &bucket("results"), &key("infer-metrics.json")).await)
            .unwrap();
    let samples: Vec<Sample> =
        serde_json::from_slice(&get(&aws, &bucket("results"), &key("samples.json")).await).unwrap();
    assert_eq!(samples.len(), 40);
    assert_eq!(im.requests, 40);
    for smp in &samples {
        assert_eq!(smp.text.chars().count(), im.characters_per_request);
        assert!(smp.text.chars().all(|c| model.vocab.index(c).is_some()));
    }
    let l = &im.latency;
    assert!(0.0 < l.p50_ms && l.p50_ms <= l.p95_ms && l.p95_ms <= l.p99_ms && l.p99_ms <= l.max_ms);

    // documentation: the card, and the cost so far from Batch's records of the same jobs
    let card = String::from_utf8(get(&aws, &bucket("documentation"), &key("MODEL_CARD.md")).await)
        .unwrap();
    assert!(card.contains(&format!("run {run_id}")) && card.contains("## Cost so far"));
    let doc: RunDocument =
        serde_json::from_slice(&get(&aws, &bucket("documentation"), &key("run.json")).await)
            .unwrap();
    let cost = doc.cost_so_far.expect("the document job priced the run");
    let job_ids = per_phase("job_id");
    let priced: Vec<String> = cost.jobs.iter().map(|j| j.job_id.clone()).collect();
    assert_eq!(
        priced, job_ids,
        "every job of the run, in the order they ran"
    );
    let training = &cost.jobs[0];
    assert_eq!(training.instance_type.as_deref(), Some("g4dn.xlarge"));
    assert_eq!(training.purchase.as_deref(), Some("spot"));
    assert_eq!(cost.jobs[1].purchase.as_deref(), Some("on-demand"));
    let a = &rec["phases"][0]["attempts"][0];
    let recorded =
        (a["stopped_at_ms"].as_i64().unwrap() - a["started_at_ms"].as_i64().unwrap()) as f64 / 1e3;
    assert!(
        (training.seconds - recorded).abs() < 0.01,
        "{training:?} vs {recorded}"
    );
    let rate = training.usd_per_hour.unwrap();
    assert!((training.usd.unwrap() - rate * recorded / 3600.0).abs() < 1e-9);
    assert!(cost.total_usd > training.usd.unwrap());

    // CloudWatch: each phase's figures under the stack
    let metrics = stack::metrics_of(&aws, rnn_textgen::workload::NAMESPACE, &s.name).await;
    for want in [
        "training/TrainingSeconds",
        "training/PeakMemoryBytes",
        "training/FinalLoss",
        "inference/LatencyP99",
        "inference/RequestsPerSecond",
        "documentation/CostSoFarUSD",
    ] {
        assert!(
            metrics.iter().any(|m| m == want),
            "{want} not in {metrics:?}"
        );
    }

    // The report reads them back beside the runner's own.
    let dir = s.dir.path().join("report");
    ok(&stack::pipectl_in(
        s.dir.path(),
        &[
            "-q",
            "report",
            "--run",
            "latest",
            "--spec",
            s.spec.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ],
    ));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let p99 = report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["namespace"] == rnn_textgen::workload::NAMESPACE
                && m["metric"] == "LatencyP99"
                && m["phase"] == "inference"
        })
        .unwrap_or_else(|| panic!("LatencyP99 not in the report: {:#}", report["metrics"]));
    assert!((p99["value"].as_f64().unwrap() - im.latency.p99_ms).abs() < 1e-6);

    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}
