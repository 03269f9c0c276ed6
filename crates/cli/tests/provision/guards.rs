//! What up refuses: a held lock, no terminal without --yes, an invalid spec, an unreachable endpoint,
//! a stack without its permissions boundary.

use super::*;

#[test]
fn a_held_lock_stops_a_second_up_on_the_same_stack() {
    let s = stack("two-hour-pipeline.toml", "lock");
    let _held =
        pipectl_provision::StateStore::open(&s.dir.path().join(".pipectl/state"), &s.name).unwrap();
    let o = s.run(&["up", "--yes"]);
    assert_eq!(o.status.code(), Some(7), "{}", err(&o));
    assert!(
        err(&o).contains(".lock") && err(&o).contains("hint:"),
        "{}",
        err(&o)
    );
}

#[test]
fn without_a_terminal_up_needs_yes_and_changes_nothing() {
    let s = stack("two-hour-pipeline.toml", "noyes");
    let o = s.run(&["up"]);
    assert_eq!(o.status.code(), Some(8), "{}", err(&o));
    assert!(err(&o).contains("nothing was changed"), "{}", err(&o));
    assert!(
        !s.state_file().exists()
            || !std::fs::read_to_string(s.state_file())
                .unwrap()
                .contains("vpc-")
    );
}

#[test]
fn an_invalid_spec_makes_no_aws_call_and_an_unreachable_endpoint_is_named() {
    let s = stack("two-hour-pipeline.toml", "bad");
    // Port 9 (discard) has no listener: any AWS call would fail with "could not reach".
    let bad = s.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&s.spec)
            .unwrap()
            .replace("capacity = \"1200GiB\"", "capacity = \"1000GiB\""),
    )
    .unwrap();
    let o = stack::pipectl_in(
        s.dir.path(),
        &[
            "up",
            "--yes",
            "--endpoint-url",
            "http://127.0.0.1:9",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(
        err(&o).contains("bad.toml:") && !err(&o).contains("could not reach"),
        "{}",
        err(&o)
    );
    let o = stack::pipectl_in(
        s.dir.path(),
        &[
            "up",
            "--yes",
            "--max-attempts",
            "1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            s.spec.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(6), "{}", err(&o));
    assert!(
        err(&o).contains("GetCallerIdentity")
            && err(&o).contains("could not reach AWS")
            && err(&o).contains("hint:"),
        "{}",
        err(&o)
    );
    assert!(out(&o).is_empty());
}

#[test]
fn every_aws_command_says_its_target_on_its_first_line() {
    let s = stack("two-hour-pipeline.toml", "target");
    let target = format!(
        "target: local AWS at {}, region us-east-1 (--aws for AWS)",
        stack::endpoint()
    );
    for args in [
        &["status"][..],
        &["up", "--dry-run"],
        &["run"],
        &["down", "--yes"],
    ] {
        let o = s.run(args);
        let e = err(&o);
        assert_eq!(
            e.lines().next(),
            Some(target.as_str()),
            "pipectl {}: the first line of its output names the target:\n{e}",
            args.join(" ")
        );
    }
    // --quiet: errors only
    let o = s.run(&["status", "--quiet"]);
    assert!(!err(&o).contains("target:"), "{}", err(&o));
}

/// Without the stack's permissions boundary, `up` stops before any change, naming it and
/// the administrator's command; `bootstrap` creates it once, and again changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn up_without_the_permissions_boundary_changes_nothing() {
    let s = stack("two-hour-pipeline.toml", "noboundary");
    let aws = aws().await;
    let spec = s.spec.to_str().unwrap();
    // "-q" first: the test helper bootstraps before a plain `up`, not before this one
    let o = stack::pipectl_in(s.dir.path(), &["-q", "up", "--yes", spec]);
    let e = err(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains(&format!("pipectl-{}-boundary does not exist", s.name))
            && e.contains("pipectl bootstrap"),
        "{e}"
    );
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
    assert!(ok(&s.run(&["bootstrap"])).contains(": created."));
    assert!(ok(&s.run(&["bootstrap"])).contains("nothing to do"));
    // a spec whose buckets changed needs the administrator again
    let text = std::fs::read_to_string(&s.spec).unwrap();
    std::fs::write(
        &s.spec,
        text.replacen(
            "[buckets.",
            "[buckets.extra]\nsize = \"1GB\"\n\n[buckets.",
            1,
        ),
    )
    .unwrap();
    let o = stack::pipectl_in(s.dir.path(), &["-q", "up", "--yes", spec]);
    assert!(err(&o).contains("is not this spec's"), "{}", err(&o));
    assert!(ok(&s.run(&["bootstrap"])).contains("updated"));
    let policy = format!(
        "arn:aws:iam::{}:policy/pipectl/pipectl-{}-boundary",
        aws.account_id().await.unwrap(),
        s.name
    );
    let _ = aws.iam.delete_policy().policy_arn(policy).send().await;
}
