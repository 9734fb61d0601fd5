//! Chain verification: does a certificate chain build to one of the anchors
//! of a trust bundle, at a given time, for a given usage and name?
//!
//! [`verify`] answers with a [`Verdict`] that keeps trust, time and name
//! apart: a chain that would build but has an expired certificate is
//! [`Verdict::Expired`], not a path failure; a name mismatch is only reported
//! for a chain that builds and is valid.
//!
//! # Engines
//!
//! The primary engine is `rustls-webpki` (`EndEntityCert::verify_for_usage`
//! with `ALL_VERIFICATION_ALGS` on *ring*). The target systems are mostly Go
//! programs (kube-apiserver, etcd, webhooks), so a few of webpki's refusals
//! that Go's `crypto/x509` does not share are handed to a fallback path
//! builder built on [`x509::issued_by`](crate::x509::issued_by):
//!
//! * a CA certificate (basicConstraints CA:TRUE) used as the end entity
//!   (webpki's `CaUsedAsEndEntity`): Go accepts it;
//! * signature algorithms webpki+ring cannot verify (ECDSA P-521, ECDSA with
//!   SHA-512, RSA keys outside 2048..=8192 bits, ...): `issued_by` verifies
//!   ECDSA P-256/384/521 with SHA-256/384/512 itself;
//! * a v1/v2 end entity or one with a critical extension webpki does not
//!   know (Go knows more: certificatePolicies, policyConstraints, AIA, ...);
//! * the end entity itself being in the bundle (same SHA-256 fingerprint):
//!   Go then accepts the one-certificate chain.
//!
//! When webpki fails for another reason (unknown issuer, bad signature, ...)
//! but a certificate involved has an algorithm webpki cannot verify, or an
//! intermediate webpki cannot parse was dropped, the fallback is tried too;
//! its verdict is used unless it is also `NoPath`, in which case webpki's
//! (more precise) reason is kept.
//!
//! Intermediates webpki cannot parse are not passed to it (else an unrelated
//! bad certificate would replace "unknown issuer" by its parse error).
//! Anchors webpki cannot parse (`anchor_from_trusted_cert` fails: broken DER,
//! inner/outer signature algorithm mismatch) are skipped by both engines;
//! the reason of a failure names them, and says so when no anchor of the
//! bundle could be parsed.
//!
//! The fallback checks what Go checks on the path: `issued_by` (names or key
//! identifiers, and the signature), basicConstraints CA:TRUE and
//! pathLenConstraint on intermediates, EKU, no SHA-1/MD5, DSA or Ed448
//! signatures (Go and webpki refuse or do not implement them), no unhandled
//! critical extension in the end entity or an intermediate (the anchor's
//! extensions are not checked, as in webpki), depth of at most
//! [`MAX_DEPTH`] certificates below the anchor, no cycles.
//! It does not check name constraints. `issued_by` also matches names when
//! the AKI equals the SKI, or when they differ only in case, whitespace or
//! string type, where webpki and Go want byte-equal names.
//!
//! # Budgets
//!
//! Path building is bounded as Go and webpki bound it: at most
//! [`SIGNATURE_BUDGET`] (100) signature checks per fallback run and per
//! reason-finding walk (only candidates whose name or key identifier
//! matches cost one), and 2,000 search steps; webpki has its own budgets
//! (100 signatures, 200,000 path-building calls). A spent budget is
//! [`Verdict::NoPath`] ("path building gave up"), because TLS clients of
//! both libraries refuse such a chain: 50 look-alike intermediates (same
//! subject and key identifier, other keys) are decided in milliseconds.
//!
//! # Malformed certificates
//!
//! `x509-parser` accepts some DER that webpki's (and Go's) parser refuses
//! (duplicate extensions, a malformed subjectAltName, ...). Such an end
//! entity, or such names met while checking name constraints, give
//! [`Verdict::NoPath`]: no TLS client of either library accepts the chain.
//!
//! # Differences from webpki, following Go
//!
//! * Extended key usage: an empty extKeyUsage extension allows any usage,
//!   as Go reads it (webpki refuses it; the fallback decides). And
//!   `anyExtendedKeyUsage` is accepted (webpki's
//!   `KeyUsage` accepts only the exact purpose; a custom
//!   `ExtendedKeyUsageValidator` implements Go's rule), and the anchor's EKU
//!   is checked too, through webpki's `verify_path` hook (webpki ignores it;
//!   Go checks every certificate of the chain, the root included). A
//!   certificate without EKU allows any usage.
//!
//! # Anchor validity
//!
//! As Go's `crypto/x509` does (and unlike webpki, whose `TrustAnchor` has no
//! validity), the anchor's own validity counts: a chain that builds only
//! through anchors outside their validity at `now` is that anchor's
//! [`Verdict::Expired`] / [`Verdict::NotYetValid`]; another anchor in time
//! that builds it makes it valid. The validity of the end entity and of
//! every intermediate is checked, also when the end entity is itself an
//! anchor (then its own window is the one that counts).
//!
//! # What Go refuses before building a path
//!
//! `golang.rs` models what Go's parser and root checks refuse, and
//! [`verify`] leaves such certificates out as Go leaves them out of its
//! pools: an end entity Go cannot parse (a critical AKI, SKI or AIA, a
//! malformed AIA, empty name constraints) is [`Verdict::NoPath`]; an
//! intermediate Go cannot parse, or an anchor it cannot parse or that is
//! not a CA or has a critical extension Go does not handle, is not used,
//! and a [`Verdict::NoPath`] names it. Keys Go refuses (P-192 and other
//! curves, explicit curve parameters, RSA under 1024 bits) are not left
//! out: the verifier's verdict on them stays [`Verdict::Unknown`], and
//! `golang::refusal` says why a Go client refuses the chain, so that
//! `trust-mismatch` reports it as the client sees it.
//!
//! # Time
//!
//! When webpki refuses because a certificate is outside its validity at
//! `now`, the chain is verified again at the time closest to `now` at which
//! the certificates webpki complained about are valid (taken from the
//! `notBefore`/`notAfter` in webpki's errors, starting from the end
//! entity's window, at most a few rounds). If it then builds, the verdict is
//! [`Verdict::Expired`] / [`Verdict::NotYetValid`] for the first certificate
//! of that path (end entity first) out of validity at `now`; otherwise the
//! reason of that second run. When no such time exists (validity windows
//! that do not overlap), the fallback builder, which ignores time while
//! building, decides.
//!
//! # Names
//!
//! Only DNS and IP subjectAltNames count (the subject CN is ignored, as Go
//! and webpki do); wildcards `*.` match exactly one label. The name is
//! parsed with `rustls-pki-types`: a DNS name may contain `_`; `[::1]` is
//! taken as `::1`; anything else that is neither a DNS name nor an IP
//! address (`*.example.org`, `host:443`, spaces) gives [`Verdict::Unknown`].
//!
//! # Layout
//!
//! This file: the entry point, the verdicts, and which engine decides.
//! `webpki.rs`: the primary engine, its time retry, and its errors as
//! reasons. `fallback.rs`: the fallback path builder and its budgets, with
//! the RFC 5280 section of each check. `eku.rs`: extended key usage.
//! `names.rs`: subjectAltName matching. `golang.rs`: what Go's
//! `crypto/x509` refuses. `strict.rs`: what a strict client (OpenSSL
//! `-x509_strict`, Python 3.13) refuses in a chain Go accepts, for
//! `strict-profile`. `tests.rs`: tests of the whole.

