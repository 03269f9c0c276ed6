//! Reading a run's metrics back from CloudWatch (what the stack's dashboard shows), for the
//! report: one `GetMetricData` call for every phase's duration, queue wait, attempts, Spot
//! interruptions and estimated cost over the run's window, and for whatever the jobs published
//! themselves under [`WORKLOAD_NAMESPACE`] (found with `ListMetrics`).

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, Metric, MetricDataQuery, MetricStat};
use pipectl_aws::{Aws, AwsError, ResultExt};

pub use pipectl_aws::metric_schema::NAMESPACE;
use pipectl_aws::metric_schema::{
    NAMESPACE as METRIC_NAMESPACE, PHASE, PHASE_METRICS as METRICS, STACK, WORKLOAD_NAMESPACE,
};
use pipectl_record::RunRecord;

/// One value per phase and metric: the largest CloudWatch holds over the run's window.
pub struct MetricValue {
    /// CloudWatch namespace (`Pipectl`, `AWS/FSx`, ...).
    pub namespace: String,
    /// CloudWatch metric name.
    pub metric: String,
    /// The spec's phase name.
    pub phase: String,
    /// The largest value over the run's window, in `unit`.
    pub value: f64,
    /// CloudWatch's unit name (`Seconds`, `Bytes`, ...).
    pub unit: String,
}

/// Reads the run's metrics back from CloudWatch, over its window (from a minute before submission).
pub async fn read_back(aws: &Aws, rec: &RunRecord) -> Result<Vec<MetricValue>, AwsError> {
    let start = rec.submitted_at_ms - 60_000;
    let end = rec.finished_at_ms.unwrap_or(rec.submitted_at_ms) + 5 * 60_000;
    let mut queries = Vec::new();
    let mut keys = Vec::new();
    let mut wanted: Vec<(&str, String, String, &str, &str)> = Vec::new();
    for p in &rec.phases {
        for (name, unit, stat) in METRICS {
            wanted.push((
                METRIC_NAMESPACE,
                name.to_string(),
                p.name.clone(),
                unit,
                stat,
            ));
        }
    }
    // The jobs' own metrics: names not known in advance; units are not listed (left empty).
    let mut listed = aws
        .cloudwatch
        .list_metrics()
        .namespace(WORKLOAD_NAMESPACE)
        .dimensions(
            DimensionFilter::builder()
                .name(STACK)
                .value(&rec.stack)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = listed.next().await {
        let page = page.ctx("cloudwatch", "ListMetrics", WORKLOAD_NAMESPACE)?;
        for m in page.metrics() {
            let phase = m
                .dimensions()
                .iter()
                .find(|d| d.name() == Some(PHASE))
                .and_then(|d| d.value());
            if let (Some(name), Some(phase)) = (m.metric_name(), phase)
                && rec.phases.iter().any(|p| p.name == phase)
            {
                wanted.push((WORKLOAD_NAMESPACE, name.into(), phase.into(), "", "Maximum"));
            }
        }
    }
    for (i, (namespace, name, phase, unit, stat)) in wanted.into_iter().enumerate() {
        let metric = Metric::builder()
            .namespace(namespace)
            .metric_name(&name)
            .dimensions(Dimension::builder().name(STACK).value(&rec.stack).build())
            .dimensions(Dimension::builder().name(PHASE).value(&phase).build())
            .build();
        let id = format!("m{i}");
        queries.push(
            MetricDataQuery::builder()
                .id(&id)
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(60)
                        .stat(stat)
                        .build(),
                )
                .return_data(true)
                .build(),
        );
        keys.push((id, namespace, name, phase, unit.to_string()));
    }
    let mut out = Vec::new();
    let mut pages = aws
        .cloudwatch
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(DateTime::from_millis(start))
        .end_time(DateTime::from_millis(end))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("cloudwatch", "GetMetricData", &rec.run_id)?;
        for r in page.metric_data_results() {
            let Some((_, namespace, metric, phase, unit)) =
                keys.iter().find(|k| Some(k.0.as_str()) == r.id())
            else {
                continue;
            };
            if let Some(v) = r.values().iter().copied().reduce(f64::max) {
                out.push(MetricValue {
                    namespace: namespace.to_string(),
                    metric: metric.clone(),
                    phase: phase.clone(),
                    value: v,
                    unit: unit.clone(),
                });
            }
        }
    }
    Ok(out)
}
