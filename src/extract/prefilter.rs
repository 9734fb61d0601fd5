//! Which YAML documents can hold a fact, decided from their bytes before
//! any parsing.
//!
//! Parsing YAML is what a scan spends its time on, and most documents in a
//! platform monorepo (Deployments with plain settings, Services of apps
//! without TLS, dashboards) cannot yield anything the extractors keep. A
//! document is parsed only when it contains one of the byte strings below;
//! without any of them, every path through `yaml_doc` and `kube` provably
//! yields nothing:
//!
//! * PEM (`---BEGIN `, as [`crate::read::pem::looks_like_pem`]) and base64
//!   of `-----BEGIN` at the three alignments;
//! * the kinds `kube` keeps unconditionally (Secret, ConfigMap, Service,
//!   webhook configurations, APIService, CRDs, cert-manager and
//!   trust-manager kinds, kubeconfig `Config`, Ingress, and the Gateway
//!   API and Istio kinds by their API groups' `networking`);
//!   a document whose only such string is `Service` can yield nothing but a
//!   Service, which matters only if a client names it: it is
//!   [deferred](Relevance::ServiceOnly) and parsed only then (see
//!   [`crate::inventory::Inventory::materialize_services`]);
//! * the keys that make a workload matter (`args`, `command`, `volumes`,
//!   `volumeMounts`) and the kubeconfig/webhook keys that hold base64 or
//!   paths (`caBundle`, `certificate-authority…`, `client-certificate…`,
//!   `client-key-data`);
//! * a scalar that starts with `/` (an `env` value that is a path): a `/`
//!   whose nearest non-blank predecessor, skipping quotes and block-scalar
//!   indicators, is `:`, `[`, `{`, `,` or `?`;
//! * anything that can hide the above from a byte search: escapes (`\`),
//!   tags (`!`, e.g. `!!binary`), anchors (`&`, the target of an alias).
//!
//! The test `tests/equivalence.rs` scans the test trees and a
//! generated corpus with the prefilter on and off and compares the reports
//! byte for byte. YAML syntax and limit problems are reported only for
//! documents that pass this filter, with or without it: a document that
//! cannot hold a certificate fact is not certdrift's to lint.

use aho_corasick::{packed, AhoCorasick};
use std::ops::Range;
use std::sync::LazyLock;

/// `-----BEGIN` in base64, starting a 3-byte group (at the start of an
/// encoded PEM block).
pub const BASE64_BEGIN: &str = crate::read::pem::BASE64_BEGINS[0];

/// Byte strings whose presence makes a document worth parsing.
const NEEDLES: &[&str] = &[
    "---BEGIN ",
    // base64("-----BEGIN") at offsets 0, 1 and 2 of a 3-byte group.
    crate::read::pem::BASE64_BEGINS[0],
    crate::read::pem::BASE64_BEGINS[1],
    crate::read::pem::BASE64_BEGINS[2],
    // Kinds kept whatever their content (`kube::object`).
    "Secret",
    "ConfigMap",
    "Service",
    // Before `Service` so that it is the match reported at its position.
    "APIService",
    "Webhook",
    "CustomResourceDefinition",
    "Certificate",
    "Issuer",
    "Bundle",
    "Config",
    // What makes a workload matter (`kube::matters`).
    "args",
    "command",
    "volumes",
    "volumeMounts",
    // Base64 and path keys read anywhere (`yaml_doc::BASE64_KEYS`, kubeconfigs).
    "caBundle",
    "certificate-authority",
    "client-certificate",
    "client-key",
    // Kinds whose TLS fields `kube` reads (`kube::TlsShape`): Ingress (any
    // API group: `extensions/v1beta1` too), and the Gateway API and Istio
    // kinds, which `kube` reads only in their API groups
    // (`gateway.networking.k8s.io`, `networking.istio.io`): one needle for
    // all four (as kind needles, `Gateway`, `BackendTLSPolicy` and
    // `DestinationRule` doubled the cost of this search on the bench
    // corpus, in callgrind's count).
    "Ingress",
    "networking",
];

/// Index of `Service` in [`NEEDLES`].
const SERVICE: usize = 6;

/// Single bytes that can hide the rest from a byte search: escapes, tags
/// and anchors (searched with `memchr3`, which is much faster than adding
/// them to the automaton).
const HIDERS: (u8, u8, u8) = (b'\\', b'!', b'&');

