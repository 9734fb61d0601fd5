//! `ca-divergence`: trust references that should agree hold different CAs.

use super::{declare_rule, Context};
use crate::finding::{Finding, Related, Severity};
use crate::inventory::graph::{Direction, Trust};
use crate::inventory::Inventory;
use crate::x509::Fingerprint;
use std::collections::{BTreeMap, BTreeSet};

declare_rule! {
    /// What it detects: trust references that should agree but hold
    /// different anchor sets. Within one scope (one cluster's files): two
    /// components that trust the same peer — two API servers' `--etcd-cafile`
    /// for the same etcd. Within one component: flags that the policy says
    /// share a CA (etcd's `--trusted-ca-file` and `--peer-trusted-ca-file`).
    /// Different CAs in different clusters are normal and not reported.
    ///
    /// Why it matters: of two references that differ, at most one matches
    /// what the peer presents today; the other is a latent outage, waiting
    /// for a failover to the replica that trusts the wrong CA. "Audit puppet
    /// CA certs. There really shouldn't be more than one."
    ///
    /// Example: etcd's `--trusted-ca-file` holds `CN=etcd CA` and its
    /// `--peer-trusted-ca-file` holds `CN=Puppet CA: puppet`.
    pub static RULE = {
        id: "ca-divergence",
        severity: Severity::Warning,
        summary: "trust references that should agree hold different CAs",
        scan: check,
    };
}

fn anchor_set(inv: &Inventory, t: &Trust) -> Option<BTreeSet<Fingerprint>> {
    t.anchors.set(inv)
}

fn names(inv: &Inventory, set: &BTreeSet<Fingerprint>) -> String {
    super::describe_set(inv, set)
}

/// A trust reference (index) and its anchor set.
type Member = (usize, BTreeSet<Fingerprint>);

/// One finding for a group of trust references whose anchor sets differ.
fn report(
    inv: &Inventory,
    members: &[(usize, BTreeSet<Fingerprint>)],
    what: &str,
) -> Option<Finding> {
    let distinct: BTreeSet<&BTreeSet<Fingerprint>> = members.iter().map(|m| &m.1).collect();
    if distinct.len() < 2 {
        return None;
    }
    let g = &inv.graph;
    // The odd one out: the set held by the fewest references (first on a tie).
    let count = |s: &BTreeSet<Fingerprint>| members.iter().filter(|m| &m.1 == s).count();
    let (odd, odd_set) = members
        .iter()
        .min_by_key(|m| count(&m.1))
        .map(|m| (m.0, &m.1))?;
    let t = &g.trusts[odd];
    let mut f = Finding::new(
        RULE.id,
        RULE.severity,
        t.location.clone(),
        format!(
            "{what}: {} ({}) trusts {}, but {} other reference(s) trust something else",
            g.components[t.component].name,
            t.via,
            names(inv, odd_set),
            members.len() - count(odd_set)
        ),
    );
    for (i, set) in members {
        if *i == odd || set == odd_set {
            continue;
        }
        let o = &g.trusts[*i];
        f.related.push(Related {
            location: o.location.clone(),
            note: format!(
                "{} ({}) trusts {}",
                g.components[o.component].name,
                o.via,
                names(inv, set)
            ),
        });
    }
    f.certificates = distinct
        .into_iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    f.component = Some(g.components[t.component].name.clone());
    Some(f)
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let inv = ctx.inventory;
    let g = &inv.graph;
    let mut out = Vec::new();
    // Several components of one scope trusting one peer.
    let mut by_peer: BTreeMap<(String, usize, String), Vec<Member>> = BTreeMap::new();
    for (ti, t) in g.trusts.iter().enumerate() {
        if t.direction != Direction::Server {
            continue;
        }
        let Some(set) = anchor_set(inv, t) else {
            continue;
        };
        for c in &t.checks {
            let scope = g.components[t.component].scope.clone();
            by_peer
                .entry((scope, c.peer, t.channel.clone()))
                .or_default()
                .push((ti, set.clone()));
        }
    }
    for ((_, peer, channel), members) in &by_peer {
        let comps: BTreeSet<usize> = members.iter().map(|m| g.trusts[m.0].component).collect();
        if comps.len() < 2 {
            continue;
        }
        let what = format!(
            "clients of {} ({channel}) disagree",
            g.components[*peer].name
        );
        out.extend(report(inv, members, &what));
    }
    // Policy groups that must share a CA: every trust reference of every member.
    for group in ctx
        .policy
        .groups
        .iter()
        .filter(|gr| gr.same == crate::policy::Same::Ca)
    {
        let members: Vec<Member> = g
            .trusts
            .iter()
            .enumerate()
            .filter(|(_, t)| group.has(&g.components[t.component].name))
            .filter_map(|(ti, t)| Some((ti, anchor_set(inv, t)?)))
            .collect();
        let what = format!("group {} must share one CA", group.name);
        out.extend(report(inv, &members, &what));
    }
    // Flags of one component that the policy says share a CA.
    for (role, flags) in &ctx.policy.same_ca {
        let mut by_comp: BTreeMap<usize, Vec<Member>> = BTreeMap::new();
        for (ti, t) in g.trusts.iter().enumerate() {
            let c = &g.components[t.component];
            if c.role.as_deref() != Some(role) || !flags.contains(&t.flag) {
                continue;
            }
            if let Some(set) = anchor_set(inv, t) {
                let list = by_comp.entry(t.component).or_default();
                // A flag with two actions (trust-server and trust-client) is one reference.
                if !list.iter().any(|(i, _)| g.trusts[*i].flag == t.flag) {
                    list.push((ti, set));
                }
            }
        }
        for members in by_comp.values() {
            let what = format!(
                "{} should trust one CA set ({} by policy)",
                role,
                flags.join(", ")
            );
            out.extend(report(inv, members, &what));
        }
    }
    out
}
