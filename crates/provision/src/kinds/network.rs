//! The network: VPC, subnets, internet gateway, elastic IP, NAT gateway, route tables, VPC
//! endpoints and the security group. Every one carries the stack's tags from its creating call
//! (TagSpecifications), so one found after an interrupted `up` is known as the stack's.

use std::time::Duration;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, IpPermission, ResourceType, UserIdGroupPair, VpcEndpointType,
};
use pipectl_aws::ResultExt;
use pipectl_aws::wait::Probe;
use pipectl_spec::graph::{Endpoint, Kind, Payload, Resource, ResourceId};

use super::ec2::{EC2, obs, stack_filter, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::{found, retry_while, wait_for};

pub(crate) async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let ec2 = &ctx.aws.ec2;
    let f = stack_filter(ctx);
    let (vpcs, subnets, igws, eips, nats, rtbs, vpces, sgs) = tokio::join!(
        ec2.describe_vpcs().filters(f.clone()).send(),
        ec2.describe_subnets().filters(f.clone()).send(),
        ec2.describe_internet_gateways().filters(f.clone()).send(),
        ec2.describe_addresses().filters(f.clone()).send(),
        ec2.describe_nat_gateways().filter(f.clone()).send(),
        ec2.describe_route_tables().filters(f.clone()).send(),
        ec2.describe_vpc_endpoints().filters(f.clone()).send(),
        ec2.describe_security_groups().filters(f.clone()).send(),
    );
    let mut out = Vec::new();
    for v in vpcs.ctx(EC2, "DescribeVpcs", "vpc")?.vpcs() {
        let live = Live::new(
            v.vpc_id().unwrap_or_default(),
            v.state().map_or("exists", |s| s.as_str()),
        )
        .attr("cidr", v.cidr_block().unwrap_or_default());
        out.extend(obs(ctx, Kind::Vpc, v.tags(), live));
    }
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
    for t in rtbs
        .ctx(EC2, "DescribeRouteTables", "route tables")?
        .route_tables()
    {
        let routes: Vec<String> = t
            .routes()
            .iter()
            .filter(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .map(|r| {
                r.gateway_id()
                    .or(r.nat_gateway_id())
                    .unwrap_or("?")
                    .to_string()
            })
            .collect();
        let mut subnets: Vec<&str> = t
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id())
            .collect();
        subnets.sort_unstable();
        let assoc: Vec<&str> = t
            .associations()
            .iter()
            .filter(|a| a.main() != Some(true))
            .filter_map(|a| a.route_table_association_id())
            .collect();
        let live = Live::new(t.route_table_id().unwrap_or_default(), "exists")
            .attr("default-route", routes.join(","))
            .attr("subnets", subnets.join(","))
            .attr("associations", assoc.join(","));
        out.extend(obs(ctx, Kind::RouteTable, t.tags(), live));
    }
    for e in vpces
        .ctx(EC2, "DescribeVpcEndpoints", "VPC endpoints")?
        .vpc_endpoints()
    {
        let state = e.state().map_or("unknown", |s| s.as_str());
        if matches!(state.to_ascii_lowercase().as_str(), "deleted") {
            continue;
        }
        let live = Live::new(e.vpc_endpoint_id().unwrap_or_default(), state)
            .attr("service", e.service_name().unwrap_or_default());
        out.extend(obs(ctx, Kind::VpcEndpoint, e.tags(), live));
    }
    for g in sgs
        .ctx(EC2, "DescribeSecurityGroups", "security group")?
        .security_groups()
    {
        let id = g.group_id().unwrap_or_default();
        let self_in = g.ip_permissions().iter().any(|p| {
            p.ip_protocol() == Some("-1")
                && p.user_id_group_pairs()
                    .iter()
                    .any(|u| u.group_id() == Some(id))
        });
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
            .attr("open-inbound", open_in.to_string())
            .attr("vpc", g.vpc_id().unwrap_or_default());
        out.extend(obs(ctx, Kind::SecurityGroup, g.tags(), live));
    }
    Ok(out)
}

