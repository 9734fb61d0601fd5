//! The speed-ups never change a report: the prefilter on and off, one
//! thread and many, give byte-identical output on the test trees, the
//! Wikimedia corpus and a generated monorepo (with filler, which is what the
//! prefilter skips).

mod common;

use common::{gen_corpus, repo, run, shared};
use std::path::Path;

const NOW: &str = "2026-11-01T00:00:00Z";

/// The JSON and text reports of `root` under each setting, which must all agree.
fn assert_same_everywhere(root: &Path, extra: &[&str]) {
    for format in ["json", "text"] {
        let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
        for setting in [
            &["--threads", "1"][..],
            &["--threads", "4"],
            &["--threads", "1", "--no-prefilter"],
            &["--threads", "3", "--no-prefilter"],
        ] {
            let root_s = root.to_str().unwrap();
            let mut args = vec!["scan", root_s, "--now", NOW, "--format", format];
            args.extend_from_slice(extra);
            args.extend_from_slice(setting);
            let out = run(&repo(), &args);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{args:?}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            outputs.push((setting.join(" "), out.stdout));
        }
        let (first_name, first) = &outputs[0];
        assert!(!first.is_empty());
        for (name, out) in &outputs[1..] {
            assert!(
                out == first,
                "{} --format {format}: `{name}` differs from `{first_name}`",
                root.display()
            );
        }
    }
}

#[test]
fn testdata_reports_do_not_depend_on_prefilter_or_threads() {
    assert_same_everywhere(&repo().join("testdata"), &[]);
}

#[test]
fn incident_trees_with_their_policy_do_not_depend_on_prefilter_or_threads() {
    let policy = repo().join("policies/examples/wikimedia-mesh.yaml");
    for state in ["before", "trigger", "fix"] {
        let root = repo()
            .join("testdata/incidents/2023-08-09-mw-tls")
            .join(state);
        assert_same_everywhere(&root, &["--policy", policy.to_str().unwrap()]);
    }
}

#[test]
fn wikimedia_corpus_does_not_depend_on_prefilter_or_threads() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    assert_same_everywhere(&shared.join("corpus/wikimedia"), &[]);
}

#[test]
fn generated_monorepo_does_not_depend_on_prefilter_or_threads() {
    let Some((_tmp, tree, _expected)) = gen_corpus(4, 6, 3) else {
        return;
    };
    assert_same_everywhere(&tree, &[]);
}

/// Documents that hold a fact through one trigger of the prefilter only
/// (no PEM, no kind it always keeps): each must still be read, so dropping
/// a trigger fails here even where the larger trees above hide it.
/// The findings of `certdrift scan .` in `dir`, as JSON values.
fn findings(dir: &Path) -> Vec<serde_json::Value> {
    let out = run(
        dir,
        &[
            "scan",
            ".",
            "--now",
            NOW,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    common::json(&out)["findings"].as_array().unwrap().clone()
}

#[test]
fn documents_with_a_single_trigger_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let pod = |field: &str, words: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd-{field}\n  namespace: kube-system\nspec:\n  containers:\n  - name: etcd\n    image: etcd\n    {field}: [{words}]\n"
        )
    };
    std::fs::write(
        tmp.path().join("args.yaml"),
        pod("args", "\"--cert-file=/etc/a.crt\""),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("command.yaml"),
        pod("command", "etcd, \"--cert-file=/etc/c.crt\""),
    )
    .unwrap();
    assert_same_everywhere(tmp.path(), &[]);
    let report = findings(tmp.path());
    let mut at: Vec<String> = report
        .iter()
        .filter(|f| f["rule"] == "unresolved")
        .map(|f| f["location"]["path"].as_str().unwrap().to_owned())
        .collect();
    at.sort();
    assert_eq!(at, ["args.yaml", "command.yaml"], "{report:#?}");
}

/// A document that can hold only a Service is parsed when a client names
/// it: moved out of the webhook's file among a hundred other Services
/// (one of them broken), the webhook still reaches its workload through
/// it, and only the broken document a client names is reported.
#[test]
fn services_are_parsed_when_a_client_names_them() {
    let fixture = repo().join("testdata/trust/string-data/fail/hook.yaml");
    let text = std::fs::read_to_string(&fixture).unwrap();
    let mut docs: Vec<String> = Vec::new();
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else if let Some(d) = docs.last_mut() {
            d.push_str(line);
            d.push('\n');
        }
    }
    let (svc, rest): (Vec<String>, Vec<String>) =
        docs.into_iter().partition(|d| d.contains("kind: Service"));
    assert_eq!(svc.len(), 1);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("apps/services")).unwrap();
    std::fs::write(
        tmp.path().join("apps/hook.yaml"),
        format!("---\n{}", rest.join("---\n")),
    )
    .unwrap();
    let mut services = String::new();
    for i in 0..100 {
        services.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: hook-{i}, namespace: apps}}\nspec:\n  selector: {{app: x{i}}}\n"
        ));
        if i == 50 {
            // Broken, and named by nobody.
            services.push_str("---\napiVersion: v1\nkind: Service\nmetadata: {name: other\n");
        }
    }
    services.push_str(&format!("---\n{}", svc[0]));
    std::fs::write(tmp.path().join("apps/services/all.yaml"), services).unwrap();
    // Broken, and it may be the Service the webhook names.
    std::fs::write(
        tmp.path().join("apps/services/broken.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: hook, namespace: elsewhere\n",
    )
    .unwrap();
    assert_same_everywhere(tmp.path(), &[]);
    let of = |fs: &[serde_json::Value], rule: &str| -> Vec<String> {
        fs.iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| format!("{} {}", f["location"]["path"], f["message"]))
            .collect()
    };
    let split = findings(tmp.path());
    let whole = findings(fixture.parent().unwrap());
    let mismatch = of(&split, "trust-mismatch");
    assert_eq!(mismatch.len(), 1, "{split:#?}");
    assert_eq!(
        mismatch[0].replace("apps/hook.yaml", "hook.yaml"),
        of(&whole, "trust-mismatch")[0]
    );
    let malformed: Vec<String> = split
        .iter()
        .filter(|f| f["rule"] == "malformed")
        .map(|f| f["location"]["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(malformed, ["apps/services/broken.yaml"], "{split:#?}");
}
