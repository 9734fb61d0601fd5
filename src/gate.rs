//! The gate's own configuration in `certdrift diff`: BASE's, never the
//! change's.
//!
//! In: the two sides of a diff. Out: the configuration read from BASE
//! (`.certdrift.yaml` at its top and the policy files its settings name,
//! all read from that revision), and a `gate-change` finding when HEAD
//! changes them. A pull request that adds a private key together with
//! `settings: {fail_on: never}` or `severity: {private-key-in-repo: off}`
//! must not pass its own gate: what the change says about the gate takes
//! effect once it is merged, and is reported until then.

use crate::config::{self, Settings};
use crate::finding::{Finding, Location, Severity};
use crate::policy::{self, Policy, PolicyError};
use crate::read::source::FileSource;

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
fn strictness(fail_on: Option<&str>) -> u8 {
    match fail_on.unwrap_or("error") {
        "note" => 0,
        "warning" => 1,
        "error" => 2,
        _ => 3,
    }
}

/// A `gate-change` finding when HEAD's configuration files differ from
/// BASE's: it says what the change would weaken (a laxer `fail_on`, rules
/// turned off or down, more exceptions), at HEAD's `.certdrift.yaml`.
/// `severity` is the rule's severity under BASE's policy (`None`: off).
pub fn change(
    base: &GateConfig,
    head: &GateConfig,
    head_label: &str,
    severity: Option<Severity>,
) -> Option<Finding> {
    let severity = severity?;
    if base.files == head.files {
        return None;
    }
    let mut weakens = Vec::new();
    let (bf, hf) = (
        base.settings.fail_on.as_deref(),
        head.settings.fail_on.as_deref(),
    );
    if strictness(hf) > strictness(bf) {
        weakens.push(format!(
            "fail_on {} → {}",
            bf.unwrap_or("error"),
            hf.unwrap_or("error")
        ));
    }
    // Policies that do not parse are reported by the scan that reads them;
    // here only what parses can be compared.
    if let (Ok(bp), Ok(hp)) = (policy(base, "BASE"), policy(head, head_label)) {
        for (rule, sev) in &hp.severities {
            let before = bp
                .severities
                .get(rule)
                .copied()
                .unwrap_or_else(|| crate::rules::find(rule).map(|r| r.severity));
            let lower = match (before, sev) {
                (Some(_), None) => true,
                (Some(b), Some(h)) => h < &b,
                (None, _) => false,
            };
            if lower {
                let now = sev.map_or("off".to_owned(), |s| s.to_string());
                weakens.push(format!("{rule} → {now}"));
            }
        }
        let added = hp.exceptions.len().saturating_sub(bp.exceptions.len());
        if added > 0 {
            weakens.push(format!("{added} more exception(s)"));
        }
    }
    let what = if weakens.is_empty() {
        "changes the gate's configuration".to_owned()
    } else {
        format!("would weaken the gate ({})", weakens.join(", "))
    };
    let changed: Vec<&str> = {
        let mut paths: Vec<&str> = base
            .files
            .iter()
            .chain(&head.files)
            .filter(|f| !base.files.contains(f) || !head.files.contains(f))
            .map(|(p, _)| p.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths
    };
    let mut f = Finding::new(
        crate::rules::GATE_CHANGE.id,
        severity,
        Location::new(0, config::FILE_NAME, 1, 1),
        format!(
            "this change {what} in {}; this run used BASE's configuration, and the change's takes effect once merged",
            changed.join(", ")
        ),
    );
    f.help =
        Some("review the configuration change on its own; a change cannot set its own gate".into());
    Some(f)
}
