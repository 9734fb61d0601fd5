//! Hostile certificate DER through certdrift's parser (`x509::parse`) and
//! chain decision (`verify::verify`, the one `trust-mismatch` uses):
//! zero-length input, trailing bytes, BER encodings (indefinite and
//! non-minimal lengths), negative / zero / 21-byte serials, unknown critical
//! extensions. Each is parsed or cleanly refused — never a panic, never read
//! as trusted by accident — and a parsed certificate's fingerprint is the
//! SHA-256 of the bytes exactly as given (not of a re-encoding), so the same
//! file always gets the same identity in the inventory.
//!
//! Certificates are generated with rcgen; the hostile variants are made by
//! editing the DER and, where the change is inside the signed part,
//! re-signing it with the issuer's real key, so that only the property
//! under test is wrong.

use certdrift::verify::{self, Usage, Verdict};
use certdrift::x509::{self, CertInfo, X509Error};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, SigningKey,
};

/// 2025-01-01T00:00:00Z.
const Y2025: i64 = 1_735_689_600;

struct Root {
    params: CertificateParams,
    key: KeyPair,
    cert: CertInfo,
}

fn root() -> Root {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Hostile Root");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2040, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = x509::parse(params.self_signed(&key).unwrap().der()).unwrap();
    Root { params, key, cert }
}

/// A leaf for `svc.example.org` issued by `root`, as DER.
fn leaf_der(root: &Root, edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let mut p = CertificateParams::new(vec!["svc.example.org".to_string()]).unwrap();
    p.not_before = date_time_ymd(2024, 1, 1);
    p.not_after = date_time_ymd(2026, 1, 1);
    edit(&mut p);
    let issuer = Issuer::from_params(&root.params, &root.key);
    p.signed_by(&KeyPair::generate().unwrap(), &issuer)
        .unwrap()
        .der()
        .to_vec()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().try_into().unwrap()
}

/// Parses `der` twice: same result, and (when it parses) the fingerprint
/// is the SHA-256 of `der` itself and the certificate keeps `der` as is.
fn parse_stable(der: &[u8]) -> Result<CertInfo, X509Error> {
    let first = x509::parse(der);
    let second = x509::parse(der);
    match (&first, &second) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.fingerprint, b.fingerprint);
            assert_eq!(
                a.fingerprint.0,
                sha256(der),
                "fingerprint of the bytes as given"
            );
            assert_eq!(&*a.der, der);
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("parse is not deterministic"),
    }
    first
}

fn server(leaf: &CertInfo, anchor: &CertInfo) -> Verdict {
    verify::verify(
        &[leaf],
        &[anchor],
        Y2025,
        Usage::ServerAuth,
        Some("svc.example.org"),
    )
}

// --- minimal DER editing -----------------------------------------------

/// (header length, content length) of the TLV at the start of `der`.
fn header(der: &[u8]) -> (usize, usize) {
    match der[1] {
        n if n < 0x80 => (2, n as usize),
        n => {
            let k = (n & 0x7f) as usize;
            let len = der[2..2 + k]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (2 + k, len)
        }
    }
}

/// Splits a sequence of TLVs into whole TLVs.
fn tlvs(mut der: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let (h, l) = header(der);
        out.push(&der[..h + l]);
        der = &der[h + l..];
    }
    out
}

