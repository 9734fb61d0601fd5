//! `private-key-in-repo`: a private key committed to the repository.

use super::{declare_rule, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects: a private key (PKCS#1 `RSA PRIVATE KEY`, PKCS#8
    /// `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, DSA,
    /// OpenSSH) in any scanned file: a `.key` file, inline PEM in a values or
    /// hieradata file, or base64 in a Kubernetes Secret. Only its location
    /// and type are ever reported, never a byte of the key.
    ///
    /// Why it matters: everyone who can read the repository — and every
    /// clone, fork, CI cache and backup of it — holds the key and can
    /// impersonate the service. Rotating the certificate is the only fix;
    /// deleting the file does not remove it from history. Encrypted keys are
    /// warnings: still a liability, but one that needs the passphrase too.
    ///
    /// Example: `tls.key` in `Secret apps/api-tls` of
    /// `rendered/prod/api.yaml` holds an `RSA PRIVATE KEY`.
    pub static RULE = {
        id: "private-key-in-repo",
        severity: Severity::Error,
        summary: "a private key is stored in the repository",
        scan: check,
    };
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.inventory
        .keys
        .iter()
        .map(|k| {
            let encrypted = k.kind.contains("ENCRYPTED");
            let severity = if encrypted {
                Severity::Warning
            } else {
                RULE.severity
            };
            let mut f = Finding::new(
                RULE.id,
                severity,
                k.location.clone(),
                format!("{} ({}) is stored in the repository", k.kind, k.via),
            );
            f.help = Some(
                "move the key to a secret store, rotate the certificate, and purge it from history"
                    .into(),
            );
            f
        })
        .collect()
}
