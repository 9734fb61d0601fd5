//! `unresolved`: a reference that cannot be followed.

use super::{declare_rule, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: a certificate or trust reference that certdrift
    /// cannot follow to its certificates: a flag's path outside every
    /// mounted volume, a Secret or ConfigMap that is not in the scanned
    /// files (and no cert-manager `Certificate` writes it), a key the object
    /// does not have, a peer that no scanned component serves, or a name
    /// that two equally near objects share.
    ///
    /// Why it matters: what cannot be followed cannot be checked. A note,
    /// not a failure: scan more of the repository, render the missing
    /// chart, or map host paths with `--map-path` to close the gap.
    ///
    /// Example: kube-apiserver's `--kubelet-certificate-authority` names a
    /// CA, but no kubelet is among the scanned manifests.
    pub static RULE = {
        id: "unresolved",
        severity: Severity::Note,
        summary: "a certificate or trust reference cannot be followed",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    // A reference that cannot be followed because its file is malformed
    // is that `malformed` finding, not a second one at the same line.
    let malformed: std::collections::BTreeSet<(&str, u32)> = ctx
        .inventory
        .problems
        .iter()
        .map(|p| (p.location.path.as_str(), p.location.line))
        .collect();
    ctx.inventory
        .graph
        .notes
        .iter()
        .filter(|n| !malformed.contains(&(n.location.path.as_str(), n.location.line)))
        .map(|n| {
            let mut f = Finding::new(
                RULE.id,
                RULE.severity,
                n.location.clone(),
                match &n.component {
                    Some(c) => format!("{c}: {}", n.message),
                    None => n.message.clone(),
                },
            );
            f.component = n.component.clone();
            f
        })
        .collect()
}
