//! Markdown for a pull-request comment: a summary line, a table of the
//! findings, and (collapsed) each finding's related places and help.

use super::escape;
use crate::finding::Finding;
use std::fmt::Write as _;

/// Text from input in a table cell or list item: inert Markdown (no HTML,
/// links, mentions or fences from a certificate field or a file name).
fn cell(s: &str) -> String {
    escape::markdown(s)
}

/// A location as inline code, safe in a table cell.
fn code(s: &str) -> String {
    escape::markdown_code(s).replace('|', "\\|")
}

/// The findings table, shared by `scan` and `diff`.
pub fn findings_table(findings: &[Finding]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        return out;
    }
    out.push_str("| severity | rule | where | what |\n|---|---|---|---|\n");
    for f in findings {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            f.severity,
            f.rule,
            code(&f.location.to_string()),
            cell(&f.message)
        );
    }
    out.push('\n');
    let detailed: Vec<&Finding> = findings
        .iter()
        .filter(|f| !f.related.is_empty() || f.help.is_some())
        .collect();
    if !detailed.is_empty() {
        out.push_str("<details><summary>Details</summary>\n\n");
        for f in detailed {
            let _ = writeln!(out, "- `{}` at {}", f.rule, code(&f.location.to_string()));
            for r in &f.related {
                let _ = writeln!(
                    out,
                    "  - {}: {}",
                    code(&r.location.to_string()),
                    cell(&r.note)
                );
            }
            if let Some(h) = &f.help {
                let _ = writeln!(out, "  - help: {}", cell(h));
            }
        }
        out.push_str("\n</details>\n\n");
    }
    out
}

/// The `scan` report as markdown.
pub fn scan(findings: &[Finding]) -> String {
    let (e, w, n) = super::counts(findings);
    let mut out = String::from("### certdrift scan\n\n");
    let _ = writeln!(out, "**{e}** errors, **{w}** warnings, **{n}** notes.\n");
    out.push_str(&findings_table(findings));
    out
}
