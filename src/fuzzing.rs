//! Fuzz target bodies, shared by `fuzz/fuzz_targets/*.rs` (cargo-fuzz, nightly)
//! and `tests/fuzz_regressions.rs` (stable, replays `fuzz/corpus/<target>/`
//! and `fuzz/regressions/<target>/` in `cargo test`).
//!
//! In: arbitrary bytes. Out: nothing; each function drives one real stage of
//! the pipeline over the bytes and panics only when an invariant a user would
//! notice is broken (a position outside the input, a fingerprint that is not
//! the SHA-256 of the DER, key material in a message, a diff of a tree with
//! itself that reports changes, different answers to the same question).
//! Inputs that need several files are split on [`FILE_SEPARATOR`] lines.
//!
//! Not part of the stable API.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use crate::diff::{self, DiffOptions};
use crate::discover::{classify, Candidate, FileClass, WalkOptions};
use crate::extract::hiera::{Facts, Hiera, HieraOptions, Merge};
use crate::extract::{self, prefilter, ExtractOptions, FileFacts};
use crate::finding::Location;
use crate::read::source::FileSource;
use crate::read::{pem, yaml};
use crate::scan::ScanOptions;
use crate::verify::{self, Usage};
use crate::x509::{self, CertInfo, Fingerprint};

/// One fuzz target's body.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (also the directory names under `fuzz/corpus/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("pem", pem),
    ("x509", x509),
    ("yaml", yaml),
    ("hiera", hiera),
    ("kube", kube),
    ("chain", chain),
    ("diff", diff),
];

/// Separates files in multi-file inputs: a line `%%% NAME` starts file
/// `NAME` (up to the next such line). Text before the first one is the
/// first file, with a default name.
pub const FILE_SEPARATOR: &str = "%%% ";

/// Separates the BASE tree from the HEAD tree in [`diff`] inputs.
pub const SIDE_SEPARATOR: &str = "%%%% HEAD\n";

/// Fixed evaluation time of every target (2026-01-01T00:00:00Z).
const NOW: i64 = 1_767_225_600;

/// Smaller limits than the defaults, so one run stays fast; the limits
/// themselves are exercised by hitting them.
fn limits() -> yaml::Limits {
    yaml::Limits {
        max_depth: 64,
        max_nodes: 50_000,
        max_bytes: 1 << 20,
        max_alias_expansion: 200_000,
    }
}

/// Files of a multi-file input, in order, with sanitised relative names.
pub fn split_files(text: &str, default_name: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut name = default_name.to_string();
    let mut body = String::new();
    let mut started = false;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(FILE_SEPARATOR) {
            if started || !body.is_empty() {
                out.push((name, std::mem::take(&mut body).into_bytes()));
            }
            started = true;
            name = sanitize(rest.trim_end_matches(['\n', '\r']), out.len());
            continue;
        }
        body.push_str(line);
    }
    if started || !body.is_empty() {
        out.push((name, body.into_bytes()));
    }
    out
}

/// A relative `/`-separated path without empty, `.` or `..` components.
fn sanitize(name: &str, n: usize) -> String {
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    if parts.is_empty() {
        format!("file{n}.yaml")
    } else {
        parts.join("/")
    }
}

/// Files held in memory: a [`FileSource`] for targets that read trees.
#[derive(Clone, Debug, Default)]
pub struct MemSource {
    /// Contents by relative path (a later duplicate replaces an earlier one).
    pub files: BTreeMap<String, Vec<u8>>,
}

impl MemSource {
    /// A source holding `files`.
    pub fn new(files: Vec<(String, Vec<u8>)>) -> MemSource {
        MemSource {
            files: files.into_iter().collect(),
        }
    }
}

impl FileSource for MemSource {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.files
            .get(rel)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let dir = dir.trim_end_matches('/');
        self.files
            .keys()
            .filter(|p| dir.is_empty() || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/')))
            .cloned()
            .collect()
    }
}

