//! x509-limbo conformance: certdrift's chain decision (`verify::verify`, the
//! one `trust-mismatch` uses) on the x509-limbo test vectors in
//! `../shared/limbo/` — the 2023-12-02 suite and the `online/` real chains.
//!
//! The pattern is rustls-webpki's `tests/x509_limbo.rs`: every case is run
//! unless it needs a feature certdrift does not implement (skipped, with a
//! counted reason); known differences are listed in
//! `tests/limbo-exceptions.json` as `{key: reason}`; the test fails on any
//! other disagreement, on an exception that no longer disagrees (stale), on
//! an exception for a case of `importance: critical`, on an exception for a
//! case that does not exist or is skipped, and on a case that takes longer
//! than 5 s (x509-limbo's harnesses count that as a hang).
//!
//! # Mapping
//!
//! * PEM is read with `certdrift::read::pem::scan`, DER with
//!   `certdrift::x509::parse`. A peer certificate that does not parse is
//!   FAILURE (certdrift reports it as `malformed`, never as trusted); a
//!   trusted or intermediate certificate that does not parse is left out,
//!   as a scan would.
//! * `validation_time`: the case's own; when it is null (114 of the 2023
//!   cases, whose certificates are all valid 1970..2969) the fixed time
//!   [`DEFAULT_TIME`], the day the suite was generated. Never the clock.
//! * Usage: `SERVER` → server authentication, `CLIENT` → client
//!   authentication; an `extended_key_usage` list other than exactly that
//!   usage's purpose is skipped (certdrift checks one purpose).
//! * Name: `expected_peer_name` of kind `DNS` or `IP` is passed to
//!   `verify`; `RFC822` is skipped; `CLIENT` cases that name peers are
//!   skipped (certdrift does not check client names).
//! * Verdict: `Valid` → SUCCESS; `Expired`, `NotYetValid`, `NoPath`,
//!   `NameMismatch` → FAILURE. `Unknown` ("cannot tell", e.g. an algorithm
//!   neither engine verifies) is its own result, UNKNOWN, which agrees with
//!   neither expectation: `trust-mismatch` stays silent on it, so it must
//!   never pass for a correct FAILURE unnoticed; each one needs an exception.
//!
//! # Keys
//!
//! Cases of the suite file are keyed by their `id`. The `online/` files
//! reuse the ids of the suite's older `online::` chains with newer
//! certificates, so they are keyed `online/<file name>`.
//!
//! Run with `--nocapture` to see the counts and the table.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use certdrift::read::pem::{self, PemItem};
use certdrift::verify::{self, Usage, Verdict};
use certdrift::x509::{self, CertInfo};
use serde::Deserialize;

/// Validation time for cases without one: 2023-12-02T00:00:00Z, the date of
/// the suite file (`limbo-2023-12-02-ddc40b47.json`).
const DEFAULT_TIME: i64 = 1_701_475_200;

/// The suite file, relative to `../shared`.
const SUITE: &str = "limbo/limbo-2023-12-02-ddc40b47.json";

/// A case slower than this is a hang (x509-limbo's pyca harness:
/// `TIMEOUT_SECONDS = 5`).
const HANG: Duration = Duration::from_secs(5);

/// Features certdrift implements: a case tagged with any other feature
/// (or one this list does not know) is skipped.
const IMPLEMENTED_FEATURES: &[&str] = &[
    // Path building is bounded (webpki's budgets, and the fallback's
    // signature-check budget).
    "denial-of-service",
];

#[derive(Deserialize)]
struct Suite {
    testcases: Vec<Case>,
}

/// One testcase; null and missing lists are empty (the 2023 schema has
/// nulls where the current one has lists).
#[derive(Deserialize)]
struct Case {
    id: String,
    #[serde(default, deserialize_with = "list")]
    features: Vec<String>,
    #[serde(default)]
    importance: Option<String>,
    validation_kind: String,
    #[serde(default, deserialize_with = "list")]
    trusted_certs: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    #[serde(default)]
    validation_time: Option<String>,
    #[serde(default, deserialize_with = "list")]
    signature_algorithms: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    key_usage: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    extended_key_usage: Vec<String>,
    expected_result: String,
    #[serde(default)]
    expected_peer_name: Option<PeerName>,
    #[serde(default, deserialize_with = "list")]
    expected_peer_names: Vec<PeerName>,
    #[serde(default)]
    max_chain_depth: Option<u64>,
    #[serde(default, deserialize_with = "list")]
    crls: Vec<String>,
}

#[derive(Deserialize)]
struct PeerName {
    kind: String,
    value: String,
}

fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// What the harness made of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Skipped(String),
    Ran {
        expected: &'static str,
        actual: &'static str,
        /// certdrift's verdict, for the table.
        detail: String,
        critical: bool,
    },
}

fn expected_of(case: &Case) -> Result<&'static str, String> {
    match case.expected_result.as_str() {
        "SUCCESS" => Ok("SUCCESS"),
        "FAILURE" => Ok("FAILURE"),
        other => Err(format!("unknown expected_result {other:?}")),
    }
}

/// Why certdrift cannot run `case` faithfully, if it cannot.
fn skip_reason(case: &Case) -> Option<String> {
    if let Some(f) = case
        .features
        .iter()
        .find(|f| !IMPLEMENTED_FEATURES.contains(&f.as_str()))
    {
        return Some(format!("feature {f}"));
    }
    if case.max_chain_depth.is_some() {
        return Some("max_chain_depth".to_string());
    }
    if !case.signature_algorithms.is_empty() {
        return Some("signature_algorithms constraint".to_string());
    }
    if !case.key_usage.is_empty() {
        return Some("key_usage constraint".to_string());
    }
    if !case.crls.is_empty() {
        return Some("CRLs".to_string());
    }
    let wanted = match case.validation_kind.as_str() {
        "SERVER" => "serverAuth",
        "CLIENT" => "clientAuth",
        other => return Some(format!("validation_kind {other}")),
    };
    if !(case.extended_key_usage.is_empty() || case.extended_key_usage.iter().all(|e| e == wanted))
    {
        return Some(format!(
            "extended_key_usage {}",
            case.extended_key_usage.join("+")
        ));
    }
    if case.validation_kind == "CLIENT" && !case.expected_peer_names.is_empty() {
        return Some("client peer names".to_string());
    }
    match &case.expected_peer_name {
        Some(n) if n.kind != "DNS" && n.kind != "IP" => Some(format!("peer name kind {}", n.kind)),
        _ => None,
    }
}

/// Every certificate of the CERTIFICATE blocks of `pem_text` that parses.
fn certs(pem_text: &str) -> Vec<CertInfo> {
    pem::scan(pem_text.as_bytes())
        .into_iter()
        .filter_map(|item| match item {
            PemItem::Block(b) if b.label == "CERTIFICATE" => x509::parse(&b.der).ok(),
            _ => None,
        })
        .collect()
}

fn rfc3339(s: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("validation_time {s:?}: {e}"))
}

fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Valid => "Valid".to_string(),
        Verdict::Expired { .. } => "Expired".to_string(),
        Verdict::NotYetValid { .. } => "NotYetValid".to_string(),
        Verdict::NoPath { reason } => format!("NoPath: {reason}"),
        Verdict::NameMismatch { name, .. } => format!("NameMismatch: {name}"),
        Verdict::Unknown { reason } => format!("Unknown: {reason}"),
    }
}

/// Runs one case. `Err` is a harness error (the data is not what the
/// schema says), which fails the test.
fn run(case: &Case) -> Result<Outcome, String> {
    let expected = expected_of(case)?;
    if let Some(reason) = skip_reason(case) {
        return Ok(Outcome::Skipped(reason));
    }
    let critical = case.importance.as_deref() == Some("critical");
    let now = match &case.validation_time {
        Some(t) => rfc3339(t)?,
        None => DEFAULT_TIME,
    };
    let usage = if case.validation_kind == "CLIENT" {
        Usage::ClientAuth
    } else {
        Usage::ServerAuth
    };
    let peer = certs(&case.peer_certificate);
    let Some(leaf) = peer.first() else {
        return Ok(Outcome::Ran {
            expected,
            actual: "FAILURE",
            detail: "peer certificate does not parse".to_string(),
            critical,
        });
    };
    let intermediates: Vec<CertInfo> = case
        .untrusted_intermediates
        .iter()
        .flat_map(|p| certs(p))
        .collect();
    let trusted: Vec<CertInfo> = case.trusted_certs.iter().flat_map(|p| certs(p)).collect();
    let chain: Vec<&CertInfo> = std::iter::once(leaf).chain(&intermediates).collect();
    let anchors: Vec<&CertInfo> = trusted.iter().collect();
    let name = case.expected_peer_name.as_ref().map(|n| n.value.as_str());
    let verdict = verify::verify(&chain, &anchors, now, usage, name);
    let actual = match verdict {
        Verdict::Valid => "SUCCESS",
        Verdict::Unknown { .. } => "UNKNOWN",
        _ => "FAILURE",
    };
    Ok(Outcome::Ran {
        expected,
        actual,
        detail: describe(&verdict),
        critical,
    })
}

