//! What every resource operation needs: the clients, the spec and its graph, the stack's
//! identity (name, account), the wait deadlines, the outputs of resources already in place,
//! and the progress sink.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipectl_aws::Aws;
use pipectl_spec::Spec;
use pipectl_spec::graph::{Graph, Resource, ResourceId};
use serde::Serialize;

use crate::error::ProvisionError;

/// Tag keys pipectl owns.
/// The stack a resource belongs to: how `status` and `down` find it without the state file.
pub const TAG_STACK: &str = "pipectl:stack";
/// The resource's logical id in the graph (e.g. `ce-training-spot`).
pub const TAG_RESOURCE: &str = "pipectl:resource";

/// How long to wait for each kind of resource (defaults from the field: CE 20 min, queue
/// 10 min, FSx 30 min; the rest 10 min).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Batch compute environments.
    pub compute_environment: Duration,
    /// Batch job queues.
    pub job_queue: Duration,
    /// FSx for Lustre file systems and their data repository associations.
    pub file_system: Duration,
    /// Every other kind.
    pub other: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            compute_environment: Duration::from_secs(20 * 60),
            job_queue: Duration::from_secs(10 * 60),
            file_system: Duration::from_secs(30 * 60),
            other: Duration::from_secs(10 * 60),
        }
    }
}

/// A resource as AWS has it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Live {
    /// AWS's id or name for it (`vpc-…`, `fs-…`, a queue's name).
    pub physical_id: String,
    /// Its ARN, for the kinds that have one and dependents that need it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// AWS's own word for its state ("available", "VALID, ENABLED", "AVAILABLE"), or "exists".
    pub state: String,
    /// Outputs for dependents and for comparison (cidr, version, dns name, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

impl Live {
    /// A resource with AWS id `physical_id` in AWS state `state`, no ARN or attributes yet.
    pub fn new(physical_id: impl Into<String>, state: impl Into<String>) -> Self {
        Live {
            physical_id: physical_id.into(),
            state: state.into(),
            ..Live::default()
        }
    }
    /// With its ARN.
    pub fn arn(mut self, arn: Option<&str>) -> Self {
        self.arn = arn.map(str::to_string);
        self
    }
    /// With attribute `k` set to `v`.
    pub fn attr(mut self, k: &str, v: impl Into<String>) -> Self {
        self.attrs.insert(k.to_string(), v.into());
        self
    }
    /// Attribute `k`, or "" when it is not set.
    pub fn get(&self, k: &str) -> &str {
        self.attrs.get(k).map_or("", String::as_str)
    }
}

/// A difference between the spec and AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// What differs, as the plan names it ("max-vcpus", "priority").
    pub what: String,
    /// The value the spec asks for.
    pub want: String,
    /// The value AWS has.
    pub have: String,
    /// Whether AWS allows changing it in place; otherwise the resource must be replaced.
    pub in_place: bool,
}

impl Drift {
    /// A difference in `what`: the spec wants `want`, AWS has `have`.
    pub fn new(what: &str, want: impl ToString, have: impl ToString, in_place: bool) -> Self {
        Drift {
            what: what.into(),
            want: want.to_string(),
            have: have.to_string(),
            in_place,
        }
    }
}

/// Something `up`/`down` reports as it goes.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// Work on a resource began.
    Started {
        /// The resource's logical id.
        id: String,
        /// What is being done ("create", "update", "delete", "wait").
        action: String,
    },
    /// A resource is being waited for; AWS reports it in `state`.
    Waiting {
        /// The resource's logical id.
        id: String,
        /// AWS's word for where it is ("CREATING", "pending").
        state: String,
    },
    /// Work on a resource finished.
    Done {
        /// The resource's logical id.
        id: String,
        /// What was done.
        action: String,
        /// AWS's id for it.
        physical_id: String,
        /// How long the work took.
        seconds: f64,
    },
    /// Work on a resource failed.
    Failed {
        /// The resource's logical id.
        id: String,
        /// The error, as the CLI prints it.
        error: String,
    },
    /// Something worth saying that is not a step (a retry, a revalidation).
    Note {
        /// One line, naming the resource.
        message: String,
    },
}

/// Where `up` and `down` send their events (the CLI draws progress from them).
pub type Progress = Arc<dyn Fn(Event) + Send + Sync>;

