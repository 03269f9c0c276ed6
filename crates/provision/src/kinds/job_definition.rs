//! Batch job definitions, one per phase (container or multi-node, FSx mount, EFA device,
//! retry on Spot interruption); a change registers a new revision.

use aws_sdk_batch::types::builders::ContainerPropertiesBuilder;
use aws_sdk_batch::types::{
    ContainerProperties, Device, DeviceCgroupPermission, EvaluateOnExit, Host, JobDefinitionType,
    JobTimeout, KeyValuePair, LinuxParameters, MountPoint, NodeProperties, NodeRangeProperty,
    PlatformCapability, ResourceRequirement, ResourceType as BatchResource, RetryAction,
    RetryStrategy, Ulimit, Volume,
};
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Payload, Resource, ResourceId};
use pipectl_spec::model::{Phase, Retry};

use super::batch::{BATCH, deleted_or_gone, owned};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::found;

pub(crate) struct JobDefinition;

impl Handler for JobDefinition {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let b = &ctx.aws.batch;
        let mut out = Vec::new();
        let mut jds = b
            .describe_job_definitions()
            .status("ACTIVE")
            .into_paginator()
            .send();
        let mut by_name: std::collections::BTreeMap<String, Observed> = Default::default();
        while let Some(page) = jds.next().await {
            for d in page
                .ctx(BATCH, "DescribeJobDefinitions", "job definitions")?
                .job_definitions()
            {
                let Some(logical) = owned(d.tags(), &ctx.stack) else {
                    continue;
                };
                let name = d.job_definition_name().unwrap_or_default().to_string();
                let rev = d.revision().unwrap_or(0);
                let entry = by_name.entry(name.clone()).or_insert_with(|| Observed {
                    kind: Kind::JobDefinition,
                    logical,
                    live: Live::new(&name, "ACTIVE"),
                });
                let revs = entry.live.get("revisions").to_string();
                let arn = d.job_definition_arn().unwrap_or_default();
                entry.live.attrs.insert(
                    "revisions".into(),
                    if revs.is_empty() {
                        arn.to_string()
                    } else {
                        format!("{revs},{arn}")
                    },
                );
                if rev >= entry.live.get("revision").parse().unwrap_or(0) {
                    entry.live.arn = Some(arn.to_string());
                    entry.live.attrs.insert("revision".into(), rev.to_string());
                    entry.live.attrs.insert(
                        "digest".into(),
                        d.tags()
                            .and_then(|t| t.get(TAG_DIGEST))
                            .cloned()
                            .unwrap_or_default(),
                    );
                }
            }
        }
        out.extend(by_name.into_values());

        Ok(out)
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
        if let Ok((_, digest)) = job_definition(ctx, r)
            && live.get("digest") != digest
        {
            d.push(Drift::new(
                "parameters",
                format!("digest {}", &digest[..12]),
                format!("digest {}", live.get("digest").get(..12).unwrap_or("none")),
                true,
            ));
        }
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let id: &str = &r.id.to_string();
        let (req, digest) = job_definition(ctx, r)?;
        let out = req.send().await.ctx(BATCH, "RegisterJobDefinition", id)?;
        Ok(Live::new(&r.name, "ACTIVE")
            .arn(out.job_definition_arn())
            .attr("revision", out.revision().unwrap_or(1).to_string())
            .attr("digest", digest))
    }

    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        let b = &ctx.aws.batch;
        let id: &str = &r.id.to_string();
        if !drifts.iter().any(|d| d.in_place) {
            return Ok(live.clone());
        }
        // A job definition changes by a new revision; the old ones are deregistered so
        // only the current one stays ACTIVE.
        let fresh = Self::create(ctx, r).await?;
        for arn in live.get("revisions").split(',').filter(|a| !a.is_empty()) {
            b.deregister_job_definition()
                .job_definition(arn)
                .send()
                .await
                .ctx(BATCH, "DeregisterJobDefinition", id)?;
        }
        Ok(fresh)
    }

    /// One that AWS no longer knows at any step (deleted meanwhile, by another `down` or by
    /// hand) is gone, which is what was asked.
    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        deleted_or_gone(delete_steps(ctx, o).await)
    }
}

async fn delete_steps(ctx: &Ctx, o: &Observed) -> Result<(), ProvisionError> {
    let b = &ctx.aws.batch;
    let id = o.logical.as_str();
    for arn in o.live.get("revisions").split(',').filter(|a| !a.is_empty()) {
        found(
            b.deregister_job_definition()
                .job_definition(arn)
                .send()
                .await
                .ctx(BATCH, "DeregisterJobDefinition", id),
        )?;
    }
    Ok(())
}

