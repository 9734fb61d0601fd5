//! A git revision's tree, read straight from the repository with the git CLI.
//!
//! In: a repository path and a revision. Out: the revision's file list
//! ([`GitTree::entries`]) and blob contents ([`GitTree::read_blob`]), with no
//! checkout and no libgit2. `diff` compares two revisions through this, and
//! [`GitTree`] implements [`FileSource`] so the readers that follow references
//! between files read a revision exactly as they read a directory.
//!
//! Three git commands do the work: `rev-parse --verify REV^{commit}` resolves
//! the revision, `ls-tree -r -z -l --full-tree` lists the tree (streamed, so a
//! 100 MB listing is never held twice), and one long-lived
//! `cat-file --batch` process, behind a mutex, serves every blob read that
//! the working tree cannot: a file of the repository's working tree whose
//! git blob id (SHA-1, or SHA-256, of `blob <size>\0` and its bytes) is the
//! entry's is the blob, byte for byte, and is read from there in parallel
//! (`rev-parse --show-toplevel` finds it; none for a bare repository). In
//! CI the checked-out revision is usually one side of the diff, so most
//! blobs of both sides come from files, not from git's object store.
//!
//! Every git runs with `LC_ALL=C`, `GIT_CONFIG_NOSYSTEM=1`, no pager, no
//! terminal prompt, no lazy fetch from a promisor remote, `core.quotepath=off`,
//! standard input closed (except cat-file's), and without the caller's
//! `GIT_DIR`-style variables, which would point it at another repository.
//! Child processes are always reaped, and their standard error is drained on
//! its own thread so a chatty git can never block.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::time::Duration;
use std::{fmt, thread};

use super::source::FileSource;

/// The program run; found on `PATH`.
const GIT: &str = "git";

/// How much of a git's standard error is kept for messages.
const STDERR_KEEP: usize = 16 * 1024;

/// How long to wait for a finished git's standard error to be collected.
const STDERR_WAIT: Duration = Duration::from_secs(2);

/// Longest `cat-file --batch` header accepted (`<oid> <type> <size>\n`).
const MAX_HEADER: u64 = 512;

/// Variables that would make git look at a repository other than `-C REPO`.
const SCRUBBED_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// What a tree entry is, from its git mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file (mode 100644).
    File,
    /// An executable regular file (mode 100755).
    Executable,
    /// A symbolic link (mode 120000); its blob is the link target.
    Symlink,
    /// A submodule (gitlink, mode 160000); its oid is a commit in another repository.
    Submodule,
}

impl EntryKind {
    /// Whether this is a regular file (executable or not).
    pub fn is_regular(self) -> bool {
        matches!(self, EntryKind::File | EntryKind::Executable)
    }
}

/// One non-directory entry of a revision's tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `/`-separated path from the repository root.
    ///
    /// Git paths are bytes; a path that is not UTF-8 is converted lossily
    /// (invalid sequences become U+FFFD), so such a path cannot be read back
    /// by name and two such paths may even collide.
    pub path: String,
    /// What the entry is.
    pub kind: EntryKind,
    /// The blob's size in bytes (the target's length for a symlink; 0 for a submodule).
    pub size: u64,
    /// The object id, full hex (40 digits, or 64 in a SHA-256 repository).
    pub oid: String,
}

/// Why a revision could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// git is not installed / not runnable.
    #[error("cannot run git: {0}")]
    NoGit(String),
    /// Not a repository.
    #[error("{repo} is not a git repository: {message}")]
    NotARepo {
        /// The path given.
        repo: String,
        /// What git said.
        message: String,
    },
    /// The revision does not exist (or is not a commit). When the repository
    /// is a shallow clone, `shallow` is true and `message` says to fetch more
    /// history: the usual cause in CI, where checkouts are shallow.
    #[error("unknown revision `{rev}`: {message}")]
    UnknownRevision {
        /// The revision asked for.
        rev: String,
        /// Whether the repository is a shallow clone.
        shallow: bool,
        /// What git said, and the advice for a shallow clone.
        message: String,
    },
    /// Anything else git said.
    #[error("`{command}` failed: {message}")]
    Git {
        /// The git command line.
        command: String,
        /// Git's standard error, or what went wrong running it.
        message: String,
    },
}

/// One revision's tree: its file list, and its blobs on demand.
///
/// `Send + Sync`: blob reads from many threads share one
/// `git cat-file --batch` process, one request at a time.
pub struct GitTree {
    repo: PathBuf,
    commit: String,
    entries: Vec<Entry>,
    cat: Mutex<Option<CatFile>>,
    /// The working tree's top directory, if the repository has one.
    worktree: Option<PathBuf>,
}

