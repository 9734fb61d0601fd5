//! `unused-exception`: a policy exception that matches no finding.

use super::declare_rule;
use crate::finding::Severity;

declare_rule! {
    /// What it detects: an entry of a policy's `exceptions:` that matched
    /// no finding in this scan.
    ///
    /// Why it matters: exceptions outlive their reasons. One that matches
    /// nothing is either stale (the problem was fixed: delete it) or
    /// mistyped (it does not suppress what its author meant, and a real
    /// problem may be hiding behind the belief that it is handled).
    ///
    /// Example: `exceptions: [{rule: expired, path: "legacy/**", reason:
    /// "kept for history"}]` after `legacy/` was removed.
    pub static RULE = {
        id: "unused-exception",
        severity: Severity::Warning,
        summary: "a policy exception matches no finding",
    };
}

// Made by the suppress stage (`crate::suppress::exceptions`), for any stage's findings: no check of its own.
