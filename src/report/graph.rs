//! The trust graph as a picture: Graphviz DOT or Mermaid.
//!
//! Components are boxes, certificates notes (short fingerprint and CN).
//! Edges: `serves`, `client cert`, `trusts (channel)` to each anchor,
//! `issued by` between certificates, and one edge from each trusting
//! component to each peer it was checked against — red and dashed where the
//! check failed.

use crate::inventory::graph::{Anchors, Direction};
use crate::inventory::Inventory;
use crate::verify::Verdict;
use crate::x509::{self, Fingerprint};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A drawing, independent of the output syntax.
struct Picture {
    /// (id, label, is_component).
    nodes: Vec<(String, String, bool)>,
    /// (from, to, label, bad).
    edges: Vec<(String, String, String, bool)>,
}

fn cert_label(inv: &Inventory, fp: &Fingerprint) -> String {
    match inv.certs.get(fp) {
        Some(e) => format!(
            "{}\nsha256:{}",
            e.info
                .subject_cn
                .clone()
                .unwrap_or_else(|| e.info.subject.clone()),
            fp.short()
        ),
        None => fp.short(),
    }
}

fn picture(inv: &Inventory) -> Picture {
    let g = &inv.graph;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut certs: BTreeSet<Fingerprint> = BTreeSet::new();
    for (i, c) in g.components.iter().enumerate() {
        let label = match &c.role {
            Some(r) => format!("{}\n({r})", c.name),
            None => c.name.clone(),
        };
        nodes.push((format!("c{i}"), label, true));
    }
    let bundle_leaf = |b: Option<usize>| {
        b.and_then(|b| inv.bundles[b].members.first())
            .map(|m| m.0.clone())
    };
    for (list, label) in [(&g.serves, "serves"), (&g.clients, "client cert")] {
        for p in list {
            if let Some(fp) = bundle_leaf(p.bundle) {
                edges.push((
                    format!("c{}", p.component),
                    format!("x{}", fp.short()),
                    label.to_owned(),
                    false,
                ));
                certs.insert(fp);
            }
        }
    }
    for t in &g.trusts {
        if let Anchors::Bundle(b) = &t.anchors {
            for (fp, _) in &inv.bundles[*b].members {
                edges.push((
                    format!("c{}", t.component),
                    format!("x{}", fp.short()),
                    format!("trusts ({})", t.channel),
                    false,
                ));
                certs.insert(fp.clone());
            }
        }
        for c in &t.checks {
            let bad = !matches!(c.verdict, Verdict::Valid);
            let what = match (&c.verdict, t.direction) {
                (Verdict::Valid, Direction::Server) => "connects to".to_owned(),
                (Verdict::Valid, Direction::Client) => "accepts client".to_owned(),
                (Verdict::NoPath { .. }, _) => "trust mismatch".to_owned(),
                (Verdict::NameMismatch { name, .. }, _) => format!("name {name} not covered"),
                (Verdict::Expired { .. }, _) => "expired".to_owned(),
                (Verdict::NotYetValid { .. }, _) => "not yet valid".to_owned(),
                (Verdict::Unknown { .. }, _) => "unknown".to_owned(),
            };
            edges.push((
                format!("c{}", t.component),
                format!("c{}", c.peer),
                format!("{what} ({})", t.channel),
                bad,
            ));
        }
    }
    // Issuers among the certificates drawn (and their issuers, transitively through the inventory).
    let mut queue: Vec<Fingerprint> = certs.iter().cloned().collect();
    let mut issued: BTreeMap<Fingerprint, Fingerprint> = BTreeMap::new();
    while let Some(fp) = queue.pop() {
        let Some(e) = inv.certs.get(&fp) else {
            continue;
        };
        if e.info.self_issued {
            continue;
        }
        let issuer = inv.certs.values().find(|cand| {
            cand.info.subject == e.info.issuer
                && x509::issued_by(&e.info, &cand.info) == x509::Issuance::Issued
        });
        if let Some(i) = issuer {
            issued.insert(fp.clone(), i.info.fingerprint.clone());
            if certs.insert(i.info.fingerprint.clone()) {
                queue.push(i.info.fingerprint.clone());
            }
        }
    }
    for (from, to) in &issued {
        edges.push((
            format!("x{}", from.short()),
            format!("x{}", to.short()),
            "issued by".into(),
            false,
        ));
    }
    for fp in &certs {
        nodes.push((format!("x{}", fp.short()), cert_label(inv, fp), false));
    }
    edges.sort();
    edges.dedup();
    Picture { nodes, edges }
}

/// A DOT label: its lines (the picture joins a label's parts with `\n`)
/// each escaped for a quoted DOT string (quotes, backslashes, and control
/// characters from input made visible, so that `dot` renders any input).
fn dot_escape(s: &str) -> String {
    s.split('\n')
        .map(super::escape::dot)
        .collect::<Vec<_>>()
        .join("\\n")
}

/// Graphviz DOT.
pub fn dot(inv: &Inventory) -> String {
    let p = picture(inv);
    let mut out = String::from("digraph certdrift {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (id, label, component) in &p.nodes {
        let shape = if *component { "box" } else { "note" };
        let _ = writeln!(
            out,
            "  {id} [shape={shape}, label=\"{}\"];",
            dot_escape(label)
        );
    }
    for (from, to, label, bad) in &p.edges {
        let style = if *bad {
            ", color=red, fontcolor=red, style=dashed"
        } else if label == "issued by" {
            ", style=dotted"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {from} -> {to} [label=\"{}\"{style}];",
            dot_escape(label)
        );
    }
    out.push_str("}\n");
    out
}

/// A Mermaid label: its lines each with quotes, `<`, `>` and `&` as
/// Mermaid entity codes (no HTML from input reaches the page), joined with
/// `<br/>`.
fn mermaid_escape(s: &str) -> String {
    s.split('\n')
        .map(super::escape::mermaid)
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// Mermaid flowchart.
pub fn mermaid(inv: &Inventory) -> String {
    let p = picture(inv);
    let mut out = String::from("flowchart LR\n");
    for (id, label, component) in &p.nodes {
        let l = mermaid_escape(label);
        if *component {
            let _ = writeln!(out, "  {id}[\"{l}\"]");
        } else {
            let _ = writeln!(out, "  {id}[/\"{l}\"/]");
        }
    }
    let mut red = Vec::new();
    for (i, (from, to, label, bad)) in p.edges.iter().enumerate() {
        let arrow = if *bad || label == "issued by" {
            "-.->"
        } else {
            "-->"
        };
        let _ = writeln!(out, "  {from} {arrow}|\"{}\"| {to}", mermaid_escape(label));
        if *bad {
            red.push(i.to_string());
        }
    }
    if !red.is_empty() {
        let _ = writeln!(out, "  linkStyle {} stroke:red,color:red", red.join(","));
    }
    out
}
