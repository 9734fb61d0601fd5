//! Exit codes and command-line contract.

mod common;
use common::*;

#[test]
fn exit_codes() {
    let empty = tempfile::tempdir().unwrap();
    // Nothing scanned is an input error unless allowed.
    assert_eq!(run(empty.path(), &["scan", "."]).status.code(), Some(2));
    assert_eq!(
        run(empty.path(), &["scan", "--allow-empty", "."])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(empty.path(), &["scan", "does-not-exist"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(empty.path(), &["scan", "--now", "yesterday", "."])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(empty.path(), &["scan", "--bogus"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(empty.path(), &["explain", "no-such-rule"])
            .status
            .code(),
        Some(2)
    );

    let fail = repo().join("testdata/expired/fail");
    assert_eq!(
        run(&fail, &["scan", "--now", NOW, "."]).status.code(),
        Some(1)
    );
    assert_eq!(
        run(&fail, &["scan", "--now", NOW, "--fail-on", "never", "."])
            .status
            .code(),
        Some(0)
    );
    let soon = repo().join("testdata/expires-soon/fail");
    assert_eq!(
        run(&soon, &["scan", "--now", NOW, "."]).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&soon, &["scan", "--now", NOW, "--fail-on", "warning", "."])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn explain_prints_the_rule_docs() {
    let out = run(&repo(), &["explain", "malformed"]);
    assert_eq!(out.status.code(), Some(0));
    let s = stdout(&out);
    assert!(
        s.contains("What it detects") && s.contains("six dashes"),
        "{s}"
    );
}

#[test]
fn demo_runs_and_reports_its_planted_faults() {
    let out = run(&repo(), &["scan", "--format", "json", "testdata/demo"]);
    assert_eq!(out.status.code(), Some(1));
    let rules = rules_of(&json(&out));
    for r in ["expired", "private-key-in-repo", "malformed", "not-a-ca"] {
        assert!(rules.iter().any(|x| x == r), "demo lacks {r}: {rules:?}");
    }
}

#[test]
fn inventory_csv_has_one_row_per_reference() {
    let dir = repo().join("testdata/duplicate-in-bundle/fail");
    let out = run(&dir, &["inventory", "--now", NOW, "--format", "csv", "."]);
    assert_eq!(out.status.code(), Some(0));
    let s = stdout(&out);
    assert!(s.starts_with("fingerprint,subject_cn,"));
    assert_eq!(s.lines().count(), 1 + 3);
}

/// CRLs are inventoried in every inventory format: json `crls[]`, csv rows
/// of kind `crl`, a text section.
#[test]
fn inventory_lists_crls() {
    let dir = repo().join("testdata/crl-expired/pass");
    let out = run(&dir, &["inventory", "--now", NOW, "--format", "json", "."]);
    let inv = json(&out);
    let crls = inv["crls"].as_array().unwrap();
    assert_eq!(crls.len(), 2, "{crls:#?}");
    for c in crls {
        assert_eq!(c["issuer"], "CN=Fixture CRL CA,O=certdrift tests");
        assert_eq!(c["next_update"], "2026-11-08T00:00:00Z");
        assert_eq!(c["days_left"], 7);
        assert_eq!(c["revoked"], 3);
        assert_eq!(c["crl_number"], "2a");
    }
    let out = run(&dir, &["inventory", "--now", NOW, "--format", "csv", "."]);
    let csv = stdout(&out);
    assert!(csv.lines().next().unwrap().ends_with(",kind,revoked"));
    let rows: Vec<&str> = csv.lines().filter(|l| l.ends_with(",crl,3")).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    let out = run(&dir, &["inventory", "--now", NOW, "."]);
    let text = stdout(&out);
    assert!(text.contains("\nCRLs\n"), "{text}");
    assert!(
        text.contains("next update 2026-11-08 (7 days)  3 revoked"),
        "{text}"
    );
}

/// A certificate quoted in a README is an example; a key there is still a leak.
#[test]
fn documentation_reports_keys_but_not_example_certificates() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["example.org".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2019, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let doc = format!(
        "# Setup\n\n```\n{}```\n\n```\n{}```\n",
        cert.pem(),
        key.serialize_pem()
    );
    std::fs::write(dir.path().join("README.md"), &doc).unwrap();
    std::fs::write(dir.path().join("notes.conf"), cert.pem()).unwrap();
    let out = run(dir.path(), &["scan", "--now", NOW, "--format", "json", "."]);
    let report = json(&out);
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        found.contains(&("private-key-in-repo".into(), "README.md".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("expired".into(), "notes.conf".into())),
        "{found:?}"
    );
    assert!(
        !found.contains(&("expired".into(), "README.md".into())),
        "{found:?}"
    );
}

#[test]
fn explain_trust_mismatch_tells_the_toolforge_story() {
    let s = stdout(&run(&repo(), &["explain", "trust-mismatch"]));
    assert!(
        s.contains("Toolforge") && s.contains("--etcd-cafile"),
        "{s}"
    );
}

/// Invalid policies are input errors that point at the policy's file:line.
#[test]
fn invalid_policies_exit_2_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.pem"), "").unwrap();
    let cases = [
        ("unknown-key.yaml", "components:\n  - name: a\n    serve: {}\n", 3, "unknown key \"serve\""),
        ("wrong-type.yaml", "max_cas: [1]\n", 1, "max_cas must be a string"),
        (
            "bad-selector.yaml",
            "components:\n  - name: a\n    serves:\n      cert-manager:\n        when: \"{{ .Values.x }}\"\n        issuer: x\n        names: [a]\n",
            5,
            "`when` is `always`, a values path like mesh.certmanager.enabled, a Hiera key",
        ),
        ("no-reason.yaml", "exceptions:\n  - {rule: expired, path: x}\n", 2, "needs a `reason`"),
        ("unknown-rule.yaml", "severity: {expird: off}\n", 1, "unknown rule \"expird\""),
    ];
    for (name, text, line, msg) in cases {
        std::fs::write(dir.path().join(name), text).unwrap();
        let out = run(
            dir.path(),
            &["scan", "--allow-empty", "--policy", name, "."],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&format!("{name}:{line}:")), "{name}: {err}");
        assert!(err.contains(msg), "{name}: {err}");
    }
}
