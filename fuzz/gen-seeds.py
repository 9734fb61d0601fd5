#!/usr/bin/env python3
"""Writes raw seed inputs for the certdrift fuzz targets into OUT/<target>/.

The committed corpus (fuzz/corpus/<target>/) is these seeds minimised with
`cargo fuzz cmin`; see fuzz/README.md. Sources: testdata/, the Wikimedia
corpus (../shared/corpus/wikimedia), a tiny gen-corpus.py repository, and
x509-parser-style certificate edge cases built here with a small DER encoder
(v1/v2 certificates, negative/zero/long serials, huge and duplicate
extensions, odd name string types, odd SANs, extreme dates, unusual keys).
Keys are throwaway; a PEM private key in a seed is fine (fuzz/ only).

    python3 fuzz/gen-seeds.py OUT [--shared ../shared]
"""
import base64, datetime as dt, hashlib, os, subprocess, sys, tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = sys.argv[1]
SHARED = sys.argv[sys.argv.index("--shared") + 1] if "--shared" in sys.argv else os.path.join(REPO, "..", "shared")
SEP = "%%% "


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- a tiny DER encoder --------------------------------------------------------------------
def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def seq(*xs): return tlv(0x30, b"".join(xs))
def set_(*xs): return tlv(0x31, b"".join(xs))
def integer(raw): return tlv(0x02, raw)
def octets(b): return tlv(0x04, b)
def bitstr(b): return tlv(0x03, b"\x00" + b)
def ctx(n, body, constructed=True): return tlv((0xA0 if constructed else 0x80) | n, body)


def oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([parts[0] * 40 + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(enc))
    return tlv(0x06, bytes(out))


def utctime(t): return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())
def gentime(t): return tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


def rdn(attr_oid, tag, value):
    return set_(seq(oid(attr_oid), tlv(tag, value)))


CN, O = "2.5.4.3", "2.5.4.10"


def name(cn, org=b"certdrift fuzz"):
    return seq(rdn(O, 0x0C, org), rdn(CN, 0x0C, cn.encode() if isinstance(cn, str) else cn))


def ext(oid_s, value, critical=False):
    return seq(oid(oid_s), *( [tlv(0x01, b"\xff")] if critical else []), octets(value))


def bc(ca, pathlen=None):
    body = (tlv(0x01, b"\xff") if ca else b"") + (integer(pathlen) if pathlen is not None else b"")
    return ext("2.5.29.19", seq(body) if body else seq(), True)


def ski(k): return ext("2.5.29.14", octets(k))
def aki(k): return ext("2.5.29.35", seq(ctx(0, k, False)))
def san(*gns): return ext("2.5.29.17", seq(*gns))
def dns(s): return ctx(2, s.encode(), False)
def ipaddr(b): return ctx(7, b, False)
def uri(s): return ctx(6, s.encode(), False)
def email(s): return ctx(1, s.encode(), False)


ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
T1 = dt.datetime(2035, 1, 1, tzinfo=dt.timezone.utc)
CA_KEY = ec.generate_private_key(ec.SECP256R1())


def spki(key): return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert(version=2, serial=b"\x01\x02", issuer=None, subject=None, nb=None, na=None,
         key=None, exts=None, sigalg=ECDSA_SHA256, signer=None, raw_validity=None):
    issuer = issuer if issuer is not None else name("fuzz CA")
    subject = subject if subject is not None else name("leaf.example.org")
    key = key or ec.generate_private_key(ec.SECP256R1())
    validity = raw_validity or seq(utctime(nb or T0) if (nb or T0).year < 2050 else gentime(nb or T0),
                                   utctime(na or T1) if (na or T1).year < 2050 else gentime(na or T1))
    parts = []
    if version is not None:
        parts.append(ctx(0, integer(bytes([version]))))
    parts += [integer(serial), sigalg, issuer, validity, subject, spki(key)]
    if exts is not None:
        parts.append(ctx(3, seq(*exts)))
    tbs = seq(*parts)
    sig = (signer or CA_KEY).sign(tbs, ec.ECDSA(hashes.SHA256()))
    return seq(tbs, sigalg, bitstr(sig))


