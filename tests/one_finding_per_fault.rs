//! One finding per fault: a certificate or key referenced from many places
//! is one finding with every place, whatever the format; old baselines and
//! inline comments still find it; tests, fixtures, examples and docs are a
//! context, not a fault.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// An expired self-signed certificate (`CN=cn`).
fn expired_pem(cn: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec![cn.to_owned()]).unwrap();
    p.not_before = rcgen::date_time_ymd(2019, 1, 1);
    p.not_after = rcgen::date_time_ymd(2020, 1, 1);
    p.self_signed(&key).unwrap().pem()
}

fn put(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = run(
        dir,
        &[&["scan", "--now", NOW, "--format", "json"], args, &["."]].concat(),
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

/// 60 copies of one expired certificate: one `expired` finding with 60
/// places in JSON, 59 related locations in SARIF, one annotation in
/// GitHub's format, one finding in text.
#[test]
fn a_certificate_in_60_files_is_one_finding_with_every_place() {
    let tmp = tempfile::tempdir().unwrap();
    let pem = expired_pem("shared.example");
    for i in 0..60 {
        put(tmp.path(), &format!("svc-{i:02}/tls.crt"), &pem);
    }
    let (code, r) = scan(tmp.path(), &[]);
    assert_eq!(code, 1);
    let expired = of_rule(&r, "expired");
    assert_eq!(expired.len(), 1, "{r:#}");
    assert_eq!(places_of(expired[0]).len(), 60);
    assert_eq!(expired[0]["location"]["path"], "svc-00/tls.crt");
    assert!(
        expired[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("; also in 59 more places"),
        "{}",
        expired[0]["message"]
    );

    let sarif = run(
        tmp.path(),
        &["scan", "--now", NOW, "--format", "sarif", "."],
    );
    let sarif = json(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let expired: Vec<&Value> = results
        .iter()
        .filter(|x| x["ruleId"] == "expired")
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["relatedLocations"].as_array().unwrap().len(), 59);

    let github = stdout(&run(
        tmp.path(),
        &["scan", "--now", NOW, "--format", "github", "."],
    ));
    assert_eq!(
        github.lines().filter(|l| l.contains("expired")).count(),
        1,
        "{github}"
    );
    let text = stdout(&run(tmp.path(), &["scan", "--now", NOW, "."]));
    assert_eq!(text.matches("error[expired]").count(), 1, "{text}");
}

/// A baseline written when every reference was a finding of its own still
/// accepts the one finding per certificate, and none of its entries goes
/// stale; a comment at any place of the finding suppresses it.
#[test]
fn old_baselines_and_comments_at_any_place_still_match() {
    let tmp = tempfile::tempdir().unwrap();
    let pem = expired_pem("old.example");
    put(tmp.path(), "a/tls.crt", &pem);
    put(tmp.path(), "b/tls.crt", &pem);
    let (_, r) = scan(tmp.path(), &[]);
    let fp = of_rule(&r, "expired")[0]["certificates"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let entry = |path: &str| {
        format!(
            r#"{{"rule": "expired", "component": null, "certificates": ["{fp}"], "path": "{path}", "count": 1}}"#
        )
    };
    // Outside the scanned tree, so that it is not scanned itself.
    let base = tempfile::tempdir().unwrap();
    let old = base.path().join("old-baseline.json");
    std::fs::write(
        &old,
        format!(
            "{{\"version\": 1, \"entries\": [{}, {}]}}\n",
            entry("a/tls.crt"),
            entry("b/tls.crt")
        ),
    )
    .unwrap();
    let (code, r) = scan(tmp.path(), &["--baseline", old.to_str().unwrap()]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["findings"].as_array().unwrap().len(), 0, "{r:#}");
    assert_eq!(r["summary"]["suppressed"], 1);

    // The comment sits at the second place, not where the finding is reported.
    put(
        tmp.path(),
        "b/tls.crt",
        &format!("# certdrift:ignore[expired] both copies retire with the old LB\n{pem}"),
    );
    let (code, r) = scan(tmp.path(), &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["summary"]["suppressed_by"]["inline"], 1, "{r:#}");
}

/// Tests, fixtures, examples and docs are a context: hygiene findings there
/// are notes (a private key a warning) that say so, trust-graph findings
/// are not affected, and a policy can name the context itself.
#[test]
fn test_fixtures_are_a_context_not_a_fault() {
    let tmp = tempfile::tempdir().unwrap();
    put(
        tmp.path(),
        "pkg/x509/testdata/expired.crt",
        &expired_pem("t.example"),
    );
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    put(tmp.path(), "internal/fixtures/client.key", &key);
    let (code, r) = scan(tmp.path(), &[]);
    assert_eq!(code, 0, "only notes and warnings: {r:#}");
    let e = of_rule(&r, "expired");
    assert_eq!(e[0]["severity"], "note");
    assert!(
        e[0]["message"]
            .as_str()
            .unwrap()
            .ends_with(" (test fixture)"),
        "{r:#}"
    );
    assert_eq!(e[0]["context"], "test fixture");
    assert_eq!(of_rule(&r, "private-key-in-repo")[0]["severity"], "warning");

    // The same certificate in production too: the fault is real, reported
    // there, with the fixture as a related place.
    put(
        tmp.path(),
        "deploy/tls.crt",
        &std::fs::read_to_string(tmp.path().join("pkg/x509/testdata/expired.crt")).unwrap(),
    );
    let (code, r) = scan(tmp.path(), &[]);
    assert_eq!(code, 1);
    let e = of_rule(&r, "expired");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["severity"], "error");
    assert_eq!(e[0]["location"]["path"], "deploy/tls.crt");

    // A policy that says nothing here is a test path.
    let pol = tempfile::tempdir().unwrap();
    let p = pol.path().join("policy.yaml");
    std::fs::write(&p, "test_paths: []\n").unwrap();
    std::fs::remove_file(tmp.path().join("deploy/tls.crt")).unwrap();
    let (code, r) = scan(tmp.path(), &["--policy", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(of_rule(&r, "expired")[0]["severity"], "error");
    assert_eq!(of_rule(&r, "private-key-in-repo")[0]["severity"], "error");
}

/// Quiet by default: a key repeated in an ordinary Helm values mapping is
/// no finding; repeated over certificate data it is.
#[test]
fn duplicate_keys_matter_only_over_tls_material() {
    let tmp = tempfile::tempdir().unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(expired_pem("d.example"));
    // A document certdrift reads (a Secret), with a repeated label.
    put(
        tmp.path(),
        "labels.yaml",
        &format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: l\n  labels:\n    app: a\n    app: b\ndata:\n  ca.crt: {b64}\n"),
    );
    let (_, r) = scan(tmp.path(), &[]);
    assert!(of_rule(&r, "malformed").is_empty(), "{r:#}");
    put(
        tmp.path(),
        "secret.yaml",
        &format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  tls.crt: {b64}\n  tls.crt: {b64}\n"),
    );
    let (_, r) = scan(tmp.path(), &[]);
    let m = of_rule(&r, "malformed");
    assert_eq!(m.len(), 1, "{r:#}");
    assert!(m[0]["message"].as_str().unwrap().contains("duplicate key"));
    assert_eq!(m[0]["location"]["path"], "secret.yaml");
}

/// 1,500 distinct expired certificates: the Markdown report (a pull-request
/// comment, at most 65,536 characters) fits, shows errors first and says
/// how many it left out; the text report ends with the counts per rule.
#[test]
fn markdown_fits_a_pull_request_comment() {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for i in 0..1_500 {
        all.push_str(&expired_pem(&format!("host-{i:04}.example")));
    }
    // One bundle file per 100 certificates keeps the tree small.
    for (i, chunk) in all
        .split_inclusive("-----END CERTIFICATE-----\n")
        .collect::<Vec<_>>()
        .chunks(100)
        .enumerate()
    {
        put(tmp.path(), &format!("certs/{i:02}.pem"), &chunk.concat());
    }
    let md = stdout(&run(
        tmp.path(),
        &["scan", "--now", NOW, "--format", "markdown", "."],
    ));
    assert!(
        md.chars().count() < 65_536,
        "{} characters",
        md.chars().count()
    );
    assert!(md.contains("**1500** errors"), "{}", &md[..300]);
    assert!(
        md.contains("| `expired` | 1500 | 0 | 0 |"),
        "{}",
        &md[..600]
    );
    assert!(
        md.contains("more findings** are not shown"),
        "{}",
        &md[md.len() - 400..]
    );
    let text = stdout(&run(tmp.path(), &["scan", "--now", NOW, "."]));
    assert_eq!(
        text.lines().last(),
        Some("by rule: expired 1500 (1500 errors)")
    );
}

/// Thirty binary files: no line each in text output, one count; listed
/// with `--verbose` and in JSON.
#[test]
fn binaries_are_counted_not_listed() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..30 {
        std::fs::write(
            tmp.path().join(format!("logo-{i}.png")),
            b"\x89PNG\0\0\0binary",
        )
        .unwrap();
    }
    put(tmp.path(), "tls.crt", &expired_pem("b.example"));
    let text = stdout(&run(tmp.path(), &["scan", "--now", NOW, "."]));
    assert!(!text.contains("logo-"), "{text}");
    assert!(
        text.contains("skipped: 30 files that cannot hold TLS material"),
        "{text}"
    );
    assert!(text.contains("1 file scanned, 30 skipped;"), "{text}");
    let verbose = stdout(&run(tmp.path(), &["scan", "--now", NOW, "--verbose", "."]));
    assert_eq!(verbose.matches("skipped: logo-").count(), 20, "{verbose}");
    let (_, r) = scan(tmp.path(), &[]);
    assert_eq!(r["summary"]["skipped"].as_array().unwrap().len(), 30);
}
