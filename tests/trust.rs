//! The trust graph on Kubernetes manifests: one fixture per way a
//! certificate reaches a component (projected volumes, `stringData`, `items`
//! remapping, `--cert-dir`, `APIService`, CRD conversion webhooks), each in a
//! failing and a passing form, and the generated corpus's planted faults.

mod common;
use common::*;
use std::collections::BTreeSet;

fn findings(dir: &std::path::Path) -> Vec<serde_json::Value> {
    scan_findings(dir, NOW, &[])
}

/// The findings of a JSON scan of `dir` at `now` with `extra` arguments.
fn scan_findings(dir: &std::path::Path, now: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let args = [
        &["scan", "--now", now, "--format", "json"][..],
        extra,
        &["."],
    ]
    .concat();
    let out = run(dir, &args);
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

/// kube-apiserver serving `serving_pem` from a Secret behind its Service, and
/// the scheduler's kubeconfig (in a ConfigMap) trusting `ca_pem` for it.
fn scheduler_kubeconfig_tree(ca_pem: &str, serving_pem: &str) -> String {
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://kube-apiserver.kube-system.svc:6443\n    certificate-authority-data: {}\nusers: []\n",
        gen::b64(ca_pem)
    );
    let indented: String = kubeconfig.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: apiserver-tls, namespace: kube-system}}\ndata:\n  tls.crt: {}\n---\n\
apiVersion: v1\nkind: Service\nmetadata: {{name: kube-apiserver, namespace: kube-system}}\nspec:\n  selector: {{app: kube-apiserver}}\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver, namespace: kube-system, labels: {{app: kube-apiserver}}}}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --tls-cert-file=/tls/tls.crt]\n    volumeMounts: [{{name: tls, mountPath: /tls}}]\n  volumes: [{{name: tls, secret: {{secretName: apiserver-tls}}}}]\n---\n\
apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: scheduler-kubeconfig, namespace: kube-system}}\ndata:\n  kubeconfig: |\n{indented}",
        gen::b64(serving_pem)
    )
}

/// A kubeconfig in a ConfigMap trusts a CA for the API server it names.
#[test]
fn kubeconfig_in_a_configmap() {
    let right = gen::ca("cluster CA");
    let wrong = gen::ca("old cluster CA");
    let serving = gen::leaf(&right, "kube-apiserver.kube-system.svc");
    for (case, ca) in [("fail", &wrong), ("pass", &right)] {
        let dir = tempfile::tempdir().unwrap();
        let yaml = scheduler_kubeconfig_tree(&ca.cert.pem(), &serving);
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

/// Runs `openssl` in `dir`; panics with its stderr when it fails.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA whose key `genkey` (openssl arguments writing `ca.key`) makes, and
/// a P-256 leaf for `leaf_name` it issued, as `ca.pem` and `leaf.pem` in
/// `dir`. openssl 3.0 cannot backdate: both start now.
fn openssl_chain(dir: &std::path::Path, genkey: &[&str], ca_cn: &str, leaf_name: &str) {
    let subject = format!("/CN={ca_cn}");
    openssl(dir, genkey);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            &subject,
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "leaf.key",
        ],
    );
    let leaf_subject = format!("/CN={leaf_name}");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            &leaf_subject,
            "-out",
            "leaf.csr",
        ],
    );
    std::fs::write(
        dir.join("ext"),
        format!("subjectAltName=DNS:{leaf_name}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "7",
            "-extfile",
            "ext",
            "-out",
            "leaf.pem",
        ],
    );
}

const P192: &[&str] = &[
    "ecparam",
    "-name",
    "prime192v1",
    "-genkey",
    "-noout",
    "-out",
    "ca.key",
];