/// PEM framing ([`pem::scan`]): blocks and errors are in order, inside the
/// input, start at a BEGIN boundary and end after dashes; private keys are
/// never decoded and no message quotes a body line; line/column lookups of
/// every offset work.
pub fn pem(data: &[u8]) {
    let items = pem::scan(data);
    let idx = pem::LineIndex::new(data);
    let mut last = 0usize;
    for item in &items {
        match item {
            pem::PemItem::Block(b) => {
                assert!(b.begin >= last, "blocks out of order: {} < {last}", b.begin);
                assert!(
                    b.begin < b.end && b.end <= data.len(),
                    "block outside input"
                );
                let framed = &data[b.begin..b.end];
                assert!(
                    framed.starts_with(b"-----BEGIN "),
                    "block does not start at BEGIN"
                );
                assert!(framed.ends_with(b"-----"), "block does not end with dashes");
                if pem::is_private_key_label(&b.label) {
                    assert!(b.der.is_empty(), "private key decoded");
                } else {
                    assert!(!b.der.is_empty(), "empty block returned as a block");
                }
                last = b.end;
                let _ = idx.line_col(b.begin);
                let _ = idx.line_col(b.end);
            }
            pem::PemItem::Error(e) => {
                assert!(
                    e.offset >= last,
                    "errors out of order: {} < {last}",
                    e.offset
                );
                assert!(e.offset < data.len(), "error offset outside input");
                assert!(
                    data[e.offset..].starts_with(b"---"),
                    "error not at a boundary"
                );
                last = e.offset;
                let _ = idx.line_col(e.offset);
            }
        }
    }
    assert_no_key_material(data, &format!("{items:?}"));
}

/// Panics if `shown` quotes a body line (16+ base64 characters) of a
/// private-key PEM block of `data` (lines that also occur outside such
/// blocks are not checked: they may be quoted for that other reason).
fn assert_no_key_material(data: &[u8], shown: &str) {
    let text = String::from_utf8_lossy(data);
    let mut in_key = false;
    let mut key_lines = Vec::new();
    let mut other_lines = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.contains("-----BEGIN ") {
            in_key = pem::is_private_key_label(t);
        } else if t.contains("-----END ") {
            in_key = false;
        } else if in_key
            && t.len() >= 16
            && t.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        {
            key_lines.push(t);
            continue;
        }
        other_lines.push(t);
    }
    for k in key_lines {
        if !other_lines.iter().any(|o| o.contains(k)) {
            assert!(!shown.contains(k), "private key material in output");
        }
    }
}

/// DER certificate facts ([`x509::parse`]): the fingerprint is the SHA-256 of
/// the DER, names are printable (control characters escaped), the version is
/// at least 1 and issuance, self-signature and chain checks answer without
/// panicking. Also tried on each PEM block the input holds.
pub fn x509(data: &[u8]) {
    x509_one(data);
    for item in pem::scan(data) {
        if let pem::PemItem::Block(b) = item {
            x509_one(&b.der);
        }
    }
}

fn x509_one(der: &[u8]) {
    let Ok(ci) = x509::parse(der) else {
        return;
    };
    assert_eq!(ci.fingerprint, Fingerprint::of(der));
    assert_eq!(&*ci.der, der);
    let sha = ring::digest::digest(&ring::digest::SHA256, der);
    assert_eq!(ci.fingerprint.hex(), hex::encode(sha.as_ref()));
    assert!(ci.version >= 1, "version {}", ci.version);
    for name in [&ci.subject, &ci.issuer] {
        assert!(
            !name.chars().any(|c| c.is_control()),
            "control character in name {name:?}"
        );
    }
    let _ = ci.key.to_string();
    let _ = x509::issued_by(&ci, &ci);
    let _ = x509::is_self_signed(&ci);
    let _ = verify::verify(&[&ci], &[&ci], NOW, Usage::ServerAuth, Some("example.org"));
}

