//! `certdrift scan`: findings over the scanned files, in one or more formats;
//! `--write-baseline` writes what it found as a baseline first.

use super::args::{parse_output, FailOn, ScanArgs, SuppressArgs};
use super::output::{emit, exit_for};
use super::settings::{
    layered, load_baseline, load_config, run_scan_with, scan_options, scan_roots,
};
use anyhow::{Context as _, Result};
use certdrift::finding::{self};
use certdrift::report::ScanFormat;
use certdrift::report::{self};
use certdrift::suppress::baseline::Baseline;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct Scan {
    #[command(flatten)]
    scan: ScanArgs,
    /// Output format (default: the config's `format`, else text).
    #[arg(long, value_enum, env = "CERTDRIFT_FORMAT")]
    format: Option<ScanFormat>,
    /// Also write FORMAT to PATH (repeatable), e.g. `--output sarif=certdrift.sarif`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output::<ScanFormat>)]
    outputs: Vec<(ScanFormat, PathBuf)>,
    /// Lowest severity that makes the exit code 1 (and a JUnit failure)
    /// (default: the config's `fail_on`, else error).
    #[arg(long, value_enum, env = "CERTDRIFT_FAIL_ON")]
    fail_on: Option<FailOn>,
    #[command(flatten)]
    suppress: SuppressArgs,
    /// Write the findings to FILE as a baseline (keyed without line
    /// numbers), then report as if it were given with --baseline.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
}

impl Scan {
    pub fn run(self, config: Option<&Path>) -> Result<ExitCode> {
        let Scan {
            scan,
            format,
            outputs,
            fail_on,
            suppress,
            write_baseline,
        } = self;
        let cfg = load_config(config)?;
        let s = &cfg.settings;
        let format = layered(format, s.format.as_deref(), ScanFormat::Text);
        let fail_on = layered(fail_on, s.fail_on.as_deref(), FailOn::Error);
        let mut opts = scan_options(&scan, &cfg, scan_roots(&scan, &cfg))?;
        opts.baseline = load_baseline(suppress.baseline.as_deref())?;
        let mut result = run_scan_with(&opts, &scan)?;
        if let Some(path) = &write_baseline {
            let text = certdrift::suppress::baseline::render(&result.findings);
            // Checked before it is written: a baseline certdrift writes
            // is one it can read back (at most 2,000,000 YAML nodes,
            // about 250,000 entries, in 64 MiB).
            let written = Baseline::parse(&path.display().to_string(), &text)?;
            report::file::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write --write-baseline {}", path.display()))?;
            result.apply_baseline(&written, &opts.policy);
        }
        // The exit code counts every finding; the report shows a
        // bounded number of each rule's.
        let allow = scan.allow_incomplete || cfg.settings.allow_incomplete == Some(true);
        let code = exit_for(&result, fail_on, allow);
        finding::cap_per_rule(&mut result.findings, finding::MAX_SHOWN_PER_RULE);
        emit(
            format,
            &outputs,
            fail_on,
            suppress.show_suppressed,
            scan.verbose,
            |f: ScanFormat, opts| report::render_scan(&result, f, opts),
        )?;
        // The process ends here: freeing the model would only cost time.
        std::mem::forget(result);
        Ok(code)
    }
}
