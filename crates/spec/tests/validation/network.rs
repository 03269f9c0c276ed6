//! Network rules: CIDRs, zones, egress and the VPC endpoints it needs.

use super::*;

#[test]
fn network_rules() {
    expect(
        mutate(
            SEED,
            "availability_zones = [\"us-east-1a\", \"us-east-1b\"]",
            "availability_zones = [\"us-east-1a\", \"us-west-2b\"]",
        ),
        "bad-zone",
        Level::Error,
        "us-west-2b",
    );
    expect(
        mutate(SEED, "cidr = \"10.40.0.0/16\"", "cidr = \"10.40.0.0/33\""),
        "bad-cidr",
        Level::Error,
        "cidr",
    );
    expect(
        mutate(SEED, "egress = \"nat-gateway\"", "egress = \"none\""),
        "no-egress",
        Level::Warning,
        "egress = \"none\"",
    );
    expect(
        mutate(
            SEED,
            "cidr = \"10.40.0.0/16\"",
            "cidr = \"10.40.0.0/16\"\nvpc_id = \"vpc-0123456789abcdef0\"",
        ),
        "network-mode",
        Level::Error,
        "vpc_id",
    );
    expect(
        mutate(SEED, "region = \"us-east-1\"", "region = \"us-east-9\""),
        "unknown-region",
        Level::Error,
        "us-east-9",
    );
    expect(
        mutate(SEED, "name = \"two-hour-pipeline\"", "name = \"Two_Hour\""),
        "bad-name",
        Level::Error,
        "Two_Hour",
    );
    expect(
        mutate(
            SEED,
            "egress = \"nat-gateway\"",
            "egress = \"carrier-pigeon\"",
        ),
        "bad-value",
        Level::Error,
        "carrier-pigeon",
    );
}

#[test]
fn with_only_vpc_endpoints_images_must_come_from_the_regions_ecr() {
    let endpoints = mutate(
        SEED,
        "egress = \"nat-gateway\"",
        "egress = \"vpc-endpoints\"",
    )
    .replace("nat_data = \"12GB\"\n", "");
    let f = expect(
        endpoints.clone(),
        "image-unreachable",
        Level::Error,
        "public.ecr.aws",
    );
    assert!(
        f.hint
            .unwrap()
            .contains(".dkr.ecr.us-east-1.amazonaws.com/")
    );
    let private = endpoints.replace(
        "public.ecr.aws/docker/library/python:3.12-slim",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/python:3.12-slim",
    );
    assert!(
        !diagnostics(private.clone())
            .findings
            .iter()
            .any(|f| f.code == "image-unreachable")
    );
    // an image in another region's ECR is not reachable either
    let elsewhere = private.replacen("us-east-1.amazonaws.com", "eu-west-1.amazonaws.com", 1);
    expect(elsewhere, "image-unreachable", Level::Error, "eu-west-1");
    // extra endpoints only mean something without a NAT gateway
    expect(
        mutate(
            SEED,
            "nat_data = \"12GB\"",
            "nat_data = \"12GB\"\nextra_endpoints = [\"batch\"]",
        ),
        "unused",
        Level::Warning,
        "extra_endpoints",
    );
}

#[test]
fn vpc_endpoint_egress_reaches_cloudwatch_sts_and_the_extra_services() {
    let text = mutate(
        SEED,
        "egress = \"nat-gateway\"",
        "egress = \"vpc-endpoints\"\nextra_endpoints = [\"batch\"]",
    )
    .replace("nat_data = \"12GB\"\n", "")
    .replace(
        "public.ecr.aws/docker/library/python:3.12-slim",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/python:3.12-slim",
    );
    let spec = pipectl_spec::load_str(Path::new("spec.toml"), text)
        .unwrap()
        .spec;
    let g = pipectl_spec::graph::Graph::from_spec(&spec);
    for svc in [
        "ecr.api",
        "ecr.dkr",
        "ecs",
        "ecs-agent",
        "ecs-telemetry",
        "logs",
        "monitoring",
        "sts",
        "batch",
    ] {
        assert!(
            g.get(&format!("vpce-{svc}").parse().unwrap()).is_some(),
            "no endpoint for {svc}"
        );
    }
    assert!(g.get(&"vpce-s3".parse().unwrap()).is_some());
}

#[test]
fn aws_name_and_tag_limits_are_found_before_any_call() {
    // "two-hour-pipeline-" + 111 characters is 129: over Batch's 128
    let long = "c".repeat(111);
    expect(
        mutate(
            SEED,
            "[compute_environments.training-spot]",
            &format!("[compute_environments.{long}]"),
        ),
        "bad-name",
        Level::Error,
        &long,
    );
    let tags: String = (0..47).map(|i| format!("t{i} = \"v\"\n")).collect();
    expect(
        mutate(
            SEED,
            "description = \"Seed pipeline",
            &format!(
                "tags = {{ {} }}\ndescription = \"Seed pipeline",
                tags.trim_end().replace('\n', ", ")
            ),
        ),
        "too-many-tags",
        Level::Error,
        "tags",
    );
    expect(
        mutate(
            SEED,
            "description = \"Seed pipeline",
            &format!(
                "tags = {{ team = \"{}\" }}\ndescription = \"Seed pipeline",
                "v".repeat(257)
            ),
        ),
        "bad-tag",
        Level::Error,
        "team",
    );
    expect(
        mutate(
            SEED,
            "description = \"Seed pipeline",
            "tags = { \"AWS:x\" = \"v\" }\ndescription = \"Seed pipeline",
        ),
        "reserved-tag",
        Level::Error,
        "AWS:x",
    );
}

#[test]
fn pipectl_does_not_create_the_batch_service_role() {
    let f = expect(
        mutate(
            SEED,
            "service_role = { mode = \"service-linked\" }",
            "service_role = { mode = \"create\" }",
        ),
        "escalation",
        Level::Error,
        "service_role",
    );
    assert!(f.hint.unwrap().contains("service-linked"));
}
