//! The NAT gateway's elastic IP.

use aws_sdk_ec2::types::ResourceType;
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource};

use super::ec2::{EC2, PATIENCE, deleted_or_gone, in_use, obs, stack_filter, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::retry_while;

pub(crate) struct ElasticIp;

impl Handler for ElasticIp {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let eips = ec2
            .describe_addresses()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        for a in eips
            .ctx(EC2, "DescribeAddresses", "elastic IP")?
            .addresses()
        {
            let live = Live::new(
                a.allocation_id().unwrap_or_default(),
                if a.association_id().is_some() {
                    "associated"
                } else {
                    "allocated"
                },
            )
            .attr("association", a.association_id().unwrap_or_default());
            out.extend(obs(ctx, Kind::ElasticIp, a.tags(), live));
        }
        Ok(out)
    }

    fn drift(_ctx: &Ctx, _r: &Resource, _live: &Live) -> Vec<Drift> {
        Vec::new()
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let out = ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .tag_specifications(tag_spec(ctx, ResourceType::ElasticIp, id, &r.name))
            .send()
            .await
            .ctx(EC2, "AllocateAddress", id)?;
        Ok(Live::new(
            out.allocation_id().unwrap_or_default(),
            "allocated",
        ))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        let (later, gone, patience) = (in_use, deleted_or_gone, PATIENCE);
        gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.release_address()
                    .allocation_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "ReleaseAddress", id)
                    .map(drop)
            })
            .await,
        )
    }
}
