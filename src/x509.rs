//! Certificate facts and issuance checks, on top of `x509-parser`.
//!
//! [`parse`] turns one DER certificate into an owned [`CertInfo`];
//! [`issued_by`] decides whether one certificate was issued by another.
//!
//! # Distinguished names
//!
//! [`CertInfo::subject`] and [`CertInfo::issuer`] are RFC 4514 strings built
//! here, not `x509-parser`'s `Display` (which prints RDNs in encoding order,
//! `C=US, O=Example, CN=host`, with no escaping, and degrades the whole name
//! to `<X509Error: Invalid X.509 name>` when one value is not valid UTF-8).
//! Our format:
//!
//! * RDNs in reverse encoding order, separated by `,` (no space):
//!   `CN=host,O=Example,C=US` (the order used by RFC 4514, Go and
//!   `openssl -nameopt RFC2253`);
//! * multi-valued RDNs joined with `+`;
//! * attribute types `CN L ST O OU C STREET DC UID` (RFC 4514), plus
//!   `SERIALNUMBER`, `POSTALCODE` (as Go) and `emailAddress` (as OpenSSL);
//!   other types as dotted OIDs;
//! * string values escaped per RFC 4514 §2.4 (`,+"\<>;`, leading `#`/space,
//!   trailing space, NUL), and additionally every other control character as
//!   `\XX`, so names can be printed safely; BMPString / UniversalString are
//!   decoded from UTF-16/UTF-32, TeletexString as UTF-8 when valid and
//!   Latin-1 otherwise; non-string values as `#` + hex of their DER.
//!
//! # Signature verification
//!
//! `x509-parser`'s `verify_signature` (ring backend) supports RSA PKCS#1 with
//! SHA-1/256/384/512, RSA-PSS with SHA-256/384/512, ECDSA P-256/P-384 with
//! SHA-256/384, and Ed25519. ring has no P-521 and no ECDSA with SHA-512 or
//! SHA-1, so for ECDSA on P-256/P-384/P-521 with SHA-1/256/384/512 that ring
//! cannot handle, the TBS is hashed with `ring::digest` and the signature is
//! verified with RustCrypto's `p256`/`p384`/`p521` crates (private
//! `ec_fallback` module below).
//! This matters in practice: e.g. Wikimedia's internal PKI is P-521 with
//! `ecdsa-with-SHA512` throughout.
//!
//! ring's RSA verifiers for SHA-256/384/512 and PSS require 2048..=8192-bit
//! moduli, and reject smaller keys with the same error as a bad signature, so
//! an issuer with a smaller RSA key yields [`Issuance::WeakIssuerKey`]
//! instead (SHA-1 RSA signatures accept 1024..=8192 bits and are verified).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use x509_parser::asn1_rs::{Any, FromDer, Oid, Tag, ToDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error as XError;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::public_key::{PublicKey, RSAPublicKey};
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo, X509Name};

/// SHA-256 of a certificate's DER encoding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        for (o, i) in out.iter_mut().zip(d.as_ref()) {
            *o = *i;
        }
        Fingerprint(out)
    }

    /// Lowercase hex, 64 characters.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// First 16 lowercase hex characters (8 bytes).
    pub fn short(&self) -> String {
        hex::encode(&self.0[..8])
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
    Ed25519,
    Ed448,
    Dsa,
    /// Any other algorithm: its registry short name, or the dotted OID.
    Other(String),
}

/// Public key summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub kind: KeyKind,
    /// RSA: exact modulus bit length; EC: curve size (e.g. 521 for P-521);
    /// DSA: bit length of `p`; EdDSA: `None` (fixed strength).
    pub bits: Option<u32>,
    /// EC only: `P-256`, `P-384`, `P-521`, `P-224`, `P-192`, `secp256k1`,
    /// `brainpoolP256r1`/`P384r1`/`P512r1`, else the dotted curve OID.
    pub curve: Option<String>,
}

impl fmt::Display for KeyInfo {
    /// `RSA 2048`, `EC P-256`, `Ed25519`, `Ed448`, `DSA 2048`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match &self.kind {
            KeyKind::Rsa => "RSA",
            KeyKind::Ec => "EC",
            KeyKind::Ed25519 => return f.write_str("Ed25519"),
            KeyKind::Ed448 => return f.write_str("Ed448"),
            KeyKind::Dsa => "DSA",
            KeyKind::Other(s) => s.as_str(),
        };
        f.write_str(name)?;
        match (&self.curve, self.bits) {
            (Some(c), _) => write!(f, " {c}"),
            (None, Some(b)) => write!(f, " {b}"),
            (None, None) => Ok(()),
        }
    }
}

/// Hash algorithm of a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlg {
    Md2,
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HashAlg::Md2 => "MD2",
            HashAlg::Md5 => "MD5",
            HashAlg::Sha1 => "SHA-1",
            HashAlg::Sha224 => "SHA-224",
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
        })
    }
}

/// Subject alternative name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    Dns(String),
    /// `192.0.2.1` / `2001:db8::1`; other lengths as `IP:<hex>` in `Other`.
    Ip(String),
    Uri(String),
    Email(String),
    /// `DirName:<rfc4514>`, `otherName:<oid>`, `RID:<oid>`, `X400Address`,
    /// `EDIPartyName`, `IP:<hex>`, `invalid:<tag>`.
    Other(String),
}

/// Owned facts about one certificate.
#[derive(Clone, Debug)]
pub struct CertInfo {
    pub fingerprint: Fingerprint,
    pub der: Arc<[u8]>,
    /// RFC 4514 string, see the module documentation.
    pub subject: String,
    /// RFC 4514 string, see the module documentation.
    pub issuer: String,
    /// Last (most specific) CN attribute, as Go does; unescaped.
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// Lowercase hex of the serial's content octets as encoded, including a
    /// leading `00` and negative (two's complement) values, e.g. `"00a1b2"`.
    pub serial: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// From basicConstraints (first occurrence); no extension => false.
    pub is_ca: bool,
    pub path_len: Option<u32>,
    /// subjectKeyIdentifier.
    pub ski: Option<Vec<u8>>,
    /// keyIdentifier of authorityKeyIdentifier.
    pub aki: Option<Vec<u8>>,
    pub key: KeyInfo,
    /// OpenSSL-style name: `sha256WithRSAEncryption`, `ecdsa-with-SHA256`,
    /// `rsassaPss`, `ED25519`, ...; unknown algorithms by registry short name
    /// or dotted OID.
    pub signature: String,
    /// `None` for EdDSA and unknown algorithms.
    pub signature_hash: Option<HashAlg>,
    pub sans: Vec<San>,
    /// Subject and issuer names are byte-identical.
    pub self_issued: bool,
    /// The encoded value plus one: 1, 2 or 3 in a valid certificate. `x509-parser` accepts
    /// other values (a fuzzed `version 7` gives 8); they are kept as found.
    pub version: u32,
    /// Why Go's parser refuses this certificate, once asked
    /// (`verify::golang::parse_refusal` fills it: a certificate is checked
    /// in every chain it is part of, parsed for it once).
    pub go_parse_refusal: std::sync::OnceLock<Option<String>>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    #[error("not a DER certificate: {0}")]
    Parse(String),
    #[error("trailing data after certificate ({0} bytes)")]
    Trailing(usize),
    #[error("not a DER CRL: {0}")]
    Crl(String),
}

/// x509-parser's error in plain words: its `Display` shows parser
/// internals (`nom error: Eof`, `BER error: Unexpected Tag (expected:
/// Some(Tag(16)), actual: Tag(2))`) that mean nothing to someone reading a
/// finding about a certificate file.
fn describe(e: x509_parser::nom::Err<XError>) -> String {
    match e {
        x509_parser::nom::Err::Incomplete(_) => "truncated DER".to_string(),
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => describe_x509(&e),
    }
}

