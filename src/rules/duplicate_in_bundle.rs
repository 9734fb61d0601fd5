//! `duplicate-in-bundle`: the same certificate twice in one bundle.

use super::{declare_rule, Context};
use crate::finding::{Finding, Related, Severity};
use std::collections::BTreeMap;

declare_rule! {
    /// What it detects: one bundle (a PEM file, or one YAML value) that holds
    /// the same certificate (same SHA-256 fingerprint) more than once.
    ///
    /// Why it matters: harmless to TLS, but a sign that the bundle is
    /// assembled by hand or by a script that appends without checking; the
    /// next edit of such a bundle tends to remove the wrong copy or keep a
    /// retired CA alive.
    ///
    /// Example: `ca-bundle.crt` lists `CN=Example Root CA` at lines 1 and 58.
    pub static RULE = {
        id: "duplicate-in-bundle",
        severity: Severity::Note,
        summary: "a bundle holds the same certificate more than once",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    // What a text search found in source code or prose is not a bundle:
    // two objects there may carry the same anchor on purpose.
    for b in ctx.inventory.bundles.iter().filter(|b| !b.searched) {
        let mut seen: BTreeMap<_, &crate::finding::Location> = BTreeMap::new();
        for (fp, loc) in &b.members {
            match seen.get(fp) {
                None => {
                    seen.insert(fp, loc);
                }
                Some(first) => {
                    let name = super::describe_fp(ctx.inventory, fp);
                    let mut f = super::at_places(
                        ctx,
                        RULE.id,
                        RULE.severity,
                        loc,
                        &[loc.path.as_str()],
                        format!("{} repeats certificate {name}", b.via),
                    );
                    f.related.push(Related {
                        location: (*first).clone(),
                        note: "first copy".into(),
                    });
                    f.certificates.push(fp.clone());
                    out.push(f);
                }
            }
        }
    }
    out
}
