//! `certdrift graph`: the trust graph in DOT or Mermaid.

use super::args::ScanArgs;
use super::output::print;
use super::settings::{load_config, run_scan};
use anyhow::Result;
use certdrift::report::GraphFormat;
use certdrift::report::{self};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct Graph {
    #[command(flatten)]
    scan: ScanArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    format: GraphFormat,
}

impl Graph {
    pub fn run(self, config: Option<&Path>) -> Result<ExitCode> {
        let Graph { scan, format } = self;
        let result = run_scan(&scan, &load_config(config)?)?;
        print(&report::render_graph(&result, format))?;
        Ok(ExitCode::SUCCESS)
    }
}
