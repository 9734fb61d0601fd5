//! x509-limbo conformance: certdrift's chain decision (`verify::verify`, the
//! one `trust-mismatch` uses) on the x509-limbo test vectors in
//! `../shared/limbo/`: the current suite (`limbo-2026-06-29-8a2e6f41.json`,
//! 9,780 cases with all of BetterTLS), the 2023-12-02 suite, and the
//! `online/` real chains. Each prints one summary line.
//!
//! The pattern is rustls-webpki's `tests/x509_limbo.rs`: every case is run
//! unless it needs a feature certdrift does not implement (skipped, with a
//! counted reason); known differences are listed in
//! `tests/limbo-exceptions.json`, one section per suite file, as
//! `{id: {expected, actual, go, webpki, reason}}`; the test fails on any
//! other disagreement, on an exception that no longer disagrees (stale), on
//! an exception for a case of `importance: critical` or `high`, on an
//! exception for a case that does not exist or is skipped, on `go` /
//! `webpki` columns that do not match the upstream lists kept in the
//! file's `_sources`, and on a case that takes longer than 5 s (x509-limbo's
//! harnesses count that as a hang).
//!
//! # Mapping
//!
//! * PEM is read with `certdrift::read::pem::scan`, DER with
//!   `certdrift::x509::parse`. A peer certificate that does not parse is
//!   FAILURE (certdrift reports it as `malformed`, never as trusted); a
//!   trusted or intermediate certificate that does not parse is left out,
//!   as a scan would.
//! * `validation_time`: the case's own; when it is null the day the suite
//!   file was generated (its certificates are valid then). Never the clock.
//! * Usage: `SERVER` → server authentication, `CLIENT` → client
//!   authentication; an `extended_key_usage` list other than exactly that
//!   usage's purpose is skipped (certdrift checks one purpose).
//! * Name: `expected_peer_name` of kind `DNS` or `IP` is passed to
//!   `verify`; `RFC822` is skipped; `CLIENT` cases that name peers are
//!   skipped (certdrift does not check client names).
//! * Verdict: the harness answers as certdrift does for a client it does
//!   not know to be a Go program. `Valid` → SUCCESS, unless a strict
//!   client refuses the path ([`verify::strict`]: OpenSSL's `-x509_strict`
//!   profile, Python 3.13's default, which `strict-profile` reports):
//!   then FAILURE. `Expired`, `NotYetValid`, `NoPath`, `NameMismatch` →
//!   FAILURE. `Unknown` ("cannot tell") is FAILURE when
//!   [`verify::golang::refusal`] names a reason Go refuses the chain for;
//!   any other `Unknown` is its own result, UNKNOWN, which agrees with
//!   neither expectation and so needs an exception.
//! * As a Go client (the API server, etcd, the other Kubernetes
//!   components, for which `strict-profile` does not judge) certdrift's
//!   answer is the same without the strict profile; the harness prints the
//!   cases where that answer is not Go's own (from `_sources`), and
//!   `strict_profile_is_openssl_x509_strict` checks the strict profile
//!   against `openssl verify -x509_strict` itself.

//! # Keys
//!
//! Cases of a suite file are keyed by their `id`. The `online/` files
//! reuse the ids of the suite's older `online::` chains with newer
//! certificates, so they are keyed `online/<file name>`.
//!
//! Run with `--nocapture` to see the counts, the cases on which certdrift
//! answers unlike Go (from `_sources`; printed, not a failure: Go refuses
//! some chains limbo accepts, and certdrift's budgets refuse two
//! pathological ones Go accepts) and the table of known differences.
//!
//! Time: the 41 MB file reads and parses in about 0.2 s and the whole test
//! takes about 5 s in a debug build, 3 s with `--release`, on two busy
//! cores (cases run in parallel with rayon).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use certdrift::read::pem::{self, PemItem};
use certdrift::verify::{self, golang, strict, Usage, Verdict};
use certdrift::x509::{self, CertInfo};
use rayon::prelude::*;
use serde::Deserialize;

