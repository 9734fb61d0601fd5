//! The hot stages of a scan, one by one: the document prefilter, PEM
//! framing, the YAML reader, X.509 parsing and the issuer (signature) check.
//! Inputs are generated here (rcgen certificates, manifests shaped like a
//! monorepo's), so `cargo bench` needs nothing else.
//!
//! `scripts/bench.sh` measures the whole command against ripgrep.

use certdrift::extract::prefilter;
use certdrift::read::{pem, yaml};
use certdrift::x509;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

struct Pki {
    ca_der: Vec<u8>,
    leaf_der: Vec<u8>,
    bundle_pem: String,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "bench CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let mut bundle_pem = String::new();
    let mut leaf_der = Vec::new();
    for i in 0..50 {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec![format!("svc-{i}.apps.svc.cluster.local")]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        bundle_pem.push_str(&cert.pem());
        if i == 0 {
            leaf_der = cert.der().to_vec();
        }
    }
    Pki {
        ca_der: ca_cert.der().to_vec(),
        leaf_der,
        bundle_pem,
    }
}

/// A rendered manifest like the filler of a monorepo: Deployments with many
/// settings and their Services, nothing TLS.
fn plain_manifests(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{i}\n  labels: {{app.kubernetes.io/name: svc-{i}}}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example.org/svc-{i}:1.0.0\n        env:\n"
        ));
        for k in 0..40 {
            s.push_str(&format!(
                "        - {{name: SETTING_{k}, value: \"{:016x}\"}}\n",
                (i * 1000 + k) as u64 * 0x9e37_79b9
            ));
        }
    }
    s
}

/// A Secret holding the bundle, base64 as Kubernetes keeps it.
fn secret_manifest(bundle_pem: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bundle_pem);
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {b64}\n  ca.crt: {b64}\n")
}

fn benches(c: &mut Criterion) {
    let p = pki();
    let filler = plain_manifests(200);
    let secret = secret_manifest(&p.bundle_pem);

    let mut g = c.benchmark_group("prefilter");
    g.throughput(Throughput::Bytes(filler.len() as u64));
    g.bench_function("documents+may_hold_facts (plain manifests)", |b| {
        b.iter(|| {
            prefilter::documents(black_box(&filler))
                .into_iter()
                .filter(|r| prefilter::may_hold_facts(&filler.as_bytes()[r.clone()]))
                .count()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("pem");
    g.throughput(Throughput::Bytes(p.bundle_pem.len() as u64));
    g.bench_function("scan 50-certificate bundle", |b| {
        b.iter(|| pem::scan(black_box(p.bundle_pem.as_bytes())).len())
    });
    g.finish();

    let mut g = c.benchmark_group("yaml");
    g.throughput(Throughput::Bytes(filler.len() as u64));
    g.bench_function("parse plain manifests", |b| {
        b.iter(|| {
            yaml::parse(black_box(&filler), &yaml::Limits::default())
                .docs
                .len()
        })
    });
    g.throughput(Throughput::Bytes(secret.len() as u64));
    g.bench_function("parse Secret with base64 bundle", |b| {
        b.iter(|| {
            yaml::parse(black_box(&secret), &yaml::Limits::default())
                .docs
                .len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("x509");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse leaf", |b| {
        b.iter(|| x509::parse(black_box(&p.leaf_der)).is_ok())
    });
    let leaf = x509::parse(&p.leaf_der).unwrap();
    let ca = x509::parse(&p.ca_der).unwrap();
    g.bench_function("issued_by (ECDSA P-256 signature check)", |b| {
        b.iter_batched(
            || (),
            |()| black_box(x509::issued_by(&leaf, &ca)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(hot, benches);
criterion_main!(hot);
