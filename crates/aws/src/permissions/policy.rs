//! The operator's policy from the table: one statement per scope, with the stack's exact names,
//! tag conditions and the permissions boundary every role it creates must carry, plus the
//! explicit denies that keep the boundary in place.

use serde_json::{Value, json};

use super::{OPERATIONS, Scope};

/// The AWS managed policy the ECS instance role gets, the only one pipectl attaches
/// (`iam:PolicyARN`).
pub const ECS_INSTANCE_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role";

/// What an ECS container instance of Batch does (the actions of
/// `AmazonEC2ContainerServiceforEC2Role`): the permissions boundary lets roles have these and
/// the jobs' own, nothing more.
pub const INSTANCE_ROLE_ACTIONS: &[&str] = &[
    "ec2:DescribeTags",
    "ecs:CreateCluster",
    "ecs:DeregisterContainerInstance",
    "ecs:DiscoverPollEndpoint",
    "ecs:Poll",
    "ecs:RegisterContainerInstance",
    "ecs:StartTelemetrySession",
    "ecs:UpdateContainerInstancesState",
    "ecs:SubmitAttachmentStateChanges",
    "ecs:SubmitContainerStateChange",
    "ecs:SubmitTaskStateChange",
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
];

/// Changes to the boundary policy itself, denied to the operator outright (an administrator
/// creates it with `pipectl bootstrap`).
pub const BOUNDARY_GUARDED: &[&str] = &[
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
];

/// EC2's create calls whose tags `ec2:CreateTags` is allowed for (`ec2:CreateAction`).
const EC2_CREATES: &[&str] = &[
    "CreateVpc",
    "CreateSubnet",
    "CreateSecurityGroup",
    "CreateRouteTable",
    "CreateInternetGateway",
    "AllocateAddress",
    "CreateNatGateway",
    "CreateVpcEndpoint",
    "CreateLaunchTemplate",
    "CreatePlacementGroup",
];

/// The names a policy is generated for: the stack, its region and account (`*` when unknown),
/// and every name of it that an ARN can carry exactly.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The stack's name.
    pub stack: String,
    /// Region code in the ARNs.
    pub region: String,
    /// Account id in the ARNs; `*` when unknown.
    pub account: String,
    /// The compute environments', job queues' and job definitions' physical names.
    pub compute_environments: Vec<String>,
    /// Job queues' physical names.
    pub job_queues: Vec<String>,
    /// Job definitions' physical names.
    pub job_definitions: Vec<String>,
    /// The buckets' physical names (`????????????` standing for an unknown account id: a
    /// bucket name of another stack never fits it).
    pub buckets: Vec<String>,
    /// Roles pipectl passes but never changes: the spec's existing roles' ARNs and phases'
    /// `job_role` ARNs.
    pub passed_roles: Vec<String>,
    /// Whether the file system links to S3 (FSx creates its S3 access role).
    pub fsx_links: bool,
    /// Whether Batch's service-linked role stands for the service role.
    pub batch_service_linked: bool,
}

/// The stack's permissions boundary, which every role pipectl creates carries.
pub fn boundary_arn(stack: &str, account: &str) -> String {
    format!("arn:aws:iam::{account}:policy/pipectl/pipectl-{stack}-boundary")
}

fn resources_and_condition(scope: Scope, t: &Target) -> (Value, Option<Value>) {
    use Scope::*;
    match scope {
        Any | CreateTagged | TagOnCreate | FsxTag | Tagged => tag_scoped(scope, t),
        Batch | BatchSubmit | BatchJobs => batch_scoped(scope, t),
        Iam | RoleBounded | RoleAttach | Boundary | ServiceLinked | FsxS3Role | PassRole => {
            iam_scoped(scope, t)
        }
        Buckets | Dashboard | LogGroup | JobEvents | Metrics => name_scoped(scope, t),
    }
}

