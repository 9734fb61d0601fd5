#!/usr/bin/env python3
"""Generates the checked-in certificate fixtures under testdata/.

Every PEM, DER and key in testdata/demo and testdata/<rule-id>/ comes from
this script (python3 + the `cryptography` package). Dates are fixed relative
to the tests' pinned evaluation time, --now 2026-11-01T00:00:00Z; the demo
tree's faults (an expired certificate, a key, a broken bundle) hold whatever
the date. Keys are throwaway test keys. Re-run after changing it, then review
and accept the snapshot changes:

    python3 testdata/gen.py && cargo insta test --accept

Keys are random, so a full run changes every fingerprint in the snapshots;
name sections to regenerate only those, e.g. `python3 testdata/gen.py
crl_fixtures placeholder_fixtures`.
"""
import base64, datetime as dt, hashlib, json, os, shutil, sys, textwrap

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
FAR = dt.datetime(2045, 1, 1, tzinfo=dt.timezone.utc)
SERIAL = [1000]


def serial():
    SERIAL[0] += 1
    return SERIAL[0]


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certdrift tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def ca(cn, not_before=NOW - dt.timedelta(days=400), not_after=FAR, key=None, parent=None, key_usage=False):
    """A CA certificate; `key_usage` adds keyUsage keyCertSign+cRLSign (critical), which the
    strict profile (OpenSSL -x509_strict, Python 3.13) wants and `openssl req -x509` leaves out."""
    key = key or ec_key()
    issuer_name, issuer_key = (parent[1].subject, parent[0]) if parent else (name(cn), key)
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(serial())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if parent:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if key_usage:
        b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    return key, b.sign(issuer_key, hashes.SHA256())


def leaf(issuer, cn, sans, not_before=NOW - dt.timedelta(days=30), not_after=FAR, key=None, hash_alg=None):
    ik, ic = issuer
    key = key or ec_key()
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ic.subject)
            .public_key(key.public_key()).serial_number(serial())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ik.public_key()), critical=False)
            .sign(ik, hash_alg or hashes.SHA256()))
    return key, cert


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(k, fmt=serialization.PrivateFormat.PKCS8):
    return k.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def ind(text, n):
    return textwrap.indent(text.rstrip("\n"), " " * n)


def write(rel, text):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(text, bytes) else "w"
    with open(path, mode) as f:
        f.write(text)


def secret(name_, ns, data):
    body = "\n".join(f"  {k}: {v}" for k, v in data.items())
    return f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name_}\n  namespace: {ns}\ntype: kubernetes.io/tls\ndata:\n{body}\n"


def rule_fixtures():
    root = ca("Fixture Root CA")
    ok_leaf = leaf(root, "ok.example.org", ["ok.example.org"])

    write("expired/fail/server.crt", pem(leaf(root, "old.example.org", ["old.example.org"],
                                              not_before=NOW - dt.timedelta(days=400),
                                              not_after=NOW - dt.timedelta(days=3))[1]))
    write("expired/pass/server.crt", pem(ok_leaf[1]))

    write("expired-anchor/fail/old-root-ca.pem", pem(ca("Retired Root CA", NOW - dt.timedelta(days=4000),
                                                        NOW - dt.timedelta(days=100))[1]))
    write("expired-anchor/pass/root-ca.pem", pem(root[1]))

    write("expires-soon/fail/server.crt", pem(leaf(root, "soon.example.org", ["soon.example.org"],
                                                   not_after=NOW + dt.timedelta(days=12))[1]))
    write("expires-soon/pass/server.crt", pem(ok_leaf[1]))

    write("not-yet-valid/fail/server.crt", pem(leaf(root, "future.example.org", ["future.example.org"],
                                                    not_before=NOW + dt.timedelta(days=30))[1]))
    write("not-yet-valid/pass/server.crt", pem(ok_leaf[1]))

    etcd = leaf(root, "etcd.kube-system.svc", ["etcd.kube-system.svc"])
    write("not-a-ca/fail/etcd-ca.yaml", secret("etcd-ca", "kube-system", {"ca.crt": b64(pem(etcd[1]))}))
    write("not-a-ca/pass/etcd-ca.yaml", secret("etcd-ca", "kube-system", {"ca.crt": b64(pem(root[1]))}))

    weak_key = rsa.generate_private_key(65537, 1024)
    write("weak-crypto/fail/legacy.crt", pem(leaf(root, "legacy.example.org", ["legacy.example.org"],
                                                  key=weak_key)[1]))
    write("weak-crypto/pass/modern.crt", pem(ok_leaf[1]))

    k1, k2, k3 = ec_key(), rsa.generate_private_key(65537, 2048), ec_key()
    write("private-key-in-repo/fail/values.yaml",
          f"tls:\n  cert: |\n{ind(pem(ok_leaf[1]), 4)}\n  key: |\n{ind(key_pem(k1), 4)}\n")
    write("private-key-in-repo/fail/secret.yaml",
          secret("api-tls", "apps", {"tls.crt": b64(pem(ok_leaf[1])),
                                     "tls.key": b64(key_pem(k2, serialization.PrivateFormat.TraditionalOpenSSL))}))
    write("private-key-in-repo/fail/server.key",
          k3.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                           serialization.NoEncryption()).decode())
    write("private-key-in-repo/pass/secret.yaml", secret("api-tls", "apps", {"tls.crt": b64(pem(ok_leaf[1]))}))

    inter = ca("Fixture Intermediate CA", parent=root)
    write("duplicate-in-bundle/fail/ca-bundle.crt", pem(root[1]) + pem(inter[1]) + pem(root[1]))
    write("duplicate-in-bundle/pass/ca-bundle.crt", pem(root[1]) + pem(inter[1]))

    six = pem(inter[1]).replace("-----BEGIN", "------BEGIN", 1)
    write("malformed/fail/puppet_ca.pem", pem(root[1]) + six)
    write("malformed/fail/truncated.crt", "\n".join(pem(ok_leaf[1]).splitlines()[:8]) + "\n")
    write("malformed/fail/webhook.yaml", """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: broken
webhooks:
- name: broken.example.org
  clientConfig:
    service: {name: broken, namespace: apps}
    caBundle: "this is not base64!"
""")
    write("malformed/fail/broken.yaml", "apiVersion: v1\nkind: Secret\ndata:\n  tls.crt: [1, 2\n  b: {\n")
    write("malformed/pass/puppet_ca.pem", pem(root[1]) + pem(inter[1]))