def pem(der, label="CERTIFICATE"):
    b = base64.b64encode(der).decode()
    return f"-----BEGIN {label}-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64)) + f"\n-----END {label}-----\n"


ca_ski = hashlib.sha1(spki(CA_KEY)).digest()
ca_der = cert(serial=b"\x01", subject=name("fuzz CA"), key=CA_KEY, exts=[bc(True, b"\x01"), ski(ca_ski)])
std_exts = lambda: [bc(False), aki(ca_ski), san(dns("leaf.example.org"))]
edge = {
    "v1": cert(version=None, exts=None),
    "v2": cert(version=1, exts=None),
    "v4-bogus-version": cert(version=7, exts=std_exts()),
    "serial-negative": cert(serial=b"\xff\x7f\x01", exts=std_exts()),
    "serial-zero": cert(serial=b"\x00", exts=std_exts()),
    "serial-long": cert(serial=b"\x7f" + bytes(range(1, 40)), exts=std_exts()),
    "serial-empty": cert(serial=b"", exts=std_exts()),
    "huge-extension": cert(exts=std_exts() + [ext("1.3.6.1.4.1.99999.1", os.urandom(40000), True)]),
    "duplicate-extensions": cert(exts=[bc(True), bc(False), san(dns("a.example")), san(dns("b.example")), ski(b"\x01"), ski(b"\x02")]),
    "empty-extensions": cert(exts=[]),
    "many-sans": cert(exts=[san(*[dns(f"h{i}.example.org") for i in range(600)])]),
    "odd-sans": cert(exts=[san(ipaddr(b"\xc0\x00\x02"), ipaddr(bytes(16)), ipaddr(b"\x0a\x00\x00\x01\xff\xff\xff\x00"),
                               uri("spiffe://x/y"), email("a@b"), dns("*.example.org"), dns(""), dns("bad\x00name"),
                               ctx(0, seq(oid("1.2.3.4"), ctx(0, tlv(0x0C, b"x")))), ctx(4, name("dir")),
                               ctx(8, oid("1.2.3"), False), ctx(3, b"", True), ctx(5, b"", True))]),
    "name-string-types": cert(subject=seq(
        rdn(CN, 0x1E, "ü\u009b[31m".encode("utf-16-be")), rdn(CN, 0x1C, "€".encode("utf-32-be")),
        rdn(O, 0x14, b"\xe9\xff\x1b"), rdn("2.5.4.6", 0x13, b"US"), rdn("1.2.840.113549.1.9.1", 0x16, b"a@b"),
        set_(seq(oid(CN), tlv(0x0C, b"a")), seq(oid(O), tlv(0x0C, b" #,+\"\\<>;\x00 "))),
        rdn("1.2.3.4.5", 0x04, b"\x00\x01"), rdn(CN, 0x0C, b"\xff\xfe not utf8")), exts=std_exts()),
    "empty-names": cert(issuer=seq(), subject=seq(), exts=std_exts()),
    "dates-generalized-9999": cert(nb=dt.datetime(1949, 1, 1, tzinfo=dt.timezone.utc),
                                    na=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc), exts=std_exts()),
    "dates-inverted": cert(nb=T1, na=T0, exts=std_exts()),
    "dates-utc-1950": cert(raw_validity=seq(tlv(0x17, b"500101000000Z"), tlv(0x17, b"491231235959Z")), exts=std_exts()),
    "dates-bad": cert(raw_validity=seq(tlv(0x17, b"991399999999Z"), tlv(0x18, b"20250230000000+0100")), exts=std_exts()),
    "pathlen-huge": cert(exts=[bc(True, b"\x7f\xff\xff\xff\xff\xff\xff\xff"), ski(b"")]),
    "aki-no-keyid": cert(exts=[ext("2.5.29.35", seq(ctx(2, b"\x01", False)))]),
    "unknown-critical": cert(exts=std_exts() + [ext("1.2.3.4.5.6", b"\x05\x00", True)]),
    "eku-any": cert(exts=std_exts() + [ext("2.5.29.37", seq(oid("2.5.29.37.0"), oid("1.3.6.1.5.5.7.3.1")))]),
    "bad-ext-contents": cert(exts=[ext("2.5.29.19", b"\x30\x03\x01\x01"), ext("2.5.29.17", b"\xff"), ext("2.5.29.35", b"")]),
    "unknown-sigalg": cert(sigalg=seq(oid("1.2.3.4.5.6.7"), tlv(0x05, b"")), exts=std_exts()),
    "rsa-pss-params": cert(sigalg=seq(oid("1.2.840.113549.1.1.10"), seq(ctx(0, seq(oid("2.16.840.1.101.3.4.2.3"))), ctx(2, integer(b"\x40")))), exts=std_exts()),
    "rsa-1024-key": cert(key=rsa.generate_private_key(65537, 1024), exts=std_exts()),
    "ed25519-key": cert(key=ed25519.Ed25519PrivateKey.generate(), exts=std_exts()),
    "p521-key": cert(key=ec.generate_private_key(ec.SECP521R1()), exts=std_exts()),
    "secp256k1-key": cert(key=ec.generate_private_key(ec.SECP256K1()), exts=std_exts()),
    "dsa-key": cert(key=dsa.generate_private_key(1024), exts=std_exts()),
    "ca-self-signed": ca_der,
}
edge["trailing-garbage"] = edge["v1"] + b"\x00\x01garbage"
edge["truncated"] = ca_der[:-7]
edge["indefinite-length"] = b"\x30\x80" + ca_der[2:] + b"\x00\x00"

