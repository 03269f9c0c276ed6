//! Phase and attempt timing from AWS's own timestamps (never this machine's clock): queue wait
//! from the moment a job could start (submitted and its dependencies ended) to its first
//! attempt, run time as the sum of every attempt (what compute is billed for), and Spot
//! interruptions as attempts whose `statusReason` starts with `Host EC2`.

use aws_sdk_batch::types::JobDetail;

use pipectl_record::{Attempt, JobStatus, PhaseRecord};

/// What one `DescribeJobs` answer says of a job, reduced to what the record keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    /// Batch's job id.
    pub job_id: String,
    /// Batch's job status.
    pub status: JobStatus,
    /// Batch's `statusReason`, if any.
    pub status_reason: Option<String>,
    /// Batch's `createdAt` (ms since the Unix epoch).
    pub created_at: Option<i64>,
    /// Batch's `startedAt` (ms since the Unix epoch).
    pub started_at: Option<i64>,
    /// Batch's `stoppedAt` (ms since the Unix epoch).
    pub stopped_at: Option<i64>,
    /// Ended attempts, oldest first.
    pub attempts: Vec<Attempt>,
    /// The stream of the attempt under way (or the last).
    pub log_stream: Option<String>,
}

/// Whether an attempt's `statusReason` says Spot reclaimed the instance (`Host EC2...`).
pub fn is_spot_interruption(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.starts_with("Host EC2"))
}

/// An ended attempt as the record keeps it, from what Batch says of it (DescribeJobs or a job
/// event): it has ended once it has both a start and a stop.
pub(crate) fn attempt(
    started_at: Option<i64>,
    stopped_at: Option<i64>,
    exit_code: Option<i32>,
    status_reason: Option<&str>,
    log_stream: Option<&str>,
) -> Option<Attempt> {
    let (start, stop) = (started_at?, stopped_at?);
    Some(Attempt {
        started_at_ms: start,
        stopped_at_ms: stop,
        run_seconds: (stop - start).max(0) as f64 / 1000.0,
        exit_code,
        status_reason: status_reason.map(str::to_string),
        log_stream: log_stream.map(str::to_string),
        spot_interruption: is_spot_interruption(status_reason),
    })
}

/// How far a job has come: its ended attempts, then its status in Batch's order (a retry goes
/// back to RUNNABLE with one more ended attempt, so it still moves forward).
fn progress(attempts: usize, status: &JobStatus) -> (usize, u8) {
    let rank = match status {
        JobStatus::NotSubmitted => 0,
        JobStatus::Submitted => 1,
        JobStatus::Pending => 2,
        JobStatus::Runnable => 3,
        JobStatus::Starting => 4,
        JobStatus::Running | JobStatus::Other(_) => 5,
        JobStatus::Succeeded | JobStatus::Failed => 6,
    };
    (attempts, rank)
}

/// Whether a view of a job is behind what the record already has: job events arrive out of
/// order and more than once, and the record only moves forward.
pub fn is_stale(p: &PhaseRecord, v: &JobView) -> bool {
    progress(v.attempts.len(), &v.status) < progress(p.attempts.len(), &p.status)
}

impl From<&JobDetail> for JobView {
    fn from(j: &JobDetail) -> Self {
        let attempts = j
            .attempts()
            .iter()
            .filter_map(|a| {
                let c = a.container();
                attempt(
                    a.started_at(),
                    a.stopped_at(),
                    c.and_then(aws_sdk_batch::types::AttemptContainerDetail::exit_code),
                    a.status_reason(),
                    c.and_then(|c| c.log_stream_name()),
                )
            })
            .collect();
        JobView {
            job_id: j.job_id().unwrap_or_default().to_string(),
            status: JobStatus::from(j.status().map_or("UNKNOWN", |s| s.as_str())),
            status_reason: j.status_reason().map(str::to_string),
            // A job that never started may carry 0 rather than no timestamp.
            created_at: j.created_at().filter(|t| *t > 0),
            started_at: j.started_at().filter(|t| *t > 0),
            stopped_at: j.stopped_at().filter(|t| *t > 0),
            attempts,
            log_stream: j
                .container()
                .and_then(|c| c.log_stream_name())
                .map(str::to_string),
        }
    }
}

fn secs(from: i64, to: i64) -> f64 {
    (to - from).max(0) as f64 / 1000.0
}

