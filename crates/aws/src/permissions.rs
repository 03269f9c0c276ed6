//! Every AWS operation pipectl calls, the IAM actions it needs, on which resources, and which
//! commands make it: the one table `pipectl iam-policy` prints a least-privilege policy from.
//! Tests keep it whole: every AWS call site (`ctx` with a service and operation) in the sources and every request
//! the pipectl binary made in the end-to-end tests (the local AWS's request log) must have a
//! row here.
//!
//! Actions and condition keys follow the Service Authorization Reference
//! (https://docs.aws.amazon.com/service-authorization/latest/reference/); the local AWS does not
//! evaluate IAM, so the policy is checked for completeness here, linted by parliament and read
//! as an attacker would in the tests (`policy.rs`), not enforced.
//!
//! What the holder of the policy can never do, whatever the spec: create or change a role that
//! lacks the stack's permissions boundary, attach any managed policy but the one named here,
//! change or remove the boundary, tag a resource it did not create in the same call (EC2's
//! `ec2:CreateAction`; FSx and Batch jobs: only resources already carrying the stack's tag),
//! reach another stack's Batch resources or buckets (named exactly, not by prefix), or end a job
//! that is not tagged with the stack.

mod policy;

pub use policy::{
    BOUNDARY_GUARDED, ECS_INSTANCE_POLICY, INSTANCE_ROLE_ACTIONS, Target, boundary_arn, policy,
};

/// Which resources an action is allowed on, for one stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read-only calls that take no resource-level permission.
    Any,
    /// EC2 or FSx resources created with the stack's tag (`aws:RequestTag/pipectl:stack`).
    CreateTagged,
    /// `ec2:CreateTags` only inside a create call (`ec2:CreateAction`) with the stack's tag.
    TagOnCreate,
    /// `fsx:TagResource` with the stack's tag, only on file systems and associations already
    /// carrying it (FSx has no create-action key; see docs/local-aws.md).
    FsxTag,
    /// EC2 or FSx resources carrying the stack's tag (`aws:ResourceTag/pipectl:stack`).
    Tagged,
    /// The stack's Batch compute environments, queues and job definitions, by exact name.
    Batch,
    /// Submitting jobs to the stack's queues with its job definitions.
    BatchSubmit,
    /// Batch jobs carrying the stack's tag (`aws:ResourceTag/pipectl:stack`; tagging a job with
    /// it needs the tag already there, which only SubmitJob's own tags give).
    BatchJobs,
    /// Roles and instance profiles under the path `/pipectl/<stack>/`: reads and the calls
    /// that cannot grant anything (tags, instance profiles, deletion).
    Iam,
    /// Role calls that grant: only with the stack's permissions boundary
    /// (`iam:PermissionsBoundary`).
    RoleBounded,
    /// Attaching and detaching managed policies: only the named one (`iam:PolicyARN`), only on
    /// roles with the boundary.
    RoleAttach,
    /// Reading the stack's permissions boundary (`up` checks it before any change).
    Boundary,
    /// Service-linked roles that FSx (links to S3) and Batch (no service role given) create
    /// for the caller (`iam:AWSServiceName`), and FSx's S3 access role's policies.
    ServiceLinked,
    /// FSx's S3 access role (a service-linked role only FSx can assume), whose policies FSx
    /// attaches as the caller.
    FsxS3Role,
    /// Passing the stack's roles to Batch, EC2 and ECS tasks.
    PassRole,
    /// The stack's buckets, by exact name, and their objects.
    Buckets,
    /// The stack's dashboard.
    Dashboard,
    /// The stack's log group and its streams.
    LogGroup,
    /// Metrics under the `Pipectl` namespaces only.
    Metrics,
    /// The stack's job-event queue (SQS) and the EventBridge rule feeding it.
    JobEvents,
}

