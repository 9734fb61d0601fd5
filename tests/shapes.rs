//! The ecosystem's TLS shapes (issue 19, `docs/shapes.md`): for each shape,
//! `testdata/shapes/<shape>/fail` reports its fault naming the host or the
//! certificate, and its correctly wired twin `pass` is quiet. Both outputs
//! are compared with reviewed snapshots. The trees come from
//! `testdata/gen.py shape_fixtures`.

mod common;
use common::*;

/// Each shape, the rule its fault is reported by, and a word the message
/// must hold (the host or the certificate it is about).
const SHAPES: &[(&str, &str, &str)] = &[
    ("ingress", "san-coverage", "shop.example.com"),
    ("gateway-api", "san-coverage", "*.example.com"),
    (
        "backend-tls-policy",
        "trust-mismatch",
        "backend.example.com",
    ),
    ("istio-gateway", "san-coverage", "bookinfo.example.com"),
    (
        "destination-rule",
        "trust-mismatch",
        "payments.pay.svc.cluster.local",
    ),
    ("istio-cacerts", "trust-mismatch", "Istio Intermediate CA"),
    (
        "istio-cacerts-order",
        "trust-mismatch",
        "the chain starts with CN=Mesh Root CA",
    ),
    (
        "linkerd",
        "trust-mismatch",
        "identity.linkerd.cluster.local",
    ),
    (
        "linkerd-values",
        "trust-mismatch",
        "identity.linkerd.cluster.local",
    ),
    ("ca-injection", "trust-mismatch", "hook.apps.svc"),
    ("kubeconfig", "trust-mismatch", "api.example.com"),
];

fn scan(shape: &str, kind: &str) -> (i32, String, serde_json::Value) {
    let dir = repo().join("testdata/shapes").join(shape).join(kind);
    let text = run(&dir, &["scan", "--now", NOW, "."]);
    let js = run(&dir, &["scan", "--now", NOW, "--format", "json", "."]);
    (text.status.code().unwrap(), stdout(&text), json(&js))
}

#[test]
fn every_shape_reports_its_fault_and_its_twin_is_quiet() {
    for (shape, rule, names) in SHAPES {
        let (code, text, js) = scan(shape, "fail");
        assert_eq!(code, 1, "{shape}/fail:\n{text}");
        let findings = js["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{shape}/fail: one fault\n{text}");
        assert_eq!(findings[0]["rule"], *rule, "{shape}/fail:\n{text}");
        assert!(
            findings[0]["message"].as_str().unwrap().contains(names),
            "{shape}/fail does not name {names}:\n{text}"
        );
        insta::assert_snapshot!(format!("{shape}-fail"), text);
        let (code, text, js) = scan(shape, "pass");
        assert_eq!(code, 0, "{shape}/pass:\n{text}");
        assert_eq!(js["findings"].as_array().unwrap().len(), 0, "{text}");
        insta::assert_snapshot!(format!("{shape}-pass"), text);
    }
}