fn content(tlv: &[u8]) -> &[u8] {
    let (h, l) = header(tlv);
    &tlv[h..h + l]
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// `cert` with the serial number's content octets replaced by `serial`,
/// re-signed with `key` (the issuer's), so the signature stays valid.
fn with_serial(cert: &[u8], serial: &[u8], key: &KeyPair) -> Vec<u8> {
    let parts = tlvs(content(cert));
    let (tbs, alg) = (parts[0], parts[1]);
    let mut fields: Vec<Vec<u8>> = tlvs(content(tbs)).iter().map(|f| f.to_vec()).collect();
    // [0] version, then serialNumber INTEGER.
    assert_eq!(fields[0][0], 0xa0);
    assert_eq!(fields[1][0], 0x02);
    fields[1] = tlv(0x02, serial);
    let tbs = tlv(0x30, &fields.concat());
    let mut sig = vec![0x00];
    sig.extend(key.sign(&tbs).unwrap());
    tlv(0x30, &[tbs, alg.to_vec(), tlv(0x03, &sig)].concat())
}

// --- the cases ---------------------------------------------------------

#[test]
fn zero_length_input_is_refused() {
    let e = parse_stable(&[]).unwrap_err();
    assert!(e.to_string().starts_with("not a DER certificate"), "{e}");
    // One byte, a bare SEQUENCE tag, a SEQUENCE of length zero.
    for der in [&[0x30][..], &[0x30, 0x00], &[0x30, 0x80], &[0x00, 0x00]] {
        assert!(parse_stable(der).is_err(), "{der:?}");
    }
}

#[test]
fn trailing_bytes_are_refused_and_truncation_too() {
    let r = root();
    let der = leaf_der(&r, |_| {});
    assert!(parse_stable(&der).is_ok());
    for extra in [&[0x00][..], &[0x00, 0x00], b"junk", &der[..]] {
        let mut d = der.clone();
        d.extend_from_slice(extra);
        let e = parse_stable(&d).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("trailing data after certificate ({} bytes)", extra.len())
        );
    }
    for cut in [1, 2, der.len() / 2, der.len() - 1] {
        assert!(parse_stable(&der[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn ber_indefinite_length_is_refused() {
    // The outer SEQUENCE re-encoded with BER's indefinite length (0x80 ...
    // end-of-contents 00 00): not DER; Go and webpki refuse it as well.
    let r = root();
    let der = leaf_der(&r, |_| {});
    let (h, l) = header(&der);
    let mut ber = vec![0x30, 0x80];
    ber.extend_from_slice(&der[h..h + l]);
    ber.extend_from_slice(&[0x00, 0x00]);
    assert!(parse_stable(&ber).is_err());
}

#[test]
fn ber_non_minimal_length() {
    // The outer length in long form with a redundant leading zero octet
    // (0x83 0x00 0x01 0xNN instead of 0x82 0x01 0xNN): BER, not DER.
    let r = root();
    let der = leaf_der(&r, |_| {});
    let (h, l) = header(&der);
    assert_eq!(h, 4, "test assumes a two-octet length");
    let mut ber = vec![0x30, 0x83, 0x00, (l >> 8) as u8, l as u8];
    ber.extend_from_slice(&der[h..]);
    // x509-parser reads it (so the inventory knows the certificate, under
    // the fingerprint of these bytes) ...
    let c = parse_stable(&ber).expect("the tolerant parser reads BER lengths");
    assert_ne!(c.fingerprint, x509::parse(&der).unwrap().fingerprint);
    // ... but webpki (and Go) refuse the encoding: never trusted.
    let v = server(&c, &r.cert);
    assert!(
        matches!(&v, Verdict::NoPath { reason } if reason.contains("the certificate is malformed")),
        "{v:?}"
    );
}

#[test]
fn serial_numbers_zero_negative_and_21_bytes() {
    let r = root();
    let base = leaf_der(&r, |_| {});
    let mut twenty_one = vec![0x7f];
    twenty_one.extend([0xa5; 20]);
    let mut twenty_one_padded = vec![0x00];
    twenty_one_padded.extend([0xa5; 20]);
    let cases: [(&str, Vec<u8>); 6] = [
        ("zero", vec![0x00]),
        ("minus one", vec![0xff]),
        ("negative, 20 bytes", vec![0x80; 20]),
        ("21 bytes", twenty_one),
        ("21 bytes with a leading zero", twenty_one_padded),
        (
            "non-minimal (leading zero before a small value)",
            vec![0x00, 0x01],
        ),
    ];
    let mut fingerprints = std::collections::BTreeSet::new();
    for (what, serial) in cases {
        let der = with_serial(&base, &serial, &r.key);
        let c = parse_stable(&der).unwrap_or_else(|e| panic!("{what}: {e}"));
        // The serial as encoded, sign and leading zeros included.
        assert_eq!(c.serial, hex::encode(&serial), "{what}");
        assert!(fingerprints.insert(c.fingerprint.clone()), "{what}");
        // webpki reads serials leniently (RFC 5280 §4.1.2.2: "users SHOULD
        // be prepared to gracefully handle such certificates"); the chain
        // decision does not depend on them.
        assert_eq!(server(&c, &r.cert), Verdict::Valid, "{what}");
    }
}

#[test]
fn unknown_critical_extension_is_parsed_but_not_trusted() {
    let r = root();
    let der = leaf_der(&r, |p| {
        let mut e = rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 55738, 666, 1],
            vec![0x05, 0x00],
        );
        e.set_criticality(true);
        p.custom_extensions.push(e);
    });
    // The inventory still knows it (subject, SANs, validity) ...
    let c = parse_stable(&der).unwrap();
    assert_eq!(c.issuer, "CN=Hostile Root");
    assert_eq!(c.sans, [x509::San::Dns("svc.example.org".to_string())]);
    // ... but no client would accept it.
    let v = server(&c, &r.cert);
    assert!(
        matches!(&v, Verdict::NoPath { reason }
            if reason.contains("unhandled critical extension 1.3.6.1.4.1.55738.666.1")),
        "{v:?}"
    );
}

#[test]
fn every_single_byte_truncation_and_flip_is_handled() {
    // Exhaustive over one certificate: every prefix, and every byte of the
    // header region flipped, through parse and (when it parses) verify.
    let r = root();
    let der = leaf_der(&r, |_| {});
    for cut in 0..der.len() {
        assert!(x509::parse(&der[..cut]).is_err(), "prefix {cut} parsed");
    }
    for i in 0..der.len().min(64) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut d = der.clone();
            d[i] ^= flip;
            if let Ok(c) = parse_stable(&d) {
                // A changed byte is never the original certificate.
                let v = server(&c, &r.cert);
                assert!(!matches!(v, Verdict::Valid), "byte {i} ^ {flip:#x}: {v:?}");
            }
        }
    }
}

// --- through the binary ------------------------------------------------

mod common;

/// A webhook whose serving Secret holds its leaf, 50 look-alikes of its
/// issuer (same subject and key identifier, other keys, each issued by the
/// trusted root) and the real issuer, first or last; the caBundle is the
/// root. Returns the scan's `trust-mismatch` findings.
fn scan_lookalikes(real_first: bool) -> Vec<serde_json::Value> {
    let dir = lookalike_tree(real_first, 50, 1);
    let out = common::run(
        dir.path(),
        &["scan", "--now", common::NOW, "--format", "json", "."],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&out)
    );
    let report = common::json(&out);
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "trust-mismatch")
        .cloned()
        .collect()
}

