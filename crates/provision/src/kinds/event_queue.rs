//! The stack's job-event queue (SQS): where the EventBridge rule delivers Batch's job
//! state-change events for `run` to read. Encrypted with SQS-owned keys (SSE-SQS: EventBridge
//! can deliver to it with no KMS key policy, which SSE-KMS with SQS's AWS managed key would
//! need and cannot have), events kept one day, and a policy that lets only the stack's rule
//! send and refuses every request not made over TLS.

use aws_sdk_sqs::types::QueueAttributeName as A;
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource, ResourceId};
use serde_json::{Value, json};

use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::wait::{found, retry_while};

const SQS: &str = "sqs";

/// How long an event waits to be read: a day (`MessageRetentionPeriod`, 60 s to 14 days).
pub(crate) const RETENTION_SECONDS: u32 = 86_400;

/// SQS refuses a queue's name for 60 s after a queue of that name was deleted
/// (`QueueDeletedRecently`, DeleteQueue: "you must wait at least 60 seconds before creating a
/// queue with the same name"); `up` right after `down` waits it out.
const RECREATE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(90);

fn deleted_recently(e: &pipectl_aws::AwsError) -> bool {
    e.code
        .as_deref()
        .is_some_and(|c| c.ends_with("QueueDeletedRecently"))
}

/// The queue's ARN (SQS: `arn:aws:sqs:REGION:ACCOUNT:NAME`).
pub(crate) fn queue_arn(ctx: &Ctx, name: &str) -> String {
    format!("arn:aws:sqs:{}:{}:{name}", ctx.aws.region, ctx.account)
}

/// The stack's rule's ARN, known before the rule exists (EventBridge: a rule on the default
/// bus is `arn:aws:events:REGION:ACCOUNT:rule/NAME`).
pub(crate) fn rule_arn(ctx: &Ctx, name: &str) -> String {
    format!(
        "arn:aws:events:{}:{}:rule/{name}",
        ctx.aws.region, ctx.account
    )
}

/// The queue policy: the statement the EventBridge user guide gives for an SQS target
/// (events.amazonaws.com may `sqs:SendMessage`, only from the stack's rule), and a deny of any
/// request over plain HTTP (`aws:SecureTransport`, SQS security best practices).
pub(crate) fn policy(queue_arn: &str, rule_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "JobEventsFromTheStacksRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}
            },
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    })
}

/// The attributes the queue must have, as SQS names and spells them.
fn wanted(ctx: &Ctx, name: &str) -> Vec<(A, String)> {
    let arn = queue_arn(ctx, name);
    vec![
        (A::MessageRetentionPeriod, RETENTION_SECONDS.to_string()),
        (A::SqsManagedSseEnabled, "true".into()),
        (A::Policy, policy(&arn, &rule_arn(ctx, name)).to_string()),
    ]
}

pub(crate) struct EventQueue;

