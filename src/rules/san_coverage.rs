//! `san-coverage`: the name a client uses is not on the certificate it gets.

use super::{declare_rule, Context, DiffContext, ProbeContext};
use crate::finding::{Finding, Related, Severity};
use crate::inventory::graph::Source;
use crate::verify::Verdict;

declare_rule! {
    /// What it detects: a client reaches a component by a host name — a
    /// URL in a flag (`--etcd-servers`), a webhook's Service
    /// (`name.namespace.svc`), a kubeconfig's `server` — that the
    /// certificate the component serves does not cover: not among its DNS
    /// or IP subject alternative names (wildcards match one label; the
    /// subject CN is ignored, as Go and rustls do). For a cert-manager
    /// source, the `Certificate`'s `dnsNames` are checked before anything
    /// is issued.
    ///
    /// Why it matters: the TLS handshake fails with "certificate is valid
    /// for X, not Y" on the first connection after the certificate changes.
    /// On 2023-08-09 a global default switched MediaWiki's TLS terminator to
    /// a cert-manager certificate whose names lacked `en.wikipedia.org`;
    /// every probe failed until the change was reverted.
    ///
    /// Example: a ValidatingWebhookConfiguration calls Service
    /// `policy-webhook` in namespace `apps`, so the API server expects
    /// `policy-webhook.apps.svc`; the Secret the webhook serves holds a
    /// certificate for `policy.apps.svc` only.
    pub static RULE = {
        id: "san-coverage",
        severity: Severity::Error,
        summary: "a served certificate does not cover the host name its clients use",
        scan: check,
        diff: diff,
        probe: probe,
    };
}

/// The names a certificate lists, for a message: at most [`SHOWN_NAMES`]
/// and how many more (a policy template can list a thousand).
fn name_list(names: &[String]) -> String {
    const SHOWN_NAMES: usize = 8;
    // The verdict keeps a bounded list, its last entry `… (N more)`.
    let (names, beyond) = match names.split_last() {
        Some((last, rest)) if last.starts_with("… (") => {
            let n = last
                .trim_start_matches("… (")
                .trim_end_matches(" more)")
                .parse()
                .unwrap_or(0);
            (rest, n)
        }
        _ => (names, 0),
    };
    match names.len() + beyond {
        0 => "nothing".to_owned(),
        n if n <= SHOWN_NAMES => names.join(", "),
        n => format!(
            "{} and {} more",
            names[..SHOWN_NAMES.min(names.len())].join(", "),
            n - SHOWN_NAMES.min(names.len())
        ),
    }
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let inv = ctx.inventory;
    let g = &inv.graph;
    let mut out = Vec::new();
    for t in &g.trusts {
        for c in &t.checks {
            let Verdict::NameMismatch { name, presented } = &c.verdict else {
                continue;
            };
            let comp = &g.components[t.component];
            let peer = &g.components[c.peer];
            let s = &g.serves[c.presented];
            let (location, what) = match (&s.source, s.bundle) {
                (
                    Source::CertManager {
                        certificate,
                        issuer,
                        ..
                    },
                    None,
                ) => (
                    certificate.clone(),
                    format!("the cert-manager Certificate ({issuer}) lists"),
                ),
                (_, Some(b)) => (
                    inv.bundles[b]
                        .members
                        .first()
                        .map(|m| m.1.clone())
                        .unwrap_or_else(|| s.location.clone()),
                    "its certificate names".to_owned(),
                ),
                _ => (s.location.clone(), "its certificate names".to_owned()),
            };
            let names = name_list(presented);
            let mut f = Finding::new(
                RULE.id,
                RULE.severity,
                location,
                format!(
                    "{} reaches {} as {name}, but {what} {names}",
                    comp.name, peer.name
                ),
            );
            if let Some(h) = &t.host_location {
                f.related.push(Related {
                    location: h.clone(),
                    note: format!("{} uses {name} here", comp.name),
                });
            }
            f.related.push(Related {
                location: s.location.clone(),
                note: format!("{} serves it here ({})", peer.name, s.via),
            });
            if let Some(b) = s.bundle {
                f.certificates
                    .extend(inv.bundles[b].members.first().map(|m| m.0.clone()));
            }
            f.component = Some(peer.name.clone());
            f.peer = Some(comp.name.clone());
            out.push(f);
        }
    }
    // Host names a component is reached by (a policy's, an Ingress's or
    // Gateway's hosts): one finding per served certificate, every host it
    // does not cover named.
    // By serve: (host, the names presented, the reach's index).
    type Missed<'g> = Vec<(&'g String, &'g Vec<String>, usize)>;
    let mut missed: std::collections::BTreeMap<usize, Missed<'_>> =
        std::collections::BTreeMap::new();
    for (ri, r) in g.reaches.iter().enumerate() {
        let (Some(Verdict::NameMismatch { name, presented }), Some(si)) = (&r.verdict, r.serve)
        else {
            continue;
        };
        missed.entry(si).or_default().push((name, presented, ri));
    }
    for (si, hosts) in missed {
        let comp = &g.components[g.reaches[hosts[0].2].component];
        let s = &g.serves[si];
        let names = name_list(hosts[0].1);
        let what = match &s.source {
            Source::CertManager { issuer, .. } => {
                format!("its certificate comes from cert-manager {issuer} with dnsNames")
            }
            _ => "its certificate names".to_owned(),
        };
        let hosts_said: Vec<String> = hosts.iter().map(|h| h.0.clone()).collect();
        let said = match hosts_said.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => hosts_said.join(""),
        };
        let mut f = Finding::new(
            RULE.id,
            RULE.severity,
            s.location.clone(),
            format!("{} is reached as {said}, but {what} {names}", comp.name),
        );
        for (name, _, ri) in &hosts {
            f.related.push(Related {
                location: g.reaches[*ri].location.clone(),
                note: format!("clients use {name} (from here)"),
            });
        }
        if let Some(b) = s.bundle {
            f.certificates
                .extend(inv.bundles[b].members.first().map(|m| m.0.clone()));
        }
        f.component = Some(comp.name.clone());
        out.push(f);
    }
    out
}

