//! Validation: everything pipectl can know is wrong with a spec before it calls AWS.
//!
//! Each rule lives with its part of the spec (network, compute, phases, storage) and reports
//! [`Finding`]s against key paths; [`crate::load`] turns paths into file:line:col.

mod compute;
mod fallback;
mod network;
mod phases;
mod storage;

use crate::diag::Finding;
use crate::instances::{self, InstanceType};
use crate::model::{ComputeEnvironment, JobQueue, Spec};
use crate::source::Path;

/// All findings for a spec that parsed; order is not significant.
pub fn validate(spec: &Spec) -> Vec<Finding> {
    let mut out = Vec::new();
    network::check(spec, &mut out);
    compute::check(spec, &mut out);
    phases::check(spec, &mut out);
    storage::check(spec, &mut out);
    out
}

/// "did you mean" for a name that should be one of `known`.
pub(crate) fn unknown_name_hint(
    what: &str,
    name: &str,
    known: impl IntoIterator<Item = impl AsRef<str>>,
) -> String {
    let known: Vec<String> = known.into_iter().map(|k| k.as_ref().to_string()).collect();
    let close = known
        .iter()
        .map(|k| (instances::edit_distance(name, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k.clone());
    match (close, known.is_empty()) {
        (Some(k), _) => format!("did you mean {k:?}?"),
        (None, true) => format!("no {what} is defined"),
        (None, false) => format!("defined {what}s: {}", known.join(", ")),
    }
}

/// The job queue `name` (named by `who` at `at`), or an `unknown-reference` finding.
pub(crate) fn known_queue<'a>(
    spec: &'a Spec,
    name: &str,
    who: String,
    at: Path,
    out: &mut Vec<Finding>,
) -> Option<&'a JobQueue> {
    let queue = spec.job_queues.get(name);
    if queue.is_none() {
        out.push(
            Finding::error(
                "unknown-reference",
                at,
                format!("{who} unknown job queue {name:?}"),
            )
            .with_hint(unknown_name_hint("job queue", name, spec.job_queues.keys())),
        );
    }
    queue
}

/// The compute environments of `queue` that the spec defines.
pub(crate) fn queue_ces<'a>(spec: &'a Spec, queue: &JobQueue) -> Vec<&'a ComputeEnvironment> {
    queue
        .compute_environments
        .iter()
        .filter_map(|n| spec.compute_environments.get(n))
        .collect()
}

/// The instance types of a compute environment that the fact table knows.
pub(crate) fn known_types(types: &[String]) -> Vec<&'static InstanceType> {
    types.iter().filter_map(|t| instances::lookup(t)).collect()
}

/// How long a name may be in `<stack>-<name>` under AWS's limit of `limit` characters.
pub(crate) fn physical_room(spec: &Spec, limit: usize) -> usize {
    limit.saturating_sub(spec.stack.name.len() + 1).max(1)
}

/// A name used in physical AWS names: letters, digits, hyphens, underscores.
pub(crate) fn check_name(out: &mut Vec<Finding>, path: Path, what: &str, name: &str, max: usize) {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if name.is_empty() || name.len() > max || !ok_chars {
        out.push(
            Finding::error(
                "bad-name",
                path,
                format!("{what} name {name:?} is not usable in AWS names"),
            )
            .on_key()
            .with_hint(format!(
                "use 1-{max} letters, digits, hyphens or underscores"
            )),
        );
    }
}

/// All regions where the services pipectl uses are offered (2026-11).
pub(crate) const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "ca-west-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-south-1",
    "ap-south-2",
    "ap-east-1",
    "sa-east-1",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "il-central-1",
    "mx-central-1",
];
