//! What `up`, `down` and `status` share: the tokio runtime, the AWS connection built from the
//! global options, rendering of a plan, and the confirmation prompt.

use std::io::{BufRead, IsTerminal, Write};

use pipectl_aws::Aws;
use pipectl_provision::{Action, Plan};
use pipectl_spec::Spec;

use crate::cli::AwsArgs;
use crate::error::CliError;
use crate::render::table::Table;

pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(CliError::Output)
}

/// Connects as the global options say and says where on stderr (unless `quiet`): the first
/// line of every AWS command. On AWS that takes one STS call, which also proves the
/// credentials before anything else is done.
pub async fn connect(args: &AwsArgs, spec: &Spec, quiet: bool) -> Result<Aws, CliError> {
    let aws = connect_silently(args, spec).await?;
    let target = aws.target(args.profile.as_deref()).await?;
    if !quiet {
        eprintln!("{target}");
    }
    Ok(aws)
}

/// The connection alone; nothing said, no call made.
pub async fn connect_silently(args: &AwsArgs, spec: &Spec) -> Result<Aws, CliError> {
    if let Some(p) = &args.profile
        && !pipectl_aws::profile_exists(p).await
    {
        return Err(CliError::Usage(format!(
            "--profile {p:?}: no such profile in the AWS config or credentials files (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE); `aws configure --profile {p}` creates it"
        )));
    }
    let opts = crate::options::aws(args);
    let aws = pipectl_aws::connect(&opts, &spec.stack.region).await;
    tracing::info!(endpoint = aws.endpoint.as_deref().unwrap_or("aws"), region = %aws.region, "connected");
    Ok(aws)
}

fn symbol(a: &Action) -> &'static str {
    match a {
        Action::Create => "+ create",
        Action::Unchanged => "= unchanged",
        Action::Wait => "… wait",
        Action::Update => "~ update",
        Action::Replace => "! replace",
    }
}

pub fn render_plan(plan: &Plan, show_unchanged: bool) -> String {
    let mut t = Table::new(&["", "resource", "kind", "name / id", "difference"]);
    for c in &plan.changes {
        if c.action == Action::Unchanged && !show_unchanged {
            continue;
        }
        let id = c
            .live
            .as_ref()
            .map_or(c.name.clone(), |l| l.physical_id.clone());
        let mut diff = c
            .drift
            .iter()
            .map(|d| format!("{}: {} → {}", d.what, d.have, d.want))
            .collect::<Vec<_>>()
            .join("; ");
        if c.action == Action::Create && c.live.is_some() {
            diff = "being deleted (a stopped `down`): waited out, then created again".into();
        }
        t.row(vec![
            symbol(&c.action).into(),
            c.id.to_string(),
            c.kind.label().into(),
            id,
            diff,
        ]);
    }
    for s in &plan.strays {
        t.row(vec![
            "? stray".into(),
            s.logical.clone(),
            s.kind.label().into(),
            s.live.physical_id.clone(),
            "tagged with the stack, not in the spec (`down` removes it)".into(),
        ]);
    }
    let mut out = t.render();
    out.push_str(&format!(
        "{} to create, {} to update, {} to replace, {} to wait for, {} unchanged\n",
        plan.count(&Action::Create),
        plan.count(&Action::Update),
        plan.count(&Action::Replace),
        plan.count(&Action::Wait),
        plan.count(&Action::Unchanged)
    ));
    out
}

/// Asks on the terminal; without one, only `--yes` confirms.
pub fn confirm(question: &str, yes: bool) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::NotConfirmed(format!(
            "{question}: not confirmed (no terminal to ask on); nothing was changed"
        )));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(CliError::Output)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(CliError::NotConfirmed(format!(
            "{question}: declined; nothing was changed"
        )))
    }
}
