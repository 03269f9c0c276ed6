//! Watching a run: a thin loop that waits for the next of three things (a `DescribeJobs` of
//! the open jobs in batches falling due, the job-event queue answering, Ctrl-C), hands what it
//! saw to the pure decisions of [`decide`] and carries out the actions they return, until
//! every phase has ended.

mod announce;
mod decide;
#[cfg(test)]
pub(crate) mod tests;

use std::sync::atomic::Ordering;
use std::time::Instant;

use pipectl_aws::{AwsError, ErrorKind, ResultExt};
use pipectl_record::{RunRecord, now_ms};

pub(crate) use decide::{Action, RECONCILE_EVERY};
use decide::{Next, Now, Step, WatchEnv, WatchState};

use crate::context::{Outcome, Runner};
use crate::error::RunError;
use crate::events::RunEvent;
use crate::job_events::{self, Feed, JobEvents};
use crate::logs::Followers;
use crate::timing::JobView;

const BATCH: &str = "batch";

/// What woke the watcher.
enum Wake {
    /// The next `DescribeJobs` is due.
    Describe,
    /// The job-event queue answered.
    Feed(Option<Feed>),
    /// Ctrl-C.
    Interrupted,
}

impl Runner {
    /// Watches until every phase has ended, or Ctrl-C detaches: from the stack's job events
    /// when its queue can be read (with a reconciling `DescribeJobs` a minute), else by
    /// polling `DescribeJobs` on the adaptive interval.
    pub async fn watch(&self, rec: RunRecord) -> Result<Outcome, RunError> {
        let start = Instant::now();
        let env = WatchEnv {
            spec: &self.spec,
            prices: &self.prices,
            follow: self.opts.follow,
            lost_contact_after: self.opts.lost_contact_after,
        };
        let mut state =
            WatchState::new(rec, self.opts.poll).reconcile_every(self.opts.reconcile_every);
        let mut followers = Followers::default();
        let mut events = self.open_job_events().await;
        let mut describe_at = Instant::now();
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        loop {
            let open = state.open_jobs();
            if open.is_empty() {
                break;
            }
            let wake = tokio::select! {
                () = tokio::time::sleep_until(describe_at.into()) => Wake::Describe,
                feed = async { events.as_mut().expect("guarded").recv().await }, if events.is_some() => Wake::Feed(feed),
                _ = &mut interrupted, if !state.terminated() => Wake::Interrupted,
            };
            let now = || Now {
                ms: now_ms(),
                elapsed: start.elapsed(),
            };
            let mut unreachable: Option<AwsError> = None;
            let mut handled = Vec::new();
            let step = match wake {
                Wake::Describe => match self.describe(&open).await {
                    Ok(views) => state.observe(&env, &views, now()),
                    Err(e) if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Throttled) => {
                        let step = state.unreachable(&env, e.to_string(), now());
                        unreachable = Some(e);
                        step
                    }
                    Err(e) => {
                        self.store.save(&state.rec)?;
                        followers.stop_all();
                        return Err(e.into());
                    }
                },
                Wake::Feed(Some(Feed::Events(delivered))) => {
                    self.job_events_received
                        .fetch_add(delivered.len() as u64, Ordering::Relaxed);
                    handled = job_events::handled(&state.rec, &delivered);
                    let views: Vec<JobView> =
                        delivered.into_iter().filter_map(|d| d.view).collect();
                    state.observe_events(&env, &views, now())
                }
                Wake::Feed(Some(Feed::Broken(e))) => state.events_unreadable(e.to_string()),
                Wake::Feed(None) => {
                    events = None;
                    state.events_unreadable("the reading task ended".into())
                }
                Wake::Interrupted => {
                    let terminate = !self.opts.detach && (self.interrupt)(open.len());
                    state.interrupted(terminate)
                }
            };
            let Step { actions, next } = step;
            for a in actions {
                self.execute(a, &mut state, &mut followers).await?;
            }
            // after the record that holds what they said is saved
            if let (Some(ev), false) = (&events, handled.is_empty()) {
                ev.delete(&self.aws, handled).await;
            }
            match next {
                Next::Poll(w) => describe_at = Instant::now() + w,
                Next::Keep => {}
                Next::Detach => {
                    self.store.save(&state.rec)?;
                    followers.stop_all();
                    return Ok(Outcome::Detached(state.rec));
                }
                Next::LostContact { seconds } => {
                    self.store.save(&state.rec)?;
                    followers.stop_all();
                    return Err(RunError::LostContact {
                        run_id: state.rec.run_id.clone(),
                        seconds,
                        last: unreachable.expect("lost contact follows an unreachable poll"),
                    });
                }
            }
        }
        drop(events);
        followers.drain().await;
        state.finish(now_ms());
        let rec = state.rec;
        self.store.save(&rec)?;
        self.emit(RunEvent::Finished {
            run_id: rec.run_id.clone(),
            status: rec.status,
            seconds: start.elapsed().as_secs_f64(),
            compute_usd: rec.compute_usd,
            describe_jobs_calls: self.describe_jobs_calls(),
            job_events: self.job_events_received.load(Ordering::Relaxed),
        });
        Ok(Outcome::Ended(rec))
    }

    /// The stack's job-event queue, unless the options turn events off or it cannot be found
    /// (then a note says the run is watched by polling).
    async fn open_job_events(&self) -> Option<JobEvents> {
        if !self.opts.events {
            return None;
        }
        match JobEvents::open(&self.aws, &self.spec.job_events_name()).await {
            Ok(ev) => Some(ev),
            Err(e) => {
                self.emit(RunEvent::Note {
                    message: format!(
                        "no job events ({}): watching with DescribeJobs; `pipectl up` makes the stack's event queue",
                        e.code.as_deref().unwrap_or(e.message.as_str())
                    ),
                });
                None
            }
        }
    }

    /// One `DescribeJobs` per 100 jobs not ended.
    async fn describe(&self, ids: &[String]) -> Result<Vec<JobView>, AwsError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(100) {
            self.describe_calls.fetch_add(1, Ordering::Relaxed);
            let r = self
                .aws
                .batch
                .describe_jobs()
                .set_jobs(Some(chunk.to_vec()))
                .send()
                .await
                .ctx(BATCH, "DescribeJobs", format!("{} job(s)", chunk.len()))?;
            out.extend(r.jobs().iter().map(JobView::from));
        }
        Ok(out)
    }

    /// Carries out one decision.
    async fn execute(
        &self,
        action: Action,
        state: &mut WatchState,
        followers: &mut Followers,
    ) -> Result<(), RunError> {
        match action {
            Action::Emit(e) => self.emit(e),
            Action::Save => self.store.save(&state.rec)?,
            Action::Follow { phase, stream } => self.follow(followers, phase, stream),
            Action::StopFollowing { stream } => followers.stop(&stream),
            Action::EndJob {
                label,
                job_id,
                reason,
            } => self.end_job(&label, &job_id, &reason).await?,
            Action::ReadLogTail { stream } => {
                let tail = self.log_tail(&stream).await;
                if let Some(f) = state.rec.failure.as_mut() {
                    f.log_tail = tail;
                }
            }
            Action::Publish { phase } => {
                if let Some(p) = state.rec.phases.get(phase) {
                    self.publish(&state.rec.stack, p).await;
                }
            }
            Action::ExplainStuck {
                phase,
                waited_seconds,
            } => {
                let Some(p) = state.rec.phases.get(phase) else {
                    return Ok(());
                };
                let facts = self.blocked_facts(p, waited_seconds).await;
                let stuck = crate::stuck::explain(&facts);
                self.emit(RunEvent::Stuck {
                    phase: p.name.clone(),
                    code: stuck.code.clone(),
                    explanation: stuck.explanation.clone(),
                    fix: stuck.fix.clone(),
                });
                state.rec.phases[phase].stuck = Some(stuck);
                self.store.save(&state.rec)?;
            }
            Action::FallBack { phase, switch } => {
                self.fall_back(&mut state.rec, phase, switch).await?;
            }
        }
        Ok(())
    }

    /// `TerminateJob`: it ends a job in any state, where `CancelJob` leaves one that reached
    /// STARTING running (https://docs.aws.amazon.com/batch/latest/APIReference/API_CancelJob.html).
    async fn end_job(&self, label: &str, job_id: &str, reason: &str) -> Result<(), RunError> {
        self.aws
            .batch
            .terminate_job()
            .job_id(job_id)
            .reason(reason)
            .send()
            .await
            .ctx(BATCH, "TerminateJob", label)?;
        Ok(())
    }
}
