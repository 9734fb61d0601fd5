//! `source-change` (diff): a component's certificate source or issuer changes.

use super::{declare_rule, DiffContext};
use crate::finding::{Finding, Related, Severity};
use crate::inventory::compare::{component_key, Change, ChangeKind};
use crate::inventory::graph::{Direction, Source};
use crate::inventory::Inventory;
use crate::verify::Verdict;
use std::collections::{BTreeMap, BTreeSet};

declare_rule! {
    /// What it detects (only in `certdrift diff`): between BASE and HEAD, a
    /// component's serving certificate changes source — static (in the
    /// repository) to cert-manager, one issuer to another, Puppet to
    /// cert-manager. One finding per cause (the changed line that decides
    /// the source), listing every affected component and their number: the
    /// blast radius, and whether their own files changed too (if not, the
    /// change acts at a distance). The severity follows the risk found at
    /// HEAD: an error when a flipped component's new certificate misses a
    /// name its clients use (`reached_as`, a URL, a Service name) or does
    /// not chain to what they trust, or when more components than
    /// `--max-blast-radius` are touched; otherwise a warning, whose message
    /// says what was checked and which checks could not be made (no client
    /// name declared, no trust reference covering the component, an
    /// issuer's CA not in the repository).
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
/// the source before and after), listing the components it flips, with
/// the risk HEAD's graph shows for them.
fn diff(ctx: &DiffContext<'_>) -> Vec<Finding> {
    type Key = (String, String, String, Option<String>);
    let mut by_cause: BTreeMap<Key, Vec<&Change>> = BTreeMap::new();
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
            .entry((cause, c.before.clone(), c.after.clone(), c.parts.clone()))
            .or_default()
            .push(c);
    }
    let mut out = Vec::new();
    for ((cause, before, after, parts), list) in by_cause {
        let distance = list.iter().any(|c| !c.own_files_changed);
        let too_many = ctx.max_blast_radius.is_some_and(|m| list.len() > m);
        let comps: Vec<&str> = list.iter().map(|c| c.component.as_str()).collect();
        let risk = assess(ctx.head, &comps);
        let severity = if !risk.found.is_empty() || too_many {
            Severity::Error
        } else {
            Severity::Warning
        };
        // A new kind says it all; within one kind, which part moved.
        let parts = parts
            .filter(|p| p != "the kind")
            .map(|p| format!(" ({p} changes)"))
            .unwrap_or_default();
        let mut message = format!(
            "this change flips {} from {before} to {after}{parts}: {}",
            count(list.len(), "component"),
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
        message.push_str(&risk.describe());
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
        f.related.extend(risk.places);
        f.component = Some(comps.join(", "));
        out.push(f);
    }
    out
}

/// `1 component`, `2 components`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// What HEAD's trust graph says about the flipped components' new
/// certificates.
#[derive(Default)]
struct Risk {
    /// Faults found: a name clients use that the new certificate lacks, a
    /// client whose trust does not accept it.
    found: Vec<String>,
    /// Where each fault is (the client's name or trust reference).
    places: Vec<Related>,
    /// Client names checked and found covered.
    names_ok: usize,
    /// Client trust references checked and found to accept the new chain.
    trust_ok: usize,
    /// Checks that could not be made, in words.
    unchecked: BTreeSet<String>,
}

impl Risk {
    /// `; …` for the message: the faults, or what passed and what could not be checked.
    fn describe(&self) -> String {
        if !self.found.is_empty() {
            return format!("; at HEAD {}", self.found.join("; "));
        }
        let unchecked: Vec<&str> = self.unchecked.iter().map(String::as_str).collect();
        if self.names_ok + self.trust_ok == 0 {
            return format!("; nothing at HEAD can check it: {}", unchecked.join("; "));
        }
        let mut s = format!(
            "; at HEAD its checks pass ({} covered, {} accepting the new certificate)",
            count(self.names_ok, "client name"),
            count(self.trust_ok, "trust reference")
        );
        if !unchecked.is_empty() {
            s.push_str(&format!("; not checked: {}", unchecked.join("; ")));
        }
        s
    }
}

/// The risk HEAD's graph shows for the components named `keys`.
fn assess(head: &Inventory, keys: &[&str]) -> Risk {
    let g = &head.graph;
    let mut risk = Risk::default();
    for ci in (0..g.components.len()).filter(|&c| keys.contains(&component_key(g, c).as_str())) {
        let name = component_key(g, ci);
        let serves: Vec<usize> = (0..g.serves.len())
            .filter(|&s| g.serves[s].component == ci)
            .collect();
        for r in g.reaches.iter().filter(|r| r.component == ci) {
            match &r.verdict {
                Some(Verdict::NameMismatch { name: host, .. }) => {
                    risk.found.push(format!(
                        "{name} is reached as {host}, which its new certificate does not name"
                    ));
                    risk.places.push(Related {
                        location: r.location.clone(),
                        note: format!("{name} is reached as {host} here"),
                    });
                }
                Some(_) => risk.names_ok += 1,
                None => {}
            }
        }
        for t in g.trusts.iter().filter(|t| t.direction == Direction::Server) {
            let client = &g.components[t.component].name;
            for c in t.checks.iter().filter(|c| serves.contains(&c.presented)) {
                let fault = match &c.verdict {
                    Verdict::NameMismatch { name: host, .. } => format!(
                        "{client} reaches {name} as {host}, which its new certificate does not name"
                    ),
                    Verdict::NoPath { reason } => format!(
                        "{client}'s {} does not accept {name}'s new certificate: {reason}",
                        t.via
                    ),
                    Verdict::Expired { .. } | Verdict::NotYetValid { .. } => {
                        format!("{name}'s new certificate is outside its validity for {client}")
                    }
                    Verdict::Valid => {
                        risk.trust_ok += 1;
                        continue;
                    }
                    Verdict::Unknown { reason } => {
                        risk.unchecked
                            .insert(format!("{client}'s trust ({reason})"));
                        continue;
                    }
                };
                risk.found.push(fault);
                risk.places.push(Related {
                    location: t.location.clone(),
                    note: format!("{client} trusts {} here", t.via),
                });
            }
        }
        for &s in &serves {
            if let Source::CertManager {
                kind,
                issuer,
                issuer_ca: None,
                ..
            } = &g.serves[s].source
            {
                risk.unchecked.insert(if kind == "acme" {
                    format!("{issuer} chains to a public root, which clients find in their system store (not judged)")
                } else {
                    format!("the CA of {issuer} is not in the repository")
                });
            }
        }
    }
    if risk.found.is_empty() && risk.names_ok == 0 {
        risk.unchecked.insert(
            "no name clients use for them is declared (policy reached_as) or found (URLs, Service names)"
                .into(),
        );
    }
    if risk.found.is_empty() && risk.trust_ok == 0 {
        risk.unchecked
            .insert("no client's trust reference covers them".into());
    }
    risk
}
