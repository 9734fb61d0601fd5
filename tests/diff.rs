//! `certdrift diff` on directories and on real git repositories.

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn diff_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["diff", "--now", NOW, "--format", "json"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    (out.status.code().unwrap_or(-1), json(&out))
}

fn rules(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Acceptance 3 of the diff issue: a CA rotation's overlap step is a note,
/// removing the old anchor while etcd still chains to it is an error.
#[test]
fn ca_rotation_overlap_is_a_note_and_hard_swap_an_error() {
    let (code, r) = diff_json(&repo(), &[&rotation("0-old"), &rotation("1-overlap")]);
    assert_eq!(code, 0);
    assert_eq!(rules(&r), [("trust-change".to_owned(), "note".to_owned())]);
    let (code, r) = diff_json(&repo(), &[&rotation("1-overlap"), &rotation("2-swap")]);
    assert_eq!(code, 1);
    let found = rules(&r);
    assert!(
        found.contains(&("trust-change".into(), "error".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("trust-mismatch".into(), "error".into())),
        "{found:?}"
    );
    assert_eq!(r["changes"][0]["change"], "trust");
}

#[test]
fn detailed_exit_codes() {
    let same = run(
        &repo(),
        &[
            "diff",
            "--now",
            NOW,
            "--detailed-exitcode",
            &rotation("0-old"),
            &rotation("0-old"),
        ],
    );
    assert_eq!(same.status.code(), Some(0));
    let changed = run(
        &repo(),
        &[
            "diff",
            "--now",
            NOW,
            "--detailed-exitcode",
            &rotation("0-old"),
            &rotation("1-overlap"),
        ],
    );
    assert_eq!(changed.status.code(), Some(3));
    let failing = run(
        &repo(),
        &[
            "diff",
            "--now",
            NOW,
            "--detailed-exitcode",
            &rotation("0-old"),
            &rotation("2-swap"),
        ],
    );
    assert_eq!(failing.status.code(), Some(1));
    let bad = run(&repo(), &["diff", "--now", NOW, &rotation("0-old")]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Acceptance 4: no byte of a private key in any diff output, whatever changed around it.
#[test]
fn no_private_key_bytes_in_diff_output() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let mut bodies = Vec::new();
    for (dir, name) in [(&a, "one"), (&b, "two")] {
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = key.serialize_pem();
        bodies.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned),
        );
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
        bodies.push(b64.clone());
        let cert = rcgen::CertificateParams::new(vec![format!("{name}.example.org")])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(
            dir.join("values.yaml"),
            format!(
                "tls:\n  key: |\n{}",
                pem.lines()
                    .map(|l| format!("    {l}\n"))
                    .collect::<String>()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("secret.yaml"),
            format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: t, namespace: n}}\ndata:\n  tls.key: {b64}\n  tls.crt: {}\n",
                base64::engine::general_purpose::STANDARD.encode(cert.pem())),
        )
        .unwrap();
    }
    for format in ["text", "json", "markdown"] {
        let out = run(
            tmp.path(),
            &["diff", "--all", "--now", NOW, "--format", format, "a", "b"],
        );
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(
            all.to_lowercase().contains("private key"),
            "{format}: {all}"
        );
        for body in &bodies {
            for w in body.as_bytes().windows(16).step_by(8) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!all.contains(w), "{format} prints key material {w:?}");
            }
        }
    }
}

fn incident(state: &str) -> PathBuf {
    repo()
        .join("testdata/incidents/2023-08-09-mw-tls")
        .join(state)
}

fn policy() -> String {
    repo()
        .join("policies/examples/wikimedia-mesh.yaml")
        .to_string_lossy()
        .into_owned()
}

/// Acceptance 1 of the diff issue (the 2023-08-09 MediaWiki outage): the
/// Hiera change flips mw-api-ext and mw-api-int to cert-manager `discovery`
/// at a distance, and their names no longer cover en.wikipedia.org.
#[test]
fn mediawiki_incident_from_directories() {
    let (code, r) = diff_json(
        &repo(),
        &[
            "--policy",
            &policy(),
            &incident("before").to_string_lossy(),
            &incident("trigger").to_string_lossy(),
        ],
    );
    assert_eq!(code, 1, "{r:#}");
    check_trigger(&r);
    let (_, r) = diff_json(
        &repo(),
        &[
            "--policy",
            &policy(),
            &incident("before").to_string_lossy(),
            &incident("fix").to_string_lossy(),
        ],
    );
    assert!(
        !rules(&r).iter().any(|(rule, _)| rule == "source-change"),
        "{r:#}"
    );
}

