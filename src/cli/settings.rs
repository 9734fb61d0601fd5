//! Settings layered, strongest first: a flag, its `CERTDRIFT_*` variable
//! (clap's `env`), the config file's `settings:` ([`certdrift::config`]),
//! the built-in default; the policy, facts and baseline they name; the
//! scan options they make.

use super::args::ScanArgs;
use super::progress::{wants_progress, ProgressLine};
use anyhow::{bail, Context as _, Result};
use certdrift::config::{self, Settings};
use certdrift::discover::{self, WalkOptions};
use certdrift::extract::ExtractOptions;
use certdrift::rules;
use certdrift::scan::{self, ScanOptions};
use certdrift::suppress::baseline::Baseline;
use clap::ValueEnum;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The config file in force (if any) and its settings.
#[derive(Default)]
pub(crate) struct Config {
    /// The file; it is a policy too.
    pub(crate) file: Option<PathBuf>,
    /// Its `settings:`.
    pub(crate) settings: Settings,
}

/// `--config FILE` (or `CERTDRIFT_CONFIG`), else the `.certdrift.yaml` found
/// from the current directory up; none is no settings.
pub(crate) fn load_config(flag: Option<&Path>) -> Result<Config> {
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
pub(crate) fn layered<F: ValueEnum>(flag: Option<F>, file: Option<&str>, default: F) -> F {
    flag.or_else(|| F::from_str(file?, false).ok())
        .unwrap_or(default)
}

pub(crate) fn parse_now(s: Option<&str>) -> Result<i64> {
    match s {
        None => Ok(time::OffsetDateTime::now_utc().unix_timestamp()),
        Some(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .with_context(|| {
                    format!(
                        "{} {s:?} is not an RFC 3339 time (e.g. 2026-11-01T00:00:00Z)",
                        now_origin(std::env::args_os().skip(1))
                    )
                })?;
            Ok(t.unix_timestamp())
        }
    }
}

/// Where a `--now` value came from, for its error: the flag, else (clap
/// read it from the environment) `CERTDRIFT_NOW`. The derive API keeps no
/// value source, so the command line is looked at: clap takes the variable
/// only when the flag is absent.
fn now_origin(args: impl Iterator<Item = std::ffi::OsString>) -> &'static str {
    let args = args.map(|a| a.to_string_lossy().into_owned());
    // Everything after `--` is a path, not a flag.
    if args
        .take_while(|a| a != "--")
        .any(|a| a == "--now" || a.starts_with("--now="))
    {
        "--now"
    } else {
        "CERTDRIFT_NOW"
    }
}

/// The built-in policy, then `.certdrift.yaml` at `root`, the config file
/// (once, when it is that same file), its `policies`, and `files`.
pub(crate) fn load_policy(
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
    policy.validate(&rule_ids())?;
    Ok(policy)
}

/// Every rule id, for [`certdrift::policy::Policy::validate`] and its
/// suggestions.
pub(crate) fn rule_ids() -> Vec<&'static str> {
    rules::RULES.iter().map(|r| r.id).collect()
}

/// `<certificate sha256:… CN=…>` for PEM values, `<private key redacted>` for
/// keys, also when they are stored base64-encoded.
pub(crate) fn show_secret_values(v: &certdrift::extract::hiera::Value) -> Option<String> {
    let s = v.as_str()?;
    if !certdrift::read::pem::looks_like_pem(s.as_bytes()) && !certdrift::diff::has_base64_pem(s) {
        return None;
    }
    Some(certdrift::diff::redact_text(s).trim().to_owned())
}

pub(crate) fn parse_map_paths(list: &[String]) -> Result<Vec<(String, String)>> {
    list.iter()
        .map(|m| {
            m.split_once('=')
                .map(|(h, r)| (h.to_owned(), r.to_owned()))
                .with_context(|| format!("--map-path {m:?} is not HOST=REPO"))
        })
        .collect()
}

/// Facts from a YAML or JSON file (`--facts`), over the config's `facts`.
pub(crate) fn load_facts(
    cfg: &Config,
    file: Option<&Path>,
) -> Result<certdrift::extract::hiera::Facts> {
    let mut facts = load_facts_file(file)?;
    for (name, value) in &cfg.settings.facts {
        if facts.given(name).is_none() {
            facts.set_value(name, value.clone());
        }
    }
    Ok(facts)
}

pub(crate) fn load_facts_file(file: Option<&Path>) -> Result<certdrift::extract::hiera::Facts> {
    let Some(file) = file else {
        return Ok(certdrift::extract::hiera::Facts::default());
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read --facts {}", file.display()))?;
    certdrift::extract::hiera::Facts::parse_file(&file.display().to_string(), &text)
        .map_err(|e| anyhow::anyhow!(e))?
        .context("--facts file is empty")
}

pub(crate) fn parse_facts(
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

pub(crate) fn run_scan(a: &ScanArgs, cfg: &Config) -> Result<scan::ScanResult> {
    let opts = scan_options(a, cfg, scan_roots(a, cfg))?;
    run_scan_with(&opts, a)
}

/// The roots to scan: the command line's, else the config's, else `.`.
pub(crate) fn scan_roots(a: &ScanArgs, cfg: &Config) -> Vec<PathBuf> {
    if !a.paths.is_empty() {
        a.paths.clone()
    } else if !cfg.settings.roots.is_empty() {
        cfg.settings.roots.clone()
    } else {
        vec![PathBuf::from(".")]
    }
}

pub(crate) fn run_scan_with(opts: &ScanOptions, a: &ScanArgs) -> Result<scan::ScanResult> {
    let result = {
        let _line = ProgressLine::start(opts.progress.clone());
        scan::scan(opts)?
    };
    if result.inventory.files_scanned == 0 && !a.allow_empty {
        // Say why when the size limit is the reason: a --max-file-size too
        // small for anything otherwise looks like an empty tree.
        let too_large = result
            .inventory
            .skipped
            .iter()
            .filter(|s| s.reason.starts_with(discover::TOO_LARGE))
            .count();
        let why = match too_large {
            0 => String::new(),
            n => format!(
                "; {n} file{} skipped as larger than --max-file-size {}",
                if n == 1 { " was" } else { "s were" },
                a.max_file_size
            ),
        };
        bail!(
            "no files were scanned under {}{why} (use --allow-empty to accept this)",
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
pub(crate) fn scan_options(a: &ScanArgs, cfg: &Config, roots: Vec<PathBuf>) -> Result<ScanOptions> {
    let policy = load_policy(roots.first(), cfg, &a.policy)?;
    scan_options_with(a, cfg, roots, policy)
}

/// [`scan_options`] with the policy given (`diff`: BASE's).
pub(crate) fn scan_options_with(
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
        clock: a.now.is_none(),
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
pub(crate) fn load_baseline(path: Option<&std::path::Path>) -> Result<Option<Arc<Baseline>>> {
    Ok(match path {
        Some(p) => Some(Arc::new(Baseline::load(p)?)),
        None => None,
    })
}
