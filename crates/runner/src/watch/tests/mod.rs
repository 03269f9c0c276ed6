//! The watcher's decisions, without AWS: the seed pipeline (training → inference →
//! documentation) observed poll by poll. Shared fixtures here; the cases in `progress`
//! (a run going its way), `trouble` (failures, outages, budget, Ctrl-C) and `events`
//! (watching from job events).

mod events;
mod fallback;
mod progress;
mod trouble;

use std::path::PathBuf;
use std::time::Duration;

use pipectl_metering::PriceSheet;
use pipectl_record::{
    Attempt, JobStatus, PhaseRecord, PriceRef, RECORD_SCHEMA, RECORD_VERSION, RunRecord, RunStatus,
};
use pipectl_spec::Spec;

use super::decide::{Action, Next, Now, WatchEnv, WatchState};
use crate::cost::check_budget;
use crate::events::RunEvent;
use crate::poll::PollSettings;
use crate::poll::change_due;
use crate::timing::{JobView, is_spot_interruption};

pub(super) const T0: i64 = 1_795_342_500_000;

pub(super) fn spec() -> Spec {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra-specs/two-hour-pipeline.toml");
    pipectl_spec::load_file(&path)
        .expect("the seed spec loads")
        .spec
}

pub(crate) fn prices() -> PriceSheet {
    pipectl_metering::prices::builtin("us-east-1")
        .unwrap()
        .unwrap()
}

pub(super) fn env<'a>(spec: &'a Spec, prices: &'a PriceSheet, follow: bool) -> WatchEnv<'a> {
    WatchEnv {
        spec,
        prices,
        follow,
        lost_contact_after: Duration::from_secs(900),
    }
}

pub(super) fn poll() -> PollSettings {
    PollSettings {
        min: Duration::from_secs(2),
        max: Duration::from_secs(30),
    }
}

/// The seed's three phases, submitted (jobs j-training, j-inference, j-documentation).
pub(crate) fn record(spec: &Spec, prices: &PriceSheet) -> RunRecord {
    let phases = spec
        .phases
        .iter()
        .map(|p| PhaseRecord {
            job_id: Some(format!("j-{}", p.name)),
            status: JobStatus::Submitted,
            depends_on: p.depends_on.clone(),
            ..PhaseRecord::new(&p.name, p.duration.secs() as f64)
        })
        .collect();
    RunRecord {
        schema: RECORD_SCHEMA.into(),
        version: RECORD_VERSION,
        run_id: "20261122-101500-0001".into(),
        stack: spec.stack.name.clone(),
        region: "us-east-1".into(),
        account: "000000000000".into(),
        endpoint: "aws".into(),
        spec_path: "two-hour-pipeline.toml".into(),
        spec_sha256: String::new(),
        price_sheet: PriceRef {
            name: "n".into(),
            date: "d".into(),
            path: None,
        },
        prices: None,
        estimate_usd: check_budget(spec, prices, true).unwrap(),
        budget_usd: None,
        submitted_at_ms: T0,
        finished_at_ms: None,
        status: RunStatus::Running,
        phases,
        compute_usd: None,
        failure: None,
    }
}

pub(super) fn at(secs: u64) -> Now {
    Now {
        ms: T0 + secs as i64 * 1000,
        elapsed: Duration::from_secs(secs),
    }
}

pub(super) fn job(phase: &str, status: JobStatus) -> JobView {
    JobView {
        job_id: format!("j-{phase}"),
        status,
        status_reason: None,
        created_at: Some(T0),
        started_at: None,
        stopped_at: None,
        attempts: vec![],
        log_stream: None,
    }
}

pub(super) fn running(phase: &str, started_s: i64) -> JobView {
    JobView {
        started_at: Some(T0 + started_s * 1000),
        log_stream: Some(format!("{phase}/{started_s}")),
        ..job(phase, JobStatus::Running)
    }
}

pub(super) fn attempt(start_s: i64, stop_s: i64, reason: &str, exit: Option<i32>) -> Attempt {
    Attempt {
        started_at_ms: T0 + start_s * 1000,
        stopped_at_ms: T0 + stop_s * 1000,
        run_seconds: (stop_s - start_s) as f64,
        exit_code: exit,
        status_reason: Some(reason.into()),
        log_stream: Some(format!("s/{start_s}")),
        spot_interruption: is_spot_interruption(Some(reason)),
    }
}

pub(super) fn ended(phase: &str, status: JobStatus, attempts: Vec<Attempt>) -> JobView {
    let last = attempts.last().cloned().expect("an attempt");
    JobView {
        status_reason: last.status_reason.clone(),
        started_at: Some(last.started_at_ms),
        stopped_at: Some(last.stopped_at_ms),
        log_stream: last.log_stream.clone(),
        attempts,
        ..job(phase, status)
    }
}

pub(super) fn events(actions: &[Action]) -> Vec<&RunEvent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub(super) fn wait(next: Next) -> f64 {
    match next {
        Next::Poll(d) => d.as_secs_f64(),
        other => panic!("expected another poll, got {other:?}"),
    }
}

pub(super) fn phase<'a>(s: &'a WatchState, name: &str) -> &'a PhaseRecord {
    s.rec.phase(name).unwrap()
}
