//! The policy read as an attacker holding it would: a small evaluator of the statements
//! pipectl prints (Allow unless an explicit Deny; actions and resources with `*` and `?`;
//! StringEquals, StringLike and ArnEquals on the request's context, a missing key failing the
//! condition, as IAM does), then the escalations the policy must not allow, each beside the
//! legitimate call it must still allow so that the evaluator cannot pass by denying everything.

use std::collections::HashMap;

use serde_json::Value;

use super::*;
use crate::permissions::{ALL, RUN, UP};

#[test]
fn run_alone_submits_and_ends_only_the_stacks_jobs() {
    let p = policy(&target("rnn"), RUN);
    let job = format!("arn:aws:batch:us-east-1:{ACCT}:job/0a1b2c");
    assert!(allowed(
        &p,
        &req(
            "batch:TerminateJob",
            &job,
            &[("aws:ResourceTag/pipectl:stack", "rnn")]
        )
    ));
    assert!(!allowed(
        &p,
        &req(
            "batch:DeleteJobQueue",
            &format!("arn:aws:batch:us-east-1:{ACCT}:job-queue/rnn-q"),
            &[]
        )
    ));
}

fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

struct Request<'a> {
    action: &'a str,
    resource: String,
    context: HashMap<&'a str, Vec<String>>,
}