mod eku;
mod fallback;
pub mod golang;
mod names;
pub mod strict;
// The rustls-webpki engine; the crate itself is `::webpki` in this file.
mod webpki;

#[cfg(test)]
mod tests;

use ::webpki::Error;

use crate::x509::{CertInfo, Fingerprint};

use fallback::Fallback;
pub use names::{check_name, presented_for_message, MAX_PRESENTED};
pub(crate) use names::{presented_names, san_covers};
use webpki::{is_malformed, Prepared};

/// The purpose a certificate is verified for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Usage {
    ServerAuth,
    ClientAuth,
}

impl Usage {
    fn describe(self) -> &'static str {
        match self {
            Usage::ServerAuth => "server authentication",
            Usage::ClientAuth => "client authentication",
        }
    }
}

/// What [`verify`] decides about a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The chain builds to an anchor at `now`, for the usage, and (server
    /// auth with a name) for the name.
    Valid,
    /// The chain builds to an anchor, but a certificate of it is outside its
    /// validity at `now`.
    Expired {
        fingerprint: Fingerprint,
        not_after: i64,
    },
    NotYetValid {
        fingerprint: Fingerprint,
        not_before: i64,
    },
    /// The chain does not build to any anchor (or is refused for the usage):
    /// the precise reason, as a short human sentence.
    NoPath { reason: String },
    /// The chain builds and is valid, but the name the client uses is not
    /// among the certificate's DNS/IP subjectAltNames.
    NameMismatch {
        name: String,
        presented: Vec<String>,
    },
    /// We cannot tell (e.g. an algorithm neither webpki nor our fallback
    /// verifies); the reason.
    Unknown { reason: String },
}

