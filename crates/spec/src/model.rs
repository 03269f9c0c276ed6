//! The spec model: what a pipeline needs from AWS, as read from a TOML file.
//!
//! Every table denies unknown keys, so a misspelt key is an error at its location rather than a
//! silently ignored setting. Names of compute environments, queues, placement groups and buckets
//! are the keys of their tables (TOML itself rejects a duplicate key); phases are an ordered
//! array because their order is how people read a pipeline.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::units::{Duration, Rate, Size};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub stack: Stack,
    pub network: Network,
    #[serde(default)]
    pub iam: Iam,
    #[serde(default)]
    pub placement_groups: IndexMap<String, PlacementGroup>,
    pub compute_environments: IndexMap<String, ComputeEnvironment>,
    pub job_queues: IndexMap<String, JobQueue>,
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub fsx: Option<Fsx>,
    #[serde(default)]
    pub buckets: IndexMap<String, Bucket>,
    /// Figures the spec's source document states; `pipectl cost` checks them, never repeats them.
    #[serde(default)]
    pub stated: Option<Stated>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// Lower-case letters, digits and hyphens; it prefixes every physical name and bucket.
    pub name: String,
    pub region: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A ceiling in USD for one run of the pipeline.
    #[serde(default)]
    pub budget_usd: Option<f64>,
    /// Extra tags put on every taggable resource, beside pipectl's own.
    #[serde(default)]
    pub tags: IndexMap<String, String>,
    /// How long the jobs' logs are kept (days; a value CloudWatch Logs accepts).
    #[serde(default = "default_log_retention")]
    pub log_retention_days: u32,
}

fn default_log_retention() -> u32 {
    30
}

/// The retention periods CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`).
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

