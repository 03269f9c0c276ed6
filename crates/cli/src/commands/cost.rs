//! `pipectl cost SPEC`: the estimate of one run, in four formats. No AWS client is created.

use std::io::Write;

use pipectl_metering::{Options, estimate};

use super::{load_prices, load_spec};
use crate::cli::{CostArgs, CostOutput};
use crate::error::CliError;
use crate::render::cost;

pub fn run(args: &CostArgs, quiet: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let loaded = load_spec(&args.spec, quiet)?;
    let prices = load_prices(args.prices.prices.as_deref(), &loaded.spec.stack.region)?;
    let opts = Options {
        allocation: args.allocation.into(),
        free_allowance: args.free_allowance,
    };
    let est = estimate(&loaded.spec, &prices, opts);
    let text = match args.output {
        CostOutput::Table => cost::table(&est),
        CostOutput::Json => serde_json::to_string_pretty(&est).unwrap_or_default() + "\n",
        CostOutput::Csv => {
            cost::csv(&est).map_err(|e| CliError::Output(std::io::Error::other(e)))?
        }
        CostOutput::Markdown => cost::markdown(&est),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}
