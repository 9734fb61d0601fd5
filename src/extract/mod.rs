//! Stage 3, extract: documents to certificate facts.
//!
//! In: one discovered file. Out: [`FileFacts`] — every certificate sighting
//! (parsed, with its location, how it was reached and whether it sits where a
//! trust bundle belongs), every private key's location and type, and the
//! problems met on the way (`malformed` facts). Files are independent, so this
//! stage runs in parallel; `inventory` merges the results in path order.

mod context;
pub mod hiera;
pub mod kube;
pub mod placeholder;
pub mod prefilter;
pub mod values;
mod yaml_doc;

pub use context::is_trust_name;
pub use placeholder::{placeholder, Placeholder};
pub(crate) use yaml_doc::deferred_services;

use crate::discover::{Candidate, FileClass};
use crate::finding::{Location, Severity};
use crate::read::text::{decode, Lines};
use crate::read::{pem, yaml};
use crate::x509::{self, CertInfo, CrlInfo};
use prefilter::Relevance;
use std::sync::Arc;

/// One place a certificate was seen.
#[derive(Clone, Debug)]
pub struct CertSighting {
    /// The parsed certificate.
    pub cert: Arc<CertInfo>,
    /// Where: the BEGIN line, or the YAML value holding it.
    pub location: Location,
    /// How it was reached, e.g. `Secret kube-system/etcd key ca.crt` or `file`.
    pub via: String,
    /// Sightings with the same `bundle` (within one file) came from one value or file.
    pub bundle: u32,
    /// Whether the reference is where a trust bundle belongs (`ca.crt`, `caBundle`, `*ca*` names).
    pub trust: bool,
}

/// One place a private key was seen. Holds no key material.
#[derive(Clone, Debug)]
pub struct KeySighting {
    /// Where the key begins.
    pub location: Location,
    /// The key's type as its PEM label or container says, e.g. `RSA PRIVATE KEY`.
    pub kind: String,
    /// How it was reached.
    pub via: String,
    /// SHA-256 of the key's decoded bytes, when they decode: which
    /// sightings are the same key. Never shown.
    pub id: Option<crate::x509::Fingerprint>,
}

/// One place a certificate revocation list was seen.
#[derive(Clone, Debug)]
pub struct CrlSighting {
    /// The parsed CRL.
    pub crl: Arc<CrlInfo>,
    /// Where: the BEGIN line, the file, or the YAML value holding it.
    pub location: Location,
    /// How it was reached, e.g. `file` or `Secret ns/name key ca.crl`.
    pub via: String,
}

/// Something that could not be read as expected.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Where.
    pub location: Location,
    /// How bad: broken certificate data is an error, a YAML syntax error a warning.
    pub severity: Severity,
    /// What was expected and what was found. Never quotes file content.
    pub message: String,
}

/// Everything one file contributed.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    /// Certificates, in file order.
    pub certs: Vec<CertSighting>,
    /// Private keys, in file order.
    pub keys: Vec<KeySighting>,
    /// Certificate revocation lists, in file order.
    pub crls: Vec<CrlSighting>,
    /// Problems, in file order.
    pub problems: Vec<Problem>,
    /// Whether the file was read and examined (false: skipped, see `skip`).
    pub scanned: bool,
    /// Why the file was skipped after reading, if it was.
    pub skip: Option<String>,
    /// Whether the file holds something that may be TLS material and could
    /// not be judged (a reader limit, base64 of PEM that did not decode).
    pub incomplete: bool,
    /// What made it incomplete, one cause per gap.
    pub gaps: Vec<String>,
    /// Whether part of the file was read as an unevaluated template (PEM
    /// blocks and base64 `key: value` literals only).
    pub template: bool,
    /// Certificate containers (a file, a YAML value), indexed by `CertSighting::bundle`;
    /// empty ones too, so that a reference to a value that holds no certificate can say so.
    pub bundles: Vec<BundleFacts>,
    /// Kubernetes objects, in file order.
    pub objects: Vec<kube::Object>,
    /// YAML documents that can hold nothing but a Service
    /// ([`prefilter::Relevance::ServiceOnly`]), kept unparsed until a client
    /// names a Service.
    pub deferred: Vec<Deferred>,
}