/// Everything a handler needs for one `up`, `status` or `down` of one stack.
pub struct Ctx {
    /// The AWS clients (local AWS or AWS).
    pub aws: Aws,
    /// The validated spec.
    pub spec: Spec,
    /// The spec's resources in dependency order.
    pub graph: Graph,
    /// The stack's name.
    pub stack: String,
    /// The account id, part of client tokens and ARNs.
    pub account: String,
    /// How long to wait for each kind.
    pub timeouts: Timeouts,
    /// This lifetime of the stack's nonce (state file), part of every client token.
    pub lifetime: String,
    outputs: Mutex<HashMap<ResourceId, Live>>,
    progress: Progress,
}

impl Ctx {
    /// The context for `spec`'s stack; its graph is built here. The lifetime nonce is set
    /// with [`Ctx::with_lifetime`].
    pub fn new(
        aws: Aws,
        spec: Spec,
        account: String,
        timeouts: Timeouts,
        progress: Progress,
    ) -> Self {
        let graph = Graph::from_spec(&spec);
        Ctx {
            stack: spec.stack.name.clone(),
            aws,
            spec,
            graph,
            account,
            timeouts,
            lifetime: String::new(),
            outputs: Mutex::new(HashMap::new()),
            progress,
        }
    }

    /// Reports an event to the progress sink.
    pub fn emit(&self, e: Event) {
        (self.progress)(e);
    }

    /// With the stack's lifetime nonce (see [`crate::token`]).
    pub fn with_lifetime(mut self, lifetime: &str) -> Self {
        self.lifetime = lifetime.to_string();
        self
    }

    /// The client token for a create request of resource `id`: one per request and lifetime.
    /// `request` is the request's input before the token is set.
    pub fn client_token(&self, id: &str, request: &impl std::fmt::Debug) -> String {
        crate::token::client_token(
            &self.account,
            &self.stack,
            id,
            &self.lifetime,
            &format!("{request:?}"),
        )
    }

    /// Records what AWS has for `id`, for the resources that depend on it.
    pub fn set_output(&self, id: &ResourceId, live: Live) {
        self.outputs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), live);
    }

    /// What AWS has for `id`, once it was observed or made in this run.
    pub fn output(&self, id: &ResourceId) -> Option<Live> {
        self.outputs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// The output of a dependency that must already exist (the executor guarantees order).
    pub fn dep(&self, id: &ResourceId) -> Result<Live, ProvisionError> {
        self.output(id).ok_or_else(|| {
            ProvisionError::refused(
                id.to_string(),
                "a resource it depends on is not in place",
                None,
            )
        })
    }

    /// The graph's resource `id`, if the spec has it.
    pub fn resource(&self, id: &ResourceId) -> Option<&Resource> {
        self.graph.get(id)
    }

    /// The tags for a resource: pipectl's two, `Name`, and the spec's own.
    pub fn tags(&self, logical: &str, name: &str) -> Vec<(String, String)> {
        let mut t = vec![
            (TAG_STACK.to_string(), self.stack.clone()),
            (TAG_RESOURCE.to_string(), logical.to_string()),
            ("Name".to_string(), name.to_string()),
        ];
        for (k, v) in &self.spec.stack.tags {
            t.push((k.clone(), v.clone()));
        }
        t
    }

    /// The IAM path every role and instance profile of the stack lives under.
    pub fn iam_path(&self) -> String {
        format!("/pipectl/{}/", self.stack)
    }

    /// S3 bucket names are global: the stack, the role and the account make them unique.
    pub fn bucket_name(&self, key: &str) -> String {
        crate::policies::bucket_name(&self.stack, key, &self.account)
    }

    /// The VPC the stack lives in: the one it created, or the spec's.
    pub fn vpc_id(&self) -> Result<String, ProvisionError> {
        match &self.spec.network.vpc_id {
            Some(id) => Ok(id.clone()),
            None => Ok(self.dep(&ResourceId::Vpc)?.physical_id),
        }
    }

    /// The private subnets for a set of zones (created ones), or the spec's existing subnets.
    pub fn subnets_for(&self, zones: &[String]) -> Result<Vec<String>, ProvisionError> {
        if self.spec.network.cidr.is_none() {
            return Ok(self.spec.network.subnet_ids.clone());
        }
        zones
            .iter()
            .map(|z| {
                self.dep(&ResourceId::PrivateSubnet(z.clone()))
                    .map(|l| l.physical_id)
            })
            .collect()
    }
}
