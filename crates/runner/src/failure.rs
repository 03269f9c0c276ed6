//! After a phase fails: which of its dependents to end (terminated, whatever state they were
//! last seen in; Batch itself fails those whose dependency failed before they were
//! scheduled), and the failure the record keeps. Pure: the watcher makes the calls.

use pipectl_record::{Failure, RunRecord};

use crate::events::RunEvent;
use crate::watch::Action;

/// Every phase that depends on `name`, directly or not.
pub(crate) fn dependents_of(rec: &RunRecord, name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut frontier = vec![name.to_string()];
    while let Some(n) = frontier.pop() {
        for p in &rec.phases {
            if p.depends_on.contains(&n) && !out.contains(&p.name) {
                out.push(p.name.clone());
                frontier.push(p.name.clone());
            }
        }
    }
    out
}

/// What to do now that phase `i` has failed: end its dependents (unless the run is being
/// terminated anyway), record why it failed (the first failure only; its log's last lines
/// are read by the watcher) and save.
pub(crate) fn on_failure(rec: &mut RunRecord, i: usize, terminated: bool) -> Vec<Action> {
    let p = rec.phases[i].clone();
    let last = p.attempts.last();
    let reason = last
        .and_then(|a| a.status_reason.clone())
        .or(p.status_reason.clone())
        .unwrap_or_else(|| "no reason given".into());
    let mut actions = Vec::new();
    let mut cancelled = Vec::new();
    if !terminated {
        for d in dependents_of(rec, &p.name) {
            let Some(dp) = rec.phase(&d) else { continue };
            let Some(id) = dp.job_id.clone() else {
                continue;
            };
            if dp.status.is_terminal() {
                // Batch itself fails the dependents of a failed job.
                if dp.status == pipectl_record::JobStatus::Failed {
                    cancelled.push(d);
                }
                continue;
            }
            let why = format!("pipectl run: {} failed", p.name);
            actions.push(Action::EndJob {
                label: d.clone(),
                job_id: id,
                reason: why.clone(),
            });
            actions.push(Action::Emit(RunEvent::Cancelled {
                phase: d.clone(),
                because: why,
            }));
            cancelled.push(d);
        }
    }
    if rec.failure.is_none() && !terminated {
        rec.failure = Some(Failure {
            phase: p.name.clone(),
            attempt: p.attempts.len(),
            reason,
            exit_code: last.and_then(|a| a.exit_code),
            cancelled,
            log_tail: vec![],
        });
        if let Some(stream) = p.log_streams.last() {
            actions.push(Action::ReadLogTail {
                stream: stream.clone(),
            });
        }
    }
    actions.push(Action::Save);
    actions
}