/// The commands that make AWS calls, as bits of [`Operation::commands`]: `pipectl up`.
pub const UP: u8 = 1;
/// `pipectl down` (a bit of [`Operation::commands`]).
pub const DOWN: u8 = 2;
/// `pipectl status` (a bit of [`Operation::commands`]).
pub const STATUS: u8 = 4;
/// `pipectl run` (a bit of [`Operation::commands`]).
pub const RUN: u8 = 8;
/// `pipectl report` (a bit of [`Operation::commands`]).
pub const REPORT: u8 = 16;
/// `pipectl bootstrap`, an administrator's command: never in the operator's policy.
pub const BOOTSTRAP: u8 = 32;
const ALL: u8 = UP | DOWN | STATUS | RUN | REPORT;

/// One operation: service (as the SDK and the local AWS name it), operation, IAM actions,
/// scope, commands.
pub struct Operation {
    /// Service as the SDK and the local AWS name it, lower-case (`ec2`).
    pub service: &'static str,
    /// API operation (`CreateVpc`).
    pub operation: &'static str,
    /// IAM actions it needs, tagging included (`logs:CreateLogGroup`, `logs:TagResource`).
    pub actions: &'static [&'static str],
    /// Which of the stack's resources the actions are allowed on.
    pub scope: Scope,
    /// The commands that make the call: [`UP`], [`DOWN`], [`STATUS`], [`RUN`], [`REPORT`] or-ed.
    pub commands: u8,
}

const fn op(
    service: &'static str,
    operation: &'static str,
    actions: &'static [&'static str],
    scope: Scope,
    commands: u8,
) -> Operation {
    Operation {
        service,
        operation,
        actions,
        scope,
        commands,
    }
}

use Scope::*;

