//! The policy documents pipectl writes, as decisions apart from the calls that write them: the
//! jobs' own role's inline policy, the stack's permissions boundary (the most any role pipectl
//! creates may ever be allowed: what an ECS container instance of Batch does and what the jobs
//! do), the roles' trust policies (with `aws:SourceAccount`/`aws:SourceArn` against the
//! confused deputy where the service documents them), and the names the operator's policy is
//! scoped to.

use pipectl_aws::permissions::{self, INSTANCE_ROLE_ACTIONS, Target};
use pipectl_spec::Spec;
use pipectl_spec::graph::{Graph, Kind};
use pipectl_spec::model::RoleMode;
use serde_json::{Value, json};

/// The jobs' statements: the stack's buckets (objects read, written, deleted; the buckets
/// listed), metrics only under the `Pipectl` namespaces, and Batch's read-only describe calls.
/// The describe calls take no resource-level permission (DescribeJobs has no resource type in
/// the Service Authorization Reference), so they reach every job of the account: the example's
/// documentation job prices the run so far from them. A job can therefore read other jobs'
/// parameters and plain environment variables: give credentials as secrets, never as
/// environment values.
pub fn job_statements(buckets: &[String]) -> Vec<Value> {
    let (arns, objects) = bucket_and_object_arns(buckets);
    let mut statements = vec![json!({
        "Sid": "Metrics",
        "Effect": "Allow",
        "Action": "cloudwatch:PutMetricData",
        "Resource": "*",
        "Condition": {"StringLike": {"cloudwatch:namespace": pipectl_aws::metric_schema::NAMESPACES_ALLOWED}}
    })];
    if !arns.is_empty() {
        statements.push(json!({
            "Sid": "Buckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": arns,
        }));
        statements.push(json!({
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": objects,
        }));
    }
    statements.push(json!({
        "Sid": "BatchRecords",
        "Effect": "Allow",
        "Action": ["batch:DescribeJobs", "batch:DescribeJobQueues", "batch:DescribeComputeEnvironments"],
        "Resource": "*"
    }));
    statements
}

/// The job role's inline policy document.
pub fn job_policy(buckets: &[String]) -> String {
    json!({"Version": "2012-10-17", "Statement": job_statements(buckets)}).to_string()
}

