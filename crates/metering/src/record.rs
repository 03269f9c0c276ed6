//! What the metering reads from a run record: the phases that ended (every attempt billed),
//! whether Spot ran, the shared resources' lives during the run, and the run reconciled.

use pipectl_record::{Purchase, RunRecord};
use pipectl_spec::Spec;

use crate::estimate::Options;
use crate::prices::PriceSheet;
use crate::reconcile::{
    ActualPhase, FallbackRun, Lifetime, MeasuredRate, Reconciliation, reconcile,
};

/// A shared resource's life as recorded where it was created: Unix milliseconds, `until`
/// absent while it still exists.
#[derive(Debug, Clone)]
pub struct Span {
    /// `fsx` or `nat-gateway`.
    pub kind: String,
    /// The AWS id (`fs-...`, `nat-...`).
    pub physical_id: String,
    /// When pipectl first saw it exist (RFC 3339, UTC).
    pub since: String,
    /// When it was deleted (RFC 3339); `None` while it exists.
    pub until: Option<String>,
    /// `since` in ms since the Unix epoch.
    pub since_ms: i64,
    /// `until` in ms since the Unix epoch; `None` while it exists.
    pub until_ms: Option<i64>,
}

impl Lifetime {
    /// The resource's lifetime when it overlapped the run `rec` (a run not finished, or a
    /// resource not deleted, counts up to `now_ms`); `None` when it did not.
    pub fn during(rec: &RunRecord, span: Span, now_ms: i64) -> Option<Lifetime> {
        let run_start = rec.submitted_at_ms;
        let run_end = rec.finished_at_ms.unwrap_or(now_ms);
        let until = span.until_ms.unwrap_or(now_ms);
        if span.since_ms > run_end || until < run_start {
            return None;
        }
        let overlap = (until.min(run_end) - span.since_ms.max(run_start)).max(0);
        Some(Lifetime {
            kind: span.kind,
            physical_id: span.physical_id,
            since: span.since,
            until: span.until,
            hours: (until - span.since_ms).max(0) as f64 / 3_600_000.0,
            run_hours: overlap as f64 / 3_600_000.0,
        })
    }
}

impl ActualPhase {
    /// The phases of a run record that ended, as the reconciliation takes them: every attempt
    /// billed, those on the fallback queue apart (`PhaseRecord::own_queue_attempt_seconds`), with the Spot rate measured for a phase when
    /// `measured` names it.
    pub fn from_record(rec: &RunRecord, measured: &[(String, MeasuredRate)]) -> Vec<ActualPhase> {
        rec.phases
            .iter()
            .filter(|p| p.stopped_at_ms.is_some())
            .map(|p| ActualPhase {
                name: p.name.clone(),
                attempt_secs: p.own_queue_attempt_seconds(),
                fallback: p.fallback.as_ref().map(|f| FallbackRun {
                    queue: f.queue.clone(),
                    attempt_secs: p.attempt_seconds(),
                }),
                wall_secs: p.total_seconds,
                nodes: Some(p.nodes),
                measured_rate: measured
                    .iter()
                    .find(|(name, _)| *name == p.name)
                    .map(|(_, r)| r.clone()),
            })
            .collect()
    }
}

/// Whether a run record has a Spot phase that ran an attempt: only then can a Spot price
/// history change its reconciliation.
pub fn ran_on_spot(rec: &RunRecord) -> bool {
    rec.phases
        .iter()
        .any(|p| p.purchase == Purchase::Spot && !p.attempts.is_empty())
}

