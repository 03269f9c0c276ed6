//! The subnets: one private subnet per zone, and the public one that holds the NAT gateway.
//! Neither CIDR block nor zone changes in place.

use aws_sdk_ec2::types::ResourceType;
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Payload, Resource};

use super::ec2::{
    EC2, PATIENCE, deleted_or_gone, in_use, obs, placement_drift, stack_filter, tag_spec,
    wait_interfaces_gone,
};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::retry_while;

pub(crate) struct Subnet;

impl Handler for Subnet {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let subnets = ec2
            .describe_subnets()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        for s in subnets.ctx(EC2, "DescribeSubnets", "subnets")?.subnets() {
            let live = Live::new(
                s.subnet_id().unwrap_or_default(),
                s.state().map_or("exists", |s| s.as_str()),
            )
            .attr("cidr", s.cidr_block().unwrap_or_default())
            .attr("zone", s.availability_zone().unwrap_or_default())
            .attr("vpc", s.vpc_id().unwrap_or_default());
            out.extend(obs(ctx, Kind::Subnet, s.tags(), live));
        }
        Ok(out)
    }

    fn drift(_ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        placement_drift(&r.payload, live)
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let Payload::Subnet { cidr, zone } = &r.payload else {
            unreachable!("a subnet's payload")
        };
        let out = ec2
            .create_subnet()
            .vpc_id(ctx.vpc_id()?)
            .cidr_block(cidr)
            .availability_zone(zone)
            .tag_specifications(tag_spec(ctx, ResourceType::Subnet, id, &r.name))
            .send()
            .await
            .ctx(EC2, "CreateSubnet", id)?;
        let sid = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .unwrap_or_default()
            .to_string();
        Ok(Live::new(sid, "available")
            .attr("cidr", cidr)
            .attr("zone", zone))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        let (later, gone, patience) = (in_use, deleted_or_gone, PATIENCE);
        wait_interfaces_gone(ctx, id, "subnet-id", pid).await?;
        gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.delete_subnet()
                    .subnet_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "DeleteSubnet", id)
                    .map(drop)
            })
            .await,
        )
    }
}
