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
