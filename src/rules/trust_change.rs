//! `trust-change` (diff): a trust bundle's anchors change.

use super::{declare_rule, describe_set, DiffContext};
use crate::finding::{Finding, Severity};
use crate::x509::Fingerprint;
use std::collections::BTreeSet;

declare_rule! {
    /// What it detects (only in `certdrift diff`): a trust bundle whose set
    /// of anchors changes between BASE and HEAD. Removing the anchor that
    /// issued a peer's current certificate — the peer verified at BASE and
    /// does not at HEAD — is a hard swap and an error. Adding a new anchor
    /// beside the old one (the first step of a CA rotation) is a safe
    /// overlap and a note, as is a removal after which every peer still
    /// verifies.
    ///
    /// Why it matters: CA rotations break in the order of their steps. The
    /// safe order is: add the new CA to every trust bundle, re-issue the
    /// certificates, then remove the old CA. Doing the last step first
    /// leaves every client unable to verify its peer after a restart.
    ///
    /// Example: `--etcd-cafile`'s bundle drops `CN=etcd CA 2024` while etcd
    /// still serves a certificate issued by it.
    pub static RULE = {
        id: "trust-change",
        severity: Severity::Error,
        summary: "(diff) a trust bundle drops the anchor a peer still needs (safe overlaps are notes)",
        diff: diff,
    };
}

/// Each trust reference on both sides whose anchors differ: a hard swap
/// (an error) when a peer that verified at BASE no longer does, else a note.
fn diff(ctx: &DiffContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, hs) in &ctx.compared.head {
        let Some(bs) = ctx.compared.base.get(name) else {
            continue;
        };
        for (k, hv) in &hs.trusts {
            let Some(bv) = bs.trusts.get(k) else { continue };
            let (Some(ba), Some(ha)) = (&bv.anchors, &hv.anchors) else {
                continue;
            };
            if ba == ha {
                continue;
            }
            let removed: BTreeSet<Fingerprint> = ba.difference(ha).cloned().collect();
            let added: BTreeSet<Fingerprint> = ha.difference(ba).cloned().collect();
            let broken: Vec<&String> = hv
                .verdicts
                .iter()
                .filter(|(p, ok)| !**ok && bv.verdicts.get(*p) == Some(&true))
                .map(|(p, _)| p)
                .collect();
            let (severity, message) = if !broken.is_empty() {
                (Severity::Error, format!(
                    "{name}: {k} drops {} while {} still presents a certificate that chains only to it (a hard swap)",
                    describe_set(ctx.base, &removed),
                    broken.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ))
            } else if removed.is_empty() {
                (
                    Severity::Note,
                    format!(
                        "{name}: {k} adds {} beside the current anchors (a safe overlap)",
                        describe_set(ctx.head, &added)
                    ),
                )
            } else {
                (
                    Severity::Note,
                    format!(
                        "{name}: {k} replaces {} with {}; every peer still verifies",
                        describe_set(ctx.base, &removed),
                        describe_set(ctx.head, &added)
                    ),
                )
            };
            let mut f = Finding::new(RULE.id, severity, hv.location.clone(), message);
            f.component = Some(name.clone());
            f.certificates = removed.union(&added).cloned().collect();
            out.push(f);
        }
    }
    out
}
