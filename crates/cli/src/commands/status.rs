//! `pipectl status SPEC`: every resource of the stack, its live state and its difference from
//! the spec. Read-only; takes no lock.

use std::io::Write;

use pipectl_provision::{Action, Session, Timeouts};

use super::stack::{connect, runtime};
use crate::cli::{AwsArgs, StatusArgs, TableOrJson};
use crate::error::CliError;
use crate::options::{print_warnings, read_spec};
use crate::render::table::Table;

pub fn run(
    args: &StatusArgs,
    aws_args: &AwsArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let loaded = read_spec(&args.spec)?;
    runtime()?.block_on(async {
        let aws = connect(aws_args, &loaded.spec, quiet).await?;
        print_warnings(&loaded.diagnostics, quiet);
        let ctx = Session::read_only(aws, loaded.spec, Timeouts::default(), std::sync::Arc::new(|_| {})).await?;
        let plan = pipectl_provision::plan(&ctx).await?;
        if let TableOrJson::Json = args.output {
            let rows: Vec<serde_json::Value> = plan
                .changes
                .iter()
                .map(|c| serde_json::json!({"id": c.id, "kind": c.kind, "name": c.name, "exists": c.live.is_some(), "physical_id": c.live.as_ref().map(|l| &l.physical_id), "state": c.live.as_ref().map(|l| &l.state), "drift": c.drift}))
                .collect();
            let doc = serde_json::json!({"stack": plan.stack, "region": ctx.aws.region, "account": ctx.account, "resources": rows, "strays": plan.strays});
            writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default())?;
            return Ok(());
        }
        let mut t = Table::new(&["resource", "kind", "id", "state", "difference from the spec"]);
        for c in &plan.changes {
            let (id, state) = c.live.as_ref().map_or(("-".to_string(), "missing".to_string()), |l| (l.physical_id.clone(), l.state.clone()));
            let diff = c.drift.iter().map(|d| format!("{}: {} (spec: {})", d.what, d.have, d.want)).collect::<Vec<_>>().join("; ");
            t.row(vec![c.id.to_string(), c.kind.label().into(), id, state, diff]);
        }
        for s in &plan.strays {
            t.row(vec![s.logical.clone(), s.kind.label().into(), s.live.physical_id.clone(), s.live.state.clone(), "not in the spec".into()]);
        }
        write!(out, "{}", t.render())?;
        let present = plan.changes.len() - plan.count(&Action::Create);
        writeln!(out, "Stack {} in {} (account {}): {present} of {} resources exist, {} differ from the spec", plan.stack, ctx.aws.region, ctx.account, plan.changes.len(), plan.count(&Action::Update) + plan.count(&Action::Replace))?;
        Ok(())
    })
}
