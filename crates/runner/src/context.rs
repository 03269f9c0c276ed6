//! What a run works with: the AWS clients, the spec and prices, the store of records, where
//! events go, what Ctrl-C asks, and the options; shared by every part of the runner.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pipectl_aws::Aws;
use pipectl_metering::PriceSheet;
use pipectl_record::{PriceRef, RunRecord, RunStore};
use pipectl_spec::Spec;
use pipectl_spec::graph::{Graph, ResourceId};
use pipectl_spec::model::Phase;

use crate::events::RunEvent;
use crate::poll::PollSettings;

/// Called with every [`RunEvent`] (the CLI prints it, as text or JSON lines).
pub type Progress = Arc<dyn Fn(&RunEvent) + Send + Sync>;
/// Asked on Ctrl-C with the number of jobs not ended: `true` terminates them.
pub type Interrupt = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// How a run is watched.
#[derive(Clone)]
pub struct RunOptions {
    /// The `DescribeJobs` interval's bounds.
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
    /// How long to wait for the stack's file system to become AVAILABLE before submitting a
    /// phase that mounts it.
    pub file_system_timeout: Duration,
    /// Watch from the stack's job events when its queue can be read (else only by polling).
    pub events: bool,
    /// While job events flow, a reconciling `DescribeJobs` this often.
    pub reconcile_every: Duration,
    /// Node counts to run multi-node phases on instead of the spec's, by phase name
    /// (`pipectl sweep`: SubmitJob's `nodeOverrides.numNodes`).
    pub nodes: std::collections::BTreeMap<String, u32>,
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
            file_system_timeout: Duration::from_secs(30 * 60),
            events: true,
            reconcile_every: crate::watch::RECONCILE_EVERY,
            nodes: Default::default(),
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

/// Everything one `run` (or `run --attach`) needs: AWS clients, the spec, prices, where records go.
pub struct Runner {
    /// The AWS clients.
    pub aws: Aws,
    /// The validated spec.
    pub spec: Spec,
    /// The price sheet the run is priced with (kept whole in the record).
    pub prices: PriceSheet,
    /// Which sheet that is, as the record cites it.
    pub price_ref: PriceRef,
    /// The AWS account id the jobs run in.
    pub account: String,
    /// The directory of run records.
    pub store: RunStore,
    /// Called with every event.
    pub progress: Progress,
    /// Asked on Ctrl-C.
    pub interrupt: Interrupt,
    /// How to watch.
    pub opts: RunOptions,
    graph: Graph,
    pub(crate) describe_calls: AtomicU64,
    pub(crate) job_events_received: AtomicU64,
}

impl Runner {
    /// A runner for this spec (its resource graph is built here).
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
            job_events_received: Default::default(),
        }
    }

    pub(crate) fn emit(&self, e: RunEvent) {
        (self.progress)(&e);
    }

    pub(crate) fn phase_spec(&self, name: &str) -> Option<&Phase> {
        self.spec.phases.iter().find(|p| p.name == name)
    }

    pub(crate) fn name_of(&self, id: &ResourceId) -> String {
        self.graph
            .get(id)
            .map(|r| r.name.replace("<account-id>", &self.account))
            .unwrap_or_default()
    }

    /// How many `DescribeJobs` calls this runner made (the record's and `finished` event's count).
    pub fn describe_jobs_calls(&self) -> u64 {
        self.describe_calls.load(Ordering::Relaxed)
    }
}