/// Every shape folder is in the table above.
#[test]
fn every_shape_fixture_is_tested() {
    let mut dirs: Vec<String> = std::fs::read_dir(repo().join("testdata/shapes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut known: Vec<String> = SHAPES.iter().map(|s| s.0.to_owned()).collect();
    known.sort();
    assert_eq!(dirs, known);
}

/// Skaffold's `kind: Config` is not a kubeconfig: the graph holds the real
/// kubeconfig and the API server, and no phantom component for it.
#[test]
fn skaffold_config_is_not_a_kubeconfig() {
    let dir = repo().join("testdata/shapes/kubeconfig/pass");
    let out = run(&dir, &["graph", "--now", NOW, "."]);
    let dot = stdout(&out);
    assert!(dot.contains("kubeconfig admin.conf"), "{dot}");
    assert!(!dot.contains("skaffold"), "{dot}");
    insta::assert_snapshot!("kubeconfig-graph", dot);
}

/// The graph draws the new edges: an Ingress serves its Secret's
/// certificate, a Linkerd trust-anchors ConfigMap trusts its root.
#[test]
fn the_graph_draws_the_shapes() {
    for (shape, want) in [
        ("ingress", "Ingress shop/shop"),
        (
            "linkerd",
            "linkerd trust anchors linkerd/linkerd-identity-trust-roots",
        ),
        ("backend-tls-policy", "BackendTLSPolicy apps/backend-tls"),
        ("ca-injection", "hook-mutating/mutate.hook.example.org"),
    ] {
        let dir = repo().join("testdata/shapes").join(shape).join("pass");
        let dot = stdout(&run(&dir, &["graph", "--now", NOW, "."]));
        assert!(dot.contains(want), "{shape}: {dot}");
    }
}

/// `diff` applies unchanged: an Ingress whose Secret changes to a
/// certificate without its hosts loses them.
#[test]
fn diff_sees_an_ingress_lose_its_hosts() {
    let dir = repo().join("testdata/shapes/ingress");
    let out = run(&dir, &["diff", "--now", NOW, "pass", "fail"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Ingress shop/shop: the certificate it serves after this change no longer covers shop.example.com"),
        "{text}"
    );
}

/// The findings of `certdrift scan --format json` on one file `name`
/// holding `text`, alone in a directory.
fn findings_of_file(name: &str, text: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let js = json(&run(
        dir.path(),
        &["scan", "--now", NOW, "--format", "json", "."],
    ));
    js["findings"].as_array().unwrap().clone()
}

/// The findings of `rule` among `findings`.
fn of_rule<'f>(findings: &'f [serde_json::Value], rule: &str) -> Vec<&'f serde_json::Value> {
    findings.iter().filter(|f| f["rule"] == rule).collect()
}

/// A webhook left to cert-manager's CA injector from a Certificate the
/// files do not hold is said (an `unresolved` note naming it), not skipped
/// in silence; a value another tool fills in (kustomize `$(VARS)`) is not.
#[test]
fn ca_injection_from_a_certificate_not_in_the_files_is_a_note() {
    let fixture =
        std::fs::read_to_string(repo().join("testdata/shapes/ca-injection/fail/webhook.yaml"))
            .unwrap();
    assert!(fixture.contains("inject-ca-from: apps/hook-serving"));
    for (value, notes) in [
        ("apps/elsewhere", 1),
        ("$(NAMESPACE)/$(CERTIFICATE_NAME)", 0),
    ] {
        let findings = findings_of_file(
            "webhook.yaml",
            &fixture.replace(
                "inject-ca-from: apps/hook-serving",
                &format!("inject-ca-from: {value}"),
            ),
        );
        let unresolved = of_rule(&findings, "unresolved");
        assert_eq!(unresolved.len(), notes, "{value}: {findings:#?}");
        assert!(
            findings.iter().all(|f| f["rule"] != "trust-mismatch"),
            "{value}: {findings:#?}"
        );
        if notes == 1 {
            let msg = unresolved[0]["message"].as_str().unwrap();
            assert!(
                msg.contains("Certificate apps/elsewhere is not in the scanned files"),
                "{msg}"
            );
        }
    }
}

/// Linkerd's identity issuer as a cert-manager `Certificate` writing the
/// issuer Secret (Linkerd's documented rotation setup): its Issuer's CA is
/// checked against the trust anchors before anything is issued.
#[test]
fn linkerd_issuer_from_cert_manager_is_checked_against_the_anchors() {
    let read = |k: &str| {
        std::fs::read_to_string(repo().join(format!("testdata/shapes/linkerd/{k}/identity.yaml")))
            .unwrap()
    };
    let (pass, fail) = (read("pass"), read("fail"));
    // The anchors ConfigMap (the pass tree's first document), and two CAs:
    // the anchors' root (the pass issuer's ca.crt) and an unrelated CA (the
    // fail issuer certificate itself, a CA).
    let anchors = pass
        .split("\n---\n")
        .find(|d| d.contains("kind: ConfigMap"))
        .unwrap();
    let value = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap()
            .to_owned()
    };
    let root = value(&pass, "ca.crt");
    let unrelated = value(&fail, "tls.crt");
    for (ca, mismatches) in [(root, 0), (unrelated, 1)] {
        let tree = format!(
            "{anchors}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: linkerd-trust-anchor, namespace: linkerd}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {ca}\n---\n\
apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {{name: linkerd-trust-anchor, namespace: linkerd}}\nspec:\n  ca: {{secretName: linkerd-trust-anchor}}\n---\n\
apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {{name: linkerd-identity-issuer, namespace: linkerd}}\nspec:\n  secretName: linkerd-identity-issuer\n  isCA: true\n  commonName: identity.linkerd.cluster.local\n  dnsNames: [identity.linkerd.cluster.local]\n  issuerRef: {{name: linkerd-trust-anchor, kind: Issuer}}\n"
        );
        let findings = findings_of_file("identity.yaml", &tree);
        let tm = of_rule(&findings, "trust-mismatch");
        assert_eq!(tm.len(), mismatches, "{findings:#?}");
        if mismatches == 1 {
            let msg = tm[0]["message"].as_str().unwrap();
            assert!(
                msg.contains("linkerd identity issuer linkerd/linkerd-identity-issuer"),
                "{msg}"
            );
            assert!(msg.contains("Issuer/linkerd-trust-anchor"), "{msg}");
        }
    }
}
