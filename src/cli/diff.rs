//! `certdrift diff`: BASE and HEAD (directories, git revisions, or mounted
//! roots) through the same pipeline, with BASE's gate configuration.

use super::args::{parse_output, FailOn, ScanArgs, SuppressArgs};
use super::output::{emit, incomplete_exit};
use super::progress::ProgressLine;
use super::settings::{
    layered, load_baseline, load_config, load_policy, rule_ids, scan_options_with, Config,
};
use anyhow::{bail, Context as _, Result};
use certdrift::finding::{self};
use certdrift::read::git::GitTree;
use certdrift::read::source::{DirSource, FileSource, MountSource};
use certdrift::report::DiffFormat;
use certdrift::report::{self};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args)]
pub struct Diff {
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
    format: Option<DiffFormat>,
    /// Also write FORMAT to PATH (repeatable), e.g. `--output sarif=certdrift.sarif`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output::<DiffFormat>)]
    outputs: Vec<(DiffFormat, PathBuf)>,
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
}

impl Diff {
    pub fn run(self, config: Option<&Path>) -> Result<ExitCode> {
        let Diff {
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
        } = self;
        let (base_src, head_src) =
            diff_sources(base.as_deref(), head.as_deref(), &repo, &roots, &revs)?;
        // The gate's configuration is BASE's (or the one the job names),
        // never the change's: HEAD's is compared and reported.
        let base_label = base.as_deref().unwrap_or("BASE");
        let head_label = head.as_deref().unwrap_or("HEAD");
        let base_gate = certdrift::gate::read(&*base_src, base_label)?;
        let head_gate = certdrift::gate::read(&*head_src, head_label).unwrap_or_default();
        let (cfg, gate_policy) = if config.is_some() {
            let cfg = load_config(config)?;
            let policy = load_policy(None, &cfg, &scan.policy)?;
            (cfg, policy)
        } else {
            let mut policy = certdrift::gate::policy(&base_gate, base_label)?;
            for f in &scan.policy {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read policy {}", f.display()))?;
                policy.merge(certdrift::policy::parse(&f.display().to_string(), &text)?);
            }
            policy.validate(&rule_ids())?;
            let cfg = Config {
                file: None,
                settings: base_gate.settings.clone(),
            };
            (cfg, policy)
        };
        let s = &cfg.settings;
        let format = layered(format, s.format.as_deref(), DiffFormat::Text);
        let fail_on = layered(fail_on, s.fail_on.as_deref(), FailOn::Error);
        // PATHS name prefixes inside both sides; the config's `roots`
        // (directories of this checkout) do not apply.
        let paths = if scan.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            scan.paths.clone()
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
                    gate: Some(certdrift::gate::Sides {
                        base: base_gate,
                        head: head_gate,
                        head_label: head_label.to_owned(),
                    }),
                },
            )?
        };
        // Bounded report; each rule's summary keeps its worst severity,
        // so the gate decides the same.
        finding::cap_per_rule(&mut d.findings, finding::MAX_SHOWN_PER_RULE);
        emit(
            format,
            &outputs,
            fail_on,
            suppress.show_suppressed,
            scan.verbose,
            |f: DiffFormat, opts| report::render_diff(&d, f, opts),
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
}

/// BASE and HEAD as file sources: two directories, two revisions of
/// `repo`, or `--root NAME=PATH` mounts with `--rev NAME=BASE..HEAD`.
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
