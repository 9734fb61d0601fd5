//! Stage 6, suppress: what the user's configuration accepts.
//!
//! In: the findings of one stage's rules — a scan's, a diff's, a probe's —
//! and what can accept a finding: the policy (severities, exceptions), the
//! scanned files' `# certdrift:ignore[…]` comments, a baseline. Out: the
//! findings to report, in report order, and the suppressed ones, each with
//! what suppressed it and why. `scan`, `diff` and `probe` all call
//! [`apply`] after their rules and before reporting: one place decides what
//! a user's configuration accepts, whichever command runs.
//!
//! The steps, in order: [`exceptions`] (severities — a rule turned `off`
//! drops its findings — then exceptions, and `unused-exception` for the
//! exceptions of this stage's rules that accepted nothing), [`inline`]
//! comments (and `invalid-suppression` for a comment that cannot be
//! honoured), the [`baseline`] (and `stale-baseline` for an entry with
//! fewer findings than it lists).

pub mod baseline;
pub mod exceptions;
pub mod inline;

use crate::finding::{sort_findings, sort_suppressed, Finding, Suppressed};
use crate::policy::Policy;
use crate::rules::Stage;
use baseline::Baseline;

/// What may accept the findings of one stage.
pub struct Suppressors<'a> {
    /// Severities and exceptions.
    pub policy: &'a Policy,
    /// The stage whose rules made the findings: it judges which exceptions
    /// went unused.
    pub stage: Stage,
    /// The decoded text of a scanned file, by (root, path): where inline
    /// comments are read.
    pub read: &'a dyn Fn(usize, &str) -> Option<String>,
    /// `--baseline`, when given.
    pub baseline: Option<&'a Baseline>,
}

/// The findings to report and the ones suppressed, both in report order.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings to report.
    pub findings: Vec<Finding>,
    /// Findings accepted, with by what and why.
    pub suppressed: Vec<Suppressed>,
}

/// Applies everything that may accept a finding to `findings`.
pub fn apply(findings: Vec<Finding>, by: &Suppressors<'_>) -> Outcome {
    let (mut findings, mut suppressed) = exceptions::apply(by.policy, by.stage, findings);
    sort_findings(&mut findings);
    let (inline, invalid) = inline::apply(&mut findings, by.read, by.policy);
    suppressed.extend(inline);
    findings.extend(invalid);
    sort_findings(&mut findings);
    if let Some(b) = by.baseline {
        let (accepted, stale) = b.apply(&mut findings, by.policy);
        suppressed.extend(accepted);
        findings.extend(stale);
        sort_findings(&mut findings);
    }
    sort_suppressed(&mut suppressed);
    Outcome {
        findings,
        suppressed,
    }
}