/// `--now` for certificates `openssl_chain` made: the clock.
fn clock() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The scan's trust-mismatch findings on `yaml`, at `now`.
fn trust_mismatches(yaml: &str, now: &str) -> Vec<serde_json::Value> {
    let scan = tempfile::tempdir().unwrap();
    std::fs::write(scan.path().join("manifests.yaml"), yaml).unwrap();
    let out = run(
        scan.path(),
        &["scan", "--now", now, "--format", "json", "."],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "trust-mismatch")
        .cloned()
        .collect()
}

/// A webhook served by `leaf.pem` (made in `dir`) and a
/// ValidatingWebhookConfiguration whose caBundle is `ca.pem`.
fn webhook_manifests(dir: &std::path::Path) -> String {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: hook-tls, namespace: apps}}\ndata:\n  tls.crt: {leaf}\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: hook, namespace: apps}}\nspec:\n  template:\n    metadata: {{labels: {{app: hook}}}}\n    spec:\n      containers:\n      - name: hook\n        args: [--tls-cert-file=/tls/tls.crt]\n        volumeMounts: [{{name: tls, mountPath: /tls}}]\n      volumes: [{{name: tls, secret: {{secretName: hook-tls}}}}]\n---\n\
apiVersion: v1\nkind: Service\nmetadata: {{name: hook, namespace: apps}}\nspec:\n  selector: {{app: hook}}\n---\n\
apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: hook}}\nwebhooks:\n- name: hook.example.org\n  clientConfig:\n    service: {{name: hook, namespace: apps}}\n    caBundle: {bundle}\n",
        leaf = gen::b64(&read("leaf.pem")),
        bundle = gen::b64(&read("ca.pem")),
    )
}

/// The API server (a Go program) refuses a webhook's chain whose caBundle
/// anchor has a key Go's parser does not take: a P-192 key, or a P-256 key
/// written with explicit curve parameters (keys made with the openssl
/// CLI; rcgen cannot make either). certdrift's verifier cannot decide such
/// a chain, and `trust-mismatch` reports it as an error naming the anchor.
#[test]
fn webhook_ca_bundle_with_a_key_go_refuses() {
    let explicit: &[&str] = &[
        "ecparam",
        "-name",
        "prime256v1",
        "-param_enc",
        "explicit",
        "-genkey",
        "-noout",
        "-out",
        "ca.key",
    ];
    let cases = [
        ("P-192", P192, "P-192, a curve Go does not support"),
        ("explicit", explicit, "explicit curve parameters"),
    ];
    let now = clock();
    for (name, genkey, why) in cases {
        let dir = tempfile::tempdir().unwrap();
        let ca_cn = format!("{name} webhook CA");
        openssl_chain(dir.path(), genkey, &ca_cn, "hook.apps.svc");
        let tm = trust_mismatches(&webhook_manifests(dir.path()), &now);
        assert_eq!(tm.len(), 1, "{name}: {tm:#?}");
        assert_eq!(tm[0]["severity"], "error", "{name}: {tm:#?}");
        assert_eq!(tm[0]["peer"], "apps/hook", "{name}");
        let message = tm[0]["message"].as_str().unwrap();
        for part in [
            "the client, kube-apiserver (which calls it), is a Go program",
            &format!("the anchor CN={ca_cn}"),
            why,
        ] {
            assert!(message.contains(part), "{name}: {part:?} not in {message}");
        }
    }
}

/// A client certdrift does not know to be a Go program (a kubeconfig):
/// the same P-192 anchor is a warning that the chain could not be
/// verified, never silence.
#[test]
fn unknown_client_with_an_undecidable_chain_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_chain(
        d,
        P192,
        "P-192 cluster CA",
        "kube-apiserver.kube-system.svc",
    );
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let yaml = scheduler_kubeconfig_tree(&read("ca.pem"), &read("leaf.pem"));
    let tm = trust_mismatches(&yaml, &clock());
    assert_eq!(tm.len(), 1, "{tm:#?}");
    assert_eq!(tm[0]["severity"], "warning", "{tm:#?}");
    let message = tm[0]["message"].as_str().unwrap();
    for part in [
        "could not be verified",
        "a Go client would refuse the anchor CN=P-192 cluster CA",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
}

