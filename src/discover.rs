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
    /// Named on the command line (not found by the walk): always read, and
    /// read as YAML whenever it parses as YAML, whatever its name.
    pub explicit: bool,
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
        self.reason.starts_with(SYMLINK)
            || self.reason.starts_with(BINARY)
            || self.reason.ends_with(NO_MARKER)
    }
}

/// The skip reason of a symlink.
pub const SYMLINK: &str = "symbolic link (not followed)";
/// The skip reason of a binary file that is not a DER certificate.
pub const BINARY: &str = "binary file (NUL byte)";
/// How the skip reason of a file too large to extract ends when a byte
/// search found nothing a certificate or key starts with.
pub const NO_MARKER: &str = "; no PEM or base64-PEM marker in it";

/// Largest blob of a git revision searched in memory for TLS markers when
/// it is over `--max-file-size`.
const MAX_SEARCHED_BLOB: u64 = 256 << 20;

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
    // The OS error is in the message and deliberately not a `source()`:
    // `{:#}` printed it twice (issue 17).
    #[error("cannot read root {path}: {error}")]
    Root {
        /// The root as given.
        path: String,
        /// The OS error.
        error: std::io::Error,
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
        "yaml" | "yml" | "eyaml" | "json" | "jsonc" | "ndjson" | "jsonl" => FileClass::Yaml,
        "pem" | "crt" | "cer" | "cert" | "key" | "ca-bundle" => FileClass::Pem,
        "der" => FileClass::Der,
        _ if lower.starts_with("ca-bundle") => FileClass::Pem,
        _ => FileClass::Other,
    }
}

/// Whether the content of a text file that its name does not mark as YAML
/// (`admin.conf`, `kubeconfig-tls`, `*.golden`, `*.expected`, `*.tpl`, no
/// extension) is YAML that kubectl, Helm or Puppet would load: a Kubernetes
/// object stream (`apiVersion:` and `kind:` keys), a kubeconfig
/// (`clusters:` with `users:` or `contexts:`), or Hiera data (a
/// `class::param:` key), each as a key at the start of a line (after
/// indentation and `- `), or as a JSON member. Source code and prose keep
/// their own reading (PEM blocks only): a Go test's embedded manifest is not
/// a file anything loads.
pub fn sniff_yaml(name: &str, text: &[u8]) -> bool {
    const NOT_CONFIG: &[&str] = &[
        "go",
        "rs",
        "py",
        "rb",
        "java",
        "kt",
        "scala",
        "js",
        "mjs",
        "ts",
        "tsx",
        "jsx",
        "c",
        "h",
        "cc",
        "cpp",
        "hpp",
        "cs",
        "php",
        "pl",
        "pm",
        "sh",
        "bash",
        "zsh",
        "ps1",
        "lua",
        "swift",
        "pp",
        "md",
        "markdown",
        "rst",
        "txt",
        "adoc",
        "html",
        "htm",
        "org",
        "tex",
        "xml",
        "toml",
        "ini",
        "properties",
        "sql",
        "proto",
        "tf",
        "hcl",
        "cue",
        "jsonnet",
        "libsonnet",
        "mod",
        "sum",
        "lock",
        "svg",
        "csv",
        "tsv",
        "diff",
        "patch",
    ];
    // Every extension counts: `README.md.gotmpl` is prose, `x.go.golden` Go.
    let lower = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    if lower
        .split('.')
        .skip(1)
        .any(|ext| NOT_CONFIG.contains(&ext))
    {
        return false;
    }
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        // JSON: the members may share a line.
        let has = |k: &[u8]| memchr::memmem::find(text, k).is_some();
        return (has(b"\"apiVersion\"") && has(b"\"kind\""))
            || (has(b"\"clusters\"") && (has(b"\"users\"") || has(b"\"contexts\"")));
    }
    let (mut api, mut kind, mut clusters, mut users) = (false, false, false, false);
    for line in text.split(|&b| b == b'\n') {
        let key_at_start = line.first().is_some_and(|b| !b.is_ascii_whitespace());
        let mut l = line.trim_ascii_start();
        while let Some(rest) = l.strip_prefix(b"- ") {
            l = rest.trim_ascii_start();
        }
        let l = l.strip_prefix(b"\"").unwrap_or(l);
        let key = |k: &[u8]| {
            l.strip_prefix(k).is_some_and(|r| {
                let r = r.strip_prefix(b"\"").unwrap_or(r);
                r.first() == Some(&b':')
                    && r.get(1)
                        .is_none_or(|c| c.is_ascii_whitespace() || *c == b'"')
            })
        };
        api |= key(b"apiVersion");
        kind |= key(b"kind");
        clusters |= key(b"clusters");
        users |= key(b"users") || key(b"contexts");
        if (api && kind) || (clusters && users) || (key_at_start && is_hiera_key(line)) {
            return true;
        }
    }
    false
}

