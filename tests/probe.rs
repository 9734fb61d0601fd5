//! `certdrift probe` against real TLS servers on 127.0.0.1: rustls servers
//! in this process (and `openssl s_server` where installed) serving the
//! configured certificate, one from another CA, an expired one, too long a
//! chain, and a listener that accepts and never answers. Certificates are
//! generated with rcgen into the same Kubernetes shapes as the Toolforge
//! fixture (`testdata/trust-mismatch`); their keys stay outside the scanned
//! directory. Every address dialled is on loopback: targets name 127.0.0.1,
//! or the repository's host name is redirected with `--connect-to`.

mod common;
use base64::Engine as _;
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::Read as _;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// etcd's host name in the Toolforge fixture (never resolved: tests use `--connect-to`).
const ETCD_HOST: &str = "tools-k8s-etcd-1.tools.eqiad.wmflabs";

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
}

fn ca(cn: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).unwrap();
    Ca {
        der: cert.der().clone(),
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

struct Leaf {
    der: CertificateDer<'static>,
    pem: String,
    key: KeyPair,
}

/// A serving certificate for etcd's name, localhost and 127.0.0.1.
fn leaf(ca: &Ca, cn: &str, expired: bool) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![
        ETCD_HOST.to_owned(),
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
    ])
    .unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    if expired {
        p.not_before = rcgen::date_time_ymd(2019, 1, 1);
        p.not_after = rcgen::date_time_ymd(2020, 1, 1);
    }
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    Leaf {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
    }
}

