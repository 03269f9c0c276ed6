//! What provision builds for each resource, typed: the input `up` reads. A plan's settings
//! are for people to read; nothing decides from them.

use crate::model::PlacementStrategy;

use super::ResourceId;

/// The kind-specific input of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Payload {
    /// Nothing beyond the resource's name and dependencies.
    #[default]
    None,
    /// A VPC.
    Vpc {
        /// Its IPv4 CIDR block: the spec's `network.cidr`.
        cidr: String,
    },
    /// A subnet.
    Subnet {
        /// Its IPv4 CIDR block, inside the VPC's.
        cidr: String,
        /// Its availability zone (`us-east-1a`).
        zone: String,
    },
    /// A route table and its associations.
    RouteTable {
        /// Where the default route points (`None`: local routes only).
        default_route: Option<ResourceId>,
        /// The subnets associated with it.
        subnets: Vec<ResourceId>,
    },
    /// A VPC endpoint.
    VpcEndpoint {
        /// Gateway (S3) or interface.
        endpoint: Endpoint,
        /// The full service name (`com.amazonaws.<region>.<service>`).
        service: String,
    },
    /// One of the stack's IAM roles.
    IamRole(Role),
    /// An S3 bucket.
    Bucket {
        /// The spec's key.
        key: String,
    },
    /// An FSx data repository association.
    DataRepositoryAssociation {
        /// Position in the file system's `data_repositories`.
        index: usize,
        /// The bucket it links to.
        bucket: ResourceId,
    },
    /// An EC2 placement group.
    PlacementGroup {
        /// The spec's strategy (cluster, spread, partition).
        strategy: PlacementStrategy,
    },
    /// A compute environment's launch template.
    LaunchTemplate {
        /// The compute environment's key.
        compute_environment: String,
        /// An EFA network interface (else the default ENA).
        efa: bool,
        /// Mounts the stack's Lustre file system.
        mounts_fsx: bool,
    },
    /// An AWS Batch compute environment.
    ComputeEnvironment {
        /// The spec's key.
        key: String,
    },
    /// An AWS Batch job queue.
    JobQueue {
        /// The spec's key.
        key: String,
        /// The compute environments in order.
        compute_environments: Vec<ResourceId>,
    },
    /// An AWS Batch job definition.
    JobDefinition {
        /// The phase's name.
        phase: String,
        /// Passes `/dev/infiniband/uverbs0` through (EFA).
        uverbs: bool,
    },
}

/// A VPC endpoint's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Routes through the route tables (S3).
    Gateway,
    /// A network interface in each private subnet (ECR, logs, ...).
    Interface,
}

/// Which of the stack's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The AWS Batch service role.
    BatchService,
    /// The ECS container instances' role.
    EcsInstance,
    /// The jobs' containers' role.
    Job,
}

/// A placement strategy as EC2 spells it.
pub fn placement_strategy_aws(s: PlacementStrategy) -> &'static str {
    match s {
        PlacementStrategy::Cluster => "cluster",
        PlacementStrategy::Spread => "spread",
        PlacementStrategy::Partition => "partition",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_strategies_as_ec2_spells_them() {
        // The plan shows the same word: the spec's `{:?}` lowercased.
        for s in [
            PlacementStrategy::Cluster,
            PlacementStrategy::Spread,
            PlacementStrategy::Partition,
        ] {
            assert_eq!(placement_strategy_aws(s), format!("{s:?}").to_lowercase());
        }
    }
}
