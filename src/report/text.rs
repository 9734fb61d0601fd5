//! Text: findings with source excerpts (annotate-snippets), and the
//! inventory as an audit table. Colour only when asked (a TTY without
//! `NO_COLOR`; `main` decides).

use super::escape::text as esc;
use super::{days_left, redact, RenderOptions};
use crate::finding::{Finding, Severity};
use crate::read::text::Lines;
use crate::scan::ScanResult;
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use std::fmt::Write as _;

/// Base64 runs at least this long are elided from excerpts.
const REDACT_MIN: usize = 24;

/// Related places a finding lists before "… and N more".
const MAX_RELATED: usize = 8;

/// Skipped files listed one per line in the text summary.
const MAX_SKIPS: usize = 20;

/// One file's text, loaded on demand for excerpts.
struct Source {
    text: String,
    lines: Lines,
}

fn load(r: &ScanResult, root: usize, path: &str) -> Option<Source> {
    let text = r.read_text(root, path)?;
    let lines = Lines::new(&text);
    Some(Source { text, lines })
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    }
}

fn render_finding(f: &Finding, src: Option<&Source>, renderer: &Renderer) -> String {
    let min = if f.rule == "private-key-in-repo" {
        8
    } else {
        REDACT_MIN
    };
    let line = src
        .and_then(|s| s.lines.line(&s.text, f.location.line))
        .map(|l| redact(l, min));
    // Everything from input is escaped: a newline in a CN or a file name
    // must not start a line (a `::error` workflow command), ESC must not
    // reach the terminal. A source line with a control character is not
    // shown at all (below).
    let message = esc(&f.message);
    let path = esc(&f.location.path);
    let title = level(f.severity).primary_title(message.as_ref()).id(f.rule);
    let mut group = Group::with_title(title);
    // A binary file (a DER certificate or CRL) has no line worth showing.
    let binary = |l: &str| {
        l.chars()
            .any(|c| c == '\u{fffd}' || (c.is_control() && c != '\t'))
    };
    match &line {
        Some(l) if !l.trim().is_empty() && !binary(l) => {
            let start = l
                .char_indices()
                .nth(f.location.column.saturating_sub(1) as usize)
                .map(|(b, _)| b)
                .unwrap_or(0)
                .min(l.len());
            let end = l.trim_end().len().max(start);
            group = group.element(
                Snippet::source(l.as_str())
                    .line_start(f.location.line as usize)
                    .path(path.as_ref())
                    .annotation(AnnotationKind::Primary.span(start..end)),
            );
        }
        _ => {
            group = group.element(
                Origin::path(path.as_ref())
                    .line(f.location.line as usize)
                    .char_column(f.location.column as usize),
            );
        }
    }
    for rel in f.related.iter().take(MAX_RELATED) {
        group = group.element(
            Level::NOTE.message(esc(&format!("{}: {}", rel.location, rel.note)).into_owned()),
        );
    }
    if f.related.len() > MAX_RELATED {
        group = group.element(Level::NOTE.message(format!(
            "… and {} more places (`--format json` lists them all)",
            f.related.len() - MAX_RELATED
        )));
    }
    if let Some(help) = &f.help {
        group = group.element(Level::HELP.message(esc(help).into_owned()));
    }
    let mut out = renderer.render(&[group]);
    out.push('\n');
    out
}

