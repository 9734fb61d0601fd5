//! Acceptance on real and generated corpora: the Wikimedia files of
//! `../shared/corpus/wikimedia` (the certificates its README lists) and a
//! tree from `../shared/tools/gen-corpus.py` (planted expired certificates,
//! an independent count of every certificate).

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn month(m: &str) -> u32 {
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    months.iter().position(|x| *x == m).unwrap() as u32 + 1
}

/// A row of the table "Certificates in this corpus" of the corpus README:
/// (file, subject CN, issuer CN, sha256 prefix, not-after date).
type Row = (String, Option<String>, Option<String>, String, String);

fn readme_table(readme: &str) -> Vec<Row> {
    let section = readme
        .split("## Certificates in this corpus")
        .nth(1)
        .unwrap();
    let section = section.split("\n## ").next().unwrap();
    let cn = |s: &str| s.trim().strip_prefix("CN=").map(str::to_owned);
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            let date: Vec<&str> = cells[4].split('-').collect();
            let date = format!(
                "{}-{:02}-{:02}",
                date[0],
                month(date[1]),
                date[2].parse::<u32>().unwrap()
            );
            (
                cells[0].trim_matches('`').to_owned(),
                cn(cells[1]),
                cn(cells[2]),
                cells[3].to_lowercase(),
                date,
            )
        })
        .collect()
}

/// Acceptance 1 of the foundation issue.
#[test]
fn wikimedia_inventory_matches_the_corpus_readme() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let corpus = shared.join("corpus/wikimedia");
    let table = readme_table(&std::fs::read_to_string(corpus.join("README.md")).unwrap());
    assert!(
        table.len() >= 29,
        "README table parsed {} rows",
        table.len()
    );
    let out = run(
        &corpus,
        &["inventory", "--now", NOW, "--format", "json", "."],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inv = json(&out);
    let certs = inv["certificates"].as_array().unwrap();
    for (file, subject, issuer, prefix, not_after) in &table {
        let hit = certs.iter().find(|c| {
            c["fingerprint"].as_str().unwrap()[7..].starts_with(prefix.as_str())
                && c["references"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["path"] == file.as_str())
        });
        let c = hit
            .unwrap_or_else(|| panic!("{file}: no certificate sha256:{prefix}… referenced there"));
        assert_eq!(
            c["subject_cn"].as_str().map(str::to_owned),
            *subject,
            "{file}"
        );
        assert_eq!(
            c["issuer_cn"].as_str().map(str::to_owned),
            *issuer,
            "{file}"
        );
        assert_eq!(&c["not_after"].as_str().unwrap()[..10], not_after, "{file}");
    }
    // The six-dash block of puppet_ca.pem is malformed; its other block is still there.
    let bad = "operations-puppet/modules/profile/files/puppetserver/puppet_ca.pem";
    let findings = inv["findings"].as_array().unwrap();
    let malformed: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "malformed" && f["location"]["path"] == bad)
        .collect();
    assert_eq!(malformed.len(), 1, "{malformed:?}");
    let text = std::fs::read_to_string(corpus.join(bad)).unwrap();
    let six_dash_line = text
        .lines()
        .position(|l| l.starts_with("------BEGIN"))
        .unwrap()
        + 1;
    assert_eq!(malformed[0]["location"]["line"], six_dash_line as u64);
    let in_bad: Vec<&str> = certs
        .iter()
        .filter(|c| {
            c["references"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["path"] == bad)
        })
        .map(|c| c["subject_cn"].as_str().unwrap())
        .collect();
    assert_eq!(in_bad, ["puppet_rsa"]);
}

/// Counts certificates the simple way: BEGIN CERTIFICATE lines in text
/// files, plus those inside base64 values of `tls.crt`/`ca.crt`/`caBundle`.
fn independent_count(root: &Path) -> usize {
    use base64::Engine;
    let mut n = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            n += text.matches("-----BEGIN CERTIFICATE-----").count();
            for line in text.lines() {
                let t = line.trim();
                for key in ["tls.crt: ", "ca.crt: ", "caBundle: "] {
                    if let Some(v) = t.strip_prefix(key) {
                        if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(v.trim()) {
                            n += String::from_utf8_lossy(&d)
                                .matches("-----BEGIN CERTIFICATE-----")
                                .count();
                        }
                    }
                }
            }
        }
    }
    n
}