fn describe_x509(e: &XError) -> String {
    match e {
        XError::NomError(kind) => describe_nom(*kind).to_owned(),
        XError::Der(e) => describe_der(e),
        // The others read as plain words already ("invalid X.509 name").
        other => other.to_string(),
    }
}

/// A nom error kind: where the parser stopped, not why in DER terms.
fn describe_nom(kind: x509_parser::nom::error::ErrorKind) -> &'static str {
    use x509_parser::nom::error::ErrorKind;
    match kind {
        ErrorKind::Eof | ErrorKind::Complete => "truncated DER (the data ends inside a value)",
        _ => "malformed DER",
    }
}

/// A DER decoding error (`asn1-rs`), as in X.690's terms.
fn describe_der(e: &x509_parser::der_parser::error::BerError) -> String {
    use x509_parser::der_parser::error::BerError;
    match e {
        BerError::Incomplete(_) => "truncated DER (the data ends inside a value)".to_owned(),
        BerError::NomError(kind) => describe_nom(*kind).to_owned(),
        BerError::InvalidLength => "malformed DER: a length runs past its value".to_owned(),
        BerError::UnexpectedTag { expected, actual } => match expected {
            Some(t) => format!(
                "malformed DER: tag {} where tag {} was expected",
                actual.0, t.0
            ),
            None => format!("malformed DER: unexpected tag {}", actual.0),
        },
        BerError::UnexpectedClass { .. } => "malformed DER: unexpected tag class".to_owned(),
        BerError::BerMaxDepth => "DER nested too deep".to_owned(),
        BerError::DerConstraintFailed(c) => format!("not valid DER: {}", words(&format!("{c:?}"))),
        other => format!("malformed DER: {}", other.to_string().to_lowercase()),
    }
}

/// `IntegerLeadingZeroes` as `integer leading zeroes`.
fn words(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Parses one DER certificate. Trailing bytes are an error.
pub fn parse(der: &[u8]) -> Result<CertInfo, X509Error> {
    let (rem, cert) = X509Certificate::from_der(der).map_err(|e| X509Error::Parse(describe(e)))?;
    if !rem.is_empty() {
        return Err(X509Error::Trailing(rem.len()));
    }
    let tbs = &cert.tbs_certificate;
    let mut is_ca = false;
    let mut path_len = None;
    let mut seen_bc = false;
    let mut ski = None;
    let mut aki = None;
    let mut sans = Vec::new();
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) if !seen_bc => {
                seen_bc = true;
                is_ca = bc.ca;
                path_len = bc.path_len_constraint;
            }
            ParsedExtension::SubjectKeyIdentifier(k) if ski.is_none() => {
                ski = Some(k.0.to_vec());
            }
            ParsedExtension::AuthorityKeyIdentifier(a) if aki.is_none() => {
                aki = a.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                sans.extend(san.general_names.iter().map(san_of));
            }
            _ => {}
        }
    }
    let (signature, signature_hash) = signature_info(&cert.signature_algorithm);
    Ok(CertInfo {
        fingerprint: Fingerprint::of(der),
        der: Arc::from(der),
        subject: rfc4514(tbs.subject()),
        issuer: rfc4514(tbs.issuer()),
        subject_cn: last_cn(tbs.subject()),
        issuer_cn: last_cn(tbs.issuer()),
        serial: hex::encode(tbs.raw_serial()),
        not_before: tbs.validity().not_before.timestamp(),
        not_after: tbs.validity().not_after.timestamp(),
        is_ca,
        path_len,
        ski,
        aki,
        key: key_info(tbs.public_key()),
        signature,
        signature_hash,
        sans,
        self_issued: tbs.subject().as_raw() == tbs.issuer().as_raw(),
        version: tbs.version().0.saturating_add(1),
        go_parse_refusal: std::sync::OnceLock::new(),
    })
}

/// Facts of one certificate revocation list (RFC 5280 §5): who issued it,
/// when, until when it is current, and how many certificates it revokes.
#[derive(Clone, Debug)]
pub struct CrlInfo {
    /// SHA-256 of the CRL's DER.
    pub fingerprint: Fingerprint,
    /// RFC 4514 issuer name (see the module docs).
    pub issuer: String,
    /// The issuer's last CN, if any.
    pub issuer_cn: Option<String>,
    /// `thisUpdate`, unix seconds.
    pub this_update: i64,
    /// `nextUpdate`, unix seconds; optional in RFC 5280 §5.1.2.5, though
    /// conforming issuers always set it.
    pub next_update: Option<i64>,
    /// Number of revoked-certificate entries.
    pub revoked: usize,
    /// The `cRLNumber` extension (RFC 5280 §5.2.3), hex.
    pub number: Option<String>,
}

/// Parses one DER certificate revocation list. Trailing bytes are an error.
pub fn parse_crl(der: &[u8]) -> Result<CrlInfo, X509Error> {
    use x509_parser::revocation_list::CertificateRevocationList;
    let (rem, crl) =
        CertificateRevocationList::from_der(der).map_err(|e| X509Error::Crl(describe(e)))?;
    if !rem.is_empty() {
        return Err(X509Error::Crl(format!("{} trailing bytes", rem.len())));
    }
    Ok(CrlInfo {
        fingerprint: Fingerprint::of(der),
        issuer: rfc4514(crl.issuer()),
        issuer_cn: last_cn(crl.issuer()),
        this_update: crl.last_update().timestamp(),
        next_update: crl.next_update().map(|t| t.timestamp()),
        revoked: crl.iter_revoked_certificates().count(),
        number: crl.crl_number().map(|n| hex::encode(n.to_bytes_be())),
    })
}

/// Whether `der` is a DER CRL (a certificate's `[0]` version tag and
/// `validity` make it fail [`parse_crl`]).
pub fn is_crl(der: &[u8]) -> bool {
    der.first() == Some(&0x30) && parse_crl(der).is_ok()
}

