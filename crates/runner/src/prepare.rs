//! Before submitting: the stack's queues must be ENABLED and VALID, each phase's job
//! definition must have an ACTIVE revision, and the estimate must fit the budget; then the
//! run record is written with every phase not submitted yet, dependencies first.

use std::collections::BTreeMap;

use pipectl_aws::ResultExt;
use pipectl_record as record;
use pipectl_record::{
    PhaseRecord, RECORD_SCHEMA, RECORD_VERSION, RunRecord, RunStatus, new_run_id, now_ms,
};
use pipectl_spec::model::Purchase;

use pipectl_metering::variant;

use crate::context::Runner;
use crate::cost::check_budget;
use crate::error::RunError;
use pipectl_spec::graph::ResourceId;

const BATCH: &str = "batch";

impl Runner {
    /// Checks the queues are ENABLED and VALID and finds each phase's job definition's latest
    /// ACTIVE revision; checks the budget; writes the record. No job is submitted yet.
    pub async fn prepare(
        &self,
        spec_path: &str,
        spec_sha256: &str,
        ignore_budget: bool,
    ) -> Result<RunRecord, RunError> {
        let planned = variant::with_nodes(&self.spec, &self.opts.nodes);
        let estimate = check_budget(&planned, &self.prices, ignore_budget)?;
        let queues = self.check_queues().await?;
        let run_id = new_run_id(now_ms());
        let phases = self.phase_records(&run_id, &queues).await?;
        let rec = RunRecord {
            schema: RECORD_SCHEMA.into(),
            version: RECORD_VERSION,
            run_id,
            stack: self.spec.stack.name.clone(),
            region: self.aws.region.clone(),
            account: self.account.clone(),
            endpoint: self.aws.endpoint.clone().unwrap_or_else(|| "aws".into()),
            spec_path: spec_path.to_string(),
            spec_sha256: spec_sha256.to_string(),
            price_sheet: self.price_ref.clone(),
            prices: Some(self.prices.to_recorded()),
            estimate_usd: estimate,
            budget_usd: self.spec.stack.budget_usd,
            submitted_at_ms: now_ms(),
            finished_at_ms: None,
            status: RunStatus::Running,
            phases: topological(phases),
            compute_usd: None,
            failure: None,
        };
        self.store.save(&rec)?;
        Ok(rec)
    }

    /// Each queue the phases use (their own and their fallbacks) by key, with its AWS name,
    /// once all are ENABLED and VALID.
    async fn check_queues(&self) -> Result<BTreeMap<String, String>, RunError> {
        let queues: BTreeMap<String, String> = self
            .spec
            .phases
            .iter()
            .flat_map(|p| std::iter::once(&p.queue).chain(p.fallback.as_ref().map(|f| &f.queue)))
            .map(|q| (q.clone(), self.name_of(&ResourceId::JobQueue(q.clone()))))
            .collect();
        let names: Vec<String> = queues.values().cloned().collect();
        let out = self
            .aws
            .batch
            .describe_job_queues()
            .set_job_queues(Some(names.clone()))
            .send()
            .await
            .ctx(BATCH, "DescribeJobQueues", names.join(","))?;
        for name in &names {
            let Some(q) = out
                .job_queues()
                .iter()
                .find(|q| q.job_queue_name() == Some(name.as_str()))
            else {
                return Err(RunError::NotReady {
                    what: format!("job queue {name} does not exist"),
                });
            };
            let (state, status) = (
                q.state().map_or("?", |s| s.as_str()),
                q.status().map_or("?", |s| s.as_str()),
            );
            if state != "ENABLED" || status != "VALID" {
                return Err(RunError::NotReady {
                    what: format!("job queue {name} is {status}, {state}"),
                });
            }
        }
        Ok(queues)
    }

    /// Every phase as the record starts it: its queue, job definition revision and job name.
    async fn phase_records(
        &self,
        run_id: &str,
        queues: &BTreeMap<String, String>,
    ) -> Result<Vec<PhaseRecord>, RunError> {
        let mut phases = Vec::new();
        for p in &self.spec.phases {
            let jd = self.name_of(&ResourceId::JobDefinition(p.name.clone()));
            let out = self
                .aws
                .batch
                .describe_job_definitions()
                .job_definition_name(&jd)
                .status("ACTIVE")
                .send()
                .await
                .ctx(BATCH, "DescribeJobDefinitions", &jd)?;
            let Some(rev) = out
                .job_definitions()
                .iter()
                .filter_map(aws_sdk_batch::types::JobDefinition::revision)
                .max()
            else {
                return Err(RunError::NotReady {
                    what: format!("job definition {jd} has no ACTIVE revision"),
                });
            };
            let (types, purchase) = self.instance_types(&p.queue);
            let mut job_name = format!("{}-{}-{run_id}", self.spec.stack.name, p.name);
            job_name.truncate(128);
            phases.push(PhaseRecord {
                job_queue: queues[&p.queue].clone(),
                job_definition: format!("{jd}:{rev}"),
                job_name,
                depends_on: p.depends_on.clone(),
                instance_types: types,
                purchase,
                nodes: self.opts.nodes.get(&p.name).copied().unwrap_or(p.nodes),
                array_size: p.array_size,
                ..PhaseRecord::new(&p.name, p.duration.secs() as f64)
            });
        }
        Ok(phases)
    }

    /// The instance types a queue's compute environments offer, and how the first buys them.
    pub(crate) fn instance_types(&self, queue: &str) -> (Vec<String>, record::Purchase) {
        let mut types = Vec::new();
        let mut purchase = None;
        if let Some(q) = self.spec.job_queues.get(queue) {
            for ce in q
                .compute_environments
                .iter()
                .filter_map(|c| self.spec.compute_environments.get(c))
            {
                types.extend(ce.instance_types.iter().cloned());
                purchase.get_or_insert(ce.purchase);
            }
        }
        let purchase = match purchase {
            Some(Purchase::Spot) => record::Purchase::Spot,
            _ => record::Purchase::OnDemand,
        };
        (types, purchase)
    }
}

/// Dependencies first (the spec is validated acyclic); otherwise the spec's order.
pub(crate) fn topological(mut phases: Vec<PhaseRecord>) -> Vec<PhaseRecord> {
    let mut out: Vec<PhaseRecord> = Vec::with_capacity(phases.len());
    while !phases.is_empty() {
        let ready = phases
            .iter()
            .position(|p| {
                p.depends_on
                    .iter()
                    .all(|d| out.iter().any(|o| &o.name == d))
            })
            .unwrap_or(0);
        out.push(phases.remove(ready));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(name: &str, deps: &[&str]) -> PhaseRecord {
        PhaseRecord {
            depends_on: deps.iter().map(std::string::ToString::to_string).collect(),
            ..PhaseRecord::new(name, 60.0)
        }
    }

    #[test]
    fn dependencies_come_first_and_the_spec_order_otherwise() {
        let phases = vec![
            phase("report", &["inference", "training"]),
            phase("inference", &["training"]),
            phase("lint", &[]),
            phase("training", &[]),
        ];
        let names: Vec<String> = topological(phases).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["lint", "training", "inference", "report"]);
    }
}
