//! Writing a report or a baseline to a file, safely on a shared runner.
//!
//! In: a path the user named (`--output FORMAT=PATH`, `--write-baseline
//! PATH`) and the bytes. Out: the file replaced whole, or left as it was.
//! The bytes go to a new temporary file beside the target (created
//! exclusively, never through a link), are flushed to disk, and the
//! temporary file is renamed over the target: a reader sees the old file or
//! the new one, never a truncated one, and a failed write (full disk,
//! killed process) keeps the previous content. A target that is a symbolic
//! link is refused: a pull request must not be able to point
//! `certdrift.sarif` at a file elsewhere on the runner.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Replaces the file at `path` with `bytes` (see the module doc).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link (not written through)",
        ));
    }
    if path.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a directory",
        ));
    }
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".certdrift-{}-{attempt}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        // `create_new` is O_CREAT|O_EXCL: it never follows a link planted
        // at the temporary name.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_refuses_links() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.sarif");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "keep").unwrap();
        let link = dir.path().join("link.sarif");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let err = write_atomic(&link, b"evil").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep");

        // A failed write leaves nothing behind.
        assert!(write_atomic(&dir.path().join("missing/x.json"), b"x").is_err());
        assert!(write_atomic(dir.path(), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }
}
