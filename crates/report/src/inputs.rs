//! What a report takes from run records: the attempts drawn on the Gantt chart, the run's
//! identity and times, the phases' run times (the analysis at the run's own durations), and
//! the scaling points of every run of a stack.

use pipectl_record::{JobStatus, RunRecord, utc};

use crate::{JobBar, Outcome, ScalingPoint};

/// Every attempt of every phase (those of jobs it replaced too), with how it ended: `INTERRUPTED` (Spot reclaimed the
/// instance), `SUCCEEDED` (exit 0, or the last attempt of a phase that succeeded) or `FAILED`.
pub fn jobs(rec: &RunRecord) -> Vec<JobBar> {
    let mut out = Vec::new();
    for p in &rec.phases {
        // the attempts of jobs a fallback replaced first, on the same row
        let all: Vec<&pipectl_record::Attempt> = p
            .replaced
            .iter()
            .flat_map(|r| &r.attempts)
            .chain(&p.attempts)
            .collect();
        let n = all.len();
        for (i, a) in all.into_iter().enumerate() {
            let outcome = if a.spot_interruption {
                Outcome::Interrupted
            } else if a.exit_code == Some(0) || (i + 1 == n && p.status == JobStatus::Succeeded) {
                Outcome::Succeeded
            } else {
                Outcome::Failed
            };
            out.push(JobBar {
                phase: p.name.clone(),
                attempt: i + 1,
                ready_ms: p.ready_at_ms,
                started_ms: a.started_at_ms,
                stopped_ms: a.stopped_at_ms,
                outcome,
            });
        }
    }
    out
}

/// Each succeeded phase of every run of `stack`: its node count, last attempt's time and
/// compute cost.
pub fn scaling(runs: &[RunRecord], stack: &str) -> Vec<ScalingPoint> {
    runs.iter()
        .filter(|r| r.stack == stack)
        .flat_map(|r| {
            r.phases
                .iter()
                .filter(|p| p.status == JobStatus::Succeeded)
                .filter_map(|p| {
                    Some(ScalingPoint {
                        phase: p.name.clone(),
                        nodes: p.nodes,
                        seconds: p.attempts.last()?.run_seconds,
                        usd: p.compute_usd,
                        run_id: r.run_id.clone(),
                    })
                })
        })
        .collect()
}

/// Each phase's run time (every attempt) where the record has one, to analyse the spec at the
/// run's own durations.
pub fn durations(rec: &RunRecord) -> Vec<(String, f64)> {
    rec.phases
        .iter()
        .filter_map(|p| p.run_seconds.map(|s| (p.name.clone(), s)))
        .collect()
}

/// The run's status, submission and end as the report shows them.
pub struct RunTimes {
    /// The run's status (`SUCCEEDED`, ...).
    pub status: String,
    /// When it was submitted (`2026-11-22 10:15:00Z`).
    pub submitted_at: String,
    /// When it ended; `None` while it runs.
    pub finished_at: Option<String>,
}

impl RunTimes {
    /// Reads them from a run record.
    pub fn of(rec: &RunRecord) -> RunTimes {
        RunTimes {
            status: rec.status.as_str().to_string(),
            submitted_at: utc(rec.submitted_at_ms),
            finished_at: rec.finished_at_ms.map(utc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipectl_record::{Attempt, PhaseRecord, RunStatus};

    fn attempt(start: i64, stop: i64, exit: Option<i32>, spot: bool) -> Attempt {
        Attempt {
            started_at_ms: start,
            stopped_at_ms: stop,
            run_seconds: (stop - start) as f64 / 1000.0,
            exit_code: exit,
            status_reason: None,
            log_stream: None,
            spot_interruption: spot,
        }
    }

    fn record(stack: &str, run_id: &str, phases: Vec<PhaseRecord>) -> RunRecord {
        serde_json::from_value(serde_json::json!({
            "schema": "pipectl.run", "version": 1, "run_id": run_id, "stack": stack,
            "region": "us-east-1", "account": "0", "endpoint": "aws", "spec_path": "x",
            "spec_sha256": "", "price_sheet": {"name": "n", "date": "d"}, "estimate_usd": 1.0,
            "submitted_at_ms": 1_795_342_500_000i64, "status": "FAILED", "phases": phases,
        }))
        .unwrap()
    }

    fn training() -> PhaseRecord {
        PhaseRecord {
            status: JobStatus::Succeeded,
            ready_at_ms: Some(500),
            nodes: 2,
            run_seconds: Some(13.0),
            attempts: vec![
                attempt(1_000, 4_000, None, true),
                attempt(5_000, 9_000, Some(1), false),
                attempt(10_000, 16_000, None, false),
            ],
            ..PhaseRecord::new("training", 60.0)
        }
    }

    #[test]
    fn attempts_are_drawn_with_how_they_ended() {
        let failed = PhaseRecord {
            status: JobStatus::Failed,
            attempts: vec![attempt(20_000, 21_000, None, false)],
            ..PhaseRecord::new("inference", 60.0)
        };
        let rec = record("s", "r1", vec![training(), failed]);
        let bars = jobs(&rec);
        let outcomes: Vec<(&str, usize, &str)> = bars
            .iter()
            .map(|b| (b.phase.as_str(), b.attempt, b.outcome.as_str()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("training", 1, "INTERRUPTED"),
                ("training", 2, "FAILED"),
                ("training", 3, "SUCCEEDED"),
                ("inference", 1, "FAILED"),
            ]
        );
        assert_eq!(bars[0].ready_ms, Some(500));
        assert_eq!(durations(&rec), vec![("training".to_string(), 13.0)]);
    }

    #[test]
    fn the_attempts_of_a_job_a_fallback_replaced_come_first() {
        let mut moved = training();
        moved.attempts = vec![attempt(30_000, 40_000, Some(0), false)];
        moved.replaced = vec![pipectl_record::ReplacedJob {
            job_id: "old".into(),
            job_name: "s-training-r".into(),
            job_queue: "s-training".into(),
            purchase: pipectl_record::Purchase::Spot,
            status: JobStatus::Runnable,
            reason: "fallback".into(),
            attempts: vec![
                attempt(1_000, 2_000, None, true),
                attempt(3_000, 4_000, None, true),
            ],
            spot_interruptions: 2,
            compute_usd: None,
            ended: true,
        }];
        let rec = record("s", "r1", vec![moved]);
        let outcomes: Vec<(usize, &str)> = jobs(&rec)
            .iter()
            .map(|b| (b.attempt, b.outcome.as_str()))
            .collect();
        assert_eq!(
            outcomes,
            [(1, "INTERRUPTED"), (2, "INTERRUPTED"), (3, "SUCCEEDED")]
        );
    }

    #[test]
    fn scaling_takes_succeeded_phases_of_the_stack_only() {
        let runs = vec![
            record("s", "r1", vec![training()]),
            record("other", "r2", vec![training()]),
            record(
                "s",
                "r3",
                vec![PhaseRecord {
                    status: JobStatus::Failed,
                    ..training()
                }],
            ),
        ];
        let points = scaling(&runs, "s");
        assert_eq!(points.len(), 1);
        assert_eq!((points[0].nodes, points[0].seconds), (2, 6.0));
        assert_eq!(points[0].run_id, "r1");
    }

    #[test]
    fn run_times_are_shown_in_utc() {
        let mut rec = record("s", "r", vec![]);
        rec.status = RunStatus::Succeeded;
        let t = RunTimes::of(&rec);
        assert_eq!(t.status, "SUCCEEDED");
        assert_eq!(t.submitted_at, "2026-11-22 10:15:00Z");
        assert_eq!(t.finished_at, None);
    }
}
