//! The NAT gateway that gives the private subnets egress; a failed one must be replaced.

use aws_sdk_ec2::types::ResourceType;
use pipectl_aws::ResultExt;
use pipectl_aws::wait::Probe;
use pipectl_spec::graph::{Kind, Resource, ResourceId};

use super::ec2::{EC2, deleted_or_gone, obs, stack_filter, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::{found, retry_while, wait_for};

pub(crate) struct NatGateway;

/// How long `up` waits for the stack's Elastic IP to leave a deleted NAT gateway.
const EIP_RELEASE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// CreateNatGateway's refusal while the address is still associated (EC2's
/// `Resource.AlreadyAssociated`): it passes once the old gateway lets it go.
fn still_associated(e: &pipectl_aws::AwsError) -> bool {
    e.code.as_deref() == Some("Resource.AlreadyAssociated")
}

impl Handler for NatGateway {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let nats = ec2
            .describe_nat_gateways()
            .filter(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        for n in nats
            .ctx(EC2, "DescribeNatGateways", "NAT gateway")?
            .nat_gateways()
        {
            let state = n.state().map_or("unknown", |s| s.as_str());
            if matches!(state, "deleted") {
                continue;
            }
            let live = Live::new(n.nat_gateway_id().unwrap_or_default(), state)
                .attr("subnet", n.subnet_id().unwrap_or_default());
            out.extend(obs(ctx, Kind::NatGateway, n.tags(), live));
        }
        Ok(out)
    }

    fn drift(_ctx: &Ctx, _r: &Resource, live: &Live) -> Vec<Drift> {
        if live.state == "failed" {
            vec![Drift::new("state", "available", "failed", false)]
        } else {
            vec![]
        }
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let subnet = ctx.dep(&ResourceId::PublicSubnet)?.physical_id;
        let eip = ctx.dep(&ResourceId::NatEip)?.physical_id;
        let req = ec2
            .create_nat_gateway()
            .subnet_id(&subnet)
            .allocation_id(eip)
            .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, id, &r.name));
        let token = ctx.client_token(id, req.as_input());
        let req = req.client_token(token);
        // "Deleting a public NAT gateway disassociates its Elastic IP address, but does not
        // release the address" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteNatGateway.html):
        // after a `down` stopped between the two, the stack's address may still be associated
        // with the old gateway for a while; CreateNatGateway refuses it meanwhile.
        let out = retry_while(ctx, id, EIP_RELEASE_PATIENCE, still_associated, || {
            let req = req.clone();
            async move { req.send().await.ctx(EC2, "CreateNatGateway", id) }
        })
        .await?;
        let nat = out
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .unwrap_or_default()
            .to_string();
        wait_nat(ctx, id, &nat, "available").await?;
        Ok(Live::new(nat, "available").attr("subnet", subnet))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        let gone = deleted_or_gone;
        if o.live.state != "deleting" {
            gone(
                ec2.delete_nat_gateway()
                    .nat_gateway_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "DeleteNatGateway", id)
                    .map(drop)
                    .map_err(Into::into),
            )?;
        }
        wait_nat(ctx, id, pid, "deleted").await
    }

    fn unsettled(live: &Live) -> bool {
        live.state == "pending"
    }

    fn leaving(live: &Live) -> bool {
        live.state == "deleting"
    }

    /// Waits until a NAT gateway found deleting is gone.
    async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
        wait_nat(ctx, &r.id.to_string(), &live.physical_id, "deleted").await
    }

    /// Waits for a NAT gateway found `pending` (an interrupted `up`).
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        if live.state == "pending" {
            wait_nat(ctx, &r.id.to_string(), &live.physical_id, "available").await?;
            return Ok(Live {
                state: "available".into(),
                ..live.clone()
            });
        }
        Ok(live.clone())
    }
}

async fn wait_nat(
    ctx: &Ctx,
    id: &str,
    nat: &str,
    until: &'static str,
) -> Result<(), ProvisionError> {
    wait_for(ctx, id, ctx.timeouts.other, || async {
        let out = ctx
            .aws
            .ec2
            .describe_nat_gateways()
            .nat_gateway_ids(nat)
            .send()
            .await
            .ctx(EC2, "DescribeNatGateways", id);
        let out = match found(out)? {
            Some(o) => o,
            None if until == "deleted" => return Ok(Probe::Done(())),
            None => return Ok(Probe::Pending("not visible yet".into())),
        };
        let state = out
            .nat_gateways()
            .first()
            .and_then(|n| n.state())
            .map_or("deleted", |s| s.as_str())
            .to_string();
        let reason = out
            .nat_gateways()
            .first()
            .and_then(|n| n.failure_message())
            .unwrap_or("")
            .to_string();
        Ok(match state.as_str() {
            s if s == until => Probe::Done(()),
            "failed" => Probe::Failed(format!("failed: {reason}")),
            other => Probe::Pending(other.to_string()),
        })
    })
    .await
}
