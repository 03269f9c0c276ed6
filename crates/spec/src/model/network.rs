//! `[network]` and `[iam]`: where the stack's instances live and the roles they act as.

use crate::units::Size;
use serde::{Deserialize, Serialize};

/// `[network]`: a new VPC (`cidr`, `availability_zones`) or an existing one (`vpc_id`,
/// `subnet_ids`), and its egress.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// A new VPC: its IPv4 CIDR. Mutually exclusive with `vpc_id`.
    #[serde(default)]
    pub cidr: Option<String>,
    /// Availability zones that get one private subnet each (new VPC).
    #[serde(default)]
    pub availability_zones: Vec<String>,
    /// An existing VPC to use instead of creating one.
    #[serde(default)]
    pub vpc_id: Option<String>,
    /// Existing private subnets (with `vpc_id`).
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// How instances in the private subnets reach ECS, ECR, S3 and CloudWatch Logs.
    #[serde(default)]
    pub egress: Egress,
    /// Traffic expected through the NAT gateway per run (container image pulls, package
    /// downloads); NAT gateways bill per GB processed.
    #[serde(default)]
    pub nat_data: Option<Size>,
    /// With `egress = "vpc-endpoints"`: interface endpoints beyond the ones every Batch instance
    /// needs, for the AWS services the jobs themselves call (e.g. `["batch"]`).
    #[serde(default)]
    pub extra_endpoints: Vec<String>,
}

/// `egress`: how instances in the private subnets reach ECS, ECR, S3 and CloudWatch Logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Egress {
    /// NAT gateway in a public subnet, with an internet gateway.
    #[default]
    NatGateway,
    /// S3 gateway endpoint plus interface endpoints for ECR, ECS, Logs, CloudWatch and STS;
    /// no internet path.
    VpcEndpoints,
    /// Nothing: instances cannot pull images or join their ECS cluster unless the subnets
    /// already have a route out.
    None,
}

/// `[iam]`: the roles Batch, the instances and the jobs act as.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Iam {
    /// The role Batch manages compute environments with (default: service-linked).
    #[serde(default = "Role::service_linked")]
    pub service_role: Role,
    /// The ECS container instances' role, with its instance profile (default: created).
    #[serde(default = "Role::create")]
    pub instance_role: Role,
    /// The role the jobs run as (`jobRoleArn`): by default one per stack with least privilege
    /// (its buckets, metrics under `Pipectl*`, reading Batch's own records); without it the
    /// jobs would run with the instance role.
    #[serde(default = "Role::create")]
    pub job_role: Role,
}

/// One role setting, `{ mode = "...", name = "..." }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Created by pipectl, an existing one, or (service role only) Batch's service-linked role.
    pub mode: RoleMode,
    /// The role's name: required for `existing`; for `create`, defaults to one derived from
    /// the stack.
    #[serde(default)]
    pub name: Option<String>,
}

impl Default for Iam {
    fn default() -> Self {
        Iam {
            service_role: Role::service_linked(),
            instance_role: Role::create(),
            job_role: Role::create(),
        }
    }
}

impl Role {
    fn service_linked() -> Self {
        Role {
            mode: RoleMode::ServiceLinked,
            name: None,
        }
    }
    fn create() -> Self {
        Role {
            mode: RoleMode::Create,
            name: None,
        }
    }
}

impl Default for Role {
    fn default() -> Self {
        Role::create()
    }
}

/// `mode` of a role: who provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleMode {
    /// pipectl creates the role (and the instance profile for the instance role).
    Create,
    /// The role exists; pipectl checks it and never changes it.
    Existing,
    /// Batch's service-linked role AWSServiceRoleForBatch (service role only).
    ServiceLinked,
}
