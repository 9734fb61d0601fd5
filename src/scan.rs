//! The pipeline end to end: discover → read/extract (parallel) → inventory →
//! check → suppress (policy, inline comments, baseline).
//!
//! In: [`ScanOptions`]. Out: a [`ScanResult`] with the inventory, the
//! sorted findings and the suppressed ones, ready for any renderer. Same
//! input, same result, whatever the thread count: files are extracted in
//! parallel but merged in path order. [`read`] and [`finish`] are the two
//! halves of [`scan`], so that `diff` can start HEAD's scan as soon as
//! BASE's files are read; [`FactsCache`] carries what the two sides share
//! (facts by content id, deferred Services, chain verdicts).
//! `CERTDRIFT_TIMINGS=1` prints each stage's wall time to stderr.

use crate::discover::{self, DiscoverError, WalkOptions};
use crate::extract::hiera::{Builtin, Facts, Hiera, HieraOptions};
use crate::extract::{self, ExtractOptions};
use crate::finding::{sort_findings, sort_suppressed, Finding, Suppressed};
use crate::inventory::graph::Declared;
use crate::inventory::Inventory;
use crate::read::source::{DirSource, FileSource};
use crate::rules::{self, Context, Stage};
use crate::suppress::baseline::Baseline;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Everything a scan needs.
#[derive(Clone)]
pub struct ScanOptions {
    /// Directories or files to scan.
    pub roots: Vec<PathBuf>,
    /// Walk settings.
    pub walk: WalkOptions,
    /// Extraction settings.
    pub extract: ExtractOptions,
    /// Evaluation time, unix seconds.
    pub now: i64,
    /// Whether `now` is the clock (no `--now`): messages then say "ago",
    /// not "before --now".
    pub clock: bool,
    /// `expires-soon` threshold.
    pub warn_days: i64,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// `--map-path HOST=REPO`: host path prefixes (static pods' `hostPath`) and where they live in the repository.
    pub map_paths: Vec<(String, String)>,
    /// What flags mean.
    pub policy: crate::policy::Policy,
    /// Facts for Hiera lookups of components without a node (`--fact`, `--facts`).
    pub facts: Facts,
    /// Read from this source (a git revision) instead of walking `roots`;
    /// `roots` then name path prefixes inside it (empty: everything).
    pub source: Option<Arc<dyn FileSource>>,
    /// `--baseline FILE`: findings it lists are suppressed.
    pub baseline: Option<Arc<Baseline>>,
    /// Counters bumped as each file is read, for a progress line.
    pub progress: Option<Arc<Progress>>,
    /// Facts of files with a content id (git blobs) shared between scans:
    /// the two sides of a diff parse an unchanged blob once.
    pub facts_cache: Option<Arc<FactsCache>>,
}

/// Facts of files by (path, content id), filled by one scan and taken by
/// the next: a blob unchanged between the two sides of a diff is read and
/// parsed once.
#[derive(Debug, Default)]
pub struct FactsCache {
    map: std::sync::Mutex<std::collections::HashMap<(String, String), crate::extract::FileFacts>>,
    /// Deferred Services and chain verdicts, shared the same way.
    link: crate::inventory::LinkCache,
}

impl FactsCache {
    /// The facts of `rel` with content `id`: taken from the cache if another
    /// scan left them there, else computed by `extract` and left for the next.
    fn get_or_extract(
        &self,
        rel: &str,
        id: String,
        extract: impl FnOnce() -> crate::extract::FileFacts,
    ) -> crate::extract::FileFacts {
        let key = (rel.to_owned(), id);
        let cached = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
        cached.unwrap_or_else(|| {
            let facts = extract();
            self.map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key, facts.clone());
            facts
        })
    }
}

/// How far a scan has got, bumped by the workers as they go.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files scanned, as the summary's "N files scanned" counts them (read
    /// and examined; not those skipped by content).
    pub files: AtomicU64,
    /// Bytes of the files taken up, scanned or not: what was read.
    pub bytes: AtomicU64,
}

/// What a scan produced.
pub struct ScanResult {
    /// The roots, as given.
    pub roots: Vec<PathBuf>,
    /// The files read, sorted by (root, path): where excerpts come from.
    pub files: Vec<crate::discover::Candidate>,
    /// The source the files were read from, when not the file system.
    pub source: Option<Arc<dyn FileSource>>,
    /// The model.
    pub inventory: Inventory,
    /// All findings, in report order.
    pub findings: Vec<Finding>,
    /// Findings kept out of the report (policy exceptions, inline comments, baseline).
    pub suppressed: Vec<Suppressed>,
    /// The evaluation time used.
    pub now: i64,
}

