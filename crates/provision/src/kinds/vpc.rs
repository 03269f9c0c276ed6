//! The stack's VPC (DNS hostnames on: interface endpoints with private DNS and the Lustre
//! client need them). Its CIDR block does not change in place.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
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

pub(crate) struct Vpc;

impl Handler for Vpc {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let vpcs = ec2.describe_vpcs().filters(stack_filter(ctx)).send().await;
        let mut out = Vec::new();
        for v in vpcs.ctx(EC2, "DescribeVpcs", "vpc")?.vpcs() {
            let live = Live::new(
                v.vpc_id().unwrap_or_default(),
                v.state().map_or("exists", |s| s.as_str()),
            )
            .attr("cidr", v.cidr_block().unwrap_or_default());
            out.extend(obs(ctx, Kind::Vpc, v.tags(), live));
        }
        Ok(out)
    }

    fn drift(_ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        placement_drift(&r.payload, live)
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let Payload::Vpc { cidr } = &r.payload else {
            unreachable!("a VPC's payload")
        };
        let out = ec2
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tag_spec(ctx, ResourceType::Vpc, id, &r.name))
            .send()
            .await
            .ctx(EC2, "CreateVpc", id)?;
        let vpc = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_string();
        // Interface endpoints with private DNS and the Lustre client need DNS hostnames.
        ec2.modify_vpc_attribute()
            .vpc_id(&vpc)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .ctx(EC2, "ModifyVpcAttribute", id)?;
        Ok(Live::new(vpc, "available").attr("cidr", cidr))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        let (later, gone, patience) = (in_use, deleted_or_gone, PATIENCE);
        wait_interfaces_gone(ctx, id, "vpc-id", pid).await?;
        gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.delete_vpc()
                    .vpc_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "DeleteVpc", id)
                    .map(drop)
            })
            .await,
        )
    }
}
