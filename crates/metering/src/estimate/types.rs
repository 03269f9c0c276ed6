//! The cost model's vocabulary: options, components, priced lines, per-phase costs, notes
//! and the estimate itself.

use serde::Serialize;

use pipectl_spec::model::Purchase;

use crate::allocate::Allocation;
use crate::money::{ser, ser_opt};
use crate::prices::Rate;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub allocation: Allocation,
    /// Apply the account's monthly free transfer-out allowance to this pipeline.
    pub free_allowance: bool,
    /// How long the FSx file system lives.
    pub fsx_release: FsxRelease,
}

/// When the FSx file system is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FsxRelease {
    /// At the end of the pipeline (what `pipectl down` after a run does).
    #[default]
    EndOfPipeline,
    /// As soon as the last phase that mounts it has ended.
    AfterLastUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Compute,
    Storage,
    Network,
}

/// One priced (or unpriceable) item.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub component: Component,
    pub item: String,
    /// The phase this is a direct cost of; `None` for shared costs.
    pub phase: Option<String>,
    pub quantity: f64,
    pub unit: &'static str,
    /// How the quantity was reached, e.g. "1 × 35m".
    pub basis: String,
    pub rate: Option<Rate>,
    pub rate_unit: &'static str,
    #[serde(serialize_with = "ser_opt")]
    pub usd: Option<f64>,
    /// Why it matters, e.g. that the source's model left it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseCost {
    pub name: String,
    pub start_minutes: f64,
    pub duration_minutes: f64,
    pub instance_type: String,
    pub purchase: Purchase,
    /// Instances billed for the phase (nodes, or array children packed onto instances).
    pub instances: u32,
    #[serde(serialize_with = "ser")]
    pub compute_usd: f64,
    #[serde(serialize_with = "ser")]
    pub storage_usd: f64,
    #[serde(serialize_with = "ser")]
    pub network_usd: f64,
    #[serde(serialize_with = "ser")]
    pub subtotal_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    #[serde(serialize_with = "ser_opt", skip_serializing_if = "Option::is_none")]
    pub usd_per_item: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Components {
    #[serde(serialize_with = "ser")]
    pub compute: f64,
    #[serde(serialize_with = "ser")]
    pub storage: f64,
    #[serde(serialize_with = "ser")]
    pub network: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SheetRef {
    pub name: String,
    pub path: Option<String>,
    pub date: String,
    pub region: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteLevel {
    Info,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub level: NoteLevel,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub stack: String,
    pub region: String,
    pub price_sheet: SheetRef,
    pub allocation: Allocation,
    pub free_allowance_applied: bool,
    pub makespan_minutes: f64,
    #[serde(serialize_with = "ser")]
    pub total_usd: f64,
    /// False when some item could not be priced: the total then leaves it out.
    pub complete: bool,
    pub components: Components,
    pub phases: Vec<PhaseCost>,
    /// The same pipeline with every instance On-Demand, priced from the same sheet.
    #[serde(serialize_with = "ser_opt")]
    pub baseline_on_demand_total_usd: Option<f64>,
    #[serde(serialize_with = "ser_opt")]
    pub savings_usd: Option<f64>,
    #[serde(serialize_with = "ser_opt")]
    pub savings_pct: Option<f64>,
    pub lines: Vec<Line>,
    pub unpriced: Vec<String>,
    pub notes: Vec<Note>,
}
