//! The network's nodes: the VPC, its subnets, gateways, route tables, endpoints, and the
//! security group. With an existing VPC, only what pipectl owns inside it is created.

use crate::model::{Egress, Spec};
use crate::net::{Cidr, SUBNET_BITS};

use super::build::{Builder, node};
use super::{Endpoint, Kind, Payload, ResourceId as Id};

/// The interface endpoints Batch instances and their jobs need when there is no NAT gateway:
/// ECR (API and image layers; layers come from S3 through the gateway endpoint), the ECS agent
/// (ecs, ecs-agent, ecs-telemetry), CloudWatch Logs for job output, CloudWatch for metrics, and
/// STS for the jobs' role credentials.
pub const INTERFACE_ENDPOINTS: &[&str] = &[
    "ecr.api",
    "ecr.dkr",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "logs",
    "monitoring",
    "sts",
];

/// Every interface endpoint of a spec with `egress = "vpc-endpoints"`: the ones above and the
/// spec's `extra_endpoints`.
pub fn interface_endpoints(spec: &Spec) -> Vec<String> {
    let mut all: Vec<String> = INTERFACE_ENDPOINTS
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    for e in &spec.network.extra_endpoints {
        if !all.contains(e) {
            all.push(e.clone());
        }
    }
    all
}

/// The VPC and everything in it but the security group; returns the private subnets.
pub(super) fn vpc(b: &mut Builder) -> Vec<Id> {
    let net = &b.spec.network;
    let Some(cidr) = &net.cidr else {
        return Vec::new();
    };
    let parsed = cidr.parse::<Cidr>().ok();
    b.add(
        node(Id::Vpc, Kind::Vpc, b.prefixed("vpc"))
            .show(vec![("cidr", cidr.clone()), ("dns hostnames", "on".into())])
            .payload(Payload::Vpc { cidr: cidr.clone() }),
    );
    let carve = |i: usize| {
        parsed
            .and_then(|v| v.subnet(v.prefix + SUBNET_BITS, i as u32))
            .map_or("?".into(), |c| c.to_string())
    };
    let mut subnets = Vec::new();
    for (i, az) in net.availability_zones.iter().enumerate() {
        let id = Id::PrivateSubnet(az.clone());
        let cidr = carve(i);
        b.add(
            node(
                id.clone(),
                Kind::Subnet,
                b.prefixed(&format!("private-{az}")),
            )
            .after([Id::Vpc])
            .show(vec![
                ("zone", az.clone()),
                ("cidr", cidr.clone()),
                ("public IPs", "off".into()),
            ])
            .payload(Payload::Subnet {
                cidr,
                zone: az.clone(),
            }),
        );
        subnets.push(id);
    }
    let public_cidr = carve(net.availability_zones.len());
    match net.egress {
        Egress::NatGateway => nat_gateway(b, &subnets, public_cidr),
        Egress::VpcEndpoints => {
            private_route_table(b, &subnets, None, "local only");
            endpoints(b, &subnets);
        }
        Egress::None => private_route_table(b, &subnets, None, "local only"),
    }
    subnets
}

/// The private subnets' route table.
fn private_route_table(b: &mut Builder, subnets: &[Id], via: Option<Id>, routes: &str) {
    let mut deps = vec![Id::Vpc];
    deps.extend(subnets.iter().cloned());
    deps.extend(via.clone());
    b.add(
        node(
            Id::PrivateRouteTable,
            Kind::RouteTable,
            b.prefixed("private"),
        )
        .after(deps)
        .show(vec![("routes", routes.into())])
        .payload(Payload::RouteTable {
            default_route: via,
            subnets: subnets.to_vec(),
        }),
    );
}

/// Egress through a NAT gateway in a public subnet of the first zone.
fn nat_gateway(b: &mut Builder, subnets: &[Id], public_cidr: String) {
    let az = b
        .spec
        .network
        .availability_zones
        .first()
        .cloned()
        .unwrap_or_default();
    b.add(
        node(
            Id::InternetGateway,
            Kind::InternetGateway,
            b.prefixed("igw"),
        )
        .after([Id::Vpc]),
    );
    b.add(
        node(Id::PublicSubnet, Kind::Subnet, b.prefixed("public"))
            .after([Id::Vpc])
            .show(vec![
                ("zone", az.clone()),
                ("cidr", public_cidr.clone()),
                ("use", "NAT gateway only".into()),
            ])
            .payload(Payload::Subnet {
                cidr: public_cidr,
                zone: az,
            }),
    );
    b.add(
        node(Id::PublicRouteTable, Kind::RouteTable, b.prefixed("public"))
            .after([Id::Vpc, Id::InternetGateway, Id::PublicSubnet])
            .show(vec![("routes", "0.0.0.0/0 → internet gateway".into())])
            .payload(Payload::RouteTable {
                default_route: Some(Id::InternetGateway),
                subnets: vec![Id::PublicSubnet],
            }),
    );
    b.add(node(Id::NatEip, Kind::ElasticIp, b.prefixed("nat")));
    b.add(
        node(Id::NatGateway, Kind::NatGateway, b.prefixed("nat")).after([
            Id::PublicSubnet,
            Id::NatEip,
            Id::PublicRouteTable,
        ]),
    );
    private_route_table(b, subnets, Some(Id::NatGateway), "0.0.0.0/0 → NAT gateway");
}

/// Egress through VPC endpoints: S3's gateway and the interface endpoints.
fn endpoints(b: &mut Builder, subnets: &[Id]) {
    let region = b.spec.stack.region.clone();
    let service = format!("com.amazonaws.{region}.s3");
    b.add(
        node(Id::S3Endpoint, Kind::VpcEndpoint, b.prefixed("s3"))
            .after([Id::Vpc, Id::PrivateRouteTable])
            .show(vec![
                ("type", "gateway".into()),
                ("service", service.clone()),
            ])
            .payload(Payload::VpcEndpoint {
                endpoint: Endpoint::Gateway,
                service,
            }),
    );
    let mut deps = vec![Id::Vpc, Id::SecurityGroup];
    deps.extend(subnets.iter().cloned());
    for svc in &interface_endpoints(b.spec) {
        let service = format!("com.amazonaws.{region}.{svc}");
        b.add(
            node(
                Id::InterfaceEndpoint(svc.clone()),
                Kind::VpcEndpoint,
                b.prefixed(svc),
            )
            .after(deps.clone())
            .show(vec![
                ("type", "interface".into()),
                ("service", service.clone()),
                ("private DNS", "on".into()),
            ])
            .payload(Payload::VpcEndpoint {
                endpoint: Endpoint::Interface,
                service,
            }),
        );
    }
}

/// The security group every instance, file system and endpoint of the stack is in.
pub(super) fn security_group(b: &mut Builder) {
    let vpc = b.spec.network.cidr.is_some().then_some(Id::Vpc);
    b.add(
        node(Id::SecurityGroup, Kind::SecurityGroup, b.prefixed("batch"))
            .after(vpc)
            .show(vec![
                (
                    "inbound",
                    "all traffic from this group only (EFA, Lustre, MNP)".into(),
                ),
                ("outbound", "all".into()),
            ]),
    );
}
