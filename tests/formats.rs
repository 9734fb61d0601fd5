//! The CI formats end to end: SARIF against the OASIS schema, JUnit read back
//! by an independent XML parser, GitHub workflow commands, `--output` files.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The scans whose SARIF is validated: the demo tree and two failing fixtures.
const SCANNED: &[&str] = &[
    "testdata/demo",
    "testdata/malformed/fail",
    "testdata/trust-mismatch/fail",
];

/// `diff` of the CA rotation's overlap step against its hard swap (errors).
fn diff_rotation(args: &[&str]) -> Output {
    let (base, head) = (rotation("1-overlap"), rotation("2-swap"));
    let mut all = vec!["diff", "--now", NOW];
    all.extend_from_slice(args);
    all.extend_from_slice(&[&base, &head]);
    run(&repo(), &all)
}

fn scan(dir: &Path, format: &str) -> Output {
    run(dir, &["scan", "--now", NOW, "--format", format, "."])
}

/// Runs python3 with a script and arguments; panics with its output on failure.
fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is needed by the format tests");
    assert!(
        out.status.success(),
        "python3 failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Validates a SARIF log against `../shared/schemas/sarif-schema-2.1.0.json`
/// and checks that every region starts at line and column ≥ 1.
fn check_sarif(label: &str, out: &Output, schema: &Path) -> serde_json::Value {
    let sarif = json(out);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("out.sarif");
    std::fs::write(&file, &out.stdout).unwrap();
    python(
        "import json,jsonschema,sys; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
        &[file.to_str().unwrap(), schema.to_str().unwrap()],
    );
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{label}: no results");
    for r in results {
        let locations = r["locations"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["relatedLocations"].as_array().into_iter().flatten());
        for l in locations {
            let p = &l["physicalLocation"];
            let uri = p["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                !uri.starts_with('/') && !uri.contains(' '),
                "{label}: {uri}"
            );
            assert!(p["region"]["startLine"].as_u64().unwrap() >= 1, "{label}");
            assert!(p["region"]["startColumn"].as_u64().unwrap() >= 1, "{label}");
        }
        let fp = r["partialFingerprints"]["certdrift/v1"].as_str().unwrap();
        assert!(
            fp.len() == 64 && fp.bytes().all(|b| b.is_ascii_hexdigit()),
            "{label}"
        );
    }
    sarif
}

fn schema() -> Option<PathBuf> {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared (the SARIF schema) is missing");
        return None;
    };
    Some(shared.join("schemas/sarif-schema-2.1.0.json"))
}

#[test]
fn sarif_validates_against_the_schema() {
    let Some(schema) = schema() else { return };
    for dir in SCANNED {
        let out = scan(&repo().join(dir), "sarif");
        assert_eq!(out.status.code(), Some(1), "{dir}");
        let sarif = check_sarif(dir, &out, &schema);
        assert_eq!(sarif["version"], "2.1.0");
        let driver = &sarif["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "certdrift");
        // Every result's ruleIndex points at its rule.
        for r in sarif["runs"][0]["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(driver["rules"][i]["id"], r["ruleId"], "{dir}");
        }
        // Same input, same bytes.
        assert_eq!(scan(&repo().join(dir), "sarif").stdout, out.stdout, "{dir}");
    }
    let out = diff_rotation(&["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif = check_sarif("diff", &out, &schema);
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"trust-mismatch"), "{rules:?}");
    assert!(rules.contains(&"trust-change"), "{rules:?}");
}

/// (uri, startLine, fingerprint) of every result.
fn results(out: &Output) -> Vec<(String, u64, String)> {
    json(out)["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            (
                p["artifactLocation"]["uri"].as_str().unwrap().to_owned(),
                p["region"]["startLine"].as_u64().unwrap(),
                r["partialFingerprints"]["certdrift/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

/// Code scanning matches alerts across commits by fingerprint: blank lines
/// added above a finding move it, but must not make it a new alert.
#[test]
fn sarif_fingerprints_survive_shifted_lines() {
    const SHIFTED: &str = "rendered/prod/policy-webhook.yaml";
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("testdata/demo"), tmp.path());
    let before = results(&scan(tmp.path(), "sarif"));
    let file = tmp.path().join(SHIFTED);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("\n\n\n\n\n{text}")).unwrap();
    let after = results(&scan(tmp.path(), "sarif"));
    assert_eq!(before.len(), after.len());
    let mut shifted = 0;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&b.0, &b.2), (&a.0, &a.2), "fingerprint changed");
        if b.0 == SHIFTED {
            assert_eq!(a.1, b.1 + 5);
            shifted += 1;
        } else {
            assert_eq!(a.1, b.1);
        }
    }
    assert!(shifted > 0, "no finding in {SHIFTED}: {before:?}");
}

/// Counts `testsuite`, `testcase` and `failure` elements, and checks that
/// the `tests`/`failures` attributes agree with them.
const COUNT_JUNIT: &str = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
cases = root.findall("testsuite/testcase")
failures = root.findall("testsuite/testcase/failure")
assert int(root.get("tests")) == len(cases)
assert int(root.get("failures")) == len(failures)
for s in suites:
    assert int(s.get("tests")) == len(s.findall("testcase")), s.get("name")
    assert int(s.get("failures")) == len(s.findall("testcase/failure")), s.get("name")
    for f in s.findall("testcase/failure"):
        assert f.get("type") == s.get("name") and f.get("message") and f.text
