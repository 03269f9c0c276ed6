//! Loading: unknown keys, units, damaged or huge files, located where they go wrong.

use super::*;

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
    // Under the size limit but large: thousands of phases validate (linear rules, no
    // blow-up), and the one error is the phase cap that keeps `analyze` fast.
    let mut big = SEED.to_string();
    for i in 0..3000 {
        big.push_str(&format!(
            "\n[[phases]]\nname = \"extra-{i}\"\nqueue = \"documentation\"\nimage = \"x\"\nvcpus = 1\nmemory = \"1GiB\"\nduration = \"1m\"\ndepends_on = [\"{}\"]\nuses_fsx = false\n",
            if i == 0 { "documentation".to_string() } else { format!("extra-{}", i - 1) }
        ));
    }
    let d = diagnostics(big);
    let errors: Vec<&str> = d
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(|f| f.code)
        .collect();
    assert_eq!(errors, ["too-many-phases"], "{d}");
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
