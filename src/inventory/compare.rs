//! Two inventories compared per component: what `certdrift diff` models.
//!
//! In: BASE's and HEAD's [`Inventory`] and the files that differ between
//! them. Out: a [`Compared`] — per component, a [`Snap`] of each side (what
//! it serves, trusts and presents as a client, and the files those facts
//! come from) and the [`Change`]s: its serving certificate's source, the
//! certificate, its names, each trust reference's anchors, its client
//! certificates, each with the changed input files that cause it.
//! Inventories are compared, not text. What a change means (an error, a
//! safe overlap) is the diff rules' to say (`source-change`,
//! `trust-change`, `san-coverage`).

use super::graph::{Anchors, Direction, Graph, Source};
use super::Inventory;
use crate::finding::Location;
use crate::verify::Verdict;
use crate::x509::{describe_cert, Fingerprint, San};
use std::collections::{BTreeMap, BTreeSet};

/// BASE and HEAD, per component, and what differs.
#[derive(Debug, Default)]
pub struct Compared {
    /// BASE's components by `scope/name`.
    pub base: BTreeMap<String, Snap>,
    /// HEAD's components by `scope/name`.
    pub head: BTreeMap<String, Snap>,
    /// The files that differ between the sides.
    pub changed: BTreeSet<String>,
    /// The changes, by component then kind.
    pub changes: Vec<Change>,
}

/// What changed for one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `scope/name` of the component.
    pub component: String,
    /// What kind of change.
    pub what: ChangeKind,
    /// Before (BASE), in words.
    pub before: String,
    /// After (HEAD), in words.
    pub after: String,
    /// Where it is at HEAD (or BASE, if removed).
    pub location: Location,
    /// Changed input files that cause it (`path` or `path:line`).
    pub causes: Vec<String>,
    /// Whether the component's own files changed too.
    pub own_files_changed: bool,
    /// For a source change, which parts of the source differ (`the kind`,
    /// `the intermediate`).
    pub parts: Option<String>,
}

/// Kinds of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// A component appears.
    Added,
    /// A component disappears.
    Removed,
    /// The serving certificate's source or issuer.
    Source,
    /// The served certificate itself (same source).
    Certificate,
    /// The names the served certificate covers.
    Names,
    /// A trust bundle's anchors.
    Trust,
    /// A client certificate.
    Client,
}

impl ChangeKind {
    /// Lowercase name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Source => "source",
            ChangeKind::Certificate => "certificate",
            ChangeKind::Names => "names",
            ChangeKind::Trust => "trust",
            ChangeKind::Client => "client",
        }
    }
}