/// A YAML document kept for later: its text and where it starts.
#[derive(Clone, Debug)]
pub struct Deferred {
    /// The document, from the start of its first line.
    pub text: String,
    /// Lines of the file before it.
    pub line_base: u32,
}

/// One certificate container: a PEM file, or one YAML value.
#[derive(Clone, Debug)]
pub struct BundleFacts {
    /// Where the value or file starts.
    pub location: Location,
    /// How it was reached.
    pub via: String,
    /// Whether its name marks a trust bundle.
    pub trust: bool,
    /// The scaffold value it holds instead of a certificate, if it does.
    pub placeholder: Option<Placeholder>,
    /// Whether it is every PEM block a text search found in a file that is
    /// not a PEM file (not one bundle: its members may be unrelated).
    pub searched: bool,
}

/// Knobs for extraction.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// Limits for each YAML stream.
    pub yaml_limits: yaml::Limits,
    /// Skip YAML documents that cannot hold a fact without parsing them
    /// (see [`prefilter`]); off only to check that it loses nothing.
    pub prefilter: bool,
    /// Certificates parsed so far (shared by the clones of these options).
    pub certs: Arc<CertCache>,
}

impl Default for ExtractOptions {
    fn default() -> ExtractOptions {
        ExtractOptions {
            yaml_limits: yaml::Limits::default(),
            prefilter: true,
            certs: Arc::default(),
        }
    }
}

/// Parsed certificates by fingerprint: a certificate seen in many places
/// (a CA in every `caBundle` of a cluster) is parsed once and shared.
#[derive(Debug, Default)]
pub struct CertCache {
    map: crate::memo::Memo<x509::Fingerprint, Arc<CertInfo>>,
}

impl CertCache {
    /// The parsed certificate `der`, from the cache or parsed now (a
    /// certificate that does not parse is not kept).
    fn parse(&self, der: &[u8]) -> Result<Arc<CertInfo>, x509::X509Error> {
        let fp = x509::Fingerprint::of(der);
        if let Some(c) = self.map.get(&fp) {
            return Ok(c);
        }
        let cert = Arc::new(x509::parse(der)?);
        self.map.insert(fp, cert.clone());
        Ok(cert)
    }
}

/// Collects facts for one file while it is being read.
pub(crate) struct Sink<'a> {
    pub cand: &'a Candidate,
    pub facts: FileFacts,
    certs: Arc<CertCache>,
    /// Whether PEM is being searched for in text that is not a PEM file
    /// (source code, prose, an unknown file): what is found there is not
    /// one bundle.
    searching: bool,
}

impl<'a> Sink<'a> {
    fn new(cand: &'a Candidate, opts: &ExtractOptions) -> Self {
        Sink {
            cand,
            facts: FileFacts::default(),
            certs: opts.certs.clone(),
            searching: false,
        }
    }

    pub(crate) fn loc(&self, line: u32, col: u32) -> Location {
        Location::new(self.cand.root, self.cand.rel.clone(), line, col)
    }

    pub(crate) fn problem(&mut self, location: Location, severity: Severity, message: String) {
        self.facts.problems.push(Problem {
            location,
            severity,
            message,
        });
    }

    pub(crate) fn new_bundle(&mut self, location: Location, via: &str, trust: bool) -> u32 {
        self.facts.bundles.push(BundleFacts {
            location,
            via: via.to_owned(),
            trust,
            placeholder: None,
            // Text searches (after a YAML error, YAML in a string, a
            // template, base64 anywhere) name themselves `file (…)`.
            searched: self.searching || (via.starts_with("file (") && via != "file (DER)"),
        });
        (self.facts.bundles.len() - 1) as u32
    }

    /// Notes that `bundle` holds a placeholder (the first one met counts).
    pub(crate) fn placeholder(&mut self, bundle: u32, p: Placeholder) {
        if let Some(b) = self.facts.bundles.get_mut(bundle as usize) {
            b.placeholder.get_or_insert(p);
        }
    }