/// Teddy (SIMD) where the CPU has it, else an Aho-Corasick automaton.
enum Matcher {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Matcher {
    /// Whether `doc` holds a needle other than `Service` (`Some(true)`),
    /// only `Service` (`Some(false)`) or none (`None`).
    fn find(&self, doc: &[u8]) -> Option<bool> {
        let mut ids: Box<dyn Iterator<Item = usize>> = match self {
            Matcher::Packed(s) => Box::new(s.find_iter(doc).map(|m| m.pattern().as_usize())),
            Matcher::Automaton(a) => Box::new(a.find_iter(doc).map(|m| m.pattern().as_usize())),
        };
        let first = ids.next()?;
        Some(first != SERVICE || ids.any(|id| id != SERVICE))
    }
}

static MATCHER: LazyLock<Matcher> =
    LazyLock::new(
        || match packed::Config::new().builder().extend(NEEDLES).build() {
            Some(s) => Matcher::Packed(s),
            None => Matcher::Automaton(
                AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(NEEDLES)
                    .expect("the prefilter's needles are valid patterns"),
            ),
        },
    );

/// What a document can hold, judged from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relevance {
    /// Nothing: not parsed (unless the prefilter is off).
    Skip,
    /// At most a Service: parsed only if a client names it.
    ServiceOnly,
    /// Possibly any fact: parsed.
    Parse,
}

/// What the document `doc` can hold (see the module docs).
pub fn classify(doc: &[u8]) -> Relevance {
    let (a, b, c) = HIDERS;
    if memchr::memchr3(a, b, c, doc).is_some() {
        return Relevance::Parse;
    }
    let found = MATCHER.find(doc);
    if found == Some(true) || has_path_scalar(doc) {
        Relevance::Parse
    } else if found == Some(false) {
        Relevance::ServiceOnly
    } else {
        Relevance::Skip
    }
}

/// Whether the document `doc` can hold a fact (see the module docs).
pub fn may_hold_facts(doc: &[u8]) -> bool {
    classify(doc) != Relevance::Skip
}

/// Whether some scalar of `doc` may start with `/`.
fn has_path_scalar(doc: &[u8]) -> bool {
    memchr::memchr_iter(b'/', doc).any(|at| {
        let before = doc[..at].iter().rposition(|b| {
            !matches!(
                b,
                b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'|' | b'>' | b'+' | b'-'
            ) && !b.is_ascii_digit()
        });
        before.is_none_or(|i| matches!(doc[i], b':' | b'[' | b'{' | b',' | b'?'))
    })
}

/// Byte ranges of the documents of a YAML stream, split at lines that start
/// with `---` followed by a blank or the end of the line. Such a line always
/// starts a document: YAML forbids it inside any scalar. The ranges cover
/// `text` without gaps. A stream with directives (a line starting with `%`)
/// is one range, so that a directive stays with its document.
pub fn documents(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'%') || memchr::memmem::find(bytes, b"\n%").is_some() {
        return std::iter::once(0..text.len()).collect();
    }
    let mut starts = vec![0];
    for at in memchr::memmem::find_iter(bytes, b"\n---") {
        let start = at + 1;
        let after = bytes.get(start + 3).copied();
        if matches!(after, None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            starts.push(start);
        }
    }
    let mut ranges: Vec<Range<usize>> = starts
        .windows(2)
        .map(|w| w[0]..w[1])
        .filter(|r| !r.is_empty())
        .collect();
    ranges.push(*starts.last().unwrap_or(&0)..text.len());
    ranges
}

/// The documents of `text` (see [`documents`]), each with what it can
/// hold ([`classify`]).
pub fn parts(text: &str) -> Vec<(Range<usize>, Relevance)> {
    documents(text)
        .into_iter()
        .map(|r| {
            let relevance = classify(&text.as_bytes()[r.clone()]);
            (r, relevance)
        })
        .collect()
}

/// Whether `doc` (a [`Relevance::ServiceOnly`] document) may hold a
/// Service named by one of `names`: whether one of them occurs in it
/// between bytes that cannot continue a name. A Service's name is a
/// scalar, and such a document has no escapes, tags or aliases, so its
/// name is in its bytes as written, delimited by a blank, quote, flow
/// indicator or line end. `names` must be free of blanks and quotes (a
/// plain scalar folds line breaks into spaces; a single-quoted one
/// doubles its quotes): for such a name the caller parses every document.
pub struct NameFinder {
    automaton: Option<AhoCorasick>,
}

