//! Chain verdicts (temporary stand-in until the webpki engine lands).

use crate::x509::{self, CertInfo, Fingerprint};

/// The purpose a certificate is verified for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// TLS server.
    ServerAuth,
    /// TLS client.
    ClientAuth,
}

/// What verification says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Builds and is valid.
    Valid,
    /// Builds, but a certificate is expired.
    Expired {
        fingerprint: Fingerprint,
        not_after: i64,
    },
    /// Builds, but a certificate is not valid yet.
    NotYetValid {
        fingerprint: Fingerprint,
        not_before: i64,
    },
    /// Does not build.
    NoPath { reason: String },
    /// Builds, but not for the name.
    NameMismatch {
        name: String,
        presented: Vec<String>,
    },
    /// Cannot tell.
    Unknown { reason: String },
}

/// Verifies `chain` (leaf first) against `anchors`.
pub fn verify(
    chain: &[&CertInfo],
    anchors: &[&CertInfo],
    _now: i64,
    _usage: Usage,
    _name: Option<&str>,
) -> Verdict {
    let Some(leaf) = chain.first() else {
        return Verdict::Unknown {
            reason: "empty chain".into(),
        };
    };
    let mut cur = *leaf;
    for _ in 0..8 {
        if anchors.iter().any(|a| {
            a.fingerprint == cur.fingerprint || x509::issued_by(cur, a) == x509::Issuance::Issued
        }) {
            return Verdict::Valid;
        }
        match chain.iter().find(|c| {
            c.fingerprint != cur.fingerprint && x509::issued_by(cur, c) == x509::Issuance::Issued
        }) {
            Some(next) => cur = next,
            None => break,
        }
    }
    Verdict::NoPath {
        reason: format!(
            "unknown issuer: no anchor in the bundle issued {}",
            crate::rules::describe_cert(cur)
        ),
    }
}
