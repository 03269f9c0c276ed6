//! `[placement_groups]`, `[compute_environments]` and `[job_queues]`.

use crate::units::{Duration, Size};
use serde::{Deserialize, Serialize};

/// `[placement_groups.NAME]`: an EC2 placement group for the compute environments naming it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementGroup {
    /// `strategy`: how EC2 places the instances (default `cluster`).
    #[serde(default)]
    pub strategy: PlacementStrategy,
}

/// EC2 placement strategy (CreatePlacementGroup `Strategy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlacementStrategy {
    /// `cluster`: packed close together in one availability zone, as EFA and multi-node jobs need.
    #[default]
    Cluster,
    /// `spread`: each instance on distinct hardware.
    Spread,
    /// `partition`: groups of instances on separate racks.
    Partition,
}

/// `[compute_environments.NAME]`: one managed EC2 Batch compute environment.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeEnvironment {
    /// EC2 instance types (or families, or `optimal`) Batch may launch.
    pub instance_types: Vec<String>,
    /// `purchase`: Spot or On-Demand capacity.
    pub purchase: Purchase,
    /// Batch `allocationStrategy`; None: chosen from `purchase`, see
    /// [`ComputeEnvironment::effective_allocation_strategy`].
    #[serde(default)]
    pub allocation_strategy: Option<AllocationStrategy>,
    /// vCPUs kept running with no jobs (default 0; more keeps instances billed while idle).
    #[serde(default)]
    pub min_vcpus: u32,
    /// Most vCPUs Batch scales up to; at least one instance's vCPUs.
    pub max_vcpus: u32,
    /// Spot only: the most to pay, as a percentage of the On-Demand price.
    #[serde(default)]
    pub bid_percentage: Option<u32>,
    /// `efa`: whether instances get an EFA interface (default `off`).
    #[serde(default)]
    pub efa: EfaMode,
    /// A key of `[placement_groups]`.
    #[serde(default)]
    pub placement_group: Option<String>,
    /// A subset of the network's availability zones; all of them when absent.
    #[serde(default)]
    pub availability_zones: Option<Vec<String>>,
    /// Root EBS volume of each instance (encrypted gp3).
    #[serde(default = "default_root_volume")]
    pub root_volume: Size,
    /// An AMI of your own (`ami-…`), sent as `ec2Configuration.imageIdOverride`; needed for
    /// GPU types Batch's own images no longer support (g3, g3s, p3).
    #[serde(default)]
    pub image_id: Option<String>,
}

fn default_root_volume() -> Size {
    Size::from_gib(100)
}

/// `purchase`: how the compute environment buys capacity (Batch `type` `SPOT` or `EC2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purchase {
    /// `spot`: Spot Instances, cheaper but interruptible.
    Spot,
    /// `on-demand`: On-Demand instances.
    OnDemand,
}

impl Purchase {
    /// As people read it: `Spot` or `On-Demand`.
    pub fn label(self) -> &'static str {
        match self {
            Purchase::Spot => "Spot",
            Purchase::OnDemand => "On-Demand",
        }
    }
}

/// Batch `allocationStrategy`: how it picks instance types and capacity pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AllocationStrategy {
    /// `BEST_FIT`: the cheapest type that fits; updates replace the CE; Spot needs a fleet role.
    BestFit,
    /// `BEST_FIT_PROGRESSIVE`: further types when the best one is short; the On-Demand default.
    BestFitProgressive,
    /// `SPOT_CAPACITY_OPTIMIZED`: Spot pools least likely to be interrupted (Spot only).
    SpotCapacityOptimized,
    /// `SPOT_PRICE_CAPACITY_OPTIMIZED`: low price and interruption risk (Spot only); Spot default.
    SpotPriceCapacityOptimized,
}

impl AllocationStrategy {
    /// The value Batch takes in `allocationStrategy`.
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::BestFit => "BEST_FIT",
            Self::BestFitProgressive => "BEST_FIT_PROGRESSIVE",
            Self::SpotCapacityOptimized => "SPOT_CAPACITY_OPTIMIZED",
            Self::SpotPriceCapacityOptimized => "SPOT_PRICE_CAPACITY_OPTIMIZED",
        }
    }
    /// Whether Batch allows it only on Spot compute environments.
    pub fn is_spot_only(self) -> bool {
        matches!(
            self,
            Self::SpotCapacityOptimized | Self::SpotPriceCapacityOptimized
        )
    }
}

impl ComputeEnvironment {
    /// Whether `instance_type` gets an EFA interface under this environment's EFA mode.
    pub fn efa_on(&self, instance_type: &str) -> bool {
        match self.efa {
            EfaMode::Required => true,
            EfaMode::Auto => crate::instances::lookup(instance_type).is_some_and(|f| f.efa),
            EfaMode::Off => false,
        }
    }

    /// Whether its launch template has an EFA network interface (every type takes one). Such a
    /// compute environment must not set `securityGroupIds`: the group goes on the interface.
    pub fn uses_efa(&self) -> bool {
        !self.instance_types.is_empty() && self.instance_types.iter().all(|t| self.efa_on(t))
    }

    /// Whether any of its instance types has a GPU.
    pub fn has_gpu(&self) -> bool {
        self.instance_types.iter().any(|t| {
            crate::instances::lookup(t).is_some_and(|f| f.gpus > 0)
                || crate::instances::needs_own_gpu_image(t)
        })
    }

    /// Batch's `ec2Configuration.imageType`: the Amazon Linux 2023 ECS image, with NVIDIA's
    /// driver for GPU types (Batch refuses its Amazon Linux 2 images since June 30, 2026).
    pub fn image_type(&self) -> &'static str {
        if self.has_gpu() {
            "ECS_AL2023_NVIDIA"
        } else {
            "ECS_AL2023"
        }
    }

    /// The strategy sent to AWS: the spec's, or the one that lets Batch update the CE in place.
    pub fn effective_allocation_strategy(&self) -> AllocationStrategy {
        self.allocation_strategy.unwrap_or(match self.purchase {
            Purchase::Spot => AllocationStrategy::SpotPriceCapacityOptimized,
            Purchase::OnDemand => AllocationStrategy::BestFitProgressive,
        })
    }
}

/// `efa`: whether a compute environment's instances get an Elastic Fabric Adapter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EfaMode {
    /// EFA on every instance; instance types without EFA are an error.
    Required,
    /// EFA where the instance type supports it, ENA (with a warning) where it does not.
    Auto,
    /// No EFA: ENA networking only (default).
    #[default]
    Off,
}

/// `[job_queues.NAME]`: a Batch job queue feeding one to three compute environments.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobQueue {
    /// Among queues sharing a compute environment, the higher value is scheduled first.
    pub priority: u32,
    /// Keys of `[compute_environments]`, in the order Batch should try them.
    pub compute_environments: Vec<String>,
    /// Batch cancels a job blocked RUNNABLE this long for a reason that waiting will not cure
    /// soon (no capacity for its types, or a compute environment too small for it), so a
    /// forgotten run stops holding the stack; 10 minutes to 24 hours (the queue's
    /// `jobStateTimeLimitActions`). Unset: Batch waits forever.
    #[serde(default)]
    pub runnable_timeout: Option<Duration>,
}
