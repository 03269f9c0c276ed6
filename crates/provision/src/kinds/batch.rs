//! AWS Batch: managed compute environments (Spot or On-Demand), job queues with the spec's
//! priorities, and job definitions (container or multi-node, FSx mount, EFA device, retry on
//! Spot interruption). Found by name and tags; deleted in the order Batch requires.

use std::time::Duration;

use aws_sdk_batch::types::{
    CeState, CeStatus, CeType, ComputeEnvironmentOrder, ComputeResource, ComputeResourceUpdate,
    ContainerProperties, CrAllocationStrategy, CrType, Device, DeviceCgroupPermission,
    Ec2Configuration, EvaluateOnExit, Host, JobDefinitionType, JobStatus, JobTimeout, JqState,
    JqStatus, KeyValuePair, LaunchTemplateSpecification, LinuxParameters, MountPoint,
    NodeProperties, NodeRangeProperty, PlatformCapability, ResourceRequirement,
    ResourceType as BatchResource, RetryAction, RetryStrategy, Volume,
};
use pipectl_aws::wait::Probe;
use pipectl_aws::{AwsError, ResultExt};
use pipectl_spec::graph::{Kind, Payload, Resource, ResourceId};
use pipectl_spec::model::Purchase;

use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Event, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::wait::{found, retry_while, wait_for};

const BATCH: &str = "batch";
/// The tag holding a digest of a job definition's parameters, so a change is seen.
const TAG_DIGEST: &str = "pipectl:digest";

fn owned(tags: Option<&std::collections::HashMap<String, String>>, stack: &str) -> Option<String> {
    let t = tags?;
    (t.get(TAG_STACK).map(String::as_str) == Some(stack))
        .then(|| t.get(TAG_RESOURCE).cloned())
        .flatten()
}

pub(crate) async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let b = &ctx.aws.batch;
    let mut out = Vec::new();
    let mut ces = b.describe_compute_environments().into_paginator().send();
    while let Some(page) = ces.next().await {
        for ce in page
            .ctx(BATCH, "DescribeComputeEnvironments", "compute environments")?
            .compute_environments()
        {
            let Some(logical) = owned(ce.tags(), &ctx.stack) else {
                continue;
            };
            // Batch lists a deleted environment as DELETED for a while: it is gone.
            if ce.status() == Some(&CeStatus::Deleted) {
                continue;
            }
            let cr = ce.compute_resources();
            let live = Live::new(
                ce.compute_environment_name().unwrap_or_default(),
                format!(
                    "{}, {}",
                    ce.status().map_or("?", |s| s.as_str()),
                    ce.state().map_or("?", |s| s.as_str())
                ),
            )
            .arn(ce.compute_environment_arn())
            .attr("status", ce.status().map_or("", |s| s.as_str()))
            .attr("status-reason", ce.status_reason().unwrap_or_default())
            .attr("state", ce.state().map_or("", |s| s.as_str()))
            .attr(
                "type",
                cr.and_then(|c| c.r#type()).map_or("", |t| t.as_str()),
            )
            .attr(
                "instance-types",
                cr.map(|c| c.instance_types().join(",")).unwrap_or_default(),
            )
            .attr(
                "min-vcpus",
                cr.and_then(|c| c.minv_cpus()).unwrap_or(0).to_string(),
            )
            .attr(
                "max-vcpus",
                cr.and_then(|c| c.maxv_cpus()).unwrap_or(0).to_string(),
            );
            out.push(Observed {
                kind: Kind::ComputeEnvironment,
                logical,
                live,
            });
        }
    }
    let mut qs = b.describe_job_queues().into_paginator().send();
    while let Some(page) = qs.next().await {
        for q in page
            .ctx(BATCH, "DescribeJobQueues", "job queues")?
            .job_queues()
        {
            let Some(logical) = owned(q.tags(), &ctx.stack) else {
                continue;
            };
            if q.status() == Some(&JqStatus::Deleted) {
                continue;
            }
            let mut order: Vec<_> = q.compute_environment_order().to_vec();
            order.sort_by_key(|o| o.order());
            let ces: Vec<&str> = order
                .iter()
                .filter_map(|o| o.compute_environment())
                .map(|a| a.rsplit('/').next().unwrap_or(a))
                .collect();
            let live = Live::new(
                q.job_queue_name().unwrap_or_default(),
                format!(
                    "{}, {}",
                    q.status().map_or("?", |s| s.as_str()),
                    q.state().map_or("?", |s| s.as_str())
                ),
            )
            .arn(q.job_queue_arn())
            .attr("status", q.status().map_or("", |s| s.as_str()))
            .attr("state", q.state().map_or("", |s| s.as_str()))
            .attr("priority", q.priority().unwrap_or(0).to_string())
            .attr("order", ces.join(","));
            out.push(Observed {
                kind: Kind::JobQueue,
                logical,
                live,
            });
        }
    }
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

pub(crate) fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
    let mut d = Vec::new();
    match r.kind {
        Kind::ComputeEnvironment => {
            let ce = &ctx.spec.compute_environments[ce_key(r)];
            let want_type = match ce.purchase {
                Purchase::Spot => "SPOT",
                Purchase::OnDemand => "EC2",
            };
            if live.get("type") != want_type {
                d.push(Drift::new("purchase", want_type, live.get("type"), false));
            }
            if live.get("instance-types") != ce.instance_types.join(",") {
                d.push(Drift::new(
                    "instance types",
                    ce.instance_types.join(","),
                    live.get("instance-types"),
                    false,
                ));
            }
            for (k, want) in [("min-vcpus", ce.min_vcpus), ("max-vcpus", ce.max_vcpus)] {
                if live.get(k) != want.to_string() {
                    d.push(Drift::new(k, want, live.get(k), true));
                }
            }
            if live.get("state") == "DISABLED" {
                d.push(Drift::new("state", "ENABLED", "DISABLED", true));
            }
            if live.get("status") == "INVALID" {
                d.push(Drift::new(
                    "status",
                    "VALID",
                    format!("INVALID: {}", live.get("status-reason")),
                    false,
                ));
            }
        }
        Kind::JobQueue => {
            let q = &ctx.spec.job_queues[queue_key(r)];
            if live.get("priority") != q.priority.to_string() {
                d.push(Drift::new(
                    "priority",
                    q.priority,
                    live.get("priority"),
                    true,
                ));
            }
            let order: Vec<String> = q
                .compute_environments
                .iter()
                .map(|c| format!("{}-{c}", ctx.stack))
                .collect();
            if live.get("order") != order.join(",") {
                d.push(Drift::new(
                    "compute environments",
                    order.join(","),
                    live.get("order"),
                    true,
                ));
            }
            if live.get("state") == "DISABLED" {
                d.push(Drift::new("state", "ENABLED", "DISABLED", true));
            }
        }
        Kind::JobDefinition => {
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
        }
        _ => {}
    }
    d
}

