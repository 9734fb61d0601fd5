//! Stage 6, report: findings and inventories to bytes.
//!
//! In: a [`ScanResult`] (or a [`DiffResult`]). Out: the text of one format.
//! One renderer per format, one match that picks it ([`render_findings`],
//! [`render_diff`], [`render_probe`], [`render_inventory`], [`render_graph`]; a Hiera
//! lookup's is [`lookup::render_lookup`]).
//! Nothing outside this module formats output for the user, and nothing here
//! ever prints key material: excerpts are passed through [`redact`].

pub mod csv;
pub mod diff;
pub mod escape;
pub mod file;
pub mod github;
pub mod graph;
pub mod json;
pub mod junit;
pub mod lookup;
pub mod markdown;
pub mod sarif;
pub mod text;

use crate::diff::DiffResult;
use crate::finding::{Finding, Severity, Suppressed, SuppressedBy};
use crate::scan::ScanResult;

/// Makes a format enum the command line's value type (`--format`,
/// `--output FORMAT=PATH`), with the given value names: one enum per
/// command, no mirror in the binary. Written out rather than derived so
/// that the variants' doc comments stay documentation, not per-value help
/// that would switch every `--help` to its long layout.
macro_rules! cli_values {
    ($t:ident { $($v:ident => $name:literal),* $(,)? }) => {
        impl clap::ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($t::$v),*]
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(match self {
                    $($t::$v => $name),*
                }))
            }
        }
    };
}

/// Output formats of a list of findings (`scan`; `diff` adds its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanFormat {
    /// Human-readable, with source excerpts.
    Text,
    /// Versioned JSON (report version 1).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, one test suite per rule.
    Junit,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A pull-request comment.
    Markdown,
}

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    /// Findings with excerpts, changes per component, diffs of the causes.
    Text,
    /// Report version 1 plus `changes`.
    Json,
    /// A pull-request comment.
    Markdown,
    /// HEAD's new findings as SARIF.
    Sarif,
    /// HEAD's new findings as JUnit XML.
    Junit,
    /// HEAD's new findings as GitHub annotations.
    Github,
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

cli_values!(ScanFormat { Text => "text", Json => "json", Sarif => "sarif", Junit => "junit", Github => "github", Markdown => "markdown" });
cli_values!(DiffFormat { Text => "text", Json => "json", Markdown => "markdown", Sarif => "sarif", Junit => "junit", Github => "github" });
cli_values!(InventoryFormat { Text => "text", Json => "json", Csv => "csv" });
cli_values!(GraphFormat { Dot => "dot", Mermaid => "mermaid" });

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
    /// `--fail-on`: findings at or above it are JUnit failures (`None`: none are).
    pub fail_on: Option<Severity>,
    /// `--show-suppressed`: list suppressed findings with their reasons (text, JSON).
    pub show_suppressed: bool,
    /// `--verbose`: list every skipped file in text, not only the ones
    /// that leave the scan incomplete.
    pub verbose: bool,
}

/// Renders a scan report.
pub fn render_scan(result: &ScanResult, format: ScanFormat, opts: RenderOptions) -> String {
    render_findings(result, &result.findings, format, opts)
}

/// Renders `findings` (all of a scan's, or a diff's new ones) with `result`
/// for the files they point into and the summary.
pub fn render_findings(
    result: &ScanResult,
    findings: &[Finding],
    format: ScanFormat,
    opts: RenderOptions,
) -> String {
    match format {
        ScanFormat::Text => text::scan(result, findings, opts),
        ScanFormat::Json => json::findings_report(result, findings, opts),
        ScanFormat::Sarif => sarif::report(findings),
        ScanFormat::Junit => junit::report(findings, opts.fail_on),
        ScanFormat::Github => github::report(findings),
        ScanFormat::Markdown => markdown::scan(findings),
    }
}

