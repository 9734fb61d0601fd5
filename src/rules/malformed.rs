//! `malformed`: input that could not be read as what it claims to be.

use super::{declare_rule, Context, ProbeContext};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: bad PEM (wrong boundary dashes, no END line, bad
    /// base64), base64 that does not decode where Kubernetes expects it,
    /// DER that is not a certificate, YAML that does not parse or exceeds
    /// the reader's limits (nesting, size, an alias bomb that would expand
    /// past a million nodes), a mapping key given twice, text that is not
    /// UTF-8 (UTF-16/32 with a byte order mark is decoded, not reported).
    /// Broken certificate data is an error; YAML syntax, limits, duplicate
    /// keys and encoding are warnings. The rest of the file is still read:
    /// the other certificates of a bundle are still inventoried.
    ///
    /// Duplicate keys: YAML 1.2 requires unique keys and strict readers
    /// (Go's yaml.v3, Kubernetes' strict field validation) reject the file,
    /// while PyYAML and Ruby's Psych (Hiera) keep the last value. certdrift
    /// keeps the last value for what an object means (which certificate a
    /// Secret key holds) and still searches both values for certificates
    /// and private keys: the shadowed one is in the repository all the same.
    ///
    /// Why it matters: a broken block is a certificate that some tools
    /// silently skip and others choke on. A CA bundle whose second block
    /// starts with six dashes is one CA short for OpenSSL and Go, and nobody
    /// notices until the day that CA is needed.
    ///
    /// Example: `modules/profile/files/puppetserver/puppet_ca.pem` line 22
    /// starts `------BEGIN CERTIFICATE-----`: strict parsers see only
    /// `puppet_rsa`, not the root it was meant to add.
    pub static RULE = {
        id: "malformed",
        severity: Severity::Error,
        summary: "bad PEM, base64, DER or YAML (with its location)",
        scan: check,
        probe: probe,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.inventory
        .problems
        .iter()
        .map(|p| {
            let path = p.location.path.as_str();
            super::at_places(
                ctx,
                RULE.id,
                p.severity,
                &p.location,
                &[path],
                p.message.clone(),
            )
        })
        .collect()
}

/// At a live endpoint: the served leaf does not parse.
fn probe(ctx: &ProbeContext<'_>) -> Vec<Finding> {
    match ctx.chain.first() {
        Some(leaf) if leaf.info.is_none() => vec![ctx.finding(
            RULE.id,
            RULE.severity,
            ctx.origin,
            format!(
                "{} at {} serves a certificate that does not parse (sha256:{}): {}",
                ctx.component,
                ctx.at,
                leaf.fingerprint.short(),
                leaf.error.as_deref().unwrap_or("unknown error")
            ),
        )],
        _ => Vec::new(),
    }
}
