//! The spec model: what a pipeline needs from AWS, as read from a TOML file.
//!
//! Every table denies unknown keys, so a misspelt key is an error at its location rather than a
//! silently ignored setting. Names of compute environments, queues, placement groups and buckets
//! are the keys of their tables (TOML itself rejects a duplicate key); phases are an ordered
//! array because their order is how people read a pipeline.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

mod compute;
mod network;
mod phases;
mod storage;

pub use compute::*;
pub use network::*;
pub use phases::*;
pub use storage::*;

/// A whole spec file: the stack, its network and roles, compute, phases and storage.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `[stack]`: the stack's name, region, budget and tags.
    pub stack: Stack,
    /// `[network]`: a new or an existing VPC, and how its private subnets reach AWS.
    pub network: Network,
    /// `[iam]`: the service, instance and job roles (defaults when the table is absent).
    #[serde(default)]
    pub iam: Iam,
    /// `[placement_groups.NAME]`: EC2 placement groups that compute environments name.
    #[serde(default)]
    pub placement_groups: IndexMap<String, PlacementGroup>,
    /// `[compute_environments.NAME]`: one Batch compute environment each, in file order.
    pub compute_environments: IndexMap<String, ComputeEnvironment>,
    /// `[job_queues.NAME]`: one Batch job queue each, in file order.
    pub job_queues: IndexMap<String, JobQueue>,
    /// `[[phases]]`: the pipeline's jobs, in the order written.
    pub phases: Vec<Phase>,
    /// `[fsx]`: the shared FSx for Lustre file system; None when the spec has no `[fsx]`.
    #[serde(default)]
    pub fsx: Option<Fsx>,
    /// `[buckets.NAME]`: the stack's S3 buckets, one per role, in file order.
    #[serde(default)]
    pub buckets: IndexMap<String, Bucket>,
    /// Figures the spec's source document states; `pipectl cost` checks them, never repeats them.
    #[serde(default)]
    pub stated: Option<Stated>,
}

/// `[stack]`: the stack's identity, region, run budget and tags.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// Lower-case letters, digits and hyphens; it prefixes every physical name and bucket.
    pub name: String,
    /// AWS region code (`us-east-1`) every resource is created in.
    pub region: String,
    /// Free text for readers of the spec; not sent to AWS.
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

    /// The name of the stack's job-event queue (SQS) and of the EventBridge rule feeding it:
    /// within both services' rules for names (letters, digits, `-`; 80 and 64 characters).
    pub fn job_events_name(&self) -> String {
        format!("pipectl-{}-job-events", self.stack.name)
    }
}

/// `[stated]`: cost figures (USD) the spec's source document claims, each optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stated {
    /// Where the figures come from.
    #[serde(default)]
    pub source: Option<String>,
    /// Stated total cost of one run, USD.
    #[serde(default)]
    pub total_usd: Option<f64>,
    /// Stated compute (EC2 instances) part, USD.
    #[serde(default)]
    pub compute_usd: Option<f64>,
    /// Stated storage (FSx, S3) part, USD.
    #[serde(default)]
    pub storage_usd: Option<f64>,
    /// Stated network (data transfer out, NAT) part, USD.
    #[serde(default)]
    pub network_usd: Option<f64>,
    /// The cost the source compares against ("original cost").
    #[serde(default)]
    pub baseline_usd: Option<f64>,
    /// Stated saving against `baseline_usd`, in percent (30.8 means 30.8 %).
    #[serde(default)]
    pub savings_pct: Option<f64>,
}

impl Spec {
    /// The phase named `name`; None when there is none.
    /// Each phase's index in `phases`, by name (the last of a duplicated name).
    pub fn phase_indices(&self) -> std::collections::HashMap<&str, usize> {
        self.phases
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect()
    }

    /// The phase named `name`.
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
