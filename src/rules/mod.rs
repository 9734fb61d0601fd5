//! Stage 5, check: the rules, whichever stage feeds them.
//!
//! In: what a stage knows — a scan's [`Inventory`] ([`Context`]), a diff's
//! two inventories compared ([`DiffContext`]), one live endpoint's chain
//! against the repository ([`ProbeContext`]) — and the evaluation time.
//! Out: [`Finding`]s with their rules' default severities; the policy,
//! inline comments and baselines are the next stage's ([`crate::suppress`]).
//! One rule per file, holding every check it makes in any stage;
//! [`RULES`] is the one table of them. Each rule's doc comment (What it
//! detects / Why it matters / Example) is what `certdrift explain ID`
//! prints.

use crate::finding::{Finding, Severity};
use crate::inventory::compare::Compared;
use crate::inventory::Inventory;
pub(crate) use crate::inventory::{describe_fp, describe_set};
use crate::verify::Verdict;
pub(crate) use crate::x509::{date, describe_cert};
use crate::x509::{CertInfo, Fingerprint, ServedCert};

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
mod strict_profile;
mod too_many_cas;
mod trust_change;
mod trust_mismatch;
mod unreachable;
mod unresolved;
mod unused_exception;
mod weak_crypto;

/// The stages whose facts rules judge, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// One scan's inventory (`scan`, and each side of `diff`).
    Scan,
    /// Two inventories compared (`diff`).
    Diff,
    /// A live endpoint against the repository (`probe`).
    Probe,
}

/// What every scan rule sees.
pub struct Context<'a> {
    /// The scan's inventory.
    pub inventory: &'a Inventory,
    /// Evaluation time, unix seconds (`--now`, or the clock read once in `main`).
    pub now: i64,
    /// `expires-soon` threshold in days.
    pub warn_days: i64,
    /// The policy in force.
    pub policy: &'a crate::policy::Policy,
    /// Its test, fixture, example and doc paths, compiled.
    pub fixtures: &'a crate::policy::Fixtures,
    /// Whether `now` is the clock rather than `--now` (see [`ago`]).
    pub clock: bool,
}

/// `12 days ago` against the clock, `12 days before --now` against a
/// given time: how long before the evaluation time `t` was.
pub(crate) fn ago(now: i64, t: i64, clock: bool) -> String {
    let days = (now - t) / 86_400;
    let unit = if days == 1 { "day" } else { "days" };
    if clock {
        format!("{days} {unit} ago")
    } else {
        format!("{days} {unit} before --now")
    }
}

/// What every diff rule sees: both sides and what differs between them.
pub struct DiffContext<'a> {
    /// BASE's inventory.
    pub base: &'a Inventory,
    /// HEAD's inventory.
    pub head: &'a Inventory,
    /// The two compared, per component, with the changes.
    pub compared: &'a Compared,
    /// `--max-blast-radius`: a change touching more components is an error.
    pub max_blast_radius: Option<usize>,
    /// The gate's configuration on both sides, when the diff read it.
    pub gate: Option<&'a crate::gate::Sides>,
}

/// What every probe rule sees: one endpoint, what it served, and what the
/// repository says about it.
pub struct ProbeContext<'a> {
    /// The repository's inventory.
    pub inventory: &'a Inventory,
    /// Evaluation time, unix seconds.
    pub now: i64,
    /// Whether `now` is the clock rather than `--now`.
    pub clock: bool,
    /// The component the endpoint is probed for.
    pub component: &'a str,
    /// The host name dialled: the served certificate must be valid for it.
    pub host: &'a str,
    /// `host:port`, and where it was dialled when `--connect-to` redirected it.
    pub at: &'a str,
    /// Where the endpoint was named (a flag, `--target`, a targets file).
    pub origin: &'a crate::finding::Location,
    /// What named it, in words.
    pub from: &'a str,
    /// The chain served, leaf first (empty when none was).
    pub chain: &'a [ServedCert],
    /// Why the connection or the handshake failed, if it did.
    pub error: Option<&'a str>,
    /// The repository's components of that name (graph indices).
    pub components: &'a [usize],
    /// The serving identity of the component compared with the endpoint.
    pub serve: Option<usize>,
    /// The leaf certificate the repository configures for it, if it holds one.
    pub expected: Option<&'a Fingerprint>,
    /// Trust references that cover this endpoint (graph indices).
    pub trusting: &'a [usize],
    /// For each of them with anchors to check, their verdict on the served
    /// chain (when the leaf parses).
    pub verdicts: &'a [(usize, Verdict)],
}

