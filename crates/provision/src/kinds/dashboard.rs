//! The stack's CloudWatch dashboard.

use pipectl_aws::ResultExt;
use pipectl_aws::metric_schema as m;
use pipectl_spec::graph::{Kind, Resource, ResourceId};
use serde_json::{Value, json};

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

/// What the dashboard shows, as known when `up` writes it.
struct Inputs<'a> {
    region: &'a str,
    stack: &'a str,
    phases: Vec<&'a str>,
    /// Whether any phase uses GPUs.
    gpu: bool,
    file_system: Option<String>,
    /// The compute environments' names (their ECS clusters are named after them).
    compute_environments: Vec<String>,
}

fn widget(
    inputs: &Inputs,
    x: u32,
    y: u32,
    title: String,
    stat: &str,
    metrics: Vec<Value>,
) -> Value {
    json!({"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
           "properties": {"title": title, "region": inputs.region, "stat": stat, "period": 300,
                          "view": "timeSeries", "metrics": metrics}})
}

fn search(expr: String, id: &str) -> Value {
    json!([{"expression": expr, "id": id, "period": 300}])
}

/// The stack's dashboard: the runner's per-phase metrics (namespace `Pipectl`: duration,
/// queue wait, attempts and Spot interruptions as the jobs' state, estimated cost), FSx
/// throughput, the CPU and memory of each compute environment's ECS cluster, and GPU
/// utilisation where the CloudWatch agent publishes it.
fn dashboard_body(ctx: &Ctx) -> String {
    let inputs = Inputs {
        region: &ctx.aws.region,
        stack: &ctx.stack,
        phases: ctx.spec.phases.iter().map(|p| p.name.as_str()).collect(),
        gpu: ctx.spec.phases.iter().any(|p| p.gpus > 0),
        file_system: ctx.output(&ResourceId::FileSystem).map(|l| l.physical_id),
        compute_environments: ctx
            .spec
            .compute_environments
            .keys()
            .filter_map(|c| {
                ctx.output(&ResourceId::ComputeEnvironment(c.clone()))
                    .map(|l| l.physical_id)
            })
            .collect(),
    };
    body(&inputs)
}

fn body(inputs: &Inputs) -> String {
    let mut widgets = phase_widgets(inputs);
    let mut y = 12;
    if let Some(id) = &inputs.file_system {
        widgets.push(widget(
            inputs,
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
    widgets.extend(cluster_widgets(inputs, y));
    y += 6 * ((inputs.compute_environments.len() as u32 + 2) / 2);
    widgets.extend(instance_and_workload_widgets(inputs, y));
    json!({ "widgets": widgets }).to_string()
}

/// The runner's per-phase metrics, in the first two rows.
fn phase_widgets(inputs: &Inputs) -> Vec<Value> {
    let stack = inputs.stack;
    let per_phase = |metric: &str| -> Vec<Value> {
        inputs
            .phases
            .iter()
            .map(|p| json!([m::NAMESPACE, metric, m::STACK, stack, m::PHASE, p]))
            .collect()
    };
    vec![
        widget(
            inputs,
            0,
            0,
            format!("{stack}: phase run time (s)"),
            "Maximum",
            per_phase(m::PHASE_DURATION),
        ),
        widget(
            inputs,
            12,
            0,
            format!("{stack}: estimated compute cost (USD)"),
            "Sum",
            per_phase(m::ESTIMATED_COST),
        ),
        widget(
            inputs,
            0,
            6,
            format!("{stack}: queue wait (s)"),
            "Maximum",
            per_phase(m::QUEUE_WAIT),
        ),
        widget(
            inputs,
            12,
            6,
            format!("{stack}: job attempts and Spot interruptions"),
            "Sum",
            per_phase(m::ATTEMPTS)
                .into_iter()
                .chain(per_phase(m::SPOT_INTERRUPTIONS))
                .collect(),
        ),
    ]
}

/// CPU and memory of each compute environment's ECS cluster, from row `y`.
fn cluster_widgets(inputs: &Inputs, y: u32) -> Vec<Value> {
    // Batch names each environment's ECS cluster after it; a search finds the cluster and
    // the instances' metrics without knowing their ids in advance.
    inputs
        .compute_environments
        .iter()
        .enumerate()
        .map(|(i, ce)| {
            widget(
                inputs,
                if (i + 1) % 2 == 0 { 0 } else { 12 },
                y + 6 * (i as u32).div_ceil(2),
                format!("{ce}: ECS cluster CPU and memory (%)"),
                "Average",
                vec![
                    search(format!("SEARCH('{{AWS/ECS,ClusterName}} MetricName=\"CPUUtilization\" {ce}', 'Average', 300)"), &format!("cpu{i}")),
                    search(format!("SEARCH('{{AWS/ECS,ClusterName}} MetricName=\"MemoryUtilization\" {ce}', 'Average', 300)"), &format!("mem{i}")),
                ],
            )
        })
        .collect()
}

/// GPU utilisation where phases use GPUs, and the workload's own metrics, in row `y`.
fn instance_and_workload_widgets(inputs: &Inputs, y: u32) -> Vec<Value> {
    let stack = inputs.stack;
    let mut widgets = Vec::new();
    if inputs.gpu {
        widgets.push(widget(
            inputs,
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
        inputs,
        if inputs.gpu { 12 } else { 0 },
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
    widgets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(file_system: Option<&str>, ces: &[&str], gpu: bool) -> Inputs<'static> {
        Inputs {
            region: "us-east-1",
            stack: "seed",
            phases: vec!["training", "inference"],
            gpu,
            file_system: file_system.map(str::to_string),
            compute_environments: ces.iter().map(std::string::ToString::to_string).collect(),
        }
    }

    fn widgets(i: &Inputs) -> Vec<Value> {
        let v: Value = serde_json::from_str(&body(i)).unwrap();
        v["widgets"].as_array().unwrap().clone()
    }

    #[test]
    fn the_fsx_widget_only_with_a_file_system() {
        let title = "FSx for Lustre throughput (bytes)";
        let has = |w: &[Value]| w.iter().any(|w| w["properties"]["title"] == title);
        assert!(has(&widgets(&inputs(Some("fs-1"), &[], false))));
        assert!(!has(&widgets(&inputs(None, &[], false))));
    }

    #[test]
    fn clusters_fill_two_columns_and_the_last_row_follows_them() {
        let w = widgets(&inputs(None, &["seed-a", "seed-b", "seed-c"], true));
        // 4 phase widgets, 3 clusters, GPU, workload
        assert_eq!(w.len(), 9);
        let at = |i: usize| (w[i]["x"].as_u64().unwrap(), w[i]["y"].as_u64().unwrap());
        assert_eq!([at(4), at(5), at(6)], [(12, 12), (0, 18), (12, 18)]);
        assert_eq!([at(7), at(8)], [(0, 24), (12, 24)]);
        let phases = w[0]["properties"]["metrics"].as_array().unwrap();
        assert_eq!(phases.len(), 2, "one line per phase");
    }
}
