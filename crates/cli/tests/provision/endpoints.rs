//! The VPC endpoints `egress = "vpc-endpoints"` makes, and the S3 endpoint's policy.

use super::*;

/// Egress through VPC endpoints: S3's gateway endpoint carries the policy that limits it to the
/// stack's buckets, image layers and packages; a policy changed behind pipectl's back is seen
/// by `status` and put right by `up`.
#[tokio::test(flavor = "multi_thread")]
async fn the_s3_endpoint_is_limited_to_the_stack_and_kept_so() {
    let s = stack("two-hour-pipeline.toml", "endpoints");
    let text = std::fs::read_to_string(&s.spec).unwrap();
    let text = text
        .replace("egress = \"nat-gateway\"", "egress = \"vpc-endpoints\"")
        .replace(
            "public.ecr.aws/docker/library/python:3.12-slim",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/python:3.12-slim",
        );
    std::fs::write(&s.spec, text).unwrap();
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));
    // the stack's endpoints as EC2 describes them
    let endpoints = || async {
        aws.ec2
            .describe_vpc_endpoints()
            .filters(filter(&s.name))
            .send()
            .await
            .unwrap()
    };
    let endpoint = || async {
        endpoints()
            .await
            .vpc_endpoints()
            .iter()
            .find(|e| {
                e.vpc_endpoint_type()
                    .map(aws_sdk_ec2::types::VpcEndpointType::as_str)
                    == Some("Gateway")
            })
            .cloned()
            .expect("the S3 gateway endpoint")
    };
    // ECR only for the phases' repository, Logs only for the stack's log group; ECS's default
    let all = endpoints().await;
    let policy_of = |suffix: &str| -> String {
        let e = all
            .vpc_endpoints()
            .iter()
            .find(|e| e.service_name().is_some_and(|n| n.ends_with(suffix)))
            .unwrap_or_else(|| panic!("no {suffix} endpoint"));
        e.policy_document().unwrap_or_default().to_string()
    };
    for ecr in [".ecr.dkr", ".ecr.api"] {
        let p = policy_of(ecr);
        assert!(
            p.contains(":repository/python") && !p.contains("\"ecr:*\""),
            "{ecr}: {p}"
        );
    }
    assert!(
        policy_of(".logs").contains(&format!("log-group:/pipectl/{}/", s.name)),
        "{}",
        policy_of(".logs")
    );
    let e = endpoint().await;
    let policy: serde_json::Value = serde_json::from_str(e.policy_document().unwrap()).unwrap();
    let text = policy.to_string();
    assert!(
        text.contains(&format!("pipectl-{}-results-", s.name)),
        "{text}"
    );
    assert!(!text.contains("\"Resource\":\"*\""), "{text}");
    // opened behind pipectl's back
    aws.ec2
        .modify_vpc_endpoint()
        .vpc_endpoint_id(e.vpc_endpoint_id().unwrap())
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let status = s.status().to_string();
    assert!(status.contains("endpoint policy"), "{status}");
    ok(&s.run(&["up", "--yes"]));
    let back: serde_json::Value =
        serde_json::from_str(endpoint().await.policy_document().unwrap()).unwrap();
    assert_eq!(back, policy);
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}