pub(crate) fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
    let mut d = Vec::new();
    match r.kind {
        Kind::Vpc | Kind::Subnet => d.extend(placement_drift(&r.payload, live)),
        Kind::InternetGateway => {
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
        }
        Kind::NatGateway if live.state == "failed" => {
            d.push(Drift::new("state", "available", "failed", false))
        }
        Kind::RouteTable => {
            if let Some(want) = want_default_route(ctx, r)
                && live.get("default-route") != want
            {
                d.push(Drift::new(
                    "route 0.0.0.0/0",
                    want,
                    live.get("default-route"),
                    true,
                ));
            }
            if let Ok(mut want) = want_subnets(ctx, r) {
                want.sort_unstable();
                if live.get("subnets") != want.join(",") {
                    d.push(Drift::new(
                        "subnets",
                        want.join(","),
                        live.get("subnets"),
                        true,
                    ));
                }
            }
        }
        Kind::SecurityGroup => {
            if live.get("self-inbound") != "true" {
                d.push(Drift::new(
                    "inbound from itself",
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
        }
        _ => {}
    }
    d
}

/// A VPC's or subnet's CIDR block and zone (a subnet's only) against AWS's: neither changes
/// in place.
fn placement_drift(payload: &Payload, live: &Live) -> Vec<Drift> {
    let mut d = Vec::new();
    let (cidr, zone) = match payload {
        Payload::Vpc { cidr } => (cidr, None),
        Payload::Subnet { cidr, zone } => (cidr, Some(zone)),
        _ => return d,
    };
    if live.get("cidr") != cidr {
        d.push(Drift::new("cidr", cidr, live.get("cidr"), false));
    }
    if let Some(zone) = zone
        && live.get("zone") != zone
    {
        d.push(Drift::new("zone", zone, live.get("zone"), false));
    }
    d
}

/// The gateway the route table's default route should point at (`None`: not known yet;
/// empty: no default route).
fn want_default_route(ctx: &Ctx, r: &Resource) -> Option<String> {
    match &r.payload {
        Payload::RouteTable {
            default_route: Some(via),
            ..
        } => ctx.output(via).map(|l| l.physical_id),
        _ => Some(String::new()),
    }
}

/// Whether the route table's default route goes through the NAT gateway (else the internet
/// gateway).
fn routes_via_nat(r: &Resource) -> bool {
    matches!(
        &r.payload,
        Payload::RouteTable {
            default_route: Some(ResourceId::NatGateway),
            ..
        }
    )
}

fn want_subnets(ctx: &Ctx, r: &Resource) -> Result<Vec<String>, ProvisionError> {
    let Payload::RouteTable { subnets, .. } = &r.payload else {
        return Ok(Vec::new());
    };
    subnets
        .iter()
        .map(|d| ctx.dep(d).map(|l| l.physical_id))
        .collect()
}

pub(crate) async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
    let ec2 = &ctx.aws.ec2;
    let id: &str = &r.id.to_string();
    match r.kind {
        Kind::Vpc => {
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
        Kind::Subnet => {
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
        Kind::InternetGateway => {
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
        Kind::ElasticIp => {
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
        Kind::NatGateway => {
            let subnet = ctx.dep(&ResourceId::PublicSubnet)?.physical_id;
            let eip = ctx.dep(&ResourceId::NatEip)?.physical_id;
            let req = ec2
                .create_nat_gateway()
                .subnet_id(&subnet)
                .allocation_id(eip)
                .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, id, &r.name));
            let token = ctx.client_token(id, req.as_input());
            let out = req
                .client_token(token)
                .send()
                .await
                .ctx(EC2, "CreateNatGateway", id)?;
            let nat = out
                .nat_gateway()
                .and_then(|n| n.nat_gateway_id())
                .unwrap_or_default()
                .to_string();
            wait_nat(ctx, id, &nat, "available").await?;
            Ok(Live::new(nat, "available").attr("subnet", subnet))
        }
        Kind::RouteTable => {
            let out = ec2
                .create_route_table()
                .vpc_id(ctx.vpc_id()?)
                .tag_specifications(tag_spec(ctx, ResourceType::RouteTable, id, &r.name))
                .send()
                .await
                .ctx(EC2, "CreateRouteTable", id)?;
            let rtb = out
                .route_table()
                .and_then(|t| t.route_table_id())
                .unwrap_or_default()
                .to_string();
            let live = Live::new(rtb, "exists");
            let drifts = vec![
                Drift::new("route 0.0.0.0/0", "", "", true),
                Drift::new("subnets", "", "", true),
            ];
            update(ctx, r, &live, &drifts).await
        }
        Kind::VpcEndpoint => {
            let Payload::VpcEndpoint { endpoint, service } = &r.payload else {
                unreachable!("a VPC endpoint's payload")
            };
            let mut req = ec2
                .create_vpc_endpoint()
                .vpc_id(ctx.vpc_id()?)
                .service_name(service)
                .tag_specifications(tag_spec(ctx, ResourceType::VpcEndpoint, id, &r.name));
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
            .attr("service", service))
        }
        Kind::SecurityGroup => {
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
            update(
                ctx,
                r,
                &live,
                &[Drift::new("inbound from itself", "", "", true)],
            )
            .await
        }
        _ => unreachable!("not a network kind: {:?}", r.kind),
    }
}

pub(crate) async fn update(
    ctx: &Ctx,
    r: &Resource,
    live: &Live,
    drifts: &[Drift],
) -> Result<Live, ProvisionError> {
    let ec2 = &ctx.aws.ec2;
    let id: &str = &r.id.to_string();
    let mut live = live.clone();
    for d in drifts.iter().filter(|d| d.in_place) {
        match (r.kind, d.what.as_str()) {
            (Kind::InternetGateway, _) => {
                let vpc = ctx.vpc_id()?;
                ec2.attach_internet_gateway()
                    .internet_gateway_id(&live.physical_id)
                    .vpc_id(&vpc)
                    .send()
                    .await
                    .ctx(EC2, "AttachInternetGateway", id)?;
                live = live.attr("vpc", vpc);
            }
            (Kind::RouteTable, "route 0.0.0.0/0") => {
                let Some(target) = want_default_route(ctx, r).filter(|t| !t.is_empty()) else {
                    continue;
                };
                let mut req = ec2
                    .create_route()
                    .route_table_id(&live.physical_id)
                    .destination_cidr_block("0.0.0.0/0");
                req = if routes_via_nat(r) {
                    req.nat_gateway_id(&target)
                } else {
                    req.gateway_id(&target)
                };
                if live.get("default-route").is_empty() {
                    req.send().await.ctx(EC2, "CreateRoute", id)?;
                } else {
                    let mut rep = ec2
                        .replace_route()
                        .route_table_id(&live.physical_id)
                        .destination_cidr_block("0.0.0.0/0");
                    rep = if routes_via_nat(r) {
                        rep.nat_gateway_id(&target)
                    } else {
                        rep.gateway_id(&target)
                    };
                    rep.send().await.ctx(EC2, "ReplaceRoute", id)?;
                }
                live = live.attr("default-route", target);
            }
            (Kind::RouteTable, "subnets") => {
                let mut want = want_subnets(ctx, r)?;
                let have: Vec<&str> = live
                    .get("subnets")
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .collect();
                for s in want.iter().filter(|s| !have.contains(&s.as_str())) {
                    ec2.associate_route_table()
                        .route_table_id(&live.physical_id)
                        .subnet_id(s)
                        .send()
                        .await
                        .ctx(EC2, "AssociateRouteTable", id)?;
                }
                want.sort_unstable();
                live = live.attr("subnets", want.join(","));
            }
            (Kind::SecurityGroup, "inbound from itself") => {
                ec2.authorize_security_group_ingress()
                    .group_id(&live.physical_id)
                    .ip_permissions(
                        IpPermission::builder()
                            .ip_protocol("-1")
                            .user_id_group_pairs(
                                UserIdGroupPair::builder()
                                    .group_id(&live.physical_id)
                                    .description(
                                        "EFA, Lustre and multi-node traffic within the group",
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .send()
                    .await
                    .ctx(EC2, "AuthorizeSecurityGroupIngress", id)?;
                live = live.attr("self-inbound", "true");
            }
            (Kind::SecurityGroup, "inbound from the internet") => {
                revoke_open_ingress(ctx, id, &live.physical_id).await?;
                live = live.attr("open-inbound", "false");
            }
            _ => {}
        }
    }
    Ok(live)
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

/// Waits until a NAT gateway found deleting is gone.
pub(crate) async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
    wait_nat(ctx, &r.id.to_string(), &live.physical_id, "deleted").await
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

/// Waits for a NAT gateway found `pending` (an interrupted `up`).
pub(crate) async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
    if r.kind == Kind::NatGateway && live.state == "pending" {
        wait_nat(ctx, &r.id.to_string(), &live.physical_id, "available").await?;
        return Ok(Live {
            state: "available".into(),
            ..live.clone()
        });
    }
    Ok(live.clone())
}

/// Deletes; resources whose dependents vanish asynchronously (ENIs of FSx, NAT, endpoints)
/// are retried on `DependencyViolation` for a while.
pub(crate) async fn delete(ctx: &Ctx, o: &Observed) -> Result<(), ProvisionError> {
    let ec2 = &ctx.aws.ec2;
    let id = o.logical.as_str();
    let pid = o.live.physical_id.as_str();
    let later = |e: &pipectl_aws::AwsError| {
        matches!(
            e.code.as_deref(),
            Some(
                "DependencyViolation"
                    | "InvalidIPAddress.InUse"
                    | "AuthFailure.AddressInUse"
                    | "InvalidAddress.Locked"
            )
        )
    };
    let patience = Duration::from_secs(600);
    let gone = |r: Result<(), ProvisionError>| match r {
        Err(ProvisionError::Aws(e)) if e.is_not_found() => Ok(()),
        other => other,
    };
    // AWS refuses these with DependencyViolation while network interfaces remain, and removes
    // those of NAT gateways, endpoints and file systems only some time after they are deleted.
    match o.kind {
        Kind::Vpc => wait_interfaces_gone(ctx, id, "vpc-id", pid).await?,
        Kind::Subnet => wait_interfaces_gone(ctx, id, "subnet-id", pid).await?,
        Kind::SecurityGroup => wait_interfaces_gone(ctx, id, "group-id", pid).await?,
        _ => {}
    }
    match o.kind {
        Kind::Vpc => gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.delete_vpc()
                    .vpc_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "DeleteVpc", id)
                    .map(drop)
            })
            .await,
        ),
        Kind::Subnet => gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.delete_subnet()
                    .subnet_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "DeleteSubnet", id)
                    .map(drop)
            })
            .await,
        ),
        Kind::InternetGateway => {
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
        Kind::ElasticIp => gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.release_address()
                    .allocation_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "ReleaseAddress", id)
                    .map(drop)
            })
            .await,
        ),
        Kind::NatGateway => {
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
        Kind::RouteTable => {
            for a in o
                .live
                .get("associations")
                .split(',')
                .filter(|a| !a.is_empty())
            {
                gone(
                    ec2.disassociate_route_table()
                        .association_id(a)
                        .send()
                        .await
                        .ctx(EC2, "DisassociateRouteTable", id)
                        .map(drop)
                        .map_err(Into::into),
                )?;
            }
            gone(
                retry_while(ctx, id, patience, later, || async {
                    ec2.delete_route_table()
                        .route_table_id(pid)
                        .send()
                        .await
                        .ctx(EC2, "DeleteRouteTable", id)
                        .map(drop)
                })
                .await,
            )
        }
        Kind::VpcEndpoint => {
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
        Kind::SecurityGroup => gone(
            retry_while(ctx, id, patience, later, || async {
                ec2.delete_security_group()
                    .group_id(pid)
                    .send()
                    .await
                    .ctx(EC2, "DeleteSecurityGroup", id)
                    .map(drop)
            })
            .await,
        ),
        _ => unreachable!("not a network kind: {:?}", o.kind),
    }
}

