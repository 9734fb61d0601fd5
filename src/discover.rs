//! Stage 1, discover: which files under the roots to read.
//!
//! In: the roots the user named, `--exclude` globs, the size limit. Out: a
//! sorted list of [`Candidate`] files with a first guess at their format, and
//! a list of [`Skip`]s (symlinks, special files, oversized files, walk
//! errors) that the report's summary shows. Never follows a symlink, always
//! skips `.git`, and does not honour `.gitignore`/`.ignore`: a pull request
//! could add one to hide a key from the scan.

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a file's name says it probably is; the read stage confirms by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileClass {
    /// `.yaml`, `.yml`, `.eyaml`, `.json`.
    Yaml,
    /// `.pem`, `.crt`, `.cer`, `.cert`, `.key`, `.ca-bundle`, `ca-bundle*`: PEM text, or DER when binary.
    Pem,
    /// `.der`: binary DER.
    Der,
    /// Anything else: scanned for PEM blocks if it is text.
    Other,
}

/// A regular file to read.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Index of the root it was found under.
    pub root: usize,
    /// Path for reports: relative to the root, `/`-separated.
    pub rel: String,
    /// Path to open.
    pub abs: PathBuf,
    /// Size in bytes when walked.
    pub size: u64,
    /// Format guessed from the name.
    pub class: FileClass,
}

/// A file that was not read, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skip {
    /// Path for reports.
    pub path: String,
    /// Why it was not read.
    pub reason: String,
}

impl Skip {
    /// Whether skipping this file loses nothing a scan could read (a
    /// symlink, whose target is scanned where it lives in the tree, or a
    /// binary file), as opposed to a gap (too large, unreadable).
    pub fn is_benign(&self) -> bool {
        self.reason.starts_with(SYMLINK) || self.reason.starts_with(BINARY)
    }
}

/// The skip reason of a symlink.
pub const SYMLINK: &str = "symbolic link (not followed)";
/// The skip reason of a binary file that is not a DER certificate.
pub const BINARY: &str = "binary file (NUL byte)";

/// Options for the walk.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Globs over root-relative paths; a match excludes a file or a whole directory.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped (with a note).
    pub max_file_size: u64,
    /// Walker threads.
    pub threads: usize,
}

/// Why discovery could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    /// A root does not exist or cannot be read.
    #[error("cannot read root {path}: {source}")]
    Root {
        /// The root as given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// An `--exclude` glob does not parse.
    #[error("invalid --exclude glob {glob:?}: {message}")]
    Glob {
        /// The glob as given.
        glob: String,
        /// What is wrong with it.
        message: String,
    },
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Files to read, sorted by (root, path).
    pub files: Vec<Candidate>,
    /// Files not read, sorted.
    pub skipped: Vec<Skip>,
}

/// The format a file name suggests.
pub fn classify(name: &str) -> FileClass {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "yaml" | "yml" | "eyaml" | "json" => FileClass::Yaml,
        "pem" | "crt" | "cer" | "cert" | "key" | "ca-bundle" => FileClass::Pem,
        "der" => FileClass::Der,
        _ if lower.starts_with("ca-bundle") => FileClass::Pem,
        _ => FileClass::Other,
    }
}

fn build_excludes(globs: &[String]) -> Result<GlobSet, DiscoverError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| DiscoverError::Glob {
            glob: g.clone(),
            message: e.kind().to_string(),
        })?;
        b.add(glob);
    }
    b.build().map_err(|e| DiscoverError::Glob {
        glob: globs.join(" "),
        message: e.to_string(),
    })
}

