//! Findings: what a rule reports about the inventory.
//!
//! In: nothing (plain data). Out: [`Finding`], [`Severity`], [`Location`], the
//! types every rule produces and every renderer reads, and [`Suppressed`], a
//! finding kept out of the report with the reason. A finding is not an
//! error: `Result::Err` is reserved for the tool failing.

use crate::x509::Fingerprint;
use serde::Serialize;
use std::fmt;

/// How bad a finding is; ordered so that `Error > Warning > Note`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a build by default.
    Note,
    /// Likely to hurt later.
    Warning,
    /// Breaks, or already broke, something.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in a scanned file: `path` is relative to the root it was found
/// under and `/`-separated; `line` and `column` are 1-based.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// Path relative to its root, `/`-separated.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// Index of the root this path is relative to (not serialized).
    #[serde(skip)]
    pub root: usize,
}

impl Location {
    /// A location at `line:column` of `path` under root `root`.
    pub fn new(root: usize, path: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            path: path.into(),
            line: line.max(1),
            column: column.max(1),
            root,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// Another place a finding rests on, with what it shows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Related {
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// What this place contributes to the finding.
    pub note: String,
}

/// One problem found by one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable kebab-case id.
    pub rule: &'static str,
    /// Severity after policy adjustments.
    pub severity: Severity,
    /// One sentence a user can act on. Never contains key material.
    pub message: String,
    /// The place to fix.
    pub location: Location,
    /// Other places the finding rests on.
    pub related: Vec<Related>,
    /// Certificates involved, by fingerprint.
    pub certificates: Vec<Fingerprint>,
    /// The component concerned, where one is known.
    pub component: Option<String>,
    /// The peer it connects to or is connected from, where one is concerned.
    pub peer: Option<String>,
    /// How to fix it, when there is something general to say.
    pub help: Option<String>,
    /// Whether every place of the finding is a test, fixture, example or
    /// doc (the policy's `test_paths`): its severity is capped at note (a
    /// private key's at warning) after the policy's severities.
    pub fixture: bool,
    /// For the one finding that stands for a rule's findings a report
    /// leaves out ([`cap_per_rule`]): how many of them are errors,
    /// warnings and notes, so that a report's counts stay true.
    pub stands_for: Option<[usize; 3]>,
}

impl Finding {
    /// How many findings this is, by severity: `[errors, warnings, notes]`.
    pub fn weight(&self) -> [usize; 3] {
        self.stands_for.unwrap_or_else(|| {
            let mut w = [0; 3];
            w[match self.severity {
                Severity::Error => 0,
                Severity::Warning => 1,
                Severity::Note => 2,
            }] = 1;
            w
        })
    }
}

impl Finding {
    /// A finding with no related places, certificates or component.
    pub fn new(
        rule: &'static str,
        severity: Severity,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            severity,
            message: message.into(),
            location,
            related: Vec::new(),
            certificates: Vec::new(),
            component: None,
            peer: None,
            help: None,
            fixture: false,
            stands_for: None,
        }
    }

    /// What identifies this finding across runs (SARIF fingerprints, baselines).
    pub fn key(&self) -> FindingKey {
        let mut certificates = self.certificates.clone();
        certificates.sort();
        FindingKey {
            rule: self.rule.to_owned(),
            component: self.component.clone(),
            certificates,
            path: self.location.path.clone(),
        }
    }

    /// The order every report uses: by place, then rule, then message.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (
            &self.location.path,
            self.location.line,
            self.location.column,
            self.rule,
            &self.message,
        )
    }
}

/// A finding's identity across runs: rule, component, certificates (sorted)
/// and path, but not its line or message — lines shift when a file is
/// edited, and messages count days to `--now` or name lines.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKey {
    /// The rule id.
    pub rule: String,
    /// The component, where one is known.
    pub component: Option<String>,
    /// Certificates involved, sorted.
    pub certificates: Vec<Fingerprint>,
    /// Path relative to its root.
    pub path: String,
}

/// What kept a finding out of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressedBy {
    /// An entry of a policy's `exceptions:`.
    Exception,
    /// A `# certdrift:ignore[rule] reason` comment in the file.
    Inline,
    /// An entry of `--baseline FILE`.
    Baseline,
}

