//! `expired`: a certificate past its notAfter.

use super::{date, declare_rule, describe_cert, per_certificate, Context, ProbeContext};
use crate::finding::{Finding, Severity};
use crate::x509;

declare_rule! {
    /// What it detects: a certificate whose notAfter is before `--now`.
    ///
    /// Why it matters: every TLS client rejects an expired certificate; a
    /// component that serves one, or presents one as its client identity, is
    /// down or about to be as soon as it restarts and loads it.
    ///
    /// An expired self-signed CA inside a trust bundle is reported by
    /// `expired-anchor` instead: it anchors nothing any more, but by itself it
    /// breaks nothing.
    ///
    /// Example: `rendered/cluster-003/app-011.yaml` holds the webhook's
    /// serving certificate `CN=app-011-webhook.apps.svc`, which expired on
    /// 2026-10-29; the API server's calls to the webhook fail.
    pub static RULE = {
        id: "expired",
        severity: Severity::Error,
        summary: "a certificate is past its notAfter date",
        scan: check,
        probe: probe,
    };
}

/// Whether this reference is an inert trust anchor (see `expired-anchor`).
pub(super) fn is_anchor_ref(c: &x509::CertInfo, r: &crate::inventory::Reference) -> bool {
    r.trust && c.is_ca && x509::is_self_signed(c)
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    per_certificate(ctx, &RULE, |c, r| {
        (c.not_after < ctx.now && !is_anchor_ref(c, r)).then(|| {
            format!(
                "certificate {} ({}) expired on {}, {}",
                describe_cert(c),
                r.via,
                date(c.not_after),
                super::ago(ctx.now, c.not_after, ctx.clock)
            )
        })
    })
}

/// At a live endpoint: a served certificate past its notAfter (a
/// self-signed root sent along is inert, and skipped).
fn probe(ctx: &ProbeContext<'_>) -> Vec<Finding> {
    let (name, at, now) = (ctx.component, ctx.at, ctx.now);
    served(ctx)
        .filter(|(c, _)| c.not_after < now)
        .map(|(c, what)| {
            let mut f = ctx.finding(
                RULE.id,
                RULE.severity,
                ctx.origin,
                format!(
                    "{name} at {at} serves {what} {} that expired on {}, {}",
                    describe_cert(c),
                    date(c.not_after),
                    super::ago(now, c.not_after, ctx.clock)
                ),
            );
            f.certificates = vec![c.fingerprint.clone()];
            f
        })
        .collect()
}

/// The certificates served at a live endpoint whose validity counts, with
/// what they are: the leaf, or a chain certificate (a self-signed root
/// sent along is inert, and skipped).
pub(super) fn served<'a>(
    ctx: &'a ProbeContext<'_>,
) -> impl Iterator<Item = (&'a x509::CertInfo, &'static str)> {
    let leaf = ctx.leaf().map(|l| &l.fingerprint);
    let chain = if leaf.is_some() { ctx.chain } else { &[] };
    chain
        .iter()
        .filter_map(|c| c.info.as_deref())
        .filter_map(move |c| {
            let is_leaf = leaf == Some(&c.fingerprint);
            if c.is_ca && x509::is_self_signed(c) && !is_leaf {
                return None;
            }
            Some((
                c,
                if is_leaf {
                    "certificate"
                } else {
                    "chain certificate"
                },
            ))
        })
}
