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
//! builder built on [`x509::issued_by`]:
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
//! * Extended key usage: `anyExtendedKeyUsage` is accepted (webpki's
//!   `KeyUsage` accepts only the exact purpose; a custom
//!   `ExtendedKeyUsageValidator` implements Go's rule), and the anchor's EKU
//!   is checked too, through webpki's `verify_path` hook (webpki ignores it;
//!   Go checks every certificate of the chain, the root included). A
//!   certificate without EKU allows any usage.
//!
//! # Anchor validity
//!
//! As in webpki, the anchor's own validity period is ignored: a webpki
//! `TrustAnchor` has no validity at all, and an expired root in the bundle
//! still anchors chains. (Go's `crypto/x509` does check the root's validity,
//! so an expired root fails there; report anchor expiry separately.) The
//! validity of the end entity and of every intermediate is checked, also
//! when the end entity is itself an anchor.
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

use std::collections::HashMap;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use webpki::{
    EndEntityCert, Error, ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter, KeyUsage,
    RequiredEkuNotFoundContext, VerifiedPath,
};
use x509_parser::asn1_rs::FromDer;
use x509_parser::certificate::X509Certificate;

use crate::x509::{self, CertInfo, Fingerprint, HashAlg, Issuance, KeyKind, San};

/// The purpose a certificate is verified for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Usage {
    ServerAuth,
    ClientAuth,
}

impl Usage {
    fn oid(self) -> &'static [u8] {
        match self {
            Usage::ServerAuth => OID_SERVER_AUTH,
            Usage::ClientAuth => OID_CLIENT_AUTH,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Usage::ServerAuth => "server authentication",
            Usage::ClientAuth => "client authentication",
        }
    }

    fn key_usage(self) -> KeyUsage {
        match self {
            Usage::ServerAuth => KeyUsage::server_auth(),
            Usage::ClientAuth => KeyUsage::client_auth(),
        }
    }
}

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

/// DFS steps the fallback builder may take per call.
const FALLBACK_STEPS: usize = 2_000;

/// Signature checks the fallback builder may make per call, and the
/// reason-finding walk after a webpki "bad signature". Go
/// (`maxChainSignatureChecks`) and webpki (`Budget::signatures`) stop at
/// 100 too and refuse the chain, so a bundle of look-alike CAs (same name
/// and key identifier, other keys) is decided quickly, as `NoPath`.
pub const SIGNATURE_BUDGET: usize = 100;

/// Rounds of "verify again at another time" after a time error.
const TIME_ROUNDS: usize = 6;

// id-kp-serverAuth 1.3.6.1.5.5.7.3.1, id-kp-clientAuth 1.3.6.1.5.5.7.3.2,
// anyExtendedKeyUsage 2.5.29.37.0 (OID contents octets).
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
const OID_ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
/// Tag, length and contents of the OID 2.5.29.37 (extKeyUsage): a
/// certificate whose DER lacks these bytes has no EKU extension.
const EKU_EXTENSION_OID_TLV: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x25];

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
    let v = Verifier {
        leaf,
        chain,
        anchors,
        now,
        usage,
    };
    match (v.run(), usage, name) {
        (Verdict::Valid, Usage::ServerAuth, Some(name)) => check_name(leaf, name),
        (verdict, _, _) => verdict,
    }
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
}

struct Verifier<'a> {
    leaf: &'a CertInfo,
    chain: &'a [&'a CertInfo],
    anchors: &'a [&'a CertInfo],
    now: i64,
    usage: Usage,
}

/// What webpki could not use, for reasons and for deciding on the fallback.
struct Prepared<'a> {
    /// Intermediates webpki cannot parse (dropped: they would only replace
    /// "unknown issuer" by a parse error of an unrelated certificate).
    dropped_intermediates: Vec<(&'a CertInfo, Error)>,
    /// Some certificate involved uses a key or signature algorithm webpki
    /// with ring cannot verify.
    algorithm_limited: bool,
}

impl Prepared<'_> {
    fn limited(&self) -> bool {
        self.algorithm_limited || !self.dropped_intermediates.is_empty()
    }
}

fn unix(t: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(t).unwrap_or(0)))
}