def suppression_fixtures():
    """invalid-suppression and stale-baseline: expired/fail's certificate
    under a certdrift:ignore comment, or accepted by a baseline."""
    expired = open(os.path.join(HERE, "expired/fail/server.crt")).read()
    der = base64.b64decode("".join(l for l in expired.splitlines() if not l.startswith("-----")))
    fingerprint = "sha256:" + hashlib.sha256(der).hexdigest()

    write("invalid-suppression/fail/server.crt", "# certdrift:ignore[expired]\n" + expired)
    write("invalid-suppression/fail/secret.yaml",
          secret("legacy-tls", "apps", {"tls.crt": b64(expired)}).replace(
              "  tls.crt:", "  # certdrift:ignore[expird] host retired in 2026\n  tls.crt:"))
    write("invalid-suppression/pass/server.crt",
          "# certdrift:ignore[expired] decommissioned host, kept for the audit trail\n" + expired)

    def baseline(entries):
        return json.dumps({"version": 1, "entries": [
            {"rule": rule, "component": None, "certificates": [fingerprint], "path": path, "count": 1}
            for rule, path in entries]}, indent=2, ensure_ascii=False) + "\n"

    write("stale-baseline/fail/server.crt", expired)
    write("stale-baseline/fail/certdrift-baseline.json",
          baseline([("expired", "retired.crt"), ("expired", "server.crt")]))
    write("stale-baseline/pass/server.crt", expired)
    write("stale-baseline/pass/certdrift-baseline.json", baseline([("expired", "server.crt")]))


