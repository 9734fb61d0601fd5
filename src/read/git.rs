//! Git revisions as file sources (stand-in until the git reader lands).
#![allow(missing_docs)]
use super::source::FileSource;
use std::io;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GitError(String);

pub struct GitTree;
impl GitTree {
    pub fn open(_repo: &Path, rev: &str) -> Result<GitTree, GitError> {
        Err(GitError(format!(
            "cannot read revision {rev}: git support is not built yet"
        )))
    }
}
impl FileSource for GitTree {
    fn read(&self, _rel: &str) -> io::Result<Vec<u8>> {
        Err(io::Error::other("unsupported"))
    }
    fn is_file(&self, _rel: &str) -> bool {
        false
    }
    fn list(&self, _dir: &str) -> Vec<String> {
        Vec::new()
    }
}
