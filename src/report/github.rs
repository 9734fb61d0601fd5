//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice`
//! line per finding, which the runner turns into annotations on the pull
//! request (<https://docs.github.com/actions/reference/workflow-commands-for-github-actions>).

use super::text::plural;
use crate::finding::{Finding, Severity};
use std::fmt::Write as _;

/// The command for a severity.
fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// Escapes a command's message as `escapeData` in actions/toolkit
/// (packages/core/src/command.ts) does: `%` first, so that the escapes
/// themselves survive.
///
/// Other control and bidi characters (ESC sequences, which Actions logs
/// render) are shown as visible escapes, as in the text format.
fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if super::escape::is_hostile(c) => {
                out.push_str(&super::escape::text(c.encode_utf8(&mut [0; 4])))
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value as `escapeProperty` does: the message escapes
/// plus `:` and `,`, which delimit properties.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,col=…,title=RULE::MESSAGE`; related places and
/// help follow the message on lines of their own (escaped, so still one line).
fn line(f: &Finding) -> String {
    let mut message = f.message.clone();
    for r in f.related.iter().take(MAX_RELATED) {
        let _ = write!(message, "\n{}: {}", r.location, r.note);
    }
    if f.related.len() > MAX_RELATED {
        let _ = write!(
            message,
            "\n… and {} more places (the job log and SARIF list them)",
            f.related.len() - MAX_RELATED
        );
    }
    if let Some(h) = &f.help {
        let _ = write!(message, "\nhelp: {h}");
    }
    format!(
        "::{} file={},line={},col={},title={}::{}\n",
        command(f.severity),
        escape_property(&f.location.path),
        f.location.line.max(1),
        f.location.column.max(1),
        escape_property(f.rule),
        escape_data(&message)
    )
}

/// Related places an annotation lists before "… and N more".
const MAX_RELATED: usize = 5;

/// One workflow command per finding, the most severe first (GitHub shows
/// only the first 10 annotations of each level in a step), then a notice
/// with the counts.
pub fn report(findings: &[Finding]) -> String {
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut out: String = ordered.into_iter().map(line).collect();
    let (e, w, n) = super::counts(findings);
    let _ = writeln!(
        out,
        "::notice title=certdrift::{}",
        escape_data(&format!(
            "certdrift: {}, {}, {} (GitHub shows the first 10 annotations of each level; the job log lists every finding)",
            plural(e, "error", "errors"),
            plural(w, "warning", "warnings"),
            plural(n, "note", "notes")
        ))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, Related};
    use crate::report::tests::sample_findings;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("100% a\r\nb: c, d"),
            "100%25 a%0D%0Ab%3A c%2C d"
        );
        // `%` is escaped once, before the others: `%0A` in the input stays literal.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn one_escaped_line_per_finding() {
        let mut f = Finding::new(
            "expired",
            Severity::Note,
            Location::new(0, "a,b:c.yaml", 3, 7),
            "50% gone\nreally",
        );
        f.related.push(Related {
            location: Location::new(0, "ca.crt", 1, 1),
            note: "issuer, here".into(),
        });
        assert_eq!(
            line(&f),
            "::notice file=a%2Cb%3Ac.yaml,line=3,col=7,title=expired::50%25 gone%0Areally%0Aca.crt:1:1: issuer, here\n"
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(report(&sample_findings()));
    }
}
