//! Runs the binary on every `testdata/<rule>/{pass,fail}` tree and compares
//! the full text and JSON output with reviewed snapshots.

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

fn check_rule(rule: &str) {
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

#[test]
fn expired() {
    check_rule("expired");
}
#[test]
fn expired_anchor() {
    check_rule("expired-anchor");
}
#[test]
fn expires_soon() {
    check_rule("expires-soon");
}
#[test]
fn not_yet_valid() {
    check_rule("not-yet-valid");
}
#[test]
fn crl_expired() {
    check_rule("crl-expired");
}
#[test]
fn not_a_ca() {
    check_rule("not-a-ca");
}
#[test]
fn weak_crypto() {
    check_rule("weak-crypto");
}
#[test]
fn private_key_in_repo() {
    check_rule("private-key-in-repo");
}
#[test]
fn duplicate_in_bundle() {
    check_rule("duplicate-in-bundle");
}
#[test]
fn malformed() {
    check_rule("malformed");
}
#[test]
fn trust_mismatch() {
    check_rule("trust-mismatch");
}
#[test]
fn san_coverage() {
    check_rule("san-coverage");
}
#[test]
fn ca_divergence() {
    check_rule("ca-divergence");
}
#[test]
fn source_divergence() {
    check_rule("source-divergence");
}
#[test]
fn too_many_cas() {
    check_rule("too-many-cas");
}
#[test]
fn unresolved() {
    check_rule("unresolved");
}
#[test]
fn unused_exception() {
    check_rule("unused-exception");
}
#[test]
fn invalid_suppression() {
    check_rule("invalid-suppression");
}
#[test]
fn stale_baseline() {
    check_rule("stale-baseline");
}

/// Every rule in the table has a fixture directory, and every fixture directory a rule.
#[test]
fn every_rule_has_fixtures() {
    let out = run(&repo(), &["rules"]);
    let ids: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(ids.len() >= 9);
    // Findings of two revisions (diff) or of live endpoints (probe, tested
    // in tests/probe.rs against real TLS servers): no scan fixture can show them.
    let not_scan = [
        "source-change",
        "trust-change",
        "gate-change",
        "live-drift",
        "unreachable",
    ];
    for id in ids.iter().filter(|i| !not_scan.contains(&i.as_str())) {
        for kind in ["pass", "fail"] {
            assert!(
                repo().join("testdata").join(id).join(kind).is_dir(),
                "no testdata/{id}/{kind}"
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
