//! The `pipectl` binary: parses the command line, sets up tracing, runs one subcommand,
//! renders its error once and maps it to an exit code.

mod cli;
mod commands;
mod error;
mod options;
mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use pipectl_spec::Level;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command};
use error::{CliError, exit};

fn init_tracing(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("PIPECTL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    // `export AWS_ENDPOINT_URL=` leaves it set but empty, and the SDK then panics ("URL was
    // unset"): empty means unset.
    if std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
        // SAFETY: nothing else runs yet (no runtime, no other thread), so no one reads the
        // environment concurrently.
        unsafe { std::env::remove_var("AWS_ENDPOINT_URL") };
    }
    let cli = Cli::parse();
    init_tracing(cli.verbose, cli.quiet);
    // Not locked for the whole command: `run --output json` prints events from other threads.
    let mut out = std::io::stdout();
    let result = match &cli.command {
        Command::Validate(a) => commands::validate::run(a, &mut out),
        Command::Plan(a) => commands::plan::run(a, cli.quiet, &mut out),
        Command::Cost(a) => commands::cost::run(a, &cli.aws, cli.quiet, &mut out),
        Command::Up(a) => commands::up::run(a, &cli.aws, cli.quiet, &mut out),
        Command::Down(a) => commands::down::run(a, &cli.aws, cli.quiet, &mut out),
        Command::Status(a) => commands::status::run(a, &cli.aws, cli.quiet, &mut out),
        Command::Run(a) => commands::run::run(a, &cli.aws, cli.quiet, &mut out),
        Command::Runs(a) => commands::run::list(a, &mut out),
        Command::Sweep(a) => commands::sweep::run(a, &cli.aws, cli.quiet, &mut out),
        Command::Advise(a) => commands::advise::run(a, cli.quiet, &mut out),
        Command::Analyze(a) => commands::advise::analyze(a, cli.quiet, &mut out),
        Command::Report(a) => commands::report::run(a, &cli.aws, cli.quiet, &mut out),
        Command::IamPolicy(a) => commands::iam_policy::run(a, cli.quiet, &mut out),
        Command::Bootstrap(a) => commands::iam_policy::bootstrap(a, &cli.aws, cli.quiet, &mut out),
        Command::Completions(a) => {
            commands::shell::completions(a, &mut out);
            Ok(())
        }
        Command::Man(a) => commands::shell::man(a, &mut out),
    };
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        // A closed pipe (`pipectl cost ... | head`) is the reader's choice, not a failure.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            report(&e, &cli.aws);
            ExitCode::from(e.exit_code())
        }
    }
}

fn report(e: &CliError, aws: &cli::AwsArgs) {
    let mut text = String::new();
    if let CliError::Load(load) = e
        && let Some(d) = load.diagnostics()
    {
        text.push_str(&render::diagnostics::render(d, Level::Warning));
    }
    text.push_str(&format!("error: {e}"));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text.push('\n');
    if let Some(h) = e.hint() {
        text.push_str(&format!("hint: {h}\n"));
    }
    // The local endpoint is the default: one who meant AWS is told how to reach it.
    if e.exit_code() == exit::UNREACHABLE && !aws.aws && pipectl_aws::credentials_configured() {
        text.push_str("hint: AWS credentials are configured on this machine: pass --aws to talk to AWS instead of the local endpoint\n");
    }
    eprint!("{text}");
}