/// Reconciles a run record (see [`reconcile`]) with the Spot rates measured for its phases.
pub fn reconcile_run(
    spec: &Spec,
    prices: &PriceSheet,
    rec: &RunRecord,
    measured: &[(String, MeasuredRate)],
    opts: Options,
    lifetimes: &[Lifetime],
) -> Reconciliation {
    let actual = ActualPhase::from_record(rec, measured);
    reconcile(spec, prices, &actual, opts, lifetimes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_gives_its_ended_phases_with_every_attempt_and_measured_rate() {
        use pipectl_record::{Attempt, JobStatus, PhaseRecord};
        let attempt = |secs: f64, spot: bool| Attempt {
            started_at_ms: 0,
            stopped_at_ms: (secs * 1000.0) as i64,
            run_seconds: secs,
            exit_code: None,
            status_reason: None,
            log_stream: None,
            spot_interruption: spot,
        };
        let ended = PhaseRecord {
            status: JobStatus::Succeeded,
            stopped_at_ms: Some(5),
            total_seconds: Some(700.0),
            purchase: Purchase::Spot,
            attempts: vec![attempt(60.0, true), attempt(600.0, false)],
            ..PhaseRecord::new("training", 600.0)
        };
        let old = PhaseRecord {
            status: JobStatus::Succeeded,
            stopped_at_ms: Some(9),
            run_seconds: Some(30.0),
            ..PhaseRecord::new("inference", 60.0)
        };
        let open = PhaseRecord {
            status: JobStatus::Running,
            ..PhaseRecord::new("report", 60.0)
        };
        let rec: RunRecord = serde_json::from_value(serde_json::json!({
            "schema": "pipectl.run", "version": 1, "run_id": "r", "stack": "s",
            "region": "us-east-1", "account": "0", "endpoint": "aws", "spec_path": "x",
            "spec_sha256": "", "price_sheet": {"name": "n", "date": "d"}, "estimate_usd": 1.0,
            "submitted_at_ms": 0, "status": "SUCCEEDED",
            "phases": [ended, old, open],
        }))
        .unwrap();
        assert!(ran_on_spot(&rec));
        let rate = MeasuredRate {
            usd: 0.2,
            note: "history".into(),
        };
        let actual = ActualPhase::from_record(&rec, &[("training".into(), rate)]);
        let names: Vec<&str> = actual.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            ["training", "inference"],
            "the open phase is left out"
        );
        assert_eq!(actual[0].attempt_secs, vec![60.0, 600.0]);
        assert_eq!(actual[0].wall_secs, Some(700.0));
        assert_eq!(actual[0].measured_rate.as_ref().map(|r| r.usd), Some(0.2));
        assert_eq!(
            actual[1].attempt_secs,
            vec![30.0],
            "an old record: one attempt"
        );
        assert!(actual[1].measured_rate.is_none());
    }

    #[test]
    fn a_lifetime_counts_when_it_overlapped_the_run() {
        let rec: RunRecord = serde_json::from_value(serde_json::json!({
            "schema": "pipectl.run", "version": 1, "run_id": "r", "stack": "s",
            "region": "us-east-1", "account": "0", "endpoint": "aws", "spec_path": "x",
            "spec_sha256": "", "price_sheet": {"name": "n", "date": "d"}, "estimate_usd": 1.0,
            "submitted_at_ms": 3_600_000, "finished_at_ms": 7_200_000, "status": "SUCCEEDED",
            "phases": [],
        }))
        .unwrap();
        let span = |since_ms: i64, until_ms: Option<i64>| Span {
            kind: "fsx".into(),
            physical_id: "fs-1".into(),
            since: "a".into(),
            until: until_ms.map(|_| "b".into()),
            since_ms,
            until_ms,
        };
        let h = 3_600_000;
        // created half an hour before the run, deleted an hour after it
        let l = Lifetime::during(&rec, span(h / 2, Some(3 * h)), 10 * h).unwrap();
        assert_eq!((l.hours, l.run_hours), (2.5, 1.0));
        // still there: up to now
        let l = Lifetime::during(&rec, span(h + h / 2, None), 4 * h).unwrap();
        assert_eq!((l.hours, l.run_hours), (2.5, 0.5));
        assert!(
            Lifetime::during(&rec, span(0, Some(h / 2)), 4 * h).is_none(),
            "gone before"
        );
        assert!(
            Lifetime::during(&rec, span(3 * h, None), 4 * h).is_none(),
            "made after"
        );
    }
}
