//! `diff`: what the next deploy changes, per component, and why.
//!
//! In: the [`ScanResult`]s of BASE and HEAD (the same pipeline run on two
//! directories or two git revisions) and the set of files that differ.
//! Out: a [`DiffResult`] — per component, the changes of its serving
//! certificate (source, issuer, certificate, names), of each trust bundle
//! (as a set of anchors: added, removed), and of its client certificates,
//! each with the changed input files that cause it; the diff-only findings
//! (`source-change`, `trust-change`, `san-coverage` for lost names); and the
//! findings that are new at HEAD. Inventories are compared, not text. Both
//! sides are scanned with the same options, so a `--baseline` applies to
//! both, and a stale entry is reported when this change makes it stale.

use crate::finding::{sort_findings, Finding, Location, Related, Severity};
use crate::inventory::graph::{Anchors, Direction, Graph, Source};
use crate::inventory::Inventory;
use crate::scan::ScanResult;
use crate::verify::Verdict;
use crate::x509::{Fingerprint, San};
use std::collections::{BTreeMap, BTreeSet};

/// Diff settings.
#[derive(Clone, Debug, Default)]
pub struct DiffOptions {
    /// A change touching more components than this is an error.
    pub max_blast_radius: Option<usize>,
    /// Report findings present on both sides too.
    pub all: bool,
}

/// What changed for one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `scope/name` of the component.
    pub component: String,
    /// What kind of change.
    pub what: ChangeKind,
    /// Before (BASE), in words.
    pub before: String,
    /// After (HEAD), in words.
    pub after: String,
    /// Where it is at HEAD (or BASE, if removed).
    pub location: Location,
    /// Changed input files that cause it (`path` or `path:line`).
    pub causes: Vec<String>,
    /// Whether the component's own files changed too.
    pub own_files_changed: bool,
}

/// Kinds of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// A component appears.
    Added,
    /// A component disappears.
    Removed,
    /// The serving certificate's source or issuer.
    Source,
    /// The served certificate itself (same source).
    Certificate,
    /// The names the served certificate covers.
    Names,
    /// A trust bundle's anchors.
    Trust,
    /// A client certificate.
    Client,
}

impl ChangeKind {
    /// Lowercase name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Source => "source",
            ChangeKind::Certificate => "certificate",
            ChangeKind::Names => "names",
            ChangeKind::Trust => "trust",
            ChangeKind::Client => "client",
        }
    }
}

/// The outcome of a diff.
pub struct DiffResult {
    /// HEAD's scan (for summaries and excerpts).
    pub head: ScanResult,
    /// Changes, by component.
    pub changes: Vec<Change>,
    /// Diff findings plus HEAD findings that BASE did not have (all of HEAD's with `--all`).
    pub findings: Vec<Finding>,
    /// HEAD findings that BASE had too (not repeated unless `--all`).
    pub unchanged_findings: usize,
    /// Files that differ between the sides.
    pub changed_files: Vec<String>,
    /// Unified diffs (redacted) of the changed files that cause changes: (path, diff).
    pub file_diffs: Vec<(String, String)>,
}

/// A component's certificate facts on one side.
#[derive(Clone, Debug, Default)]
struct Snap {
    serves: BTreeMap<String, ServeSnap>,
    trusts: BTreeMap<String, TrustSnap>,
    clients: BTreeMap<String, (Option<Fingerprint>, Location)>,
    inputs: BTreeSet<String>,
    own: BTreeSet<String>,
    location: Option<Location>,
}

#[derive(Clone, Debug)]
struct ServeSnap {
    source: String,
    fingerprint: Option<Fingerprint>,
    names: Option<Vec<String>>,
    location: Location,
    cause: Location,
}

#[derive(Clone, Debug)]
struct TrustSnap {
    anchors: Option<BTreeSet<Fingerprint>>,
    location: Location,
    /// Peer name → whether the check passed.
    verdicts: BTreeMap<String, bool>,
}

fn key(g: &Graph, c: usize) -> String {
    let comp = &g.components[c];
    if comp.scope.is_empty() {
        comp.name.clone()
    } else {
        format!("{}/{}", comp.scope, comp.name)
    }
}