/// Acceptance 2 of the foundation issue.
#[test]
fn generated_corpus_expired_and_counts() {
    let Some((_tmp, t, expected)) = gen_corpus(10, 20, 20) else {
        return;
    };
    let want: BTreeSet<String> = expected["expired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(!want.is_empty());

    let out = run(&t, &["scan", "--now", NOW, "--format", "json", "."]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let got: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "expired")
        .map(|f| f["location"]["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);
    assert_eq!(report["complete"], true);

    let inv = json(&run(
        &t,
        &["inventory", "--now", NOW, "--format", "json", "."],
    ));
    assert_eq!(
        inv["summary"]["certificates"].as_u64().unwrap() as usize,
        independent_count(&t)
    );

    // Same bytes whatever the thread count.
    let one = run(
        &t,
        &[
            "scan",
            "--now",
            NOW,
            "--format",
            "json",
            "--threads",
            "1",
            ".",
        ],
    );
    let four = run(
        &t,
        &[
            "scan",
            "--now",
            NOW,
            "--format",
            "json",
            "--threads",
            "4",
            ".",
        ],
    );
    assert_eq!(one.stdout, four.stdout);
}

/// Issue 14 items 6 and 7 on real files (`../shared/corpus/realworld`, see
/// its EXPECTED.json): CRL-only `.pem` files were "no PEM block found", an
/// empty BEGIN label was silently nothing, an armoured key with a broken
/// body was not a key, and scaffold values (`caBundle: Cg==`, base64 of
/// "hush hush hush", of a lone BEGIN line) were `malformed` errors.
#[test]
fn realworld_pem_types_and_placeholders() {
    let Some(root) = shared().map(|s| s.join("corpus/realworld")) else {
        eprintln!("skipping: shared corpus missing");
        return;
    };
    if !root.is_dir() {
        eprintln!("skipping: {} missing", root.display());
        return;
    }
    let files = [
        "istio/security/pkg/pki/testdata",
        "istio/tests/testdata/certs/ca.crl",
        "istio/pkg/config/analysis/analyzers/testdata/gateway-secrets-validation.yaml",
        "istio/pilot/pkg/config/kube/gateway/testdata/frontend-tls-refgrant.yaml",
        "gatekeeper/config/crd/patches/webhook_in_assign.yaml",
    ];
    let out = run(
        &root,
        &[
            &["inventory", "--now", NOW, "--format", "json"][..],
            &files[..],
        ]
        .concat(),
    );
    let inv = json(&out);
    let at = |v: &Value| {
        (
            v["location"]["path"].as_str().unwrap().to_owned(),
            v["location"]["line"].as_u64().unwrap(),
        )
    };
    let crls: BTreeSet<_> = inv["crls"].as_array().unwrap().iter().map(at).collect();
    let crl = |p: &str, l| (format!("istio/{p}"), l);
    let want: BTreeSet<_> = [
        crl("security/pkg/pki/testdata/crl/ca-crl.pem", 1),
        crl("security/pkg/pki/testdata/crl/ca-crl.pem", 17),
        crl("security/pkg/pki/testdata/crl/bad-ca-crl.pem", 1),
        crl("security/pkg/pki/testdata/crl/bad-ca-crl.pem", 17),
        crl("tests/testdata/certs/ca.crl", 1),
    ]
    .into();
    assert_eq!(crls, want);
    let ca = inv["crls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["location"]["path"].as_str().unwrap().ends_with("ca.crl"))
        .unwrap();
    // `openssl crl -in ca.crl -noout -text`.
    assert_eq!(ca["issuer"], "CN=cluster.local");
    assert_eq!(ca["this_update"], "2023-07-05T18:06:30Z");
    assert_eq!(ca["next_update"], "2033-07-02T18:06:30Z");
    assert_eq!(ca["revoked"], 1);

    let findings = inv["findings"].as_array().unwrap();
    // Every finding with a place in `path`: where it is reported, or one of
    // the other places of the same certificate or key.
    let of = |path: &str| -> Vec<(String, String, u64)> {
        let mut out: Vec<_> = findings
            .iter()
            .flat_map(|f| {
                let same = f["related"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["note"].as_str().unwrap().starts_with("the same "));
                std::iter::once(&f["location"])
                    .chain(same)
                    .filter(|l| l["path"].as_str().unwrap().ends_with(path))
                    .map(|l| {
                        (
                            f["rule"].as_str().unwrap().to_owned(),
                            f["severity"].as_str().unwrap().to_owned(),
                            l["line"].as_u64().unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out
    };
    assert!(
        !findings
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("no PEM block")),
        "{findings:#?}"
    );
    // Istio's `pki/testdata`: a test fixture's broken certificate is a
    // note, its key a warning (the policy's default test paths).
    let m = |l| ("malformed".to_owned(), "note".to_owned(), l);
    assert_eq!(of("root-verify-fail.pem"), [m(1)]);
    assert_eq!(of("cert-verify-fail.pem"), [m(1)]);
    assert_eq!(of("cert-parse-fail.pem"), [m(1)]);
    let key = ("private-key-in-repo".to_owned(), "warning".to_owned(), 1);
    assert_eq!(of("key-parse-fail.pem"), [m(1), key]);
    // Placeholders: no error; one note where a caBundle is expected.
    assert_eq!(
        of("webhook_in_assign.yaml"),
        [("unresolved".to_owned(), "note".to_owned(), 13)]
    );
    let rules: Vec<_> = of("gateway-secrets-validation.yaml")
        .into_iter()
        .map(|(r, _, l)| (r, l))
        .collect();
    // Istio's analyzer fixture of broken gateway Secrets, read as Istio
    // `Gateway` credentials (issue 19): the Secrets without a `tls.crt`
    // (`tls.cert` instead) are notes, the one whose certificate names no
    // host is a san-coverage fault; `cert` holding plain text is a
    // placeholder, not a fault.
    assert_eq!(
        rules,
        [
            ("expired".into(), 86),
            ("private-key-in-repo".into(), 87),
            ("san-coverage".into(), 108),
            ("unresolved".into(), 52),
            ("unresolved".into(), 80)
        ]
    );
    // Line 135 is a genuinely truncated certificate; 150/151 are scaffold.
    assert_eq!(of("frontend-tls-refgrant.yaml"), [m(135)]);
}
