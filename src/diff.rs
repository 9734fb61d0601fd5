//! `diff`: what the next deploy changes, per component, and why.
//!
//! In: the [`ScanResult`]s of BASE and HEAD (the same pipeline run on two
//! directories or two git revisions) and the set of files that differ.
//! Out: a [`DiffResult`] — per component, the changes of its serving
//! certificate, trust references and client certificates
//! ([`crate::inventory::compare`]); the findings of the rules' diff checks
//! (`source-change`, `trust-change`, `san-coverage` for lost names,
//! `gate-change`) after the suppress stage; and the findings that are new
//! at HEAD. Both sides are scanned with the same options, so a
//! `--baseline` applies to both, and a stale entry is reported when this
//! change makes it stale.

use crate::finding::{sort_findings, sort_suppressed, Finding};
use crate::inventory::compare::{compare, Change, Compared};
use crate::rules::{self, DiffContext, Stage};
use crate::scan::ScanResult;
use std::collections::BTreeSet;

/// Diff settings.
#[derive(Clone, Debug, Default)]
pub struct DiffOptions {
    /// A change touching more components than this is an error.
    pub max_blast_radius: Option<usize>,
    /// Report findings present on both sides too.
    pub all: bool,
    /// Both sides' gate configuration, for `gate-change`.
    pub gate: Option<crate::gate::Sides>,
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

/// Compares two scans (`changed` lists the files that differ), runs the
/// diff rules and the suppress stage on their findings, and adds HEAD's
/// findings that BASE did not have (all of HEAD's with `--all`), which met
/// the suppress stage in HEAD's scan.
pub fn diff(
    base: ScanResult,
    mut head: ScanResult,
    changed: Vec<String>,
    opts: &DiffOptions,
    policy: &crate::policy::Policy,
) -> DiffResult {
    let compared = compare(&base.inventory, &head.inventory, &changed);
    let ctx = DiffContext {
        base: &base.inventory,
        head: &head.inventory,
        compared: &compared,
        max_blast_radius: opts.max_blast_radius,
        gate: opts.gate.as_ref(),
    };
    let found = rules::check_diff(&ctx, policy);
    let outcome = crate::suppress::apply(
        found,
        &crate::suppress::Suppressors {
            policy,
            stage: Stage::Diff,
            read: &|root, path| head.read_text(root, path),
            baseline: None,
        },
    );
    let mut findings = outcome.findings;
    // An invalid comment HEAD's scan already reported (new, or unchanged
    // and hidden) is not reported again.
    findings.retain(|f| f.rule != rules::INVALID_SUPPRESSION.id || !head.findings.contains(f));
    head.suppressed.extend(outcome.suppressed);
    sort_suppressed(&mut head.suppressed);
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
    let Compared { changes, .. } = compared;
    // BASE's model is freed off the report's path.
    rayon::spawn(move || drop(base));
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
    // Then base64 runs; and any line between a BEGIN line that names a
    // private key and the next END line, whatever the PEM reader made of
    // the block (trailing text after the dashes, a broken armour): key
    // material is never shown, however short its lines.
    let mut result = String::with_capacity(out.len());
    let mut in_key = false;
    for line in out.split_inclusive('\n') {
        if line.contains("-----BEGIN ") {
            in_key = pem::is_private_key_label(line);
        } else if line.contains("-----END ") {
            in_key = false;
        } else if in_key {
            let hidden = crate::read::text::replace_base64_runs(line, |run| {
                (run.len() >= 8).then(|| "<private key redacted>".to_owned())
            });
            result.push_str(&hidden);
            continue;
        }
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
    let mut d = diff(b, h, changed, diff_opts, &opts.policy);
    stages.mark("diff and suppress");
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

    /// A key block the PEM reader does not take as one (text after the
    /// BEGIN dashes) still has its body hidden, short lines too.
    #[test]
    fn an_unrecognised_key_block_is_hidden_too() {
        let text = "a: 1\n-----BEGIN RSA PRIVATE KEY----- trailing\nMIIBOgIBAAJBAKj34GkxFhD9\n0123456789abcdefXYZ+/==\n-----END RSA PRIVATE KEY-----\nb: 2\n";
        let r = redact_text(text);
        assert!(!r.contains("MIIBOgIBAAJBAKj34GkxFhD9"), "{r}");
        assert!(!r.contains("0123456789abcdefXYZ"), "{r}");
        assert!(r.contains("b: 2"), "{r}");
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
