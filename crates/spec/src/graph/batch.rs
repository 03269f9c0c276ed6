//! Batch's nodes: job queues and one job definition per phase.

use crate::model::{EfaMode, Phase, RoleMode};

use super::build::{Builder, node};
use super::{Kind, Payload, ResourceId as Id};

pub(super) fn job_queues(b: &mut Builder) {
    for (name, q) in &b.spec.job_queues {
        let ces: Vec<Id> = q
            .compute_environments
            .iter()
            .map(|c| Id::ComputeEnvironment(c.clone()))
            .collect();
        b.add(
            node(
                Id::JobQueue(name.clone()),
                Kind::JobQueue,
                format!("{}-{name}", b.spec.stack.name),
            )
            .after(ces.clone())
            .show(vec![
                ("priority", q.priority.to_string()),
                ("compute environments", q.compute_environments.join(" → ")),
            ])
            .payload(Payload::JobQueue {
                key: name.clone(),
                compute_environments: ces,
            }),
        );
    }
}

pub(super) fn job_definitions(b: &mut Builder) {
    for phase in &b.spec.phases {
        job_definition(b, phase);
    }
}

/// Whether a phase's jobs run where EFA is required (they get the uverbs device).
fn needs_uverbs(b: &Builder, phase: &Phase) -> bool {
    b.spec.job_queues.get(&phase.queue).is_some_and(|q| {
        q.compute_environments
            .iter()
            .filter_map(|c| b.spec.compute_environments.get(c))
            .any(|ce| ce.efa == EfaMode::Required)
    })
}

fn job_definition(b: &mut Builder, phase: &Phase) {
    let spec = b.spec;
    let mut settings = vec![
        ("image", phase.image.clone()),
        (
            "resources",
            format!("{} vCPU, {}, {} GPU", phase.vcpus, phase.memory, phase.gpus),
        ),
        (
            "retry",
            match (phase.retry.attempts, phase.retry.on_spot_interruption) {
                (1, _) => "1 attempt (no retry)".to_string(),
                (n, true) => format!("{n} attempts: RETRY on \"Host EC2*\", EXIT on \"*\""),
                (n, false) => format!("{n} attempts on any failure"),
            },
        ),
    ];
    if phase.is_multi_node() {
        settings.insert(0, ("type", format!("multi-node, {} nodes", phase.nodes)));
    }
    if let Some(t) = phase.timeout {
        settings.push(("timeout", t.to_string()));
    }
    if spec.phase_uses_fsx(phase) {
        settings.push((
            "mounts",
            spec.fsx
                .as_ref()
                .map(|f| f.mount_path.clone())
                .unwrap_or_default(),
        ));
    }
    let uverbs = needs_uverbs(b, phase);
    if uverbs {
        settings.push(("devices", "/dev/infiniband/uverbs0".into()));
    }
    let stack_role = phase.job_role.is_none() && spec.iam.job_role.mode == RoleMode::Create;
    settings.push((
        "job role",
        match &phase.job_role {
            Some(arn) => arn.clone(),
            None if stack_role => "the stack's (role-job)".into(),
            None => spec.iam.job_role.name.clone().unwrap_or_default(),
        },
    ));
    settings.push(("logs", spec.log_group_name()));
    let deps = if stack_role {
        vec![Id::JobRole, Id::LogGroup]
    } else {
        vec![Id::LogGroup]
    };
    b.add(
        node(
            Id::JobDefinition(phase.name.clone()),
            Kind::JobDefinition,
            format!("{}-{}", spec.stack.name, phase.name),
        )
        .after(deps)
        .show(settings)
        .payload(Payload::JobDefinition {
            phase: phase.name.clone(),
            uverbs,
        }),
    );
}
