//! Stage 5, check: rules over the inventory.
//!
//! In: an [`Inventory`] and the evaluation time. Out: [`Finding`]s, sorted.
//! One rule per file; [`RULES`] is the one table of them. Each rule's doc
//! comment (What it detects / Why it matters / Example) is what
//! `certdrift explain ID` prints.

use crate::finding::{sort_findings, Finding, Location, Severity, Suppressed, SuppressedBy};
use crate::inventory::Inventory;
use crate::x509::CertInfo;

mod ca_divergence;
mod crl_expired;
mod duplicate_in_bundle;
mod expired;
mod expired_anchor;
mod expires_soon;
mod gate_change;
mod invalid_suppression;
mod live_drift;
mod malformed;
mod not_a_ca;
mod not_yet_valid;
mod private_key_in_repo;
mod san_coverage;
mod source_change;
mod source_divergence;
mod stale_baseline;
mod too_many_cas;
mod trust_change;
mod trust_mismatch;
mod unreachable;
mod unresolved;
mod unused_exception;
mod weak_crypto;

/// What every rule sees.
pub struct Context<'a> {
    /// The scan's inventory.
    pub inventory: &'a Inventory,
    /// Evaluation time, unix seconds (`--now`, or the clock read once in `main`).
    pub now: i64,
    /// `expires-soon` threshold in days.
    pub warn_days: i64,
    /// The policy in force.
    pub policy: &'a crate::policy::Policy,
}

/// A rule: a stable id, a default severity, its documentation and its check.
pub struct Rule {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// Severity of its findings unless the rule's docs say otherwise.
    pub severity: Severity,
    /// One line for `certdrift rules`.
    pub summary: &'static str,
    /// The full explanation, from the rule's doc comment.
    pub doc: &'static str,
    /// Runs the rule.
    pub check: fn(&Context<'_>) -> Vec<Finding>,
}

/// Declares a rule whose doc comment becomes its `explain` text.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub static $name:ident = {
            id: $id:literal,
            severity: $sev:expr,
            summary: $summary:literal,
            check: $check:path $(,)?
        };
    ) => {
        $(#[doc = $doc])*
        pub static $name: $crate::rules::Rule = $crate::rules::Rule {
            id: $id,
            severity: $sev,
            summary: $summary,
            doc: concat!($($doc, "\n"),*),
            check: $check,
        };
    };
}
pub(crate) use declare_rule;

/// Every rule, in the order `certdrift rules` lists them.
pub static RULES: &[&Rule] = &[
    &trust_mismatch::RULE,
    &san_coverage::RULE,
    &ca_divergence::RULE,
    &source_divergence::RULE,
    &too_many_cas::RULE,
    &source_change::RULE,
    &trust_change::RULE,
    &gate_change::RULE,
    &live_drift::RULE,
    &unreachable::RULE,
    &expired::RULE,
    &expired_anchor::RULE,
    &expires_soon::RULE,
    &not_yet_valid::RULE,
    &crl_expired::RULE,
    &not_a_ca::RULE,
    &weak_crypto::RULE,
    &private_key_in_repo::RULE,
    &duplicate_in_bundle::RULE,
    &malformed::RULE,
    &unresolved::RULE,
    &unused_exception::RULE,
    &invalid_suppression::RULE,
    &stale_baseline::RULE,
];

pub use gate_change::RULE as GATE_CHANGE;
pub use invalid_suppression::RULE as INVALID_SUPPRESSION;
pub use stale_baseline::RULE as STALE_BASELINE;

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// The explanation of a rule as plain text (doc comment with its leading space removed).
pub fn explain(rule: &Rule) -> String {
    let mut s = String::new();
    for line in rule.doc.lines() {
        s.push_str(line.strip_prefix(' ').unwrap_or(line));
        s.push('\n');
    }
    s
}

/// Runs every rule, applies the policy's severities and exceptions, and
/// returns the findings in report order with the ones an exception suppressed.
pub fn check(ctx: &Context<'_>) -> (Vec<Finding>, Vec<Suppressed>) {
    let policy = ctx.policy;
    let out: Vec<Finding> = RULES
        .iter()
        .filter(|r| !matches!(policy.severities.get(r.id), Some(None)))
        .flat_map(|r| (r.check)(ctx))
        .collect();
    let (mut out, suppressed, used) = policy_filter(policy, out);
    if let Some(severity) = severity(policy, &unused_exception::RULE) {
        for (e, used) in policy.exceptions.iter().zip(used) {
            if !used {
                out.push(Finding::new(
                    unused_exception::RULE.id,
                    severity,
                    policy_location(&e.location),
                    format!("exception for {} ({}) matches no finding", e.rule, e.reason),
                ));
            }
        }
    }
    sort_findings(&mut out);
    (out, suppressed)
}

