//! The primary engine: rustls-webpki's `verify_for_usage`, the time retry
//! after a validity error, and webpki's errors mapped to verdicts with a
//! reason (found by walking the chain by issuer names).

use std::time::Duration;

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, Error, VerifiedPath};

use super::eku::{eku_check, eku_error, eku_refusal, GoEku};
use super::fallback::unhandled_critical_extension;
use super::{not_a_ca, time_verdict, Verdict, Verifier, MAX_DEPTH, SIGNATURE_BUDGET};
use crate::x509::{self, CertInfo, HashAlg, Issuance, KeyKind};

/// Rounds of "verify again at another time" after a time error.
const TIME_ROUNDS: usize = 6;

/// What webpki could not use, for reasons and for deciding on the fallback.
pub(super) struct Prepared<'a> {
    /// Intermediates webpki cannot parse (dropped: they would only replace
    /// "unknown issuer" by a parse error of an unrelated certificate).
    pub(super) dropped_intermediates: Vec<(&'a CertInfo, Error)>,
    /// Some certificate involved uses a key or signature algorithm webpki
    /// with ring cannot verify.
    pub(super) algorithm_limited: bool,
}

impl Prepared<'_> {
    /// Whether webpki could not use some certificate involved.
    pub(super) fn limited(&self) -> bool {
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
    /// The verdict: webpki's, or the fallback's where webpki refuses what
    /// Go accepts (see [`Verifier::on_error`]).
    pub(super) fn run(&self) -> Verdict {
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

    /// webpki's error as a verdict with a human reason.
    pub(super) fn describe(&self, e: &Error, prepared: &Prepared<'_>) -> Verdict {
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

    pub(super) fn unknown_issuer_reason(&self, prepared: &Prepared<'_>) -> String {
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
        // Stops at the first anchor webpki can parse.
        let all_unparsable = self.anchors.iter().all(|a| anchor_parse_error(a).is_some());
        let named_unparsable = || {
            self.anchors
                .iter()
                .filter(|a| a.subject == top.issuer)
                .find_map(|a| anchor_parse_error(a).map(|e| (a, e)))
        };
        if let (true, Some(e)) = (
            all_unparsable,
            self.anchors.first().and_then(|a| anchor_parse_error(a)),
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
                return eku_refusal(self.usage, (i != 0).then_some(c), &present);
            }
        }
        format!("certificate is not valid for {u} (extended key usage)")
    }

    fn not_ca_reason(&self) -> String {
        let walk = self.name_walk();
        match walk.iter().skip(1).find(|c| !c.is_ca) {
            Some(c) => not_a_ca(c),
            None => {
                "an issuer in the chain is not a CA (basicConstraints CA:TRUE missing)".to_string()
            }
        }
    }
}

/// webpki errors for DER that its parser (and Go's) refuses.
pub(super) fn is_malformed(e: &Error) -> bool {
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

/// Why webpki cannot take `a` as a trust anchor (`None`: it can). Both
/// engines skip such anchors.
pub(super) fn anchor_parse_error(a: &CertInfo) -> Option<Error> {
    webpki::anchor_from_trusted_cert(&CertificateDer::from(&*a.der)).err()
}
