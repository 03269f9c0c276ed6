//! `pipectl report --run RUN_ID|latest --out DIR`: a run's report (index.html with charts,
//! report.json, report.csv, report.md). Reads the run record and the spec it names; asks AWS
//! only for the Spot price history and the run's CloudWatch metrics, and says so when it
//! cannot (`--offline` skips both).

use std::io::Write;

use pipectl_metering::advise::advise;
use pipectl_metering::analysis::{break_evens, offers, scenarios, sensitivity};
use pipectl_metering::{estimate, variant};
use pipectl_record::{RunRecord, RunStore};
use pipectl_report::inputs::{self, RunTimes};
use pipectl_report::{MetricValue, REPORT_SCHEMA, Report};
use sha2::{Digest, Sha256};

use super::{advise::volumes, metered};
use crate::cli::{AwsArgs, ReportArgs, TableOrJson};
use crate::error::CliError;
use crate::options::{load_spec, print_warnings, read_spec};

/// Every run of the stack recorded here (none when the directory cannot be read).
fn runs_of(runs_dir: &std::path::Path) -> Vec<RunRecord> {
    RunStore::new(runs_dir)
        .list()
        .map(|(runs, _)| runs)
        .unwrap_or_default()
}

pub fn run(
    args: &ReportArgs,
    aws: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (spec_path, rec) = spec_and_run(args)?;
    let loaded = read_spec(&spec_path)?;
    let mut notes = Vec::new();
    if let Ok(bytes) =
        pipectl_files::read_capped(&spec_path, pipectl_spec::load::MAX_SPEC_BYTES as u64)
    {
        let sha = format!("{:x}", Sha256::digest(&bytes));
        if sha != rec.spec_sha256 {
            notes.push(format!(
                "{} has changed since run {}: the plan is today's file",
                spec_path.display(),
                rec.run_id
            ));
        }
    }
    let opts = crate::options::metering(None, args.analysis.free_allowance);
    let remote = metered::Remote::open(aws, &loaded.spec, args.run.offline, quiet)?;
    print_warnings(&loaded.diagnostics, quiet);
    let spec = loaded.spec;
    let m = metered::meter(
        &spec,
        &rec,
        args.prices.prices.as_deref(),
        opts,
        &aws.state_dir,
        remote.as_ref(),
    )?;
    notes.extend(m.notes);
    let prices = m.prices;
    let metrics = read_metrics(remote.as_ref(), &rec, &mut notes);
    // The analysis and advice at the run's own durations.
    let as_run = variant::with_durations(&spec, &inputs::durations(&rec));
    let times = RunTimes::of(&rec);
    let report = Report {
        schema: REPORT_SCHEMA,
        run_id: rec.run_id.clone(),
        stack: rec.stack.clone(),
        status: times.status,
        spec_path: spec_path.display().to_string(),
        submitted_at: times.submitted_at,
        finished_at: times.finished_at,
        jobs: inputs::jobs(&rec),
        reconciliation: m.reconciliation,
        estimate: estimate(&spec, &prices, opts),
        offers: offers(&as_run, &prices),
        scenarios: scenarios(&as_run, &prices, opts, &volumes(&args.analysis)),
        break_evens: break_evens(&as_run, &prices, opts),
        sensitivity: sensitivity(&as_run, &prices, opts, args.analysis.sensitivity),
        advice: advise(&as_run, &prices, opts, &format!("run {}", rec.run_id)),
        scaling: inputs::scaling(&runs_of(&args.run.runs_dir), &rec.stack),
        metrics,
        items: spec
            .phases
            .iter()
            .filter_map(|p| p.items.map(|n| (p.name.clone(), n)))
            .collect(),
        notes,
    };
    let written = pipectl_report::write(&report, &args.out)?;
    let text = summary(&report, &written, &args.output);
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// The spec (named, or the one the run recorded, found through the run by stack name) and
/// the run.
fn spec_and_run(args: &ReportArgs) -> Result<(std::path::PathBuf, RunRecord), CliError> {
    let run_id = args.run.run.clone().unwrap_or_else(|| "latest".into());
    // The spec: named, or the one the run recorded (found through the run by stack name).
    Ok(match &args.spec {
        Some(p) => {
            let stack = load_spec(p, true)?.spec.stack.name;
            (
                p.clone(),
                metered::find_run(&args.run.runs_dir, Some(&stack), &run_id)?,
            )
        }
        None => {
            let rec = metered::find_run(&args.run.runs_dir, None, &run_id)?;
            (std::path::PathBuf::from(&rec.spec_path), rec)
        }
    })
}

/// What CloudWatch holds for the run (nothing offline or when it cannot be read, said in a
/// note).
fn read_metrics(
    remote: Option<&metered::Remote>,
    rec: &RunRecord,
    notes: &mut Vec<String>,
) -> Vec<MetricValue> {
    match remote {
        None => {
            notes.push("offline: CloudWatch not read".into());
            vec![]
        }
        Some(r) => match r
            .rt
            .block_on(pipectl_runner::metrics::read_back(&r.aws, rec))
        {
            Ok(v) => v
                .into_iter()
                .map(|v| MetricValue {
                    namespace: v.namespace,
                    metric: v.metric,
                    phase: Some(v.phase),
                    value: v.value,
                    unit: v.unit,
                })
                .collect(),
            Err(e) => {
                notes.push(format!("CloudWatch metrics not read: {e}"));
                vec![]
            }
        },
    }
}

/// What the command prints: the files written (JSON, or a list with the notes).
fn summary(report: &Report, written: &pipectl_report::Written, output: &TableOrJson) -> String {
    match output {
        TableOrJson::Json => serde_json::to_string_pretty(written).unwrap_or_default() + "\n",
        TableOrJson::Table => {
            let mut s = format!(
                "Report of run {} ({} charts) in {}:\n",
                report.run_id,
                written.charts,
                written.dir.display()
            );
            for f in &written.files {
                s.push_str(&format!("  {}\n", f.display()));
            }
            for n in &report.notes {
                s.push_str(&format!("note: {n}\n"));
            }
            s
        }
    }
}
