//! The cost model's vocabulary: options, components, priced lines, per-phase costs, notes
//! and the estimate itself.

use serde::Serialize;

use pipectl_spec::model::Purchase;

use crate::allocate::Allocation;
use crate::money::{ser, ser_opt};
use crate::prices::Rate;

/// How the cost model prices: the CLI's metering options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// How shared costs are split among phases (`--allocation`).
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

/// Which part of the bill a line belongs to (lowercase in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// EC2 instances running the jobs.
    Compute,
    /// FSx for Lustre and S3.
    Storage,
    /// NAT gateway, data transfer and VPC endpoints.
    Network,
}

/// One priced (or unpriceable) item.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// Which part of the bill.
    pub component: Component,
    /// What is priced, for people (an instance type, `FSx storage`, ...).
    pub item: String,
    /// The phase this is a direct cost of; `None` for shared costs.
    pub phase: Option<String>,
    /// How much, in `unit`.
    pub quantity: f64,
    /// The quantity's unit (`instance-hours`, `GB-months`, `GB`, ...).
    pub unit: &'static str,
    /// How the quantity was reached, e.g. "1 × 35m".
    pub basis: String,
    /// The price sheet's rate applied; `None` when the sheet has none.
    pub rate: Option<Rate>,
    /// The rate's unit (`USD/hour`, ...).
    pub rate_unit: &'static str,
    /// Its cost in USD; `None` when unpriced.
    #[serde(serialize_with = "ser_opt")]
    pub usd: Option<f64>,
    /// Why it matters, e.g. that the source's model left it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One phase's share of the estimate (an element of `phases` in the JSON).
#[derive(Debug, Clone, Serialize)]
pub struct PhaseCost {
    /// The spec's phase name.
    pub name: String,
    /// When it starts, in minutes after the pipeline starts (its dependencies done).
    pub start_minutes: f64,
    /// Its wall time in minutes (every wave of an array).
    pub duration_minutes: f64,
    /// The instance type it is placed on; empty when none fits.
    pub instance_type: String,
    /// Spot or On-Demand, as its compute environment buys.
    pub purchase: Purchase,
    /// Instances billed for the phase (nodes, or array children packed onto instances).
    pub instances: u32,
    /// Its instances' cost, USD.
    #[serde(serialize_with = "ser")]
    pub compute_usd: f64,
    /// Its share of storage (FSx, S3), USD.
    #[serde(serialize_with = "ser")]
    pub storage_usd: f64,
    /// Its share of network costs, USD.
    #[serde(serialize_with = "ser")]
    pub network_usd: f64,
    /// Compute + storage + network, USD.
    #[serde(serialize_with = "ser")]
    pub subtotal_usd: f64,
    /// The spec's `items` (what the phase processes); `None` when it states none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    /// `subtotal_usd / items`; `None` without items.
    #[serde(serialize_with = "ser_opt", skip_serializing_if = "Option::is_none")]
    pub usd_per_item: Option<f64>,
}

/// A total split by component, USD.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Components {
    /// Instances.
    #[serde(serialize_with = "ser")]
    pub compute: f64,
    /// FSx for Lustre and S3.
    #[serde(serialize_with = "ser")]
    pub storage: f64,
    /// NAT gateway, data transfer, endpoints.
    #[serde(serialize_with = "ser")]
    pub network: f64,
}

/// Which price sheet priced a figure (the JSON's `price_sheet`).
#[derive(Debug, Clone, Serialize)]
pub struct SheetRef {
    /// The sheet's name.
    pub name: String,
    /// The file it was loaded from; `None` for the built-in sheet.
    pub path: Option<String>,
    /// The day its prices were read (YYYY-MM-DD).
    pub date: String,
    /// The AWS region it prices.
    pub region: String,
}

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteLevel {
    /// For information.
    Info,
    /// The figure may be wrong or incomplete.
    Warning,
}

/// A remark printed with the estimate.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// Info or warning.
    pub level: NoteLevel,
    /// Stable kebab-case identifier, for machines.
    pub code: &'static str,
    /// The sentence for people.
    pub message: String,
}

/// The cost of one run of a spec: what `estimate --output json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// The spec's stack name.
    pub stack: String,
    /// The AWS region priced.
    pub region: String,
    /// Which price sheet priced it.
    pub price_sheet: SheetRef,
    /// How shared costs were split.
    pub allocation: Allocation,
    /// Whether the monthly free transfer-out allowance was deducted.
    pub free_allowance_applied: bool,
    /// Minutes from the first phase's start to the last one's end.
    pub makespan_minutes: f64,
    /// Per-run total, USD (without unpriced items).
    #[serde(serialize_with = "ser")]
    pub total_usd: f64,
    /// False when some item could not be priced: the total then leaves it out.
    pub complete: bool,
    /// The total by component.
    pub components: Components,
    /// One per spec phase, in the spec's order.
    pub phases: Vec<PhaseCost>,
    /// The same pipeline with every instance On-Demand, priced from the same sheet.
    #[serde(serialize_with = "ser_opt")]
    pub baseline_on_demand_total_usd: Option<f64>,
    /// `baseline_on_demand_total_usd - total_usd`; `None` without a comparable baseline.
    #[serde(serialize_with = "ser_opt")]
    pub savings_usd: Option<f64>,
    /// `savings_usd` as a percentage of the baseline; `None` without a comparable baseline.
    #[serde(serialize_with = "ser_opt")]
    pub savings_pct: Option<f64>,
    /// Every priced (or unpriceable) item.
    pub lines: Vec<Line>,
    /// What could not be priced (missing from the sheet).
    pub unpriced: Vec<String>,
    /// Remarks on the figures (source gaps, assumptions).
    pub notes: Vec<Note>,
}