for k, v in edge.items():
    put("x509", k + ".der", v)
    put("chain", k + ".der", b"\x00\xff\x00\x00\x00" + v + ca_der)

# A valid three-certificate chain (leaf, intermediate, root) with real signatures.
INT_KEY = ec.generate_private_key(ec.SECP256R1())
int_ski = hashlib.sha1(spki(INT_KEY)).digest()
int_der = cert(serial=b"\x02", subject=name("fuzz intermediate"), key=INT_KEY, exts=[bc(True, b"\x00"), ski(int_ski), aki(ca_ski)])
leaf_der = cert(serial=b"\x03", issuer=name("fuzz intermediate"), signer=INT_KEY,
                exts=[bc(False), aki(int_ski), san(dns("leaf.example.org"), ipaddr(b"\xc0\x00\x02\x01"))])
for mode in range(8):
    put("chain", f"chain-der-{mode}", bytes([mode, 0x04, 0, 0, 0]) + leaf_der + int_der + ca_der)
put("chain", "chain-pem", b"\x06\x04\x00\x00\x00" + (pem(leaf_der) + pem(int_der) + pem(ca_der)).encode())
put("chain", "chain-pem-expired", b"\x00\x04\x00\xff\x01" + (pem(leaf_der) + pem(int_der) + pem(ca_der)).encode())

# --- files from testdata/ and the Wikimedia corpus -----------------------------------------
def walk(root):
    for d, _, fs in os.walk(root):
        for f in sorted(fs):
            yield os.path.join(d, f)


sources = list(walk(os.path.join(REPO, "testdata"))) + list(walk(os.path.join(SHARED, "corpus", "wikimedia")))
pem_files = [p for p in sources if p.endswith((".pem", ".crt", ".key"))]
yaml_files = [p for p in sources if p.endswith((".yaml", ".yml", ".json"))]


def read(p):
    with open(p, "rb") as f:
        return f.read()