print(len(suites), len(cases), len(failures))
"#;

fn junit_counts(xml: &[u8]) -> (usize, usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("junit.xml");
    std::fs::write(&file, xml).unwrap();
    let out = python(COUNT_JUNIT, &[file.to_str().unwrap()]);
    let n: Vec<usize> = out.split_whitespace().map(|n| n.parse().unwrap()).collect();
    (n[0], n[1], n[2])
}

#[test]
fn junit_has_a_suite_per_rule_and_fails_at_the_threshold() {
    let rules = run(&repo(), &["rules"]);
    let rule_count = stdout(&rules).lines().count();
    let demo = repo().join("testdata/demo");
    let report = json(&scan(&demo, "json"));
    let found = rules_of(&report);
    let mut distinct = found.clone();
    distinct.sort();
    distinct.dedup();
    let errors = report["summary"]["findings"]["error"].as_u64().unwrap() as usize;
    let warnings = report["summary"]["findings"]["warning"].as_u64().unwrap() as usize;
    // One case per finding, one passing case per rule without findings.
    let cases = found.len() + rule_count - distinct.len();

    for (fail_on, code, failures) in [
        ("error", 1, errors),
        ("warning", 1, errors + warnings),
        ("never", 0, 0),
    ] {
        let args = [
            "scan",
            "--now",
            NOW,
            "--format",
            "junit",
            "--fail-on",
            fail_on,
            ".",
        ];
        let out = run(&demo, &args);
        assert_eq!(out.status.code(), Some(code), "{fail_on}");
        assert_eq!(
            junit_counts(&out.stdout),
            (rule_count, cases, failures),
            "{fail_on}"
        );
    }
}

#[test]
fn github_lines_follow_the_workflow_command_format() {
    let mut lines = String::new();
    for dir in SCANNED {
        let out = scan(&repo().join(dir), "github");
        assert_eq!(out.status.code(), Some(1), "{dir}");
        let text = stdout(&out);
        let findings = rules_of(&json(&scan(&repo().join(dir), "json")));
        // One annotation per finding, then certdrift's counting notice.
        assert_eq!(text.lines().count(), findings.len() + 1, "{dir}");
        assert!(text
            .lines()
            .last()
            .unwrap()
            .starts_with("::notice title=certdrift::"));
        lines.push_str(&text);
    }
    let out = python(
        r#"
import re, sys
pat = re.compile(r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,title=[^:]+::.+$|^::notice title=certdrift::.+$")
bad = [l for l in sys.argv[1].split("\n") if l and not pat.match(l)]
print(len(bad)); print("\n".join(bad))
"#,
        &[&lines],
    );
    assert!(
        out.starts_with("0\n"),
        "lines not in the documented format: {out}"
    );
    assert!(lines.contains("::error file="), "{lines}");
}

#[test]
fn output_writes_extra_formats_beside_stdout() {
    let demo = repo().join("testdata/demo");
    let tmp = tempfile::tempdir().unwrap();
    let sarif = tmp.path().join("out.sarif");
    let junit = tmp.path().join("junit.xml");
    std::fs::write(&junit, "stale content, longer than nothing").unwrap();
    let out = run(
        &demo,
        &[
            "scan",
            "--now",
            NOW,
            "--output",
            &format!("sarif={}", sarif.display()),
            "--output",
            &format!("junit={}", junit.display()),
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, scan(&demo, "text").stdout, "stdout stays text");
    assert_eq!(std::fs::read(&sarif).unwrap(), scan(&demo, "sarif").stdout);
    assert_eq!(std::fs::read(&junit).unwrap(), scan(&demo, "junit").stdout);

    // diff too, with its own formats.
    let md = tmp.path().join("diff.md");
    let md_spec = format!("markdown={}", md.display());
    let out = diff_rotation(&["--format", "github", "--output", &md_spec]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("::error "), "{}", stdout(&out));
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .starts_with("### certdrift diff"));

    // An unwritable path and a malformed spec are errors (exit 2).
    let nowhere = tmp.path().join("no/such/dir/out.sarif");
    for spec in [
        format!("sarif={}", nowhere.display()),
        "sarif".to_owned(),
        "yaml=out.yaml".to_owned(),
    ] {
        let out = run(&demo, &["scan", "--now", NOW, "--output", &spec, "."]);
        assert_eq!(out.status.code(), Some(2), "{spec}");
    }
}

/// `scan --format markdown` is a pull-request comment: a table of the findings.
#[test]
fn scan_markdown_is_a_findings_table() {
    let out = run(
        &repo().join("testdata/expired/fail"),
        &["scan", "--now", NOW, "--format", "markdown", "."],
    );
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(s.starts_with("### certdrift scan\n"), "{s}");
    assert!(
        s.contains("| error | `expired` | `server.crt:1:1` |"),
        "{s}"
    );
}
