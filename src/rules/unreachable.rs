//! `unreachable` (probe): an endpoint gave no certificate.

use super::{declare_rule, ProbeContext};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects (only in `certdrift probe`): a target whose
    /// certificate could not be read — the name does not resolve, the
    /// connection is refused or times out, the server does not answer the
    /// TLS handshake within `--timeout`, closes it, or sends more than 10
    /// certificates or 256 KiB of them. The message carries the OS or TLS
    /// error. A warning when the server presented its certificate and the
    /// handshake failed afterwards (a server that requires a client
    /// certificate may end a TLS 1.2 handshake so); the chain is still
    /// checked.
    ///
    /// Why it matters: an address the configuration points clients at that
    /// does not answer TLS is an outage already, or a stale address; either
    /// way `probe` could not check the certificate behind it.
    ///
    /// Example: `kube-system/etcd` at `tools-k8s-etcd-1.tools.eqiad.wmflabs:2379`
    /// (from kube-apiserver's `--etcd-servers`): `connect to 172.16.0.12:2379:
    /// Connection refused (os error 111)`.
    pub static RULE = {
        id: "unreachable",
        severity: Severity::Error,
        summary: "(probe) an endpoint did not present a certificate",
        probe: probe,
    };
}

/// No certificate from the endpoint (an error), or a handshake that failed
/// after the certificate came (a warning).
fn probe(ctx: &ProbeContext<'_>) -> Vec<Finding> {
    let (name, at) = (ctx.component, ctx.at);
    if ctx.chain.is_empty() {
        let why = ctx.error.unwrap_or("the server presented no certificate");
        return vec![ctx.finding(
            RULE.id,
            Severity::Error,
            ctx.origin,
            format!("cannot get {name}'s certificate from {at}: {why}"),
        )];
    }
    match ctx.error {
        Some(e) => vec![ctx.finding(
            RULE.id,
            Severity::Warning,
            ctx.origin,
            format!(
                "{name} at {at} presented its certificate, then the handshake failed: {e} (a server that requires a client certificate can end a TLS 1.2 handshake so)"
            ),
        )],
        None => Vec::new(),
    }
}