def crl_fixtures():
    """crl-expired: CRLs past and within their nextUpdate, PEM and DER, and
    the other non-certificate PEM types that must be recognised, not reported."""
    key, cert = ca("Fixture CRL CA")

    def crl(next_update, revoked, number):
        b = (x509.CertificateRevocationListBuilder().issuer_name(cert.subject)
             .last_update(next_update - dt.timedelta(days=30)).next_update(next_update)
             .add_extension(x509.CRLNumber(number), critical=False))
        for i in range(revoked):
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(5000 + i)
                .revocation_date(next_update - dt.timedelta(days=40 + i)).build())
        return b.sign(key, hashes.SHA256())

    stale, current = crl(NOW - dt.timedelta(days=7), 2, 41), crl(NOW + dt.timedelta(days=7), 3, 42)
    write("crl-expired/fail/ca-crl.pem", stale.public_bytes(serialization.Encoding.PEM).decode())
    write("crl-expired/fail/gateway/ca.crl", stale.public_bytes(serialization.Encoding.DER))
    write("crl-expired/fail/client-auth.yaml", opaque("client-auth", "ingress", {
        "ca.crl": stale.public_bytes(serialization.Encoding.DER)}))
    write("crl-expired/pass/ca-crl.pem", current.public_bytes(serialization.Encoding.PEM).decode())
    write("crl-expired/pass/gateway/ca.crl", current.public_bytes(serialization.Encoding.DER))
    # Other PEM types in certificate-named files: recognised, never "no PEM block".
    rsa_key = rsa.generate_private_key(65537, 2048)
    write("crl-expired/pass/signer-pub.pem", rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    write("crl-expired/pass/signer-rsa-pub.pem", rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode())
    csr = (x509.CertificateSigningRequestBuilder().subject_name(name("csr.example.org"))
           .sign(ec_key(), hashes.SHA256()))
    write("crl-expired/pass/server-csr.pem", csr.public_bytes(serialization.Encoding.PEM).decode())
    write("crl-expired/pass/dhparams.pem", dh.generate_parameters(2, 512).parameter_bytes(
        serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3).decode())
    # `openssl ecparam -name prime256v1`: the DER of the curve's OID.
    oid = base64.b64encode(bytes.fromhex("06082a8648ce3d030107")).decode()
    write("crl-expired/pass/ec-params.pem", f"-----BEGIN EC PARAMETERS-----\n{oid}\n-----END EC PARAMETERS-----\n")
    ssh = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    write("crl-expired/pass/ssh-user-ca.pem", f"{ssh} deploy-ca@example.org\n")


def placeholder_fixtures():
    """Scaffold values in certificate slots (src/extract/placeholder.rs):
    never malformed, at most one note where a real value is expected."""
    write("malformed/pass/webhook-scaffold.yaml", """# kubebuilder's CRD conversion patch: the CA is injected at deploy time.
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: assigns.mutations.example.org
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        caBundle: Cg==
        service: {name: webhook, namespace: system, path: /convert}
---
apiVersion: v1
kind: Secret
metadata:
  name: invalid-cert
  namespace: apps
type: kubernetes.io/tls
data:
  tls.crt: """ + b64("hush hush hush\n") + """
  tls.key: """ + b64("secret secret\n") + """
---
apiVersion: v1
kind: Secret
metadata:
  name: begin-only
  namespace: apps
type: kubernetes.io/tls
data:
  tls.crt: """ + b64("-----BEGIN CERTIFICATE-----\n") + """
  tls.key: """ + b64("-----BEGIN PRIVATE KEY-----\n") + """
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: trust
  namespace: apps
data:
  ca.crt: |
    -----BEGIN CERTIFICATE-----
    ...
    -----END CERTIFICATE-----
  other.crt: "${OTHER_CA}"
  empty.crt: ""
  doc.crt: <base64-encoded CA certificate>
""")
    write("malformed/pass/example.crt", "-----BEGIN CERTIFICATE-----\n<snip>\n-----END CERTIFICATE-----\n")
    write("malformed/pass/README.md", """# Setting up TLS

Put the CA in `ca.crt`:

```
-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIU...
[snip]
-----END CERTIFICATE-----
```

and the key in `tls.key`:

```
-----BEGIN RSA PRIVATE KEY-----
...
-----END RSA PRIVATE KEY-----
```
""")


def demo():
    shutil.rmtree(os.path.join(HERE, "demo"), ignore_errors=True)
    root = ca("Demo Root CA")
    etcd_ca = ca("Demo etcd CA", parent=root)
    webhook_ca = ca("Demo webhooks CA", parent=root)
    etcd_leaf = leaf(etcd_ca, "etcd.kube-system.svc", ["etcd.kube-system.svc", "etcd.demo.example.org"])
    old_webhook = leaf(webhook_ca, "policy-webhook.apps.svc", ["policy-webhook.apps.svc"],
                       not_before=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc),
                       not_after=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    write("demo/README.md", "A small configuration repository with planted faults; run `cargo run -- scan testdata/demo`.\n")
    write("demo/rendered/prod/control-plane.yaml", secret("etcd-server-tls", "kube-system",
                                                          {"tls.crt": b64(pem(etcd_leaf[1]))})
          + f"""---
apiVersion: v1
kind: ConfigMap
metadata:
  name: etcd-ca
  namespace: kube-system
data:
  ca.crt: |
{ind(pem(etcd_ca[1]), 4)}
""")
    write("demo/rendered/prod/policy-webhook.yaml", secret("policy-webhook-tls", "apps",
                                                           {"tls.crt": b64(pem(old_webhook[1]))})
          + f"""---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: policy-webhook
webhooks:
- name: policy.example.org
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig:
    service: {{name: policy-webhook, namespace: apps, path: /validate}}
    caBundle: {b64(pem(etcd_leaf[1]))}
""")
    write("demo/values/api/values.yaml",
          f"mesh:\n  certs:\n    cert: |\n{ind(pem(leaf(root, 'api.demo.example.org', ['api.demo.example.org'])[1]), 6)}\n"
          f"    key: |\n{ind(key_pem(ec_key()), 6)}\n")
    six = pem(etcd_ca[1]).replace("-----BEGIN", "------BEGIN", 1)
    write("demo/modules/profile/files/ssl/ca-bundle.crt", pem(root[1]) + six)
    write("demo/hieradata/common.yaml", f"profile::base::root_ca: |\n{ind(pem(root[1]), 2)}\n")


def pod(name, ns, command, mounts, volumes, kind="Pod", labels=None):
    """A static Pod (kind Pod) or a Deployment running one container."""
    cmd = "\n".join(f"    - {c}" for c in command)
    mnt = "\n".join(f"    - {{name: {n}, mountPath: {p}}}" for n, p in mounts)
    vol = "\n".join(f"  - {v}" for v in volumes)
    lab = labels or {"app": name}
    lab_s = "{" + ", ".join(f"{k}: {v}" for k, v in lab.items()) + "}"
    spec = f"""containers:
  - name: {name}
    image: registry.example.org/{name}:1.0
    command:
{cmd}
    volumeMounts:
{mnt}
  volumes:
{vol}"""
    if kind == "Pod":
        return f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {lab_s}\nspec:\n  " + spec + "\n"
    body = textwrap.indent("spec:\n  " + spec, "    ")
    return (f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"spec:\n  selector: {{matchLabels: {lab_s}}}\n  template:\n    metadata: {{labels: {lab_s}}}\n{body}\n")


def opaque(name_, ns, data, string=False):
    section = "stringData" if string else "data"
    body = "\n".join(f"  {k}: |\n{ind(v, 4)}" if string else f"  {k}: {b64(v)}" for k, v in data.items())
    return f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name_}\n  namespace: {ns}\n{section}:\n{body}\n"


def service(name_, ns, selector):
    return f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name_}\n  namespace: {ns}\nspec:\n  selector: {{app: {selector}}}\n  ports: [{{port: 443, targetPort: 8443}}]\n"


