//! `gate-change` (diff): the change under review edits certdrift's own configuration.

use super::{declare_rule, DiffContext};
use crate::config;
use crate::finding::{Finding, Location, Severity};
use crate::gate::{policy, strictness, Sides};

declare_rule! {
    /// What it detects (only in `certdrift diff`): HEAD changes
    /// `.certdrift.yaml` or a policy file its settings name. `diff` runs
    /// with BASE's configuration (or the one named with `--config`), never
    /// HEAD's; this finding says that the change's configuration was not
    /// obeyed, and what it would weaken: a laxer `fail_on`, rules turned
    /// off or down, more exceptions, a role or component whose `client:`
    /// no longer makes Go's or the strict profile's refusals errors.
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
        diff: check,
    };
}

/// The `gate-change` finding when HEAD's configuration files differ from
/// BASE's: it says what the change would weaken (a laxer `fail_on`, rules
/// turned off or down, more exceptions), at HEAD's `.certdrift.yaml`.
fn check(ctx: &DiffContext<'_>) -> Vec<Finding> {
    let Some(Sides {
        base,
        head,
        head_label,
    }) = ctx.gate
    else {
        return Vec::new();
    };
    if base.files == head.files {
        return Vec::new();
    }
    let mut weakens = Vec::new();
    let (bf, hf) = (
        base.settings.fail_on.as_deref(),
        head.settings.fail_on.as_deref(),
    );
    if strictness(hf) > strictness(bf) {
        weakens.push(format!(
            "fail_on {} → {}",
            bf.unwrap_or("error"),
            hf.unwrap_or("error")
        ));
    }
    // Policies that do not parse are reported by the scan that reads them;
    // here only what parses can be compared.
    if let (Ok(bp), Ok(hp)) = (policy(base, "BASE"), policy(head, head_label)) {
        for (rule, sev) in &hp.severities {
            let before = bp
                .severities
                .get(rule)
                .copied()
                .unwrap_or_else(|| super::find(rule).map(|r| r.severity));
            let lower = match (before, sev) {
                (Some(_), None) => true,
                (Some(b), Some(h)) => h < &b,
                (None, _) => false,
            };
            if lower {
                let now = sev.map_or("off".to_owned(), |s| s.to_string());
                weakens.push(format!("{rule} → {now}"));
            }
        }
        weakens.extend(client_changes(&bp, &hp));
        let added = hp.exceptions.len().saturating_sub(bp.exceptions.len());
        if added > 0 {
            weakens.push(format!("{added} more exception(s)"));
        }
    }
    let what = if weakens.is_empty() {
        "changes the gate's configuration".to_owned()
    } else {
        format!("would weaken the gate ({})", weakens.join(", "))
    };
    let changed: Vec<&str> = {
        let mut paths: Vec<&str> = base
            .files
            .iter()
            .chain(&head.files)
            .filter(|f| !base.files.contains(f) || !head.files.contains(f))
            .map(|(p, _)| p.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths
    };
    let mut f = Finding::new(
        RULE.id,
        RULE.severity,
        Location::new(0, config::FILE_NAME, 1, 1),
        format!(
            "this change {what} in {}; this run used BASE's configuration, and the change's takes effect once merged",
            changed.join(", ")
        ),
    );
    f.help =
        Some("review the configuration change on its own; a change cannot set its own gate".into());
    vec![f]
}

/// Roles and components whose `client:` HEAD changes so that a refusal
/// that was an error may no longer be one: to `other` (neither Go's nor
/// the strict profile's refusals are judged), or away from a `go` or
/// `strict` that BASE set. As `role NAME client strict → other`.
fn client_changes(base: &crate::policy::Policy, head: &crate::policy::Policy) -> Vec<String> {
    use crate::policy::Client;
    let name = |c: Option<Client>| match c {
        Some(Client::Go) => "go",
        Some(Client::Strict) => "strict",
        Some(Client::Other) => "other",
        None => "unset",
    };
    let weaker = |b: Option<Client>, h: Option<Client>| {
        b != h && (h == Some(Client::Other) || matches!(b, Some(Client::Go | Client::Strict)))
    };
    let roles = head.roles.iter().filter_map(|r| {
        let b = base
            .roles
            .iter()
            .find(|x| x.name == r.name)
            .and_then(|x| x.client);
        weaker(b, r.client)
            .then(|| format!("role {} client {} → {}", r.name, name(b), name(r.client)))
    });
    let components = head.components.iter().filter_map(|c| {
        let b = base
            .components
            .iter()
            .find(|x| x.name == c.name)
            .and_then(|x| x.client);
        weaker(b, c.client).then(|| {
            format!(
                "component {} client {} → {}",
                c.name,
                name(b),
                name(c.client)
            )
        })
    });
    roles.chain(components).collect()
}
