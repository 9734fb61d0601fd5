//! Go's `crypto/x509` refusals that the verifier cannot decide itself:
//! keys Go's certificate parser does not take, so that a chain through
//! such a certificate never builds for a Go client (kube-apiserver calling
//! a webhook, etcd, the other Kubernetes components).
//!
//! In: the chain and the trust bundle of a [`Verdict::Unknown`]
//! (`super::Verdict::Unknown`). Out: why Go refuses it, naming the
//! certificate, or `None` when no modelled refusal applies.
//!
//! What is modelled (Go's `parsePublicKey` and `crypto/rsa`):
//!
//! * an ECDSA key on a curve other than P-224, P-256, P-384, P-521
//!   (`x509: unsupported elliptic curve`: P-192, secp256k1, brainpool);
//! * an ECDSA key with explicit curve parameters instead of a named curve
//!   (`x509: invalid ECDSA parameters`);
//! * an RSA key under 1024 bits (`crypto/rsa: 1024-bit minimum`, the
//!   `rsa1024min` default since Go 1.24).
//!
//! Go's `CertPool` leaves out a trusted certificate it cannot parse, and
//! an intermediate it cannot parse is never a candidate, so a path through
//! one does not exist for Go; an end entity it cannot parse fails the
//! handshake outright.

use crate::x509::{CertInfo, KeyKind};

/// The curves Go's `crypto/x509` parses.
const GO_CURVES: &[&str] = &["P-224", "P-256", "P-384", "P-521"];

/// Smallest RSA modulus Go accepts (`rsa1024min`).
const GO_RSA_MIN_BITS: u32 = 1024;

/// Why Go's certificate parser refuses `cert`'s key, if it does.
pub fn key_refusal(cert: &CertInfo) -> Option<String> {
    let key = &cert.key;
    match key.kind {
        KeyKind::Ec => match key.curve.as_deref() {
            None => Some(
                "its EC key has explicit curve parameters instead of a named curve (Go: invalid ECDSA parameters)"
                    .to_string(),
            ),
            Some(c) if !GO_CURVES.contains(&c) => Some(format!(
                "its EC key is on {c}, a curve Go does not support (Go supports P-224, P-256, P-384, P-521)"
            )),
            Some(_) => None,
        },
        KeyKind::Rsa => match key.bits {
            Some(b) if b < GO_RSA_MIN_BITS => Some(format!(
                "its RSA key has {b} bits; Go refuses RSA keys under {GO_RSA_MIN_BITS} bits"
            )),
            _ => None,
        },
        _ => None,
    }
}

