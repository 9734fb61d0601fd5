//! What kubectl, Helm and Hiera would load is read whatever its name or
//! wrapping: kubeconfigs and rendered manifests without a YAML name, YAML
//! inside YAML strings (at its own line and column), unevaluated templates,
//! JSON with comments and JSON Lines. Real keys and certificates (rcgen),
//! the real binary.

mod common;
use base64::Engine;
use common::*;
use serde_json::Value;
use std::path::Path;

fn pem_pair() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["web.example".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn indent(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

fn scan(dir: &Path, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["scan", "--format", "json", "--now", NOW];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    (json(&out), out.status.code().unwrap())
}

/// (rule, path, line, column) of every place of every finding: its
/// location, and the other places of the same certificate or key (one
/// finding per fault lists them as related), sorted.
fn places(report: &Value) -> Vec<(String, String, u64, u64)> {
    let at = |rule: &str, l: &Value| {
        (
            rule.to_owned(),
            l["path"].as_str().unwrap().to_owned(),
            l["line"].as_u64().unwrap(),
            l["column"].as_u64().unwrap(),
        )
    };
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let rule = f["rule"].as_str().unwrap();
            let same = f["related"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["note"].as_str().unwrap().starts_with("the same "))
                .map(move |r| at(rule, r));
            std::iter::once(at(rule, &f["location"])).chain(same)
        })
        .collect();
    out.sort();
    out
}

fn keys_at(report: &Value) -> Vec<(String, u64, u64)> {
    places(report)
        .into_iter()
        .filter(|p| p.0 == "private-key-in-repo")
        .map(|p| (p.1, p.2, p.3))
        .collect()
}

