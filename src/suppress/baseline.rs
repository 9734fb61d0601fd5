//! Suppress, baseline: the findings a repository already has, accepted as a
//! whole so that only new ones are reported.
//!
//! In ([`render`]): a scan's findings. Out: a JSON file that lists them by
//! [`FindingKey`] — rule, component, certificates and path, never a line or a
//! message, so an edit that shifts lines leaves it valid — with a count per
//! key. In ([`Baseline::parse`], [`Baseline::apply`]): that file and a later
//! scan's findings. Out: the findings it covers (each entry up to its count,
//! in report order), suppressed, and a `stale-baseline` finding for every
//! entry that matched fewer findings than its count.

use crate::finding::{Finding, FindingKey, Location, Suppressed, SuppressedBy};
use crate::policy::Policy;
use crate::read::yaml::{self, Document, NodeId};
use crate::rules;
use crate::x509::Fingerprint;
use serde_json::json;
use std::collections::BTreeMap;

/// The baseline format version.
pub const VERSION: u32 = 1;

/// A parsed baseline file.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    /// The file, as given (`--baseline FILE`).
    pub path: String,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
struct Entry {
    key: FindingKey,
    count: usize,
    location: Location,
}

/// A baseline that cannot be used: the file, and what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// The file cannot be read.
    #[error("cannot read baseline {path}: {message}")]
    Read {
        /// The file, as given.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// The file is not a baseline.
    #[error("{path}:{line}:{column}: invalid baseline: {message}")]
    Invalid {
        /// The file, as given.
        path: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
}

/// The baseline file accepting `findings` (`stale-baseline` findings aside:
/// they are about the previous baseline).
pub fn render(findings: &[Finding]) -> String {
    let mut counts: BTreeMap<FindingKey, usize> = BTreeMap::new();
    for f in findings
        .iter()
        .filter(|f| f.rule != rules::STALE_BASELINE.id)
    {
        *counts.entry(f.key()).or_default() += 1;
    }
    let entries: Vec<_> = counts
        .into_iter()
        .map(|(k, count)| {
            json!({
                "rule": k.rule,
                "component": k.component,
                "certificates": k.certificates.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                "path": k.path,
                "count": count,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({"version": VERSION, "entries": entries}))
        .unwrap_or_default();
    s.push('\n');
    s
}

impl Baseline {
    /// Reads and parses the baseline at `path`.
    pub fn load(path: &std::path::Path) -> Result<Baseline, BaselineError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
            path: name.clone(),
            message: e.to_string(),
        })?;
        Baseline::parse(&name, &text)
    }

    /// Parses a baseline's text (JSON, read with the YAML reader for positions).
    pub fn parse(path: &str, text: &str) -> Result<Baseline, BaselineError> {
        let invalid = |line, column, message: String| BaselineError::Invalid {
            path: path.to_owned(),
            line,
            column,
            message,
        };
        let stream = yaml::parse(text, &yaml::Limits::default());
        if let Some(e) = stream.error {
            return Err(invalid(e.mark.line, e.mark.col, e.message));
        }
        let doc = stream.docs.first().filter(|d| d.root().is_some());
        let (Some(doc), 1) = (doc, stream.docs.len()) else {
            return Err(invalid(1, 1, "expected one JSON object".into()));
        };
        let p = Parser { doc, path };
        let root = p.fields(doc.root().unwrap_or(NodeId(0)), &["version", "entries"])?;
        match root.get("version") {
            Some(&v) if doc.str(v) == Some(&VERSION.to_string()) => {}
            Some(&v) => return Err(p.err(v, format!("unsupported version (expected {VERSION})"))),
            None => return Err(p.err(doc.root().unwrap_or(NodeId(0)), "no \"version\"".into())),
        }
        let mut entries = Vec::new();
        if let Some(&list) = root.get("entries") {
            if !matches!(doc.node(doc.resolve(list)).kind, yaml::Kind::Seq(_)) {
                return Err(p.err(list, "\"entries\" must be a list".into()));
            }
            for &e in doc.seq(list) {
                entries.push(p.entry(e)?);
            }
        }
        Ok(Baseline {
            path: path.to_owned(),
            entries,
        })
    }

    /// Moves the findings this baseline covers out of `findings`, each entry
    /// taking up to its count of them in report order, and returns them with a
    /// `stale-baseline` finding (unless the policy turns the rule off) for each
    /// entry that took fewer.
    pub fn apply(
        &self,
        findings: &mut Vec<Finding>,
        policy: &Policy,
    ) -> (Vec<Suppressed>, Vec<Finding>) {
        let mut left: Vec<usize> = self.entries.iter().map(|e| e.count).collect();
        let mut by_key: BTreeMap<&FindingKey, Vec<usize>> = BTreeMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            by_key.entry(&e.key).or_default().push(i);
        }
        let mut suppressed = Vec::new();
        let mut kept = Vec::with_capacity(findings.len());
        for f in std::mem::take(findings) {
            // The finding's own key first, then one per other place of it:
            // a baseline written when each reference of a certificate was
            // its own finding still matches the one finding per fault.
            let (own, others) = place_keys(&f);
            let take = |left: &[usize], k: &FindingKey| {
                by_key
                    .get(k)
                    .and_then(|list| list.iter().copied().find(|&i| left[i] > 0))
            };
            let hit = std::iter::once(&own)
                .chain(&others)
                .find_map(|k| take(&left, k));
            match hit {
                Some(i) if f.rule != rules::STALE_BASELINE.id => {
                    left[i] -= 1;
                    // Each other place takes the count its own finding had.
                    let mut skipped_hit = self.entries[i].key == own;
                    for k in &others {
                        if !skipped_hit && *k == self.entries[i].key {
                            skipped_hit = true;
                            continue;
                        }
                        if let Some(j) = take(&left, k) {
                            left[j] -= 1;
                        }
                    }
                    suppressed.push(Suppressed {
                        finding: f,
                        by: SuppressedBy::Baseline,
                        reason: format!("accepted in baseline {}", self.path),
                        at: self.entries[i].location.clone(),
                    });
                }
                _ => kept.push(f),
            }
        }
        *findings = kept;
        let mut stale = Vec::new();
        if let Some(severity) = rules::severity(policy, &rules::STALE_BASELINE) {
            for (e, left) in self.entries.iter().zip(left).filter(|(_, l)| *l > 0) {
                let matched = match e.count - left {
                    0 => "matches no finding".to_owned(),
                    n => format!("matches {n} of its {} findings", e.count),
                };
                let mut f = Finding::new(
                    rules::STALE_BASELINE.id,
                    severity,
                    e.location.clone(),
                    format!("baseline entry {} {matched}", describe(&e.key)),
                );
                f.certificates = e.key.certificates.clone();
                f.help = Some("regenerate the baseline with --write-baseline".into());
                stale.push(f);
            }
        }
        (suppressed, stale)
    }
}

