//! The stack's EventBridge rule: on the default event bus (where AWS services send their
//! events), it matches AWS Batch's "Batch Job State Change" events of the stack's job queues
//! and delivers each, whole, to the stack's job-event queue. Built from the queues' ARNs as
//! their create calls answered them.

use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource, ResourceId};
use serde_json::{Value, json};

use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::wait::found;

const EVENTS: &str = "events";

/// The rule's one target's id.
const TARGET_ID: &str = "job-events-queue";

/// The event pattern: Batch's job state-change events (source `aws.batch`, detail-type
/// `Batch Job State Change`) whose `detail.jobQueue` is one of the stack's queues' ARNs (a list
/// in a pattern matches any of its values; ARNs are compared exactly).
pub(crate) fn pattern(queue_arns: &[String]) -> Value {
    json!({
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {"jobQueue": queue_arns}
    })
}

/// The ARNs of the stack's job queues, as their create calls (or `observe`) gave them.
fn queue_arns(ctx: &Ctx, r: &Resource) -> Result<Vec<String>, ProvisionError> {
    let mut arns = Vec::new();
    for q in r
        .uses
        .iter()
        .filter(|u| matches!(u, ResourceId::JobQueue(_)))
    {
        let live = ctx.dep(q)?;
        arns.push(live.arn.unwrap_or_default());
    }
    arns.sort();
    Ok(arns)
}

fn queue_arn(ctx: &Ctx) -> Result<String, ProvisionError> {
    let q = ctx.dep(&ResourceId::EventQueue)?;
    Ok(q.arn.unwrap_or_default())
}

pub(crate) struct EventRule;

impl Handler for EventRule {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let name = ctx.spec.job_events_name();
        let id = ResourceId::EventRule.to_string();
        let events = &ctx.aws.events;
        let Some(rule) = found(events.describe_rule().name(&name).send().await.ctx(
            EVENTS,
            "DescribeRule",
            &id,
        ))?
        else {
            return Ok(vec![]);
        };
        let arn = rule.arn().unwrap_or_default().to_string();
        let tags = events
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .ctx(EVENTS, "ListTagsForResource", &id)?;
        let tag = |k: &str| {
            tags.tags()
                .iter()
                .find(|t| t.key() == k)
                .map(|t| t.value().to_string())
        };
        if tag(TAG_STACK).as_deref() != Some(ctx.stack.as_str()) {
            return Ok(vec![]);
        }
        let targets = events.list_targets_by_rule().rule(&name).send().await.ctx(
            EVENTS,
            "ListTargetsByRule",
            &id,
        )?;
        let target: Vec<String> = targets
            .targets()
            .iter()
            .map(|t| format!("{}={}", t.id(), t.arn()))
            .collect();
        let live = Live::new(&name, rule.state().map_or("unknown", |s| s.as_str()))
            .arn(Some(arn.as_str()))
            .attr("pattern", rule.event_pattern().unwrap_or_default())
            .attr("targets", target.join(","));
        Ok(vec![Observed {
            kind: Kind::EventRule,
            logical: tag(TAG_RESOURCE).unwrap_or(id),
            live,
        }])
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let mut out = Vec::new();
        if live.state != "ENABLED" {
            out.push(Drift::new("state", "ENABLED", &live.state, true));
        }
        // Compared only once the queues and the event queue are known (at their turn).
        if let Ok(arns) = queue_arns(ctx, r) {
            let have: Value = serde_json::from_str(live.get("pattern")).unwrap_or(Value::Null);
            if have != pattern(&arns) {
                out.push(Drift::new(
                    "event pattern",
                    "the stack's job queues",
                    "another",
                    true,
                ));
            }
        }
        if let Ok(q) = queue_arn(ctx) {
            let want = format!("{TARGET_ID}={q}");
            if live.get("targets") != want {
                out.push(Drift::new("target", want, live.get("targets"), true));
            }
        }
        out
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let live = Live::new(&r.name, "ENABLED");
        put(ctx, r, &live, true).await
    }

    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        if !drifts.iter().any(|d| d.in_place) {
            return Ok(live.clone());
        }
        put(ctx, r, live, false).await
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let events = &ctx.aws.events;
        let name = &o.live.physical_id;
        // DeleteRule: "Before you can delete the rule, you must remove all targets".
        let ids: Vec<String> = o
            .live
            .get("targets")
            .split(',')
            .filter_map(|t| t.split_once('=').map(|(id, _)| id.to_string()))
            .collect();
        if !ids.is_empty() {
            let out = found(
                events
                    .remove_targets()
                    .rule(name)
                    .set_ids(Some(ids))
                    .send()
                    .await
                    .ctx(EVENTS, "RemoveTargets", &o.logical),
            )?;
            if let Some(failed) = out.as_ref().and_then(|o| o.failed_entries().first()) {
                return Err(ProvisionError::refused(
                    o.logical.clone(),
                    format!(
                        "RemoveTargets: {}: {}",
                        failed.error_code().unwrap_or_default(),
                        failed.error_message().unwrap_or_default()
                    ),
                    None,
                ));
            }
        }
        // Deleting a rule that is gone succeeds ("all calls will succeed").
        events
            .delete_rule()
            .name(name)
            .send()
            .await
            .ctx(EVENTS, "DeleteRule", &o.logical)?;
        Ok(())
    }
}

/// PutRule (creates, or replaces the pattern and state; tags only on creation) and PutTargets
/// (a target with the same id is updated). Both can fail in part: PutTargets answers 200 with
/// `FailedEntryCount`, which is checked.
async fn put(ctx: &Ctx, r: &Resource, live: &Live, tag: bool) -> Result<Live, ProvisionError> {
    use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
    let id = r.id.to_string();
    let events = &ctx.aws.events;
    let arns = queue_arns(ctx, r)?;
    let pattern = pattern(&arns).to_string();
    let mut req = events
        .put_rule()
        .name(&r.name)
        .event_pattern(&pattern)
        .state(RuleState::Enabled)
        .description(format!(
            "pipectl stack {}: Batch job state changes for `pipectl run`",
            ctx.stack
        ));
    if tag {
        for (k, v) in ctx.tags(&id, &r.name) {
            req = req.tags(
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .expect("key and value set"),
            );
        }
    }
    let out = req.send().await.ctx(EVENTS, "PutRule", &id)?;
    let queue = queue_arn(ctx)?;
    let target = Target::builder()
        .id(TARGET_ID)
        .arn(&queue)
        .build()
        .expect("id and arn set");
    let put = events
        .put_targets()
        .rule(&r.name)
        .targets(target)
        .send()
        .await
        .ctx(EVENTS, "PutTargets", &id)?;
    if let Some(failed) = put.failed_entries().first() {
        return Err(ProvisionError::refused(
            id,
            format!(
                "PutTargets: {}: {}",
                failed.error_code().unwrap_or_default(),
                failed.error_message().unwrap_or_default()
            ),
            None,
        ));
    }
    Ok(Live::new(&live.physical_id, "ENABLED")
        .arn(out.rule_arn().or(live.arn.as_deref()))
        .attr("pattern", pattern)
        .attr("targets", format!("{TARGET_ID}={queue}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_matches_batch_job_events_of_the_given_queues_only() {
        let p = pattern(&["arn:aws:batch:r:1:job-queue/a".into()]);
        assert_eq!(p["source"], json!(["aws.batch"]));
        assert_eq!(p["detail-type"], json!(["Batch Job State Change"]));
        assert_eq!(
            p["detail"]["jobQueue"],
            json!(["arn:aws:batch:r:1:job-queue/a"])
        );
    }
}