impl ProbeContext<'_> {
    /// The served leaf, when there is one and it parses.
    pub fn leaf(&self) -> Option<&CertInfo> {
        self.chain.first().and_then(|c| c.info.as_deref())
    }

    /// A finding about this endpoint: its component, and the served leaf.
    pub fn finding(
        &self,
        rule: &'static str,
        severity: Severity,
        location: &crate::finding::Location,
        message: String,
    ) -> Finding {
        let mut f = Finding::new(rule, severity, location.clone(), message);
        f.component = Some(self.component.to_owned());
        f.certificates
            .extend(self.chain.first().map(|c| c.fingerprint.clone()));
        f
    }
}

/// A rule: a stable id, a default severity, its documentation and its
/// checks, one per stage it judges.
pub struct Rule {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// Severity of its findings unless the rule's docs say otherwise.
    pub severity: Severity,
    /// One line for `certdrift rules`.
    pub summary: &'static str,
    /// The full explanation, from the rule's doc comment.
    pub doc: &'static str,
    /// Its check over one scan's inventory.
    pub scan: Option<fn(&Context<'_>) -> Vec<Finding>>,
    /// Its check of a diff.
    pub diff: Option<fn(&DiffContext<'_>) -> Vec<Finding>>,
    /// Its check of one live endpoint.
    pub probe: Option<fn(&ProbeContext<'_>) -> Vec<Finding>>,
}

impl Rule {
    /// The first stage that runs it: the one that judges whether an
    /// exception for it went unused. The rules the suppress stage makes
    /// itself (`unused-exception`, `invalid-suppression`, `stale-baseline`)
    /// count as the scan's.
    pub fn home(&self) -> Stage {
        if self.scan.is_some() {
            Stage::Scan
        } else if self.diff.is_some() {
            Stage::Diff
        } else if self.probe.is_some() {
            Stage::Probe
        } else {
            Stage::Scan
        }
    }
}

/// Declares a rule whose doc comment becomes its `explain` text, with a
/// check for each stage it judges (`scan:`, `diff:`, `probe:`, in that order).
macro_rules! declare_rule {
    (@check) => { None };
    (@check $f:path) => { Some($f) };
    (
        $(#[doc = $doc:literal])*
        pub static $name:ident = {
            id: $id:literal,
            severity: $sev:expr,
            summary: $summary:literal,
            $(scan: $scan:path,)?
            $(diff: $diff:path,)?
            $(probe: $probe:path,)?
        };
    ) => {
        $(#[doc = $doc])*
        pub static $name: $crate::rules::Rule = $crate::rules::Rule {
            id: $id,
            severity: $sev,
            summary: $summary,
            doc: concat!($($doc, "\n"),*),
            scan: $crate::rules::declare_rule!(@check $($scan)?),
            diff: $crate::rules::declare_rule!(@check $($diff)?),
            probe: $crate::rules::declare_rule!(@check $($probe)?),
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
    &strict_profile::RULE,
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
pub use unused_exception::RULE as UNUSED_EXCEPTION;

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

/// Whether `policy` leaves `rule` on (its findings would be dropped).
fn on(policy: &crate::policy::Policy, rule: &Rule) -> bool {
    !matches!(policy.severities.get(rule.id), Some(None))
}

/// Runs the checks `of` picks from every rule the policy leaves on: the
/// findings, unsorted.
fn run<C>(
    policy: &crate::policy::Policy,
    of: impl Fn(&Rule) -> Option<fn(&C) -> Vec<Finding>>,
    ctx: &C,
) -> Vec<Finding> {
    RULES
        .iter()
        .filter(|r| on(policy, r))
        .filter_map(|r| of(r))
        .flat_map(|check| check(ctx))
        .collect()
}

/// Runs every scan check the policy leaves on: the findings, unsorted.
pub fn check(ctx: &Context<'_>) -> Vec<Finding> {
    run(ctx.policy, |r| r.scan, ctx)
}

/// Runs every diff check the policy leaves on: the findings, unsorted.
pub fn check_diff(ctx: &DiffContext<'_>, policy: &crate::policy::Policy) -> Vec<Finding> {
    run(policy, |r| r.diff, ctx)
}

/// Runs every probe check the policy leaves on for one endpoint: the
/// findings, unsorted.
pub fn check_probe(ctx: &ProbeContext<'_>, policy: &crate::policy::Policy) -> Vec<Finding> {
    run(policy, |r| r.probe, ctx)
}

/// The severity of `rule`'s findings under `policy`; `None` when the policy
/// turns the rule off. For the findings the suppress stage makes itself.
pub fn severity(policy: &crate::policy::Policy, rule: &Rule) -> Option<Severity> {
    match policy.severities.get(rule.id) {
        Some(s) => *s,
        None => Some(rule.severity),
    }
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

/// One finding per certificate that `pick` selects at one or more of its
/// references (`pick` gives the message for a reference): at the first
/// such reference outside test paths (else the first), with the others as
/// related places. The finding is a fixture's when every place is in test
/// paths.
pub(crate) fn per_certificate(
    ctx: &Context<'_>,
    rule: &Rule,
    mut pick: impl FnMut(&CertInfo, &crate::inventory::Reference) -> Option<String>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for entry in ctx.inventory.certs.values() {
        let mut places = Vec::new();
        let mut message = None;
        for r in ordered(ctx, &entry.refs) {
            if let Some(m) = pick(&entry.info, r) {
                message.get_or_insert(m);
                places.push(r);
            }
        }
        if let Some(message) = message {
            out.push(grouped(
                ctx,
                rule.id,
                rule.severity,
                &entry.info,
                &places,
                message,
            ));
        }
    }
    out
}

/// `refs` with those outside test paths first, each part in its order.
pub(crate) fn ordered<'r>(
    ctx: &Context<'_>,
    refs: &'r [crate::inventory::Reference],
) -> impl Iterator<Item = &'r crate::inventory::Reference> {
    let fixture = |r: &crate::inventory::Reference| ctx.fixtures.matches(&r.location.path);
    let (outside, inside): (Vec<_>, Vec<_>) = refs.iter().partition(|r| !fixture(r));
    outside.into_iter().chain(inside)
}

/// The finding of rule `id` about certificate `c` at `places` (the first
/// is where it is reported), with `message` about the first place.
pub(crate) fn grouped(
    ctx: &Context<'_>,
    id: &'static str,
    severity: Severity,
    c: &CertInfo,
    places: &[&crate::inventory::Reference],
    message: String,
) -> Finding {
    let paths: Vec<&str> = places.iter().map(|r| r.location.path.as_str()).collect();
    let mut f = at_places(ctx, id, severity, &places[0].location, &paths, message);
    f.certificates.push(c.fingerprint.clone());
    for r in &places[1..] {
        f.related.push(crate::finding::Related {
            location: r.location.clone(),
            note: format!("the same certificate ({})", r.via),
        });
    }
    f
}

/// A finding at `location` about material at `paths` (its first place
/// first): says how many more places there are, and marks it a fixture's
/// when every path is a test path.
pub(crate) fn at_places(
    ctx: &Context<'_>,
    id: &'static str,
    severity: Severity,
    location: &crate::finding::Location,
    paths: &[&str],
    mut message: String,
) -> Finding {
    match paths.len() {
        0 | 1 => {}
        2 => message.push_str("; also in 1 more place"),
        n => message.push_str(&format!("; also in {} more places", n - 1)),
    }
    let fixture = !paths.is_empty() && paths.iter().all(|p| ctx.fixtures.matches(p));
    if fixture {
        message.push_str(" (test fixture)");
    }
    let mut f = Finding::new(id, severity, location.clone(), message);
    f.fixture = fixture;
    f
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