fn req<'a>(action: &'a str, resource: &str, context: &[(&'a str, &str)]) -> Request<'a> {
    let mut c: HashMap<&str, Vec<String>> = HashMap::new();
    for (k, v) in context {
        c.entry(*k).or_default().push((*v).to_string());
    }
    Request {
        action,
        resource: resource.to_string(),
        context: c,
    }
}

fn condition_holds(cond: &Value, r: &Request) -> bool {
    let Some(ops) = cond.as_object() else {
        return true;
    };
    ops.iter().all(|(op, keys)| {
        keys.as_object().unwrap().iter().all(|(key, want)| {
            let Some(have) = r.context.get(key.as_str()) else {
                return false;
            };
            let want = strings(want);
            have.iter().all(|h| {
                want.iter().any(|w| match op.as_str() {
                    "StringEquals" | "ArnEquals" => w == h,
                    "StringLike" | "ArnLike" => glob(w, h),
                    other => panic!("the evaluator does not know {other}"),
                })
            })
        })
    })
}

fn matches(st: &Value, r: &Request) -> bool {
    strings(&st["Action"]).iter().any(|a| glob(a, r.action))
        && strings(&st["Resource"])
            .iter()
            .any(|p| glob(p, &r.resource))
        && st.get("Condition").is_none_or(|c| condition_holds(c, r))
}

fn allowed(policy: &Value, r: &Request) -> bool {
    let sts = policy["Statement"].as_array().unwrap();
    let hit = |effect: &str| sts.iter().any(|s| s["Effect"] == effect && matches(s, r));
    hit("Allow") && !hit("Deny")
}

const ACCT: &str = "123456789012";

fn target(stack: &str) -> Target {
    Target {
        stack: stack.into(),
        region: "us-east-1".into(),
        account: ACCT.into(),
        compute_environments: vec![format!("{stack}-gpu")],
        job_queues: vec![format!("{stack}-q")],
        job_definitions: vec![format!("{stack}-training")],
        buckets: vec![format!("pipectl-{stack}-input-{ACCT}")],
        passed_roles: vec![],
        fsx_links: true,
        batch_service_linked: true,
    }
}

fn role(stack: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:role/pipectl/{stack}/{name}")
}

#[test]
fn no_role_without_the_boundary_and_no_policy_but_the_named_one() {
    let p = policy(&target("rnn"), ALL);
    let boundary = boundary_arn("rnn", ACCT);
    let r = role("rnn", "pipectl-rnn-job");
    let with_boundary = [("iam:PermissionsBoundary", boundary.as_str())];
    // what up does
    assert!(allowed(&p, &req("iam:CreateRole", &r, &with_boundary)));
    assert!(allowed(&p, &req("iam:PutRolePolicy", &r, &with_boundary)));
    let ecs = [
        ("iam:PermissionsBoundary", boundary.as_str()),
        ("iam:PolicyARN", ECS_INSTANCE_POLICY),
    ];
    assert!(allowed(&p, &req("iam:AttachRolePolicy", &r, &ecs)));
    // what an attacker would
    assert!(
        !allowed(&p, &req("iam:CreateRole", &r, &[])),
        "a role without a boundary"
    );
    let other = format!("arn:aws:iam::{ACCT}:policy/Permissive");
    assert!(!allowed(
        &p,
        &req("iam:CreateRole", &r, &[("iam:PermissionsBoundary", &other)])
    ));
    assert!(
        !allowed(&p, &req("iam:PutRolePolicy", &r, &[])),
        "inline policy on an unbounded role"
    );
    let admin = [
        ("iam:PermissionsBoundary", boundary.as_str()),
        (
            "iam:PolicyARN",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
    ];
    assert!(
        !allowed(&p, &req("iam:AttachRolePolicy", &r, &admin)),
        "AdministratorAccess"
    );
    assert!(!allowed(
        &p,
        &req(
            "iam:PutRolePermissionsBoundary",
            &r,
            &[("iam:PermissionsBoundary", &other)]
        )
    ));
    assert!(!allowed(
        &p,
        &req("iam:DeleteRolePermissionsBoundary", &r, &[])
    ));
    for a in BOUNDARY_GUARDED {
        assert!(!allowed(&p, &req(a, &boundary, &[])), "{a} on the boundary");
    }
    // roles outside the stack's path: not even with the boundary
    let admin_role = format!("arn:aws:iam::{ACCT}:role/admin");
    assert!(!allowed(
        &p,
        &req("iam:CreateRole", &admin_role, &with_boundary)
    ));
    assert!(!allowed(
        &p,
        &req(
            "iam:PassRole",
            &admin_role,
            &[("iam:PassedToService", "ecs-tasks.amazonaws.com")]
        )
    ));
    assert!(allowed(
        &p,
        &req(
            "iam:PassRole",
            &r,
            &[("iam:PassedToService", "ecs-tasks.amazonaws.com")]
        )
    ));
    assert!(!allowed(
        &p,
        &req(
            "iam:PassRole",
            &r,
            &[("iam:PassedToService", "lambda.amazonaws.com")]
        )
    ));
}

#[test]
fn tags_are_written_only_by_create_calls_or_on_what_already_carries_them() {
    let p = policy(&target("rnn"), ALL);
    let vpc = format!("arn:aws:ec2:us-east-1:{ACCT}:vpc/vpc-0someone");
    let tag = ("aws:RequestTag/pipectl:stack", "rnn");
    assert!(allowed(
        &p,
        &req(
            "ec2:CreateTags",
            &vpc,
            &[tag, ("ec2:CreateAction", "CreateVpc")]
        )
    ));
    assert!(
        !allowed(&p, &req("ec2:CreateTags", &vpc, &[tag])),
        "an existing VPC tagged into the stack"
    );
    let fs = format!("arn:aws:fsx:us-east-1:{ACCT}:file-system/fs-0someone");
    assert!(
        !allowed(&p, &req("fsx:TagResource", &fs, &[tag])),
        "an existing file system tagged into the stack"
    );
    assert!(allowed(
        &p,
        &req(
            "fsx:TagResource",
            &fs,
            &[tag, ("aws:ResourceTag/pipectl:stack", "rnn")]
        )
    ));
    // and once tagged by someone else, nothing of pipectl's reaches it
    assert!(!allowed(&p, &req("fsx:DeleteFileSystem", &fs, &[])));
    assert!(!allowed(
        &p,
        &req(
            "ec2:DeleteVpc",
            &vpc,
            &[("aws:ResourceTag/pipectl:stack", "other")]
        )
    ));
}

#[test]
fn a_stack_whose_name_prefixes_another_reaches_none_of_its_resources() {
    let p = policy(&target("rnn"), ALL);
    let theirs = target("rnn-textgen");
    let ce = format!(
        "arn:aws:batch:us-east-1:{ACCT}:compute-environment/{}",
        theirs.compute_environments[0]
    );
    let q = format!(
        "arn:aws:batch:us-east-1:{ACCT}:job-queue/{}",
        theirs.job_queues[0]
    );
    let bucket = format!("arn:aws:s3:::{}", theirs.buckets[0]);
    assert!(!allowed(
        &p,
        &req("batch:DeleteComputeEnvironment", &ce, &[])
    ));
    assert!(!allowed(&p, &req("batch:DeleteJobQueue", &q, &[])));
    assert!(!allowed(&p, &req("s3:DeleteBucket", &bucket, &[])));
    assert!(!allowed(
        &p,
        &req("s3:DeleteObject", &format!("{bucket}/model.bin"), &[])
    ));
    let mine = format!("arn:aws:batch:us-east-1:{ACCT}:compute-environment/rnn-gpu");
    assert!(allowed(
        &p,
        &req("batch:DeleteComputeEnvironment", &mine, &[])
    ));
    // the account unknown: `?` for each of its 12 digits still fits only this stack's names
    let mut t = target("rnn");
    t.account = "*".into();
    t.buckets = vec!["pipectl-rnn-input-????????????".into()];
    let p = policy(&t, ALL);
    assert!(allowed(
        &p,
        &req(
            "s3:DeleteBucket",
            &format!("arn:aws:s3:::pipectl-rnn-input-{ACCT}"),
            &[]
        )
    ));
    assert!(!allowed(
        &p,
        &req(
            "s3:DeleteBucket",
            &format!("arn:aws:s3:::pipectl-rnn-input-x-{ACCT}"),
            &[]
        )
    ));
}

#[test]
fn only_the_stacks_jobs_can_be_ended_or_tagged() {
    let p = policy(&target("rnn"), ALL);
    let job = format!("arn:aws:batch:us-east-1:{ACCT}:job/0a1b2c");
    let queue = format!("arn:aws:batch:us-east-1:{ACCT}:job-queue/rnn-q");
    let def = format!("arn:aws:batch:us-east-1:{ACCT}:job-definition/rnn-training:3");
    for r in [&queue, &def, &job] {
        assert!(allowed(&p, &req("batch:SubmitJob", r, &[])), "{r}");
    }
    let theirs = format!("arn:aws:batch:us-east-1:{ACCT}:job-queue/rnn-textgen-q");
    assert!(!allowed(&p, &req("batch:SubmitJob", &theirs, &[])));
    let ours = ("aws:ResourceTag/pipectl:stack", "rnn");
    assert!(allowed(&p, &req("batch:TerminateJob", &job, &[ours])));
    assert!(!allowed(&p, &req("batch:TerminateJob", &job, &[])));
    assert!(!allowed(
        &p,
        &req(
            "batch:TerminateJob",
            &job,
            &[("aws:ResourceTag/pipectl:stack", "rnn-textgen")]
        )
    ));
    assert!(
        !allowed(&p, &req("batch:CancelJob", &job, &[ours])),
        "CancelJob is never used"
    );
    assert!(
        !allowed(
            &p,
            &req(
                "batch:TagResource",
                &job,
                &[("aws:RequestTag/pipectl:stack", "rnn")]
            )
        ),
        "someone's job tagged into the stack"
    );
}

#[test]
fn policies_are_scoped_by_command_and_reads_alone_take_every_resource() {
    let up = policy(&target("s1"), UP);
    let text = up.to_string();
    assert!(!text.contains("batch:SubmitJob"), "up submits nothing");
    assert!(!text.contains("\"Action\":\"*\"") && !text.contains("\"s3:*\""));
    let run = policy(&target("s1"), RUN).to_string();
    assert!(run.contains("batch:SubmitJob") && !run.contains("ec2:CreateVpc"));
    for st in up["Statement"].as_array().unwrap() {
        if st["Resource"] == "*" && st.get("Condition").is_none() {
            for a in strings(&st["Action"]) {
                let name = a.split(':').nth(1).unwrap();
                assert!(
                    ["Describe", "List", "Get"]
                        .iter()
                        .any(|p| name.starts_with(p)),
                    "{a} on every resource without a condition"
                );
            }
        }
        for a in strings(&st["Action"]) {
            assert!(!a.contains('*'), "{a}: a wildcard action");
        }
    }
}

#[test]
fn the_evaluator_knows_what_it_reads() {
    assert!(glob("arn:aws:s3:::b-????", "arn:aws:s3:::b-1234"));
    assert!(!glob("arn:aws:s3:::b-????", "arn:aws:s3:::b-12345"));
    assert!(glob("ec2:*", "ec2:CreateTags") && !glob("ec2:Create", "ec2:CreateTags"));
    let p = serde_json::json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"k": "v"}}},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
    ]});
    assert!(allowed(
        &p,
        &req("s3:GetObject", "arn:aws:s3:::y/o", &[("k", "v")])
    ));
    assert!(!allowed(&p, &req("s3:GetObject", "arn:aws:s3:::y/o", &[])));
    assert!(!allowed(
        &p,
        &req("s3:GetObject", "arn:aws:s3:::x/o", &[("k", "v")])
    ));
}