/// The stack's permissions boundary: the job statements and what an ECS container instance does
/// (`AmazonEC2ContainerServiceforEC2Role`'s actions), nothing else: no IAM, no other bucket, no
/// EC2 change. Every role pipectl creates carries it, so a role its operator makes can never
/// be allowed more, whatever policy is put on it.
pub fn boundary_document(spec: &Spec, account: &str) -> Value {
    let mut statements = vec![json!({
        "Sid": "ContainerInstances",
        "Effect": "Allow",
        "Action": INSTANCE_ROLE_ACTIONS,
        "Resource": "*",
    })];
    statements.extend(job_statements(&bucket_names(spec, account)));
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The S3 gateway endpoint's policy: through it, the stack's buckets (what the jobs do), ECR's
/// image layers ("prod-REGION-starport-layer-bucket", which the ECR user guide's VPC endpoint
/// page requires) and Amazon Linux's package repositories (the boot script installs the Lustre
/// client), reads only for those two; every other bucket is out of reach from the stack's
/// private subnets. Interface endpoints keep their default policy (full access to their
/// service): the ECS endpoints take none, and the instance role's boundary is what limits them.
pub fn s3_endpoint_policy(spec: &Spec, account: &str) -> Value {
    let region = &spec.stack.region;
    let (buckets, objects) = bucket_and_object_arns(&bucket_names(spec, account));
    let mut statements = vec![json!({
        "Sid": "ImageLayers",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": [
            format!("arn:aws:s3:::prod-{region}-starport-layer-bucket/*"),
            format!("arn:aws:s3:::al2023-repos-{region}-*/*"),
            format!("arn:aws:s3:::amazonlinux-2-repos-{region}/*"),
        ],
    })];
    if !buckets.is_empty() {
        statements.push(json!({
            "Sid": "StackBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": buckets,
        }));
        statements.push(json!({
            "Sid": "StackObjects",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": objects,
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The policy of the interface endpoint for `service` (`ecr.api`, `logs`, ...), where the
/// service takes one and pipectl knows what the stack needs through it: ECR, pulls of the
/// repositories the phases' images name (and the token a pull starts with); CloudWatch Logs,
/// the stack's log group. `None`: the endpoint keeps its default policy (the ECS endpoints,
/// whose policies ECS has not supported, and any `extra_endpoints`).
pub fn interface_endpoint_policy(spec: &Spec, account: &str, service: &str) -> Option<Value> {
    let region = &spec.stack.region;
    let statements = match service {
        "ecr.api" | "ecr.dkr" => {
            let mut repos: Vec<String> = spec
                .phases
                .iter()
                .filter_map(|p| ecr_repository_arn(&p.image, region))
                .collect();
            repos.sort();
            repos.dedup();
            let mut st = vec![json!({
                "Sid": "Token",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            })];
            if !repos.is_empty() {
                st.push(json!({
                    "Sid": "StackImages",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                    "Resource": repos,
                }));
            }
            st
        }
        "logs" => {
            let group = spec.log_group_name();
            vec![json!({
                "Sid": "StackLogGroup",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [
                    format!("arn:aws:logs:{region}:{account}:log-group:{group}"),
                    format!("arn:aws:logs:{region}:{account}:log-group:{group}:*"),
                ],
            })]
        }
        _ => return None,
    };
    Some(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// `arn:aws:ecr:REGION:ACCOUNT:repository/NAME` of an image in the region's private ECR
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME[:TAG|@DIGEST]`); `None` for any other image.
fn ecr_repository_arn(image: &str, region: &str) -> Option<String> {
    let (host, rest) = image.split_once('/')?;
    let account = host.strip_suffix(&format!(".dkr.ecr.{region}.amazonaws.com"))?;
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let name = rest.split(['@', ':']).next()?;
    (!name.is_empty()).then(|| format!("arn:aws:ecr:{region}:{account}:repository/{name}"))
}

/// The stack's buckets' names in `account`.
pub fn bucket_names(spec: &Spec, account: &str) -> Vec<String> {
    spec.buckets
        .keys()
        .map(|k| bucket_name(&spec.stack.name, k, account))
        .collect()
}

/// A bucket's name: `pipectl-<stack>-<key>-<account>` (S3 names are global).
pub fn bucket_name(stack: &str, key: &str, account: &str) -> String {
    format!("pipectl-{stack}-{key}-{account}")
}

/// The ARNs of buckets and of their objects.
fn bucket_and_object_arns(names: &[String]) -> (Vec<String>, Vec<String>) {
    let buckets: Vec<String> = names.iter().map(|b| format!("arn:aws:s3:::{b}")).collect();
    let objects = buckets.iter().map(|b| format!("{b}/*")).collect();
    (buckets, objects)
}

/// Who may assume a role: the service, from this account only where the service documents
/// the condition keys (Batch: aws:SourceAccount and aws:SourceArn; ECS tasks likewise; EC2
/// documents neither for an instance role, and Batch's instances would fail to assume a role
/// whose trust demanded them).
pub fn trust(principal: &str, region: &str, account: &str) -> String {
    let condition = match principal {
        "batch.amazonaws.com" => Some(json!({
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": format!("arn:aws:batch:{region}:{account}:*")},
        })),
        "ecs-tasks.amazonaws.com" => Some(json!({
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": format!("arn:aws:ecs:{region}:{account}:*")},
        })),
        _ => None,
    };
    let mut st = json!({
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": "sts:AssumeRole",
    });
    if let Some(c) = condition {
        st["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Statement": [st]}).to_string()
}

/// What the operator's policy is scoped to for this spec; `account` `None` writes `*` in ARNs
/// and `????????????` in bucket names (a bucket of another stack never fits it).
pub fn policy_target(spec: &Spec, account: Option<&str>) -> Target {
    let graph = Graph::from_spec(spec);
    let names = |kind: Kind| -> Vec<String> {
        graph
            .resources
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.name.clone())
            .collect()
    };
    let iam = &spec.iam;
    let mut passed_roles: Vec<String> = [&iam.service_role, &iam.instance_role, &iam.job_role]
        .into_iter()
        .filter(|r| r.mode == RoleMode::Existing)
        .filter_map(|r| r.name.clone())
        .map(|n| format!("arn:aws:iam::{}:role/{n}", account.unwrap_or("*")))
        .collect();
    passed_roles.extend(spec.phases.iter().filter_map(|p| p.job_role.clone()));
    passed_roles.sort();
    passed_roles.dedup();
    Target {
        stack: spec.stack.name.clone(),
        region: spec.stack.region.clone(),
        account: account.unwrap_or("*").to_string(),
        compute_environments: names(Kind::ComputeEnvironment),
        job_queues: names(Kind::JobQueue),
        job_definitions: names(Kind::JobDefinition),
        buckets: bucket_names(spec, account.unwrap_or("????????????")),
        passed_roles,
        fsx_links: spec
            .fsx
            .as_ref()
            .is_some_and(|f| !f.data_repositories.is_empty()),
        batch_service_linked: iam.service_role.mode == RoleMode::ServiceLinked,
    }
}

/// The stack's boundary's ARN in `account`.
pub fn boundary_arn(spec: &Spec, account: &str) -> String {
    permissions::boundary_arn(&spec.stack.name, account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_holds_the_jobs_and_the_instances_and_nothing_that_grants() {
        let spec = crate::seed_spec();
        let doc = boundary_document(&spec, "123456789012").to_string();
        assert!(
            doc.contains("arn:aws:s3:::pipectl-two-hour-pipeline-documentation-123456789012/*")
        );
        assert!(doc.contains("ecs:RegisterContainerInstance"));
        for never in ["iam:", "ec2:Run", "ec2:Terminate", "sts:", "\"*:", "s3:*"] {
            assert!(!doc.contains(never), "{never} in the boundary");
        }
        // the boundary's job statements are the job role's policy
        let job = job_policy(&bucket_names(&spec, "123456789012"));
        let job: Value = serde_json::from_str(&job).unwrap();
        for st in job["Statement"].as_array().unwrap() {
            assert!(doc.contains(&st.to_string()), "{st}");
        }
    }

    #[test]
    fn the_s3_endpoint_reaches_the_stacks_buckets_image_layers_and_packages_only() {
        let spec = crate::seed_spec();
        let doc = s3_endpoint_policy(&spec, "123456789012").to_string();
        assert!(doc.contains("arn:aws:s3:::pipectl-two-hour-pipeline-results-123456789012/*"));
        assert!(doc.contains("prod-us-east-1-starport-layer-bucket/*"));
        assert!(
            !doc.contains("\"arn:aws:s3:::*\"") && !doc.contains("s3:*"),
            "{doc}"
        );
    }

    #[test]
    fn interface_endpoints_reach_the_stacks_images_and_log_group() {
        let mut spec = crate::seed_spec();
        spec.phases[0].image =
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train:1@sha256:ab".into();
        let ecr = interface_endpoint_policy(&spec, "123456789012", "ecr.dkr")
            .unwrap()
            .to_string();
        assert!(
            ecr.contains("arn:aws:ecr:us-east-1:123456789012:repository/team/train\""),
            "{ecr}"
        );
        assert!(
            !ecr.contains("python"),
            "public images are not ECR repositories: {ecr}"
        );
        let logs = interface_endpoint_policy(&spec, "123456789012", "logs")
            .unwrap()
            .to_string();
        assert!(
            logs.contains(&format!("log-group:{}:*", spec.log_group_name())),
            "{logs}"
        );
        assert!(interface_endpoint_policy(&spec, "123456789012", "ecs").is_none());
        assert_eq!(
            ecr_repository_arn(
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1",
                "us-east-1"
            ),
            None
        );
    }

    #[test]
    fn trust_policies_name_the_account_where_the_service_documents_it() {
        let t: Value = serde_json::from_str(&trust(
            "ecs-tasks.amazonaws.com",
            "us-east-1",
            "123456789012",
        ))
        .unwrap();
        let c = &t["Statement"][0]["Condition"];
        assert_eq!(c["StringEquals"]["aws:SourceAccount"], "123456789012");
        assert_eq!(
            c["ArnLike"]["aws:SourceArn"],
            "arn:aws:ecs:us-east-1:123456789012:*"
        );
        let ec2: Value =
            serde_json::from_str(&trust("ec2.amazonaws.com", "us-east-1", "123456789012")).unwrap();
        assert!(ec2["Statement"][0].get("Condition").is_none());
    }

    #[test]
    fn the_operator_policy_names_the_stacks_resources_exactly() {
        let mut spec = crate::seed_spec();
        spec.phases[0].job_role = Some("arn:aws:iam::123456789012:role/team-trainer".into());
        let t = policy_target(&spec, None);
        assert!(
            t.compute_environments
                .iter()
                .all(|n| n.starts_with("two-hour-pipeline-"))
        );
        assert_eq!(
            t.compute_environments.len(),
            spec.compute_environments.len()
        );
        assert!(t.buckets.iter().all(|b| b.ends_with("-????????????")));
        assert!(
            t.passed_roles
                .contains(&"arn:aws:iam::123456789012:role/team-trainer".to_string())
        );
        assert!(t.fsx_links && t.batch_service_linked);
    }
}