/// Renders a probe report: text and JSON add the served chain of every
/// target to the scan report of the probe's findings.
pub fn render_probe(
    p: &crate::probe::ProbeResult,
    format: ScanFormat,
    opts: RenderOptions,
) -> String {
    match format {
        ScanFormat::Text => text::probe(p, opts),
        ScanFormat::Json => json::probe(p, opts),
        _ => render_scan(&p.scan, format, opts),
    }
}

/// Renders a diff report; the CI formats show HEAD's new findings.
pub fn render_diff(d: &DiffResult, format: DiffFormat, opts: RenderOptions) -> String {
    let findings_format = match format {
        DiffFormat::Text => return diff::text(d, opts),
        DiffFormat::Json => return diff::json(d, opts),
        DiffFormat::Markdown => return diff::markdown(d),
        DiffFormat::Sarif => ScanFormat::Sarif,
        DiffFormat::Junit => ScanFormat::Junit,
        DiffFormat::Github => ScanFormat::Github,
    };
    render_findings(&d.head, &d.findings, findings_format, opts)
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
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let mut t = [0; 3];
    for f in findings {
        for (t, x) in t.iter_mut().zip(f.weight()) {
            *t += x;
        }
    }
    (t[0], t[1], t[2])
}

/// Suppressed findings counted by what suppressed them, in [`SuppressedBy::ALL`] order.
pub fn suppressed_counts(list: &[Suppressed]) -> [(SuppressedBy, usize); 3] {
    SuppressedBy::ALL.map(|by| (by, list.iter().filter(|s| s.by == by).count()))
}

/// Replaces every run of `min` or more base64 characters with `<…>`, so that
/// a source excerpt never shows certificate or key bodies.
pub fn redact(line: &str, min: usize) -> String {
    crate::read::text::replace_base64_runs(line, |run| {
        // Paths (`/etc/kubernetes/ca`) are base64 characters too; real
        // base64 of any length mixes upper and lower case.
        let mixed = run.chars().any(|c| c.is_ascii_uppercase())
            && run.chars().any(|c| c.is_ascii_lowercase());
        (run.chars().count() >= min && mixed).then(|| "<…>".to_owned())
    })
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
pub(crate) mod tests {
    use super::*;
    use crate::finding::{Location, Related};
    use crate::x509::Fingerprint;

    /// The fixed findings every renderer's snapshot shows: each severity, a
    /// related place, a component, a peer, certificates, help, a path with a
    /// space and a comma, a message with `%`, `:` and a newline, and a
    /// policy-file location.
    pub(crate) fn sample_findings() -> Vec<Finding> {
        let mut mismatch = Finding::new(
            "trust-mismatch",
            Severity::Error,
            Location::new(0, "rendered/prod/kube-apiserver.yaml", 14, 9),
            "kube-apiserver (--etcd-cafile) does not trust etcd's certificate CN=etcd (sha256:0303030303030303)",
        );
        mismatch.related.push(Related {
            location: Location::new(0, "pki/etcd/server.crt", 1, 1),
            note: "etcd serves CN=etcd, issued by CN=etcd-ca".into(),
        });
        mismatch.certificates = vec![Fingerprint([3; 32]), Fingerprint([1; 32])];
        mismatch.component = Some("kube-apiserver".into());
        mismatch.peer = Some("etcd".into());
        mismatch.help = Some("point --etcd-cafile at the CA that issued etcd's certificate".into());
        let mut soon = Finding::new(
            "expires-soon",
            Severity::Warning,
            Location::new(0, "hieradata/common dir/a,b.yaml", 3, 5),
            "certificate CN=x (sha256:0202020202020202) expires in 10 days: 100% sure\nsecond line",
        );
        soon.certificates = vec![Fingerprint([2; 32])];
        let unused = Finding::new(
            "unused-exception",
            Severity::Note,
            Location::new(usize::MAX, "certdrift-policy.yaml", 2, 5),
            "exception for expired (decommissioned) matches no finding",
        );
        vec![mismatch, soon, unused]
    }

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