/// Result of [`issued_by`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issuance {
    /// Names (or AKI/SKI) match and the signature verifies with the
    /// candidate's key.
    Issued,
    /// Issuer name differs from the candidate's subject (or AKI != SKI).
    NameMismatch,
    /// Names match but the signature does not verify with the candidate's
    /// key (including: the candidate's key type cannot have produced this
    /// signature algorithm).
    BadSignature,
    /// Names match, but the candidate's RSA key is below 2048 bits, which
    /// ring refuses for SHA-2/PSS signatures: undecidable.
    WeakIssuerKey { bits: u32 },
    /// Names match, but the algorithm cannot be verified here (message says
    /// which).
    Unsupported(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SigFamily {
    Rsa,
    RsaPss,
    Ecdsa,
    Ed25519,
    Ed448,
    Dsa,
    Other,
}

fn sig_family(oid: &str) -> SigFamily {
    match oid {
        "1.2.840.113549.1.1.10" => SigFamily::RsaPss,
        "1.3.14.3.2.29" => SigFamily::Rsa,
        o if o.starts_with("1.2.840.113549.1.1.") => SigFamily::Rsa,
        o if o.starts_with("1.2.840.10045.4.") => SigFamily::Ecdsa,
        "1.3.101.112" => SigFamily::Ed25519,
        "1.3.101.113" => SigFamily::Ed448,
        "1.2.840.10040.4.3" | "2.16.840.1.101.3.4.3.1" | "2.16.840.1.101.3.4.3.2" => SigFamily::Dsa,
        _ => SigFamily::Other,
    }
}

/// Could `candidate` have issued `cert`, by name alone? The first, cheap
/// step of [`issued_by`] (no parsing, no signature check): path builders
/// use it to count only real signature checks against their budget.
///
/// Name match per the AKI/SKI rule: if both `cert.aki` and `candidate.ski`
/// exist they decide; otherwise the names are compared as strings, exactly
/// and then normalised (case-insensitive, whitespace-collapsed). The RFC 4514
/// string is a pure function of the DER, so raw DER equality implies string
/// equality and needs no separate (parsing) check: a mismatch is decided
/// without re-parsing either certificate.
pub fn names_match(cert: &CertInfo, candidate: &CertInfo) -> bool {
    if let (Some(aki), Some(ski)) = (&cert.aki, &candidate.ski) {
        return aki == ski;
    }
    cert.issuer == candidate.subject || normalise(&cert.issuer) == normalise(&candidate.subject)
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Did `candidate` issue `cert`? See [`Issuance`] and the module docs.
pub fn issued_by(cert: &CertInfo, candidate: &CertInfo) -> Issuance {
    if !names_match(cert, candidate) {
        return Issuance::NameMismatch;
    }
    let (c, k) = match (
        X509Certificate::from_der(&cert.der),
        X509Certificate::from_der(&candidate.der),
    ) {
        (Ok((_, c)), Ok((_, k))) => (c, k),
        _ => return Issuance::Unsupported("certificate DER does not re-parse".to_string()),
    };
    let sig_oid = c.signature_algorithm.algorithm.to_id_string();
    let family = sig_family(&sig_oid);
    let unsupported = || {
        Issuance::Unsupported(format!(
            "{} signature with {} issuer key",
            cert.signature, candidate.key
        ))
    };
    match (family, &candidate.key.kind) {
        (SigFamily::Rsa | SigFamily::RsaPss, KeyKind::Rsa)
        | (SigFamily::Ecdsa, KeyKind::Ec)
        | (SigFamily::Ed25519, KeyKind::Ed25519) => {}
        (SigFamily::Ed448, KeyKind::Ed448)
        | (SigFamily::Dsa, KeyKind::Dsa)
        | (SigFamily::Other, _) => {
            return unsupported();
        }
        // This key type cannot have produced this kind of signature.
        _ => return Issuance::BadSignature,
    }
    if family == SigFamily::Ecdsa {
        if let Some(r) = ec_fallback::try_verify(&c, &k, cert.signature_hash) {
            return if r {
                Issuance::Issued
            } else {
                Issuance::BadSignature
            };
        }
    }
    if candidate.key.kind == KeyKind::Rsa {
        if let Some(bits) = candidate.key.bits {
            let legacy_sha1 =
                family == SigFamily::Rsa && cert.signature_hash == Some(HashAlg::Sha1);
            let min = if legacy_sha1 { 1024 } else { 2048 };
            if bits < min && ring_supports_rsa(family, cert.signature_hash) {
                return Issuance::WeakIssuerKey { bits };
            }
            if bits > 8192 {
                return Issuance::Unsupported(format!(
                    "{} signature with {} issuer key (ring accepts at most 8192 bits)",
                    cert.signature, candidate.key
                ));
            }
        }
    }
    match c.verify_signature(Some(k.public_key())) {
        Ok(()) => Issuance::Issued,
        Err(XError::SignatureVerificationError) => Issuance::BadSignature,
        Err(XError::SignatureUnsupportedAlgorithm) => unsupported(),
        Err(e) => Issuance::Unsupported(format!("{}: {e}", cert.signature)),
    }
}

fn ring_supports_rsa(family: SigFamily, hash: Option<HashAlg>) -> bool {
    matches!(
        (family, hash),
        (
            SigFamily::Rsa,
            Some(HashAlg::Sha1 | HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512)
        ) | (
            SigFamily::RsaPss,
            Some(HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512)
        )
    )
}

/// `self_issued` and the signature verifies with the certificate's own key.
pub fn is_self_signed(cert: &CertInfo) -> bool {
    cert.self_issued && issued_by(cert, cert) == Issuance::Issued
}

// ---------------------------------------------------------------------------
// Names

fn attr_type_name(oid: &Oid) -> String {
    let id = oid.to_id_string();
    let short = match id.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.17" => "POSTALCODE",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return id,
    };
    short.to_string()
}

/// Decodes a directory string value; `None` if it is not a string type.
fn attr_string(v: &Any) -> Option<String> {
    let data = v.data;
    match v.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::GeneralString
        | Tag::GraphicString => Some(String::from_utf8_lossy(data).into_owned()),
        Tag::T61String | Tag::VideotexString => Some(match std::str::from_utf8(data) {
            Ok(s) => s.to_string(),
            Err(_) => data.iter().map(|&b| char::from(b)).collect(),
        }),
        Tag::BmpString => {
            let units = data.chunks(2).map(|c| {
                u16::from_be_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ])
            });
            Some(
                char::decode_utf16(units)
                    .map(|r| r.unwrap_or('\u{FFFD}'))
                    .collect(),
            )
        }
        Tag::UniversalString => Some(
            data.chunks(4)
                .map(|c| {
                    let mut b = [0u8; 4];
                    for (o, i) in b.iter_mut().zip(c) {
                        *o = *i;
                    }
                    char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{FFFD}')
                })
                .collect(),
        ),
        _ => None,
    }
}

fn escape_value(s: &str, out: &mut String) {
    let n = s.chars().count();
    for (i, ch) in s.chars().enumerate() {
        match ch {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(ch);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(ch);
            }
            ' ' if i + 1 == n => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
}

/// RFC 4514 string of a name (see the module documentation).
fn rfc4514(name: &X509Name) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(&attr_type_name(atv.attr_type()));
            out.push('=');
            match attr_string(atv.attr_value()) {
                Some(s) => escape_value(&s, &mut out),
                None => {
                    out.push('#');
                    let der = atv.attr_value().to_der_vec().unwrap_or_default();
                    out.push_str(&hex::encode(der));
                }
            }
        }
    }
    out
}

fn last_cn(name: &X509Name) -> Option<String> {
    name.iter_common_name()
        .filter_map(|a| attr_string(a.attr_value()))
        .last()
}

fn san_of(gn: &GeneralName) -> San {
    match gn {
        GeneralName::DNSName(s) => San::Dns((*s).to_string()),
        GeneralName::RFC822Name(s) => San::Email((*s).to_string()),
        GeneralName::URI(s) => San::Uri((*s).to_string()),
        GeneralName::IPAddress(b) => match b.len() {
            4 => {
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                San::Ip(Ipv4Addr::from(a).to_string())
            }
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                San::Ip(Ipv6Addr::from(a).to_string())
            }
            _ => San::Other(format!("IP:{}", hex::encode(b))),
        },
        GeneralName::DirectoryName(n) => San::Other(format!("DirName:{}", rfc4514(n))),
        GeneralName::OtherName(oid, _) => San::Other(format!("otherName:{}", oid.to_id_string())),
        GeneralName::RegisteredID(oid) => San::Other(format!("RID:{}", oid.to_id_string())),
        GeneralName::X400Address(_) => San::Other("X400Address".to_string()),
        GeneralName::EDIPartyName(_) => San::Other("EDIPartyName".to_string()),
        GeneralName::Invalid(tag, _) => San::Other(format!("invalid:{}", tag.0)),
    }
}

// ---------------------------------------------------------------------------
// Keys and algorithms

/// Bit length of a big-endian unsigned integer (leading zero bytes ignored).
fn bit_len(bytes: &[u8]) -> u32 {
    let Some(pos) = bytes.iter().position(|&b| b != 0) else {
        return 0;
    };
    let rest = bytes.get(pos..).unwrap_or_default();
    let top = rest.first().copied().unwrap_or(0);
    let bits = (rest.len() - 1) * 8 + (8 - top.leading_zeros() as usize);
    u32::try_from(bits).unwrap_or(u32::MAX)
}

fn curve_name(oid: &str) -> Option<(&'static str, u32)> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => ("P-256", 256),
        "1.3.132.0.34" => ("P-384", 384),
        "1.3.132.0.35" => ("P-521", 521),
        "1.3.132.0.33" => ("P-224", 224),
        "1.2.840.10045.3.1.1" => ("P-192", 192),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        _ => return None,
    })
}

