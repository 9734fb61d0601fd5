//! What a client that verifies strictly refuses in a chain that Go accepts:
//! OpenSSL's `X509_V_FLAG_X509_STRICT` profile checks (`openssl verify
//! -x509_strict`), which Python's `ssl.create_default_context()` turns on
//! since 3.13, so a Python service that upgrades stops reaching a peer
//! whose CA was made with `openssl req -x509`'s defaults ("CA cert does
//! not include key usage extension").
//!
//! In: a chain the verifier accepted (end entity first, candidate
//! intermediates) and its trust bundle. Out: the certificate of the path
//! that a strict client refuses, with OpenSSL's reasons, or `None`.
//!
//! What is modelled, per certificate of the path, as OpenSSL 3's
//! `check_extensions` does when the path has more than one certificate
//! (RFC 5280 section in brackets; each checked against
//! `openssl verify -x509_strict` in `tests/trust.rs`):
//!
//! * a CA (basicConstraints CA:TRUE) whose basicConstraints is not
//!   critical, that has no keyUsage, or no subjectKeyIdentifier (4.2.1.9,
//!   4.2.1.3, 4.2.1.2);
//! * keyCertSign on a certificate that is not a CA; a pathLenConstraint on
//!   one that is not a CA or cannot sign certificates (4.2.1.3, 4.2.1.9);
//! * every certificate but the path's last (the anchor) without an
//!   authorityKeyIdentifier key identifier (4.2.1.1);
//! * an empty issuer; an empty subject in a CA, a CRL signer or a
//!   certificate without subjectAltName; an empty subject with a
//!   subjectAltName not marked critical; an empty subjectAltName (4.1.2.4,
//!   4.1.2.6, 4.2.1.6);
//! * inner and outer signature algorithms that differ (4.1.1.2); a
//!   critical authorityKeyIdentifier or subjectKeyIdentifier; extensions in
//!   a version 1 or 2 certificate; EC keys with explicit curve parameters.
//!
//! Go's `crypto/x509` and rustls-webpki check none of these: a chain a Go
//! client accepts can still be refused here.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use crate::x509::{self, CertInfo, Issuance, KeyKind};

use super::{MAX_DEPTH, SIGNATURE_BUDGET};

/// Trusting objects whose client is a proxy known not to make these
/// checks: an Istio `DestinationRule` is Envoy's (BoringSSL), a
/// `BackendTLSPolicy` the Gateway implementation's data plane (Envoy,
/// nginx, Go). A mesh's own CA check (its issuer against its trust
/// anchors) is not judged either: Linkerd's proxies verify with
/// rustls-webpki, Istio's with BoringSSL, their controllers are Go. A
/// kubeconfig (`Config`) is read by kubectl, Helm and client-go programs,
/// Go all of them.
const NOT_STRICT_KINDS: &[&str] = &["DestinationRule", "BackendTLSPolicy", "Config"];

/// Whether the client of a trust reference made by an object of `kind`
/// may verify strictly: not a proxy or kubeconfig in `NOT_STRICT_KINDS`
/// (Go programs are told apart by `golang::go_client`).
pub fn may_be_strict(kind: &str) -> bool {
    !NOT_STRICT_KINDS.contains(&kind)
}

/// A certificate of the path a strict client refuses, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Its place in the path: `end entity`, `intermediate` or `anchor`.
    pub role: &'static str,
    pub fingerprint: x509::Fingerprint,
    /// Its subject, as [`CertInfo::subject`].
    pub subject: String,
    /// OpenSSL's reasons, in its order, in plain words.
    pub reasons: Vec<&'static str>,
}

impl Refusal {
    /// `the intermediate CN=x: it is a CA without keyUsage; …`.
    pub fn describe(&self) -> String {
        format!(
            "the {} {}: {}",
            self.role,
            self.subject,
            self.reasons.join("; ")
        )
    }
}

/// Why a strict client refuses the path `chain` builds to `anchors`, for a
/// chain the verifier accepted. `None` when the path passes, or when it is
/// one certificate (OpenSSL checks nothing then) or cannot be found.
pub fn refusal(chain: &[&CertInfo], anchors: &[&CertInfo], now: i64) -> Option<Refusal> {
    let path = path(chain, anchors, now)?;
    let last = path.len() - 1;
    if last == 0 {
        return None;
    }
    path.iter().enumerate().find_map(|(i, c)| {
        let reasons = reasons(c, i == last);
        let role = match i {
            0 => "end entity",
            i if i == last => "anchor",
            _ => "intermediate",
        };
        (!reasons.is_empty()).then(|| Refusal {
            role,
            fingerprint: c.fingerprint.clone(),
            subject: c.subject.clone(),
            reasons,
        })
    })
}

/// The path from `chain[0]` to an anchor, end entity first and the anchor
/// last, as OpenSSL builds it: an anchor that issued the current
/// certificate goes before an intermediate (`X509_V_FLAG_TRUSTED_FIRST`).
/// Only certificates that can issue on a path the verifier accepts are
/// issuers here (CAs valid at `now` whose keyUsage, if any, has
/// keyCertSign), so the path is the one a Go client takes, not one
/// through a distractor. Depth and signature checks are bounded as the
/// verifier's are.
fn path<'a>(
    chain: &[&'a CertInfo],
    anchors: &[&'a CertInfo],
    now: i64,
) -> Option<Vec<&'a CertInfo>> {
    let leaf = *chain.first()?;
    if anchors.iter().any(|a| a.fingerprint == leaf.fingerprint) {
        return Some(vec![leaf]);
    }
    let can_issue = |c: &&CertInfo| {
        c.is_ca && c.not_before <= now && now <= c.not_after && cert_sign_allowed(c)
    };
    let anchors: Vec<&CertInfo> = anchors.iter().copied().filter(can_issue).collect();
    let intermediates: Vec<&CertInfo> = chain[1..].iter().copied().filter(can_issue).collect();
    let mut budget = SIGNATURE_BUDGET;
    let mut path = vec![leaf];
    extend(&mut path, &intermediates, &anchors, &mut budget).then_some(path)
}

