//! Moving a phase to its fallback queue: the phase's job and those of the phases that depend
//! on it (their `dependsOn` names the old job) are kept in the record as replaced, the record
//! is saved, the old jobs are ended (`TerminateJob`: cancels a job not started, terminates one
//! on an instance), and the phases are submitted again, the moved one to its fallback queue.
//! A kill at any point leaves a record `run --attach` completes from: replaced jobs not yet
//! ended are ended again, phases without a job are submitted (adopted when already there).

use pipectl_aws::ResultExt;
use pipectl_record::{FallbackSwitch, JobStatus, PhaseRecord, ReplacedJob, RunRecord};

use crate::context::Runner;
use crate::error::RunError;
use pipectl_spec::graph::ResourceId;

const BATCH: &str = "batch";

/// The phase at `i` and every phase not ended that depends on it, directly or not, in the
/// record's order (dependencies first).
pub(crate) fn moving(rec: &RunRecord, i: usize) -> Vec<usize> {
    let mut names = vec![rec.phases[i].name.as_str()];
    let mut out = vec![i];
    for (j, p) in rec.phases.iter().enumerate() {
        if j != i
            && !p.status.is_terminal()
            && p.depends_on.iter().any(|d| names.contains(&d.as_str()))
        {
            names.push(&p.name);
            out.push(j);
        }
    }
    out.sort_unstable();
    out
}

/// Keeps the phase's job as replaced (with `reason` and its cost) and clears the phase for a
/// new job under the next name (`<first name>-r<N>`).
pub(crate) fn replace_job(p: &mut PhaseRecord, reason: &str, compute_usd: Option<f64>) {
    let Some(job_id) = p.job_id.take() else {
        return;
    };
    let first = p
        .replaced
        .first()
        .map_or(p.job_name.clone(), |r| r.job_name.clone());
    p.replaced.push(ReplacedJob {
        job_id,
        job_name: std::mem::take(&mut p.job_name),
        job_queue: p.job_queue.clone(),
        purchase: p.purchase,
        status: p.status.clone(),
        reason: reason.to_string(),
        attempts: std::mem::take(&mut p.attempts),
        spot_interruptions: std::mem::take(&mut p.spot_interruptions),
        compute_usd,
        ended: false,
    });
    let suffix = format!("-r{}", p.replaced.len());
    let mut base = first;
    base.truncate(128 - suffix.len());
    p.job_name = base + &suffix;
    p.status = JobStatus::NotSubmitted;
    p.status_reason = None;
    p.created_at_ms = None;
    p.ready_at_ms = None;
    p.started_at_ms = None;
    p.stopped_at_ms = None;
    p.noticed_at_ms = None;
    p.queue_wait_seconds = None;
    p.run_seconds = None;
    p.total_seconds = None;
    p.log_streams.clear();
    p.compute_usd = None;
    p.stuck = None;
}

impl Runner {
    /// Moves the phase at `i` to its fallback queue (see the module's order of steps).
    pub(crate) async fn fall_back(
        &self,
        rec: &mut RunRecord,
        i: usize,
        switch: FallbackSwitch,
    ) -> Result<(), RunError> {
        let name = rec.phases[i].name.clone();
        for j in moving(rec, i) {
            let p = &rec.phases[j];
            let reason = if j == i {
                format!("fallback to queue {:?}: {}", switch.queue, switch.reason)
            } else {
                format!("{name} fell back to queue {:?}", switch.queue)
            };
            let cost = crate::cost::job_cost(&self.spec, &self.prices, p);
            replace_job(&mut rec.phases[j], &reason, cost);
        }
        let (types, purchase) = self.instance_types(&switch.queue);
        let p = &mut rec.phases[i];
        p.job_queue = self.name_of(&ResourceId::JobQueue(switch.queue.clone()));
        p.instance_types = types;
        p.purchase = purchase;
        p.fallback = Some(switch);
        self.store.save(rec)?;
        // `submit` ends the replaced jobs first, as it does for a resumed run
        self.submit(rec).await
    }

