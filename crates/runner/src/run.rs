//! One run: check the stack is ready, price it against the budget, submit every phase at once
//! with `dependsOn`, watch, time, cancel dependents of a failed phase, record, publish metrics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_batch::types::{
    ArrayProperties, ContainerOverrides, JobDependency, KeyValuePair, KeyValuesPair, NodeOverrides,
    NodePropertyOverride,
};
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use pipectl_aws::metric_schema as m;
use pipectl_aws::{Aws, AwsError, ErrorKind, ResultExt};
use pipectl_metering::PriceSheet;
use pipectl_metering::estimate;
use pipectl_spec::Spec;
use pipectl_spec::graph::{Graph, ResourceId};
use pipectl_spec::model::{Phase, Purchase};
use serde::Serialize;

use crate::error::RunError;
use crate::poll::{PollSettings, Poller, Seen};
use crate::record::{
    Failure, PhaseRecord, PriceRef, RECORD_SCHEMA, RECORD_VERSION, RunRecord, RunStatus, RunStore,
    new_run_id, now_ms,
};
use crate::timing::{self, JobView};

const BATCH: &str = "batch";

/// What a run reports as it goes; `--output json` prints each as one line.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RunEvent {
    Submitted {
        run_id: String,
        phase: String,
        job_id: String,
        job_name: String,
    },
    /// A phase's job changed status (or started another attempt).
    Phase {
        phase: String,
        status: String,
        attempt: usize,
        max_attempts: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Since its current attempt started, by AWS's clock.
        #[serde(skip_serializing_if = "Option::is_none")]
        running_seconds: Option<f64>,
        planned_seconds: f64,
    },
    /// An attempt ended; a Spot interruption is retried by Batch when the phase allows it.
    AttemptEnded {
        phase: String,
        attempt: usize,
        run_seconds: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        spot_interruption: bool,
    },
    Log {
        phase: String,
        line: String,
    },
    Cancelled {
        phase: String,
        because: String,
    },
    Unreachable {
        error: String,
        seconds: u64,
    },
    Reachable,
    BudgetWarning {
        projected_usd: f64,
        budget_usd: f64,
    },
    Note {
        message: String,
    },
    Finished {
        run_id: String,
        status: RunStatus,
        seconds: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        compute_usd: Option<f64>,
        describe_jobs_calls: u64,
    },
}

pub type Progress = Arc<dyn Fn(&RunEvent) + Send + Sync>;
/// Asked on Ctrl-C with the number of jobs not ended: `true` terminates them.
pub type Interrupt = Arc<dyn Fn(usize) -> bool + Send + Sync>;

#[derive(Clone)]
pub struct RunOptions {
    pub poll: PollSettings,
    /// Ctrl-C leaves the jobs running (and says how to attach) without asking.
    pub detach: bool,
    /// Stream the running jobs' CloudWatch Logs.
    pub follow: bool,
    /// Publish the `Pipectl` CloudWatch metrics.
    pub metrics: bool,
    /// Give up watching (jobs untouched) after AWS has been unreachable this long.
    pub lost_contact_after: Duration,
    /// Lines of a failed job's log shown with the reason.
    pub log_tail: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            poll: PollSettings::default(),
            detach: false,
            follow: false,
            metrics: true,
            lost_contact_after: Duration::from_secs(900),
            log_tail: 20,
        }
    }
}

/// How watching ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every phase ended (the record's status says how).
    Ended(RunRecord),
    /// Ctrl-C with the jobs left running.
    Detached(RunRecord),
}

pub struct Runner {
    pub aws: Aws,
    pub spec: Spec,
    pub prices: PriceSheet,
    pub price_ref: PriceRef,
    pub account: String,
    pub store: RunStore,
    pub progress: Progress,
    pub interrupt: Interrupt,
    pub opts: RunOptions,
    graph: Graph,
    describe_calls: std::sync::atomic::AtomicU64,
}