/// The suite's cases and the `online/` cases, with their keys.
fn load(limbo: &Path) -> Vec<(String, Case)> {
    let text = std::fs::read_to_string(limbo.parent().unwrap().join(SUITE)).unwrap();
    let suite: Suite = serde_json::from_str(&text).unwrap();
    let mut out: Vec<(String, Case)> = suite
        .testcases
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut files: Vec<_> = std::fs::read_dir(limbo.join("online"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".limbo.json"))
        .collect();
    files.sort();
    for f in files {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let key = format!("online/{}", f.file_name().unwrap().to_string_lossy());
        out.push((key, case));
    }
    out
}

/// The result of running cases against a list of exceptions.
#[derive(Default)]
struct Summary {
    run: usize,
    skipped: BTreeMap<String, usize>,
    agreeing: usize,
    excepted: usize,
    critical_excepted: usize,
    /// Known differences, as table rows.
    known: Vec<[String; 4]>,
    /// What fails the test, as table rows: key, expected, actual, why.
    problems: Vec<[String; 4]>,
}

impl Summary {
    fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}

fn row(key: &str, expected: &str, actual: &str, why: String) -> [String; 4] {
    [
        key.to_string(),
        expected.to_string(),
        actual.to_string(),
        why,
    ]
}

/// Runs `cases` and compares with `exceptions` (see the module docs).
fn evaluate(cases: &[(String, Case)], exceptions: &BTreeMap<String, String>) -> Summary {
    let mut s = Summary::default();
    let keys: BTreeSet<&str> = cases.iter().map(|(k, _)| k.as_str()).collect();
    for (key, reason) in exceptions {
        if reason.trim().is_empty() {
            s.problems
                .push(row(key, "", "", "exception without a reason".to_string()));
        }
        if !keys.contains(key.as_str()) {
            s.problems.push(row(
                key,
                "",
                "",
                "exception for a case that does not exist".to_string(),
            ));
        }
    }
    for (key, case) in cases {
        let start = Instant::now();
        let outcome = match run(case) {
            Ok(o) => o,
            Err(e) => {
                s.problems
                    .push(row(key, "", "", format!("harness error: {e}")));
                continue;
            }
        };
        let took = start.elapsed();
        if took > HANG {
            s.problems
                .push(row(key, "", "HANG", format!("took {took:?}")));
        }
        let exception = exceptions.get(key);
        match outcome {
            Outcome::Skipped(reason) => {
                *s.skipped.entry(reason).or_default() += 1;
                if exception.is_some() {
                    s.problems.push(row(
                        key,
                        "",
                        "SKIPPED",
                        "exception for a skipped case".to_string(),
                    ));
                }
            }
            Outcome::Ran {
                expected,
                actual,
                detail,
                critical,
            } => {
                s.run += 1;
                match (expected == actual, exception) {
                    (true, None) => s.agreeing += 1,
                    (true, Some(_)) => s.problems.push(row(
                        key,
                        expected,
                        actual,
                        "STALE exception: the case agrees now; remove it".to_string(),
                    )),
                    (false, None) => s.problems.push(row(key, expected, actual, detail)),
                    (false, Some(reason)) => {
                        s.excepted += 1;
                        if critical {
                            s.critical_excepted += 1;
                            s.problems.push(row(
                                key,
                                expected,
                                actual,
                                format!("exception on an importance: critical case ({reason})"),
                            ));
                        }
                        s.known.push(row(key, expected, actual, detail));
                    }
                }
            }
        }
    }
    s
}

/// Rows as an aligned text table.
fn table(rows: &[[String; 4]]) -> String {
    let header = ["case", "expected", "actual", "certdrift says / why"].map(String::from);
    let all: Vec<&[String; 4]> = std::iter::once(&header).chain(rows).collect();
    let width = |i: usize| all.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    all.iter()
        .map(|r| format!("  {:w0$}  {:w1$}  {:w2$}  {}\n", r[0], r[1], r[2], r[3]))
        .collect()
}

#[test]
fn x509_limbo() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let cases = load(&shared.join("limbo"));
    let keys: BTreeSet<&str> = cases.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), cases.len(), "duplicate case keys");
    let exceptions: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("tests/limbo-exceptions.json")).unwrap(),
    )
    .expect("tests/limbo-exceptions.json: {id: reason}");

    let s = evaluate(&cases, &exceptions);
    eprintln!(
        "x509-limbo: {} cases: {} run, {} skipped, {} agreeing, {} exceptions ({} on importance: critical)",
        cases.len(),
        s.run,
        s.skipped_total(),
        s.agreeing,
        s.excepted,
        s.critical_excepted
    );
    for (reason, n) in &s.skipped {
        eprintln!("  skipped {n:>3}  {reason}");
    }
    eprintln!(
        "known differences (tests/limbo-exceptions.json):\n{}",
        table(&s.known)
    );
    assert!(
        s.problems.is_empty(),
        "x509-limbo: {} unexpected results:\n{}",
        s.problems.len(),
        table(&s.problems)
    );
    assert_eq!(s.critical_excepted, 0);
    assert_eq!(s.run, s.agreeing + s.excepted);
}

