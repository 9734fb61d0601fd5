//! `private-key-in-repo`: a private key committed to the repository.

use super::{declare_rule, Context};
use crate::finding::{Finding, Related, Severity};

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

/// One finding per key: the sightings of the same key bytes are one
/// finding at the first place outside test paths, the others related.
fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let keys = &ctx.inventory.keys;
    let fixture = |i: &usize| ctx.fixtures.matches(&keys[*i].location.path);
    // Same key: same id; a key whose bytes do not decode is its own.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_id: std::collections::HashMap<&crate::x509::Fingerprint, usize> =
        std::collections::HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        match k.id.as_ref().and_then(|id| by_id.get(id)) {
            Some(&g) => groups[g].push(i),
            None => {
                if let Some(id) = &k.id {
                    by_id.insert(id, groups.len());
                }
                groups.push(vec![i]);
            }
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let (outside, inside): (Vec<usize>, Vec<usize>) =
                group.into_iter().partition(|i| !fixture(i));
            let places: Vec<usize> = outside.into_iter().chain(inside).collect();
            let k = &keys[places[0]];
            let severity = if k.kind.contains("ENCRYPTED") {
                Severity::Warning
            } else {
                RULE.severity
            };
            let paths: Vec<&str> = places
                .iter()
                .map(|&i| keys[i].location.path.as_str())
                .collect();
            let mut f = super::at_places(
                ctx,
                RULE.id,
                severity,
                &k.location,
                &paths,
                format!("{} ({}) is stored in the repository", k.kind, k.via),
            );
            for &i in &places[1..] {
                f.related.push(Related {
                    location: keys[i].location.clone(),
                    note: format!("the same key ({})", keys[i].via),
                });
            }
            f.help = Some(
                "move the key to a secret store, rotate the certificate, and purge it from history"
                    .into(),
            );
            f
        })
        .collect()
}
