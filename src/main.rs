//! The `certdrift` command line: parse arguments, call the library, map the
//! result to an exit code (0 clean, 1 findings at or above `--fail-on`,
//! 2 usage or input error). A panic is caught and exits 2, never 0.
//!
//! Settings come, strongest first, from a flag, its `CERTDRIFT_*`
//! environment variable (clap's `env`), the config file's `settings:`
//! ([`certdrift::config`]), then the built-in default. Flags that a config
//! file can set therefore have no clap default: the default is applied here,
//! after the file.

use anyhow::{bail, Context as _, Result};
use certdrift::baseline::Baseline;
use certdrift::config::{self, Settings};
use certdrift::discover::WalkOptions;
use certdrift::extract::ExtractOptions;
use certdrift::finding::{self, Severity};
use certdrift::read::git::GitTree;
use certdrift::read::source::{DirSource, FileSource, MountSource};
use certdrift::report::{self, DiffFormat, InventoryFormat, RenderOptions, ScanFormat};
use certdrift::rules;
use certdrift::scan::{self, ScanOptions};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "certdrift",
    version,
    about = "Finds certificate and CA drift in configuration kept in git"
)]
struct Cli {
    /// The config file (default: `.certdrift.yaml` in the current directory or
    /// the nearest parent, up to the repository's top).
    #[arg(long, global = true, value_name = "FILE", env = "CERTDRIFT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files for certificate problems; exit 1 on findings at or above --fail-on.
    Scan {
        #[command(flatten)]
        scan: ScanArgs,
        /// Output format (default: the config's `format`, else text).
        #[arg(long, value_enum, env = "CERTDRIFT_FORMAT")]
        format: Option<ScanFormatArg>,
        /// Also write FORMAT to PATH (repeatable), e.g. `--output sarif=certdrift.sarif`.
        #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output::<ScanFormatArg>)]
        outputs: Vec<(ScanFormatArg, PathBuf)>,
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
    },
    /// List every certificate and where it is referenced.
    Inventory {
        #[command(flatten)]
        scan: ScanArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: InventoryFormatArg,
        /// Lowest severity that makes the exit code 1 (default: never; this is an audit).
        #[arg(long, value_enum, default_value = "never")]
        fail_on: FailOn,
    },
    /// Draw the trust graph: components, certificates, CAs and their edges.
    Graph {
        #[command(flatten)]
        scan: ScanArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormatArg,
    },
    /// Compare BASE and HEAD (two directories, or two git revisions of --repo):
    /// what the change does to every component's certificates.
    #[command(after_help = DIFF_HELP)]
    Diff {
        /// The base: a directory, or a git revision of --repo.
        base: Option<String>,
        /// The head: a directory, or a git revision of --repo.
        head: Option<String>,
        #[command(flatten)]
        scan: ScanArgs,
        /// The git repository holding BASE and HEAD.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Mount a directory (or, with --rev, a git repository) at a path prefix: NAME=PATH (repeatable).
        #[arg(long = "root", value_name = "NAME=PATH")]
        roots: Vec<String>,
        /// Read a --root at two revisions: NAME=BASE..HEAD (repeatable); other roots stay as they are.
        #[arg(long = "rev", value_name = "NAME=BASE..HEAD")]
        revs: Vec<String>,
        /// Output format (default: the config's `format`, else text).
        #[arg(long, value_enum, env = "CERTDRIFT_FORMAT")]
        format: Option<DiffFormatArg>,
        /// Also write FORMAT to PATH (repeatable), e.g. `--output sarif=certdrift.sarif`.
        #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output::<DiffFormatArg>)]
        outputs: Vec<(DiffFormatArg, PathBuf)>,
        /// Lowest severity that makes the exit code 1 (and a JUnit failure)
        /// (default: the config's `fail_on`, else error).
        #[arg(long, value_enum, env = "CERTDRIFT_FAIL_ON")]
        fail_on: Option<FailOn>,
        /// Exit 3 when there are changes but no failing findings (0 only when nothing changed).
        #[arg(long)]
        detailed_exitcode: bool,
        /// A change touching more components than this is an error.
        #[arg(long, value_name = "N")]
        max_blast_radius: Option<usize>,
        /// Show findings present on both sides too.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        suppress: SuppressArgs,
    },
    /// Dial the endpoints the repository names (or --target ones) and compare
    /// what they serve with the repository; the only command that uses the network.
    #[command(after_help = PROBE_HELP)]
    Probe {
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
        format: Option<ScanFormatArg>,
        /// Also write FORMAT to PATH (repeatable), e.g. `--output sarif=certdrift.sarif`.
        #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output::<ScanFormatArg>)]
        outputs: Vec<(ScanFormatArg, PathBuf)>,
        /// Lowest severity that makes the exit code 1 (and a JUnit failure)
        /// (default: the config's `fail_on`, else error).
        #[arg(long, value_enum, env = "CERTDRIFT_FAIL_ON")]
        fail_on: Option<FailOn>,
    },
    /// Look a Hiera key up the way Puppet does, and say where each part came from.
    Lookup {
        /// The key, e.g. `profile::kubernetes::deployment_server::general`.
        key: String,
        /// The repository root (default: the current directory).
        path: Option<PathBuf>,
        /// The hiera.yaml, relative to the root (default: the policy's `hiera.config`, else `hiera.yaml`).
        #[arg(long, value_name = "FILE")]
        hiera_config: Option<String>,
        /// Absolute datadirs (host paths) and where they live in the repository, HOST=REPO (repeatable).
        #[arg(long, value_name = "HOST=REPO")]
        map_path: Vec<String>,
        /// A fact, KEY=VALUE (dotted keys for nested facts; repeatable).
        #[arg(long, value_name = "KEY=VALUE")]
        fact: Vec<String>,
        /// Facts from a YAML or JSON file.
        #[arg(long, value_name = "FILE")]
        facts: Option<PathBuf>,
        /// Use the facts of a node named in the policy's `hiera.nodes`.
        #[arg(long)]
        node: Option<String>,
        /// Merge behaviour (default: lookup_options in the data, else first).
        #[arg(long, value_enum)]
        merge: Option<MergeArg>,
        /// Show every hierarchy level tried and where the value was set.
        #[arg(long)]
        explain: bool,
        /// Policy files (for `hiera:` settings and nodes).
        #[arg(long, value_name = "FILE")]
        policy: Vec<PathBuf>,
    },
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
    /// Print the manual page (roff), e.g. `certdrift man | man -l -`.
    Man,
}

