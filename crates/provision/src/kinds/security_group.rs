//! The security group of the stack: all traffic from itself and to itself (EFA's OS-bypass
//! traffic matches no CIDR rule: "a security group that allows all inbound and outbound
//! traffic to and from the security group itself", EC2 user guide, EFA), nothing from the
//! internet, all outbound.

use aws_sdk_ec2::types::{IpPermission, ResourceType, UserIdGroupPair};
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource};

use super::ec2::{
    EC2, PATIENCE, deleted_or_gone, in_use, obs, stack_filter, tag_spec, wait_interfaces_gone,
};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::retry_while;

pub(crate) struct SecurityGroup;

impl Handler for SecurityGroup {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let sgs = ec2
            .describe_security_groups()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        for g in sgs
            .ctx(EC2, "DescribeSecurityGroups", "security group")?
            .security_groups()
        {
            let id = g.group_id().unwrap_or_default();
            let to_itself = |p: &IpPermission| {
                p.ip_protocol() == Some("-1")
                    && p.user_id_group_pairs()
                        .iter()
                        .any(|u| u.group_id() == Some(id))
            };
            let self_in = g.ip_permissions().iter().any(to_itself);
            let self_out = g.ip_permissions_egress().iter().any(to_itself);
            let open_in = g.ip_permissions().iter().any(|p| {
                p.ip_ranges()
                    .iter()
                    .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
                    || p.ipv6_ranges()
                        .iter()
                        .any(|r| r.cidr_ipv6() == Some("::/0"))
            });
            let live = Live::new(id, "exists")
                .attr("self-inbound", self_in.to_string())
                .attr("self-outbound", self_out.to_string())
                .attr("open-inbound", open_in.to_string())
                .attr("vpc", g.vpc_id().unwrap_or_default());
            out.extend(obs(ctx, Kind::SecurityGroup, g.tags(), live));
        }
        Ok(out)
    }

    fn drift(_ctx: &Ctx, _r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
        if live.get("self-inbound") != "true" {
            d.push(Drift::new(
                "inbound from itself",
                "all traffic",
                "missing",
                true,
            ));
        }
        if live.get("self-outbound") != "true" {
            d.push(Drift::new(
                "outbound to itself",
                "all traffic",
                "missing",
                true,
            ));
        }
        if live.get("open-inbound") == "true" {
            d.push(Drift::new(
                "inbound from the internet",
                "none",
                "0.0.0.0/0 allowed",
                true,
            ));
        }
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let out = ec2
            .create_security_group()
            .group_name(&r.name)
            .description(format!(
                "pipectl {}: Batch instances and FSx; traffic only from this group",
                ctx.stack
            ))
            .vpc_id(ctx.vpc_id()?)
            .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroup, id, &r.name))
            .send()
            .await
            .ctx(EC2, "CreateSecurityGroup", id)?;
        let live = Live::new(out.group_id().unwrap_or_default(), "exists");
        Self::update(
            ctx,
            r,
            &live,
            &[
                Drift::new("inbound from itself", "", "", true),
                Drift::new("outbound to itself", "", "", true),
            ],
        )
        .await
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
        for d in drifts.iter().filter(|d| d.in_place) {
            match d.what.as_str() {
                "inbound from itself" => {
                    ec2.authorize_security_group_ingress()
                        .group_id(&live.physical_id)
                        .ip_permissions(all_traffic_with(&live.physical_id))
                        .send()
                        .await
                        .ctx(EC2, "AuthorizeSecurityGroupIngress", id)?;
                    live = live.attr("self-inbound", "true");
                }
                "outbound to itself" => {
                    ec2.authorize_security_group_egress()
                        .group_id(&live.physical_id)
                        .ip_permissions(all_traffic_with(&live.physical_id))
                        .send()
                        .await
                        .ctx(EC2, "AuthorizeSecurityGroupEgress", id)?;
                    live = live.attr("self-outbound", "true");
                }
                "inbound from the internet" => {
                    revoke_open_ingress(ctx, id, &live.physical_id).await?;
                    live = live.attr("open-inbound", "false");
                }
                _ => {}
            }
        }
        Ok(live)
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        let (later, gone, patience) = (in_use, deleted_or_gone, PATIENCE);
        wait_interfaces_gone(ctx, id, "group-id", pid).await?;
        gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.delete_security_group()
                    .group_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "DeleteSecurityGroup", id)
                    .map(drop)
            })
            .await,
        )
    }
}

/// All traffic to or from the group itself.
fn all_traffic_with(group: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("-1")
        .user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group)
                .description("EFA, Lustre and multi-node traffic within the group")
                .build(),
        )
        .build()
}

async fn revoke_open_ingress(ctx: &Ctx, id: &str, group: &str) -> Result<(), ProvisionError> {
    let ec2 = &ctx.aws.ec2;
    let out = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .ctx(EC2, "DescribeSecurityGroups", id)?;
    for g in out.security_groups() {
        let open: Vec<IpPermission> = g
            .ip_permissions()
            .iter()
            .filter(|p| {
                p.ip_ranges()
                    .iter()
                    .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
                    || p.ipv6_ranges()
                        .iter()
                        .any(|r| r.cidr_ipv6() == Some("::/0"))
            })
            .cloned()
            .collect();
        if !open.is_empty() {
            ec2.revoke_security_group_ingress()
                .group_id(group)
                .set_ip_permissions(Some(open))
                .send()
                .await
                .ctx(EC2, "RevokeSecurityGroupIngress", id)?;
        }
    }
    Ok(())
}