impl NameFinder {
    /// A finder for `names`; `None` when some name cannot be found by its
    /// bytes (see above), or is the name of an object that has none
    /// ([`super::kube::UNNAMED`]).
    pub fn new<'n>(names: impl IntoIterator<Item = &'n str>) -> Option<NameFinder> {
        let names: Vec<&str> = names.into_iter().collect();
        // The name an object without one gets is not in its bytes either.
        if names.iter().any(|n| {
            n.is_empty()
                || *n == super::kube::UNNAMED
                || n.bytes()
                    .any(|b| !b.is_ascii_graphic() || b == b'\'' || b == b'"')
        }) {
            return None;
        }
        let automaton = if names.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&names).ok()?)
        };
        Some(NameFinder { automaton })
    }

    /// Whether `doc` may hold a Service named by one of the names.
    pub fn may_name(&self, doc: &[u8]) -> bool {
        let Some(a) = &self.automaton else {
            return false;
        };
        let continues = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
        a.find_overlapping_iter(doc).any(|m| {
            let before = m.start().checked_sub(1).map(|i| doc[i]);
            let after = doc.get(m.end()).copied();
            !before.is_some_and(continues) && !after.is_some_and(continues)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        documents(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn documents_split_at_markers_only() {
        let text = "a: 1\n---\nb: |\n  --- not a marker\n---x: 2\n--- \nc: 3\n---";
        assert_eq!(
            split(text),
            [
                "a: 1\n",
                "---\nb: |\n  --- not a marker\n---x: 2\n",
                "--- \nc: 3\n",
                "---"
            ]
        );
        assert_eq!(split("---\na: 1\n"), ["---\na: 1\n"]);
        assert_eq!(split(""), [""]);
        assert_eq!(
            split("%YAML 1.2\n---\na\n---\nb"),
            ["%YAML 1.2\n---\na\n---\nb"]
        );
    }

    #[test]
    fn documents_that_can_only_be_a_service_are_deferred() {
        let svc = b"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: apps}\nspec:\n  selector: {app: web}\n";
        assert_eq!(classify(svc), Relevance::ServiceOnly);
        assert_eq!(classify(b"kind: ServiceAccount\n"), Relevance::ServiceOnly);
        for doc in [
            "kind: APIService\nspec: {service: {name: m}}",
            "kind: Service\nmetadata: {name: web, annotations: {a: /etc/x}}",
            "kind: Service\nmetadata: &m {name: web}",
            "kind: Service\ndata: {ca.crt: LS0tLS1CRUdJTiBDRVJU}",
            "kind: ServiceList\nitems: [{kind: Secret}]",
        ] {
            assert_eq!(classify(doc.as_bytes()), Relevance::Parse, "{doc}");
        }
        assert_eq!(NEEDLES[SERVICE], "Service");
        let f = NameFinder::new(["web", "etcd-a"]).unwrap();
        assert!(f.may_name(svc));
        assert!(f.may_name(b"metadata:\n  name: \"etcd-a\"\n"));
        assert!(f.may_name(b"metadata: {name: 'web'}"));
        assert!(!f.may_name(b"metadata: {name: web-2}"));
        assert!(!f.may_name(b"metadata: {name: etcd-abc, ns: aweb}"));
        assert!(NameFinder::new(["a b"]).is_none());
        assert!(NameFinder::new(["it's"]).is_none());
        assert!(NameFinder::new([crate::extract::kube::UNNAMED]).is_none());
        assert!(!NameFinder::new([]).unwrap().may_name(svc));
    }

    #[test]
    fn plain_deployment_is_skipped() {
        let doc = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app.kubernetes.io/name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example.org/web:1.0\n        env:\n        - {name: A, value: \"abc/def\"}\n";
        assert_eq!(classify(doc), Relevance::Skip);
    }

    #[test]
    fn every_fact_bearing_shape_is_kept() {
        for doc in [
            "x: \"-----BEGIN CERTIFICATE-----\"",
            "kind: Secret",
            "kind: ValidatingWebhookConfiguration",
            "kind: Pod\nspec: {containers: [{args: [--x]}]}",
            "env:\n- name: CA\n  value: /etc/ssl/ca.pem",
            "env: [{name: CA, value: \"/etc/ca\"}]",
            "env:\n- name: CA\n  value: >-\n    /etc/ca",
            "env:\n- name: CA\n  value:\n    /etc/ca",
            "x: !!binary MIIB",
            "a: &p /etc/ca\nb: *p",
            "x: \"\\x2d----BEGIN\"",
            "data: {k: LS0tLS1CRUdJTiBDRVJU}",
            "apiVersion: extensions/v1beta1\nkind: Ingress",
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway",
            "apiVersion: gateway.networking.k8s.io/v1alpha3\nkind: BackendTLSPolicy",
            "apiVersion: networking.istio.io/v1\nkind: Gateway",
            "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule",
        ] {
            assert_ne!(classify(doc.as_bytes()), Relevance::Skip, "{doc}");
        }
    }
}
