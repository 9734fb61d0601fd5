//! Suppress, inline: `# certdrift:ignore[rule-id,…] reason` comments.
//!
//! In: the findings left after the policy's exceptions, and a way to read a
//! scanned file's text again. Out: the findings a comment suppresses (on the
//! finding's line or the line above, for the rules it names), with the
//! comment's reason, and an `invalid-suppression` finding for each comment
//! that has no reason, names no rule or names an unknown one — such a comment
//! suppresses nothing. Comments are not part of the YAML tree, so the raw
//! lines are read, and only those of files that have findings: a comment in
//! any other file has nothing to suppress.

use crate::finding::{Finding, Location, Suppressed, SuppressedBy};
use crate::policy::Policy;
use crate::rules;
use std::collections::BTreeMap;

/// What starts a suppression comment, after the `#`.
const MARKER: &str = "certdrift:ignore";

/// A `certdrift:ignore` comment on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters) of its `#`.
    pub column: u32,
    /// The rules it suppresses and why, or what is wrong with it.
    pub parsed: Result<Directive, String>,
}

/// A valid suppression: rule ids (all known) and a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Rule ids.
    pub rules: Vec<String>,
    /// Why the findings are accepted.
    pub reason: String,
}

/// Every `certdrift:ignore` comment in `text`. A comment is a `#` followed
/// (after blanks) by the marker, anywhere on a line: YAML comments start at
/// a `#` after a blank or at the start of a line, and PEM files ignore text
/// outside their BEGIN/END lines, so one syntax covers both.
pub fn comments(text: &str) -> Vec<Comment> {
    if !text.contains(MARKER) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let hit = line.match_indices('#').find_map(|(at, _)| {
            let body = line[at + 1..].trim_start().strip_prefix(MARKER)?;
            Some((at, body))
        });
        if let Some((at, body)) = hit {
            out.push(Comment {
                line: i as u32 + 1,
                column: line[..at].chars().count() as u32 + 1,
                parsed: parse(body),
            });
        }
    }
    out
}

/// Parses what follows the marker: `[id,id] reason`.
fn parse(body: &str) -> Result<Directive, String> {
    let inner = body
        .strip_prefix('[')
        .ok_or("names no rule: expected `[rule-id]` right after `certdrift:ignore`")?;
    let (ids, reason) = inner
        .split_once(']')
        .ok_or("has `[` without `]` after its rule ids")?;
    let ids: Vec<String> = ids.split(',').map(|i| i.trim().to_owned()).collect();
    if ids.iter().any(String::is_empty) {
        return Err("has an empty rule id between `[` and `]`".into());
    }
    if let Some(bad) = ids.iter().find(|i| rules::find(i).is_none()) {
        return Err(format!("names unknown rule {bad:?}"));
    }
    // `[expired]: reason` and `[expired] -- reason` read the same.
    let reason = reason
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-' | '—'))
        .trim_end();
    if reason.is_empty() {
        return Err("gives no reason after the `]`".into());
    }
    Ok(Directive {
        rules: ids,
        reason: reason.to_owned(),
    })
}

/// Removes from `findings` those an inline comment suppresses; returns them,
/// and an `invalid-suppression` finding (unless the policy turns the rule
/// off) for each invalid comment in a file that has findings. `read` gives a
/// scanned file's text by (root, path). Findings outside the scanned roots
/// (policy files) are left alone.
pub fn apply(
    findings: &mut Vec<Finding>,
    read: &dyn Fn(usize, &str) -> Option<String>,
    policy: &Policy,
) -> (Vec<Suppressed>, Vec<Finding>) {
    let mut files: BTreeMap<(usize, String), Vec<Comment>> = BTreeMap::new();
    for l in findings.iter().flat_map(places) {
        let (root, path) = (l.root, &l.path);
        files
            .entry((root, path.clone()))
            .or_insert_with(|| read(root, path).map_or_else(Vec::new, |t| comments(&t)));
    }
    let mut invalid = Vec::new();
    if let Some(severity) = rules::severity(policy, &rules::INVALID_SUPPRESSION) {
        for ((root, path), list) in &files {
            for c in list {
                if let Err(problem) = &c.parsed {
                    let mut f = Finding::new(
                        rules::INVALID_SUPPRESSION.id,
                        severity,
                        Location::new(*root, path.as_str(), c.line, c.column),
                        format!("certdrift:ignore comment {problem}; it suppresses nothing"),
                    );
                    f.help = Some(
                        "write `# certdrift:ignore[RULE-ID] why this is accepted` on the finding's line or the line above; `certdrift rules` lists the ids".into(),
                    );
                    invalid.push(f);
                }
            }
        }
    }
    let mut suppressed = Vec::new();
    let mut kept = Vec::with_capacity(findings.len());
    for f in std::mem::take(findings) {
        // A comment at any place of the finding (one fault, several
        // places: each reference of one certificate) suppresses it.
        let hit = places(&f).find_map(|l| {
            files
                .get(&(l.root, l.path.clone()))
                .into_iter()
                .flatten()
                .find_map(|c| {
                    let d = c.parsed.as_ref().ok()?;
                    let near = c.line == l.line || c.line + 1 == l.line;
                    (near && d.rules.iter().any(|r| r == f.rule)).then_some((c, d))
                })
                .map(|(c, d)| {
                    (
                        d.reason.clone(),
                        Location::new(l.root, l.path.clone(), c.line, c.column),
                    )
                })
        });
        match hit {
            Some((reason, at)) => suppressed.push(Suppressed {
                finding: f,
                by: SuppressedBy::Inline,
                reason,
                at,
            }),
            None => kept.push(f),
        }
    }
    *findings = kept;
    (suppressed, invalid)
}

