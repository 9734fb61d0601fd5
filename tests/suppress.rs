//! Suppressions: inline `# certdrift:ignore[rule] reason` comments, and
//! baselines (`--write-baseline`, `--baseline`) that survive edits which
//! shift every line.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// The expired fixture's certificate (PEM).
fn expired_pem() -> String {
    std::fs::read_to_string(repo().join("testdata/expired/fail/server.crt")).unwrap()
}

/// Another expired certificate (`CN=cn`, expired in 2020): a fault of its
/// own, where a second copy of the fixture's would be the same fault.
fn other_expired_pem(cn: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec![cn.to_owned()]).unwrap();
    p.not_before = rcgen::date_time_ymd(2019, 1, 1);
    p.not_after = rcgen::date_time_ymd(2020, 1, 1);
    p.self_signed(&key).unwrap().pem()
}

/// A Secret holding `pem` as `tls.crt`, with `comment` after the value.
fn secret(pem: &str, comment: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-tls\n  namespace: apps\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {b64}{comment}\n")
}

fn scan_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let out = run(
        dir,
        &[&["scan", "--now", NOW, "--format", "json"], extra, &["."]].concat(),
    );
    (out.status.code().unwrap(), json(&out))
}

/// Writes a file of the test tree.
fn put(path: std::path::PathBuf, text: impl AsRef<[u8]>) {
    std::fs::write(path, text).unwrap();
}

fn suppressed_by(report: &Value) -> Value {
    report["summary"]["suppressed_by"].clone()
}

#[test]
fn a_comment_with_a_reason_suppresses_on_its_line_and_the_next() {
    let tmp = tempfile::tempdir().unwrap();
    let pem = expired_pem();
    // The line above a PEM block's BEGIN line.
    put(
        tmp.path().join("above.crt"),
        format!("# certdrift:ignore[expired] decommissioned host, kept for the audit trail\n{pem}"),
    );
    // The same line as the YAML value, after it.
    put(
        tmp.path().join("same-line.yaml"),
        secret(
            &other_expired_pem("web.example"),
            "  # certdrift:ignore[weak-crypto,expired]: replaced by web-tls-2 in INC-42",
        ),
    );
    let (code, report) = scan_json(tmp.path(), &["--show-suppressed"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(rules_of(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(report["summary"]["suppressed"], 2);
    assert_eq!(
        suppressed_by(&report),
        serde_json::json!({"exception": 0, "inline": 2, "baseline": 0})
    );
    let listed: Vec<(&str, &str, &str)> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["finding"]["location"]["path"].as_str().unwrap(),
                s["by"].as_str().unwrap(),
                s["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "above.crt",
                "inline",
                "decommissioned host, kept for the audit trail"
            ),
            (
                "same-line.yaml",
                "inline",
                "replaced by web-tls-2 in INC-42"
            ),
        ]
    );
    assert_eq!(report["suppressed"][0]["finding"]["rule"], "expired");

    // Text: a section after the findings, and the count in the summary.
    let text = stdout(&run(
        tmp.path(),
        &["scan", "--now", NOW, "--show-suppressed", "."],
    ));
    assert!(text.contains("suppressed findings (2):\n  error[expired] above.crt:2:1: certificate CN=old.example.org"), "{text}");
    assert!(
        text.contains(
            "    inline (above.crt:1:1): decommissioned host, kept for the audit trail\n"
        ),
        "{text}"
    );
    assert!(text.contains("    inline (same-line.yaml:8:"), "{text}");
    assert!(
        text.ends_with("0 errors, 0 warnings, 0 notes; 2 suppressed (2 inline)\n"),
        "{text}"
    );
    // Without --show-suppressed: the count only.
    let text = stdout(&run(tmp.path(), &["scan", "--now", NOW, "."]));
    assert!(!text.contains("suppressed findings"), "{text}");
    assert!(text.contains("; 2 suppressed (2 inline)"), "{text}");
    let (_, report) = scan_json(tmp.path(), &[]);
    assert!(report.get("suppressed").is_none(), "{report:#}");
}

/// A private key may be accepted too (a throwaway test key); the reason is
/// listed and the key's bytes never are.
#[test]
fn a_private_key_finding_can_be_suppressed_with_its_reason_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let key = std::fs::read_to_string(repo().join("testdata/private-key-in-repo/fail/server.key"))
        .unwrap();
    put(
        tmp.path().join("server.key"),
        format!(
            "# certdrift:ignore[private-key-in-repo] throwaway key of the local CA tests\n{key}"
        ),
    );
    let out = run(
        tmp.path(),
        &["scan", "--now", NOW, "--show-suppressed", "."],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("  error[private-key-in-repo] server.key:2:1: EC PRIVATE KEY (file) is stored in the repository\n    inline (server.key:1:1): throwaway key of the local CA tests\n"), "{text}");
    let body: String = key.lines().nth(1).unwrap().chars().take(16).collect();
    assert!(!text.contains(&body), "{text}");
}

#[test]
fn a_comment_two_lines_above_or_for_another_rule_does_not_suppress() {
    let tmp = tempfile::tempdir().unwrap();
    let pem = expired_pem();
    put(
        tmp.path().join("far.crt"),
        format!("# certdrift:ignore[expired] too far away\n\n{pem}"),
    );
    put(
        tmp.path().join("other.crt"),
        format!(
            "# certdrift:ignore[weak-crypto] not this rule\n{}",
            other_expired_pem("other.example")
        ),
    );
    let (code, report) = scan_json(tmp.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(rules_of(&report), ["expired", "expired"]);
    assert_eq!(report["summary"]["suppressed"], 0);
}

#[test]
fn a_comment_without_a_reason_is_a_finding_and_suppresses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let pem = expired_pem();
    put(
        tmp.path().join("server.crt"),
        format!("# certdrift:ignore[expired]\n{pem}"),
    );
    put(
        tmp.path().join("typo.yaml"),
        secret(
            &other_expired_pem("typo.example"),
            " # certdrift:ignore[expird] host retired",
        ),
    );
    let (code, report) = scan_json(tmp.path(), &[]);
    assert_eq!(code, 1, "the expired finding is still reported");
    let found: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = |r: &str, p: &str, l| (r.to_owned(), p.to_owned(), l);
    assert_eq!(
        found,
        [
            want("invalid-suppression", "server.crt", 1),
            want("expired", "server.crt", 2),
            want("expired", "typo.yaml", 8),
            want("invalid-suppression", "typo.yaml", 8),
        ]
    );
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "invalid-suppression")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(messages[0].contains("gives no reason"), "{messages:?}");
    assert!(
        messages[1].contains("unknown rule \"expird\""),
        "{messages:?}"
    );
    assert_eq!(report["summary"]["suppressed"], 0);
}

