//! The trust graph on Kubernetes manifests: one fixture per way a
//! certificate reaches a component (projected volumes, `stringData`, `items`
//! remapping, `--cert-dir`, `APIService`, CRD conversion webhooks), each in a
//! failing and a passing form, and the generated corpus's planted faults.

mod common;
use common::*;
use std::collections::BTreeSet;

fn findings(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let out = run(dir, &["scan", "--now", NOW, "--format", "json", "."]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)["findings"].as_array().unwrap().clone()
}

fn variant(name: &str) {
    let base = repo().join("testdata/trust").join(name);
    let fail = findings(&base.join("fail"));
    let mismatches: Vec<_> = fail
        .iter()
        .filter(|f| f["rule"] == "trust-mismatch")
        .collect();
    assert_eq!(mismatches.len(), 1, "{name}/fail: {fail:#?}");
    assert_eq!(mismatches[0]["peer"], "apps/hook", "{name}/fail");
    let pass = findings(&base.join("pass"));
    assert!(pass.is_empty(), "{name}/pass: {pass:#?}");
    let text = stdout(&run(&base.join("fail"), &["scan", "--now", NOW, "."]));
    insta::assert_snapshot!(format!("trust-{name}-fail"), text);
}

#[test]
fn projected_volume() {
    variant("projected");
}
#[test]
fn string_data() {
    variant("string-data");
}
#[test]
fn items_remapping() {
    variant("items");
}
#[test]
fn cert_dir() {
    variant("cert-dir");
}
#[test]
fn apiservice() {
    variant("apiservice");
}
#[test]
fn crd_conversion() {
    variant("crd-conversion");
}

/// Acceptance 1 of the trust-graph issue: exactly the planted mismatches.
#[test]
fn generated_corpus_trust_mismatches() {
    let Some((_tmp, t, expected)) = gen_corpus(20, 30, 1) else {
        return;
    };
    let mut want = BTreeSet::new();
    for e in expected["trust_mismatch"].as_array().unwrap() {
        assert_eq!(
            (e["component"].as_str(), e["peer"].as_str()),
            (Some("kube-apiserver"), Some("etcd"))
        );
        want.insert((
            e["path"].as_str().unwrap().to_owned(),
            "kube-system/kube-apiserver".to_owned(),
            "kube-system/etcd".to_owned(),
        ));
    }
    for e in expected["webhook_ca_mismatch"].as_array().unwrap() {
        let rel = e["release"].as_str().unwrap();
        want.insert((
            e["path"].as_str().unwrap().to_owned(),
            format!("{rel}-validator/validate.{rel}.example.org"),
            format!("apps/{rel}"),
        ));
    }
    let got: BTreeSet<(String, String, String)> = findings(&t)
        .iter()
        .filter(|f| f["rule"] == "trust-mismatch")
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["component"].as_str().unwrap().to_owned(),
                f["peer"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

/// `graph --format dot` is valid Graphviz (rendered with `dot -Tsvg`), with the mismatch drawn red.
#[test]
fn graph_renders_with_graphviz() {
    let dir = repo().join("testdata/trust-mismatch/fail");
    let out = run(&dir, &["graph", "--now", NOW, "--format", "dot", "."]);
    assert_eq!(out.status.code(), Some(0));
    let dot = stdout(&out);
    assert!(
        dot.contains("color=red") && dot.contains("trust mismatch (etcd)"),
        "{dot}"
    );
    let svg = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match svg {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: Graphviz `dot` not installed ({e}); .ci/run installs it");
            return;
        }
        Err(e) => panic!("Graphviz `dot` is missing in CI: {e}"),
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let res = child.wait_with_output().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(String::from_utf8_lossy(&res.stdout).contains("<svg"));
    let mermaid = stdout(&run(
        &dir,
        &["graph", "--now", NOW, "--format", "mermaid", "."],
    ));
    assert!(
        mermaid.starts_with("flowchart LR\n") && mermaid.contains("linkStyle"),
        "{mermaid}"
    );
}

/// rcgen certificates for graph tests built in a temp dir.
mod gen {
    use base64::Engine;

    pub struct Ca {
        pub cert: rcgen::Certificate,
        pub issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    }

    pub fn ca(cn: &str) -> Ca {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).unwrap();
        let issuer = rcgen::Issuer::new(p, key);
        Ca { cert, issuer }
    }

    pub fn leaf(ca: &Ca, name: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let p = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        p.signed_by(&key, &ca.issuer).unwrap().pem()
    }

    pub fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }
}