/// The tag holding a digest of a job definition's parameters, so a change is seen.
const TAG_DIGEST: &str = "pipectl:digest";

/// The role a phase's jobs run as: the phase's own, else the stack's job role.
fn job_role_arn(
    ctx: &Ctx,
    phase: &pipectl_spec::model::Phase,
) -> Result<Option<String>, ProvisionError> {
    if let Some(arn) = &phase.job_role {
        return Ok(Some(arn.clone()));
    }
    Ok(match ctx.spec.iam.job_role.mode {
        pipectl_spec::model::RoleMode::Create => ctx.dep(&ResourceId::JobRole)?.arn,
        _ => ctx.output(&ResourceId::JobRole).and_then(|l| l.arn),
    })
}

/// The container every job of a phase runs: image, command, resources, environment, the
/// stack's log group, the FSx mount and the EFA device where they apply.
fn container(
    ctx: &Ctx,
    phase: &Phase,
    uverbs: bool,
) -> Result<ContainerProperties, ProvisionError> {
    let mut container = ContainerProperties::builder()
        // The jobs' own least-privilege role, never the instance's.
        .set_job_role_arn(job_role_arn(ctx, phase)?)
        // The stack's log group (its retention), not Batch's default /aws/batch/job, kept forever.
        .log_configuration(
            aws_sdk_batch::types::LogConfiguration::builder()
                .log_driver(aws_sdk_batch::types::LogDriver::Awslogs)
                .options("awslogs-group", ctx.spec.log_group_name())
                .options("awslogs-region", ctx.aws.region.as_str())
                .build(),
        )
        .image(&phase.image)
        .set_command(Some(phase.command.clone()))
        .resource_requirements(
            ResourceRequirement::builder()
                .r#type(BatchResource::Vcpu)
                .value(phase.vcpus.to_string())
                .build(),
        )
        .resource_requirements(
            ResourceRequirement::builder()
                .r#type(BatchResource::Memory)
                .value(format!("{}", phase.memory.mib() as u64))
                .build(),
        );
    if phase.gpus > 0 {
        container = container.resource_requirements(
            ResourceRequirement::builder()
                .r#type(BatchResource::Gpu)
                .value(phase.gpus.to_string())
                .build(),
        );
    }
    let mut env: Vec<(String, String)> = phase
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    env.push(("PIPECTL_STACK".into(), ctx.stack.clone()));
    env.push(("PIPECTL_PHASE".into(), phase.name.clone()));
    for (k, v) in &env {
        container = container.environment(KeyValuePair::builder().name(k).value(v).build());
    }
    if ctx.spec.phase_uses_fsx(phase) {
        let path = ctx
            .spec
            .fsx
            .as_ref()
            .map_or("/fsx", |f| f.mount_path.as_str());
        container = mount_fsx(container, path);
    }
    if uverbs {
        // EFA registers memory with the device: the container needs `memlock` unlimited, which
        // it cannot raise itself (AWS's Batch EFA examples set -1/-1).
        container = container
            .linux_parameters(uverbs_device())
            .ulimits(memlock_unlimited());
    }
    Ok(container.build())
}

/// The file system as a host volume mounted read-write at the same path.
fn mount_fsx(container: ContainerPropertiesBuilder, path: &str) -> ContainerPropertiesBuilder {
    container
        .volumes(
            Volume::builder()
                .name("fsx")
                .host(Host::builder().source_path(path).build())
                .build(),
        )
        .mount_points(
            MountPoint::builder()
                .source_volume("fsx")
                .container_path(path)
                .read_only(false)
                .build(),
        )
}

/// `memlock` unlimited (-1 for both limits).
fn memlock_unlimited() -> Ulimit {
    Ulimit::builder()
        .name("memlock")
        .soft_limit(-1)
        .hard_limit(-1)
        .build()
}

/// EFA's device, passed through to the container.
fn uverbs_device() -> LinuxParameters {
    LinuxParameters::builder()
        .devices(
            Device::builder()
                .host_path("/dev/infiniband/uverbs0")
                .container_path("/dev/infiniband/uverbs0")
                .permissions(DeviceCgroupPermission::Read)
                .permissions(DeviceCgroupPermission::Write)
                .permissions(DeviceCgroupPermission::Mknod)
                .build(),
        )
        .build()
}

