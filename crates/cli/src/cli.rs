//! Command-line definitions (clap derive). Parsing only; each subcommand's work is in
//! `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod iam;
pub use iam::{BootstrapArgs, IamPolicyArgs, PolicyCommand};

#[derive(Debug, Parser)]
#[command(name = "pipectl", version, about = "Provision, run, meter and tear down an ML pipeline on AWS Batch", long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); PIPECTL_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where AWS calls go. The local default is LocalStack as `localstack/start` runs it.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// Talk to real AWS (credential chain, --profile) instead of the local endpoint.
    #[arg(long, global = true, conflicts_with = "endpoint_url")]
    pub aws: bool,
    /// Endpoint for every AWS call [default: $AWS_ENDPOINT_URL, else http://127.0.0.1:4566].
    #[arg(long, global = true, value_name = "URL", value_parser = parse_endpoint)]
    pub endpoint_url: Option<String>,
    /// Named profile from the AWS config files.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Region [default: the spec's].
    #[arg(long, global = true, value_parser = parse_region)]
    pub region: Option<String>,
    /// Attempts per AWS call (standard retry mode: backoff with jitter on throttling and 5xx).
    #[arg(long, global = true, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: u32,
    /// Directory of state files and locks.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = ".pipectl/state"
    )]
    pub state_dir: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec without calling AWS: exit 0 when valid, 3 when not.
    Validate(ValidateArgs),
    /// Show every resource `up` would create, in dependency waves, and the estimate.
    Plan(PlanArgs),
    /// Estimate what one run of the pipeline costs, by phase and component.
    Cost(CostArgs),
    /// Make the spec's AWS resources exist: shows the changes, asks, applies them concurrently.
    Up(UpArgs),
    /// Remove every resource tagged with the spec's stack (the state file is not needed).
    Down(DownArgs),
    /// Every resource of the stack with its live state, and how it differs from the spec.
    Status(StatusArgs),
    /// Run the pipeline: submit every phase to AWS Batch, watch, time, record (`--attach` resumes).
    Run(RunArgs),
    /// The runs recorded in the runs directory, newest last.
    Runs(RunsArgs),
    /// Run a multi-node phase at several node counts and measure how it scales (speed-up,
    /// efficiency, cost per run).
    Sweep(SweepArgs),
    /// Priced recommendations: what to change, what it saves, what it risks.
    Advise(AdviseArgs),
    /// Ways to buy, monthly scenarios, break-even points and sensitivity of a spec's cost.
    Analyze(AnalyzeArgs),
    /// A run's report: index.html with charts, report.json, report.csv, report.md.
    Report(ReportArgs),
    /// The least-privilege IAM policy pipectl itself needs for a spec, or (--boundary) the
    /// stack's permissions boundary (no AWS call).
    IamPolicy(IamPolicyArgs),
    /// For an administrator, once per stack: create the stack's permissions boundary, which
    /// every role pipectl creates carries and pipectl's own policy cannot change.
    Bootstrap(BootstrapArgs),
    /// Shell completions on stdout (e.g. `pipectl completions bash > ~/.local/share/bash-completion/completions/pipectl`).
    Completions(CompletionsArgs),
    /// The manual page (roff) on stdout, or one page per command in a directory with --dir.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write pipectl.1 and a pipectl-<command>.1 per command into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Where a run record is and how to price it.
#[derive(Debug, Args)]
pub struct RunRef {
    /// The run: its id, or `latest` (the newest of the spec's stack).
    #[arg(long, value_name = "RUN_ID|latest")]
    pub run: Option<String>,
    /// Directory of run records.
    #[arg(long, value_name = "DIR", default_value = ".pipectl/runs")]
    pub runs_dir: PathBuf,
    /// Do not ask AWS (Spot price history, CloudWatch): price Spot from the sheet.
    #[arg(long)]
    pub offline: bool,
}

/// Volumes and spreads of the analysis.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Runs per month to price (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,10,30,100,300,1000",
        value_name = "N,..."
    )]
    pub runs_per_month: Vec<f64>,
    /// Requests per day to price, each one item of the phase that declares `items`.
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub requests_per_day: Vec<f64>,
    /// How far each input moves in the sensitivity table (percent).
    #[arg(long, default_value_t = 20.0, value_name = "PCT", value_parser = percent)]
    pub sensitivity: f64,
    /// Apply the account's free transfer-out allowance.
    #[arg(long)]
    pub free_allowance: bool,
}

