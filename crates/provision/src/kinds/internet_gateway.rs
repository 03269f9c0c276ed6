//! The internet gateway of the public subnet (NAT egress only), attached to the VPC.

use aws_sdk_ec2::types::ResourceType;
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource, ResourceId};

use super::ec2::{EC2, PATIENCE, deleted_or_gone, in_use, obs, stack_filter, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::retry_while;

pub(crate) struct InternetGateway;

impl Handler for InternetGateway {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let igws = ec2
            .describe_internet_gateways()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        for g in igws
            .ctx(EC2, "DescribeInternetGateways", "internet gateway")?
            .internet_gateways()
        {
            let attached: Vec<&str> = g.attachments().iter().filter_map(|a| a.vpc_id()).collect();
            let live = Live::new(
                g.internet_gateway_id().unwrap_or_default(),
                if attached.is_empty() {
                    "detached"
                } else {
                    "attached"
                },
            )
            .attr("vpc", attached.join(","));
            out.extend(obs(ctx, Kind::InternetGateway, g.tags(), live));
        }
        Ok(out)
    }

    fn drift(ctx: &Ctx, _r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
        if let Some(vpc) = ctx.output(&ResourceId::Vpc)
            && live.get("vpc") != vpc.physical_id
        {
            d.push(Drift::new(
                "attached to",
                vpc.physical_id,
                live.get("vpc"),
                true,
            ));
        }
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let out = ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(ctx, ResourceType::InternetGateway, id, &r.name))
            .send()
            .await
            .ctx(EC2, "CreateInternetGateway", id)?;
        let igw = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .unwrap_or_default()
            .to_string();
        let vpc = ctx.vpc_id()?;
        ec2.attach_internet_gateway()
            .internet_gateway_id(&igw)
            .vpc_id(&vpc)
            .send()
            .await
            .ctx(EC2, "AttachInternetGateway", id)?;
        Ok(Live::new(igw, "attached").attr("vpc", vpc))
    }

    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let mut live = live.clone();
        for _ in drifts.iter().filter(|d| d.in_place) {
            // Whatever differs, attaching it to the VPC is the fix.
            let vpc = ctx.vpc_id()?;
            ec2.attach_internet_gateway()
                .internet_gateway_id(&live.physical_id)
                .vpc_id(&vpc)
                .send()
                .await
                .ctx(EC2, "AttachInternetGateway", id)?;
            live = live.attr("vpc", vpc);
        }
        Ok(live)
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        let (later, gone, patience) = (in_use, deleted_or_gone, PATIENCE);
        for vpc in o.live.get("vpc").split(',').filter(|v| !v.is_empty()) {
            gone(
                retry_while(ctx, id, patience, later, || async {
                    ec2.detach_internet_gateway()
                        .internet_gateway_id(pid)
                        .vpc_id(vpc)
                        .send()
                        .await
                        .ctx(EC2, "DetachInternetGateway", id)
                        .map(drop)
                })
                .await,
            )?;
        }
        gone(
            ec2.delete_internet_gateway()
                .internet_gateway_id(pid)
                .send()
                .await
                .ctx(EC2, "DeleteInternetGateway", id)
                .map(drop)
                .map_err(Into::into),
        )
    }
}