/// The spec's key of a compute environment.
fn ce_key(r: &Resource) -> &str {
    match &r.payload {
        Payload::ComputeEnvironment { key } => key,
        _ => unreachable!("a compute environment's payload"),
    }
}

/// The spec's key of a job queue.
fn queue_key(r: &Resource) -> &str {
    match &r.payload {
        Payload::JobQueue { key, .. } => key,
        _ => unreachable!("a job queue's payload"),
    }
}

fn ce_resources(ctx: &Ctx, r: &Resource) -> Result<ComputeResource, ProvisionError> {
    let key = ce_key(r);
    let ce = &ctx.spec.compute_environments[key];
    let lt = ctx.dep(&ResourceId::LaunchTemplate(key.to_string()))?;
    let profile = ctx.dep(&ResourceId::InstanceProfile)?;
    let mut cr = ComputeResource::builder()
        .r#type(if ce.purchase == Purchase::Spot {
            CrType::Spot
        } else {
            CrType::Ec2
        })
        .allocation_strategy(CrAllocationStrategy::from(
            ce.effective_allocation_strategy().as_aws(),
        ))
        .minv_cpus(ce.min_vcpus as i32)
        .maxv_cpus(ce.max_vcpus as i32)
        .set_instance_types(Some(ce.instance_types.clone()))
        .set_subnets(Some(ctx.subnets_for(ctx.spec.ce_zones(ce))?))
        .instance_role(profile.arn.clone().unwrap_or(profile.physical_id))
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_id(&lt.physical_id)
                .version(lt.get("version"))
                .build(),
        )
        .ec2_configuration(
            Ec2Configuration::builder()
                .image_type(ce.image_type())
                .set_image_id_override(ce.image_id.clone())
                .build(),
        );
    // An EFA launch template's network interface carries the group; Batch refuses both
    // ("Either compute environment Security Groups or Network Interfaces in Launch template
    // are exclusively allowed").
    if !ce.uses_efa() {
        cr = cr.security_group_ids(ctx.dep(&ResourceId::SecurityGroup)?.physical_id);
    }
    if let Some(pg) = &ce.placement_group {
        cr = cr.placement_group(
            ctx.dep(&ResourceId::PlacementGroup(pg.clone()))?
                .physical_id,
        );
    }
    if let Some(p) = ce.bid_percentage {
        cr = cr.bid_percentage(p as i32);
    }
    for (k, v) in ctx.tags(&r.id.to_string(), &r.name) {
        cr = cr.tags(k, v);
    }
    Ok(cr.build())
}

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
        .ok_or_else(|| ProvisionError::refused(&r.id.to_string(), "no such phase", None))?;
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
        container = container
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
            );
    }
    if *uverbs {
        container = container.linux_parameters(
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
                .build(),
        );
    }
    let container = container.build();
    let mut retry = RetryStrategy::builder().attempts(phase.retry.attempts as i32);
    if phase.retry.on_spot_interruption && phase.retry.attempts > 1 {
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
    let mut req = ctx
        .aws
        .batch
        .register_job_definition()
        .job_definition_name(&r.name)
        .platform_capabilities(PlatformCapability::Ec2)
        .propagate_tags(true)
        .retry_strategy(retry.build());
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
    let digest = {
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
    };
    for (k, v) in ctx.tags(&r.id.to_string(), &r.name) {
        req = req.tags(k, v);
    }
    Ok((req.tags(TAG_DIGEST, &digest), digest))
}