    /// Ends every replaced job not known to be ended (`TerminateJob` whatever its state),
    /// saving the record after each.
    pub(crate) async fn end_replaced(&self, rec: &mut RunRecord) -> Result<(), RunError> {
        for i in 0..rec.phases.len() {
            for k in 0..rec.phases[i].replaced.len() {
                let r = &rec.phases[i].replaced[k];
                if r.ended || r.status.is_terminal() {
                    continue;
                }
                let reason = format!("pipectl run: {}", r.reason);
                self.aws
                    .batch
                    .terminate_job()
                    .job_id(&r.job_id)
                    .reason(truncate(&reason, 1024))
                    .send()
                    .await
                    .ctx(BATCH, "TerminateJob", &r.job_name)?;
                rec.phases[i].replaced[k].ended = true;
                self.store.save(rec)?;
            }
        }
        Ok(())
    }
}

/// TerminateJob's `reason` "has a limit of 1024 characters" (API reference).
fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(phases: Vec<PhaseRecord>) -> RunRecord {
        serde_json::from_value(serde_json::json!({
            "schema": "pipectl.run", "version": 1, "run_id": "r", "stack": "s",
            "region": "us-east-1", "account": "0", "endpoint": "aws", "spec_path": "x",
            "spec_sha256": "", "price_sheet": {"name": "n", "date": "d"}, "estimate_usd": 1.0,
            "submitted_at_ms": 0, "status": "RUNNING", "phases": phases,
        }))
        .unwrap()
    }

    fn phase(name: &str, deps: &[&str], status: JobStatus) -> PhaseRecord {
        PhaseRecord {
            depends_on: deps.iter().map(ToString::to_string).collect(),
            status,
            job_id: Some(format!("id-{name}")),
            job_name: format!("s-{name}-r"),
            ..PhaseRecord::new(name, 60.0)
        }
    }

    #[test]
    fn a_phase_moves_with_every_dependent_not_ended() {
        let r = rec(vec![
            phase("prep", &[], JobStatus::Succeeded),
            phase("training", &["prep"], JobStatus::Runnable),
            phase("inference", &["training"], JobStatus::Pending),
            phase("docs", &["inference"], JobStatus::Pending),
            phase("other", &["prep"], JobStatus::Running),
        ]);
        assert_eq!(moving(&r, 1), vec![1, 2, 3]);
        assert_eq!(moving(&r, 3), vec![3]);
    }

    #[test]
    fn a_replaced_job_is_kept_whole_and_the_phase_starts_over_under_a_new_name() {
        let mut p = phase("training", &[], JobStatus::Runnable);
        p.spot_interruptions = 2;
        p.attempts = vec![pipectl_record::Attempt {
            started_at_ms: 0,
            stopped_at_ms: 30_000,
            run_seconds: 30.0,
            exit_code: None,
            status_reason: Some("Host EC2 (instance i-1) terminated.".into()),
            log_stream: Some("l/1".into()),
            spot_interruption: true,
        }];
        p.log_streams = vec!["l/1".into()];
        p.ready_at_ms = Some(5);
        replace_job(&mut p, "because", Some(0.01));
        assert_eq!(p.job_id, None);
        assert_eq!(p.status, JobStatus::NotSubmitted);
        assert_eq!(p.job_name, "s-training-r-r1");
        assert!(p.attempts.is_empty() && p.log_streams.is_empty() && p.ready_at_ms.is_none());
        assert_eq!(p.spot_interruptions, 0);
        let r = &p.replaced[0];
        assert_eq!(
            (r.job_id.as_str(), r.job_name.as_str()),
            ("id-training", "s-training-r")
        );
        assert_eq!(
            (r.attempts.len(), r.spot_interruptions, r.compute_usd),
            (1, 2, Some(0.01))
        );
        assert_eq!(r.status, JobStatus::Runnable);
        assert!(!r.ended);
        // a second replacement counts on from the first name
        p.job_id = Some("id-2".into());
        replace_job(&mut p, "again", None);
        assert_eq!(p.job_name, "s-training-r-r2");
        // a phase without a job is left as it is
        let before = p.replaced.len();
        replace_job(&mut p, "nothing", None);
        assert_eq!(p.replaced.len(), before);
        assert_eq!(truncate("ééé", 2), "éé");
    }
}