impl ScanResult {
    /// The decoded text of a scanned file, read again (from the source when
    /// there is one); `None` for a file that was not scanned or cannot be read.
    pub fn read_text(&self, root: usize, path: &str) -> Option<String> {
        read_text(&self.files, self.source.as_deref(), root, path)
    }

    /// Suppresses the findings `baseline` lists and adds a `stale-baseline`
    /// finding for each entry that matched fewer findings than its count.
    pub fn apply_baseline(&mut self, baseline: &Baseline, policy: &crate::policy::Policy) {
        let (suppressed, stale) = baseline.apply(&mut self.findings, policy);
        self.suppressed.extend(suppressed);
        sort_suppressed(&mut self.suppressed);
        self.findings.extend(stale);
        sort_findings(&mut self.findings);
    }
}

/// The decoded text of the scanned file `path` under root `root`.
fn read_text(
    files: &[crate::discover::Candidate],
    source: Option<&dyn FileSource>,
    root: usize,
    path: &str,
) -> Option<String> {
    let i = files
        .binary_search_by(|c| (c.root, c.rel.as_str()).cmp(&(root, path)))
        .ok()?;
    let bytes = match source {
        Some(src) => src.read(&files[i].rel).ok()?,
        None => std::fs::read(&files[i].abs).ok()?,
    };
    Some(crate::read::text::decode(&bytes).text.into_owned())
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The walk could not start.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// The Hiera configuration is invalid.
    #[error(transparent)]
    Hiera(#[from] crate::extract::hiera::HieraError),
    /// The worker pool could not start.
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// The policy's Hiera engine over the first root.
pub fn load_hiera(
    opts: &ScanOptions,
    files: Arc<dyn FileSource>,
    config: &str,
) -> Result<Hiera, ScanError> {
    let h = &opts.policy.hiera;
    let functions = h
        .functions
        .iter()
        .map(|(name, b)| {
            let b = match b.as_str() {
                "expand_path" => Builtin::ExpandPath,
                "regex_data" => Builtin::RegexData,
                "eyaml" => Builtin::EyamlLookupKey,
                _ => Builtin::YamlData,
            };
            (name.clone(), b)
        })
        .chain([
            ("wmflib::expand_path".to_owned(), Builtin::ExpandPath),
            ("wmflib::regex_data".to_owned(), Builtin::RegexData),
        ])
        .collect();
    let options = HieraOptions {
        map_paths: h.map_paths.iter().chain(&opts.map_paths).cloned().collect(),
        functions,
        ..HieraOptions::default()
    };
    Ok(Hiera::load(files, config, options)?)
}

/// Wall time per stage, printed to stderr when `CERTDRIFT_TIMINGS` is set:
/// for profiling (see README, Performance), never part of a report.
pub(crate) struct Stages {
    last: std::time::Instant,
    done: Option<Vec<String>>,
}

impl Stages {
    pub(crate) fn new() -> Stages {
        Stages {
            last: std::time::Instant::now(),
            done: std::env::var_os("CERTDRIFT_TIMINGS").map(|_| Vec::new()),
        }
    }

    /// Ends the stage `name`.
    pub(crate) fn mark(&mut self, name: &str) {
        if let Some(done) = &mut self.done {
            let now = std::time::Instant::now();
            done.push(format!(
                "{name} {:.1} ms",
                (now - self.last).as_secs_f64() * 1e3
            ));
            self.last = now;
        }
    }

    pub(crate) fn print(&self) {
        if let Some(done) = &self.done {
            eprintln!("certdrift timings: {}", done.join(", "));
        }
    }
}

/// Runs the whole pipeline.
pub fn scan(opts: &ScanOptions) -> Result<ScanResult, ScanError> {
    finish(opts, read(opts)?)
}

/// The files of a scan and their facts: the first half of [`scan`].
pub struct Read {
    found: discover::Discovered,
    facts: Vec<extract::FileFacts>,
    pool: rayon::ThreadPool,
    stages: Stages,
}

/// Discovers and reads the files of a scan (in parallel): the first half of
/// [`scan`]; [`finish`] does the rest.
pub fn read(opts: &ScanOptions) -> Result<Read, ScanError> {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let walk = WalkOptions {
        threads,
        ..opts.walk.clone()
    };
    let mut stages = Stages::new();
    let found = match &opts.source {
        Some(src) => {
            let under: Vec<String> = opts
                .roots
                .iter()
                .map(|r| r.to_string_lossy().into_owned())
                .filter(|r| r != ".")
                .collect();
            discover::discover_source(src.as_ref(), &under, &walk)?
        }
        None => discover::discover(&opts.roots, &walk)?,
    };
    stages.mark("discover");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ScanError::Threads(e.to_string()))?;
    // Test-only fault injection: the integration tests prove that a panic in
    // a worker (a bug) can never end in a report that reads as a pass.
    let panic_on = std::env::var("CERTDRIFT_TEST_PANIC_ON").ok();
    let facts: Vec<_> = pool.install(|| {
        found
            .files
            .par_iter()
            .inspect(|f| {
                if let Some(p) = &opts.progress {
                    p.bytes.fetch_add(f.size, Ordering::Relaxed);
                }
                if panic_on.as_deref() == Some(f.rel.as_str()) {
                    panic!("CERTDRIFT_TEST_PANIC_ON: injected fault at {}", f.rel);
                }
            })
            .map(|f| match &opts.source {
                Some(src) => {
                    let too_large = f.size > opts.walk.max_file_size;
                    let extract = || {
                        let bytes = if too_large {
                            Err(std::io::Error::other("larger than --max-file-size"))
                        } else {
                            src.read(&f.rel)
                        };
                        extract::extract_read(f, &opts.extract, bytes)
                    };
                    match (&opts.facts_cache, src.content_id(&f.rel)) {
                        (Some(cache), Some(id)) => cache.get_or_extract(&f.rel, id, extract),
                        (Some(cache), None) if !too_large => {
                            // Files on disk: identified by their bytes, once read.
                            match src.read_identified(&f.rel) {
                                (bytes, Some(id)) => cache.get_or_extract(&f.rel, id, || {
                                    extract::extract_read(f, &opts.extract, bytes)
                                }),
                                (bytes, None) => extract::extract_read(f, &opts.extract, bytes),
                            }
                        }
                        _ => extract(),
                    }
                }
                None => extract::extract_file(f, &opts.extract),
            })
            .inspect(|facts| {
                // Counted as the summary counts them (issue 17: the line
                // said 17,817 files where the summary said 803).
                if let Some(p) = opts.progress.as_ref().filter(|_| facts.scanned) {
                    p.files.fetch_add(1, Ordering::Relaxed);
                }
            })
            .collect()
    });
    stages.mark("extract");
    Ok(Read {
        found,
        facts,
        pool,
        stages,
    })
}

/// Builds the model from what [`read`] found, links and checks it: the
/// second half of [`scan`].
pub fn finish(opts: &ScanOptions, read: Read) -> Result<ScanResult, ScanError> {
    let Read {
        found,
        facts,
        pool,
        mut stages,
    } = read;
    let mut inventory = Inventory::build(&found.files, facts, found.skipped, &opts.extract);
    let files: Option<Arc<dyn FileSource>> = match &opts.source {
        Some(src) => Some(src.clone()),
        None => opts
            .roots
            .first()
            .filter(|r| r.is_dir())
            .map(|r| Arc::new(DirSource::new(r.clone())) as Arc<dyn FileSource>),
    };
    stages.mark("inventory");
    let hiera = match (&opts.policy.hiera.config, &files) {
        (Some(config), Some(files)) => Some(load_hiera(opts, files.clone(), config)?),
        _ => None,
    };
    let declared = files.as_ref().map(|f| Declared {
        files: f.as_ref(),
        hiera: hiera.as_ref(),
        facts: opts.facts.clone(),
    });
    stages.mark("hiera");
    pool.install(|| {
        inventory.link(
            &opts.policy,
            opts.now,
            &opts.map_paths,
            declared.as_ref(),
            opts.facts_cache.as_deref().map(|c| &c.link),
        );
    });
    stages.mark("link");
    let raw = rules::check(&Context {
        inventory: &inventory,
        now: opts.now,
        warn_days: opts.warn_days,
        policy: &opts.policy,
        fixtures: &opts.policy.fixtures(),
        clock: opts.clock,
    });
    stages.mark("rules");
    let outcome = crate::suppress::apply(
        raw,
        &crate::suppress::Suppressors {
            policy: &opts.policy,
            stage: Stage::Scan,
            read: &|root, path| read_text(&found.files, opts.source.as_deref(), root, path),
            baseline: opts.baseline.as_deref(),
        },
    );
    stages.mark("suppress");
    stages.print();
    Ok(ScanResult {
        roots: opts.roots.clone(),
        files: found.files,
        source: opts.source.clone(),
        inventory,
        findings: outcome.findings,
        suppressed: outcome.suppressed,
        now: opts.now,
    })
}