fn renderer(opts: RenderOptions) -> Renderer {
    if opts.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

fn summary(r: &ScanResult, list: &[Finding], opts: RenderOptions, out: &mut String) {
    let inv = &r.inventory;
    // Files that may hold TLS material and were not read are named, at
    // most MAX_SKIPS; those that cannot (binaries, large files without a
    // marker, links) are counted, and listed with --verbose.
    let (benign, gaps): (Vec<_>, Vec<_>) = inv.skipped.iter().partition(|s| s.is_benign());
    let listed: Vec<_> = if opts.verbose {
        gaps.iter().chain(&benign).collect()
    } else {
        gaps.iter().collect()
    };
    for s in listed.iter().take(MAX_SKIPS) {
        let _ = writeln!(out, "skipped: {} ({})", esc(&s.path), esc(&s.reason));
    }
    if listed.len() > MAX_SKIPS {
        let _ = writeln!(
            out,
            "skipped: … and {} more (`--format json` lists them all)",
            listed.len() - MAX_SKIPS
        );
    }
    if !opts.verbose && !benign.is_empty() {
        let _ = writeln!(
            out,
            "skipped: {} that cannot hold TLS material (binary, a link, or too large without a PEM marker; `--verbose` lists them)",
            plural(benign.len(), "file", "files")
        );
    }
    match inv.templates.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(
                out,
                "template: {} (read unevaluated: only its PEM blocks and base64 `key: value` literals were checked)",
                esc(one)
            );
        }
        many => {
            let _ = writeln!(
                out,
                "templates: {} files read unevaluated (only their PEM blocks and base64 `key: value` literals were checked; `--format json` lists them; scan rendered output for the rest)",
                many.len()
            );
        }
    }
    let (e, w, n) = super::counts(list);
    let _ = writeln!(
        out,
        "{} scanned, {} skipped; {} ({} distinct), {}; {}, {}, {}{}{}",
        plural(inv.files_scanned, "file", "files"),
        inv.skipped.len(),
        plural(inv.sightings, "certificate", "certificates"),
        inv.distinct(),
        plural(inv.keys.len(), "private key", "private keys"),
        plural(e, "error", "errors"),
        plural(w, "warning", "warnings"),
        plural(n, "note", "notes"),
        suppressed_summary(r),
        if inv.complete {
            ""
        } else {
            " (incomplete: the files below were not read to the end)"
        }
    );
    let _ = by_rule(list, out);
    // What made it incomplete, by file.
    let gaps: Vec<&(String, String)> = inv.gaps.iter().collect();
    for (path, cause) in gaps.iter().take(MAX_SKIPS) {
        let _ = writeln!(out, "incomplete: {} ({})", esc(path), esc(cause));
    }
    if gaps.len() > MAX_SKIPS {
        let _ = writeln!(out, "incomplete: … and {} more", gaps.len() - MAX_SKIPS);
    }
}

/// `by rule: expired 3 (3 errors); weak-crypto 2 (1 warning, 1 note)`: the
/// last line of a report with findings.
pub(crate) fn by_rule(list: &[Finding], out: &mut String) -> std::fmt::Result {
    if list.is_empty() {
        return Ok(());
    }
    let mut by: std::collections::BTreeMap<&str, [usize; 3]> = Default::default();
    for f in list {
        let c = by.entry(f.rule).or_default();
        for (c, x) in c.iter_mut().zip(f.weight()) {
            *c += x;
        }
    }
    let parts: Vec<String> = by
        .into_iter()
        .map(|(rule, [e, w, n])| {
            let mut sev = Vec::new();
            for (k, one, many) in [
                (e, "error", "errors"),
                (w, "warning", "warnings"),
                (n, "note", "notes"),
            ] {
                if k > 0 {
                    sev.push(plural(k, one, many));
                }
            }
            format!("{rule} {} ({})", e + w + n, sev.join(", "))
        })
        .collect();
    writeln!(out, "by rule: {}", parts.join("; "))
}

/// `1 file`, `2 files`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `; 3 suppressed (1 exception, 2 inline)`, or nothing when none were.
pub fn suppressed_summary(r: &ScanResult) -> String {
    if r.suppressed.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = super::suppressed_counts(&r.suppressed)
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(by, n)| format!("{n} {}", by.as_str()))
        .collect();
    format!("; {} suppressed ({})", r.suppressed.len(), parts.join(", "))
}