/// Depth-first search for an anchor above the last certificate of `path`.
fn extend<'a>(
    path: &mut Vec<&'a CertInfo>,
    intermediates: &[&'a CertInfo],
    anchors: &[&'a CertInfo],
    budget: &mut usize,
) -> bool {
    let current = path[path.len() - 1];
    if let Some(a) = anchors.iter().find(|a| issued(current, a, budget)) {
        path.push(a);
        return true;
    }
    if path.len() > MAX_DEPTH {
        return false;
    }
    for c in intermediates {
        if path.iter().any(|p| p.fingerprint == c.fingerprint) || !issued(current, c, budget) {
            continue;
        }
        path.push(c);
        if extend(path, intermediates, anchors, budget) {
            return true;
        }
        path.pop();
    }
    false
}

/// Whether `issuer` issued `cert`: a signature check, which costs one of
/// `budget` when the names match.
fn issued(cert: &CertInfo, issuer: &CertInfo, budget: &mut usize) -> bool {
    if !x509::names_match(cert, issuer) || *budget == 0 {
        return false;
    }
    *budget -= 1;
    x509::issued_by(cert, issuer) == Issuance::Issued
}

/// No keyUsage, or one with keyCertSign.
fn cert_sign_allowed(cert: &CertInfo) -> bool {
    let Ok((_, c)) = X509Certificate::from_der(&cert.der) else {
        return false;
    };
    c.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::KeyUsage(k) => Some(k.key_cert_sign()),
            _ => None,
        })
        .unwrap_or(true)
}

/// OpenSSL's strict checks on one certificate of a path of two or more;
/// `last` is the path's anchor, which needs no authorityKeyIdentifier.
pub fn reasons(cert: &CertInfo, last: bool) -> Vec<&'static str> {
    let Ok((_, c)) = X509Certificate::from_der(&cert.der) else {
        return Vec::new();
    };
    let mut bc = None;
    let mut ku = None;
    let mut san = None;
    let mut aki = None;
    let mut ski = None;
    for ext in c.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(b) if bc.is_none() => bc = Some((b, ext.critical)),
            ParsedExtension::KeyUsage(k) if ku.is_none() => ku = Some(k),
            ParsedExtension::SubjectAlternativeName(s) if san.is_none() => {
                san = Some((s.general_names.len(), ext.critical))
            }
            ParsedExtension::AuthorityKeyIdentifier(a) if aki.is_none() => {
                aki = Some((a.key_identifier.is_some(), ext.critical))
            }
            ParsedExtension::SubjectKeyIdentifier(_) if ski.is_none() => ski = Some(ext.critical),
            _ => {}
        }
    }
    let ca = bc.is_some_and(|(b, _)| b.ca);
    let cert_sign = ku.is_some_and(|k| k.key_cert_sign());
    let subject_empty = c.subject().iter_attributes().next().is_none();
    let mut out = Vec::new();
    let mut fail = |cond: bool, why: &'static str| {
        if cond {
            out.push(why);
        }
    };
    if cert.key.kind == KeyKind::Ec {
        fail(
            cert.key.curve.is_none(),
            "its EC key has explicit curve parameters",
        );
    }
    if bc.is_some_and(|(b, _)| b.path_len_constraint.is_some()) {
        fail(!ca, "it has a pathLenConstraint but is not a CA");
        fail(
            ca && ku.is_some() && !cert_sign,
            "it has a pathLenConstraint but its keyUsage lacks keyCertSign",
        );
    }
    fail(
        ca && bc.is_some_and(|(_, critical)| !critical),
        "its basicConstraints (CA:TRUE) is not marked critical",
    );
    if ca {
        fail(ku.is_none(), "it is a CA without a keyUsage extension");
    } else {
        fail(
            cert_sign,
            "it has keyCertSign in its keyUsage but is not a CA",
        );
    }
    fail(
        c.issuer().iter_attributes().next().is_none(),
        "its issuer name is empty",
    );
    fail(
        subject_empty && (ca || ku.is_some_and(|k| k.crl_sign()) || san.is_none()),
        "its subject name is empty",
    );
    fail(
        subject_empty && san.is_some_and(|(_, critical)| !critical),
        "its subject is empty and its subjectAltName is not marked critical",
    );
    fail(
        san.is_some_and(|(n, _)| n == 0),
        "its subjectAltName is empty",
    );
    fail(
        c.signature_algorithm != c.tbs_certificate.signature,
        "its inner and outer signature algorithms differ",
    );
    fail(
        aki.is_some_and(|(_, critical)| critical),
        "its authorityKeyIdentifier is marked critical",
    );
    fail(
        ski == Some(true),
        "its subjectKeyIdentifier is marked critical",
    );
    if cert.version >= 3 {
        fail(
            !last && !aki.is_some_and(|(keyid, _)| keyid),
            "it has no authorityKeyIdentifier key identifier",
        );
        fail(
            ca && ski.is_none(),
            "it is a CA without a subjectKeyIdentifier",
        );
    } else {
        fail(
            !c.extensions().is_empty(),
            "it has extensions but is not a version 3 certificate",
        );
    }
    out
}
