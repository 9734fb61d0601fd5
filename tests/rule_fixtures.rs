//! Runs the binary on every `testdata/<rule>/{pass,fail}` tree, walking the
//! rule table, and compares the full text and JSON output with reviewed
//! snapshots.

mod common;
use common::*;

fn case(rule: &str, kind: &str) -> (i32, String, serde_json::Value) {
    let dir = repo().join("testdata").join(rule).join(kind);
    let mut args = vec!["scan", "--now", NOW];
    // A fixture can bring its own policy (e.g. `max_cas` for too-many-cas).
    if dir.join("certdrift-policy.yaml").exists() {
        args.extend(["--policy", "certdrift-policy.yaml"]);
    }
    // … or its own baseline (stale-baseline).
    if dir.join("certdrift-baseline.json").exists() {
        args.extend(["--baseline", "certdrift-baseline.json"]);
    }
    let text = run(&dir, &[&args[..], &["."]].concat());
    let js = run(&dir, &[&args[..], &["--format", "json", "."]].concat());
    assert_eq!(text.status.code(), js.status.code());
    (text.status.code().unwrap(), stdout(&text), json(&js))
}

/// `certdrift diff` on `testdata/<rule>/<kind>/{base,head}`, with the
/// fixture's policy if it brings one.
fn diff_case(rule: &str, kind: &str) -> (i32, String, serde_json::Value) {
    let dir = repo().join("testdata").join(rule).join(kind);
    let mut args = vec!["diff", "--now", NOW];
    if dir.join("certdrift-policy.yaml").exists() {
        args.extend(["--policy", "certdrift-policy.yaml"]);
    }
    let text = run(&dir, &[&args[..], &["base", "head"]].concat());
    let js = run(
        &dir,
        &[&args[..], &["--format", "json", "base", "head"]].concat(),
    );
    assert_eq!(text.status.code(), js.status.code());
    (text.status.code().unwrap(), stdout(&text), json(&js))
}

/// The fixture's `fail` tree reports the rule and its `pass` tree does not
/// (and exits 0); both outputs are compared with reviewed snapshots.
fn check_rule(rule: &str, case: fn(&str, &str) -> (i32, String, serde_json::Value)) {
    let (_, text, js) = case(rule, "fail");
    assert!(
        rules_of(&js).iter().any(|r| r == rule),
        "{rule}/fail reports no {rule}:\n{text}"
    );
    insta::assert_snapshot!(format!("{rule}-fail-text"), text);
    insta::assert_json_snapshot!(format!("{rule}-fail-json"), js, {".tool.version" => "[version]"});
    let (code, text, js) = case(rule, "pass");
    assert!(
        !rules_of(&js).iter().any(|r| r == rule),
        "{rule}/pass reports {rule}:\n{text}"
    );
    assert_eq!(code, 0, "{rule}/pass exits non-zero:\n{text}");
    insta::assert_snapshot!(format!("{rule}-pass-text"), text);
}

/// Walks the rule table: every rule has `testdata/<id>/{pass,fail}` and
/// is checked against them in the stage it runs in — a scan rule (or one
/// the suppress stage makes) by `scan`, a diff rule by `diff` of the
/// fixture's `base` and `head`. Probe rules need live endpoints: they are
/// tested in tests/probe.rs against real TLS servers. A new rule is one
/// file, one table row and one fixture folder. Every failing rule is named.
#[test]
fn every_rule_against_its_fixtures() {
    use certdrift::rules::{Stage, RULES};
    let mut failed = Vec::new();
    for rule in RULES {
        let case = match rule.home() {
            Stage::Scan => case,
            Stage::Diff => diff_case,
            Stage::Probe => continue,
        };
        for kind in ["pass", "fail"] {
            assert!(
                repo().join("testdata").join(rule.id).join(kind).is_dir(),
                "no testdata/{}/{kind}",
                rule.id
            );
        }
        let id = rule.id;
        if std::panic::catch_unwind(|| check_rule(id, case)).is_err() {
            failed.push(id);
        }
    }
    assert!(
        failed.is_empty(),
        "rules failing their fixtures: {failed:?}"
    );
}

/// Every fixture directory belongs to a rule of the table.
#[test]
fn every_fixture_has_a_rule() {
    let known: Vec<&str> = certdrift::rules::RULES.iter().map(|r| r.id).collect();
    for e in std::fs::read_dir(repo().join("testdata")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().join("fail").is_dir() && e.path().join("pass").is_dir() {
            assert!(
                known.contains(&name.as_str()),
                "testdata/{name} names no rule"
            );
        }
    }
}

/// A snapshot no test writes any more is an error (insta only warns).
#[test]
fn no_orphaned_snapshots() {
    let out = run(&repo(), &["rules"]);
    let mut expected = std::collections::BTreeSet::new();
    for id in stdout(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
    {
        for suffix in ["fail-text", "fail-json", "pass-text"] {
            expected.insert(format!("rule_fixtures__{id}-{suffix}.snap"));
        }
    }
    let dir = repo().join("tests/snapshots");
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".snap") {
            continue;
        }
        if let Some(rest) = name.strip_prefix("trust__trust-") {
            let variant = rest.trim_end_matches("-fail.snap");
            assert!(
                repo().join("testdata/trust").join(variant).is_dir(),
                "orphaned snapshot tests/snapshots/{name}"
            );
        }
        if name.starts_with("rule_fixtures__") {
            assert!(
                expected.contains(&name),
                "orphaned snapshot tests/snapshots/{name}"
            );
        }
    }
}

/// Every rule of the table is in README.md's Rules table with its default
/// severity, in the table's order, and the README lists no other.
#[test]
fn readme_lists_every_rule() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let rows: Vec<(String, String)> = readme
        .lines()
        .filter_map(|l| {
            let mut cells = l.strip_prefix("| `")?.splitn(3, " | ");
            let id = cells.next()?.strip_suffix('`')?.to_owned();
            let severity = cells.next()?.to_owned();
            Some((id, severity))
        })
        .filter(|(_, s)| ["error", "warning", "note"].contains(&s.as_str()))
        .collect();
    let table: Vec<(String, String)> = certdrift::rules::RULES
        .iter()
        .map(|r| (r.id.to_owned(), r.severity.to_string()))
        .collect();
    assert_eq!(rows, table);
}