def toolforge(right):
    """The 2019-09-10 Toolforge outage in Kubernetes form: kube-apiserver's
    --etcd-cafile holds the new cloudinfra puppet CA, but etcd's serving
    certificate was issued by the old project puppetmaster's CA."""
    old = ca("Puppet CA: labs-puppetmaster.wikimedia.org")
    new = ca("Puppet CA: puppetmaster.cloudinfra.wmflabs.org")
    etcd = leaf(old, "tools-k8s-etcd-1.tools.eqiad.wmflabs", ["tools-k8s-etcd-1.tools.eqiad.wmflabs"])
    client = leaf(old, "tools-k8s-master-1.tools.eqiad.wmflabs", ["tools-k8s-master-1.tools.eqiad.wmflabs"])
    return (opaque("etcd-pki", "kube-system", {"server.crt": pem(etcd[1]), "ca.crt": pem(old[1])})
            + opaque("apiserver-pki", "kube-system", {"etcd-ca.crt": pem((old if right else new)[1]),
                                                      "etcd-client.crt": pem(client[1])})
            + pod("etcd", "kube-system", ["etcd", "--cert-file=/etc/etcd/pki/server.crt",
                                          "--trusted-ca-file=/etc/etcd/pki/ca.crt", "--client-cert-auth=true",
                                          "--advertise-client-urls=https://tools-k8s-etcd-1.tools.eqiad.wmflabs:2379"],
                  [("pki", "/etc/etcd/pki")], ["{name: pki, secret: {secretName: etcd-pki}}"])
            + pod("kube-apiserver", "kube-system",
                  ["kube-apiserver", "--etcd-servers=https://tools-k8s-etcd-1.tools.eqiad.wmflabs:2379",
                   "--etcd-cafile=/etc/kubernetes/pki/etcd-ca.crt",
                   "--etcd-certfile=/etc/kubernetes/pki/etcd-client.crt"],
                  [("pki", "/etc/kubernetes/pki")], ["{name: pki, secret: {secretName: apiserver-pki}}"]))


def webhook_config(kind, name_, ns, svc, bundle):
    if kind == "APIService":
        return (f"---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: {name_}\nspec:\n"
                f"  group: metrics.k8s.io\n  version: v1beta1\n  service: {{name: {svc}, namespace: {ns}}}\n"
                f"  caBundle: {b64(pem(bundle))}\n")
    if kind == "CRD":
        return (f"---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {name_}\n"
                f"spec:\n  group: example.org\n  conversion:\n    strategy: Webhook\n    webhook:\n"
                f"      conversionReviewVersions: [v1]\n      clientConfig:\n"
                f"        service: {{name: {svc}, namespace: {ns}, path: /convert}}\n"
                f"        caBundle: {b64(pem(bundle))}\n")
    return (f"---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
            f"metadata:\n  name: {name_}\nwebhooks:\n- name: {name_}.example.org\n  clientConfig:\n"
            f"    service: {{name: {svc}, namespace: {ns}}}\n    caBundle: {b64(pem(bundle))}\n")