/// The table, one operation a line.
#[rustfmt::skip]
pub static OPERATIONS: &[Operation] = &[
    op("sts", "GetCallerIdentity", &["sts:GetCallerIdentity"], Any, ALL),
    // EC2: network, launch templates, placement groups
    op("ec2", "DescribeVpcs", &["ec2:DescribeVpcs"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeSubnets", &["ec2:DescribeSubnets"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeRouteTables", &["ec2:DescribeRouteTables"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeInternetGateways", &["ec2:DescribeInternetGateways"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeAddresses", &["ec2:DescribeAddresses"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeNatGateways", &["ec2:DescribeNatGateways"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeVpcEndpoints", &["ec2:DescribeVpcEndpoints"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeSecurityGroups", &["ec2:DescribeSecurityGroups"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeNetworkInterfaces", &["ec2:DescribeNetworkInterfaces"], Any, DOWN),
    op("ec2", "DescribePlacementGroups", &["ec2:DescribePlacementGroups"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeLaunchTemplates", &["ec2:DescribeLaunchTemplates"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeLaunchTemplateVersions", &["ec2:DescribeLaunchTemplateVersions"], Any, UP | DOWN | STATUS),
    op("ec2", "DescribeSpotPriceHistory", &["ec2:DescribeSpotPriceHistory"], Any, REPORT),
    op("ec2", "CreateVpc", &["ec2:CreateVpc"], CreateTagged, UP),
    op("ec2", "CreateSubnet", &["ec2:CreateSubnet"], CreateTagged, UP),
    op("ec2", "CreateSecurityGroup", &["ec2:CreateSecurityGroup"], CreateTagged, UP),
    op("ec2", "CreateRouteTable", &["ec2:CreateRouteTable"], CreateTagged, UP),
    op("ec2", "CreateInternetGateway", &["ec2:CreateInternetGateway"], CreateTagged, UP),
    op("ec2", "AllocateAddress", &["ec2:AllocateAddress"], CreateTagged, UP),
    op("ec2", "CreateNatGateway", &["ec2:CreateNatGateway"], CreateTagged, UP),
    op("ec2", "CreateVpcEndpoint", &["ec2:CreateVpcEndpoint"], CreateTagged, UP),
    op("ec2", "CreateLaunchTemplate", &["ec2:CreateLaunchTemplate"], CreateTagged, UP),
    op("ec2", "CreatePlacementGroup", &["ec2:CreatePlacementGroup"], CreateTagged, UP),
    // the tags of every create call above, and only of those
    op("ec2", "CreateTags", &["ec2:CreateTags"], TagOnCreate, UP),
    op("ec2", "ModifyVpcEndpoint", &["ec2:ModifyVpcEndpoint"], Tagged, UP),
    op("ec2", "ModifyVpcAttribute", &["ec2:ModifyVpcAttribute"], Tagged, UP),
    op("ec2", "AttachInternetGateway", &["ec2:AttachInternetGateway"], Tagged, UP),
    op("ec2", "CreateRoute", &["ec2:CreateRoute"], Tagged, UP),
    op("ec2", "ReplaceRoute", &["ec2:ReplaceRoute"], Tagged, UP),
    op("ec2", "AssociateRouteTable", &["ec2:AssociateRouteTable"], Tagged, UP),
    op("ec2", "DisassociateRouteTable", &["ec2:DisassociateRouteTable"], Tagged, UP | DOWN),
    op("ec2", "AuthorizeSecurityGroupIngress", &["ec2:AuthorizeSecurityGroupIngress"], Tagged, UP),
    op("ec2", "AuthorizeSecurityGroupEgress", &["ec2:AuthorizeSecurityGroupEgress"], Tagged, UP),
    op("ec2", "RevokeSecurityGroupIngress", &["ec2:RevokeSecurityGroupIngress"], Tagged, UP),
    op("ec2", "DeleteVpc", &["ec2:DeleteVpc"], Tagged, DOWN),
    op("ec2", "DeleteSubnet", &["ec2:DeleteSubnet"], Tagged, DOWN),
    op("ec2", "DeleteSecurityGroup", &["ec2:DeleteSecurityGroup"], Tagged, DOWN),
    op("ec2", "DeleteRouteTable", &["ec2:DeleteRouteTable"], Tagged, DOWN),
    op("ec2", "DetachInternetGateway", &["ec2:DetachInternetGateway"], Tagged, DOWN),
    op("ec2", "DeleteInternetGateway", &["ec2:DeleteInternetGateway"], Tagged, DOWN),
    op("ec2", "ReleaseAddress", &["ec2:ReleaseAddress"], Tagged, DOWN),
    op("ec2", "DeleteNatGateway", &["ec2:DeleteNatGateway"], Tagged, DOWN),
    op("ec2", "DeleteVpcEndpoints", &["ec2:DeleteVpcEndpoints"], Tagged, DOWN),
    op("ec2", "DeleteLaunchTemplate", &["ec2:DeleteLaunchTemplate"], Tagged, DOWN),
    op("ec2", "DeletePlacementGroup", &["ec2:DeletePlacementGroup"], Tagged, DOWN),
    // IAM
    op("iam", "ListRoles", &["iam:ListRoles"], Any, UP | DOWN | STATUS),
    op("iam", "ListInstanceProfiles", &["iam:ListInstanceProfiles"], Any, UP | DOWN | STATUS),
    op("iam", "ListRoleTags", &["iam:ListRoleTags"], Iam, UP | DOWN | STATUS),
    op("iam", "ListInstanceProfileTags", &["iam:ListInstanceProfileTags"], Iam, UP | DOWN | STATUS),
    op("iam", "ListAttachedRolePolicies", &["iam:ListAttachedRolePolicies"], Iam, UP | DOWN | STATUS),
    op("iam", "ListRolePolicies", &["iam:ListRolePolicies"], Iam, DOWN),
    op("iam", "ListInstanceProfilesForRole", &["iam:ListInstanceProfilesForRole"], Iam, DOWN),
    op("iam", "GetRole", &["iam:GetRole"], Any, UP | DOWN | STATUS),
    op("iam", "GetInstanceProfile", &["iam:GetInstanceProfile"], Any, UP | STATUS),
    op("iam", "CreateRole", &["iam:CreateRole"], RoleBounded, UP),
    op("iam", "TagRole", &["iam:TagRole"], Iam, UP),
    op("iam", "AttachRolePolicy", &["iam:AttachRolePolicy"], RoleAttach, UP),
    op("iam", "PutRolePolicy", &["iam:PutRolePolicy"], RoleBounded, UP),
    op("iam", "PutRolePermissionsBoundary", &["iam:PutRolePermissionsBoundary"], RoleBounded, UP),
    op("iam", "GetPolicy", &["iam:GetPolicy"], Boundary, UP | STATUS | BOOTSTRAP),
    op("iam", "GetPolicyVersion", &["iam:GetPolicyVersion"], Boundary, UP | STATUS | BOOTSTRAP),
    // the administrator's: the operator's policy denies them on the boundary
    op("iam", "CreatePolicy", &["iam:CreatePolicy"], Boundary, BOOTSTRAP),
    op("iam", "ListPolicyVersions", &["iam:ListPolicyVersions"], Boundary, BOOTSTRAP),
    op("iam", "CreatePolicyVersion", &["iam:CreatePolicyVersion"], Boundary, BOOTSTRAP),
    op("iam", "DeletePolicyVersion", &["iam:DeletePolicyVersion"], Boundary, BOOTSTRAP),
    op("iam", "CreateInstanceProfile", &["iam:CreateInstanceProfile", "iam:TagInstanceProfile"], Iam, UP),
    op("iam", "AddRoleToInstanceProfile", &["iam:AddRoleToInstanceProfile"], Iam, UP),
    op("iam", "RemoveRoleFromInstanceProfile", &["iam:RemoveRoleFromInstanceProfile"], Iam, DOWN),
    op("iam", "DeleteInstanceProfile", &["iam:DeleteInstanceProfile"], Iam, DOWN),
    op("iam", "DetachRolePolicy", &["iam:DetachRolePolicy"], RoleAttach, DOWN),
    op("iam", "DeleteRolePolicy", &["iam:DeleteRolePolicy"], RoleBounded, DOWN),
    // not called by pipectl: FSx (links to S3) and Batch (no service role) create their
    // service-linked roles as the caller
    op("iam", "CreateServiceLinkedRole", &["iam:CreateServiceLinkedRole"], ServiceLinked, UP),
    // FSx's S3 access role takes its policies as the caller of CreateDataRepositoryAssociation
    // (FSx user guide, "Adding permissions to use data repositories in Amazon S3")
    op("iam", "FsxS3AccessRole", &["iam:AttachRolePolicy", "iam:PutRolePolicy"], FsxS3Role, UP),
    op("iam", "DeleteRole", &["iam:DeleteRole"], Iam, DOWN),
    // Batch (CreateComputeEnvironment and RegisterJobDefinition pass the stack's roles)
    op("batch", "DescribeComputeEnvironments", &["batch:DescribeComputeEnvironments"], Any, ALL),
    op("batch", "DescribeJobQueues", &["batch:DescribeJobQueues"], Any, ALL),
    op("batch", "DescribeJobDefinitions", &["batch:DescribeJobDefinitions"], Any, UP | DOWN | STATUS | RUN),
    op("batch", "DescribeJobs", &["batch:DescribeJobs"], Any, RUN | REPORT),
    op("batch", "ListJobs", &["batch:ListJobs"], Any, DOWN | RUN),
    op("batch", "CreateComputeEnvironment", &["batch:CreateComputeEnvironment", "batch:TagResource"], Batch, UP),
    op("batch", "UpdateComputeEnvironment", &["batch:UpdateComputeEnvironment"], Batch, UP | DOWN),
    op("batch", "DeleteComputeEnvironment", &["batch:DeleteComputeEnvironment"], Batch, DOWN),
    op("batch", "CreateJobQueue", &["batch:CreateJobQueue", "batch:TagResource"], Batch, UP),
    op("batch", "UpdateJobQueue", &["batch:UpdateJobQueue"], Batch, UP | DOWN),
    op("batch", "DeleteJobQueue", &["batch:DeleteJobQueue"], Batch, DOWN),
    op("batch", "RegisterJobDefinition", &["batch:RegisterJobDefinition", "batch:TagResource"], Batch, UP),
    op("batch", "DeregisterJobDefinition", &["batch:DeregisterJobDefinition"], Batch, UP | DOWN),
    op("batch", "SubmitJob", &["batch:SubmitJob"], BatchSubmit, RUN),
    // SubmitJob's tags (`pipectl:stack`), which TerminateJob is conditioned on
    op("batch", "TagResource", &["batch:TagResource"], BatchJobs, RUN),
    op("batch", "TerminateJob", &["batch:TerminateJob"], BatchJobs, DOWN | RUN),
    op("iam", "PassRole", &["iam:PassRole"], PassRole, UP),
    // FSx for Lustre
    op("fsx", "DescribeFileSystems", &["fsx:DescribeFileSystems"], Any, UP | DOWN | STATUS | RUN),
    op("fsx", "DescribeDataRepositoryAssociations", &["fsx:DescribeDataRepositoryAssociations"], Any, UP | DOWN | STATUS),
    op("fsx", "CreateFileSystem", &["fsx:CreateFileSystem"], CreateTagged, UP),
    op("fsx", "CreateDataRepositoryAssociation", &["fsx:CreateDataRepositoryAssociation"], Tagged, UP),
    // the tags of the two creates above
    op("fsx", "TagResource", &["fsx:TagResource"], FsxTag, UP),
    // what FSx checks on the linked buckets for the caller of CreateDataRepositoryAssociation
    // (named actions: `s3:Get*` and `s3:List*` expand to actions no bucket ARN matches)
    op("s3", "LinkedToFsx", &["s3:GetBucketLocation", "s3:GetBucketAcl", "s3:ListBucket", "s3:GetObject", "s3:PutObject"], Buckets, UP),
    op("fsx", "DeleteDataRepositoryAssociation", &["fsx:DeleteDataRepositoryAssociation"], Tagged, DOWN),
    op("fsx", "DeleteFileSystem", &["fsx:DeleteFileSystem"], Tagged, DOWN),
    // S3
    op("s3", "ListBuckets", &["s3:ListAllMyBuckets"], Any, UP | DOWN | STATUS),
    op("s3", "GetBucketTagging", &["s3:GetBucketTagging"], Buckets, UP | DOWN | STATUS),
    // read while comparing a bucket with the spec (their errors mean "not set")
    op("s3", "GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"], Buckets, UP | DOWN | STATUS),
    op("s3", "GetBucketEncryption", &["s3:GetEncryptionConfiguration"], Buckets, UP | DOWN | STATUS),
    op("s3", "GetBucketPolicy", &["s3:GetBucketPolicy"], Buckets, UP | DOWN | STATUS),
    op("s3", "GetBucketVersioning", &["s3:GetBucketVersioning"], Buckets, UP | DOWN | STATUS),
    op("s3", "CreateBucket", &["s3:CreateBucket", "s3:PutBucketOwnershipControls"], Buckets, UP),
    op("s3", "PutBucketTagging", &["s3:PutBucketTagging"], Buckets, UP),
    op("s3", "PutPublicAccessBlock", &["s3:PutBucketPublicAccessBlock"], Buckets, UP),
    op("s3", "PutBucketEncryption", &["s3:PutEncryptionConfiguration"], Buckets, UP),
    op("s3", "PutBucketPolicy", &["s3:PutBucketPolicy"], Buckets, UP),
    op("s3", "PutBucketOwnershipControls", &["s3:PutBucketOwnershipControls"], Buckets, UP),
    op("s3", "PutBucketVersioning", &["s3:PutBucketVersioning"], Buckets, UP),
    op("s3", "ListObjectVersions", &["s3:ListBucketVersions", "s3:ListBucket"], Buckets, DOWN),
    op("s3", "DeleteObjects", &["s3:DeleteObject", "s3:DeleteObjectVersion"], Buckets, DOWN),
    op("s3", "DeleteBucket", &["s3:DeleteBucket"], Buckets, DOWN),
    // CloudWatch and CloudWatch Logs
    op("cloudwatch", "ListDashboards", &["cloudwatch:ListDashboards"], Any, UP | DOWN | STATUS),
    op("cloudwatch", "PutDashboard", &["cloudwatch:PutDashboard"], Dashboard, UP),
    op("cloudwatch", "DeleteDashboards", &["cloudwatch:DeleteDashboards"], Dashboard, DOWN),
    op("cloudwatch", "PutMetricData", &["cloudwatch:PutMetricData"], Metrics, RUN),
    op("cloudwatch", "ListMetrics", &["cloudwatch:ListMetrics"], Any, REPORT),
    op("cloudwatch", "GetMetricData", &["cloudwatch:GetMetricData"], Any, REPORT),
    op("logs", "DescribeLogGroups", &["logs:DescribeLogGroups"], Any, UP | DOWN | STATUS),
    op("logs", "ListTagsForResource", &["logs:ListTagsForResource"], LogGroup, UP | DOWN | STATUS),
    op("logs", "CreateLogGroup", &["logs:CreateLogGroup", "logs:TagResource"], LogGroup, UP),
    op("logs", "PutRetentionPolicy", &["logs:PutRetentionPolicy"], LogGroup, UP),
    op("logs", "DeleteLogGroup", &["logs:DeleteLogGroup"], LogGroup, DOWN),
    op("logs", "GetLogEvents", &["logs:GetLogEvents"], LogGroup, RUN),
    // Batch's job events: the stack's EventBridge rule and the SQS queue it delivers to
    op("sqs", "GetQueueUrl", &["sqs:GetQueueUrl"], JobEvents, UP | DOWN | STATUS | RUN),
    op("sqs", "ListQueueTags", &["sqs:ListQueueTags"], JobEvents, UP | DOWN | STATUS),
    op("sqs", "GetQueueAttributes", &["sqs:GetQueueAttributes"], JobEvents, UP | DOWN | STATUS),
    op("sqs", "CreateQueue", &["sqs:CreateQueue", "sqs:TagQueue"], JobEvents, UP),
    op("sqs", "SetQueueAttributes", &["sqs:SetQueueAttributes"], JobEvents, UP),
    op("sqs", "DeleteQueue", &["sqs:DeleteQueue"], JobEvents, DOWN),
    op("sqs", "ReceiveMessage", &["sqs:ReceiveMessage"], JobEvents, RUN),
    op("sqs", "DeleteMessageBatch", &["sqs:DeleteMessage"], JobEvents, RUN),
    op("events", "DescribeRule", &["events:DescribeRule"], JobEvents, UP | DOWN | STATUS),
    op("events", "ListTagsForResource", &["events:ListTagsForResource"], JobEvents, UP | DOWN | STATUS),
    op("events", "ListTargetsByRule", &["events:ListTargetsByRule"], JobEvents, UP | DOWN | STATUS),
    op("events", "PutRule", &["events:PutRule", "events:TagResource"], JobEvents, UP),
    op("events", "PutTargets", &["events:PutTargets"], JobEvents, UP),
    op("events", "RemoveTargets", &["events:RemoveTargets"], JobEvents, DOWN),
    op("events", "DeleteRule", &["events:DeleteRule"], JobEvents, DOWN),
];

/// Whether the table has a row for `service:operation`.
pub fn known(service: &str, operation: &str) -> bool {
    OPERATIONS
        .iter()
        .any(|o| o.service == service && o.operation == operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_unique_and_actions_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for o in OPERATIONS {
            assert!(
                seen.insert((o.service, o.operation)),
                "{}:{} twice",
                o.service,
                o.operation
            );
            assert!(o.commands != 0);
            for a in o.actions {
                let (svc, name) = a.split_once(':').expect("service:Action");
                assert!(
                    !svc.is_empty() && name.chars().next().unwrap().is_ascii_uppercase(),
                    "{a}"
                );
            }
        }
    }
}
