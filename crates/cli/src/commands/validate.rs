//! `pipectl validate SPEC`: every finding, located; exit 3 when any is an error.

use std::io::Write;

use pipectl_spec::{Level, LoadError};

use crate::cli::{TextOrJson, ValidateArgs};
use crate::error::CliError;
use crate::render::diagnostics;

pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let result = pipectl_spec::load_file(&args.spec);
    let diags = match &result {
        Ok(loaded) => &loaded.diagnostics,
        Err(LoadError::Invalid(d)) => d,
        Err(_) => return result.map(|_| ()).map_err(CliError::from),
    };
    match args.output {
        TextOrJson::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&diagnostics::json(diags)).unwrap_or_default()
        )?,
        TextOrJson::Text => {
            if result.is_ok() {
                eprint!("{}", diagnostics::render(diags, Level::Note));
                let (w, n) = (diags.count(Level::Warning), diags.count(Level::Note));
                writeln!(
                    out,
                    "{}: valid ({w} warning{}, {n} note{})",
                    args.spec.display(),
                    plural(w),
                    plural(n)
                )?;
            }
        }
    }
    // An invalid spec is reported (rendered once by main) and exits non-zero.
    result.map(|_| ()).map_err(CliError::from)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