/// The CA of `testdata/strict-profile/fail` has no keyUsage: a strict
/// client (OpenSSL -x509_strict, Python 3.13) refuses it, Go does not. The
/// Python job that trusts it is warned about, once, at the certificate; a
/// webhook whose `caBundle` holds the same CA (kube-apiserver, a Go
/// program, calls it) is not on the finding, and alone is quiet.
#[test]
fn strict_profile_judges_only_clients_that_may_be_strict() {
    let fixture = repo().join("testdata/strict-profile/fail");
    let ca_pem = std::fs::read_to_string(fixture.join("ca/internal-ca.pem")).unwrap();
    let webhook = format!(
        "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: api\nwebhooks:\n- name: api.example.org\n  clientConfig:\n    service: {{name: api, namespace: apps}}\n    caBundle: {}\n",
        gen::b64(&ca_pem)
    );
    let strict = |dir: &std::path::Path| -> Vec<serde_json::Value> {
        scan_findings(dir, NOW, &["--policy", "certdrift-policy.yaml"])
            .into_iter()
            .filter(|f| f["rule"] == "strict-profile")
            .collect()
    };

    let both = tempfile::tempdir().unwrap();
    copy_tree(&fixture, both.path());
    std::fs::write(both.path().join("webhook.yaml"), &webhook).unwrap();
    let found = strict(both.path());
    assert_eq!(found.len(), 1, "{found:#?}");
    let notes: Vec<&str> = found[0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["note"].as_str())
        .collect();
    // Every place of the certificate is cited, the caBundle too; of the
    // trust references, only the Python job's.
    let trusts: Vec<&&str> = notes.iter().filter(|n| n.contains(" trusts ")).collect();
    assert_eq!(trusts.len(), 1, "{notes:?}");
    assert!(
        trusts[0].starts_with("apps/reports trusts --api-cafile"),
        "{notes:?}"
    );
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("it is a CA without a keyUsage extension"),
        "{found:#?}"
    );

    // Without the Python job, only the webhook trusts the CA: quiet.
    let webhook_only = tempfile::tempdir().unwrap();
    copy_tree(&fixture, webhook_only.path());
    std::fs::write(webhook_only.path().join("webhook.yaml"), &webhook).unwrap();
    let apps = std::fs::read_to_string(webhook_only.path().join("apps.yaml")).unwrap();
    let without_job = apps
        .split("---\n")
        .filter(|doc| !doc.contains("name: reports"))
        .collect::<Vec<_>>()
        .join("---\n");
    std::fs::write(webhook_only.path().join("apps.yaml"), without_job).unwrap();
    assert!(strict(webhook_only.path()).is_empty());
}

/// The tree of `testdata/strict-profile`, with `ca_pem` and `leaf_pem` as
/// the internal CA and the api's certificate, and the policy's `reports`
/// role saying `client` (none: `None`).
fn reports_tree(ca_pem: &str, leaf_pem: &str, client: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let indent = |pem: &str| -> String { pem.lines().map(|l| format!("    {l}\n")).collect() };
    let policy =
        std::fs::read_to_string(repo().join("testdata/strict-profile/fail/certdrift-policy.yaml"))
            .unwrap();
    let policy = match client {
        Some(c) => policy.replacen(
            "    match: [reports]\n",
            &format!("    match: [reports]\n    client: {c}\n"),
            1,
        ),
        None => policy,
    };
    std::fs::write(dir.path().join("certdrift-policy.yaml"), policy).unwrap();
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: api-tls, namespace: apps}}\nstringData:\n  tls.crt: |\n{}---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: apps}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      containers:\n      - name: api\n        command: [/api, --tls-cert-file=/tls/tls.crt]\n        volumeMounts: [{{name: tls, mountPath: /tls}}]\n      volumes: [{{name: tls, secret: {{secretName: api-tls}}}}]\n---\n\
apiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: apps}}\nspec:\n  selector: {{app: api}}\n---\n\
apiVersion: v1\nkind: Secret\nmetadata: {{name: internal-ca, namespace: apps}}\nstringData:\n  ca.crt: |\n{}---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: reports, namespace: apps}}\nspec:\n  selector: {{matchLabels: {{app: reports}}}}\n  template:\n    metadata: {{labels: {{app: reports}}}}\n    spec:\n      containers:\n      - name: reports\n        command: [python3, -m, reports, --api-cafile=/ca/ca.crt]\n        volumeMounts: [{{name: ca, mountPath: /ca}}]\n      volumes: [{{name: ca, secret: {{secretName: internal-ca}}}}]\n",
        indent(leaf_pem),
        indent(ca_pem),
    );
    std::fs::write(dir.path().join("apps.yaml"), yaml).unwrap();
    dir
}

