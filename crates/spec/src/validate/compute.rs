//! Rules for `[placement_groups]`, `[compute_environments]` and `[job_queues]`.

use std::collections::{HashMap, HashSet};

use super::{check_name, known_types, unknown_name_hint};
use crate::diag::Finding;
use crate::instances;
use crate::instances::InstanceType;
use crate::model::{
    AllocationStrategy, ComputeEnvironment, EfaMode, PlacementStrategy, Purchase, Spec,
};
use crate::path;
use crate::source::Path;

/// Batch allows at most three compute environments per job queue.
const MAX_CES_PER_QUEUE: usize = 3;

pub(super) fn check(spec: &Spec, out: &mut Vec<Finding>) {
    // Batch names (compute environments, queues, job definitions) and launch template names
    // are `<stack>-<name>`, at most 128 characters (CreateComputeEnvironment, CreateJobQueue,
    // RegisterJobDefinition, CreateLaunchTemplate).
    let batch_max = super::physical_room(spec, 128);
    for name in spec.compute_environments.keys() {
        check_name(
            out,
            path!["compute_environments", name],
            "compute environment",
            name,
            batch_max,
        );
        check_ce(spec, name, out);
        if !spec
            .job_queues
            .values()
            .any(|q| q.compute_environments.contains(name))
        {
            out.push(
                Finding::warning(
                    "unused",
                    path!["compute_environments", name],
                    format!("no job queue uses compute environment {name:?}"),
                )
                .on_key(),
            );
        }
    }
    for (name, _) in &spec.placement_groups {
        check_name(
            out,
            path!["placement_groups", name],
            "placement group",
            name,
            100,
        );
        if !spec
            .compute_environments
            .values()
            .any(|ce| ce.placement_group.as_deref() == Some(name))
        {
            out.push(
                Finding::warning(
                    "unused",
                    path!["placement_groups", name],
                    format!("no compute environment uses placement group {name:?}"),
                )
                .on_key(),
            );
        }
    }
    check_queues(spec, out);
}

fn check_ce(spec: &Spec, name: &str, out: &mut Vec<Finding>) {
    let ce = &spec.compute_environments[name];
    let at = path!["compute_environments", name];
    check_instance_types(ce, &at, out);
    check_image(spec, name, out);
    let known = known_types(&ce.instance_types);
    check_capacity(ce, &at, &known, out);
    check_purchase(ce, &at, out);
    check_zones_efa_placement(spec, ce, &at, &known, out);
}