    /// Records a DER certificate revocation list; a parse failure becomes a problem.
    pub(crate) fn der_crl(&mut self, der: &[u8], location: Location, via: &str) {
        match x509::parse_crl(der) {
            Ok(crl) => self.facts.crls.push(CrlSighting {
                crl: Arc::new(crl),
                location,
                via: via.to_owned(),
            }),
            Err(e) => self.problem(
                location,
                Severity::Error,
                format!("CRL ({via}) does not parse: {e}"),
            ),
        }
    }

    /// Records a DER certificate; a parse failure becomes a problem.
    pub(crate) fn der_cert(
        &mut self,
        der: &[u8],
        location: Location,
        via: &str,
        bundle: u32,
        trust: bool,
    ) {
        match self.certs.parse(der) {
            Ok(cert) => self.facts.certs.push(CertSighting {
                cert,
                location,
                via: via.to_owned(),
                bundle,
                trust,
            }),
            Err(e) => self.problem(
                location,
                Severity::Error,
                format!("certificate ({via}) does not parse: {e}"),
            ),
        }
    }

    /// Scans `text` for PEM blocks and records what they hold. `at` maps a
    /// byte offset in `text` to a location. `report_errors` is false for
    /// files that are not meant to hold PEM (a README's example block).
    /// Returns the bundle and how many things were recognised: PEM blocks
    /// of any label (certificates, keys, CRLs, public keys, CSRs,
    /// parameters), and placeholders.
    pub(crate) fn pem_text(
        &mut self,
        text: &[u8],
        via: &str,
        trust: bool,
        report_errors: bool,
        at: &dyn Fn(usize) -> Location,
    ) -> (u32, usize) {
        let bundle = self.new_bundle(at(0), via, trust);
        if let Some(p) = std::str::from_utf8(text).ok().and_then(placeholder) {
            // The whole value is scaffold (`-----BEGIN CERTIFICATE-----` over
            // `...`, a lone BEGIN line): nothing to judge.
            self.placeholder(bundle, p);
            return (bundle, 1);
        }
        let mut found = 0;
        for item in pem::scan(text) {
            match item {
                pem::PemItem::Block(b) => {
                    found += 1;
                    if pem::is_private_key_label(&b.label) {
                        let id = text.get(b.begin..b.end).map(key_id);
                        self.key(at(b.begin), &b.label, via, id);
                    } else if is_cert_label(&b.label) {
                        // A DER certificate is far longer; a few bytes are a
                        // placeholder body that happens to be base64 (`TODO`).
                        let short = b.der.len() < 64;
                        match text
                            .get(b.begin..b.end)
                            .filter(|_| short)
                            .and_then(body_placeholder)
                        {
                            Some(p) => self.placeholder(bundle, p),
                            None => self.der_cert(&b.der, at(b.begin), via, bundle, trust),
                        }
                    } else if b.label == "X509 CRL" {
                        self.der_crl(&b.der, at(b.begin), via);
                    }
                    // Public keys, CSRs, DH/EC parameters, PGP blocks: recognised,
                    // nothing to judge.
                }
                pem::PemItem::Error(e) => {
                    let body = e.body.as_ref().and_then(|r| text.get(r.clone()));
                    let body = body.map(String::from_utf8_lossy);
                    if let Some(p) = body.as_deref().and_then(placeholder::placeholder_body) {
                        found += 1;
                        self.placeholder(bundle, p);
                        continue;
                    }
                    // Complete armour around a broken body: a key all the same
                    // (istio `key-parse-fail.pem`), and a fault.
                    if let (Some(_), Some(label)) = (&body, &e.label) {
                        if pem::is_private_key_label(label) {
                            found += 1;
                            self.key(at(e.offset), label, via, None);
                        }
                    }
                    if report_errors {
                        self.problem(
                            at(e.offset),
                            Severity::Error,
                            format!("bad PEM ({via}): {}", e.message),
                        );
                    }
                }
            }
        }
        (bundle, found)
    }

    fn key(
        &mut self,
        location: Location,
        kind: &str,
        via: &str,
        id: Option<crate::x509::Fingerprint>,
    ) {
        self.facts.keys.push(KeySighting {
            location,
            kind: kind.to_owned(),
            via: via.to_owned(),
            id,
        });
    }
}

