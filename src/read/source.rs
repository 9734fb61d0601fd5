//! Where file contents come from: a directory on disk, or (for `diff`) a git revision.
//!
//! In: a root and report-relative paths. Out: bytes and listings. Readers
//! that follow references between files (Hiera data files, values layers)
//! go through this trait so the same code reads a checkout and a revision.

use std::io;
use std::path::PathBuf;

/// Read access to one root's files by report-relative, `/`-separated path.
pub trait FileSource: Send + Sync {
    /// The bytes of the file at `rel`.
    fn read(&self, rel: &str) -> io::Result<Vec<u8>>;
    /// Whether a regular file exists at `rel`.
    fn is_file(&self, rel: &str) -> bool;
    /// Every regular file below directory `dir` (recursively), as sorted
    /// report-relative paths; `""` lists the whole root. Symlinks are not followed.
    fn list(&self, dir: &str) -> Vec<String>;
    /// An identifier of the content of the file at `rel` (a git blob id)
    /// when the source has one for free: two files with the same identifier
    /// have the same bytes. `None` for files on disk.
    fn content_id(&self, rel: &str) -> Option<String> {
        let _ = rel;
        None
    }
    /// Reads `rel` and gives its content identifier too: for a source
    /// without free identifiers (files on disk), one computed from the
    /// bytes read (SHA-256) and remembered, so that [`content_id`]
    /// returns it from then on.
    ///
    /// [`content_id`]: FileSource::content_id
    fn read_identified(&self, rel: &str) -> (io::Result<Vec<u8>>, Option<String>) {
        (self.read(rel), self.content_id(rel))
    }
    /// The size in bytes of the file at `rel`, when the listing knows it
    /// (a git tree does); `None` for files on disk (the walk stats them).
    fn size(&self, rel: &str) -> Option<u64> {
        let _ = rel;
        None
    }
    /// Symbolic links in the source (never followed), as report-relative
    /// paths; empty for files on disk (the walk finds them itself).
    fn symlinks(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A directory on disk.
#[derive(Clone, Debug)]
pub struct DirSource {
    /// The root directory.
    pub root: PathBuf,
    /// Content identifiers of the files read by `read_identified`.
    ids: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
}

impl DirSource {
    /// A source over `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSource {
            root: root.into(),
            ids: Default::default(),
        }
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn path(&self, rel: &str) -> Option<PathBuf> {
        // Never leave the root: no absolute paths, no `..`, and no symlink on
        // the way (a `data -> /etc` link would otherwise let a Hiera datadir
        // or a policy's values file read outside the repository).
        if rel.starts_with('/') || rel.split('/').any(|c| c == "..") {
            return None;
        }
        let mut p = self.root.clone();
        for part in rel.split('/').filter(|c| !c.is_empty() && *c != ".") {
            p.push(part);
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                return None;
            }
        }
        Some(p)
    }
}

impl FileSource for DirSource {
    fn content_id(&self, rel: &str) -> Option<String> {
        self.ids().get(rel).cloned()
    }

    fn read_identified(&self, rel: &str) -> (io::Result<Vec<u8>>, Option<String>) {
        use sha2::Digest;
        let read = self.read(rel);
        let id = read.as_ref().ok().map(|bytes| {
            let id = format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)));
            self.ids().insert(rel.to_owned(), id.clone());
            id
        });
        (read, id)
    }

    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        let p = self.path(rel).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "path leaves the root (absolute, `..` or through a symbolic link)",
            )
        })?;
        let meta = std::fs::symlink_metadata(&p)?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        std::fs::read(p)
    }

    fn is_file(&self, rel: &str) -> bool {
        self.path(rel)
            .and_then(|p| std::fs::symlink_metadata(p).ok())
            .is_some_and(|m| m.is_file())
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let Some(start) = self.path(dir.trim_end_matches('/')) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                let p = e.path();
                if ft.is_dir() {
                    if e.file_name() != ".git" {
                        stack.push(p);
                    }
                } else if ft.is_file() {
                    if let Ok(rel) = p.strip_prefix(&self.root) {
                        let parts: Vec<String> = rel
                            .components()
                            .map(|c| c.as_os_str().to_string_lossy().into_owned())
                            .collect();
                        out.push(parts.join("/"));
                    }
                }
            }
        }
        out.sort();
        out
    }
}

/// Several sources mounted at path prefixes: `--root puppet=… --root charts=…`
/// make one tree whose paths start with `puppet/` and `charts/`.
pub struct MountSource {
    /// (prefix without trailing `/`, source); an empty prefix mounts at the top.
    pub mounts: Vec<(String, std::sync::Arc<dyn FileSource>)>,
}

impl MountSource {
    fn find<'a>(&'a self, rel: &'a str) -> Option<(&'a dyn FileSource, &'a str)> {
        self.mounts.iter().find_map(|(prefix, src)| {
            if prefix.is_empty() {
                return Some((src.as_ref(), rel));
            }
            rel.strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .map(|r| (src.as_ref(), r))
        })
    }
}

impl FileSource for MountSource {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        match self.find(rel) {
            Some((src, r)) => src.read(r),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "not under any --root",
            )),
        }
    }

    fn is_file(&self, rel: &str) -> bool {
        self.find(rel).is_some_and(|(src, r)| src.is_file(r))
    }

    fn content_id(&self, rel: &str) -> Option<String> {
        self.find(rel).and_then(|(src, r)| src.content_id(r))
    }

    fn read_identified(&self, rel: &str) -> (io::Result<Vec<u8>>, Option<String>) {
        match self.find(rel) {
            Some((src, r)) => src.read_identified(r),
            None => (self.read(rel), None),
        }
    }

    fn size(&self, rel: &str) -> Option<u64> {
        self.find(rel).and_then(|(src, r)| src.size(r))
    }

    fn symlinks(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (prefix, src) in &self.mounts {
            out.extend(src.symlinks().into_iter().map(|p| {
                if prefix.is_empty() {
                    p
                } else {
                    format!("{prefix}/{p}")
                }
            }));
        }
        out.sort();
        out
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let dir = dir.trim_end_matches('/');
        let mut out = Vec::new();
        for (prefix, src) in &self.mounts {
            let join = |p: String| {
                if prefix.is_empty() {
                    p
                } else {
                    format!("{prefix}/{p}")
                }
            };
            if dir.is_empty() || *prefix == dir || prefix.starts_with(&format!("{dir}/")) {
                out.extend(src.list("").into_iter().map(join));
            } else if let Some(inner) = dir
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                out.extend(src.list(inner).into_iter().map(join));
            }
        }
        out.sort();
        out
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A symlink anywhere on the path is never followed: a link to a file
    /// or a directory outside the root reads nothing there.
    #[test]
    fn never_reads_through_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let (root, outside) = (t.path().join("root"), t.path().join("outside"));
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("common.yaml"), "canary: 1\n").unwrap();
        std::fs::write(root.join("real/common.yaml"), "ok: 1\n").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("data")).unwrap();
        std::os::unix::fs::symlink(outside.join("common.yaml"), root.join("c.yaml")).unwrap();
        let src = DirSource::new(&root);
        assert_eq!(src.read("real/common.yaml").unwrap(), b"ok: 1\n");
        for rel in ["data/common.yaml", "c.yaml", "./data/common.yaml"] {
            let e = src.read(rel).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{rel}");
            assert!(!src.is_file(rel), "{rel}");
        }
        assert!(src.list("data").is_empty());
        assert_eq!(src.list(""), ["real/common.yaml"]);
    }
}
