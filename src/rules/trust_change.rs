//! `trust-change` (diff): a trust bundle's anchors change.

use super::{declare_rule, Context};
use crate::finding::{Finding, Severity};

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
        check: check,
    };
}

/// Produced by `diff`, which compares two inventories; a scan has nothing to compare.
fn check(_ctx: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
