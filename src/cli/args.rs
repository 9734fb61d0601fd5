//! The arguments several subcommands share: what to scan, how to suppress,
//! formats, `--fail-on`.

use anyhow::{Context as _, Result};
use certdrift::finding::Severity;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct ScanArgs {
    /// Directories or files to scan (default: the config's `roots`, else the current directory).
    pub(crate) paths: Vec<PathBuf>,
    /// Exclude paths matching this glob (relative to the root, a leading `./` ignored: `./vendor/**` is `vendor/**`; repeatable; added to the config's `exclude`).
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    pub(crate) max_file_size: u64,
    /// Evaluation time (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339", env = "CERTDRIFT_NOW")]
    pub(crate) now: Option<String>,
    /// Days before expiry that `expires-soon` warns (default: the config's `warn_days`, else 30).
    #[arg(long, value_name = "DAYS", env = "CERTDRIFT_WARN_DAYS")]
    pub(crate) warn_days: Option<i64>,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
    /// Parse every YAML document, also those the prefilter proves cannot
    /// hold a certificate fact (slower; the report is the same).
    #[arg(long)]
    pub(crate) no_prefilter: bool,
    /// List every skipped file in text output, also those that cannot hold
    /// TLS material (binaries, large files without a PEM marker), which are
    /// otherwise only counted.
    #[arg(long)]
    pub(crate) verbose: bool,
    /// Exit 0 even when no file was scanned.
    #[arg(long)]
    pub(crate) allow_empty: bool,
    /// Do not exit 2 when the scan is incomplete (a file too large to read
    /// that holds a PEM marker, an unreadable file, a reader limit, base64
    /// of PEM that does not decode); the report still says so.
    #[arg(long)]
    pub(crate) allow_incomplete: bool,
    /// Show `scanned N files (X MB/s)` on stderr even when it is not a
    /// terminal (otherwise shown on a terminal, outside CI, after a second).
    #[arg(long)]
    pub(crate) progress: bool,
    /// A host path prefix and where its files live in the repository
    /// (static pods' `hostPath` volumes), e.g. `/etc/kubernetes/pki=pki` (repeatable).
    #[arg(long, value_name = "HOST=REPO")]
    pub(crate) map_path: Vec<String>,
    /// A policy file to add to the built-in one (repeatable); the config
    /// file, its `policies` and a `.certdrift.yaml` at the first root are read too.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Vec<PathBuf>,
    /// A fact for Hiera lookups, `key=value` (dotted keys for nested facts; repeatable; over the config's `facts`).
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) fact: Vec<String>,
    /// Facts for Hiera lookups from a YAML or JSON file.
    #[arg(long, value_name = "FILE")]
    pub(crate) facts: Option<PathBuf>,
}

/// Baselines and suppressed findings (`scan`, `diff`).
#[derive(Args)]
pub(crate) struct SuppressArgs {
    /// Do not report findings listed in this baseline file (written by
    /// `scan --write-baseline`); its entries that match nothing are `stale-baseline` notes.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// List suppressed findings (policy exceptions, inline comments, baseline) with their reasons.
    #[arg(long)]
    pub(crate) show_suppressed: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum MergeArg {
    First,
    Unique,
    Hash,
    Deep,
}

/// `--output FORMAT=PATH`, FORMAT one of `F`'s values.
pub(crate) fn parse_output<F: ValueEnum>(s: &str) -> std::result::Result<(F, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .filter(|(_, p)| !p.is_empty())
        .ok_or_else(|| format!("{s:?} is not FORMAT=PATH"))?;
    let known = || {
        F::value_variants()
            .iter()
            .filter_map(|v| Some(v.to_possible_value()?.get_name().to_owned()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let format = F::from_str(format, false)
        .map_err(|_| format!("unknown format {format:?} (one of: {})", known()))?;
    Ok((format, PathBuf::from(path)))
}

/// `diff`'s PATHS: the help of [`ScanArgs::paths`] is about scan roots.
pub(crate) const DIFF_PATHS_HELP: &str =
    "Path prefixes inside both BASE and HEAD to compare (default: all of both sides)";

pub(crate) const DIFF_HELP: &str = "\
Examples:
  certdrift diff old/ new/                          two directories
  certdrift diff origin/main HEAD                   two revisions of the current repository
  certdrift diff origin/main HEAD --repo ../puppet hieradata
  certdrift diff --root operations-puppet=../puppet --rev operations-puppet=origin/main..HEAD \\
                 --root operations-deployment-charts=../deployment-charts --policy mesh.yaml
      a change in one repository, its effect on components defined by the other";

pub(crate) const PROBE_HELP: &str = "\
Targets: --target/--targets; with --inventory-targets also every address the
repository gives: URLs in trusting flags (--etcd-servers), advertised URLs
(--advertise-client-urls), webhook clientConfig url/service, kubeconfig server, policy
reached_as names with a port. Never without asking: the files may be an unreviewed change.

Examples:
  certdrift probe rendered/prod --inventory-targets the repository's addresses
  certdrift probe . --target kube-system/etcd=10.64.0.5:2379
  certdrift probe . --inventory-targets --connect-to etcd.example.org:2379=127.0.0.1:12379
      probe the repository's etcd address on a tunnel; SNI and names stay etcd.example.org";

/// `--connect-to HOST:PORT=ADDR:PORT`, both sides normalised to `host:port`.
pub(crate) fn parse_connect_to(list: &[String]) -> Result<Vec<(String, String)>> {
    use certdrift::inventory::graph::{join_host_port, split_host_port};
    list.iter()
        .map(|c| {
            let side = |s: &str| match split_host_port(s.trim()) {
                (h, Some(p)) if !h.is_empty() => Some(join_host_port(&h.to_ascii_lowercase(), p)),
                _ => None,
            };
            c.split_once('=')
                .and_then(|(a, b)| Some((side(a)?, side(b)?)))
                .with_context(|| format!("--connect-to {c:?} is not HOST:PORT=ADDR:PORT"))
        })
        .collect()
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    pub(crate) fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certdrift::config;
    use certdrift::report::{DiffFormat, ScanFormat};

    /// Every value the config file accepts means the same on the command line.
    #[test]
    fn config_values_are_flag_values() {
        for v in config::FAIL_ON {
            assert!(FailOn::from_str(v, false).is_ok(), "{v}");
        }
        for v in config::FORMATS {
            assert!(ScanFormat::from_str(v, false).is_ok(), "{v}");
            assert!(DiffFormat::from_str(v, false).is_ok(), "{v}");
        }
    }
}
