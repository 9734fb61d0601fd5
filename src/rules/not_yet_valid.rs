//! `not-yet-valid`: a certificate whose notBefore is in the future.

use super::{date, declare_rule, describe_cert, per_certificate, Context, ProbeContext};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: a certificate whose notBefore is after `--now`.
    ///
    /// Why it matters: clients reject it until that moment. Usually a clock
    /// problem on the machine that issued it, or a certificate committed for
    /// a rotation that has not started; either way, deploying it now breaks
    /// TLS.
    ///
    /// Example: `tls.crt` in `Secret apps/api-tls` is valid from 2026-12-01;
    /// a deploy on 2026-11-23 serves a certificate no client accepts.
    pub static RULE = {
        id: "not-yet-valid",
        severity: Severity::Error,
        summary: "a certificate is not valid yet (notBefore after --now)",
        scan: check,
        probe: probe,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    per_certificate(ctx, &RULE, |c, r| {
        (c.not_before > ctx.now).then(|| {
            format!(
                "certificate {} ({}) is not valid before {}",
                describe_cert(c),
                r.via,
                date(c.not_before)
            )
        })
    })
}

/// At a live endpoint: a served certificate not valid yet (an expired one
/// is `expired`'s).
fn probe(ctx: &ProbeContext<'_>) -> Vec<Finding> {
    let (name, at, now) = (ctx.component, ctx.at, ctx.now);
    super::expired::served(ctx)
        .filter(|(c, _)| c.not_after >= now && c.not_before > now)
        .map(|(c, what)| {
            let mut f = ctx.finding(
                RULE.id,
                RULE.severity,
                ctx.origin,
                format!(
                    "{name} at {at} serves {what} {} that is not valid until {}",
                    describe_cert(c),
                    date(c.not_before)
                ),
            );
            f.certificates = vec![c.fingerprint.clone()];
            f
        })
        .collect()
}
