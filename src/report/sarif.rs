//! SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
//!
//! One run: `tool.driver` lists every rule of [`RULES`] (explain text
//! included), `results[]` holds one result per finding. Written with
//! `serde_json`, as ruff does; the spec is
//! <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>.

use crate::finding::{Finding, Location, Severity};
use crate::rules::{self, RULES};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The schema the output declares (SARIF 2.1.0 with errata 01).
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key under `partialFingerprints`; bump the version if what is hashed changes.
const FINGERPRINT_KEY: &str = "certdrift/v1";

/// SARIF `level` (§3.27.10): its `error`, `warning` and `note` are
/// certdrift's severities, by the same names.
fn level(s: Severity) -> &'static str {
    s.as_str()
}

/// `trust-mismatch` → `TrustMismatch`: SARIF's `reportingDescriptor.name`
/// (§3.49.7) is meant to be a readable identifier, not the id again.
fn camel_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A finding's path as a relative URI reference (RFC 3986 §4.2): `/`-separated,
/// every byte outside the unreserved set percent-encoded (so a `:` in the first
/// segment cannot read as a scheme). SARIF wants relative URIs for files in the
/// repository (§3.4.3), and code scanning resolves them against the checkout.
/// An absolute path (a root or `--policy` file given as one) loses its leading
/// `/` or drive so that no result is an absolute URI on the machine that ran
/// the scan; scan from the repository root to get paths code scanning can open.
fn artifact_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = match path.as_bytes() {
        [d, b':', b'/', ..] if d.is_ascii_alphabetic() => &path[3..],
        _ => path.as_str(),
    };
    let path = path.trim_start_matches('/');
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `physicalLocation` (§3.29): the file and the 1-based line and column.
fn physical_location(l: &Location) -> Value {
    json!({
        "artifactLocation": {"uri": artifact_uri(&l.path)},
        "region": {"startLine": l.line.max(1), "startColumn": l.column.max(1)},
    })
}

/// What identifies a finding across runs ([`Finding::key`]), as bytes to hash.
fn fingerprint_input(f: &Finding) -> String {
    let k = f.key();
    let certs: Vec<String> = k.certificates.iter().map(|c| c.hex()).collect();
    [
        k.rule.as_str(),
        k.component.as_deref().unwrap_or(""),
        &certs.join(","),
        &k.path,
    ]
    .join("\0")
}

/// `partialFingerprints` (§3.27.17) for every finding, in order. Findings with
/// the same input (two malformed blocks in one file) would otherwise merge
/// into one alert: the n-th repeat (n ≥ 2, in report order) hashes `\0n` too.
fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let mut input = fingerprint_input(f);
            let n = seen.entry(input.clone()).or_default();
            *n += 1;
            if *n > 1 {
                input.push_str(&format!("\0{n}"));
            }
            hex::encode(ring::digest::digest(
                &ring::digest::SHA256,
                input.as_bytes(),
            ))
        })
        .collect()
}

fn rule_descriptor(r: &rules::Rule) -> Value {
    let explain = rules::explain(r);
    json!({
        "id": r.id,
        "name": camel_case(r.id),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": explain},
        "help": {"text": explain},
        "defaultConfiguration": {"level": level(r.severity)},
    })
}

fn result(f: &Finding, fingerprint: String) -> Value {
    let mut v = json!({
        "ruleId": f.rule,
    });
    if let Some(i) = RULES.iter().position(|r| r.id == f.rule) {
        v["ruleIndex"] = json!(i);
    }
    v["level"] = json!(level(f.severity));
    v["message"] = json!({"text": f.message});
    v["locations"] = json!([{"physicalLocation": physical_location(&f.location)}]);
    if !f.related.is_empty() {
        v["relatedLocations"] = f
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| {
                json!({
                    "id": i,
                    "physicalLocation": physical_location(&r.location),
                    "message": {"text": r.note},
                })
            })
            .collect();
    }
    v["partialFingerprints"] = json!({FINGERPRINT_KEY: fingerprint});
    let mut props = Map::new();
    if let Some(c) = &f.component {
        props.insert("component".into(), json!(c));
    }
    if let Some(p) = &f.peer {
        props.insert("peer".into(), json!(p));
    }
    if !f.certificates.is_empty() {
        let certs: Vec<String> = f.certificates.iter().map(|c| c.to_string()).collect();
        props.insert("certificates".into(), json!(certs));
    }
    if let Some(h) = &f.help {
        props.insert("help".into(), json!(h));
    }
    if !props.is_empty() {
        v["properties"] = Value::Object(props);
    }
    v
}

/// The SARIF log of `findings`.
pub fn report(findings: &[Finding]) -> String {
    let mut driver = json!({
        "name": "certdrift",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let uri = env!("CARGO_PKG_REPOSITORY");
    if !uri.is_empty() {
        driver["informationUri"] = json!(uri);
    }
    driver["rules"] = RULES.iter().map(|r| rule_descriptor(r)).collect();
    let results: Vec<Value> = findings
        .iter()
        .zip(fingerprints(findings))
        .map(|(f, fp)| result(f, fp))
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            // Location columns count characters, not SARIF's default UTF-16 units.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_findings;

    #[test]
    fn uris_are_relative_and_percent_encoded() {
        assert_eq!(artifact_uri("a b/c%d.yaml"), "a%20b/c%25d.yaml");
        assert_eq!(artifact_uri("x:y/ü.pem"), "x%3Ay/%C3%BC.pem");
        assert_eq!(artifact_uri("/etc/certdrift.yaml"), "etc/certdrift.yaml");
        assert_eq!(artifact_uri("C:\\p\\q.yaml"), "p/q.yaml");
        assert_eq!(artifact_uri("../policy.yaml"), "../policy.yaml");
    }

    #[test]
    fn rule_names_are_camel_case() {
        assert_eq!(camel_case("trust-mismatch"), "TrustMismatch");
        assert_eq!(camel_case("expired"), "Expired");
    }

    #[test]
    fn fingerprints_ignore_lines_and_separate_repeats() {
        let mut a = sample_findings();
        let before = fingerprints(&a);
        for f in &mut a {
            f.location.line += 5;
        }
        assert_eq!(fingerprints(&a), before);
        let twice = [a[0].clone(), a[0].clone()];
        let fps = fingerprints(&twice);
        assert_eq!(fps[0], before[0]);
        assert_ne!(fps[0], fps[1]);
    }

    #[test]
    fn every_rule_is_described() {
        let log: Value = serde_json::from_str(&report(&[])).unwrap();
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        assert_eq!(rules.len(), RULES.len());
        for (d, r) in rules.iter().zip(RULES) {
            assert_eq!(d["id"], r.id);
            assert_eq!(d["name"], camel_case(r.id));
            assert_eq!(d["shortDescription"]["text"], r.summary);
            assert_eq!(d["fullDescription"]["text"], rules::explain(r));
            assert_eq!(d["help"]["text"], rules::explain(r));
            assert_eq!(d["defaultConfiguration"]["level"], level(r.severity));
        }
        assert_eq!(log["runs"][0]["results"], json!([]));
    }

    #[test]
    fn snapshot() {
        // The rule descriptors (checked above) would tie the snapshot to
        // every rule's documentation; the version changes with each release.
        let mut log: Value = serde_json::from_str(&report(&sample_findings())).unwrap();
        let driver = &mut log["runs"][0]["tool"]["driver"];
        driver["version"] = json!("[version]");
        driver["rules"] = RULES.iter().map(|r| json!(r.id)).collect();
        insta::assert_snapshot!(serde_json::to_string_pretty(&log).unwrap());
    }
}