/// Which key a PEM block (its text, BEGIN to END) holds, without decoding
/// it: SHA-256 of its base64 body with every blank removed, so that the
/// same key in a `.key` file and indented in a YAML value is one key.
pub(crate) fn key_id(block: &[u8]) -> crate::x509::Fingerprint {
    let body: Vec<u8> = block
        .split(|&b| b == b'\n')
        .filter(|line| !line.windows(5).any(|w| w == b"-----"))
        .flat_map(|line| line.iter().copied().filter(|b| !b.is_ascii_whitespace()))
        .collect();
    crate::x509::Fingerprint::of(&body)
}

/// [`key_id`] of a DER key: the id of its PEM form.
pub(crate) fn der_key_id(der: &[u8]) -> crate::x509::Fingerprint {
    use base64::Engine as _;
    key_id(
        base64::engine::general_purpose::STANDARD
            .encode(der)
            .as_bytes(),
    )
}

/// The placeholder a whole PEM block is, if its body is one.
fn body_placeholder(block: &[u8]) -> Option<Placeholder> {
    placeholder(std::str::from_utf8(block).ok()?)
}

/// An OpenSSH public key line (`authorized_keys`, `id_ed25519.pub`):
/// `ssh-rsa AAAA… comment`, `ssh-ed25519 …`, `ecdsa-sha2-nistp256 …`.
fn is_openssh_public_key(text: &str) -> bool {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    lines.clone().next().is_some()
        && lines.all(|l| {
            let mut parts = l.split_whitespace();
            let kind = parts.next().unwrap_or_default();
            let blob = parts.next().unwrap_or_default();
            (kind.starts_with("ssh-") || kind.starts_with("ecdsa-sha2-") || kind.starts_with("sk-"))
                && blob.starts_with("AAAA")
        })
}

impl Sink<'_> {
    /// Base64 of a PEM block anywhere in `text` (text the YAML reader could
    /// not read): every maximal run of base64 characters that holds the
    /// encoded `-----BEGIN` (at any of the three alignments) is decoded and
    /// read as PEM. Returns how many such runs did not decode to PEM: TLS
    /// material found and not judged (a `malformed` error each when
    /// `report_errors`).
    pub(crate) fn base64_pem_text(
        &mut self,
        text: &[u8],
        via: &str,
        trust: bool,
        report_errors: bool,
        at: &dyn Fn(usize) -> Location,
    ) -> usize {
        let is_b64 =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_');
        let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
        for marker in pem::BASE64_BEGINS {
            for hit in memchr::memmem::find_iter(text, marker.as_bytes()) {
                let mut start = hit;
                while start > 0 && is_b64(text[start - 1]) {
                    start -= 1;
                }
                let mut end = hit + marker.len();
                while end < text.len() && is_b64(text[end]) {
                    end += 1;
                }
                runs.push(start..end);
            }
        }
        runs.sort_by_key(|r| (r.start, r.end));
        runs.dedup();
        let mut unread = 0;
        for run in runs {
            let decoded = std::str::from_utf8(&text[run.clone()])
                .ok()
                .and_then(placeholder::lenient_base64);
            match decoded {
                Some(d) if pem::looks_like_pem(&d) => {
                    let loc = at(run.start);
                    self.pem_text(&d, via, trust, true, &|_| loc.clone());
                }
                _ if !report_errors => {}
                _ => {
                    unread += 1;
                    self.problem(
                        at(run.start),
                        Severity::Error,
                        format!("{via}: base64 of a PEM block does not decode"),
                    );
                }
            }
        }
        unread
    }
}

fn is_cert_label(label: &str) -> bool {
    matches!(
        label,
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
    )
}

/// Reads one file and extracts its facts. Never panics on content.
pub fn extract_file(cand: &Candidate, opts: &ExtractOptions) -> FileFacts {
    use std::io::Read;
    // One read buffer per worker thread: a fresh allocation per file costs
    // page faults on every file of a large tree.
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    /// A buffer grown beyond this by a large file is not kept.
    const KEEP: usize = 4 << 20;
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        let read = std::fs::File::open(&cand.abs).and_then(|mut f| {
            buf.reserve(usize::try_from(cand.size).unwrap_or(0).saturating_add(1));
            f.read_to_end(buf)
        });
        let mut sink = Sink::new(cand, opts);
        match read {
            Ok(_) => extract_bytes(&mut sink, buf, opts),
            Err(e) => sink.facts.skip = Some(format!("cannot read: {e}")),
        }
        if buf.capacity() > KEEP {
            *buf = Vec::new();
        }
        sink.facts
    })
}