/// The places of `f` in scanned files: its location, then its related ones.
fn places(f: &Finding) -> impl Iterator<Item = &Location> {
    std::iter::once(&f.location)
        .chain(f.related.iter().map(|r| &r.location))
        .filter(|l| l.root != usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn directive(rules: &[&str], reason: &str) -> Result<Directive, String> {
        Ok(Directive {
            rules: rules.iter().map(|r| r.to_string()).collect(),
            reason: reason.into(),
        })
    }

    #[test]
    fn parses_ids_and_reason() {
        let c = comments(
            "a: 1\n  tls.crt: x  #  certdrift:ignore[expired, weak-crypto]: retired host\n",
        );
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].line, c[0].column), (2, 15));
        assert_eq!(
            c[0].parsed,
            directive(&["expired", "weak-crypto"], "retired host")
        );
    }

    #[test]
    fn rejects_missing_reason_unknown_ids_and_bad_syntax() {
        let text = "# certdrift:ignore[expired]\n# certdrift:ignore[expird] typo\n# certdrift:ignore expired why\n# certdrift:ignore[expired why\n# certdrift:ignore[] why\n# certdrift:ignore[expired] --\n";
        let problems: Vec<String> = comments(text)
            .into_iter()
            .map(|c| c.parsed.unwrap_err())
            .collect();
        assert_eq!(problems.len(), 6);
        assert!(problems[0].contains("no reason"), "{problems:?}");
        assert!(
            problems[1].contains("unknown rule \"expird\""),
            "{problems:?}"
        );
        assert!(problems[2].contains("names no rule"), "{problems:?}");
        assert!(problems[3].contains("without `]`"), "{problems:?}");
        assert!(problems[4].contains("empty rule id"), "{problems:?}");
        assert!(problems[5].contains("no reason"), "{problems:?}");
    }

    #[test]
    fn plain_text_is_not_a_comment() {
        assert!(comments("see certdrift:ignore[expired] in the docs\n").is_empty());
    }

    #[test]
    fn applies_to_the_same_line_and_the_next_for_named_rules_only() {
        let text = "# certdrift:ignore[expired] retired\nline 2\nline 3 # certdrift:ignore[expired,weak-crypto] legacy\nline 4\n# certdrift:ignore[expired]\nline 6\n";
        let at = |line, rule| {
            Finding::new(
                rule,
                Severity::Error,
                Location::new(0, "a.pem", line, 1),
                "x",
            )
        };
        let mut findings = vec![
            at(2, "expired"),
            at(2, "weak-crypto"),
            at(3, "weak-crypto"),
            at(4, "expired"),
            at(5, "expired"),
            at(6, "expired"),
        ];
        let read = |_: usize, p: &str| (p == "a.pem").then(|| text.to_owned());
        let (suppressed, invalid) = apply(&mut findings, &read, &Policy::default());
        let lines = |v: &[Finding]| {
            v.iter()
                .map(|f| (f.location.line, f.rule))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            suppressed
                .iter()
                .map(|s| (
                    s.finding.location.line,
                    s.finding.rule,
                    s.reason.as_str(),
                    s.at.line
                ))
                .collect::<Vec<_>>(),
            [
                (2, "expired", "retired", 1),
                (3, "weak-crypto", "legacy", 3),
                (4, "expired", "legacy", 3)
            ]
        );
        assert_eq!(
            lines(&findings),
            [(2, "weak-crypto"), (5, "expired"), (6, "expired")]
        );
        assert_eq!(lines(&invalid), [(5, "invalid-suppression")]);
    }
}