/// Acceptance (issue 6): a baseline written today and used after a
/// line-shifting edit (lines inserted above every finding) still suppresses
/// every old finding and reports the new one; a stale entry is listed.
#[test]
fn a_baseline_survives_shifted_lines_reports_the_new_finding_and_lists_a_stale_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    for fixture in ["expired", "malformed"] {
        let to = t.join(fixture);
        std::fs::create_dir_all(&to).unwrap();
        copy_tree(&repo().join("testdata").join(fixture).join("fail"), &to);
    }
    let scan = |extra: &[&str]| {
        let out = run(
            tmp.path(),
            &[&["scan", "--now", NOW, "--format", "json"], extra, &["t"]].concat(),
        );
        (out.status.code().unwrap(), json(&out))
    };

    let (code, before) = scan(&[]);
    assert_eq!(code, 1);
    let old = before["findings"].as_array().unwrap().clone();
    assert!(old.len() >= 5, "{before:#}");
    let (code, written) = scan(&["--write-baseline", "baseline.json"]);
    assert_eq!(code, 0, "a fresh baseline accepts everything: {written:#}");
    assert_eq!(rules_of(&written), Vec::<String>::new());
    assert_eq!(written["summary"]["suppressed"], old.len());
    let baseline = std::fs::read_to_string(tmp.path().join("baseline.json")).unwrap();
    assert!(!baseline.contains("\"line\""), "{baseline}");
    assert!(
        !baseline.contains("line 1"),
        "no message in the baseline: {baseline}"
    );

    // Insert 7 comment lines at the top of every file with findings (PEM
    // readers skip text before BEGIN; YAML skips comments).
    let mut paths: Vec<&str> = old
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    paths.dedup();
    for p in &paths {
        let file = t.join(p);
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, format!("{}{text}", "# moved down\n".repeat(7))).unwrap();
    }
    // One new problem, and one old one fixed by deleting its file. (A copy
    // of a certificate already accepted is the same fault, not a new one.)
    std::fs::write(
        t.join("expired/new-server.crt"),
        other_expired_pem("new.example"),
    )
    .unwrap();
    std::fs::remove_file(t.join("malformed/truncated.crt")).unwrap();
    let gone = old
        .iter()
        .filter(|f| f["location"]["path"] == "malformed/truncated.crt")
        .count();
    assert_eq!(gone, 1);

    let (code, after) = scan(&["--baseline", "baseline.json", "--show-suppressed"]);
    assert_eq!(code, 1, "{after:#}");
    let findings = after["findings"].as_array().unwrap();
    assert_eq!(rules_of(&after), ["stale-baseline", "expired"], "{after:#}");
    let stale = &findings[0];
    assert_eq!(stale["location"]["path"], "baseline.json");
    assert_eq!(stale["severity"], "note");
    assert!(
        stale["message"]
            .as_str()
            .unwrap()
            .starts_with("baseline entry malformed in malformed/truncated.crt matches no finding"),
        "{stale:#}"
    );
    assert_eq!(findings[1]["location"]["path"], "expired/new-server.crt");

    // Every old finding is suppressed at its new line, with the baseline as the reason.
    let suppressed = after["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), old.len() - gone);
    assert_eq!(after["summary"]["suppressed"], old.len() - gone);
    assert_eq!(
        suppressed_by(&after),
        serde_json::json!({"exception": 0, "inline": 0, "baseline": old.len() - gone})
    );
    for s in suppressed {
        assert_eq!(s["by"], "baseline");
        assert_eq!(s["reason"], "accepted in baseline baseline.json");
        let f = &s["finding"];
        let was = old
            .iter()
            .find(|o| o["rule"] == f["rule"] && o["location"]["path"] == f["location"]["path"])
            .unwrap_or_else(|| panic!("not an old finding: {f:#}"));
        assert_eq!(
            f["location"]["line"].as_u64().unwrap(),
            was["location"]["line"].as_u64().unwrap() + 7
        );
    }

    // Text lists the same, with the reasons.
    let text = stdout(&run(
        tmp.path(),
        &[
            "scan",
            "--now",
            NOW,
            "--baseline",
            "baseline.json",
            "--show-suppressed",
            "t",
        ],
    ));
    assert!(
        text.contains(&format!("suppressed findings ({}):", old.len() - gone)),
        "{text}"
    );
    assert!(text.contains("    baseline (baseline.json:"), "{text}");
    assert!(
        text.contains(&format!(
            "; {} suppressed ({} baseline)",
            old.len() - gone,
            old.len() - gone
        )),
        "{text}"
    );
}

