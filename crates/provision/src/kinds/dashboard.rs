//! The stack's CloudWatch dashboard.

use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource, ResourceId};

use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::wait::found;

pub(crate) struct Dashboard;

impl Handler for Dashboard {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        observe_dashboard(ctx).await
    }

    /// Rewritten by `up` only when missing: its body follows the spec and the stack's ids.
    fn drift(_ctx: &Ctx, _r: &Resource, _live: &Live) -> Vec<Drift> {
        Vec::new()
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let id: &str = &r.id.to_string();
        let name = r.name.clone();
        ctx.aws
            .cloudwatch
            .put_dashboard()
            .dashboard_name(&name)
            .dashboard_body(dashboard_body(ctx))
            .send()
            .await
            .ctx("cloudwatch", "PutDashboard", id)?;
        Ok(Live::new(name, "exists"))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        found(
            ctx.aws
                .cloudwatch
                .delete_dashboards()
                .dashboard_names(pid)
                .send()
                .await
                .ctx("cloudwatch", "DeleteDashboards", id),
        )?;
        Ok(())
    }
}

async fn observe_dashboard(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let name = format!("pipectl-{}", ctx.stack);
    let out = ctx
        .aws
        .cloudwatch
        .list_dashboards()
        .dashboard_name_prefix(&name)
        .send()
        .await
        .ctx("cloudwatch", "ListDashboards", "dashboard")?;
    Ok(out
        .dashboard_entries()
        .iter()
        .filter(|d| d.dashboard_name() == Some(name.as_str()))
        .map(|d| Observed {
            kind: Kind::Dashboard,
            logical: ResourceId::Dashboard.to_string(),
            live: Live::new(&name, "exists").arn(d.dashboard_arn()),
        })
        .collect())
}

/// The stack's dashboard: the runner's per-phase metrics (namespace `Pipectl`: duration,
/// queue wait, attempts and Spot interruptions as the jobs' state, estimated cost), FSx
/// throughput, the CPU and memory of each compute environment's ECS cluster, and GPU
/// utilisation where the CloudWatch agent publishes it.
fn dashboard_body(ctx: &Ctx) -> String {
    use pipectl_aws::metric_schema as m;
    use serde_json::{Value, json};
    let region = &ctx.aws.region;
    let stack = &ctx.stack;
    let per_phase = |metric: &str| -> Vec<Value> {
        ctx.spec
            .phases
            .iter()
            .map(|p| json!([m::NAMESPACE, metric, m::STACK, stack, m::PHASE, p.name]))
            .collect()
    };
    let widget = |x: u32, y: u32, title: String, stat: &str, metrics: Vec<Value>| {
        json!({"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
               "properties": {"title": title, "region": region, "stat": stat, "period": 300,
                              "view": "timeSeries", "metrics": metrics}})
    };
    let mut widgets = vec![
        widget(
            0,
            0,
            format!("{stack}: phase run time (s)"),
            "Maximum",
            per_phase(m::PHASE_DURATION),
        ),
        widget(
            12,
            0,
            format!("{stack}: estimated compute cost (USD)"),
            "Sum",
            per_phase(m::ESTIMATED_COST),
        ),
        widget(
            0,
            6,
            format!("{stack}: queue wait (s)"),
            "Maximum",
            per_phase(m::QUEUE_WAIT),
        ),
        widget(
            12,
            6,
            format!("{stack}: job attempts and Spot interruptions"),
            "Sum",
            per_phase(m::ATTEMPTS)
                .into_iter()
                .chain(per_phase(m::SPOT_INTERRUPTIONS))
                .collect(),
        ),
    ];
    let mut y = 12;
    if let Some(fs) = ctx.output(&ResourceId::FileSystem) {
        let id = fs.physical_id;
        widgets.push(widget(
            0,
            y,
            "FSx for Lustre throughput (bytes)".into(),
            "Sum",
            vec![
                json!(["AWS/FSx", "DataReadBytes", "FileSystemId", id]),
                json!(["AWS/FSx", "DataWriteBytes", "FileSystemId", id]),
            ],
        ));
    }
    // Batch names each environment's ECS cluster after it; a search finds the cluster and
    // the instances' metrics without knowing their ids in advance.
    let search = |expr: String, id: &str| json!([{"expression": expr, "id": id, "period": 300}]);
    let ces: Vec<String> = ctx
        .spec
        .compute_environments
        .keys()
        .filter_map(|c| {
            ctx.output(&ResourceId::ComputeEnvironment(c.clone()))
                .map(|l| l.physical_id)
        })
        .collect();
    for (i, ce) in ces.iter().enumerate() {
        widgets.push(widget(
            if (i + 1) % 2 == 0 { 0 } else { 12 },
            y + 6 * (i as u32).div_ceil(2),
            format!("{ce}: ECS cluster CPU and memory (%)"),
            "Average",
            vec![
                search(format!("SEARCH('{{AWS/ECS,ClusterName}} MetricName=\"CPUUtilization\" {ce}', 'Average', 300)"), &format!("cpu{i}")),
                search(format!("SEARCH('{{AWS/ECS,ClusterName}} MetricName=\"MemoryUtilization\" {ce}', 'Average', 300)"), &format!("mem{i}")),
            ],
        ));
    }
    y += 6 * ((ces.len() as u32 + 2) / 2);
    let gpu = ctx.spec.phases.iter().any(|p| p.gpus > 0);
    if gpu {
        widgets.push(widget(
            0,
            y,
            "GPU utilisation (%) (CloudWatch agent nvidia_smi on the instances)".into(),
            "Average",
            vec![search(
                "SEARCH('{CWAgent,InstanceId} MetricName=\"nvidia_smi_utilization_gpu\"', 'Average', 60)".into(),
                "gpu",
            )],
        ));
    }
    // What the jobs themselves publish (the example workload: loss, latency, memory, cost so
    // far), whatever the metric, per phase.
    widgets.push(widget(
        if gpu { 12 } else { 0 },
        y,
        format!(
            "{stack}: the workload's own metrics ({})",
            m::WORKLOAD_NAMESPACE
        ),
        "Maximum",
        vec![search(
            format!(
                "SEARCH('{{{},{},{}}} {}=\"{stack}\"', 'Maximum', 300)",
                m::WORKLOAD_NAMESPACE,
                m::STACK,
                m::PHASE,
                m::STACK
            ),
            "workload",
        )],
    ));
    json!({ "widgets": widgets }).to_string()
}