/// Brings a phase's record up to date with what AWS says of its job. `deps_stopped`: when the
/// last of its dependencies ended (`None` while one has not, or when it has none).
/// Returns whether anything the record shows changed; a view behind the record changes
/// nothing ([`is_stale`]).
pub fn update(p: &mut PhaseRecord, v: &JobView, deps_stopped: Option<i64>, has_deps: bool) -> bool {
    if is_stale(p, v) {
        return false;
    }
    let before = (
        p.status.clone(),
        p.attempts.len(),
        p.started_at_ms,
        p.stopped_at_ms,
        p.log_streams.len(),
    );
    p.status = v.status.clone();
    p.status_reason = v.status_reason.clone();
    p.created_at_ms = v.created_at;
    p.ready_at_ms = match (v.created_at, has_deps, deps_stopped) {
        (Some(c), false, _) => Some(c),
        (Some(c), true, Some(d)) => Some(c.max(d)),
        _ => None,
    };
    p.attempts = v.attempts.clone();
    let first_start = v.attempts.first().map(|a| a.started_at_ms).or(v.started_at);
    p.started_at_ms = first_start;
    p.stopped_at_ms = v.stopped_at;
    p.queue_wait_seconds = match (p.ready_at_ms, first_start) {
        (Some(r), Some(s)) => Some(secs(r, s)),
        _ => None,
    };
    p.run_seconds = if v.attempts.is_empty() {
        match (v.started_at, v.stopped_at) {
            (Some(a), Some(b)) => Some(secs(a, b)),
            _ => None,
        }
    } else {
        Some(v.attempts.iter().map(|a| a.run_seconds).sum())
    };
    p.total_seconds = match (p.ready_at_ms, v.stopped_at) {
        (Some(r), Some(s)) => Some(secs(r, s)),
        _ => None,
    };
    p.spot_interruptions = v.attempts.iter().filter(|a| a.spot_interruption).count() as u32;
    for s in v
        .attempts
        .iter()
        .filter_map(|a| a.log_stream.as_ref())
        .chain(v.log_stream.as_ref())
    {
        if !p.log_streams.contains(s) {
            p.log_streams.push(s.clone());
        }
    }
    before
        != (
            p.status.clone(),
            p.attempts.len(),
            p.started_at_ms,
            p.stopped_at_ms,
            p.log_streams.len(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase() -> PhaseRecord {
        PhaseRecord {
            job_id: Some("j".into()),
            status: JobStatus::Submitted,
            ..PhaseRecord::new("training", 60.0)
        }
    }

    fn attempt(start: i64, stop: i64, reason: &str, code: Option<i32>) -> Attempt {
        Attempt {
            started_at_ms: start,
            stopped_at_ms: stop,
            run_seconds: (stop - start) as f64 / 1000.0,
            exit_code: code,
            status_reason: Some(reason.into()),
            log_stream: Some(format!("s/{start}")),
            spot_interruption: is_spot_interruption(Some(reason)),
        }
    }

    #[test]
    fn an_interrupted_attempt_is_counted_and_its_time_kept() {
        let mut p = phase();
        let v = JobView {
            job_id: "j".into(),
            status: JobStatus::Succeeded,
            status_reason: Some("Essential container in task exited".into()),
            created_at: Some(1_000),
            started_at: Some(9_000),
            stopped_at: Some(15_000),
            attempts: vec![
                attempt(3_000, 5_500, "Host EC2 (instance i-1) terminated.", None),
                attempt(9_000, 15_000, "Essential container in task exited", Some(0)),
            ],
            log_stream: Some("s/9000".into()),
        };
        assert!(update(&mut p, &v, None, false));
        assert_eq!(p.spot_interruptions, 1);
        assert_eq!(
            p.queue_wait_seconds,
            Some(2.0),
            "ready 1 s → first attempt 3 s"
        );
        assert_eq!(p.run_seconds, Some(8.5), "2.5 s lost to Spot + 6 s");
        assert_eq!(p.total_seconds, Some(14.0));
        assert_eq!(p.log_streams, vec!["s/3000", "s/9000"]);
        assert!(
            !update(&mut p, &v, None, false),
            "nothing new the second time"
        );
    }

    #[test]
    fn queue_wait_of_a_dependent_starts_when_its_dependency_ended() {
        let mut p = phase();
        let v = JobView {
            job_id: "j".into(),
            status: JobStatus::Running,
            status_reason: None,
            created_at: Some(1_000),
            started_at: Some(21_000),
            stopped_at: None,
            attempts: vec![],
            log_stream: Some("s".into()),
        };
        update(&mut p, &v, None, true);
        assert_eq!(p.ready_at_ms, None, "a dependency has not ended");
        update(&mut p, &v, Some(20_000), true);
        assert_eq!(p.queue_wait_seconds, Some(1.0));
        assert_eq!(p.run_seconds, None, "no attempt has ended");
    }

    #[test]
    fn views_out_of_order_and_repeated_give_the_record_of_the_views_in_order() {
        let view = |status: JobStatus, attempts: Vec<Attempt>, stopped: Option<i64>| JobView {
            job_id: "j".into(),
            status,
            status_reason: None,
            created_at: Some(1_000),
            started_at: Some(3_000),
            stopped_at: stopped,
            attempts,
            log_stream: Some("s/3000".into()),
        };
        let spot = attempt(3_000, 5_000, "Host EC2 (instance i-1) terminated.", None);
        let done = attempt(6_000, 9_000, "Essential container in task exited", Some(0));
        let in_order = [
            view(JobStatus::Runnable, vec![], None),
            view(JobStatus::Running, vec![], None),
            // the retry: back to RUNNABLE with one more ended attempt
            view(JobStatus::Runnable, vec![spot.clone()], None),
            view(JobStatus::Running, vec![spot.clone()], None),
            view(
                JobStatus::Succeeded,
                vec![spot.clone(), done.clone()],
                Some(9_000),
            ),
        ];
        let mut want = phase();
        for v in &in_order {
            update(&mut want, v, None, false);
        }
        // reordered, with duplicates
        let mut got = phase();
        for i in [1, 0, 4, 3, 2, 4, 1, 0, 3] {
            update(&mut got, &in_order[i], None, false);
        }
        assert_eq!(got.status, JobStatus::Succeeded);
        assert_eq!(got.attempts, want.attempts);
        assert_eq!(got.spot_interruptions, 1);
        assert_eq!(
            (got.run_seconds, got.stopped_at_ms),
            (want.run_seconds, want.stopped_at_ms)
        );
        assert!(is_stale(&got, &in_order[3]));
        assert!(
            !is_stale(&got, &in_order[4]),
            "the same view again is not behind"
        );
    }
}
