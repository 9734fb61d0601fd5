//! End-to-end tests of [`verify`] (both engines, names, budgets), on
//! certificates made with rcgen and on the shared corpus.

use std::time::Duration;

use super::fallback::Fallback;
use super::*;
use crate::x509;
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
fn expired_anchor_is_expired_as_go_says() {
    // Go checks the root's validity too (webpki does not): a chain that
    // builds only through an expired anchor is that anchor's Expired.
    let root = Ca::root_with(ca_params("Old Root", 2010, 2020));
    let leaf = root.leaf("svc", &[]);
    assert_eq!(
        server(&[&leaf], &[&root.cert], None),
        Verdict::Expired {
            fingerprint: root.cert.fingerprint.clone(),
            not_after: root.cert.not_after
        }
    );
    // Another anchor that builds the chain at `now` makes it valid.
    let current = Ca::root("Current Root");
    let leaf2 = current.leaf("svc", &[]);
    assert_eq!(
        server(&[&leaf2], &[&root.cert, &current.cert], None),
        Verdict::Valid
    );
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
    // Go checks the root's critical extensions too (webpki does not).
    assert_no_path(
        &server(&[&leaf], &[&odd.cert], None),
        "Go refuses the anchor CN=Odd Root: it has a critical extension Go does not handle (1.3.6.1.4.1.55738.666.1)",
    );

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
        "Go's crypto/x509 cannot parse the certificate: its authorityInfoAccess is marked critical",
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

/// A root and an intermediate with keyUsage (rcgen writes an SKI), and a
/// leaf with an AKI: the profile a strict client wants.
fn strict_conformant_ca(cn: &str) -> CertificateParams {
    let mut p = ca_params(cn, 2020, 2040);
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    p
}

#[test]
fn strict_profile_names_the_certificate_of_the_path_a_strict_client_refuses() {
    let root = Ca::root_with(strict_conformant_ca("Root"));
    let mut lp = leaf_params("svc", &["svc.example.org"], 2024, 2026);
    lp.use_authority_key_identifier_extension = true;
    let mut ip = strict_conformant_ca("Issuing CA");
    ip.use_authority_key_identifier_extension = true;
    let good = root.sub_with(ip.clone());
    let leaf = good.issue(lp.clone());
    assert_eq!(
        server(&[&leaf, &good.cert], &[&root.cert], None),
        Verdict::Valid
    );
    assert_eq!(
        strict::refusal(&[&leaf, &good.cert], &[&root.cert], Y2025),
        None
    );

    // The same intermediate without keyUsage: Go accepts, a strict client
    // refuses the intermediate, and says why.
    ip.key_usages.clear();
    let bare = root.sub_with(ip);
    let leaf = bare.issue(lp.clone());
    assert_eq!(
        server(&[&leaf, &bare.cert], &[&root.cert], None),
        Verdict::Valid
    );
    let r = strict::refusal(&[&leaf, &bare.cert], &[&root.cert], Y2025).unwrap();
    assert_eq!(
        (r.role, &r.fingerprint),
        ("intermediate", &bare.cert.fingerprint)
    );
    assert_eq!(r.reasons, ["it is a CA without a keyUsage extension"]);

    // A leaf without an AKI, under the conformant intermediate; and the
    // anchor needs none (it is the path's last).
    lp.use_authority_key_identifier_extension = false;
    let no_aki = good.issue(lp);
    let r = strict::refusal(&[&no_aki, &good.cert], &[&root.cert], Y2025).unwrap();
    assert_eq!(r.role, "end entity");
    assert_eq!(
        r.reasons,
        ["it has no authorityKeyIdentifier key identifier"]
    );

    // A chain of one (the leaf is itself trusted): OpenSSL checks nothing.
    assert_eq!(strict::refusal(&[&no_aki], &[&no_aki], Y2025), None);
}

/// Behind 150 look-alikes of its issuer (same name and key identifier,
/// other keys), the strict path search spends its signature budget (100,
/// as the verifier's) and gives no answer, instead of trying every one; in
/// front of them, the refused intermediate is found.
#[test]
fn strict_path_search_is_bounded() {
    let root = Ca::root_with(strict_conformant_ca("Root"));
    let mut ip = strict_conformant_ca("Issuing CA");
    ip.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![0x1d; 20]);
    let fakes: Vec<CertInfo> = (0..150).map(|_| root.sub_with(ip.clone()).cert).collect();
    ip.key_usages.clear();
    let real = root.sub_with(ip);
    let mut lp = leaf_params("svc", &["svc.example.org"], 2024, 2026);
    lp.use_authority_key_identifier_extension = true;
    let leaf = real.issue(lp);
    let behind: Vec<&CertInfo> = std::iter::once(&leaf)
        .chain(&fakes)
        .chain(std::iter::once(&real.cert))
        .collect();
    assert_eq!(strict::refusal(&behind, &[&root.cert], Y2025), None);
    let in_front: Vec<&CertInfo> = [&leaf, &real.cert].into_iter().chain(&fakes).collect();
    let r = strict::refusal(&in_front, &[&root.cert], Y2025).unwrap();
    assert_eq!(r.fingerprint, real.cert.fingerprint);
}