/// Whether an INVALID compute environment's reason is IAM's eventual consistency: a role
/// created seconds ago that Batch cannot assume or use yet (e.g. "CLIENT_ERROR - User:
/// batch.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: ...").
pub(crate) fn iam_not_yet_usable(reason: &str) -> bool {
    reason.contains("sts:AssumeRole")
        || reason.contains("is not authorized to perform")
        || reason.contains("Could not find IAM role")
}

/// A compute environment an earlier `up` left INVALID because its role had not propagated:
/// `up` validates it again rather than asking for `down` and `up`.
pub(crate) fn revalidatable(live: &Live) -> bool {
    live.get("status") == "INVALID" && iam_not_yet_usable(live.get("status-reason"))
}

/// How many times a compute environment INVALID for a role not yet usable is validated again
/// before `up` gives up (IAM usually propagates within seconds).
const IAM_REVALIDATIONS: u32 = 8;

/// Waits for a compute environment to be VALID (or, with `gone`, to be gone); fails on
/// INVALID with Batch's reason.
async fn wait_ce(ctx: &Ctx, id: &str, name: &str, gone: bool) -> Result<(), ProvisionError> {
    wait_ce_inner(ctx, id, name, gone, false).await
}

/// Waits for a compute environment that `up` created or updated to be VALID, validating it
/// again while it is INVALID only because a new IAM role has not propagated yet.
async fn wait_ce_valid(ctx: &Ctx, id: &str, name: &str) -> Result<(), ProvisionError> {
    wait_ce_inner(ctx, id, name, false, true).await
}

async fn wait_ce_inner(
    ctx: &Ctx,
    id: &str,
    name: &str,
    gone: bool,
    revalidate: bool,
) -> Result<(), ProvisionError> {
    let revalidations = std::sync::atomic::AtomicU32::new(0);
    wait_for(ctx, id, ctx.timeouts.compute_environment, || async {
        let out = ctx
            .aws
            .batch
            .describe_compute_environments()
            .compute_environments(name)
            .send()
            .await
            .ctx(BATCH, "DescribeComputeEnvironments", id)?;
        // A deleted one of the same name may still be listed (status DELETED).
        let live = out
            .compute_environments()
            .iter()
            .find(|c| c.status() != Some(&CeStatus::Deleted));
        let Some(ce) = live else {
            return Ok(if gone {
                Probe::Done(())
            } else {
                Probe::Pending("not visible yet".into())
            });
        };
        let status = ce.status().map_or("?", |s| s.as_str());
        let reason = ce.status_reason().unwrap_or("no reason given");
        if status == "INVALID"
            && revalidate
            && iam_not_yet_usable(reason)
            && revalidations.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < IAM_REVALIDATIONS
        {
            // IAM is eventually consistent: validate again (an update with the same service
            // role makes Batch check the roles anew) instead of leaving the user to run
            // `down` and `up`.
            ctx.emit(Event::Note {
                message: format!(
                    "{id}: INVALID while its IAM role propagates ({reason}); validating again"
                ),
            });
            let mut req = ctx
                .aws
                .batch
                .update_compute_environment()
                .compute_environment(name)
                .state(CeState::Enabled);
            if let Some(arn) = ctx
                .output(&ResourceId::BatchServiceRole)
                .and_then(|l| l.arn)
            {
                req = req.service_role(arn);
            }
            req.send()
                .await
                .ctx(BATCH, "UpdateComputeEnvironment", id)?;
            return Ok(Probe::Pending(
                "INVALID (IAM role propagating), validating again".into(),
            ));
        }
        Ok(match status {
            "VALID" if !gone => Probe::Done(()),
            "INVALID" if !gone => Probe::Failed(format!("INVALID: {reason}")),
            s => Probe::Pending(s.to_string()),
        })
    })
    .await
}