/// The key of `f`, and the same key at each of its related places in the
/// scanned files (one per place, in order).
fn place_keys(f: &Finding) -> (FindingKey, Vec<FindingKey>) {
    let own = f.key();
    let others = f
        .related
        .iter()
        .filter(|r| r.location.root != usize::MAX)
        .map(|r| FindingKey {
            path: r.location.path.clone(),
            ..own.clone()
        })
        .collect();
    (own, others)
}

/// `expired in pki/a.crt (component etcd; sha256:0123456789abcdef)`.
fn describe(k: &FindingKey) -> String {
    let mut what: Vec<String> = Vec::new();
    if let Some(c) = &k.component {
        what.push(format!("component {c}"));
    }
    what.extend(
        k.certificates
            .iter()
            .map(|c| format!("sha256:{}", c.short())),
    );
    let mut s = format!("{} in {}", k.rule, k.path);
    if !what.is_empty() {
        s.push_str(&format!(" ({})", what.join("; ")));
    }
    s
}

struct Parser<'a> {
    doc: &'a Document,
    path: &'a str,
}

impl Parser<'_> {
    fn err(&self, node: NodeId, message: String) -> BaselineError {
        let n = self.doc.node(node);
        BaselineError::Invalid {
            path: self.path.to_owned(),
            line: n.start.line,
            column: n.start.col,
            message,
        }
    }

    /// A mapping whose keys are among `allowed`.
    fn fields(
        &self,
        node: NodeId,
        allowed: &[&str],
    ) -> Result<BTreeMap<String, NodeId>, BaselineError> {
        let node = self.doc.resolve(node);
        if !matches!(self.doc.node(node).kind, yaml::Kind::Map(_)) {
            return Err(self.err(node, "expected an object".into()));
        }
        let mut out = BTreeMap::new();
        for (k, v) in self.doc.entries(node) {
            let key = self.doc.str(k).unwrap_or_default();
            if !allowed.contains(&key) {
                return Err(self.err(
                    k,
                    format!("unknown key {key:?} (expected {})", allowed.join(", ")),
                ));
            }
            out.insert(key.to_owned(), v);
        }
        Ok(out)
    }

    fn string(&self, node: NodeId, what: &str) -> Result<String, BaselineError> {
        match self.doc.str(node) {
            Some(s) if !self.doc.is_null(node) => Ok(s.to_owned()),
            _ => Err(self.err(node, format!("\"{what}\" must be a string"))),
        }
    }

    fn entry(&self, node: NodeId) -> Result<Entry, BaselineError> {
        let f = self.fields(
            node,
            &["rule", "component", "certificates", "path", "count"],
        )?;
        let need = |k: &str| {
            f.get(k)
                .copied()
                .ok_or_else(|| self.err(node, format!("entry has no {k:?}")))
        };
        let rule = self.string(need("rule")?, "rule")?;
        let path = self.string(need("path")?, "path")?;
        let component = match f.get("component") {
            Some(&c) if !self.doc.is_null(c) => Some(self.string(c, "component")?),
            _ => None,
        };
        let mut certificates = Vec::new();
        if let Some(&list) = f.get("certificates") {
            for &c in self.doc.seq(list) {
                let s = self.string(c, "certificates")?;
                certificates.push(fingerprint(&s).ok_or_else(|| {
                    self.err(c, format!("{s:?} is not sha256: and 64 hex digits"))
                })?);
            }
        }
        certificates.sort();
        let count = match f.get("count") {
            None => 1,
            Some(&c) => self
                .doc
                .str(c)
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| self.err(c, "\"count\" must be a positive integer".into()))?,
        };
        let start = self.doc.node(node).start;
        Ok(Entry {
            key: FindingKey {
                rule,
                component,
                certificates,
                path,
            },
            count,
            location: Location::new(usize::MAX, self.path, start.line, start.col),
        })
    }
}

