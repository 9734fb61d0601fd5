//! `source-divergence`: one component, different certificate sources.

use super::{declare_rule, Context};
use crate::finding::{Finding, Related, Severity};
use std::collections::BTreeMap;

declare_rule! {
    /// What it detects: components of one group that get their serving
    /// certificate from different sources — static (in the repository)
    /// versus cert-manager, or different issuers. The group is the same
    /// workload name on the same channel across scopes (one per cluster).
    ///
    /// Why it matters: the same release behaving differently per cluster is
    /// how a global change bites in one place only. When 40 releases use
    /// cert-manager and 2 still a static Secret, the 2 are either forgotten
    /// or about to flip on their next deploy.
    ///
    /// Example: `apps/api` serves a cert-manager `ClusterIssuer/internal-ca`
    /// certificate in `rendered/eqiad` and a static Secret in
    /// `rendered/codfw`.
    pub static RULE = {
        id: "source-divergence",
        severity: Severity::Warning,
        summary: "components of one group get their certificates from different sources",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let g = &ctx.inventory.graph;
    let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (si, s) in g.serves.iter().enumerate() {
        let c = &g.components[s.component];
        if matches!(s.source, crate::inventory::graph::Source::Unresolved(_)) {
            continue;
        }
        groups
            .entry((c.name.as_str(), s.channel.as_str()))
            .or_default()
            .push(si);
    }
    // Policy groups: all members' serving certificates.
    let mut named: BTreeMap<(String, String), Vec<usize>> = groups
        .into_iter()
        .map(|((n, c), v)| ((n.to_owned(), c.to_owned()), v))
        .collect();
    for group in ctx
        .policy
        .groups
        .iter()
        .filter(|gr| gr.same == crate::policy::Same::Source)
    {
        let members: Vec<usize> = g
            .serves
            .iter()
            .enumerate()
            .filter(|(_, s)| group.has(&g.components[s.component].name))
            .map(|(i, _)| i)
            .collect();
        named.insert((format!("group {}", group.name), String::new()), members);
    }
    let mut out = Vec::new();
    // One finding per divergence: a policy group with the very members of
    // a component name already judged says nothing new.
    let mut judged: Vec<Vec<usize>> = Vec::new();
    for ((name, _), members) in named {
        let name = name.as_str();
        let mut sorted = members.clone();
        sorted.sort_unstable();
        if judged.contains(&sorted) {
            continue;
        }
        judged.push(sorted);
        let mut by_source: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &si in &members {
            by_source
                .entry(g.serves[si].source.label())
                .or_default()
                .push(si);
        }
        if by_source.len() < 2 {
            continue;
        }
        // Report where the minority source is, naming its members. On a
        // tie, the source a member got by overriding a lower Hiera level is
        // the odd one (the override is what departs from the default); else
        // the first in label order.
        let fewest = by_source.values().map(Vec::len).min().unwrap_or(0);
        let overrides = |v: &[usize]| {
            v.iter()
                .any(|si| g.decided_at.get(si).is_some_and(|d| !d.chain.is_empty()))
        };
        let mut minority = by_source.iter().filter(|(_, v)| v.len() == fewest);
        let Some((odd_label, odd)) = minority
            .clone()
            .find(|(_, v)| overrides(v))
            .or_else(|| minority.next())
        else {
            continue;
        };
        let first = &g.serves[odd[0]];
        let member = |si: usize| {
            let c = &g.components[g.serves[si].component];
            if c.scope.is_empty() {
                c.name.clone()
            } else {
                format!("{} in {}", c.name, c.scope)
            }
        };
        let list = |v: &[usize]| {
            let mut names: Vec<String> = v.iter().take(5).map(|&si| member(si)).collect();
            if v.len() > 5 {
                names.push(format!("{} more", v.len() - 5));
            }
            names.join(", ")
        };
        let others: Vec<String> = by_source
            .iter()
            .filter(|(l, _)| *l != odd_label)
            .map(|(l, v)| format!("{} from {l} ({})", v.len(), list(v)))
            .collect();
        // At the value that chose the odd source (a switch's Hiera line),
        // else where the source is.
        // When the kinds agree (two cert-manager issuers) the issuer's own
        // value decided, which is where the source is.
        let kind = |si: usize| match &g.serves[si].source {
            crate::inventory::graph::Source::CertManager { kind, .. } => kind.clone(),
            other => other.label(),
        };
        let same_kind = members.iter().all(|&si| kind(si) == kind(odd[0]));
        let decided = |si: usize| g.decided_at.get(&si).filter(|_| !same_kind);
        let at = decided(odd[0]).map_or(&first.location, |d| &d.at);
        // What differs between the odd source and the most common one.
        let parts = by_source
            .iter()
            .filter(|(l, _)| *l != odd_label)
            .max_by_key(|(_, v)| v.len())
            .and_then(|(_, v)| first.source.differing_parts(&g.serves[v[0]].source))
            .filter(|p| p != "the kind")
            .map(|p| format!(" ({p} differs)"))
            .unwrap_or_default();
        let mut f = Finding::new(
            RULE.id,
            RULE.severity,
            at.clone(),
            format!(
                "{}{} get{} its certificate from {odd_label}, while {}{parts}",
                // A policy group is named; a component names itself.
                if name.starts_with("group ") {
                    format!("{name}: ")
                } else {
                    String::new()
                },
                list(odd),
                if odd.len() == 1 { "s" } else { "" },
                others.join("; ")
            ),
        );
        // The lower levels that set the deciding key too, as `lookup
        // --explain` shows them; then every other member where its own
        // source was decided.
        if let Some(d) = decided(odd[0]) {
            f.related.extend(d.chain.iter().cloned());
        }
        for (label, list) in &by_source {
            for &si in list.iter().filter(|&&si| si != odd[0]).take(5) {
                let s = &g.serves[si];
                let who = member(si);
                f.related.push(match decided(si) {
                    Some(d) => Related {
                        location: d.at.clone(),
                        note: format!("{who}: {label}, decided by {} here", d.value),
                    },
                    None => Related {
                        location: s.location.clone(),
                        note: format!("{who}: {label}"),
                    },
                });
            }
        }
        f.component = Some(name.to_owned());
        out.push(f);
    }
    out
}
