//! `pipectl sweep`'s decisions, apart from the runs: which node counts a multi-node phase's
//! compute environments can launch (refused before anything is submitted), the spec each run
//! takes (the phase and what it depends on the first time, the phase alone after), and the
//! points measured from the runs' records: wall seconds, speed-up over the fewest nodes,
//! efficiency (speed-up ÷ node ratio), cost per run and per item. Pure.

use serde::Serialize;

use pipectl_record::{JobStatus, RunRecord};
use pipectl_spec::Spec;
use pipectl_spec::instances;
use pipectl_spec::model::Purchase;

/// What is wrong with sweeping `phase` over `counts`, one sentence each (empty: nothing).
///
/// A multi-node job needs a multi-node job definition (`nodes` > 1 in the spec, as `up`
/// registered it); its nodes are single-tenant (one instance each) and never Spot
/// (https://docs.aws.amazon.com/batch/latest/userguide/mnp-ce.html), so N nodes need a compute
/// environment of its queue, not Spot, whose `max_vcpus` holds N of its instances.
pub fn refusals(spec: &Spec, phase: &str, counts: &[u32]) -> Vec<String> {
    let Some(p) = spec.phase(phase) else {
        let names: Vec<&str> = spec.phases.iter().map(|p| p.name.as_str()).collect();
        return vec![format!(
            "the spec has no phase {phase:?} (phases: {})",
            names.join(", ")
        )];
    };
    let mut out = Vec::new();
    if !p.is_multi_node() {
        out.push(format!(
            "phase {phase:?} is a single-node job (nodes = 1): its job definition takes no node count; set nodes = 2 or more in the spec and run `pipectl up`"
        ));
    }
    if counts.is_empty() || counts.contains(&0) {
        out.push("node counts start at 1".into());
    }
    let ces: Vec<_> = spec
        .job_queues
        .get(&p.queue)
        .map(|q| {
            q.compute_environments
                .iter()
                .filter_map(|c| spec.compute_environments.get(c).map(|ce| (c, ce)))
                .collect()
        })
        .unwrap_or_default();
    for &n in counts.iter().filter(|n| **n > 0) {
        let fits = ces.iter().any(|(_, ce)| {
            let per_node = ce
                .instance_types
                .iter()
                .filter_map(|t| instances::lookup(t))
                .filter(|t| t.vcpus >= p.vcpus)
                .map(|t| t.vcpus)
                .min()
                .unwrap_or(p.vcpus);
            ce.purchase != Purchase::Spot && n * per_node <= ce.max_vcpus
        });
        if !fits {
            let why: Vec<String> = ces
                .iter()
                .map(|(name, ce)| match ce.purchase {
                    Purchase::Spot => format!("{name} buys Spot, where multi-node jobs do not run"),
                    Purchase::OnDemand => format!("{name} has max_vcpus = {}", ce.max_vcpus),
                })
                .collect();
            out.push(format!(
                "{n} nodes of phase {phase:?} cannot be launched: each node is an instance of its own, and {}",
                why.join("; ")
            ));
        }
    }
    out
}

/// The spec of one run of the sweep: the phase and every phase it depends on (directly or
/// not) the first time, the phase alone (its dependencies already ran) after.
pub fn run_spec(spec: &Spec, phase: &str, first: bool) -> Spec {
    let mut keep = vec![phase.to_string()];
    if first {
        let mut i = 0;
        while i < keep.len() {
            if let Some(p) = spec.phase(&keep[i]) {
                for d in &p.depends_on {
                    if !keep.contains(d) {
                        keep.push(d.clone());
                    }
                }
            }
            i += 1;
        }
    }
    let mut s = spec.clone();
    s.phases.retain(|p| keep.contains(&p.name));
    if !first {
        for p in &mut s.phases {
            p.depends_on.clear();
        }
    }
    s
}

/// One node count of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Nodes the phase ran on.
    pub nodes: u32,
    /// Its run time (the attempt that succeeded), seconds.
    pub seconds: f64,
    /// The fewest nodes' seconds ÷ these.
    pub speedup: f64,
    /// `speedup` ÷ (nodes ÷ the fewest nodes): 1 is perfect scaling.
    pub efficiency: f64,
    /// Its compute cost at the run's prices, USD; `None` when unpriced.
    pub usd_per_run: Option<f64>,
    /// `usd_per_run` per item the phase declares (`items`); `None` without.
    pub usd_per_item: Option<f64>,
    /// The run it was measured in.
    pub run_id: String,
}

/// A sweep's result (`pipectl sweep --output json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// The phase swept.
    pub phase: String,
    /// One per node count that succeeded, fewest nodes first.
    pub points: Vec<Point>,
}