/// Each instance type: listed once, a type EC2 has, one pipectl knows the facts of.
fn check_instance_types(ce: &ComputeEnvironment, at: &Path, out: &mut Vec<Finding>) {
    if ce.instance_types.is_empty() {
        out.push(Finding::error(
            "no-instance-types",
            at.at("instance_types"),
            "a compute environment needs at least one instance type",
        ));
    }
    let mut seen = HashSet::new();
    for (i, t) in ce.instance_types.iter().enumerate() {
        if !seen.insert(t) {
            out.push(Finding::error(
                "duplicate-name",
                at.at("instance_types").at(i),
                format!("instance type {t:?} is listed twice"),
            ));
        }
        if !instances::batch_accepts(t) {
            // CreateComputeEnvironment refuses a type EC2 does not have.
            let close = instances::closest_ec2_names(t);
            let hint = if close.is_empty() {
                "use an EC2 instance type name (e.g. g4dn.xlarge), a family (g4dn) or optimal"
                    .to_string()
            } else {
                format!(
                    "did you mean {}?",
                    close
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            };
            out.push(
                Finding::error(
                    "not-an-instance-type",
                    at.at("instance_types").at(i),
                    format!(
                        "{t:?} is not an EC2 instance type: Batch refuses the compute environment"
                    ),
                )
                .with_hint(hint),
            );
        } else if instances::lookup(t).is_none() {
            let mut f = Finding::warning(
                "unknown-instance-type",
                at.at("instance_types").at(i),
                format!("pipectl has no facts for {t:?}; vCPU, memory, GPU and EFA checks skip it"),
            );
            if let Some(s) = instances::suggest(t) {
                f = f.with_hint(format!("did you mean {s:?}?"));
            }
            out.push(f);
        }
    }
}

/// min/max vCPUs against the instance types' sizes.
fn check_capacity(
    ce: &ComputeEnvironment,
    at: &Path,
    known: &[&InstanceType],
    out: &mut Vec<Finding>,
) {
    if ce.max_vcpus == 0 {
        out.push(Finding::error(
            "bad-vcpus",
            at.at("max_vcpus"),
            "max_vcpus is 0: the compute environment can never launch an instance",
        ));
    } else if !known.is_empty() {
        let smallest = known.iter().map(|t| t.vcpus).min().unwrap_or(0);
        if ce.max_vcpus < smallest {
            out.push(
                Finding::error("max-vcpus-too-low", at.at("max_vcpus"), format!("max_vcpus = {} is below one instance's vCPUs ({smallest}): nothing can launch", ce.max_vcpus))
                    .with_hint(format!("set max_vcpus to at least {smallest} (one instance), or a multiple for parallel jobs")),
            );
        } else {
            for t in known.iter().filter(|t| t.vcpus > ce.max_vcpus) {
                let i = ce
                    .instance_types
                    .iter()
                    .position(|n| n == t.name)
                    .unwrap_or(0);
                out.push(Finding::warning(
                    "max-vcpus-too-low",
                    at.at("instance_types").at(i),
                    format!(
                        "{} has {} vCPUs, more than max_vcpus = {}: it will never launch",
                        t.name, t.vcpus, ce.max_vcpus
                    ),
                ));
            }
        }
    }
    if ce.min_vcpus > ce.max_vcpus {
        out.push(Finding::error(
            "bad-vcpus",
            at.at("min_vcpus"),
            format!(
                "min_vcpus = {} exceeds max_vcpus = {}",
                ce.min_vcpus, ce.max_vcpus
            ),
        ));
    } else if ce.min_vcpus > 0 {
        out.push(
            Finding::warning("idle-capacity", at.at("min_vcpus"), format!("min_vcpus = {} keeps instances running, and billed, while the stack exists, with or without jobs", ce.min_vcpus))
                .with_hint("use min_vcpus = 0 unless start-up latency matters more than cost"),
        );
    }
}

/// Spot bid and allocation strategy against the purchase option.
fn check_purchase(ce: &ComputeEnvironment, at: &Path, out: &mut Vec<Finding>) {
    match (ce.purchase, ce.bid_percentage) {
        (Purchase::OnDemand, Some(_)) => out.push(
            Finding::error(
                "bad-value",
                at.at("bid_percentage"),
                "bid_percentage applies to Spot only",
            )
            .with_hint("remove it, or set purchase = \"spot\""),
        ),
        (Purchase::Spot, Some(p)) if !(1..=100).contains(&p) => out.push(Finding::error(
            "bad-value",
            at.at("bid_percentage"),
            format!("bid_percentage {p} is outside 1-100 (percent of the On-Demand price)"),
        )),
        _ => {}
    }
    if let Some(strategy) = ce.allocation_strategy {
        if ce.purchase == Purchase::OnDemand && strategy.is_spot_only() {
            out.push(
                Finding::error(
                    "bad-value",
                    at.at("allocation_strategy"),
                    format!("{} is for Spot compute environments", strategy.as_aws()),
                )
                .with_hint("use BEST_FIT_PROGRESSIVE for On-Demand"),
            );
        }
        if strategy == AllocationStrategy::BestFit && ce.purchase == Purchase::Spot {
            // ComputeResource.spotIamFleetRole: "required for SPOT compute environments that
            // use BEST_FIT allocation strategy"; pipectl creates no Spot Fleet role.
            out.push(
                Finding::error("spot-best-fit", at.at("allocation_strategy"), "a Spot compute environment with BEST_FIT needs a Spot Fleet role (spotIamFleetRole), which pipectl does not create")
                    .with_hint("use SPOT_PRICE_CAPACITY_OPTIMIZED (the default for Spot) or SPOT_CAPACITY_OPTIMIZED"),
            );
        } else if strategy == AllocationStrategy::BestFit {
            out.push(
                Finding::warning("replace-on-update", at.at("allocation_strategy"), "with BEST_FIT most changes replace the compute environment instead of updating it")
                    .with_hint("BEST_FIT_PROGRESSIVE or a SPOT_* strategy lets Batch update in place"),
            );
        }
    }
}

/// Availability zones, EFA support and placement groups, which constrain each other.
fn check_zones_efa_placement(
    spec: &Spec,
    ce: &ComputeEnvironment,
    at: &Path,
    known: &[&InstanceType],
    out: &mut Vec<Finding>,
) {
    // zones
    let zones = spec.ce_zones(ce);
    if let Some(own) = &ce.availability_zones {
        for (i, z) in own.iter().enumerate() {
            if !spec.network.availability_zones.contains(z) && spec.network.vpc_id.is_none() {
                out.push(Finding::error(
                    "bad-zone",
                    at.at("availability_zones").at(i),
                    format!("{z:?} is not one of the network's availability zones"),
                ));
            }
        }
    }
    let zone_count = if spec.network.vpc_id.is_some() && ce.availability_zones.is_none() {
        spec.network.subnet_ids.len()
    } else {
        zones.len()
    };

    // EFA
    let efa_types: Vec<_> = known.iter().filter(|t| t.efa).collect();
    check_efa_types(ce, at, out);
    let uses_efa =
        ce.efa == EfaMode::Required || (ce.efa == EfaMode::Auto && !efa_types.is_empty());
    if uses_efa && zone_count > 1 {
        out.push(
            Finding::error("efa-multi-az", at.at(if ce.availability_zones.is_some() { "availability_zones" } else { "efa" }), format!("EFA traffic cannot cross availability zones, but this compute environment spans {zone_count}"))
                .with_hint(format!("set availability_zones = [\"{}\"] on this compute environment", zones.first().map_or("<one zone>", |z| z.as_str()))),
        );
    }
    if uses_efa && ce.placement_group.is_none() {
        out.push(
            Finding::warning("efa-no-placement", at.at("efa"), "EFA without a cluster placement group loses most of its latency benefit")
                .with_hint("add a [placement_groups.<name>] with strategy = \"cluster\" and set placement_group"),
        );
    }

    // placement group
    if let Some(pg) = &ce.placement_group {
        match spec.placement_groups.get(pg) {
            None => out.push(Finding::error("unknown-reference", at.at("placement_group"), format!("placement group {pg:?} is not defined")).with_hint(unknown_name_hint("placement group", pg, spec.placement_groups.keys()))),
            Some(g) if g.strategy == PlacementStrategy::Cluster && zone_count > 1 => out.push(
                Finding::error("placement-multi-az", at.at("placement_group"), format!("cluster placement group {pg:?} lives in one availability zone, but this compute environment spans {zone_count}"))
                    .with_hint("restrict the compute environment to one zone with availability_zones = [...]"),
            ),
            Some(_) => {}
        }
    }
}

/// `efa = "required"` needs EFA on every type; `"auto"` says which types go without.
fn check_efa_types(ce: &ComputeEnvironment, at: &Path, out: &mut Vec<Finding>) {
    match ce.efa {
        EfaMode::Required => {
            for (i, t) in ce.instance_types.iter().enumerate() {
                match instances::lookup(t) {
                    Some(facts) if !facts.efa => {
                        let capable = instances::efa_capable_in_family(t);
                        let hint = if capable.is_empty() {
                            format!(
                                "no {} size supports EFA; e.g. g4dn.8xlarge does",
                                instances::family(t)
                            )
                        } else {
                            format!(
                                "EFA-capable {} sizes: {}",
                                instances::family(t),
                                capable.join(", ")
                            )
                        };
                        out.push(
                            Finding::error(
                                "efa-unsupported",
                                at.at("instance_types").at(i),
                                format!("efa = \"required\" but {t} does not support EFA"),
                            )
                            .with_hint(hint),
                        );
                    }
                    None => out.push(Finding::warning(
                        "efa-unverified",
                        at.at("instance_types").at(i),
                        format!("cannot check EFA support of {t:?}"),
                    )),
                    _ => {}
                }
            }
        }
        EfaMode::Auto => {
            for (i, t) in ce.instance_types.iter().enumerate() {
                if instances::lookup(t).is_some_and(|f| !f.efa) {
                    out.push(Finding::warning(
                        "efa-fallback",
                        at.at("instance_types").at(i),
                        format!(
                            "efa = \"auto\": {t} has no EFA and gets an ordinary (ENA) interface"
                        ),
                    ));
                }
            }
        }
        EfaMode::Off => {}
    }
}

fn check_queues(spec: &Spec, out: &mut Vec<Finding>) {
    for (name, q) in &spec.job_queues {
        let at = path!["job_queues", name];
        check_name(
            out,
            at.clone(),
            "job queue",
            name,
            super::physical_room(spec, 128),
        );
        if q.compute_environments.is_empty() {
            out.push(Finding::error(
                "no-compute",
                at.at("compute_environments"),
                "a job queue needs at least one compute environment",
            ));
        }
        if q.compute_environments.len() > MAX_CES_PER_QUEUE {
            out.push(Finding::error(
                "too-many",
                at.at("compute_environments"),
                format!(
                    "{} compute environments; Batch allows at most {MAX_CES_PER_QUEUE} per queue",
                    q.compute_environments.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        for (i, ce) in q.compute_environments.iter().enumerate() {
            if !spec.compute_environments.contains_key(ce) {
                out.push(
                    Finding::error(
                        "unknown-reference",
                        at.at("compute_environments").at(i),
                        format!("job queue {name:?} names unknown compute environment {ce:?}"),
                    )
                    .with_hint(unknown_name_hint(
                        "compute environment",
                        ce,
                        spec.compute_environments.keys(),
                    )),
                );
            }
            if !seen.insert(ce) {
                out.push(Finding::error(
                    "duplicate-name",
                    at.at("compute_environments").at(i),
                    format!("compute environment {ce:?} is listed twice"),
                ));
            }
        }
        if let Some(t) = q.runnable_timeout
            && !(600..=86_400).contains(&t.secs())
        {
            out.push(
                Finding::error(
                    "bad-value",
                    at.at("runnable_timeout"),
                    format!("runnable timeout {t}: Batch's time-limit actions take 10 minutes to 24 hours"),
                )
                .with_hint("write a duration from \"10m\" to \"24h\", or leave it out to let jobs wait"),
            );
        }
        if !spec.phases.iter().any(|p| &p.queue == name) {
            out.push(
                Finding::warning(
                    "unused",
                    at.clone(),
                    format!("no phase uses job queue {name:?}"),
                )
                .on_key(),
            );
        }
    }
    // Queues sharing a compute environment are ordered by priority; a tie leaves the order to
    // Batch, which is rarely what was meant.
    let mut by_priority: HashMap<u32, Vec<&String>> = HashMap::new();
    for (name, q) in &spec.job_queues {
        by_priority.entry(q.priority).or_default().push(name);
    }
    for (priority, names) in by_priority.iter().filter(|(_, n)| n.len() > 1) {
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let (qa, qb) = (&spec.job_queues[*a], &spec.job_queues[*b]);
                if let Some(shared) = qa
                    .compute_environments
                    .iter()
                    .find(|c| qb.compute_environments.contains(c))
                {
                    out.push(
                        Finding::warning("duplicate-priority", path!["job_queues", *b, "priority"], format!("job queues {a:?} and {b:?} share compute environment {shared:?} and both have priority {priority}: which runs first is undefined"))
                            .with_hint("give the queue that should win the higher priority (higher values are scheduled first)"),
                    );
                }
            }
        }
    }
}

/// The image Batch launches: its own Amazon Linux 2023 ECS image (with NVIDIA's driver for GPU
/// types), or the spec's `image_id`. Batch's `ECS_AL2023_NVIDIA` does not support g3, g3s and
/// p3 (Ec2Configuration), and since June 30, 2026 it makes no new compute environment on its
/// Amazon Linux 2 images: those types need an AMI of your own.
fn check_image(spec: &Spec, name: &str, out: &mut Vec<Finding>) {
    let ce = &spec.compute_environments[name];
    let at = path!["compute_environments", name];
    if let Some(id) = &ce.image_id {
        let hex = id.strip_prefix("ami-").unwrap_or("");
        let ok = matches!(hex.len(), 8 | 17)
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !ok {
            out.push(
                Finding::error("bad-value", at.at("image_id"), format!("{id:?} is not an AMI id"))
                    .with_hint("an AMI id is ami- followed by 8 or 17 lower-case hex digits, e.g. ami-0abcdef1234567890"),
            );
        }
        return;
    }
    let gpu_phase = spec.phases.iter().any(|p| {
        p.gpus > 0
            && spec
                .job_queues
                .get(&p.queue)
                .is_some_and(|q| q.compute_environments.iter().any(|c| c == name))
    });
    for (i, t) in ce.instance_types.iter().enumerate() {
        if gpu_phase && instances::needs_own_gpu_image(t) {
            out.push(
                Finding::warning(
                    "gpu-image",
                    at.at("instance_types").at(i),
                    format!("{t} has no Batch-provided GPU image: ECS_AL2023_NVIDIA does not support g3, g3s or p3, and Batch no longer creates compute environments on its Amazon Linux 2 images; `up` on AWS refuses this compute environment"),
                )
                .with_hint(format!("either set image_id = \"ami-…\" on [compute_environments.{name}] (an AMI of your own with an NVIDIA driver that supports {t}), or use a current GPU type such as g4dn.xlarge (`pipectl advise` prices it)")),
            );
        }
    }
}