/// Compares BASE and HEAD; `changed` lists the files that differ.
pub fn compare(base: &Inventory, head: &Inventory, changed: &[String]) -> Compared {
    let (b, h) = rayon::join(|| snapshot(base), || snapshot(head));
    let changed: BTreeSet<String> = changed.iter().cloned().collect();
    let mut changes = Vec::new();
    let names: BTreeSet<&String> = b.keys().chain(h.keys()).collect();
    for name in names {
        let (bs, hs) = (b.get(name), h.get(name));
        let inputs: BTreeSet<&String> = bs
            .iter()
            .chain(hs.iter())
            .flat_map(|s| s.inputs.iter())
            .collect();
        let causes: Vec<String> = inputs
            .iter()
            .filter(|p| changed.contains(p.as_str()))
            .map(|p| p.to_string())
            .collect();
        let own_changed = bs
            .iter()
            .chain(hs.iter())
            .flat_map(|s| s.own.iter())
            .any(|p| changed.contains(p.as_str()));
        let mk =
            |what, before: String, after: String, location: Location, causes: Vec<String>| Change {
                component: name.clone(),
                what,
                before,
                after,
                location,
                causes,
                own_files_changed: own_changed,
                parts: None,
            };
        let (bs, hs) = match (bs, hs) {
            (None, Some(hs)) => {
                changes.push(mk(
                    ChangeKind::Added,
                    "-".into(),
                    "present".into(),
                    hs.location
                        .clone()
                        .unwrap_or_else(|| Location::new(0, "", 1, 1)),
                    causes.clone(),
                ));
                continue;
            }
            (Some(bs), None) => {
                changes.push(mk(
                    ChangeKind::Removed,
                    "present".into(),
                    "-".into(),
                    bs.location
                        .clone()
                        .unwrap_or_else(|| Location::new(0, "", 1, 1)),
                    causes.clone(),
                ));
                continue;
            }
            (Some(bs), Some(hs)) => (bs, hs),
            (None, None) => continue,
        };
        for (ch, hv) in &hs.serves {
            let Some(bv) = bs.serves.get(ch) else {
                continue;
            };
            // The cause: the line that decides the source at HEAD, if its
            // file changed; else the line that decided it at BASE (an
            // override removed); else the changed inputs.
            let mut why = causes.clone();
            let decisive = hv
                .causes
                .iter()
                .map(|l| (l, ""))
                .chain(bv.causes.iter().map(|l| (l, " at BASE")))
                .find(|(l, _)| changed.contains(l.path.as_str()));
            let mut at = hv.causes[0].clone();
            if let Some((l, side)) = decisive {
                why.retain(|p| *p != l.path);
                why.insert(0, format!("{}:{}{side}", l.path, l.line));
                if side.is_empty() {
                    at = l.clone();
                }
            }
            if bv.source != hv.source {
                let mut c = mk(
                    ChangeKind::Source,
                    bv.source.clone(),
                    hv.source.clone(),
                    at.clone(),
                    why.clone(),
                );
                c.parts = bv.parts.differing_parts(&hv.parts);
                changes.push(c);
            } else if bv.fingerprint != hv.fingerprint {
                changes.push(mk(
                    ChangeKind::Certificate,
                    short(&bv.fingerprint, base),
                    short(&hv.fingerprint, head),
                    hv.location.clone(),
                    why.clone(),
                ));
            }
            if let (Some(bn), Some(hn)) = (&bv.names, &hv.names) {
                if bn.iter().any(|n| !hn.contains(n)) || hn.iter().any(|n| !bn.contains(n)) {
                    changes.push(mk(
                        ChangeKind::Names,
                        bn.join(", "),
                        hn.join(", "),
                        hv.location.clone(),
                        why.clone(),
                    ));
                }
            }
        }
        for (k, hv) in &hs.trusts {
            let Some(bv) = bs.trusts.get(k) else { continue };
            let (Some(ba), Some(ha)) = (&bv.anchors, &hv.anchors) else {
                continue;
            };
            if ba != ha {
                changes.push(mk(
                    ChangeKind::Trust,
                    super::describe_set(base, ba),
                    super::describe_set(head, ha),
                    hv.location.clone(),
                    causes.clone(),
                ));
            }
        }
        for (ch, (hf, hl)) in &hs.clients {
            if let Some((bf, _)) = bs.clients.get(ch) {
                if bf != hf {
                    changes.push(mk(
                        ChangeKind::Client,
                        short(bf, base),
                        short(hf, head),
                        hl.clone(),
                        causes.clone(),
                    ));
                }
            }
        }
    }
    changes.sort_by(|a, b| (&a.component, a.what).cmp(&(&b.component, b.what)));
    Compared {
        base: b,
        head: h,
        changed,
        changes,
    }
}