/// Extracts facts from a file's content as read by the caller (a git blob, say).
pub fn extract_read(
    cand: &Candidate,
    opts: &ExtractOptions,
    read: std::io::Result<Vec<u8>>,
) -> FileFacts {
    let mut sink = Sink::new(cand, opts);
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            sink.facts.skip = Some(format!("cannot read: {e}"));
            return sink.facts;
        }
    };
    extract_bytes(&mut sink, &bytes, opts);
    sink.facts
}

/// Extracts facts from a file's content (also used for git blobs later).
pub(crate) fn extract_bytes(sink: &mut Sink<'_>, bytes: &[u8], opts: &ExtractOptions) {
    let mut class = sink.cand.class;
    // UTF-16/32 text (with its byte order mark) holds NUL bytes but is text.
    let wide = crate::read::text::wide_bom(bytes).is_some();
    let crl_name = file_name(&sink.cand.rel)
        .to_ascii_lowercase()
        .ends_with(".crl");
    let binary = !wide
        && (memchr::memchr(0, bytes).is_some()
            || ((crl_name || matches!(class, FileClass::Pem | FileClass::Der))
                && looks_der(bytes)));
    if class == FileClass::Other && !binary {
        // What kubectl, Helm or Hiera would load is YAML whatever its name.
        let sniffed = if wide {
            crate::discover::sniff_yaml(&sink.cand.rel, decode(bytes).text.as_bytes())
        } else {
            crate::discover::sniff_yaml(&sink.cand.rel, bytes)
        };
        if sniffed || (sink.cand.explicit && parses_as_yaml_structure(bytes, opts)) {
            class = FileClass::Yaml;
        }
    }
    if binary {
        let der_key = der_private_key_kind(bytes);
        match class {
            // A DER CRL (`ca.crl`, or any binary file of that shape).
            _ if der_key.is_none() && looks_der(bytes) && x509::is_crl(bytes) => {
                sink.facts.scanned = true;
                let location = sink.loc(1, 1);
                sink.der_crl(bytes, location, "file (DER)");
            }
            FileClass::Der | FileClass::Pem | FileClass::Other if der_key.is_some() => {
                sink.facts.scanned = true;
                let location = sink.loc(1, 1);
                sink.facts.keys.push(KeySighting {
                    location,
                    kind: der_key.unwrap_or_default().to_owned(),
                    via: "file (DER)".to_owned(),
                    id: Some(der_key_id(bytes)),
                });
            }
            FileClass::Der | FileClass::Pem => {
                sink.facts.scanned = true;
                let trust = is_trust_name(file_name(&sink.cand.rel));
                let bundle = sink.new_bundle(sink.loc(1, 1), "file (DER)", trust);
                if looks_der(bytes) && x509::parse(bytes).is_ok() {
                    let loc = sink.loc(1, 1);
                    sink.der_cert(bytes, loc, "file (DER)", bundle, trust);
                } else {
                    let loc = sink.loc(1, 1);
                    sink.problem(
                        loc,
                        Severity::Error,
                        "binary file with a certificate's name is not a DER certificate".into(),
                    );
                }
            }
            FileClass::Yaml | FileClass::Other => {
                sink.facts.skip = Some(crate::discover::BINARY.into())
            }
        }
        return;
    }
    // A file named on the command line is always read (and counted).
    let read_anyway = sink.cand.explicit;
    // Base64 of PEM counts too: a kubeconfig's `client-key-data` in a
    // file named like prose must not hide its key.
    if class == FileClass::Other
        && !wide
        && !read_anyway
        && !crate::read::text::has_tls_marker(bytes)
    {
        return;
    }
    let decoded = decode(bytes);
    if class == FileClass::Other
        && wide
        && !read_anyway
        && !crate::read::text::has_tls_marker(decoded.text.as_bytes())
    {
        return;
    }
    sink.facts.scanned = true;
    let mut text = decoded.text;
    let parts = if class == FileClass::Yaml {
        match json_flavour(&sink.cand.rel, &text) {
            JsonFlavour::Lines => json_lines(&text),
            JsonFlavour::Commented => {
                // JSONC (VS Code settings, devcontainer.json): comments
                // blanked out, lines and columns kept.
                text = std::borrow::Cow::Owned(blank_json_comments(&text));
                prefilter::parts(&text)
            }
            JsonFlavour::Plain => prefilter::parts(&text),
        }
    } else {
        Vec::new()
    };
    if class == FileClass::Yaml
        && opts.prefilter
        && decoded.invalid_at.is_none()
        && !parts.iter().any(|&(_, r)| r == Relevance::Parse)
    {
        // Nothing here can be a fact but a Service: not even the line
        // index is needed.
        let mut line = 0;
        let mut counted = 0;
        for (range, r) in parts {
            if r == Relevance::ServiceOnly {
                line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..range.start]).count();
                counted = range.start;
                sink.facts.deferred.push(Deferred {
                    text: text[range].to_owned(),
                    line_base: u32::try_from(line).unwrap_or(u32::MAX),
                });
            }
        }
        return;
    }
    let lines = Lines::new(&text);
    if let Some(at) = decoded.invalid_at {
        if class == FileClass::Yaml {
            let (l, c) = lines.line_col(&text, at.min(text.len()));
            let loc = sink.loc(l, c);
            sink.problem(
                loc,
                Severity::Warning,
                "not valid UTF-8 (YAML must be Unicode); invalid bytes were replaced and the rest was read".into(),
            );
        }
    }
    let cand = sink.cand;
    let file_at = |off: usize| {
        let (l, c) = lines.line_col(&text, off);
        Location::new(cand.root, cand.rel.clone(), l, c)
    };
    match class {
        FileClass::Yaml => yaml_doc::extract_yaml(sink, &text, &lines, parts, opts),
        FileClass::Pem | FileClass::Der => {
            let trust = is_trust_name(file_name(&sink.cand.rel));
            let (_, found) = sink.pem_text(text.as_bytes(), "file", trust, true, &file_at);
            if found == 0
                && sink.facts.problems.is_empty()
                && !text.trim().is_empty()
                && !is_openssh_public_key(&text)
            {
                let loc = sink.loc(1, 1);
                sink.problem(
                    loc,
                    Severity::Warning,
                    "no PEM block found in a file named like a certificate".into(),
                );
            }
        }
        FileClass::Other => {
            sink.searching = true;
            sink.pem_text(text.as_bytes(), "file", false, false, &file_at);
            // Base64 of PEM anywhere (code, prose, unknown text): what
            // decodes is read; what does not is not this file's fault.
            sink.base64_pem_text(text.as_bytes(), "file (base64)", false, false, &file_at);
            if is_documentation(&cand.rel) {
                // A certificate quoted in prose is an example, not configuration;
                // a private key is a leak wherever it is.
                sink.facts.certs.clear();
                sink.facts.crls.clear();
            }
        }
    }
}

