//! Command-line definitions (clap derive). Parsing only; each subcommand's work is in
//! `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "pipectl", version, about = "Provision, run, meter and tear down an ML pipeline on AWS Batch", long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); PIPECTL_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec without calling AWS: exit 0 when valid, 3 when not.
    Validate(ValidateArgs),
    /// Show every resource `up` would create, in dependency waves, and the estimate.
    Plan(PlanArgs),
    /// Estimate what one run of the pipeline costs, by phase and component.
    Cost(CostArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The spec file (TOML).
    pub spec: PathBuf,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub output: TextOrJson,
}

#[derive(Debug, Args)]
pub struct PricesArgs {
    /// Price sheet (TOML); default: the built-in AWS list prices for the spec's region.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    pub spec: PathBuf,
    #[command(flatten)]
    pub prices: PricesArgs,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    pub spec: PathBuf,
    #[command(flatten)]
    pub prices: PricesArgs,
    #[arg(long, value_enum, default_value_t = CostOutput::Table)]
    pub output: CostOutput,
    /// How shared costs (FSx, S3, NAT) are split among phases.
    #[arg(long, value_enum, default_value_t = AllocationArg::TimeOverlap)]
    pub allocation: AllocationArg,
    /// Apply the account's monthly free data-transfer-out allowance to this pipeline.
    #[arg(long)]
    pub free_allowance: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CostOutput {
    Table,
    Json,
    Csv,
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AllocationArg {
    TimeOverlap,
    Even,
    ByCost,
}

impl From<AllocationArg> for pipectl_metering::Allocation {
    fn from(a: AllocationArg) -> Self {
        match a {
            AllocationArg::TimeOverlap => Self::TimeOverlap,
            AllocationArg::Even => Self::Even,
            AllocationArg::ByCost => Self::ByCost,
        }
    }
}
