//! The stack's CloudWatch Logs group: every job writes to it (the job definitions'
//! `logConfiguration`), it keeps logs for the spec's retention instead of forever, and `down`
//! removes it.

use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource};

use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live, TAG_RESOURCE};
use crate::error::ProvisionError;
use crate::wait::found;

const LOGS: &str = "logs";

pub(crate) struct LogGroup;

impl Handler for LogGroup {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let name = ctx.spec.log_group_name();
        let out = ctx
            .aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await
            .ctx(LOGS, "DescribeLogGroups", "log-group")?;
        let mut found_groups = Vec::new();
        for g in out.log_groups() {
            if g.log_group_name() != Some(name.as_str()) {
                continue;
            }
            // Ownership by tag, as for every other kind.
            let arn = g
                .arn()
                .unwrap_or_default()
                .trim_end_matches(":*")
                .to_string();
            let tags = ctx
                .aws
                .logs
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await
                .ctx(LOGS, "ListTagsForResource", "log-group")?;
            let t = tags.tags().cloned().unwrap_or_default();
            if t.get(crate::ctx::TAG_STACK).map(String::as_str) != Some(ctx.stack.as_str()) {
                continue;
            }
            let logical = t
                .get(TAG_RESOURCE)
                .cloned()
                .unwrap_or_else(|| "log-group".into());
            let live = Live::new(&name, "exists").arn(Some(arn.as_str())).attr(
                "retention",
                g.retention_in_days()
                    .map_or("never expires".into(), |d| d.to_string()),
            );
            found_groups.push(Observed {
                kind: Kind::LogGroup,
                logical,
                live,
            });
        }
        Ok(found_groups)
    }

    fn drift(ctx: &Ctx, _r: &Resource, live: &Live) -> Vec<Drift> {
        let want = ctx.spec.stack.log_retention_days.to_string();
        if live.get("retention") == want {
            vec![]
        } else {
            vec![Drift::new(
                "retention (days)",
                want,
                live.get("retention"),
                true,
            )]
        }
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let mut req = ctx.aws.logs.create_log_group().log_group_name(&r.name);
        for (k, v) in ctx.tags(&r.id.to_string(), &r.name) {
            req = req.tags(k, v);
        }
        match req
            .send()
            .await
            .ctx(LOGS, "CreateLogGroup", r.id.to_string())
        {
            Ok(_) => {}
            // ours from an interrupted `up` (tagged in the same call)
            Err(e) if e.code.as_deref() == Some("ResourceAlreadyExistsException") => {}
            Err(e) => return Err(e.into()),
        }
        let live = Live::new(&r.name, "exists");
        Self::update(
            ctx,
            r,
            &live,
            &[Drift::new("retention (days)", "", "", true)],
        )
        .await
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
        let days = ctx.spec.stack.log_retention_days;
        ctx.aws
            .logs
            .put_retention_policy()
            .log_group_name(&r.name)
            .retention_in_days(days as i32)
            .send()
            .await
            .ctx(LOGS, "PutRetentionPolicy", r.id.to_string())?;
        Ok(live.clone().attr("retention", days.to_string()))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        found(
            ctx.aws
                .logs
                .delete_log_group()
                .log_group_name(&o.live.physical_id)
                .send()
                .await
                .ctx(LOGS, "DeleteLogGroup", &o.logical),
        )?;
        Ok(())
    }
}