/// The `rule` findings of a scan at `now` of [`reports_tree`].
fn reports_findings(
    ca_pem: &str,
    leaf_pem: &str,
    client: Option<&str>,
    now: &str,
    rule: &str,
) -> Vec<serde_json::Value> {
    let tree = reports_tree(ca_pem, leaf_pem, client);
    scan_findings(tree.path(), now, &["--policy", "certdrift-policy.yaml"])
        .into_iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The policy says which verifier a client is: `client: strict` makes the
/// CA without keyUsage a strict-profile error naming the job; `client: go`
/// and `client: other` make it no finding.
#[test]
fn policy_client_strict_makes_the_strict_profile_an_error() {
    let fixture = repo().join("testdata/strict-profile/fail");
    let ca_pem = std::fs::read_to_string(fixture.join("ca/internal-ca.pem")).unwrap();
    let apps = std::fs::read_to_string(fixture.join("apps.yaml")).unwrap();
    // The api's certificate, from the fixture's Secret.
    let leaf_b64 = apps
        .lines()
        .find_map(|l| l.trim().strip_prefix("tls.crt: "))
        .unwrap();
    use base64::Engine as _;
    let leaf_pem = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(leaf_b64)
            .unwrap(),
    )
    .unwrap();
    let strict_profile =
        |client: Option<&str>| reports_findings(&ca_pem, &leaf_pem, client, NOW, "strict-profile");
    let unknown = strict_profile(None);
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert_eq!(unknown[0]["severity"], "warning");
    let strict = strict_profile(Some("strict"));
    assert_eq!(strict.len(), 1, "{strict:#?}");
    assert_eq!(strict[0]["severity"], "error");
    let message = strict[0]["message"].as_str().unwrap();
    assert!(
        message.contains("is refused by apps/reports, which verifies strictly"),
        "{message}"
    );
    assert!(strict_profile(Some("go")).is_empty());
    assert!(strict_profile(Some("other")).is_empty());
}

/// `client: go` on a role: a P-192 anchor, a warning for an unknown
/// client, is a trust-mismatch error naming the component as a Go
/// program.
#[test]
fn policy_client_go_makes_a_chain_go_refuses_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_chain(d, P192, "P-192 internal CA", "api.apps.svc");
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let mismatches = |client: Option<&str>| {
        reports_findings(
            &read("ca.pem"),
            &read("leaf.pem"),
            client,
            &clock(),
            "trust-mismatch",
        )
    };
    let unknown = mismatches(None);
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert_eq!(unknown[0]["severity"], "warning");
    let go = mismatches(Some("go"));
    assert_eq!(go.len(), 1, "{go:#?}");
    assert_eq!(go[0]["severity"], "error");
    let message = go[0]["message"].as_str().unwrap();
    assert!(
        message.contains("the client, apps/reports (the policy's client: go), is a Go program"),
        "{message}"
    );
}
