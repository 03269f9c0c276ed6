//! The route tables: the public one routes to the internet gateway, the private one to the
//! NAT gateway (or only locally); each associated with its subnets.

use aws_sdk_ec2::types::ResourceType;
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Payload, Resource, ResourceId};

use super::ec2::{EC2, PATIENCE, deleted_or_gone, in_use, obs, stack_filter, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::retry_while;

pub(crate) struct RouteTable;

impl Handler for RouteTable {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let rtbs = ec2
            .describe_route_tables()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
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
        Ok(out)
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
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
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
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
        Self::update(ctx, r, &live, &drifts).await
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
                "route 0.0.0.0/0" => {
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
                "subnets" => {
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