/// `--show-suppressed`: every suppressed finding on one line, what
/// suppressed it and the reason below; nothing without the option.
pub fn suppressed(r: &ScanResult, opts: RenderOptions) -> String {
    let mut out = String::new();
    if !opts.show_suppressed || r.suppressed.is_empty() {
        return out;
    }
    let _ = writeln!(out, "suppressed findings ({}):", r.suppressed.len());
    for x in &r.suppressed {
        let f = &x.finding;
        let _ = writeln!(
            out,
            "  {}[{}] {}: {}\n    {} ({}): {}",
            f.severity,
            f.rule,
            esc(&f.location.to_string()),
            esc(&f.message),
            x.by.as_str(),
            esc(&x.at.to_string()),
            esc(&x.reason)
        );
    }
    out.push('\n');
    out
}

/// The `scan` report of `list`: findings grouped by file (they arrive sorted
/// by path), the suppressed ones with `--show-suppressed`, then the summary.
pub fn scan(r: &ScanResult, list: &[Finding], opts: RenderOptions) -> String {
    let mut out = findings(r, list, opts);
    out.push_str(&suppressed(r, opts));
    summary(r, list, opts, &mut out);
    out
}

/// Findings grouped by file with excerpts from `r`'s files.
pub fn findings(r: &ScanResult, list: &[Finding], opts: RenderOptions) -> String {
    let renderer = renderer(opts);
    let mut out = String::new();
    let mut current: Option<(usize, &str, Option<Source>)> = None;
    for f in list {
        let same = matches!(&current, Some((root, p, _)) if *root == f.location.root && *p == f.location.path);
        if !same {
            current = Some((
                f.location.root,
                &f.location.path,
                load(r, f.location.root, &f.location.path),
            ));
        }
        let src = current.as_ref().and_then(|c| c.2.as_ref());
        out.push_str(&render_finding(f, src, &renderer));
        out.push('\n');
    }
    out
}