fn registry_name(oid: &Oid) -> String {
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn key_info(spki: &SubjectPublicKeyInfo) -> KeyInfo {
    let alg = spki.algorithm.algorithm.to_id_string();
    let params = spki.algorithm.parameters.as_ref();
    match alg.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            // Parsed directly: `spki.parsed()` only knows rsaEncryption, not
            // the id-RSASSA-PSS key OID.
            let bits = RSAPublicKey::from_der(&spki.subject_public_key.data)
                .ok()
                .map(|(_, rsa)| bit_len(rsa.modulus));
            KeyInfo {
                kind: KeyKind::Rsa,
                bits,
                curve: None,
            }
        }
        "1.2.840.10045.2.1" => {
            // ECParameters is a CHOICE: a named curve (an OID) or explicit
            // SpecifiedECDomain parameters (a SEQUENCE), which have no name:
            // `curve` is then `None`.
            let curve_oid = params
                .filter(|p| p.tag() == Tag::Oid)
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let point_bits = || match spki.parsed() {
                Ok(PublicKey::EC(p)) if p.key_size() > 0 => u32::try_from(p.key_size()).ok(),
                _ => None,
            };
            match curve_oid {
                Some(o) => match curve_name(&o) {
                    Some((n, b)) => KeyInfo {
                        kind: KeyKind::Ec,
                        bits: Some(b),
                        curve: Some(n.to_string()),
                    },
                    None => KeyInfo {
                        kind: KeyKind::Ec,
                        bits: point_bits(),
                        curve: Some(o),
                    },
                },
                None => KeyInfo {
                    kind: KeyKind::Ec,
                    bits: point_bits(),
                    curve: None,
                },
            }
        }
        "1.3.101.112" => KeyInfo {
            kind: KeyKind::Ed25519,
            bits: None,
            curve: None,
        },
        "1.3.101.113" => KeyInfo {
            kind: KeyKind::Ed448,
            bits: None,
            curve: None,
        },
        "1.2.840.10040.4.1" => {
            // Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER }
            let bits = params
                .filter(|p| p.tag() == Tag::Sequence)
                .and_then(|p| Any::from_der(p.data).ok())
                .filter(|(_, p)| p.tag() == Tag::Integer)
                .map(|(_, p)| bit_len(p.data));
            KeyInfo {
                kind: KeyKind::Dsa,
                bits,
                curve: None,
            }
        }
        _ => KeyInfo {
            kind: KeyKind::Other(registry_name(&spki.algorithm.algorithm)),
            bits: None,
            curve: None,
        },
    }
}

fn hash_of_digest_oid(oid: &str) -> Option<HashAlg> {
    Some(match oid {
        "1.3.14.3.2.26" => HashAlg::Sha1,
        "2.16.840.1.101.3.4.2.1" => HashAlg::Sha256,
        "2.16.840.1.101.3.4.2.2" => HashAlg::Sha384,
        "2.16.840.1.101.3.4.2.3" => HashAlg::Sha512,
        "2.16.840.1.101.3.4.2.4" => HashAlg::Sha224,
        "1.2.840.113549.2.5" => HashAlg::Md5,
        "1.2.840.113549.2.2" => HashAlg::Md2,
        _ => return None,
    })
}

fn signature_info(alg: &AlgorithmIdentifier) -> (String, Option<HashAlg>) {
    use HashAlg::*;
    let oid = alg.algorithm.to_id_string();
    let (name, hash) = match oid.as_str() {
        "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", Some(Md2)),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", Some(Md5)),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", Some(Sha1)),
        "1.3.14.3.2.29" => ("sha1WithRSA", Some(Sha1)),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", Some(Sha256)),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", Some(Sha384)),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", Some(Sha512)),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", Some(Sha224)),
        "1.2.840.113549.1.1.10" => {
            // Absent parameters mean the RFC 4055 defaults (SHA-1).
            let hash = match alg.parameters.as_ref() {
                None => Some(Sha1),
                Some(p) => RsaSsaPssParams::try_from(p)
                    .ok()
                    .and_then(|pp| hash_of_digest_oid(&pp.hash_algorithm_oid().to_id_string())),
            };
            ("rsassaPss", hash)
        }
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", Some(Sha1)),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", Some(Sha224)),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", Some(Sha256)),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", Some(Sha384)),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", Some(Sha512)),
        "1.2.840.10040.4.3" => ("dsaWithSHA1", Some(Sha1)),
        "2.16.840.1.101.3.4.3.1" => ("dsa_with_SHA224", Some(Sha224)),
        "2.16.840.1.101.3.4.3.2" => ("dsa_with_SHA256", Some(Sha256)),
        "1.3.101.112" => ("ED25519", None),
        "1.3.101.113" => ("ED448", None),
        _ => return (registry_name(&alg.algorithm), None),
    };
    (name.to_string(), hash)
}

// ---------------------------------------------------------------------------
// ECDSA verification for what ring lacks

/// ECDSA verification over the NIST prime curves, for the curve/hash pairs
/// ring does not implement (P-521 entirely; SHA-1 and SHA-512 on any curve).
///
/// The digest of the TBS is computed with `ring::digest`; the signature is
/// checked by RustCrypto's `p256`/`p384`/`p521` (`ecdsa::VerifyingKey` and
/// `PrehashVerifier::verify_prehash`, which zero-pads or truncates the digest
/// to the bit length of the group order as ECDSA requires).
mod ec_fallback {
    use super::HashAlg;
    use ecdsa::signature::hazmat::PrehashVerifier;
    use x509_parser::certificate::X509Certificate;

    const P256: &str = "1.2.840.10045.3.1.7";
    const P384: &str = "1.3.132.0.34";
    const P521: &str = "1.3.132.0.35";

    fn ring_has(curve_oid: &str, hash: HashAlg) -> bool {
        matches!(
            (curve_oid, hash),
            (P256 | P384, HashAlg::Sha256 | HashAlg::Sha384)
        )
    }

    /// Verifies the DER `Ecdsa-Sig-Value` `sig_der` over the already hashed
    /// `prehash` with the SEC1-encoded public key `point` (uncompressed or
    /// compressed) on the named curve. An undecodable key or signature is
    /// `Some(false)`; `None` for a curve not handled here.
    pub(super) fn verify(
        curve_oid: &str,
        point: &[u8],
        prehash: &[u8],
        sig_der: &[u8],
    ) -> Option<bool> {
        macro_rules! verify_on {
            ($curve:ident) => {
                $curve::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok_and(|key| {
                    $curve::ecdsa::Signature::from_der(sig_der)
                        .is_ok_and(|sig| key.verify_prehash(prehash, &sig).is_ok())
                })
            };
        }
        Some(match curve_oid {
            P256 => verify_on!(p256),
            P384 => verify_on!(p384),
            P521 => verify_on!(p521),
            _ => return None,
        })
    }

    /// `Some(valid)` when this verifier handles the case (ring does not),
    /// `None` to fall through to `x509-parser`/ring.
    pub(super) fn try_verify(
        cert: &X509Certificate,
        issuer: &X509Certificate,
        hash: Option<HashAlg>,
    ) -> Option<bool> {
        let spki = issuer.public_key();
        let curve_oid = spki
            .algorithm
            .parameters
            .as_ref()?
            .as_oid()
            .ok()?
            .to_id_string();
        let hash = hash?;
        if ring_has(&curve_oid, hash) {
            return None;
        }
        let alg = match hash {
            HashAlg::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => &ring::digest::SHA256,
            HashAlg::Sha384 => &ring::digest::SHA384,
            HashAlg::Sha512 => &ring::digest::SHA512,
            _ => return None,
        };
        let digest = ring::digest::digest(alg, cert.tbs_certificate.as_ref());
        verify(
            &curve_oid,
            &spki.subject_public_key.data,
            digest.as_ref(),
            &cert.signature_value.data,
        )
    }
}