/// Reads, and the EC2 and FSx scopes that hang on the stack's tag.
fn tag_scoped(scope: Scope, t: &Target) -> (Value, Option<Value>) {
    use Scope::*;
    let (s, r, a) = (t.stack.as_str(), t.region.as_str(), t.account.as_str());
    let stack_tag = |key: &str| json!({ key: s });
    match scope {
        Any => (json!("*"), None),
        CreateTagged => (
            json!("*"),
            Some(json!({"StringEquals": stack_tag("aws:RequestTag/pipectl:stack")})),
        ),
        TagOnCreate => (
            json!("*"),
            Some(json!({"StringEquals": {
                "ec2:CreateAction": EC2_CREATES,
                "aws:RequestTag/pipectl:stack": s,
            }})),
        ),
        FsxTag => (
            json!([
                format!("arn:aws:fsx:{r}:{a}:file-system/*"),
                format!("arn:aws:fsx:{r}:{a}:association/*"),
            ]),
            Some(json!({"StringEquals": {
                "aws:RequestTag/pipectl:stack": s,
                "aws:ResourceTag/pipectl:stack": s,
            }})),
        ),
        Tagged => (
            json!("*"),
            Some(json!({"StringEquals": stack_tag("aws:ResourceTag/pipectl:stack")})),
        ),
        _ => unreachable!("{scope:?} is not in this group"),
    }
}

/// Batch: the stack's resources by exact name, its jobs by tag.
fn batch_scoped(scope: Scope, t: &Target) -> (Value, Option<Value>) {
    use Scope::*;
    let (s, r, a) = (t.stack.as_str(), t.region.as_str(), t.account.as_str());
    let stack_tag = |key: &str| json!({ key: s });
    match scope {
        Batch => {
            let arn = |kind: &str, n: &String| format!("arn:aws:batch:{r}:{a}:{kind}/{n}");
            let mut arns: Vec<String> = t
                .compute_environments
                .iter()
                .map(|n| arn("compute-environment", n))
                .collect();
            arns.extend(t.job_queues.iter().map(|n| arn("job-queue", n)));
            for n in &t.job_definitions {
                arns.push(arn("job-definition", n));
                arns.push(format!("{}:*", arn("job-definition", n)));
            }
            (json!(arns), None)
        }
        BatchSubmit => {
            // the queue and the job definition scope it; it also names the job it creates
            // (the Service Authorization Reference's `job` resource)
            let mut arns: Vec<String> = t
                .job_queues
                .iter()
                .map(|n| format!("arn:aws:batch:{r}:{a}:job-queue/{n}"))
                .collect();
            for n in &t.job_definitions {
                arns.push(format!("arn:aws:batch:{r}:{a}:job-definition/{n}"));
                arns.push(format!("arn:aws:batch:{r}:{a}:job-definition/{n}:*"));
            }
            arns.push(format!("arn:aws:batch:{r}:{a}:job/*"));
            (json!(arns), None)
        }
        BatchJobs => (
            json!(format!("arn:aws:batch:{r}:{a}:job/*")),
            Some(json!({"StringEquals": stack_tag("aws:ResourceTag/pipectl:stack")})),
        ),
        _ => unreachable!("{scope:?} is not in this group"),
    }
}

/// IAM: the stack's role path, its boundary, service-linked roles, passing roles.
fn iam_scoped(scope: Scope, t: &Target) -> (Value, Option<Value>) {
    use Scope::*;
    let (s, a) = (t.stack.as_str(), t.account.as_str());
    let role_path = format!("arn:aws:iam::{a}:role/pipectl/{s}/*");
    match scope {
        Iam => (
            json!([
                role_path,
                format!("arn:aws:iam::{a}:instance-profile/pipectl/{s}/*"),
            ]),
            None,
        ),
        RoleBounded => (
            json!(role_path),
            Some(json!({"StringEquals": {"iam:PermissionsBoundary": boundary_arn(s, a)}})),
        ),
        RoleAttach => (
            json!(role_path),
            Some(json!({
                "StringEquals": {"iam:PermissionsBoundary": boundary_arn(s, a)},
                "ArnEquals": {"iam:PolicyARN": [ECS_INSTANCE_POLICY]},
            })),
        ),
        Boundary => (json!(boundary_arn(s, a)), None),
        ServiceLinked => {
            let mut services = Vec::new();
            if t.fsx_links {
                services.push("s3.data-source.lustre.fsx.amazonaws.com");
            }
            if t.batch_service_linked {
                services.push("batch.amazonaws.com");
            }
            let roles: Vec<String> = services
                .iter()
                .map(|svc| format!("arn:aws:iam::{a}:role/aws-service-role/{svc}/*"))
                .collect();
            (
                json!(roles),
                Some(json!({"StringEquals": {"iam:AWSServiceName": services}})),
            )
        }
        FsxS3Role => (
            json!(format!(
                "arn:aws:iam::{a}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/*"
            )),
            None,
        ),
        PassRole => {
            let mut roles = vec![role_path];
            roles.extend(t.passed_roles.iter().cloned());
            (
                json!(roles),
                Some(json!({"StringEquals": {"iam:PassedToService": [
                    "batch.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com"
                ]}})),
            )
        }
        _ => unreachable!("{scope:?} is not in this group"),
    }
}