/// `/`-separated path of `path` relative to `root`.
fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Walks every root and returns the files to read.
///
/// With more than one root, report paths are prefixed with the root as given
/// so that two roots holding the same relative path stay distinct.
pub fn discover(roots: &[PathBuf], opts: &WalkOptions) -> Result<Discovered, DiscoverError> {
    let excludes = build_excludes(&opts.exclude)?;
    let found = Mutex::new(Discovered::default());
    for (ri, root) in roots.iter().enumerate() {
        let meta = std::fs::metadata(root).map_err(|source| DiscoverError::Root {
            path: root.display().to_string(),
            source,
        })?;
        let prefix = if roots.len() > 1 {
            let p = rel_path(Path::new(""), root);
            format!("{}/", p.trim_end_matches('/'))
        } else {
            String::new()
        };
        if meta.is_file() {
            // A file named as a root: its report path is its name as given.
            let name = root.display().to_string();
            found
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .files
                .push(Candidate {
                    root: ri,
                    class: classify(&name),
                    rel: name,
                    abs: root.clone(),
                    size: meta.len(),
                });
            continue;
        }
        let mut builder = WalkBuilder::new(root);
        builder
            .standard_filters(false)
            .hidden(false)
            .follow_links(false)
            .threads(opts.threads.max(1));
        let root_for_filter = root.clone();
        let ex = excludes.clone();
        builder.filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_name() == ".git" && e.file_type().is_some_and(|t| t.is_dir()) {
                return false;
            }
            ex.is_empty() || !ex.is_match(rel_path(&root_for_filter, e.path()))
        });
        builder.build_parallel().run(|| {
            let found = &found;
            let prefix = &prefix;
            Box::new(move |res| {
                let push_skip = |path: String, reason: String| {
                    found
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .skipped
                        .push(Skip { path, reason });
                };
                let entry = match res {
                    Ok(e) => e,
                    Err(err) => {
                        let msg = err.to_string();
                        push_skip(prefix.clone() + "?", msg);
                        return ignore::WalkState::Continue;
                    }
                };
                let rel = format!("{prefix}{}", rel_path(root, entry.path()));
                let Some(ft) = entry.file_type() else {
                    return ignore::WalkState::Continue;
                };
                if ft.is_dir() {
                    return ignore::WalkState::Continue;
                }
                if ft.is_symlink() {
                    push_skip(rel, SYMLINK.into());
                    return ignore::WalkState::Continue;
                }
                if !ft.is_file() {
                    push_skip(rel, "not a regular file".into());
                    return ignore::WalkState::Continue;
                }
                let size = match entry.metadata() {
                    Ok(m) => m.len(),
                    Err(e) => {
                        push_skip(rel, format!("cannot stat: {e}"));
                        return ignore::WalkState::Continue;
                    }
                };
                if size > opts.max_file_size {
                    push_skip(
                        rel,
                        format!(
                            "larger than --max-file-size ({size} > {} bytes)",
                            opts.max_file_size
                        ),
                    );
                    return ignore::WalkState::Continue;
                }
                let name = entry.file_name().to_string_lossy().into_owned();
                let cand = Candidate {
                    root: ri,
                    class: classify(&name),
                    rel,
                    abs: entry.into_path(),
                    size,
                };
                found
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .files
                    .push(cand);
                ignore::WalkState::Continue
            })
        });
    }
    let mut d = found.into_inner().unwrap_or_else(|e| e.into_inner());
    d.files
        .sort_by(|a, b| (a.root, &a.rel).cmp(&(b.root, &b.rel)));
    d.skipped.sort();
    Ok(d)
}

/// Lists the files of a [`FileSource`] (a git revision) below `under`
/// (a path prefix, `""` for all), as [`discover`] does for directories.
pub fn discover_source(
    source: &dyn crate::read::source::FileSource,
    under: &[String],
    opts: &WalkOptions,
) -> Result<Discovered, DiscoverError> {
    let excludes = build_excludes(&opts.exclude)?;
    let mut d = Discovered::default();
    let is_inside = |rel: &str| {
        let inside = under.is_empty()
            || under.iter().any(|u| {
                let u = u.trim_end_matches('/');
                u.is_empty() || rel == u || rel.starts_with(&format!("{u}/"))
            });
        let excluded = !excludes.is_empty() && {
            let mut p = rel;
            let mut hit = excludes.is_match(p);
            while let (false, Some((parent, _))) = (hit, p.rsplit_once('/')) {
                hit = excludes.is_match(parent);
                p = parent;
            }
            hit
        };
        inside && !excluded
    };
    for rel in source.list("") {
        if !is_inside(&rel) {
            continue;
        }
        let size = source.size(&rel).unwrap_or(0);
        if size > opts.max_file_size {
            d.skipped.push(Skip {
                reason: format!(
                    "larger than --max-file-size ({size} > {} bytes)",
                    opts.max_file_size
                ),
                path: rel,
            });
            continue;
        }
        let name = rel.rsplit('/').next().unwrap_or(&rel).to_owned();
        d.files.push(Candidate {
            root: 0,
            class: classify(&name),
            abs: PathBuf::from(&rel),
            rel,
            size,
        });
    }
    for rel in source.symlinks() {
        if is_inside(&rel) {
            d.skipped.push(Skip {
                path: rel,
                reason: SYMLINK.to_owned(),
            });
        }
    }
    d.skipped.sort();
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_name() {
        assert_eq!(classify("values.yaml"), FileClass::Yaml);
        assert_eq!(classify("x.YML"), FileClass::Yaml);
        assert_eq!(classify("ca.crt"), FileClass::Pem);
        assert_eq!(classify("ca-bundle"), FileClass::Pem);
        assert_eq!(classify("ca-bundle.trust.txt"), FileClass::Pem);
        assert_eq!(classify("root.der"), FileClass::Der);
        assert_eq!(classify("README.md"), FileClass::Other);
    }

    #[test]
    fn ignores_gitignore_and_skips_git_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "secret.pem\n").unwrap();
        std::fs::write(dir.path().join("secret.pem"), "x").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/config.yaml"), "x").unwrap();
        let d = discover(
            &[dir.path().to_path_buf()],
            &WalkOptions {
                exclude: vec![],
                max_file_size: 100,
                threads: 2,
            },
        )
        .unwrap();
        let names: Vec<_> = d.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(names, [".gitignore", "secret.pem"]);
    }

    #[test]
    fn excludes_and_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("vendor")).unwrap();
        std::fs::write(dir.path().join("vendor/a.pem"), "x").unwrap();
        std::fs::write(dir.path().join("big.yaml"), "x".repeat(200)).unwrap();
        let d = discover(
            &[dir.path().to_path_buf()],
            &WalkOptions {
                exclude: vec!["vendor".into()],
                max_file_size: 100,
                threads: 1,
            },
        )
        .unwrap();
        assert!(d.files.is_empty());
        assert_eq!(d.skipped.len(), 1);
        assert_eq!(d.skipped[0].path, "big.yaml");
    }
}