/// A kubeconfig in a ConfigMap trusts a CA for the API server it names.
#[test]
fn kubeconfig_in_a_configmap() {
    let right = gen::ca("cluster CA");
    let wrong = gen::ca("old cluster CA");
    let serving = gen::leaf(&right, "kube-apiserver.kube-system.svc");
    for (case, ca) in [("fail", &wrong), ("pass", &right)] {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://kube-apiserver.kube-system.svc:6443\n    certificate-authority-data: {}\nusers: []\n",
            gen::b64(&ca.cert.pem())
        );
        let indented: String = kubeconfig.lines().map(|l| format!("    {l}\n")).collect();
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: apiserver-tls, namespace: kube-system}}\ndata:\n  tls.crt: {}\n---\n\
apiVersion: v1\nkind: Service\nmetadata: {{name: kube-apiserver, namespace: kube-system}}\nspec:\n  selector: {{app: kube-apiserver}}\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver, namespace: kube-system, labels: {{app: kube-apiserver}}}}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --tls-cert-file=/tls/tls.crt]\n    volumeMounts: [{{name: tls, mountPath: /tls}}]\n  volumes: [{{name: tls, secret: {{secretName: apiserver-tls}}}}]\n---\n\
apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: scheduler-kubeconfig, namespace: kube-system}}\ndata:\n  kubeconfig: |\n{indented}",
            gen::b64(&serving)
        );
        std::fs::write(dir.path().join("cp.yaml"), yaml).unwrap();
        let f = findings(dir.path());
        let tm: Vec<_> = f.iter().filter(|x| x["rule"] == "trust-mismatch").collect();
        assert_eq!(tm.len(), usize::from(case == "fail"), "{case}: {f:#?}");
        if case == "fail" {
            assert_eq!(tm[0]["peer"], "kube-system/kube-apiserver");
        }
    }
}

/// A webhook served by a cert-manager Certificate from a `ca` Issuer: the
/// caBundle must hold that issuer's CA, checked before anything is issued.
#[test]
fn cert_manager_issuer_ca_against_a_ca_bundle() {
    let issuer_ca = gen::ca("internal CA");
    let other = gen::ca("some other CA");
    for (case, bundle) in [("fail", &other), ("pass", &issuer_ca)] {
        let dir = tempfile::tempdir().unwrap();
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: internal-ca, namespace: cert-manager}}\ndata:\n  tls.crt: {ca}\n---\n\
apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {{name: internal}}\nspec:\n  ca: {{secretName: internal-ca}}\n---\n\
apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {{name: hook, namespace: apps}}\nspec:\n  secretName: hook-tls\n  dnsNames: [hook.apps.svc]\n  issuerRef: {{name: internal, kind: ClusterIssuer}}\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: hook, namespace: apps}}\nspec:\n  template:\n    metadata: {{labels: {{app: hook}}}}\n    spec:\n      containers:\n      - name: hook\n        args: [--tls-cert-file=/tls/tls.crt]\n        volumeMounts: [{{name: tls, mountPath: /tls}}]\n      volumes: [{{name: tls, secret: {{secretName: hook-tls}}}}]\n---\n\
apiVersion: v1\nkind: Service\nmetadata: {{name: hook, namespace: apps}}\nspec:\n  selector: {{app: hook}}\n---\n\
apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: hook}}\nwebhooks:\n- name: hook.example.org\n  clientConfig:\n    service: {{name: hook, namespace: apps}}\n    caBundle: {bundle}\n",
            ca = gen::b64(&issuer_ca.cert.pem()),
            bundle = gen::b64(&bundle.cert.pem())
        );
        std::fs::write(dir.path().join("hook.yaml"), yaml).unwrap();
        let f = findings(dir.path());
        let tm: Vec<_> = f.iter().filter(|x| x["rule"] == "trust-mismatch").collect();
        assert_eq!(tm.len(), usize::from(case == "fail"), "{case}: {f:#?}");
        if case == "fail" {
            assert!(
                tm[0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("ClusterIssuer/internal"),
                "{tm:#?}"
            );
        }
    }
}