def trust_fixtures():
    for kind in ("fail", "pass"):
        write(f"trust-mismatch/{kind}/control-plane.yaml", toolforge(kind == "pass"))
    hooks_ca, other = ca("Webhooks CA"), ca("Unrelated CA")
    host = "hook.apps.svc"
    serving = leaf(hooks_ca, host, [host])
    sp = pem(serving[1])
    variants = {
        "projected": (opaque("hook-tls", "apps", {"tls.crt": sp})
                      + pod("hook", "apps", ["/hook", "--tls-cert-file=/certs/serving.crt"], [("certs", "/certs")],
                            ["{name: certs, projected: {sources: [{secret: {name: hook-tls, items: [{key: tls.crt, path: serving.crt}]}}]}}"],
                            kind="Deployment"), "Validating"),
        "string-data": (opaque("hook-tls", "apps", {"tls.crt": sp}, string=True)
                        + pod("hook", "apps", ["/hook", "--tls-cert-file=/tls/tls.crt"], [("tls", "/tls")],
                              ["{name: tls, secret: {secretName: hook-tls}}"], kind="Deployment"), "Validating"),
        "items": (opaque("hook-tls", "apps", {"tls.crt": sp})
                  + pod("hook", "apps", ["/hook", "--tls-cert-file=/tls/server.pem"], [("tls", "/tls")],
                        ["{name: tls, secret: {secretName: hook-tls, items: [{key: tls.crt, path: server.pem}]}}"],
                        kind="Deployment"), "Validating"),
        "cert-dir": (opaque("hook-tls", "apps", {"tls.crt": sp})
                     + pod("hook", "apps", ["/manager", "--cert-dir=/tmp/k8s-webhook-server/serving-certs"],
                           [("cert", "/tmp/k8s-webhook-server/serving-certs")],
                           ["{name: cert, secret: {secretName: hook-tls}}"], kind="Deployment"), "Validating"),
        "apiservice": (opaque("hook-tls", "apps", {"tls.crt": sp})
                       + pod("hook", "apps", ["/metrics-server", "--tls-cert-file=/tls/tls.crt"], [("tls", "/tls")],
                             ["{name: tls, secret: {secretName: hook-tls}}"], kind="Deployment"), "APIService"),
        "crd-conversion": (opaque("hook-tls", "apps", {"tls.crt": sp})
                           + pod("hook", "apps", ["/converter", "--tls-cert-file=/tls/tls.crt"], [("tls", "/tls")],
                                 ["{name: tls, secret: {secretName: hook-tls}}"], kind="Deployment"), "CRD"),
    }
    for variant, (objects, kind) in variants.items():
        for case in ("fail", "pass"):
            bundle = other if case == "fail" else hooks_ca
            cfg = webhook_config(kind, "v1beta1.metrics.k8s.io" if kind == "APIService" else
                                 ("widgets.example.org" if kind == "CRD" else "hook"), "apps", "hook", bundle[1])
            write(f"trust/{variant}/{case}/hook.yaml", objects + service("hook", "apps", "hook") + cfg)

    # san-coverage: the webhook's certificate names policy.apps.svc, not policy-webhook.apps.svc.
    for case, sans in (("fail", ["policy.apps.svc"]), ("pass", ["policy-webhook.apps.svc"])):
        cert = leaf(hooks_ca, sans[0], sans)
        write(f"san-coverage/{case}/policy.yaml",
              opaque("policy-tls", "apps", {"tls.crt": pem(cert[1])})
              + pod("policy", "apps", ["/policy", "--tls-cert-file=/tls/tls.crt"], [("tls", "/tls")],
                    ["{name: tls, secret: {secretName: policy-tls}}"], kind="Deployment")
              + service("policy-webhook", "apps", "policy")
              + webhook_config("Validating", "policy", "apps", "policy-webhook", hooks_ca[1]))

    # ca-divergence: etcd trusts one CA for clients and another for peers (the policy says: one).
    etcd_ca, puppet_ca = ca("etcd CA"), ca("Puppet CA: puppet")
    e_leaf = leaf(etcd_ca, "etcd-0.etcd.kube-system.svc", ["etcd-0.etcd.kube-system.svc"])
    for case in ("fail", "pass"):
        peer_ca = puppet_ca if case == "fail" else etcd_ca
        write(f"ca-divergence/{case}/etcd.yaml",
              opaque("etcd-pki", "kube-system", {"server.crt": pem(e_leaf[1]), "ca.crt": pem(etcd_ca[1]),
                                                 "peer-ca.crt": pem(peer_ca[1])})
              + pod("etcd", "kube-system", ["etcd", "--cert-file=/pki/server.crt", "--trusted-ca-file=/pki/ca.crt",
                                            "--peer-cert-file=/pki/server.crt",
                                            "--peer-trusted-ca-file=/pki/peer-ca.crt"],
                    [("pki", "/pki")], ["{name: pki, secret: {secretName: etcd-pki}}"], kind="Deployment"))

    # source-divergence: apps/api uses cert-manager in eqiad, a static Secret in codfw.
    api = leaf(hooks_ca, "api.example.org", ["api.example.org"])
    deploy = pod("api", "apps", ["/api", "--tls-cert-file=/tls/tls.crt"], [("tls", "/tls")],
                 ["{name: tls, secret: {secretName: api-tls}}"], kind="Deployment")
    static = opaque("api-tls", "apps", {"tls.crt": pem(api[1])}) + deploy
    managed = deploy + """---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: api
  namespace: apps
spec:
  secretName: api-tls
  dnsNames: [api.example.org]
  issuerRef: {name: internal-ca, kind: ClusterIssuer}
"""
    write("source-divergence/fail/rendered/eqiad/api.yaml", managed)
    write("source-divergence/fail/rendered/codfw/api.yaml", static)
    write("source-divergence/pass/rendered/eqiad/api.yaml", static)
    write("source-divergence/pass/rendered/codfw/api.yaml", static)

    # too-many-cas: a policy allows one root per scope; the API server trusts two for clients.
    for case in ("fail", "pass"):
        roots = [etcd_ca, puppet_ca] if case == "fail" else [etcd_ca]
        write(f"too-many-cas/{case}/certdrift-policy.yaml", "max_cas: 1\n")
        write(f"too-many-cas/{case}/apiserver.yaml",
              opaque("apiserver-pki", "kube-system", {"client-ca.crt": "".join(pem(r[1]) for r in roots)})
              + pod("kube-apiserver", "kube-system", ["kube-apiserver", "--client-ca-file=/pki/client-ca.crt"],
                    [("pki", "/pki")], ["{name: pki, secret: {secretName: apiserver-pki}}"]))

    # unresolved: the CA the API server trusts for etcd is in a Secret nobody committed.
    for case in ("fail", "pass"):
        text = toolforge(True)
        if case == "fail":
            text = text.replace("secretName: apiserver-pki", "secretName: apiserver-pki-private")
        write(f"unresolved/{case}/control-plane.yaml", text)


def rotation_fixtures():
    """A CA rotation of kube-apiserver's --etcd-cafile, in three states:
    the old CA only, old + new (a safe overlap), new only while etcd still
    serves a certificate from the old CA (a hard swap)."""
    old, new = ca("etcd CA 2025"), ca("etcd CA 2026")
    etcd = leaf(old, "etcd.kube-system.svc", ["etcd.kube-system.svc"])
    for state, bundle in (("0-old", [old]), ("1-overlap", [old, new]), ("2-swap", [new])):
        write(f"rotation/{state}/control-plane.yaml",
              opaque("etcd-pki", "kube-system", {"server.crt": pem(etcd[1])})
              + opaque("apiserver-pki", "kube-system", {"etcd-ca.crt": "".join(pem(c[1]) for c in bundle)})
              + pod("etcd", "kube-system", ["etcd", "--cert-file=/pki/server.crt"], [("pki", "/pki")],
                    ["{name: pki, secret: {secretName: etcd-pki}}"])
              + pod("kube-apiserver", "kube-system", ["kube-apiserver", "--etcd-servers=https://etcd.kube-system.svc:2379",
                                                      "--etcd-cafile=/pki/etcd-ca.crt"], [("pki", "/pki")],
                    ["{name: pki, secret: {secretName: apiserver-pki}}"]))


