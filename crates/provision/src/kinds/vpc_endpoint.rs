//! The VPC endpoints that replace a NAT gateway: S3's gateway endpoint on the private route
//! table, and interface endpoints with private DNS in the private subnets; each with a policy
//! limited to the stack where the service takes one (`crate::policies`: S3 to the stack's
//! buckets, image layers and packages; ECR to the phases' repositories; Logs to the stack's
//! log group).

use aws_sdk_ec2::types::{ResourceType, VpcEndpointType};
use pipectl_aws::ResultExt;
use pipectl_aws::wait::Probe;
use pipectl_spec::graph::{Endpoint, Kind, Payload, Resource, ResourceId};

use super::ec2::{EC2, deleted_or_gone, obs, stack_filter, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::{found, wait_for};

pub(crate) struct VpcEndpoint;

impl Handler for VpcEndpoint {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let vpces = ec2
            .describe_vpc_endpoints()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        for e in vpces
            .ctx(EC2, "DescribeVpcEndpoints", "VPC endpoints")?
            .vpc_endpoints()
        {
            let state = e.state().map_or("unknown", |s| s.as_str());
            if matches!(state.to_ascii_lowercase().as_str(), "deleted") {
                continue;
            }
            // the policy as a document (EC2 answers it as text, its spacing its own)
            let policy = e
                .policy_document()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
                .map(|p| p.to_string())
                .unwrap_or_default();
            let live = Live::new(e.vpc_endpoint_id().unwrap_or_default(), state)
                .attr("service", e.service_name().unwrap_or_default())
                .attr("policy", policy);
            out.extend(obs(ctx, Kind::VpcEndpoint, e.tags(), live));
        }
        Ok(out)
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        match endpoint_policy(ctx, r) {
            Some(want) if live.get("policy") != want => vec![Drift::new(
                "endpoint policy",
                "limited to the stack",
                if live.get("policy").is_empty() {
                    "none"
                } else {
                    "another"
                },
                true,
            )],
            _ => Vec::new(),
        }
    }

    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        _drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        let id: &str = &r.id.to_string();
        let mut live = live.clone();
        if let Some(want) = endpoint_policy(ctx, r) {
            ctx.aws
                .ec2
                .modify_vpc_endpoint()
                .vpc_endpoint_id(&live.physical_id)
                .policy_document(&want)
                .send()
                .await
                .ctx(EC2, "ModifyVpcEndpoint", id)?;
            live = live.attr("policy", want);
        }
        Ok(live)
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let Payload::VpcEndpoint { endpoint, service } = &r.payload else {
            unreachable!("a VPC endpoint's payload")
        };
        let mut req = ec2
            .create_vpc_endpoint()
            .vpc_id(ctx.vpc_id()?)
            .service_name(service)
            .tag_specifications(tag_spec(ctx, ResourceType::VpcEndpoint, id, &r.name));
        let policy = endpoint_policy(ctx, r);
        req = req.set_policy_document(policy.clone());
        if *endpoint == Endpoint::Gateway {
            req = req
                .vpc_endpoint_type(VpcEndpointType::Gateway)
                .route_table_ids(ctx.dep(&ResourceId::PrivateRouteTable)?.physical_id);
        } else {
            let zones = ctx.spec.network.availability_zones.clone();
            req = req
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .set_subnet_ids(Some(ctx.subnets_for(&zones)?))
                .security_group_ids(ctx.dep(&ResourceId::SecurityGroup)?.physical_id)
                .private_dns_enabled(true);
        }
        let token = ctx.client_token(id, req.as_input());
        let out = req
            .client_token(token)
            .send()
            .await
            .ctx(EC2, "CreateVpcEndpoint", id)?;
        let e = out.vpc_endpoint();
        Ok(Live::new(
            e.and_then(|e| e.vpc_endpoint_id()).unwrap_or_default(),
            e.and_then(|e| e.state()).map_or("pending", |s| s.as_str()),
        )
        .attr("service", service)
        .attr("policy", policy.unwrap_or_default()))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        let gone = deleted_or_gone;
        gone(
            ec2.delete_vpc_endpoints()
                .vpc_endpoint_ids(pid)
                .send()
                .await
                .ctx(EC2, "DeleteVpcEndpoints", id)
                .map(drop)
                .map_err(Into::into),
        )?;
        wait_for(ctx, id, ctx.timeouts.other, || async {
            let out = found(
                ec2.describe_vpc_endpoints()
                    .vpc_endpoint_ids(pid)
                    .send()
                    .await
                    .ctx(EC2, "DescribeVpcEndpoints", id),
            )?;
            let state = out
                .as_ref()
                .and_then(|o| o.vpc_endpoints().first())
                .and_then(|e| e.state())
                .map(|s| s.as_str().to_ascii_lowercase());
            Ok(match state.as_deref() {
                None | Some("deleted") => Probe::Done(()),
                Some(s) => Probe::Pending(s.to_string()),
            })
        })
        .await
    }
}

/// The policy the endpoint must carry (compact JSON): S3's gateway endpoint's, or an
/// interface endpoint's where pipectl sets one; `None` keeps the default policy.
fn endpoint_policy(ctx: &Ctx, r: &Resource) -> Option<String> {
    use crate::policies::{interface_endpoint_policy, s3_endpoint_policy};
    match &r.id {
        ResourceId::S3Endpoint => Some(s3_endpoint_policy(&ctx.spec, &ctx.account).to_string()),
        ResourceId::InterfaceEndpoint(svc) => {
            interface_endpoint_policy(&ctx.spec, &ctx.account, svc).map(|p| p.to_string())
        }
        _ => None,
    }
}
