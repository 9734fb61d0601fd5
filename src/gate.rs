//! The gate's own configuration in `certdrift diff`: BASE's, never the
//! change's.
//!
//! In: the two sides of a diff. Out: the configuration read from BASE
//! (`.certdrift.yaml` at its top and the policy files its settings name,
//! all read from that revision), and HEAD's beside it for the `gate-change`
//! rule, which reports when the change edits them. A pull request that adds a private key together with
//! `settings: {fail_on: never}` or `severity: {private-key-in-repo: off}`
//! must not pass its own gate: what the change says about the gate takes
//! effect once it is merged, and is reported until then.

use crate::config::{self, Settings};
use crate::policy::{self, Policy, PolicyError};
use crate::read::source::FileSource;

/// Both revisions' configuration in a diff: what `gate-change` compares.
#[derive(Clone, Debug, Default)]
pub struct Sides {
    /// BASE's: the one in force.
    pub base: GateConfig,
    /// HEAD's: compared, not obeyed.
    pub head: GateConfig,
    /// How HEAD is named in messages (a revision or a directory).
    pub head_label: String,
}

/// The configuration files of one revision, as read.
#[derive(Clone, Debug, Default)]
pub struct GateConfig {
    /// `(path, text)` of `.certdrift.yaml` and then each policy file its
    /// settings name, in that order; empty when the revision has none.
    pub files: Vec<(String, String)>,
    /// The settings of `.certdrift.yaml`.
    pub settings: Settings,
}

/// Why a revision's configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// A file does not parse as settings or policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A policy file the settings name cannot be read in the revision.
    #[error(
        "{label}:{path}: cannot read the policy file that {label}:{} names: {message}",
        config::FILE_NAME
    )]
    Read {
        /// The revision or directory.
        label: String,
        /// The file.
        path: String,
        /// The I/O error.
        message: String,
    },
}

/// Reads the configuration of the revision `src` (named `label` in
/// messages). Paths are read through `src`, which never leaves it.
pub fn read(src: &dyn FileSource, label: &str) -> Result<GateConfig, GateError> {
    let mut gate = GateConfig::default();
    let Ok(bytes) = src.read(config::FILE_NAME) else {
        return Ok(gate);
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let name = format!("{label}:{}", config::FILE_NAME);
    gate.settings = config::parse(&name, &text, std::path::Path::new(""), false)?;
    gate.files.push((config::FILE_NAME.to_owned(), text));
    for p in &gate.settings.policies {
        let path = p.to_string_lossy().replace('\\', "/");
        let path = path.trim_start_matches("./").to_owned();
        let bytes = src.read(&path).map_err(|e| GateError::Read {
            label: label.to_owned(),
            path: path.clone(),
            message: e.to_string(),
        })?;
        gate.files
            .push((path, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(gate)
}

/// The built-in policy with every file of `gate` merged in order.
pub fn policy(gate: &GateConfig, label: &str) -> Result<Policy, PolicyError> {
    let mut p = policy::builtin();
    for (path, text) in &gate.files {
        p.merge(policy::parse(&format!("{label}:{path}"), text)?);
    }
    Ok(p)
}

/// How strict a `fail_on` setting is: lower fails on more.
pub fn strictness(fail_on: Option<&str>) -> u8 {
    match fail_on.unwrap_or("error") {
        "note" => 0,
        "warning" => 1,
        "error" => 2,
        _ => 3,
    }
}
