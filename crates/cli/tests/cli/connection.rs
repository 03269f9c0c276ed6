//! Before any AWS call: refusals on AWS, missing credentials, unusable connection options.

use super::*;

#[test]
fn up_on_the_local_aws_refuses_the_seeds_g3s_before_any_call() {
    // an endpoint where nothing answers: a call would fail differently (exit 6)
    let o = Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(["up", "--endpoint-url", "http://127.0.0.1:9", "--yes", SEED])
        .current_dir(root())
        .env_remove("PIPECTL_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipectl");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("AWS would refuse this spec") && err.contains("g3s.xlarge"),
        "{err}"
    );
}

#[test]
fn up_on_aws_refuses_the_seeds_g3s_before_any_call() {
    let o = Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(["up", "--aws", "--yes", SEED])
        .current_dir(root())
        .env_remove("PIPECTL_LOG")
        .env("NO_COLOR", "1")
        // no credentials anywhere: a call would fail differently (exit 6)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run pipectl");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("AWS would refuse this spec"), "{err}");
    assert!(
        err.contains("two-hour-pipeline.toml:"),
        "the place is named: {err}"
    );
    assert!(
        err.contains("g3s.xlarge") && err.contains("image_id"),
        "{err}"
    );
    // validate shows it as a warning, with both ways out
    let v = pipectl(&["validate", SEED]);
    assert!(v.status.success());
    assert!(stderr(&v).contains("gpu-image") || stdout(&v).contains("gpu-image"));
    // the EFA variant (g4dn.xlarge for inference) is what AWS accepts
    let efa = pipectl(&["validate", "infra-specs/two-hour-pipeline-efa.toml"]);
    let text = format!("{}{}", stdout(&efa), stderr(&efa));
    assert!(
        efa.status.success() && !text.contains("gpu-image"),
        "{text}"
    );
}

/// pipectl with no AWS credentials anywhere (no files, no environment, no instance metadata).
fn without_credentials(args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipectl"));
    c.args(args)
        .current_dir(root())
        .env_remove("PIPECTL_LOG")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().expect("run pipectl")
}

#[test]
fn missing_credentials_are_their_own_error_not_unreachable() {
    let efa = "infra-specs/two-hour-pipeline-efa.toml";
    let start = std::time::Instant::now();
    let o = without_credentials(&["status", "--aws", efa], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(10), "{err}");
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(
        err.contains("aws configure") && err.contains("aws sso login"),
        "{err}"
    );
    assert!(!err.contains("could not reach"), "{err}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "not retried until a deadline"
    );
    // `export AWS_ENDPOINT_URL=` leaves it empty: empty is unset, not a panic
    let o = without_credentials(&["status", "--aws", efa], &[("AWS_ENDPOINT_URL", "")]);
    assert_eq!(o.status.code(), Some(10), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn unusable_connection_options_are_usage_errors_naming_the_value() {
    let efa = "infra-specs/two-hour-pipeline-efa.toml";
    for (args, named) in [
        (
            vec!["status", "--aws", "--profile", "no-such-profile", efa],
            "no-such-profile",
        ),
        (
            vec!["status", "--endpoint-url", "not a url", efa],
            "not a url",
        ),
        (vec!["status", "--endpoint-url", "", efa], "\"\""),
        (vec!["status", "--region", "us east-1", efa], "us east-1"),
        (vec!["up", "--concurrency", "0", efa], "concurrency"),
        (vec!["status", "--max-attempts", "0", efa], "max-attempts"),
    ] {
        let o = without_credentials(&args, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} names {named}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `status` of the seed against an endpoint nothing answers on, with or without credentials.
fn status_unreachable(with_credentials: bool) -> Output {
    // empty config and credentials files: nothing configured there (and nothing for the SDK
    // to warn about)
    let empty = std::env::temp_dir().join(format!("pipectl-empty-aws-{}", std::process::id()));
    std::fs::write(&empty, "").unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipectl"));
    c.args([
        "status",
        SEED,
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--max-attempts",
        "1",
    ])
    .current_dir(root())
    .env_remove("PIPECTL_LOG")
    .env_remove("AWS_PROFILE")
    .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
    .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    .env("AWS_CONFIG_FILE", &empty)
    .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
    .env("AWS_EC2_METADATA_DISABLED", "true");
    if with_credentials {
        c.env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "example");
    } else {
        c.env_remove("AWS_ACCESS_KEY_ID");
    }
    let o = c.output().expect("run pipectl");
    let _ = std::fs::remove_file(&empty);
    o
}

#[test]
fn the_target_comes_first_and_an_unreachable_local_endpoint_names_aws_when_credentials_exist() {
    let o = status_unreachable(true);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.starts_with(
            "target: local AWS at http://127.0.0.1:9, region us-east-1 (--aws for AWS)\n"
        ),
        "the first line names the target: {err}"
    );
    assert!(err.contains("pass --aws"), "{err}");
    assert!(
        !err.contains("AKIAEXAMPLE"),
        "credentials are never printed: {err}"
    );

    let o = status_unreachable(false);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.starts_with("target: local AWS at http://127.0.0.1:9"),
        "{err}"
    );
    assert!(
        !err.contains("pass --aws"),
        "no AWS credentials here, so --aws would not help: {err}"
    );

    // --quiet: only errors
    let o = Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args([
            "status",
            SEED,
            "--quiet",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--max-attempts",
            "1",
        ])
        .current_dir(root())
        .output()
        .expect("run pipectl");
    assert!(!stderr(&o).contains("target:"), "{}", stderr(&o));
}
