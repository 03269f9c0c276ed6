//! Batch managed compute environments (Spot or On-Demand) on the stack's launch templates,
//! subnets and roles; validated again while a new IAM role propagates.

use aws_sdk_batch::types::{
    CeState, CeStatus, CeType, ComputeResource, ComputeResourceUpdate, CrAllocationStrategy,
    CrType, Ec2Configuration, LaunchTemplateSpecification,
};
use pipectl_aws::wait::Probe;
use pipectl_aws::{AwsError, ResultExt};
use pipectl_spec::graph::{Kind, Payload, Resource, ResourceId};
use pipectl_spec::model::Purchase;

use super::batch::{
    BATCH, deleted_or_gone, disable_then_delete, iam_not_yet_usable, in_transition, owned,
    revalidatable, settled,
};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Event, Live};
use crate::error::ProvisionError;
use crate::wait::wait_for;

pub(crate) struct ComputeEnvironment;

impl Handler for ComputeEnvironment {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
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
                    cr.and_then(aws_sdk_batch::types::ComputeResource::minv_cpus)
                        .unwrap_or(0)
                        .to_string(),
                )
                .attr(
                    "max-vcpus",
                    cr.and_then(aws_sdk_batch::types::ComputeResource::maxv_cpus)
                        .unwrap_or(0)
                        .to_string(),
                );
                out.push(Observed {
                    kind: Kind::ComputeEnvironment,
                    logical,
                    live,
                });
            }
        }

        Ok(out)
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
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
        d.extend(status_drift(live));
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let b = &ctx.aws.batch;
        let id: &str = &r.id.to_string();
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

    /// One that AWS no longer knows at any step (deleted meanwhile, by another `down` or by
    /// hand) is gone, which is what was asked.
    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        deleted_or_gone(delete_steps(ctx, o).await)
    }

    fn unsettled(live: &Live) -> bool {
        in_transition(live) || revalidatable(live)
    }

    fn leaving(live: &Live) -> bool {
        live.get("status") == "DELETING"
    }

    /// Waits until one found DELETING is gone (or listed DELETED).
    async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
        wait_ce(ctx, &r.id.to_string(), &live.physical_id, true).await
    }

    /// Waits for one found CREATING or UPDATING (an interrupted `up`), or INVALID for a role
    /// not yet usable.
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        if !Self::unsettled(live) {
            return Ok(live.clone());
        }
        wait_ce_valid(ctx, &r.id.to_string(), &live.physical_id).await?;
        Ok(settled(live))
    }
}

async fn delete_steps(ctx: &Ctx, o: &Observed) -> Result<(), ProvisionError> {
    let b = &ctx.aws.batch;
    let id = o.logical.as_str();
    let name = o.live.physical_id.as_str();
    // The delete is retried while a queue still uses it or the disabling update runs.
    let held = |e: &AwsError| {
        e.message.contains("JobQueue relationship")
            || e.message.contains("ENABLED")
            || e.message.contains("UPDATING")
    };
    disable_then_delete(
        ctx,
        o,
        |gone| wait_ce(ctx, id, name, gone),
        || async {
            b.update_compute_environment()
                .compute_environment(name)
                .state(CeState::Disabled)
                .send()
                .await
                .ctx(BATCH, "UpdateComputeEnvironment", id)
                .map(drop)
        },
        || async {
            b.delete_compute_environment()
                .compute_environment(name)
                .send()
                .await
                .ctx(BATCH, "DeleteComputeEnvironment", id)
                .map(drop)
        },
        held,
    )
    .await
}

/// The spec's key of a compute environment.
fn ce_key(r: &Resource) -> &str {
    match &r.payload {
        Payload::ComputeEnvironment { key } => key,
        _ => unreachable!("a compute environment's payload"),
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

/// An INVALID compute environment needs replacing, unless it is INVALID only because its IAM
/// role had not propagated when an interrupted `up` created it: that one is validated again
/// (`settle`), not replaced.
fn status_drift(live: &Live) -> Option<Drift> {
    (live.get("status") == "INVALID" && !revalidatable(live)).then(|| {
        Drift::new(
            "status",
            "VALID",
            format!("INVALID: {}", live.get("status-reason")),
            false,
        )
    })
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
            // probed at a fresh wait's pace: the validation ends a CE update later
            return Ok(Probe::Restarted(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ce(status: &str, reason: &str) -> Live {
        Live::new("x", "")
            .attr("status", status)
            .attr("status-reason", reason)
    }

    #[test]
    fn only_an_invalid_environment_iam_will_not_put_right_needs_replacing() {
        let propagating = ce(
            "INVALID",
            "CLIENT_ERROR - User: batch.amazonaws.com is not authorized to perform: \
             sts:AssumeRole on resource: arn:aws:iam::000000000000:role/x",
        );
        assert!(status_drift(&propagating).is_none());
        let broken = status_drift(&ce("INVALID", "CLIENT_ERROR - subnet-1 does not exist"))
            .expect("a broken environment drifts");
        assert!(!broken.in_place);
        assert!(status_drift(&ce("VALID", "")).is_none());
    }
}