/// The suite files, relative to `../shared/limbo`, each with the time used
/// for its cases without a `validation_time`: the day the file was made.
const SUITES: &[(&str, i64)] = &[
    // 2026-06-29T00:00:00Z
    ("limbo-2026-06-29-8a2e6f41.json", 1_782_691_200),
    // 2023-12-02T00:00:00Z
    ("limbo-2023-12-02-ddc40b47.json", 1_701_475_200),
];

/// The section of `tests/limbo-exceptions.json` for the `online/` files.
const ONLINE: &str = "online";

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
/// nulls where the current one has lists). `peer_certificate_key` is not
/// read: private keys are never loaded, let alone printed.
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

/// One known difference: what limbo expects, what certdrift answers, what
/// Go's `crypto/x509` and rustls-webpki answer (from the upstream lists in
/// `_sources`), and why certdrift answers so.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exception {
    expected: String,
    actual: String,
    go: String,
    webpki: String,
    reason: String,
}

/// An upstream harness's own list of the cases it disagrees on: the
/// cases it accepts though limbo expects FAILURE, and the ones it refuses
/// though limbo expects SUCCESS. Every other case it answers as expected.
#[derive(Debug, Default, Deserialize)]
struct Upstream {
    #[serde(default)]
    succeeds_where_failure_expected: BTreeSet<String>,
    #[serde(default)]
    fails_where_success_expected: BTreeSet<String>,
}

impl Upstream {
    /// This implementation's answer on `id`, given limbo's expectation.
    fn answer(&self, id: &str, expected: &str) -> &'static str {
        if self.succeeds_where_failure_expected.contains(id) {
            "SUCCESS"
        } else if self.fails_where_success_expected.contains(id) {
            "FAILURE"
        } else if expected == "SUCCESS" {
            "SUCCESS"
        } else {
            "FAILURE"
        }
    }
}

/// `_sources` of the exceptions file.
#[derive(Debug, Default, Deserialize)]
struct Sources {
    go: Upstream,
    webpki: Upstream,
}

/// `tests/limbo-exceptions.json`.
struct Exceptions {
    sources: Sources,
    /// Per section (suite file name, or `online`): case key → exception.
    sections: BTreeMap<String, BTreeMap<String, Exception>>,
}

