//! One test per validation rule: a mutation of the seed spec that breaks the rule, the
//! finding it must produce (code and level), and the line it must point at.

use std::path::Path;

use pipectl_spec::{Diagnostics, Finding, Level, LoadError, load_bytes, load_str};

const SEED: &str = include_str!("../../../../infra-specs/two-hour-pipeline.toml");
const EFA: &str = include_str!("../../../../infra-specs/two-hour-pipeline-efa.toml");

/// The seed spec with `from` replaced by `to` (which must occur exactly once).
fn mutate(base: &str, from: &str, to: &str) -> String {
    assert_eq!(
        base.matches(from).count(),
        1,
        "{from:?} must occur once in the base spec"
    );
    base.replacen(from, to, 1)
}

fn diagnostics(text: String) -> Diagnostics {
    match load_str(Path::new("spec.toml"), text) {
        Ok(l) => l.diagnostics,
        Err(LoadError::Invalid(d)) => *d,
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// Asserts a finding with `code` at `level` whose line contains `line_has`; returns it.
fn expect(text: String, code: &str, level: Level, line_has: &str) -> Finding {
    let d = diagnostics(text);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == code && f.level == level)
        .unwrap_or_else(|| panic!("no {level} {code}; got:\n{d}"))
        .clone();
    let lc = f
        .line_col
        .unwrap_or_else(|| panic!("{code} has no location"));
    let line = d.text.lines().nth(lc.line - 1).unwrap_or("");
    assert!(
        line.contains(line_has),
        "{code} points at line {} {line:?}, expected one containing {line_has:?}",
        lc.line
    );
    assert!(lc.col >= 1);
    f
}

mod compute;
mod loading;
mod network;
mod phases;
mod storage;
