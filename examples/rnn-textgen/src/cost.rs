//! The cost so far of the run, as the `document` job can see it from inside AWS Batch: its own
//! job and every job it depends on (transitively, from DescribeJobs' `dependsOn`), each
//! attempt's run time from Batch's own timestamps, priced at the list price of the instance
//! type its queue's compute environment offers (Spot or On-Demand by the environment's type)
//! from pipectl's built-in price sheet. Compute only: storage, transfer and the reconciled
//! figure are `pipectl cost --run`'s.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_batch::types::{CrType, JobDetail};
use pipectl_aws::{Aws, AwsError, ResultExt};
use pipectl_metering::prices::{self, PriceSheet};
use serde::{Deserialize, Serialize};

/// One job's compute cost so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobCost {
    /// The job's AWS Batch id.
    pub job_id: String,
    /// The job's name in AWS Batch.
    pub job_name: String,
    /// The job's AWS Batch status (`RUNNING`, `SUCCEEDED`, ...), or `UNKNOWN`.
    pub status: String,
    /// The name of the job queue it ran in (the end of the queue's ARN).
    pub queue: String,
    /// The instance type its queue's first compute environment offers, if known.
    pub instance_type: Option<String>,
    /// "spot" or "on-demand" (from the compute environment's type).
    pub purchase: Option<String>,
    /// Attempts counted: those that ended, and the one under way.
    pub attempts: usize,
    /// Run time of every attempt, the one under way counted up to now.
    pub seconds: f64,
    /// List price of the instance type, US dollars per hour; `None` without one.
    pub usd_per_hour: Option<f64>,
    /// `seconds` at `usd_per_hour`, in US dollars; `None` without a price.
    pub usd: Option<f64>,
    /// When the job started, Unix time in milliseconds; `None` if it has not.
    pub started_at_ms: Option<i64>,
}

/// The compute cost so far of a job and every job it depends on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CostSoFar {
    /// Each job, in the order they started (those not started last).
    pub jobs: Vec<JobCost>,
    /// The sum of the jobs' costs in US dollars; jobs without a price add nothing.
    pub total_usd: f64,
    /// The price sheet's name and date.
    pub prices: String,
    /// When the cost was worked out, Unix time in milliseconds.
    pub at_ms: i64,
}

/// Why the cost so far is not known.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// A call to AWS Batch failed.
    #[error("{0}")]
    Aws(#[from] AwsError),
    /// pipectl has no price sheet for this region (its name).
    #[error("no built-in price sheet for region {0}")]
    NoSheet(String),
    /// The region's price sheet is there but does not load (the reason).
    #[error("the built-in price sheet does not load: {0}")]
    Sheet(String),
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Seconds of every attempt of `j`; a job still running counts from its start to `now`.
pub fn attempt_seconds(j: &JobDetail, now: i64) -> (usize, f64) {
    let mut n = 0;
    let mut ms = 0i64;
    for a in j.attempts() {
        if let (Some(s), Some(e)) = (a.started_at(), a.stopped_at()) {
            n += 1;
            ms += (e - s).max(0);
        }
    }
    let running = j.status().is_some_and(|s| s.as_str() == "RUNNING");
    if running && let Some(s) = j.started_at().filter(|t| *t > 0) {
        n += 1;
        ms += (now - s).max(0);
    }
    (n, ms as f64 / 1000.0)
}

/// `own` and the jobs it depends on, transitively.
async fn jobs(aws: &Aws, own: &str) -> Result<Vec<JobDetail>, AwsError> {
    let mut seen = BTreeSet::new();
    let mut next = vec![own.to_string()];
    let mut out = Vec::new();
    while !next.is_empty() {
        let ids: Vec<String> = next.drain(..).filter(|i| seen.insert(i.clone())).collect();
        for chunk in ids.chunks(100) {
            let r = aws
                .batch
                .describe_jobs()
                .set_jobs(Some(chunk.to_vec()))
                .send()
                .await
                .ctx("batch", "DescribeJobs", chunk.join(","))?;
            for j in r.jobs() {
                next.extend(
                    j.depends_on()
                        .iter()
                        .filter_map(|d| d.job_id())
                        .map(str::to_string),
                );
                out.push(j.clone());
            }
        }
    }
    out.sort_by_key(|j| j.started_at().unwrap_or(i64::MAX));
    Ok(out)
}

/// Queue ARN → (instance type, purchase) of its first compute environment.
async fn queue_offers(
    aws: &Aws,
    queues: Vec<String>,
) -> Result<HashMap<String, (Option<String>, Option<String>)>, AwsError> {
    let mut out = HashMap::new();
    if queues.is_empty() {
        return Ok(out);
    }
    let r = aws
        .batch
        .describe_job_queues()
        .set_job_queues(Some(queues.clone()))
        .send()
        .await
        .ctx("batch", "DescribeJobQueues", queues.join(","))?;
    let mut first_ce = HashMap::new();
    for q in r.job_queues() {
        let mut order = q.compute_environment_order().to_vec();
        order.sort_by_key(aws_sdk_batch::types::ComputeEnvironmentOrder::order);
        if let (Some(arn), Some(ce)) = (
            q.job_queue_arn(),
            order.first().and_then(|o| o.compute_environment()),
        ) {
            first_ce.insert(arn.to_string(), ce.to_string());
        }
    }
    let ces: Vec<String> = first_ce
        .values()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut offers = HashMap::new();
    if !ces.is_empty() {
        let r = aws
            .batch
            .describe_compute_environments()
            .set_compute_environments(Some(ces.clone()))
            .send()
            .await
            .ctx("batch", "DescribeComputeEnvironments", ces.join(","))?;
        for ce in r.compute_environments() {
            let cr = ce.compute_resources();
            let purchase = cr.and_then(|c| c.r#type()).map(|t| match t {
                CrType::Spot | CrType::FargateSpot => "spot".to_string(),
                _ => "on-demand".to_string(),
            });
            let itype = cr.and_then(|c| c.instance_types().first().cloned());
            offers.insert(
                ce.compute_environment_arn().unwrap_or_default().to_string(),
                (itype, purchase),
            );
        }
    }
    for (q, ce) in first_ce {
        if let Some(o) = offers.get(&ce) {
            out.insert(q, o.clone());
        }
    }
    Ok(out)
}

