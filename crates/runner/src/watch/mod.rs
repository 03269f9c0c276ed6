//! Watching a run: a thin loop that sleeps, describes the open jobs in batches (or answers
//! Ctrl-C), hands what it saw to the pure decisions of [`decide`] and carries out the
//! actions they return, until every phase has ended.

mod decide;
#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pipectl_aws::{AwsError, ErrorKind, ResultExt};
use pipectl_record::{RunRecord, now_ms};

pub(crate) use decide::Action;
use decide::{Next, Now, Step, WatchEnv, WatchState};

use crate::context::{Outcome, Runner};
use crate::error::RunError;
use crate::events::RunEvent;
use crate::logs::Followers;
use crate::timing::JobView;

const BATCH: &str = "batch";

impl Runner {
    /// Watches until every phase has ended, or Ctrl-C detaches.
    pub async fn watch(&self, rec: RunRecord) -> Result<Outcome, RunError> {
        let start = Instant::now();
        let env = WatchEnv {
            spec: &self.spec,
            prices: &self.prices,
            follow: self.opts.follow,
            lost_contact_after: self.opts.lost_contact_after,
        };
        let mut state = WatchState::new(rec, self.opts.poll);
        let mut followers = Followers::default();
        let mut wait = Duration::ZERO;
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        loop {
            let open = state.open_jobs();
            if open.is_empty() {
                break;
            }
            let mut unreachable: Option<AwsError> = None;
            let step = tokio::select! {
                _ = tokio::time::sleep(wait) => {
                    let now = || Now { ms: now_ms(), elapsed: start.elapsed() };
                    match self.describe(&open).await {
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
                    }
                }
                _ = &mut interrupted, if !state.terminated() => {
                    let terminate = !self.opts.detach && (self.interrupt)(open.len());
                    state.interrupted(terminate)
                }
            };
            let Step { actions, next } = step;
            for a in actions {
                self.execute(a, &mut state, &mut followers).await?;
            }
            match next {
                Next::Poll(w) => wait = w,
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
        });
        Ok(Outcome::Ended(rec))
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
                terminate,
                reason,
            } => self.end_job(&label, &job_id, terminate, &reason).await?,
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
        }
        Ok(())
    }

    /// `TerminateJob` (on an instance) or `CancelJob` (still waiting).
    async fn end_job(
        &self,
        label: &str,
        job_id: &str,
        terminate: bool,
        reason: &str,
    ) -> Result<(), RunError> {
        let b = &self.aws.batch;
        if terminate {
            b.terminate_job()
                .job_id(job_id)
                .reason(reason)
                .send()
                .await
                .ctx(BATCH, "TerminateJob", label)?;
        } else {
            b.cancel_job()
                .job_id(job_id)
                .reason(reason)
                .send()
                .await
                .ctx(BATCH, "CancelJob", label)?;
        }
        Ok(())
    }
}