fn secs(t: &UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

fn is_time_error(e: &Error) -> bool {
    matches!(e, Error::CertExpired { .. } | Error::CertNotValidYet { .. })
}

impl<'a> Verifier<'a> {
    fn leaf(&self) -> &'a CertInfo {
        self.leaf
    }

    fn intermediates(&self) -> &'a [&'a CertInfo] {
        self.chain.get(1..).unwrap_or_default()
    }

    fn run(&self) -> Verdict {
        let leaf = self.leaf();
        if self
            .anchors
            .iter()
            .any(|a| a.fingerprint == leaf.fingerprint)
        {
            // Go: a leaf that is itself in the root pool is a chain of one.
            return self.fallback();
        }
        let leaf_der = CertificateDer::from(&*leaf.der);
        let ee = match EndEntityCert::try_from(&leaf_der) {
            Ok(ee) => ee,
            Err(e) => return self.leaf_unparsable(e),
        };

        // Intermediates webpki can parse.
        let mut prepared = Prepared {
            dropped_intermediates: Vec::new(),
            algorithm_limited: !webpki_verifies_signature(leaf),
        };
        let mut inter_ders = Vec::new();
        for &c in self.intermediates() {
            let der = CertificateDer::from(&*c.der);
            match EndEntityCert::try_from(&der) {
                Ok(_) => inter_ders.push(der),
                Err(e) => prepared.dropped_intermediates.push((c, e)),
            }
            if !webpki_verifies_signature(c) || !webpki_uses_key(c) {
                prepared.algorithm_limited = true;
            }
        }

        // Anchors: only those whose subject could equal an issuer of the
        // chain (webpki compares the DER bytes; the RFC 4514 string is a
        // function of them, so string inequality rules a pair out).
        let relevant: Vec<(&CertInfo, CertificateDer<'_>)> = self
            .anchors
            .iter()
            .filter(|a| self.chain.iter().any(|c| c.issuer == a.subject))
            .map(|&a| (a, CertificateDer::from(&*a.der)))
            .collect();
        let mut tas: Vec<TrustAnchor<'_>> = Vec::with_capacity(relevant.len());
        let mut ta_infos: Vec<&CertInfo> = Vec::with_capacity(relevant.len());
        for (info, der) in &relevant {
            // An anchor webpki cannot parse is skipped (by the fallback too);
            // the reason for a failure names it.
            if let Ok(ta) = webpki::anchor_from_trusted_cert(der) {
                tas.push(ta);
                ta_infos.push(info);
            }
            if !webpki_uses_key(info) {
                prepared.algorithm_limited = true;
            }
        }

        // Go also checks the anchor's EKU; webpki does not. Reject such
        // paths here so that webpki goes on looking for another one.
        let usage = self.usage;
        let anchor_eku = |path: &VerifiedPath<'_>| -> Result<(), Error> {
            let anchor = path.anchor();
            let index = tas.iter().position(|t| std::ptr::eq(t, anchor));
            match index.and_then(|i| ta_infos.get(i)) {
                Some(info) => match eku_check(info, usage) {
                    Ok(()) => Ok(()),
                    Err(_) => Err(eku_error(usage)),
                },
                None => Ok(()),
            }
        };
        let attempt = |t: i64| {
            ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &tas,
                &inter_ders,
                unix(t),
                GoEku(usage),
                None,
                Some(&anchor_eku),
            )
            .map(|path| self.path_infos(&path))
        };

        let mut t = self.now;
        let mut result = attempt(t);
        if matches!(&result, Err(e) if is_time_error(e)) {
            // Learn whether the chain builds at all, at the time closest to
            // `now` at which the certificates complained about are valid.
            let (mut lo, mut hi) = (leaf.not_before, leaf.not_after);
            for _ in 0..TIME_ROUNDS {
                match &result {
                    Err(Error::CertExpired { not_after, .. }) => hi = hi.min(secs(not_after)),
                    Err(Error::CertNotValidYet { not_before, .. }) => {
                        lo = lo.max(secs(not_before));
                    }
                    _ => break,
                }
                if lo > hi {
                    break;
                }
                let next = self.now.max(lo).min(hi);
                if next == t {
                    break;
                }
                t = next;
                result = attempt(t);
            }
        }
        match result {
            Ok(_) if t == self.now => Verdict::Valid,
            Ok(path) => time_verdict(&path, self.now).unwrap_or(Verdict::Valid),
            // No single time at which the path is valid: build ignoring time.
            Err(e) if is_time_error(&e) => self.fallback(),
            Err(e) => self.on_error(e, &prepared),
        }
    }

    /// The end entity and the intermediates of a webpki path, as `CertInfo`s.
    fn path_infos(&self, path: &VerifiedPath<'_>) -> Vec<&'a CertInfo> {
        let mut out = vec![self.leaf()];
        for cert in path.intermediate_certificates() {
            let der = cert.der();
            if let Some(&c) = self
                .intermediates()
                .iter()
                .find(|c| *c.der == *der.as_ref())
            {
                out.push(c);
            }
        }
        out
    }

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

    fn on_error(&self, e: Error, prepared: &Prepared<'_>) -> Verdict {
        #[allow(deprecated)]
        match e {
            Error::CaUsedAsEndEntity
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

    /// webpki's error as a verdict with a human reason.
    fn describe(&self, e: &Error, prepared: &Prepared<'_>) -> Verdict {
        let no_path = |reason: String| Verdict::NoPath { reason };
        #[allow(deprecated)]
        match e {
            Error::UnknownIssuer => no_path(self.unknown_issuer_reason(prepared)),
            Error::InvalidSignatureForPublicKey => match self.bad_signature_reason() {
                Ok(reason) => no_path(reason),
                Err(unknown) => Verdict::Unknown { reason: unknown },
            },
            Error::RequiredEkuNotFound | Error::RequiredEkuNotFoundContext(_) => {
                no_path(self.eku_reason())
            }
            Error::EmptyEkuExtension => no_path(format!(
                "certificate is not valid for {} (empty extended key usage extension)",
                self.usage.describe()
            )),
            Error::EndEntityUsedAsCa => no_path(self.not_ca_reason()),
            Error::PathLenConstraintViolated => {
                no_path("path length constraint of an issuer violated".to_string())
            }
            Error::NameConstraintViolation => {
                no_path("the certificate's names violate an issuer's name constraints".to_string())
            }
            Error::MalformedNameConstraint | Error::InvalidNetworkMaskConstraint => {
                no_path("an issuer has malformed name constraints".to_string())
            }
            Error::CertDistrusted => {
                no_path("an issuer's key is on webpki's distrust list".to_string())
            }
            Error::InvalidCertValidity => {
                no_path("a certificate of the chain has notBefore after notAfter".to_string())
            }
            Error::MaximumPathDepthExceeded => {
                no_path("the path to an anchor is too long (more than 6 intermediates)".to_string())
            }
            Error::SignatureAlgorithmMismatch => {
                no_path("a certificate's inner and outer signature algorithms differ".to_string())
            }
            Error::UnsupportedCriticalExtension => {
                no_path("a certificate has an unsupported critical extension".to_string())
            }
            // webpki's budgets (100 signature checks, 200,000 path-building
            // calls, 250,000 name-constraint comparisons) are fatal errors:
            // rustls refuses the chain, and Go's 100-signature limit would
            // too.
            Error::MaximumSignatureChecksExceeded
            | Error::MaximumPathBuildCallsExceeded
            | Error::MaximumNameConstraintComparisonsExceeded => no_path(format!(
                "path building gave up without finding a path ({e:?}); TLS clients refuse such a chain too"
            )),
            // Found while checking names against name constraints: Go's
            // parser refuses such names too.
            e if is_malformed(e) => no_path(format!(
                "a certificate of the chain is malformed; webpki refuses it ({e:?})"
            )),
            e => Verdict::Unknown {
                reason: format!("webpki: {e:?}"),
            },
        }
    }

    /// The intermediates reached from the end entity by following issuer
    /// names (string equality, no signature checks), end entity first.
    fn name_walk(&self) -> Vec<&'a CertInfo> {
        let mut walk = vec![self.leaf()];
        while walk.len() <= MAX_DEPTH {
            let Some(cur) = walk.last().copied() else {
                break;
            };
            if cur.self_issued {
                break;
            }
            let next = self.intermediates().iter().copied().find(|c| {
                c.subject == cur.issuer && !walk.iter().any(|w| w.fingerprint == c.fingerprint)
            });
            match next {
                Some(n) => walk.push(n),
                None => break,
            }
        }
        walk
    }

    fn unknown_issuer_reason(&self, prepared: &Prepared<'_>) -> String {
        let walk = self.name_walk();
        // An intermediate on the way that webpki could not parse is why.
        for pair in walk.windows(2) {
            let [child, parent] = pair else { continue };
            let Some((_, e)) = prepared
                .dropped_intermediates
                .iter()
                .find(|(c, _)| c.fingerprint == parent.fingerprint)
            else {
                continue;
            };
            let why = match (e, unhandled_critical_extension(parent)) {
                (Error::UnsupportedCriticalExtension, Some(oid)) => {
                    format!("it has an unhandled critical extension {oid}")
                }
                _ => format!("{e:?}"),
            };
            return format!(
                "unknown issuer: the intermediate {} (issuer of {}) could not be used: {why}",
                parent.subject, child.subject
            );
        }
        let top = walk.last().copied().unwrap_or_else(|| self.leaf());
        let mut reason = if top.self_issued {
            format!(
                "unknown issuer: {} is self-signed and not in the bundle",
                top.subject
            )
        } else {
            format!(
                "unknown issuer: no anchor in the bundle issued {} (issuer {})",
                top.subject, top.issuer
            )
        };
        let parse_error =
            |a: &CertInfo| webpki::anchor_from_trusted_cert(&CertificateDer::from(&*a.der)).err();
        // Stops at the first anchor webpki can parse.
        let all_unparsable = self.anchors.iter().all(|a| parse_error(a).is_some());
        let named_unparsable = || {
            self.anchors
                .iter()
                .filter(|a| a.subject == top.issuer)
                .find_map(|a| parse_error(a).map(|e| (a, e)))
        };
        if let (true, Some(e)) = (
            all_unparsable,
            self.anchors.first().and_then(|a| parse_error(a)),
        ) {
            reason.push_str(&format!(
                "; none of the {} anchors in the bundle could be parsed by webpki ({e:?})",
                self.anchors.len()
            ));
        } else if let Some((a, e)) = named_unparsable() {
            reason.push_str(&format!(
                "; the anchor {} could not be parsed by webpki ({e:?})",
                a.subject
            ));
        } else if self.anchors.iter().any(|a| a.subject == top.issuer) {
            reason.push_str("; an anchor of that name exists but its name is encoded differently");
        } else if let Some(a) = self
            .anchors
            .iter()
            .find(|a| a.subject_cn.is_some() && a.subject_cn == top.issuer_cn)
        {
            reason.push_str(&format!("; the bundle has {}", a.subject));
        }
        if let Some((c, e)) = prepared
            .dropped_intermediates
            .iter()
            .find(|(c, _)| c.subject == top.issuer)
        {
            reason.push_str(&format!(
                "; the intermediate {} could not be used ({e:?})",
                c.subject
            ));
        }
        reason
    }

    /// Finds the first certificate, along issuer names, none of whose
    /// same-named candidate issuers verifies its signature. `Err` when the
    /// candidate's algorithm makes it undecidable.
    fn bad_signature_reason(&self) -> Result<String, String> {
        let mut cur = self.leaf();
        let mut seen = vec![&cur.fingerprint];
        let mut budget = SIGNATURE_BUDGET;
        for _ in 0..=MAX_DEPTH {
            let mut next = None;
            let mut named = false;
            let candidates = self
                .anchors
                .iter()
                .map(|a| (a, true))
                .chain(self.intermediates().iter().map(|c| (c, false)));
            for (cand, is_anchor) in candidates {
                if cand.subject != cur.issuer || seen.contains(&&cand.fingerprint) {
                    continue;
                }
                named = true;
                if budget == 0 {
                    return Ok(generic_bad_signature());
                }
                budget -= 1;
                match x509::issued_by(cur, cand) {
                    Issuance::Issued if is_anchor => {
                        return Ok(generic_bad_signature());
                    }
                    Issuance::Issued => {
                        next = Some(*cand);
                        break;
                    }
                    Issuance::WeakIssuerKey { bits } => {
                        return Err(format!(
                            "the issuer {} has an RSA key of {bits} bits, which webpki/ring cannot verify",
                            cand.subject
                        ));
                    }
                    Issuance::Unsupported(why) => return Err(why),
                    Issuance::NameMismatch | Issuance::BadSignature => {}
                }
            }
            match next {
                Some(n) => {
                    seen.push(&n.fingerprint);
                    cur = n;
                }
                None if named => {
                    return Ok(format!(
                        "bad signature: {} names issuer {}, but its signature does not verify with the key of the certificate of that name in the bundle (re-keyed CA?)",
                        cur.subject, cur.issuer
                    ));
                }
                None => break,
            }
        }
        Ok(generic_bad_signature())
    }

    fn eku_reason(&self) -> String {
        let u = self.usage.describe();
        let walk = self.name_walk();
        let top_issuer = walk.last().map(|c| c.issuer.as_str()).unwrap_or_default();
        let anchors = self
            .anchors
            .iter()
            .copied()
            .filter(|a| a.subject == top_issuer);
        for (i, c) in walk.iter().copied().chain(anchors).enumerate() {
            if let Err(present) = eku_check(c, self.usage) {
                return if i == 0 {
                    format!("certificate is not valid for {u} (extended key usage: {present})")
                } else {
                    format!(
                        "certificate is not valid for {u} (extended key usage of issuer {}: {present})",
                        c.subject
                    )
                };
            }
        }
        format!("certificate is not valid for {u} (extended key usage)")
    }

    fn not_ca_reason(&self) -> String {
        let walk = self.name_walk();
        match walk.iter().skip(1).find(|c| !c.is_ca) {
            Some(c) => format!(
                "the issuer {} is not a CA (basicConstraints CA:TRUE missing)",
                c.subject
            ),
            None => {
                "an issuer in the chain is not a CA (basicConstraints CA:TRUE missing)".to_string()
            }
        }
    }

    fn fallback(&self) -> Verdict {
        Fallback::new(self).run()
    }
}

/// webpki errors for DER that its parser (and Go's) refuses.
fn is_malformed(e: &Error) -> bool {
    matches!(
        e,
        Error::BadDer
            | Error::BadDerTime
            | Error::ExtensionValueInvalid
            | Error::MalformedExtensions
            | Error::MalformedDnsIdentifier
            | Error::TrailingData(_)
    )
}

fn generic_bad_signature() -> String {
    "bad signature: a certificate's signature does not verify with its issuer's key".to_string()
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

/// Go's EKU rule for one certificate: no EKU extension, or one that lists
/// the requested purpose or `anyExtendedKeyUsage`. (webpki's own
/// `KeyUsage` does not accept `anyExtendedKeyUsage`.)
struct GoEku(Usage);

impl ExtendedKeyUsageValidator for GoEku {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), Error> {
        let wanted = KeyPurposeId::new(self.0.oid());
        let any = KeyPurposeId::new(OID_ANY_EKU);
        let mut present = Vec::new();
        for id in iter {
            let id = id?;
            if id == wanted || id == any {
                return Ok(());
            }
            present.push(id.to_decoded_oid());
        }
        if present.is_empty() {
            Ok(())
        } else {
            Err(Error::RequiredEkuNotFoundContext(
                RequiredEkuNotFoundContext {
                    required: self.0.key_usage(),
                    present,
                },
            ))
        }
    }
}

fn eku_error(usage: Usage) -> Error {
    Error::RequiredEkuNotFoundContext(RequiredEkuNotFoundContext {
        required: usage.key_usage(),
        present: Vec::new(),
    })
}

/// Go's EKU rule on one certificate, read with x509-parser. `Err` holds the
/// purposes the certificate does allow, for the reason.
fn eku_check(c: &CertInfo, usage: Usage) -> Result<(), String> {
    if !c
        .der
        .windows(EKU_EXTENSION_OID_TLV.len())
        .any(|w| w == EKU_EXTENSION_OID_TLV)
    {
        return Ok(());
    }
    let Ok((_, cert)) = X509Certificate::from_der(&c.der) else {
        return Ok(());
    };
    let eku = match cert.extended_key_usage() {
        Ok(Some(ext)) => ext.value,
        Ok(None) => return Ok(()),
        Err(_) => return Err("malformed".to_string()),
    };
    let allowed = eku.any
        || match usage {
            Usage::ServerAuth => eku.server_auth,
            Usage::ClientAuth => eku.client_auth,
        };
    let mut names: Vec<String> = [
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| (*n).to_string())
    .collect();
    names.extend(eku.other.iter().map(|o| o.to_id_string()));
    // An empty EKU extension: Go treats it as no extension.
    if allowed || names.is_empty() {
        Ok(())
    } else {
        Err(names.join(", "))
    }
}

/// Can webpki (ring) verify `c`'s signature, given a suitable issuer key?
fn webpki_verifies_signature(c: &CertInfo) -> bool {
    match c.signature.as_str() {
        "ecdsa-with-SHA256"
        | "ecdsa-with-SHA384"
        | "ED25519"
        | "sha256WithRSAEncryption"
        | "sha384WithRSAEncryption"
        | "sha512WithRSAEncryption" => true,
        "rsassaPss" => matches!(
            c.signature_hash,
            Some(HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512)
        ),
        _ => false,
    }
}

/// Can webpki (ring) verify signatures made with `c`'s key?
fn webpki_uses_key(c: &CertInfo) -> bool {
    match c.key.kind {
        KeyKind::Rsa => c.key.bits.is_some_and(|b| (2048..=8192).contains(&b)),
        KeyKind::Ec => matches!(c.key.curve.as_deref(), Some("P-256" | "P-384")),
        KeyKind::Ed25519 => true,
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Names

fn presented_names(c: &CertInfo) -> Vec<String> {
    c.sans
        .iter()
        .filter_map(|s| match s {
            San::Dns(n) | San::Ip(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Most names a [`Verdict::NameMismatch`] keeps: a policy template can give
/// a certificate a thousand names, and every host that misses it holds the
/// list.
pub const MAX_PRESENTED: usize = 32;

/// The names a certificate presents, for a [`Verdict::NameMismatch`]: at most
/// [`MAX_PRESENTED`], then one entry `… (N more)`.
pub fn presented_for_message(names: &[String]) -> Vec<String> {
    if names.len() <= MAX_PRESENTED {
        return names.to_vec();
    }
    let mut out = names[..MAX_PRESENTED].to_vec();
    out.push(format!("… ({} more)", names.len() - MAX_PRESENTED));
    out
}

/// Whether `leaf` is valid for the DNS name or IP address `name` (its
/// subjectAltNames, as a TLS client checks them): [`Verdict::Valid`],
/// [`Verdict::NameMismatch`], or [`Verdict::Unknown`] for a name that is neither.
pub fn check_name(leaf: &CertInfo, name: &str) -> Verdict {
    let trimmed = name.trim();
    let host = trimmed
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(trimmed);
    let Ok(server_name) = ServerName::try_from(host) else {
        return Verdict::Unknown {
            reason: format!("cannot check the name {name:?}: not a valid DNS name or IP address"),
        };
    };
    let der = CertificateDer::from(&*leaf.der);
    let matched = match EndEntityCert::try_from(&der) {
        Ok(ee) => match ee.verify_is_valid_for_subject_name(&server_name) {
            Ok(()) => true,
            Err(Error::CertNotValidForName(_)) => false,
            Err(e) => {
                return Verdict::Unknown {
                    reason: format!("cannot check the name {name:?}: {e:?}"),
                };
            }
        },
        // webpki cannot parse the certificate (e.g. v1): match the SANs
        // ourselves.
        Err(_) => own_name_match(leaf, &server_name),
    };
    if matched {
        Verdict::Valid
    } else {
        Verdict::NameMismatch {
            name: name.to_string(),
            presented: presented_for_message(&presented_names(leaf)),
        }
    }
}

/// DNS (case-insensitive, `*.` for exactly one leftmost label) and IP SAN
/// matching, for certificates webpki cannot parse.
fn own_name_match(leaf: &CertInfo, server_name: &ServerName<'_>) -> bool {
    match server_name {
        ServerName::DnsName(d) => {
            let reference = d.as_ref().trim_end_matches('.').to_ascii_lowercase();
            leaf.sans.iter().any(|s| match s {
                San::Dns(p) => dns_matches(&p.to_ascii_lowercase(), &reference),
                _ => false,
            })
        }
        ServerName::IpAddress(ip) => {
            let ip = std::net::IpAddr::from(*ip);
            leaf.sans.iter().any(|s| match s {
                San::Ip(p) => p.parse::<std::net::IpAddr>().is_ok_and(|p| p == ip),
                _ => false,
            })
        }
        _ => false,
    }
}

fn dns_matches(presented: &str, reference: &str) -> bool {
    match presented.strip_prefix("*.") {
        Some(rest) => reference
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => presented == reference,
    }
}

// ---------------------------------------------------------------------------
// Fallback path builder

/// Extensions Go's crypto/x509 accepts when marked critical (others make it
/// refuse the certificate with `UnhandledCriticalExtension`). Not here,
/// although Go knows them: subjectKeyIdentifier (2.5.29.14),
/// authorityKeyIdentifier (2.5.29.35) and authorityInfoAccess
/// (1.3.6.1.5.5.7.1.1), which RFC 5280 §4.2.1.1, §4.2.1.2 and §4.2.2.1 say
/// MUST be non-critical; Go's parser refuses them when critical
/// ("x509: ... incorrectly marked critical"), and webpki does not know them.
const GO_HANDLED_EXTENSIONS: [&str; 10] = [
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.19",
    "2.5.29.30",
    "2.5.29.31",
    "2.5.29.32",
    "2.5.29.33",
    "2.5.29.36",
    "2.5.29.37",
    "2.5.29.54",
];

/// Signature algorithms neither Go nor webpki verifies: MD2/MD5/SHA-1
/// (refused as insecure), DSA and Ed448 (not implemented by either).
fn refused_signature(c: &CertInfo) -> bool {
    matches!(
        c.signature_hash,
        Some(HashAlg::Md2 | HashAlg::Md5 | HashAlg::Sha1)
    ) || matches!(
        c.signature.as_str(),
        "dsaWithSHA1" | "dsa_with_SHA224" | "dsa_with_SHA256" | "ED448"
    )
}

fn unhandled_critical_extension(c: &CertInfo) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(&c.der).ok()?;
    cert.extensions()
        .iter()
        .filter(|e| e.critical)
        .map(|e| e.oid.to_id_string())
        .find(|oid| !GO_HANDLED_EXTENSIONS.contains(&oid.as_str()))
}

// Ranks of the fallback's reasons: the highest one seen is reported.
const RANK_UNDECIDABLE: u8 = 100;
const RANK_EKU: u8 = 90;
const RANK_WEAK_HASH: u8 = 80;
const RANK_BAD_SIGNATURE: u8 = 70;
const RANK_BAD_VALIDITY: u8 = 60;
const RANK_CRITICAL_EXTENSION: u8 = 55;
const RANK_NOT_CA: u8 = 50;
const RANK_PATH_LEN: u8 = 40;
const RANK_TOO_DEEP: u8 = 30;

/// Depth-first path builder on [`x509::issued_by`]. Nodes are indices:
/// `0..n` the chain, `n..n+m` the anchors.
struct Fallback<'v, 'a> {
    v: &'v Verifier<'a>,
    /// Anchors webpki can parse; the others are skipped here too.
    usable_anchor: Vec<bool>,
    memo: HashMap<(usize, usize), Issuance>,
    eku_memo: HashMap<usize, Result<(), String>>,
    critical_memo: HashMap<usize, Option<String>>,
    steps: usize,
    /// Signature checks left (see [`SIGNATURE_BUDGET`]).
    signatures: usize,
    /// A budget (steps or signature checks) ran out: stop.
    exhausted: bool,
    first_complete: Option<Vec<usize>>,
    valid: bool,
    problem: Option<(u8, Verdict)>,
}

impl<'v, 'a> Fallback<'v, 'a> {
    fn new(v: &'v Verifier<'a>) -> Self {
        let usable_anchor = v
            .anchors
            .iter()
            .map(|a| webpki::anchor_from_trusted_cert(&CertificateDer::from(&*a.der)).is_ok())
            .collect();
        Fallback {
            v,
            usable_anchor,
            memo: HashMap::new(),
            eku_memo: HashMap::new(),
            critical_memo: HashMap::new(),
            steps: FALLBACK_STEPS,
            signatures: SIGNATURE_BUDGET,
            exhausted: false,
            first_complete: None,
            valid: false,
            problem: None,
        }
    }

    fn node(&self, k: usize) -> Option<&'a CertInfo> {
        let n = self.v.chain.len();
        if k < n {
            self.v.chain.get(k).copied()
        } else {
            self.v.anchors.get(k - n).copied()
        }
    }

    fn note(&mut self, rank: u8, verdict: Verdict) {
        if !matches!(&self.problem, Some((r, _)) if *r >= rank) {
            self.problem = Some((rank, verdict));
        }
    }

    fn anchor_usable(&self, j: usize) -> bool {
        self.usable_anchor.get(j).copied().unwrap_or(false)
    }

    /// [`x509::issued_by`], memoised, counting signature checks: when the
    /// budget is spent, sets `exhausted` and answers `NameMismatch`
    /// (callers stop on `exhausted`).
    fn issued(&mut self, child: usize, parent: usize) -> Issuance {
        if let Some(i) = self.memo.get(&(child, parent)) {
            return i.clone();
        }
        let (Some(c), Some(p)) = (self.node(child), self.node(parent)) else {
            return Issuance::NameMismatch;
        };
        if x509::names_match(c, p) {
            if self.signatures == 0 {
                self.exhausted = true;
                return Issuance::NameMismatch;
            }
            self.signatures -= 1;
        }
        let result = x509::issued_by(c, p);
        self.memo.insert((child, parent), result.clone());
        result
    }

    /// The first critical extension of node `k` that Go does not handle.
    fn unhandled_critical(&mut self, k: usize) -> Option<String> {
        if let Some(r) = self.critical_memo.get(&k) {
            return r.clone();
        }
        let r = self.node(k).and_then(unhandled_critical_extension);
        self.critical_memo.insert(k, r.clone());
        r
    }

    fn eku(&mut self, k: usize) -> Result<(), String> {
        if let Some(r) = self.eku_memo.get(&k) {
            return r.clone();
        }
        let r = match self.node(k) {
            Some(c) => eku_check(c, self.v.usage),
            None => Ok(()),
        };
        self.eku_memo.insert(k, r.clone());
        r
    }

    fn eku_reason(&self, k: usize, present: &str) -> Verdict {
        let u = self.v.usage.describe();
        let reason = match self.node(k) {
            Some(c) if k != 0 && c.fingerprint != self.v.leaf.fingerprint => format!(
                "certificate is not valid for {u} (extended key usage of issuer {}: {present})",
                c.subject
            ),
            _ => format!("certificate is not valid for {u} (extended key usage: {present})"),
        };
        Verdict::NoPath { reason }
    }

    fn run(&mut self) -> Verdict {
        let leaf = self.v.leaf;
        if let Some(oid) = unhandled_critical_extension(leaf) {
            return Verdict::NoPath {
                reason: format!("the certificate has an unhandled critical extension {oid}"),
            };
        }
        if let Err(present) = self.eku(0) {
            return self.eku_reason(0, &present);
        }
        let n = self.v.chain.len();
        let leaf_anchors: Vec<usize> = (0..self.v.anchors.len())
            .filter(|&j| {
                self.anchor_usable(j)
                    && self
                        .v
                        .anchors
                        .get(j)
                        .is_some_and(|a| a.fingerprint == leaf.fingerprint)
            })
            .map(|j| n + j)
            .collect();
        if leaf_anchors.is_empty() {
            self.dfs(&mut vec![0]);
        } else {
            // Go: a leaf in the root pool is the whole chain.
            for k in leaf_anchors {
                if self.complete(&[0], k) {
                    break;
                }
            }
        }
        if self.valid {
            return Verdict::Valid;
        }
        if let Some(path) = &self.first_complete {
            let infos: Vec<&CertInfo> = path.iter().filter_map(|&k| self.node(k)).collect();
            return time_verdict(&infos, self.v.now).unwrap_or(Verdict::Valid);
        }
        if self.exhausted {
            // Go and webpki give up at the same budget and refuse the chain.
            let mut reason = format!(
                "path building gave up after {} signature checks and {} steps without finding a path (TLS clients refuse such a chain too)",
                SIGNATURE_BUDGET - self.signatures,
                FALLBACK_STEPS - self.steps
            );
            if let Some((_, Verdict::NoPath { reason: r } | Verdict::Unknown { reason: r })) =
                &self.problem
            {
                reason.push_str("; on the way: ");
                reason.push_str(r);
            }
            return Verdict::NoPath { reason };
        }
        if let Some((_, verdict)) = self.problem.take() {
            return verdict;
        }
        let none = Prepared {
            dropped_intermediates: Vec::new(),
            algorithm_limited: false,
        };
        Verdict::NoPath {
            reason: self.v.unknown_issuer_reason(&none),
        }
    }

    /// A path `path` (chain indices, end entity first) ending at the anchor
    /// `anchor` is built: check the EKUs, remember it, and stop (`true`)
    /// if it is valid at `now`.
    fn complete(&mut self, path: &[usize], anchor: usize) -> bool {
        for &k in path.iter().skip(1).chain(std::iter::once(&anchor)) {
            if let Err(present) = self.eku(k) {
                let verdict = self.eku_reason(k, &present);
                self.note(RANK_EKU, verdict);
                return false;
            }
        }
        if self.first_complete.is_none() {
            self.first_complete = Some(path.to_vec());
        }
        let infos: Vec<&CertInfo> = path.iter().filter_map(|&k| self.node(k)).collect();
        if time_verdict(&infos, self.v.now).is_none() {
            self.valid = true;
            return true;
        }
        false
    }

    fn note_issuance(&mut self, child: usize, parent: usize, issuance: Issuance) {
        let (Some(c), Some(p)) = (self.node(child), self.node(parent)) else {
            return;
        };
        match issuance {
            Issuance::Issued | Issuance::NameMismatch => {}
            Issuance::BadSignature => self.note(
                RANK_BAD_SIGNATURE,
                Verdict::NoPath {
                    reason: format!(
                        "bad signature: {} names issuer {}, but its signature does not verify with the key of {} in the bundle (re-keyed CA?)",
                        c.subject, c.issuer, p.subject
                    ),
                },
            ),
            Issuance::WeakIssuerKey { bits } => self.note(
                RANK_UNDECIDABLE,
                Verdict::Unknown {
                    reason: format!(
                        "cannot verify the signature of {}: its issuer {} has an RSA key of {bits} bits, below what ring verifies",
                        c.subject, p.subject
                    ),
                },
            ),
            Issuance::Unsupported(why) => self.note(
                RANK_UNDECIDABLE,
                Verdict::Unknown {
                    reason: format!("cannot verify the signature of {}: {why}", c.subject),
                },
            ),
        }
    }

    /// Extends `path` (chain indices, end entity first); `true` = stop.
    fn dfs(&mut self, path: &mut Vec<usize>) -> bool {
        if self.steps == 0 {
            self.exhausted = true;
            return true;
        }
        self.steps -= 1;
        let Some(&cur) = path.last() else {
            return false;
        };
        let Some(c) = self.node(cur) else {
            return false;
        };
        if c.not_before > c.not_after {
            self.note(
                RANK_BAD_VALIDITY,
                Verdict::NoPath {
                    reason: format!("{} has notBefore after notAfter", c.subject),
                },
            );
            return false;
        }
        if refused_signature(c) {
            self.note(
                RANK_WEAK_HASH,
                Verdict::NoPath {
                    reason: format!(
                        "{} is signed with {}, which Go and webpki refuse",
                        c.subject, c.signature
                    ),
                },
            );
            return false;
        }
        let n = self.v.chain.len();
        for j in 0..self.v.anchors.len() {
            if !self.anchor_usable(j) {
                continue;
            }
            let k = n + j;
            let issuance = self.issued(cur, k);
            if self.exhausted {
                return true;
            }
            match issuance {
                Issuance::Issued => {
                    if self.complete(path, k) {
                        return true;
                    }
                }
                other => self.note_issuance(cur, k, other),
            }
        }
        for i in 1..n {
            let Some(cand) = self.node(i) else {
                continue;
            };
            let in_path = path.iter().any(|&p| {
                self.node(p)
                    .is_some_and(|x| x.fingerprint == cand.fingerprint)
            });
            if in_path {
                continue;
            }
            let issuance = self.issued(cur, i);
            if self.exhausted {
                return true;
            }
            match issuance {
                Issuance::Issued => {
                    // Go refuses any certificate of the path with a critical
                    // extension it does not handle; webpki cannot even parse
                    // such an intermediate.
                    if let Some(oid) = self.unhandled_critical(i) {
                        self.note(
                            RANK_CRITICAL_EXTENSION,
                            Verdict::NoPath {
                                reason: format!(
                                    "the issuer {} has an unhandled critical extension {oid}",
                                    cand.subject
                                ),
                            },
                        );
                        continue;
                    }
                    if !cand.is_ca {
                        self.note(
                            RANK_NOT_CA,
                            Verdict::NoPath {
                                reason: format!(
                                    "the issuer {} is not a CA (basicConstraints CA:TRUE missing)",
                                    cand.subject
                                ),
                            },
                        );
                        continue;
                    }
                    // Intermediates that would sit below `cand`.
                    let below = path.len().saturating_sub(1);
                    if cand
                        .path_len
                        .is_some_and(|len| usize::try_from(len).is_ok_and(|len| below > len))
                    {
                        self.note(
                            RANK_PATH_LEN,
                            Verdict::NoPath {
                                reason: format!(
                                    "path length constraint of {} violated",
                                    cand.subject
                                ),
                            },
                        );
                        continue;
                    }
                    if path.len() >= MAX_DEPTH {
                        self.note(
                            RANK_TOO_DEEP,
                            Verdict::NoPath {
                                reason: format!(
                                    "the path to an anchor is too long (more than {MAX_DEPTH} certificates)"
                                ),
                            },
                        );
                        continue;
                    }
                    path.push(i);
                    if self.dfs(path) {
                        return true;
                    }
                    path.pop();
                }
                other => self.note_issuance(cur, i, other),
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
        ExtendedKeyUsagePurpose as Eku, IsCa, Issuer, KeyPair,
    };

    /// The shared corpus (the main crate uses
    /// `concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")`).
    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

    /// 2025-01-01T00:00:00Z.
    const Y2025: i64 = 1_735_689_600;

    fn info(c: &rcgen::Certificate) -> CertInfo {
        x509::parse(c.der()).expect("parse")
    }

    fn dn(cn: &str) -> DistinguishedName {
        let mut d = DistinguishedName::new();
        d.push(DnType::CommonName, cn);
        d
    }

    fn ca_params(cn: &str, from: i32, to: i32) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = dn(cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.not_before = date_time_ymd(from, 1, 1);
        p.not_after = date_time_ymd(to, 1, 1);
        p
    }

    fn leaf_params(cn: &str, sans: &[&str], from: i32, to: i32) -> CertificateParams {
        let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
        let mut p = CertificateParams::new(sans).unwrap();
        p.distinguished_name = dn(cn);
        p.not_before = date_time_ymd(from, 1, 1);
        p.not_after = date_time_ymd(to, 1, 1);
        p
    }

    struct Ca {
        params: CertificateParams,
        key: KeyPair,
        cert: CertInfo,
    }

    impl Ca {
        fn root(cn: &str) -> Ca {
            Ca::root_with(ca_params(cn, 2020, 2040))
        }

        fn root_with(params: CertificateParams) -> Ca {
            let key = KeyPair::generate().unwrap();
            let cert = info(&params.self_signed(&key).unwrap());
            Ca { params, key, cert }
        }

        fn sub(&self, cn: &str) -> Ca {
            self.sub_with(ca_params(cn, 2020, 2040))
        }

        fn sub_with(&self, params: CertificateParams) -> Ca {
            let key = KeyPair::generate().unwrap();
            let cert = self.sign(&params, &key);
            Ca { params, key, cert }
        }

        fn sign(&self, p: &CertificateParams, key: &KeyPair) -> CertInfo {
            let issuer = Issuer::from_params(&self.params, &self.key);
            info(&p.signed_by(key, &issuer).unwrap())
        }

        fn issue(&self, p: CertificateParams) -> CertInfo {
            self.sign(&p, &KeyPair::generate().unwrap())
        }

        fn leaf(&self, cn: &str, sans: &[&str]) -> CertInfo {
            self.issue(leaf_params(cn, sans, 2024, 2026))
        }
    }

    fn server(chain: &[&CertInfo], anchors: &[&CertInfo], name: Option<&str>) -> Verdict {
        verify(chain, anchors, Y2025, Usage::ServerAuth, name)
    }

    fn reason(v: &Verdict) -> &str {
        match v {
            Verdict::NoPath { reason } | Verdict::Unknown { reason } => reason,
            other => panic!("expected a reason, got {other:?}"),
        }
    }

    fn assert_no_path(v: &Verdict, needle: &str) {
        assert!(
            matches!(v, Verdict::NoPath { reason } if reason.contains(needle)),
            "expected NoPath containing {needle:?}, got {v:?}"
        );
    }

    #[test]
    fn valid_server_chain() {
        let root = Ca::root("Root");
        let leaf = root.leaf("svc", &["svc.example.org"]);
        assert_eq!(
            server(&[&leaf], &[&root.cert], Some("svc.example.org")),
            Verdict::Valid
        );
        assert_eq!(server(&[&leaf], &[&root.cert], None), Verdict::Valid);
        // DNS names compare case-insensitively; a trailing dot is absolute.
        assert_eq!(
            server(&[&leaf], &[&root.cert], Some("SVC.Example.ORG")),
            Verdict::Valid
        );
        assert_eq!(
            server(&[&leaf], &[&root.cert], Some("svc.example.org.")),
            Verdict::Valid
        );
    }

    #[test]
    fn valid_with_intermediate() {
        let root = Ca::root("Root");
        let inter = root.sub("Inter");
        let leaf = inter.leaf("svc", &["svc.example.org"]);
        let other = Ca::root("Other").sub("Inter2");
        let n = Some("svc.example.org");
        assert_eq!(
            server(&[&leaf, &inter.cert], &[&root.cert], n),
            Verdict::Valid
        );
        // Any order, unrelated extras, the leaf repeated.
        assert_eq!(
            server(&[&leaf, &other.cert, &leaf, &inter.cert], &[&root.cert], n),
            Verdict::Valid
        );
        // The intermediate as an anchor.
        assert_eq!(server(&[&leaf], &[&inter.cert], n), Verdict::Valid);
        // Missing intermediate: unknown issuer, naming the leaf's issuer.
        let v = server(&[&leaf], &[&root.cert], n);
        assert_no_path(
            &v,
            "unknown issuer: no anchor in the bundle issued CN=svc (issuer CN=Inter)",
        );
        // Intermediate present, root missing: the top of the chain is named.
        let v = server(&[&leaf, &inter.cert], &[&other.cert], n);
        assert_no_path(
            &v,
            "no anchor in the bundle issued CN=Inter (issuer CN=Root)",
        );
    }

    #[test]
    fn wrong_ca_is_unknown_issuer() {
        let right = Ca::root("etcd CA");
        let wrong = Ca::root("Other CA");
        let leaf = right.leaf("etcd", &["etcd.example.org"]);
        let v = server(&[&leaf], &[&wrong.cert], Some("etcd.example.org"));
        assert_eq!(
            reason(&v),
            "unknown issuer: no anchor in the bundle issued CN=etcd (issuer CN=etcd CA)"
        );
        assert!(matches!(v, Verdict::NoPath { .. }));
    }

    #[test]
    fn rekeyed_ca_is_bad_signature() {
        let right = Ca::root("etcd CA");
        // Same name, new key: the classic "CA was regenerated" drift.
        let rekeyed = Ca::root("etcd CA");
        let leaf = right.leaf("etcd", &["etcd.example.org"]);
        let v = server(&[&leaf], &[&rekeyed.cert], None);
        assert_no_path(&v, "bad signature: CN=etcd names issuer CN=etcd CA");
        // Both in the bundle: the right one wins.
        assert_eq!(
            server(&[&leaf], &[&rekeyed.cert, &right.cert], None),
            Verdict::Valid
        );
    }

    #[test]
    fn expired_leaf_right_ca() {
        let root = Ca::root("Root");
        let leaf = root.issue(leaf_params("old", &["old.example.org"], 2020, 2021));
        assert_eq!(
            server(&[&leaf], &[&root.cert], Some("old.example.org")),
            Verdict::Expired {
                fingerprint: leaf.fingerprint.clone(),
                not_after: leaf.not_after
            }
        );
        // The name does not matter for an expired chain.
        assert!(matches!(
            server(&[&leaf], &[&root.cert], Some("nope.example.org")),
            Verdict::Expired { .. }
        ));
    }

    #[test]
    fn expired_leaf_wrong_ca() {
        let root = Ca::root("Root");
        let wrong = Ca::root("Wrong");
        let leaf = root.issue(leaf_params("old", &["old.example.org"], 2020, 2021));
        assert_no_path(&server(&[&leaf], &[&wrong.cert], None), "unknown issuer");
    }

    #[test]
    fn not_yet_valid() {
        let root = Ca::root("Root");
        let leaf = root.issue(leaf_params("new", &["new.example.org"], 2026, 2027));
        assert_eq!(
            server(&[&leaf], &[&root.cert], None),
            Verdict::NotYetValid {
                fingerprint: leaf.fingerprint.clone(),
                not_before: leaf.not_before
            }
        );
    }

    #[test]
    fn expired_intermediate() {
        let root = Ca::root("Root");
        // Overlapping windows: webpki re-runs inside both.
        let inter = root.sub_with(ca_params("Inter", 2020, 2024));
        let leaf = inter.issue(leaf_params("svc", &["svc.example.org"], 2023, 2026));
        let want = Verdict::Expired {
            fingerprint: inter.cert.fingerprint.clone(),
            not_after: inter.cert.not_after,
        };
        assert_eq!(server(&[&leaf, &inter.cert], &[&root.cert], None), want);
        // Disjoint windows (leaf issued after the intermediate expired): no
        // time works for webpki; the fallback builds ignoring time.
        let mut p = leaf_params("svc", &["svc.example.org"], 2024, 2026);
        p.not_before = date_time_ymd(2024, 6, 1);
        let leaf2 = inter.issue(p);
        assert_eq!(server(&[&leaf2, &inter.cert], &[&root.cert], None), want);
        // Expired intermediate with the wrong root: no path.
        let wrong = Ca::root("Wrong");
        assert_no_path(
            &server(&[&leaf, &inter.cert], &[&wrong.cert], None),
            "no anchor in the bundle issued CN=Inter (issuer CN=Root)",
        );
        // Both leaf and intermediate expired: the leaf is reported first.
        let old = inter.issue(leaf_params("old", &[], 2020, 2022));
        assert_eq!(
            server(&[&old, &inter.cert], &[&root.cert], None),
            Verdict::Expired {
                fingerprint: old.fingerprint.clone(),
                not_after: old.not_after
            }
        );
    }

    #[test]
    fn expired_anchor_is_ignored() {
        // As webpki: the anchor's own validity does not matter.
        let root = Ca::root_with(ca_params("Old Root", 2010, 2020));
        let leaf = root.leaf("svc", &[]);
        assert_eq!(server(&[&leaf], &[&root.cert], None), Verdict::Valid);
    }

    #[test]
    fn name_mismatch_lists_presented_names() {
        let root = Ca::root("Root");
        let leaf = root.leaf("svc", &["svc.example.org", "10.0.0.1"]);
        assert_eq!(
            server(&[&leaf], &[&root.cert], Some("other.example.org")),
            Verdict::NameMismatch {
                name: "other.example.org".into(),
                presented: vec!["svc.example.org".into(), "10.0.0.1".into()]
            }
        );
        // The CN is ignored, as Go and webpki do.
        let cn_only = root.leaf("cn.example.org", &[]);
        assert_eq!(
            server(&[&cn_only], &[&root.cert], Some("cn.example.org")),
            Verdict::NameMismatch {
                name: "cn.example.org".into(),
                presented: vec![]
            }
        );
    }

    #[test]
    fn wildcard_san() {
        let root = Ca::root("Root");
        let leaf = root.leaf("wild", &["*.example.org"]);
        let check = |n: &str| server(&[&leaf], &[&root.cert], Some(n));
        assert_eq!(check("a.example.org"), Verdict::Valid);
        assert!(matches!(
            check("a.b.example.org"),
            Verdict::NameMismatch { .. }
        ));
        assert!(matches!(check("example.org"), Verdict::NameMismatch { .. }));
    }

    #[test]
    fn ip_san() {
        let root = Ca::root("Root");
        let leaf = root.leaf("ip", &["10.0.0.1", "::1"]);
        let check = |n: &str| server(&[&leaf], &[&root.cert], Some(n));
        assert_eq!(check("10.0.0.1"), Verdict::Valid);
        assert_eq!(check("::1"), Verdict::Valid);
        assert_eq!(check("[::1]"), Verdict::Valid);
        assert_eq!(
            check("10.0.0.2"),
            Verdict::NameMismatch {
                name: "10.0.0.2".into(),
                presented: vec!["10.0.0.1".into(), "::1".into()]
            }
        );
    }

    #[test]
    fn unparsable_names_are_unknown() {
        let root = Ca::root("Root");
        let leaf = root.leaf("svc", &["my_svc.example.org"]);
        let check = |n: &str| server(&[&leaf], &[&root.cert], Some(n));
        // Underscores are accepted by pki-types' DNS name syntax.
        assert_eq!(check("my_svc.example.org"), Verdict::Valid);
        for bad in [
            "*.example.org",
            "svc.example.org:443",
            "bad name",
            "",
            "a..b",
        ] {
            assert!(
                matches!(check(bad), Verdict::Unknown { .. }),
                "{bad:?}: {:?}",
                check(bad)
            );
        }
    }

    #[test]
    fn client_auth_eku() {
        let root = Ca::root("Root");
        let mut p = leaf_params("client", &[], 2024, 2026);
        p.extended_key_usages = vec![Eku::ClientAuth];
        let client = root.issue(p);
        let mut p = leaf_params("server", &["s.example.org"], 2024, 2026);
        p.extended_key_usages = vec![Eku::ServerAuth];
        let server_only = root.issue(p);
        let client_auth =
            |c: &CertInfo, name| verify(&[c], &[&root.cert], Y2025, Usage::ClientAuth, name);
        assert_eq!(client_auth(&client, None), Verdict::Valid);
        // The name is ignored for client auth.
        assert_eq!(client_auth(&client, Some("x.example.org")), Verdict::Valid);
        let v = client_auth(&server_only, None);
        assert_eq!(
            reason(&v),
            "certificate is not valid for client authentication (extended key usage: serverAuth)"
        );
        assert!(matches!(v, Verdict::NoPath { .. }));
        // And the other way round.
        assert_no_path(
            &server(&[&client], &[&root.cert], None),
            "not valid for server authentication (extended key usage: clientAuth)",
        );
        // anyExtendedKeyUsage allows both (as Go; webpki's KeyUsage would not).
        let mut p = leaf_params("any", &["any.example.org"], 2024, 2026);
        p.extended_key_usages = vec![Eku::Any];
        let any = root.issue(p);
        assert_eq!(client_auth(&any, None), Verdict::Valid);
        assert_eq!(
            server(&[&any], &[&root.cert], Some("any.example.org")),
            Verdict::Valid
        );
    }

    #[test]
    fn issuer_and_anchor_eku() {
        // Intermediate restricted to serverAuth: refused for client auth.
        let root = Ca::root("Root");
        let mut p = ca_params("Server Inter", 2020, 2040);
        p.extended_key_usages = vec![Eku::ServerAuth];
        let inter = root.sub_with(p);
        let leaf = inter.leaf("c", &[]);
        let v = verify(
            &[&leaf, &inter.cert],
            &[&root.cert],
            Y2025,
            Usage::ClientAuth,
            None,
        );
        assert_no_path(
            &v,
            "extended key usage of issuer CN=Server Inter: serverAuth",
        );
        assert_eq!(
            server(&[&leaf, &inter.cert], &[&root.cert], None),
            Verdict::Valid
        );

        // Root restricted to serverAuth: Go checks the root's EKU too.
        let mut p = ca_params("Server Root", 2020, 2040);
        p.extended_key_usages = vec![Eku::ServerAuth];
        let sroot = Ca::root_with(p);
        let leaf = sroot.leaf("c", &[]);
        let v = verify(&[&leaf], &[&sroot.cert], Y2025, Usage::ClientAuth, None);
        assert_no_path(
            &v,
            "extended key usage of issuer CN=Server Root: serverAuth",
        );
        assert_eq!(server(&[&leaf], &[&sroot.cert], None), Verdict::Valid);
    }

    #[test]
    fn self_signed_ca_leaf_in_anchors() {
        let webhook = Ca::root_with({
            let mut p = ca_params("webhook", 2024, 2026);
            p.subject_alt_names = vec![rcgen::SanType::DnsName(
                "webhook.ns.svc".try_into().unwrap(),
            )];
            p
        });
        let leaf = &webhook.cert;
        assert!(leaf.is_ca);
        assert_eq!(
            server(&[leaf], &[leaf], Some("webhook.ns.svc")),
            Verdict::Valid
        );
        assert!(matches!(
            server(&[leaf], &[leaf], Some("other.ns.svc")),
            Verdict::NameMismatch { .. }
        ));
        // Not in the bundle.
        let other = Ca::root("Other");
        assert_no_path(
            &server(&[leaf], &[&other.cert], None),
            "unknown issuer: CN=webhook is self-signed and not in the bundle",
        );
        // In the bundle but expired: the leaf's own validity still counts.
        let old = Ca::root_with(ca_params("old webhook", 2020, 2021));
        assert!(matches!(
            server(&[&old.cert], &[&old.cert], None),
            Verdict::Expired { .. }
        ));
        // Self-signed non-CA leaf in the bundle: also a chain of one.
        let key = KeyPair::generate().unwrap();
        let plain = info(
            &leaf_params("plain", &["plain.example.org"], 2024, 2026)
                .self_signed(&key)
                .unwrap(),
        );
        assert!(!plain.is_ca);
        assert_eq!(
            server(&[&plain], &[&plain], Some("plain.example.org")),
            Verdict::Valid
        );
    }

    #[test]
    fn regenerated_self_signed_certificate() {
        // The webhook re-generated its self-signed certificate; the
        // caBundle still holds the old one (same name, other key).
        let mut p = ca_params("webhook", 2024, 2026);
        p.subject_alt_names = vec![rcgen::SanType::DnsName(
            "webhook.ns.svc".try_into().unwrap(),
        )];
        let old = Ca::root_with(p.clone());
        let new = Ca::root_with(p);
        assert_no_path(
            &server(&[&new.cert], &[&old.cert], Some("webhook.ns.svc")),
            "bad signature: CN=webhook names issuer CN=webhook",
        );
        // Same without CA:TRUE (webpki decides rather than the fallback).
        let plain = |key: &KeyPair| {
            info(
                &leaf_params("plain", &["plain.ns.svc"], 2024, 2026)
                    .self_signed(key)
                    .unwrap(),
            )
        };
        let (a, b) = (
            plain(&KeyPair::generate().unwrap()),
            plain(&KeyPair::generate().unwrap()),
        );
        assert_no_path(
            &server(&[&a], &[&b], None),
            "bad signature: CN=plain names issuer CN=plain",
        );
        // A bundle CA with the issuer's CN but another subject is hinted at.
        let root = Ca::root("etcd CA");
        let mut p = ca_params("etcd CA", 2020, 2040);
        p.distinguished_name.push(DnType::OrganizationName, "Other");
        let lookalike = Ca::root_with(p);
        let leaf = root.leaf("etcd", &[]);
        assert_no_path(
            &server(&[&leaf], &[&lookalike.cert], None),
            "(issuer CN=etcd CA); the bundle has O=Other,CN=etcd CA",
        );
    }

    #[test]
    fn ca_certificate_as_end_entity() {
        // Go accepts a CA certificate as the leaf; webpki says
        // CaUsedAsEndEntity and the fallback decides.
        let root = Ca::root("Root");
        let ca_leaf = root.sub_with({
            let mut p = ca_params("ca-leaf", 2024, 2026);
            p.subject_alt_names = vec![rcgen::SanType::DnsName(
                "ca-leaf.example.org".try_into().unwrap(),
            )];
            p
        });
        assert_eq!(
            server(&[&ca_leaf.cert], &[&root.cert], Some("ca-leaf.example.org")),
            Verdict::Valid
        );
        assert!(matches!(
            server(&[&ca_leaf.cert], &[&root.cert], Some("x.example.org")),
            Verdict::NameMismatch { .. }
        ));
        let wrong = Ca::root("Wrong");
        assert_no_path(
            &server(&[&ca_leaf.cert], &[&wrong.cert], None),
            "no anchor in the bundle issued CN=ca-leaf (issuer CN=Root)",
        );
        // Expired CA leaf: time is reported, not CaUsedAsEndEntity.
        let old = root.sub_with(ca_params("old-ca-leaf", 2020, 2021));
        assert!(matches!(
            server(&[&old.cert], &[&root.cert], None),
            Verdict::Expired { .. }
        ));
        // And through an intermediate.
        let inter = root.sub("Inter");
        let deep = inter.sub("deep-ca");
        assert_eq!(
            server(&[&deep.cert, &inter.cert], &[&root.cert], None),
            Verdict::Valid
        );
    }

    #[test]
    fn bundle_with_unrelated_anchors() {
        let root = Ca::root("Root");
        let leaf = root.leaf("svc", &["svc.example.org"]);
        let others: Vec<Ca> = (0..5).map(|i| Ca::root(&format!("Other {i}"))).collect();
        let mut anchors: Vec<&CertInfo> = others.iter().map(|c| &c.cert).collect();
        anchors.insert(2, &root.cert);
        assert_eq!(
            server(&[&leaf], &anchors, Some("svc.example.org")),
            Verdict::Valid
        );
    }

    #[test]
    fn empty_inputs() {
        let root = Ca::root("Root");
        let leaf = root.leaf("svc", &[]);
        assert_eq!(
            server(&[&leaf], &[], None),
            Verdict::NoPath {
                reason: "unknown issuer: the trust bundle is empty".into()
            }
        );
        assert!(matches!(
            server(&[], &[&root.cert], None),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn issuer_must_be_ca_and_respect_path_len() {
        let root = Ca::root("Root");
        let mut p = ca_params("Not A CA", 2020, 2040);
        p.is_ca = IsCa::ExplicitNoCa;
        let fake = root.sub_with(p);
        let leaf = fake.leaf("svc", &[]);
        assert_no_path(
            &server(&[&leaf, &fake.cert], &[&root.cert], None),
            "CN=Not A CA is not a CA",
        );

        let mut p = ca_params("Len0", 2020, 2040);
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let len0 = root.sub_with(p);
        let below = len0.sub("Below");
        let leaf = below.leaf("svc", &[]);
        assert_no_path(
            &server(&[&leaf, &below.cert, &len0.cert], &[&root.cert], None),
            "path length",
        );
    }

    #[test]
    fn anchor_webpki_cannot_parse_is_skipped() {
        let root = Ca::root("Root");
        let leaf = root.leaf("svc", &[]);
        // Make the TBS signature algorithm (first occurrence of
        // ecdsa-with-SHA256) disagree with the outer one: x509-parser still
        // parses it, webpki refuses it as an anchor.
        let oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
        let mut der = root.cert.der.to_vec();
        let at = der.windows(oid.len()).position(|w| w == oid).unwrap();
        der[at + oid.len() - 1] = 0x03;
        let bad = x509::parse(&der).expect("x509-parser accepts it");
        let v = server(&[&leaf], &[&bad], None);
        assert_no_path(
            &v,
            "unknown issuer: no anchor in the bundle issued CN=svc (issuer CN=Root)",
        );
        assert_no_path(
            &v,
            "none of the 1 anchors in the bundle could be parsed by webpki",
        );
        let other = Ca::root("Other");
        let v = server(&[&leaf], &[&bad, &other.cert], None);
        assert_no_path(
            &v,
            "the anchor CN=Root could not be parsed by webpki (SignatureAlgorithmMismatch)",
        );
        // Skipped by the fallback too (a CA leaf goes there).
        let ca_leaf = root.sub("ca-leaf");
        assert_no_path(&server(&[&ca_leaf.cert], &[&bad], None), "unknown issuer");
        // With the good root added, fine.
        assert_eq!(server(&[&leaf], &[&bad, &root.cert], None), Verdict::Valid);
    }

    use crate::x509::tests::FakeRsa;

    /// Runs the fallback builder alone; the verdict and the number of
    /// signature checks it made.
    fn fallback_counted(chain: &[&CertInfo], anchors: &[&CertInfo]) -> (Verdict, usize) {
        let v = Verifier {
            leaf: chain[0],
            chain,
            anchors,
            now: Y2025,
            usage: Usage::ServerAuth,
        };
        let mut f = Fallback::new(&v);
        let verdict = f.run();
        (verdict, SIGNATURE_BUDGET - f.signatures)
    }

    /// 50 look-alikes of the leaf's issuer: same subject, same subject key
    /// identifier as the leaf's authority key identifier, each with its own
    /// (wrong) key, each validly issued by the trusted root. Names and key
    /// ids match everywhere, only signatures tell them apart: the
    /// denial-of-service shape of x509-limbo's `pathological::` cases and
    /// of a bundle that accumulated re-keyed copies of one CA.
    #[test]
    fn fifty_lookalike_intermediates_are_decided_within_the_budget() {
        let root = Ca::root("Root");
        let mut p = ca_params("Issuing CA", 2020, 2040);
        p.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![0x1d; 20]);
        let real = root.sub_with(p.clone());
        let mut lp = leaf_params("svc", &["svc.example.org"], 2024, 2026);
        lp.use_authority_key_identifier_extension = true;
        let leaf = real.issue(lp.clone());
        let mut ca_lp = ca_params("ca-leaf", 2024, 2026);
        ca_lp.use_authority_key_identifier_extension = true;
        let ca_leaf = real.issue(ca_lp);
        let fakes: Vec<Ca> = (0..50).map(|_| root.sub_with(p.clone())).collect();
        assert!(fakes
            .iter()
            .all(|f| f.cert.ski == leaf.aki && f.cert.subject == real.cert.subject));

        let t = std::time::Instant::now();
        for l in [&leaf, &ca_leaf] {
            let mut chain: Vec<&CertInfo> = vec![l];
            chain.extend(fakes.iter().map(|f| &f.cert));
            // webpki first (the CA leaf goes to the fallback).
            let v = server(&chain, &[&root.cert], None);
            assert!(matches!(v, Verdict::NoPath { .. }), "{v:?}");
            // The fallback alone: one signature check per look-alike.
            let (v, checks) = fallback_counted(&chain, &[&root.cert]);
            assert_no_path(&v, "bad signature: ");
            assert!(checks <= SIGNATURE_BUDGET, "{checks} signature checks");
            // With the real issuer first among them, found.
            chain.insert(1, &real.cert);
            assert_eq!(server(&chain, &[&root.cert], None), Verdict::Valid);
        }
        // With the real issuer after the 50 look-alikes, webpki spends its
        // 100 signature checks first (two per look-alike: the root's
        // signature on it, its signature on the leaf) and gives up, as a
        // rustls client would; Go stops at 100 checks too.
        let mut chain: Vec<&CertInfo> = vec![&leaf];
        chain.extend(fakes.iter().map(|f| &f.cert));
        chain.push(&real.cert);
        assert_no_path(
            &server(&chain, &[&root.cert], None),
            "path building gave up without finding a path (MaximumSignatureChecksExceeded)",
        );
        let el = t.elapsed();
        eprintln!("50 look-alike intermediates: 2 leaves x 3 runs in {el:?} (debug build)");
        assert!(el < Duration::from_secs(1), "{el:?}");
    }

    /// 50 self-issued intermediates of one name and one key: each verifies
    /// the leaf and every other, none reaches the bundle's (other-keyed)
    /// anchor of that name. Without a signature budget the search is
    /// exponential; with it, the answer is NoPath after 100 checks, as Go
    /// and webpki give up there too.
    #[test]
    fn mutually_issuing_intermediates_exhaust_the_signature_budget() {
        let key = KeyPair::generate().unwrap();
        let p = ca_params("Loop CA", 2020, 2040);
        let issuer = Issuer::from_params(&p, &key);
        let loops: Vec<CertInfo> = (0..50u8)
            .map(|i| {
                let mut q = p.clone();
                q.serial_number = Some(rcgen::SerialNumber::from_slice(&[1, i]));
                info(&q.signed_by(&key, &issuer).unwrap())
            })
            .collect();
        let leaf = info(
            &leaf_params("svc", &[], 2024, 2026)
                .signed_by(&KeyPair::generate().unwrap(), &issuer)
                .unwrap(),
        );
        // The bundle's "Loop CA" has another key.
        let other = Ca::root("Loop CA");
        let mut chain: Vec<&CertInfo> = vec![&leaf];
        chain.extend(loops.iter());

        let t = std::time::Instant::now();
        let (v, checks) = fallback_counted(&chain, &[&other.cert]);
        assert_no_path(&v, "path building gave up after 100 signature checks");
        assert_eq!(checks, SIGNATURE_BUDGET);
        let v = server(&chain, &[&other.cert], None);
        assert!(matches!(v, Verdict::NoPath { .. }), "{v:?}");
        let el = t.elapsed();
        eprintln!("50 mutually issuing intermediates: fallback + verify in {el:?} (debug build)");
        assert!(el < Duration::from_secs(1), "{el:?}");
    }

    #[test]
    fn unhandled_critical_extensions() {
        // x509-limbo `rfc5280::unknown-critical-extension-*`: Go refuses an
        // end entity or intermediate with a critical extension it does not
        // know; the anchor's extensions are not checked (as in webpki).
        let critical = |p: &mut CertificateParams| {
            let mut e = rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 55738, 666, 1],
                vec![0x05, 0x00],
            );
            e.set_criticality(true);
            p.custom_extensions.push(e);
        };
        let root = Ca::root("Root");
        let mut p = leaf_params("svc", &["svc.example.org"], 2024, 2026);
        critical(&mut p);
        let leaf = root.issue(p);
        assert_no_path(
            &server(&[&leaf], &[&root.cert], None),
            "unhandled critical extension 1.3.6.1.4.1.55738.666.1",
        );

        let mut p = ca_params("Inter", 2020, 2040);
        critical(&mut p);
        let inter = root.sub_with(p);
        let leaf = inter.leaf("svc", &["svc.example.org"]);
        assert_no_path(
            &server(&[&leaf, &inter.cert], &[&root.cert], None),
            "the intermediate CN=Inter (issuer of CN=svc) could not be used: it has an unhandled critical extension 1.3.6.1.4.1.55738.666.1",
        );
        // The fallback (a CA leaf goes there) refuses it too.
        let ca_leaf = inter.sub("ca-leaf");
        assert_no_path(
            &server(&[&ca_leaf.cert, &inter.cert], &[&root.cert], None),
            "the issuer CN=Inter has an unhandled critical extension 1.3.6.1.4.1.55738.666.1",
        );

        let mut p = ca_params("Odd Root", 2020, 2040);
        critical(&mut p);
        let odd = Ca::root_with(p);
        let leaf = odd.leaf("svc", &["svc.example.org"]);
        assert_eq!(server(&[&leaf], &[&odd.cert], None), Verdict::Valid);

        // Critical AKI/SKI/AIA: Go's parser refuses them ("incorrectly
        // marked critical"), webpki does not know them.
        let mut p = leaf_params("aia", &[], 2024, 2026);
        let mut e = rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 1],
            // SEQUENCE { SEQUENCE { caIssuers, [6] "x" } }
            vec![
                0x30, 0x0f, 0x30, 0x0d, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02,
                0x86, 0x01, b'x',
            ],
        );
        e.set_criticality(true);
        p.custom_extensions.push(e);
        let leaf = root.issue(p);
        assert_no_path(
            &server(&[&leaf], &[&root.cert], None),
            "unhandled critical extension 1.3.6.1.5.5.7.1.1",
        );
    }

    #[test]
    fn rsa_issuers() {
        // RSA-1024 issuer: ring refuses the key, webpki says "bad signature";
        // undecidable here (Go would verify it): Unknown.
        let p = ca_params("Weak CA", 2020, 2040);
        let weak = info(&p.self_signed(&FakeRsa::new(1024)).unwrap());
        let issuer = Issuer::new(p, FakeRsa::new(1024));
        let leaf = info(
            &leaf_params("svc", &[], 2024, 2026)
                .signed_by(&KeyPair::generate().unwrap(), &issuer)
                .unwrap(),
        );
        let v = server(&[&leaf], &[&weak], None);
        assert!(
            matches!(&v, Verdict::Unknown { reason } if reason.contains("1024 bits")),
            "{v:?}"
        );
        // RSA-2048 issuer with a signature that does not verify.
        let p = ca_params("Fake CA", 2020, 2040);
        let fake = info(&p.self_signed(&FakeRsa::new(2048)).unwrap());
        let issuer = Issuer::new(p, FakeRsa::new(2048));
        let leaf = info(
            &leaf_params("svc", &[], 2024, 2026)
                .signed_by(&KeyPair::generate().unwrap(), &issuer)
                .unwrap(),
        );
        assert_no_path(
            &server(&[&leaf], &[&fake], None),
            "bad signature: CN=svc names issuer CN=Fake CA",
        );
    }

    /// Minimal test-only PEM reading: every CERTIFICATE block.
    fn pem_certs(text: &str) -> Vec<CertInfo> {
        use base64::Engine as _;
        let mut out = Vec::new();
        let mut body: Option<String> = None;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("-----BEGIN CERTIFICATE-----") {
                body = Some(String::new());
            } else if line.starts_with("-----END") {
                if let Some(b) = body.take() {
                    let der = base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .expect("base64");
                    out.push(x509::parse(&der).expect("parse"));
                }
            } else if let Some(b) = body.as_mut() {
                b.push_str(line);
            }
        }
        out
    }

    fn wikimedia(rel: &str) -> Option<Vec<CertInfo>> {
        let dir = format!("{CORPUS}/wikimedia/operations-puppet/modules/profile/files/pki");
        let text = std::fs::read_to_string(format!("{dir}/{rel}")).ok()?;
        Some(pem_certs(&text))
    }

    #[test]
    fn real_p521_wikimedia_discovery() {
        let (Some(leaf), Some(root)) = (
            wikimedia("intermediates/discovery-cert.pem"),
            wikimedia("ROOT/Wikimedia_Internal_Root_CA.pem"),
        ) else {
            eprintln!("skipping: corpus missing");
            return;
        };
        let (Some(leaf), Some(root)) = (leaf.first(), root.first()) else {
            panic!("no certificate in the corpus files");
        };
        assert_eq!(leaf.key.to_string(), "EC P-521");
        assert!(leaf.is_ca);
        let run = |now| verify(&[leaf], &[root], now, Usage::ServerAuth, None);
        let t = std::time::Instant::now();
        assert_eq!(run(Y2025), Verdict::Valid);
        eprintln!("P-521 chain verified in {:?} (debug build)", t.elapsed());
        // 2027-01-01: expired (notAfter 2026-05-03).
        assert_eq!(
            run(1_798_761_600),
            Verdict::Expired {
                fingerprint: leaf.fingerprint.clone(),
                not_after: leaf.not_after
            }
        );
        // 2020-01-01: not yet valid (notBefore 2021-05-04).
        assert!(matches!(run(1_577_836_800), Verdict::NotYetValid { .. }));
        // Client auth: no EKU on the CA, allowed.
        assert_eq!(
            verify(&[leaf], &[root], Y2025, Usage::ClientAuth, None),
            Verdict::Valid
        );
        // Wrong bundle.
        let other = Ca::root("Other");
        assert_no_path(
            &verify(&[leaf], &[&other.cert], Y2025, Usage::ServerAuth, None),
            "unknown issuer: no anchor in the bundle issued CN=discovery",
        );
        // Every intermediate of the directory builds to the root in 2025
        // (valid, or outside its own validity), never NoPath.
        let dir =
            format!("{CORPUS}/wikimedia/operations-puppet/modules/profile/files/pki/intermediates");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            for c in pem_certs(&text) {
                let v = verify(&[&c], &[root], Y2025, Usage::ServerAuth, None);
                assert!(
                    !matches!(v, Verdict::NoPath { .. } | Verdict::Unknown { .. }),
                    "{:?}: {v:?}",
                    entry.path()
                );
                n += 1;
            }
        }
        eprintln!("{n} Wikimedia intermediates verified");
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let root = Ca::root("Root");
        let inter = root.sub("Inter");
        let leaf = inter.leaf("svc", &["svc.example.org", "10.1.2.3"]);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let bases = [&leaf, &inter.cert, &root.cert];
        let mut parsed = 0;
        for round in 0..300 {
            let which = round % 3;
            let mut d = bases[which].der.to_vec();
            for _ in 0..(rnd() % 3 + 1) {
                let i = (rnd() as usize) % d.len();
                d[i] = rnd() as u8;
            }
            let Ok(m) = x509::parse(&d) else {
                continue;
            };
            parsed += 1;
            let mut chain = vec![&leaf, &inter.cert];
            let mut anchors = vec![&root.cert];
            match which {
                0 => chain[0] = &m,
                1 => chain[1] = &m,
                _ => anchors[0] = &m,
            }
            for usage in [Usage::ServerAuth, Usage::ClientAuth] {
                for name in [None, Some("svc.example.org"), Some("10.1.2.3")] {
                    let _ = verify(&chain, &anchors, Y2025, usage, name);
                }
            }
            let _ = verify(&[&m], &[&m], Y2025, Usage::ServerAuth, Some("x"));
            let _ = verify(
                &[&m, &m],
                &[&m, &root.cert],
                i64::MIN,
                Usage::ServerAuth,
                None,
            );
            let _ = verify(&[&m], &[&root.cert], i64::MAX, Usage::ClientAuth, None);
        }
        assert!(parsed > 50, "only {parsed} mutants parsed");
    }

    #[test]
    fn throughput() {
        let root = Ca::root("Root");
        let inter = root.sub("Inter");
        let leaves: Vec<CertInfo> = (0..20)
            .map(|i| inter.leaf(&format!("svc{i}"), &[&format!("svc{i}.example.org")]))
            .collect();
        let others: Vec<Ca> = (0..100).map(|i| Ca::root(&format!("Other {i}"))).collect();
        let mut anchors: Vec<&CertInfo> = others.iter().map(|c| &c.cert).collect();
        anchors.push(&root.cert);
        let n = 2_000;
        let t = std::time::Instant::now();
        for i in 0..n {
            let leaf = &leaves[i % leaves.len()];
            let name = format!("svc{}.example.org", i % leaves.len());
            assert_eq!(
                verify(
                    &[leaf, &inter.cert],
                    &anchors,
                    Y2025,
                    Usage::ServerAuth,
                    Some(&name)
                ),
                Verdict::Valid
            );
        }
        let el = t.elapsed();
        eprintln!(
            "verify: {n} valid chains against 101 anchors in {el:?} ({:?} each, debug build)",
            el / n as u32
        );
        let wrong: Vec<&CertInfo> = others.iter().map(|c| &c.cert).collect();
        let t = std::time::Instant::now();
        for i in 0..n {
            let leaf = &leaves[i % leaves.len()];
            assert!(matches!(
                verify(&[leaf, &inter.cert], &wrong, Y2025, Usage::ServerAuth, None),
                Verdict::NoPath { .. }
            ));
        }
        eprintln!("verify: {n} unknown-issuer chains in {:?}", t.elapsed());
    }
}
