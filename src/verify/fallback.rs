//! The fallback path builder: a Go-like depth-first search over
//! [`x509::issued_by`], for what webpki refuses but Go accepts (see the
//! module docs of [`crate::verify`]), within its budgets.
//!
//! Each check cites the RFC 5280 section it implements, or says where it
//! follows Go or webpki instead. Not checked here: nameConstraints
//! (§4.2.1.10, §6.1.4 (g)), certificate policies (§6.1.3 (d)-(f)), keyUsage
//! keyCertSign (§4.2.1.3, §6.1.4 (n); Go ignores key usage when building
//! chains too), revocation (§6.1.3 (a)(3)).

use std::collections::HashMap;

use x509_parser::asn1_rs::FromDer;
use x509_parser::certificate::X509Certificate;

use super::eku::{eku_check, eku_refusal};
use super::webpki::{anchor_parse_error, Prepared};
use super::{not_a_ca, time_verdict, Verdict, Verifier, MAX_DEPTH, SIGNATURE_BUDGET};
use crate::x509::{self, CertInfo, HashAlg, Issuance};

/// DFS steps the fallback builder may take per call.
const FALLBACK_STEPS: usize = 2_000;

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

/// The first critical extension of `c` that Go does not handle (RFC 5280
/// §4.2: a critical extension the verifier does not recognise makes it
/// reject the certificate; "recognise" is Go's list above, which holds
/// extensions this builder does not process itself, e.g. nameConstraints).
pub(super) fn unhandled_critical_extension(c: &CertInfo) -> Option<String> {
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
pub(super) struct Fallback<'v, 'a> {
    v: &'v Verifier<'a>,
    /// Anchors webpki can parse; the others are skipped here too.
    usable_anchor: Vec<bool>,
    memo: HashMap<(usize, usize), Issuance>,
    eku_memo: HashMap<usize, Result<(), String>>,
    critical_memo: HashMap<usize, Option<String>>,
    steps: usize,
    /// Signature checks left (see [`SIGNATURE_BUDGET`]).
    pub(super) signatures: usize,
    /// A budget (steps or signature checks) ran out: stop.
    exhausted: bool,
    first_complete: Option<Vec<usize>>,
    valid: bool,
    problem: Option<(u8, Verdict)>,
}

impl<'v, 'a> Fallback<'v, 'a> {
    /// A builder for one call of [`super::verify`], with full budgets.
    pub(super) fn new(v: &'v Verifier<'a>) -> Self {
        let usable_anchor = v
            .anchors
            .iter()
            .map(|a| anchor_parse_error(a).is_none())
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

    /// [`Self::note`] of a refusal.
    fn note_no_path(&mut self, rank: u8, reason: String) {
        self.note(rank, Verdict::NoPath { reason });
    }

    fn anchor_usable(&self, j: usize) -> bool {
        self.usable_anchor.get(j).copied().unwrap_or(false)
    }

    /// [`x509::issued_by`], memoised, counting signature checks: when the
    /// budget is spent, sets `exhausted` and answers `NameMismatch`
    /// (callers stop on `exhausted`).
    ///
    /// RFC 5280 §6.1.3 (a)(4) and (a)(1): the issuer name is the candidate's
    /// subject, and the signature verifies with its key. Looser than the
    /// RFC, webpki and Go (byte-equal names): the names may differ in case
    /// and whitespace (as §7.1 allows), and an authorityKeyIdentifier equal
    /// to the candidate's subjectKeyIdentifier (§4.2.1.1) decides alone.
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

    /// [`eku_check`] of node `k`, memoised.
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

    /// The refusal for the EKU `present` of node `k`.
    fn eku_reason(&self, k: usize, present: &str) -> Verdict {
        let issuer = self
            .node(k)
            .filter(|c| k != 0 && c.fingerprint != self.v.leaf.fingerprint);
        Verdict::NoPath {
            reason: eku_refusal(self.v.usage, issuer, present),
        }
    }

    /// The first certificate of `path` (chain indices) out of validity at
    /// `now`, as a verdict.
    fn time_verdict(&self, path: &[usize]) -> Option<Verdict> {
        let infos: Vec<&CertInfo> = path.iter().filter_map(|&k| self.node(k)).collect();
        time_verdict(&infos, self.v.now)
    }

    /// The verdict: a path valid at `now`, else the first path built (out
    /// of validity), else the highest-ranked problem met.
    pub(super) fn run(&mut self) -> Verdict {
        let leaf = self.v.leaf;
        // RFC 5280 §4.2 and §6.1.5 (f): the end entity's critical
        // extensions (as Go: its list of handled ones).
        if let Some(oid) = unhandled_critical_extension(leaf) {
            return Verdict::NoPath {
                reason: format!("the certificate has an unhandled critical extension {oid}"),
            };
        }
        // RFC 5280 §4.2.1.12: the end entity's extended key usage.
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
            return self.time_verdict(path).unwrap_or(Verdict::Valid);
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
        // The EKU of every issuer, the anchor included: Go's rule (EKU
        // nesting), not RFC 5280's, whose §4.2.1.12 speaks of the end entity.
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
        // RFC 5280 §6.1.3 (a)(2), §4.1.2.5: every certificate of the path
        // but the anchor is valid at `now`. The anchor's validity is not
        // checked, as in webpki (a trust anchor has none, §6.1.1 (d)); Go
        // checks it.
        if self.time_verdict(path).is_none() {
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
        // RFC 5280 §4.1.2.5: a validity period that contains no time.
        if c.not_before > c.not_after {
            self.note_no_path(
                RANK_BAD_VALIDITY,
                format!("{} has notBefore after notAfter", c.subject),
            );
            return false;
        }
        // Not an RFC 5280 rule: signature algorithms Go and webpki refuse.
        if refused_signature(c) {
            self.note_no_path(
                RANK_WEAK_HASH,
                format!(
                    "{} is signed with {}, which Go and webpki refuse",
                    c.subject, c.signature
                ),
            );
            return false;
        }
        let n = self.v.chain.len();
        // An anchor that issued `cur` ends the path (RFC 5280 §6.1.1 (d):
        // the anchor is an input of the algorithm, not a certificate of
        // the path; its basicConstraints, pathLenConstraint and critical
        // extensions are not checked, as in webpki).
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
            // Not an RFC 5280 rule: no certificate twice in a path (a loop).
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
                    // RFC 5280 §4.2 and §6.1.4 (o): an intermediate's
                    // critical extensions (as Go: its list of handled ones);
                    // webpki cannot even parse such an intermediate.
                    if let Some(oid) = self.unhandled_critical(i) {
                        self.note_no_path(
                            RANK_CRITICAL_EXTENSION,
                            format!(
                                "the issuer {} has an unhandled critical extension {oid}",
                                cand.subject
                            ),
                        );
                        continue;
                    }
                    // RFC 5280 §6.1.4 (k), §4.2.1.9: an intermediate has
                    // basicConstraints cA TRUE.
                    if !cand.is_ca {
                        self.note_no_path(RANK_NOT_CA, not_a_ca(cand));
                        continue;
                    }
                    // RFC 5280 §4.2.1.9, §6.1.4 (l)-(m): pathLenConstraint,
                    // the intermediates that would sit below `cand`. All of
                    // them count, as in Go; the RFC does not count
                    // self-issued ones.
                    let below = path.len().saturating_sub(1);
                    if cand
                        .path_len
                        .is_some_and(|len| usize::try_from(len).is_ok_and(|len| below > len))
                    {
                        self.note_no_path(
                            RANK_PATH_LEN,
                            format!("path length constraint of {} violated", cand.subject),
                        );
                        continue;
                    }
                    // Not an RFC 5280 rule: a bound on the depth, as
                    // webpki has one.
                    if path.len() >= MAX_DEPTH {
                        self.note_no_path(
                            RANK_TOO_DEEP,
                            format!(
                                "the path to an anchor is too long (more than {MAX_DEPTH} certificates)"
                            ),
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