impl Spec {
    /// The stack's log group, where every job writes (created by `up` with the retention).
    pub fn log_group_name(&self) -> String {
        format!("/pipectl/{}/jobs", self.stack.name)
    }
}

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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Iam {
    #[serde(default = "Role::service_linked")]
    pub service_role: Role,
    #[serde(default = "Role::create")]
    pub instance_role: Role,
    /// The role the jobs run as (`jobRoleArn`): by default one per stack with least privilege
    /// (its buckets, metrics under `Pipectl*`, reading Batch's own records); without it the
    /// jobs would run with the instance role.
    #[serde(default = "Role::create")]
    pub job_role: Role,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementGroup {
    #[serde(default)]
    pub strategy: PlacementStrategy,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlacementStrategy {
    #[default]
    Cluster,
    Spread,
    Partition,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeEnvironment {
    pub instance_types: Vec<String>,
    pub purchase: Purchase,
    #[serde(default)]
    pub allocation_strategy: Option<AllocationStrategy>,
    #[serde(default)]
    pub min_vcpus: u32,
    pub max_vcpus: u32,
    /// Spot only: the most to pay, as a percentage of the On-Demand price.
    #[serde(default)]
    pub bid_percentage: Option<u32>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purchase {
    Spot,
    OnDemand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AllocationStrategy {
    BestFit,
    BestFitProgressive,
    SpotCapacityOptimized,
    SpotPriceCapacityOptimized,
}

impl AllocationStrategy {
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::BestFit => "BEST_FIT",
            Self::BestFitProgressive => "BEST_FIT_PROGRESSIVE",
            Self::SpotCapacityOptimized => "SPOT_CAPACITY_OPTIMIZED",
            Self::SpotPriceCapacityOptimized => "SPOT_PRICE_CAPACITY_OPTIMIZED",
        }
    }
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EfaMode {
    /// EFA on every instance; instance types without EFA are an error.
    Required,
    /// EFA where the instance type supports it, ENA (with a warning) where it does not.
    Auto,
    #[default]
    Off,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobQueue {
    /// Among queues sharing a compute environment, the higher value is scheduled first.
    pub priority: u32,
    /// Keys of `[compute_environments]`, in the order Batch should try them.
    pub compute_environments: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub name: String,
    /// A key of `[job_queues]`.
    pub queue: String,
    pub image: String,
    #[serde(default)]
    pub command: Vec<String>,
    pub vcpus: u32,
    pub memory: Size,
    #[serde(default)]
    pub gpus: u32,
    /// More than one makes a multi-node parallel job.
    #[serde(default = "one")]
    pub nodes: u32,
    /// Run as an array job of this many children.
    #[serde(default)]
    pub array_size: Option<u32>,
    /// Planned run time (per child for array jobs), the basis of the estimate.
    pub duration: Duration,
    /// Batch attempt timeout; at least 60 s.
    #[serde(default)]
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub retry: Retry,
    #[serde(default)]
    pub environment: IndexMap<String, String>,
    /// Data this phase sends out of AWS to the internet.
    #[serde(default)]
    pub data_out: Size,
    /// Whether the phase mounts the FSx file system (default: yes when the spec has one).
    #[serde(default)]
    pub uses_fsx: Option<bool>,
    /// This phase's job role, an existing role's ARN, instead of the stack's job role.
    #[serde(default)]
    pub job_role: Option<String>,
    /// Items the phase processes (samples, requests, pages), for cost per item.
    #[serde(default)]
    pub items: Option<u64>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Total attempts, 1-10 (Batch's limit).
    #[serde(default = "one")]
    pub attempts: u32,
    /// Retry attempts that end with a Spot interruption (`Host EC2*`); exit on anything else.
    #[serde(default = "yes")]
    pub on_spot_interruption: bool,
}

fn yes() -> bool {
    true
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 1,
            on_spot_interruption: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fsx {
    pub capacity: Size,
    pub deployment_type: FsxDeployment,
    /// MB/s per TiB of storage; fixed for SCRATCH types.
    #[serde(default)]
    pub throughput_per_tib: Option<u32>,
    #[serde(default = "default_mount")]
    pub mount_path: String,
    /// Throughput the workload needs; checked against what the file system delivers.
    #[serde(default)]
    pub required_throughput: Option<Rate>,
    #[serde(default)]
    pub data_repositories: Vec<DataRepository>,
    /// Lustre version (`FileSystemTypeVersion`); FSx makes 2.10 when none is sent, which data
    /// repository associations do not support, so pipectl sends 2.15 unless told otherwise.
    #[serde(default)]
    pub lustre_version: Option<LustreVersion>,
}

impl Fsx {
    /// The version sent to FSx.
    pub fn effective_lustre_version(&self) -> LustreVersion {
        self.lustre_version.unwrap_or(LustreVersion::V2_15)
    }
}

/// FSx for Lustre versions (CreateFileSystem `FileSystemTypeVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum LustreVersion {
    #[serde(rename = "2.10")]
    V2_10,
    #[serde(rename = "2.12")]
    V2_12,
    #[serde(rename = "2.15")]
    V2_15,
}

impl LustreVersion {
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::V2_10 => "2.10",
            Self::V2_12 => "2.12",
            Self::V2_15 => "2.15",
        }
    }
}

fn default_mount() -> String {
    "/fsx".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[allow(non_camel_case_types)]
pub enum FsxDeployment {
    SCRATCH_1,
    SCRATCH_2,
    PERSISTENT_1,
    PERSISTENT_2,
}

impl FsxDeployment {
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::SCRATCH_1 => "SCRATCH_1",
            Self::SCRATCH_2 => "SCRATCH_2",
            Self::PERSISTENT_1 => "PERSISTENT_1",
            Self::PERSISTENT_2 => "PERSISTENT_2",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataRepository {
    /// A key of `[buckets]`.
    pub bucket: String,
    /// Directory in the file system linked to the bucket, e.g. "/input".
    pub file_system_path: String,
    /// Prefix inside the bucket.
    #[serde(default)]
    pub prefix: String,
    #[serde(default = "yes")]
    pub import: bool,
    #[serde(default)]
    pub export: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Expected stored size, for the storage estimate.
    pub size: Size,
    #[serde(default)]
    pub versioning: bool,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stated {
    /// Where the figures come from.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub total_usd: Option<f64>,
    #[serde(default)]
    pub compute_usd: Option<f64>,
    #[serde(default)]
    pub storage_usd: Option<f64>,
    #[serde(default)]
    pub network_usd: Option<f64>,
    /// The cost the source compares against ("original cost").
    #[serde(default)]
    pub baseline_usd: Option<f64>,
    #[serde(default)]
    pub savings_pct: Option<f64>,
}

impl Phase {
    pub fn is_multi_node(&self) -> bool {
        self.nodes > 1
    }
}

impl Spec {
    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }
    /// Whether the phase mounts FSx: its own setting, else yes when the spec has a file system.
    pub fn phase_uses_fsx(&self, phase: &Phase) -> bool {
        self.fsx.is_some() && phase.uses_fsx.unwrap_or(true)
    }
    /// Whether compute environment `name` runs a phase that reads the Lustre file system (its
    /// instances then mount it).
    pub fn ce_mounts_fsx(&self, name: &str) -> bool {
        self.phases.iter().any(|p| {
            self.phase_uses_fsx(p)
                && self
                    .job_queues
                    .get(&p.queue)
                    .is_some_and(|q| q.compute_environments.iter().any(|c| c == name))
        })
    }

    /// The availability zones a compute environment launches into.
    pub fn ce_zones<'a>(&'a self, ce: &'a ComputeEnvironment) -> &'a [String] {
        ce.availability_zones
            .as_deref()
            .unwrap_or(&self.network.availability_zones)
    }
}