def toolforge_puppet():
    """The 2019-09-10 Toolforge outage in Puppet form: the etcd hosts get
    their CA and certificate through the common level, the API server host
    gets the CA it trusts for etcd through its role level, and the two keys
    name different Puppet CA files."""
    base = "incidents/2019-09-10-toolforge-puppet"
    shutil.rmtree(os.path.join(HERE, base), ignore_errors=True)
    old = ca("Puppet CA: labs-puppetmaster.wikimedia.org")
    new = ca("Puppet CA: puppetmaster.cloudinfra.wmflabs.org")
    etcd = leaf(old, "tools-k8s-etcd-1.tools.eqiad.wmflabs", ["tools-k8s-etcd-1.tools.eqiad.wmflabs"])
    write(f"{base}/modules/profile/files/ssl/labs-puppetmaster-ca.pem", pem(old[1]))
    write(f"{base}/modules/profile/files/ssl/cloudinfra-puppetmaster-ca.pem", pem(new[1]))
    write(f"{base}/modules/profile/files/ssl/tools-k8s-etcd-1.crt", pem(etcd[1]))
    write(f"{base}/hiera.yaml", """version: 5
defaults:
  datadir: hieradata
  data_hash: yaml_data
hierarchy:
  - name: "Per host"
    path: "hosts/%{trusted.certname}.yaml"
  - name: "Per role"
    path: "role/%{::_role}.yaml"
  - name: "Common"
    path: "common.yaml"
""")
    write(f"{base}/hieradata/common.yaml", """# Every host trusts the project puppetmaster's CA.
profile::base::puppet::ca: puppet:///modules/profile/ssl/labs-puppetmaster-ca.pem
profile::etcd::ca_file: "%{lookup('profile::base::puppet::ca')}"
profile::etcd::cert_file: puppet:///modules/profile/ssl/tools-k8s-etcd-1.crt
profile::kubernetes::master::etcd_ca: "%{lookup('profile::base::puppet::ca')}"
""")
    write(f"{base}/hieradata/role/kubernetes/master.yaml", """# Moved to the new cloudinfra puppetmaster (2019-09-09).
profile::kubernetes::master::etcd_ca: puppet:///modules/profile/ssl/cloudinfra-puppetmaster-ca.pem
""")
    write(f"{base}/.certdrift.yaml", """hiera:
  config: hiera.yaml
  nodes:
    tools-k8s-etcd-1: {trusted.certname: tools-k8s-etcd-1.tools.eqiad.wmflabs, _role: etcd}
    tools-k8s-master-1: {trusted.certname: tools-k8s-master-1.tools.eqiad.wmflabs, _role: kubernetes/master}
components:
  - name: etcd
    node: tools-k8s-etcd-1
    serves: {static: {hiera: profile::etcd::cert_file}}
    trusts: [{clients: true, hiera: profile::etcd::ca_file}]
  - name: kube-apiserver
    node: tools-k8s-master-1
    trusts: [{peer: etcd, hiera: profile::kubernetes::master::etcd_ca}]
groups:
  - {name: toolforge-etcd-ca, same: ca, members: [etcd, kube-apiserver]}
""")


def diff_rule_fixtures():
    """The diff rules' `testdata/<rule>/{pass,fail}/{base,head}` trees (and
    the policy a fixture brings): trust-change on the rotation's hard swap,
    source-change on a values layer that flips a component to cert-manager,
    gate-change on a change that lowers its own gate. Run after
    rotation_fixtures."""
    for rule in ("trust-change", "source-change", "gate-change"):
        shutil.rmtree(os.path.join(HERE, rule), ignore_errors=True)
    rot = lambda state: open(os.path.join(HERE, f"rotation/{state}/control-plane.yaml")).read()
    for kind, base, head in (("fail", "1-overlap", "2-swap"), ("pass", "0-old", "0-old")):
        write(f"trust-change/{kind}/base/control-plane.yaml", rot(base))
        write(f"trust-change/{kind}/head/control-plane.yaml", rot(head))
    policy = """# One component whose certificate source a values layer decides.
components:
  - name: web
    values: [global.yaml, web/values.yaml]
    serves:
      cert-manager:
        when: tls.certmanager.enabled
        issuer: ClusterIssuer/internal
        names: ["web.apps.svc"]
      static: {values: tls.cert}
"""
    global_ = "tls:\n  certmanager:\n    enabled: %s\n"
    for kind, enabled, replicas in (("fail", "true", 2), ("pass", "false", 3)):
        write(f"source-change/{kind}/certdrift-policy.yaml", policy)
        write(f"source-change/{kind}/base/global.yaml", global_ % "false")
        write(f"source-change/{kind}/head/global.yaml", global_ % enabled)
        write(f"source-change/{kind}/base/web/values.yaml", "replicas: 2\n")
        write(f"source-change/{kind}/head/web/values.yaml", f"replicas: {replicas}\n")
    gate = "settings:\n  fail_on: warning\n"
    lowered = "# This change lowers its own gate: not obeyed in its own diff.\nsettings:\n  fail_on: never\nseverity:\n  private-key-in-repo: off\n"
    for kind in ("fail", "pass"):
        for side in ("base", "head"):
            write(f"gate-change/{kind}/{side}/control-plane.yaml", rot("0-old"))
            write(f"gate-change/{kind}/{side}/.certdrift.yaml",
                  lowered if (kind, side) == ("fail", "head") else gate)


def configmap(name_, ns, data):
    body = "\n".join(f"  {k}: |\n{ind(v, 4)}" for k, v in data.items())
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name_}\n  namespace: {ns}\ndata:\n{body}\n"


def tls_workload(name_, ns, secret_name):
    """A Deployment that serves the `tls.crt` of a mounted Secret, and its Service."""
    return (pod(name_, ns, ["/server", "--port=8443"], [("tls", "/tls")],
                [f"{{name: tls, secret: {{secretName: {secret_name}}}}}"], kind="Deployment")
            + service(name_, ns, name_))


