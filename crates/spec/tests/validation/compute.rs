//! Compute environment and queue rules: instance types, EFA, capacity, purchase options, images.

use super::*;

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
fn an_efa_phase_cannot_fall_back_where_there_is_no_efa() {
    // training's job definition carries EFA's device; the inference queue has no EFA
    let f = expect(
        mutate(
            EFA,
            "retry = { attempts = 2, on_spot_interruption = false }",
            "retry = { attempts = 2, on_spot_interruption = false }\nfallback = { queue = \"inference\", after = \"15m\" }",
        ),
        "efa-fallback",
        Level::Error,
        "fallback",
    );
    assert!(
        f.message.contains("uverbs") || f.message.contains("EFA"),
        "{}",
        f.message
    );
}

#[test]
fn efa_behind_vpc_endpoints_alone_is_refused() {
    let f = expect(
        mutate(
            EFA,
            "egress = \"nat-gateway\"",
            "egress = \"vpc-endpoints\"",
        ),
        "efa-unreachable",
        Level::Error,
        "efa = \"required\"",
    );
    assert!(f.hint.unwrap().contains("nat-gateway"));
}
