//! What `cost --run`, `report` and `advise --run` share: finding a run record, the price
//! sheet it was priced with, its phases as the metering sees them, the Spot prices it paid
//! (from AWS when reachable), and the lifetimes of the stack's shared resources.

use std::path::Path;

use pipectl_metering::reconcile::{Lifetime, Reconciliation};
use pipectl_metering::record::{Span, ran_on_spot, reconcile_run};
use pipectl_metering::{Options, PriceSheet};
use pipectl_record::{RunRecord, RunStore, now_ms};
use pipectl_runner::RunError;
use pipectl_spec::Spec;

use crate::cli::AwsArgs;
use crate::error::CliError;
use crate::options::load_prices;

/// The run `run` names (`latest`: the newest of `stack`, or of any stack with `None`), refused
/// if it is another stack's. For `latest`, every record that could not be read is named in a
/// warning: a truncated newest record must not make an older run "latest" silently.
pub fn find_run(runs_dir: &Path, stack: Option<&str>, run: &str) -> Result<RunRecord, CliError> {
    let store = RunStore::new(runs_dir);
    let rec = if run == "latest" {
        let (newest, bad) = store.latest(stack).map_err(RunError::from)?;
        for b in &bad {
            eprintln!("warning: {b}; `latest` is the newest readable run");
        }
        newest.ok_or_else(|| RunError::NoSuchRun {
            run_id: stack.map_or("latest".into(), |s| format!("of stack {s}")),
            dir: store.dir().to_path_buf(),
        })?
    } else {
        store.load(run).map_err(RunError::from)?
    };
    let Some(stack) = stack else {
        return Ok(rec);
    };
    if rec.stack != stack {
        return Err(RunError::OtherStack {
            run_id: rec.run_id,
            stack: rec.stack,
            wanted: stack.to_string(),
        }
        .into());
    }
    Ok(rec)
}

/// The sheet stored with the run, unless another is named (which is said, never silent).
pub fn run_prices(
    rec: &RunRecord,
    named: Option<&Path>,
    region: &str,
    notes: &mut Vec<String>,
) -> Result<PriceSheet, CliError> {
    if named.is_none()
        && let Some(p) = &rec.prices
    {
        return PriceSheet::from_recorded(p).map_err(|message| {
            RunError::BadRecord {
                path: rec.run_id.clone().into(),
                message,
            }
            .into()
        });
    }
    // Records written before the sheet was stored name its file.
    let file = named.map(Path::to_path_buf).or_else(|| {
        rec.price_sheet
            .path
            .clone()
            .filter(|p| !p.starts_with("(built-in)"))
            .map(Into::into)
    });
    let prices = load_prices(file.as_deref(), region)?;
    if prices.sheet.name != rec.price_sheet.name || prices.sheet.date != rec.price_sheet.date {
        notes.push(format!(
            "run {} was priced with \"{}\" ({}); reconciled with \"{}\" ({})",
            rec.run_id,
            rec.price_sheet.name,
            rec.price_sheet.date,
            prices.sheet.name,
            prices.sheet.date
        ));
    }
    Ok(prices)
}

/// Lifetimes of the stack's FSx file systems and NAT gateways that overlapped the run; what
/// could not be read of the state (a truncated file would drop them, most of the cost) is
/// said in `notes` and on stderr, naming the file.
pub fn lifetimes(state_dir: &Path, rec: &RunRecord, notes: &mut Vec<String>) -> Vec<Lifetime> {
    let now = now_ms();
    let (spans, unreadable) = pipectl_provision::lifespans(state_dir, &rec.stack);
    for u in unreadable {
        eprintln!("warning: {u}");
        notes.push(u);
    }
    spans
        .into_iter()
        .filter_map(|l| {
            let kind = match l.kind.as_str() {
                "file-system" => "fsx",
                "nat-gateway" => "nat-gateway",
                _ => return None,
            };
            let span = Span {
                kind: kind.into(),
                physical_id: l.physical_id,
                since: l.since,
                until: l.until,
                since_ms: l.since_ms,
                until_ms: l.until_ms,
            };
            Lifetime::during(rec, span, now)
        })
        .collect()
}

/// A run reconciled, with what was measured and what could not be.
pub struct Metered {
    pub reconciliation: Reconciliation,
    pub prices: PriceSheet,
    pub notes: Vec<String>,
}

/// A connection for the few reads the metering makes (Spot price history, CloudWatch), made
/// once per command. A price history is a nicety: an unreachable endpoint is not retried long.
pub struct Remote {
    pub rt: tokio::runtime::Runtime,
    pub aws: pipectl_aws::Aws,
}

impl Remote {
    /// `None` when `offline`.
    /// The target line goes to stderr unless `quiet`; AWS not answering is said there and
    /// left to the callers, which fall back to the sheet.
    pub fn open(
        args: &AwsArgs,
        spec: &Spec,
        offline: bool,
        quiet: bool,
    ) -> Result<Option<Remote>, CliError> {
        if offline {
            return Ok(None);
        }
        let rt = super::stack::runtime()?;
        let quick = AwsArgs {
            max_attempts: 2,
            ..args.clone()
        };
        let aws = rt.block_on(super::stack::connect_silently(&quick, spec))?;
        let target = rt.block_on(aws.target(args.profile.as_deref()));
        if !quiet {
            match target {
                Ok(t) => eprintln!("{t}"),
                Err(e) => eprintln!("target: AWS, region {} (account unknown: {e})", aws.region),
            }
        }
        Ok(Some(Remote { rt, aws }))
    }
}

/// Reconciles `rec`: Spot phases priced from AWS's price history when `remote` is given (and
/// AWS answers; otherwise the sheet, said in the notes), shared resources over their lives.
pub fn meter(
    spec: &Spec,
    rec: &RunRecord,
    prices_file: Option<&Path>,
    opts: Options,
    state_dir: &Path,
    remote: Option<&Remote>,
) -> Result<Metered, CliError> {
    let mut notes = Vec::new();
    let prices = run_prices(rec, prices_file, &spec.stack.region, &mut notes)?;
    let mut rates = Vec::new();
    let has_spot = ran_on_spot(rec);
    match remote {
        Some(r) if has_spot => {
            let measured = r.rt.block_on(pipectl_runner::pricing::measured_spot_rates(
                &r.aws, spec, &prices, rec,
            ));
            for (phase, m) in measured {
                match m {
                    Ok(rate) => rates.push((phase, rate)),
                    Err(why) => notes.push(format!("{phase}: {why}")),
                }
            }
        }
        None if has_spot => {
            notes.push("offline: Spot priced from the sheet, not the price history".into());
        }
        _ => {}
    }
    let lifetimes = lifetimes(state_dir, rec, &mut notes);
    Ok(Metered {
        reconciliation: reconcile_run(spec, &prices, rec, &rates, opts, &lifetimes),
        prices,
        notes,
    })
}
