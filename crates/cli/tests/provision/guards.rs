//! What up refuses: a held lock, no terminal without --yes, an invalid spec, an unreachable endpoint.

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