async fn wait_queue(ctx: &Ctx, id: &str, name: &str, gone: bool) -> Result<(), ProvisionError> {
    wait_for(ctx, id, ctx.timeouts.job_queue, || async {
        let out = ctx
            .aws
            .batch
            .describe_job_queues()
            .job_queues(name)
            .send()
            .await
            .ctx(BATCH, "DescribeJobQueues", id)?;
        let live = out
            .job_queues()
            .iter()
            .find(|q| q.status() != Some(&JqStatus::Deleted));
        let Some(q) = live else {
            return Ok(if gone {
                Probe::Done(())
            } else {
                Probe::Pending("not visible yet".into())
            });
        };
        Ok(match q.status().map_or("?", |s| s.as_str()) {
            "VALID" if !gone => Probe::Done(()),
            "INVALID" if !gone => Probe::Failed(format!(
                "INVALID: {}",
                q.status_reason().unwrap_or("no reason given")
            )),
            s => Probe::Pending(s.to_string()),
        })
    })
    .await
}

fn queue_order(ctx: &Ctx, r: &Resource) -> Result<Vec<ComputeEnvironmentOrder>, ProvisionError> {
    let Payload::JobQueue {
        compute_environments,
        ..
    } = &r.payload
    else {
        unreachable!("a job queue's payload")
    };
    compute_environments
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ce = ctx.dep(c)?;
            Ok(ComputeEnvironmentOrder::builder()
                .order(i as i32 + 1)
                .compute_environment(ce.arn.unwrap_or(ce.physical_id))
                .build())
        })
        .collect()
}

pub(crate) async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
    let b = &ctx.aws.batch;
    let id: &str = &r.id.to_string();
    match r.kind {
        Kind::ComputeEnvironment => {
            let mut req = b
                .create_compute_environment()
                .compute_environment_name(&r.name)
                .r#type(CeType::Managed)
                .state(CeState::Enabled)
                .compute_resources(ce_resources(ctx, r)?);
            if let Some(arn) = ctx
                .output(&ResourceId::BatchServiceRole)
                .and_then(|l| l.arn)
            {
                req = req.service_role(arn);
            }
            for (k, v) in ctx.tags(id, &r.name) {
                req = req.tags(k, v);
            }
            let out = req
                .send()
                .await
                .ctx(BATCH, "CreateComputeEnvironment", id)?;
            wait_ce_valid(ctx, id, &r.name).await?;
            let ce = &ctx.spec.compute_environments[ce_key(r)];
            Ok(Live::new(&r.name, "VALID, ENABLED")
                .arn(out.compute_environment_arn())
                .attr("status", "VALID")
                .attr("state", "ENABLED")
                .attr("min-vcpus", ce.min_vcpus.to_string())
                .attr("max-vcpus", ce.max_vcpus.to_string()))
        }
        Kind::JobQueue => {
            let key = queue_key(r);
            let mut req = b
                .create_job_queue()
                .job_queue_name(&r.name)
                .state(JqState::Enabled)
                .priority(ctx.spec.job_queues[key].priority as i32)
                .set_compute_environment_order(Some(queue_order(ctx, r)?));
            for (k, v) in ctx.tags(id, &r.name) {
                req = req.tags(k, v);
            }
            let out = req.send().await.ctx(BATCH, "CreateJobQueue", id)?;
            wait_queue(ctx, id, &r.name, false).await?;
            Ok(Live::new(&r.name, "VALID, ENABLED")
                .arn(out.job_queue_arn())
                .attr("status", "VALID")
                .attr("state", "ENABLED")
                .attr("priority", ctx.spec.job_queues[key].priority.to_string()))
        }
        Kind::JobDefinition => {
            let (req, digest) = job_definition(ctx, r)?;
            let out = req.send().await.ctx(BATCH, "RegisterJobDefinition", id)?;
            Ok(Live::new(&r.name, "ACTIVE")
                .arn(out.job_definition_arn())
                .attr("revision", out.revision().unwrap_or(1).to_string())
                .attr("digest", digest))
        }
        _ => unreachable!("not a Batch kind: {:?}", r.kind),
    }
}

