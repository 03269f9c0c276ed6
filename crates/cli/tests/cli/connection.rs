//! Before any AWS call: refusals on AWS, missing credentials, unusable connection options.

use super::*;

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