/// What kind of JSON a YAML-class file holds, when its own syntax is not
/// one that YAML reads as it is.
#[derive(Debug, PartialEq, Eq)]
enum JsonFlavour {
    /// YAML, or JSON that is YAML as it is.
    Plain,
    /// JSON with `//` or `/* */` comments (JSONC).
    Commented,
    /// One JSON value per line (NDJSON, JSON Lines).
    Lines,
}

fn json_flavour(rel: &str, text: &str) -> JsonFlavour {
    let lower = file_name(rel).to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    let first = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .as_bytes()
        .first()
        .copied();
    let json_like =
        matches!(ext, "json" | "jsonc" | "ndjson" | "jsonl") && matches!(first, Some(b'{' | b'['));
    if !json_like {
        return JsonFlavour::Plain;
    }
    let mut values = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let one_per_line = values.clone().count() > 1
        && values.all(|l| {
            (l.starts_with('{') && l.ends_with('}')) || (l.starts_with('[') && l.ends_with(']'))
        });
    if matches!(ext, "ndjson" | "jsonl") || one_per_line {
        JsonFlavour::Lines
    } else if has_json_comment(text) {
        JsonFlavour::Commented
    } else {
        JsonFlavour::Plain
    }
}

/// Calls `f` with the byte range of every `//` or `/* */` comment outside
/// JSON strings.
fn json_comments(text: &str, mut f: impl FnMut(std::ops::Range<usize>)) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        match (in_str, b[i], b.get(i + 1)) {
            (true, b'\\', _) => i += 1,
            (true, b'"', _) | (false, b'"', _) => in_str = !in_str,
            (false, b'/', Some(b'/')) => {
                let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |e| i + e);
                f(i..end);
                i = end;
                continue;
            }
            (false, b'/', Some(b'*')) => {
                let end =
                    memchr::memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |e| i + 2 + e + 2);
                f(i..end);
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

