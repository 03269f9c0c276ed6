//! Rules for `[stack]`, `[network]` and `[iam]`.

use std::collections::HashSet;

use super::KNOWN_REGIONS;
use crate::diag::Finding;
use crate::model::{Egress, RoleMode, Spec};
use crate::net::{Cidr, SUBNET_BITS};
use crate::path;

/// Bucket names are `pipectl-<stack>-<bucket>-<account id>` and must fit in 63 characters.
pub(crate) const BUCKET_NAME_OVERHEAD: usize = "pipectl-".len() + 1 + 1 + 12;
const MAX_STACK_NAME: usize = 28;

pub(super) fn check(spec: &Spec, out: &mut Vec<Finding>) {
    check_stack(spec, out);
    check_log_retention(spec, out);
    check_network(spec, out);
    check_iam(spec, out);
}

fn check_stack(spec: &Spec, out: &mut Vec<Finding>) {
    let name = &spec.stack.name;
    let ok = !name.is_empty()
        && name.len() <= MAX_STACK_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-');
    if !ok {
        out.push(
            Finding::error("bad-name", path!["stack", "name"], format!("stack name {name:?} cannot prefix S3 bucket and Batch names"))
                .with_hint(format!("use 1-{MAX_STACK_NAME} lower-case letters, digits and hyphens, starting with a letter")),
        );
    }
    let region = &spec.stack.region;
    if !KNOWN_REGIONS.contains(&region.as_str()) {
        out.push(
            Finding::error(
                "unknown-region",
                path!["stack", "region"],
                format!("{region:?} is not an AWS region with Batch and FSx for Lustre"),
            )
            .with_hint("write a region code such as \"us-east-1\""),
        );
    }
    if let Some(b) = spec.stack.budget_usd
        && !(b.is_finite() && b > 0.0)
    {
        out.push(Finding::error(
            "bad-budget",
            path!["stack", "budget_usd"],
            format!("budget {b} is not a positive amount of USD"),
        ));
    }
    check_tag_limits(spec, out);
    for key in spec.stack.tags.keys() {
        if key.to_ascii_lowercase().starts_with("aws:") || key.starts_with("pipectl:") {
            out.push(
                Finding::error("reserved-tag", path!["stack", "tags", key], format!("tag key {key:?} is reserved"))
                    .on_key()
                    .with_hint("`aws:` belongs to AWS and `pipectl:` marks what pipectl owns; pick another prefix"),
            );
        }
    }
}

/// AWS's tag limits, the smallest of the services pipectl tags (EC2, Batch, FSx, S3, IAM,
/// Logs, SQS, EventBridge): 50 tags a resource (pipectl puts up to four of its own: `Name`,
/// `pipectl:stack`, `pipectl:resource`, `pipectl:policy-digest`), keys of 1 to 128 characters
/// and values of at most 256.
pub(crate) const MAX_USER_TAGS: usize = 50 - 4;

fn check_tag_limits(spec: &Spec, out: &mut Vec<Finding>) {
    let tags = &spec.stack.tags;
    if tags.len() > MAX_USER_TAGS {
        out.push(
            Finding::error(
                "too-many-tags",
                path!["stack", "tags"],
                format!(
                    "{} tags, but AWS takes 50 a resource and pipectl puts up to 4 of its own",
                    tags.len()
                ),
            )
            .on_key()
            .with_hint(format!("keep at most {MAX_USER_TAGS} tags")),
        );
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            out.push(
                Finding::error(
                    "bad-tag",
                    path!["stack", "tags", key],
                    "a tag key is 1 to 128 characters",
                )
                .on_key(),
            );
        }
        if value.chars().count() > 256 {
            out.push(Finding::error(
                "bad-tag",
                path!["stack", "tags", key],
                format!(
                    "tag {key:?}'s value is {} characters; AWS takes at most 256",
                    value.chars().count()
                ),
            ));
        }
    }
}

fn check_log_retention(spec: &Spec, out: &mut Vec<Finding>) {
    let days = spec.stack.log_retention_days;
    if !crate::model::LOG_RETENTION_DAYS.contains(&days) {
        let near = crate::model::LOG_RETENTION_DAYS
            .iter()
            .min_by_key(|d| d.abs_diff(days))
            .copied()
            .unwrap_or(30);
        out.push(
            Finding::error(
                "bad-value",
                path!["stack", "log_retention_days"],
                format!("CloudWatch Logs does not keep logs for {days} days"),
            )
            .with_hint(format!(
                "use one of {:?}; the closest is {near}",
                crate::model::LOG_RETENTION_DAYS
            )),
        );
    }
}