fn check_trigger(r: &serde_json::Value) {
    let findings = r["findings"].as_array().unwrap();
    let sc: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "source-change")
        .collect();
    assert_eq!(sc.len(), 1, "{findings:#?}");
    assert_eq!(sc[0]["severity"], "error");
    let msg = sc[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("2 components") && msg.contains("mw-api-ext") && msg.contains("mw-api-int"),
        "{msg}"
    );
    assert!(
        msg.contains("static") && msg.contains("cert-manager ClusterIssuer/discovery"),
        "{msg}"
    );
    // An error because of what certdrift found, which the message says.
    assert!(
        msg.contains("is reached as en.wikipedia.org, which its new certificate does not name"),
        "{msg}"
    );
    assert_eq!(
        sc[0]["location"]["path"],
        "operations-puppet/hieradata/role/common/deployment_server/kubernetes.yaml"
    );
    let san: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "san-coverage")
        .collect();
    assert!(
        san.iter()
            .any(|f| f["message"].as_str().unwrap().contains("en.wikipedia.org")),
        "{san:#?}"
    );
    let changes = r["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["change"] == "source"
        && c["causes"][0].as_str().unwrap().starts_with(
            "operations-puppet/hieradata/role/common/deployment_server/kubernetes.yaml"
        )));
}

/// Acceptance 2: the same, as a real git diff between two commits.
#[test]
fn mediawiki_incident_from_git_revisions() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    git(r, &["init", "-q"]);
    let mut revs = Vec::new();
    for state in ["before", "trigger", "fix"] {
        for e in std::fs::read_dir(r).unwrap() {
            let e = e.unwrap();
            if e.file_name() != ".git" {
                std::fs::remove_dir_all(e.path()).unwrap();
            }
        }
        copy_tree(&incident(state), r);
        git(r, &["add", "-A"]);
        git(r, &["commit", "-q", "-m", state]);
        revs.push(git(r, &["rev-parse", "HEAD"]));
    }
    let (code, report) = diff_json(r, &["--policy", &policy(), &revs[0], &revs[1]]);
    assert_eq!(code, 1, "{report:#}");
    check_trigger(&report);
    let (_, report) = diff_json(r, &["--policy", &policy(), "HEAD~2", "HEAD"]);
    assert!(
        !rules(&report)
            .iter()
            .any(|(rule, _)| rule == "source-change"),
        "{report:#}"
    );
    // A revision the clone does not have is a clear input error.
    let out = run(r, &["diff", "--now", NOW, "no-such-rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The MediaWiki case across two repositories in one command: the Puppet
/// repository changes (two revisions), the charts stay as they are.
#[test]
fn mediawiki_incident_across_two_repositories() {
    let tmp = tempfile::tempdir().unwrap();
    let puppet = tmp.path().join("puppet");
    std::fs::create_dir_all(&puppet).unwrap();
    git(&puppet, &["init", "-q"]);
    let mut revs = Vec::new();
    for state in ["before", "trigger"] {
        let src = incident(state).join("operations-puppet");
        copy_tree(&src, &puppet);
        git(&puppet, &["add", "-A"]);
        git(&puppet, &["commit", "-q", "-m", state]);
        revs.push(git(&puppet, &["rev-parse", "HEAD"]));
    }
    let charts = incident("before").join("operations-deployment-charts");
    let (code, r) = diff_json(
        tmp.path(),
        &[
            "--policy",
            &policy(),
            "--root",
            &format!("operations-puppet={}", puppet.display()),
            "--rev",
            &format!("operations-puppet={}..{}", revs[0], revs[1]),
            "--root",
            &format!("operations-deployment-charts={}", charts.display()),
        ],
    );
    assert_eq!(code, 1, "{r:#}");
    check_trigger(&r);
}

/// A rollout done in the safe order: the releases first gain the names
/// clients use (BASE), then the global default flips them to cert-manager
/// (HEAD). Every check certdrift can make passes, so the flip is a warning
/// that says so (exit 0); the same flip without the names stays an error.
#[test]
fn a_verified_safe_source_flip_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    for state in ["before", "trigger"] {
        let dir = tmp.path().join(state);
        std::fs::create_dir_all(&dir).unwrap();
        copy_tree(&incident(state), &dir);
        for release in ["mw-api-ext", "mw-api-int"] {
            let values = dir.join(format!(
                "operations-deployment-charts/helmfile.d/services/{release}/values.yaml"
            ));
            let text = std::fs::read_to_string(&values).unwrap();
            let text = text.replace(
                "mesh:\n",
                "mesh:\n  certmanager:\n    extraFQDNs: [en.wikipedia.org]\n",
            );
            std::fs::write(&values, text).unwrap();
        }
    }
    let (code, r) = diff_json(
        &repo(),
        &[
            "--policy",
            &policy(),
            &tmp.path().join("before").to_string_lossy(),
            &tmp.path().join("trigger").to_string_lossy(),
        ],
    );
    let found = rules(&r);
    assert!(
        found.contains(&("source-change".into(), "warning".into())),
        "{found:?}"
    );
    assert!(!found.iter().any(|(_, s)| s == "error"), "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    let sc = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "source-change")
        .unwrap();
    let msg = sc["message"].as_str().unwrap();
    assert!(msg.contains("flips 2 components"), "{msg}");
    assert!(
        msg.contains("its checks pass (2 client names covered"),
        "{msg}"
    );
    assert!(msg.contains("not checked: "), "{msg}");
}