fn has_json_comment(text: &str) -> bool {
    let mut any = false;
    json_comments(text, |_| any = true);
    any
}

/// `text` with every JSON comment replaced by spaces (line breaks kept, one
/// space per character, so lines and columns stay).
fn blank_json_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    json_comments(text, |r| {
        out.push_str(&text[last..r.start]);
        for c in text[r.clone()].chars() {
            out.push(if c == '\n' || c == '\r' { c } else { ' ' });
        }
        last = r.end;
    });
    out.push_str(&text[last..]);
    out
}

/// NDJSON: every line is its own document.
fn json_lines(text: &str) -> Vec<(std::ops::Range<usize>, Relevance)> {
    let mut parts = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let range = start..start + line.len();
        start = range.end;
        if !line.trim().is_empty() {
            let relevance = prefilter::classify(line.as_bytes());
            parts.push((range, relevance));
        }
    }
    parts
}

/// Whether `bytes` (a file named on the command line whose name and content
/// say nothing) parse as a YAML mapping or sequence: then it is read as YAML.
fn parses_as_yaml_structure(bytes: &[u8], opts: &ExtractOptions) -> bool {
    let text = decode(bytes).text;
    let stream = yaml::parse(&text, &opts.yaml_limits);
    stream.error.is_none()
        && stream.docs.iter().any(|d| {
            d.root()
                .is_some_and(|r| !matches!(d.node(d.resolve(r)).kind, yaml::Kind::Scalar { .. }))
        })
}

/// A DER SEQUENCE header: what a binary certificate or key starts with
/// (a long-form length, or a short one that spans exactly the input).
fn looks_der(bytes: &[u8]) -> bool {
    bytes.len() > 4
        && bytes[0] == 0x30
        && (matches!(bytes[1], 0x81..=0x84) || usize::from(bytes[1]) == bytes.len() - 2)
}

/// One DER element: (tag, contents, rest). Definite lengths only.
fn der_element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, b) = b.split_first()?;
    let (len, b) = match first {
        0..=0x7f => (usize::from(first), b),
        0x81..=0x84 => {
            let n = usize::from(first - 0x80);
            let (len, b) = (b.get(..n)?, &b[n..]);
            (
                len.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x)),
                b,
            )
        }
        _ => return None,
    };
    let contents = b.get(..len)?;
    Some((tag, contents, &b[len..]))
}

/// The kind of private key `der` holds, from its ASN.1 shape alone (the
/// key is never decoded): PKCS#8 `PrivateKeyInfo` (version 0 or 1,
/// AlgorithmIdentifier, OCTET STRING), PKCS#1 `RSAPrivateKey` (version 0,
/// then INTEGERs), SEC1 `ECPrivateKey` (version 1, OCTET STRING) or PKCS#8
/// `EncryptedPrivateKeyInfo` (AlgorithmIdentifier, OCTET STRING).
pub(crate) fn der_private_key_kind(der: &[u8]) -> Option<&'static str> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OCTET_STRING: u8 = 0x04;
    let (tag, body, rest) = der_element(der)?;
    if tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let (t1, v1, rest) = der_element(body)?;
    let (t2, _, rest) = der_element(rest)?;
    match (t1, v1, t2) {
        (SEQUENCE, _, OCTET_STRING) if rest.is_empty() => Some("ENCRYPTED PRIVATE KEY (DER)"),
        (INTEGER, [0] | [1], SEQUENCE) => {
            let (t3, _, _) = der_element(rest)?;
            (t3 == OCTET_STRING).then_some("PRIVATE KEY (DER)")
        }
        (INTEGER, [0], INTEGER) => {
            let (t3, _, _) = der_element(rest)?;
            (t3 == INTEGER).then_some("RSA PRIVATE KEY (DER)")
        }
        (INTEGER, [1], OCTET_STRING) => Some("EC PRIVATE KEY (DER)"),
        _ => None,
    }
}