fn check_network(spec: &Spec, out: &mut Vec<Finding>) {
    let net = &spec.network;
    if net.egress == Egress::VpcEndpoints {
        check_private_images(spec, out);
    } else if !net.extra_endpoints.is_empty() {
        out.push(
            Finding::warning(
                "unused",
                path!["network", "extra_endpoints"],
                "extra_endpoints apply to egress = \"vpc-endpoints\" only",
            )
            .with_hint("remove them, or set egress = \"vpc-endpoints\""),
        );
    }
    match (&net.cidr, &net.vpc_id) {
        (Some(_), Some(_)) => out.push(
            Finding::error("network-mode", path!["network", "vpc_id"], "both `cidr` (new VPC) and `vpc_id` (existing VPC) are set")
                .with_hint("keep `cidr` + `availability_zones` to create a VPC, or `vpc_id` + `subnet_ids` to use one"),
        ),
        (None, None) => out.push(
            Finding::error("network-mode", path!["network"], "neither `cidr` (new VPC) nor `vpc_id` (existing VPC) is set")
                .with_hint("add `cidr = \"10.40.0.0/16\"` and `availability_zones = [...]`, or `vpc_id` and `subnet_ids`"),
        ),
        (Some(cidr), None) => check_new_vpc(spec, cidr, out),
        (None, Some(vpc)) => check_existing_vpc(spec, vpc, out),
    }
    if net.nat_data.is_some() && net.egress != Egress::NatGateway {
        out.push(Finding::warning(
            "unused-setting",
            path!["network", "nat_data"],
            "`nat_data` has no effect without `egress = \"nat-gateway\"`",
        ));
    }
}

fn check_new_vpc(spec: &Spec, cidr: &str, out: &mut Vec<Finding>) {
    let net = &spec.network;
    match cidr.parse::<Cidr>() {
        Err(e) => out.push(Finding::error("bad-cidr", path!["network", "cidr"], e)),
        Ok(c) if !(16..=24).contains(&c.prefix) => out.push(
            Finding::error(
                "bad-cidr",
                path!["network", "cidr"],
                format!(
                    "VPC prefix /{} is outside what pipectl can carve subnets from",
                    c.prefix
                ),
            )
            .with_hint(
                "AWS allows /16 to /28 for a VPC; pipectl needs /16 to /24 to cut /20-/28 subnets",
            ),
        ),
        Ok(c) => {
            let needed =
                net.availability_zones.len() + usize::from(net.egress == Egress::NatGateway);
            if needed > (1usize << SUBNET_BITS) {
                out.push(Finding::error(
                    "bad-cidr",
                    path!["network", "availability_zones"],
                    format!("{needed} subnets do not fit in {c}"),
                ));
            }
            if !c.is_private() {
                out.push(
                    Finding::warning("public-cidr", path!["network", "cidr"], format!("{c} is not a private (RFC 1918) range"))
                        .with_hint("use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 to avoid clashing with internet addresses"),
                );
            }
        }
    }
    if net.availability_zones.is_empty() {
        out.push(
            Finding::error(
                "no-zones",
                path!["network", "availability_zones"],
                "a new VPC needs at least one availability zone",
            )
            .with_hint(format!(
                "e.g. availability_zones = [\"{0}a\", \"{0}b\"]",
                spec.stack.region
            )),
        );
    }
    let mut seen = HashSet::new();
    for (i, az) in net.availability_zones.iter().enumerate() {
        let zone_ok = az
            .strip_prefix(spec.stack.region.as_str())
            .is_some_and(|suffix| {
                suffix.len() == 1 && suffix.chars().all(|c| c.is_ascii_lowercase())
            });
        if !zone_ok {
            out.push(
                Finding::error(
                    "bad-zone",
                    path!["network", "availability_zones", i],
                    format!(
                        "{az:?} is not an availability zone of {}",
                        spec.stack.region
                    ),
                )
                .with_hint(format!(
                    "zones of {0} are written {0}a, {0}b, ...",
                    spec.stack.region
                )),
            );
        }
        if !seen.insert(az) {
            out.push(Finding::error(
                "duplicate-name",
                path!["network", "availability_zones", i],
                format!("zone {az:?} is listed twice"),
            ));
        }
    }
    if net.egress == Egress::None {
        out.push(
            Finding::warning("no-egress", path!["network", "egress"], "private subnets without egress: Batch instances cannot join their ECS cluster or pull images, so jobs stay RUNNABLE")
                .with_hint("use egress = \"nat-gateway\" or \"vpc-endpoints\""),
        );
    }
    if !net.subnet_ids.is_empty() {
        out.push(Finding::error(
            "network-mode",
            path!["network", "subnet_ids"],
            "`subnet_ids` needs `vpc_id`; a new VPC gets its subnets from `availability_zones`",
        ));
    }
}

fn check_existing_vpc(spec: &Spec, vpc: &str, out: &mut Vec<Finding>) {
    let net = &spec.network;
    if !is_aws_id(vpc, "vpc-") {
        out.push(
            Finding::error(
                "bad-id",
                path!["network", "vpc_id"],
                format!("{vpc:?} is not a VPC id"),
            )
            .with_hint("VPC ids look like vpc-0123456789abcdef0"),
        );
    }
    if net.subnet_ids.is_empty() {
        out.push(Finding::error(
            "no-zones",
            path!["network", "subnet_ids"],
            "an existing VPC needs `subnet_ids` (its private subnets)",
        ));
    }
    for (i, s) in net.subnet_ids.iter().enumerate() {
        if !is_aws_id(s, "subnet-") {
            out.push(Finding::error(
                "bad-id",
                path!["network", "subnet_ids", i],
                format!("{s:?} is not a subnet id"),
            ));
        }
    }
}

