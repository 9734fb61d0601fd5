//! JSON: the versioned, stable machine contract (report version 1).
//!
//! `scan`: `{version, tool, findings[], summary, complete}` (and
//! `suppressed[]` with `--show-suppressed`);
//! `inventory` adds `certificates[]` (every x509 fact plus `references[]`)
//! , `private_keys[]` (location and type only) and `crls[]` (issuer, update
//! times, revoked count, location). Later versions may add
//! fields, never remove or retype them.

use super::{days_left, rfc3339, RenderOptions};
use crate::finding::Finding;
use crate::scan::ScanResult;
use crate::x509::San;
use serde_json::{json, Value};

/// The report format version.
pub const VERSION: u32 = 1;

fn tool() -> Value {
    json!({"name": "certdrift", "version": env!("CARGO_PKG_VERSION")})
}

fn finding(f: &Finding) -> Value {
    let mut v = json!({
        "rule": f.rule,
        "severity": f.severity,
        "message": f.message,
        "location": f.location,
        "related": f.related,
        "certificates": f.certificates.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "component": f.component,
        "peer": f.peer,
        "help": f.help,
    });
    // Only where it applies, so that reports without it keep their shape.
    if f.fixture {
        v["context"] = json!("test fixture");
    }
    if let Some([e, w, n]) = f.stands_for {
        v["stands_for"] = json!({"error": e, "warning": w, "note": n});
    }
    v
}

fn summary(r: &ScanResult) -> Value {
    let (e, w, n) = super::counts(&r.findings);
    let inv = &r.inventory;
    json!({
        "files_scanned": inv.files_scanned,
        "files_skipped": inv.skipped.len(),
        "skipped": inv.skipped.iter().map(|s| json!({"path": s.path, "reason": s.reason})).collect::<Vec<_>>(),
        "templates": inv.templates,
        "certificates": inv.sightings,
        "distinct_certificates": inv.distinct(),
        "private_keys": inv.keys.len(),
        "findings": {"error": e, "warning": w, "note": n},
        "suppressed": r.suppressed.len(),
        "suppressed_by": super::suppressed_counts(&r.suppressed)
            .iter()
            .map(|(by, n)| (by.as_str().to_owned(), json!(n)))
            .collect::<serde_json::Map<_, _>>(),
    })
}

fn finish(mut v: Value) -> String {
    complete_last(&mut v);
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// Moves `complete` to the end of a report, so that a report cut short
/// anywhere neither parses nor says `"complete": true`.
pub(crate) fn complete_last(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        if let Some(c) = m.shift_remove("complete") {
            m.insert("complete".into(), c);
        }
    }
}

/// The `scan` report of `list` (all of `r`'s findings, or a diff's new ones),
/// with `r`'s summary and the counts of `list`; with `--show-suppressed`,
/// `suppressed[]`: each suppressed finding with `by` and `reason`.
pub fn findings_report(r: &ScanResult, list: &[Finding], opts: RenderOptions) -> String {
    finish(findings_value(r, list, opts))
}

/// [`findings_report`] as a value, for reports that add to it.
fn findings_value(r: &ScanResult, list: &[Finding], opts: RenderOptions) -> Value {
    let mut s = summary(r);
    let (e, w, n) = super::counts(list);
    s["findings"] = json!({"error": e, "warning": w, "note": n});
    let mut report = json!({
        "version": VERSION,
        "tool": tool(),
        "findings": list.iter().map(finding).collect::<Vec<_>>(),
    });
    if opts.show_suppressed {
        report["suppressed"] = r
            .suppressed
            .iter()
            .map(|x| {
                json!({
                    "finding": finding(&x.finding),
                    "by": x.by,
                    "reason": x.reason,
                    "at": x.at,
                })
            })
            .collect();
    }
    report["summary"] = s;
    report["complete"] = json!(r.inventory.complete);
    report
}

