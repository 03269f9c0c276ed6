//! Rules for a phase's `fallback`: a queue of the spec other than its own that can run the
//! job, triggers that can fire, and a wait that is not zero.

use super::{known_queue, known_types, queue_ces};
use crate::diag::Finding;
use crate::instances::InstanceType;
use crate::model::{EfaMode, Fallback, JobQueue, Phase, Purchase, Spec};
use crate::source::Path;

pub(super) fn check(spec: &Spec, phase: &Phase, at: &Path, out: &mut Vec<Finding>) {
    let Some(fb) = &phase.fallback else {
        return;
    };
    let at = at.at("fallback");
    if fb.on.is_empty() {
        out.push(
            Finding::error(
                "bad-value",
                at.at("on"),
                "fallback.on is empty: nothing would trigger it",
            )
            .with_hint("on = [\"capacity\"], [\"interruptions:2\"] or both"),
        );
    }
    if fb.after.secs() == 0 {
        out.push(
            Finding::error("bad-value", at.at("after"), "fallback.after is zero").with_hint(
                "how long the job may wait for capacity before it moves, such as \"15m\"",
            ),
        );
    }
    if let Some(n) = fb.interruptions() {
        let retried = phase.retry.on_spot_interruption && phase.retry.attempts > n;
        if !retried {
            // Batch fails the job at its last attempt: the Nth interruption must leave it
            // retrying for `run` to move it.
            out.push(
                Finding::error("fallback-never", at.at("on"), format!("interruptions:{n} cannot trigger: with retry.attempts = {} the job has ended by its {n}th interruption", phase.retry.attempts))
                    .with_hint(format!("set retry = {{ attempts = {}, on_spot_interruption = true }} or lower N", n + 1)),
            );
        }
    }
    check_queue(spec, phase, fb, &at, out);
}

/// The fallback queue: another of the spec's, that can run the job, best On-Demand.
/// A phase whose job definition carries EFA's device (its queue's compute environments require
/// EFA) cannot start where there is none: its container asks for /dev/infiniband/uverbs0.
fn check_efa(
    spec: &Spec,
    phase: &Phase,
    fb: &Fallback,
    queue: &JobQueue,
    at: &Path,
    out: &mut Vec<Finding>,
) {
    let requires = |q: &JobQueue| {
        queue_ces(spec, q)
            .iter()
            .map(|ce| ce.efa == EfaMode::Required)
            .collect::<Vec<bool>>()
    };
    let own = spec
        .job_queues
        .get(&phase.queue)
        .map(requires)
        .unwrap_or_default();
    let theirs = requires(queue);
    if own.contains(&true) && theirs.iter().any(|r| !r) {
        out.push(
            Finding::error("efa-fallback", at.at("queue"), format!("phase {:?} runs with EFA's device, which fallback queue {:?} has no EFA for: its job could never start there", phase.name, fb.queue))
                .with_hint("fall back to a queue whose compute environments all set efa = \"required\", or drop the fallback"),
        );
    }
}

fn check_queue(spec: &Spec, phase: &Phase, fb: &Fallback, at: &Path, out: &mut Vec<Finding>) {
    if fb.queue == phase.queue {
        out.push(
            Finding::error(
                "fallback-same-queue",
                at.at("queue"),
                format!(
                    "phase {:?} falls back to its own queue {:?}",
                    phase.name, phase.queue
                ),
            )
            .with_hint("name another queue, typically an On-Demand one"),
        );
        return;
    }
    let who = format!("phase {:?} falls back to", phase.name);
    let Some(queue) = known_queue(spec, &fb.queue, who, at.at("queue"), out) else {
        return;
    };
    let purchases = |q: Option<&JobQueue>| -> Vec<Purchase> {
        q.map_or(vec![], |q| {
            queue_ces(spec, q).iter().map(|ce| ce.purchase).collect()
        })
    };
    let own = purchases(spec.job_queues.get(&phase.queue));
    if fb.interruptions().is_some() && !own.contains(&Purchase::Spot) {
        out.push(
            Finding::warning(
                "fallback-never",
                at.at("on"),
                format!(
                    "queue {:?} buys no Spot: its jobs are never interrupted",
                    phase.queue
                ),
            )
            .with_hint("keep \"capacity\" only"),
        );
    }
    if purchases(Some(queue)).contains(&Purchase::Spot) {
        out.push(
            Finding::warning("fallback-spot", at.at("queue"), format!("fallback queue {:?} buys Spot: it may lack capacity as the phase's own queue does", fb.queue))
                .with_hint("fall back to a queue whose compute environments are On-Demand"),
        );
    }
    check_efa(spec, phase, fb, queue, at, out);
    let types: Vec<&InstanceType> = queue_ces(spec, queue)
        .iter()
        .flat_map(|ce| known_types(&ce.instance_types))
        .collect();
    let mem = phase.memory.mib().ceil() as u64;
    let fits =
        |t: &&InstanceType| t.vcpus >= phase.vcpus && t.memory_mib >= mem && t.gpus >= phase.gpus;
    if !types.is_empty() && !types.iter().any(fits) {
        let offered: Vec<&str> = types.iter().map(|t| t.name).collect();
        out.push(
            Finding::error("job-does-not-fit", at.at("queue"), format!("phase {:?} ({} vCPUs, {}, {} GPUs) fits no instance type of fallback queue {:?}", phase.name, phase.vcpus, phase.memory, phase.gpus, fb.queue))
                .with_hint(format!("queue {:?} can launch: {}", fb.queue, offered.join(", "))),
        );
    }
}