/// Longest path the fallback builder accepts: end entity plus intermediates,
/// not counting the anchor.
pub const MAX_DEPTH: usize = 8;

/// Signature checks the fallback builder may make per call, and the
/// reason-finding walk after a webpki "bad signature". Go
/// (`maxChainSignatureChecks`) and webpki (`Budget::signatures`) stop at
/// 100 too and refuse the chain, so a bundle of look-alike CAs (same name
/// and key identifier, other keys) is decided quickly, as `NoPath`.
pub const SIGNATURE_BUDGET: usize = 100;

/// Verifies `chain` against `anchors` at `now` (Unix seconds).
///
/// `chain[0]` is the end-entity certificate, the rest are candidate
/// intermediates (in any order; from the same Secret/bundle). `anchors` is
/// the trust bundle. `name` is a DNS name or IP address the client uses
/// (server auth only; ignored for client auth). See the module docs.
pub fn verify(
    chain: &[&CertInfo],
    anchors: &[&CertInfo],
    now: i64,
    usage: Usage,
    name: Option<&str>,
) -> Verdict {
    let Some(&leaf) = chain.first() else {
        return Verdict::Unknown {
            reason: "no certificate to verify".to_string(),
        };
    };
    if anchors.is_empty() {
        return Verdict::NoPath {
            reason: "unknown issuer: the trust bundle is empty".to_string(),
        };
    }
    // What Go's parser and root checks refuse is left out, as Go leaves it
    // out of its pools (`golang.rs`); the reasons are kept for a NoPath.
    if let Some(why) = golang::parse_refusal(leaf) {
        return Verdict::NoPath {
            reason: format!("Go's crypto/x509 cannot parse the certificate: {why}"),
        };
    }
    let mut refused: Vec<String> = Vec::new();
    let usable_anchors: Vec<&CertInfo> = anchors
        .iter()
        .copied()
        .filter(|a| {
            if a.fingerprint == leaf.fingerprint {
                return true;
            }
            match golang::parse_refusal(a).or_else(|| golang::root_refusal(a)) {
                Some(why) => {
                    refused.push(format!("Go refuses the anchor {}: {why}", a.subject));
                    false
                }
                None => true,
            }
        })
        .collect();
    let usable_chain: Vec<&CertInfo> = std::iter::once(leaf)
        .chain(
            chain[1..]
                .iter()
                .copied()
                .filter(|c| match golang::parse_refusal(c) {
                    Some(why) => {
                        refused.push(format!(
                            "Go cannot parse the intermediate {}: {why}",
                            c.subject
                        ));
                        false
                    }
                    None => true,
                }),
        )
        .collect();
    let filtered = if usable_anchors.is_empty() {
        Verdict::NoPath {
            reason: String::new(),
        }
    } else {
        Verifier::new(leaf, &usable_chain, &usable_anchors, now, usage).run()
    };
    let verdict = match filtered {
        Verdict::Valid => anchor_time_verdict(leaf, &usable_chain, &usable_anchors, now, usage),
        // Without what Go refuses there is no path: when there is none
        // with it either, that run's reason is the more precise one (a bad
        // signature is found before Go looks at the root's profile);
        // otherwise Go's refusal is the reason.
        Verdict::NoPath { .. } if !refused.is_empty() => {
            match Verifier::new(leaf, chain, anchors, now, usage).run() {
                Verdict::NoPath { reason } => Verdict::NoPath { reason },
                _ => Verdict::NoPath {
                    reason: format!("unknown issuer: {}", refused.join("; ")),
                },
            }
        }
        other => other,
    };
    match (verdict, usage, name) {
        (Verdict::Valid, Usage::ServerAuth, Some(name)) => check_name(leaf, name),
        (verdict, _, _) => verdict,
    }
}