fn is_aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|hex| {
        (8..=17).contains(&hex.len())
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    })
}

fn check_iam(spec: &Spec, out: &mut Vec<Finding>) {
    for (i, p) in spec.phases.iter().enumerate() {
        if let Some(arn) = &p.job_role {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "iam"
                && parts[4].len() == 12
                && parts[4].chars().all(|c| c.is_ascii_digit())
                && parts[5].starts_with("role/");
            if !ok {
                out.push(
                    Finding::error("bad-value", path!["phases", i, "job_role"], format!("{arn:?} is not an IAM role ARN"))
                        .with_hint("arn:aws:iam::123456789012:role/NAME, or leave it out to use the stack's job role"),
                );
            }
        }
    }
    for (key, role) in [
        ("service_role", &spec.iam.service_role),
        ("instance_role", &spec.iam.instance_role),
        ("job_role", &spec.iam.job_role),
    ] {
        let at = path!["iam", key];
        match (role.mode, &role.name) {
            (RoleMode::Existing, None) => out.push(Finding::error("missing-key", at.at("mode"), format!("an existing {key} needs its `name`"))),
            (RoleMode::ServiceLinked, _) if key == "instance_role" => out.push(
                Finding::error("bad-value", at.at("mode"), "the instance role cannot be service-linked")
                    .with_hint("use mode = \"create\" or \"existing\" (ECS instances need an instance profile)"),
            ),
            (RoleMode::ServiceLinked, _) if key == "job_role" => out.push(
                Finding::error("bad-value", at.at("mode"), "the job role cannot be service-linked")
                    .with_hint("use mode = \"create\" (least privilege for this stack) or \"existing\""),
            ),
            // A role with AWSBatchServiceRole's powers, created by the holder of pipectl's
            // policy, could be made to trust that holder (no IAM condition reads a trust
            // policy): Batch's own service-linked role, which only Batch can assume, instead.
            (RoleMode::Create, _) if key == "service_role" => out.push(
                Finding::error("escalation", at.at("mode"), "pipectl does not create the Batch service role: whoever holds pipectl's policy could make such a role trust them and use Batch's EC2 powers")
                    .with_hint("use mode = \"service-linked\" (AWS's recommendation: Batch's own AWSServiceRoleForBatch) or mode = \"existing\" with a role your administrator made"),
            ),
            (RoleMode::ServiceLinked, Some(_)) => out.push(
                Finding::error("bad-value", at.at("name"), "a service-linked role has a fixed name (AWSServiceRoleForBatch)")
                    .with_hint("remove `name`, or use mode = \"existing\""),
            ),
            _ => {}
        }
        if let Some(name) = &role.name {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c));
            if !ok {
                out.push(
                    Finding::error(
                        "bad-name",
                        at.at("name"),
                        format!("{name:?} is not a valid IAM role name"),
                    )
                    .with_hint("1-64 of letters, digits and +=,.@-_"),
                );
            }
        }
    }
}

/// With only VPC endpoints, instances reach ECR in the stack's region and nothing on the
/// internet: an image from a public registry (Docker Hub, ECR Public, GHCR, ...) can never be
/// pulled, and the job would sit RUNNABLE/STARTING until it times out.
fn check_private_images(spec: &Spec, out: &mut Vec<Finding>) {
    // EFA's driver comes from AWS's installer on the internet (the instances' boot script)
    for (name, ce) in &spec.compute_environments {
        if ce.uses_efa() {
            out.push(
                Finding::error("efa-unreachable", path!["compute_environments", name, "efa"], "EFA's driver is installed at boot from efa-installer.amazonaws.com, which instances behind VPC endpoints alone cannot reach")
                    .with_hint("use egress = \"nat-gateway\", or an AMI of your own with the EFA driver (image_id) and efa = \"auto\""),
            );
        }
    }
    let ecr = format!(".dkr.ecr.{}.amazonaws.com/", spec.stack.region);
    for (i, p) in spec.phases.iter().enumerate() {
        let host = p.image.split('/').next().unwrap_or("");
        if !(p.image.contains(&ecr) && host.ends_with(&ecr[..ecr.len() - 1])) {
            out.push(
                Finding::error("image-unreachable", path!["phases", i, "image"], format!("{:?} is not in ECR in {}: with egress = \"vpc-endpoints\" instances reach no public registry", p.image, spec.stack.region))
                    .with_hint(format!("push it to a private ECR repository (ACCOUNT{}NAME:TAG), or use egress = \"nat-gateway\"", &ecr[..ecr.len()])),
            );
        }
    }
}
