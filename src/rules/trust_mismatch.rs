//! `trust-mismatch`: a component trusts CAs that did not issue its peer's certificate.

use super::{cite, declare_rule, Context, ProbeContext};
use crate::finding::{Finding, Related, Severity};
use crate::inventory::graph::{Anchors, ClientKind, Direction, PeerBy, Source};
use crate::verify::Verdict;

declare_rule! {
    /// What it detects: a trust reference — a flag such as kube-apiserver's
    /// `--etcd-cafile`, etcd's `--trusted-ca-file`, a webhook's `caBundle`,
    /// a kubeconfig's `certificate-authority-data` — whose bundle holds no
    /// anchor that the peer's certificate chains to. The peer is found
    /// through the client's URL (a Service and its selector, or a serving
    /// certificate that names the host) or, failing that, the policy role
    /// (the one etcd in the scope). The chain is checked as a TLS client
    /// would (rustls-webpki: signatures, CA constraints, key usage), for
    /// server or client authentication as the edge requires. A chain that
    /// builds but fails only on time or on the name is reported by
    /// `expired` or `san-coverage`, not here. A chain the verifier cannot
    /// decide (a key or algorithm it does not verify) is never passed over:
    /// when the client is a Go program (the Kubernetes components, etcd,
    /// anything called through a `caBundle`) and Go's parser refuses a key
    /// of the chain (P-192 and other unsupported curves, explicit curve
    /// parameters, RSA under 1024 bits), it is an error that says why;
    /// otherwise a warning that the chain could not be verified.
    ///
    /// Why it matters: nothing fails until the client reconnects — a
    /// restart, a failover, a certificate renewal — and then it cannot reach
    /// its peer at all. On 2019-09-10 Toolforge's kube-apiserver was
    /// restarted trusting a CA that had not issued etcd's certificate; the
    /// API server could not reach etcd ("etcd cluster is unavailable or
    /// misconfigured") and the cluster was down for hours while people
    /// debugged etcd itself.
    ///
    /// Example: `rendered/prod/control-plane.yaml` runs kube-apiserver with
    /// `--etcd-cafile=/etc/kubernetes/etcd-ca/ca.crt`, mounted from
    /// ConfigMap `kube-system/apiserver-etcd-ca`, which holds `CN=etcd CA
    /// (previous)`; etcd serves `--cert-file` from Secret
    /// `kube-system/etcd-server-tls`, issued by `CN=etcd CA`.
    pub static RULE = {
        id: "trust-mismatch",
        severity: Severity::Error,
        summary: "a trusted CA bundle did not issue the peer's certificate",
        scan: check,
        probe: probe,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let inv = ctx.inventory;
    let g = &inv.graph;
    let mut out = Vec::new();
    for t in &g.trusts {
        for c in &t.checks {
            let comp = &g.components[t.component];
            let peer = &g.components[c.peer];
            let go = match g.client(t) {
                ClientKind::Go(who) => Some(who),
                _ => None,
            };
            let presented = match t.direction {
                Direction::Server => &g.serves[c.presented],
                Direction::Client => &g.clients[c.presented],
            };
            let what = match (t.direction, &t.peer_by) {
                // A mesh CA checked against its root (Linkerd, Istio `cacerts`).
                (_, PeerBy::Serve(..)) => "CA",
                (Direction::Server, _) => "serving",
                (Direction::Client, _) => "client",
            };
            // A mesh CA is named by its subject: the issuer the mesh signs with.
            let named = match (&t.peer_by, presented.bundle) {
                (PeerBy::Serve(..), Some(b)) => inv.bundles[b]
                    .members
                    .first()
                    .and_then(|(fp, _)| inv.certs.get(fp))
                    .map(|e| format!(" {}", crate::x509::describe_cert(&e.info)))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let refused = format!(
                "{} trusts {} for {}, but that does not accept {}'s {what} certificate{named}",
                comp.name, t.via, t.channel, peer.name
            );
            let (severity, message) = match (&c.verdict, &c.go_refusal, &go) {
                (Verdict::NoPath { reason }, _, _) => (RULE.severity, format!("{refused}: {reason}")),
                // The verifier cannot decide, but Go's parser refuses a key
                // of the chain: a Go client cannot connect.
                (Verdict::Unknown { reason }, Some(why), Some(client)) => (
                    RULE.severity,
                    format!(
                        "{refused}: the client, {client}, is a Go program, and Go's crypto/x509 refuses {why} (certdrift's verifier: {reason})"
                    ),
                ),
                // Never silent on a chain that cannot be decided.
                (Verdict::Unknown { reason }, go_refusal, _) => (
                    Severity::Warning,
                    format!(
                        "{} trusts {} for {}, but {}'s {what} certificate{named} could not be verified against it: {reason}{}",
                        comp.name,
                        t.via,
                        t.channel,
                        peer.name,
                        go_refusal
                            .as_ref()
                            .map(|why| format!("; a Go client would refuse {why}"))
                            .unwrap_or_default()
                    ),
                ),
                _ => continue,
            };
            let mut f = Finding::new(RULE.id, severity, t.location.clone(), message);
            if let Anchors::Bundle(b) = &t.anchors {
                for (fp, loc) in &inv.bundles[*b].members {
                    super::cite(&mut f, inv, fp, loc, "trusted: ");
                }
            }
            match (&presented.source, presented.bundle) {
                (_, Some(b)) => {
                    if let Some((fp, loc)) = inv.bundles[b].members.first() {
                        let note =
                            format!("{}'s {what} certificate ({}): ", peer.name, presented.via);
                        super::cite(&mut f, inv, fp, loc, &note);
                    }
                }
                (
                    Source::CertManager {
                        certificate,
                        issuer,
                        ..
                    },
                    None,
                ) => {
                    f.related.push(Related {
                        location: certificate.clone(),
                        note: format!(
                            "{}'s certificate comes from cert-manager {issuer}",
                            peer.name
                        ),
                    });
                }
                _ => {}
            }
            f.related.push(Related {
                location: presented.location.clone(),
                note: format!("{} names it here", peer.name),
            });
            f.component = Some(comp.name.clone());
            f.peer = Some(peer.name.clone());
            out.push(f);
        }
    }
    out
}

/// At a live endpoint: a component whose trust covers it does not accept
/// the chain it serves.
fn probe(ctx: &ProbeContext<'_>) -> Vec<Finding> {
    let Some(leaf) = ctx.leaf() else {
        return Vec::new();
    };
    let (inv, name, at) = (ctx.inventory, ctx.component, ctx.at);
    let live = super::describe_cert(leaf);
    let mut out = Vec::new();
    for (ti, verdict) in ctx.verdicts {
        let t = &inv.graph.trusts[*ti];
        let client = &inv.graph.components[t.component].name;
        let (severity, message) = match verdict {
            Verdict::NoPath { reason } => (
                RULE.severity,
                format!(
                    "{client} trusts {} for {}, but that does not accept the chain {name} serves at {at} ({live}): {reason}",
                    t.via, t.channel
                ),
            ),
            // Never silent on a chain that cannot be decided.
            Verdict::Unknown { reason } => (
                Severity::Warning,
                format!(
                    "{client} trusts {} for {}, but the chain {name} serves at {at} ({live}) could not be verified against it: {reason}",
                    t.via, t.channel
                ),
            ),
            _ => continue,
        };
        let mut f = ctx.finding(RULE.id, severity, &t.location, message);
        if let Anchors::Bundle(b) = &t.anchors {
            for (fp, loc) in &inv.bundles[*b].members {
                cite(&mut f, inv, fp, loc, "trusted: ");
            }
        }
        f.related.push(Related {
            location: ctx.origin.clone(),
            note: format!("{at} comes from here ({})", ctx.from),
        });
        f.component = Some(client.clone());
        f.peer = Some(name.to_owned());
        out.push(f);
    }
    out
}
