//! The placement groups EFA compute environments launch into (a cluster placement group
//! keeps the nodes of a multi-node job close). A strategy does not change in place.

use aws_sdk_ec2::types::{PlacementStrategy, ResourceType};
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Payload, Resource, placement_strategy_aws};

use super::ec2::{EC2, stack_filter, tag, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;

pub(crate) struct PlacementGroup;

impl Handler for PlacementGroup {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let pgs = ec2
            .describe_placement_groups()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        for g in pgs
            .ctx(EC2, "DescribePlacementGroups", "placement groups")?
            .placement_groups()
        {
            let state = g.state().map_or("available", |s| s.as_str());
            if state == "deleted" {
                continue;
            }
            if tag(g.tags(), TAG_STACK) != Some(ctx.stack.as_str()) {
                continue;
            }
            if let Some(l) = tag(g.tags(), TAG_RESOURCE) {
                let live = Live::new(g.group_name().unwrap_or_default(), state)
                    .attr("strategy", g.strategy().map_or("", |s| s.as_str()));
                out.push(Observed {
                    kind: Kind::PlacementGroup,
                    logical: l.into(),
                    live,
                });
            }
        }

        Ok(out)
    }

    fn drift(_ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        strategy_drift(strategy(r), live)
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let strategy = strategy(r);
        ec2.create_placement_group()
            .group_name(&r.name)
            .strategy(PlacementStrategy::from(strategy))
            .tag_specifications(tag_spec(ctx, ResourceType::PlacementGroup, id, &r.name))
            .send()
            .await
            .ctx(EC2, "CreatePlacementGroup", id)?;
        Ok(Live::new(&r.name, "available").attr("strategy", strategy))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        match ec2
            .delete_placement_group()
            .group_name(&o.live.physical_id)
            .send()
            .await
            .ctx(EC2, "DeletePlacementGroup", id)
            .map(drop)
        {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map_err(Into::into),
        }
    }
}

/// The placement strategy as EC2 spells it.
fn strategy(r: &Resource) -> &'static str {
    match &r.payload {
        Payload::PlacementGroup { strategy } => placement_strategy_aws(*strategy),
        _ => unreachable!("a placement group's payload"),
    }
}

/// The strategy AWS has against the spec's; only a new group changes it.
fn strategy_drift(want: &str, live: &Live) -> Vec<Drift> {
    if live.get("strategy") == want {
        vec![]
    } else {
        vec![Drift::new("strategy", want, live.get("strategy"), false)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_different_strategy_means_a_new_group() {
        let live = Live::new("pg", "available").attr("strategy", "spread");
        assert_eq!(
            strategy_drift("cluster", &live),
            vec![Drift::new("strategy", "cluster", "spread", false)]
        );
        assert!(strategy_drift("spread", &live).is_empty());
    }
}