#[derive(Args)]
struct ScanArgs {
    /// Directories or files to scan (default: the config's `roots`, else the current directory).
    paths: Vec<PathBuf>,
    /// Exclude paths matching this glob (relative to the root; repeatable; added to the config's `exclude`).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    max_file_size: u64,
    /// Evaluation time (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339", env = "CERTDRIFT_NOW")]
    now: Option<String>,
    /// Days before expiry that `expires-soon` warns (default: the config's `warn_days`, else 30).
    #[arg(long, value_name = "DAYS", env = "CERTDRIFT_WARN_DAYS")]
    warn_days: Option<i64>,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Parse every YAML document, also those the prefilter proves cannot
    /// hold a certificate fact (slower; the report is the same).
    #[arg(long)]
    no_prefilter: bool,
    /// Exit 0 even when no file was scanned.
    #[arg(long)]
    allow_empty: bool,
    /// Do not exit 2 when the scan is incomplete (a file too large to read
    /// that holds a PEM marker, an unreadable file, a reader limit, base64
    /// of PEM that does not decode); the report still says so.
    #[arg(long)]
    allow_incomplete: bool,
    /// Show `scanned N files (X MB/s)` on stderr even when it is not a
    /// terminal (otherwise shown on a terminal, outside CI, after a second).
    #[arg(long)]
    progress: bool,
    /// A host path prefix and where its files live in the repository
    /// (static pods' `hostPath` volumes), e.g. `/etc/kubernetes/pki=pki` (repeatable).
    #[arg(long, value_name = "HOST=REPO")]
    map_path: Vec<String>,
    /// A policy file to add to the built-in one (repeatable); the config
    /// file, its `policies` and a `.certdrift.yaml` at the first root are read too.
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// A fact for Hiera lookups, `key=value` (dotted keys for nested facts; repeatable; over the config's `facts`).
    #[arg(long, value_name = "KEY=VALUE")]
    fact: Vec<String>,
    /// Facts for Hiera lookups from a YAML or JSON file.
    #[arg(long, value_name = "FILE")]
    facts: Option<PathBuf>,
}

