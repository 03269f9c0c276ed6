//! The workload's command line without AWS: what it refuses, and how. (Its work against S3,
//! CloudWatch and Batch is tested end to end in crates/cli/tests/example.rs.)

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rnn-textgen"))
        .args(args)
        .env_remove("PIPECTL_RUN_ID")
        .env_remove("PIPECTL_BUCKET_INPUT_DATA")
        .env_remove("PIPECTL_BUCKET_MODEL_WEIGHTS")
        // nothing listens here: a call that should not be made would fail loudly
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn without_a_run_id_or_buckets_it_says_which_variable_sets_them() {
    let o = run(&["train"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    for want in ["--run-id", "--input-bucket", "--model-bucket"] {
        assert!(e.contains(want), "{want}: {e}");
    }
    let help = String::from_utf8_lossy(&run(&["train", "--help"]).stdout).into_owned();
    assert!(
        help.contains("PIPECTL_RUN_ID") && help.contains("PIPECTL_BUCKET_INPUT_DATA"),
        "{help}"
    );
}

#[test]
fn bad_training_settings_are_refused_before_any_call() {
    let o = run(&[
        "train",
        "--run-id",
        "r",
        "--input-bucket",
        "i",
        "--model-bucket",
        "m",
        "--steps",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("--steps") && !e.contains("could not reach"),
        "{e}"
    );
}

#[test]
fn a_corpus_file_that_is_not_there_is_named() {
    let o = run(&[
        "upload-corpus",
        "--input-bucket",
        "i",
        "--file",
        "/nonexistent/corpus.txt",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent/corpus.txt"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_unreachable_endpoint_is_an_error_with_a_hint() {
    let o = run(&["download", "--bucket", "b", "--key", "k"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("s3://b/k") && e.contains("hint:"), "{e}");
}