impl Handler for EventQueue {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let name = ctx.spec.job_events_name();
        let id = ResourceId::EventQueue.to_string();
        let sqs = &ctx.aws.sqs;
        let Some(url) = found(sqs.get_queue_url().queue_name(&name).send().await.ctx(
            SQS,
            "GetQueueUrl",
            &id,
        ))?
        .and_then(|o| o.queue_url().map(str::to_string)) else {
            return Ok(vec![]);
        };
        // Ownership by tag, as for every other kind.
        let tags =
            sqs.list_queue_tags()
                .queue_url(&url)
                .send()
                .await
                .ctx(SQS, "ListQueueTags", &id)?;
        let tags = tags.tags().cloned().unwrap_or_default();
        if tags.get(TAG_STACK).map(String::as_str) != Some(ctx.stack.as_str()) {
            return Ok(vec![]);
        }
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(A::All)
            .send()
            .await
            .ctx(SQS, "GetQueueAttributes", &id)?;
        let a = attrs.attributes().cloned().unwrap_or_default();
        let get = |k: A| a.get(&k).cloned().unwrap_or_default();
        let live = Live::new(&url, "exists")
            .arn(Some(get(A::QueueArn).as_str()).filter(|s| !s.is_empty()))
            .attr("retention", get(A::MessageRetentionPeriod))
            .attr("sse", get(A::SqsManagedSseEnabled))
            .attr("policy", get(A::Policy));
        Ok(vec![Observed {
            kind: Kind::EventQueue,
            logical: tags.get(TAG_RESOURCE).cloned().unwrap_or(id),
            live,
        }])
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let mut out = Vec::new();
        if live.get("retention") != RETENTION_SECONDS.to_string() {
            out.push(Drift::new(
                "retention (s)",
                RETENTION_SECONDS,
                live.get("retention"),
                true,
            ));
        }
        if live.get("sse") != "true" {
            out.push(Drift::new("SSE-SQS", "true", live.get("sse"), true));
        }
        let want = policy(&queue_arn(ctx, &r.name), &rule_arn(ctx, &r.name));
        let have: Value = serde_json::from_str(live.get("policy")).unwrap_or(Value::Null);
        if have != want {
            out.push(Drift::new(
                "policy",
                "the stack's rule only, TLS only",
                if have.is_null() { "none" } else { "another" },
                true,
            ));
        }
        out
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let id = r.id.to_string();
        let mut req = ctx.aws.sqs.create_queue().queue_name(&r.name);
        for (k, v) in wanted(ctx, &r.name) {
            req = req.attributes(k, v);
        }
        for (k, v) in ctx.tags(&id, &r.name) {
            req = req.tags(k, v);
        }
        let out = retry_while(ctx, &id, RECREATE_PATIENCE, deleted_recently, || {
            let req = req.clone();
            let id = id.clone();
            async move { req.send().await.ctx(SQS, "CreateQueue", id) }
        })
        .await;
        let url = match out {
            Ok(o) => o.queue_url().unwrap_or_default().to_string(),
            // Ours from an interrupted `up` whose attributes differ (`QueueNameExists`,
            // "QueueAlreadyExists" on the wire): set them on it.
            Err(ProvisionError::Aws(e))
                if e.code.as_deref().is_some_and(|c| {
                    c.contains("QueueAlreadyExists") || c == "QueueNameExists"
                }) =>
            {
                let url = ctx
                    .aws
                    .sqs
                    .get_queue_url()
                    .queue_name(&r.name)
                    .send()
                    .await
                    .ctx(SQS, "GetQueueUrl", &id)?
                    .queue_url()
                    .unwrap_or_default()
                    .to_string();
                let live = Live::new(url, "exists");
                return Self::update(ctx, r, &live, &[Drift::new("policy", "", "", true)]).await;
            }
            Err(e) => return Err(e),
        };
        Ok(live_as_wanted(ctx, r, url))
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
        let mut req = ctx
            .aws
            .sqs
            .set_queue_attributes()
            .queue_url(&live.physical_id);
        for (k, v) in wanted(ctx, &r.name) {
            req = req.attributes(k, v);
        }
        req.send()
            .await
            .ctx(SQS, "SetQueueAttributes", r.id.to_string())?;
        Ok(live_as_wanted(ctx, r, live.physical_id.clone()))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        found(
            ctx.aws
                .sqs
                .delete_queue()
                .queue_url(&o.live.physical_id)
                .send()
                .await
                .ctx(SQS, "DeleteQueue", &o.logical),
        )?;
        Ok(())
    }
}

/// The queue as `up` just made it (its URL is its physical id: what `run` reads from).
fn live_as_wanted(ctx: &Ctx, r: &Resource, url: String) -> Live {
    let arn = queue_arn(ctx, &r.name);
    Live::new(url, "exists")
        .arn(Some(arn.as_str()))
        .attr("retention", RETENTION_SECONDS.to_string())
        .attr("sse", "true")
        .attr("policy", policy(&arn, &rule_arn(ctx, &r.name)).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_lets_only_the_rule_send_and_refuses_plain_http() {
        let p = policy("arn:aws:sqs:r:1:q", "arn:aws:events:r:1:rule/q");
        let s = p["Statement"].as_array().unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["Effect"], "Allow");
        assert_eq!(s[0]["Principal"]["Service"], "events.amazonaws.com");
        assert_eq!(s[0]["Action"], "sqs:SendMessage");
        assert_eq!(
            s[0]["Condition"]["ArnEquals"]["aws:SourceArn"],
            "arn:aws:events:r:1:rule/q"
        );
        assert_eq!(s[1]["Effect"], "Deny");
        assert_eq!(s[1]["Condition"]["Bool"]["aws:SecureTransport"], "false");
        assert!(s.iter().all(|x| x["Resource"] == "arn:aws:sqs:r:1:q"));
    }

    #[test]
    fn a_recently_deleted_name_is_waited_out_in_either_protocols_spelling() {
        let e = |c: &str| pipectl_aws::AwsError {
            service: "sqs",
            operation: "CreateQueue",
            resource: "events-queue".into(),
            kind: pipectl_aws::ErrorKind::Refused,
            code: Some(c.into()),
            message: String::new(),
        };
        assert!(deleted_recently(&e("QueueDeletedRecently")));
        assert!(deleted_recently(&e(
            "AWS.SimpleQueueService.QueueDeletedRecently"
        )));
        assert!(!deleted_recently(&e("QueueAlreadyExists")));
    }
}