/// YAML reader ([`yaml::parse`]): every node's position lies inside the
/// input (line within the line count, char index within the char count),
/// starts before it ends, documents are in order, and the tree accessors
/// (resolve, entries, scalars) terminate on any tree, aliases included.
pub fn yaml(data: &[u8]) {
    crate::read::yaml::quiet_parser_panics();
    let text = String::from_utf8_lossy(data);
    let stream = yaml::parse(&text, &limits());
    let chars = text.chars().count();
    // The reader counts `\n`, `\r\n` and a lone `\r` as one line break each.
    let breaks =
        text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count();
    let max_line = u32::try_from(breaks + 1).unwrap_or(u32::MAX);
    let check = |m: &yaml::Mark, what: &str| {
        assert!(
            m.line >= 1 && m.line <= max_line,
            "{what} line {} > {max_line}",
            m.line
        );
        assert!(m.col >= 1, "{what} column 0");
        assert!(m.index <= chars, "{what} index {} > {chars}", m.index);
    };
    let mut prev_end = 0usize;
    for doc in &stream.docs {
        check(&doc.start, "document start");
        check(&doc.end, "document end");
        assert!(
            doc.start.index <= doc.end.index,
            "document ends before it starts"
        );
        assert!(doc.start.index >= prev_end, "documents out of order");
        prev_end = doc.end.index;
        for node in doc.nodes() {
            check(&node.start, "node start");
            check(&node.end, "node end");
            assert!(
                node.start.index <= node.end.index,
                "node ends before it starts"
            );
        }
        if let Some(root) = doc.root() {
            for i in 0..doc.len().min(2_000) {
                let id = yaml::NodeId(i as u32);
                let r = doc.resolve(id);
                let _ = doc.str(r);
                let _ = doc.seq(r);
                let _ = doc.entries(r);
                let _ = doc.is_null(r);
            }
            let _ = doc.get_path(root, &["metadata", "name"]);
            let (scalars, _) = doc.scalars_budgeted(10_000);
            for (id, _) in scalars {
                check(&doc.node(id).start, "scalar");
            }
        }
    }
    if let Some(e) = &stream.error {
        check(&e.mark, "error");
    }
}