def short(p): return hashlib.sha1(p.encode()).hexdigest()[:10] + "-" + os.path.basename(p)


for p in pem_files:
    data = read(p)
    put("pem", short(p), data)
    put("kube", short(p), b"\x01" + data)
    put("chain", short(p), b"\x02\x03\x00\x00\x00" + data)
    for i, item in enumerate(data.split(b"-----BEGIN CERTIFICATE-----")[1:3]):
        body = item.split(b"-----END")[0]
        try:
            der = base64.b64decode(b"".join(body.split()))
            put("x509", short(p) + f".{i}.der", der)
            put("kube", short(p) + f".{i}.der", b"\x02" + der)
        except Exception:
            pass
for p in yaml_files:
    data = read(p)
    if len(data) > 200_000:
        continue
    put("yaml", short(p), data)
    put("kube", short(p), b"\x00" + data)
    if b"BEGIN" in data:
        put("pem", short(p), data)
    if "hieradata" in p or "hiera" in p:
        put("hiera", short(p), data)

# PEM framing edge cases (the pem.rs unit tests' shapes).
key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode()
cp = pem(ca_der)
for n, t in {
    "key-and-cert": key + cp,
    "folded": "ca: " + cp.replace("\n", " ") + "\n",
    "six-dashes": cp.replace("-----BEGIN", "------BEGIN", 1) + cp,
    "glued": cp.rstrip() + cp,
    "headers": "-----BEGIN RSA PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n\nTUlJ\n-----END RSA PUBLIC KEY-----\n",
    "pgp": "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nTUlJ\n=AbCd\n-----END PGP PUBLIC KEY BLOCK-----\n",
    "crlf-indented": "\r\n".join("    " + l for l in cp.splitlines()),
    "mismatch": cp.replace("END CERTIFICATE", "END X509 CRL"),
    "truncated": "x\n" + cp[:-40],
}.items():
    put("pem", "edge-" + n, t)
    put("kube", "edge-" + n, b"\x03" + t.encode())

# Kubernetes objects with base64 in Secret/ConfigMap/caBundle.
b64 = lambda s: base64.b64encode(s.encode() if isinstance(s, str) else s).decode()
cp_escaped = cp.replace("\n", "\\n")
cp_indented = "".join("    " + l + "\n" for l in cp.splitlines())
cp_indented2 = "".join("  " + l + "\n" for l in cp.splitlines())
kube = f"""apiVersion: v1
kind: Secret
metadata: {{name: etcd-certs, namespace: kube-system}}
type: kubernetes.io/tls
data:
  tls.crt: {b64(pem(leaf_der) + pem(int_der))}
  tls.key: {b64(key)}
  ca.crt: {b64(cp)}
stringData:
  extra.pem: |
{cp_indented}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: bundle}}
data: {{ca-bundle.crt: "{cp_escaped}"}}
binaryData: {{ca.der: {b64(ca_der)}, bad: "!!notbase64"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: hook}}
webhooks:
- name: a.example.org
  clientConfig:
    caBundle: {b64(cp)}
    service: {{name: svc, namespace: ns}}
---
apiVersion: v1
kind: Config
clusters:
- cluster: {{certificate-authority-data: {b64(cp)}, server: "https://k"}}
  name: k
users:
- name: u
  user: {{client-certificate-data: {b64(pem(leaf_der))}, client-key-data: {b64(key)}}}
"""
put("kube", "k8s-objects.yaml", b"\x00" + kube.encode())
put("yaml", "k8s-objects.yaml", kube)
put("yaml", "anchors-merge.yaml", "a: &a {x: 1, y: [1, 2]}\nb:\n  <<: *a\n  z: *a\nc: &c [*a, *a]\n---\n? [a, b]\n: !!binary aGk=\n...\n")