/// Waits until no network interface is left in a VPC, subnet or security group (`filter` is
/// `vpc-id`, `subnet-id` or `group-id`), naming each one still there and who owns it.
async fn wait_interfaces_gone(
    ctx: &Ctx,
    id: &str,
    filter: &str,
    value: &str,
) -> Result<(), ProvisionError> {
    wait_for(ctx, id, ctx.timeouts.other, || async {
        let out = ctx
            .aws
            .ec2
            .describe_network_interfaces()
            .filters(Filter::builder().name(filter).values(value).build())
            .send()
            .await
            .ctx(EC2, "DescribeNetworkInterfaces", id)?;
        let left: Vec<String> = out
            .network_interfaces()
            .iter()
            .map(|n| {
                let owner = match (n.interface_type(), n.requester_managed()) {
                    (Some(t), Some(true)) => format!("{}, managed by AWS", t.as_str()),
                    (Some(t), _) => t.as_str().to_string(),
                    (None, _) => "interface".to_string(),
                };
                format!(
                    "{} ({owner}: {})",
                    n.network_interface_id().unwrap_or("?"),
                    n.description().unwrap_or("no description")
                )
            })
            .collect();
        Ok(if left.is_empty() {
            Probe::Done(())
        } else {
            Probe::Pending(format!(
                "network interfaces still there: {}",
                left.join("; ")
            ))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(cidr: &str, zone: &str) -> Live {
        Live::new("x", "available")
            .attr("cidr", cidr)
            .attr("zone", zone)
    }

    #[test]
    fn a_subnet_drifts_in_cidr_and_zone_never_in_place() {
        let want = Payload::Subnet {
            cidr: "10.0.0.0/20".into(),
            zone: "us-east-1a".into(),
        };
        assert!(placement_drift(&want, &live("10.0.0.0/20", "us-east-1a")).is_empty());
        let d = placement_drift(&want, &live("10.0.16.0/20", "us-east-1b"));
        assert_eq!(
            d,
            vec![
                Drift::new("cidr", "10.0.0.0/20", "10.0.16.0/20", false),
                Drift::new("zone", "us-east-1a", "us-east-1b", false),
            ]
        );
    }

    #[test]
    fn a_vpc_drifts_in_cidr_only() {
        let want = Payload::Vpc {
            cidr: "10.40.0.0/16".into(),
        };
        assert!(placement_drift(&want, &live("10.40.0.0/16", "anything")).is_empty());
        assert_eq!(
            placement_drift(&want, &live("10.41.0.0/16", "")),
            vec![Drift::new("cidr", "10.40.0.0/16", "10.41.0.0/16", false)]
        );
    }
}

pub(crate) struct Network;

impl Handler for Network {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        observe(ctx).await
    }
    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        drift(ctx, r, live)
    }
    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        create(ctx, r).await
    }
    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        update(ctx, r, live, drifts).await
    }
    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        delete(ctx, o).await
    }
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        settle(ctx, r, live).await
    }
}