def shape_fixtures():
    """testdata/shapes/<shape>/{fail,pass}: one fault per shape of docs/shapes.md
    (tests/shapes.rs). Every `fail` tree holds one wrong certificate or CA;
    its `pass` twin is wired correctly."""
    shutil.rmtree(os.path.join(HERE, "shapes"), ignore_errors=True)
    root, other = ca("Shapes Root CA"), ca("Unrelated CA")

    # Ingress: tls[].hosts (and the rule hosts under a wildcard entry) vs the Secret.
    for kind, sans in (("fail", ["www.example.com"]), ("pass", ["shop.example.com", "*.shop.example.com"])):
        write(f"shapes/ingress/{kind}/shop.yaml",
              secret("shop-tls", "shop", {"tls.crt": b64(pem(leaf(root, sans[0], sans)[1]))})
              + """---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
spec:
  tls:
  - hosts: [shop.example.com, "*.shop.example.com"]
    secretName: shop-tls
  rules:
  - host: shop.example.com
  - host: api.shop.example.com
""")

    # Gateway API: a wildcard listener's hostname is checked as a wildcard.
    for kind, sans in (("fail", ["www.example.com"]), ("pass", ["*.example.com"])):
        write(f"shapes/gateway-api/{kind}/gateway.yaml",
              secret("wildcard-tls", "infra", {"tls.crt": b64(pem(leaf(root, sans[0], sans)[1]))})
              + """---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: infra
spec:
  gatewayClassName: example
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    hostname: "*.example.com"
    tls:
      mode: Terminate
      certificateRefs:
      - kind: Secret
        name: wildcard-tls
""")

    # BackendTLSPolicy: the CA in caCertificateRefs must have issued the backend's certificate.
    backend = leaf(root, "backend.example.com", ["backend.example.com"])
    for kind, trusted in (("fail", other), ("pass", root)):
        write(f"shapes/backend-tls-policy/{kind}/backend.yaml",
              secret("backend-tls", "apps", {"tls.crt": b64(pem(backend[1]))})
              + tls_workload("backend", "apps", "backend-tls")
              + configmap("backend-ca", "apps", {"ca.crt": pem(trusted[1])})
              + """---
apiVersion: gateway.networking.k8s.io/v1alpha3
kind: BackendTLSPolicy
metadata:
  name: backend-tls
  namespace: apps
spec:
  targetRefs:
  - group: ""
    kind: Service
    name: backend
  validation:
    hostname: backend.example.com
    caCertificateRefs:
    - group: ""
      kind: ConfigMap
      name: backend-ca
""")

    # Istio Gateway: credentialName in the gateway's namespace, hosts as ns/host.
    for kind, sans in (("fail", ["www.example.com"]), ("pass", ["bookinfo.example.com"])):
        write(f"shapes/istio-gateway/{kind}/gateway.yaml",
              secret("bookinfo-credential", "istio-system",
                     {"tls.crt": b64(pem(leaf(root, sans[0], sans)[1])), "ca.crt": b64(pem(root[1]))})
              + """---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo
  namespace: bookinfo
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls:
      mode: MUTUAL
      credentialName: bookinfo-credential
    hosts: ["bookinfo/bookinfo.example.com"]
""")

    # DestinationRule: the credentialName's CA verifies the backend named by host.
    payments = leaf(root, "payments.pay.svc.cluster.local", ["payments.pay.svc.cluster.local"])
    for kind, trusted in (("fail", other), ("pass", root)):
        write(f"shapes/destination-rule/{kind}/payments.yaml",
              secret("payments-tls", "pay", {"tls.crt": b64(pem(payments[1]))})
              + tls_workload("payments", "pay", "payments-tls")
              + opaque("payments-ca", "pay", {"ca.crt": pem(trusted[1])})
              + """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: payments
  namespace: pay
spec:
  host: payments.pay.svc.cluster.local
  trafficPolicy:
    tls:
      mode: SIMPLE
      credentialName: payments-ca
""")

    # Istio's plug-in CA: ca-cert.pem (and cert-chain.pem) must chain to root-cert.pem.
    mesh_root = ca("Mesh Root CA")
    for kind, parent in (("fail", other), ("pass", mesh_root)):
        inter = ca("Istio Intermediate CA cluster-1", parent=parent)
        write(f"shapes/istio-cacerts/{kind}/cacerts.yaml",
              opaque("cacerts", "istio-system", {"ca-cert.pem": pem(inter[1]),
                                                 "cert-chain.pem": pem(inter[1]) + pem(parent[1]),
                                                 "root-cert.pem": pem(mesh_root[1])}))

    # ... and cert-chain.pem must start with ca-cert.pem, the CA that signs.
    inter = ca("Istio Intermediate CA cluster-2", parent=mesh_root)
    for kind, chain in (("fail", [mesh_root, inter]), ("pass", [inter, mesh_root])):
        write(f"shapes/istio-cacerts-order/{kind}/cacerts.yaml",
              opaque("cacerts", "istio-system", {"ca-cert.pem": pem(inter[1]),
                                                 "cert-chain.pem": "".join(pem(c[1]) for c in chain),
                                                 "root-cert.pem": pem(mesh_root[1])}))

    # Linkerd: the identity issuer must be signed by a trust anchor proxies get.
    anchor = ca("root.linkerd.cluster.local")
    for kind, parent in (("fail", other), ("pass", anchor)):
        issuer = ca("identity.linkerd.cluster.local", parent=parent)
        write(f"shapes/linkerd/{kind}/identity.yaml",
              configmap("linkerd-identity-trust-roots", "linkerd", {"ca-bundle.crt": pem(anchor[1])})
              + secret("linkerd-identity-issuer", "linkerd", {"tls.crt": b64(pem(issuer[1])),
                                                               "ca.crt": b64(pem(anchor[1]))}))

    # Linkerd's Helm values: identity.issuer.tls.crtPEM against identityTrustAnchorsPEM.
    for kind, parent in (("fail", other), ("pass", anchor)):
        issuer = ca("identity.linkerd.cluster.local", parent=parent)
        write(f"shapes/linkerd-values/{kind}/values.yaml",
              f"identityTrustAnchorsPEM: |\n{ind(pem(anchor[1]), 2)}\nidentity:\n  issuer:\n    tls:\n"
              f"      crtPEM: |\n{ind(pem(issuer[1]), 8)}\n")

    # cert-manager CA injection: the webhook trusts the CA of the named
    # Certificate's issuer; the Service behind it must serve a certificate it issued.
    hooks_ca = ca("Webhooks CA")
    for kind, issuer in (("fail", other), ("pass", hooks_ca)):
        serving = leaf(issuer, "hook.apps.svc", ["hook.apps.svc"])
        write(f"shapes/ca-injection/{kind}/webhook.yaml",
              secret("hooks-ca", "apps", {"tls.crt": b64(pem(hooks_ca[1])), "ca.crt": b64(pem(hooks_ca[1]))})
              + secret("hook-tls", "apps", {"tls.crt": b64(pem(serving[1]))})
              + tls_workload("hook", "apps", "hook-tls")
              + """---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: hooks-ca
  namespace: apps
spec:
  ca:
    secretName: hooks-ca
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: hook-serving
  namespace: apps
spec:
  secretName: hook-serving-tls
  dnsNames: [hook.apps.svc]
  issuerRef: {name: hooks-ca, kind: Issuer}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: hook
  annotations:
    cert-manager.io/inject-ca-from: apps/hook-serving
webhooks:
- name: hook.example.org
  clientConfig:
    service: {name: hook, namespace: apps}
""")

    # inject-ca-from-secret: the named Secret's ca.crt (the pass tree only, so
    # that the fail tree keeps one fault).
    write("shapes/ca-injection/pass/mutating.yaml", """apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: hook-mutating
  annotations:
    cert-manager.io/inject-ca-from-secret: apps/hooks-ca
webhooks:
- name: mutate.hook.example.org
  clientConfig:
    service: {name: hook, namespace: apps}
""")

    # Only `apiVersion: v1` + `kind: Config` with clusters/users/contexts is a
    # kubeconfig; Skaffold's `kind: Config` is not.
    cluster_ca = ca("Cluster CA")
    api = leaf(cluster_ca, "api.example.com", ["api.example.com"])
    skaffold = """apiVersion: skaffold/v4beta11
kind: Config
metadata:
  name: app
build:
  artifacts:
  - image: app
deploy:
  kubectl: {}
"""
    for kind, trusted in (("fail", other), ("pass", cluster_ca)):
        write(f"shapes/kubeconfig/{kind}/skaffold.yaml", skaffold)
        write(f"shapes/kubeconfig/{kind}/admin.conf", f"""apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://api.example.com:6443
    certificate-authority-data: {b64(pem(trusted[1]))}
contexts:
- name: prod
  context: {{cluster: prod, user: admin}}
current-context: prod
users: []
""")
        write(f"shapes/kubeconfig/{kind}/apiserver.yaml",
              secret("apiserver-tls", "kube-system", {"tls.crt": b64(pem(api[1]))})
              + pod("kube-apiserver", "kube-system", ["kube-apiserver", "--tls-cert-file=/pki/tls.crt"],
                    [("pki", "/pki")], ["{name: pki, secret: {secretName: apiserver-tls}}"]))


