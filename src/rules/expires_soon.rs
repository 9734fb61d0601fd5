//! `expires-soon`: a certificate that expires within `--warn-days`.

use super::{date, declare_rule, describe_cert, per_certificate, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: a certificate whose notAfter falls between `--now`
    /// and `--now` plus `--warn-days` (default 30).
    ///
    /// Why it matters: renewing takes a change, a review and a deploy; a
    /// certificate that expires next week needs that work to start now.
    ///
    /// Example: the `discovery` intermediate in
    /// `modules/profile/files/pki/intermediates/discovery-cert.pem` expires on
    /// 2026-05-03; scanned on 2026-04-20 it is reported with 13 days left.
    pub static RULE = {
        id: "expires-soon",
        severity: Severity::Warning,
        summary: "a certificate expires within --warn-days",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let horizon = ctx.now.saturating_add(ctx.warn_days.saturating_mul(86_400));
    per_certificate(ctx, &RULE, |c, r| {
        (c.not_after >= ctx.now && c.not_after < horizon).then(|| {
            format!(
                "certificate {} ({}) expires on {}, in {} days",
                describe_cert(c),
                r.via,
                date(c.not_after),
                (c.not_after - ctx.now) / 86_400
            )
        })
    })
}
