//! Reading a run's metrics back from CloudWatch (what the stack's dashboard shows), for the
//! report: one `GetMetricData` call for every phase's duration, queue wait, attempts, Spot
//! interruptions and estimated cost over the run's window.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use pipectl_aws::{Aws, AwsError, ResultExt};

use crate::record::RunRecord;
pub use crate::run::METRIC_NAMESPACE as NAMESPACE;
use crate::run::METRIC_NAMESPACE;

/// (metric, unit, statistic) the runner publishes per phase.
const METRICS: [(&str, &str, &str); 5] = [
    ("PhaseDuration", "Seconds", "Maximum"),
    ("QueueWait", "Seconds", "Maximum"),
    ("Attempts", "Count", "Maximum"),
    ("SpotInterruptions", "Count", "Maximum"),
    ("EstimatedCost", "None", "Maximum"),
];

/// One value per phase and metric: the largest CloudWatch holds over the run's window.
pub struct MetricValue {
    pub metric: String,
    pub phase: String,
    pub value: f64,
    pub unit: String,
}

pub async fn read_back(aws: &Aws, rec: &RunRecord) -> Result<Vec<MetricValue>, AwsError> {
    let start = rec.submitted_at_ms - 60_000;
    let end = rec.finished_at_ms.unwrap_or(rec.submitted_at_ms) + 5 * 60_000;
    let mut queries = Vec::new();
    let mut keys = Vec::new();
    for (pi, p) in rec.phases.iter().enumerate() {
        for (mi, (name, unit, stat)) in METRICS.iter().enumerate() {
            let metric = Metric::builder()
                .namespace(METRIC_NAMESPACE)
                .metric_name(*name)
                .dimensions(Dimension::builder().name("Stack").value(&rec.stack).build())
                .dimensions(Dimension::builder().name("Phase").value(&p.name).build())
                .build();
            let id = format!("m{pi}_{mi}");
            queries.push(
                MetricDataQuery::builder()
                    .id(&id)
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric)
                            .period(60)
                            .stat(*stat)
                            .build(),
                    )
                    .return_data(true)
                    .build(),
            );
            keys.push((id, name.to_string(), p.name.clone(), unit.to_string()));
        }
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
            let Some((_, metric, phase, unit)) = keys.iter().find(|k| Some(k.0.as_str()) == r.id())
            else {
                continue;
            };
            if let Some(v) = r.values().iter().copied().reduce(f64::max) {
                out.push(MetricValue {
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
