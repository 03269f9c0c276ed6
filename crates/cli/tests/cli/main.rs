//! The `pipectl` binary as a user runs it: outputs, exit codes, error messages. Snapshot
//! files under tests/snapshots/ hold the exact human-readable output; regenerate them with
//! `UPDATE_SNAPSHOTS=1 cargo test -p pipectl-cli` and review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod connection;
mod cost;
mod inputs;
mod policy_lint;
mod shell;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pipectl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(args)
        .current_dir(root())
        .env_remove("PIPECTL_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipectl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

const SEED: &str = "infra-specs/two-hour-pipeline.toml";
const SEED_PRICES: &str = "infra-specs/prices/seed.toml";