/// Prose files: their PEM blocks are examples.
fn is_documentation(rel: &str) -> bool {
    let lower = file_name(rel).to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    matches!(
        ext,
        "md" | "markdown" | "rst" | "txt" | "adoc" | "html" | "htm" | "org"
    )
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn a_key_is_known_by_its_body_wherever_it_stands() {
        let k = rcgen::KeyPair::generate().unwrap();
        let pem = k.serialize_pem();
        let indented: String = pem.lines().map(|l| format!("    {l}\n")).collect();
        assert_eq!(key_id(pem.as_bytes()), key_id(indented.as_bytes()));
        assert_eq!(key_id(pem.as_bytes()), der_key_id(&k.serialize_der()));
        let other = rcgen::KeyPair::generate().unwrap().serialize_pem();
        assert_ne!(key_id(pem.as_bytes()), key_id(other.as_bytes()));
    }

    #[test]
    fn json_flavours() {
        assert_eq!(json_flavour("a.json", "{\"a\": 1}\n"), JsonFlavour::Plain);
        assert_eq!(json_flavour("a.yaml", "{a: 1} // x\n"), JsonFlavour::Plain);
        let jsonc = "{\n  // the image\n  \"image\": \"http://x\", /* inline */ \"b\": 2\n}\n";
        assert_eq!(
            json_flavour("devcontainer.json", jsonc),
            JsonFlavour::Commented
        );
        let blanked = blank_json_comments(jsonc);
        assert_eq!(blanked.len(), jsonc.len());
        assert!(blanked.contains("\"http://x\""));
        assert!(!blanked.contains("image\n") && !blanked.contains("inline"));
        assert_eq!(blanked.lines().count(), jsonc.lines().count());
        let nd = "{\"a\": 1}\n{\"b\": 2}\n";
        assert_eq!(json_flavour("events.json", nd), JsonFlavour::Lines);
        assert_eq!(
            json_flavour("events.ndjson", "{\"a\": 1}\n"),
            JsonFlavour::Lines
        );
        assert_eq!(
            json_lines(nd)
                .iter()
                .map(|(r, _)| r.clone())
                .collect::<Vec<_>>(),
            [0..9, 9..18]
        );
    }
}

#[cfg(test)]
mod der_key_tests {
    use super::der_private_key_kind;

    #[test]
    fn private_keys_are_told_from_their_shape() {
        let key = rcgen::KeyPair::generate().unwrap();
        assert_eq!(
            der_private_key_kind(&key.serialize_der()),
            Some("PRIVATE KEY (DER)")
        );
        let cert = rcgen::CertificateParams::new(vec!["a.example".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert_eq!(der_private_key_kind(cert.der()), None);
        // SEC1, PKCS#1 and EncryptedPrivateKeyInfo shapes.
        let sec1 = [0x30, 0x07, 0x02, 0x01, 0x01, 0x04, 0x02, 0xaa, 0xbb];
        assert_eq!(der_private_key_kind(&sec1), Some("EC PRIVATE KEY (DER)"));
        let pkcs1 = [
            0x30, 0x09, 0x02, 0x01, 0x00, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03,
        ];
        assert_eq!(der_private_key_kind(&pkcs1), Some("RSA PRIVATE KEY (DER)"));
        let enc = [0x30, 0x08, 0x30, 0x02, 0x05, 0x00, 0x04, 0x02, 0xaa, 0xbb];
        assert_eq!(
            der_private_key_kind(&enc),
            Some("ENCRYPTED PRIVATE KEY (DER)")
        );
        // Truncated, trailing bytes, garbage: not keys, no panic.
        for bad in [
            &sec1[..5],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
            b"",
            &[0x30][..],
        ] {
            assert_eq!(der_private_key_kind(bad), None);
        }
        let mut trailing = sec1.to_vec();
        trailing.push(0);
        assert_eq!(der_private_key_kind(&trailing), None);
    }
}