# Hiera trees: hiera.yaml plus data files with interpolation.
hiera_cfg = """version: 5
defaults: {datadir: data, data_hash: yaml_data}
hierarchy:
  - name: node
    path: "nodes/%{trusted.certname}.yaml"
  - name: site
    path: "%{::site}.yaml"
  - name: common
    paths: [common.yaml, extra.yaml]
  - name: expand
    path: common
    lookup_key: wmflib::expand_path
"""
put("hiera", "tree-interpolation", f"""{SEP}hiera.yaml
{hiera_cfg}{SEP}data/common.yaml
lookup_options:
  merged: {{merge: deep}}
  "^prof.*": {{merge: {{strategy: deep, knockout_prefix: "--", merge_hash_arrays: true}}}}
a: "%{{lookup('b')}}-%{{hiera('c')}}"
b: "%{{alias('c')}}"
c: [1, 2, "%{{facts.networking.fqdn}}", "%{{::environment}}"]
loop: "%{{lookup('loop')}}"
merged: {{x: 1, l: [1]}}
lit: "%{{literal('%')}}{{x}} %{{scope('site')}} %{{trusted.certname}}"
ca: "%{{lookup('profile::ca')}}"
{SEP}data/nodes/host1.example.org.yaml
merged: {{y: 2, l: [2]}}
profile::ca: |
{cp_indented2}{SEP}data/common/profile.yaml
profile::ca: "%{{alias('a')}}"
""")
put("hiera", "tree-default-config", "a: \"%{lookup('b')}\"\nb: \"%{lookup('a')}\"\nc: \"%{alias('d')}\"\nd: {e: [\"%{lookup('c')}\"]}\n")

# A tiny gen-corpus.py repository: a few files for yaml/kube/diff seeds.
gen = os.path.join(SHARED, "tools", "gen-corpus.py")
if os.path.exists(gen):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, gen, "--out", tmp, "--clusters", "1", "--releases", "1",
                        "--filler-mb", "0", "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
        gfiles = sorted(p for p in walk(tmp) if os.path.getsize(p) < 100_000)
        for p in gfiles[:40]:
            data = read(p)
            rel = os.path.relpath(p, tmp)
            tag = "gen-" + rel.replace("/", "_")
            if p.endswith((".yaml", ".yml")):
                put("yaml", tag, data)
                put("kube", tag, b"\x00" + data)
            elif p.endswith((".pem", ".crt")):
                put("pem", tag, data)
        tree = "".join(f"{SEP}{os.path.relpath(p, tmp)}\n" + read(p).decode("utf-8", "replace")
                       for p in gfiles[:8] if os.path.getsize(p) < 20_000)
        put("diff", "gen-corpus-identity", tree)


# Diff inputs: small fixture trees, BASE then HEAD.
def tree(root, limit=12):
    out = []
    for p in list(walk(root))[:limit]:
        if os.path.getsize(p) < 30_000:
            out.append(f"{SEP}{os.path.relpath(p, root)}\n" + read(p).decode("utf-8", "replace"))
    return "".join(out)


rot = os.path.join(REPO, "testdata", "rotation")
if os.path.isdir(rot):
    states = sorted(os.listdir(rot))
    for a, b in zip(states, states[1:]):
        put("diff", f"rotation-{a}-{b}", tree(os.path.join(rot, a)) + "%%%% HEAD\n" + tree(os.path.join(rot, b)))
for rule in ["trust-mismatch", "san-coverage", "source-divergence", "ca-divergence", "private-key-in-repo"]:
    d = os.path.join(REPO, "testdata", rule)
    if os.path.isdir(d):
        put("diff", f"{rule}-pass-fail", tree(os.path.join(d, "pass")) + "%%%% HEAD\n" + tree(os.path.join(d, "fail")))
put("diff", "kube-webhook", f"{SEP}manifests/all.yaml\n{kube}{SEP}pki/ca.crt\n{cp}%%%% HEAD\n{SEP}manifests/all.yaml\n{kube.replace(b64(cp), b64(pem(int_der)))}")
