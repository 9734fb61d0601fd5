//! Acceptance on `../shared/corpus/realworld`: real files of Linkerd, Istio,
//! Gatekeeper and cert-manager, against `EXPECTED.json`, which an
//! independent reader computed (PyYAML's libyaml loader and `cryptography`,
//! `tools/expected.py` beside it). certdrift must read what kubectl, Helm
//! and libyaml read there: every certificate and private key found (golden
//! manifests, kubeconfigs without a YAML name, base64 of YAML in a Secret,
//! literals in templates), no `malformed` on a file libyaml loads beyond
//! the PEM that is really broken, other PEM types recognised, and no error
//! on a placeholder.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn set_of<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v[key].as_array().into_iter().flatten()
}

#[test]
fn realworld_corpus_matches_the_independent_reader() {
    let Some(shared) = shared() else {
        eprintln!("../shared not found: skipped");
        return;
    };
    let corpus = shared.join("corpus/realworld");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(corpus.join("EXPECTED.json")).unwrap()).unwrap();
    let out = run(
        &corpus,
        &[
            "inventory",
            ".",
            "--format",
            "json",
            "--now",
            NOW,
            "--fail-on",
            "never",
        ],
    );
    let inv = json(&out);

    // What certdrift found, per file.
    let mut certs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in set_of(&inv, "certificates") {
        let fp = c["fingerprint"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:");
        for r in set_of(c, "references") {
            let path = r["path"].as_str().unwrap().to_owned();
            certs.entry(path).or_default().insert(fp.to_owned());
        }
    }
    let mut keys: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for k in set_of(&inv, "private_keys") {
        let path = k["location"]["path"].as_str().unwrap().to_owned();
        keys.entry(path)
            .or_default()
            .insert(k["location"]["line"].as_u64().unwrap());
    }
    let mut findings: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for f in set_of(&inv, "findings") {
        let path = f["location"]["path"].as_str().unwrap().to_owned();
        findings.entry(path).or_default().push(f);
    }
    let mut crls: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for c in set_of(&inv, "crls") {
        let path = c["location"]["path"].as_str().unwrap().to_owned();
        crls.entry(path)
            .or_default()
            .insert(c["location"]["line"].as_u64().unwrap());
    }

    let mut gaps = Vec::new();
    let files = expected["files"].as_object().unwrap();
    for (path, e) in files {
        let none = Vec::new();
        let found = findings.get(path).unwrap_or(&none);
        let line_of = |f: &Value| f["location"]["line"].as_u64().unwrap();
        let lines = |key: &str, field: &str| -> BTreeSet<u64> {
            set_of(e, key).map(|x| x[field].as_u64().unwrap()).collect()
        };

        let want: BTreeSet<String> = set_of(e, "certificates")
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let have = certs.get(path).cloned().unwrap_or_default();
        let missing: Vec<_> = want.difference(&have).collect();
        if !missing.is_empty() {
            gaps.push(format!("{path}: certificates not found: {missing:?}"));
        }

        let want: BTreeSet<u64> = set_of(e, "private_keys")
            .map(|l| l.as_u64().unwrap())
            .collect();
        let have = keys.get(path).cloned().unwrap_or_default();
        if want != have {
            gaps.push(format!(
                "{path}: private keys at lines {have:?}, expected {want:?}"
            ));
        }

        // Broken PEM is reported where it is, and on a file libyaml loads
        // nothing else is `malformed`.
        let broken = lines("malformed", "line");
        for l in &broken {
            if !found
                .iter()
                .any(|f| f["rule"] == "malformed" && line_of(f) == *l)
            {
                gaps.push(format!("{path}:{l}: broken PEM not reported as malformed"));
            }
        }
        if e["yaml"] == "loads" {
            for f in found.iter().filter(|f| f["rule"] == "malformed") {
                if !broken.contains(&line_of(f)) {
                    gaps.push(format!(
                        "{path}:{}: malformed on a file libyaml loads: {}",
                        line_of(f),
                        f["message"]
                    ));
                }
            }
        }

        // Other PEM types are recognised: never "no PEM block" or malformed
        // at their line; CRLs are inventoried.
        for o in set_of(e, "other_pem") {
            let l = o["line"].as_u64().unwrap();
            if let Some(f) = found.iter().find(|f| {
                (f["rule"] == "malformed" && line_of(f) == l)
                    || f["message"].as_str().unwrap().contains("no PEM block")
            }) {
                gaps.push(format!(
                    "{path}:{l}: {} misreported: {}",
                    o["type"], f["message"]
                ));
            }
            if o["type"] == "X509 CRL" && !crls.get(path).is_some_and(|c| c.contains(&l)) {
                gaps.push(format!("{path}:{l}: CRL not in the inventory"));
            }
        }

        // A placeholder is never an error, and gets at most one note.
        for p in set_of(e, "placeholders") {
            let l = p["line"].as_u64().unwrap();
            let at: Vec<_> = found
                .iter()
                .filter(|f| line_of(f) == l && f["rule"] != "private-key-in-repo")
                .collect();
            let errors: Vec<_> = at.iter().filter(|f| f["severity"] == "error").collect();
            if !errors.is_empty() || at.len() > 1 {
                let said: Vec<_> = at
                    .iter()
                    .map(|f| format!("{}[{}] {}", f["severity"], f["rule"], f["message"]))
                    .collect();
                gaps.push(format!(
                    "{path}:{l}: placeholder {} ({}) gives {said:?}",
                    p["value"], p["what"]
                ));
            }
        }
    }
    assert!(
        gaps.is_empty(),
        "{} gaps against EXPECTED.json:\n{}",
        gaps.len(),
        gaps.join("\n")
    );
}
