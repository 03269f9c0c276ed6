//! One module per subcommand, and the input loading they share.

pub mod advise;
pub mod cost;
pub mod down;
pub mod iam_policy;
pub mod metered;
pub mod plan;
pub mod report;
pub mod run;
pub mod shell;
pub mod stack;
pub mod status;
pub mod up;
pub mod validate;

use std::path::Path;

use pipectl_metering::PriceSheet;
use pipectl_spec::{Level, LoadedSpec};

use crate::error::CliError;
use crate::render::diagnostics;

/// Loads and validates a spec; its warnings go to stderr unless `quiet`.
pub fn load_spec(path: &Path, quiet: bool) -> Result<LoadedSpec, CliError> {
    let loaded = pipectl_spec::load_file(path)?;
    tracing::debug!(file = %path.display(), findings = loaded.diagnostics.findings.len(), "spec loaded");
    if !quiet {
        eprint!(
            "{}",
            diagnostics::render(&loaded.diagnostics, Level::Warning)
        );
    }
    Ok(loaded)
}

/// The sheet named on the command line, else the built-in list prices for `region`.
pub fn load_prices(file: Option<&Path>, region: &str) -> Result<PriceSheet, CliError> {
    match file {
        Some(path) => Ok(PriceSheet::load(path)?),
        None => match pipectl_metering::prices::builtin(region) {
            Some(sheet) => Ok(sheet?),
            None => Err(CliError::NoPrices {
                region: region.to_string(),
            }),
        },
    }
}
