//! `certdrift rules` and `certdrift explain`: the rule table, from the library.

use super::output::print;
use anyhow::{bail, Result};
use certdrift::rules;
use std::process::ExitCode;

/// `certdrift rules`: one line per rule.
pub(crate) fn list() -> Result<ExitCode> {
    // Columns as wide as their longest entry; the severity is padded as a
    // string because its Display ignores a width (the column drifted).
    let id = rules::RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let sev = rules::RULES
        .iter()
        .map(|r| r.severity.to_string().len())
        .max()
        .unwrap_or(0);
    let mut s = String::new();
    for r in rules::RULES {
        let severity = r.severity.to_string();
        s.push_str(&format!("{:<id$}  {severity:<sev$}  {}\n", r.id, r.summary));
    }
    print(&s)?;
    Ok(ExitCode::SUCCESS)
}

/// `certdrift explain ID`: the rule's documentation.
pub(crate) fn explain(rule: &str) -> Result<ExitCode> {
    match rules::find(rule) {
        Some(r) => {
            print(&format!(
                "{} ({})\n\n{}",
                r.id,
                r.severity,
                rules::explain(r)
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        None => bail!(
            "no rule {rule:?} (`certdrift rules` lists them){}",
            certdrift::policy::did_you_mean(rule, rules::RULES.iter().map(|r| r.id))
        ),
    }
}
