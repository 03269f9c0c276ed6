//! `[[phases]]`: one Batch job definition each, and how it is retried.

use crate::units::{Duration, Size};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

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
    pub fn is_multi_node(&self) -> bool {
        self.nodes > 1
    }
}
