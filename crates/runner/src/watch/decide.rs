//! The watcher's decisions, apart from every call: given what one poll saw (the jobs AWS
//! described, AWS out of reach, or Ctrl-C) and the time, bring the run record up to date and
//! say what to do (events, log streams to follow or stop, dependents to end, metrics to
//! publish, saves) and when to poll next. Pure: the loop in the parent module makes the calls.

use std::collections::BTreeSet;
use std::time::Duration;

use pipectl_metering::PriceSheet;
use pipectl_record::{FallbackSwitch, JobStatus, RunRecord, RunStatus};
use pipectl_spec::Spec;

use super::announce::announce;
use crate::cost::{phase_cost, projected_cost};
use crate::events::RunEvent;
use crate::failure::on_failure;
use crate::poll::{PollSettings, Poller, Seen, change_due};
use crate::timing::{self, JobView};

/// What the decisions read besides the record: the spec and prices the run was priced with,
/// and the options that change what is done.
pub struct WatchEnv<'a> {
    pub spec: &'a Spec,
    pub prices: &'a PriceSheet,
    /// Stream the running jobs' logs.
    pub follow: bool,
    /// Give up watching after AWS has been out of reach this long.
    pub lost_contact_after: Duration,
}

/// The time of a decision: this machine's clock (compared with AWS's timestamps) and the
/// time since watching began (for how long AWS has been out of reach).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub ms: i64,
    pub elapsed: Duration,
}

/// Something the loop does for a decision, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Emit(RunEvent),
    /// Write the record.
    Save,
    /// Start streaming a log stream.
    Follow {
        phase: String,
        stream: String,
    },
    /// Stop streaming it once drained.
    StopFollowing {
        stream: String,
    },
    /// End a job with `TerminateJob`, whatever state it was last seen in: `CancelJob` does not
    /// end a job that reached STARTING since ("the API operation still succeeds"), and
    /// `TerminateJob` ends jobs in every state; `label` names it in an error.
    EndJob {
        label: String,
        job_id: String,
        reason: String,
    },
    /// Read the last lines of the failed phase's log into the record's failure.
    ReadLogTail {
        stream: String,
    },
    /// Publish the metrics of the phase at this index of the record.
    Publish {
        phase: usize,
    },
    /// Explain why the phase at this index waits RUNNABLE (it has for `waited_seconds`).
    ExplainStuck {
        phase: usize,
        waited_seconds: f64,
    },
    /// Move the phase at this index (and its dependents) to its fallback queue.
    FallBack {
        phase: usize,
        switch: FallbackSwitch,
    },
}

/// While job events flow, a reconciling `DescribeJobs` this often (unless the run's options say
/// otherwise) catches an event lost on the way: at most one call a minute.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// What happens after the actions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// The next `DescribeJobs` in this long.
    Poll(Duration),
    /// Keep the next `DescribeJobs` when it was due.
    Keep,
    /// Stop watching, leaving the jobs running (`--attach` resumes).
    Detach,
    /// AWS has been out of reach too long: stop watching, jobs untouched.
    LostContact { seconds: u64 },
}

/// One decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub actions: Vec<Action>,
    pub next: Next,
}

/// What the watcher knows between polls.
pub struct WatchState {
    pub rec: RunRecord,
    poller: Poller,
    min_wait: Duration,
    unreachable_since: Option<Duration>,
    budget_warned: bool,
    terminated: bool,
    /// Phases whose cost is set and metrics published.
    published: BTreeSet<String>,
    followed: BTreeSet<String>,
    stopped: BTreeSet<String>,
    /// Job events arrive (a job of the run changed and its event came): `DescribeJobs` only
    /// reconciles. Off at first, when the queue cannot be read, and when a reconciling
    /// `DescribeJobs` finds a change no event brought.
    events_flowing: bool,
    reconcile_every: Duration,
    /// The `statusReason` each stuck phase was last explained with.
    explained: std::collections::BTreeMap<String, Option<String>>,
}

impl WatchState {
    pub fn new(rec: RunRecord, poll: PollSettings) -> WatchState {
        let published = rec
            .phases
            .iter()
            .filter(|p| p.status.is_terminal())
            .map(|p| p.name.clone())
            .collect();
        WatchState {
            rec,
            poller: Poller::new(poll),
            min_wait: poll.min,
            unreachable_since: None,
            budget_warned: false,
            terminated: false,
            published,
            followed: BTreeSet::new(),
            stopped: BTreeSet::new(),
            events_flowing: false,
            reconcile_every: RECONCILE_EVERY,
            explained: std::collections::BTreeMap::new(),
        }
    }

    /// With reconciling `DescribeJobs` this far apart while job events flow.
    pub fn reconcile_every(mut self, every: Duration) -> WatchState {
        self.reconcile_every = every;
        self
    }

    /// The jobs not ended yet: watching is over when there is none.
    pub fn open_jobs(&self) -> Vec<String> {
        self.rec
            .phases
            .iter()
            .filter(|p| !p.status.is_terminal())
            .filter_map(|p| p.job_id.clone())
            .collect()
    }

