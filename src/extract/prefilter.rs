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
//!   trust-manager kinds, kubeconfig `Config`);
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
//! The test `tests/perf_equivalence.rs` scans the test trees and a
//! generated corpus with the prefilter on and off and compares the reports
//! byte for byte. YAML syntax and limit problems are reported only for
//! documents that pass this filter, with or without it: a document that
//! cannot hold a certificate fact is not certdrift's to lint.

use aho_corasick::{packed, AhoCorasick};
use std::ops::Range;
use std::sync::LazyLock;

/// `-----BEGIN` in base64, starting a 3-byte group (at the start of an
/// encoded PEM block).
pub const BASE64_BEGIN: &str = "LS0tLS1CRUdJT";

/// Byte strings whose presence makes a document worth parsing.
const NEEDLES: &[&str] = &[
    "---BEGIN ",
    // base64("-----BEGIN") at offsets 0, 1 and 2 of a 3-byte group.
    BASE64_BEGIN,
    "0tLS0tQkVHSU",
    "tLS0tLUJFR0lO",
    // Kinds kept whatever their content (`kube::object`).
    "Secret",
    "ConfigMap",
    "Service",
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
];

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
    fn is_match(&self, doc: &[u8]) -> bool {
        match self {
            Matcher::Packed(s) => s.find(doc).is_some(),
            Matcher::Automaton(a) => a.is_match(doc),
        }
    }
}

static MATCHER: LazyLock<Matcher> =
    LazyLock::new(
        || match packed::Config::new().builder().extend(NEEDLES).build() {
            Some(s) => Matcher::Packed(s),
            None => Matcher::Automaton(
                AhoCorasick::new(NEEDLES).expect("the prefilter's needles are valid patterns"),
            ),
        },
    );

/// Whether the document `doc` can hold a fact (see the module docs).
pub fn may_hold_facts(doc: &[u8]) -> bool {
    let (a, b, c) = HIDERS;
    memchr::memchr3(a, b, c, doc).is_some() || MATCHER.is_match(doc) || has_path_scalar(doc)
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

/// The documents of `text` (see [`documents`]), each with whether it
/// [may hold facts](may_hold_facts).
pub fn parts(text: &str) -> Vec<(Range<usize>, bool)> {
    documents(text)
        .into_iter()
        .map(|r| {
            let relevant = may_hold_facts(&text.as_bytes()[r.clone()]);
            (r, relevant)
        })
        .collect()
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
    fn plain_deployment_is_skipped() {
        let doc = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app.kubernetes.io/name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example.org/web:1.0\n        env:\n        - {name: A, value: \"abc/def\"}\n";
        assert!(!may_hold_facts(doc));
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
        ] {
            assert!(may_hold_facts(doc.as_bytes()), "{doc}");
        }
    }
}