/// Baselines and suppressed findings (`scan`, `diff`).
#[derive(Args)]
struct SuppressArgs {
    /// Do not report findings listed in this baseline file (written by
    /// `scan --write-baseline`); its entries that match nothing are `stale-baseline` notes.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// List suppressed findings (policy exceptions, inline comments, baseline) with their reasons.
    #[arg(long)]
    show_suppressed: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScanFormatArg {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
    Markdown,
}

impl From<ScanFormatArg> for ScanFormat {
    fn from(f: ScanFormatArg) -> Self {
        match f {
            ScanFormatArg::Text => ScanFormat::Text,
            ScanFormatArg::Json => ScanFormat::Json,
            ScanFormatArg::Sarif => ScanFormat::Sarif,
            ScanFormatArg::Junit => ScanFormat::Junit,
            ScanFormatArg::Github => ScanFormat::Github,
            ScanFormatArg::Markdown => ScanFormat::Markdown,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum InventoryFormatArg {
    Text,
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum MergeArg {
    First,
    Unique,
    Hash,
    Deep,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormatArg {
    Text,
    Json,
    Markdown,
    Sarif,
    Junit,
    Github,
}

impl From<DiffFormatArg> for DiffFormat {
    fn from(f: DiffFormatArg) -> Self {
        match f {
            DiffFormatArg::Text => DiffFormat::Text,
            DiffFormatArg::Json => DiffFormat::Json,
            DiffFormatArg::Markdown => DiffFormat::Markdown,
            DiffFormatArg::Sarif => DiffFormat::Sarif,
            DiffFormatArg::Junit => DiffFormat::Junit,
            DiffFormatArg::Github => DiffFormat::Github,
        }
    }
}

/// `--output FORMAT=PATH`, FORMAT one of `F`'s values.
fn parse_output<F: ValueEnum>(s: &str) -> std::result::Result<(F, PathBuf), String> {
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

/// Writes each `--output` file (created or truncated; never in colour), then
/// prints `format` on stdout; JUnit failures follow `--fail-on`.
fn emit<F: Copy>(
    format: F,
    outputs: &[(F, PathBuf)],
    fail_on: FailOn,
    show_suppressed: bool,
    text_of: impl Fn(F, RenderOptions) -> String,
) -> Result<()> {
    let render = RenderOptions {
        color: color(),
        fail_on: fail_on.threshold(),
        show_suppressed,
    };
    let plain = RenderOptions {
        color: false,
        ..render
    };
    for (f, path) in outputs {
        report::file::write_atomic(path, text_of(*f, plain).as_bytes())
            .with_context(|| format!("cannot write --output {}", path.display()))?;
    }
    print(&text_of(format, render))
}

const DIFF_HELP: &str = "\
Examples:
  certdrift diff old/ new/                          two directories
  certdrift diff origin/main HEAD                   two revisions of the current repository
  certdrift diff origin/main HEAD --repo ../puppet hieradata
  certdrift diff --root operations-puppet=../puppet --rev operations-puppet=origin/main..HEAD \\
                 --root operations-deployment-charts=../deployment-charts --policy mesh.yaml
      a change in one repository, its effect on components defined by the other";

const PROBE_HELP: &str = "\
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
fn parse_connect_to(list: &[String]) -> Result<Vec<(String, String)>> {
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
enum GraphFormatArg {
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

/// The config file in force (if any) and its settings.
#[derive(Default)]
struct Config {
    /// The file; it is a policy too.
    file: Option<PathBuf>,
    /// Its `settings:`.
    settings: Settings,
}

/// `--config FILE` (or `CERTDRIFT_CONFIG`), else the `.certdrift.yaml` found
/// from the current directory up; none is no settings.
fn load_config(flag: Option<&Path>) -> Result<Config> {
    let file = match flag {
        Some(f) => f.to_path_buf(),
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            let Some(found) = config::discover(&cwd) else {
                return Ok(Config::default());
            };
            // Found, not named by the user: a pull request could point it
            // anywhere on the machine, so a link is refused, not followed.
            if found
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
            {
                bail!(
                    "{} is a symbolic link; certdrift does not follow links for the settings it finds (name the file with --config)",
                    found.display()
                );
            }
            // One in the current directory is named as written, so that its
            // relative `roots` stay relative in what certdrift prints.
            found
                .strip_prefix(&cwd)
                .map(Path::to_path_buf)
                .unwrap_or(found)
        }
    };
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read config {}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new(""));
    let confined = flag.is_none();
    let settings = config::parse(&file.display().to_string(), &text, base, confined)?;
    Ok(Config {
        file: Some(file),
        settings,
    })
}

/// A flag (or its environment variable), else the config file's setting,
/// else the built-in default. The file's value was checked against
/// [`config::FAIL_ON`] / [`config::FORMATS`] when it was read.
fn layered<F: ValueEnum>(flag: Option<F>, file: Option<&str>, default: F) -> F {
    flag.or_else(|| F::from_str(file?, false).ok())
        .unwrap_or(default)
}

fn parse_now(s: Option<&str>) -> Result<i64> {
    match s {
        None => Ok(time::OffsetDateTime::now_utc().unix_timestamp()),
        Some(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .with_context(|| {
                    format!("--now {s:?} is not an RFC 3339 time (e.g. 2026-11-01T00:00:00Z)")
                })?;
            Ok(t.unix_timestamp())
        }
    }
}

/// The built-in policy, then `.certdrift.yaml` at `root`, the config file
/// (once, when it is that same file), its `policies`, and `files`.
fn load_policy(
    root: Option<&PathBuf>,
    cfg: &Config,
    files: &[PathBuf],
) -> Result<certdrift::policy::Policy> {
    let mut policy = certdrift::policy::builtin();
    let local = root.map(|r| r.join(config::FILE_NAME));
    if let Some(l) = &local {
        // The repository's own file: a link could point anywhere.
        if l.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            bail!(
                "{} is a symbolic link; certdrift does not follow links for the policy it finds (name the file with --policy)",
                l.display()
            );
        }
    }
    let local = local.filter(|p| p.is_file());
    let same = |a: &Path, b: &Path| {
        a.canonicalize()
            .ok()
            .is_some_and(|a| b.canonicalize().ok() == Some(a))
    };
    let cfg_file = cfg
        .file
        .iter()
        .filter(|c| !local.as_ref().is_some_and(|l| same(l, c)));
    for f in local
        .iter()
        .chain(cfg_file)
        .chain(&cfg.settings.policies)
        .chain(files)
    {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read policy {}", f.display()))?;
        policy.merge(certdrift::policy::parse(&f.display().to_string(), &text)?);
    }
    Ok(policy)
}

/// `<certificate sha256:… CN=…>` for PEM values, `<private key redacted>` for
/// keys, also when they are stored base64-encoded.
fn show_secret_values(v: &certdrift::extract::hiera::Value) -> Option<String> {
    let s = v.as_str()?;
    if !certdrift::read::pem::looks_like_pem(s.as_bytes()) && !certdrift::diff::has_base64_pem(s) {
        return None;
    }
    Some(certdrift::diff::redact_text(s).trim().to_owned())
}

fn parse_map_paths(list: &[String]) -> Result<Vec<(String, String)>> {
    list.iter()
        .map(|m| {
            m.split_once('=')
                .map(|(h, r)| (h.to_owned(), r.to_owned()))
                .with_context(|| format!("--map-path {m:?} is not HOST=REPO"))
        })
        .collect()
}

/// Facts from a YAML or JSON file (`--facts`), over the config's `facts`.
fn load_facts(cfg: &Config, file: Option<&Path>) -> Result<certdrift::extract::hiera::Facts> {
    let mut facts = load_facts_file(file)?;
    for (name, value) in &cfg.settings.facts {
        if facts.get_value(name).is_none() {
            facts.set_value(name, value.clone());
        }
    }
    Ok(facts)
}

fn load_facts_file(file: Option<&Path>) -> Result<certdrift::extract::hiera::Facts> {
    let Some(file) = file else {
        return Ok(certdrift::extract::hiera::Facts::default());
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read --facts {}", file.display()))?;
    let stream = certdrift::read::yaml::parse(&text, &certdrift::read::yaml::Limits::default());
    if let Some(e) = stream.error {
        bail!(
            "{}:{}:{}: {}",
            file.display(),
            e.mark.line,
            e.mark.col,
            e.message
        );
    }
    let doc = stream.docs.first().context("--facts file is empty")?;
    let root = doc.root().context("--facts file is empty")?;
    let v = certdrift::extract::hiera::from_yaml(doc, root, &file.display().to_string())
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(certdrift::extract::hiera::Facts::from_value(&v))
}

fn parse_facts(
    mut facts: certdrift::extract::hiera::Facts,
    list: &[String],
) -> Result<certdrift::extract::hiera::Facts> {
    for f in list {
        let (k, v) = f
            .split_once('=')
            .with_context(|| format!("--fact {f:?} is not KEY=VALUE"))?;
        facts.set(k, v);
    }
    Ok(facts)
}

fn diff_sources(
    base: Option<&str>,
    head: Option<&str>,
    repo: &std::path::Path,
    roots: &[String],
    revs: &[String],
) -> Result<(Arc<dyn FileSource>, Arc<dyn FileSource>)> {
    if roots.is_empty() {
        let (Some(b), Some(h)) = (base, head) else {
            bail!("diff needs BASE and HEAD (directories or git revisions), or --root/--rev");
        };
        if !revs.is_empty() {
            bail!("--rev goes with --root NAME=PATH");
        }
        let (bp, hp) = (PathBuf::from(b), PathBuf::from(h));
        if bp.is_dir() && hp.is_dir() {
            return Ok((Arc::new(DirSource::new(bp)), Arc::new(DirSource::new(hp))));
        }
        // Both trees are listed at once: `ls-tree -l` reads every blob's size.
        let (tb, th) = std::thread::scope(|s| {
            let tb = s.spawn(|| GitTree::open(repo, b));
            let th = GitTree::open(repo, h);
            (tb.join(), th)
        });
        let tb = tb.map_err(|_| anyhow::anyhow!("internal error listing {b}"))?;
        return Ok((Arc::new(tb?), Arc::new(th?)));
    }
    if base.is_some() || head.is_some() {
        bail!("with --root, name revisions with --rev NAME=BASE..HEAD instead of BASE HEAD");
    }
    let mut rev_of = std::collections::BTreeMap::new();
    for r in revs {
        let (name, range) = r
            .split_once('=')
            .with_context(|| format!("--rev {r:?} is not NAME=BASE..HEAD"))?;
        let (b, h) = range
            .split_once("..")
            .with_context(|| format!("--rev {r:?} is not NAME=BASE..HEAD"))?;
        rev_of.insert(name.to_owned(), (b.to_owned(), h.to_owned()));
    }
    let (mut bm, mut hm) = (Vec::new(), Vec::new());
    for r in roots {
        let (name, path) = r
            .split_once('=')
            .with_context(|| format!("--root {r:?} is not NAME=PATH"))?;
        let path = PathBuf::from(path);
        match rev_of.remove(name) {
            Some((b, h)) => {
                bm.push((
                    name.to_owned(),
                    Arc::new(GitTree::open(&path, &b)?) as Arc<dyn FileSource>,
                ));
                hm.push((
                    name.to_owned(),
                    Arc::new(GitTree::open(&path, &h)?) as Arc<dyn FileSource>,
                ));
            }
            None => {
                if !path.is_dir() {
                    bail!("--root {name}: {} is not a directory", path.display());
                }
                let src: Arc<dyn FileSource> = Arc::new(DirSource::new(path));
                bm.push((name.to_owned(), src.clone()));
                hm.push((name.to_owned(), src));
            }
        }
    }
    if let Some(name) = rev_of.keys().next() {
        bail!("--rev {name}=… names no --root {name}=PATH");
    }
    Ok((
        Arc::new(MountSource { mounts: bm }),
        Arc::new(MountSource { mounts: hm }),
    ))
}

fn run_scan(a: &ScanArgs, cfg: &Config) -> Result<scan::ScanResult> {
    let opts = scan_options(a, cfg, scan_roots(a, cfg))?;
    run_scan_with(&opts, a)
}

/// The roots to scan: the command line's, else the config's, else `.`.
fn scan_roots(a: &ScanArgs, cfg: &Config) -> Vec<PathBuf> {
    if !a.paths.is_empty() {
        a.paths.clone()
    } else if !cfg.settings.roots.is_empty() {
        cfg.settings.roots.clone()
    } else {
        vec![PathBuf::from(".")]
    }
}

fn run_scan_with(opts: &ScanOptions, a: &ScanArgs) -> Result<scan::ScanResult> {
    let result = {
        let _line = ProgressLine::start(opts.progress.clone());
        scan::scan(opts)?
    };
    if result.inventory.files_scanned == 0 && !a.allow_empty {
        bail!(
            "no files were scanned under {} (use --allow-empty to accept this)",
            opts.roots
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(result)
}

/// The scan `a` and the config ask for, over `roots`.
fn scan_options(a: &ScanArgs, cfg: &Config, roots: Vec<PathBuf>) -> Result<ScanOptions> {
    let policy = load_policy(roots.first(), cfg, &a.policy)?;
    scan_options_with(a, cfg, roots, policy)
}

/// [`scan_options`] with the policy given (`diff`: BASE's).
fn scan_options_with(
    a: &ScanArgs,
    cfg: &Config,
    roots: Vec<PathBuf>,
    policy: certdrift::policy::Policy,
) -> Result<ScanOptions> {
    let s = &cfg.settings;
    let opts = ScanOptions {
        walk: WalkOptions {
            exclude: s.exclude.iter().chain(&a.exclude).cloned().collect(),
            max_file_size: a.max_file_size,
            threads: a.threads,
        },
        extract: ExtractOptions {
            prefilter: !a.no_prefilter,
            ..ExtractOptions::default()
        },
        now: parse_now(a.now.as_deref())?,
        warn_days: a.warn_days.or(s.warn_days).unwrap_or(30),
        threads: a.threads,
        // The first match wins: the command line's before the file's.
        map_paths: parse_map_paths(&a.map_path)?
            .into_iter()
            .chain(s.map_paths.iter().cloned())
            .collect(),
        policy,
        facts: parse_facts(load_facts(cfg, a.facts.as_deref())?, &a.fact)?,
        source: None,
        baseline: None,
        progress: wants_progress(a.progress).then(|| Arc::new(scan::Progress::default())),
        facts_cache: None,
        roots,
    };
    Ok(opts)
}

/// `--baseline FILE`, read and checked before anything is scanned.
fn load_baseline(path: Option<&std::path::Path>) -> Result<Option<Arc<Baseline>>> {
    Ok(match path {
        Some(p) => Some(Arc::new(Baseline::load(p)?)),
        None => None,
    })
}

/// Progress is shown when asked for, or on a terminal outside CI.
fn wants_progress(asked: bool) -> bool {
    asked
        || (std::io::stderr().is_terminal() && std::env::var_os("CI").is_none_or(|v| v.is_empty()))
}

/// `scanned N files (X MB/s)` on stderr while a scan runs, from a thread of
/// its own, after the first second (a quick scan shows nothing): redrawn in
/// place on a terminal and wiped at the end; elsewhere (`--progress` into a
/// log) a line every few seconds and a last one when the scan ends.
struct ProgressLine {
    /// Dropping it stops the thread.
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    fn start(counter: Option<Arc<scan::Progress>>) -> ProgressLine {
        let Some(counter) = counter else {
            return ProgressLine {
                stop: None,
                thread: None,
            };
        };
        let tty = std::io::stderr().is_terminal();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        // No thread (none could start) is no progress line, not an error.
        let thread = std::thread::Builder::new().spawn(move || {
            let started = std::time::Instant::now();
            let every = Duration::from_millis(if tty { 200 } else { 5000 });
            let mut wait = Duration::from_secs(1);
            let mut width = 0;
            // Writes to stderr may fail (closed); progress is not worth an error.
            let mut err = std::io::stderr();
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                let line = progress_text(&counter, started.elapsed());
                if tty {
                    let _ = write!(err, "\r{line:<width$}");
                    width = line.len();
                } else {
                    let _ = writeln!(err, "{line}");
                }
                let _ = err.flush();
                wait = every;
            }
            if tty {
                if width > 0 {
                    let _ = write!(err, "\r{:width$}\r", "");
                }
            } else {
                let _ = writeln!(err, "{}", progress_text(&counter, started.elapsed()));
            }
            let _ = err.flush();
        });
        ProgressLine {
            stop: Some(stop),
            thread: thread.ok(),
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn progress_text(p: &scan::Progress, elapsed: Duration) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let mb = p.bytes.load(Relaxed) as f64 / 1e6;
    format!(
        "scanned {} files ({:.1} MB/s)",
        p.files.load(Relaxed),
        mb / elapsed.as_secs_f64().max(1e-3)
    )
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn exit_for(result: &scan::ScanResult, fail_on: FailOn, allow_incomplete: bool) -> ExitCode {
    if let Some(code) = incomplete_exit(&result.inventory, allow_incomplete) {
        return code;
    }
    let failing = fail_on
        .threshold()
        .is_some_and(|t| result.findings.iter().any(|f| f.severity >= t));
    if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Fail closed: a scan that could not judge something that may hold TLS
/// material exits 2, naming each file and cause on stderr, unless the user
/// accepted it (`--allow-incomplete` or `allow_incomplete: true`).
fn incomplete_exit(inv: &certdrift::inventory::Inventory, allow: bool) -> Option<ExitCode> {
    if inv.complete || allow {
        return None;
    }
    const SHOWN: usize = 20;
    let mut msg = String::from(
        "certdrift: the scan is incomplete, so it cannot pass (--allow-incomplete accepts this):\n",
    );
    for (path, cause) in inv.gaps.iter().take(SHOWN) {
        let line = format!("  {path}: {cause}");
        msg.push_str(&report::escape::text(&line));
        msg.push('\n');
    }
    if inv.gaps.len() > SHOWN {
        msg.push_str(&format!("  … and {} more\n", inv.gaps.len() - SHOWN));
    }
    if inv.gaps.is_empty() {
        msg.push_str("  a document that may hold a Service was cut short\n");
    }
    eprint!("{msg}");
    Some(ExitCode::from(2))
}

/// Whether certdrift was started with standard output closed (`>&-`): a
/// gate whose report goes nowhere must not pass. Rust's runtime reopens a
/// closed standard descriptor on `/dev/null` for reading and writing before
/// `main`, which a shell's `>/dev/null` (write-only) never does; Linux's
/// `/proc/self/fdinfo` tells the two apart. Elsewhere: not detected.
fn stdout_was_closed() -> bool {
    let target = std::fs::read_link("/proc/self/fd/1");
    if !target.is_ok_and(|t| t == Path::new("/dev/null")) {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/self/fdinfo/1") else {
        return false;
    };
    const O_ACCMODE: u32 = 0o3;
    const O_RDWR: u32 = 0o2;
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|flags| flags & O_ACCMODE == O_RDWR)
}

fn print(s: &str) -> Result<()> {
    if stdout_was_closed() {
        anyhow::bail!("cannot write output: standard output is closed");
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`certdrift … | head`) is not a failure of the scan.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write output"),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let Cli { config, command } = cli;
    // Read only by the commands that use it: a broken config file does not
    // stop `init --force`, `completions` or `man`.
    let load = || load_config(config.as_deref());
    match command {
        Command::Scan {
            scan,
            format,
            outputs,
            fail_on,
            suppress,
            write_baseline,
        } => {
            let cfg = load()?;
            let s = &cfg.settings;
            let format = layered(format, s.format.as_deref(), ScanFormatArg::Text);
            let fail_on = layered(fail_on, s.fail_on.as_deref(), FailOn::Error);
            let mut opts = scan_options(&scan, &cfg, scan_roots(&scan, &cfg))?;
            opts.baseline = load_baseline(suppress.baseline.as_deref())?;
            let mut result = run_scan_with(&opts, &scan)?;
            if let Some(path) = &write_baseline {
                let text = certdrift::baseline::render(&result.findings);
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
                |f: ScanFormatArg, opts| report::render_scan(&result, f.into(), opts),
            )?;
            // The process ends here: freeing the model would only cost time.
            std::mem::forget(result);
            Ok(code)
        }
        Command::Inventory {
            scan,
            format,
            fail_on,
        } => {
            let cfg = load()?;
            let mut result = run_scan(&scan, &cfg)?;
            let allow = scan.allow_incomplete || cfg.settings.allow_incomplete == Some(true);
            let code = exit_for(&result, fail_on, allow);
            finding::cap_per_rule(&mut result.findings, finding::MAX_SHOWN_PER_RULE);
            let format = match format {
                InventoryFormatArg::Text => InventoryFormat::Text,
                InventoryFormatArg::Json => InventoryFormat::Json,
                InventoryFormatArg::Csv => InventoryFormat::Csv,
            };
            let render = RenderOptions {
                color: color(),
                ..RenderOptions::default()
            };
            print(&report::render_inventory(&result, format, render))?;
            Ok(code)
        }
        Command::Graph { scan, format } => {
            let result = run_scan(&scan, &load()?)?;
            let format = match format {
                GraphFormatArg::Dot => report::GraphFormat::Dot,
                GraphFormatArg::Mermaid => report::GraphFormat::Mermaid,
            };
            print(&report::render_graph(&result, format))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            base,
            head,
            scan,
            repo,
            roots,
            revs,
            format,
            outputs,
            fail_on,
            detailed_exitcode,
            max_blast_radius,
            all,
            suppress,
        } => {
            let (base_src, head_src) =
                diff_sources(base.as_deref(), head.as_deref(), &repo, &roots, &revs)?;
            // The gate's configuration is BASE's (or the one the job names),
            // never the change's: HEAD's is compared and reported.
            let base_label = base.as_deref().unwrap_or("BASE");
            let head_label = head.as_deref().unwrap_or("HEAD");
            let base_gate = certdrift::gate::read(&*base_src, base_label)?;
            let head_gate = certdrift::gate::read(&*head_src, head_label).unwrap_or_default();
            let (cfg, gate_policy) = if config.is_some() {
                let cfg = load()?;
                let policy = load_policy(None, &cfg, &scan.policy)?;
                (cfg, policy)
            } else {
                let mut policy = certdrift::gate::policy(&base_gate, base_label)?;
                for f in &scan.policy {
                    let text = std::fs::read_to_string(f)
                        .with_context(|| format!("cannot read policy {}", f.display()))?;
                    policy.merge(certdrift::policy::parse(&f.display().to_string(), &text)?);
                }
                let cfg = Config {
                    file: None,
                    settings: base_gate.settings.clone(),
                };
                (cfg, policy)
            };
            let s = &cfg.settings;
            let format = layered(format, s.format.as_deref(), DiffFormatArg::Text);
            let fail_on = layered(fail_on, s.fail_on.as_deref(), FailOn::Error);
            // PATHS name prefixes inside both sides; the config's `roots`
            // (directories of this checkout) do not apply.
            let paths = if scan.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                scan.paths.clone()
            };
            let gate_severity = match gate_policy.severities.get(rules::GATE_CHANGE.id) {
                Some(s) => *s,
                None => Some(rules::GATE_CHANGE.severity),
            };
            let mut opts = scan_options_with(&scan, &cfg, paths, gate_policy)?;
            opts.baseline = load_baseline(suppress.baseline.as_deref())?;
            // Policies and the Hiera engine read paths inside the sides.
            if opts.roots == [PathBuf::from(".")] {
                opts.roots.clear();
            }
            let mut d = {
                let _line = ProgressLine::start(opts.progress.clone());
                certdrift::diff::run(
                    base_src,
                    head_src,
                    &opts,
                    &certdrift::diff::DiffOptions {
                        max_blast_radius,
                        all,
                    },
                )?
            };
            if let Some(f) =
                certdrift::gate::change(&base_gate, &head_gate, head_label, gate_severity)
            {
                d.findings.push(f);
                certdrift::finding::sort_findings(&mut d.findings);
            }
            // Bounded report; each rule's summary keeps its worst severity,
            // so the gate decides the same.
            finding::cap_per_rule(&mut d.findings, finding::MAX_SHOWN_PER_RULE);
            emit(
                format,
                &outputs,
                fail_on,
                suppress.show_suppressed,
                |f: DiffFormatArg, opts| report::render_diff(&d, f.into(), opts),
            )?;
            let allow = scan.allow_incomplete || cfg.settings.allow_incomplete == Some(true);
            if let Some(code) = incomplete_exit(&d.head.inventory, allow) {
                std::mem::forget(d);
                return Ok(code);
            }
            let failing = fail_on
                .threshold()
                .is_some_and(|t| d.findings.iter().any(|f| f.severity >= t));
            let quiet = d.changes.is_empty() && d.findings.is_empty();
            // The process ends here: freeing both models would only cost time.
            std::mem::forget(d);
            Ok(match (failing, detailed_exitcode, quiet) {
                (true, _, _) => ExitCode::from(1),
                (false, true, false) => ExitCode::from(3),
                _ => ExitCode::SUCCESS,
            })
        }
        Command::Probe {
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
        } => {
            use certdrift::probe;
            let cfg = load()?;
            let s = &cfg.settings;
            let format = layered(format, s.format.as_deref(), ScanFormatArg::Text);
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
                },
                &opts.policy,
            );
            emit(format, &outputs, fail_on, false, |f: ScanFormatArg, o| {
                report::render_probe(&p, f.into(), o)
            })?;
            let allow = scan.allow_incomplete || cfg.settings.allow_incomplete == Some(true);
            Ok(exit_for(&p.scan, fail_on, allow))
        }
        Command::Lookup {
            key,
            path,
            hiera_config,
            map_path,
            fact,
            facts,
            node,
            merge,
            explain,
            policy,
        } => {
            use certdrift::extract::hiera::{Hiera, HieraOptions, Merge};
            let cfg = load()?;
            let root = path.unwrap_or_else(|| PathBuf::from("."));
            let pol = load_policy(Some(&root), &cfg, &policy)?;
            let config = hiera_config
                .or_else(|| pol.hiera.config.clone())
                .unwrap_or_else(|| "hiera.yaml".to_owned());
            let mut all_facts = load_facts(&cfg, facts.as_deref())?;
            if let Some(n) = &node {
                let list = pol.hiera.nodes.get(n).with_context(|| {
                    format!("--node {n}: no such node in the policy's hiera.nodes")
                })?;
                for (k, v) in list {
                    all_facts.set(k, v);
                }
            }
            let all_facts = parse_facts(all_facts, &fact)?;
            let options = HieraOptions {
                map_paths: pol
                    .hiera
                    .map_paths
                    .iter()
                    .cloned()
                    .chain(parse_map_paths(&map_path)?)
                    .chain(cfg.settings.map_paths.iter().cloned())
                    .collect(),
                ..HieraOptions::default()
            };
            let h = Hiera::load(Arc::new(DirSource::new(root)), &config, options)?;
            let merge = merge.map(|m| match m {
                MergeArg::First => Merge::First,
                MergeArg::Unique => Merge::Unique,
                MergeArg::Hash => Merge::Hash,
                MergeArg::Deep => Merge::Deep,
            });
            let l = h.lookup(&key, &all_facts, merge);
            print(&certdrift::report::lookup::render_lookup(
                &key,
                &l,
                explain,
                &show_secret_values,
            ))?;
            Ok(if l.value.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Rules => {
            let mut s = String::new();
            for r in rules::RULES {
                s.push_str(&format!("{:<20} {:<8} {}\n", r.id, r.severity, r.summary));
            }
            print(&s)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { rule } => match rules::find(&rule) {
            Some(r) => {
                print(&format!(
                    "{} ({})\n\n{}",
                    r.id,
                    r.severity,
                    rules::explain(r)
                ))?;
                Ok(ExitCode::SUCCESS)
            }
            None => bail!("no rule {rule:?}; `certdrift rules` lists them"),
        },
        Command::Init { dir, force } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            if !dir.is_dir() {
                bail!("{} is not a directory", dir.display());
            }
            let file = dir.join(config::FILE_NAME);
            // create_new: no window between a check and the write.
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .create_new(!force)
                .open(&file)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        anyhow::anyhow!("{} exists; --force overwrites it", file.display())
                    }
                    _ => anyhow::Error::new(e).context(format!("cannot write {}", file.display())),
                })?;
            out.write_all(config::STARTER.as_bytes())
                .with_context(|| format!("cannot write {}", file.display()))?;
            print(&format!("wrote {}\n", file.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "certdrift", &mut out);
            print(&String::from_utf8_lossy(&out))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            print(&String::from_utf8_lossy(&out))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The environment variables clap reads (`env = …` above).
const ENV_VARS: &[&str] = &[
    "CERTDRIFT_CONFIG",
    "CERTDRIFT_FAIL_ON",
    "CERTDRIFT_FORMAT",
    "CERTDRIFT_NOW",
    "CERTDRIFT_WARN_DAYS",
];

fn main() -> ExitCode {
    // An empty variable counts as unset (as NO_COLOR's does): CI systems set
    // `CERTDRIFT_FAIL_ON: ${{ inputs.fail-on }}` to "" when no input is
    // given, and clap would take "" as a value. Still one thread here.
    for v in ENV_VARS {
        if std::env::var_os(v).is_some_and(|x| x.is_empty()) {
            std::env::remove_var(v);
        }
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    certdrift::read::yaml::quiet_parser_panics();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("certdrift: error: {e:#}");
            ExitCode::from(2)
        }
        Err(_) => {
            eprintln!(
                "certdrift: internal error (a bug): the scan did not finish; please report it"
            );
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value the config file accepts means the same on the command line.
    #[test]
    fn config_values_are_flag_values() {
        for v in config::FAIL_ON {
            assert!(FailOn::from_str(v, false).is_ok(), "{v}");
        }
        for v in config::FORMATS {
            assert!(ScanFormatArg::from_str(v, false).is_ok(), "{v}");
            assert!(DiffFormatArg::from_str(v, false).is_ok(), "{v}");
        }
    }

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

    #[test]
    fn progress_rate() {
        let p = scan::Progress::default();
        p.files.store(12, std::sync::atomic::Ordering::Relaxed);
        p.bytes
            .store(5_000_000, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            progress_text(&p, Duration::from_secs(2)),
            "scanned 12 files (2.5 MB/s)"
        );
    }
}
