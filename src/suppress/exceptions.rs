//! The policy's say over findings: severities and exceptions.
//!
//! In: one stage's findings and the policy. Out: the findings with the
//! policy's severities (those of a rule turned `off` dropped; a finding
//! about test, fixture, example or doc paths then capped at note, a
//! private key's at warning), the ones an
//! exception accepts (moved out, with its reason), and an `unused-exception`
//! finding for each exception of this stage's rules that accepted nothing.
//! An exception is judged by its rule's home stage ([`Rule::home`]): an
//! exception for `source-change` is used or unused in `diff`, never in a
//! scan, which cannot make that finding.

use crate::finding::{Finding, Location, Suppressed, SuppressedBy};
use crate::policy::{glob_matches, Exception, Policy, PolicyLoc};
use crate::rules::{self, Stage};

/// Applies `policy`'s severities and exceptions to the findings of `stage`:
/// the kept findings (in their order, then the `unused-exception` ones) and
/// the suppressed ones.
pub fn apply(
    policy: &Policy,
    stage: Stage,
    findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<Suppressed>) {
    let mut used = vec![false; policy.exceptions.len()];
    let mut suppressed = Vec::new();
    let mut kept = Vec::with_capacity(findings.len());
    for mut f in findings {
        match policy.severities.get(f.rule) {
            Some(Some(sev)) => f.severity = *sev,
            Some(None) => continue,
            None => {}
        }
        if f.fixture {
            f.severity = f.severity.min(fixture_cap(f.rule));
        }
        match policy.exceptions.iter().position(|e| matches(e, &f)) {
            Some(i) => {
                used[i] = true;
                let e = &policy.exceptions[i];
                suppressed.push(Suppressed {
                    finding: f,
                    by: SuppressedBy::Exception,
                    reason: e.reason.clone(),
                    at: policy_location(&e.location),
                });
            }
            None => kept.push(f),
        }
    }
    if let Some(severity) = rules::severity(policy, &rules::UNUSED_EXCEPTION) {
        let judged_here = |e: &Exception| rules::find(&e.rule).is_some_and(|r| r.home() == stage);
        for (e, used) in policy.exceptions.iter().zip(used) {
            if !used && judged_here(e) {
                kept.push(Finding::new(
                    rules::UNUSED_EXCEPTION.id,
                    severity,
                    policy_location(&e.location),
                    format!("exception for {} ({}) matches no finding", e.rule, e.reason),
                ));
            }
        }
    }
    (kept, suppressed)
}

/// The highest severity of a finding about material in test, fixture,
/// example or doc paths: a note, except a private key (a warning: a key in
/// a fixture is still a key someone may have reused).
fn fixture_cap(rule: &str) -> crate::finding::Severity {
    if rule == "private-key-in-repo" {
        crate::finding::Severity::Warning
    } else {
        crate::finding::Severity::Note
    }
}

/// Whether exception `e` accepts finding `f`: same rule, and each glob or
/// fingerprint prefix it gives matches.
fn matches(e: &Exception, f: &Finding) -> bool {
    e.rule == f.rule
        && e.component
            .as_deref()
            .is_none_or(|c| f.component.as_deref().is_some_and(|fc| glob_matches(c, fc)))
        && e.path
            .as_deref()
            .is_none_or(|p| glob_matches(p, &f.location.path))
        && e.fingerprint.as_deref().is_none_or(|fp| {
            let fp = fp.trim_start_matches("sha256:").to_ascii_lowercase();
            f.certificates.iter().any(|c| c.hex().starts_with(&fp))
        })
}

/// A place in a policy file (not under any scanned root).
fn policy_location(l: &PolicyLoc) -> Location {
    Location::new(usize::MAX, l.file.clone(), l.line, l.column)
}