def strict_profile_fixtures():
    """strict-profile: a Python reporting job trusts the internal CA for the api Service. In
    fail the CA has no keyUsage (as `openssl req -x509` makes it): Go accepts the chain,
    Python 3.13 and `openssl verify -x509_strict` do not. In pass the CA has keyUsage."""
    policy = """roles:
  reports:
    match: [reports]
    flags:
      --api-cafile: {trust-server: api}
  api:
    match: [api]
    flags:
      --tls-cert-file: {serve: api}
"""
    for case in ("fail", "pass"):
        root = ca("Internal CA", key_usage=case == "pass")
        api = leaf(root, "api.apps.svc", ["api.apps.svc"])
        write(f"strict-profile/{case}/certdrift-policy.yaml", policy)
        write(f"strict-profile/{case}/ca/internal-ca.pem", pem(root[1]))
        write(f"strict-profile/{case}/apps.yaml",
              opaque("api-tls", "apps", {"tls.crt": pem(api[1])})
              + pod("api", "apps", ["/api", "--tls-cert-file=/tls/tls.crt"], [("tls", "/tls")],
                    ["{name: tls, secret: {secretName: api-tls}}"], kind="Deployment")
              + service("api", "apps", "api")
              + opaque("internal-ca", "apps", {"ca.crt": pem(root[1])})
              + pod("reports", "apps", ["python3", "-m", "reports", "--api-cafile=/ca/ca.crt"], [("ca", "/ca")],
                    ["{name: ca, secret: {secretName: internal-ca}}"], kind="Deployment"))


if __name__ == "__main__":
    sections = sys.argv[1:] or ["rule_fixtures", "suppression_fixtures", "crl_fixtures",
                                "placeholder_fixtures", "trust_fixtures", "rotation_fixtures",
                                "diff_rule_fixtures", "toolforge_puppet", "shape_fixtures", "strict_profile_fixtures",
                                "demo"]
    for section in sections:
        globals()[section]()
