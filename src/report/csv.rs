//! CSV: the inventory as one row per certificate reference, then one per
//! CRL (RFC 4180 quoting). A CRL row fills the certificate columns that have
//! a meaning for it — issuer, `not_before`/`not_after` as thisUpdate/nextUpdate,
//! `serial` as its CRL number — and `revoked`; `kind` tells the rows apart.

use super::{days_left, rfc3339};
use crate::scan::ScanResult;
use crate::x509::San;

const HEADER: &[&str] = &[
    "fingerprint",
    "subject_cn",
    "issuer_cn",
    "subject",
    "issuer",
    "serial",
    "not_before",
    "not_after",
    "days_left",
    "is_ca",
    "key",
    "signature_algorithm",
    "sans",
    "path",
    "line",
    "column",
    "via",
    "trust_bundle",
    "kind",
    "revoked",
];

/// One cell: a formula-looking value neutralised and control characters
/// made visible ([`super::escape::csv`]), then quoted when it must be.
fn field(s: &str) -> String {
    let s = super::escape::csv(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn san(s: &San) -> String {
    match s {
        San::Dns(v) => format!("DNS:{v}"),
        San::Ip(v) => format!("IP:{v}"),
        San::Uri(v) => format!("URI:{v}"),
        San::Email(v) => format!("email:{v}"),
        San::Other(v) => format!("other:{v}"),
    }
}

/// The inventory as CSV.
pub fn inventory(r: &ScanResult) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for e in r.inventory.certs.values() {
        let c = &e.info;
        for rf in &e.refs {
            let row = [
                c.fingerprint.to_string(),
                c.subject_cn.clone().unwrap_or_default(),
                c.issuer_cn.clone().unwrap_or_default(),
                c.subject.clone(),
                c.issuer.clone(),
                c.serial.clone(),
                rfc3339(c.not_before),
                rfc3339(c.not_after),
                days_left(c.not_after, r.now).to_string(),
                c.is_ca.to_string(),
                c.key.to_string(),
                c.signature.clone(),
                c.sans.iter().map(san).collect::<Vec<_>>().join(";"),
                rf.location.path.clone(),
                rf.location.line.to_string(),
                rf.location.column.to_string(),
                rf.via.clone(),
                rf.trust.to_string(),
                "certificate".to_owned(),
                String::new(),
            ];
            push_row(&mut out, &row);
        }
    }
    for s in &r.inventory.crls {
        let c = &s.crl;
        let row = [
            c.fingerprint.to_string(),
            String::new(),
            c.issuer_cn.clone().unwrap_or_default(),
            String::new(),
            c.issuer.clone(),
            c.number.clone().unwrap_or_default(),
            rfc3339(c.this_update),
            c.next_update.map(rfc3339).unwrap_or_default(),
            c.next_update
                .map(|t| days_left(t, r.now).to_string())
                .unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            s.location.path.clone(),
            s.location.line.to_string(),
            s.location.column.to_string(),
            s.via.clone(),
            String::new(),
            "crl".to_owned(),
            c.revoked.to_string(),
        ];
        push_row(&mut out, &row);
    }
    out
}

fn push_row(out: &mut String, row: &[String]) {
    let cells: Vec<String> = row.iter().map(|s| field(s)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}
