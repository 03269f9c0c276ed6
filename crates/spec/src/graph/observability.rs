//! Observability's nodes: the jobs' log group and the stack's CloudWatch dashboard.

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
