//! Stage 6, report: findings and inventories to bytes.
//!
//! In: a [`ScanResult`]. Out: the text of one format. One renderer per
//! format, one match that picks it ([`render_scan`], [`render_inventory`]).
//! Nothing outside this module formats output for the user, and nothing here
//! ever prints key material: excerpts are passed through [`redact`].

pub mod csv;
pub mod diff;
pub mod graph;
pub mod json;
pub mod text;

use crate::finding::Severity;
use crate::scan::ScanResult;

/// Output formats of `scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanFormat {
    /// Human-readable, with source excerpts.
    Text,
    /// Versioned JSON (report version 1).
    Json,
}

/// Output formats of `inventory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InventoryFormat {
    /// The audit table.
    Text,
    /// Versioned JSON with every certificate fact.
    Json,
    /// One row per certificate reference.
    Csv,
}

/// Output formats of `graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// Renders the trust graph.
pub fn render_graph(result: &ScanResult, format: GraphFormat) -> String {
    match format {
        GraphFormat::Dot => graph::dot(&result.inventory),
        GraphFormat::Mermaid => graph::mermaid(&result.inventory),
    }
}

/// Rendering settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// ANSI colours in text output.
    pub color: bool,
}

/// Renders a scan report.
pub fn render_scan(result: &ScanResult, format: ScanFormat, opts: RenderOptions) -> String {
    match format {
        ScanFormat::Text => text::scan(result, opts),
        ScanFormat::Json => json::scan(result),
    }
}

/// Renders an inventory.
pub fn render_inventory(
    result: &ScanResult,
    format: InventoryFormat,
    opts: RenderOptions,
) -> String {
    match format {
        InventoryFormat::Text => text::inventory(result, opts),
        InventoryFormat::Json => json::inventory(result),
        InventoryFormat::Csv => csv::inventory(result),
    }
}

/// Findings counted by severity: (error, warning, note).
pub fn counts(result: &ScanResult) -> (usize, usize, usize) {
    let n = |s| result.findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Note))
}

/// Replaces every run of `min` or more base64 characters with `<…>`, so that
/// a source excerpt never shows certificate or key bodies.
pub fn redact(line: &str, min: usize) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    let mut out = String::with_capacity(line.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        // Paths (`/etc/kubernetes/ca`) are base64 characters too; real
        // base64 of any length mixes upper and lower case.
        let mixed = run.chars().any(|c| c.is_ascii_uppercase())
            && run.chars().any(|c| c.is_ascii_lowercase());
        if run.chars().count() >= min && mixed {
            out.push_str("<…>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if is_b64(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Days from `now` to `t`, rounded down.
pub fn days_left(t: i64, now: i64) -> i64 {
    (t - now).div_euclid(86_400)
}

/// RFC 3339 UTC for a unix time.
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_base64_runs() {
        assert_eq!(
            redact("  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t", 16),
            "  tls.key: <…>"
        );
        assert_eq!(
            redact("--etcd-cafile=/etc/kubernetes/ca.crt", 16),
            "--etcd-cafile=/etc/kubernetes/ca.crt"
        );
    }
}