    /// Whether the user chose to terminate the jobs (Ctrl-C is not asked twice).
    pub fn terminated(&self) -> bool {
        self.terminated
    }

    /// Ctrl-C: terminate every open job (`terminate`, as the user answered), or detach.
    pub fn interrupted(&mut self, terminate: bool) -> Step {
        if !terminate {
            return Step {
                actions: vec![],
                next: Next::Detach,
            };
        }
        self.terminated = true;
        let open = self.open_jobs();
        let mut actions: Vec<Action> = open
            .iter()
            .map(|id| Action::EndJob {
                label: id.clone(),
                job_id: id.clone(),
                reason: "pipectl run: interrupted by the user".into(),
            })
            .collect();
        actions.push(Action::Emit(RunEvent::Note {
            message: format!("terminated {} job(s)", open.len()),
        }));
        Step {
            actions,
            next: Next::Poll(self.min_wait),
        }
    }

    /// AWS could not be reached (or throttled): never a reason to mark a job failed; keep
    /// watching, further apart, until it has lasted `lost_contact_after`.
    pub fn unreachable(&mut self, env: &WatchEnv, error: String, now: Now) -> Step {
        let since = *self.unreachable_since.get_or_insert(now.elapsed);
        let out_for = now.elapsed.saturating_sub(since);
        let seconds = out_for.as_secs();
        let actions = vec![Action::Emit(RunEvent::Unreachable { error, seconds })];
        let next = if out_for >= env.lost_contact_after {
            Next::LostContact { seconds }
        } else {
            Next::Poll(self.poller.next(Seen {
                pushed_back: true,
                ..Seen::default()
            }))
        };
        Step { actions, next }
    }

    /// The jobs as `DescribeJobs` described them.
    pub fn observe(&mut self, env: &WatchEnv, views: &[JobView], now: Now) -> Step {
        let mut actions = Vec::new();
        if self.unreachable_since.take().is_some() {
            actions.push(Action::Emit(RunEvent::Reachable));
        }
        let changed = self.apply(env, views, now, &mut actions);
        if changed && self.events_flowing {
            // a change no event brought: events may be lost; poll until they come again
            self.events_flowing = false;
            actions.push(Action::Emit(RunEvent::Note {
                message: "a job changed without its event: watching with DescribeJobs until events come again".into(),
            }));
        }
        let due = self
            .rec
            .phases
            .iter()
            .any(|p| change_due(&self.rec, p, now.ms));
        let polled = self.poller.next(Seen {
            changed,
            change_due: due,
            pushed_back: false,
        });
        let wait = if self.events_flowing {
            self.reconcile_every
        } else {
            polled
        };
        let wait = crate::fallback::wake_by(wait, &self.rec, env.spec, now.ms);
        Step {
            actions,
            next: Next::Poll(wait),
        }
    }

    /// The jobs as their state-change events described them (any order, maybe twice: the
    /// record only moves forward). The first event of the run's jobs turns `DescribeJobs`
    /// into a reconciliation a minute.
    pub fn observe_events(&mut self, env: &WatchEnv, views: &[JobView], now: Now) -> Step {
        let mut actions = Vec::new();
        let ours = views.iter().any(|v| self.phase_of(&v.job_id).is_some());
        self.apply(env, views, now, &mut actions);
        let next = if ours && !self.events_flowing {
            self.events_flowing = true;
            actions.push(Action::Emit(RunEvent::Note {
                message: format!(
                    "job events arrive: DescribeJobs only reconciles, every {} s",
                    self.reconcile_every.as_secs_f64()
                ),
            }));
            Next::Poll(crate::fallback::wake_by(
                self.reconcile_every,
                &self.rec,
                env.spec,
                now.ms,
            ))
        } else {
            match crate::fallback::next_due_in(&self.rec, env.spec, now.ms) {
                // a reconciling DescribeJobs when a capacity fallback falls due
                Some(d) if self.events_flowing && d < self.reconcile_every => Next::Poll(d),
                _ => Next::Keep,
            }
        };
        Step { actions, next }
    }

    /// The job-event queue cannot be read: back to polling, at once.
    pub fn events_unreadable(&mut self, error: String) -> Step {
        let was = std::mem::replace(&mut self.events_flowing, false);
        Step {
            actions: vec![Action::Emit(RunEvent::Note {
                message: format!("job events cannot be read ({error}): watching with DescribeJobs"),
            })],
            next: if was {
                Next::Poll(self.min_wait)
            } else {
                Next::Keep
            },
        }
    }

    /// Which phase runs job `job_id`.
    fn phase_of(&self, job_id: &str) -> Option<usize> {
        self.rec
            .phases
            .iter()
            .position(|p| p.job_id.as_deref() == Some(job_id))
    }