/// One certificate a server presented: parsed when it parses.
#[derive(Clone, Debug)]
pub struct ServedCert {
    /// SHA-256 of its DER.
    pub fingerprint: Fingerprint,
    /// Its facts, when it parses.
    pub info: Option<std::sync::Arc<CertInfo>>,
    /// Why it does not parse.
    pub error: Option<String>,
}

impl ServedCert {
    /// Fingerprints and parses `der`.
    pub fn parse(der: &[u8]) -> ServedCert {
        let fingerprint = Fingerprint::of(der);
        match parse(der) {
            Ok(info) => ServedCert {
                fingerprint,
                info: Some(std::sync::Arc::new(info)),
                error: None,
            },
            Err(e) => ServedCert {
                fingerprint,
                info: None,
                error: Some(e.to_string()),
            },
        }
    }
}

/// `CN=etcd (sha256:0123456789abcdef)`: how reports name a certificate.
pub fn describe_cert(c: &CertInfo) -> String {
    let name = match &c.subject_cn {
        Some(cn) => format!("CN={cn}"),
        None if !c.subject.is_empty() => c.subject.clone(),
        None => "(empty subject)".to_owned(),
    };
    format!("{name} (sha256:{})", c.fingerprint.short())
}

/// `2026-11-01` for a unix time (a validity bound).
pub fn date(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
        PublicKeyData, SanType, SerialNumber, SignatureAlgorithm, SigningKey,
        PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519, PKCS_RSA_SHA256,
    };

    fn dn(cn: &str) -> DistinguishedName {
        let mut d = DistinguishedName::new();
        d.push(DnType::CountryName, "US");
        d.push(DnType::OrganizationName, "Example, Inc");
        d.push(DnType::CommonName, cn);
        d
    }

    fn ca_params(cn: &str) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = dn(cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        p
    }

    #[test]
    fn crls_parse_and_certificates_are_not_crls() {
        let key = KeyPair::generate().unwrap();
        let cert = ca_params("CRL CA").self_signed(&key).unwrap();
        let issuer = Issuer::new(ca_params("CRL CA"), key);
        let revoked = |n: u64| rcgen::RevokedCertParams {
            serial_number: SerialNumber::from(n),
            revocation_time: rcgen::date_time_ymd(2024, 6, 1),
            reason_code: None,
            invalidity_date: None,
        };
        let crl = rcgen::CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2024, 6, 17),
            next_update: rcgen::date_time_ymd(2024, 7, 17),
            crl_number: SerialNumber::from(1234),
            issuing_distribution_point: None,
            revoked_certs: vec![revoked(7), revoked(9)],
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .unwrap();
        let info = parse_crl(crl.der()).unwrap();
        assert_eq!(info.issuer, "CN=CRL CA,O=Example\\, Inc,C=US");
        assert_eq!(info.issuer_cn.as_deref(), Some("CRL CA"));
        assert_eq!(info.this_update, 1_718_582_400);
        assert_eq!(info.next_update, Some(1_721_174_400));
        assert_eq!(info.revoked, 2);
        assert_eq!(info.number.as_deref(), Some("04d2"));
        assert!(is_crl(crl.der()));
        assert!(!is_crl(cert.der()));
        let mut trailing = crl.der().to_vec();
        trailing.push(0);
        assert!(parse_crl(&trailing).is_err());
        assert!(parse_crl(&crl.der()[..40]).is_err());
    }

    fn leaf_params(cn: &str) -> CertificateParams {
        let mut p = CertificateParams::new(vec![format!("{cn}.example.org")]).unwrap();
        p.distinguished_name = dn(cn);
        p
    }

    /// Fake RSA signer: real-looking public key of `bits` bits, garbage
    /// signatures (ring cannot generate RSA keys). Good for key-info and
    /// weak-key tests, never verifies. Shared with `verify`'s tests.
    pub(crate) struct FakeRsa {
        spk: Vec<u8>,
        sig_len: usize,
    }

    impl FakeRsa {
        pub(crate) fn new(bits: usize) -> Self {
            let len = bits / 8;
            let mut modulus = vec![0u8];
            modulus.extend((0..len).map(|i| (i as u8).wrapping_mul(7) | 1));
            modulus[1] |= 0x80;
            let mut int = vec![0x02];
            int.extend(der_len(modulus.len()));
            int.extend(&modulus);
            int.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
            let mut seq = vec![0x30];
            seq.extend(der_len(int.len()));
            seq.extend(int);
            FakeRsa {
                spk: seq,
                sig_len: len,
            }
        }
    }

    fn der_len(n: usize) -> Vec<u8> {
        if n < 128 {
            vec![n as u8]
        } else if n < 256 {
            vec![0x81, n as u8]
        } else {
            vec![0x82, (n >> 8) as u8, n as u8]
        }
    }

    impl PublicKeyData for FakeRsa {
        fn der_bytes(&self) -> &[u8] {
            &self.spk
        }
        fn algorithm(&self) -> &'static SignatureAlgorithm {
            &PKCS_RSA_SHA256
        }
    }

    impl SigningKey for FakeRsa {
        fn sign(&self, _msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
            Ok(vec![0x42; self.sig_len])
        }
    }

    fn info(der: &[u8]) -> CertInfo {
        parse(der).expect("parse")
    }

    #[test]
    fn fingerprint_cn_sans_ca_pathlen() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = ca_params("Root CA");
        p.subject_alt_names = vec![
            SanType::DnsName("a.example.org".try_into().unwrap()),
            SanType::IpAddress("192.0.2.7".parse().unwrap()),
            SanType::IpAddress("2001:db8::1".parse().unwrap()),
            SanType::URI("spiffe://example.org/x".try_into().unwrap()),
            SanType::Rfc822Name("ops@example.org".try_into().unwrap()),
        ];
        let cert = p.self_signed(&key).unwrap();
        let der = cert.der().as_ref();
        let ci = info(der);
        let expect = ring::digest::digest(&ring::digest::SHA256, der);
        assert_eq!(ci.fingerprint.0.as_slice(), expect.as_ref());
        assert_eq!(ci.fingerprint.hex(), hex::encode(expect.as_ref()));
        assert_eq!(ci.fingerprint.short(), &ci.fingerprint.hex()[..16]);
        assert_eq!(
            ci.fingerprint.to_string(),
            format!("sha256:{}", ci.fingerprint.hex())
        );
        assert_eq!(ci.subject_cn.as_deref(), Some("Root CA"));
        assert_eq!(ci.issuer_cn.as_deref(), Some("Root CA"));
        assert_eq!(ci.subject, "CN=Root CA,O=Example\\, Inc,C=US");
        assert!(ci.is_ca);
        assert_eq!(ci.path_len, Some(1));
        assert!(ci.ski.is_some());
        assert_eq!(ci.version, 3);
        assert_eq!(
            ci.sans,
            vec![
                San::Dns("a.example.org".into()),
                San::Ip("192.0.2.7".into()),
                San::Ip("2001:db8::1".into()),
                San::Uri("spiffe://example.org/x".into()),
                San::Email("ops@example.org".into()),
            ]
        );
        assert_eq!(
            ci.key,
            KeyInfo {
                kind: KeyKind::Ec,
                bits: Some(256),
                curve: Some("P-256".into())
            }
        );
        assert_eq!(ci.key.to_string(), "EC P-256");
        assert_eq!(ci.signature, "ecdsa-with-SHA256");
        assert_eq!(ci.signature_hash, Some(HashAlg::Sha256));
        assert!(ci.self_issued);
        assert!(is_self_signed(&ci));

        // Leaf without basicConstraints: not a CA.
        let leaf = leaf_params("leaf").self_signed(&key).unwrap();
        let li = info(leaf.der());
        assert!(!li.is_ca);
        assert_eq!(li.path_len, None);
    }

    #[test]
    fn rsa_and_ed25519_key_info() {
        let rsa = FakeRsa::new(2048);
        let ci = info(leaf_params("rsa").self_signed(&rsa).unwrap().der());
        assert_eq!(
            ci.key,
            KeyInfo {
                kind: KeyKind::Rsa,
                bits: Some(2048),
                curve: None
            }
        );
        assert_eq!(ci.key.to_string(), "RSA 2048");
        assert_eq!(ci.signature, "sha256WithRSAEncryption");
        // Garbage signature from a 2048-bit key: BadSignature.
        assert_eq!(issued_by(&ci, &ci), Issuance::BadSignature);

        let ed = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let ci = info(leaf_params("ed").self_signed(&ed).unwrap().der());
        assert_eq!(ci.key.to_string(), "Ed25519");
        assert_eq!(ci.signature, "ED25519");
        assert_eq!(ci.signature_hash, None);
        assert!(is_self_signed(&ci));

        let p384 = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let ci = info(leaf_params("p384").self_signed(&p384).unwrap().der());
        assert_eq!(ci.key.to_string(), "EC P-384");
        assert!(is_self_signed(&ci));
    }

    #[test]
    fn weak_rsa_issuer() {
        let weak = FakeRsa::new(1024);
        let ca_p = ca_params("Weak CA");
        let ca = info(ca_p.self_signed(&weak).unwrap().der());
        assert_eq!(ca.key.bits, Some(1024));
        let leaf_key = KeyPair::generate().unwrap();
        let issuer = Issuer::new(ca_p, FakeRsa::new(1024));
        let leaf = info(
            leaf_params("leaf")
                .signed_by(&leaf_key, &issuer)
                .unwrap()
                .der(),
        );
        assert_eq!(
            issued_by(&leaf, &ca),
            Issuance::WeakIssuerKey { bits: 1024 }
        );
        assert!(!is_self_signed(&ca));
    }

    #[test]
    fn serial_formatting() {
        let key = KeyPair::generate().unwrap();
        let mut p = leaf_params("s");
        p.serial_number = Some(SerialNumber::from_slice(&[0x80, 0x01]));
        let ci = info(p.self_signed(&key).unwrap().der());
        assert_eq!(ci.serial, "008001");

        // Negative serial: patch 02 02 7f 01 -> 02 02 ff 01 (signature breaks,
        // parsing must not care).
        p.serial_number = Some(SerialNumber::from_slice(&[0x7f, 0x01]));
        let mut der = p.self_signed(&key).unwrap().der().to_vec();
        let at = der
            .windows(4)
            .position(|w| w == [0x02, 0x02, 0x7f, 0x01])
            .unwrap();
        der[at + 2] = 0xff;
        let ci = info(&der);
        assert_eq!(ci.serial, "ff01");
    }

    #[test]
    fn validity_numbers() {
        let key = KeyPair::generate().unwrap();
        let mut p = leaf_params("old");
        p.not_before = rcgen::date_time_ymd(2001, 2, 3);
        p.not_after = rcgen::date_time_ymd(2002, 2, 3);
        let ci = info(p.self_signed(&key).unwrap().der());
        assert_eq!(ci.not_before, 981_158_400);
        assert_eq!(ci.not_after, 1_012_694_400);
        assert!(ci.not_after < 1_700_000_000);
    }

    #[test]
    fn issuance_outcomes() {
        let root_key = KeyPair::generate().unwrap();
        let root_p = ca_params("Root");
        let root = info(root_p.self_signed(&root_key).unwrap().der());
        let issuer = Issuer::new(root_p.clone(), &root_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = info(
            leaf_params("svc")
                .signed_by(&leaf_key, &issuer)
                .unwrap()
                .der(),
        );
        assert_eq!(leaf.issuer_cn.as_deref(), Some("Root"));
        assert!(!leaf.self_issued);
        assert_eq!(issued_by(&leaf, &root), Issuance::Issued);
        assert_eq!(issued_by(&root, &leaf), Issuance::NameMismatch);
        assert!(!is_self_signed(&leaf));

        // Same name, different key: BadSignature (no AKI in leaf).
        let other_key = KeyPair::generate().unwrap();
        let imposter = info(root_p.self_signed(&other_key).unwrap().der());
        assert_eq!(issued_by(&leaf, &imposter), Issuance::BadSignature);

        // Different key type with the same name: still BadSignature.
        let ed = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let ed_root = info(root_p.self_signed(&ed).unwrap().der());
        assert_eq!(issued_by(&leaf, &ed_root), Issuance::BadSignature);

        // AKI/SKI decide when both are present.
        let mut leaf_p = leaf_params("svc2");
        leaf_p.use_authority_key_identifier_extension = true;
        let leaf2 = info(leaf_p.signed_by(&leaf_key, &issuer).unwrap().der());
        assert_eq!(leaf2.aki, root.ski);
        assert_eq!(issued_by(&leaf2, &root), Issuance::Issued);
        assert_eq!(issued_by(&leaf2, &imposter), Issuance::NameMismatch);
        let other_name = info(ca_params("Other").self_signed(&root_key).unwrap().der());
        assert_eq!(other_name.ski, root.ski);
        assert_eq!(issued_by(&leaf2, &other_name), Issuance::Issued);

        // Tampered TBS: BadSignature.
        let mut der = leaf.der.to_vec();
        let pos = der.windows(3).position(|w| w == b"svc").unwrap();
        der[pos] = b'S';
        let tampered = info(&der);
        assert_eq!(issued_by(&tampered, &root), Issuance::BadSignature);
    }

    #[test]
    fn normalised_name_match() {
        let key = KeyPair::generate().unwrap();
        let mut p = ca_params("Root");
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(
            DnType::CommonName,
            rcgen::DnValue::PrintableString("My  Root".try_into().unwrap()),
        );
        let root = info(p.self_signed(&key).unwrap().der());
        let mut q = p.clone();
        q.distinguished_name = DistinguishedName::new();
        q.distinguished_name.push(DnType::CommonName, "my root");
        // Leaf whose issuer name is the UTF8String "my root" (different
        // bytes), signed by the same key.
        let issuer = Issuer::new(q, &key);
        let leaf = info(
            leaf_params("l")
                .signed_by(&KeyPair::generate().unwrap(), &issuer)
                .unwrap()
                .der(),
        );
        assert_eq!(issued_by(&leaf, &root), Issuance::Issued);
    }

    #[test]
    fn ecdsa_fallback_agrees_with_ring() {
        for alg in [&PKCS_ECDSA_P256_SHA256, &PKCS_ECDSA_P384_SHA384] {
            let key = KeyPair::generate_for(alg).unwrap();
            let der = ca_params("X").self_signed(&key).unwrap().der().to_vec();
            let (_, c) = X509Certificate::from_der(&der).unwrap();
            let curve_oid = c
                .public_key()
                .algorithm
                .parameters
                .as_ref()
                .unwrap()
                .as_oid()
                .unwrap()
                .to_id_string();
            let verify = |q: &[u8], d: &[u8], s: &[u8]| {
                ec_fallback::verify(&curve_oid, q, d, s).expect("curve handled")
            };
            let h = if alg == &PKCS_ECDSA_P256_SHA256 {
                &ring::digest::SHA256
            } else {
                &ring::digest::SHA384
            };
            let digest = ring::digest::digest(h, c.tbs_certificate.as_ref());
            let q = &c.public_key().subject_public_key.data;
            let sig = &c.signature_value.data;
            assert!(verify(q, digest.as_ref(), sig));
            let mut bad = digest.as_ref().to_vec();
            bad[0] ^= 1;
            assert!(!verify(q, &bad, sig));
            let mut bad_sig = sig.to_vec();
            let last = bad_sig.len() - 1;
            bad_sig[last] ^= 1;
            assert!(!verify(q, digest.as_ref(), &bad_sig));
            // Not a point / not a signature: false, not a panic.
            assert!(!verify(&q[..q.len() - 1], digest.as_ref(), sig));
            assert!(!verify(q, digest.as_ref(), &sig[..sig.len() - 1]));
        }
        assert_eq!(
            ec_fallback::verify("1.3.132.0.10", &[4], &[0; 32], &[]),
            None
        );
    }

    /// Self-signed CA certificates made with OpenSSL 3.0
    /// (`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:CURVE -HASH`)
    /// for curve/hash pairs ring lacks: the digest is truncated (P-256 with
    /// SHA-512) or shorter than the order (SHA-1 on P-384 and P-521).
    const OPENSSL_EC: [(&str, &str, &str); 3] = [
        (
            "EC P-256",
            "ecdsa-with-SHA512",
            "\
MIIBnDCCAUGgAwIBAgIUAJLi89ouDfHQyVcxU3wcDSmsMhkwCgYIKoZIzj0EAwQw
IjEgMB4GA1UEAwwXaHg1MDkgdGVzdCBQLTI1NiBzaGE1MTIwIBcNMjYxMTIzMDI1
NjQ5WhgPMjEyNjEwMzAwMjU2NDlaMCIxIDAeBgNVBAMMF2h4NTA5IHRlc3QgUC0y
NTYgc2hhNTEyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAERu2rYrU9kwLbGA+W
HP3h3aeMFbEOozfr+nCS3vITNjrQnMifOrCYqLr+rDS9cxKIVHr8bTZ/qvYjsiyI
QhG4xqNTMFEwHQYDVR0OBBYEFM9ilc+L8/Wmt+oEALnUcHqQw/trMB8GA1UdIwQY
MBaAFM9ilc+L8/Wmt+oEALnUcHqQw/trMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwQDSQAwRgIhAOeo6U3ZyweI3zjhBEK0ozfRZFYM6dE8cwyPdRtJuFvXAiEA
7XcxF6QdVQxoI+jVisFaITc4qD10Y95ZeZPAxJJKH6U=",
        ),
        (
            "EC P-384",
            "ecdsa-with-SHA1",
            "\
MIIB0jCCAVmgAwIBAgIUIBObr9yG3WjWvVeIjIDvzZ3jhA4wCQYHKoZIzj0EATAg
MR4wHAYDVQQDDBVoeDUwOSB0ZXN0IFAtMzg0IHNoYTEwIBcNMjYxMTIzMDI1NjQ5
WhgPMjEyNjEwMzAwMjU2NDlaMCAxHjAcBgNVBAMMFWh4NTA5IHRlc3QgUC0zODQg
c2hhMTB2MBAGByqGSM49AgEGBSuBBAAiA2IABPU7OpuTVB/acHhLnyveUhtnYvSf
IfqTpZPEpTjdJaGXBeS+ZGwtAWeGpniWdjIC4s9Yw9fIGADUKt8q8EEiF5faIt0p
pS92fb3eGk1kV0fFGHE9ry9bijPlGl77agf2QKNTMFEwHQYDVR0OBBYEFG7PtrGX
BVDFIJyirP6YFReiNTa2MB8GA1UdIwQYMBaAFG7PtrGXBVDFIJyirP6YFReiNTa2
MA8GA1UdEwEB/wQFMAMBAf8wCQYHKoZIzj0EAQNoADBlAjAPHIbGT75SS0x1+Y7x
FZsZgSzl19RVJOv8DwBWPTR+0345ulMtSjzlnLArBk545ZoCMQCYMV0TrbfTmwqd
ML7EkJVvS3pz3U/qY0fpd0gNiG3UrIVwejxQgiradcKbm3ph2Dc=",
        ),
        (
            "EC P-521",
            "ecdsa-with-SHA1",
            "\
MIICHTCCAX+gAwIBAgIULMLrkCBSsC3zUd9iP3SXBidWs/QwCQYHKoZIzj0EATAg
MR4wHAYDVQQDDBVoeDUwOSB0ZXN0IFAtNTIxIHNoYTEwIBcNMjYxMTIzMDI1NjQ5
WhgPMjEyNjEwMzAwMjU2NDlaMCAxHjAcBgNVBAMMFWh4NTA5IHRlc3QgUC01MjEg
c2hhMTCBmzAQBgcqhkjOPQIBBgUrgQQAIwOBhgAEAXXINQFcglZKRfVdpZLWj4RR
iWLDdt+5KbD0uZ0iAaMlI+cDYG4EFx+ZM1gaagzsrSIj1AxhBym/49Uly3hSFQpG
AMJd6fiUFiYFVdZqzb9IvclJSULbLNoE4zTzzt7vnJ4g1yxwmSVfe4crtwwGHXo7
w+Fr0uNyzdmg6TecEMjT3VrGo1MwUTAdBgNVHQ4EFgQUpkwVpbqGZ0MjeodMux89
49oPWkMwHwYDVR0jBBgwFoAUpkwVpbqGZ0MjeodMux8949oPWkMwDwYDVR0TAQH/
BAUwAwEB/zAJBgcqhkjOPQQBA4GMADCBiAJCAPfjczEyczGWrIh+ekAJP6cWrCc8
TMc9D63LvF2UvyfxBBZZ6phhxJY2hTDaM63qgfw+iefpJJR5RIyGU0QuZNGlAkIB
7nyfwsvJhDhjJty9Fgwm6DGy1X1AATykUjadiMX49/UbDLBSe+aJ1SCGgcFvXupY
8dOpFflHnuLDhxzDE8Z6iAk=",
        ),
    ];

    #[test]
    fn openssl_ecdsa_pairs_ring_lacks() {
        for (key, sig, b) in OPENSSL_EC {
            let der = b64(b);
            let ci = info(&der);
            assert_eq!(ci.key.to_string(), key);
            assert_eq!(ci.signature, sig);
            assert!(is_self_signed(&ci), "{key} {sig}");
            // One flipped bit in the signature's last byte.
            let mut bad = der.clone();
            let n = bad.len();
            bad[n - 1] ^= 0x01;
            let bad = info(&bad);
            assert_eq!(issued_by(&bad, &bad), Issuance::BadSignature, "{key}");
            // Tampered TBS (the subject CN).
            let mut t = der.clone();
            let pos = t.windows(5).position(|w| w == b"hx509").unwrap();
            t[pos] = b'H';
            assert_eq!(issued_by(&info(&t), &ci), Issuance::BadSignature, "{key}");
        }
    }

    /// Wikimedia_Internal_Root_CA: a real public, self-signed P-521 root
    /// using ecdsa-with-SHA512 (from operations/puppet).
    const WIKIMEDIA_ROOT: &str = "\
MIIDBjCCAmegAwIBAgIUJzV1YuedEKoaCkVVX4sGAX6x9eMwCgYIKoZIzj0EAwQw
gZwxCzAJBgNVBAYTAlVTMRMwEQYDVQQIEwpDYWxpZm9ybmlhMRYwFAYDVQQHEw1T
YW4gRnJhbmNpc2NvMSIwIAYDVQQKExlXaWtpbWVkaWEgRm91bmRhdGlvbiwgSW5j
MRcwFQYDVQQLEw5DbG91ZCBTZXJ2aWNlczEjMCEGA1UEAwwaV2lraW1lZGlhX0lu
dGVybmFsX1Jvb3RfQ0EwHhcNMjEwMzI1MTMyNzAwWhcNMzEwMzIzMTMyNzAwWjCB
nDELMAkGA1UEBhMCVVMxEzARBgNVBAgTCkNhbGlmb3JuaWExFjAUBgNVBAcTDVNh
biBGcmFuY2lzY28xIjAgBgNVBAoTGVdpa2ltZWRpYSBGb3VuZGF0aW9uLCBJbmMx
FzAVBgNVBAsTDkNsb3VkIFNlcnZpY2VzMSMwIQYDVQQDDBpXaWtpbWVkaWFfSW50
ZXJuYWxfUm9vdF9DQTCBmzAQBgcqhkjOPQIBBgUrgQQAIwOBhgAEAVJE6KrM3i7m
7uw5oZ71qWvcQv9wBoNU3nrEqPCDPRd4FS/THrd+OqmnxhJ5UIUhE31H3Ev52dNP
LQ+274G2MR9dACOGB4/21O1Ng5aKNAgF0NjwS50RAQmRaGs9f7kQg7coDDBqKQj0
GF6wG1tMI0/wdmi71d1qPX5BDYy+xGQZe1Bao0IwQDAOBgNVHQ8BAf8EBAMCAQYw
DwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUO62iceY0vRv8gL81cYOR0O9pEzYw
CgYIKoZIzj0EAwQDgYwAMIGIAkIB64t/CBqDBhti8ERNX+rUh7k7zaZw0mllpfDa
90Gp4vUr5jNTOYi5+Was8xNHz6SCtZK6BkxjF+yb8ogG4ZknV7kCQgD6jCQHgXUx
mwKWMrxkrfv/yLCSytHfKCm0HSSyXKpHzKbPaIkt83JQxOoKpBmdHjPjkzVC1vjR
EVQD+PGFu+xryQ==";

    fn b64(s: &str) -> Vec<u8> {
        use base64::Engine as _;
        let clean: String = s.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(clean)
            .unwrap()
    }

    #[test]
    fn p521_sha512_root_is_self_signed() {
        let der = b64(WIKIMEDIA_ROOT);
        let ci = info(&der);
        assert_eq!(ci.key.to_string(), "EC P-521");
        assert_eq!(ci.signature, "ecdsa-with-SHA512");
        assert_eq!(ci.signature_hash, Some(HashAlg::Sha512));
        assert_eq!(ci.subject_cn.as_deref(), Some("Wikimedia_Internal_Root_CA"));
        assert_eq!(
            ci.subject,
            "CN=Wikimedia_Internal_Root_CA,OU=Cloud Services,O=Wikimedia Foundation\\, Inc,L=San Francisco,ST=California,C=US"
        );
        assert!(ci.is_ca);
        assert!(is_self_signed(&ci));
        // Flip one byte of the signature: no longer verifies.
        let mut bad = der.clone();
        let n = bad.len();
        bad[n - 3] ^= 0x01;
        assert_eq!(issued_by(&info(&bad), &info(&bad)), Issuance::BadSignature);
        // Trailing garbage is rejected.
        let mut t = der.clone();
        t.extend([0, 0]);
        assert!(matches!(parse(&t), Err(X509Error::Trailing(2))));
        assert!(matches!(parse(b"\x30\x03abc"), Err(X509Error::Parse(_))));
        assert!(matches!(parse(b""), Err(X509Error::Parse(_))));
    }

    /// Issue 17: findings said `not a DER certificate: nom error: Eof`
    /// (x509-parser's `Display`); every way DER can be cut or bent reads
    /// as plain words.
    #[test]
    fn parse_errors_in_plain_words() {
        let der = b64(WIKIMEDIA_ROOT);
        let mut seen = std::collections::BTreeSet::new();
        let mut cases: Vec<Vec<u8>> = (0..der.len()).map(|n| der[..n].to_vec()).collect();
        for i in 0..der.len().min(64) {
            let mut d = der.clone();
            d[i] ^= 0x04;
            cases.push(d);
        }
        for d in cases {
            let Err(e) = parse(&d) else { continue };
            let msg = e.to_string();
            for internal in ["nom", "Eof", "BER error", "Tag(", "Some("] {
                assert!(!msg.contains(internal), "{msg}");
            }
            seen.insert(msg);
        }
        assert!(
            seen.iter().any(|m| m.contains("truncated DER")),
            "{seen:#?}"
        );
    }

    #[test]
    fn mutated_ders_never_panic() {
        let root = b64(WIKIMEDIA_ROOT);
        let key = KeyPair::generate().unwrap();
        let ec = ca_params("m").self_signed(&key).unwrap().der().to_vec();
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for base in [&root, &ec] {
            let good = info(base);
            for _ in 0..100 {
                let mut d = base.clone();
                for _ in 0..(rnd() % 3 + 1) {
                    let i = (rnd() as usize) % d.len();
                    d[i] = rnd() as u8;
                }
                if rnd() % 5 == 0 {
                    d.truncate((rnd() as usize) % d.len());
                }
                if let Ok(ci) = parse(&d) {
                    let _ = issued_by(&ci, &good);
                    let _ = issued_by(&good, &ci);
                    let _ = is_self_signed(&ci);
                }
            }
        }
    }

    #[test]
    fn x509_parser_display_quirk() {
        // Documented in the module docs: x509-parser's Display is forward
        // order, ", "-separated and unescaped (ambiguous with commas).
        let der = b64(WIKIMEDIA_ROOT);
        let (_, c) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(
            c.subject().to_string(),
            "C=US, ST=California, L=San Francisco, O=Wikimedia Foundation, Inc, OU=Cloud Services, CN=Wikimedia_Internal_Root_CA"
        );
    }

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/wikimedia/operations-puppet/modules/profile/files"
    );

    #[test]
    fn real_discovery_intermediate_issued_by_root() {
        let read = |p: &str| std::fs::read(format!("{CORPUS}/pki/{p}")).ok();
        let (Some(leaf), Some(root)) = (
            read("intermediates/discovery-cert.pem"),
            read("ROOT/Wikimedia_Internal_Root_CA.pem"),
        ) else {
            eprintln!("skipping: corpus missing");
            return;
        };
        // Minimal test-only PEM reading (this module does not depend on the
        // PEM scanner): base64 lines between the first BEGIN and END.
        let first = |t: &[u8]| {
            let t = String::from_utf8_lossy(t);
            let body: String = t
                .lines()
                .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
                .skip(1)
                .take_while(|l| !l.starts_with("-----END"))
                .collect();
            info(&b64(&body))
        };
        let leaf = first(&leaf);
        let root = first(&root);
        assert_eq!(
            leaf.issuer_cn.as_deref(),
            Some("Wikimedia_Internal_Root_CA")
        );
        assert_eq!(leaf.subject_cn.as_deref(), Some("discovery"));
        let t = std::time::Instant::now();
        assert_eq!(issued_by(&leaf, &root), Issuance::Issued);
        eprintln!("P-521/SHA-512 verification took {:?}", t.elapsed());
        assert_eq!(issued_by(&root, &leaf), Issuance::NameMismatch);
        assert!(is_self_signed(&root));
    }

    #[test]
    fn throughput() {
        let key = KeyPair::generate().unwrap();
        let mut ders = Vec::new();
        for i in 0..100 {
            let mut p = leaf_params(&format!("host{i}"));
            p.is_ca = IsCa::ExplicitNoCa;
            ders.push(p.self_signed(&key).unwrap().der().to_vec());
        }
        let n = 10_000;
        let t = std::time::Instant::now();
        let mut ok = 0;
        for i in 0..n {
            if parse(&ders[i % ders.len()]).is_ok() {
                ok += 1;
            }
        }
        let el = t.elapsed();
        assert_eq!(ok, n);
        eprintln!(
            "x509::parse: {n} certs in {el:?} ({:.0} certs/s, debug build)",
            n as f64 / el.as_secs_f64()
        );
        let ci = info(&ders[0]);
        let t = std::time::Instant::now();
        for _ in 0..200 {
            let _ = issued_by(&ci, &ci);
        }
        eprintln!("issued_by (P-256, ring): 200 in {:?}", t.elapsed());
        let root = info(&b64(WIKIMEDIA_ROOT));
        let n = 20;
        let t = std::time::Instant::now();
        for _ in 0..n {
            assert_eq!(issued_by(&root, &root), Issuance::Issued);
        }
        let el = t.elapsed();
        eprintln!(
            "issued_by (P-521/SHA-512, p521 crate): {n} in {el:?} ({:?} each, debug build)",
            el / n
        );
    }
}
