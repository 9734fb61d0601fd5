//! `live-drift` (probe): a live endpoint serves another certificate than the repository configures.

use super::{cite, declare_rule, describe_cert, describe_fp, ProbeContext};
use crate::finding::{Finding, Related, Severity};
use crate::inventory::graph::Source;
use crate::x509;

declare_rule! {
    /// What it detects (only in `certdrift probe`): the endpoint of a
    /// component — an address the repository gives for it (`--etcd-servers`,
    /// `--advertise-client-urls`, a webhook's `clientConfig`, a kubeconfig
    /// `server`, a policy `reached_as` name with a port) or one named with
    /// `--target COMPONENT=HOST:PORT` — serves a leaf certificate that is
    /// not the one the repository configures for it (a static certificate:
    /// another fingerprint), or, for a cert-manager source whose `ca` issuer
    /// is in the repository, one that issuer did not issue. The message
    /// says whether the live and the configured certificate share an
    /// issuer (a renewal not committed) or not (another CA). A note, not an
    /// error, when the repository has no component of that name (nothing to
    /// compare) or declares it more than once.
    ///
    /// Why it matters: the repository is what the next deploy or restart
    /// loads. When it differs from what runs, either the running service is
    /// not what was reviewed, or the next restart changes its certificate —
    /// and the trust checks of `scan` answered for a certificate no client
    /// sees today.
    ///
    /// Example: `certdrift probe --target kube-system/etcd=10.64.0.5:2379`
    /// reports that etcd serves `CN=tools-k8s-etcd-1 (sha256:9f2c…)`,
    /// issued by `CN=Puppet CA: old`, while `control-plane.yaml` configures
    /// `--cert-file` from Secret `kube-system/etcd-pki`, issued by
    /// `CN=etcd CA`.
    pub static RULE = {
        id: "live-drift",
        severity: Severity::Error,
        summary: "(probe) a live endpoint serves another certificate than the repository",
        probe: probe,
    };
}

/// Notes when the repository declares the component more than once or
/// not at all; an error when the endpoint serves another leaf than the
/// repository configures, or one its cert-manager issuer did not issue.
fn probe(ctx: &ProbeContext<'_>) -> Vec<Finding> {
    let (inv, name, at) = (ctx.inventory, ctx.component, ctx.at);
    let g = &inv.graph;
    let mut out = Vec::new();
    if ctx.components.len() > 1 {
        let places: Vec<String> = ctx
            .components
            .iter()
            .map(|&c| g.components[c].location.to_string())
            .collect();
        out.push(ctx.finding(
            RULE.id,
            Severity::Note,
            ctx.origin,
            format!(
                "{name} is declared {} times ({}); {at} is compared with the first",
                ctx.components.len(),
                places.join(", ")
            ),
        ));
    }
    if ctx.components.is_empty() && ctx.trusting.is_empty() {
        out.push(ctx.finding(
            RULE.id,
            Severity::Note,
            ctx.origin,
            format!(
                "the repository has no component {name}: the chain {at} serves is checked for validity and names only"
            ),
        ));
    }
    let (Some(leaf), Some(si)) = (ctx.leaf(), ctx.serve) else {
        return out;
    };
    let live = describe_cert(leaf);
    let came_from = Related {
        location: ctx.origin.clone(),
        note: format!("{at} comes from here ({})", ctx.from),
    };
    let s = &g.serves[si];
    match (&s.source, ctx.expected) {
        (_, Some(fp)) if *fp != leaf.fingerprint => {
            let configured = inv.certs.get(fp).map(|e| e.info.clone());
            let issuer = match &configured {
                Some(c) if c.issuer == leaf.issuer => {
                    format!(" (both issued by {})", c.issuer)
                }
                Some(c) => format!(
                    " (issued by {}; the repository's by {})",
                    leaf.issuer, c.issuer
                ),
                None => String::new(),
            };
            let mut f = ctx.finding(
                RULE.id,
                RULE.severity,
                &s.location,
                format!(
                    "{name} at {at} serves {live}, not the certificate the repository configures ({}): {}{issuer}",
                    s.via,
                    describe_fp(inv, fp)
                ),
            );
            if let Some(b) = s.bundle {
                if let Some((fp, loc)) = inv.bundles[b].members.first() {
                    cite(&mut f, inv, fp, loc, "configured: ");
                }
            }
            f.related.push(came_from);
            out.push(f);
        }
        (
            Source::CertManager {
                issuer,
                issuer_ca: Some(ca),
                certificate,
                ..
            },
            None,
        ) => {
            let from_issuer = inv
                .certs
                .get(ca)
                .is_some_and(|e| x509::issued_by(leaf, &e.info) == x509::Issuance::Issued);
            if !from_issuer {
                let mut f = ctx.finding(
                    RULE.id,
                    RULE.severity,
                    certificate,
                    format!(
                        "{name} at {at} serves {live}, which the repository's cert-manager {issuer} (CA {}) did not issue",
                        describe_fp(inv, ca)
                    ),
                );
                f.related.push(came_from);
                out.push(f);
            }
        }
        _ => {}
    }
    out
}
