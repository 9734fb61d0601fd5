//! One suppression stage for every command: the policy's severities and
//! exceptions, and inline comments, apply to the findings `diff` makes
//! (`source-change`, `trust-change`, `san-coverage`) exactly as to a
//! scan's, and an exception is judged unused only by the stage whose rule
//! it names. (Probe findings: tests/probe.rs, against real TLS servers.)

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn diff_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let all = [&["diff", "--now", NOW, "--format", "json"], args].concat();
    let out = run(dir, &all);
    assert!(
        out.status.code() != Some(2),
        "usage error: {}",
        stderr(&out)
    );
    (out.status.code().unwrap(), json(&out))
}

fn of_rule<'a>(r: &'a Value, rule: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// A policy file in a directory of its own (outside the scanned trees).
fn policy(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, text).unwrap();
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

/// The CA rotation's hard swap: `trust-change` is an error by default.
fn swap(extra: &[&str]) -> (i32, Value) {
    let (a, b) = (rotation("1-overlap"), rotation("2-swap"));
    diff_json(&repo(), &[extra, &[&a[..], &b[..]]].concat())
}

#[test]
fn diff_honours_the_policy_severity_of_its_own_rules() {
    let (_, r) = swap(&[]);
    let tc = of_rule(&r, "trust-change");
    assert_eq!(tc.len(), 1, "{r:#}");
    assert_eq!(tc[0]["severity"], "error");

    // Lowered: the same finding as a warning.
    let (_d, p) = policy("severity:\n  trust-change: warning\n");
    let (_, r) = swap(&["--policy", &p]);
    let tc = of_rule(&r, "trust-change");
    assert_eq!(tc.len(), 1, "{r:#}");
    assert_eq!(tc[0]["severity"], "warning");

    // Off: gone. The swap still breaks etcd's peers, which the scan rule
    // trust-mismatch reports (an error): only what the policy names changes.
    let (_d, p) = policy("severity:\n  trust-change: off\n");
    let (code, r) = swap(&["--policy", &p]);
    assert!(of_rule(&r, "trust-change").is_empty(), "{r:#}");
    assert!(!of_rule(&r, "trust-mismatch").is_empty(), "{r:#}");
    assert_eq!(code, 1);

    // Both off: the gate passes.
    let (_d, p) = policy("severity:\n  trust-change: off\n  trust-mismatch: off\n");
    let (code, r) = swap(&["--policy", &p]);
    assert_eq!(code, 0, "{r:#}");
}

#[test]
fn diff_honours_exceptions_and_reports_its_unused_ones() {
    let (_d, p) = policy(
        "exceptions:\n  - rule: trust-change\n    reason: rotation CHG-1 reviewed\n  - rule: source-change\n    reason: nothing flips here\n  - rule: expired\n    path: nowhere/**\n    reason: a scan rule's exception\n",
    );
    let (_, r) = swap(&["--policy", &p, "--show-suppressed"]);
    assert!(of_rule(&r, "trust-change").is_empty(), "{r:#}");
    let suppressed: Vec<&Value> = r["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["finding"]["rule"] == "trust-change")
        .collect();
    assert_eq!(suppressed.len(), 1, "{r:#}");
    assert_eq!(suppressed[0]["by"], "exception");
    assert_eq!(suppressed[0]["reason"], "rotation CHG-1 reviewed");
    // The source-change exception matched nothing in this diff: said once.
    // The `expired` one is a scan rule's: both sides' scans judge it the
    // same, so the diff does not repeat it.
    let unused = of_rule(&r, "unused-exception");
    let messages: Vec<&str> = unused
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["exception for source-change (nothing flips here) matches no finding"],
        "{r:#}"
    );
}

/// A scan cannot make a diff rule's finding, so it does not call that
/// rule's exception unused; it does call a scan rule's.
#[test]
fn a_scan_judges_only_the_exceptions_of_its_own_rules() {
    let (_d, p) = policy(
        "exceptions:\n  - rule: source-change\n    reason: rollout T1\n  - rule: live-drift\n    reason: renewal pending\n  - rule: expired\n    path: nowhere/**\n    reason: retired\n",
    );
    let out = run(
        &repo(),
        &[
            "scan",
            "--now",
            NOW,
            "--format",
            "json",
            "--policy",
            &p,
            &rotation("0-old"),
        ],
    );
    let r = json(&out);
    let unused: Vec<&str> = of_rule(&r, "unused-exception")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        unused,
        ["exception for expired (retired) matches no finding"],
        "{r:#}"
    );
}

/// An inline comment on the line a `source-change` finding points at
/// suppresses it in `diff`, as it would a scan finding.
#[test]
fn diff_honours_inline_comments() {
    let incident = repo().join("testdata/incidents/2023-08-09-mw-tls");
    let pol = repo().join("policies/examples/wikimedia-mesh.yaml");
    let pol = pol.to_string_lossy();
    let head = tempfile::tempdir().unwrap();
    copy_tree(&incident.join("trigger"), head.path());
    let base = incident.join("before");
    let base = base.to_string_lossy();
    let head_s = head.path().to_string_lossy().into_owned();
    let (_, r) = diff_json(&repo(), &["--policy", &pol, &base, &head_s]);
    let sc = of_rule(&r, "source-change");
    assert_eq!(sc.len(), 1, "{r:#}");
    let path = sc[0]["location"]["path"].as_str().unwrap().to_owned();
    let line = sc[0]["location"]["line"].as_u64().unwrap() as usize;
    // The comment goes on the line above the one that flips the source.
    let file = head.path().join(&path);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(
        line - 1,
        "# certdrift:ignore[source-change] global cert-manager rollout, SANs added first (T1)",
    );
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (_, r) = diff_json(
        &repo(),
        &["--policy", &pol, "--show-suppressed", &base, &head_s],
    );
    assert!(of_rule(&r, "source-change").is_empty(), "{r:#}");
    let inline: Vec<&Value> = r["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["finding"]["rule"] == "source-change")
        .collect();
    assert_eq!(inline.len(), 1, "{r:#}");
    assert_eq!(inline[0]["by"], "inline");
    assert!(of_rule(&r, "invalid-suppression").is_empty(), "{r:#}");
}

/// A policy naming a rule that does not exist is refused with its place,
/// whichever file of the merged policies names it.
#[test]
fn unknown_rule_ids_are_refused_after_merging() {
    let (_d, p) = policy("severity:\n  trust-change: warning\n  no-such-rule: off\n");
    let out = run(
        &repo(),
        &["scan", "--now", NOW, "--policy", &p, &rotation("0-old")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{p}:3:3: unknown rule \"no-such-rule\"")),
        "{err}"
    );
    let (_d, p) = policy("exceptions:\n  - rule: expird\n    reason: typo\n");
    let out = run(
        &repo(),
        &[
            "diff",
            "--policy",
            &p,
            &rotation("0-old"),
            &rotation("1-overlap"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{p}:2:11: unknown rule \"expird\"")),
        "{err}"
    );
}
