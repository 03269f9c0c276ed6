//! The census, found with the SDK in every service pipectl uses, never through pipectl's own
//! code: every resource of every kind pipectl can create in the account, tagged or not
//! (`census`), and those of one stack (`tagged`).

use std::collections::{BTreeSet, HashMap};

use pipectl_aws::Aws;

/// One resource found: `kind:id`, its name (where the kind has one) and its `pipectl:stack` tag.
pub struct Found {
    pub id: String,
    pub name: String,
    pub stack: Option<String>,
}

fn found<'a>(
    kind: &str,
    id: &str,
    name: &str,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Found {
    Found {
        id: format!("{kind}:{id}"),
        name: name.to_string(),
        stack: tags
            .into_iter()
            .find(|(k, _)| *k == "pipectl:stack")
            .map(|(_, v)| v.to_string()),
    }
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

fn fsx_tags(tags: &[aws_sdk_fsx::types::Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

fn map_tags(tags: Option<&HashMap<String, String>>) -> impl Iterator<Item = (&str, &str)> {
    tags.into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Whether an EC2 or Batch state names something gone (listed for a while after deletion).
fn gone(state: Option<&str>) -> bool {
    state.is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "deleted" | "failed"))
}

async fn network(aws: &Aws, out: &mut Vec<Found>) {
    let ec2 = &aws.ec2;
    for v in ec2.describe_vpcs().send().await.unwrap().vpcs() {
        if !v.is_default().unwrap_or(false) {
            out.push(found("vpc", v.vpc_id().unwrap(), "", ec2_tags(v.tags())));
        }
    }
    for s in ec2.describe_subnets().send().await.unwrap().subnets() {
        if !s.default_for_az().unwrap_or(false) {
            out.push(found(
                "subnet",
                s.subnet_id().unwrap(),
                "",
                ec2_tags(s.tags()),
            ));
        }
    }
    for g in ec2
        .describe_internet_gateways()
        .send()
        .await
        .unwrap()
        .internet_gateways()
    {
        out.push(found(
            "igw",
            g.internet_gateway_id().unwrap(),
            "",
            ec2_tags(g.tags()),
        ));
    }
    for a in ec2.describe_addresses().send().await.unwrap().addresses() {
        out.push(found(
            "eip",
            a.allocation_id().unwrap(),
            "",
            ec2_tags(a.tags()),
        ));
    }
    for n in ec2
        .describe_nat_gateways()
        .send()
        .await
        .unwrap()
        .nat_gateways()
    {
        if !gone(n.state().map(aws_sdk_ec2::types::NatGatewayState::as_str)) {
            out.push(found(
                "nat",
                n.nat_gateway_id().unwrap(),
                "",
                ec2_tags(n.tags()),
            ));
        }
    }
    for r in ec2
        .describe_route_tables()
        .send()
        .await
        .unwrap()
        .route_tables()
    {
        let main = r.associations().iter().any(|a| a.main().unwrap_or(false));
        if !main {
            out.push(found(
                "rtb",
                r.route_table_id().unwrap(),
                "",
                ec2_tags(r.tags()),
            ));
        }
    }
    for e in ec2
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap()
        .vpc_endpoints()
    {
        if !gone(e.state().map(aws_sdk_ec2::types::State::as_str)) {
            out.push(found(
                "vpce",
                e.vpc_endpoint_id().unwrap(),
                "",
                ec2_tags(e.tags()),
            ));
        }
    }
    for g in ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()
    {
        if g.group_name() != Some("default") {
            out.push(found("sg", g.group_id().unwrap(), "", ec2_tags(g.tags())));
        }
    }
    for g in ec2
        .describe_placement_groups()
        .send()
        .await
        .unwrap()
        .placement_groups()
    {
        if !gone(
            g.state()
                .map(aws_sdk_ec2::types::PlacementGroupState::as_str),
        ) {
            out.push(found("pg", g.group_name().unwrap(), "", ec2_tags(g.tags())));
        }
    }
    for l in ec2
        .describe_launch_templates()
        .send()
        .await
        .unwrap()
        .launch_templates()
    {
        let name = l.launch_template_name().unwrap_or_default();
        out.push(found(
            "lt",
            l.launch_template_id().unwrap(),
            name,
            ec2_tags(l.tags()),
        ));
    }
}

async fn iam(aws: &Aws, out: &mut Vec<Found>) {
    let iam = &aws.iam;
    let roles: Vec<_> = iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .collect()
        .await;
    for r in roles.into_iter().map(Result::unwrap) {
        // a role another test deletes between the listing and this call is gone: skipped
        let Some(tags) = gone_is_none(iam.list_role_tags().role_name(r.role_name()).send().await)
        else {
            continue;
        };
        let tags = tags.tags().iter().map(|t| (t.key(), t.value()));
        out.push(found("role", r.role_name(), r.role_name(), tags));
    }
    let profiles: Vec<_> = iam
        .list_instance_profiles()
        .into_paginator()
        .items()
        .send()
        .collect()
        .await;
    for p in profiles.into_iter().map(Result::unwrap) {
        let name = p.instance_profile_name();
        let Some(tags) = gone_is_none(
            iam.list_instance_profile_tags()
                .instance_profile_name(name)
                .send()
                .await,
        ) else {
            continue;
        };
        let tags = tags.tags().iter().map(|t| (t.key(), t.value()));
        out.push(found("instance-profile", name, name, tags));
    }
}

/// The answer, or `None` when IAM says the entity is gone (NoSuchEntity); any other error
/// fails the test.
fn gone_is_none<T, E>(r: Result<T, aws_sdk_ec2::error::SdkError<E>>) -> Option<T>
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::fmt::Debug,
{
    match r {
        Ok(v) => Some(v),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchEntity") => None,
        Err(e) => panic!("{e:?}"),
    }
}

async fn batch(aws: &Aws, out: &mut Vec<Found>) {
    let b = &aws.batch;
    for c in b
        .describe_compute_environments()
        .send()
        .await
        .unwrap()
        .compute_environments()
    {
        // Batch lists deleted ones with the status DELETED for a while: gone.
        if !gone(c.status().map(aws_sdk_batch::types::CeStatus::as_str)) {
            let name = c.compute_environment_name().unwrap();
            out.push(found("ce", name, name, map_tags(c.tags())));
        }
    }
    for q in b.describe_job_queues().send().await.unwrap().job_queues() {
        if !gone(q.status().map(aws_sdk_batch::types::JqStatus::as_str)) {
            let name = q.job_queue_name().unwrap();
            out.push(found("jq", name, name, map_tags(q.tags())));
        }
    }
    let defs = b
        .describe_job_definitions()
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    for d in defs.job_definitions() {
        let name = d.job_definition_name().unwrap_or_default();
        out.push(found(
            "jd",
            d.job_definition_arn().unwrap(),
            name,
            map_tags(d.tags()),
        ));
    }
}

async fn storage(aws: &Aws, out: &mut Vec<Found>) {
    for fs in aws
        .fsx
        .describe_file_systems()
        .send()
        .await
        .unwrap()
        .file_systems()
    {
        out.push(found(
            "fsx",
            fs.file_system_id().unwrap(),
            "",
            fsx_tags(fs.tags()),
        ));
    }
    let dras = aws
        .fsx
        .describe_data_repository_associations()
        .send()
        .await
        .unwrap();
    for a in dras.associations() {
        out.push(found(
            "dra",
            a.association_id().unwrap(),
            "",
            fsx_tags(a.tags()),
        ));
    }
    for b in aws.s3.list_buckets().send().await.unwrap().buckets() {
        let name = b.name().unwrap();
        let tagging = aws.s3.get_bucket_tagging().bucket(name).send().await;
        let tags = tagging
            .as_ref()
            .map(aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput::tag_set)
            .unwrap_or_default();
        out.push(found(
            "bucket",
            name,
            name,
            tags.iter().map(|t| (t.key(), t.value())),
        ));
    }
}

async fn observability(aws: &Aws, out: &mut Vec<Found>) {
    for d in aws
        .cloudwatch
        .list_dashboards()
        .send()
        .await
        .unwrap()
        .dashboard_entries()
    {
        let name = d.dashboard_name().unwrap();
        out.push(found("dashboard", name, name, []));
    }
    let groups: Vec<_> = aws
        .logs
        .describe_log_groups()
        .into_paginator()
        .items()
        .send()
        .collect()
        .await;
    for g in groups.into_iter().map(Result::unwrap) {
        let name = g.log_group_name().unwrap();
        out.push(found("log-group", name, name, []));
    }
}

async fn job_events(aws: &Aws, out: &mut Vec<Found>) {
    let queues = aws.sqs.list_queues().send().await.unwrap();
    for url in queues.queue_urls() {
        let tags = aws
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .unwrap();
        let name = url.rsplit('/').next().unwrap_or_default();
        out.push(found("sqs-queue", name, name, map_tags(tags.tags())));
    }
    let rules = aws.events.list_rules().send().await.unwrap();
    for r in rules.rules() {
        let name = r.name().unwrap_or_default();
        let tags = aws
            .events
            .list_tags_for_resource()
            .resource_arn(r.arn().unwrap_or_default())
            .send()
            .await
            .unwrap();
        out.push(found(
            "events-rule",
            name,
            name,
            tags.tags().iter().map(|t| (t.key(), t.value())),
        ));
    }
}

/// Every resource of every kind pipectl can create, in the whole account, tagged or not (the
/// defaults every account has left out: default VPC, its subnets, main route tables, `default`
/// security groups).
pub async fn inventory(aws: &Aws) -> Vec<Found> {
    let mut out = Vec::new();
    network(aws, &mut out).await;
    iam(aws, &mut out).await;
    batch(aws, &mut out).await;
    storage(aws, &mut out).await;
    observability(aws, &mut out).await;
    job_events(aws, &mut out).await;
    out
}

/// `kind:id` of everything in the account that pipectl could have made: equal before and after
/// a campaign means nothing was left behind, tagged or not.
pub async fn census(aws: &Aws) -> BTreeSet<String> {
    inventory(aws).await.into_iter().map(|f| f.id).collect()
}

/// `kind:id` of every resource of `stack`: carrying `pipectl:stack=<stack>`, or named for it
/// where the name is the identity (buckets, even untagged: they would be left behind; the
/// dashboard and the log group, which carry no tags; the job-event queue and rule).
pub async fn tagged(aws: &Aws, stack: &str) -> Vec<String> {
    let bucket = format!("pipectl-{stack}-");
    let dashboard = format!("pipectl-{stack}");
    let logs = format!("/pipectl/{stack}/");
    let events = format!("pipectl-{stack}-job-events");
    let mut out: Vec<String> = inventory(aws)
        .await
        .into_iter()
        .filter(|f| {
            f.stack.as_deref() == Some(stack)
                || (f.id.starts_with("bucket:") && f.name.starts_with(&bucket))
                || (f.id.starts_with("dashboard:") && f.name == dashboard)
                || (f.id.starts_with("log-group:") && f.name.starts_with(&logs))
                || f.name == events
        })
        .map(|f| f.id)
        .collect();
    out.sort();
    out
}

/// The stack's compute environments Batch lists, those it lists as `DELETED` (gone) left out.
pub async fn compute_environments(
    aws: &Aws,
    stack: &str,
) -> Vec<aws_sdk_batch::types::ComputeEnvironmentDetail> {
    let prefix = format!("{stack}-");
    let out = aws
        .batch
        .describe_compute_environments()
        .send()
        .await
        .unwrap();
    out.compute_environments()
        .iter()
        .filter(|c| {
            c.compute_environment_name()
                .unwrap_or("")
                .starts_with(&prefix)
        })
        .filter(|c| !gone(c.status().map(aws_sdk_batch::types::CeStatus::as_str)))
        .cloned()
        .collect()
}
