//! `pipectl plan SPEC`: the resources `up` would create, in waves that can be created
//! concurrently, with the estimate's headline. No AWS client is created.

use std::io::Write;

use pipectl_metering::{Options, estimate};
use pipectl_spec::graph::Graph;

use crate::cli::{PlanArgs, TableOrJson};
use crate::error::CliError;
use crate::options::{load_prices, load_spec};
use crate::render::plan;

pub fn run(args: &PlanArgs, quiet: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let loaded = load_spec(&args.spec, quiet)?;
    let spec = &loaded.spec;
    let graph = Graph::from_spec(spec);
    let prices = load_prices(args.prices.prices.as_deref(), &spec.stack.region)?;
    let est = estimate(spec, &prices, Options::default());
    let waves = graph.waves();

    let text = match args.output {
        TableOrJson::Json => plan::json(spec, &waves, &est),
        TableOrJson::Table => plan::text(spec, &graph, &waves, &est),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}
