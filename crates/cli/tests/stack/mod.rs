//! Shared by the end-to-end tests against the local AWS (LocalStack, started by
//! `localstack/start`; the tests fail, not skip, when it is not running): a copy of a shipped
//! spec under a unique stack name in its own directory, the `pipectl` binary run there, and an
//! inventory of everything tagged with a stack taken with the SDK directly — not through
//! pipectl's own code.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use pipectl_aws::{Aws, AwsOptions};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Stack {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub spec: PathBuf,
}

static N: AtomicU32 = AtomicU32::new(0);

/// A copy of `infra-specs/<file>` (or of `file` from the repository's root when it names a
/// directory) renamed to a stack name unique to this test run.
pub fn stack(file: &str, tag: &str) -> Stack {
    let source = if file.contains('/') {
        root().join(file)
    } else {
        root().join("infra-specs").join(file)
    };
    let text = std::fs::read_to_string(&source).unwrap();
    let file = source.file_name().unwrap().to_str().unwrap();
    let original = text
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("spec has a stack name")
        .to_string();
    let name = format!(
        "t{}-{tag}-{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::SeqCst)
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join(file);
    std::fs::write(
        &spec,
        with_own_gpu_image(&text.replacen(
            &format!("name = \"{original}\""),
            &format!("name = \"{name}\""),
            1,
        )),
    )
    .unwrap();
    Stack { name, dir, spec }
}

/// The seed's g3s.xlarge has no Batch-provided image (the local AWS refuses it, as AWS does):
/// the copy names an AMI of its own, as a user must on AWS (the local AWS does not look inside
/// AMIs).
pub const OWN_GPU_IMAGE: &str = "ami-0123456789abcdef0";

fn with_own_gpu_image(text: &str) -> String {
    text.replace(
        "instance_types = [\"g3s.xlarge\"]\n",
        &format!("instance_types = [\"g3s.xlarge\"]\nimage_id = \"{OWN_GPU_IMAGE}\"\n"),
    )
}

impl Stack {
    /// Gives the seed spec's three phases commands that run here in seconds (the local AWS
    /// runs a job's command as a host process).
    pub fn local_commands(&self, training: &str, inference: &str, documentation: &str) {
        let text = std::fs::read_to_string(&self.spec).unwrap();
        let mut out = String::new();
        let mut phase = "";
        for l in text.lines() {
            if let Some(n) = l.strip_prefix("name = \"") {
                phase = match n.trim_end_matches('"') {
                    "training" => training,
                    "inference" => inference,
                    "documentation" => documentation,
                    _ => phase,
                };
            }
            if l.starts_with("command = [") {
                out.push_str(&format!("command = [\"sh\", \"-c\", {phase:?}]\n"));
            } else {
                out.push_str(l);
                out.push('\n');
            }
        }
        assert_eq!(
            out.matches("command = [\"sh\"").count(),
            3,
            "three phases rewritten"
        );
        std::fs::write(&self.spec, out).unwrap();
    }

    /// The run record the runs directory holds (the only one unless `id` says which).
    pub fn record(&self, id: Option<&str>) -> serde_json::Value {
        let dir = self.dir.path().join(".pipectl/runs");
        let path = match id {
            Some(id) => dir.join(format!("{id}.json")),
            None => {
                let files: Vec<_> = std::fs::read_dir(&dir)
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect();
                assert_eq!(files.len(), 1, "{files:?}");
                files[0].clone()
            }
        };
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut full: Vec<&str> = args.to_vec();
        full.push(self.spec.to_str().unwrap());
        pipectl_in(self.dir.path(), &full)
    }
    /// Runs `pipectl ARGS --yes SPEC` and SIGKILLs it at the first stderr line `at` accepts;
    /// fails the test if it finished first. Returns the stderr lines it printed.
    pub fn killed_when(&self, args: &[&str], mut at: impl FnMut(&str) -> bool) -> Vec<String> {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--yes", self.spec.to_str().unwrap()]);
        let mut child = pipectl_command(self.dir.path(), &full)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = Vec::new();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        for line in stderr.lines() {
            let line = line.unwrap();
            let stop = at(&line);
            seen.push(line);
            if stop {
                child.kill().unwrap();
                break;
            }
        }
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "pipectl {args:?} was meant to be killed, but it finished:\n{}",
            seen.join("\n")
        );
        seen
    }
    /// `pipectl status --output json` of the stack.
    pub fn status(&self) -> serde_json::Value {
        serde_json::from_str(&ok(&self.run(&["status", "--output", "json"]))).unwrap()
    }
    pub fn state_file(&self) -> PathBuf {
        self.dir
            .path()
            .join(".pipectl/state")
            .join(format!("{}.json", self.name))
    }
}

