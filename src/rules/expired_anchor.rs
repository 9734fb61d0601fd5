//! `expired-anchor`: an expired self-signed CA kept in a trust bundle.

use super::{date, declare_rule, describe_cert, per_certificate, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: a self-signed CA certificate past its notAfter date
    /// in a trust-bundle context (`ca.crt`, `caBundle`, a `*ca*` file or key).
    ///
    /// Why it matters: an expired anchor validates nothing. It is dead weight
    /// at best; at worst it is the only anchor some component has for a peer,
    /// and that component cannot connect. Audits ("there really shouldn't be
    /// more than one CA") are easier without it.
    ///
    /// Example: `modules/base/files/ca/wmf_ca_2017_2020.crt`, a root that
    /// expired on 2020-07-18, is still in the repository.
    pub static RULE = {
        id: "expired-anchor",
        severity: Severity::Warning,
        summary: "an expired self-signed CA is kept in a trust bundle",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    per_certificate(ctx, &RULE, |c, r| {
        (c.not_after < ctx.now && super::expired::is_anchor_ref(c, r)).then(|| {
            format!(
                "trust anchor {} ({}) expired on {}; it validates nothing",
                describe_cert(c),
                r.via,
                date(c.not_after)
            )
        })
    })
}
