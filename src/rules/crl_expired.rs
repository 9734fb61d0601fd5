//! `crl-expired`: a certificate revocation list past its nextUpdate.

use super::{date, declare_rule, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: a certificate revocation list (PEM `X509 CRL`, or a
    /// DER CRL file) whose `nextUpdate` (RFC 5280 §5.1.2.5) is before
    /// `--now`. A CRL without `nextUpdate` is never reported.
    ///
    /// Why it matters: a CRL is only current until its `nextUpdate`. A
    /// verifier that loads a stale one either fails closed — OpenSSL-based
    /// servers (nginx `ssl_crl`, Envoy `crl`, HAProxy `crl-file`) reject
    /// every client certificate with "CRL has expired" — or, if it is told
    /// to ignore the date, misses every revocation made since. A warning,
    /// not an error: CRLs are short-lived and usually re-issued by the CA
    /// and delivered at deploy time, so the copy in the repository is often
    /// a test fixture or a snapshot rather than what the server loads.
    /// Raise it to an error in the policy where the repository is the
    /// delivery path.
    ///
    /// Example: `gateway/ca.crl`, issued by `CN=Fixture Root CA`, had its
    /// nextUpdate on 2026-10-25; the ingress that checks client
    /// certificates against it refuses them all.
    pub static RULE = {
        id: "crl-expired",
        severity: Severity::Warning,
        summary: "a certificate revocation list is past its nextUpdate date",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.inventory
        .crls
        .iter()
        .filter_map(|s| {
            let c = &s.crl;
            let next = c.next_update.filter(|&t| t < ctx.now)?;
            let issuer = match &c.issuer_cn {
                Some(cn) => format!("CN={cn}"),
                None => c.issuer.clone(),
            };
            Some(super::at_places(
                ctx,
                RULE.id,
                RULE.severity,
                &s.location,
                &[s.location.path.as_str()],
                format!(
                    "CRL of {issuer} (sha256:{}) ({}) expired on {} (nextUpdate), {}",
                    c.fingerprint.short(),
                    s.via,
                    date(next),
                    super::ago(ctx.now, next, ctx.clock)
                ),
            ))
        })
        .collect()
}