/// `sha256:` and 64 hex digits.
fn fingerprint(s: &str) -> Option<Fingerprint> {
    let bytes = hex::decode(s.strip_prefix("sha256:")?).ok()?;
    Some(Fingerprint(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding(rule: &'static str, path: &str, line: u32, cert: u8) -> Finding {
        let mut f = Finding::new(
            rule,
            Severity::Error,
            Location::new(0, path, line, 1),
            format!("at line {line}"),
        );
        f.certificates = vec![Fingerprint([cert; 32])];
        f
    }

    #[test]
    fn round_trip_ignores_lines_and_counts_repeats() {
        let old = [
            finding("expired", "a.crt", 1, 1),
            finding("malformed", "b.pem", 3, 2),
            finding("malformed", "b.pem", 9, 2),
            finding("expired", "gone.crt", 1, 3),
        ];
        let text = render(&old);
        assert!(text.contains("\"count\": 2"), "{text}");
        assert!(!text.contains("line"), "{text}");
        let b = Baseline::parse("base.json", &text).unwrap();
        let mut now = vec![
            finding("expired", "a.crt", 8, 1),
            finding("malformed", "b.pem", 10, 2),
            finding("malformed", "b.pem", 16, 2),
            finding("malformed", "b.pem", 20, 2),
        ];
        let (suppressed, stale) = b.apply(&mut now, &Policy::default());
        assert_eq!(suppressed.len(), 3);
        assert!(suppressed.iter().all(|s| s.by == SuppressedBy::Baseline));
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].location.line, 20);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].rule, "stale-baseline");
        assert!(
            stale[0].message.contains("expired in gone.crt"),
            "{}",
            stale[0].message
        );
        assert_eq!(stale[0].location.path, "base.json");
    }

    #[test]
    fn partly_used_entries_are_stale() {
        let b = Baseline::parse(
            "b.json",
            &render(&[finding("expired", "a", 1, 1), finding("expired", "a", 2, 1)]),
        )
        .unwrap();
        let (_, stale) = b.apply(&mut vec![finding("expired", "a", 5, 1)], &Policy::default());
        assert!(
            stale[0].message.contains("matches 1 of its 2 findings"),
            "{}",
            stale[0].message
        );
    }

    #[test]
    fn invalid_files_say_where() {
        for (text, want) in [
            ("{\"version\": 2, \"entries\": []}", "b.json:1:13: invalid baseline: unsupported version"),
            ("{\"version\": 1, \"entries\": [{\"rule\": \"expired\"}]}", "b.json:1:28: invalid baseline: entry has no \"path\""),
            ("{\"version\": 1, \"entries\": [{\"rule\": \"x\", \"path\": \"p\", \"certificates\": [\"md5:00\"]}]}", "is not sha256:"),
            ("{\"version\": 1,", "b.json:"),
            ("", "expected one JSON object"),
        ] {
            let e = Baseline::parse("b.json", text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
