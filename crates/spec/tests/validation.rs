//! One test per validation rule: a mutation of the seed spec that breaks the rule, the
//! finding it must produce (code and level), and the line it must point at.

use std::path::Path;

use pipectl_spec::{Diagnostics, Finding, Level, LoadError, load_bytes, load_str};

const SEED: &str = include_str!("../../../infra-specs/two-hour-pipeline.toml");
const EFA: &str = include_str!("../../../infra-specs/two-hour-pipeline-efa.toml");

/// The seed spec with `from` replaced by `to` (which must occur exactly once).
fn mutate(base: &str, from: &str, to: &str) -> String {
    assert_eq!(
        base.matches(from).count(),
        1,
        "{from:?} must occur once in the base spec"
    );
    base.replacen(from, to, 1)
}

fn diagnostics(text: String) -> Diagnostics {
    match load_str(Path::new("spec.toml"), text) {
        Ok(l) => l.diagnostics,
        Err(LoadError::Invalid(d)) => *d,
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// Asserts a finding with `code` at `level` whose line contains `line_has`; returns it.
fn expect(text: String, code: &str, level: Level, line_has: &str) -> Finding {
    let d = diagnostics(text);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == code && f.level == level)
        .unwrap_or_else(|| panic!("no {level} {code}; got:\n{d}"))
        .clone();
    let lc = f
        .line_col
        .unwrap_or_else(|| panic!("{code} has no location"));
    let line = d.text.lines().nth(lc.line - 1).unwrap_or("");
    assert!(
        line.contains(line_has),
        "{code} points at line {} {line:?}, expected one containing {line_has:?}",
        lc.line
    );
    assert!(lc.col >= 1);
    f
}

#[test]
fn unknown_key_is_located_at_the_key() {
    let f = expect(
        mutate(SEED, "max_vcpus = 16", "max_vcpus = 16\nmax_vcpu = 4"),
        "unknown-key",
        Level::Error,
        "max_vcpu = 4",
    );
    assert!(f.message.contains("max_vcpu"), "{}", f.message);
    assert!(f.hint.unwrap().contains("max_vcpus"));
    let d = diagnostics(mutate(
        SEED,
        "max_vcpus = 16",
        "max_vcpus = 16\nmax_vcpu = 4",
    ));
    assert_eq!(
        d.findings[0].line_col.unwrap().col,
        1,
        "points at the key, not its table"
    );
}

#[test]
fn bad_units_are_errors_at_the_value() {
    let f = expect(
        mutate(SEED, "duration = \"35m\"", "duration = \"35 minutes\""),
        "bad-unit",
        Level::Error,
        "35 minutes",
    );
    assert!(f.message.contains("invalid duration"), "{}", f.message);
    expect(
        mutate(SEED, "duration = \"35m\"", "duration = 35"),
        "bad-unit",
        Level::Error,
        "duration = 35",
    );
    expect(
        mutate(SEED, "capacity = \"1200GiB\"", "capacity = \"1200\""),
        "bad-unit",
        Level::Error,
        "capacity",
    );
    expect(
        mutate(SEED, "memory = \"14GiB\"", "memory = \"14gb\""),
        "bad-unit",
        Level::Error,
        "14gb",
    );
}

#[test]
fn fsx_capacity_must_be_1200_or_a_multiple_of_2400() {
    let f = expect(
        mutate(SEED, "capacity = \"1200GiB\"", "capacity = \"1.2TB\""),
        "fsx-capacity",
        Level::Error,
        "capacity",
    );
    assert!(f.hint.unwrap().contains("1200 GiB or a multiple of 2400"));
    expect(
        mutate(SEED, "capacity = \"1200GiB\"", "capacity = \"3600GiB\""),
        "fsx-capacity",
        Level::Error,
        "3600GiB",
    );
    assert!(
        !diagnostics(mutate(
            SEED,
            "capacity = \"1200GiB\"",
            "capacity = \"4800GiB\""
        ))
        .findings
        .iter()
        .any(|f| f.code == "fsx-capacity")
    );
}

#[test]
fn fsx_throughput_must_suit_the_deployment_type() {
    expect(
        mutate(
            SEED,
            "mount_path = \"/fsx\"",
            "mount_path = \"/fsx\"\nthroughput_per_tib = 200",
        ),
        "fsx-throughput",
        Level::Error,
        "throughput_per_tib",
    );
    let p2 = mutate(
        SEED,
        "deployment_type = \"SCRATCH_2\"",
        "deployment_type = \"PERSISTENT_2\"\nthroughput_per_tib = 200",
    );
    let f = expect(
        p2,
        "fsx-throughput",
        Level::Error,
        "throughput_per_tib = 200",
    );
    assert!(f.hint.unwrap().contains("125, 250, 500, 1000"));
    expect(
        mutate(
            SEED,
            "deployment_type = \"SCRATCH_2\"",
            "deployment_type = \"PERSISTENT_1\"",
        ),
        "fsx-throughput",
        Level::Error,
        "PERSISTENT_1",
    );
    // 1000 MB/s/TiB on 1200 GiB sustains the seed's 1.2 GB/s: no warning
    let ok = mutate(
        SEED,
        "deployment_type = \"SCRATCH_2\"",
        "deployment_type = \"PERSISTENT_2\"\nthroughput_per_tib = 1000",
    );
    assert!(
        !diagnostics(ok)
            .findings
            .iter()
            .any(|f| f.code.starts_with("fsx-throughput"))
    );
}

#[test]
fn efa_required_on_a_type_without_efa_names_capable_sizes() {
    let text = mutate(
        SEED,
        "allocation_strategy = \"SPOT_PRICE_CAPACITY_OPTIMIZED\"",
        "allocation_strategy = \"SPOT_PRICE_CAPACITY_OPTIMIZED\"\nefa = \"required\"",
    );
    let f = expect(text, "efa-unsupported", Level::Error, "g4dn.xlarge");
    assert!(f.hint.unwrap().contains("g4dn.8xlarge"));
    let g3 = mutate(
        SEED,
        "instance_types = [\"g3s.xlarge\"]",
        "instance_types = [\"g3s.xlarge\"]\nefa = \"required\"",
    );
    let f = expect(g3, "efa-unsupported", Level::Error, "g3s.xlarge");
    assert!(f.hint.unwrap().contains("g4dn.8xlarge"));
    let auto = mutate(
        SEED,
        "instance_types = [\"g3s.xlarge\"]",
        "instance_types = [\"g3s.xlarge\"]\nefa = \"auto\"",
    );
    expect(auto, "efa-fallback", Level::Warning, "g3s.xlarge");
}

#[test]
fn efa_across_more_than_one_zone_is_an_error() {
    let text = mutate(EFA, "availability_zones = [\"us-east-1a\"]\n", "");
    expect(text, "efa-multi-az", Level::Error, "efa = \"required\"");
}

#[test]
fn multi_node_needs_a_placement_group_and_on_demand() {
    let text = mutate(EFA, "placement_group = \"training\"\n", "");
    expect(
        text.clone(),
        "mnp-no-placement",
        Level::Warning,
        "nodes = 2",
    );
    expect(
        text,
        "efa-no-placement",
        Level::Warning,
        "efa = \"required\"",
    );
    let spot = mutate(
        EFA,
        "purchase = \"on-demand\"\nallocation_strategy = \"BEST_FIT_PROGRESSIVE\"",
        "purchase = \"spot\"",
    );
    expect(spot, "mnp-spot", Level::Error, "nodes = 2");
}

#[test]
fn queue_naming_an_unknown_compute_environment() {
    let f = expect(
        mutate(
            SEED,
            "compute_environments = [\"training-spot\"]",
            "compute_environments = [\"training-spto\"]",
        ),
        "unknown-reference",
        Level::Error,
        "training-spto",
    );
    assert_eq!(f.hint.as_deref(), Some("did you mean \"training-spot\"?"));
    expect(
        mutate(SEED, "queue = \"inference\"", "queue = \"gpu\""),
        "unknown-reference",
        Level::Error,
        "queue = \"gpu\"",
    );
}

#[test]
fn duplicate_names_and_priorities() {
    expect(
        mutate(SEED, "name = \"inference\"", "name = \"training\""),
        "duplicate-name",
        Level::Error,
        "name = \"training\"",
    );
    // TOML itself rejects a second table of the same name
    let dup = format!(
        "{SEED}\n[job_queues.training]\npriority = 9\ncompute_environments = [\"training-spot\"]\n"
    );
    expect(dup, "toml-syntax", Level::Error, "[job_queues.training]");
    let shared = mutate(
        SEED,
        "compute_environments = [\"inference-ondemand\"]",
        "compute_environments = [\"inference-ondemand\", \"training-spot\"]",
    );
    let same = mutate(&shared, "priority = 2", "priority = 1");
    let f = expect(same, "duplicate-priority", Level::Warning, "priority = 1");
    assert!(f.message.contains("training-spot"));
    expect(
        mutate(
            SEED,
            "compute_environments = [\"training-spot\"]",
            "compute_environments = [\"training-spot\", \"training-spot\"]",
        ),
        "duplicate-name",
        Level::Error,
        "training-spot",
    );
}

#[test]
fn dependency_cycles_are_named_in_full() {
    let text = mutate(
        SEED,
        "timeout = \"1h30m\"",
        "timeout = \"1h30m\"\ndepends_on = [\"documentation\"]",
    );
    let f = expect(text, "dependency-cycle", Level::Error, "depends_on");
    assert!(
        f.message.contains("training")
            && f.message.contains("inference")
            && f.message.contains("documentation"),
        "{}",
        f.message
    );
    let own = mutate(
        SEED,
        "timeout = \"1h30m\"",
        "timeout = \"1h30m\"\ndepends_on = [\"training\"]",
    );
    expect(
        own,
        "dependency-cycle",
        Level::Error,
        "depends_on = [\"training\"]",
    );
    expect(
        mutate(
            SEED,
            "depends_on = [\"training\"]",
            "depends_on = [\"trianing\"]",
        ),
        "unknown-reference",
        Level::Error,
        "trianing",
    );
}

#[test]
fn jobs_larger_than_any_instance_of_their_queue() {
    let f = expect(
        mutate(SEED, "memory = \"28GiB\"", "memory = \"64GiB\""),
        "job-does-not-fit",
        Level::Error,
        "memory = \"64GiB\"",
    );
    assert!(
        f.hint
            .unwrap()
            .contains("g3s.xlarge (4 vCPU, 30 GiB, 1 GPU)")
    );
    expect(
        mutate(SEED, "vcpus = 2", "vcpus = 8"),
        "job-does-not-fit",
        Level::Error,
        "vcpus = 8",
    );
    expect(
        mutate(SEED, "memory = \"3GiB\"", "memory = \"3GiB\"\ngpus = 1"),
        "job-does-not-fit",
        Level::Error,
        "gpus = 1",
    );
    expect(
        mutate(SEED, "memory = \"14GiB\"", "memory = \"15.5GiB\""),
        "memory-tight",
        Level::Warning,
        "15.5GiB",
    );
}

#[test]
fn max_vcpus_below_one_instance() {
    let f = expect(
        mutate(SEED, "max_vcpus = 16", "max_vcpus = 2"),
        "max-vcpus-too-low",
        Level::Error,
        "max_vcpus = 2",
    );
    assert!(f.message.contains("(4)"));
    expect(
        mutate(SEED, "max_vcpus = 16", "max_vcpus = 0"),
        "bad-vcpus",
        Level::Error,
        "max_vcpus = 0",
    );
    expect(
        mutate(
            SEED,
            "min_vcpus = 0\nmax_vcpus = 16",
            "min_vcpus = 4\nmax_vcpus = 16",
        ),
        "idle-capacity",
        Level::Warning,
        "min_vcpus = 4",
    );
}

#[test]
fn purchase_option_rules() {
    expect(
        mutate(SEED, "max_vcpus = 8", "max_vcpus = 8\nbid_percentage = 50"),
        "bad-value",
        Level::Error,
        "bid_percentage",
    );
    expect(
        mutate(
            SEED,
            "max_vcpus = 16",
            "max_vcpus = 16\nbid_percentage = 150",
        ),
        "bad-value",
        Level::Error,
        "bid_percentage = 150",
    );
    expect(
        mutate(
            SEED,
            "max_vcpus = 8",
            "max_vcpus = 8\nallocation_strategy = \"SPOT_CAPACITY_OPTIMIZED\"",
        ),
        "bad-value",
        Level::Error,
        "SPOT_CAPACITY_OPTIMIZED",
    );
    expect(
        mutate(
            SEED,
            "retry = { attempts = 3, on_spot_interruption = true }",
            "",
        ),
        "spot-no-retry",
        Level::Warning,
        "[[phases]]",
    );
    expect(
        mutate(SEED, "retry = { attempts = 3,", "retry = { attempts = 11,"),
        "bad-value",
        Level::Error,
        "attempts = 11",
    );
}

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
fn unknown_instance_types_are_warned_with_a_suggestion() {
    // A real EC2 type pipectl has no facts for: a warning.
    let f = expect(
        mutate(
            SEED,
            "instance_types = [\"t3.medium\"]",
            "instance_types = [\"m7i.xlarge\"]",
        ),
        "unknown-instance-type",
        Level::Warning,
        "m7i.xlarge",
    );
    assert!(f.message.contains("no facts"), "{}", f.message);
}

#[test]
fn a_name_ec2_does_not_have_is_an_error_with_the_closest_names() {
    let f = expect(
        mutate(
            SEED,
            "instance_types = [\"t3.medium\"]",
            "instance_types = [\"t3.meduim\"]",
        ),
        "not-an-instance-type",
        Level::Error,
        "t3.meduim",
    );
    assert!(f.hint.unwrap().contains("\"t3.medium\""));
    let f = expect(
        mutate(
            SEED,
            "instance_types = [\"g4dn.xlarge\"]",
            "instance_types = [\"g4dn.xlargee\"]",
        ),
        "not-an-instance-type",
        Level::Error,
        "g4dn.xlargee",
    );
    assert!(f.hint.unwrap().starts_with("did you mean \"g4dn.xlarge\""));
    // families and `optimal` are what Batch accepts too
    let d = diagnostics(mutate(
        SEED,
        "instance_types = [\"t3.medium\"]",
        "instance_types = [\"c5\", \"optimal\"]",
    ));
    assert!(
        !d.findings.iter().any(|f| f.code == "not-an-instance-type"),
        "{d}"
    );
}

#[test]
fn spot_best_fit_needs_a_fleet_role_pipectl_does_not_create() {
    let f = expect(
        mutate(
            SEED,
            "allocation_strategy = \"SPOT_PRICE_CAPACITY_OPTIMIZED\"",
            "allocation_strategy = \"BEST_FIT\"",
        ),
        "spot-best-fit",
        Level::Error,
        "BEST_FIT",
    );
    assert!(f.hint.unwrap().contains("SPOT_PRICE_CAPACITY_OPTIMIZED"));
}

#[test]
fn the_seeds_g3s_needs_an_image_of_its_own() {
    let f = expect(SEED.to_string(), "gpu-image", Level::Warning, "g3s.xlarge");
    let hint = f.hint.unwrap();
    assert!(
        hint.contains("image_id") && hint.contains("g4dn.xlarge"),
        "{hint}"
    );
    let own = mutate(
        SEED,
        "instance_types = [\"g3s.xlarge\"]",
        "instance_types = [\"g3s.xlarge\"]\nimage_id = \"ami-0123456789abcdef0\"",
    );
    assert!(
        !diagnostics(own)
            .findings
            .iter()
            .any(|f| f.code == "gpu-image")
    );
    expect(
        mutate(
            SEED,
            "instance_types = [\"g3s.xlarge\"]",
            "instance_types = [\"g3s.xlarge\"]\nimage_id = \"my-ami\"",
        ),
        "bad-value",
        Level::Error,
        "my-ami",
    );
}

#[test]
fn dependencies_images_and_lustre_versions_aws_refuses() {
    let mut many = String::new();
    for i in 0..21 {
        many.push_str(&format!("\n[[phases]]\nname = \"p{i}\"\nqueue = \"documentation\"\nimage = \"x\"\ncommand = [\"true\"]\nvcpus = 1\nmemory = \"1GiB\"\nduration = \"1m\"\n"));
    }
    let deps: Vec<String> = (0..21).map(|i| format!("\"p{i}\"")).collect();
    let text = mutate(
        SEED,
        "depends_on = [\"inference\"]",
        &format!("depends_on = [{}]", deps.join(", ")),
    ) + &many;
    expect(text, "too-many-dependencies", Level::Error, "depends_on");
    expect(
        SEED.replacen(
            "image = \"public.ecr.aws/docker/library/python:3.12-slim\"",
            "image = \"python@sha256:0123\"",
            1,
        ),
        "bad-image",
        Level::Error,
        "python@sha256",
    );
    let f = expect(
        mutate(
            SEED,
            "deployment_type = \"SCRATCH_2\"",
            "deployment_type = \"SCRATCH_2\"\nlustre_version = \"2.10\"",
        ),
        "dra-unsupported",
        Level::Error,
        "lustre_version",
    );
    assert!(f.hint.unwrap().contains("2.15"));
    expect(
        SEED.replace("SCRATCH_2", "SCRATCH_1"),
        "dra-unsupported",
        Level::Error,
        "data_repositories",
    );
}

#[test]
fn references_into_storage() {
    expect(
        mutate(SEED, "{ bucket = \"input-data\"", "{ bucket = \"inputs\""),
        "unknown-reference",
        Level::Error,
        "inputs",
    );
    let no_fsx_user = SEED
        .replace("uses_fsx = false", "")
        .replace("[[phases]]", "[[phases]]\nuses_fsx = false");
    expect(no_fsx_user, "unused", Level::Warning, "[fsx]");
}

#[test]
fn truncated_empty_and_mistyped_files_fail_cleanly() {
    let cut = &SEED[..SEED.find("[[phases]]").unwrap() + 5];
    expect(cut.to_string(), "toml-syntax", Level::Error, "[[pha");
    let f = expect(String::new(), "missing-key", Level::Error, "");
    assert!(f.message.contains("stack"), "{}", f.message);
    expect(
        mutate(SEED, "priority = 1", "priority = \"high\""),
        "bad-type",
        Level::Error,
        "priority = \"high\"",
    );
    expect(
        mutate(SEED, "max_vcpus = 16", "max_vcpus = -16"),
        "bad-type",
        Level::Error,
        "max_vcpus = -16",
    );
}

#[test]
fn non_utf8_bytes_are_located() {
    let mut bytes = SEED.as_bytes().to_vec();
    let at = SEED.find("description").unwrap();
    bytes.insert(at, 0xff);
    let err = load_bytes(Path::new("spec.toml"), bytes).unwrap_err();
    let d = err.diagnostics().unwrap();
    assert_eq!(d.findings[0].code, "not-utf8");
    let line = SEED[..at].lines().count() + 1;
    assert_eq!(d.findings[0].line_col.unwrap().line, line);
}

#[test]
fn very_large_inputs_are_refused_or_handled() {
    // Over the limit: refused before parsing.
    let huge = "# padding\n".repeat(500_000);
    let err = load_bytes(Path::new("spec.toml"), huge.into_bytes()).unwrap_err();
    assert_eq!(err.diagnostics().unwrap().findings[0].code, "too-large");
    // Under the limit but large: thousands of phases validate (linear rules, no blow-up).
    let mut big = SEED.to_string();
    for i in 0..3000 {
        big.push_str(&format!(
            "\n[[phases]]\nname = \"extra-{i}\"\nqueue = \"documentation\"\nimage = \"x\"\nvcpus = 1\nmemory = \"1GiB\"\nduration = \"1m\"\ndepends_on = [\"{}\"]\nuses_fsx = false\n",
            if i == 0 { "documentation".to_string() } else { format!("extra-{}", i - 1) }
        ));
    }
    let d = diagnostics(big);
    assert!(
        !d.has_errors(),
        "{}",
        d.findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn reserved_names_are_refused() {
    expect(
        mutate(
            SEED,
            "description = \"Seed pipeline",
            "tags = { \"pipectl:stack\" = \"x\" }\ndescription = \"Seed pipeline",
        ),
        "reserved-tag",
        Level::Error,
        "pipectl:stack",
    );
    expect(
        mutate(
            SEED,
            "data_out = \"1GB\"\n# Documentation",
            "data_out = \"1GB\"\nenvironment = { AWS_BATCH_JOB_ID = \"x\" }\n# Documentation",
        ),
        "reserved-env",
        Level::Error,
        "AWS_BATCH_JOB_ID",
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
