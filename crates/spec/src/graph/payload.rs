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
    Vpc {
        cidr: String,
    },
    Subnet {
        cidr: String,
        zone: String,
    },
    RouteTable {
        /// Where the default route points (`None`: local routes only).
        default_route: Option<ResourceId>,
        /// The subnets associated with it.
        subnets: Vec<ResourceId>,
    },
    VpcEndpoint {
        endpoint: Endpoint,
        /// The full service name (`com.amazonaws.<region>.<service>`).
        service: String,
    },
    IamRole(Role),
    Bucket {
        /// The spec's key.
        key: String,
    },
    DataRepositoryAssociation {
        /// Position in the file system's `data_repositories`.
        index: usize,
        /// The bucket it links to.
        bucket: ResourceId,
    },
    PlacementGroup {
        strategy: PlacementStrategy,
    },
    LaunchTemplate {
        /// The compute environment's key.
        compute_environment: String,
        /// An EFA network interface (else the default ENA).
        efa: bool,
        /// Mounts the stack's Lustre file system.
        mounts_fsx: bool,
    },
    ComputeEnvironment {
        key: String,
    },
    JobQueue {
        key: String,
        /// The compute environments in order.
        compute_environments: Vec<ResourceId>,
    },
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
    Gateway,
    Interface,
}

/// Which of the stack's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    BatchService,
    EcsInstance,
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