/// The `probe` report: the `scan` report of the probe's findings, plus
/// `targets[]`: each target with where its address comes from, what
/// happened (`connected`, `protocol`, `error`), the served `chain[]` and
/// what the repository expects (`known`, `expected`, `trusted_by`); and
/// `summary.targets` / `summary.unreachable`.
pub fn probe(p: &crate::probe::ProbeResult, opts: RenderOptions) -> String {
    let r = &p.scan;
    let mut report = findings_value(r, &r.findings, opts);
    let targets: Vec<Value> = p
        .targets
        .iter()
        .map(|t| {
            let chain: Vec<Value> = t
                .chain
                .iter()
                .map(|c| match &c.info {
                    Some(i) => json!({
                        "fingerprint": c.fingerprint.to_string(),
                        "subject": i.subject,
                        "issuer": i.issuer,
                        "not_before": rfc3339(i.not_before),
                        "not_after": rfc3339(i.not_after),
                        "days_left": days_left(i.not_after, r.now),
                        "is_ca": i.is_ca,
                        "sans": i.sans.iter().map(san).collect::<Vec<_>>(),
                    }),
                    None => json!({
                        "fingerprint": c.fingerprint.to_string(),
                        "error": c.error,
                    }),
                })
                .collect();
            json!({
                "component": t.target.component,
                "address": t.target.address(),
                "dialled": t.dialled,
                "from": t.target.from,
                "origin": t.target.origin,
                "connected": t.fetched.peer.map(|a| a.to_string()),
                "protocol": t.fetched.protocol,
                "error": t.fetched.error,
                "chain": chain,
                "known": t.known,
                "expected": t.expected.as_ref().map(|f| f.to_string()),
                "trusted_by": t.trusted_by,
            })
        })
        .collect();
    report["targets"] = json!(targets);
    report["summary"]["targets"] = json!(p.targets.len());
    report["summary"]["unreachable"] =
        json!(p.targets.iter().filter(|t| t.chain.is_empty()).count());
    finish(report)
}

fn san(s: &San) -> Value {
    let (t, v) = match s {
        San::Dns(v) => ("dns", v),
        San::Ip(v) => ("ip", v),
        San::Uri(v) => ("uri", v),
        San::Email(v) => ("email", v),
        San::Other(v) => ("other", v),
    };
    json!({"type": t, "value": v})
}

/// The `inventory` report.
pub fn inventory(r: &ScanResult) -> String {
    let certs: Vec<Value> = r
        .inventory
        .certs
        .values()
        .map(|e| {
            let c = &e.info;
            json!({
                "fingerprint": c.fingerprint.to_string(),
                "subject": c.subject,
                "issuer": c.issuer,
                "subject_cn": c.subject_cn,
                "issuer_cn": c.issuer_cn,
                "serial": c.serial,
                "not_before": rfc3339(c.not_before),
                "not_after": rfc3339(c.not_after),
                "days_left": days_left(c.not_after, r.now),
                "is_ca": c.is_ca,
                "path_len": c.path_len,
                "self_signed": crate::x509::is_self_signed(c),
                "subject_key_id": c.ski.as_ref().map(hex::encode),
                "authority_key_id": c.aki.as_ref().map(hex::encode),
                "key": {"algorithm": c.key.to_string(), "bits": c.key.bits, "curve": c.key.curve},
                "signature_algorithm": c.signature,
                "sans": c.sans.iter().map(san).collect::<Vec<_>>(),
                "references": e.refs.iter().map(|rf| json!({
                    "path": rf.location.path,
                    "line": rf.location.line,
                    "column": rf.location.column,
                    "via": rf.via,
                    "trust_bundle": rf.trust,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let keys: Vec<Value> = r
        .inventory
        .keys
        .iter()
        .map(|k| json!({"location": k.location, "kind": k.kind, "via": k.via}))
        .collect();
    let crls: Vec<Value> = r
        .inventory
        .crls
        .iter()
        .map(|s| {
            let c = &s.crl;
            json!({
                "fingerprint": c.fingerprint.to_string(),
                "issuer": c.issuer,
                "issuer_cn": c.issuer_cn,
                "this_update": rfc3339(c.this_update),
                "next_update": c.next_update.map(rfc3339),
                "days_left": c.next_update.map(|t| days_left(t, r.now)),
                "revoked": c.revoked,
                "crl_number": c.number,
                "location": s.location,
                "via": s.via,
            })
        })
        .collect();
    finish(json!({
        "version": VERSION,
        "tool": tool(),
        "certificates": certs,
        "private_keys": keys,
        "crls": crls,
        "findings": r.findings.iter().map(finding).collect::<Vec<_>>(),
        "summary": summary(r),
        "complete": r.inventory.complete,
    }))
}
