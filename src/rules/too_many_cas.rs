//! `too-many-cas`: more distinct roots in one scope than the policy allows.

use super::{declare_rule, Context};
use crate::finding::{Finding, Severity};
use crate::inventory::graph::Anchors;
use crate::x509;
use std::collections::BTreeMap;

declare_rule! {
    /// What it detects: more distinct self-signed root CAs trusted in one
    /// scope (one directory of rendered output, one cluster) than the
    /// policy's `max_cas` allows. Off unless a policy sets `max_cas`.
    ///
    /// Why it matters: every extra root is one more place a mismatch can
    /// hide and one more key to protect. After the Toolforge outage the
    /// follow-up was "Audit puppet CA certs. There really shouldn't be more
    /// than one."
    ///
    /// Example: with `max_cas: 1`, a cluster whose components trust both
    /// `CN=Puppet CA: puppet` and `CN=Puppet CA: palladium.eqiad.wmnet`.
    pub static RULE = {
        id: "too-many-cas",
        severity: Severity::Warning,
        summary: "more distinct root CAs in a scope than the policy allows (max_cas)",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let Some(max) = ctx.policy.max_cas else {
        return Vec::new();
    };
    let inv = ctx.inventory;
    let g = &inv.graph;
    let mut scopes: BTreeMap<&str, BTreeMap<x509::Fingerprint, crate::finding::Location>> =
        BTreeMap::new();
    for t in &g.trusts {
        let Anchors::Bundle(b) = &t.anchors else {
            continue;
        };
        let scope = g.components[t.component].scope.as_str();
        for (fp, _) in &inv.bundles[*b].members {
            let Some(e) = inv.certs.get(fp) else { continue };
            if e.info.is_ca && x509::is_self_signed(&e.info) {
                scopes
                    .entry(scope)
                    .or_default()
                    .entry(fp.clone())
                    .or_insert_with(|| t.location.clone());
            }
        }
    }
    let mut out = Vec::new();
    for (scope, roots) in scopes {
        if roots.len() <= max {
            continue;
        }
        let mut places: Vec<_> = roots.iter().collect();
        places.sort_by(|a, b| a.1.cmp(b.1));
        let mut f = Finding::new(
            RULE.id,
            RULE.severity,
            places[0].1.clone(),
            format!(
                "scope {} trusts {} distinct root CAs; the policy allows {max}",
                if scope.is_empty() { "." } else { scope },
                roots.len()
            ),
        );
        for (fp, loc) in places {
            super::cite(&mut f, inv, fp, loc, "trusts ");
        }
        out.push(f);
    }
    out
}