#[derive(Debug, Args)]
pub struct AdviseArgs {
    pub spec: PathBuf,
    #[command(flatten)]
    pub prices: PricesArgs,
    /// Price with a run's actual durations instead of the plan's.
    #[command(flatten)]
    pub run: RunRef,
    /// Apply the account's free transfer-out allowance.
    #[arg(long)]
    pub free_allowance: bool,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    pub spec: PathBuf,
    #[command(flatten)]
    pub prices: PricesArgs,
    #[command(flatten)]
    pub run: RunRef,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The spec (default: the one the run recorded).
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub prices: PricesArgs,
    #[command(flatten)]
    pub run: RunRef,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// The directory to write the report into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    pub spec: PathBuf,
    #[command(flatten)]
    pub prices: PricesArgs,
    /// Resume watching a run whose CLI went away (its jobs kept running).
    #[arg(long, value_name = "RUN_ID")]
    pub attach: Option<String>,
    /// On Ctrl-C leave the jobs running, without asking, and print how to attach.
    #[arg(long)]
    pub detach: bool,
    /// Stream the running jobs' CloudWatch Logs to stderr.
    #[arg(long)]
    pub follow: bool,
    /// Remove the stack as soon as the last phase ends (the S3 buckets and their data stay).
    #[arg(long)]
    pub down_after: bool,
    /// Bounds of the adaptive poll interval, in seconds (used while no job events arrive).
    #[arg(long, default_value = "2..30", value_name = "MIN..MAX", value_parser = pipectl_runner::PollSettings::parse)]
    pub poll: pipectl_runner::PollSettings,
    /// Watch by polling DescribeJobs only, without the stack's job events (EventBridge → SQS).
    #[arg(long)]
    pub no_events: bool,
    /// While job events arrive, reconcile with one DescribeJobs this often (seconds): a lost
    /// event delays what the run notices by at most this long.
    #[arg(long, default_value = "60", value_name = "SECONDS", value_parser = positive_seconds)]
    pub reconcile_every: std::time::Duration,
    /// Submit even when the estimate exceeds the spec's budget.
    #[arg(long)]
    pub ignore_budget: bool,
    /// Do not publish the CloudWatch metrics.
    #[arg(long)]
    pub no_metrics: bool,
    /// Directory of run records.
    #[arg(long, value_name = "DIR", default_value = ".pipectl/runs")]
    pub runs_dir: PathBuf,
    /// `json`: one JSON event per line on stdout, the record last.
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    pub spec: PathBuf,
    /// The multi-node phase to run at each count.
    #[arg(long)]
    pub phase: String,
    /// Node counts, comma-separated (e.g. 1,2,4); each one run once, the fewest first.
    #[arg(long, value_delimiter = ',', required = true, value_parser = clap::value_parser!(u32))]
    pub nodes: Vec<u32>,
    #[command(flatten)]
    pub prices: PricesArgs,
    /// Submit even when an estimate exceeds the spec's budget.
    #[arg(long)]
    pub ignore_budget: bool,
    /// Do not publish the CloudWatch metrics.
    #[arg(long)]
    pub no_metrics: bool,
    /// Directory of run records.
    #[arg(long, value_name = "DIR", default_value = ".pipectl/runs")]
    pub runs_dir: PathBuf,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Directory of run records.
    #[arg(long, value_name = "DIR", default_value = ".pipectl/runs")]
    pub runs_dir: PathBuf,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    pub spec: PathBuf,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Resources created at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = parse_positive)]
    pub concurrency: usize,
    /// Show the changes and stop.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    pub spec: PathBuf,
    /// Delete without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Keep the S3 buckets and their objects (everything else goes).
    #[arg(long)]
    pub keep_data: bool,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    pub spec: PathBuf,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub output: TableOrJson,
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
    /// Reconcile a recorded run against the plan instead.
    #[command(flatten)]
    pub run: RunRef,
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

/// A percentage strictly between 0 and 100.
fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v > 0.0 && v < 100.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not a percentage between 0 and 100"))
    }
}

/// An endpoint URL: http or https with a host (`http://127.0.0.1:4566`).
fn parse_endpoint(s: &str) -> Result<String, String> {
    let u = url::Url::parse(s)
        .map_err(|e| format!("{s:?} is not a URL ({e}); e.g. http://127.0.0.1:4566"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{s:?} is not an http(s) URL with a host; e.g. http://127.0.0.1:4566"
        ));
    }
    Ok(s.to_string())
}

/// A region name as AWS writes them: `us-east-1`, `eu-central-2`, `us-gov-west-1`.
fn parse_region(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not an AWS region name; e.g. us-east-1"))
    }
}

/// A whole number of at least 1.
/// A positive number of seconds (`60`, `0.5`).
fn positive_seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.trim_end_matches('s').parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(std::time::Duration::from_secs_f64(v)),
        Ok(v) => Err(format!("{v} is not a positive number of seconds")),
        Err(_) => Err(format!("{s:?} is not a number of seconds")),
    }
}

fn parse_positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s:?}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_must_be_a_positive_number() {
        assert_eq!(
            positive_seconds("60"),
            Ok(std::time::Duration::from_secs(60))
        );
        assert_eq!(
            positive_seconds("0.5s"),
            Ok(std::time::Duration::from_millis(500))
        );
        for bad in ["0", "-1", "x", "inf"] {
            assert!(positive_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_regions_and_counts() {
        assert!(parse_endpoint("http://127.0.0.1:4566").is_ok());
        assert!(parse_endpoint("https://batch.us-east-1.amazonaws.com").is_ok());
        for bad in ["", "localhost:4566", "ftp://x", "not a url"] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-3",
        ] {
            assert!(parse_region(good).is_ok(), "{good}");
        }
        for bad in ["us east-1", "us-east", "US-EAST-1", "", "useast1"] {
            assert!(parse_region(bad).is_err(), "{bad}");
        }
        assert!(parse_positive("0").is_err() && parse_positive("x").is_err());
        assert_eq!(parse_positive("3"), Ok(3));
    }
}