#[test]
fn kubeconfigs_and_goldens_are_read_whatever_their_name() {
    let (cert, key) = pem_pair();
    let dir = repo_dir();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://api.example:6443\n    certificate-authority-data: {}\nusers:\n- name: admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts: []\n",
        b64(&cert),
        b64(&cert),
        b64(&key)
    );
    for name in [
        "admin.conf",
        "kubeconfig-tls",
        "ZZZ-cni-kubeconfig.expected",
    ] {
        std::fs::write(dir.path().join(name), &kubeconfig).unwrap();
    }
    let golden = format!(
        "# rendered by the test\n---\nkind: Secret\napiVersion: v1\nmetadata:\n  name: issuer\ndata:\n  crt.pem: {}\n  key.pem: {}\n",
        b64(&cert),
        b64(&key)
    );
    std::fs::write(dir.path().join("install_default.golden"), &golden).unwrap();
    // A Go test that embeds the same manifest is source, not a file kubectl loads.
    std::fs::write(
        dir.path().join("install_test.go"),
        format!("package x\nconst m = `\n{golden}`\n"),
    )
    .unwrap();
    let (report, code) = scan(dir.path(), &["."]);
    assert_eq!(code, 1);
    let mut keys = keys_at(&report);
    keys.sort();
    assert_eq!(
        keys,
        [
            ("ZZZ-cni-kubeconfig.expected".to_owned(), 12, 22),
            ("admin.conf".to_owned(), 12, 22),
            ("install_default.golden".to_owned(), 9, 12),
            ("install_test.go".to_owned(), 11, 12),
            ("kubeconfig-tls".to_owned(), 12, 22),
        ]
    );
    assert_eq!(report["summary"]["files_scanned"], 5, "{report}");
    // The Go file's manifest is not read as an object (its key is found as
    // base64 of PEM in text, as any key is), the golden's is.
    // How the key at `path` was reached: the finding's message where it is
    // reported, or the note of that place among the key's other places.
    let via = |path: &str| {
        let all = report["findings"].as_array().unwrap();
        match all.iter().find(|f| f["location"]["path"] == path) {
            Some(f) => f["message"].as_str().unwrap().to_owned(),
            None => all
                .iter()
                .flat_map(|f| f["related"].as_array().unwrap())
                .find(|r| r["path"] == path)
                .unwrap()["note"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    };
    assert!(
        via("install_test.go").contains("(file (base64))"),
        "{report}"
    );
    assert!(
        via("install_default.golden").contains("Secret issuer key key.pem"),
        "{report}"
    );

    // Named on the command line, a file is always read, even when nothing
    // in it looks like configuration.
    std::fs::write(dir.path().join("settings.conf"), "timeout = 3\n").unwrap();
    let (report, code) = scan(dir.path(), &["settings.conf"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["files_scanned"], 1);
    let (report, code) = scan(dir.path(), &["admin.conf"]);
    assert_eq!(code, 1);
    assert_eq!(keys_at(&report), [("admin.conf".to_owned(), 12, 22)]);
}

#[test]
fn yaml_inside_yaml_strings_keeps_its_own_lines() {
    let (cert, key) = pem_pair();
    let dir = repo_dir();
    let values = format!(
        "replicas: 2\nextraManifests:\n  - |\n    apiVersion: v1\n    kind: Secret\n    metadata:\n      name: web-tls\n    stringData:\n      tls.crt: |\n{}      tls.key: |\n{}  - |\n    apiVersion: v1\n    kind: Secret\n    metadata: {{name: b64}}\n    data:\n      tls.key: {}\n",
        indent(&cert, 8),
        indent(&key, 8),
        b64(&key)
    );
    std::fs::write(dir.path().join("values.yaml"), &values).unwrap();
    let line_of = |needle: &str, nth: usize| {
        values
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .nth(nth)
            .unwrap()
            .0 as u64
            + 1
    };
    let (report, code) = scan(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert_eq!(
        keys_at(&report),
        [
            ("values.yaml".to_owned(), line_of("BEGIN PRIVATE KEY", 0), 9),
            ("values.yaml".to_owned(), line_of("tls.key:", 1), 16),
        ]
    );
    // The certificate is inventoried where its BEGIN line is.
    let out = run(dir.path(), &["inventory", ".", "--format", "json"]);
    let inv = json(&out);
    let refs = &inv["certificates"][0]["references"];
    assert_eq!(
        refs[0]["line"].as_u64(),
        Some(line_of("BEGIN CERTIFICATE", 0))
    );
    assert_eq!(refs[0]["column"], 9);
    assert_eq!(refs[0]["via"], "Secret web-tls key tls.crt");

    // An annotation is not a manifest: kubectl's last-applied copy of an
    // object is not a second object (no second finding for its fault).
    let webhook = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: w\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":\"ValidatingWebhookConfiguration\",\"metadata\":{\"name\":\"w\"},\"webhooks\":[{\"name\":\"a.example\",\"clientConfig\":{\"caBundle\":\"bm90IGEgY2VydAo=\"}}]}\nwebhooks:\n- name: a.example\n  clientConfig:\n    caBundle: bm90IGEgY2VydAo=\n";
    std::fs::write(dir.path().join("values.yaml"), webhook).unwrap();
    let (report, _) = scan(dir.path(), &["."]);
    assert!(places(&report).iter().all(|p| p.2 == 11), "{report}");

    // Base64 of YAML (a kubeconfig in a Secret) is read too.
    let kubeconfig = format!(
        "apiVersion: v1\nclusters: []\nusers:\n- name: u\n  user:\n    client-key-data: {}\n",
        b64(&key)
    );
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: kc}}\ndata:\n  config: {}\n",
        b64(&kubeconfig)
    );
    std::fs::write(dir.path().join("values.yaml"), secret).unwrap();
    let (report, _) = scan(dir.path(), &["."]);
    assert_eq!(keys_at(&report), [("values.yaml".to_owned(), 5, 11)]);
}