/// The stack's other resources, by exact name or namespace.
fn name_scoped(scope: Scope, t: &Target) -> (Value, Option<Value>) {
    use Scope::*;
    let (s, r, a) = (t.stack.as_str(), t.region.as_str(), t.account.as_str());
    match scope {
        Buckets => {
            let mut arns: Vec<String> = t
                .buckets
                .iter()
                .map(|b| format!("arn:aws:s3:::{b}"))
                .collect();
            arns.extend(t.buckets.iter().map(|b| format!("arn:aws:s3:::{b}/*")));
            (json!(arns), None)
        }
        Dashboard => (
            json!(format!("arn:aws:cloudwatch::{a}:dashboard/pipectl-{s}")),
            None,
        ),
        LogGroup => (
            json!([
                format!("arn:aws:logs:{r}:{a}:log-group:/pipectl/{s}/*"),
                format!("arn:aws:logs:{r}:{a}:log-group:/pipectl/{s}/*:log-stream:*"),
            ]),
            None,
        ),
        JobEvents => (
            json!([
                format!("arn:aws:sqs:{r}:{a}:pipectl-{s}-job-events"),
                format!("arn:aws:events:{r}:{a}:rule/pipectl-{s}-job-events"),
            ]),
            None,
        ),
        Metrics => (
            json!("*"),
            Some(
                json!({"StringLike": {"cloudwatch:namespace": crate::metric_schema::NAMESPACES_ALLOWED}}),
            ),
        ),
        _ => unreachable!("{scope:?} is not in this group"),
    }
}

/// Whether a scope applies to this stack at all (no service-linked role to create, no bucket).
fn applies(scope: Scope, t: &Target) -> bool {
    match scope {
        Scope::ServiceLinked => t.fsx_links || t.batch_service_linked,
        Scope::FsxS3Role => t.fsx_links,
        Scope::Buckets => !t.buckets.is_empty(),
        Scope::Batch | Scope::BatchSubmit => {
            !(t.compute_environments.is_empty()
                && t.job_queues.is_empty()
                && t.job_definitions.is_empty())
        }
        _ => true,
    }
}

/// The least-privilege policy for the commands in `commands` (a mask of [`super::UP`], ...):
/// one statement per scope, its actions sorted and unique; with `up`, the denies that keep the
/// boundary on every role and unchanged.
pub fn policy(t: &Target, commands: u8) -> Value {
    let mut scopes: std::collections::BTreeMap<Scope, std::collections::BTreeSet<&str>> =
        Default::default();
    for o in OPERATIONS.iter().filter(|o| o.commands & commands != 0) {
        scopes
            .entry(o.scope)
            .or_default()
            .extend(o.actions.iter().copied());
    }
    let mut statements: Vec<Value> = scopes
        .into_iter()
        .filter(|(scope, _)| applies(*scope, t))
        .map(|(scope, actions)| {
            let (resource, condition) = resources_and_condition(scope, t);
            let mut st = json!({
                "Sid": format!("{scope:?}"),
                "Effect": "Allow",
                "Action": actions.into_iter().collect::<Vec<_>>(),
                "Resource": resource,
            });
            if let Some(c) = condition {
                st["Condition"] = c;
            }
            st
        })
        .collect();
    if commands & super::UP != 0 {
        // Explicit denies win over any other policy the holder has.
        statements.push(json!({
            "Sid": "KeepTheBoundary",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary"],
            "Resource": format!("arn:aws:iam::{}:role/*", t.account),
        }));
        statements.push(json!({
            "Sid": "LeaveTheBoundaryAlone",
            "Effect": "Deny",
            "Action": BOUNDARY_GUARDED,
            "Resource": boundary_arn(&t.stack, &t.account),
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[cfg(test)]
mod tests;
