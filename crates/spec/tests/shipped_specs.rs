//! The specs shipped in infra-specs/ load, validate, and say what they should about
//! themselves.

use std::path::PathBuf;

use pipectl_spec::{Level, load_file};

fn spec_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../infra-specs")
        .join(name)
}

#[test]
fn seed_spec_is_valid_and_faithful_to_the_seed() {
    let loaded = load_file(&spec_path("two-hour-pipeline.toml"))
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.diagnostics().map(ToString::to_string)));
    let spec = &loaded.spec;
    let ce = |n: &str| &spec.compute_environments[n];
    assert_eq!(ce("training-spot").instance_types, ["g4dn.xlarge"]);
    assert_eq!(
        ce("training-spot").purchase,
        pipectl_spec::model::Purchase::Spot
    );
    assert_eq!(ce("inference-ondemand").instance_types, ["g3s.xlarge"]);
    assert_eq!(
        ce("inference-ondemand").purchase,
        pipectl_spec::model::Purchase::OnDemand
    );
    assert_eq!(ce("documentation").instance_types, ["t3.medium"]);
    assert_eq!(spec.job_queues["training"].priority, 1);
    assert_eq!(spec.job_queues["inference"].priority, 2);
    let minutes: Vec<f64> = spec.phases.iter().map(|p| p.duration.minutes()).collect();
    assert_eq!(minutes, [35.0, 12.0, 73.0]);
    assert_eq!(spec.fsx.as_ref().unwrap().capacity.whole_gib(), Some(1200));
    let sizes: Vec<f64> = spec.buckets.values().map(|b| b.size.gb()).collect();
    assert_eq!(sizes, [2.0, 1.0, 1.0, 1.0]);
    let out: f64 = spec.phases.iter().map(|p| p.data_out.gb()).sum();
    assert_eq!(out, 5.0);
    // The seed's 1.2 GB/s is not what this file system sustains: validation says so, located.
    let f = loaded
        .diagnostics
        .findings
        .iter()
        .find(|f| f.code == "fsx-throughput-short")
        .expect("throughput warning");
    assert_eq!(f.level, Level::Warning);
    let lc = f.line_col.unwrap();
    let line = loaded.diagnostics.text.lines().nth(lc.line - 1).unwrap();
    assert!(line.starts_with("required_throughput"), "{line}");
    assert!(
        f.hint.as_deref().unwrap().contains("240 MB/s"),
        "{:?}",
        f.hint
    );
    assert!(
        !loaded
            .diagnostics
            .findings
            .iter()
            .any(|f| f.level == Level::Error)
    );
}

#[test]
fn efa_spec_is_valid() {
    let loaded = load_file(&spec_path("two-hour-pipeline-efa.toml"))
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.diagnostics().map(ToString::to_string)));
    let ce = &loaded.spec.compute_environments["training-efa"];
    assert_eq!(ce.efa, pipectl_spec::model::EfaMode::Required);
    assert_eq!(ce.placement_group.as_deref(), Some("training"));
    assert!(loaded.spec.phases[0].is_multi_node());
    assert!(
        loaded
            .diagnostics
            .findings
            .iter()
            .all(|f| f.level < Level::Warning),
        "{}",
        loaded.diagnostics
    );
}
