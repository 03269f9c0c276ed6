//! Rules for `[[phases]]`: references, resources against the queue's instance types,
//! multi-node and array constraints, retries, and dependency cycles (a phase's `fallback` in
//! [`super::fallback`]).

use std::collections::HashMap;

use super::{check_name, known_queue, known_types, queue_ces, unknown_name_hint};
use crate::diag::Finding;
use crate::instances::InstanceType;
use crate::model::{Phase, Purchase, Spec};
use crate::path;
use crate::source::Path;

/// Memory the ECS agent and the OS keep on every instance; a job asking for more than
/// instance memory minus this may never be placed.
const MEMORY_HEADROOM_MIB: u64 = 1024;

/// The most phases a spec may have: `analyze`'s sensitivity estimates the whole spec again for
/// each phase's inputs, so it grows faster than the square of chained phases (measured, debug
/// build, after the schedule, the allocation and the per-phase sums became near-linear: 100
/// phases 1.8 s, 200 6.8 s, 500 39 s). 100 is far above any pipeline pipectl was built for.
pub(crate) const MAX_PHASES: usize = 100;

pub(super) fn check(spec: &Spec, out: &mut Vec<Finding>) {
    if spec.phases.is_empty() {
        out.push(
            Finding::error("no-phases", path!["phases"], "the spec has no [[phases]]")
                .with_hint("add at least one [[phases]] table"),
        );
    }
    if spec.phases.len() > MAX_PHASES {
        out.push(
            Finding::error("too-many-phases", path!["phases"], format!("{} phases; pipectl takes at most {MAX_PHASES}", spec.phases.len()))
                .on_key()
                .with_hint("group steps into fewer phases (one phase can run an array job of up to 10,000 children)"),
        );
    }
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (i, phase) in spec.phases.iter().enumerate() {
        let at = path!["phases", i];
        // job definition `<stack>-<phase>` (128) and job `<stack>-<phase>-<run id>-r<n>`
        // (SubmitJob's jobName: 128): the run id is 20 characters, a fallback adds `-r9`
        check_name(
            out,
            at.at("name"),
            "phase",
            &phase.name,
            super::physical_room(spec, 128 - 24).min(64),
        );
        if let Some(first) = first_seen.insert(&phase.name, i) {
            out.push(
                Finding::error("duplicate-name", at.at("name"), format!("phase name {:?} is used twice", phase.name))
                    .with_hint(format!("phases[{first}] already has this name; names identify job definitions and run records")),
            );
            first_seen.insert(&phase.name, first);
        }
        check_phase(spec, phase, &at, out);
    }
    check_dependencies(spec, out);
}

/// SubmitJob `dependsOn`: "A job can depend upon a maximum of 20 jobs" (AWS Batch user guide,
/// job dependencies).
const MAX_DEPENDS_ON: usize = 20;

fn check_phase(spec: &Spec, phase: &Phase, at: &Path, out: &mut Vec<Finding>) {
    check_container(phase, at, out);
    check_limits(phase, at, out);
    check_environment(spec, phase, at, out);
    super::fallback::check(spec, phase, at, out);

    let who = format!("phase {:?} names", phase.name);
    let Some(queue) = known_queue(spec, &phase.queue, who, at.at("queue"), out) else {
        return;
    };
    let ces = queue_ces(spec, queue);
    let on_spot = ces.iter().any(|ce| ce.purchase == Purchase::Spot);
    if phase.is_multi_node() {
        if on_spot {
            out.push(
                Finding::error(
                    "mnp-spot",
                    at.at("nodes"),
                    "multi-node parallel jobs are not supported on Spot compute environments",
                )
                .with_hint("run this phase on a queue whose compute environments are On-Demand"),
            );
        }
        if ces.iter().any(|ce| ce.placement_group.is_none()) {
            out.push(
                Finding::warning("mnp-no-placement", at.at("nodes"), format!("{} nodes without a cluster placement group: nodes may land far apart", phase.nodes))
                    .with_hint("give the queue's compute environments a cluster placement_group in one availability zone"),
            );
        }
    }
    if on_spot
        && !phase.is_multi_node()
        && (phase.retry.attempts < 2 || !phase.retry.on_spot_interruption)
    {
        out.push(
            Finding::warning(
                "spot-no-retry",
                at.at("retry"),
                "this phase runs on Spot but a Spot interruption would fail it (no retry)",
            )
            .with_hint("set retry = { attempts = 3, on_spot_interruption = true }"),
        );
    }
    let types: Vec<&InstanceType> = ces
        .iter()
        .flat_map(|ce| known_types(&ce.instance_types))
        .collect();
    check_fit(phase, at, &phase.queue, &types, out);
}

