#!/usr/bin/env python3
"""Generates the checked-in certificate fixtures under testdata/.

Every PEM, DER and key in testdata/demo and testdata/<rule-id>/ comes from
this script (python3 + the `cryptography` package). Dates are fixed relative
to the tests' pinned evaluation time, --now 2026-11-01T00:00:00Z; the demo
tree's faults (an expired certificate, a key, a broken bundle) hold whatever
the date. Keys are throwaway test keys. Re-run after changing it, then review
and accept the snapshot changes:

    python3 testdata/gen.py && cargo insta test --accept
"""
import base64, datetime as dt, os, shutil, textwrap

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
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


def ca(cn, not_before=NOW - dt.timedelta(days=400), not_after=FAR, key=None, parent=None):
    key = key or ec_key()
    issuer_name, issuer_key = (parent[1].subject, parent[0]) if parent else (name(cn), key)
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(serial())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if parent:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
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
    write("malformed/fail/broken.yaml", "a: [1, 2\nb: {\n")
    write("malformed/pass/puppet_ca.pem", pem(root[1]) + pem(inter[1]))


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


if __name__ == "__main__":
    rule_fixtures()
    demo()