impl SuppressedBy {
    /// Every kind, in the order summaries list them.
    pub const ALL: [SuppressedBy; 3] = [
        SuppressedBy::Exception,
        SuppressedBy::Inline,
        SuppressedBy::Baseline,
    ];

    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressedBy::Exception => "exception",
            SuppressedBy::Inline => "inline",
            SuppressedBy::Baseline => "baseline",
        }
    }
}

/// A finding kept out of the report, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    /// The finding as the rule reported it.
    pub finding: Finding,
    /// What suppressed it.
    pub by: SuppressedBy,
    /// The reason given with the exception or comment (for a baseline: which file).
    pub reason: String,
    /// Where the suppression is written: the exception, the comment or the baseline entry.
    pub at: Location,
}

/// Sorts findings into report order and drops exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.location.root.cmp(&b.location.root))
            .then_with(|| a.certificates.cmp(&b.certificates))
            .then_with(|| a.related.cmp(&b.related))
    });
    findings.dedup();
}

/// Most findings of one rule a report shows.
pub const MAX_SHOWN_PER_RULE: usize = 1_000;

/// Caps a sorted list at `max` findings per rule, for the report: the rest
/// of each rule's findings become one finding of that rule, at the first
/// one left out, with the highest severity among them, so that the report
/// stays bounded and a gate that fails on them still fails. Returns how
/// many were left out.
pub fn cap_per_rule(findings: &mut Vec<Finding>, max: usize) -> usize {
    let mut counts: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for f in findings.iter() {
        *counts.entry(f.rule).or_default() += 1;
    }
    if counts.values().all(|&n| n <= max) {
        return 0;
    }
    // `max` in all: `max - 1` findings and the summary (so capping twice
    // changes nothing).
    let keep = max.saturating_sub(1);
    let mut seen: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut over: std::collections::BTreeMap<&'static str, Finding> = Default::default();
    let mut left_out = 0;
    findings.retain(|f| {
        let n = seen.entry(f.rule).or_default();
        *n += 1;
        if *n <= keep || counts[f.rule] <= max {
            return true;
        }
        left_out += 1;
        let total = counts[f.rule];
        let summary = over.entry(f.rule).or_insert_with(|| {
            Finding::new(
                f.rule,
                f.severity,
                f.location.clone(),
                format!(
                    "… and {} more {} findings not shown (a report shows at most {max} per rule; this is the first left out)",
                    total - keep,
                    f.rule
                ),
            )
        });
        summary.severity = summary.severity.max(f.severity);
        let w = summary.stands_for.get_or_insert([0; 3]);
        for (t, x) in w.iter_mut().zip(f.weight()) {
            *t += x;
        }
        false
    });
    findings.extend(over.into_values());
    sort_findings(findings);
    left_out
}

/// Sorts suppressed findings into report order (by their findings; what
/// suppressed them breaks ties).
pub fn sort_suppressed(list: &mut [Suppressed]) {
    list.sort_by(|a, b| {
        a.finding
            .sort_key()
            .cmp(&b.finding.sort_key())
            .then_with(|| a.by.cmp(&b.by))
    });
}

#[cfg(test)]
mod cap_tests {
    use super::*;

    #[test]
    fn caps_each_rule_and_keeps_the_worst_severity() {
        let mut list: Vec<Finding> = (0..10)
            .map(|i| {
                let sev = if i == 7 {
                    Severity::Error
                } else {
                    Severity::Note
                };
                Finding::new(
                    "expired",
                    sev,
                    Location::new(0, format!("f{i:02}"), 1, 1),
                    "x",
                )
            })
            .chain(std::iter::once(Finding::new(
                "malformed",
                Severity::Warning,
                Location::new(0, "z", 1, 1),
                "y",
            )))
            .collect();
        sort_findings(&mut list);
        assert_eq!(cap_per_rule(&mut list, 3), 8);
        assert_eq!(list.len(), 4);
        let summary = list.iter().find(|f| f.message.starts_with("…")).unwrap();
        assert_eq!(summary.rule, "expired");
        assert_eq!(summary.severity, Severity::Error);
        assert_eq!(summary.location.path, "f02");
        assert!(summary.message.contains("8 more expired findings"));
        assert_eq!(cap_per_rule(&mut list, 3), 0);
    }
}
