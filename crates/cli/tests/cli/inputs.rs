//! `validate`, `plan` and bad input: file:line:col, hints, exit codes, no output when invalid.

use super::*;

#[test]
fn plan_lists_both_specs_resources() {
    for (spec, resources) in [(SEED, 37), ("infra-specs/two-hour-pipeline-efa.toml", 37)] {
        let o = pipectl(&["-q", "plan", spec, "--output", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["resources"].as_array().unwrap().len(),
            resources,
            "{spec}"
        );
        let text = stdout(&pipectl(&["-q", "plan", spec]));
        assert!(
            text.contains(&format!("{resources} resources to create")),
            "{text}"
        );
    }
}

#[test]
fn invalid_spec_exits_3_with_file_line_col_and_makes_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(root().join(SEED))
        .unwrap()
        .replace("max_vcpus = 16", "max_vcpus = 2");
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l == "max_vcpus = 2").unwrap() + 1;
    for cmd in ["validate", "plan", "cost"] {
        let o = pipectl(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(3), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("bad.toml:{line}:13: error[max-vcpus-too-low]")),
            "{cmd}: {err}"
        );
        assert!(err.contains("help: set max_vcpus to at least 4"), "{err}");
        assert!(!err.contains("panicked"));
        assert!(
            o.stdout.is_empty(),
            "{cmd} printed results for an invalid spec"
        );
    }
}

#[test]
fn validate_reports_json_and_summary() {
    let o = pipectl(&["validate", SEED]);
    assert!(o.status.success());
    // the FSx throughput the seed asks for, and its g3s.xlarge without a Batch image
    assert!(stdout(&o).contains("valid (2 warnings"), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&pipectl(&["validate", SEED, "--output", "json"]).stdout).unwrap();
    assert_eq!(v["valid"], true);
    let line = std::fs::read_to_string(root().join(SEED))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("required_throughput"))
        .unwrap()
        + 1;
    let fsx = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "fsx-throughput-short")
        .expect("the throughput finding");
    assert!(
        fsx["line_col"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{line}:"))
    );
}

#[test]
fn missing_and_non_toml_files_fail_with_a_hint() {
    let o = pipectl(&["validate", "no/such/spec.toml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("failed to read spec no/such/spec.toml")
            && stderr(&o).contains("hint:"),
        "{}",
        stderr(&o)
    );
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("x.toml");
    std::fs::write(&bin, [0x7f, b'E', b'L', b'F', 0xff, 0xfe, 0]).unwrap();
    let o = pipectl(&["cost", bin.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("x.toml:1:5: error[not-utf8]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_price_sheet_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prices.toml");
    std::fs::write(&p, "[sheet]\nname = \"x\"\nregion = \"us-east-1\"\ndate = \"2026-01-01\"\nsource = \"s\"\n[ec2.on_demand]\n\"t3.medium\" = { usd = 0.04, cents = 4 }\n").unwrap();
    let o = pipectl(&["cost", SEED, "--prices", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("prices.toml:7:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown-key"), "{}", stderr(&o));
}

#[test]
fn plan_names_the_image_type_and_the_lustre_version() {
    let o = pipectl(&["plan", SEED]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(text.contains("ECS_AL2023_NVIDIA (Batch's)"), "{text}");
    assert!(text.contains("ECS_AL2023 (Batch's)"), "{text}");
    assert!(text.contains("Lustre") && text.contains("2.15"), "{text}");
}

/// A device (or anything that never ends) is read only to the size cap, as a spec, a price
/// sheet or the spec a report reads; a run id that is not one never becomes a path.
#[test]
fn a_device_or_a_path_in_a_run_id_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["validate", "/dev/zero"],
        vec!["cost", SEED, "--prices", "/dev/zero"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pipectl"))
            .args(&args)
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if started.elapsed() > std::time::Duration::from_secs(30) {
                child.kill().unwrap();
                panic!("pipectl {args:?} did not stop reading");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains("too-large") || err.contains("limit"),
            "{args:?}: {err}"
        );
    }
    let runs = dir.path().to_str().unwrap();
    let o = pipectl(&[
        "cost",
        SEED,
        "--run",
        "../../x",
        "--runs-dir",
        runs,
        "--offline",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a run id"), "{}", stderr(&o));
}
