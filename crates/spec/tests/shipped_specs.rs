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

mod graph {
    use super::*;
    use pipectl_spec::graph::{Graph, Kind, ResourceId};

    /// A logical id as `plan` spells it.
    fn id(s: &str) -> ResourceId {
        s.parse().unwrap()
    }

    fn graph(name: &str) -> Graph {
        Graph::from_spec(&load_file(&spec_path(name)).unwrap().spec)
    }

    fn count(g: &Graph, kind: Kind) -> usize {
        g.resources.iter().filter(|r| r.kind == kind).count()
    }

    #[test]
    fn seed_plan_lists_every_resource_up_creates() {
        let g = graph("two-hour-pipeline.toml");
        assert_eq!(count(&g, Kind::Vpc), 1);
        assert_eq!(
            count(&g, Kind::Subnet),
            3,
            "two private, one public for the NAT gateway"
        );
        assert_eq!(count(&g, Kind::NatGateway), 1);
        assert_eq!(count(&g, Kind::SecurityGroup), 1);
        assert_eq!(
            count(&g, Kind::IamRole),
            2,
            "ECS instance, job (the Batch service role is Batch's service-linked role)"
        );
        assert_eq!(count(&g, Kind::LogGroup), 1);
        assert_eq!(count(&g, Kind::InstanceProfile), 1);
        assert_eq!(count(&g, Kind::LaunchTemplate), 3);
        assert_eq!(count(&g, Kind::ComputeEnvironment), 3);
        assert_eq!(count(&g, Kind::JobQueue), 3);
        assert_eq!(count(&g, Kind::JobDefinition), 3);
        assert_eq!(count(&g, Kind::FileSystem), 1);
        assert_eq!(count(&g, Kind::DataRepositoryAssociation), 3);
        assert_eq!(count(&g, Kind::Bucket), 4);
        assert_eq!(count(&g, Kind::PlacementGroup), 0);
        let q = g.get(&id("jq-training")).unwrap();
        assert!(q.settings.contains(&("priority".into(), "1".into())));
        let ce = g.get(&id("ce-training-spot")).unwrap();
        assert!(
            ce.settings
                .iter()
                .any(|(k, v)| k == "purchase" && v == "Spot")
        );
        let lt = g.get(&id("lt-documentation")).unwrap();
        assert!(
            !lt.depends_on.contains(&id("fsx")),
            "documentation does not mount Lustre"
        );
    }

    #[test]
    fn efa_plan_adds_the_placement_group_and_efa_interface() {
        let g = graph("two-hour-pipeline-efa.toml");
        assert_eq!(count(&g, Kind::PlacementGroup), 1);
        let lt = g.get(&id("lt-training-efa")).unwrap();
        assert!(
            lt.settings
                .contains(&("network interface".into(), "EFA".into()))
        );
        let jd = g.get(&id("jd-training")).unwrap();
        assert!(
            jd.settings
                .iter()
                .any(|(_, v)| v == "/dev/infiniband/uverbs0")
        );
        assert!(
            g.get(&id("ce-training-efa"))
                .unwrap()
                .depends_on
                .contains(&id("pg-training"))
        );
    }

    #[test]
    fn waves_respect_every_dependency() {
        for name in ["two-hour-pipeline.toml", "two-hour-pipeline-efa.toml"] {
            let g = graph(name);
            let waves = g.waves();
            let wave_of = |id: &ResourceId| {
                waves
                    .iter()
                    .position(|w| w.iter().any(|r| &r.id == id))
                    .unwrap_or_else(|| panic!("{id} in no wave"))
            };
            assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), g.resources.len());
            for r in &g.resources {
                for d in &r.depends_on {
                    assert!(g.get(d).is_some(), "{} depends on missing {d}", r.id);
                    assert!(wave_of(d) < wave_of(&r.id), "{} is not after {d}", r.id);
                }
            }
        }
    }

    #[test]
    fn data_repository_associations_are_created_one_at_a_time() {
        let g = graph("two-hour-pipeline.toml");
        let waves = g.waves();
        let wave_of = |kind_index: usize| {
            waves
                .iter()
                .position(|w| {
                    w.iter()
                        .any(|r| r.id == ResourceId::DataRepositoryAssociation(kind_index))
                })
                .unwrap()
        };
        assert_eq!(count(&g, Kind::DataRepositoryAssociation), 3);
        assert!(wave_of(0) < wave_of(1) && wave_of(1) < wave_of(2));
    }
}