/// The local AWS these tests use: `PIPECTL_TEST_ENDPOINT` when set (the test command runs
/// some test binaries against a second LocalStack), else pipectl's default local endpoint.
pub fn endpoint() -> String {
    std::env::var("PIPECTL_TEST_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| pipectl_aws::LOCAL_ENDPOINT.to_string())
}

/// The pipectl binary to run in `dir` with `args`, in a clean environment (talking to
/// [`endpoint`]: by its default when that is the default, so that the default is what runs).
/// Before an `up` of a spec (its last argument), the stack's permissions boundary is
/// bootstrapped, as an administrator does once per stack (a no-op when it is there already).
/// An invalid spec's bootstrap makes no AWS call, as its `up` does not.
pub fn pipectl_command(dir: &Path, args: &[&str]) -> Command {
    if args.first() == Some(&"up")
        && let Some(spec) = args.last().filter(|a| a.ends_with(".toml"))
    {
        // not asserted: an invalid spec or an unreachable endpoint fails it as it fails the
        // `up` under test, and a missing boundary fails that `up` with its own error
        let _ = pipectl_command(dir, &["bootstrap", spec]).output();
    }
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipectl"));
    c.args(args)
        .current_dir(dir)
        .env_remove("PIPECTL_LOG")
        .env("NO_COLOR", "1");
    let endpoint = endpoint();
    if endpoint == pipectl_aws::LOCAL_ENDPOINT {
        c.env_remove("AWS_ENDPOINT_URL");
    } else {
        c.env("AWS_ENDPOINT_URL", endpoint);
    }
    c
}

pub fn pipectl_in(dir: &Path, args: &[&str]) -> Output {
    pipectl_command(dir, args).output().expect("run pipectl")
}

/// The JSON lines `run --output json` printed: its events, and the record (the last line).
pub fn run_lines(stdout: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rec = lines.last().cloned().unwrap();
    (lines, rec)
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "pipectl failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        out(o),
        err(o)
    );
    out(o)
}

pub async fn aws() -> Aws {
    let aws = pipectl_aws::connect(
        &AwsOptions {
            max_attempts: 8,
            endpoint_url: Some(endpoint()),
            ..Default::default()
        },
        "us-east-1",
    )
    .await;
    if let Err(e) = aws.sts.get_caller_identity().send().await {
        panic!(
            "the local AWS is not answering at {:?} (start it with localstack/start): {e:?}",
            aws.endpoint
        );
    }
    aws
}

/// The metrics CloudWatch lists in `namespace` for `stack`, as `phase/metric`, sorted.
pub async fn metrics_of(aws: &Aws, namespace: &str, stack: &str) -> Vec<String> {
    let listed = aws
        .cloudwatch
        .list_metrics()
        .namespace(namespace)
        .dimensions(
            aws_sdk_cloudwatch::types::DimensionFilter::builder()
                .name("Stack")
                .value(stack)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut out: Vec<String> = listed
        .metrics()
        .iter()
        .map(|m| {
            let phase = m
                .dimensions()
                .iter()
                .find(|d| d.name() == Some("Phase"))
                .and_then(|d| d.value())
                .unwrap_or("?");
            format!("{phase}/{}", m.metric_name().unwrap_or_default())
        })
        .collect();
    out.sort();
    out
}

mod census;
mod control;
mod workload;
// Each test binary uses a part of these.
#[allow(unused_imports)]
pub use census::{census, compute_environments, tagged};
#[allow(unused_imports)]
pub use control::*;
#[allow(unused_imports)]
pub use workload::*;

/// The rows of a `status` answer that are missing or differ from the spec (none once the stack
/// converged).
pub fn unconverged(status: &serde_json::Value) -> Vec<&serde_json::Value> {
    status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["exists"] != true || r["drift"].as_array().is_none_or(|d| !d.is_empty()))
        .collect()
}