impl Runner {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        aws: Aws,
        spec: Spec,
        prices: PriceSheet,
        price_ref: PriceRef,
        account: String,
        store: RunStore,
        progress: Progress,
        interrupt: Interrupt,
        opts: RunOptions,
    ) -> Runner {
        let graph = Graph::from_spec(&spec);
        Runner {
            aws,
            spec,
            prices,
            price_ref,
            account,
            store,
            progress,
            interrupt,
            opts,
            graph,
            describe_calls: Default::default(),
        }
    }

    fn emit(&self, e: RunEvent) {
        (self.progress)(&e);
    }

    fn phase_spec(&self, name: &str) -> Option<&Phase> {
        self.spec.phases.iter().find(|p| p.name == name)
    }

    fn name_of(&self, id: &ResourceId) -> String {
        self.graph
            .get(id)
            .map(|r| r.name.replace("<account-id>", &self.account))
            .unwrap_or_default()
    }

    /// Checks the queues are ENABLED and VALID and finds each phase's job definition's latest
    /// ACTIVE revision; checks the budget; writes the record. No job is submitted yet.
    pub async fn prepare(
        &self,
        spec_path: &str,
        spec_sha256: &str,
        ignore_budget: bool,
    ) -> Result<RunRecord, RunError> {
        let estimate = check_budget(&self.spec, &self.prices, ignore_budget)?;
        let b = &self.aws.batch;
        let queues: BTreeMap<String, String> = self
            .spec
            .phases
            .iter()
            .map(|p| {
                (
                    p.queue.clone(),
                    self.name_of(&ResourceId::JobQueue(p.queue.clone())),
                )
            })
            .collect();
        let names: Vec<String> = queues.values().cloned().collect();
        let out = b
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
        let mut phases = Vec::new();
        let run_id = new_run_id(now_ms());
        for p in &self.spec.phases {
            let jd = self.name_of(&ResourceId::JobDefinition(p.name.clone()));
            let out = b
                .describe_job_definitions()
                .job_definition_name(&jd)
                .status("ACTIVE")
                .send()
                .await
                .ctx(BATCH, "DescribeJobDefinitions", &jd)?;
            let Some(rev) = out
                .job_definitions()
                .iter()
                .filter_map(|d| d.revision())
                .max()
            else {
                return Err(RunError::NotReady {
                    what: format!("job definition {jd} has no ACTIVE revision"),
                });
            };
            let (types, purchase) = self.instance_types(p);
            let mut job_name = format!("{}-{}-{run_id}", self.spec.stack.name, p.name);
            job_name.truncate(128);
            phases.push(PhaseRecord {
                job_queue: queues[&p.queue].clone(),
                job_definition: format!("{jd}:{rev}"),
                job_name,
                depends_on: p.depends_on.clone(),
                instance_types: types,
                purchase,
                nodes: p.nodes,
                array_size: p.array_size,
                ..PhaseRecord::new(&p.name, p.duration.secs() as f64)
            });
        }
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
            prices: Some(self.prices.clone()),
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

    fn instance_types(&self, p: &Phase) -> (Vec<String>, String) {
        let mut types = Vec::new();
        let mut purchase = None;
        if let Some(q) = self.spec.job_queues.get(&p.queue) {
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
            Some(Purchase::Spot) => "spot",
            _ => "on-demand",
        };
        (types, purchase.into())
    }

    /// Submits every phase not submitted yet, dependencies first, saving the record after each.
    /// A phase whose job exists under its name (a CLI killed between submitting and saving) is
    /// adopted, not submitted twice.
    pub async fn submit(&self, rec: &mut RunRecord) -> Result<(), RunError> {
        let b = &self.aws.batch;
        for i in 0..rec.phases.len() {
            if rec.phases[i].job_id.is_some() {
                continue;
            }
            let p = rec.phases[i].clone();
            let found = b
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
            if let Some(j) = found
                .job_summary_list()
                .iter()
                .find(|j| j.job_name() == Some(p.job_name.as_str()))
            {
                rec.phases[i].job_id = j.job_id().map(str::to_string);
                rec.phases[i].status = "SUBMITTED".into();
                self.store.save(rec)?;
                continue;
            }
            let deps: Vec<String> = p
                .depends_on
                .iter()
                .filter_map(|d| rec.phase(d).and_then(|d| d.job_id.clone()))
                .collect();
            let spec = self.phase_spec(&p.name);
            let env = self.environment(&rec.run_id, &p.name);
            let mut req = b
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
            if spec.is_some_and(|s| s.nodes > 1) {
                req = req.node_overrides(
                    NodeOverrides::builder()
                        .node_property_overrides(
                            NodePropertyOverride::builder()
                                .target_nodes("0:")
                                .container_overrides(
                                    ContainerOverrides::builder()
                                        .set_environment(Some(env))
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                );
            } else {
                req = req.container_overrides(
                    ContainerOverrides::builder()
                        .set_environment(Some(env))
                        .build(),
                );
            }
            if let Some(n) = p.array_size {
                req = req.array_properties(ArrayProperties::builder().size(n as i32).build());
            }
            let out = req.send().await.ctx(BATCH, "SubmitJob", &p.name)?;
            let id = out.job_id().unwrap_or_default().to_string();
            rec.phases[i].job_id = Some(id.clone());
            rec.phases[i].status = "SUBMITTED".into();
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

    pub fn describe_jobs_calls(&self) -> u64 {
        self.describe_calls.load(Ordering::Relaxed)
    }

    /// Watches until every phase has ended, or Ctrl-C detaches.
    pub async fn watch(&self, mut rec: RunRecord) -> Result<Outcome, RunError> {
        let start = Instant::now();
        let mut poller = Poller::new(self.opts.poll);
        let mut unreachable_since: Option<Instant> = None;
        let mut budget_warned = false;
        let mut terminated = false;
        let mut published: HashSet<String> = rec
            .phases
            .iter()
            .filter(|p| timing::is_terminal(&p.status))
            .map(|p| p.name.clone())
            .collect();
        let mut followers: HashMap<String, Follower> = HashMap::new();
        let mut wait = Duration::ZERO;
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        loop {
            let open: Vec<String> = rec
                .phases
                .iter()
                .filter(|p| !timing::is_terminal(&p.status))
                .filter_map(|p| p.job_id.clone())
                .collect();
            if open.is_empty() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut interrupted, if !terminated => {
                    if self.opts.detach || !(self.interrupt)(open.len()) {
                        self.store.save(&rec)?;
                        stop_all(&followers);
                        return Ok(Outcome::Detached(rec));
                    }
                    terminated = true;
                    for id in &open {
                        self.aws.batch.terminate_job().job_id(id)
                            .reason("pipectl run: interrupted by the user")
                            .send().await.ctx(BATCH, "TerminateJob", id)?;
                    }
                    self.emit(RunEvent::Note { message: format!("terminated {} job(s)", open.len()) });
                    wait = self.opts.poll.min;
                    continue;
                }
            }
            let views = match self.describe(&open).await {
                Ok(v) => {
                    if unreachable_since.take().is_some() {
                        self.emit(RunEvent::Reachable);
                    }
                    v
                }
                Err(e) if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Throttled) => {
                    // Never a reason to mark a job failed: keep watching, further apart.
                    let since = *unreachable_since.get_or_insert_with(Instant::now);
                    self.emit(RunEvent::Unreachable {
                        error: e.to_string(),
                        seconds: since.elapsed().as_secs(),
                    });
                    if since.elapsed() >= self.opts.lost_contact_after {
                        self.store.save(&rec)?;
                        stop_all(&followers);
                        return Err(RunError::LostContact {
                            run_id: rec.run_id.clone(),
                            seconds: since.elapsed().as_secs(),
                            last: e,
                        });
                    }
                    wait = poller.next(Seen {
                        pushed_back: true,
                        ..Seen::default()
                    });
                    continue;
                }
                Err(e) => {
                    self.store.save(&rec)?;
                    stop_all(&followers);
                    return Err(e.into());
                }
            };
            let mut changed = false;
            let mut newly_failed = Vec::new();
            for v in &views {
                let Some(i) = rec
                    .phases
                    .iter()
                    .position(|p| p.job_id.as_deref() == Some(v.job_id.as_str()))
                else {
                    continue;
                };
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
                let before_status = rec.phases[i].status.clone();
                if !timing::update(&mut rec.phases[i], v, deps_stopped, has_deps) {
                    continue;
                }
                changed = true;
                let p = &rec.phases[i];
                for (n, a) in p.attempts.iter().enumerate().skip(before_attempts) {
                    self.emit(RunEvent::AttemptEnded {
                        phase: p.name.clone(),
                        attempt: n + 1,
                        run_seconds: a.run_seconds,
                        exit_code: a.exit_code,
                        reason: a.status_reason.clone(),
                        spot_interruption: a.spot_interruption,
                    });
                }
                let running = p.status == "RUNNING";
                self.emit(RunEvent::Phase {
                    phase: p.name.clone(),
                    status: p.status.clone(),
                    attempt: p.attempts.len() + usize::from(!timing::is_terminal(&p.status)),
                    max_attempts: self.phase_spec(&p.name).map_or(1, |s| s.retry.attempts),
                    reason: if timing::is_terminal(&p.status) {
                        p.status_reason.clone()
                    } else {
                        None
                    },
                    running_seconds: v
                        .started_at
                        .filter(|_| running)
                        .map(|s| (now_ms() - s).max(0) as f64 / 1000.0),
                    planned_seconds: p.planned_seconds,
                });
                if self.opts.follow {
                    // Every attempt's stream, also of one that ended between two polls.
                    for stream in &p.log_streams {
                        if !followers.contains_key(stream) {
                            followers.insert(
                                stream.clone(),
                                self.follow(p.name.clone(), stream.clone()),
                            );
                        }
                    }
                }
                if timing::is_terminal(&p.status) && p.noticed_at_ms.is_none() {
                    rec.phases[i].noticed_at_ms = Some(now_ms());
                }
                let p = &rec.phases[i];
                if p.status == "FAILED" && before_status != "FAILED" {
                    newly_failed.push(i);
                }
            }
            // Streams of attempts that ended stop once drained.
            for (stream, f) in &followers {
                let live = rec
                    .phases
                    .iter()
                    .any(|p| p.status == "RUNNING" && p.log_streams.last() == Some(stream));
                if !live {
                    f.stop.store(true, Ordering::Relaxed);
                }
            }
            for i in newly_failed {
                self.failed(&mut rec, i, terminated).await?;
            }
            for i in 0..rec.phases.len() {
                let p = &rec.phases[i];
                if timing::is_terminal(&p.status) && !published.contains(&p.name) {
                    published.insert(p.name.clone());
                    rec.phases[i].compute_usd = self.phase_cost(&rec.phases[i]);
                    self.publish(&rec.stack, &rec.phases[i]).await;
                }
            }
            if changed {
                self.store.save(&rec)?;
            }
            if let Some(budget) = rec.budget_usd
                && !budget_warned
            {
                let projected = self.projected_cost(&rec);
                if projected > budget {
                    budget_warned = true;
                    self.emit(RunEvent::BudgetWarning {
                        projected_usd: projected,
                        budget_usd: budget,
                    });
                }
            }
            let due = rec.phases.iter().any(|p| self.change_due(&rec, p));
            wait = poller.next(Seen {
                changed,
                change_due: due,
                pushed_back: false,
            });
        }
        drain(followers).await;
        rec.status = if terminated {
            RunStatus::Terminated
        } else if rec.phases.iter().all(|p| p.status == "SUCCEEDED") {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        };
        rec.finished_at_ms = Some(now_ms());
        let costs: Vec<f64> = rec.phases.iter().filter_map(|p| p.compute_usd).collect();
        rec.compute_usd = (!costs.is_empty()).then(|| costs.iter().sum());
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

    /// A change is due when a job waits only for capacity or a container (not for a
    /// dependency), or runs past 90 % of its planned duration.
    fn change_due(&self, rec: &RunRecord, p: &PhaseRecord) -> bool {
        match p.status.as_str() {
            "SUBMITTED" | "RUNNABLE" | "STARTING" => true,
            "PENDING" => p
                .depends_on
                .iter()
                .all(|d| rec.phase(d).is_some_and(|d| timing::is_terminal(&d.status))),
            "RUNNING" => {
                // The current attempt began after the last one ended (or at the first start).
                let started = p
                    .attempts
                    .last()
                    .map(|a| a.stopped_at_ms)
                    .into_iter()
                    .chain(p.started_at_ms)
                    .max();
                started.is_some_and(|s| (now_ms() - s) as f64 / 1000.0 >= 0.9 * p.planned_seconds)
            }
            _ => false,
        }
    }

    /// Records why a phase failed, with its log's last lines, and cancels what depends on it.
    async fn failed(
        &self,
        rec: &mut RunRecord,
        i: usize,
        terminated: bool,
    ) -> Result<(), RunError> {
        let p = rec.phases[i].clone();
        let last = p.attempts.last();
        let reason = last
            .and_then(|a| a.status_reason.clone())
            .or(p.status_reason.clone())
            .unwrap_or_else(|| "no reason given".into());
        let dependents = dependents_of(rec, &p.name);
        let mut cancelled = Vec::new();
        if !terminated {
            for d in &dependents {
                let Some(dp) = rec.phase(d) else { continue };
                let Some(id) = dp.job_id.clone() else {
                    continue;
                };
                if timing::is_terminal(&dp.status) {
                    // Batch itself fails the dependents of a failed job.
                    if dp.status == "FAILED" {
                        cancelled.push(d.clone());
                    }
                    continue;
                }
                let why = format!("pipectl run: {} failed", p.name);
                let r = if matches!(dp.status.as_str(), "STARTING" | "RUNNING") {
                    self.aws
                        .batch
                        .terminate_job()
                        .job_id(&id)
                        .reason(&why)
                        .send()
                        .await
                        .ctx(BATCH, "TerminateJob", d)
                        .map(drop)
                } else {
                    self.aws
                        .batch
                        .cancel_job()
                        .job_id(&id)
                        .reason(&why)
                        .send()
                        .await
                        .ctx(BATCH, "CancelJob", d)
                        .map(drop)
                };
                r?;
                self.emit(RunEvent::Cancelled {
                    phase: d.clone(),
                    because: why,
                });
                cancelled.push(d.clone());
            }
        }
        let log_tail = match p.log_streams.last() {
            Some(stream) => self.log_tail(stream).await,
            None => vec![],
        };
        if rec.failure.is_none() && !terminated {
            rec.failure = Some(Failure {
                phase: p.name.clone(),
                attempt: p.attempts.len(),
                reason,
                exit_code: last.and_then(|a| a.exit_code),
                cancelled,
                log_tail,
            });
        }
        self.store.save(rec)?;
        Ok(())
    }

    async fn log_tail(&self, stream: &str) -> Vec<String> {
        let r = self
            .aws
            .logs
            .get_log_events()
            // the stack's log group, named in every job definition pipectl registers
            .log_group_name(self.spec.log_group_name())
            .log_stream_name(stream)
            .start_from_head(false)
            .limit(self.opts.log_tail as i32)
            .send()
            .await
            .ctx("logs", "GetLogEvents", stream);
        match r {
            Ok(out) => out
                .events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the failed job's log");
                vec![]
            }
        }
    }

    /// Streams a log stream's new lines until told to stop and nothing more comes.
    fn follow(&self, phase: String, stream: String) -> Follower {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let logs = self.aws.logs.clone();
        let group = self.spec.log_group_name();
        let progress = self.progress.clone();
        let task = tokio::spawn(async move {
            let mut token: Option<String> = None;
            let mut quiet = 0;
            loop {
                let stopping = flag.load(Ordering::Relaxed);
                let r = logs
                    .get_log_events()
                    .log_group_name(&group)
                    .log_stream_name(&stream)
                    .start_from_head(true)
                    .set_next_token(token.clone())
                    .send()
                    .await;
                let mut got = 0;
                if let Ok(out) = r {
                    for e in out.events() {
                        got += 1;
                        progress(&RunEvent::Log {
                            phase: phase.clone(),
                            line: e.message().unwrap_or_default().to_string(),
                        });
                    }
                    if let Some(t) = out.next_forward_token() {
                        token = Some(t.to_string());
                    }
                }
                // Output reaches CloudWatch Logs a little after the process wrote it: stop
                // after two empty reads once the attempt has ended.
                quiet = if got == 0 { quiet + 1 } else { 0 };
                if stopping && quiet >= 2 {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Follower { stop, task }
    }

    /// Compute cost of what the phase ran: every attempt billed, 60 s minimum each.
    fn phase_cost(&self, p: &PhaseRecord) -> Option<f64> {
        let phase = self.phase_spec(&p.name)?;
        estimate::compute_usd(&self.spec, phase, &self.prices, &p.attempt_seconds())
    }

    /// The whole run's cost as it now looks: the estimate, with each phase's planned compute
    /// replaced by what its ended attempts cost plus, while it has not ended, one more attempt
    /// of its planned length (a retried attempt starts the work again).
    fn projected_cost(&self, rec: &RunRecord) -> f64 {
        let mut total = rec.estimate_usd;
        for p in &rec.phases {
            let Some(phase) = self.phase_spec(&p.name) else {
                continue;
            };
            let planned =
                estimate::compute_usd(&self.spec, phase, &self.prices, &[p.planned_seconds]);
            let now = if timing::is_terminal(&p.status) {
                p.compute_usd
            } else {
                let mut secs: Vec<f64> = p.attempts.iter().map(|a| a.run_seconds).collect();
                secs.push(p.planned_seconds);
                estimate::compute_usd(&self.spec, phase, &self.prices, &secs)
            };
            total += now.unwrap_or(0.0) - planned.unwrap_or(0.0);
        }
        total
    }

    /// The phase's metrics under `Pipectl` with dimensions Stack and Phase. A failure to
    /// publish is a warning: the record has the same figures.
    async fn publish(&self, stack: &str, p: &PhaseRecord) {
        if !self.opts.metrics {
            return;
        }
        let dims = [
            Dimension::builder().name(m::STACK).value(stack).build(),
            Dimension::builder().name(m::PHASE).value(&p.name).build(),
        ];
        let datum = |name: &str, value: f64, unit: StandardUnit| {
            MetricDatum::builder()
                .metric_name(name)
                .set_dimensions(Some(dims.to_vec()))
                .value(value)
                .unit(unit)
                .build()
        };
        let mut data = vec![
            datum(m::ATTEMPTS, p.attempts.len() as f64, StandardUnit::Count),
            datum(
                m::SPOT_INTERRUPTIONS,
                p.spot_interruptions as f64,
                StandardUnit::Count,
            ),
        ];
        if let Some(v) = p.run_seconds {
            data.push(datum(m::PHASE_DURATION, v, StandardUnit::Seconds));
        }
        if let Some(v) = p.queue_wait_seconds {
            data.push(datum(m::QUEUE_WAIT, v, StandardUnit::Seconds));
        }
        if let Some(v) = p.compute_usd {
            data.push(datum(m::ESTIMATED_COST, v, StandardUnit::None));
        }
        let r = self
            .aws
            .cloudwatch
            .put_metric_data()
            .namespace(m::NAMESPACE)
            .set_metric_data(Some(data))
            .send()
            .await
            .ctx("cloudwatch", "PutMetricData", &p.name);
        if let Err(e) = r {
            self.emit(RunEvent::Note {
                message: format!("metrics of {} not published: {e}", p.name),
            });
        }
    }
}

/// A task streaming one log stream.
struct Follower {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// The estimate of one run from the planned durations, refused when it exceeds the spec's
/// budget (unless `ignore`). Needs no AWS call: `run` checks it first.
pub fn check_budget(spec: &Spec, prices: &PriceSheet, ignore: bool) -> Result<f64, RunError> {
    let estimate = estimate::estimate(spec, prices, Default::default()).total_usd;
    match spec.stack.budget_usd {
        Some(budget) if estimate > budget && !ignore => {
            Err(RunError::OverBudget { estimate, budget })
        }
        _ => Ok(estimate),
    }
}

fn stop_all(followers: &HashMap<String, Follower>) {
    for f in followers.values() {
        f.stop.store(true, Ordering::Relaxed);
    }
}

/// Lets the log streams drain (a few seconds at most) so no last line is lost.
async fn drain(followers: HashMap<String, Follower>) {
    stop_all(&followers);
    for (_, f) in followers {
        let _ = tokio::time::timeout(Duration::from_secs(5), f.task).await;
    }
}

/// Every phase that depends on `name`, directly or not.
fn dependents_of(rec: &RunRecord, name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut frontier = vec![name.to_string()];
    while let Some(n) = frontier.pop() {
        for p in &rec.phases {
            if p.depends_on.contains(&n) && !out.contains(&p.name) {
                out.push(p.name.clone());
                frontier.push(p.name.clone());
            }
        }
    }
    out
}

/// Dependencies first (the spec is validated acyclic); otherwise the spec's order.
fn topological(mut phases: Vec<PhaseRecord>) -> Vec<PhaseRecord> {
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
