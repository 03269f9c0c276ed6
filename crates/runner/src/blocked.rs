//! What AWS says of a RUNNABLE job's queue and compute environments, gathered for
//! [`crate::stuck::explain`]: one DescribeJobQueues and one DescribeComputeEnvironments. A call
//! that fails leaves the explanation to what the job's own `statusReason` says.

use pipectl_aws::ResultExt;
use pipectl_record::PhaseRecord;

use crate::context::Runner;
use crate::stuck::{Environment, Facts, Need};

const BATCH: &str = "batch";

impl Runner {
    /// The facts about a phase whose job has waited RUNNABLE `waited_seconds`.
    pub(crate) async fn blocked_facts(&self, p: &PhaseRecord, waited_seconds: f64) -> Facts {
        let spec = self.phase_spec(&p.name);
        let need = spec.map_or(
            Need {
                vcpus: 1,
                memory_mib: 0,
                gpus: 0,
                nodes: 1,
            },
            |s| Need {
                vcpus: s.vcpus,
                memory_mib: s.memory.mib() as u64,
                gpus: s.gpus,
                nodes: s.nodes,
            },
        );
        let runnable_timeout = spec
            .and_then(|s| self.spec.job_queues.get(&s.queue))
            .and_then(|q| q.runnable_timeout)
            .map(pipectl_spec::units::Duration::secs);
        let environments = match self.environments_of(&p.job_queue, &p.name).await {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(error = %e, "compute environments not described");
                Vec::new()
            }
        };
        Facts {
            phase: p.name.clone(),
            status_reason: p.status_reason.clone(),
            need,
            environments,
            waited_seconds,
            runnable_timeout,
        }
    }

    async fn environments_of(
        &self,
        queue: &str,
        phase: &str,
    ) -> Result<Vec<Environment>, pipectl_aws::AwsError> {
        let b = &self.aws.batch;
        let q = b.describe_job_queues().job_queues(queue).send().await.ctx(
            BATCH,
            "DescribeJobQueues",
            phase,
        )?;
        let mut order: Vec<_> = q
            .job_queues()
            .first()
            .map(|q| q.compute_environment_order().to_vec())
            .unwrap_or_default();
        order.sort_by_key(aws_sdk_batch::types::ComputeEnvironmentOrder::order);
        let arns: Vec<String> = order
            .iter()
            .filter_map(|o| o.compute_environment().map(str::to_string))
            .collect();
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let ces = b
            .describe_compute_environments()
            .set_compute_environments(Some(arns.clone()))
            .send()
            .await
            .ctx(BATCH, "DescribeComputeEnvironments", phase)?;
        Ok(arns
            .iter()
            .filter_map(|arn| {
                ces.compute_environments()
                    .iter()
                    .find(|c| c.compute_environment_arn() == Some(arn.as_str()))
            })
            .map(|c| {
                let r = c.compute_resources();
                Environment {
                    name: c.compute_environment_name().unwrap_or_default().to_string(),
                    status: c.status().map_or("", |s| s.as_str()).to_string(),
                    status_reason: c.status_reason().map(str::to_string),
                    state: c.state().map_or("", |s| s.as_str()).to_string(),
                    purchase: r
                        .and_then(|r| r.r#type())
                        .map_or("", |t| t.as_str())
                        .to_string(),
                    max_vcpus: r
                        .and_then(aws_sdk_batch::types::ComputeResource::maxv_cpus)
                        .map_or(0, i64::from),
                    desired_vcpus: r
                        .and_then(aws_sdk_batch::types::ComputeResource::desiredv_cpus)
                        .map_or(0, i64::from),
                    instance_types: r.map(|r| r.instance_types().to_vec()).unwrap_or_default(),
                }
            })
            .collect())
    }
}