/// Applies `policy`'s severities (dropping the findings of rules it turns
/// off) and exceptions to findings made outside [`check`] (`probe`): the
/// kept findings in their order, and the suppressed ones.
pub fn apply_policy(
    policy: &crate::policy::Policy,
    findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<Suppressed>) {
    let (kept, suppressed, _) = policy_filter(policy, findings);
    (kept, suppressed)
}

/// Severities, then exceptions; with which exceptions matched.
fn policy_filter(
    policy: &crate::policy::Policy,
    findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<Suppressed>, Vec<bool>) {
    let mut used = vec![false; policy.exceptions.len()];
    let mut suppressed = Vec::new();
    let mut kept = Vec::with_capacity(findings.len());
    for mut f in findings {
        match policy.severities.get(f.rule) {
            Some(Some(sev)) => f.severity = *sev,
            Some(None) => continue,
            None => {}
        }
        match policy
            .exceptions
            .iter()
            .position(|e| exception_matches(e, &f))
        {
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
    (kept, suppressed, used)
}

/// The severity of `rule`'s findings under `policy`; `None` when the policy
/// turns the rule off. For rules whose findings are made outside [`check`].
pub fn severity(policy: &crate::policy::Policy, rule: &Rule) -> Option<Severity> {
    match policy.severities.get(rule.id) {
        Some(s) => *s,
        None => Some(rule.severity),
    }
}

/// A place in a policy file (not under any scanned root).
fn policy_location(l: &crate::policy::PolicyLoc) -> Location {
    Location::new(usize::MAX, l.file.clone(), l.line, l.column)
}

/// Whether a component belongs to a policy group (by name glob).
pub(crate) fn group_has(group: &crate::policy::Group, component: &str) -> bool {
    group.members.iter().any(|m| glob_matches(m, component))
}

fn glob_matches(pattern: &str, text: &str) -> bool {
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(text))
        .unwrap_or(pattern == text)
}

fn exception_matches(e: &crate::policy::Exception, f: &Finding) -> bool {
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

/// `CN=etcd (sha256:0123456789abcdef)`: how findings name a certificate.
pub(crate) fn describe_cert(c: &CertInfo) -> String {
    let name = match &c.subject_cn {
        Some(cn) => format!("CN={cn}"),
        None if !c.subject.is_empty() => c.subject.clone(),
        None => "(empty subject)".to_owned(),
    };
    format!("{name} (sha256:{})", c.fingerprint.short())
}

/// `CN=x (sha256:…)` for a fingerprint in the inventory (the short fingerprint if absent).
pub(crate) fn describe_fp(
    inv: &crate::inventory::Inventory,
    fp: &crate::x509::Fingerprint,
) -> String {
    inv.certs
        .get(fp)
        .map(|e| describe_cert(&e.info))
        .unwrap_or_else(|| fp.short())
}

/// Adds a certificate a finding rests on: its place, `note` followed by its name, and its fingerprint.
pub(crate) fn cite(
    f: &mut Finding,
    inv: &crate::inventory::Inventory,
    fp: &crate::x509::Fingerprint,
    location: &crate::finding::Location,
    note: &str,
) {
    f.related.push(crate::finding::Related {
        location: location.clone(),
        note: format!("{note}{}", describe_fp(inv, fp)),
    });
    f.certificates.push(fp.clone());
}

/// `CN=a (sha256:…), CN=b (sha256:…)` for a set of certificates; `no certificate` when empty.
pub(crate) fn describe_set(
    inv: &crate::inventory::Inventory,
    set: &std::collections::BTreeSet<crate::x509::Fingerprint>,
) -> String {
    let v: Vec<String> = set.iter().map(|fp| describe_fp(inv, fp)).collect();
    if v.is_empty() {
        "no certificate".into()
    } else {
        v.join(", ")
    }
}

/// `2026-11-01` for a unix time.
pub(crate) fn date(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_else(|_| t.to_string())
}

/// One finding per reference of each certificate that `pick` selects.
pub(crate) fn per_reference(
    ctx: &Context<'_>,
    rule: &Rule,
    mut pick: impl FnMut(&CertInfo, &crate::inventory::Reference) -> Option<String>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for entry in ctx.inventory.certs.values() {
        for r in &entry.refs {
            if let Some(message) = pick(&entry.info, r) {
                let mut f = Finding::new(rule.id, rule.severity, r.location.clone(), message);
                f.certificates.push(entry.info.fingerprint.clone());
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.id
            );
            for part in ["What it detects", "Why it matters", "Example"] {
                assert!(r.doc.contains(part), "{} docs lack {part:?}", r.id);
            }
        }
    }

    #[test]
    fn rule_list_snapshot() {
        let list: Vec<String> = RULES
            .iter()
            .map(|r| format!("{} {} {}", r.id, r.severity, r.summary))
            .collect();
        insta::assert_snapshot!(list.join("\n"));
    }
}
