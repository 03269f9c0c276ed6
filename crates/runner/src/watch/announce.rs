//! What the watcher says of a phase whose job changed: each attempt that ended since, then
//! its status (attempt under way, time running, reason when it ended).

use pipectl_record::{JobStatus, PhaseRecord};

use super::decide::{Action, Now, WatchEnv};
use crate::events::RunEvent;
use crate::timing::JobView;

/// The events of a phase whose job changed: its attempts that ended since, and its status.
pub(super) fn announce(
    env: &WatchEnv,
    p: &PhaseRecord,
    v: &JobView,
    before_attempts: usize,
    now: Now,
    actions: &mut Vec<Action>,
) {
    for (n, a) in p.attempts.iter().enumerate().skip(before_attempts) {
        actions.push(Action::Emit(RunEvent::AttemptEnded {
            phase: p.name.clone(),
            attempt: n + 1,
            run_seconds: a.run_seconds,
            exit_code: a.exit_code,
            reason: a.status_reason.clone(),
            spot_interruption: a.spot_interruption,
        }));
    }
    let running = p.status == JobStatus::Running;
    let ended = p.status.is_terminal();
    actions.push(Action::Emit(RunEvent::Phase {
        phase: p.name.clone(),
        status: p.status.clone(),
        attempt: p.attempts.len() + usize::from(!ended),
        max_attempts: env.spec.phase(&p.name).map_or(1, |s| s.retry.attempts),
        reason: if ended { p.status_reason.clone() } else { None },
        running_seconds: v
            .started_at
            .filter(|_| running)
            .map(|s| (now.ms - s).max(0) as f64 / 1000.0),
        planned_seconds: p.planned_seconds,
    }));
}
