//! pipectl's reports: one run's reconciliation against the plan, the cost analysis and the
//! advisor's recommendations, written as a self-contained `index.html` (inline SVG charts
//! drawn with plotters, no script, no network, printable) and as `report.json`, `report.csv`
//! and `report.md`. Pure: what the run record says is read here ([`inputs`]); the CLI gathers
//! the rest (metering results, CloudWatch values) and hands it over as a [`Report`].

mod charts;
#[doc(hidden)]
pub mod fixture;
mod html;
pub mod inputs;
pub mod text;

use std::path::{Path, PathBuf};

use serde::Serialize;

use pipectl_metering::Estimate;
use pipectl_metering::advise::Advice;
use pipectl_metering::analysis::{BreakEven, PhaseOffers, Scenario, Sensitivity};
use pipectl_metering::reconcile::Reconciliation;

pub use charts::Chart;

/// One attempt of one job, as the Gantt chart draws it (Unix milliseconds).
#[derive(Debug, Clone, Serialize)]
pub struct JobBar {
    /// The spec's phase name.
    pub phase: String,
    /// 1-based.
    pub attempt: usize,
    /// When it could start (submitted and its dependencies done); the first attempt's queue
    /// wait runs from here.
    pub ready_ms: Option<i64>,
    /// Its container's start (ms since the Unix epoch).
    pub started_ms: i64,
    /// Its container's stop (ms since the Unix epoch).
    pub stopped_ms: i64,
    /// How it ended.
    pub outcome: Outcome,
}

/// How an attempt ended, written `SUCCEEDED`, `FAILED` or `INTERRUPTED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// Exited 0.
    Succeeded,
    /// Failed for another reason than Spot (non-zero exit, timeout, ...).
    Failed,
    /// Spot reclaimed the instance.
    Interrupted,
}

impl Outcome {
    /// As the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "SUCCEEDED",
            Outcome::Failed => "FAILED",
            Outcome::Interrupted => "INTERRUPTED",
        }
    }
}

/// A phase's run time at a node count, from one run (for scaling efficiency).
#[derive(Debug, Clone, Serialize)]
pub struct ScalingPoint {
    /// The spec's phase name.
    pub phase: String,
    /// Nodes it ran on.
    pub nodes: u32,
    /// Its run time at that node count, in seconds.
    pub seconds: f64,
    /// Its compute cost in that run, USD; `None` when unpriced.
    pub usd: Option<f64>,
    /// The run it comes from.
    pub run_id: String,
}

/// A value CloudWatch holds for the run (the runner's metrics, FSx, instances).
#[derive(Debug, Clone, Serialize)]
pub struct MetricValue {
    /// CloudWatch namespace (`Pipectl`, `AWS/FSx`, ...).
    pub namespace: String,
    /// CloudWatch metric name.
    pub metric: String,
    /// The phase it is about; `None` for the whole run.
    pub phase: Option<String>,
    /// The value, in `unit`.
    pub value: f64,
    /// CloudWatch's unit name (`Seconds`, `Bytes`, ...).
    pub unit: String,
}

/// Everything a report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The run's id.
    pub run_id: String,
    /// The spec's stack name.
    pub stack: String,
    /// The run's status as the record writes it (`SUCCEEDED`, ...).
    pub status: String,
    /// The spec file's path, as recorded.
    pub spec_path: String,
    /// When the run was submitted (`2026-11-22 10:15:00Z`).
    pub submitted_at: String,
    /// When it ended; `None` while it runs.
    pub finished_at: Option<String>,
    /// Every attempt of every phase, for the Gantt chart.
    pub jobs: Vec<JobBar>,
    /// The run priced against its plan, with the recorded price sheet.
    pub reconciliation: Reconciliation,
    /// The plan's estimate (planned durations), with its notes.
    pub estimate: Estimate,
    /// Each phase's compute under every purchase offer.
    pub offers: Vec<PhaseOffers>,
    /// Monthly cost by volume under every strategy.
    pub scenarios: Vec<Scenario>,
    /// Volumes where a commitment starts to pay.
    pub break_evens: Vec<BreakEven>,
    /// Which inputs move the total most.
    pub sensitivity: Sensitivity,
    /// The advisor's recommendations.
    pub advice: Advice,
    /// Run time by node count of this stack's runs, for scaling efficiency.
    pub scaling: Vec<ScalingPoint>,
    /// CloudWatch values for the run; empty when CloudWatch could not be read.
    pub metrics: Vec<MetricValue>,
    /// Items processed per phase (from the spec), for cost per item.
    pub items: Vec<(String, u64)>,
    /// What the report could not show and why (e.g. CloudWatch unreachable).
    pub notes: Vec<String>,
}

/// The `schema` field of `report.json`.
pub const REPORT_SCHEMA: &str = "pipectl.report/v1";

/// The files written.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// The report's directory.
    pub dir: PathBuf,
    /// Every file written in it, in writing order.
    pub files: Vec<PathBuf>,
    /// How many charts `index.html` holds (its `<svg>` elements).
    pub charts: usize,
}

/// Renders every file of the report in memory: (file name, contents).
pub fn render(report: &Report) -> Result<Vec<(&'static str, String)>, String> {
    let charts = charts::all(report);
    Ok(vec![
        ("index.html", html::page(report, &charts)),
        (
            "report.json",
            serde_json::to_string_pretty(report).map_err(|e| e.to_string())? + "\n",
        ),
        ("report.csv", text::csv(report)?),
        ("report.md", text::markdown(report)),
    ])
}

/// Writes the report's files into `dir` (created if needed).
pub fn write(report: &Report, dir: &Path) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let files = render(report).map_err(std::io::Error::other)?;
    let charts = files
        .first()
        .map_or(0, |(_, html)| html.matches("<svg").count());
    let mut written = Vec::new();
    for (name, body) in files {
        let path = dir.join(name);
        // an exclusive temporary file + rename: a reader never sees half a report, and a link
        // planted in the directory is never followed
        pipectl_files::write_atomic(&path, body.as_bytes())?;
        written.push(path);
    }
    Ok(Written {
        dir: dir.to_path_buf(),
        files: written,
        charts,
    })
}