/// A component's certificate facts on one side.
#[derive(Clone, Debug, Default)]
pub struct Snap {
    /// What it serves, by channel.
    pub serves: BTreeMap<String, ServeSnap>,
    /// What it trusts, by `flag for channel` (` (clients)` for the client direction).
    pub trusts: BTreeMap<String, TrustSnap>,
    /// Its client certificates, by channel: the leaf, and where.
    pub clients: BTreeMap<String, (Option<Fingerprint>, Location)>,
    /// Every file its facts come from.
    pub inputs: BTreeSet<String>,
    /// Its own files (a release's values, its manifests).
    pub own: BTreeSet<String>,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// A served certificate on one side.
#[derive(Clone, Debug)]
pub struct ServeSnap {
    /// Its source, in words (`static`, `cert-manager ClusterIssuer/x`).
    pub source: String,
    /// Its source, whole (to say which part changed).
    pub parts: Source,
    /// The leaf, when the repository holds it.
    pub fingerprint: Option<Fingerprint>,
    /// The names it covers (lowercase), when known.
    pub names: Option<Vec<String>>,
    /// Where it is served.
    pub location: Location,
    /// The lines that decide its source, most decisive first: a policy
    /// switch's value, a cert-manager Certificate, the serve itself.
    pub causes: Vec<Location>,
}

/// A trust reference on one side.
#[derive(Clone, Debug)]
pub struct TrustSnap {
    /// Its anchors, when known.
    pub anchors: Option<BTreeSet<Fingerprint>>,
    /// Where it is.
    pub location: Location,
    /// Peer name → whether the check passed.
    pub verdicts: BTreeMap<String, bool>,
}

/// `scope/name` of component `c`: how a diff names it on both sides.
pub fn component_key(g: &Graph, c: usize) -> String {
    let comp = &g.components[c];
    if comp.scope.is_empty() {
        comp.name.clone()
    } else {
        format!("{}/{}", comp.scope, comp.name)
    }
}

fn leaf_names(inv: &Inventory, b: usize) -> Option<(Fingerprint, Vec<String>)> {
    let (fp, _) = inv.bundles.get(b)?.members.first()?;
    let e = inv.certs.get(fp)?;
    let names = e
        .info
        .sans
        .iter()
        .filter_map(|s| match s {
            San::Dns(d) | San::Ip(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    Some((fp.clone(), names))
}

fn snapshot(inv: &Inventory) -> BTreeMap<String, Snap> {
    let g = &inv.graph;
    let mut out: BTreeMap<String, Snap> = BTreeMap::new();
    for (i, c) in g.components.iter().enumerate() {
        let s = out.entry(component_key(g, i)).or_default();
        s.own.extend(c.own_files.iter().cloned());
        s.inputs.extend(c.own_files.iter().cloned());
        if c.location.root != usize::MAX {
            s.inputs.insert(c.location.path.clone());
        }
        s.location.get_or_insert_with(|| c.location.clone());
    }
    for (si, p) in g.serves.iter().enumerate() {
        let s = out.entry(component_key(g, p.component)).or_default();
        let (fingerprint, names) = match (p.bundle, &p.source) {
            (Some(b), _) => match leaf_names(inv, b) {
                Some((fp, n)) => (Some(fp), Some(n)),
                None => (None, None),
            },
            (None, Source::CertManager { names, .. }) => (
                None,
                Some(names.iter().map(|n| n.to_ascii_lowercase()).collect()),
            ),
            _ => (None, None),
        };
        // A policy switch's value first; then a cert-manager Certificate
        // (its issuerRef), the serve; a policy's `when: always` last.
        let mut causes: Vec<Location> = g
            .decided_at
            .get(&si)
            .map(|d| d.at.clone())
            .into_iter()
            .collect();
        let certificate = match &p.source {
            Source::CertManager { certificate, .. } => Some(certificate),
            _ => None,
        };
        let in_policy = |l: &Location| l.root == usize::MAX;
        causes.extend(certificate.filter(|l| !in_policy(l)).cloned());
        causes.push(p.location.clone());
        causes.extend(certificate.filter(|l| in_policy(l)).cloned());
        let mut seen = BTreeSet::new();
        causes.retain(|l| seen.insert(l.clone()));
        s.inputs.insert(p.location.path.clone());
        s.inputs.extend(causes.iter().map(|l| l.path.clone()));
        if let Some(b) = p.bundle {
            s.inputs.insert(inv.bundles[b].location.path.clone());
        }
        s.serves.insert(
            p.channel.clone(),
            ServeSnap {
                source: p.source.label(),
                parts: p.source.clone(),
                fingerprint,
                names,
                location: p.location.clone(),
                causes,
            },
        );
    }
    for t in &g.trusts {
        let s = out.entry(component_key(g, t.component)).or_default();
        if let Anchors::Bundle(b) = &t.anchors {
            s.inputs.insert(inv.bundles[*b].location.path.clone());
        }
        let anchors = t.anchors.set(inv);
        s.inputs.insert(t.location.path.clone());
        let verdicts = t
            .checks
            .iter()
            .map(|c| {
                (
                    g.components[c.peer].name.clone(),
                    !matches!(c.verdict, Verdict::NoPath { .. }),
                )
            })
            .collect();
        let dir = if t.direction == Direction::Server {
            ""
        } else {
            " (clients)"
        };
        s.trusts.insert(
            format!("{} for {}{dir}", t.flag, t.channel),
            TrustSnap {
                anchors,
                location: t.location.clone(),
                verdicts,
            },
        );
    }
    for p in &g.clients {
        let s = out.entry(component_key(g, p.component)).or_default();
        let fp = p.bundle.and_then(|b| leaf_names(inv, b)).map(|x| x.0);
        s.inputs.insert(p.location.path.clone());
        s.clients
            .insert(p.channel.clone(), (fp, p.location.clone()));
    }
    out
}

/// The certificate `fp` names, or that the repository holds none.
pub fn short(fp: &Option<Fingerprint>, inv: &Inventory) -> String {
    match fp {
        Some(fp) => inv
            .certs
            .get(fp)
            .map(|e| describe_cert(&e.info))
            .unwrap_or_else(|| fp.short()),
        None => "no certificate in the repository".into(),
    }
}