/// `profile::etcd::use_pki:` at the start of a line: a Puppet class
/// parameter, which only Hiera data holds.
fn is_hiera_key(line: &[u8]) -> bool {
    // The key runs to the first `:` that is not half of a `::`.
    let mut i = 0;
    let colon = loop {
        match (line.get(i), line.get(i + 1)) {
            (Some(b':'), Some(b':')) => i += 2,
            (Some(b':'), _) => break i,
            (Some(_), _) => i += 1,
            (None, _) => return false,
        }
    };
    let key = &line[..colon];
    let words_ok = key.split(|&b| b == b':').enumerate().all(|(i, w)| {
        if i % 2 == 1 {
            w.is_empty()
        } else {
            !w.is_empty() && w.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        }
    });
    key.windows(2).any(|w| w == b"::")
        && words_ok
        && line.get(colon + 1).is_none_or(|c| c.is_ascii_whitespace())
}

/// How a file over the size limit is listed as skipped (the start of its
/// reason).
pub const TOO_LARGE: &str = "larger than --max-file-size";

fn build_excludes(globs: &[String]) -> Result<GlobSet, DiscoverError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        // Paths are matched relative to the root without a leading `./`,
        // so `./vendor/**` would match nothing: it means `vendor/**`.
        let mut pattern = g.as_str();
        while let Some(rest) = pattern.strip_prefix("./") {
            pattern = rest.trim_start_matches('/');
        }
        let glob = Glob::new(pattern).map_err(|e| DiscoverError::Glob {
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
        let meta = std::fs::metadata(root).map_err(|error| DiscoverError::Root {
            path: root.display().to_string(),
            error,
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
                    explicit: true,
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
                    // Fail closed, cheaply: a byte search decides whether
                    // the file could hold what certdrift did not read.
                    let what = match crate::read::text::holds_tls_marker(entry.path()) {
                        Ok(false) => NO_MARKER.to_owned(),
                        Ok(true) => " and holds a PEM or base64-PEM marker".to_owned(),
                        Err(e) => format!(" and cannot be searched: {e}"),
                    };
                    push_skip(
                        rel,
                        format!("{TOO_LARGE} ({size} > {} bytes){what}", opts.max_file_size),
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
                    explicit: false,
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
            // As on disk: a byte search decides whether the blob could hold
            // what certdrift did not read (a blob too large even for that
            // stays a gap).
            let what = if size > MAX_SEARCHED_BLOB {
                " and too large to search".to_owned()
            } else {
                match source.read(&rel) {
                    Ok(b) if !crate::read::text::has_tls_marker(&b) => NO_MARKER.to_owned(),
                    Ok(_) => " and holds a PEM or base64-PEM marker".to_owned(),
                    Err(e) => format!(" and cannot be searched: {e}"),
                }
            };
            d.skipped.push(Skip {
                reason: format!("{TOO_LARGE} ({size} > {} bytes){what}", opts.max_file_size),
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
            explicit: false,
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
    fn sniffs_yaml_by_content() {
        let kubeconfig = b"apiVersion: v1\nclusters:\n- cluster:\n    server: https://x\n  name: x\nusers:\n- name: u\n";
        assert!(sniff_yaml("admin.conf", kubeconfig));
        assert!(sniff_yaml("kubeconfig-tls", kubeconfig));
        let manifests = b"# rendered\n---\nkind: Secret\napiVersion: v1\ndata: {}\n";
        assert!(sniff_yaml("install_default.golden", manifests));
        assert!(sniff_yaml(
            "x.expected",
            b"items:\n- apiVersion: v1\n  kind: List\n"
        ));
        assert!(sniff_yaml(
            "x.golden",
            b"{\"apiVersion\": \"v1\", \"kind\": \"Secret\"}"
        ));
        assert!(sniff_yaml("common", b"---\nprofile::etcd::use_pki: true\n"));
        assert!(sniff_yaml("common", b"profile::etcd::hosts:\n  - a\n"));
        // Source code and prose keep their own reading; other text is not YAML.
        assert!(!sniff_yaml("main_test.go", manifests));
        assert!(!sniff_yaml("README.md", manifests));
        assert!(!sniff_yaml("charts/x/README.md.gotmpl", manifests));
        assert!(sniff_yaml("charts/x/values.yaml.gotmpl", manifests));
        assert!(!sniff_yaml(
            "nginx.conf",
            b"server {\n  listen 443 ssl;\n}\n"
        ));
        assert!(!sniff_yaml("notes", b"kind: of a note\n"));
        assert!(!sniff_yaml("x.rb", b"profile::etcd::use_pki: true\n"));
        assert!(sniff_yaml("kubeconfig.erb", kubeconfig));
        assert!(!sniff_yaml("run", b"  indented::key: x\n"));
        assert!(!sniff_yaml("run", b"a::b:c\n"));
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
