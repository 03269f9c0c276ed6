//! What the EC2 kinds share: the stack's tags on creation (TagSpecifications), the listing
//! filter by the stack's tag, and reading tags back.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use pipectl_aws::wait::Probe;
use pipectl_aws::{AwsError, ResultExt};
use pipectl_spec::graph::Kind;
use pipectl_spec::graph::Payload;
use std::time::Duration;

use super::Observed;
use crate::ctx::{Ctx, Drift, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::wait::wait_for;

pub(super) const EC2: &str = "ec2";

pub(super) fn tag_spec(ctx: &Ctx, rt: ResourceType, logical: &str, name: &str) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt);
    for (k, v) in ctx.tags(logical, name) {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

pub(super) fn stack_filter(ctx: &Ctx) -> Filter {
    Filter::builder()
        .name(format!("tag:{TAG_STACK}"))
        .values(&ctx.stack)
        .build()
}

pub(super) fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The stack's own: the listing filters by tag, and the tags are checked again here because
/// not every implementation of the EC2 API honours every filter.
pub(super) fn obs(ctx: &Ctx, kind: Kind, tags: &[Tag], live: Live) -> Option<Observed> {
    if tag(tags, TAG_STACK) != Some(ctx.stack.as_str()) {
        return None;
    }
    tag(tags, TAG_RESOURCE).map(|l| Observed {
        kind,
        logical: l.to_string(),
        live,
    })
}

/// How long a deletion AWS refuses for a dependency still going away is repeated.
pub(super) const PATIENCE: Duration = Duration::from_secs(600);

/// Refusals that pass once the resources' dependents are gone: network interfaces of NAT
/// gateways, endpoints and file systems vanish only some time after those are deleted.
pub(super) fn in_use(e: &AwsError) -> bool {
    matches!(
        e.code.as_deref(),
        Some(
            "DependencyViolation"
                | "InvalidIPAddress.InUse"
                | "AuthFailure.AddressInUse"
                | "InvalidAddress.Locked"
        )
    )
}

/// A deletion that met "not found": done.
pub(super) fn deleted_or_gone(r: Result<(), ProvisionError>) -> Result<(), ProvisionError> {
    match r {
        Err(ProvisionError::Aws(e)) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// A VPC's or subnet's CIDR block and zone (a subnet's only) against AWS's: neither changes
/// in place.
pub(super) fn placement_drift(payload: &Payload, live: &Live) -> Vec<Drift> {
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

/// Waits until no network interface is left in a VPC, subnet or security group (`filter` is
/// `vpc-id`, `subnet-id` or `group-id`), naming each one still there and who owns it.
pub(super) async fn wait_interfaces_gone(
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