// --- the harness itself, on generated cases ------------------------------

/// A generated SERVER case: `svc.example.org` issued by a root, which is
/// trusted or not.
fn generated_case(id: &str, trusted: bool, expected: &str, importance: Option<&str>) -> Case {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut rp = CertificateParams::default();
    rp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let rkey = KeyPair::generate().unwrap();
    let root = rp.self_signed(&rkey).unwrap();
    let other = rp.self_signed(&KeyPair::generate().unwrap()).unwrap();
    let leaf = CertificateParams::new(vec!["svc.example.org".to_string()])
        .unwrap()
        .signed_by(
            &KeyPair::generate().unwrap(),
            &Issuer::from_params(&rp, &rkey),
        )
        .unwrap();
    Case {
        id: id.to_string(),
        features: Vec::new(),
        importance: importance.map(String::from),
        validation_kind: "SERVER".to_string(),
        trusted_certs: vec![if trusted { root.pem() } else { other.pem() }],
        untrusted_intermediates: Vec::new(),
        peer_certificate: leaf.pem(),
        validation_time: Some("2025-01-01T00:00:00+00:00".to_string()),
        signature_algorithms: Vec::new(),
        key_usage: Vec::new(),
        extended_key_usage: Vec::new(),
        expected_result: expected.to_string(),
        expected_peer_name: Some(PeerName {
            kind: "DNS".to_string(),
            value: "svc.example.org".to_string(),
        }),
        expected_peer_names: Vec::new(),
        max_chain_depth: None,
        crls: Vec::new(),
    }
}

#[test]
fn harness_flags_disagreements_stale_and_critical_exceptions() {
    let mut skipped = generated_case("t::skipped", true, "SUCCESS", None);
    skipped.features = vec!["has-crl".to_string()];
    let mut rfc822 = generated_case("t::rfc822", true, "SUCCESS", None);
    rfc822.expected_peer_name = Some(PeerName {
        kind: "RFC822".to_string(),
        value: "a@example.org".to_string(),
    });
    let cases: Vec<(String, Case)> = [
        generated_case("t::agrees", true, "SUCCESS", None),
        generated_case("t::agrees-failure", false, "FAILURE", None),
        generated_case("t::unexpected-failure", false, "SUCCESS", None),
        generated_case("t::unexpected-success", true, "FAILURE", None),
        generated_case("t::known", true, "FAILURE", Some("low")),
        generated_case("t::stale", true, "SUCCESS", None),
        generated_case("t::critical", true, "FAILURE", Some("critical")),
        skipped,
        rfc822,
    ]
    .into_iter()
    .map(|c| (c.id.clone(), c))
    .collect();
    let exceptions: BTreeMap<String, String> = [
        ("t::known", "a documented difference"),
        ("t::stale", "no longer differs"),
        ("t::critical", "not allowed"),
        ("t::skipped", "skipped cases need none"),
        ("t::missing", "no such case"),
        ("t::no-reason", " "),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    let s = evaluate(&cases, &exceptions);
    assert_eq!(
        (
            s.run,
            s.skipped_total(),
            s.agreeing,
            s.excepted,
            s.critical_excepted
        ),
        (7, 2, 2, 2, 1)
    );
    assert_eq!(s.skipped.get("feature has-crl"), Some(&1));
    assert_eq!(s.skipped.get("peer name kind RFC822"), Some(&1));
    let flagged: BTreeMap<&str, &str> = s
        .problems
        .iter()
        .map(|r| (r[0].as_str(), r[3].as_str()))
        .collect();
    let keys: Vec<&str> = flagged.keys().copied().collect();
    assert_eq!(
        keys,
        [
            "t::critical",
            "t::missing",
            "t::no-reason",
            "t::skipped",
            "t::stale",
            "t::unexpected-failure",
            "t::unexpected-success",
        ]
    );
    assert!(flagged["t::stale"].starts_with("STALE exception"));
    assert!(flagged["t::critical"].contains("importance: critical"));
    assert!(flagged["t::unexpected-failure"].starts_with("NoPath: bad signature"));
    let text = table(&s.problems);
    assert!(
        text.contains("t::unexpected-success  FAILURE   SUCCESS"),
        "{text}"
    );
}