/// The `inventory` audit table: one row per certificate, its references below it.
pub fn inventory(r: &ScanResult, opts: RenderOptions) -> String {
    let mut rows: Vec<[String; 7]> = vec![[
        "FINGERPRINT".into(),
        "SUBJECT".into(),
        "ISSUER".into(),
        "NOT AFTER".into(),
        "DAYS".into(),
        "CA".into(),
        "KEY".into(),
    ]];
    let cn = |cn: &Option<String>, full: &str| esc(cn.as_deref().unwrap_or(full)).into_owned();
    for e in r.inventory.certs.values() {
        let c = &e.info;
        rows.push([
            c.fingerprint.short(),
            cn(&c.subject_cn, &c.subject),
            cn(&c.issuer_cn, &c.issuer),
            super::rfc3339(c.not_after)[..10].to_owned(),
            days_left(c.not_after, r.now).to_string(),
            if c.is_ca { "yes".into() } else { "no".into() },
            c.key.to_string(),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let refs: Vec<_> = std::iter::once(None)
        .chain(r.inventory.certs.values().map(Some))
        .collect();
    for (row, entry) in rows.iter().zip(refs) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if let Some(e) = entry {
            for rf in &e.refs {
                let _ = writeln!(
                    out,
                    "    {}  {}",
                    esc(&rf.location.to_string()),
                    esc(&rf.via)
                );
            }
        }
    }
    out.push('\n');
    crls(r, &mut out);
    let mut findings = String::new();
    // Every finding the summary counts (it used to show only malformed
    // input and keys, and count the rest).
    let renderer = renderer(opts);
    for f in &r.findings {
        findings.push_str(&render_finding(f, None, &renderer));
        findings.push('\n');
    }
    out.push_str(&findings);
    summary(r, &r.findings, opts, &mut out);
    out
}

/// Appends one line whose parts came from input, escaped as a whole (the
/// format strings around them hold no control character).
fn push_line(out: &mut String, line: String) {
    out.push_str(&esc(&line));
    out.push('\n');
}

/// The inventory's CRLs: issuer, thisUpdate, nextUpdate (days left), revoked entries, location.
fn crls(r: &ScanResult, out: &mut String) {
    if r.inventory.crls.is_empty() {
        return;
    }
    out.push_str("CRLs\n");
    for s in &r.inventory.crls {
        let c = &s.crl;
        let next = match c.next_update {
            Some(t) => format!("{} ({} days)", crate::x509::date(t), days_left(t, r.now)),
            None => "none".to_owned(),
        };
        push_line(
            out,
            format!(
                "{}  {}  this update {}  next update {next}  {} revoked",
                c.fingerprint.short(),
                c.issuer_cn.as_deref().unwrap_or(&c.issuer),
                crate::x509::date(c.this_update),
                c.revoked
            ),
        );
        push_line(out, format!("    {}  {}", s.location, s.via));
    }
    out.push('\n');
}

/// The `probe` report: each target with the chain it served (or why none
/// came), then the findings with excerpts, then the summary.
pub fn probe(p: &crate::probe::ProbeResult, opts: RenderOptions) -> String {
    let r = &p.scan;
    let mut out = String::new();
    for t in &p.targets {
        let mut head = format!("{}  {}", t.target.component, t.target.address());
        if let Some(d) = &t.dialled {
            let _ = write!(head, " (dialled at {d})");
        }
        push_line(&mut out, head);
        push_line(
            &mut out,
            format!("  from: {} at {}", t.target.from, t.target.origin),
        );
        let mut status = Vec::new();
        if let Some(v) = &t.fetched.protocol {
            status.push(v.clone());
        }
        if !t.chain.is_empty() {
            status.push(format!("{} certificates served", t.chain.len()));
        }
        if !t.trusted_by.is_empty() {
            status.push(format!("trusted by {}", t.trusted_by.join(", ")));
        }
        if !status.is_empty() {
            push_line(&mut out, format!("  {}", status.join("; ")));
        }
        for (i, c) in t.chain.iter().enumerate() {
            match &c.info {
                Some(info) => {
                    let issuer = match &info.issuer_cn {
                        Some(cn) => format!("CN={cn}"),
                        None => info.issuer.clone(),
                    };
                    let names: Vec<String> = info
                        .sans
                        .iter()
                        .filter_map(|s| match s {
                            crate::x509::San::Dns(n) | crate::x509::San::Ip(n) => Some(n.clone()),
                            _ => None,
                        })
                        .collect();
                    push_line(
                        &mut out,
                        format!(
                            "  [{i}] {}  issuer {issuer}  {} to {}{}",
                            crate::x509::describe_cert(info),
                            crate::x509::date(info.not_before),
                            crate::x509::date(info.not_after),
                            if names.is_empty() {
                                String::new()
                            } else {
                                format!("  names {}", names.join(", "))
                            }
                        ),
                    );
                }
                None => {
                    push_line(
                        &mut out,
                        format!(
                            "  [{i}] sha256:{}  does not parse: {}",
                            c.fingerprint.short(),
                            c.error.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
        }
        match (&t.expected, t.known) {
            (Some(fp), _) => {
                push_line(
                    &mut out,
                    format!(
                        "  repository: {}",
                        crate::inventory::describe_fp(&r.inventory, fp)
                    ),
                );
            }
            (None, true) => {
                push_line(
                    &mut out,
                    "  repository: no static certificate to compare".to_owned(),
                );
            }
            (None, false) => {
                push_line(
                    &mut out,
                    format!("  repository: no component {}", t.target.component),
                );
            }
        }
        if let Some(e) = &t.fetched.error {
            push_line(&mut out, format!("  error: {e}"));
        }
        out.push('\n');
    }
    out.push_str(&findings(r, &r.findings, opts));
    let unreachable = p.targets.iter().filter(|t| t.chain.is_empty()).count();
    let _ = writeln!(
        out,
        "{} probed, {} presented a certificate, {} did not",
        plural(p.targets.len(), "target", "targets"),
        p.targets.len() - unreachable,
        unreachable
    );
    summary(r, &r.findings, opts, &mut out);
    out
}
