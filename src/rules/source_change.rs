//! `source-change` (diff): a component's certificate source or issuer changes.

use super::{declare_rule, DiffContext};
use crate::finding::{Finding, Related, Severity};
use crate::inventory::compare::{Change, ChangeKind};
use std::collections::BTreeMap;

declare_rule! {
    /// What it detects (only in `certdrift diff`): between BASE and HEAD, a
    /// component's serving certificate changes source — static (in the
    /// repository) to cert-manager, one issuer to another, Puppet to
    /// cert-manager. One finding per cause (the changed line that decides
    /// the source), listing every affected component and their number: the
    /// blast radius. An error when the affected components' own files did
    /// not change in this diff (action at a distance), or when more
    /// components than `--max-blast-radius` are touched; a warning when the
    /// change is in the components' own files.
    ///
    /// Why it matters: on 2023-08-09 a one-line Hiera change,
    /// "deployment_server::general: Globally enable mesh.certmanager",
    /// switched every mesh-enabled release to a cert-manager certificate at
    /// its next deploy. The repository whose CI ran (Puppet) could not see
    /// the effect on the releases (deployment-charts); hours later a routine
    /// MediaWiki deploy served a certificate without the names clients used.
    ///
    /// Example: `operations-puppet/hieradata/role/common/deployment_server/kubernetes.yaml:332`
    /// sets `mesh.certmanager.enabled: true`; this flips 2 components
    /// (mw-api-ext, mw-api-int) from static to cert-manager
    /// ClusterIssuer/discovery.
    pub static RULE = {
        id: "source-change",
        severity: Severity::Error,
        summary: "(diff) a change flips components' certificate source or issuer",
        diff: diff,
    };
}

/// One finding per cause (the changed line that decides the source, and
/// the source before and after), listing the components it flips.
fn diff(ctx: &DiffContext<'_>) -> Vec<Finding> {
    let mut by_cause: BTreeMap<(String, String, String), Vec<&Change>> = BTreeMap::new();
    for c in ctx
        .compared
        .changes
        .iter()
        .filter(|c| c.what == ChangeKind::Source)
    {
        let cause = c
            .causes
            .first()
            .cloned()
            .unwrap_or_else(|| "(no changed input file)".into());
        by_cause
            .entry((cause, c.before.clone(), c.after.clone()))
            .or_default()
            .push(c);
    }
    let mut out = Vec::new();
    for ((cause, before, after), list) in by_cause {
        let distance = list.iter().any(|c| !c.own_files_changed);
        let too_many = ctx.max_blast_radius.is_some_and(|m| list.len() > m);
        let severity = if distance || too_many {
            Severity::Error
        } else {
            Severity::Warning
        };
        let comps: Vec<&str> = list.iter().map(|c| c.component.as_str()).collect();
        let mut message = format!(
            "this change flips {} component(s) from {before} to {after}: {}",
            list.len(),
            comps.join(", ")
        );
        if distance {
            message.push_str(" — their own files did not change (action at a distance)");
        }
        if too_many {
            message.push_str(&format!(
                " — more than --max-blast-radius {}",
                ctx.max_blast_radius.unwrap_or(0)
            ));
        }
        let mut f = Finding::new(RULE.id, severity, list[0].location.clone(), message);
        f.related.push(Related {
            location: list[0].location.clone(),
            note: format!("caused by {cause}"),
        });
        for c in &list[1..] {
            f.related.push(Related {
                location: c.location.clone(),
                note: c.component.clone(),
            });
        }
        f.component = Some(comps.join(", "));
        out.push(f);
    }
    out
}