/// The tree of [`scan_lookalikes`] with `fakes` look-alikes and `webhooks`
/// webhook configurations, each trusting the same root.
fn lookalike_tree(real_first: bool, fakes: usize, webhooks: usize) -> tempfile::TempDir {
    use base64::Engine as _;
    let r = root();
    let issuer_params = |key_id: &[u8]| {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "Webhooks Issuing CA");
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2040, 1, 1);
        p.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(key_id.to_vec());
        p
    };
    let root_issuer = Issuer::from_params(&r.params, &r.key);
    let p = issuer_params(&[0x1d; 20]);
    let real_key = KeyPair::generate().unwrap();
    let real = p.signed_by(&real_key, &root_issuer).unwrap();
    let fakes: Vec<_> = (0..fakes)
        .map(|_| {
            p.signed_by(&KeyPair::generate().unwrap(), &root_issuer)
                .unwrap()
        })
        .collect();
    let mut lp = CertificateParams::new(vec!["hook.apps.svc".to_string()]).unwrap();
    lp.not_before = date_time_ymd(2024, 1, 1);
    lp.not_after = date_time_ymd(2030, 1, 1);
    lp.use_authority_key_identifier_extension = true;
    let leaf = lp
        .signed_by(
            &KeyPair::generate().unwrap(),
            &Issuer::from_params(&p, &real_key),
        )
        .unwrap();

    let mut chain = vec![leaf.pem()];
    if real_first {
        chain.push(real.pem());
    }
    chain.extend(fakes.iter().map(|f| f.pem()));
    if !real_first {
        chain.push(real.pem());
    }
    let indent = |pem: &str| -> String { pem.lines().map(|l| format!("    {l}\n")).collect() };
    let root_pem = x509_pem(&r.cert.der);
    let mut yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: hook-tls, namespace: apps}}\n\
         stringData:\n  tls.crt: |\n{}---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: hook, namespace: apps}}\n\
         spec:\n  selector: {{matchLabels: {{app: hook}}}}\n  template:\n\
         \x20   metadata: {{labels: {{app: hook}}}}\n    spec:\n      containers:\n\
         \x20     - name: hook\n        image: registry.example.org/hook:1.0\n\
         \x20       command: [/hook, --tls-cert-file=/tls/tls.crt]\n\
         \x20       volumeMounts: [{{name: tls, mountPath: /tls}}]\n\
         \x20     volumes: [{{name: tls, secret: {{secretName: hook-tls}}}}]\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {{name: hook, namespace: apps}}\n\
         spec: {{selector: {{app: hook}}, ports: [{{port: 443, targetPort: 8443}}]}}\n---\n\
         apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n\
         metadata: {{name: hook}}\nwebhooks:\n- name: hook.example.org\n  clientConfig:\n\
         \x20   service: {{name: hook, namespace: apps}}\n    caBundle: {}\n",
        chain.iter().map(|p| indent(p)).collect::<String>(),
        base64::engine::general_purpose::STANDARD.encode(&root_pem),
    );
    for i in 1..webhooks {
        yaml.push_str(&format!(
            "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n\
             metadata: {{name: hook{i}}}\nwebhooks:\n- name: hook{i}.example.org\n  clientConfig:\n\
             \x20   service: {{name: hook, namespace: apps}}\n    caBundle: {}\n",
            base64::engine::general_purpose::STANDARD.encode(&root_pem),
        ));
    }
    let dir = common::repo_dir();
    std::fs::write(dir.path().join("hook.yaml"), yaml).unwrap();
    dir
}

fn x509_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let body: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        body.join("\n")
    )
}

#[test]
fn fifty_lookalike_intermediates_through_the_binary() {
    // The real issuer first: the chain builds, no trust-mismatch.
    assert_eq!(scan_lookalikes(true), Vec::<serde_json::Value>::new());
    // Behind 50 look-alikes a TLS client spends its signature budget
    // (rustls and Go: 100 checks) and refuses the chain: trust-mismatch.
    let found = scan_lookalikes(false);
    assert_eq!(found.len(), 1, "{found:#?}");
    let text = found[0].to_string();
    assert!(text.contains("path building gave up"), "{text}");
}

/// Two hundred look-alikes behind a thousand webhooks that trust the same
/// bundle: the verdict is searched for once, not once per webhook (it was
/// spent per bundle: minutes). Every webhook still gets its verdict.
#[test]
fn lookalikes_behind_a_thousand_identical_bundles_are_searched_once() {
    let dir = lookalike_tree(false, 200, 1000);
    let out = common::run(
        dir.path(),
        &["scan", "--now", common::NOW, "--format", "json", "."],
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let report = common::json(&out);
    let found = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "trust-mismatch")
        .count();
    assert_eq!(found, 1000);
}