/// A chain that builds: Go also checks the root's own validity (`isValid`
/// on every certificate of the path), so when it builds only through
/// anchors outside their validity at `now`, the verdict is that anchor's
/// [`Verdict::Expired`] / [`Verdict::NotYetValid`].
fn anchor_time_verdict(
    leaf: &CertInfo,
    chain: &[&CertInfo],
    anchors: &[&CertInfo],
    now: i64,
    usage: Usage,
) -> Verdict {
    let in_time = |a: &&CertInfo| {
        a.fingerprint == leaf.fingerprint || (a.not_before <= now && now <= a.not_after)
    };
    if anchors.iter().all(in_time) {
        return Verdict::Valid;
    }
    let current: Vec<&CertInfo> = anchors.iter().copied().filter(in_time).collect();
    if !current.is_empty()
        && Verifier::new(leaf, chain, &current, now, usage).run() == Verdict::Valid
    {
        return Verdict::Valid;
    }
    // The first out-of-time anchor that alone anchors the chain.
    anchors
        .iter()
        .filter(|a| !in_time(a))
        .find(|a| Verifier::new(leaf, chain, &[**a], now, usage).run() == Verdict::Valid)
        .and_then(|a| time_verdict(&[*a], now))
        .unwrap_or(Verdict::Valid)
}

/// What decides a verdict: the chain's and the anchors' fingerprints, in
/// order, the time, the usage and the name.
type VerdictKey = (
    Vec<Fingerprint>,
    Vec<Fingerprint>,
    i64,
    Usage,
    Option<String>,
);

/// Verdicts shared by the scans of a diff: a chain and trust bundle that
/// did not change between the two sides is verified once.
#[derive(Debug, Default)]
pub struct VerdictCache {
    map: crate::memo::Memo<VerdictKey, Verdict>,
    strict: crate::memo::Memo<(Vec<Fingerprint>, Vec<Fingerprint>, i64), Option<strict::Refusal>>,
}

impl VerdictCache {
    /// [`verify`], or the verdict it gave before for the same inputs.
    pub fn verify(
        &self,
        chain: &[&CertInfo],
        anchors: &[&CertInfo],
        now: i64,
        usage: Usage,
        name: Option<&str>,
    ) -> Verdict {
        let fps = |cs: &[&CertInfo]| cs.iter().map(|c| c.fingerprint.clone()).collect();
        let key = (
            fps(chain),
            fps(anchors),
            now,
            usage,
            name.map(str::to_owned),
        );
        self.map
            .get_or_insert_with(key, || verify(chain, anchors, now, usage, name))
    }

    /// [`strict::refusal`], or what it said before for the same inputs.
    pub fn strict_refusal(
        &self,
        chain: &[&CertInfo],
        anchors: &[&CertInfo],
        now: i64,
    ) -> Option<strict::Refusal> {
        let fps = |cs: &[&CertInfo]| cs.iter().map(|c| c.fingerprint.clone()).collect();
        self.strict
            .get_or_insert_with((fps(chain), fps(anchors), now), || {
                strict::refusal(chain, anchors, now)
            })
    }
}

