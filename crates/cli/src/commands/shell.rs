//! `pipectl completions` and `pipectl man`: what a shell and `man` need, generated from the
//! command-line definitions themselves so they cannot fall behind.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::CliError;

/// Prints the completion script for the chosen shell.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "pipectl", out);
}

/// Prints pipectl(1), or writes it and one page per command into `--dir`.
pub fn man(args: &ManArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let cmd = Cli::command();
    match &args.dir {
        None => clap_mangen::Man::new(cmd)
            .render(out)
            .map_err(CliError::Output),
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| CliError::WriteFile {
                path: dir.clone(),
                source: e,
            })?;
            clap_mangen::generate_to(cmd, dir).map_err(|e| CliError::WriteFile {
                path: dir.clone(),
                source: e,
            })?;
            writeln!(out, "manual pages written to {}", dir.display()).map_err(CliError::Output)
        }
    }
}
