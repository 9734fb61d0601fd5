//! `invalid-suppression`: a `certdrift:ignore` comment that suppresses nothing.

use super::declare_rule;
use crate::finding::Severity;

declare_rule! {
    /// What it detects: a `# certdrift:ignore[rule-id] reason` comment that
    /// is not valid: it gives no reason, names no rule, or names a rule
    /// that does not exist. Such a comment suppresses nothing; the finding
    /// it was written for is still reported.
    ///
    /// Only files that have findings are searched for these comments: in
    /// other files a comment has nothing to suppress.
    ///
    /// Why it matters: a suppression is a decision someone made, and the
    /// next person needs to know why, so the reason is required. A mistyped
    /// rule id looks like a suppression to a reviewer but hides nothing,
    /// and a comment without a reason is how accepted risks become
    /// forgotten ones.
    ///
    /// Example: `# certdrift:ignore[expired]` above an expired certificate
    /// (no reason), or `# certdrift:ignore[expird] host is retired` (no such
    /// rule). Write `# certdrift:ignore[expired] host is retired, see
    /// INC-1234`.
    pub static RULE = {
        id: "invalid-suppression",
        severity: Severity::Warning,
        summary: "a certdrift:ignore comment without a reason or with an unknown rule id",
    };
}

// Made by the suppress stage (`crate::suppress::inline`), for any stage's findings: no check of its own.
