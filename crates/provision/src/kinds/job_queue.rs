//! Batch job queues with the spec's priorities and compute environments in order; disabled,
//! emptied of the stack's jobs and deleted by `down`.

use aws_sdk_batch::types::{
    ComputeEnvironmentOrder, JobStateTimeLimitAction, JobStateTimeLimitActionsAction,
    JobStateTimeLimitActionsState, JobStatus, JqState, JqStatus,
};
use pipectl_aws::wait::Probe;
use pipectl_aws::{AwsError, ResultExt};
use pipectl_spec::graph::{Kind, Payload, Resource};

use super::batch::{
    BATCH, deleted_or_gone, disable_then_delete, in_transition, owned, revalidatable, settled,
};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Event, Live};
use crate::error::ProvisionError;
use crate::wait::wait_for;

pub(crate) struct JobQueue;

impl Handler for JobQueue {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let b = &ctx.aws.batch;
        let mut out = Vec::new();
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
                order.sort_by_key(aws_sdk_batch::types::ComputeEnvironmentOrder::order);
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
                .attr("order", ces.join(","))
                .attr(
                    "time limits",
                    limits_text(q.job_state_time_limit_actions().iter().map(|a| {
                        (
                            a.reason().unwrap_or_default().to_string(),
                            a.max_time_seconds().unwrap_or(0),
                        )
                    })),
                );
                out.push(Observed {
                    kind: Kind::JobQueue,
                    logical,
                    live,
                });
            }
        }

        Ok(out)
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
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
        let want = wanted_limits_text(q.runnable_timeout);
        if live.get("time limits") != want {
            d.push(Drift::new(
                "runnable timeout",
                if want.is_empty() { "none" } else { &want },
                live.get("time limits"),
                true,
            ));
        }
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let b = &ctx.aws.batch;
        let id: &str = &r.id.to_string();
        let key = queue_key(r);
        let mut req = b
            .create_job_queue()
            .job_queue_name(&r.name)
            .state(JqState::Enabled)
            .priority(ctx.spec.job_queues[key].priority as i32)
            .set_compute_environment_order(Some(queue_order(ctx, r)?));
        let limits = time_limits(ctx.spec.job_queues[key].runnable_timeout);
        if !limits.is_empty() {
            req = req.set_job_state_time_limit_actions(Some(limits));
        }
        for (k, v) in ctx.tags(id, &r.name) {
            req = req.tags(k, v);
        }
        let out = req.send().await.ctx(BATCH, "CreateJobQueue", id)?;
        wait_queue(ctx, id, &r.name, false).await?;
        Ok(Live::new(&r.name, "VALID, ENABLED")
            .arn(out.job_queue_arn())
            .attr("status", "VALID")
            .attr("state", "ENABLED")
            .attr("priority", ctx.spec.job_queues[key].priority.to_string())
            .attr(
                "time limits",
                wanted_limits_text(ctx.spec.job_queues[key].runnable_timeout),
            ))
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
        let key = queue_key(r);
        b.update_job_queue()
            .job_queue(&live.physical_id)
            .state(JqState::Enabled)
            .priority(ctx.spec.job_queues[key].priority as i32)
            .set_compute_environment_order(Some(queue_order(ctx, r)?))
            .set_job_state_time_limit_actions(Some(time_limits(
                ctx.spec.job_queues[key].runnable_timeout,
            )))
            .send()
            .await
            .ctx(BATCH, "UpdateJobQueue", id)?;
        wait_queue(ctx, id, &live.physical_id, false).await?;
        Ok(live
            .clone()
            .attr("priority", ctx.spec.job_queues[key].priority.to_string())
            .attr("state", "ENABLED")
            .attr(
                "time limits",
                wanted_limits_text(ctx.spec.job_queues[key].runnable_timeout),
            ))
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
        wait_queue(ctx, &r.id.to_string(), &live.physical_id, true).await
    }

    /// Waits for one found CREATING or UPDATING (an interrupted `up`).
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        if !Self::unsettled(live) {
            return Ok(live.clone());
        }
        wait_queue(ctx, &r.id.to_string(), &live.physical_id, false).await?;
        Ok(settled(live))
    }
}