    /// Brings the record up to date with views of its jobs and adds what follows from it;
    /// says whether anything changed.
    fn apply(
        &mut self,
        env: &WatchEnv,
        views: &[JobView],
        now: Now,
        actions: &mut Vec<Action>,
    ) -> bool {
        let mut changed = false;
        let mut newly_failed = Vec::new();
        for v in views {
            let Some((i, failed)) = self.update_phase(env, v, now, actions) else {
                continue;
            };
            changed = true;
            if failed {
                newly_failed.push(i);
            }
        }
        self.stop_ended_streams(actions);
        for i in newly_failed {
            actions.extend(on_failure(&mut self.rec, i, self.terminated));
        }
        self.price_ended(env, actions);
        if changed {
            actions.push(Action::Save);
        }
        self.warn_over_budget(env, actions);
        for (phase, waited_seconds) in
            crate::stuck::due(&self.rec, env.spec, &self.explained, now.ms)
        {
            let p = &self.rec.phases[phase];
            self.explained
                .insert(p.name.clone(), p.status_reason.clone());
            actions.push(Action::ExplainStuck {
                phase,
                waited_seconds,
            });
        }
        self.fall_back(env, now, actions);
        changed
    }

    /// Each phase whose fallback fires: the switch, priced, then the move.
    fn fall_back(&mut self, env: &WatchEnv, now: Now, actions: &mut Vec<Action>) {
        if self.terminated {
            return;
        }
        for (phase, told, switch) in crate::fallback::moves(&self.rec, env.spec, env.prices, now.ms)
        {
            actions.push(Action::Emit(told));
            actions.push(Action::FallBack { phase, switch });
        }
    }

    /// Brings one phase up to date; when the job changed, says so (ended attempts, the
    /// status, logs to follow) and gives the phase's index and whether it has just failed.
    fn update_phase(
        &mut self,
        env: &WatchEnv,
        v: &JobView,
        now: Now,
        actions: &mut Vec<Action>,
    ) -> Option<(usize, bool)> {
        let i = self.phase_of(&v.job_id)?;
        let rec = &self.rec;
        let deps = &rec.phases[i].depends_on;
        let stopped: Vec<Option<i64>> = deps
            .iter()
            .map(|d| rec.phase(d).and_then(|d| d.stopped_at_ms))
            .collect();
        let deps_stopped = if stopped.iter().all(Option::is_some) {
            stopped.into_iter().flatten().max()
        } else {
            None
        };
        let has_deps = !deps.is_empty();
        let before_attempts = rec.phases[i].attempts.len();
        let was_failed = rec.phases[i].status == JobStatus::Failed;
        if !timing::update(&mut self.rec.phases[i], v, deps_stopped, has_deps) {
            return None;
        }
        let p = &self.rec.phases[i];
        announce(env, p, v, before_attempts, now, actions);
        if env.follow {
            // Every attempt's stream, also of one that ended between two polls.
            for stream in &p.log_streams {
                if self.followed.insert(stream.clone()) {
                    actions.push(Action::Follow {
                        phase: p.name.clone(),
                        stream: stream.clone(),
                    });
                }
            }
        }
        let p = &mut self.rec.phases[i];
        if p.status.is_terminal() && p.noticed_at_ms.is_none() {
            p.noticed_at_ms = Some(now.ms);
        }
        Some((i, p.status == JobStatus::Failed && !was_failed))
    }

    /// Streams of attempts that ended stop once drained.
    fn stop_ended_streams(&mut self, actions: &mut Vec<Action>) {
        for stream in &self.followed {
            let live =
                self.rec.phases.iter().any(|p| {
                    p.status == JobStatus::Running && p.log_streams.last() == Some(stream)
                });
            if !live && self.stopped.insert(stream.clone()) {
                actions.push(Action::StopFollowing {
                    stream: stream.clone(),
                });
            }
        }
    }

    /// Each phase that ended: its compute cost, then its metrics.
    fn price_ended(&mut self, env: &WatchEnv, actions: &mut Vec<Action>) {
        for i in 0..self.rec.phases.len() {
            let p = &self.rec.phases[i];
            if p.status.is_terminal() && self.published.insert(p.name.clone()) {
                self.rec.phases[i].compute_usd = phase_cost(env.spec, env.prices, p);
                actions.push(Action::Publish { phase: i });
            }
        }
    }

    /// Once per run, when the projected cost passes the budget.
    fn warn_over_budget(&mut self, env: &WatchEnv, actions: &mut Vec<Action>) {
        let Some(budget) = self.rec.budget_usd else {
            return;
        };
        if self.budget_warned {
            return;
        }
        let projected = projected_cost(env.spec, env.prices, &self.rec);
        if projected > budget {
            self.budget_warned = true;
            actions.push(Action::Emit(RunEvent::BudgetWarning {
                projected_usd: projected,
                budget_usd: budget,
            }));
        }
    }

    /// Every phase ended (or was terminated): how the run ended, and its compute cost.
    pub fn finish(&mut self, now_ms: i64) {
        let rec = &mut self.rec;
        rec.status = if self.terminated {
            RunStatus::Terminated
        } else if rec.phases.iter().all(|p| p.status == JobStatus::Succeeded) {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        };
        rec.finished_at_ms = Some(now_ms);
        let costs: Vec<f64> = rec.phases.iter().filter_map(|p| p.compute_usd).collect();
        rec.compute_usd = (!costs.is_empty()).then(|| costs.iter().sum());
    }
}