/// Hiera engine ([`Hiera::load`], [`Hiera::lookup`]): the input is a tree of
/// files (see [`split_files`]); without a `hiera.yaml` a fixed hierarchy over
/// `data/common.yaml` and `data/nodes/%{trusted.certname}.yaml` is used. Every
/// top-level key of every data file is looked up with each merge behaviour;
/// interpolation (`%{lookup('k')}`, `%{alias('k')}`, ...) must terminate and
/// the same lookup twice must give the same answer.
pub fn hiera(data: &[u8]) {
    crate::read::yaml::quiet_parser_panics();
    let text = String::from_utf8_lossy(data);
    let mut files = split_files(&text, "data/common.yaml");
    if !files.iter().any(|(n, _)| n == "hiera.yaml") {
        files.push((
            "hiera.yaml".into(),
            b"version: 5\ndefaults:\n  datadir: data\n  data_hash: yaml_data\nhierarchy:\n  - name: node\n    path: \"nodes/%{trusted.certname}.yaml\"\n  - name: common\n    path: common.yaml\n".to_vec(),
        ));
    }
    let mut keys: Vec<String> = Vec::new();
    for (name, body) in &files {
        if name == "hiera.yaml" {
            continue;
        }
        let t = String::from_utf8_lossy(body);
        let stream = yaml::parse(&t, &limits());
        for doc in &stream.docs {
            let Some(root) = doc.root() else { continue };
            for (k, _) in doc.entries(root).into_iter().take(8) {
                if let Some(s) = doc.str(k) {
                    keys.push(s.to_string());
                }
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys.truncate(12);
    let src: Arc<dyn FileSource> = Arc::new(MemSource::new(files));
    let Ok(h) = Hiera::load(src, "hiera.yaml", HieraOptions::default()) else {
        return;
    };
    let mut facts = Facts::new();
    facts.set("trusted.certname", "host1.example.org");
    facts.set("environment", "production");
    for key in &keys {
        for merge in [
            None,
            Some(Merge::First),
            Some(Merge::Unique),
            Some(Merge::Hash),
            Some(Merge::Deep),
        ] {
            let l = h.lookup(key, &facts, merge);
            if merge.is_none() {
                assert_eq!(
                    l,
                    h.lookup(key, &facts, merge),
                    "lookup of {key:?} is not repeatable"
                );
                let _ = crate::report::lookup::render_lookup(key, &l, true, &|_| None);
            }
        }
    }
}

/// Extraction of one file ([`extract::extract_read`]): the first byte picks
/// the file's class (YAML, PEM, DER, other; Kubernetes manifests with base64
/// in Secret/ConfigMap data and `caBundle` are YAML). Every location is
/// inside the file, every certificate's fingerprint is the SHA-256 of its
/// DER, and no fact or message quotes private-key material.
pub fn kube(data: &[u8]) {
    crate::read::yaml::quiet_parser_panics();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (name, class) = match mode % 4 {
        0 => ("manifests/all.yaml", FileClass::Yaml),
        1 => ("pki/ca.crt", FileClass::Pem),
        2 => ("pki/ca.der", FileClass::Der),
        _ => ("notes.txt", FileClass::Other),
    };
    assert_eq!(classify(name.rsplit('/').next().unwrap_or(name)), class);
    let cand = Candidate {
        root: 0,
        rel: name.to_string(),
        abs: PathBuf::from(name),
        size: rest.len() as u64,
        class,
        explicit: false,
    };
    let opts = ExtractOptions {
        yaml_limits: limits(),
        ..ExtractOptions::default()
    };
    let facts = extract::extract_read(&cand, &opts, Ok(rest.to_vec()));
    check_facts(rest, name, &facts);
    // A deferred document is parsed only if a client's name occurs in it:
    // every Service it holds must be found by its own name.
    for doc in &facts.deferred {
        let (services, problems, _) = extract::deferred_services(&cand, doc, &opts);
        let late = FileFacts {
            objects: services,
            problems,
            ..FileFacts::default()
        };
        check_facts(rest, name, &late);
        for o in &late.objects {
            // (An unnamed one is looked up by parsing every document.)
            if let Some(finder) = prefilter::NameFinder::new([o.name.as_str()]) {
                assert!(
                    finder.may_name(doc.text.as_bytes()),
                    "Service {:?} not found by its name in {:?}",
                    o.name,
                    doc.text
                );
            }
        }
    }
    // The prefilter never changes what a file yields.
    let all = ExtractOptions {
        prefilter: false,
        ..opts
    };
    let unfiltered = extract::extract_read(&cand, &all, Ok(rest.to_vec()));
    assert_eq!(
        format!("{facts:?}"),
        format!("{unfiltered:?}"),
        "the prefilter changed the facts of {name}"
    );
}

fn check_facts(data: &[u8], name: &str, facts: &FileFacts) {
    let text = String::from_utf8_lossy(data);
    let breaks =
        text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count();
    let max_line = u32::try_from(breaks + 1).unwrap_or(u32::MAX);
    let check = |l: &Location| {
        assert_eq!(l.path, name);
        assert!(
            l.line >= 1 && l.line <= max_line,
            "line {} > {max_line}",
            l.line
        );
        assert!(l.column >= 1, "column 0");
    };
    for c in &facts.certs {
        check(&c.location);
        assert_eq!(c.cert.fingerprint, Fingerprint::of(&c.cert.der));
        assert!(
            (c.bundle as usize) < facts.bundles.len(),
            "sighting of a missing bundle"
        );
    }
    facts.keys.iter().for_each(|k| check(&k.location));
    facts.problems.iter().for_each(|p| check(&p.location));
    facts.bundles.iter().for_each(|b| check(&b.location));
    facts.objects.iter().for_each(|o| check(&o.location));
    let shown = format!("{:?} {:?}", facts.keys, facts.problems);
    assert_no_key_material(data, &shown);
}

/// Chain building ([`verify::verify`]) over an arbitrary certificate set:
/// byte 0 picks the usage and the name, bytes 1..3 which certificates are
/// anchors and where the chain starts, bytes 3..5 shift the evaluation
/// time; the rest is PEM text or concatenated DER certificates. The same
/// question must get the same answer, also with the intermediates reversed
/// when the verdict is `Valid`; so must the strict profile
/// ([`verify::strict`]), whose refusal names a given certificate.
pub fn chain(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let (head, rest) = data.split_at(5);
    let certs = certs_of(rest);
    if certs.is_empty() {
        return;
    }
    let usage = if head[0] & 1 == 0 {
        Usage::ServerAuth
    } else {
        Usage::ClientAuth
    };
    let name = match (head[0] >> 1) % 4 {
        0 => None,
        1 => Some("example.org"),
        2 => Some("192.0.2.1"),
        _ => certs[0].sans.iter().find_map(|s| match s {
            x509::San::Dns(d) => Some(d.as_str()),
            _ => None,
        }),
    };
    let mask = head[1];
    let start = usize::from(head[2]) % certs.len();
    let now = NOW + i64::from(i16::from_le_bytes([head[3], head[4]])) * 86_400 * 30;
    let all: Vec<&CertInfo> = certs.iter().collect();
    let mut anchors: Vec<&CertInfo> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << (i % 8)) != 0)
        .map(|(_, c)| *c)
        .collect();
    if anchors.is_empty() {
        anchors.push(all[all.len() - 1]);
    }
    let mut chain: Vec<&CertInfo> = all[start..].to_vec();
    chain.extend(&all[..start]);
    let v = verify::verify(&chain, &anchors, now, usage, name);
    assert_eq!(
        v,
        verify::verify(&chain, &anchors, now, usage, name),
        "verify is not repeatable"
    );
    if v == verify::Verdict::Valid && chain.len() > 2 {
        let mut rev = vec![chain[0]];
        rev.extend(chain[1..].iter().rev());
        let r = verify::verify(&rev, &anchors, now, usage, name);
        assert_eq!(r, v, "intermediate order changed a valid verdict");
    }
    // The strict profile (`strict-profile`) on any chain: repeatable, and
    // a refusal names a certificate of the chain or the bundle.
    let strict = verify::strict::refusal(&chain, &anchors, now);
    assert_eq!(
        strict,
        verify::strict::refusal(&chain, &anchors, now),
        "strict::refusal is not repeatable"
    );
    if let Some(r) = strict {
        assert!(!r.reasons.is_empty(), "a strict refusal without a reason");
        assert!(
            all.iter().any(|c| c.fingerprint == r.fingerprint),
            "a strict refusal of a certificate not given"
        );
    }
    for a in &all {
        let _ = verify::strict::reasons(a, false);
        for b in &all {
            let _ = x509::issued_by(a, b);
        }
    }
}

/// At most this many certificates per [`chain`] input (pairwise checks).
const MAX_CHAIN_CERTS: usize = 12;

/// Certificates in `data`: its PEM blocks, or else concatenated DER.
fn certs_of(data: &[u8]) -> Vec<CertInfo> {
    let mut out = Vec::new();
    if pem::looks_like_pem(data) {
        for item in pem::scan(data) {
            if let pem::PemItem::Block(b) = item {
                if let Ok(c) = x509::parse(&b.der) {
                    out.push(c);
                }
            }
            if out.len() >= MAX_CHAIN_CERTS {
                break;
            }
        }
        return out;
    }
    let mut rest = data;
    while let Some(len) = der_len(rest) {
        let (one, tail) = rest.split_at(len);
        if let Ok(c) = x509::parse(one) {
            out.push(c);
        }
        rest = tail;
        if out.len() >= MAX_CHAIN_CERTS {
            break;
        }
    }
    out
}

/// Length of the DER SEQUENCE at the start of `data` (header included), if
/// it fits.
fn der_len(data: &[u8]) -> Option<usize> {
    if *data.first()? != 0x30 {
        return None;
    }
    let first = usize::from(*data.get(1)?);
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = data.get(2..2 + n)?;
        (
            bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b)),
            2 + n,
        )
    };
    let total = header.checked_add(len)?;
    (total <= data.len()).then_some(total)
}

