//! `certdrift init`: a commented starter `.certdrift.yaml`.

use super::output::print;
use anyhow::{bail, Context as _, Result};
use certdrift::config;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Writes the starter file in `dir` (default `.`); only over an existing one with `force`.
pub(crate) fn run(dir: Option<PathBuf>, force: bool) -> Result<ExitCode> {
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
