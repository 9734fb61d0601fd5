//! Diff reports: text (per component, with the unified diff of the cause),
//! markdown (a pull-request comment), JSON (report version 1 plus `changes`).

use super::escape;
use super::RenderOptions;
use crate::diff::DiffResult;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn summary(d: &DiffResult) -> String {
    use super::text::plural;
    let (e, w, n) = super::counts(&d.findings);
    let comps: std::collections::BTreeSet<&str> =
        d.changes.iter().map(|c| c.component.as_str()).collect();
    let mut out = format!(
        "{} changed, {} changed; {}, {}, {}; {} present on both sides not repeated{}{}\n",
        plural(d.changed_files.len(), "file", "files"),
        plural(comps.len(), "component", "components"),
        plural(e, "error", "errors"),
        plural(w, "warning", "warnings"),
        plural(n, "note", "notes"),
        plural(d.unchanged_findings, "finding", "findings"),
        if d.unchanged_findings > 0 {
            " (--all shows them)"
        } else {
            ""
        },
        super::text::suppressed_summary(&d.head),
    );
    let _ = super::text::by_rule(&d.findings, &mut out);
    out
}

/// Text: findings with excerpts, changes per component, then the diffs of the causes.
pub fn text(d: &DiffResult, opts: RenderOptions) -> String {
    let mut out = super::text::findings(&d.head, &d.findings, opts);
    out.push_str(&super::text::suppressed(&d.head, opts));
    if !d.changes.is_empty() {
        out.push_str("Changes by component:\n");
        let mut by: BTreeMap<&str, Vec<&crate::inventory::compare::Change>> = BTreeMap::new();
        for c in &d.changes {
            by.entry(&c.component).or_default().push(c);
        }
        for (comp, list) in by {
            let _ = writeln!(out, "  {}", escape::text(comp));
            for c in list {
                let line = format!(
                    "    {}: {} → {}  ({})",
                    c.what.as_str(),
                    c.before,
                    c.after,
                    c.location
                );
                let _ = writeln!(out, "{}", escape::text(&line));
                if !c.causes.is_empty() {
                    let causes = c.causes.join(", ");
                    let _ = writeln!(out, "      caused by: {}", escape::text(&causes));
                }
            }
        }
        out.push('\n');
    }
    for (_, diff) in &d.file_diffs {
        // Every line of a unified diff starts with our prefix; a CR, ESC or
        // newline from a file name or a changed line is escaped.
        for line in diff.lines() {
            out.push_str(&escape::excerpt(line));
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&summary(d));
    out
}

/// Markdown for a pull-request comment: a summary table and collapsible details.
pub fn markdown(d: &DiffResult) -> String {
    let (e, w, n) = super::counts(&d.findings);
    let mut out = String::from("### certdrift diff\n\n");
    let _ = writeln!(
        out,
        "**{e}** errors, **{w}** warnings, **{n}** notes; {} components changed.\n",
        {
            let c: std::collections::BTreeSet<&str> =
                d.changes.iter().map(|c| c.component.as_str()).collect();
            c.len()
        }
    );
    out.push_str(&super::markdown::findings_table(
        &d.findings,
        super::markdown::BUDGET * 3 / 4,
    ));
    // What is left of the budget goes to the changes, then the diffs of
    // their causes, each whole or not at all.
    let mut rest = super::markdown::Bounded::new(super::markdown::BUDGET.saturating_sub(out.len()));
    let mut omitted = 0;
    if !d.changes.is_empty() {
        let mut table = String::from("<details><summary>Changes by component</summary>\n\n| component | change | before | after | caused by |\n|---|---|---|---|---|\n");
        for c in &d.changes {
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} |",
                super::markdown::code(&c.component),
                c.what.as_str(),
                escape::markdown(&c.before),
                escape::markdown(&c.after),
                c.causes
                    .iter()
                    .map(|x| super::markdown::code(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        table.push_str("\n</details>\n\n");
        if !rest.push(&table) {
            let _ = writeln!(
                rest.text,
                "The changes of {} components are not shown here (too long for a comment): see the job log.\n",
                d.changes.len()
            );
        }
    }
    for (path, diff) in &d.file_diffs {
        let block = format!(
            "<details><summary><code>{}</code></summary>\n\n{}\n</details>\n\n",
            escape::html(path),
            escape::markdown_fence("diff", diff)
        );
        if !rest.push(&block) {
            omitted += 1;
        }
    }
    if omitted > 0 {
        let _ = writeln!(
            rest.text,
            "{omitted} file diffs are not shown here (too long for a comment): see the job log.\n"
        );
    }
    out.push_str(&rest.text);
    out
}

/// JSON: the version-1 report of HEAD's new findings, plus `changes`.
pub fn json(d: &DiffResult, opts: RenderOptions) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&super::json::findings_report(&d.head, &d.findings, opts))
            .unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "changes".into(),
            d.changes
                .iter()
                .map(|c| {
                    json!({
                        "component": c.component,
                        "change": c.what.as_str(),
                        "before": c.before,
                        "after": c.after,
                        "location": c.location,
                        "causes": c.causes,
                        "own_files_changed": c.own_files_changed,
                    })
                })
                .collect(),
        );
        m.insert("changed_files".into(), json!(d.changed_files));
        m.insert("unchanged_findings".into(), json!(d.unchanged_findings));
    }
    super::json::complete_last(&mut v);
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
