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
    pub phase: String,
    /// 1-based.
    pub attempt: usize,
    /// When it could start (submitted and its dependencies done); the first attempt's queue
    /// wait runs from here.
    pub ready_ms: Option<i64>,
    pub started_ms: i64,
    pub stopped_ms: i64,
    pub outcome: Outcome,
}

/// How an attempt ended, written `SUCCEEDED`, `FAILED` or `INTERRUPTED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Succeeded,
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
    pub phase: String,
    pub nodes: u32,
    pub seconds: f64,
    pub run_id: String,
}

/// A value CloudWatch holds for the run (the runner's metrics, FSx, instances).
#[derive(Debug, Clone, Serialize)]
pub struct MetricValue {
    pub namespace: String,
    pub metric: String,
    pub phase: Option<String>,
    pub value: f64,
    pub unit: String,
}

/// Everything a report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub run_id: String,
    pub stack: String,
    pub status: String,
    pub spec_path: String,
    pub submitted_at: String,
    pub finished_at: Option<String>,
    pub jobs: Vec<JobBar>,
    pub reconciliation: Reconciliation,
    /// The plan's estimate (planned durations), with its notes.
    pub estimate: Estimate,
    pub offers: Vec<PhaseOffers>,
    pub scenarios: Vec<Scenario>,
    pub break_evens: Vec<BreakEven>,
    pub sensitivity: Sensitivity,
    pub advice: Advice,
    pub scaling: Vec<ScalingPoint>,
    pub metrics: Vec<MetricValue>,
    /// Items processed per phase (from the spec), for cost per item.
    pub items: Vec<(String, u64)>,
    /// What the report could not show and why (e.g. CloudWatch unreachable).
    pub notes: Vec<String>,
}

pub const REPORT_SCHEMA: &str = "pipectl.report/v1";

/// The files written.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
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
        // temporary file + rename: a reader never sees half a report
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &path)?;
        written.push(path);
    }
    Ok(Written {
        dir: dir.to_path_buf(),
        files: written,
        charts,
    })
}