/// The container image, vCPUs and memory RegisterJobDefinition accepts.
fn check_container(phase: &Phase, at: &Path, out: &mut Vec<Finding>) {
    if phase.image.trim().is_empty() {
        out.push(Finding::error(
            "bad-value",
            at.at("image"),
            "empty container image",
        ));
    } else if phase.image.len() > 255
        || !phase
            .image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:./#".contains(c))
    {
        // ContainerProperties.image: "Up to 255 letters (uppercase and lowercase), numbers,
        // hyphens, underscores, colons, periods, forward slashes, and number signs".
        out.push(
            Finding::error("bad-image", at.at("image"), format!("container image {:?} is not one RegisterJobDefinition accepts", phase.image))
                .with_hint("at most 255 letters, digits, hyphens, underscores, colons, periods, slashes and number signs (a digest reference with @ is refused: use a tag)"),
        );
    }
    if phase.vcpus == 0 {
        out.push(Finding::error(
            "bad-value",
            at.at("vcpus"),
            "a job needs at least 1 vCPU",
        ));
    }
    if phase.memory.mib() < 4.0 {
        out.push(Finding::error(
            "bad-value",
            at.at("memory"),
            format!("{} is below Batch's 4 MiB minimum", phase.memory),
        ));
    }
}

/// Duration, timeout, retries, nodes and array size within Batch's limits.
fn check_limits(phase: &Phase, at: &Path, out: &mut Vec<Finding>) {
    if phase.duration.secs() == 0 {
        out.push(
            Finding::error("bad-value", at.at("duration"), "planned duration is zero")
                .with_hint("the estimate needs a duration such as \"35m\""),
        );
    }
    if let Some(t) = phase.timeout {
        if t.secs() < 60 {
            out.push(Finding::error(
                "bad-value",
                at.at("timeout"),
                format!("timeout {t} is below Batch's 60 s minimum"),
            ));
        } else if t < phase.duration {
            out.push(Finding::warning(
                "timeout-short",
                at.at("timeout"),
                format!(
                    "timeout {t} is shorter than the planned duration {}: Batch will kill the job",
                    phase.duration
                ),
            ));
        }
    }
    if phase.expected_start.is_some_and(|t| t.secs() == 0) {
        out.push(
            Finding::error(
                "bad-value",
                at.at("expected_start"),
                "expected start is zero",
            )
            .with_hint(
                "how long the job may wait for capacity before `run` explains it, such as \"10m\"",
            ),
        );
    }
    if !(1..=10).contains(&phase.retry.attempts) {
        out.push(Finding::error(
            "bad-value",
            at.at("retry").at("attempts"),
            format!("{} attempts; Batch allows 1-10", phase.retry.attempts),
        ));
    }
    if phase.nodes == 0 {
        out.push(Finding::error(
            "bad-value",
            at.at("nodes"),
            "nodes must be at least 1",
        ));
    }
    if let Some(n) = phase.array_size {
        if !(2..=10_000).contains(&n) {
            out.push(Finding::error(
                "bad-value",
                at.at("array_size"),
                format!("array size {n}; Batch allows 2-10000"),
            ));
        }
        if phase.is_multi_node() {
            out.push(Finding::error(
                "bad-value",
                at.at("array_size"),
                "a multi-node parallel job cannot also be an array job",
            ));
        }
    }
}

/// Environment variables Batch reserves, and FSx use without an FSx.
fn check_environment(spec: &Spec, phase: &Phase, at: &Path, out: &mut Vec<Finding>) {
    for key in phase.environment.keys() {
        if key.starts_with("AWS_BATCH") {
            out.push(
                Finding::error(
                    "reserved-env",
                    at.at("environment").at(key),
                    format!("{key} is reserved: Batch sets AWS_BATCH_* variables itself"),
                )
                .on_key(),
            );
        }
    }
    if phase.uses_fsx == Some(true) && spec.fsx.is_none() {
        out.push(Finding::error(
            "unknown-reference",
            at.at("uses_fsx"),
            "uses_fsx = true but the spec has no [fsx]",
        ));
    }
}

