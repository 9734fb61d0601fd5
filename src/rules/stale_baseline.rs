//! `stale-baseline`: a baseline entry that matches no finding any more.

use super::declare_rule;
use crate::finding::Severity;

declare_rule! {
    /// What it detects: an entry of the `--baseline` file that matched
    /// fewer findings than its `count` in this scan (usually none: the
    /// problem was fixed, or the file was deleted or moved).
    ///
    /// Why it matters: a baseline is a list of accepted problems, and it
    /// should shrink as they are fixed. An entry that matches nothing keeps
    /// room for the same problem to come back unnoticed: a certificate
    /// re-added to the same file would be suppressed as "known".
    /// Regenerate the baseline with `--write-baseline` to drop it.
    ///
    /// Example: the baseline accepts `expired` for `pki/legacy.crt`
    /// (sha256:3f2a…); `pki/legacy.crt` was deleted, so the entry is stale.
    pub static RULE = {
        id: "stale-baseline",
        severity: Severity::Note,
        summary: "a --baseline entry matches no finding",
    };
}

// Made by the suppress stage (`crate::suppress::baseline`), for any stage's findings: no check of its own.