pub(crate) async fn update(
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
    match r.kind {
        Kind::ComputeEnvironment => {
            let ce = &ctx.spec.compute_environments[ce_key(r)];
            b.update_compute_environment()
                .compute_environment(&live.physical_id)
                .state(CeState::Enabled)
                .compute_resources(
                    ComputeResourceUpdate::builder()
                        .minv_cpus(ce.min_vcpus as i32)
                        .maxv_cpus(ce.max_vcpus as i32)
                        .build(),
                )
                .send()
                .await
                .ctx(BATCH, "UpdateComputeEnvironment", id)?;
            wait_ce_valid(ctx, id, &live.physical_id).await?;
            Ok(live
                .clone()
                .attr("min-vcpus", ce.min_vcpus.to_string())
                .attr("max-vcpus", ce.max_vcpus.to_string())
                .attr("state", "ENABLED"))
        }
        Kind::JobQueue => {
            let key = queue_key(r);
            b.update_job_queue()
                .job_queue(&live.physical_id)
                .state(JqState::Enabled)
                .priority(ctx.spec.job_queues[key].priority as i32)
                .set_compute_environment_order(Some(queue_order(ctx, r)?))
                .send()
                .await
                .ctx(BATCH, "UpdateJobQueue", id)?;
            wait_queue(ctx, id, &live.physical_id, false).await?;
            Ok(live
                .clone()
                .attr("priority", ctx.spec.job_queues[key].priority.to_string())
                .attr("state", "ENABLED"))
        }
        Kind::JobDefinition => {
            // A job definition changes by a new revision; the old ones are deregistered so
            // only the current one stays ACTIVE.
            let fresh = create(ctx, r).await?;
            for arn in live.get("revisions").split(',').filter(|a| !a.is_empty()) {
                b.deregister_job_definition()
                    .job_definition(arn)
                    .send()
                    .await
                    .ctx(BATCH, "DeregisterJobDefinition", id)?;
            }
            Ok(fresh)
        }
        _ => Ok(live.clone()),
    }
}

/// Waits until a compute environment or queue found DELETING is gone (or listed DELETED).
pub(crate) async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
    match r.kind {
        Kind::ComputeEnvironment => wait_ce(ctx, &r.id.to_string(), &live.physical_id, true).await,
        _ => wait_queue(ctx, &r.id.to_string(), &live.physical_id, true).await,
    }
}

/// Waits for a compute environment or queue found CREATING or UPDATING (an interrupted `up`).
pub(crate) async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
    let status = live.get("status");
    if !matches!(status, "CREATING" | "UPDATING") && !revalidatable(live) {
        return Ok(live.clone());
    }
    match r.kind {
        Kind::ComputeEnvironment => {
            wait_ce_valid(ctx, &r.id.to_string(), &live.physical_id).await?
        }
        Kind::JobQueue => wait_queue(ctx, &r.id.to_string(), &live.physical_id, false).await?,
        _ => return Ok(live.clone()),
    }
    let state = live.get("state").to_string();
    Ok(live
        .clone()
        .attr("status", "VALID")
        .tap_state(format!("VALID, {state}")))
}

trait TapState {
    fn tap_state(self, s: String) -> Self;
}
impl TapState for Live {
    fn tap_state(mut self, s: String) -> Self {
        self.state = s;
        self
    }
}

/// Ends the stack's jobs that have not ended: a queue cannot go while they run.
pub(crate) async fn stop_jobs(ctx: &Ctx, queue: &str) -> Result<usize, ProvisionError> {
    let b = &ctx.aws.batch;
    let mut n = 0;
    for status in [
        JobStatus::Submitted,
        JobStatus::Pending,
        JobStatus::Runnable,
        JobStatus::Starting,
        JobStatus::Running,
    ] {
        let mut pages = b
            .list_jobs()
            .job_queue(queue)
            .job_status(status)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for j in page.ctx(BATCH, "ListJobs", queue)?.job_summary_list() {
                let job = j.job_id().unwrap_or_default();
                b.terminate_job()
                    .job_id(job)
                    .reason(format!(
                        "pipectl down: stack {} is being removed",
                        ctx.stack
                    ))
                    .send()
                    .await
                    .ctx(BATCH, "TerminateJob", job)?;
                n += 1;
            }
        }
    }
    Ok(n)
}