fn leaf_names(inv: &Inventory, b: usize) -> Option<(Fingerprint, Vec<String>)> {
    let (fp, _) = inv.bundles.get(b)?.members.first()?;
    let e = inv.certs.get(fp)?;
    let names = e
        .info
        .sans
        .iter()
        .filter_map(|s| match s {
            San::Dns(d) | San::Ip(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    Some((fp.clone(), names))
}

fn snapshot(inv: &Inventory) -> BTreeMap<String, Snap> {
    let g = &inv.graph;
    let mut out: BTreeMap<String, Snap> = BTreeMap::new();
    for (i, c) in g.components.iter().enumerate() {
        let s = out.entry(key(g, i)).or_default();
        s.own.extend(c.own_files.iter().cloned());
        s.inputs.extend(c.own_files.iter().cloned());
        if c.location.root != usize::MAX {
            s.inputs.insert(c.location.path.clone());
        }
        s.location.get_or_insert_with(|| c.location.clone());
    }
    for p in &g.serves {
        let s = out.entry(key(g, p.component)).or_default();
        let (fingerprint, names) = match (p.bundle, &p.source) {
            (Some(b), _) => match leaf_names(inv, b) {
                Some((fp, n)) => (Some(fp), Some(n)),
                None => (None, None),
            },
            (None, Source::CertManager { names, .. }) => (
                None,
                Some(names.iter().map(|n| n.to_ascii_lowercase()).collect()),
            ),
            _ => (None, None),
        };
        let cause = match &p.source {
            Source::CertManager { certificate, .. } => certificate.clone(),
            _ => p.location.clone(),
        };
        s.inputs.insert(p.location.path.clone());
        s.inputs.insert(cause.path.clone());
        if let Some(b) = p.bundle {
            s.inputs.insert(inv.bundles[b].location.path.clone());
        }
        s.serves.insert(
            p.channel.clone(),
            ServeSnap {
                source: p.source.label(),
                fingerprint,
                names,
                location: p.location.clone(),
                cause,
            },
        );
    }
    for t in &g.trusts {
        let s = out.entry(key(g, t.component)).or_default();
        if let Anchors::Bundle(b) = &t.anchors {
            s.inputs.insert(inv.bundles[*b].location.path.clone());
        }
        let anchors = t.anchors.set(inv);
        s.inputs.insert(t.location.path.clone());
        let verdicts = t
            .checks
            .iter()
            .map(|c| {
                (
                    g.components[c.peer].name.clone(),
                    !matches!(c.verdict, Verdict::NoPath { .. }),
                )
            })
            .collect();
        let dir = if t.direction == Direction::Server {
            ""
        } else {
            " (clients)"
        };
        s.trusts.insert(
            format!("{} for {}{dir}", t.flag, t.channel),
            TrustSnap {
                anchors,
                location: t.location.clone(),
                verdicts,
            },
        );
    }
    for p in &g.clients {
        let s = out.entry(key(g, p.component)).or_default();
        let fp = p.bundle.and_then(|b| leaf_names(inv, b)).map(|x| x.0);
        s.inputs.insert(p.location.path.clone());
        s.clients
            .insert(p.channel.clone(), (fp, p.location.clone()));
    }
    out
}

fn short(fp: &Option<Fingerprint>, inv: &Inventory) -> String {
    match fp {
        Some(fp) => inv
            .certs
            .get(fp)
            .map(|e| crate::rules::describe_cert(&e.info))
            .unwrap_or_else(|| fp.short()),
        None => "no certificate in the repository".into(),
    }
}

fn names_of(inv: &Inventory, set: &BTreeSet<Fingerprint>) -> String {
    crate::rules::describe_set(inv, set)
}

/// Compares two scans. `changed` lists the files that differ.
pub fn diff(
    base: ScanResult,
    head: ScanResult,
    changed: Vec<String>,
    opts: &DiffOptions,
) -> DiffResult {
    let changed_set: BTreeSet<&str> = changed.iter().map(String::as_str).collect();
    let (b, h) = rayon::join(|| snapshot(&base.inventory), || snapshot(&head.inventory));
    let mut changes = Vec::new();
    let mut findings = Vec::new();
    let names: BTreeSet<&String> = b.keys().chain(h.keys()).collect();
    for name in names {
        let (bs, hs) = (b.get(name), h.get(name));
        let inputs: BTreeSet<&String> = bs
            .iter()
            .chain(hs.iter())
            .flat_map(|s| s.inputs.iter())
            .collect();
        let causes: Vec<String> = inputs
            .iter()
            .filter(|p| changed_set.contains(p.as_str()))
            .map(|p| p.to_string())
            .collect();
        let own_changed = bs
            .iter()
            .chain(hs.iter())
            .flat_map(|s| s.own.iter())
            .any(|p| changed_set.contains(p.as_str()));
        let mk =
            |what, before: String, after: String, location: Location, causes: Vec<String>| Change {
                component: name.clone(),
                what,
                before,
                after,
                location,
                causes,
                own_files_changed: own_changed,
            };
        let (bs, hs) = match (bs, hs) {
            (None, Some(hs)) => {
                changes.push(mk(
                    ChangeKind::Added,
                    "-".into(),
                    "present".into(),
                    hs.location
                        .clone()
                        .unwrap_or_else(|| Location::new(0, "", 1, 1)),
                    causes.clone(),
                ));
                continue;
            }
            (Some(bs), None) => {
                changes.push(mk(
                    ChangeKind::Removed,
                    "present".into(),
                    "-".into(),
                    bs.location
                        .clone()
                        .unwrap_or_else(|| Location::new(0, "", 1, 1)),
                    causes.clone(),
                ));
                continue;
            }
            (Some(bs), Some(hs)) => (bs, hs),
            (None, None) => continue,
        };
        for (ch, hv) in &hs.serves {
            let Some(bv) = bs.serves.get(ch) else {
                continue;
            };
            // The cause: the HEAD line that decides the source, if it changed; else the changed inputs.
            let mut why = causes.clone();
            if changed_set.contains(hv.cause.path.as_str()) {
                why.retain(|p| *p != hv.cause.path);
                why.insert(0, format!("{}:{}", hv.cause.path, hv.cause.line));
            }
            if bv.source != hv.source {
                changes.push(mk(
                    ChangeKind::Source,
                    bv.source.clone(),
                    hv.source.clone(),
                    hv.cause.clone(),
                    why.clone(),
                ));
            } else if bv.fingerprint != hv.fingerprint {
                changes.push(mk(
                    ChangeKind::Certificate,
                    short(&bv.fingerprint, &base.inventory),
                    short(&hv.fingerprint, &head.inventory),
                    hv.location.clone(),
                    why.clone(),
                ));
            }
            if let (Some(bn), Some(hn)) = (&bv.names, &hv.names) {
                let lost: Vec<&String> = bn.iter().filter(|n| !hn.contains(n)).collect();
                let gained: Vec<&String> = hn.iter().filter(|n| !bn.contains(n)).collect();
                if !lost.is_empty() || !gained.is_empty() {
                    changes.push(mk(
                        ChangeKind::Names,
                        bn.join(", "),
                        hn.join(", "),
                        hv.location.clone(),
                        why.clone(),
                    ));
                }
                if !lost.is_empty() {
                    let lost: Vec<String> = lost.into_iter().cloned().collect();
                    let mut f = Finding::new(
                        "san-coverage",
                        Severity::Error,
                        hv.cause.clone(),
                        format!("{name}: the certificate it serves after this change no longer covers {}", lost.join(", ")),
                    );
                    f.related.push(Related {
                        location: bv.location.clone(),
                        note: format!("before: {}", bn.join(", ")),
                    });
                    f.component = Some(name.clone());
                    findings.push(f);
                }
            }
        }
        for (k, hv) in &hs.trusts {
            let Some(bv) = bs.trusts.get(k) else { continue };
            let (Some(ba), Some(ha)) = (&bv.anchors, &hv.anchors) else {
                continue;
            };
            if ba == ha {
                continue;
            }
            let removed: BTreeSet<Fingerprint> = ba.difference(ha).cloned().collect();
            let added: BTreeSet<Fingerprint> = ha.difference(ba).cloned().collect();
            changes.push(mk(
                ChangeKind::Trust,
                names_of(&base.inventory, ba),
                names_of(&head.inventory, ha),
                hv.location.clone(),
                causes.clone(),
            ));
            let broken: Vec<&String> = hv
                .verdicts
                .iter()
                .filter(|(p, ok)| !**ok && bv.verdicts.get(*p) == Some(&true))
                .map(|(p, _)| p)
                .collect();
            let (severity, message) = if !broken.is_empty() {
                (Severity::Error, format!(
                    "{name}: {k} drops {} while {} still presents a certificate that chains only to it (a hard swap)",
                    names_of(&base.inventory, &removed),
                    broken.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ))
            } else if removed.is_empty() {
                (
                    Severity::Note,
                    format!(
                        "{name}: {k} adds {} beside the current anchors (a safe overlap)",
                        names_of(&head.inventory, &added)
                    ),
                )
            } else {
                (
                    Severity::Note,
                    format!(
                        "{name}: {k} replaces {} with {}; every peer still verifies",
                        names_of(&base.inventory, &removed),
                        names_of(&head.inventory, &added)
                    ),
                )
            };
            let mut f = Finding::new("trust-change", severity, hv.location.clone(), message);
            f.component = Some(name.clone());
            f.certificates = removed.union(&added).cloned().collect();
            findings.push(f);
        }
        for (ch, (hf, hl)) in &hs.clients {
            if let Some((bf, _)) = bs.clients.get(ch) {
                if bf != hf {
                    changes.push(mk(
                        ChangeKind::Client,
                        short(bf, &base.inventory),
                        short(hf, &head.inventory),
                        hl.clone(),
                        causes.clone(),
                    ));
                }
            }
        }
    }
    // One source-change finding per cause, with its blast radius.
    let mut by_cause: BTreeMap<(String, String, String), Vec<&Change>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.what == ChangeKind::Source) {
        let cause = c
            .causes
            .first()
            .cloned()
            .unwrap_or_else(|| "(no changed input file)".into());
        by_cause
            .entry((cause, c.before.clone(), c.after.clone()))
            .or_default()
            .push(c);
    }
    for ((cause, before, after), list) in by_cause {
        let distance = list.iter().any(|c| !c.own_files_changed);
        let too_many = opts.max_blast_radius.is_some_and(|m| list.len() > m);
        let severity = if distance || too_many {
            Severity::Error
        } else {
            Severity::Warning
        };
        let comps: Vec<&str> = list.iter().map(|c| c.component.as_str()).collect();
        let mut message = format!(
            "this change flips {} component(s) from {before} to {after}: {}",
            list.len(),
            comps.join(", ")
        );
        if distance {
            message.push_str(" — their own files did not change (action at a distance)");
        }
        if too_many {
            message.push_str(&format!(
                " — more than --max-blast-radius {}",
                opts.max_blast_radius.unwrap_or(0)
            ));
        }
        let mut f = Finding::new("source-change", severity, list[0].location.clone(), message);
        f.related.push(Related {
            location: list[0].location.clone(),
            note: format!("caused by {cause}"),
        });
        for c in &list[1..] {
            f.related.push(Related {
                location: c.location.clone(),
                note: c.component.clone(),
            });
        }
        f.component = Some(comps.join(", "));
        findings.push(f);
    }
    // Findings new at HEAD.
    let fkey = |f: &Finding| (f.rule, f.location.path.clone(), f.message.clone());
    let base_keys: BTreeSet<_> = base.findings.iter().map(fkey).collect();
    let mut unchanged = 0;
    for f in &head.findings {
        if base_keys.contains(&fkey(f)) {
            unchanged += 1;
            if !opts.all {
                continue;
            }
        }
        findings.push(f.clone());
    }
    sort_findings(&mut findings);
    changes.sort_by(|a, b| (&a.component, a.what).cmp(&(&b.component, b.what)));
    // BASE's model is freed off the report's path.
    rayon::spawn(move || drop((base, b, h)));
    DiffResult {
        head,
        changes,
        findings,
        unchanged_findings: unchanged,
        changed_files: changed,
        file_diffs: Vec::new(),
    }
}

/// Reads a path on both sides: (BASE bytes, HEAD bytes), empty where absent.
pub type ReadBoth<'a> = &'a dyn Fn(&str) -> (Vec<u8>, Vec<u8>);

impl DiffResult {
    /// Adds the unified diffs of the changed files that cause changes (at most 20).
    pub fn add_file_diffs(&mut self, read: ReadBoth<'_>) {
        let mut paths: Vec<String> = Vec::new();
        for c in &self.changes {
            for cause in &c.causes {
                let path = cause.split(':').next().unwrap_or(cause).to_owned();
                if !paths.contains(&path) {
                    paths.push(path);
                }
            }
        }
        paths.sort();
        for p in paths.into_iter().take(20) {
            let (a, b) = read(&p);
            let u = unified(&p, &a, &b);
            if !u.trim().is_empty() {
                self.file_diffs.push((p.clone(), u));
            }
        }
    }
}

/// Replaces certificate and key material in a text before it is shown in a
/// diff: PEM certificates become `<certificate sha256:… CN=…>`, private keys
/// `<private key redacted>`, and long base64 runs (Kubernetes Secret data)
/// are decoded to tell which, or elided.
pub fn redact_text(text: &str) -> String {
    use crate::read::pem;
    let describe = |der: &[u8]| match crate::x509::parse(der) {
        Ok(c) => format!(
            "<certificate sha256:{}… CN={}>",
            c.fingerprint.short(),
            c.subject_cn.clone().unwrap_or_default()
        ),
        Err(_) => "<certificate (unparsable)>".to_owned(),
    };
    // PEM blocks first, keeping the line structure (one placeholder line per block).
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut last = 0;
    for item in pem::scan(bytes) {
        let (begin, end, repl) = match item {
            pem::PemItem::Block(b) if pem::is_private_key_label(&b.label) => {
                (b.begin, b.end, "<private key redacted>".to_owned())
            }
            pem::PemItem::Block(b) if b.label.contains("CERTIFICATE") => {
                (b.begin, b.end, describe(&b.der))
            }
            pem::PemItem::Block(b) => (
                b.begin,
                b.end,
                format!("<{}>", b.label.to_ascii_lowercase()),
            ),
            // A broken block may still hold key material: hide its body to the next END line.
            pem::PemItem::Error(e) => {
                let end = text[e.offset..].find("-----END").map_or(text.len(), |i| {
                    let j = e.offset + i;
                    text[j..].find('\n').map_or(text.len(), |k| j + k)
                });
                (e.offset, end, "<malformed PEM block redacted>".to_owned())
            }
        };
        if begin < last || end > text.len() {
            continue;
        }
        out.push_str(&text[last..begin]);
        out.push_str(&repl);
        last = end;
    }
    out.push_str(&text[last..]);
    // Then base64 runs.
    let mut result = String::with_capacity(out.len());
    for line in out.split_inclusive('\n') {
        result.push_str(&redact_base64_line(line, &describe));
    }
    result
}

/// Whether a base64 run of `text` (40 characters or more, as
/// [`redact_text`] considers) decodes to PEM: a key or certificate stored
/// base64-encoded, which must not be shown raw either.
pub fn has_base64_pem(text: &str) -> bool {
    use base64::Engine;
    let found = std::cell::Cell::new(false);
    for line in text.lines() {
        crate::read::text::replace_base64_runs(line, |run| {
            if run.len() >= 40
                && base64::engine::general_purpose::STANDARD
                    .decode(run.as_bytes())
                    .is_ok_and(|d| crate::read::pem::looks_like_pem(&d))
            {
                found.set(true);
            }
            None
        });
    }
    found.get()
}

fn redact_base64_line(line: &str, describe: &dyn Fn(&[u8]) -> String) -> String {
    use base64::Engine;
    crate::read::text::replace_base64_runs(line, |run| {
        if run.len() < 40 {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(run.as_bytes())
            .ok();
        Some(match decoded {
            Some(d) if String::from_utf8_lossy(&d).contains("PRIVATE KEY") => {
                "<private key redacted>".to_owned()
            }
            Some(d) if crate::read::pem::looks_like_pem(&d) => {
                let parts: Vec<String> = crate::read::pem::scan(&d)
                    .iter()
                    .map(|item| match item {
                        crate::read::pem::PemItem::Block(b) if b.label.contains("CERTIFICATE") => {
                            describe(&b.der)
                        }
                        _ => "<PEM data>".to_owned(),
                    })
                    .collect();
                parts.join(" ")
            }
            Some(d) if d.first() == Some(&0x30) => describe(&d),
            _ => "<base64 data>".to_owned(),
        })
    })
}

/// A unified diff (3 lines of context) of one file, with certificate and
/// key material replaced first. Gives up after a second on pathological input.
pub fn unified(path: &str, before: &[u8], after: &[u8]) -> String {
    // Decoded as the readers decode (UTF-16 keys are text too); a binary
    // side (a DER key) is never shown.
    let show = |bytes: &[u8]| {
        if crate::read::text::wide_bom(bytes).is_none() && bytes.contains(&0) {
            "<binary file>\n".to_owned()
        } else {
            redact_text(&crate::read::text::decode(bytes).text)
        }
    };
    let (a, b) = (show(before), show(after));
    let diff = similar::TextDiff::configure()
        .timeout(std::time::Duration::from_secs(1))
        .diff_lines(&a, &b);
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Scans both sides through the same pipeline and compares them.
pub fn run(
    base: std::sync::Arc<dyn crate::read::source::FileSource>,
    head: std::sync::Arc<dyn crate::read::source::FileSource>,
    opts: &crate::scan::ScanOptions,
    diff_opts: &DiffOptions,
) -> Result<DiffResult, crate::scan::ScanError> {
    // Blobs unchanged between the revisions are parsed once, for both sides.
    let cache = std::sync::Arc::new(crate::scan::FactsCache::default());
    let side = |src: &std::sync::Arc<dyn crate::read::source::FileSource>| {
        let mut o = opts.clone();
        o.source = Some(src.clone());
        o.facts_cache = Some(cache.clone());
        o
    };
    let (ob, oh) = (side(&base), side(&head));
    let mut stages = crate::scan::Stages::new();
    // BASE's files first, so that HEAD finds the unchanged ones parsed; then
    // HEAD's scan runs beside the rest of BASE's (model, graph, rules).
    let read = crate::scan::read(&ob)?;
    let (b, h) = rayon::join(|| crate::scan::finish(&ob, read), || crate::scan::scan(&oh));
    let (b, h) = (b?, h?);
    stages.mark("both sides");
    let paths: BTreeSet<&str> = b
        .files
        .iter()
        .chain(&h.files)
        .map(|f| f.rel.as_str())
        .collect();
    let changed: Vec<String> = paths
        .into_iter()
        .filter(|p| match (base.content_id(p), head.content_id(p)) {
            (Some(a), Some(b)) => a != b,
            _ => base.read(p).ok() != head.read(p).ok(),
        })
        .map(str::to_owned)
        .collect();
    stages.mark("changed files");
    let mut d = diff(b, h, changed, diff_opts);
    stages.mark("diff");
    // HEAD's own findings met its inline comments in its scan; the diff's
    // findings (source-change, trust-change) meet them here. An invalid
    // comment the HEAD scan already reported (new, or unchanged and hidden)
    // is not reported again.
    let (inline, mut invalid) = crate::suppress::apply(
        &mut d.findings,
        &|root, path| d.head.read_text(root, path),
        &opts.policy,
    );
    invalid.retain(|f| !d.head.findings.contains(f));
    d.head.suppressed.extend(inline);
    crate::finding::sort_suppressed(&mut d.head.suppressed);
    d.findings.extend(invalid);
    sort_findings(&mut d.findings);
    stages.mark("suppress");
    d.add_file_diffs(&|p| {
        (
            base.read(p).unwrap_or_default(),
            head.read(p).unwrap_or_default(),
        )
    });
    stages.mark("file diffs");
    stages.print();
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pem_is_recognised() {
        use base64::Engine;
        let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let b64 = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
        assert!(has_base64_pem(&format!("tls.key: {b64}\n")));
        assert!(!has_base64_pem(
            "password: c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\n"
        ));
        assert!(!has_base64_pem("short: TFMwdExTMUNSVWRKVGlCRFJWSlU=\n"));
    }

    #[test]
    fn redaction_hides_keys_and_names_certificates() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["x.example".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let key_pem = key.serialize_pem();
        let text = format!("cert: |\n{}key: |\n{}", cert.pem(), key_pem);
        let r = redact_text(&text);
        assert!(
            r.contains("<certificate sha256:") && r.contains("<private key redacted>"),
            "{r}"
        );
        let body: Vec<&str> = key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        for l in body {
            assert!(!r.contains(l));
        }
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(key_pem.as_bytes());
        let r = redact_text(&format!("  tls.key: {b64}\n"));
        assert_eq!(r, "  tls.key: <private key redacted>\n");
    }
}