/// The retry strategy: the phase's attempts; with retry on Spot interruption, only a host
/// taken back by EC2 is retried, any other failure ends the job.
fn retry_strategy(r: &Retry) -> RetryStrategy {
    let mut retry = RetryStrategy::builder().attempts(r.attempts as i32);
    if r.on_spot_interruption && r.attempts > 1 {
        retry = retry
            .evaluate_on_exit(
                EvaluateOnExit::builder()
                    .on_status_reason("Host EC2*")
                    .action(RetryAction::Retry)
                    .build(),
            )
            .evaluate_on_exit(
                EvaluateOnExit::builder()
                    .on_reason("*")
                    .action(RetryAction::Exit)
                    .build(),
            );
    }
    retry.build()
}

/// A digest of everything in a job definition, so a change is seen.
fn digest(container: &ContainerProperties, phase: &Phase) -> String {
    // The log options are a HashMap, whose Debug order changes from run to run: hashed
    // sorted, beside the rest.
    let mut stable = container.clone();
    let log = stable.log_configuration.take();
    let log_options: std::collections::BTreeMap<_, _> = log
        .as_ref()
        .and_then(|l| l.options())
        .map(|o| o.iter().collect())
        .unwrap_or_default();
    let log_driver = log.as_ref().map(|l| l.log_driver());
    crate::digest::hex_sha256(
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{}",
            stable, log_driver, log_options, phase.retry.attempts, phase.timeout, phase.nodes
        ),
        32,
    )
}

/// The job definition request for a phase, and a digest of everything in it.
fn job_definition(ctx: &Ctx, r: &Resource) -> Result<(aws_sdk_batch::operation::register_job_definition::builders::RegisterJobDefinitionFluentBuilder, String), ProvisionError>{
    let Payload::JobDefinition {
        phase: phase_name,
        uverbs,
    } = &r.payload
    else {
        unreachable!("a job definition's payload")
    };
    let phase = ctx
        .spec
        .phase(phase_name)
        .ok_or_else(|| ProvisionError::refused(r.id.to_string(), "no such phase", None))?;
    let container = container(ctx, phase, *uverbs)?;
    let mut req = ctx
        .aws
        .batch
        .register_job_definition()
        .job_definition_name(&r.name)
        .platform_capabilities(PlatformCapability::Ec2)
        .propagate_tags(true)
        .retry_strategy(retry_strategy(&phase.retry));
    if let Some(t) = phase.timeout {
        req = req.timeout(
            JobTimeout::builder()
                .attempt_duration_seconds(t.secs() as i32)
                .build(),
        );
    }
    req = if phase.is_multi_node() {
        req.r#type(JobDefinitionType::Multinode).node_properties(
            NodeProperties::builder()
                .num_nodes(phase.nodes as i32)
                .main_node(0)
                .node_range_properties(
                    NodeRangeProperty::builder()
                        .target_nodes("0:")
                        .container(container.clone())
                        .build(),
                )
                .build(),
        )
    } else {
        req.r#type(JobDefinitionType::Container)
            .container_properties(container.clone())
    };
    let digest = digest(&container, phase);
    for (k, v) in ctx.tags(&r.id.to_string(), &r.name) {
        req = req.tags(k, v);
    }
    Ok((req.tags(TAG_DIGEST, &digest), digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(attempts: u32, on_spot_interruption: bool) -> Retry {
        Retry {
            attempts,
            on_spot_interruption,
        }
    }

    #[test]
    fn spot_interruptions_are_retried_and_other_failures_end_the_job() {
        let s = retry_strategy(&retry(3, true));
        assert_eq!(s.attempts(), Some(3));
        let rules = s.evaluate_on_exit();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].on_status_reason(), Some("Host EC2*"));
        assert_eq!(rules[0].action(), Some(&RetryAction::Retry));
        assert_eq!(rules[1].on_reason(), Some("*"));
        assert_eq!(rules[1].action(), Some(&RetryAction::Exit));
    }

    #[test]
    fn without_spot_rules_any_failure_is_retried() {
        assert!(
            retry_strategy(&retry(3, false))
                .evaluate_on_exit()
                .is_empty()
        );
        // one attempt: nothing to evaluate
        assert!(
            retry_strategy(&retry(1, true))
                .evaluate_on_exit()
                .is_empty()
        );
    }
}