/// The built-in policy, parsed once per process (parsing it per input
/// dominated the `diff` target's time).
fn builtin_policy() -> &'static crate::policy::Policy {
    static POLICY: std::sync::OnceLock<crate::policy::Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(crate::policy::builtin)
}

/// The inventory diff ([`diff::run`]): the input is a BASE tree, then
/// [`SIDE_SEPARATOR`], then a HEAD tree (each split with [`split_files`];
/// without the separator HEAD is BASE with its last file dropped). Both
/// sides go through the whole scan pipeline (built-in policy). A tree diffed
/// with itself has no changes, no changed files and no new findings; the
/// real diff must give the same changes when run again.
pub fn diff(data: &[u8]) {
    crate::read::yaml::quiet_parser_panics();
    let text = String::from_utf8_lossy(data);
    let (base_text, head_text) = match text.split_once(SIDE_SEPARATOR) {
        Some((b, h)) => (b.to_string(), Some(h.to_string())),
        None => (text.to_string(), None),
    };
    let base_files = split_files(&base_text, "manifests/all.yaml");
    let head_files = match head_text {
        Some(h) => split_files(&h, "manifests/all.yaml"),
        None => {
            let mut f = base_files.clone();
            f.pop();
            f
        }
    };
    if base_files.len() + head_files.len() > 16 {
        return;
    }
    let base: Arc<dyn FileSource> = Arc::new(MemSource::new(base_files));
    let head: Arc<dyn FileSource> = Arc::new(MemSource::new(head_files));
    let opts = ScanOptions {
        roots: vec![PathBuf::from(".")],
        walk: WalkOptions {
            exclude: Vec::new(),
            max_file_size: 1 << 20,
            threads: 1,
        },
        extract: ExtractOptions {
            yaml_limits: limits(),
            ..ExtractOptions::default()
        },
        now: NOW,
        clock: false,
        warn_days: 30,
        threads: 1,
        map_paths: Vec::new(),
        policy: builtin_policy().clone(),
        facts: Facts::new(),
        source: None,
        baseline: None,
        progress: None,
        facts_cache: None,
    };
    let dopts = DiffOptions::default();
    let Ok(same) = diff::run(base.clone(), base.clone(), &opts, &dopts) else {
        return;
    };
    assert!(
        same.changes.is_empty(),
        "a tree diffed with itself changes: {:?}",
        same.changes
    );
    assert!(same.changed_files.is_empty(), "a tree differs from itself");
    assert!(
        same.findings.is_empty(),
        "new findings in a diff of a tree with itself: {:?}",
        same.findings
    );
    let Ok(d) = diff::run(base.clone(), head.clone(), &opts, &dopts) else {
        return;
    };
    let Ok(again) = diff::run(base, head, &opts, &dopts) else {
        panic!("a second identical diff failed");
    };
    assert_eq!(d.changes, again.changes, "diff is not repeatable");
    assert_eq!(
        d.findings, again.findings,
        "diff findings are not repeatable"
    );
    let shown = format!("{:?}", d.file_diffs);
    assert_no_key_material(data, &shown);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_files_names_and_bodies() {
        let files = split_files("a: 1\n%%% x/../b.yaml\nb: 2\n%%% /\n", "first.yaml");
        assert_eq!(
            files,
            vec![
                ("first.yaml".to_string(), b"a: 1\n".to_vec()),
                ("x/b.yaml".to_string(), b"b: 2\n".to_vec()),
                ("file2.yaml".to_string(), Vec::new()),
            ]
        );
    }

    #[test]
    fn der_len_reads_long_form() {
        assert_eq!(der_len(&[0x30, 0x02, 1, 2, 3]), Some(4));
        assert_eq!(der_len(&[0x30, 0x81, 0x01, 9]), Some(4));
        assert_eq!(der_len(&[0x30, 0x82, 0xff, 0xff]), None);
        assert_eq!(der_len(&[0x04, 0x00]), None);
    }
}