/// The points of `phase` measured in `records` (one per node count; a later run of a count
/// replaces an earlier one), relative to the fewest nodes.
pub fn points(spec: &Spec, phase: &str, records: &[RunRecord]) -> Sweep {
    let items = spec.phase(phase).and_then(|p| p.items);
    let mut raw: Vec<(u32, f64, Option<f64>, String)> = Vec::new();
    for r in records {
        let Some(p) = r.phase(phase).filter(|p| p.status == JobStatus::Succeeded) else {
            continue;
        };
        let Some(secs) = p.attempts.last().map(|a| a.run_seconds).or(p.run_seconds) else {
            continue;
        };
        raw.retain(|(n, ..)| *n != p.nodes);
        raw.push((p.nodes, secs, p.compute_usd, r.run_id.clone()));
    }
    raw.sort_by_key(|(n, ..)| *n);
    let base = raw.first().map(|(n, s, ..)| (f64::from(*n), *s));
    let points = raw
        .into_iter()
        .map(|(nodes, seconds, usd, run_id)| {
            let (n0, s0) = base.unwrap_or((1.0, seconds));
            let speedup = s0 / seconds.max(1e-9);
            Point {
                nodes,
                seconds,
                speedup,
                efficiency: speedup / (f64::from(nodes) / n0),
                usd_per_run: usd,
                usd_per_item: usd.zip(items).map(|(u, i)| u / i.max(1) as f64),
                run_id,
            }
        })
        .collect();
    Sweep {
        phase: phase.to_string(),
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipectl_record::{Attempt, PhaseRecord};

    fn efa() -> Spec {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../infra-specs/two-hour-pipeline-efa.toml");
        pipectl_spec::load_file(&path).unwrap().spec
    }

    #[test]
    fn counts_the_compute_environment_cannot_hold_are_refused_with_why() {
        let spec = efa();
        assert!(
            refusals(&spec, "training", &[1, 2]).is_empty(),
            "{:?}",
            refusals(&spec, "training", &[1, 2])
        );
        let r = refusals(&spec, "training", &[1, 2, 4]);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(
            r[0].starts_with("4 nodes of phase \"training\" cannot be launched"),
            "{}",
            r[0]
        );
        assert!(r[0].contains("training-efa has max_vcpus = 64"), "{}", r[0]);
        assert!(refusals(&spec, "inference", &[2])[0].contains("single-node job"));
        assert!(refusals(&spec, "trainig", &[2])[0].contains("no phase \"trainig\""));
        assert!(
            refusals(&spec, "training", &[0])
                .iter()
                .any(|m| m == "node counts start at 1")
        );
    }

    #[test]
    fn the_first_run_takes_the_dependencies_and_the_others_the_phase_alone() {
        let spec = efa();
        let names = |s: &Spec| s.phases.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&run_spec(&spec, "inference", true)),
            ["training", "inference"]
        );
        let later = run_spec(&spec, "inference", false);
        assert_eq!(names(&later), ["inference"]);
        assert!(later.phases[0].depends_on.is_empty());
    }

    fn record(run_id: &str, nodes: u32, secs: f64, usd: f64) -> RunRecord {
        let p = PhaseRecord {
            nodes,
            status: JobStatus::Succeeded,
            compute_usd: Some(usd),
            attempts: vec![Attempt {
                started_at_ms: 0,
                stopped_at_ms: (secs * 1000.0) as i64,
                run_seconds: secs,
                exit_code: Some(0),
                status_reason: None,
                log_stream: None,
                spot_interruption: false,
            }],
            ..PhaseRecord::new("training", 1200.0)
        };
        serde_json::from_value(serde_json::json!({
            "schema": "pipectl.run", "version": 1, "run_id": run_id, "stack": "s",
            "region": "us-east-1", "account": "0", "endpoint": "aws", "spec_path": "x",
            "spec_sha256": "", "price_sheet": {"name": "n", "date": "d"}, "estimate_usd": 1.0,
            "submitted_at_ms": 0, "status": "SUCCEEDED", "phases": [p],
        }))
        .unwrap()
    }

    #[test]
    fn points_are_relative_to_the_fewest_nodes() {
        let mut spec = efa();
        spec.phases[0].items = Some(1000);
        let runs = [
            record("b", 2, 60.0, 0.2),
            record("a", 1, 100.0, 0.15),
            record("c", 4, 40.0, 0.3),
        ];
        let s = points(&spec, "training", &runs);
        let got: Vec<(u32, f64, f64)> = s
            .points
            .iter()
            .map(|p| {
                (
                    p.nodes,
                    (p.speedup * 1000.0).round() / 1000.0,
                    (p.efficiency * 1000.0).round() / 1000.0,
                )
            })
            .collect();
        assert_eq!(got, [(1, 1.0, 1.0), (2, 1.667, 0.833), (4, 2.5, 0.625)]);
        assert_eq!(s.points[1].usd_per_item, Some(0.2 / 1000.0));
        assert_eq!(s.points[2].run_id, "c");
    }
}
