//! `gate-change` (diff): the change under review edits certdrift's own configuration.

use super::{declare_rule, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects (only in `certdrift diff`): HEAD changes
    /// `.certdrift.yaml` or a policy file its settings name. `diff` runs
    /// with BASE's configuration (or the one named with `--config`), never
    /// HEAD's; this finding says that the change's configuration was not
    /// obeyed, and what it would weaken: a laxer `fail_on`, rules turned
    /// off or down, more exceptions.
    ///
    /// Why it matters: certdrift gates pull requests, often from people the
    /// repository does not trust. A change that adds a private key and
    /// `severity: {private-key-in-repo: off}` would otherwise pass its own
    /// gate. Configuration changes deserve a review of their own.
    ///
    /// Example: HEAD's `.certdrift.yaml` sets `fail_on: never`: "this change
    /// would weaken the gate (fail_on error → never) in .certdrift.yaml;
    /// this run used BASE's configuration".
    pub static RULE = {
        id: "gate-change",
        severity: Severity::Warning,
        summary: "(diff) the change edits certdrift's own configuration (BASE's is used)",
        check: check,
    };
}

/// Produced by `diff`, which reads both revisions' configuration.
fn check(_ctx: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