fn read_exceptions(text: &str) -> Result<Exceptions, String> {
    let mut all: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    let sources = all
        .remove("_sources")
        .ok_or("no _sources")
        .and_then(|v| serde_json::from_value(v).map_err(|_| "_sources: {go, webpki}"))?;
    let sections = all
        .into_iter()
        .map(|(k, v)| {
            serde_json::from_value(v)
                .map(|m| (k.clone(), m))
                .map_err(|e| format!("section {k}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Exceptions { sources, sections })
}

/// What the harness made of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Skipped(String),
    Ran {
        expected: &'static str,
        actual: &'static str,
        /// certdrift's answer for a Go client (without the strict profile).
        as_go: &'static str,
        /// certdrift's verdict, for the table.
        detail: String,
        /// `importance` is `critical` or `high`: no exception allowed.
        important: bool,
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

/// A case's certificates, parsed: the peer's, the untrusted
/// intermediates, the trusted ones.
struct Material {
    peer: Vec<CertInfo>,
    intermediates: Vec<CertInfo>,
    trusted: Vec<CertInfo>,
}

impl Material {
    fn of(case: &Case) -> Self {
        let all = |pems: &[String]| pems.iter().flat_map(|p| certs(p)).collect();
        Material {
            peer: certs(&case.peer_certificate),
            intermediates: all(&case.untrusted_intermediates),
            trusted: all(&case.trusted_certs),
        }
    }

    /// The chain to verify (peer first, then the intermediates), or `None`
    /// when the peer certificate does not parse.
    fn chain(&self) -> Option<Vec<&CertInfo>> {
        let leaf = self.peer.first()?;
        Some(std::iter::once(leaf).chain(&self.intermediates).collect())
    }

    fn anchors(&self) -> Vec<&CertInfo> {
        self.trusted.iter().collect()
    }
}

/// The purpose `case` is verified for.
fn usage_of(case: &Case) -> Usage {
    if case.validation_kind == "CLIENT" {
        Usage::ClientAuth
    } else {
        Usage::ServerAuth
    }
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

/// Runs one case; `default_time` stands in for a null `validation_time`.
/// `Err` is a harness error (the data is not what the schema says), which
/// fails the test.
fn run(case: &Case, default_time: i64) -> Result<Outcome, String> {
    let expected = expected_of(case)?;
    if let Some(reason) = skip_reason(case) {
        return Ok(Outcome::Skipped(reason));
    }
    let important = matches!(case.importance.as_deref(), Some("critical" | "high"));
    let now = match &case.validation_time {
        Some(t) => rfc3339(t)?,
        None => default_time,
    };
    let usage = usage_of(case);
    let material = Material::of(case);
    let Some(chain) = material.chain() else {
        return Ok(Outcome::Ran {
            expected,
            actual: "FAILURE",
            as_go: "FAILURE",
            detail: "peer certificate does not parse".to_string(),
            important,
        });
    };
    let anchors = material.anchors();
    let name = case.expected_peer_name.as_ref().map(|n| n.value.as_str());
    let verdict = verify::verify(&chain, &anchors, now, usage, name);
    // As a Go client: the verdict, with Go's own refusals of a chain the
    // verifier cannot decide.
    let (as_go, detail) = match &verdict {
        Verdict::Valid => ("SUCCESS", describe(&verdict)),
        Verdict::Unknown { .. } => match golang::refusal(&chain, &anchors) {
            Some(why) => (
                "FAILURE",
                format!("{}; Go refuses: {why}", describe(&verdict)),
            ),
            None => ("UNKNOWN", describe(&verdict)),
        },
        _ => ("FAILURE", describe(&verdict)),
    };
    // As a client certdrift does not know: also refused when a strict
    // client refuses the path (`verify::strict`, the `strict-profile` rule).
    let strict = (as_go == "SUCCESS")
        .then(|| strict::refusal(&chain, &anchors, now))
        .flatten();
    let (actual, detail) = match strict {
        Some(r) => (
            "FAILURE",
            format!("Valid for Go; a strict client refuses {}", r.describe()),
        ),
        None => (as_go, detail),
    };
    Ok(Outcome::Ran {
        expected,
        actual,
        as_go,
        detail,
        important,
    })
}

/// The cases of one suite file, keyed by id.
fn load_suite(path: &Path) -> Vec<(String, Case)> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let suite: Suite =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    suite
        .testcases
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect()
}

/// The `online/` cases, keyed `online/<file name>`.
fn load_online(dir: &Path) -> Vec<(String, Case)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".limbo.json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let case: Case = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let key = format!("online/{}", f.file_name().unwrap().to_string_lossy());
            (key, case)
        })
        .collect()
}

/// The result of running cases against a list of exceptions.
#[derive(Default)]
struct Summary {
    run: usize,
    skipped: BTreeMap<String, usize>,
    agreeing: usize,
    excepted: usize,
    /// Exceptions on `importance: critical`/`high` cases (each a problem).
    important_excepted: usize,
    /// Known differences, as table rows.
    known: Vec<[String; 4]>,
    /// Cases run on which certdrift's answer is not Go's (from `_sources`),
    /// with both answers: printed, not a failure.
    unlike_go: Vec<(String, &'static str, &'static str, String)>,
    /// What fails the test, as table rows: key, expected, actual, why.
    problems: Vec<[String; 4]>,
}

impl Summary {
    fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// The summary line CI logs show.
    fn line(&self, cases: usize) -> String {
        format!(
            "x509-limbo: {cases} cases: {} run, {} skipped, {} agreeing, {} exceptions ({} on importance: critical/high; agreement {:.2} % of cases run)",
            self.run,
            self.skipped_total(),
            self.agreeing,
            self.excepted,
            self.important_excepted,
            if self.run == 0 {
                100.0
            } else {
                self.agreeing as f64 * 100.0 / self.run as f64
            }
        )
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

/// Checks one exception's own fields against the case's run and the
/// upstream lists; problems as `why` strings.
fn check_exception(
    key: &str,
    e: &Exception,
    expected: &str,
    actual: &str,
    sources: &Sources,
) -> Vec<String> {
    let mut out = Vec::new();
    if e.expected != expected || e.actual != actual {
        out.push(format!(
            "exception says expected {} / certdrift {}, the run gives {expected} / {actual}",
            e.expected, e.actual
        ));
    }
    for (column, recorded, upstream) in [
        ("go", &e.go, &sources.go),
        ("webpki", &e.webpki, &sources.webpki),
    ] {
        let answer = upstream.answer(key, expected);
        if recorded != answer {
            out.push(format!(
                "exception's {column} column says {recorded}, _sources.{column} gives {answer}"
            ));
        }
    }
    out
}

/// Runs `cases` (in parallel; results in input order) and compares with
/// the section's `exceptions` (see the module docs).
fn evaluate(
    cases: &[(String, Case)],
    default_time: i64,
    exceptions: &BTreeMap<String, Exception>,
    sources: &Sources,
) -> Summary {
    let mut s = Summary::default();
    let keys: BTreeSet<&str> = cases.iter().map(|(k, _)| k.as_str()).collect();
    for (key, e) in exceptions {
        if e.reason.trim().is_empty() {
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
    let outcomes: Vec<(Result<Outcome, String>, Duration)> = cases
        .par_iter()
        .map(|(_, case)| {
            let start = Instant::now();
            let o = run(case, default_time);
            (o, start.elapsed())
        })
        .collect();
    for ((key, _), (outcome, took)) in cases.iter().zip(outcomes) {
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                s.problems
                    .push(row(key, "", "", format!("harness error: {e}")));
                continue;
            }
        };
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
                as_go,
                detail,
                important,
            } => {
                s.run += 1;
                let go = sources.go.answer(key, expected);
                if go != as_go {
                    s.unlike_go.push((key.clone(), as_go, go, detail.clone()));
                }
                match (expected == actual, exception) {
                    (true, None) => s.agreeing += 1,
                    (true, Some(_)) => s.problems.push(row(
                        key,
                        expected,
                        actual,
                        "STALE exception: the case agrees now; remove it".to_string(),
                    )),
                    (false, None) => s.problems.push(row(key, expected, actual, detail)),
                    (false, Some(e)) => {
                        s.excepted += 1;
                        if important {
                            s.important_excepted += 1;
                            s.problems.push(row(
                                key,
                                expected,
                                actual,
                                format!(
                                    "exception on an importance: critical/high case ({})",
                                    e.reason
                                ),
                            ));
                        }
                        for why in check_exception(key, e, expected, actual, sources) {
                            s.problems.push(row(key, expected, actual, why));
                        }
                        s.known.push(row(
                            key,
                            expected,
                            actual,
                            format!("go {} webpki {}: {detail}", e.go, e.webpki),
                        ));
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

/// Runs one section and prints its summary; its problems, prefixed.
fn section(
    name: &str,
    cases: &[(String, Case)],
    default_time: i64,
    exceptions: &Exceptions,
) -> Vec<[String; 4]> {
    let keys: BTreeSet<&str> = cases.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), cases.len(), "{name}: duplicate case keys");
    let empty = BTreeMap::new();
    let own = exceptions.sections.get(name).unwrap_or(&empty);
    let start = Instant::now();
    let s = evaluate(cases, default_time, own, &exceptions.sources);
    eprintln!(
        "{} in {name} ({:.1?})",
        s.line(cases.len()),
        start.elapsed()
    );
    for (reason, n) in &s.skipped {
        eprintln!("  skipped {n:>4}  {reason}");
    }
    if !s.unlike_go.is_empty() {
        eprintln!(
            "  certdrift answers unlike Go on {} cases run (certdrift / Go):",
            s.unlike_go.len()
        );
        for (key, ours, go, detail) in &s.unlike_go {
            eprintln!("    {key}  {ours} / {go}  ({detail})");
        }
    }
    if !s.known.is_empty() {
        eprintln!(
            "  known differences (tests/limbo-exceptions.json):\n{}",
            table(&s.known)
        );
    }
    s.problems
        .into_iter()
        .map(|[k, e, a, w]| [format!("{name}: {k}"), e, a, w])
        .collect()
}

#[test]
fn x509_limbo() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let limbo = shared.join("limbo");
    let exceptions = read_exceptions(
        &std::fs::read_to_string(common::repo().join("tests/limbo-exceptions.json")).unwrap(),
    )
    .unwrap_or_else(|e| panic!("tests/limbo-exceptions.json: {e}"));
    let mut problems = Vec::new();
    let mut names: Vec<&str> = vec![ONLINE];
    for (file, default_time) in SUITES {
        let start = Instant::now();
        let cases = load_suite(&limbo.join(file));
        eprintln!("{file}: read and parsed in {:.1?}", start.elapsed());
        problems.extend(section(file, &cases, *default_time, &exceptions));
        names.push(file);
    }
    // Online chains carry their own validation_time.
    let online = load_online(&limbo.join("online"));
    problems.extend(section(ONLINE, &online, SUITES[0].1, &exceptions));
    for name in exceptions.sections.keys() {
        if !names.contains(&name.as_str()) {
            problems.push(row(
                name,
                "",
                "",
                "exceptions section for no suite file".to_string(),
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "x509-limbo: {} unexpected results:\n{}",
        problems.len(),
        table(&problems)
    );
}

/// What OpenSSL 3 itself says of `case`: `openssl verify` without and with
/// `-x509_strict`, at the case's time, for its purpose and peer name.
/// `None` when the plain run refuses (OpenSSL refuses for another reason,
/// so the strict profile cannot be told apart).
fn openssl_strict_refuses(case: &Case, now: i64) -> Option<bool> {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, pems: &[String]| {
        let path = dir.path().join(name);
        std::fs::write(&path, pems.concat()).unwrap();
        path.to_string_lossy().into_owned()
    };
    let ca = file("ca.pem", &case.trusted_certs);
    let leaf = file("leaf.pem", std::slice::from_ref(&case.peer_certificate));
    let mut args: Vec<String> = ["verify", "-CAfile", &ca, "-attime", &now.to_string()]
        .map(String::from)
        .into();
    args.extend([
        "-purpose".to_string(),
        if case.validation_kind == "CLIENT" {
            "sslclient"
        } else {
            "sslserver"
        }
        .to_string(),
    ]);
    if !case.untrusted_intermediates.is_empty() {
        args.extend([
            "-untrusted".to_string(),
            file("untrusted.pem", &case.untrusted_intermediates),
        ]);
    }
    match &case.expected_peer_name {
        Some(n) if n.kind == "DNS" => {
            args.extend(["-verify_hostname".to_string(), n.value.clone()])
        }
        Some(n) if n.kind == "IP" => args.extend(["-verify_ip".to_string(), n.value.clone()]),
        _ => {}
    }
    let accepts = |strict: bool| {
        let mut cmd = std::process::Command::new("openssl");
        cmd.args(&args);
        if strict {
            cmd.arg("-x509_strict");
        }
        cmd.arg(&leaf)
            .output()
            .expect("the openssl CLI (.ci/run installs it)")
            .status
            .success()
    };
    accepts(false).then(|| !accepts(true))
}

/// `verify::strict` against OpenSSL's own `-x509_strict`, on every case of
/// the current suite that certdrift accepts for a Go client and plain
/// `openssl verify` accepts too (816, BetterTLS's included; about 10 s on
/// two cores): certdrift says a strict client refuses the chain exactly
/// when `openssl verify -x509_strict` does.
#[test]
fn strict_profile_is_openssl_x509_strict() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let (file, default_time) = SUITES[0];
    let cases = load_suite(&shared.join("limbo").join(file));
    let results: Vec<(String, bool, bool)> = cases
        .par_iter()
        .filter(|(_, case)| skip_reason(case).is_none())
        .filter_map(|(id, case)| {
            let now = case
                .validation_time
                .as_deref()
                .map_or(default_time, |t| rfc3339(t).unwrap());
            let material = Material::of(case);
            let chain = material.chain()?;
            let anchors = material.anchors();
            let name = case.expected_peer_name.as_ref().map(|n| n.value.as_str());
            if verify::verify(&chain, &anchors, now, usage_of(case), name) != Verdict::Valid {
                return None;
            }
            let ours = strict::refusal(&chain, &anchors, now).is_some();
            let openssl = openssl_strict_refuses(case, now)?;
            Some((id.clone(), ours, openssl))
        })
        .collect();
    let refused = results.iter().filter(|r| r.2).count();
    let differ: Vec<String> = results
        .iter()
        .filter(|r| r.1 != r.2)
        .map(|(id, ours, openssl)| format!("  {id}: certdrift says a strict client refuses: {ours}, openssl -x509_strict refuses: {openssl}"))
        .collect();
    eprintln!(
        "strict profile vs openssl verify -x509_strict: {} cases compared, {refused} refused by OpenSSL, {} differ",
        results.len(),
        differ.len()
    );
    assert!(refused >= 7, "the suite's profile cases were not compared");
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

// --- the harness itself, on generated cases ------------------------------

/// A generated SERVER case: `svc.example.org` issued by a root, which is
/// trusted or not.
fn generated_case(id: &str, trusted: bool, expected: &str, importance: Option<&str>) -> Case {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let mut rp = CertificateParams::default();
    rp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // The profile a strict client wants (`verify::strict`).
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let rkey = KeyPair::generate().unwrap();
    let root = rp.self_signed(&rkey).unwrap();
    let other = rp.self_signed(&KeyPair::generate().unwrap()).unwrap();
    let mut lp = CertificateParams::new(vec!["svc.example.org".to_string()]).unwrap();
    lp.use_authority_key_identifier_extension = true;
    let leaf = lp
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
fn harness_flags_disagreements_stale_important_exceptions_and_wrong_columns() {
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
    let exception = |expected: &str, actual: &str, reason: &str| Exception {
        expected: expected.to_string(),
        actual: actual.to_string(),
        go: expected.to_string(),
        webpki: expected.to_string(),
        reason: reason.to_string(),
    };
    let mut exceptions: BTreeMap<String, Exception> = [
        (
            "t::known",
            exception("FAILURE", "SUCCESS", "a documented difference"),
        ),
        (
            "t::stale",
            exception("SUCCESS", "SUCCESS", "no longer differs"),
        ),
        (
            "t::critical",
            exception("FAILURE", "SUCCESS", "not allowed"),
        ),
        (
            "t::skipped",
            exception("SUCCESS", "SUCCESS", "skipped cases need none"),
        ),
        (
            "t::missing",
            exception("SUCCESS", "FAILURE", "no such case"),
        ),
        ("t::no-reason", exception("SUCCESS", "FAILURE", " ")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // certdrift's answer on t::known is webpki's too.
    exceptions.get_mut("t::known").unwrap().webpki = "SUCCESS".to_string();
    let sources = Sources {
        go: Upstream::default(),
        webpki: Upstream {
            succeeds_where_failure_expected: ["t::known".to_string()].into(),
            ..Upstream::default()
        },
    };
    // Without the upstream list, that column is flagged.
    let s = evaluate(&cases, 0, &exceptions, &Sources::default());
    assert!(
        s.problems
            .iter()
            .any(|r| r[0] == "t::known" && r[3].contains("webpki column says SUCCESS")),
        "{}",
        table(&s.problems)
    );

    let s = evaluate(&cases, 0, &exceptions, &sources);
    assert_eq!(
        (
            s.run,
            s.skipped_total(),
            s.agreeing,
            s.excepted,
            s.important_excepted
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
    assert!(flagged["t::critical"].contains("importance: critical/high"));
    assert!(flagged["t::unexpected-failure"].starts_with("NoPath: bad signature"));
    let text = table(&s.problems);
    assert!(
        text.contains("t::unexpected-success  FAILURE   SUCCESS"),
        "{text}"
    );
}
