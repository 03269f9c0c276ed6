//! `[[phases]]`: one Batch job definition each, and how it is retried.

use crate::units::{Duration, Size};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// `[[phases]]`: one step of the pipeline, run as one Batch job (array or multi-node when asked).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Unique name (≤ 64 letters, digits, `-`, `_`); names the job definition and run records.
    pub name: String,
    /// A key of `[job_queues]`.
    pub queue: String,
    /// Container image (≤ 255 characters; a tag, not an `@` digest); with `egress =
    /// "vpc-endpoints"` it must be in the region's ECR.
    pub image: String,
    /// Container command as an argument list (Batch `command`); empty by default.
    #[serde(default)]
    pub command: Vec<String>,
    /// vCPUs per job (per node for multi-node jobs); at least 1.
    pub vcpus: u32,
    /// Memory per job (per node); at least 4 MiB, best 1 GiB below the instance's (ECS agent, OS).
    pub memory: Size,
    /// GPUs per job (per node); default 0.
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
    /// Names of the phases that must succeed before this one starts (at most 20; no cycles).
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// `retry`: how many attempts and which failures are retried (default: one attempt).
    #[serde(default)]
    pub retry: Retry,
    /// Environment variables of the container; names starting with `AWS_BATCH` are reserved.
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
    /// How long its job may wait RUNNABLE (for capacity) before `run` explains why it is
    /// stuck; default [`DEFAULT_EXPECTED_START`].
    #[serde(default)]
    pub expected_start: Option<Duration>,
    /// `fallback = { queue, after, on }`: where `run` resubmits the phase when its job waits
    /// too long for capacity or is interrupted too often; unset: it stays on its queue.
    #[serde(default)]
    pub fallback: Option<Fallback>,
}

/// `fallback = { queue = "...", after = "15m", on = ["capacity", "interruptions:2"] }`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    /// A key of `[job_queues]`, other than the phase's own (typically On-Demand).
    pub queue: String,
    /// How long the job may wait RUNNABLE, once it could start, before `capacity` triggers;
    /// default [`DEFAULT_FALLBACK_AFTER`].
    #[serde(default = "default_after")]
    pub after: Duration,
    /// What triggers the switch; default `["capacity"]`.
    #[serde(default = "default_triggers")]
    pub on: Vec<FallbackTrigger>,
}

/// A Spot job waiting this long for capacity is unlikely to get it soon.
pub const DEFAULT_FALLBACK_AFTER: Duration = Duration::from_secs(15 * 60);

fn default_after() -> Duration {
    DEFAULT_FALLBACK_AFTER
}

fn default_triggers() -> Vec<FallbackTrigger> {
    vec![FallbackTrigger::Capacity]
}

/// One element of `fallback.on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum FallbackTrigger {
    /// `"capacity"`: the job waited RUNNABLE longer than `after` once it could start.
    Capacity,
    /// `"interruptions:N"`: Spot reclaimed N of its attempts.
    Interruptions(u32),
}

impl std::str::FromStr for FallbackTrigger {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a fallback trigger: write \"capacity\" or \"interruptions:N\" (N ≥ 1)"
            )
        };
        match s.split_once(':') {
            None if s == "capacity" => Ok(FallbackTrigger::Capacity),
            Some(("interruptions", n)) => match n.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(FallbackTrigger::Interruptions(n)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for FallbackTrigger {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<FallbackTrigger> for String {
    fn from(t: FallbackTrigger) -> String {
        t.to_string()
    }
}

impl std::fmt::Display for FallbackTrigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FallbackTrigger::Capacity => f.write_str("capacity"),
            FallbackTrigger::Interruptions(n) => write!(f, "interruptions:{n}"),
        }
    }
}

impl Fallback {
    /// How long a capacity wait may last, when `capacity` is a trigger.
    pub fn capacity_after(&self) -> Option<Duration> {
        self.on
            .contains(&FallbackTrigger::Capacity)
            .then_some(self.after)
    }

    /// After how many Spot interruptions it switches, when that is a trigger.
    pub fn interruptions(&self) -> Option<u32> {
        self.on.iter().find_map(|t| match t {
            FallbackTrigger::Interruptions(n) => Some(*n),
            FallbackTrigger::Capacity => None,
        })
    }
}

/// A RUNNABLE job not started after this long is explained: a compute environment scaling
/// from zero takes a few minutes on AWS (an instance to launch, its ECS agent to register).
pub const DEFAULT_EXPECTED_START: Duration = Duration::from_secs(10 * 60);

impl Phase {
    /// How long its job may wait RUNNABLE before `run` explains why.
    pub fn expected_start(&self) -> Duration {
        self.expected_start.unwrap_or(DEFAULT_EXPECTED_START)
    }
}

fn one() -> u32 {
    1
}

/// `retry = { attempts, on_spot_interruption }`: Batch's retry strategy for a phase's job.
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

pub(super) fn yes() -> bool {
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

impl Phase {
    /// Whether it runs as a multi-node parallel job (`nodes > 1`).
    pub fn is_multi_node(&self) -> bool {
        self.nodes > 1
    }
}
