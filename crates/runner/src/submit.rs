//! Submitting: every phase at once, dependencies first, each job depending on its phases'
//! jobs (`dependsOn`, so AWS sequences them), with the run's environment; a job already under
//! its name (a CLI killed between submitting and saving) is adopted, not submitted twice.

use aws_sdk_batch::types::{
    ArrayProperties, ContainerOverrides, JobDependency, KeyValuePair, KeyValuesPair, NodeOverrides,
    NodePropertyOverride,
};
use pipectl_aws::ResultExt;
use pipectl_record::{JobStatus, PhaseRecord, RunRecord};

use crate::context::Runner;
use crate::error::RunError;
use crate::events::RunEvent;
use pipectl_spec::graph::ResourceId;

const BATCH: &str = "batch";

impl Runner {
    /// Submits every phase not submitted yet, dependencies first, saving the record after each.
    /// A phase whose job exists under its name (a CLI killed between submitting and saving) is
    /// adopted, not submitted twice.
    /// A phase that mounts FSx is submitted only once the file system is AVAILABLE.
    pub async fn submit(&self, rec: &mut RunRecord) -> Result<(), RunError> {
        // jobs a fallback replaced, if a kill came before they were ended
        self.end_replaced(rec).await?;
        let mut file_system_checked = false;
        for i in 0..rec.phases.len() {
            if rec.phases[i].job_id.is_some() {
                continue;
            }
            let p = rec.phases[i].clone();
            if !file_system_checked && self.mounts_fsx(&p.name) {
                self.wait_for_file_system().await?;
                file_system_checked = true;
            }
            if let Some(id) = self.existing_job(&p).await? {
                rec.phases[i].job_id = Some(id);
                rec.phases[i].status = JobStatus::Submitted;
                self.store.save(rec)?;
                continue;
            }
            let deps: Vec<String> = p
                .depends_on
                .iter()
                .filter_map(|d| rec.phase(d).and_then(|d| d.job_id.clone()))
                .collect();
            let id = self.submit_job(rec, &p, deps).await?;
            rec.phases[i].job_id = Some(id.clone());
            rec.phases[i].status = JobStatus::Submitted;
            self.store.save(rec)?;
            self.emit(RunEvent::Submitted {
                run_id: rec.run_id.clone(),
                phase: p.name.clone(),
                job_id: id,
                job_name: p.job_name.clone(),
            });
        }
        Ok(())
    }

    /// The id of the job already submitted under the phase's job name, if any.
    async fn existing_job(&self, p: &PhaseRecord) -> Result<Option<String>, RunError> {
        let found = self
            .aws
            .batch
            .list_jobs()
            .job_queue(&p.job_queue)
            .filters(
                KeyValuesPair::builder()
                    .name("JOB_NAME")
                    .values(&p.job_name)
                    .build(),
            )
            .send()
            .await
            .ctx(BATCH, "ListJobs", &p.job_name)?;
        Ok(found
            .job_summary_list()
            .iter()
            .find(|j| j.job_name() == Some(p.job_name.as_str()))
            .and_then(|j| j.job_id().map(str::to_string)))
    }

    /// Submits one phase's job, depending on `deps`; its id.
    async fn submit_job(
        &self,
        rec: &RunRecord,
        p: &PhaseRecord,
        deps: Vec<String>,
    ) -> Result<String, RunError> {
        let spec = self.phase_spec(&p.name);
        let env = self.environment(&rec.run_id, &p.name);
        let mut req = self
            .aws
            .batch
            .submit_job()
            .job_name(&p.job_name)
            .job_queue(&p.job_queue)
            .job_definition(&p.job_definition)
            .tags("pipectl:stack", &rec.stack)
            .tags("pipectl:run", &rec.run_id)
            .tags("pipectl:phase", &p.name)
            .propagate_tags(true);
        for d in deps {
            req = req.depends_on(JobDependency::builder().job_id(d).build());
        }
        let container = ContainerOverrides::builder()
            .set_environment(Some(env))
            .build();
        // a multi-node job definition (the spec's nodes > 1) takes its node count here
        if spec.is_some_and(|s| s.nodes > 1) {
            req = req.node_overrides(
                NodeOverrides::builder()
                    .num_nodes(p.nodes.max(1) as i32)
                    .node_property_overrides(
                        NodePropertyOverride::builder()
                            .target_nodes("0:")
                            .container_overrides(container)
                            .build(),
                    )
                    .build(),
            );
        } else {
            req = req.container_overrides(container);
        }
        if let Some(n) = p.array_size {
            req = req.array_properties(ArrayProperties::builder().size(n as i32).build());
        }
        let out = req.send().await.ctx(BATCH, "SubmitJob", &p.name)?;
        Ok(out.job_id().unwrap_or_default().to_string())
    }

    /// Whether the phase's jobs mount the stack's file system.
    fn mounts_fsx(&self, phase: &str) -> bool {
        self.spec.fsx.is_some()
            && self
                .phase_spec(phase)
                .is_some_and(|p| self.spec.phase_uses_fsx(p))
    }

    /// The run-specific environment each job gets: run id, stack, phase, bucket names, FSx mount.
    fn environment(&self, run_id: &str, phase: &str) -> Vec<KeyValuePair> {
        let mut env = vec![
            ("PIPECTL_RUN_ID".to_string(), run_id.to_string()),
            ("PIPECTL_STACK".into(), self.spec.stack.name.clone()),
            ("PIPECTL_PHASE".into(), phase.to_string()),
        ];
        for key in self.spec.buckets.keys() {
            env.push((
                format!(
                    "PIPECTL_BUCKET_{}",
                    key.to_ascii_uppercase().replace('-', "_")
                ),
                self.name_of(&ResourceId::Bucket(key.clone())),
            ));
        }
        if let (Some(f), Some(p)) = (&self.spec.fsx, self.phase_spec(phase))
            && self.spec.phase_uses_fsx(p)
        {
            env.push(("PIPECTL_FSX_MOUNT".into(), f.mount_path.clone()));
        }
        env.into_iter()
            .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
            .collect()
    }
}
