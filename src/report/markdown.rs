//! Markdown for a pull-request comment: a summary line and a per-rule
//! table, then the findings (errors first) and, collapsed, each finding's
//! related places and help. A comment holds at most 65,536 characters, so
//! the report stops adding findings at [`BUDGET`] and says how many it left
//! out; every line it writes is whole (no table or fence is left open).

use super::escape;
use crate::finding::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Characters a report may use before it stops adding findings, leaving
/// room under GitHub's 65,536 for the closing lines.
pub const BUDGET: usize = 60_000;

/// Longest message or note, in characters, in one table cell or list item.
const MAX_CELL: usize = 1_000;

/// Text from input in a table cell or list item: inert Markdown (no HTML,
/// links, mentions or fences from a certificate field or a file name), at
/// most [`MAX_CELL`] characters of it.
fn cell(s: &str) -> String {
    match s.char_indices().nth(MAX_CELL) {
        Some((at, _)) => format!("{}…", escape::markdown(&s[..at])),
        None => escape::markdown(s),
    }
}

/// Inline code, safe in a table cell: every `|` escaped as `\|`, and one
/// already preceded by an odd run of backslashes (`a\|b` in a file name)
/// given one more, so that no input splits a row.
pub(crate) fn code(s: &str) -> String {
    let code = escape::markdown_code(s);
    let mut out = String::with_capacity(code.len() + 8);
    let mut backslashes = 0;
    for c in code.chars() {
        if c == '|' {
            if backslashes % 2 == 1 {
                out.push('\\');
            }
            out.push('\\');
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
    }
    out
}

/// Text that grows only by whole pieces while it stays within a budget.
pub struct Bounded {
    /// What has been written.
    pub text: String,
    budget: usize,
}

impl Bounded {
    /// Empty, allowed `budget` characters.
    pub fn new(budget: usize) -> Bounded {
        Bounded {
            text: String::new(),
            budget,
        }
    }

    /// Appends `s` if it fits; says whether it did.
    pub fn push(&mut self, s: &str) -> bool {
        if self.text.len() + s.len() > self.budget {
            return false;
        }
        self.text.push_str(s);
        true
    }

    /// Characters left.
    pub fn left(&self) -> usize {
        self.budget.saturating_sub(self.text.len())
    }
}

/// Errors, then warnings, then notes; report order within each.
fn by_severity(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.severity));
    v
}

/// `| rule | errors | warnings | notes |`: how many findings of each rule.
fn rule_table(findings: &[Finding]) -> String {
    let mut by: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for f in findings {
        let c = by.entry(f.rule).or_default();
        for (c, x) in c.iter_mut().zip(f.weight()) {
            *c += x;
        }
    }
    let mut out = String::from("| rule | errors | warnings | notes |\n|---|---|---|---|\n");
    for (rule, [e, w, n]) in by {
        let _ = writeln!(out, "| `{rule}` | {e} | {w} | {n} |");
    }
    out.push('\n');
    out
}

/// The per-rule table and the findings, shared by `scan` and `diff`,
/// within `budget` characters: the findings that do not fit are counted
/// in a closing line.
pub fn findings_table(findings: &[Finding], budget: usize) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut out = Bounded::new(budget);
    out.push(&rule_table(findings));
    out.push("| severity | rule | where | what |\n|---|---|---|---|\n");
    let ordered = by_severity(findings);
    let mut shown = 0;
    for f in &ordered {
        let row = format!(
            "| {} | `{}` | {} | {} |\n",
            f.severity,
            f.rule,
            code(&f.location.to_string()),
            cell(&f.message)
        );
        if !out.push(&row) {
            break;
        }
        shown += 1;
    }
    let mut text = out.text;
    text.push('\n');
    let mut details = Bounded::new(budget.saturating_sub(text.len()));
    let detailed = ordered[..shown]
        .iter()
        .filter(|f| !f.related.is_empty() || f.help.is_some());
    let mut any = false;
    for f in detailed {
        let mut item = format!("- `{}` at {}\n", f.rule, code(&f.location.to_string()));
        for r in &f.related {
            let _ = writeln!(
                item,
                "  - {}: {}",
                code(&r.location.to_string()),
                cell(&r.note)
            );
        }
        if let Some(h) = &f.help {
            let _ = writeln!(item, "  - help: {}", cell(h));
        }
        if !details.push(&item) {
            break;
        }
        any = true;
    }
    if any {
        text.push_str("<details><summary>Details</summary>\n\n");
        text.push_str(&details.text);
        text.push_str("\n</details>\n\n");
    }
    let left: usize = ordered[shown..]
        .iter()
        .map(|f| f.weight().iter().sum::<usize>())
        .sum();
    if left > 0 {
        let _ = writeln!(
            text,
            "**{left} more findings** are not shown, to keep this comment within GitHub's 65,536 characters: see the job log or the SARIF report.\n"
        );
    }
    text
}

/// The `scan` report as markdown.
pub fn scan(findings: &[Finding]) -> String {
    let (e, w, n) = super::counts(findings);
    let mut out = String::from("### certdrift scan\n\n");
    let _ = writeln!(out, "**{e}** errors, **{w}** warnings, **{n}** notes.\n");
    out.push_str(&findings_table(findings, BUDGET));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `|` splits a GitHub table row unless an odd number of backslashes
    /// precede it; input that already holds `\|` gets one more.
    #[test]
    fn pipes_in_code_cells_never_split_a_row() {
        for s in ["a|b", "a\\|b", "a\\\\|b", "|", "\\|"] {
            let c = code(s);
            let mut run = 0;
            for ch in c.chars() {
                if ch == '|' {
                    assert_eq!(run % 2, 1, "{s:?} → {c:?}");
                }
                run = if ch == '\\' { run + 1 } else { 0 };
            }
        }
    }
}
