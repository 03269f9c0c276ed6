//! Progress of `run`: one line per event (a bar per phase on a terminal, plain lines on
//! stderr otherwise, JSON lines on stdout with `--output json`).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use pipectl_runner::{Progress, RunEvent};

pub fn mmss(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The line printed for an event; log lines and AWS's reasons inside it cannot drive the
/// terminal (see `terminal::printable`).
pub fn line(e: &RunEvent) -> String {
    super::terminal::printable(&raw_line(e)).into_owned()
}

fn raw_line(e: &RunEvent) -> String {
    match e {
        RunEvent::Submitted { phase, job_id, .. } => format!("  {phase:<16} submitted ({job_id})"),
        RunEvent::Phase {
            phase,
            status,
            attempt,
            max_attempts,
            reason,
            running_seconds,
            planned_seconds,
        } => {
            let mut s = format!("  {phase:<16} {status:<10} attempt {attempt}/{max_attempts}");
            if let Some(r) = running_seconds {
                s.push_str(&format!(
                    ", {} of {} planned, ETA {}",
                    mmss(*r),
                    mmss(*planned_seconds),
                    mmss(planned_seconds - r)
                ));
            }
            if let Some(r) = reason {
                s.push_str(&format!(": {r}"));
            }
            s
        }
        RunEvent::AttemptEnded {
            phase,
            attempt,
            run_seconds,
            exit_code,
            reason,
            spot_interruption,
        } => format!(
            "  {phase:<16} attempt {attempt} ended after {}{}{}{}",
            mmss(*run_seconds),
            exit_code.map(|c| format!(", exit {c}")).unwrap_or_default(),
            reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
            if *spot_interruption {
                " (Spot interruption)"
            } else {
                ""
            }
        ),
        RunEvent::Log { phase, line } => format!("  [{phase}] {line}"),
        RunEvent::Cancelled { phase, because } => format!("  {phase:<16} cancelled: {because}"),
        RunEvent::Unreachable { error, seconds } => {
            format!("  AWS not reachable for {seconds}s (jobs untouched, still watching): {error}")
        }
        RunEvent::Reachable => "  AWS reachable again".into(),
        RunEvent::BudgetWarning {
            projected_usd,
            budget_usd,
        } => format!(
            "  warning: projected cost ${projected_usd:.4} exceeds the budget ${budget_usd:.4}"
        ),
        RunEvent::Note { message } => format!("  note: {message}"),
        RunEvent::Stuck {
            explanation, fix, ..
        } => format!("  {explanation}; fix: {fix}"),
        RunEvent::Fallback { .. } => fallback_line(e),
        RunEvent::Finished {
            status,
            seconds,
            describe_jobs_calls,
            job_events,
            ..
        } => {
            format!(
                "  run {status:?} after {} ({job_events} job events, {describe_jobs_calls} DescribeJobs calls)",
                mmss(*seconds)
            )
        }
    }
}

/// Events: JSON lines on stdout with `--output json`; a bar per phase on a terminal; plain
/// lines on stderr otherwise.
pub fn sink(quiet: bool, json: bool, spec: &pipectl_spec::Spec) -> Progress {
    if json {
        return Arc::new(|e: &RunEvent| {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{}", serde_json::to_string(e).unwrap_or_default());
            let _ = o.flush();
        });
    }
    if quiet {
        return Arc::new(|_| {});
    }
    if !std::io::stderr().is_terminal() {
        return Arc::new(|e: &RunEvent| eprintln!("{}", line(e)));
    }
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{spinner} {prefix:<16} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bars: HashMap<String, ProgressBar> = spec
        .phases
        .iter()
        .map(|p| {
            let b = multi.add(
                ProgressBar::new_spinner()
                    .with_style(style.clone())
                    .with_prefix(p.name.clone())
                    .with_message("not submitted"),
            );
            b.enable_steady_tick(Duration::from_millis(150));
            (p.name.clone(), b)
        })
        .collect();
    let bars = Mutex::new(bars);
    Arc::new(move |e: &RunEvent| {
        let bars = bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let phase = match e {
            RunEvent::Submitted { phase, .. }
            | RunEvent::Phase { phase, .. }
            | RunEvent::Stuck { phase, .. }
            | RunEvent::Fallback { phase, .. }
            | RunEvent::Cancelled { phase, .. } => Some(phase),
            _ => None,
        };
        match (phase.and_then(|p| bars.get(p)), e) {
            (Some(b), RunEvent::Phase { status, .. }) if status.is_terminal() => {
                b.finish_with_message(
                    line(e)
                        .trim_start()
                        .trim_start_matches(b.prefix().as_str())
                        .trim()
                        .to_string(),
                );
            }
            (Some(b), _) => b.set_message(
                line(e)
                    .trim_start()
                    .trim_start_matches(b.prefix().as_str())
                    .trim()
                    .to_string(),
            ),
            (None, _) => {
                let _ = multi.println(line(e));
            }
        }
    })
}

/// `training falls back to queue "inference": it waited 15 min RUNNABLE for capacity; its 35 min
/// there cost $0.44 against $0.15 to stay (spent so far $0.00); inference, documentation
/// resubmitted after it`.
fn fallback_line(e: &RunEvent) -> String {
    let RunEvent::Fallback {
        phase,
        to_queue,
        reason,
        stay_usd,
        switch_usd,
        spent_usd,
        dependents,
        ..
    } = e
    else {
        return String::new();
    };
    let usd = |v: &Option<f64>| v.map_or("an unpriced amount".into(), |v| format!("${v:.4}"));
    let mut s = format!(
        "  {phase} falls back to queue {to_queue:?}: {reason}; switching costs {} against {} to stay (spent so far {})",
        usd(switch_usd),
        usd(stay_usd),
        usd(spent_usd),
    );
    if !dependents.is_empty() {
        s.push_str(&format!("; {} resubmitted after it", dependents.join(", ")));
    }
    s
}
