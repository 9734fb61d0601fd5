//! `certdrift probe`: the endpoints the user names (or, when asked, the
//! repository's) against the repository.

use super::args::{parse_connect_to, parse_output, FailOn, ScanArgs};
use super::output::{emit, exit_for};
use super::settings::{layered, load_config, run_scan_with, scan_options, scan_roots};
use anyhow::{bail, Context as _, Result};
use certdrift::report::ScanFormat;
use certdrift::report::{self};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct Probe {
    #[command(flatten)]
    scan: ScanArgs,
    /// Probe this endpoint instead of the repository's addresses:
    /// COMPONENT=HOST:PORT, COMPONENT as `certdrift inventory` names it (repeatable).
    #[arg(long, value_name = "COMPONENT=HOST:PORT")]
    target: Vec<String>,
    /// Endpoints from FILE: one COMPONENT=HOST:PORT per line; blank lines and `#` comments ignored.
    #[arg(long, value_name = "FILE")]
    targets: Option<PathBuf>,
    /// Dial the addresses the repository names (URLs in trusting flags,
    /// webhook services, kubeconfig servers, policy `reached_as`). Without
    /// it only --target/--targets are dialled: the scanned files may come
    /// from a change nobody has reviewed yet.
    #[arg(long)]
    inventory_targets: bool,
    /// Dial ADDR:PORT for the target at HOST:PORT; SNI and name checks keep HOST (repeatable).
    #[arg(long, value_name = "HOST:PORT=ADDR:PORT")]
    connect_to: Vec<String>,
    /// Seconds each target may take to resolve, connect and finish the TLS handshake.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    timeout: f64,
    /// Targets probed at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
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
}

impl Probe {
    pub fn run(self, config: Option<&Path>) -> Result<ExitCode> {
        let Probe {
            scan,
            target,
            targets,
            inventory_targets,
            connect_to,
            timeout,
            jobs,
            format,
            outputs,
            fail_on,
        } = self;
        use certdrift::probe;
        let cfg = load_config(config)?;
        let s = &cfg.settings;
        let format = layered(format, s.format.as_deref(), ScanFormat::Text);
        let fail_on = layered(fail_on, s.fail_on.as_deref(), FailOn::Error);
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 3600.0) {
            bail!("--timeout {timeout} is not a number of seconds between 0 and 3600");
        }
        let connect_to = parse_connect_to(&connect_to)?;
        let mut given = Vec::new();
        for (i, spec) in target.iter().enumerate() {
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let origin =
                certdrift::finding::Location::new(usize::MAX, probe::COMMAND_LINE, line, 1);
            given.push(
                probe::parse_target(spec, origin, "--target")
                    .map_err(|e| anyhow::anyhow!("--target {e}"))?,
            );
        }
        if let Some(f) = &targets {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read --targets {}", f.display()))?;
            given.extend(probe::parse_targets_file(&f.display().to_string(), &text)?);
        }
        let opts = scan_options(&scan, &cfg, scan_roots(&scan, &cfg))?;
        let result = run_scan_with(&opts, &scan)?;
        // Only what the user named is dialled: a pull request must not
        // be able to point the runner at an address of its choosing.
        let mut list = if inventory_targets {
            probe::inventory_targets(&result.inventory)
        } else {
            Vec::new()
        };
        list.extend(given);
        probe::sort_targets(&mut list);
        if list.is_empty() && !inventory_targets {
            bail!(
                "nothing to probe: name endpoints with --target COMPONENT=HOST:PORT or --targets FILE, or pass --inventory-targets to dial the addresses the scanned files name (never dialled unless asked: they may come from an unreviewed change)"
            );
        }
        if list.is_empty() {
            bail!(
                "nothing to probe: the scanned files give no address (a URL in a flag such as --etcd-servers, a webhook clientConfig, a kubeconfig server); name endpoints with --target COMPONENT=HOST:PORT or --targets FILE"
            );
        }
        let p = probe::run(
            result,
            list,
            &probe::ProbeOptions {
                timeout: Duration::from_secs_f64(timeout),
                jobs: usize::from(jobs),
                connect_to,
                now: opts.now,
                clock: opts.clock,
            },
            &opts.policy,
        );
        emit(
            format,
            &outputs,
            fail_on,
            false,
            scan.verbose,
            |f: ScanFormat, o| report::render_probe(&p, f, o),
        )?;
        let allow = scan.allow_incomplete || cfg.settings.allow_incomplete == Some(true);
        Ok(exit_for(&p.scan, fail_on, allow))
    }
}
