//! `not-a-ca`: a non-CA certificate where a trust bundle belongs.

use super::{declare_rule, describe_cert, per_certificate, Context};
use crate::finding::{Finding, Severity};
use crate::inventory::graph::Anchors;

declare_rule! {
    /// What it detects: a certificate without basicConstraints `CA:TRUE`
    /// where the structure makes a trust bundle: a value under a key that
    /// means one (`ca.crt`, `caBundle`, kubeconfig
    /// `certificate-authority-data`, a key with the word `ca` such as
    /// `root_ca_bundle`), or a file that a component's trust reference
    /// (`--trusted-ca-file`, a Hiera CA key) actually uses. A file whose
    /// name merely has the word `ca` in it (an OCSP signer's
    /// `ca-ocsp.pem`) is not judged by its name.
    ///
    /// Why it matters: a leaf where an anchor was meant is almost always a
    /// copy-paste of the wrong file (`tls.crt` into `ca.crt`). Verifiers that
    /// follow RFC 5280 (section 4.2.1.9) do not accept it as an issuer, so
    /// every certificate it was supposed to vouch for fails.
    ///
    /// Example: `ca.crt` in `Secret kube-system/etcd-ca` holds
    /// `CN=etcd.cluster-001.example.org`, etcd's own serving certificate.
    pub static RULE = {
        id: "not-a-ca",
        severity: Severity::Warning,
        summary: "a trust bundle holds a certificate that is not a CA",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    // Bundles a trust reference takes its anchors from.
    let anchors: std::collections::BTreeSet<usize> = ctx
        .inventory
        .graph
        .trusts
        .iter()
        .filter_map(|t| match &t.anchors {
            Anchors::Bundle(b) => Some(*b),
            _ => None,
        })
        .collect();
    per_certificate(ctx, &RULE, |c, r| {
        // A file's trust flag comes from its name alone: not structure.
        let by_name_only = r.via.starts_with("file");
        let trust = anchors.contains(&r.bundle) || (r.trust && !by_name_only);
        (trust && !c.is_ca).then(|| {
            format!(
                "{} holds {}, which is not a CA (no basicConstraints CA:TRUE)",
                r.via,
                describe_cert(c)
            )
        })
    })
}