impl fmt::Debug for GitTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitTree")
            .field("repo", &self.repo)
            .field("commit", &self.commit)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl GitTree {
    /// Resolves `rev` in the repository at `repo` and lists its whole tree.
    pub fn open(repo: &Path, rev: &str) -> Result<GitTree, GitError> {
        GitTree::open_under(repo, rev, "")
    }

    /// Resolves `rev` in the repository at `repo` and lists its tree,
    /// keeping only entries below the directory `under` (`""` for all;
    /// leading and trailing `/` are ignored). Paths stay relative to the
    /// repository root.
    pub fn open_under(repo: &Path, rev: &str, under: &str) -> Result<GitTree, GitError> {
        let repo_name = repo.display().to_string();
        if repo.as_os_str().is_empty() || repo.as_os_str().as_encoded_bytes().contains(&0) {
            return Err(GitError::NotARepo {
                repo: repo_name,
                message: "not a usable path".into(),
            });
        }

        // Is it a repository at all, and is it shallow? One command says both.
        let out = run(git(repo).args(["rev-parse", "--is-shallow-repository"]))?;
        if !out.status.success() {
            return Err(GitError::NotARepo {
                repo: repo_name,
                message: failure_text(&out.stderr, out.status),
            });
        }
        let shallow = String::from_utf8_lossy(&out.stdout).trim() == "true";

        let unknown = |message: String| {
            let mut message = message;
            if shallow {
                message.push_str(
                    "; the repository is a shallow clone, so the revision may be in history \
                     that was not fetched: fetch more history with `git fetch --deepen=N` or \
                     `git fetch --unshallow` (in CI, raise the checkout's fetch depth)",
                );
            }
            GitError::UnknownRevision {
                rev: rev.to_string(),
                shallow,
                message,
            }
        };
        if rev.is_empty() || rev.starts_with('-') || rev.contains(['\0', '\n', '\r']) {
            return Err(unknown("not a valid revision name".into()));
        }
        let spec = format!("{rev}^{{commit}}");
        let out = run(git(repo).args(["rev-parse", "--verify", &spec]))?;
        if !out.status.success() {
            return Err(unknown(format!(
                "no such commit ({})",
                failure_text(&out.stderr, out.status)
            )));
        }
        let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !is_oid(&commit) {
            return Err(GitError::Git {
                command: format!("git rev-parse --verify {spec}"),
                message: format!("unexpected output {commit:?}"),
            });
        }

        let entries = list_tree(repo, &commit, under)?;
        // A bare repository has no working tree: git says so and fails.
        let worktree = run(git(repo).args(["rev-parse", "--show-toplevel"]))
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        Ok(GitTree {
            repo: repo.to_path_buf(),
            commit,
            entries,
            cat: Mutex::new(None),
            worktree,
        })
    }

    /// The repository path given to [`GitTree::open`].
    pub fn repo(&self) -> &Path {
        &self.repo
    }

    /// The revision's commit, as a full hex sha.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// Every file, symlink and submodule in the tree, sorted by path.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry at exactly `path`, if any.
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// The contents of the regular file at `path`.
    ///
    /// Errors: `InvalidInput` for a path that is absolute, contains a `..`
    /// component, or names a directory, a submodule or a symbolic link (never
    /// followed); `NotFound` for a path not in the tree; any other kind when
    /// git fails.
    pub fn read_blob(&self, path: &str) -> io::Result<Vec<u8>> {
        self.read_blob_capped(path, u64::MAX)
    }

    /// As [`GitTree::read_blob`], but a blob larger than `max` bytes (by the
    /// tree listing's size) is refused with `FileTooLarge` without being read.
    pub fn read_blob_capped(&self, path: &str, max: u64) -> io::Result<Vec<u8>> {
        let entry = self.regular(path)?;
        if entry.size > max {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "`{path}` is {} bytes, over the limit of {max} bytes",
                    entry.size
                ),
            ));
        }
        if let Some(bytes) = self.worktree_blob(entry) {
            return Ok(bytes);
        }
        self.cat_blob(path, &entry.oid, max)
    }

    /// The blob of `entry` read from the working tree: the file at its path
    /// if it is a regular file of the blob's size whose git blob id is the
    /// entry's (so it is the blob, whatever was checked out or edited).
    fn worktree_blob(&self, entry: &Entry) -> Option<Vec<u8>> {
        let path = self.worktree.as_ref()?.join(&entry.path);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.file_type().is_file() || meta.len() != entry.size {
            return None;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size).ok()?.saturating_add(1));
        std::fs::File::open(&path)
            .ok()?
            .take(entry.size.saturating_add(1))
            .read_to_end(&mut bytes)
            .ok()?;
        (blob_id(&bytes, entry.oid.len())? == entry.oid).then_some(bytes)
    }

    /// The regular-file entry at `path`, or the error reading it should give.
    fn regular(&self, path: &str) -> io::Result<&Entry> {
        if !is_safe_path(path) || path.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{path}`: path is empty, absolute or leaves the root"),
            ));
        }
        let Some(entry) = self.entry(path) else {
            if self.is_dir(path) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`{path}` is a directory, not a regular file"),
                ));
            }
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("`{path}` is not in commit {}", self.commit),
            ));
        };
        match entry.kind {
            EntryKind::File | EntryKind::Executable => Ok(entry),
            EntryKind::Symlink => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{path}` is a symbolic link (not followed)"),
            )),
            EntryKind::Submodule => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{path}` is a submodule (gitlink), not a regular file"),
            )),
        }
    }

    /// Whether some entry lies below directory `path`.
    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        let start = self
            .entries
            .partition_point(|e| e.path.as_str() < prefix.as_str());
        self.entries
            .get(start)
            .is_some_and(|e| e.path.starts_with(&prefix))
    }

    /// The mutex-guarded cat-file process; a poisoned lock drops the process,
    /// whose stream may be mid-response.
    fn lock_cat(&self) -> MutexGuard<'_, Option<CatFile>> {
        self.cat.lock().unwrap_or_else(|poisoned| {
            self.cat.clear_poison();
            let mut guard = poisoned.into_inner();
            *guard = None;
            guard
        })
    }

    /// Blob `oid` (of `path`) through the shared cat-file process; a process
    /// that dies or garbles the stream is replaced once, then it's an error.
    fn cat_blob(&self, path: &str, oid: &str, max: u64) -> io::Result<Vec<u8>> {
        let mut guard = self.lock_cat();
        let mut first_failure: Option<String> = None;
        loop {
            if guard.is_none() {
                let cat = CatFile::spawn(&self.repo).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot start `git cat-file --batch`: {e}"),
                    )
                })?;
                *guard = Some(cat);
            }
            let Some(cat) = guard.as_mut() else {
                return Err(io::Error::other("git cat-file --batch is not running"));
            };
            let failure = match cat.request(oid, max) {
                Ok(Reply::Blob(bytes)) => return Ok(bytes),
                Ok(Reply::Missing) => {
                    return Err(io::Error::other(format!(
                        "object {oid} of `{path}` is missing from the repository"
                    )))
                }
                Ok(Reply::NotBlob(kind)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("object {oid} of `{path}` is a {kind}, not a blob"),
                    ))
                }
                Ok(Reply::Refused(e)) => {
                    // The response was not read: the stream is out of step.
                    *guard = None;
                    return Err(e);
                }
                Err(e) => {
                    let stderr = guard.take().map(CatFile::stop).unwrap_or_default();
                    if stderr.is_empty() {
                        e.to_string()
                    } else {
                        format!("{e} ({stderr})")
                    }
                }
            };
            match first_failure {
                None => first_failure = Some(failure),
                Some(first) => {
                    return Err(io::Error::other(format!(
                        "git cat-file --batch failed reading `{path}`: {first}; \
                         restarted, then: {failure}"
                    )))
                }
            }
        }
    }
}

impl FileSource for GitTree {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.read_blob(rel)
    }

    fn is_file(&self, rel: &str) -> bool {
        is_safe_path(rel) && self.entry(rel).is_some_and(|e| e.kind.is_regular())
    }

    fn content_id(&self, rel: &str) -> Option<String> {
        self.entry(rel).map(|e| format!("{:?}:{}", e.kind, e.oid))
    }

    fn size(&self, rel: &str) -> Option<u64> {
        self.entry(rel).map(|e| e.size)
    }

    fn symlinks(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::Symlink && is_safe_path(&e.path))
            .map(|e| e.path.clone())
            .collect()
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let dir = dir.trim_end_matches('/');
        if !is_safe_path(dir) {
            return Vec::new();
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let start = self
            .entries
            .partition_point(|e| e.path.as_str() < prefix.as_str());
        self.entries
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|e| e.path.starts_with(&prefix))
            .filter(|e| e.kind.is_regular())
            .map(|e| e.path.clone())
            .collect()
    }
}

/// A relative path that stays inside the root: not absolute, no `..` component.
fn is_safe_path(path: &str) -> bool {
    !path.starts_with('/') && !path.split('/').any(|c| c == "..")
}

/// Full hex object id (SHA-1 or SHA-256).
/// The git object id of a blob holding `bytes`: SHA-1 (40 hex digits) or,
/// in a SHA-256 repository, SHA-256 (64) of `blob <size>\0` and the bytes.
fn blob_id(bytes: &[u8], hex_len: usize) -> Option<String> {
    let header = format!("blob {}\0", bytes.len());
    match hex_len {
        // The `sha1` crate uses the CPU's SHA instructions (3-4 times
        // ring's portable SHA-1 here).
        40 => {
            use sha1::Digest;
            let mut h = sha1::Sha1::new();
            h.update(header.as_bytes());
            h.update(bytes);
            Some(hex::encode(h.finalize()))
        }
        64 => {
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(header.as_bytes());
            ctx.update(bytes);
            Some(hex::encode(ctx.finish()))
        }
        _ => None,
    }
}

fn is_oid(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A git command for `repo` with the fixed environment; standard input closed.
fn git(repo: &Path) -> Command {
    command(GIT, repo)
}

fn command(program: &str, repo: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg("--no-pager")
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotepath=off"])
        .env("LC_ALL", "C")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PAGER", "cat")
        .env("PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// The command line, for messages.
fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

fn no_git(cmd: &Command, e: &io::Error) -> GitError {
    GitError::NoGit(format!(
        "`{}` could not be started: {e}",
        cmd.get_program().to_string_lossy()
    ))
}

/// Runs a short command to completion, capturing its output.
fn run(cmd: &mut Command) -> Result<Output, GitError> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|e| no_git(cmd, &e))
}

/// Git's message for a failed command: its standard error, or the exit status.
fn failure_text(stderr: &[u8], status: ExitStatus) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        format!("git exited with {status}")
    } else {
        text.replace('\n', "; ")
    }
}

/// Lists `commit`'s tree, streaming `ls-tree` output and keeping only the
/// parsed entries below `under`.
fn list_tree(repo: &Path, commit: &str, under: &str) -> Result<Vec<Entry>, GitError> {
    let prefix = under.trim_matches('/');
    let prefix_slash = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let mut cmd = git(repo);
    cmd.args(["ls-tree", "-r", "-z", "-l", "--full-tree", commit]);
    // Let git skip the rest of the tree. ls-tree matches its paths literally
    // (no globs), but a leading `:` would be pathspec magic: filter those here only.
    if !prefix.is_empty() && !prefix.starts_with(':') && !prefix.contains('\0') {
        cmd.arg("--").arg(prefix);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let command = describe(&cmd);
    let fail = |message: String| GitError::Git {
        command: command.clone(),
        message,
    };

    let mut child = cmd.spawn().map_err(|e| no_git(&cmd, &e))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take().map(Drain::start);
    let mut child = Reaped(Some(child));
    let Some(stdout) = stdout else {
        return Err(fail("no pipe for standard output".into()));
    };

    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut record = Vec::with_capacity(256);
    let mut entries = Vec::new();
    loop {
        record.clear();
        let n = reader
            .read_until(0, &mut record)
            .map_err(|e| fail(format!("reading its output: {e}")))?;
        if n == 0 {
            break;
        }
        if record.last() == Some(&0) {
            record.pop();
        }
        if record.is_empty() {
            continue;
        }
        match parse_record(&record) {
            Ok(Some(entry)) => {
                if prefix_slash.is_empty() || entry.path.starts_with(&prefix_slash) {
                    entries.push(entry);
                }
            }
            Ok(None) => {}
            Err(message) => return Err(fail(message)),
        }
    }
    drop(reader);
    let status = child
        .wait()
        .map_err(|e| fail(format!("waiting for it: {e}")))?;
    let stderr = stderr.map(Drain::finish).unwrap_or_default();
    if !status.success() {
        return Err(fail(failure_text(stderr.as_bytes(), status)));
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.shrink_to_fit();
    Ok(entries)
}

/// One `ls-tree -z -l` record: `<mode> SP <type> SP <oid> SP+ <size> TAB <path>`.
/// `Ok(None)` for entries that are not files (trees, unknown types).
fn parse_record(record: &[u8]) -> Result<Option<Entry>, String> {
    let bad = || {
        format!(
            "unexpected ls-tree record {:?}",
            String::from_utf8_lossy(record)
        )
    };
    let tab = record.iter().position(|&b| b == b'\t').ok_or_else(bad)?;
    let (meta, rest) = record.split_at_checked(tab).ok_or_else(bad)?;
    let path = rest.get(1..).ok_or_else(bad)?;
    let meta = std::str::from_utf8(meta).map_err(|_| bad())?;
    let mut fields = meta.split_ascii_whitespace();
    let (Some(mode), Some(kind), Some(oid), Some(size), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(bad());
    };
    let kind = match (kind, mode) {
        ("blob", "120000") => EntryKind::Symlink,
        ("blob", "100755") => EntryKind::Executable,
        ("blob", _) => EntryKind::File,
        ("commit", _) => EntryKind::Submodule,
        _ => return Ok(None),
    };
    if !is_oid(oid) {
        return Err(bad());
    }
    let size = if size == "-" {
        0
    } else {
        size.parse::<u64>().map_err(|_| bad())?
    };
    if path.is_empty() {
        return Err(bad());
    }
    let path = String::from_utf8(path.to_vec())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(Some(Entry {
        path,
        kind,
        size,
        oid: oid.to_string(),
    }))
}

/// A child that is killed and reaped when dropped, unless waited for first.
struct Reaped(Option<Child>);

impl Reaped {
    fn wait(&mut self) -> io::Result<ExitStatus> {
        match self.0.take() {
            Some(mut child) => {
                let status = child.wait();
                if status.is_err() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                status
            }
            None => Err(io::Error::other("already waited for")),
        }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A child's standard error, read to the end on its own thread (so the child
/// never blocks on a full pipe), keeping the first [`STDERR_KEEP`] bytes.
struct Drain(mpsc::Receiver<Vec<u8>>);

impl Drain {
    fn start<R: Read + Send + 'static>(mut pipe: R) -> Drain {
        let (tx, rx) = mpsc::channel();
        // If no thread can be started the pipe is dropped with the closure:
        // git then gets EPIPE on its standard error instead of blocking.
        let _ = thread::Builder::new()
            .name("git-stderr".into())
            .spawn(move || {
                let mut kept = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    match pipe.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            let room = STDERR_KEEP.saturating_sub(kept.len());
                            kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send(kept);
            });
        Drain(rx)
    }

    /// What was read, once the child has exited (bounded wait).
    fn finish(self) -> String {
        match self.0.recv_timeout(STDERR_WAIT) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).trim().replace('\n', "; "),
            Err(_) => String::new(),
        }
    }
}

/// A `git cat-file --batch` process.
struct CatFile {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: Option<Drain>,
}

/// One `cat-file --batch` response.
enum Reply {
    Blob(Vec<u8>),
    Missing,
    /// Another object type; its content was skipped.
    NotBlob(String),
    /// A blob refused before its content was read: the stream is out of step
    /// and the process must be dropped (not retried).
    Refused(io::Error),
}

impl CatFile {
    fn spawn(repo: &Path) -> io::Result<CatFile> {
        let mut cmd = git(repo);
        cmd.args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take().map(Drain::start);
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("no pipes to git cat-file"));
        };
        Ok(CatFile {
            child,
            stdin: Some(stdin),
            stdout: BufReader::with_capacity(1 << 16, stdout),
            stderr,
        })
    }

    /// Asks for `oid` and reads the whole response. An `Err` means the
    /// process died or the stream is garbled: drop the process.
    fn request(&mut self, oid: &str, max: u64) -> io::Result<Reply> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?;
        stdin.write_all(format!("{oid}\n").as_bytes())?;
        stdin.flush()?;

        let mut header = Vec::with_capacity(128);
        (&mut self.stdout)
            .take(MAX_HEADER)
            .read_until(b'\n', &mut header)?;
        if header.pop() != Some(b'\n') {
            return Err(if header.is_empty() {
                io::Error::new(io::ErrorKind::UnexpectedEof, "git cat-file exited")
            } else {
                garbled(&header)
            });
        }
        let text = std::str::from_utf8(&header).map_err(|_| garbled(&header))?;
        let mut fields = text.split(' ');
        let (Some(got), Some(kind), size, None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(garbled(&header));
        };
        if got != oid {
            return Err(garbled(&header));
        }
        let size = match (kind, size) {
            ("missing", None) => return Ok(Reply::Missing),
            (_, Some(size)) => size.parse::<u64>().map_err(|_| garbled(&header))?,
            _ => return Err(garbled(&header)),
        };
        if kind != "blob" {
            let want = size.saturating_add(1);
            let skipped = io::copy(&mut (&mut self.stdout).take(want), &mut io::sink())?;
            if skipped != want {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "git cat-file output ended early",
                ));
            }
            return Ok(Reply::NotBlob(kind.to_string()));
        }
        if size > max {
            return Ok(Reply::Refused(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("blob {oid} is {size} bytes, over the limit of {max} bytes"),
            )));
        }
        let mut content = Vec::new();
        let reserved = usize::try_from(size)
            .ok()
            .and_then(|len| content.try_reserve_exact(len).ok());
        if reserved.is_none() {
            return Ok(Reply::Refused(io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("blob {oid} is {size} bytes: no memory for it"),
            )));
        }
        (&mut self.stdout).take(size).read_to_end(&mut content)?;
        if u64::try_from(content.len()).ok() != Some(size) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "git cat-file output ended early",
            ));
        }
        let mut newline = [0u8; 1];
        self.stdout.read_exact(&mut newline)?;
        if newline != [b'\n'] {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "git cat-file output out of step",
            ));
        }
        Ok(Reply::Blob(content))
    }

    /// Ends the process and returns what it said on standard error.
    fn stop(mut self) -> String {
        self.kill_and_reap();
        self.stderr.take().map(Drain::finish).unwrap_or_default()
    }

    fn kill_and_reap(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

fn garbled(header: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "unexpected git cat-file header {:?}",
            String::from_utf8_lossy(header)
        ),
    )
}

#[cfg(test)]
impl GitTree {
    /// Kills the cat-file process without telling the tree, as a crash would.
    fn crash_cat_file(&self) -> bool {
        let mut guard = self.lock_cat();
        match guard.as_mut() {
            Some(cat) => cat.child.kill().is_ok() && cat.child.wait().is_ok(),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;

    const BIG: usize = 5 * 1024 * 1024;
    const LINK_TARGET: &str = "certs/a.pem";
    const UNICODE: &str = "dir with space/ünïcödé ☃.pem";
    const SUBMODULE_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    /// Runs git in `dir` for test setup, isolated from the user's config.
    fn sh(dir: &Path, args: &[&str], input: Option<&[u8]>) -> String {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(dir)
            .args(["-c", "init.defaultBranch=main"])
            .args(["-c", "commit.gpgsign=false"])
            .args(["-c", "core.autocrlf=false"])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().expect("spawn git");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(input) = input {
            stdin.write_all(input).expect("write stdin");
        }
        drop(stdin);
        let out = child.wait_with_output().expect("wait git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn write(dir: &Path, rel: &str, bytes: &[u8]) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }

    /// 5 MiB of deterministic noise, with NULs and newlines in it.
    fn big_blob() -> Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..BIG)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect()
    }

    struct Fixture {
        dir: tempfile::TempDir,
        c1: String,
        c2: String,
    }

    impl Fixture {
        fn repo(&self) -> &Path {
            self.dir.path()
        }
    }

    /// Two commits: the second modifies, deletes, adds and changes a mode.
    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        sh(d, &["init", "-q"], None);
        write(d, "README.md", b"hello\n");
        write(d, "certs/a.pem", b"A1\n");
        write(d, "certs/sub/b.pem", b"B1\n");
        write(d, "certs.txt", b"beside certs/\n");
        write(d, "certs-old/x.pem", b"old\n");
        write(d, "run.sh", b"#!/bin/sh\necho hi\n");
        write(d, UNICODE, b"unicode\n");
        write(d, "big.bin", &big_blob());
        sh(
            d,
            &[
                "add",
                "--",
                "README.md",
                "certs",
                "certs.txt",
                "certs-old",
                "run.sh",
                "dir with space",
                "big.bin",
            ],
            None,
        );
        sh(d, &["update-index", "--chmod=+x", "run.sh"], None);
        let link = sh(
            d,
            &["hash-object", "-w", "--stdin"],
            Some(LINK_TARGET.as_bytes()),
        );
        sh(
            d,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("120000,{link},link"),
            ],
            None,
        );
        sh(
            d,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{SUBMODULE_SHA},vendor"),
            ],
            None,
        );
        sh(d, &["commit", "-q", "-m", "first"], None);
        let c1 = sh(d, &["rev-parse", "HEAD"], None);

        write(d, "certs/a.pem", b"A2\n");
        write(d, "certs/c.pem", b"C2\n");
        sh(d, &["add", "--", "certs/a.pem", "certs/c.pem"], None);
        sh(d, &["rm", "-q", "--", "certs/sub/b.pem"], None);
        sh(d, &["update-index", "--chmod=-x", "run.sh"], None);
        sh(d, &["commit", "-q", "-m", "second"], None);
        let c2 = sh(d, &["rev-parse", "HEAD"], None);
        Fixture { dir, c1, c2 }
    }

    fn kind_of(tree: &GitTree, path: &str) -> Option<EntryKind> {
        tree.entry(path).map(|e| e.kind)
    }

    #[test]
    fn git_tree_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<GitTree>();
    }

    #[test]
    fn open_lists_entries_with_kinds_and_sizes() {
        let f = fixture();
        let t1 = GitTree::open(f.repo(), "HEAD~1").expect("open HEAD~1");
        assert_eq!(t1.commit(), f.c1);
        let paths: Vec<&str> = t1.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "README.md",
                "big.bin",
                "certs-old/x.pem",
                "certs.txt",
                "certs/a.pem",
                "certs/sub/b.pem",
                UNICODE,
                "link",
                "run.sh",
                "vendor",
            ]
        );
        assert!(paths.windows(2).all(|w| w[0] < w[1]), "sorted: {paths:?}");
        assert_eq!(kind_of(&t1, "README.md"), Some(EntryKind::File));
        assert_eq!(kind_of(&t1, "run.sh"), Some(EntryKind::Executable));
        assert_eq!(kind_of(&t1, "link"), Some(EntryKind::Symlink));
        assert_eq!(kind_of(&t1, "vendor"), Some(EntryKind::Submodule));
        let size = |p: &str| t1.entry(p).map(|e| e.size);
        assert_eq!(size("README.md"), Some(6));
        assert_eq!(size("big.bin"), Some(BIG as u64));
        assert_eq!(size("link"), Some(LINK_TARGET.len() as u64));
        assert_eq!(size("vendor"), Some(0));
        assert_eq!(
            t1.entry("vendor").map(|e| e.oid.as_str()),
            Some(SUBMODULE_SHA)
        );
        assert!(t1.entries().iter().all(|e| is_oid(&e.oid)));

        let t2 = GitTree::open(f.repo(), "main").expect("open main");
        assert_eq!(t2.commit(), f.c2);
        assert_eq!(kind_of(&t2, "run.sh"), Some(EntryKind::File));
        assert_eq!(kind_of(&t2, "certs/sub/b.pem"), None);
        assert_eq!(kind_of(&t2, "certs/c.pem"), Some(EntryKind::File));
        // A full sha works too.
        let t = GitTree::open(f.repo(), &f.c1).expect("open by sha");
        assert_eq!(t.commit(), f.c1);
        assert_eq!(t.repo(), f.repo());
    }

    #[test]
    fn read_blob_at_both_commits() {
        let f = fixture();
        let t1 = GitTree::open(f.repo(), &f.c1).expect("c1");
        let t2 = GitTree::open(f.repo(), &f.c2).expect("c2");
        assert_eq!(t1.read_blob("certs/a.pem").expect("a1"), b"A1\n");
        assert_eq!(t2.read_blob("certs/a.pem").expect("a2"), b"A2\n");
        assert_eq!(t1.read_blob("certs/sub/b.pem").expect("b1"), b"B1\n");
        assert_eq!(
            t2.read_blob("certs/sub/b.pem").map_err(|e| e.kind()),
            Err(ErrorKind::NotFound)
        );
        assert_eq!(
            t1.read_blob("certs/c.pem").map_err(|e| e.kind()),
            Err(ErrorKind::NotFound)
        );
        assert_eq!(t2.read_blob("certs/c.pem").expect("c2"), b"C2\n");
        assert_eq!(
            t1.read_blob("run.sh").expect("exec"),
            b"#!/bin/sh\necho hi\n"
        );
        assert_eq!(t1.read_blob(UNICODE).expect("unicode"), b"unicode\n");
        assert!(t1.is_file(UNICODE));
        // Through the trait.
        let src: &dyn FileSource = &t2;
        assert_eq!(src.read("README.md").expect("readme"), b"hello\n");
    }

    #[test]
    fn bad_paths_are_refused() {
        let f = fixture();
        let t = GitTree::open(f.repo(), "HEAD~1").expect("open");
        let kind = |p: &str| t.read_blob(p).map_err(|e| e.kind());
        assert_eq!(kind("no/such.pem"), Err(ErrorKind::NotFound));
        assert_eq!(kind("../README.md"), Err(ErrorKind::InvalidInput));
        assert_eq!(kind("certs/../README.md"), Err(ErrorKind::InvalidInput));
        assert_eq!(kind("/README.md"), Err(ErrorKind::InvalidInput));
        assert_eq!(kind(""), Err(ErrorKind::InvalidInput));
        assert_eq!(kind("certs"), Err(ErrorKind::InvalidInput));
        assert_eq!(kind("vendor"), Err(ErrorKind::InvalidInput));
        assert!(!t.is_file("../README.md"));
        assert!(!t.is_file("certs"));
        assert!(!t.is_file("vendor"));
    }

    #[test]
    fn symlink_is_not_followed() {
        let f = fixture();
        let t = GitTree::open(f.repo(), "HEAD~1").expect("open");
        let err = t.read_blob("link").expect_err("symlink");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!t.is_file("link"));
        assert!(!t.list("").contains(&"link".to_string()));
    }

    #[test]
    fn unknown_revision() {
        let f = fixture();
        for rev in ["no-such-branch", "HEAD~5", "-rf", "", "a\nb"] {
            match GitTree::open(f.repo(), rev) {
                Err(GitError::UnknownRevision {
                    rev: r,
                    shallow,
                    message,
                }) => {
                    assert_eq!(r, rev);
                    assert!(!shallow);
                    assert!(!message.contains("unshallow"), "{message}");
                }
                other => panic!("{rev:?}: expected UnknownRevision, got {other:?}"),
            }
        }
        // An object that is not a commit.
        let blob = GitTree::open(f.repo(), "HEAD")
            .expect("open")
            .entry("README.md")
            .map(|e| e.oid.clone())
            .expect("readme");
        assert!(matches!(
            GitTree::open(f.repo(), &blob),
            Err(GitError::UnknownRevision { .. })
        ));
    }

    #[test]
    fn shallow_clone_says_fetch_more_history() {
        let f = fixture();
        let parent = tempfile::tempdir().expect("tempdir");
        let url = format!("file://{}", f.repo().display());
        sh(
            parent.path(),
            &["clone", "-q", "--depth", "1", &url, "shallow"],
            None,
        );
        let clone = parent.path().join("shallow");
        let head = GitTree::open(&clone, "HEAD").expect("HEAD is there");
        assert_eq!(head.commit(), f.c2);
        assert_eq!(head.read_blob("certs/a.pem").expect("a2"), b"A2\n");
        let err = GitTree::open(&clone, "HEAD~1").expect_err("HEAD~1 not fetched");
        match &err {
            GitError::UnknownRevision {
                rev,
                shallow,
                message,
            } => {
                assert_eq!(rev, "HEAD~1");
                assert!(shallow);
                assert!(message.contains("shallow clone"), "{message}");
                assert!(message.contains("fetch more history"), "{message}");
                assert!(message.contains("git fetch --deepen=N"), "{message}");
                assert!(message.contains("git fetch --unshallow"), "{message}");
            }
            other => panic!("expected UnknownRevision, got {other:?}"),
        }
        assert!(err.to_string().contains("--unshallow"), "{err}");
        // The first commit's sha is not there either.
        assert!(matches!(
            GitTree::open(&clone, &f.c1),
            Err(GitError::UnknownRevision { shallow: true, .. })
        ));
    }

    #[test]
    fn not_a_repo() {
        let dir = tempfile::tempdir().expect("tempdir");
        match GitTree::open(dir.path(), "HEAD") {
            Err(GitError::NotARepo { repo, message }) => {
                assert_eq!(repo, dir.path().display().to_string());
                assert!(message.contains("not a git repository"), "{message}");
            }
            other => panic!("expected NotARepo, got {other:?}"),
        }
        let missing = dir.path().join("nope");
        assert!(matches!(
            GitTree::open(&missing, "HEAD"),
            Err(GitError::NotARepo { .. })
        ));
    }

    #[test]
    fn missing_git_is_no_git() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = command("certdrift-test-no-such-git", dir.path());
        cmd.arg("version");
        assert!(matches!(run(&mut cmd), Err(GitError::NoGit(_))));
    }

    #[test]
    fn concurrent_reads_from_four_threads() {
        let f = fixture();
        let t = GitTree::open(f.repo(), &f.c1).expect("open");
        let big = big_blob();
        let expected: [(&str, &[u8]); 4] = [
            ("README.md", b"hello\n"),
            ("certs/a.pem", b"A1\n"),
            ("certs/sub/b.pem", b"B1\n"),
            (UNICODE, b"unicode\n"),
        ];
        thread::scope(|s| {
            for n in 0..4 {
                let (t, big, expected) = (&t, &big, &expected);
                s.spawn(move || {
                    for i in 0..40 {
                        let (path, want) = expected[(n + i) % expected.len()];
                        assert_eq!(t.read_blob(path).expect("read"), want, "{path}");
                        if i % 10 == n {
                            assert!(t.read_blob("big.bin").expect("big") == *big);
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn cat_file_is_restarted_after_a_crash() {
        let f = fixture();
        let mut t = GitTree::open(f.repo(), "HEAD").expect("open");
        // Blobs through cat-file, not from the working tree.
        t.worktree = None;
        assert_eq!(t.read_blob("README.md").expect("first"), b"hello\n");
        assert!(t.crash_cat_file());
        assert_eq!(t.read_blob("certs/a.pem").expect("after crash"), b"A2\n");
        assert!(t.crash_cat_file());
        assert_eq!(t.read_blob("README.md").expect("again"), b"hello\n");
    }

    #[test]
    fn cat_file_that_keeps_failing_is_an_error() {
        let f = fixture();
        let mut t = GitTree::open(f.repo(), "HEAD").expect("open");
        // Blobs through cat-file, not from the working tree.
        t.worktree = None;
        // The repository disappears: every cat-file exits at once.
        std::fs::remove_dir_all(f.repo().join(".git")).expect("remove .git");
        let err = t.read_blob("README.md").expect_err("no repository left");
        assert!(err.to_string().contains("restarted"), "{err}");
        // Still an error, not a hang, the next time.
        assert!(t.read_blob("certs/a.pem").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_path_is_converted_lossily() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        sh(d, &["init", "-q"], None);
        let blob = sh(d, &["hash-object", "-w", "--stdin"], Some(b"x\n"));
        let mut info = format!("100644,{blob},").into_bytes();
        info.extend_from_slice(b"bad-\xff.pem");
        let status = Command::new("git")
            .arg("-C")
            .arg(d)
            .args(["update-index", "--add", "--cacheinfo"])
            .arg(std::ffi::OsStr::from_bytes(&info))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .expect("update-index");
        assert!(status.success());
        sh(d, &["commit", "-q", "-m", "bad name"], None);
        let t = GitTree::open(d, "HEAD").expect("open");
        let paths: Vec<&str> = t.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["bad-\u{fffd}.pem"]);
    }

    #[test]
    fn blob_ids_tell_the_changed_paths_between_commits() {
        let f = fixture();
        let t1 = GitTree::open(f.repo(), &f.c1).expect("c1");
        let t2 = GitTree::open(f.repo(), &f.c2).expect("c2");
        // What `diff` compares: each path's blob id on both sides (a path
        // on one side only has no id on the other).
        let changed = |a: &GitTree, b: &GitTree| {
            let mut paths: Vec<String> = a
                .entries
                .iter()
                .chain(&b.entries)
                .map(|e| e.path.clone())
                .filter(|p| a.content_id(p) != b.content_id(p))
                .collect();
            paths.sort();
            paths.dedup();
            paths
        };
        let want = ["certs/a.pem", "certs/c.pem", "certs/sub/b.pem", "run.sh"];
        assert_eq!(changed(&t1, &t2), want);
        assert_eq!(changed(&t2, &t1), want);
        assert!(changed(&t1, &t1).is_empty());
    }

    #[test]
    fn list_below_a_directory() {
        let f = fixture();
        let t1 = GitTree::open(f.repo(), &f.c1).expect("c1");
        let t2 = GitTree::open(f.repo(), &f.c2).expect("c2");
        assert_eq!(t1.list("certs"), ["certs/a.pem", "certs/sub/b.pem"]);
        assert_eq!(t1.list("certs/"), ["certs/a.pem", "certs/sub/b.pem"]);
        assert_eq!(t2.list("certs"), ["certs/a.pem", "certs/c.pem"]);
        assert_eq!(t1.list("certs/sub"), ["certs/sub/b.pem"]);
        assert_eq!(t1.list("dir with space"), [UNICODE]);
        assert!(t1.list("README.md").is_empty());
        assert!(t1.list("nope").is_empty());
        assert!(t1.list("../certs").is_empty());
        assert!(t1.list("/certs").is_empty());
        let all = t1.list("");
        assert_eq!(all.len(), 8, "{all:?}");
        assert!(!all.iter().any(|p| p == "link" || p == "vendor"));
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn open_under_keeps_only_that_directory() {
        let f = fixture();
        let t = GitTree::open_under(f.repo(), &f.c1, "certs").expect("open");
        let paths: Vec<&str> = t.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["certs/a.pem", "certs/sub/b.pem"]);
        let t = GitTree::open_under(f.repo(), &f.c1, "/certs/sub/").expect("open");
        assert_eq!(t.list(""), ["certs/sub/b.pem"]);
        let t = GitTree::open_under(f.repo(), &f.c1, "nope").expect("open");
        assert!(t.entries().is_empty());
    }

    #[test]
    fn five_megabyte_blob_and_cap() {
        let f = fixture();
        let t = GitTree::open(f.repo(), "HEAD").expect("open");
        // Refused from the listing's size, before any git cat-file runs.
        let err = t
            .read_blob_capped("big.bin", 1024 * 1024)
            .expect_err("over the cap");
        assert_eq!(err.kind(), ErrorKind::FileTooLarge);
        assert!(t.lock_cat().is_none(), "cat-file was started");
        assert!(
            t.read_blob_capped("big.bin", BIG as u64)
                .expect("at the cap")
                == big_blob()
        );
        assert!(t.read_blob("big.bin").expect("uncapped") == big_blob());
        // The stream is still in step afterwards.
        assert_eq!(t.read_blob("README.md").expect("after big"), b"hello\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn drop_reaps_cat_file() {
        let f = fixture();
        let mut t = GitTree::open(f.repo(), "HEAD").expect("open");
        // Blobs through cat-file, not from the working tree.
        t.worktree = None;
        t.read_blob("README.md").expect("read");
        let pid = t
            .lock_cat()
            .as_ref()
            .map(|c| c.child.id())
            .expect("running");
        drop(t);
        // Reaped: no such process (not even a zombie) remains.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn blob_ids_are_gits() {
        let dir = tempfile::tempdir().unwrap();
        for bytes in [&b""[..], b"hello", b"a\0b\r\n", &[0xffu8; 70_000][..]] {
            let p = dir.path().join("f");
            std::fs::write(&p, bytes).unwrap();
            let want = sh(dir.path(), &["hash-object", "--no-filters", "f"], None);
            assert_eq!(blob_id(bytes, 40).as_deref(), Some(want.as_str()));
        }
        assert_eq!(blob_id(b"x", 41), None);
    }

    /// A working-tree file is read instead of the blob only when it is the
    /// blob: edited (even to the same size), replaced by a symlink or
    /// removed, the revision's content still comes from git.
    #[test]
    fn worktree_files_stand_in_for_identical_blobs_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        sh(d, &["init", "-q"], None);
        std::fs::write(d.join("same.yaml"), "a: 1\n").unwrap();
        std::fs::write(d.join("edited.yaml"), "b: 1\n").unwrap();
        std::fs::write(d.join("gone.yaml"), "c: 1\n").unwrap();
        std::fs::write(d.join("linked.yaml"), "d: 1\n").unwrap();
        sh(d, &["add", "-A"], None);
        sh(d, &["commit", "-qm", "one"], None);
        std::fs::write(d.join("edited.yaml"), "b: 2\n").unwrap();
        std::fs::remove_file(d.join("gone.yaml")).unwrap();
        std::fs::remove_file(d.join("linked.yaml")).unwrap();
        std::os::unix::fs::symlink("same.yaml", d.join("linked.yaml")).unwrap();
        let t = GitTree::open(d, "HEAD").unwrap();
        assert_eq!(
            t.worktree.as_deref(),
            Some(d.canonicalize().unwrap().as_path())
        );
        for (path, want) in [
            ("same.yaml", "a: 1\n"),
            ("edited.yaml", "b: 1\n"),
            ("gone.yaml", "c: 1\n"),
            ("linked.yaml", "d: 1\n"),
        ] {
            assert_eq!(t.read_blob(path).unwrap(), want.as_bytes(), "{path}");
        }
        let entry = t.entry("same.yaml").unwrap();
        assert!(t.worktree_blob(entry).is_some());
        assert!(t.worktree_blob(t.entry("edited.yaml").unwrap()).is_none());
        // A bare clone has no working tree: every blob comes from git.
        let bare = tempfile::tempdir().unwrap();
        let repo = d.to_str().unwrap();
        sh(bare.path(), &["clone", "-q", "--bare", repo, "r.git"], None);
        let t = GitTree::open(&bare.path().join("r.git"), "HEAD").unwrap();
        assert!(t.worktree.is_none());
        assert_eq!(t.read_blob("same.yaml").unwrap(), b"a: 1\n");
    }
}
