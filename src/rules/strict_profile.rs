//! `strict-profile`: a certificate that Go accepts on a trust path but a
//! strict client (OpenSSL's `-x509_strict`, Python 3.13's default) refuses.

use std::collections::BTreeMap;

use super::{declare_rule, describe_cert, Context};
use crate::finding::{Related, Severity};
use crate::inventory::graph::{ClientKind, Direction};
use crate::x509::Fingerprint;

declare_rule! {
    /// What it detects: a certificate on the path of a trust reference
    /// that verifies, whose profile a client that verifies strictly
    /// refuses: OpenSSL with `X509_V_FLAG_X509_STRICT` (`openssl verify
    /// -x509_strict`), which Python's `ssl.create_default_context()` sets
    /// since 3.13. The checks are OpenSSL's: a CA without keyUsage or
    /// subjectKeyIdentifier, or whose basicConstraints is not critical; a
    /// certificate below the anchor without an authorityKeyIdentifier key
    /// identifier; keyCertSign on a certificate that is not a CA; an empty
    /// issuer or subject name (an empty subject needs a critical
    /// subjectAltName); an empty subjectAltName; a critical authority or
    /// subject key identifier; inner and outer signature algorithms that
    /// differ; extensions in a v1/v2 certificate. Only trust
    /// references whose client is not known to be a Go program are judged
    /// (the Kubernetes components, etcd and what kube-apiserver calls are
    /// Go programs, which accept all of these), and not a proxy's data
    /// plane, a mesh's own CA check or a kubeconfig. A policy says which
    /// verifier a role or component is with `client: go | strict | other`;
    /// when a `client: strict` component is refused, the finding is an
    /// error naming it. One finding per certificate, with every trust
    /// reference whose path it is on.
    ///
    /// Why it matters: the chain works today and breaks when a client is
    /// upgraded: Python 3.13 refused CAs made with `openssl req -x509`'s
    /// defaults ("CA cert does not include key usage extension") and
    /// certificates without an authority key identifier ("Missing Authority
    /// Key Identifier"), in services nobody had touched.
    ///
    /// Example: `ca/internal-ca.pem` has basicConstraints CA:TRUE but no
    /// keyUsage extension; the `reports` Deployment trusts it for the `api`
    /// Service.
    pub static RULE = {
        id: "strict-profile",
        severity: Severity::Warning,
        summary: "a certificate on a trust path that strict clients (OpenSSL -x509_strict, Python 3.13) refuse",
        scan: check,
    };
}

/// One refused certificate, as [`check`] gathers it.
struct Refused<'a> {
    refusal: &'a crate::verify::strict::Refusal,
    trusts: Vec<Related>,
    /// Components whose policy says `client: strict`.
    strict: Vec<&'a str>,
}

fn check(ctx: &Context<'_>) -> Vec<crate::finding::Finding> {
    let inv = ctx.inventory;
    let g = &inv.graph;
    // Per refused certificate: its place in the path, the reasons, the
    // trust references whose path it is on (in graph order), and the
    // components among them that the policy says verify strictly.
    let mut refused: BTreeMap<&Fingerprint, Refused<'_>> = BTreeMap::new();
    for t in &g.trusts {
        for c in &t.checks {
            let Some(r) = &c.strict_refusal else { continue };
            let comp = &g.components[t.component];
            let peer = &g.components[c.peer];
            let what = match t.direction {
                Direction::Server => "serving",
                Direction::Client => "client",
            };
            let strict = g.client(t) == ClientKind::Strict;
            let note = format!(
                "{} trusts {} for {}: the {} of {}'s {what} chain{}",
                comp.name,
                t.via,
                t.channel,
                r.role,
                peer.name,
                if strict {
                    " (the policy's client: strict)"
                } else {
                    ""
                }
            );
            let entry = refused.entry(&r.fingerprint).or_insert_with(|| Refused {
                refusal: r,
                trusts: Vec::new(),
                strict: Vec::new(),
            });
            if strict && !entry.strict.contains(&comp.name.as_str()) {
                entry.strict.push(&comp.name);
            }
            if !entry.trusts.iter().any(|x| x.note == note) {
                entry.trusts.push(Related {
                    location: t.location.clone(),
                    note,
                });
            }
        }
    }
    let mut out = Vec::new();
    for (
        fp,
        Refused {
            refusal: r,
            trusts,
            strict,
        },
    ) in refused
    {
        let Some(entry) = inv.certs.get(fp) else {
            continue;
        };
        let places: Vec<_> = super::ordered(ctx, &entry.refs).collect();
        if places.is_empty() {
            continue;
        }
        // A client the policy says verifies strictly cannot connect: an
        // error that names it; otherwise a client that may be strict.
        let (severity, who) = if strict.is_empty() {
            (
                RULE.severity,
                "clients that verify strictly (OpenSSL -x509_strict, Python 3.13's default context)"
                    .to_string(),
            )
        } else {
            (
                Severity::Error,
                format!(
                    "{}, which verif{} strictly (OpenSSL -x509_strict, Python 3.13's default context)",
                    strict.join(", "),
                    if strict.len() == 1 { "ies" } else { "y" }
                ),
            )
        };
        let message = format!(
            "certificate {} ({}) is refused by {who}, though Go accepts it: {}; it is on the path of {} trust reference{}",
            describe_cert(&entry.info),
            places[0].via,
            r.reasons.join("; "),
            trusts.len(),
            if trusts.len() == 1 { "" } else { "s" }
        );
        let mut f = super::grouped(ctx, RULE.id, severity, &entry.info, &places, message);
        f.related.extend(trusts);
        out.push(f);
    }
    out
}
