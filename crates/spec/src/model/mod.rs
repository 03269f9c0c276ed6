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