/// The compute cost so far of `own` and the jobs before it.
pub async fn so_far(aws: &Aws, own: &str) -> Result<CostSoFar, CostError> {
    let sheet: PriceSheet = prices::builtin(&aws.region)
        .ok_or_else(|| CostError::NoSheet(aws.region.clone()))?
        .map_err(|e| CostError::Sheet(e.to_string()))?;
    let jobs = jobs(aws, own).await?;
    let queues: Vec<String> = jobs
        .iter()
        .filter_map(|j| j.job_queue())
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let offers = queue_offers(aws, queues).await?;
    let now = now_ms();
    let mut out = Vec::new();
    for j in &jobs {
        let queue = j.job_queue().unwrap_or_default().to_string();
        let (instance_type, purchase) = offers.get(&queue).cloned().unwrap_or((None, None));
        let rate = match (instance_type.as_deref(), purchase.as_deref()) {
            (Some(t), Some("spot")) => sheet.spot(t),
            (Some(t), Some(_)) => sheet.on_demand(t),
            _ => None,
        }
        .map(|r| r.usd);
        let (attempts, seconds) = attempt_seconds(j, now);
        out.push(JobCost {
            job_id: j.job_id().unwrap_or_default().to_string(),
            job_name: j.job_name().unwrap_or_default().to_string(),
            status: j.status().map_or("UNKNOWN", |s| s.as_str()).to_string(),
            queue: queue.rsplit('/').next().unwrap_or_default().to_string(),
            instance_type,
            purchase,
            attempts,
            seconds,
            usd_per_hour: rate,
            usd: rate.map(|r| r * seconds / 3600.0),
            started_at_ms: j.started_at().filter(|t| *t > 0),
        });
    }
    Ok(CostSoFar {
        total_usd: out.iter().filter_map(|j| j.usd).sum(),
        jobs: out,
        prices: format!("{} ({})", sheet.sheet.name, sheet.sheet.date),
        at_ms: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_batch::types::{AttemptDetail, JobStatus};

    fn attempt(start: i64, stop: i64) -> AttemptDetail {
        AttemptDetail::builder()
            .started_at(start)
            .stopped_at(stop)
            .build()
    }

    fn job(status: JobStatus) -> JobDetail {
        JobDetail::builder()
            .status(status)
            .started_at(200_000)
            .attempts(attempt(0, 60_000))
            .attempts(attempt(100_000, 130_000))
            .build()
    }

    #[test]
    fn ended_attempts_and_the_one_under_way_are_counted() {
        // two interrupted attempts of 60 s and 30 s, the third running for 10 s so far
        assert_eq!(
            attempt_seconds(&job(JobStatus::Running), 210_000),
            (3, 100.0)
        );
        // once it has ended, only the recorded attempts count
        assert_eq!(
            attempt_seconds(&job(JobStatus::Succeeded), 999_000),
            (2, 90.0)
        );
    }
}
