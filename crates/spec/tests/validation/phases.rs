//! Phase rules: dependencies, fit on the queue's instances, multi-node, images and Lustre versions AWS refuses.

use super::*;

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

/// The seed's training phase with `fallback` set to `value`.
fn with_fallback(value: &str) -> String {
    mutate(
        SEED,
        "retry = { attempts = 3, on_spot_interruption = true }",
        &format!("retry = {{ attempts = 3, on_spot_interruption = true }}\nfallback = {value}"),
    )
}

#[test]
fn a_fallback_names_another_queue_that_can_run_the_job() {
    let ok = diagnostics(with_fallback(
        r#"{ queue = "inference", after = "15m", on = ["capacity", "interruptions:2"] }"#,
    ));
    assert!(
        ok.findings.iter().all(|f| !f.code.starts_with("fallback")
            && f.line_col.is_none_or(|lc| !ok
                .text
                .lines()
                .nth(lc.line - 1)
                .unwrap()
                .contains("fallback"))),
        "{ok}"
    );
    let f = expect(
        with_fallback(r#"{ queue = "inferenc" }"#),
        "unknown-reference",
        Level::Error,
        "fallback",
    );
    assert_eq!(f.hint.as_deref(), Some("did you mean \"inference\"?"));
    expect(
        with_fallback(r#"{ queue = "training" }"#),
        "fallback-same-queue",
        Level::Error,
        "fallback",
    );
    // documentation's t3.medium has no GPU
    let f = expect(
        with_fallback(r#"{ queue = "documentation" }"#),
        "job-does-not-fit",
        Level::Error,
        "fallback",
    );
    assert!(
        f.hint.unwrap().contains("t3.medium"),
        "names what it offers"
    );
}

#[test]
fn a_fallback_that_could_never_fire_is_refused() {
    expect(
        with_fallback(r#"{ queue = "inference", on = [] }"#),
        "bad-value",
        Level::Error,
        "fallback",
    );
    expect(
        with_fallback(r#"{ queue = "inference", after = "0s" }"#),
        "bad-value",
        Level::Error,
        "fallback",
    );
    // three attempts: the third interruption fails the job before `run` could move it
    let f = expect(
        with_fallback(r#"{ queue = "inference", on = ["interruptions:3"] }"#),
        "fallback-never",
        Level::Error,
        "fallback",
    );
    assert!(f.hint.unwrap().contains("attempts = 4"));
    // a trigger that is not one: refused when the spec is read, at its place
    let d = diagnostics(with_fallback(
        r#"{ queue = "inference", on = ["interruptions:0"] }"#,
    ));
    let f = d.findings.iter().find(|f| f.level == Level::Error).unwrap();
    assert!(f.message.contains("not a fallback trigger"), "{d}");
    let lc = f.line_col.expect("a place");
    assert!(
        d.text
            .lines()
            .nth(lc.line - 1)
            .unwrap()
            .contains("fallback")
    );
}

#[test]
fn a_fallback_to_spot_or_interruptions_off_spot_is_warned() {
    let spec = mutate(
        SEED,
        "instance_types = [\"g3s.xlarge\"]\npurchase = \"on-demand\"",
        "instance_types = [\"g3s.xlarge\"]\npurchase = \"spot\"",
    );
    let spec = spec.replacen(
        "retry = { attempts = 3, on_spot_interruption = true }",
        "retry = { attempts = 3, on_spot_interruption = true }\nfallback = { queue = \"inference\" }",
        1,
    );
    expect(spec, "fallback-spot", Level::Warning, "fallback");
}

#[test]
fn a_spec_of_more_phases_than_pipectl_prices_quickly_is_refused() {
    let chain = |n: usize| -> String {
        let mut text = SEED.to_string();
        for i in 0..n {
            let dep = if i == 0 {
                "documentation".to_string()
            } else {
                format!("p{}", i - 1)
            };
            text.push_str(&format!("\n[[phases]]\nname = \"p{i}\"\nqueue = \"documentation\"\nimage = \"x\"\ncommand = [\"true\"]\nvcpus = 1\nmemory = \"1GiB\"\nduration = \"1m\"\ndepends_on = [\"{dep}\"]\n"));
        }
        text
    };
    // the seed's 3 and 97 more: at the limit
    assert!(
        !diagnostics(chain(97))
            .findings
            .iter()
            .any(|f| f.code == "too-many-phases")
    );
    let f = expect(chain(98), "too-many-phases", Level::Error, "[[phases]]");
    assert!(f.message.contains("101 phases"), "{}", f.message);
}
