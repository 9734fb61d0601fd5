//! The `certdrift` command line behind `src/main.rs`: the arguments
//! ([`Cli`], [`Command`], and [`args`] shared by several subcommands), the
//! settings layered under them ([`settings`]), the progress line, the
//! output and exit codes ([`output`]), and one file per subcommand, each
//! calling the library and mapping its result to an exit code (0 clean,
//! 1 findings at or above `--fail-on`, 2 usage or input error or an
//! incomplete scan).
//!
//! Settings come, strongest first, from a flag, its `CERTDRIFT_*`
//! environment variable (clap's `env`), the config file's `settings:`
//! ([`certdrift::config`]), then the built-in default. Flags that a config
//! file can set therefore have no clap default: the default is applied
//! after the file.

mod args;
mod diff;
mod graph;
mod init;
mod inventory;
mod lookup;
mod man;
mod output;
mod probe;
mod progress;
mod rules;
mod scan;
mod settings;

use anyhow::Result;
use args::{DIFF_HELP, DIFF_PATHS_HELP, PROBE_HELP};
use clap::{CommandFactory, Parser, Subcommand};
pub(crate) use output::error_text;
use output::print;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "certdrift",
    version,
    about = "Finds certificate and CA drift in configuration kept in git"
)]
pub(crate) struct Cli {
    /// The config file (default: `.certdrift.yaml` in the current directory or
    /// the nearest parent, up to the repository's top).
    #[arg(long, global = true, value_name = "FILE", env = "CERTDRIFT_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Scan files for certificate problems; exit 1 on findings at or above --fail-on.
    Scan(scan::Scan),
    /// List every certificate and where it is referenced.
    Inventory(inventory::Inventory),
    /// Draw the trust graph: components, certificates, CAs and their edges.
    Graph(graph::Graph),
    /// Compare BASE and HEAD (two directories, or two git revisions of --repo):
    /// what the change does to every component's certificates.
    #[command(after_help = DIFF_HELP, mut_arg("paths", |a| a.help(DIFF_PATHS_HELP)))]
    Diff(diff::Diff),
    /// Dial the endpoints the repository names (or --target ones) and compare
    /// what they serve with the repository; the only command that uses the network.
    #[command(after_help = PROBE_HELP)]
    Probe(probe::Probe),
    /// Look a Hiera key up the way Puppet does, and say where each part came from.
    Lookup(lookup::Lookup),
    /// List the rules.
    Rules,
    /// Explain one rule.
    Explain {
        /// The rule id, e.g. `expired`.
        rule: String,
    },
    /// Write a commented starter `.certdrift.yaml` (settings and policy).
    Init {
        /// The directory to write it in (default: the current directory).
        dir: Option<PathBuf>,
        /// Overwrite an existing `.certdrift.yaml`.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script, e.g. `certdrift completions bash > /etc/bash_completion.d/certdrift`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): every command's options, the exit status
    /// and the environment, e.g. `certdrift man | man -l -`.
    Man,
}

/// Runs the command `cli` names.
pub(crate) fn run(cli: Cli) -> Result<ExitCode> {
    let Cli { config, command } = cli;
    // Each command reads the config file only if it uses it: a broken one
    // does not stop `init --force`, `completions` or `man`.
    let config = config.as_deref();
    match command {
        Command::Scan(c) => c.run(config),
        Command::Inventory(c) => c.run(config),
        Command::Graph(c) => c.run(config),
        Command::Diff(c) => c.run(config),
        Command::Probe(c) => c.run(config),
        Command::Lookup(c) => c.run(config),
        Command::Rules => rules::list(),
        Command::Explain { rule } => rules::explain(&rule),
        Command::Init { dir, force } => init::run(dir, force),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "certdrift", &mut out);
            print(&String::from_utf8_lossy(&out))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            print(&man::page()?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The environment variables clap reads (`env = …` above).
pub(crate) const ENV_VARS: &[&str] = &[
    "CERTDRIFT_CONFIG",
    "CERTDRIFT_FAIL_ON",
    "CERTDRIFT_FORMAT",
    "CERTDRIFT_NOW",
    "CERTDRIFT_WARN_DAYS",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    /// ENV_VARS names every variable an argument reads, and no other.
    #[test]
    fn env_vars_listed() {
        fn walk(c: &clap::Command, out: &mut std::collections::BTreeSet<String>) {
            for a in c.get_arguments() {
                if let Some(e) = a.get_env() {
                    out.insert(e.to_string_lossy().into_owned());
                }
            }
            for s in c.get_subcommands() {
                walk(s, out);
            }
        }
        let mut found = std::collections::BTreeSet::new();
        walk(&Cli::command(), &mut found);
        let listed: std::collections::BTreeSet<String> =
            ENV_VARS.iter().map(|v| v.to_string()).collect();
        assert_eq!(found, listed);
    }
}
