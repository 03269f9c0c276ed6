//! Command-line options resolved into what the libraries take, in one place: the spec (loaded
//! and validated), the price sheet, the metering options and the AWS connection options. Each
//! command resolves its options once, at its start, through these.

use std::path::Path;

use pipectl_aws::AwsOptions;
use pipectl_metering::{Allocation, Options, PriceSheet};
use pipectl_spec::{Diagnostics, Level, LoadedSpec};

use crate::cli::AwsArgs;
use crate::error::CliError;
use crate::render::diagnostics;

/// Loads and validates a spec; its warnings go to stderr unless `quiet`.
pub fn load_spec(path: &Path, quiet: bool) -> Result<LoadedSpec, CliError> {
    let loaded = read_spec(path)?;
    print_warnings(&loaded.diagnostics, quiet);
    Ok(loaded)
}

/// Loads and validates a spec, saying nothing yet: an AWS command says its target first,
/// then the spec's warnings ([`print_warnings`]).
pub fn read_spec(path: &Path) -> Result<LoadedSpec, CliError> {
    let loaded = pipectl_spec::load_file(path)?;
    tracing::debug!(file = %path.display(), findings = loaded.diagnostics.findings.len(), "spec loaded");
    Ok(loaded)
}

/// A valid spec's warnings on stderr, unless `quiet`.
pub fn print_warnings(found: &Diagnostics, quiet: bool) {
    if !quiet {
        eprint!("{}", diagnostics::render(found, Level::Warning));
    }
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

/// The metering options of `--allocation` (the default rule when the command has no such
/// flag) and `--free-allowance`.
/// How a run record cites the sheet it was priced with.
pub fn price_ref(prices: &PriceSheet) -> pipectl_record::PriceRef {
    pipectl_record::PriceRef {
        name: prices.sheet.name.clone(),
        date: prices.sheet.date.clone(),
        path: prices.sheet.path.as_ref().map(|p| p.display().to_string()),
    }
}

/// SHA-256 of the spec file's bytes (hex), as a run record keeps it; of nothing when unreadable.
pub fn spec_sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "{:x}",
        Sha256::digest(
            pipectl_files::read_capped(path, pipectl_spec::load::MAX_SPEC_BYTES as u64)
                .unwrap_or_default()
        )
    )
}

pub fn metering(allocation: Option<Allocation>, free_allowance: bool) -> Options {
    let defaults = Options::default();
    Options {
        allocation: allocation.unwrap_or(defaults.allocation),
        free_allowance,
        ..defaults
    }
}

/// The AWS connection the global options ask for; pipectl's requests say `app/pipectl`.
pub fn aws(args: &AwsArgs) -> AwsOptions {
    AwsOptions {
        real_aws: args.aws,
        endpoint_url: args.endpoint_url.clone(),
        profile: args.profile.clone(),
        region: args.region.clone(),
        max_attempts: args.max_attempts,
        app_name: Some("pipectl".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metering_options_keep_the_defaults_the_flags_do_not_set() {
        let d = Options::default();
        let o = metering(None, true);
        assert_eq!(o.allocation, d.allocation);
        assert_eq!(o.fsx_release, d.fsx_release);
        assert!(o.free_allowance);
        let o = metering(Some(Allocation::ByCost), false);
        assert_eq!(o.allocation, Allocation::ByCost);
        assert!(!o.free_allowance);
    }
}
