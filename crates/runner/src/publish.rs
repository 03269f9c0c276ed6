//! Publishing a phase's metrics to CloudWatch when it ends (namespace, names and dimensions
//! from `pipectl_aws::metric_schema`). A failure to publish is a note: the record has the
//! same figures.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use pipectl_aws::ResultExt;
use pipectl_aws::metric_schema as m;
use pipectl_record::PhaseRecord;

use crate::context::Runner;
use crate::events::RunEvent;

impl Runner {
    /// The phase's metrics under `Pipectl` with dimensions Stack and Phase. A failure to
    /// publish is a warning: the record has the same figures.
    pub(crate) async fn publish(&self, stack: &str, p: &PhaseRecord) {
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
                f64::from(p.spot_interruptions),
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
