//! `pipectl plan`: the resources `up` would create, wave by wave, with the estimate's
//! headline, for people (text) and machines (JSON).

use std::fmt::Write;

use pipectl_metering::Estimate;
use pipectl_metering::money::fmt_usd;
use pipectl_spec::Spec;
use pipectl_spec::graph::{Graph, Resource};

/// The plan as JSON: every resource with its wave, and the estimate's headline.
pub fn json(spec: &Spec, waves: &[Vec<&Resource>], est: &Estimate) -> String {
    let resources: Vec<serde_json::Value> = waves
        .iter()
        .enumerate()
        .flat_map(|(w, rs)| {
            rs.iter().map(move |r| {
                let mut v = serde_json::json!({
                    "id": r.id, "kind": r.kind, "service": r.kind.service(), "name": r.name,
                    "wave": w + 1, "depends_on": r.depends_on,
                    "settings": r.settings.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
                });
                if !r.uses.is_empty() {
                    v["uses"] = serde_json::json!(r.uses);
                }
                v
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
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The plan as text: a header, each wave's resources with settings and dependencies, and the
/// estimate's headline.
pub fn text(spec: &Spec, graph: &Graph, waves: &[Vec<&Resource>], est: &Estimate) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan for stack {} in {}: {} resources to create, in {} waves",
        spec.stack.name,
        spec.stack.region,
        graph.resources.len(),
        waves.len()
    );
    let _ = writeln!(
        out,
        "Every taggable resource is tagged pipectl:stack={} and pipectl:resource=<id>.",
        spec.stack.name
    );
    for (w, rs) in waves.iter().enumerate() {
        let _ = writeln!(
            out,
            "\nWave {} ({} resource{}, created concurrently)",
            w + 1,
            rs.len(),
            if rs.len() == 1 { "" } else { "s" }
        );
        let kind_w = rs.iter().map(|r| r.kind.label().len()).max().unwrap_or(0);
        let id_w = rs.iter().map(|r| r.id.to_string().len()).max().unwrap_or(0);
        for r in rs {
            let _ = writeln!(
                out,
                "  + {:<kind_w$}  {:<id_w$}  {}",
                r.kind.label(),
                r.id,
                r.name
            );
            if !r.settings.is_empty() {
                let s: Vec<String> = r
                    .settings
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                let _ = writeln!(out, "      {}", s.join(" · "));
            }
            if !r.depends_on.is_empty() {
                let after: Vec<String> = r.depends_on.iter().map(ToString::to_string).collect();
                let _ = writeln!(out, "      after: {}", after.join(", "));
            }
            if !r.uses.is_empty() {
                let uses: Vec<String> = r.uses.iter().map(ToString::to_string).collect();
                let _ = writeln!(out, "      uses, once created: {}", uses.join(", "));
            }
        }
    }
    let partial = if est.complete {
        ""
    } else {
        " (priced items only; see `pipectl cost`)"
    };
    let _ = write!(
        out,
        "\nEstimate per run: {}{partial} with {} ({})",
        fmt_usd(est.total_usd),
        est.price_sheet.name,
        est.price_sheet.date
    );
    let _ = match est.baseline_on_demand_total_usd {
        Some(b) => writeln!(out, "; all On-Demand {}", fmt_usd(b)),
        None => writeln!(out),
    };
    out
}