/// A job must fit on at least one instance type its queue can launch.
fn check_fit(
    phase: &Phase,
    at: &Path,
    queue: &str,
    types: &[&InstanceType],
    out: &mut Vec<Finding>,
) {
    if types.is_empty() {
        return;
    }
    let mem = phase.memory.mib().ceil() as u64;
    let fits =
        |t: &&&InstanceType| t.vcpus >= phase.vcpus && t.memory_mib >= mem && t.gpus >= phase.gpus;
    if types.iter().any(|t| fits(&t)) {
        let tight = types
            .iter()
            .filter(|t| fits(t))
            .all(|t| t.memory_mib < mem + MEMORY_HEADROOM_MIB);
        if tight {
            out.push(
                Finding::warning("memory-tight", at.at("memory"), format!("{} leaves less than 1 GiB of the instance's memory for the ECS agent and OS; Batch may never place the job", phase.memory))
                    .with_hint("ask for about 1 GiB less than the instance's memory"),
            );
        }
        return;
    }
    let names: Vec<String> = types
        .iter()
        .map(|t| {
            format!(
                "{} ({} vCPU, {} GiB, {} GPU)",
                t.name,
                t.vcpus,
                t.memory_mib / 1024,
                t.gpus
            )
        })
        .collect();
    let offered = names.join(", ");
    let (key, what) = if !types.iter().any(|t| t.vcpus >= phase.vcpus) {
        ("vcpus", format!("{} vCPUs", phase.vcpus))
    } else if !types.iter().any(|t| t.memory_mib >= mem) {
        ("memory", format!("{} of memory", phase.memory))
    } else if !types.iter().any(|t| t.gpus >= phase.gpus) {
        ("gpus", format!("{} GPUs", phase.gpus))
    } else {
        (
            "vcpus",
            format!(
                "{} vCPUs, {} and {} GPUs together",
                phase.vcpus, phase.memory, phase.gpus
            ),
        )
    };
    out.push(
        Finding::error(
            "job-does-not-fit",
            at.at(key),
            format!(
                "phase {:?} needs {what}, more than any instance type of queue {queue:?} offers",
                phase.name
            ),
        )
        .with_hint(format!("queue {queue:?} can launch: {offered}")),
    );
}

/// Unknown and self dependencies, duplicates, and cycles (reported once each, at an edge of
/// the cycle, naming the whole loop).
fn check_dependencies(spec: &Spec, out: &mut Vec<Finding>) {
    let index = spec.phase_indices();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); spec.phases.len()];
    for (i, phase) in spec.phases.iter().enumerate() {
        if phase.depends_on.len() > MAX_DEPENDS_ON {
            out.push(
                Finding::error("too-many-dependencies", path!["phases", i, "depends_on"], format!("phase {:?} depends on {} phases; SubmitJob takes at most {MAX_DEPENDS_ON} jobs in dependsOn", phase.name, phase.depends_on.len()))
                    .with_hint("depend on a phase that itself depends on the others"),
            );
        }
        let mut seen = Vec::new();
        for (j, dep) in phase.depends_on.iter().enumerate() {
            let at = path!["phases", i, "depends_on", j];
            if seen.contains(&dep) {
                out.push(Finding::warning(
                    "duplicate-name",
                    at.clone(),
                    format!("dependency {dep:?} is listed twice"),
                ));
                continue;
            }
            seen.push(dep);
            match index.get(dep.as_str()) {
                None => out.push(
                    Finding::error(
                        "unknown-reference",
                        at,
                        format!("phase {:?} depends on unknown phase {dep:?}", phase.name),
                    )
                    .with_hint(unknown_name_hint(
                        "phase",
                        dep,
                        spec.phases.iter().map(|p| &p.name),
                    )),
                ),
                Some(&d) if d == i => out.push(Finding::error(
                    "dependency-cycle",
                    at,
                    format!("phase {:?} depends on itself", phase.name),
                )),
                Some(&d) => edges[i].push((d, j)),
            }
        }
    }
    // Iterative DFS with colours: white 0, grey 1 (on the stack), black 2.
    let mut colour = vec![0u8; spec.phases.len()];
    for start in 0..spec.phases.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(dep, j)) = edges[node].get(*next) {
                *next += 1;
                match colour[dep] {
                    0 => {
                        colour[dep] = 1;
                        stack.push((dep, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        let mut names: Vec<&str> = stack[from..]
                            .iter()
                            .map(|(n, _)| spec.phases[*n].name.as_str())
                            .collect();
                        names.push(&spec.phases[dep].name);
                        out.push(
                            Finding::error("dependency-cycle", path!["phases", node, "depends_on", j], format!("phase dependencies form a cycle: {}", names.join(" → ")))
                                .with_hint("remove one of these dependencies; Batch can only run an acyclic graph"),
                        );
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
            }
        }
    }
}