/// Why a Go client refuses the chain `chain` (end entity first, then
/// candidate intermediates) against `anchors`, when the refusal is one
/// this module models: the end entity's own key, or the key of an anchor
/// or intermediate whose subject is the issuer named by a certificate of
/// the chain. Anchors come first in the message, as the bundle is what a
/// reader can change.
pub fn refusal(chain: &[&CertInfo], anchors: &[&CertInfo]) -> Option<String> {
    let leaf = chain.first()?;
    if let Some(why) = key_refusal(leaf) {
        return Some(format!("the end entity {}: {why}", leaf.subject));
    }
    let issuers: Vec<&str> = chain.iter().map(|c| c.issuer.as_str()).collect();
    let named = |c: &&&CertInfo| issuers.contains(&c.subject.as_str());
    let mut reasons: Vec<String> = Vec::new();
    for (role, certs) in [
        ("anchor", anchors),
        ("intermediate", chain.get(1..).unwrap_or_default()),
    ] {
        for c in certs.iter().filter(named) {
            if let Some(why) = key_refusal(c) {
                let r = format!("the {role} {}: {why}", c.subject);
                if !reasons.contains(&r) {
                    reasons.push(r);
                }
            }
        }
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The Go program that is the client of a trust reference, when certdrift
/// knows it is one, so that Go's refusals are its refusals: the Kubernetes
/// components and etcd (by their policy role), and kube-apiserver for the
/// objects it calls out from: admission webhooks, APIServices and
/// conversion webhooks of CRDs (by the trusting object's `kind`), whether
/// their CA is a `caBundle` or what cert-manager's CA injector writes there.
pub fn go_client(role: Option<&str>, kind: &str) -> Option<String> {
    const GO_ROLES: &[&str] = &[
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "metrics-server",
    ];
    const CALLED_BY_THE_API_SERVER: &[&str] = &[
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "CustomResourceDefinition",
    ];
    if CALLED_BY_THE_API_SERVER.contains(&kind) {
        return Some("kube-apiserver (which calls it)".to_string());
    }
    role.filter(|r| GO_ROLES.contains(r)).map(str::to_string)
}

/// Extensions Go's parser handles (`processExtensions`): a critical
/// extension outside this list is unhandled, and Go refuses a certificate
/// with one anywhere in the chain, the root included (`isValid`).
const GO_HANDLED: &[&str] = &[
    "2.5.29.14",         // subjectKeyIdentifier
    "2.5.29.15",         // keyUsage
    "2.5.29.17",         // subjectAltName
    "2.5.29.19",         // basicConstraints
    "2.5.29.30",         // nameConstraints
    "2.5.29.31",         // cRLDistributionPoints
    "2.5.29.32",         // certificatePolicies
    "2.5.29.33",         // policyMappings
    "2.5.29.35",         // authorityKeyIdentifier
    "2.5.29.36",         // policyConstraints
    "2.5.29.37",         // extKeyUsage
    "2.5.29.54",         // inhibitAnyPolicy
    "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
];

/// One DER element at the start of `input`: tag, contents, rest. `None`
/// when it does not fit.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Go's `authorityInfoAccess` parse: a SEQUENCE of SEQUENCEs that each
/// start with an OID.
fn aia_parses(value: &[u8]) -> bool {
    let Some((0x30, mut items, _)) = tlv(value) else {
        return false;
    };
    while !items.is_empty() {
        match tlv(items) {
            Some((0x30, inner, rest)) if matches!(tlv(inner), Some((0x06, _, _))) => items = rest,
            _ => return false,
        }
    }
    true
}

/// Go's `nameConstraints` parse: a SEQUENCE of an optional `[0]` and an
/// optional `[1]` (both constructed) and nothing else, with at least one
/// of them present and not empty.
fn name_constraints_refusal(value: &[u8]) -> Option<&'static str> {
    let Some((0x30, mut top, rest)) = tlv(value) else {
        return Some("its nameConstraints extension does not parse");
    };
    if !rest.is_empty() {
        return Some("its nameConstraints extension does not parse");
    }
    let mut subtrees: Vec<&[u8]> = Vec::new();
    for tag in [0xa0, 0xa1] {
        if let Some((t, inner, rest)) = tlv(top) {
            if t == tag {
                subtrees.push(inner);
                top = rest;
            }
        }
    }
    if !top.is_empty() {
        return Some("its nameConstraints extension does not parse");
    }
    if subtrees.iter().all(|s| s.is_empty()) {
        return Some("its nameConstraints extension has neither permitted nor excluded subtrees (Go: empty name constraints extension)");
    }
    None
}

/// Why Go's `ParseCertificate` refuses `cert` for its extensions: a
/// critical authorityKeyIdentifier, subjectKeyIdentifier or
/// authorityInfoAccess ("incorrectly marked critical"), an
/// authorityInfoAccess that does not parse, an empty or malformed
/// nameConstraints. Go leaves such a trusted or intermediate certificate
/// out, and fails on such an end entity. (Keys: [`key_refusal`].)
pub fn parse_refusal(cert: &CertInfo) -> Option<String> {
    cert.go_parse_refusal
        .get_or_init(|| find_parse_refusal(cert))
        .clone()
}

/// [`parse_refusal`], parsing the certificate's DER.
fn find_parse_refusal(cert: &CertInfo) -> Option<String> {
    use x509_parser::prelude::FromDer;
    let (_, c) = x509_parser::certificate::X509Certificate::from_der(&cert.der).ok()?;
    for ext in c.extensions() {
        let oid = ext.oid.to_id_string();
        let why = match oid.as_str() {
            "2.5.29.35" if ext.critical => {
                "its authorityKeyIdentifier is marked critical (Go: incorrectly marked critical)"
            }
            "2.5.29.14" if ext.critical => {
                "its subjectKeyIdentifier is marked critical (Go: incorrectly marked critical)"
            }
            "1.3.6.1.5.5.7.1.1" if ext.critical => {
                "its authorityInfoAccess is marked critical (Go: incorrectly marked critical)"
            }
            "1.3.6.1.5.5.7.1.1" if !aia_parses(ext.value) => {
                "its authorityInfoAccess extension does not parse (Go: invalid authority info access)"
            }
            "2.5.29.30" => match name_constraints_refusal(ext.value) {
                Some(why) => why,
                None => continue,
            },
            _ => continue,
        };
        return Some(why.to_string());
    }
    None
}

/// Why Go refuses `anchor` as the root of a path it issued (`isValid` on
/// the root): a critical extension Go does not handle, or no
/// basicConstraints CA:TRUE. (An anchor that is the end entity itself is
/// not checked so: Go accepts it as a chain of one.)
pub fn root_refusal(anchor: &CertInfo) -> Option<String> {
    use x509_parser::prelude::FromDer;
    if let Ok((_, c)) = x509_parser::certificate::X509Certificate::from_der(&anchor.der) {
        if let Some(ext) = c
            .extensions()
            .iter()
            .find(|e| e.critical && !GO_HANDLED.contains(&e.oid.to_id_string().as_str()))
        {
            return Some(format!(
                "it has a critical extension Go does not handle ({})",
                ext.oid.to_id_string()
            ));
        }
    }
    (!anchor.is_ca).then(|| {
        "it is not a CA (basicConstraints CA:TRUE missing); Go's roots must be CAs to issue"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_reads_short_and_long_lengths_and_refuses_overruns() {
        assert_eq!(
            tlv(&[0x30, 0x01, 0x05, 0xff]),
            Some((0x30, &[0x05][..], &[0xff][..]))
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        assert_eq!(
            tlv(&long).map(|(t, c, r)| (t, c.len(), r.len())),
            Some((0x04, 0x80, 0))
        );
        assert_eq!(tlv(&[0x30, 0x02, 0x05]), None);
        assert_eq!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(tlv(&[0x30]), None);
        assert_eq!(tlv(&[]), None);
    }

    #[test]
    fn name_constraints_as_go_parses_them() {
        // permitted [0] { SEQUENCE { dNSName "a" } }
        let permitted = [0x30, 0x07, 0xa0, 0x05, 0x30, 0x03, 0x82, 0x01, b'a'];
        assert_eq!(name_constraints_refusal(&permitted), None);
        // Both subtrees present and empty; neither present.
        let both_empty = [0x30, 0x04, 0xa0, 0x00, 0xa1, 0x00];
        assert!(name_constraints_refusal(&both_empty)
            .unwrap()
            .contains("neither permitted nor excluded"));
        assert!(name_constraints_refusal(&[0x30, 0x00])
            .unwrap()
            .contains("neither permitted nor excluded"));
        // [0] and [1] as ASN.1 NULLs (primitive tags): does not parse.
        let nulls = [0x30, 0x04, 0x80, 0x00, 0x81, 0x00];
        assert!(name_constraints_refusal(&nulls)
            .unwrap()
            .contains("does not parse"));
        // Trailing bytes after the SEQUENCE.
        let mut trailing = permitted.to_vec();
        trailing.push(0);
        assert!(name_constraints_refusal(&trailing).is_some());
    }

    #[test]
    fn authority_info_access_as_go_parses_it() {
        // SEQUENCE { SEQUENCE { caIssuers, [6] "x" } }
        let good = [
            0x30, 0x0f, 0x30, 0x0d, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02,
            0x86, 0x01, b'x',
        ];
        assert!(aia_parses(&good));
        // An empty SEQUENCE parses in Go (no access descriptions).
        assert!(aia_parses(&[0x30, 0x00]));
        assert!(!aia_parses(b"malformed"));
        // An access description that does not start with an OID.
        assert!(!aia_parses(&[0x30, 0x04, 0x30, 0x02, 0x05, 0x00]));
    }

    #[test]
    fn go_clients() {
        for kind in [
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
            "APIService",
            "CustomResourceDefinition",
        ] {
            assert_eq!(
                go_client(None, kind).as_deref(),
                Some("kube-apiserver (which calls it)"),
                "{kind}"
            );
        }
        assert_eq!(go_client(Some("etcd"), "Pod").as_deref(), Some("etcd"));
        assert_eq!(go_client(None, "ConfigMap"), None);
        assert_eq!(go_client(Some("nginx"), "Deployment"), None);
    }
}