fn in_transition(live: &Live) -> bool {
    matches!(live.get("status"), "CREATING" | "UPDATING")
}

/// Batch refuses updates to a compute environment or queue still CREATING or UPDATING.
fn in_transition_error(e: &AwsError) -> bool {
    e.message.contains("while CREATING") || e.message.contains("while UPDATING")
}

/// Deletes a queue, compute environment or job definition. One that AWS no longer knows at
/// any step (deleted meanwhile, by another `down` or by hand) is gone, which is what was asked.
pub(crate) async fn delete(ctx: &Ctx, o: &Observed) -> Result<(), ProvisionError> {
    match delete_steps(ctx, o).await {
        Err(ProvisionError::Aws(e)) if e.is_not_found() => Ok(()),
        other => other,
    }
}

async fn delete_steps(ctx: &Ctx, o: &Observed) -> Result<(), ProvisionError> {
    let b = &ctx.aws.batch;
    let id = o.logical.as_str();
    let name = o.live.physical_id.as_str();
    let patience = Duration::from_secs(600);
    match o.kind {
        Kind::JobQueue => {
            let stopped = stop_jobs(ctx, name).await?;
            if stopped > 0 {
                ctx.emit(Event::Note {
                    message: format!("{id}: terminated {stopped} job(s) that had not ended"),
                });
            }
            // A queue an interrupted `up` left CREATING or UPDATING cannot be updated yet.
            if in_transition(&o.live) {
                let _ = wait_queue(ctx, id, name, false).await;
            }
            if o.live.get("state") != "DISABLED" {
                retry_while(ctx, id, patience, in_transition_error, || async {
                    b.update_job_queue()
                        .job_queue(name)
                        .state(JqState::Disabled)
                        .send()
                        .await
                        .ctx(BATCH, "UpdateJobQueue", id)
                        .map(drop)
                })
                .await?;
            }
            // Disabling passes through UPDATING; an INVALID queue can still be deleted, and the
            // delete below retries while the queue is busy.
            let _ = wait_queue(ctx, id, name, false).await;
            let busy = |e: &AwsError| {
                e.message.contains("DISABLED")
                    || e.message.contains("UPDATING")
                    || e.message.contains("jobs")
            };
            retry_while(ctx, id, patience, busy, || async {
                b.delete_job_queue()
                    .job_queue(name)
                    .send()
                    .await
                    .ctx(BATCH, "DeleteJobQueue", id)
                    .map(drop)
            })
            .await?;
            wait_queue(ctx, id, name, true).await
        }
        Kind::ComputeEnvironment => {
            // One an interrupted `up` left CREATING or UPDATING cannot be updated yet.
            if in_transition(&o.live) {
                let _ = wait_ce(ctx, id, name, false).await;
            }
            if o.live.get("state") != "DISABLED" {
                retry_while(ctx, id, patience, in_transition_error, || async {
                    b.update_compute_environment()
                        .compute_environment(name)
                        .state(CeState::Disabled)
                        .send()
                        .await
                        .ctx(BATCH, "UpdateComputeEnvironment", id)
                        .map(drop)
                })
                .await?;
            }
            // Disabling passes through UPDATING; an INVALID one can still be deleted.
            let _ = wait_ce(ctx, id, name, false).await;
            let held = |e: &AwsError| {
                e.message.contains("JobQueue relationship")
                    || e.message.contains("ENABLED")
                    || e.message.contains("UPDATING")
            };
            retry_while(ctx, id, patience, held, || async {
                b.delete_compute_environment()
                    .compute_environment(name)
                    .send()
                    .await
                    .ctx(BATCH, "DeleteComputeEnvironment", id)
                    .map(drop)
            })
            .await?;
            wait_ce(ctx, id, name, true).await
        }
        Kind::JobDefinition => {
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
        _ => unreachable!("not a Batch kind: {:?}", o.kind),
    }
}

pub(crate) struct Batch;

impl Handler for Batch {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        observe(ctx).await
    }
    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        drift(ctx, r, live)
    }
    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        create(ctx, r).await
    }
    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        update(ctx, r, live, drifts).await
    }
    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        delete(ctx, o).await
    }
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        settle(ctx, r, live).await
    }
}
