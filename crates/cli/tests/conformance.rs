//! What AWS does that a friendly emulator would not, through pipectl end to end against the
//! strict local AWS: client tokens across lifetimes of a stack, IAM propagation, Lustre
//! versions, DELETED records, and a `down` stopped while queues were being deleted. Checked
//! with describe calls and the local AWS's request log, never with pipectl's own word.

mod stack;

use std::process::Stdio;
use std::time::{Duration, Instant};

use stack::{Delays, aws, ok, stack, tagged};

/// The request log entries of one operation (every one for `""`) since it was last cleared.
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

#[tokio::test(flavor = "multi_thread")]
async fn up_down_up_down_sends_each_token_once_and_recovers_from_iam_propagation() {
    const CREATES: [(&str, &str); 3] = [
        ("CreateNatGateway", "ClientToken"),
        ("CreateLaunchTemplate", "ClientToken"),
        ("CreateFileSystem", "ClientRequestToken"),
    ];
    // Roles Batch cannot use for 8 s: the compute environments go INVALID first.
    let _delays = Delays::set(r#"{"iam_propagation": 8}"#);
    let s = stack("two-hour-pipeline.toml", "lifetimes");
    s.local_commands("echo train", "echo infer", "echo docs");
    let aws = aws().await;
    // per round, per operation: the tokens sent
    let mut lifetimes: Vec<Vec<Vec<String>>> = Vec::new();
    let mut updates_before = 0;
    for round in 0..2 {
        let up = ok(&s.run(&["up", "--yes"]));
        assert!(up.contains("37 created"), "round {round}: {up}");
        let sent: Vec<Vec<String>> = CREATES
            .iter()
            .enumerate()
            .map(|(i, (op, member))| {
                let all = tokens(op, member, &s.name);
                let before = lifetimes.iter().map(|l| l[i].len()).sum::<usize>();
                all[before.min(all.len())..].to_vec()
            })
            .collect();
        assert!(
            sent.iter().all(|t| !t.is_empty()),
            "round {round}: {sent:?}"
        );
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
        assert_eq!(
            ours.file_system_type_version(),
            Some("2.15"),
            "not FSx's 2.10 default"
        );
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
        if round == 0 {
            job_role_and_imds(&aws, &s.name).await;
        }
        // A compute environment validated within 8 s of its roles' creation went INVALID with an
        // sts:AssumeRole reason and was validated again by `up` (an UpdateComputeEnvironment),
        // then VALID.
        let updates = logged("UpdateComputeEnvironment")
            .iter()
            .filter(|e| {
                e["parameters"]["computeEnvironment"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with(&s.name)
                    && e["parameters"]["state"] == "ENABLED" // not `down`'s DISABLED
            })
            .count();
        // (how many went INVALID depends on how soon after its roles each was created)
        assert!(
            updates > updates_before,
            "round {round}: no compute environment was validated again"
        );
        updates_before = updates;
        let live = stack::compute_environments(&aws, &s.name).await;
        assert_eq!(live.len(), 3);
        assert!(
            live.iter()
                .all(|c| c.status().map(aws_sdk_batch::types::CeStatus::as_str) == Some("VALID"))
        );

        // up → run → down, twice; the run-time commands' calls go into the request log too
        ok(&s.run(&["run"])); // exit 0: every phase succeeded
        if round == 1 {
            let report = s.dir.path().join("report");
            ok(&s.run(&[
                "report",
                "--run",
                "latest",
                "--out",
                report.to_str().unwrap(),
                "--spec",
            ]));
        }
        let down = ok(&s.run(&["down", "--yes"]));
        assert!(down.contains("deleted"), "{down}");
        assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
        // Batch still lists them, as DELETED; `status` counts them as gone.
        let status = ok(&s.run(&["status"]));
        assert!(status.contains("0 of 37 resources exist"), "{status}");
    }
    every_pipectl_request_is_in_the_permission_table();
    let first: Vec<&String> = lifetimes[0].iter().flatten().collect();
    let reused: Vec<_> = lifetimes[1]
        .iter()
        .flatten()
        .filter(|t| first.contains(t))
        .collect();
    assert!(
        reused.is_empty(),
        "a token of the first lifetime was sent again: {reused:?}"
    );
    for op in [
        "CreateNatGateway",
        "CreateLaunchTemplate",
        "CreateFileSystem",
        "CreateComputeEnvironment",
    ] {
        let refused: Vec<_> = logged(op)
            .into_iter()
            .filter(|e| e["parameters"].to_string().contains(&s.name) && !e["code"].is_null())
            .collect();
        assert!(refused.is_empty(), "{op} refused: {refused:?}");
    }
}

/// Every request the pipectl binary made (its User-Agent names it) is an operation the IAM
/// table of `pipectl iam-policy` has: the printed policy cannot miss a call.
fn every_pipectl_request_is_in_the_permission_table() {
    let mut missing = std::collections::BTreeSet::new();
    let mut seen = 0;
    for e in logged("") {
        if !e["user_agent"]
            .as_str()
            .unwrap_or("")
            .contains("app/pipectl")
        {
            continue;
        }
        seen += 1;
        let (svc, op) = (
            e["service"].as_str().unwrap(),
            e["operation"].as_str().unwrap(),
        );
        if !pipectl_aws::permissions::known(svc, op) {
            missing.insert(format!("{svc}:{op}"));
        }
    }
    assert!(
        seen > 100,
        "the request log has pipectl's requests ({seen})"
    );
    assert!(
        missing.is_empty(),
        "not in pipectl_aws::permissions::OPERATIONS: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn up_after_a_down_stopped_while_queues_were_deleting_creates_them_again() {
    let _delays = Delays::set(r#"{"queue_delete": 4}"#);
    let s = stack("two-hour-pipeline.toml", "stopped-down");
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));
    let mut down =
        stack::pipectl_command(s.dir.path(), &["down", "--yes", s.spec.to_str().unwrap()]);
    let mut child = down
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let qs = aws.batch.describe_job_queues().send().await.unwrap();
        let deleting = qs.job_queues().iter().any(|q| {
            q.job_queue_name().unwrap_or("").starts_with(&s.name)
                && q.status().map(aws_sdk_batch::types::JqStatus::as_str) == Some("DELETING")
        });
        if deleting {
            child.kill().unwrap();
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "down finished before a queue was seen DELETING"
        );
        assert!(Instant::now() < deadline, "no queue went DELETING");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.wait().unwrap();
    let started = Instant::now();
    let up = ok(&s.run(&["up", "--yes"]));
    assert!(up.contains("is up"), "{up}");
    assert!(
        started.elapsed() < Duration::from_secs(180),
        "up took {:?}",
        started.elapsed()
    );
    let status = s.status();
    assert!(stack::unconverged(&status).is_empty(), "{status:#}");
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

/// Killed while a compute environment was INVALID because its new role had not propagated
/// (Batch validates a compute environment's roles when it is created): the next `up` waits for
/// it and validates it again, rather than asking for a `down` and an `up`.
#[tokio::test(flavor = "multi_thread")]
async fn up_killed_while_a_role_propagates_validates_the_environment_again() {
    let _delays = Delays::set(r#"{"iam_propagation": 8}"#);
    let s = stack("two-hour-pipeline.toml", "propagating");
    let aws = aws().await;
    let seen = s.killed_when(&["up"], |line| line.contains("validating again"));
    let ce = seen
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .map(|id| id.trim_end_matches(':').to_string())
        .unwrap();
    let again = s.run(&["up", "--yes"]);
    let up = ok(&again);
    assert!(up.contains("is up"), "{up}");
    let plan = stack::err(&again);
    assert!(
        plan.lines()
            .any(|l| l.contains("wait") && l.contains(&format!(" {ce} "))),
        "{ce} is waited for:\n{plan}"
    );
    assert!(plan.contains(" 0 to replace"), "{plan}");
    let ours: Vec<_> = stack::compute_environments(&aws, &s.name)
        .await
        .iter()
        .map(|c| c.status().map(|s| s.as_str().to_string()))
        .collect();
    assert_eq!(ours, vec![Some("VALID".to_string()); 3]);
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

/// A `down` stopped right after the NAT gateway went, its Elastic IP still associated with it
/// (EC2 disassociates it as the gateway is deleted, and refuses a new gateway on it meanwhile
/// with `Resource.AlreadyAssociated`): the next `up` waits for the address and converges, the
/// route tables pointing at the new gateway.
#[tokio::test(flavor = "multi_thread")]
async fn up_after_a_down_stopped_as_the_nat_gateway_went_waits_for_its_address() {
    let _delays = Delays::set(r#"{"eni_release": 8}"#);
    let s = stack("two-hour-pipeline.toml", "eip-held");
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));
    // Stopped right after the NAT gateway (the private route table then points at a new one
    // it is compared with again), then right after the public route table (the private one is
    // to update, and compared again with the new gateway when its turn comes).
    for at in [" nat: ", " rtb-public: "] {
        s.killed_when(&["down"], |line| {
            line.trim_start().starts_with('✓') && line.contains(at)
        });
        let up = ok(&s.run(&["up", "--yes"]));
        assert!(up.contains("is up"), "{up}");
        let status = s.status();
        assert!(
            stack::unconverged(&status).is_empty(),
            "after a down stopped at{at}: {status:#}"
        );
    }
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

/// Jobs run as the stack's job role, whose inline policy names only the stack's buckets and
/// the Pipectl metric namespaces; containers cannot reach the instance's credentials.
async fn job_role_and_imds(aws: &pipectl_aws::Aws, stack_name: &str) {
    let jds = aws
        .batch
        .describe_job_definitions()
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    let ours: Vec<_> = jds
        .job_definitions()
        .iter()
        .filter(|d| {
            d.job_definition_name()
                .unwrap_or("")
                .starts_with(stack_name)
        })
        .collect();
    assert_eq!(ours.len(), 3);
    let role_name = format!("pipectl-{stack_name}-job");
    for d in &ours {
        let arn = d
            .container_properties()
            .and_then(|c| c.job_role_arn())
            .unwrap_or("");
        assert!(arn.ends_with(&format!("/{role_name}")), "{arn}");
    }
    let policy = aws
        .iam
        .get_role_policy()
        .role_name(&role_name)
        .policy_name("pipectl-job")
        .send()
        .await
        .unwrap();
    let doc = policy.policy_document();
    let doc = url::form_urlencoded::parse(format!("d={doc}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_str(&doc)
        .unwrap_or_else(|_| serde_json::from_str(policy.policy_document()).unwrap());
    let text = doc.to_string();
    assert!(
        text.contains(&format!("pipectl-{stack_name}-results-")),
        "{text}"
    );
    assert!(
        text.contains("cloudwatch:namespace") && text.contains("Pipectl/*"),
        "{text}"
    );
    assert!(
        !text.contains("\"s3:*\"") && !text.contains("\"Action\":\"*\""),
        "{text}"
    );
    let lts = aws
        .ec2
        .describe_launch_template_versions()
        .launch_template_name(format!("pipectl-{stack_name}-documentation"))
        .send()
        .await
        .unwrap();
    let md = lts.launch_template_versions()[0]
        .launch_template_data()
        .unwrap()
        .metadata_options()
        .unwrap();
    assert_eq!(md.http_put_response_hop_limit(), Some(1));
    // Logs go to the stack's group, kept 30 days (the default), not forever.
    let group = format!("/pipectl/{stack_name}/jobs");
    for d in &ours {
        let lc = d
            .container_properties()
            .and_then(|c| c.log_configuration())
            .unwrap();
        assert_eq!(lc.options().unwrap()["awslogs-group"], group);
    }
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
    assert_eq!(
        md.http_tokens()
            .map(aws_sdk_ec2::types::LaunchTemplateHttpTokensState::as_str),
        Some("required")
    );
}
