//! Observability's nodes: the jobs' log group, the stack's CloudWatch dashboard, and the
//! channel Batch's job state-change events reach `run` through (an EventBridge rule and the
//! SQS queue it delivers to).

use super::build::{Builder, node};
use super::{Kind, ResourceId as Id};

pub(super) fn log_group(b: &mut Builder) {
    b.add(
        node(Id::LogGroup, Kind::LogGroup, b.spec.log_group_name()).show(vec![(
            "retention",
            format!("{} days", b.spec.stack.log_retention_days),
        )]),
    );
}

pub(super) fn dashboard(b: &mut Builder) {
    let mut deps: Vec<Id> = b
        .spec
        .job_queues
        .keys()
        .map(|q| Id::JobQueue(q.clone()))
        .collect();
    // its FSx widget needs the file system's id
    if b.spec.fsx.is_some() {
        deps.push(Id::FileSystem);
    }
    b.add(
        node(
            Id::Dashboard,
            Kind::Dashboard,
            format!("pipectl-{}", b.spec.stack.name),
        )
        .after(deps)
        .show(vec![(
            "widgets",
            "queues, jobs, phase durations and costs, FSx throughput, EC2/GPU".into(),
        )]),
    );
}

/// The SQS queue and the EventBridge rule that delivers Batch's "Batch Job State Change"
/// events of the stack's job queues to it. The rule is made from the queues' ARNs, which
/// their create calls answer: it does not wait for them to be valid.
pub(super) fn job_events(b: &mut Builder) {
    let name = b.spec.job_events_name();
    b.add(
        node(Id::EventQueue, Kind::EventQueue, name.clone()).show(vec![
            ("retention", "1 day".into()),
            ("encryption", "SSE-SQS".into()),
            ("policy", "only the stack's rule may send; TLS only".into()),
        ]),
    );
    let queues: Vec<Id> = b
        .spec
        .job_queues
        .keys()
        .map(|q| Id::JobQueue(q.clone()))
        .collect();
    b.add(
        node(Id::EventRule, Kind::EventRule, name)
            .after([Id::EventQueue])
            .uses(queues)
            .show(vec![(
                "events",
                "Batch Job State Change of the stack's job queues, to the queue".into(),
            )]),
    );
}
