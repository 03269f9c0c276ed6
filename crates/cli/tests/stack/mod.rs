//! Shared by the end-to-end tests against the local AWS (LocalStack, started by
//! `localstack/start`; the tests fail, not skip, when it is not running): a copy of a shipped
//! spec under a unique stack name in its own directory, the `pipectl` binary run there, and an
//! inventory of everything tagged with a stack taken with the SDK directly — not through
//! pipectl's own code.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_ec2::types::Filter;
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
    pub fn state_file(&self) -> PathBuf {
        self.dir
            .path()
            .join(".pipectl/state")
            .join(format!("{}.json", self.name))
    }
}

/// The pipectl binary to run in `dir` with `args`, in a clean environment.
pub fn pipectl_command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipectl"));
    c.args(args)
        .current_dir(dir)
        .env_remove("PIPECTL_LOG")
        .env_remove("AWS_ENDPOINT_URL")
        .env("NO_COLOR", "1");
    c
}

pub fn pipectl_in(dir: &Path, args: &[&str]) -> Output {
    pipectl_command(dir, args).output().expect("run pipectl")
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

fn has(tags: &[(String, String)], stack: &str) -> bool {
    tags.iter().any(|(k, v)| k == "pipectl:stack" && v == stack)
}

/// `kind:id` of every resource carrying `pipectl:stack=<stack>`, in every service pipectl uses.
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

pub async fn tagged(aws: &Aws, stack: &str) -> Vec<String> {
    let mut found = Vec::new();
    let f = Filter::builder()
        .name("tag:pipectl:stack")
        .values(stack)
        .build();
    let ec2 = &aws.ec2;
    let t = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    for v in ec2
        .describe_vpcs()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .vpcs()
    {
        if has(&t(v.tags()), stack) {
            found.push(format!("vpc:{}", v.vpc_id().unwrap()));
        }
    }
    for s in ec2
        .describe_subnets()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .subnets()
    {
        if has(&t(s.tags()), stack) {
            found.push(format!("subnet:{}", s.subnet_id().unwrap()));
        }
    }
    for g in ec2
        .describe_internet_gateways()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .internet_gateways()
    {
        if has(&t(g.tags()), stack) {
            found.push(format!("igw:{}", g.internet_gateway_id().unwrap()));
        }
    }
    for a in ec2
        .describe_addresses()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .addresses()
    {
        if has(&t(a.tags()), stack) {
            found.push(format!("eip:{}", a.allocation_id().unwrap()));
        }
    }
    for n in ec2
        .describe_nat_gateways()
        .filter(f.clone())
        .send()
        .await
        .unwrap()
        .nat_gateways()
    {
        if has(&t(n.tags()), stack) && n.state().map(|s| s.as_str()) != Some("deleted") {
            found.push(format!("nat:{}", n.nat_gateway_id().unwrap()));
        }
    }
    for r in ec2
        .describe_route_tables()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .route_tables()
    {
        if has(&t(r.tags()), stack) {
            found.push(format!("rtb:{}", r.route_table_id().unwrap()));
        }
    }
    for e in ec2
        .describe_vpc_endpoints()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .vpc_endpoints()
    {
        if has(&t(e.tags()), stack)
            && e.state()
                .map(|s| s.as_str().to_ascii_lowercase())
                .as_deref()
                != Some("deleted")
        {
            found.push(format!("vpce:{}", e.vpc_endpoint_id().unwrap()));
        }
    }
    for g in ec2
        .describe_security_groups()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .security_groups()
    {
        if has(&t(g.tags()), stack) {
            found.push(format!("sg:{}", g.group_id().unwrap()));
        }
    }
    for g in ec2
        .describe_placement_groups()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .placement_groups()
    {
        if has(&t(g.tags()), stack) {
            found.push(format!("pg:{}", g.group_name().unwrap()));
        }
    }
    for l in ec2
        .describe_launch_templates()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .launch_templates()
    {
        if has(&t(l.tags()), stack) {
            found.push(format!("lt:{}", l.launch_template_id().unwrap()));
        }
    }
    let iam = &aws.iam;
    for r in iam.list_roles().send().await.unwrap().roles() {
        let tags = iam
            .list_role_tags()
            .role_name(r.role_name())
            .send()
            .await
            .unwrap();
        if has(
            &tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect::<Vec<_>>(),
            stack,
        ) {
            found.push(format!("role:{}", r.role_name()));
        }
    }
    for p in iam
        .list_instance_profiles()
        .send()
        .await
        .unwrap()
        .instance_profiles()
    {
        let tags = iam
            .list_instance_profile_tags()
            .instance_profile_name(p.instance_profile_name())
            .send()
            .await
            .unwrap();
        if has(
            &tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect::<Vec<_>>(),
            stack,
        ) {
            found.push(format!("instance-profile:{}", p.instance_profile_name()));
        }
    }
    let bt = |m: Option<&std::collections::HashMap<String, String>>| {
        m.map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    for c in aws
        .batch
        .describe_compute_environments()
        .send()
        .await
        .unwrap()
        .compute_environments()
    {
        // Batch lists deleted ones with the status DELETED for a while: gone.
        let deleted = c.status().map(|s| s.as_str()) == Some("DELETED");
        if has(&bt(c.tags()), stack) && !deleted {
            found.push(format!("ce:{}", c.compute_environment_name().unwrap()));
        }
    }
    for q in aws
        .batch
        .describe_job_queues()
        .send()
        .await
        .unwrap()
        .job_queues()
    {
        let deleted = q.status().map(|s| s.as_str()) == Some("DELETED");
        if has(&bt(q.tags()), stack) && !deleted {
            found.push(format!("jq:{}", q.job_queue_name().unwrap()));
        }
    }
    for d in aws
        .batch
        .describe_job_definitions()
        .status("ACTIVE")
        .send()
        .await
        .unwrap()
        .job_definitions()
    {
        if has(&bt(d.tags()), stack) {
            found.push(format!("jd:{}", d.job_definition_arn().unwrap()));
        }
    }
    for fs in aws
        .fsx
        .describe_file_systems()
        .send()
        .await
        .unwrap()
        .file_systems()
    {
        let tags: Vec<_> = fs
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        if has(&tags, stack) {
            found.push(format!("fsx:{}", fs.file_system_id().unwrap()));
        }
    }
    for a in aws
        .fsx
        .describe_data_repository_associations()
        .send()
        .await
        .unwrap()
        .associations()
    {
        let tags: Vec<_> = a
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        if has(&tags, stack) {
            found.push(format!("dra:{}", a.association_id().unwrap()));
        }
    }
    for b in aws.s3.list_buckets().send().await.unwrap().buckets() {
        let name = b.name().unwrap();
        // Untagged buckets named after the stack count too: they would be left behind.
        if name.starts_with(&format!("pipectl-{stack}-")) {
            found.push(format!("bucket:{name}"));
            continue;
        }
        if let Ok(t) = aws.s3.get_bucket_tagging().bucket(name).send().await
            && t.tag_set()
                .iter()
                .any(|t| t.key() == "pipectl:stack" && t.value() == stack)
        {
            found.push(format!("bucket:{name}"));
        }
    }
    for d in aws
        .cloudwatch
        .list_dashboards()
        .dashboard_name_prefix(format!("pipectl-{stack}"))
        .send()
        .await
        .unwrap()
        .dashboard_entries()
    {
        found.push(format!("dashboard:{}", d.dashboard_name().unwrap()));
    }
    for g in aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/pipectl/{stack}/"))
        .send()
        .await
        .unwrap()
        .log_groups()
    {
        found.push(format!("log-group:{}", g.log_group_name().unwrap()));
    }
    found.sort();
    found
}

/// Calls the local AWS's fault-injection endpoint; returns its answer.
pub fn control(method: &str, body: &str) -> String {
    control_at("faults", method, body)
}

/// Calls one of the local AWS's control endpoints (`/_pipectl/<what>`); returns its answer.
pub fn control_at(what: &str, method: &str, body: &str) -> String {
    let url = format!("http://127.0.0.1:4566/_pipectl/{what}");
    let o = std::process::Command::new("curl")
        .args([
            "-fsS",
            "-X",
            method,
            "-H",
            "Content-Type: application/json",
            "--data",
            body,
            &url,
        ])
        .output()
        .expect("curl");
    assert!(
        o.status.success(),
        "control endpoint: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Resets one of the local AWS's control endpoints when dropped (also when the test panics).
fn reset(what: &str) {
    let _ = std::process::Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "DELETE",
            &format!("http://127.0.0.1:4566/_pipectl/{what}"),
        ])
        .output();
}

/// Switches fault injection off when dropped (also when the test panics).
pub struct FaultsOff;
impl Drop for FaultsOff {
    fn drop(&mut self) {
        reset("faults");
    }
}

/// Sets local AWS delays (`/_pipectl/config`) and puts the defaults back when dropped.
pub struct Delays;
impl Delays {
    pub fn set(body: &str) -> Delays {
        control_at("config", "POST", body);
        Delays
    }
}
impl Drop for Delays {
    fn drop(&mut self) {
        reset("config");
    }
}