/// One call of [`verify`], shared by both engines. `run` (in `webpki.rs`)
/// tries webpki first; `leaf_unparsable` and `on_error` say which of its
/// refusals the fallback (`fallback.rs`) decides instead.
struct Verifier<'a> {
    leaf: &'a CertInfo,
    chain: &'a [&'a CertInfo],
    anchors: &'a [&'a CertInfo],
    now: i64,
    usage: Usage,
}

impl<'a> Verifier<'a> {
    fn new(
        leaf: &'a CertInfo,
        chain: &'a [&'a CertInfo],
        anchors: &'a [&'a CertInfo],
        now: i64,
        usage: Usage,
    ) -> Self {
        Verifier {
            leaf,
            chain,
            anchors,
            now,
            usage,
        }
    }

    fn leaf(&self) -> &'a CertInfo {
        self.leaf
    }

    fn intermediates(&self) -> &'a [&'a CertInfo] {
        self.chain.get(1..).unwrap_or_default()
    }

    /// webpki cannot parse the end entity.
    fn leaf_unparsable(&self, e: Error) -> Verdict {
        match e {
            // Go accepts v1/v2 end entities and knows more critical
            // extensions than webpki: decide with the fallback.
            Error::UnsupportedCertVersion | Error::UnsupportedCriticalExtension => self.fallback(),
            Error::SignatureAlgorithmMismatch => Verdict::NoPath {
                reason: "the certificate's inner and outer signature algorithms differ".to_string(),
            },
            // x509-parser is more tolerant than webpki and Go, whose parsers
            // refuse these certificates outright: no TLS client of either
            // accepts them.
            e if is_malformed(&e) => Verdict::NoPath {
                reason: format!("the certificate is malformed; webpki refuses it ({e:?})"),
            },
            e => Verdict::Unknown {
                reason: format!("webpki cannot parse the certificate ({e:?})"),
            },
        }
    }

    /// webpki refused the chain: refusals Go does not share go to the
    /// fallback; other ones keep webpki's reason, unless webpki could not
    /// use some certificate involved and the fallback finds more than no
    /// path.
    fn on_error(&self, e: Error, prepared: &Prepared<'_>) -> Verdict {
        #[allow(deprecated)]
        match e {
            // Go reads an empty extKeyUsage extension as none (any usage).
            Error::EmptyEkuExtension
            | Error::CaUsedAsEndEntity
            | Error::UnsupportedSignatureAlgorithm
            | Error::UnsupportedSignatureAlgorithmContext(_)
            | Error::UnsupportedSignatureAlgorithmForPublicKey
            | Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => self.fallback(),
            e => {
                let precise = self.describe(&e, prepared);
                if prepared.limited() {
                    match self.fallback() {
                        Verdict::NoPath { .. } => precise,
                        other => other,
                    }
                } else {
                    precise
                }
            }
        }
    }

    /// The fallback path builder's verdict.
    fn fallback(&self) -> Verdict {
        Fallback::new(self).run()
    }
}

/// First certificate of `path` (end entity first) outside its validity at
/// `now`.
fn time_verdict(path: &[&CertInfo], now: i64) -> Option<Verdict> {
    path.iter().find_map(|c| {
        if now < c.not_before {
            Some(Verdict::NotYetValid {
                fingerprint: c.fingerprint.clone(),
                not_before: c.not_before,
            })
        } else if now > c.not_after {
            Some(Verdict::Expired {
                fingerprint: c.fingerprint.clone(),
                not_after: c.not_after,
            })
        } else {
            None
        }
    })
}

/// The reason for a path refused because `issuer` is not a CA (both engines
/// say it the same way).
fn not_a_ca(issuer: &CertInfo) -> String {
    format!(
        "the issuer {} is not a CA (basicConstraints CA:TRUE missing)",
        issuer.subject
    )
}