#[test]
fn a_baseline_counts_identical_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    std::fs::create_dir_all(&t).unwrap();
    // Two malformed blocks in one file: one key, count 2.
    let bad = expired_pem().replacen("-----BEGIN", "------BEGIN", 1);
    std::fs::write(t.join("bundle.pem"), format!("{bad}{bad}")).unwrap();
    let scan = |extra: &[&str]| {
        let out = run(
            tmp.path(),
            &[&["scan", "--now", NOW, "--format", "json"], extra, &["t"]].concat(),
        );
        (out.status.code().unwrap(), json(&out))
    };
    let (_, report) = scan(&["--write-baseline", "b.json"]);
    assert_eq!(report["summary"]["suppressed"], 2, "{report:#}");
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("b.json")).unwrap()).unwrap();
    assert_eq!(b["entries"].as_array().unwrap().len(), 1, "{b:#}");
    assert_eq!(b["entries"][0]["count"], 2);
    // A third identical block is new.
    std::fs::write(t.join("bundle.pem"), format!("{bad}{bad}{bad}")).unwrap();
    let (code, report) = scan(&["--baseline", "b.json"]);
    assert_eq!(code, 1);
    assert_eq!(rules_of(&report), ["malformed"]);
    assert_eq!(report["summary"]["suppressed"], 2);
}

#[test]
fn a_missing_or_invalid_baseline_is_exit_2_with_its_path() {
    let dir = repo().join("testdata/expired/fail");
    let out = run(
        &dir,
        &[
            "scan",
            "--now",
            NOW,
            "--baseline",
            "no-such-baseline.json",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read baseline no-such-baseline.json"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"version\": 1, \"entries\": [{\"rule\": \"expired\"}]}\n",
    )
    .unwrap();
    let bad = bad.to_string_lossy().into_owned();
    for cmd in [
        &["scan", "--now", NOW, "--baseline", &bad, "."][..],
        &["diff", ".", ".", "--baseline", &bad],
    ] {
        let out = run(&dir, cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!(
                "{bad}:1:28: invalid baseline: entry has no \"path\""
            )),
            "{err}"
        );
    }
}

#[test]
fn diff_applies_the_baseline_to_head() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&head).unwrap();
    copy_tree(&repo().join("testdata/expired/pass"), &base);
    copy_tree(&repo().join("testdata/expired/fail"), &head);
    let diff = |extra: &[&str]| {
        let out = run(
            tmp.path(),
            &[
                &["diff", "base", "head", "--now", NOW, "--format", "json"],
                extra,
            ]
            .concat(),
        );
        (out.status.code().unwrap(), json(&out))
    };
    let (code, report) = diff(&[]);
    assert_eq!(code, 1);
    assert_eq!(rules_of(&report), ["expired"]);
    let out = run(
        tmp.path(),
        &["scan", "--now", NOW, "--write-baseline", "b.json", "head"],
    );
    assert_eq!(out.status.code(), Some(0));
    let (code, report) = diff(&["--baseline", "b.json", "--show-suppressed"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(rules_of(&report), Vec::<String>::new());
    assert_eq!(report["suppressed"][0]["by"], "baseline");
}