#[test]
fn unevaluated_templates_are_read_for_literals() {
    let (cert, key) = pem_pair();
    let dir = repo_dir();
    let template = format!(
        "{{{{- range $i := until .Values.n }}}}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: tls-{{{{ $i }}}}\ndata:\n  tls.crt: {}\n  tls.key: \"{}\"\n  ca.crt: {{{{ .Values.ca | b64enc }}}}\n---\n{{{{- end }}}}\n",
        b64(&cert),
        b64(&key)
    );
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(dir.path().join("templates/secrets.yaml"), template).unwrap();
    let (report, code) = scan(dir.path(), &["--fail-on", "error", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        keys_at(&report),
        [("templates/secrets.yaml".to_owned(), 8, 13)]
    );
    // A Puppet ERB template of a kubeconfig, with a key literal in it.
    std::fs::write(
        dir.path().join("templates/kubeconfig.erb"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: <%= @server %>\n  name: <%= @name %>\nusers:\n- name: admin\n  user:\n    client-key-data: {}\n",
            b64(&key)
        ),
    )
    .unwrap();
    let (report, _) = scan(dir.path(), &["--fail-on", "error", "."]);
    assert_eq!(
        keys_at(&report),
        [
            ("templates/kubeconfig.erb".to_owned(), 10, 22),
            ("templates/secrets.yaml".to_owned(), 8, 13)
        ]
    );
    std::fs::remove_file(dir.path().join("templates/kubeconfig.erb")).unwrap();
    let (report, _) = scan(dir.path(), &["--fail-on", "error", "."]);
    // Said once, in the summary: no finding per template.
    assert_eq!(report["findings"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        report["summary"]["templates"],
        serde_json::json!(["templates/secrets.yaml"])
    );
    let text = stdout(&run(dir.path(), &["scan", "--now", NOW, "."]));
    assert!(
        text.contains("template: templates/secrets.yaml (read unevaluated"),
        "{text}"
    );
    let out = run(dir.path(), &["inventory", ".", "--format", "json"]);
    assert_eq!(json(&out)["certificates"][0]["references"][0]["line"], 7);
}

#[test]
fn jsonc_and_json_lines_are_json() {
    let (_, key) = pem_pair();
    let dir = repo_dir();
    std::fs::create_dir(dir.path().join(".devcontainer")).unwrap();
    std::fs::write(
        dir.path().join(".devcontainer/devcontainer.json"),
        "{\n  // the image, with volumes and command args\n  \"image\": \"mcr.example/x:1\", /* pinned */\n  \"postCreateCommand\": \"make\",\n  \"args\": [\"--url\", \"http://x\"],\n}\n",
    )
    .unwrap();
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"tls.key": b64(&key)}
    });
    let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"args": "x"}});
    let lines = format!("{cm}\n{secret}\n");
    std::fs::write(dir.path().join("events.ndjson"), &lines).unwrap();
    std::fs::write(dir.path().join("dump.json"), &lines).unwrap();
    let (report, code) = scan(dir.path(), &["."]);
    assert_eq!(code, 1);
    let mut found = places(&report);
    found.sort();
    assert_eq!(
        found,
        [
            (
                "private-key-in-repo".to_owned(),
                "dump.json".to_owned(),
                2,
                78
            ),
            (
                "private-key-in-repo".to_owned(),
                "events.ndjson".to_owned(),
                2,
                78
            ),
        ],
        "{report}"
    );
}

/// A hostile change cannot hide a key by naming its kubeconfig like prose
/// or code: base64 of PEM is read in any text file (certificates in prose
/// stay examples; keys are leaks wherever they are).
#[test]
fn base64_keys_in_files_named_like_prose_are_found() {
    let (_, key) = pem_pair();
    let dir = repo_dir();
    let body = format!(
        "Setup notes\n\nusers:\n- name: admin\n  user:\n    client-key-data: {}\n",
        b64(&key)
    );
    for name in ["notes.md", "setup.txt", "config_test.go"] {
        std::fs::write(dir.path().join(name), &body).unwrap();
    }
    let (report, code) = scan(dir.path(), &["."]);
    assert_eq!(code, 1, "{report}");
    let mut keys = keys_at(&report);
    keys.sort();
    assert_eq!(
        keys,
        [
            ("config_test.go".to_owned(), 6, 22),
            ("notes.md".to_owned(), 6, 22),
            ("setup.txt".to_owned(), 6, 22),
        ]
    );
}