/// In a diff: a served certificate that names fewer hosts at HEAD than at
/// BASE, at the line that decides it.
fn diff(ctx: &DiffContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, hs) in &ctx.compared.head {
        let Some(bs) = ctx.compared.base.get(name) else {
            continue;
        };
        for (ch, hv) in &hs.serves {
            let Some(bv) = bs.serves.get(ch) else {
                continue;
            };
            let (Some(bn), Some(hn)) = (&bv.names, &hv.names) else {
                continue;
            };
            let lost: Vec<String> = bn.iter().filter(|n| !hn.contains(n)).cloned().collect();
            if lost.is_empty() {
                continue;
            }
            let mut f = Finding::new(
                RULE.id,
                RULE.severity,
                hv.causes[0].clone(),
                format!(
                    "{name}: the certificate it serves after this change no longer covers {}",
                    lost.join(", ")
                ),
            );
            f.related.push(Related {
                location: bv.location.clone(),
                note: format!("before: {}", bn.join(", ")),
            });
            f.component = Some(name.clone());
            out.push(f);
        }
    }
    out
}

/// At a live endpoint: the served leaf is not valid for the host dialled,
/// or for the name a trusting client uses.
fn probe(ctx: &ProbeContext<'_>) -> Vec<Finding> {
    let Some(leaf) = ctx.leaf() else {
        return Vec::new();
    };
    let (name, at) = (ctx.component, ctx.at);
    let live = super::describe_cert(leaf);
    let mut out = Vec::new();
    if let Verdict::NameMismatch { name: host, .. } = crate::verify::check_name(leaf, ctx.host) {
        out.push(ctx.finding(
            RULE.id,
            RULE.severity,
            ctx.origin,
            format!(
                "{name} at {at} serves {live}, which is not valid for {host}: it names {}",
                dns_and_ip_names(leaf)
            ),
        ));
    }
    let g = &ctx.inventory.graph;
    for (ti, verdict) in ctx.verdicts {
        let Verdict::NameMismatch { name: h, presented } = verdict else {
            continue;
        };
        if h == ctx.host {
            continue;
        }
        let t = &g.trusts[*ti];
        let client = &g.components[t.component].name;
        let mut f = ctx.finding(
            RULE.id,
            RULE.severity,
            t.host_location.as_ref().unwrap_or(&t.location),
            format!(
                "{client} reaches {name} as {h}, but the certificate served at {at} ({live}) names {}",
                if presented.is_empty() { "nothing".to_owned() } else { presented.join(", ") }
            ),
        );
        f.peer = Some(client.clone());
        out.push(f);
    }
    out
}

/// `a.example, 10.0.0.1`: a certificate's DNS and IP names, for messages.
fn dns_and_ip_names(c: &crate::x509::CertInfo) -> String {
    let v = crate::verify::presented_names(c);
    if v.is_empty() {
        "no DNS or IP name".into()
    } else {
        v.join(", ")
    }
}
