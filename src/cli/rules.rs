//! `certdrift rules` and `certdrift explain`: the rule table, from the library.

use super::output::print;
use anyhow::{bail, Result};
use certdrift::rules;
use std::process::ExitCode;

/// `certdrift rules`: one line per rule.
pub(crate) fn list() -> Result<ExitCode> {
    let mut s = String::new();
    for r in rules::RULES {
        s.push_str(&format!("{:<20} {:<8} {}\n", r.id, r.severity, r.summary));
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
        None => bail!("no rule {rule:?}; `certdrift rules` lists them"),
    }
}