/// A rustls server on 127.0.0.1 presenting `chain`; returns its port.
fn serve(chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(sock) = sock else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, sock);
                let mut buf = [0u8; 256];
                // Handshake, then wait for the client's close.
                while matches!(tls.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

/// A listener that accepts connections and never says a word.
fn silent() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for sock in listener.incoming() {
            held.push(sock);
        }
    });
    port
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The Toolforge control plane in the shape of
/// `testdata/trust-mismatch/*/control-plane.yaml`: etcd serves `etcd_cert`
/// (with `etcd_ca` as its client CA), kube-apiserver reaches it at
/// `https://ETCD_HOST:2379` trusting `apiserver_trusts`.
fn toolforge(dir: &Path, etcd_cert: &str, etcd_ca: &str, apiserver_trusts: &str) {
    let yaml = format!(
        r#"---
apiVersion: v1
kind: Secret
metadata:
  name: etcd-pki
  namespace: kube-system
data:
  server.crt: {server}
  ca.crt: {ca}
---
apiVersion: v1
kind: Secret
metadata:
  name: apiserver-pki
  namespace: kube-system
data:
  etcd-ca.crt: {trusted}
---
apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
  labels: {{app: etcd}}
spec:
  containers:
  - name: etcd
    image: registry.example.org/etcd:1.0
    command:
    - etcd
    - --cert-file=/etc/etcd/pki/server.crt
    - --trusted-ca-file=/etc/etcd/pki/ca.crt
    - --client-cert-auth=true
    - --advertise-client-urls=https://{host}:2379
    volumeMounts:
    - {{name: pki, mountPath: /etc/etcd/pki}}
  volumes:
  - {{name: pki, secret: {{secretName: etcd-pki}}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
  labels: {{app: kube-apiserver}}
spec:
  containers:
  - name: kube-apiserver
    image: registry.example.org/kube-apiserver:1.0
    command:
    - kube-apiserver
    - --etcd-servers=https://{host}:2379
    - --etcd-cafile=/etc/kubernetes/pki/etcd-ca.crt
    volumeMounts:
    - {{name: pki, mountPath: /etc/kubernetes/pki}}
  volumes:
  - {{name: pki, secret: {{secretName: apiserver-pki}}}}
"#,
        server = b64(etcd_cert),
        ca = b64(etcd_ca),
        trusted = b64(apiserver_trusts),
        host = ETCD_HOST,
    );
    std::fs::write(dir.join("control-plane.yaml"), yaml).unwrap();
}

/// A repository where etcd serves `configured` from `ca`, trusted by kube-apiserver.
fn healthy_repo(ca: &Ca, configured: &Leaf) -> tempfile::TempDir {
    let repo = repo_dir();
    toolforge(repo.path(), &configured.pem, &ca.pem, &ca.pem);
    repo
}

fn probe(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    // The repository's own addresses are dialled only when asked for.
    let own: &[&str] = if extra.contains(&"--target") {
        &[]
    } else {
        &["--inventory-targets"]
    };
    let args = [
        &["probe", "--now", NOW, "--format", "json", "."],
        own,
        extra,
    ]
    .concat();
    let out = run(dir, &args);
    let code = out.status.code().unwrap();
    let text = format!("stdout: {}\nstderr: {}", stdout(&out), stderr(&out));
    (code, json(&out), text)
}

fn findings_of<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn sha256(der: &[u8]) -> String {
    certdrift::x509::Fingerprint::of(der).to_string()
}

/// (a) The endpoint serves what the repository configures: clean, exit 0,
/// and the served chain is reported.
#[test]
fn configured_certificate_is_clean() {
    let ca = ca("etcd CA");
    let etcd = leaf(&ca, "etcd", false);
    let repo = healthy_repo(&ca, &etcd);
    let port = serve(vec![etcd.der.clone(), ca.der.clone()], &etcd.key);
    let target = format!("kube-system/etcd=127.0.0.1:{port}");
    let (code, r, all) = probe(repo.path(), &["--target", &target]);
    assert_eq!(code, 0, "{all}");
    assert_eq!(r["findings"].as_array().unwrap().len(), 0, "{all}");
    let t = &r["targets"][0];
    assert_eq!(t["address"], format!("127.0.0.1:{port}"));
    assert_eq!(t["known"], true);
    assert_eq!(t["chain"].as_array().unwrap().len(), 2, "{all}");
    assert_eq!(t["chain"][0]["fingerprint"], sha256(&etcd.der));
    assert_eq!(t["expected"], sha256(&etcd.der));
    assert_eq!(t["trusted_by"][0], "kube-system/kube-apiserver");
    // The text report shows the served chain.
    let out = run(
        repo.path(),
        &["probe", "--now", NOW, ".", "--target", &target],
    );
    let text = stdout(&out);
    assert!(text.contains("[0] CN=etcd (sha256:"), "{text}");
    assert!(text.contains("[1] CN=etcd CA (sha256:"), "{text}");
    assert!(
        text.contains("1 target probed, 1 presented a certificate, 0 did not"),
        "{text}"
    );
}

/// (b) A certificate from another CA: live-drift (not the configured leaf,
/// another issuer) and kube-apiserver's bundle does not accept it.
#[test]
fn certificate_from_another_ca() {
    let ca1 = ca("etcd CA");
    let etcd = leaf(&ca1, "etcd", false);
    let repo = healthy_repo(&ca1, &etcd);
    let rogue_ca = ca("someone else's CA");
    let rogue = leaf(&rogue_ca, "etcd", false);
    let port = serve(vec![rogue.der.clone(), rogue_ca.der.clone()], &rogue.key);
    let target = format!("kube-system/etcd=127.0.0.1:{port}");
    let (code, r, all) = probe(repo.path(), &["--target", &target]);
    assert_eq!(code, 1, "{all}");
    let drift = findings_of(&r, "live-drift");
    assert_eq!(drift.len(), 1, "{all}");
    let msg = drift[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("not the certificate the repository configures"),
        "{msg}"
    );
    assert!(msg.contains("CN=someone else's CA"), "{msg}");
    assert_eq!(drift[0]["location"]["path"], "control-plane.yaml");
    let mismatch = findings_of(&r, "trust-mismatch");
    assert_eq!(mismatch.len(), 1, "{all}");
    assert_eq!(mismatch[0]["component"], "kube-system/kube-apiserver");
    assert_eq!(mismatch[0]["peer"], "kube-system/etcd");
    assert_eq!(
        mismatch[0]["certificates"][0],
        sha256(&rogue.der),
        "the finding names the live leaf"
    );
}

/// (c) An expired certificate: `expired`, from the live chain; not a trust
/// mismatch (the chain builds; only time fails).
#[test]
fn expired_certificate() {
    let ca = ca("etcd CA");
    let etcd = leaf(&ca, "etcd", false);
    let repo = healthy_repo(&ca, &etcd);
    let old = leaf(&ca, "etcd", true);
    let port = serve(vec![old.der.clone(), ca.der.clone()], &old.key);
    let target = format!("kube-system/etcd=127.0.0.1:{port}");
    let (code, r, all) = probe(repo.path(), &["--target", &target]);
    assert_eq!(code, 1, "{all}");
    let expired = findings_of(&r, "expired");
    assert_eq!(expired.len(), 1, "{all}");
    let msg = expired[0]["message"].as_str().unwrap();
    assert!(msg.contains("expired on 2020-01-01"), "{msg}");
    assert_eq!(expired[0]["certificates"][0], sha256(&old.der));
    assert!(findings_of(&r, "trust-mismatch").is_empty(), "{all}");
    // Same issuer, another leaf: drift, said to be a renewal-like change.
    let drift = findings_of(&r, "live-drift");
    assert!(
        drift[0]["message"]
            .as_str()
            .unwrap()
            .contains("both issued by"),
        "{all}"
    );
}

/// (d) A server that accepts and never answers: an `unreachable` finding
/// saying it timed out, in under twice the timeout.
#[test]
fn silent_server_times_out() {
    let ca = ca("etcd CA");
    let etcd = leaf(&ca, "etcd", false);
    let repo = healthy_repo(&ca, &etcd);
    let port = silent();
    let target = format!("kube-system/etcd=127.0.0.1:{port}");
    let started = Instant::now();
    let (code, r, all) = probe(repo.path(), &["--target", &target, "--timeout", "1"]);
    let took = started.elapsed();
    assert_eq!(code, 1, "{all}");
    let u = findings_of(&r, "unreachable");
    assert_eq!(u.len(), 1, "{all}");
    let msg = u[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("timed out after 1s waiting for the TLS handshake"),
        "{msg}"
    );
    assert_eq!(u[0]["severity"], "error");
    assert_eq!(u[0]["location"]["path"], "(command line)");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

/// A closed port: the OS error is in the finding.
#[test]
fn refused_connection_names_the_os_error() {
    let dir = repo_dir();
    std::fs::write(dir.path().join("empty.yaml"), "a: 1\n").unwrap();
    // Bind and drop: nothing listens on this port any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("web=127.0.0.1:{port}");
    let (code, r, all) = probe(dir.path(), &["--target", &target]);
    assert_eq!(code, 1, "{all}");
    let u = findings_of(&r, "unreachable");
    assert!(
        u[0]["message"].as_str().unwrap().contains("os error"),
        "{all}"
    );
    // Nothing in the repository to compare: a note says so.
    let notes = findings_of(&r, "live-drift");
    assert_eq!(notes[0]["severity"], "note", "{all}");
    assert!(notes[0]["message"]
        .as_str()
        .unwrap()
        .contains("the repository has no component web"));
}

/// More than 10 certificates is refused during the handshake, and said so.
#[test]
fn overlong_chain_is_refused() {
    let ca = ca("etcd CA");
    let etcd = leaf(&ca, "etcd", false);
    let mut chain = vec![etcd.der.clone()];
    chain.extend(std::iter::repeat_n(ca.der.clone(), 10));
    let port = serve(chain, &etcd.key);
    let dir = repo_dir();
    std::fs::write(dir.path().join("empty.yaml"), "a: 1\n").unwrap();
    let target = format!("web=127.0.0.1:{port}");
    let (code, r, all) = probe(dir.path(), &["--target", &target]);
    assert_eq!(code, 1, "{all}");
    let u = findings_of(&r, "unreachable");
    assert!(
        u[0]["message"]
            .as_str()
            .unwrap()
            .contains("the server sent 11 certificates"),
        "{all}"
    );
    assert!(r["targets"][0]["chain"].as_array().unwrap().is_empty());
}

/// Acceptance 2: the Toolforge fixture, its etcd address (from the
/// repository's own `--etcd-servers`, no `--target`) pointed at a loopback
/// server presenting etcd's real certificate: the apiserver side's
/// trust-mismatch, from the live chain. Regression for the 2019-09-10
/// Toolforge outage (kube-apiserver restarted trusting a CA that had not
/// issued etcd's certificate).
#[test]
fn toolforge_live_trust_mismatch() {
    let etcd_ca = ca("etcd CA");
    let previous = ca("etcd CA (previous)");
    let etcd = leaf(&etcd_ca, ETCD_HOST, false);
    let repo = repo_dir();
    toolforge(repo.path(), &etcd.pem, &etcd_ca.pem, &previous.pem);
    let port = serve(vec![etcd.der.clone(), etcd_ca.der.clone()], &etcd.key);
    let redirect = format!("{ETCD_HOST}:2379=127.0.0.1:{port}");
    let (code, r, all) = probe(repo.path(), &["--connect-to", &redirect]);
    assert_eq!(code, 1, "{all}");
    let targets = r["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{all}");
    assert_eq!(targets[0]["component"], "kube-system/etcd");
    assert_eq!(targets[0]["address"], format!("{ETCD_HOST}:2379"));
    assert_eq!(targets[0]["connected"], format!("127.0.0.1:{port}"));
    assert_eq!(targets[0]["chain"][0]["fingerprint"], sha256(&etcd.der));
    let mismatch = findings_of(&r, "trust-mismatch");
    assert_eq!(mismatch.len(), 1, "{all}");
    assert_eq!(mismatch[0]["component"], "kube-system/kube-apiserver");
    assert_eq!(mismatch[0]["peer"], "kube-system/etcd");
    let msg = mismatch[0]["message"].as_str().unwrap();
    assert!(msg.contains("--etcd-cafile"), "{msg}");
    assert!(
        msg.contains(&format!("serves at {ETCD_HOST}:2379")),
        "{msg}"
    );
    // etcd serves what the repository says: no drift, nothing unreachable.
    assert!(findings_of(&r, "live-drift").is_empty(), "{all}");
    assert!(findings_of(&r, "unreachable").is_empty(), "{all}");
    // The text report: the target, where its address comes from, the served
    // chain, then the finding with the apiserver's flag excerpted.
    let out = run(
        repo.path(),
        &[
            "probe",
            "--now",
            NOW,
            "--inventory-targets",
            "--connect-to",
            &redirect,
            ".",
        ],
    );
    let text = stdout(&out);
    for want in [
        format!("kube-system/etcd  {ETCD_HOST}:2379 (dialled at 127.0.0.1:{port})"),
        "trusted by kube-system/kube-apiserver".to_owned(),
        "from: kube-system/kube-apiserver dials it (--etcd-cafile)".to_owned(),
        format!("[0] CN={ETCD_HOST} (sha256:"),
        "error[trust-mismatch]: kube-system/kube-apiserver trusts --etcd-cafile".to_owned(),
        "- --etcd-cafile=/etc/kubernetes/pki/etcd-ca.crt".to_owned(),
    ] {
        assert!(text.contains(&want), "{want:?} not in:\n{text}");
    }
}

/// `openssl s_server` (where installed) serving the configured
/// certificate: the same clean verdict as from rustls.
#[test]
fn openssl_s_server() {
    let Ok(openssl) = which("openssl") else {
        eprintln!("skipped: openssl is not installed");
        return;
    };
    let ca = ca("etcd CA");
    let etcd = leaf(&ca, "etcd", false);
    let repo = healthy_repo(&ca, &etcd);
    // Key and certificate outside the scanned directory.
    let keys = tempfile::tempdir().unwrap();
    let cert = keys.path().join("server.crt");
    let key = keys.path().join("server.key");
    let chain = keys.path().join("chain.crt");
    std::fs::write(&cert, &etcd.pem).unwrap();
    std::fs::write(&chain, &ca.pem).unwrap();
    std::fs::write(&key, etcd.key.serialize_pem()).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new(openssl)
        .args(["s_server", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .arg("-cert_chain")
        .arg(&chain)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let target = format!("kube-system/etcd=127.0.0.1:{port}");
    let (code, r, all) = probe(repo.path(), &["--target", &target]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, 0, "{all}");
    assert_eq!(
        r["targets"][0]["chain"][0]["fingerprint"],
        sha256(&etcd.der)
    );
    assert_eq!(r["targets"][0]["chain"].as_array().unwrap().len(), 2);
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

/// Several targets: the report is the same bytes with one job or eight.
#[test]
fn output_does_not_depend_on_jobs() {
    let ca1 = ca("etcd CA");
    let etcd = leaf(&ca1, "etcd", false);
    let repo = healthy_repo(&ca1, &etcd);
    let good = serve(vec![etcd.der.clone()], &etcd.key);
    let other_ca = ca("other CA");
    let other = leaf(&other_ca, "etcd", false);
    let bad = serve(vec![other.der.clone()], &other.key);
    let quiet = silent();
    let file = repo.path().join("targets.txt");
    std::fs::write(
        &file,
        format!(
            "# endpoints\nkube-system/etcd=127.0.0.1:{good}\nkube-system/etcd=localhost:{bad}  # second member\n\nspare=127.0.0.1:{quiet}\n"
        ),
    )
    .unwrap();
    let run_with = |jobs: &str| {
        let out = run(
            repo.path(),
            &[
                "probe",
                "--now",
                NOW,
                "--timeout",
                "1",
                "--targets",
                "targets.txt",
                "--jobs",
                jobs,
                "--format",
                "json",
                ".",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        stdout(&out)
    };
    let one = run_with("1");
    assert_eq!(one, run_with("8"));
    let r: serde_json::Value = serde_json::from_str(&one).unwrap();
    let order: Vec<String> = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} {}", t["component"], t["address"]))
        .collect();
    assert_eq!(
        order,
        [
            format!("\"kube-system/etcd\" \"127.0.0.1:{good}\""),
            format!("\"kube-system/etcd\" \"localhost:{bad}\""),
            format!("\"spare\" \"127.0.0.1:{quiet}\""),
        ]
    );
    // A --targets finding points at its line.
    let u = findings_of(&r, "unreachable");
    assert_eq!(u[0]["location"]["path"], "targets.txt");
    assert_eq!(u[0]["location"]["line"], 5);
}

/// Usage errors exit 2 with a clear message: a bad --targets line (file:line),
/// a bad --target, nothing to probe.
#[test]
fn usage_errors() {
    let dir = repo_dir();
    std::fs::write(dir.path().join("empty.yaml"), "a: 1\n").unwrap();
    std::fs::write(
        dir.path().join("t.txt"),
        "# ok\nweb=127.0.0.1:443\nweb 127.0.0.1\n",
    )
    .unwrap();
    let out = run(dir.path(), &["probe", "--targets", "t.txt", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("t.txt:3: "), "{}", stderr(&out));
    let out = run(dir.path(), &["probe", "--target", "web=127.0.0.1", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not HOST:PORT"),
        "{}",
        stderr(&out)
    );
    // Without --target/--targets nothing the repository names is dialled
    // unless asked: a change under review must not choose the runner's
    // connections.
    let out = run(dir.path(), &["probe", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nothing to probe") && stderr(&out).contains("--inventory-targets"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["probe", "--inventory-targets", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the scanned files give no address"),
        "{}",
        stderr(&out)
    );
    let out = run(
        dir.path(),
        &[
            "probe",
            "--target",
            "web=127.0.0.1:1",
            "--timeout",
            "0",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Probe findings meet the same suppression stage as a scan's: the
/// policy's severities and exceptions, and an unused exception of a probe
/// rule is reported.
#[test]
fn policy_applies_to_probe_findings() {
    let ca1 = ca("etcd CA");
    let etcd = leaf(&ca1, "etcd", false);
    let repo = healthy_repo(&ca1, &etcd);
    std::fs::write(
        repo.path().join("policy.yaml"),
        "severity:\n  live-drift: warning\nexceptions:\n  - rule: trust-mismatch\n    component: kube-system/kube-apiserver\n    reason: CA move CHG-7 in progress\n  - rule: unreachable\n    reason: flaky host\n",
    )
    .unwrap();
    let rogue_ca = ca("someone else's CA");
    let rogue = leaf(&rogue_ca, "etcd", false);
    let port = serve(vec![rogue.der.clone(), rogue_ca.der.clone()], &rogue.key);
    let target = format!("kube-system/etcd=127.0.0.1:{port}");
    let (code, r, all) = probe(
        repo.path(),
        &["--target", &target, "--policy", "policy.yaml"],
    );
    let drift = findings_of(&r, "live-drift");
    assert_eq!(drift.len(), 1, "{all}");
    assert_eq!(drift[0]["severity"], "warning", "{all}");
    assert!(findings_of(&r, "trust-mismatch").is_empty(), "{all}");
    assert_eq!(r["summary"]["suppressed"], 1, "{all}");
    let unused = findings_of(&r, "unused-exception");
    assert_eq!(unused.len(), 1, "{all}");
    assert!(
        unused[0]["message"]
            .as_str()
            .unwrap()
            .contains("exception for unreachable (flaky host)"),
        "{all}"
    );
    // Only warnings are left: the gate passes.
    assert_eq!(code, 0, "{all}");
}
