//! `pipectl plan SPEC`: the resources `up` would create, in waves that can be created
//! concurrently, with the estimate's headline. No AWS client is created.

use std::io::Write;

use pipectl_metering::money::fmt_usd;
use pipectl_metering::{Options, estimate};
use pipectl_spec::graph::Graph;

use crate::cli::{PlanArgs, TableOrJson};
use crate::error::CliError;
use crate::options::{load_prices, load_spec};

pub fn run(args: &PlanArgs, quiet: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let loaded = load_spec(&args.spec, quiet)?;
    let spec = &loaded.spec;
    let graph = Graph::from_spec(spec);
    let prices = load_prices(args.prices.prices.as_deref(), &spec.stack.region)?;
    let est = estimate(spec, &prices, Options::default());
    let waves = graph.waves();

    if let TableOrJson::Json = args.output {
        let resources: Vec<serde_json::Value> = waves
            .iter()
            .enumerate()
            .flat_map(|(w, rs)| {
                rs.iter().map(move |r| {
                    serde_json::json!({
                        "id": r.id, "kind": r.kind, "service": r.kind.service(), "name": r.name,
                        "wave": w + 1, "depends_on": r.depends_on,
                        "settings": r.settings.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    })
                })
            })
            .collect();
        let doc = serde_json::json!({
            "stack": spec.stack.name, "region": spec.stack.region, "action": "create",
            "resources": resources, "waves": waves.len(),
            "estimate": {
                "total_usd": pipectl_metering::money::round6(est.total_usd), "complete": est.complete,
                "baseline_on_demand_total_usd": est.baseline_on_demand_total_usd.map(pipectl_metering::money::round6),
                "price_sheet": est.price_sheet,
            },
        });
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        )?;
        return Ok(());
    }

    writeln!(
        out,
        "Plan for stack {} in {}: {} resources to create, in {} waves",
        spec.stack.name,
        spec.stack.region,
        graph.resources.len(),
        waves.len()
    )?;
    writeln!(
        out,
        "Every taggable resource is tagged pipectl:stack={} and pipectl:resource=<id>.",
        spec.stack.name
    )?;
    for (w, rs) in waves.iter().enumerate() {
        writeln!(
            out,
            "\nWave {} ({} resource{}, created concurrently)",
            w + 1,
            rs.len(),
            if rs.len() == 1 { "" } else { "s" }
        )?;
        let kind_w = rs.iter().map(|r| r.kind.label().len()).max().unwrap_or(0);
        let id_w = rs.iter().map(|r| r.id.to_string().len()).max().unwrap_or(0);
        for r in rs {
            writeln!(
                out,
                "  + {:<kind_w$}  {:<id_w$}  {}",
                r.kind.label(),
                r.id,
                r.name
            )?;
            if !r.settings.is_empty() {
                let s: Vec<String> = r
                    .settings
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                writeln!(out, "      {}", s.join(" · "))?;
            }
            if !r.depends_on.is_empty() {
                let after: Vec<String> = r.depends_on.iter().map(ToString::to_string).collect();
                writeln!(out, "      after: {}", after.join(", "))?;
            }
        }
    }
    let partial = if est.complete {
        ""
    } else {
        " (priced items only; see `pipectl cost`)"
    };
    write!(
        out,
        "\nEstimate per run: {}{partial} with {} ({})",
        fmt_usd(est.total_usd),
        est.price_sheet.name,
        est.price_sheet.date
    )?;
    match est.baseline_on_demand_total_usd {
        Some(b) => writeln!(out, "; all On-Demand {}", fmt_usd(b))?,
        None => writeln!(out)?,
    }
    Ok(())
}
