//! Progress of `up`/`down` on stderr: a spinner per resource under way (indicatif) on a
//! terminal, one plain line per event otherwise; `--output json` turns events into JSON lines
//! on stderr so stdout keeps only the result.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use pipectl_provision::{Event, Progress};

pub fn sink(quiet: bool, json: bool) -> Progress {
    if quiet {
        return Arc::new(|_| {});
    }
    if json {
        return Arc::new(|e: Event| eprintln!("{}", serde_json::to_string(&e).unwrap_or_default()));
    }
    if !std::io::stderr().is_terminal() {
        return Arc::new(|e: Event| eprintln!("{}", line(&e)));
    }
    let multi = MultiProgress::new();
    let bars: Mutex<HashMap<String, ProgressBar>> = Mutex::new(HashMap::new());
    let style = ProgressStyle::with_template("{spinner} {prefix:<28} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    Arc::new(move |e: Event| {
        let mut bars = bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &e {
            Event::Started { id, action } => {
                let bar = multi.add(
                    ProgressBar::new_spinner()
                        .with_style(style.clone())
                        .with_prefix(id.clone())
                        .with_message(format!("{action}…")),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(id.clone(), bar);
            }
            Event::Waiting { id, state } => {
                if let Some(b) = bars.get(id) {
                    b.set_message(state.clone());
                }
            }
            Event::Done { id, .. } | Event::Failed { id, .. } => {
                if let Some(b) = bars.remove(id) {
                    b.finish_and_clear();
                }
                let _ = multi.println(line(&e));
            }
            Event::Note { .. } => {
                let _ = multi.println(line(&e));
            }
        }
    })
}

pub fn line(e: &Event) -> String {
    match e {
        Event::Started { id, action } => format!("  … {id}: {action}"),
        Event::Waiting { id, state } => format!("  … {id}: {state}"),
        Event::Done {
            id,
            action,
            physical_id,
            seconds,
        } => format!("  ✓ {id}: {action} {physical_id} ({seconds:.1}s)"),
        // Errors name their resource already.
        Event::Failed { id, error } if error.starts_with(id.as_str()) => format!("  ✗ {error}"),
        Event::Failed { id, error } => format!("  ✗ {id}: {error}"),
        Event::Note { message } => format!("  note: {message}"),
    }
}
