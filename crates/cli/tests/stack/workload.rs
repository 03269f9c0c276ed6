//! The example workload (`rnn-textgen`) in the end-to-end tests: its binary, built beside
//! pipectl's, run as a caller outside Batch would, and a spec's `rnn-textgen` commands pointed
//! at it.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::Stack;

/// The workload's binary, built beside pipectl's (`cargo test --workspace` builds it for the
/// workload's own CLI tests).
pub fn workload_bin() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_BIN_EXE_pipectl")).with_file_name("rnn-textgen");
    assert!(
        p.exists(),
        "{} is missing: `cargo build -p rnn-textgen` (cargo test --workspace builds it)",
        p.display()
    );
    p
}

/// Runs the workload against the local AWS as a caller outside Batch would.
pub fn workload(args: &[&str]) -> Output {
    Command::new(workload_bin())
        .args(args)
        .env("AWS_ENDPOINT_URL", super::endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("PIPECTL_RUN_ID")
        .env_remove("AWS_BATCH_JOB_ID")
        .output()
        .expect("run rnn-textgen")
}

impl Stack {
    /// Points the spec's three `rnn-textgen` commands (train, infer, document) at this build
    /// of the workload, `train` and `infer` with the arguments given.
    pub fn workload_commands(&self, train: &[&str], infer: &[&str]) {
        let bin = workload_bin();
        let with = |sub: &str, args: &[&str]| {
            let mut parts = vec![format!("{bin:?}"), format!("{sub:?}")];
            parts.extend(args.iter().map(|a| format!("{a:?}")));
            (
                format!(r#"command = ["rnn-textgen", "{sub}"]"#),
                format!("command = [{}]", parts.join(", ")),
            )
        };
        let mut text = std::fs::read_to_string(&self.spec).unwrap();
        for (from, to) in [
            with("train", train),
            with("infer", infer),
            with("document", &[]),
        ] {
            text = text.replace(&from, &to);
        }
        assert_eq!(text.matches(bin.to_str().unwrap()).count(), 3);
        std::fs::write(&self.spec, text).unwrap();
    }
}
