//! `not-a-ca`: a non-CA certificate where a trust bundle belongs.

use super::{declare_rule, describe_cert, per_reference, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: a certificate without basicConstraints `CA:TRUE` in
    /// a trust-bundle context: a `ca.crt` key, a `caBundle`, kubeconfig
    /// `certificate-authority-data`, or a file or key whose name has the word
    /// `ca` (`ca-bundle.crt`, `client_auth_CA.pem`, `root_ca_bundle`).
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
    per_reference(ctx, &RULE, |c, r| {
        (r.trust && !c.is_ca).then(|| {
            format!(
                "{} holds {}, which is not a CA (no basicConstraints CA:TRUE)",
                r.via,
                describe_cert(c)
            )
        })
    })
}
