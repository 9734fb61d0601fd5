//! `weak-crypto`: small keys and broken signature hashes.

use super::{declare_rule, describe_cert, Context};
use crate::finding::{Finding, Severity};
use crate::x509::{self, CertInfo, HashAlg, KeyKind};

declare_rule! {
    /// What it detects: RSA or DSA keys under 2048 bits, EC keys under 256
    /// bits, and signatures made with SHA-1, MD5 or MD2 — except on
    /// self-signed roots, whose own signature nobody relies on. RSA under
    /// 1024 bits and MD5/MD2 signatures are errors; the rest are warnings.
    ///
    /// Why it matters: such keys can be factored or such signatures forged
    /// with public tooling, and current TLS stacks refuse them (Go since 1.18
    /// for SHA-1, OpenSSL at security level 2 for RSA-1024), so a rebuilt
    /// client can stop talking to the component overnight.
    ///
    /// Example: `ssl/legacy.crt` is signed with `sha1WithRSAEncryption` by an
    /// intermediate; the same file's RSA-1024 key is reported too.
    pub static RULE = {
        id: "weak-crypto",
        severity: Severity::Warning,
        summary: "an RSA/DSA key under 2048 bits, EC under 256, or a SHA-1/MD5 signature",
        scan: check,
    };
}

/// The weaknesses of one certificate, most severe first.
fn weaknesses(c: &CertInfo) -> Vec<(Severity, String)> {
    let mut out = Vec::new();
    let bits = c.key.bits.unwrap_or(0);
    match c.key.kind {
        KeyKind::Rsa | KeyKind::Dsa if bits > 0 && bits < 2048 => {
            let sev = if bits < 1024 {
                Severity::Error
            } else {
                Severity::Warning
            };
            out.push((
                sev,
                format!(
                    "{} key of {bits} bits (minimum 2048)",
                    if c.key.kind == KeyKind::Rsa {
                        "RSA"
                    } else {
                        "DSA"
                    }
                ),
            ));
        }
        KeyKind::Ec if bits > 0 && bits < 256 => {
            out.push((
                Severity::Warning,
                format!("EC key of {bits} bits (minimum 256)"),
            ));
        }
        _ => {}
    }
    if let Some(h) = c.signature_hash {
        let weak = match h {
            HashAlg::Md2 | HashAlg::Md5 => Some(Severity::Error),
            HashAlg::Sha1 => Some(Severity::Warning),
            _ => None,
        };
        if let Some(sev) = weak {
            if !(c.self_issued && x509::is_self_signed(c)) {
                out.push((sev, format!("signature algorithm {}", c.signature)));
            }
        }
    }
    out
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for entry in ctx.inventory.certs.values() {
        let weak = weaknesses(&entry.info);
        if weak.is_empty() || entry.refs.is_empty() {
            continue;
        }
        let severity = weak.iter().map(|w| w.0).max().unwrap_or(RULE.severity);
        let what: Vec<&str> = weak.iter().map(|w| w.1.as_str()).collect();
        let places: Vec<_> = super::ordered(ctx, &entry.refs).collect();
        let message = format!(
            "certificate {} ({}) uses weak cryptography: {}",
            describe_cert(&entry.info),
            places[0].via,
            what.join("; ")
        );
        out.push(super::grouped(
            ctx,
            RULE.id,
            severity,
            &entry.info,
            &places,
            message,
        ));
    }
    out
}