async fn delete_steps(ctx: &Ctx, o: &Observed) -> Result<(), ProvisionError> {
    let b = &ctx.aws.batch;
    let id = o.logical.as_str();
    let name = o.live.physical_id.as_str();
    let stopped = stop_jobs(ctx, name).await?;
    if stopped > 0 {
        ctx.emit(Event::Note {
            message: format!("{id}: terminated {stopped} job(s) that had not ended"),
        });
    }
    // The delete is retried while the queue is still busy with jobs or the disabling update.
    let busy = |e: &AwsError| {
        e.message.contains("DISABLED")
            || e.message.contains("UPDATING")
            || e.message.contains("jobs")
    };
    disable_then_delete(
        ctx,
        o,
        |gone| wait_queue(ctx, id, name, gone),
        || async {
            b.update_job_queue()
                .job_queue(name)
                .state(JqState::Disabled)
                .send()
                .await
                .ctx(BATCH, "UpdateJobQueue", id)
                .map(drop)
        },
        || async {
            b.delete_job_queue()
                .job_queue(name)
                .send()
                .await
                .ctx(BATCH, "DeleteJobQueue", id)
                .map(drop)
        },
        busy,
    )
    .await
}

/// The blocked-queue reasons a queue's `runnable_timeout` cancels jobs for: the three Batch
/// allows time-limit actions on for EC2 and ECS queues ("Jobs stuck in a RUNNABLE status").
/// `ACTION_REQUIRED` (every compute environment INVALID) takes none.
pub(crate) const TIME_LIMITED_REASONS: [&str; 3] = [
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
];

/// The queue's `jobStateTimeLimitActions` for a runnable timeout: CANCEL (the one action of
/// ECS queues) after it, in RUNNABLE, for each reason; none without one.
fn time_limits(timeout: Option<pipectl_spec::units::Duration>) -> Vec<JobStateTimeLimitAction> {
    let Some(t) = timeout else {
        return Vec::new();
    };
    TIME_LIMITED_REASONS
        .iter()
        .map(|reason| {
            JobStateTimeLimitAction::builder()
                .reason(*reason)
                .state(JobStateTimeLimitActionsState::Runnable)
                .max_time_seconds(t.secs() as i32)
                .action(JobStateTimeLimitActionsAction::Cancel)
                .build()
        })
        .collect()
}

/// Time-limit actions as `status` compares them: `reason=seconds`, sorted, comma-separated.
fn limits_text(limits: impl Iterator<Item = (String, i32)>) -> String {
    let mut v: Vec<String> = limits.map(|(r, s)| format!("{r}={s}")).collect();
    v.sort();
    v.join(",")
}

fn wanted_limits_text(timeout: Option<pipectl_spec::units::Duration>) -> String {
    limits_text(time_limits(timeout).iter().map(|a| {
        (
            a.reason().unwrap_or_default().to_string(),
            a.max_time_seconds().unwrap_or(0),
        )
    }))
}

/// The spec's key of a job queue.
fn queue_key(r: &Resource) -> &str {
    match &r.payload {
        Payload::JobQueue { key, .. } => key,
        _ => unreachable!("a job queue's payload"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use pipectl_spec::units::Duration;

    #[test]
    fn a_runnable_timeout_cancels_for_each_time_limited_reason_and_none_sets_none() {
        let limits = time_limits(Some(Duration::from_secs(7_200)));
        assert_eq!(limits.len(), 3);
        for (a, reason) in limits.iter().zip(TIME_LIMITED_REASONS) {
            assert_eq!(a.reason(), Some(reason));
            assert_eq!(a.state(), Some(&JobStateTimeLimitActionsState::Runnable));
            assert_eq!(a.action(), Some(&JobStateTimeLimitActionsAction::Cancel));
            assert_eq!(a.max_time_seconds(), Some(7_200));
        }
        assert!(time_limits(None).is_empty());
        assert_eq!(wanted_limits_text(None), "");
        // what `observe` reads back compares equal, whatever AWS's order
        let back = limits_text(
            limits
                .iter()
                .rev()
                .map(|a| (a.reason().unwrap().to_string(), 7_200)),
        );
        assert_eq!(back, wanted_limits_text(Some(Duration::from_secs(7_200))));
    }
}
