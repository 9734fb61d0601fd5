//! `certdrift inventory`: every certificate and where it is referenced.

use super::args::{FailOn, ScanArgs};
use super::output::{color, exit_for, print};
use super::settings::{load_config, run_scan};
use anyhow::Result;
use certdrift::finding::{self};
use certdrift::report::{self, InventoryFormat, RenderOptions};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct Inventory {
    #[command(flatten)]
    scan: ScanArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: InventoryFormat,
    /// Lowest severity that makes the exit code 1 (default: never; this is an audit).
    #[arg(long, value_enum, default_value = "never")]
    fail_on: FailOn,
}

impl Inventory {
    pub fn run(self, config: Option<&Path>) -> Result<ExitCode> {
        let Inventory {
            scan,
            format,
            fail_on,
        } = self;
        let cfg = load_config(config)?;
        let mut result = run_scan(&scan, &cfg)?;
        let allow = scan.allow_incomplete || cfg.settings.allow_incomplete == Some(true);
        let code = exit_for(&result, fail_on, allow);
        finding::cap_per_rule(&mut result.findings, finding::MAX_SHOWN_PER_RULE);
        let render = RenderOptions {
            color: color(),
            verbose: scan.verbose,
            ..RenderOptions::default()
        };
        print(&report::render_inventory(&result, format, render))?;
        Ok(code)
    }
}
