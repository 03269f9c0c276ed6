//! The census: everything carrying a stack's tag, found with the SDK in every service pipectl uses.

use aws_sdk_ec2::types::Filter;
use pipectl_aws::Aws;

fn has(tags: &[(String, String)], stack: &str) -> bool {
    tags.iter().any(|(k, v)| k == "pipectl:stack" && v == stack)
}

/// `kind:id` of every resource carrying `pipectl:stack=<stack>`, in every service pipectl uses.
pub async fn tagged(aws: &Aws, stack: &str) -> Vec<String> {
    let mut found = Vec::new();
    let f = Filter::builder()
        .name("tag:pipectl:stack")
        .values(stack)
        .build();
    let ec2 = &aws.ec2;
    let t = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    for v in ec2
        .describe_vpcs()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .vpcs()
    {
        if has(&t(v.tags()), stack) {
            found.push(format!("vpc:{}", v.vpc_id().unwrap()));
        }
    }
    for s in ec2
        .describe_subnets()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .subnets()
    {
        if has(&t(s.tags()), stack) {
            found.push(format!("subnet:{}", s.subnet_id().unwrap()));
        }
    }
    for g in ec2
        .describe_internet_gateways()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .internet_gateways()
    {
        if has(&t(g.tags()), stack) {
            found.push(format!("igw:{}", g.internet_gateway_id().unwrap()));
        }
    }
    for a in ec2
        .describe_addresses()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .addresses()
    {
        if has(&t(a.tags()), stack) {
            found.push(format!("eip:{}", a.allocation_id().unwrap()));
        }
    }
    for n in ec2
        .describe_nat_gateways()
        .filter(f.clone())
        .send()
        .await
        .unwrap()
        .nat_gateways()
    {
        if has(&t(n.tags()), stack)
            && n.state().map(aws_sdk_ec2::types::NatGatewayState::as_str) != Some("deleted")
        {
            found.push(format!("nat:{}", n.nat_gateway_id().unwrap()));
        }
    }
    for r in ec2
        .describe_route_tables()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .route_tables()
    {
        if has(&t(r.tags()), stack) {
            found.push(format!("rtb:{}", r.route_table_id().unwrap()));
        }
    }
    for e in ec2
        .describe_vpc_endpoints()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .vpc_endpoints()
    {
        if has(&t(e.tags()), stack)
            && e.state()
                .map(|s| s.as_str().to_ascii_lowercase())
                .as_deref()
                != Some("deleted")
        {
            found.push(format!("vpce:{}", e.vpc_endpoint_id().unwrap()));
        }
    }
    for g in ec2
        .describe_security_groups()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .security_groups()
    {
        if has(&t(g.tags()), stack) {
            found.push(format!("sg:{}", g.group_id().unwrap()));
        }
    }
    for g in ec2
        .describe_placement_groups()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .placement_groups()
    {
        if has(&t(g.tags()), stack) {
            found.push(format!("pg:{}", g.group_name().unwrap()));
        }
    }
    for l in ec2
        .describe_launch_templates()
        .filters(f.clone())
        .send()
        .await
        .unwrap()
        .launch_templates()
    {
        if has(&t(l.tags()), stack) {
            found.push(format!("lt:{}", l.launch_template_id().unwrap()));
        }
    }
    let iam = &aws.iam;
    for r in iam.list_roles().send().await.unwrap().roles() {
        let tags = iam
            .list_role_tags()
            .role_name(r.role_name())
            .send()
            .await
            .unwrap();
        if has(
            &tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect::<Vec<_>>(),
            stack,
        ) {
            found.push(format!("role:{}", r.role_name()));
        }
    }
    for p in iam
        .list_instance_profiles()
        .send()
        .await
        .unwrap()
        .instance_profiles()
    {
        let tags = iam
            .list_instance_profile_tags()
            .instance_profile_name(p.instance_profile_name())
            .send()
            .await
            .unwrap();
        if has(
            &tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect::<Vec<_>>(),
            stack,
        ) {
            found.push(format!("instance-profile:{}", p.instance_profile_name()));
        }
    }
    let bt = |m: Option<&std::collections::HashMap<String, String>>| {
        m.map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    for c in aws
        .batch
        .describe_compute_environments()
        .send()
        .await
        .unwrap()
        .compute_environments()
    {
        // Batch lists deleted ones with the status DELETED for a while: gone.
        let deleted = c.status().map(aws_sdk_batch::types::CeStatus::as_str) == Some("DELETED");
        if has(&bt(c.tags()), stack) && !deleted {
            found.push(format!("ce:{}", c.compute_environment_name().unwrap()));
        }
    }
    for q in aws
        .batch
        .describe_job_queues()
        .send()
        .await
        .unwrap()
        .job_queues()
    {
        let deleted = q.status().map(aws_sdk_batch::types::JqStatus::as_str) == Some("DELETED");
        if has(&bt(q.tags()), stack) && !deleted {
            found.push(format!("jq:{}", q.job_queue_name().unwrap()));
        }
    }
    for d in aws
        .batch
        .describe_job_definitions()
        .status("ACTIVE")
        .send()
        .await
        .unwrap()
        .job_definitions()
    {
        if has(&bt(d.tags()), stack) {
            found.push(format!("jd:{}", d.job_definition_arn().unwrap()));
        }
    }
    for fs in aws
        .fsx
        .describe_file_systems()
        .send()
        .await
        .unwrap()
        .file_systems()
    {
        let tags: Vec<_> = fs
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        if has(&tags, stack) {
            found.push(format!("fsx:{}", fs.file_system_id().unwrap()));
        }
    }
    for a in aws
        .fsx
        .describe_data_repository_associations()
        .send()
        .await
        .unwrap()
        .associations()
    {
        let tags: Vec<_> = a
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        if has(&tags, stack) {
            found.push(format!("dra:{}", a.association_id().unwrap()));
        }
    }
    for b in aws.s3.list_buckets().send().await.unwrap().buckets() {
        let name = b.name().unwrap();
        // Untagged buckets named after the stack count too: they would be left behind.
        if name.starts_with(&format!("pipectl-{stack}-")) {
            found.push(format!("bucket:{name}"));
            continue;
        }
        if let Ok(t) = aws.s3.get_bucket_tagging().bucket(name).send().await
            && t.tag_set()
                .iter()
                .any(|t| t.key() == "pipectl:stack" && t.value() == stack)
        {
            found.push(format!("bucket:{name}"));
        }
    }
    for d in aws
        .cloudwatch
        .list_dashboards()
        .dashboard_name_prefix(format!("pipectl-{stack}"))
        .send()
        .await
        .unwrap()
        .dashboard_entries()
    {
        found.push(format!("dashboard:{}", d.dashboard_name().unwrap()));
    }
    for g in aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/pipectl/{stack}/"))
        .send()
        .await
        .unwrap()
        .log_groups()
    {
        found.push(format!("log-group:{}", g.log_group_name().unwrap()));
    }
    found.sort();
    found
}
