//! Certificates in YAML: inline PEM anywhere, base64 where Kubernetes keeps it.
//!
//! Any string holding a PEM block is read. Base64 is decoded only where the
//! format says it is certificate data — `Secret.data`, `ConfigMap.binaryData`,
//! `caBundle` (admission webhooks, `APIService`, CRD conversion) and kubeconfig
//! `certificate-authority-data` / `client-certificate-data` /
//! `client-key-data` — because elsewhere base64 is just as likely a password.
//! A kubeconfig embedded in a string (a ConfigMap or Secret value) is parsed
//! once more, one level deep. A value tagged `!!binary` is base64 by
//! definition (YAML 1.1 binary type): it is decoded wherever it is and read
//! as PEM or a DER certificate; other tags (`!vault`, `!Ref`, `!foo`) leave
//! the value an opaque string, still searched for PEM.
//!
//! A mapping key repeated in one mapping is a `malformed` warning at the
//! repetition: YAML requires unique keys and strict readers (Go's yaml.v3,
//! Kubernetes' strict field validation) reject the file, while certdrift,
//! like PyYAML and Ruby's Psych (Hiera), keeps the last value.

use super::prefilter::Relevance;
use super::{is_trust_name, ExtractOptions, Sink};
use crate::discover::Candidate;
use crate::finding::{Location, Severity};
use crate::read::text::Lines;
use crate::read::yaml::{self, Document, NodeId, PathSeg, Style};
use std::collections::HashMap;

/// How deep YAML found inside a YAML string is followed (a kubeconfig in a
/// values file's manifest string, base64 of values YAML in a Secret). Each
/// level reads at most the text of the level above (aliases are not
/// followed), so this bounds the work at this many times the file.
const MAX_NESTING: u8 = 3;

/// Most duplicate-key warnings per file; the rest are counted in one more.
const MAX_DUPLICATE_KEY_WARNINGS: usize = 20;

/// Keys whose value is base64 certificate or key data wherever they appear.
const BASE64_KEYS: &[&str] = &[
    "caBundle",
    "certificate-authority-data",
    "client-certificate-data",
    "client-key-data",
];

/// Where locations inside one YAML text point.
enum Frame<'t> {
    /// The file itself, or a literal block scalar of it: positions are
    /// real once `line_base` (the lines before the parsed document) and
    /// `col_shift` (the block scalar's indentation) are added.
    File {
        text: &'t str,
        lines: &'t Lines,
        line_base: u32,
        /// Lines of the file before `text` (a deferred document's, or a
        /// block scalar's first content line less one).
        line_offset: u32,
        /// Columns before `text`'s lines (a block scalar's indentation).
        col_shift: u32,
    },
    /// YAML inside a value: every fact points at that value.
    Nested(Location),
}

/// Extracts the documents of `text`: `parts` are its documents with
/// whether each can hold a fact ([`super::prefilter::parts`]).
pub(super) fn extract_yaml(
    sink: &mut Sink<'_>,
    text: &str,
    lines: &Lines,
    parts: Vec<(std::ops::Range<usize>, Relevance)>,
    opts: &ExtractOptions,
) {
    let mut duplicates = 0;
    for (range, relevance) in parts {
        match relevance {
            Relevance::ServiceOnly => {
                let line_base = lines.line_col(text, range.start).0 - 1;
                sink.facts.deferred.push(super::Deferred {
                    text: text[range].to_owned(),
                    line_base,
                });
            }
            Relevance::Parse => {
                let part = Part::new(text, lines, range, 0);
                extract_part(sink, part, true, &mut duplicates, opts);
            }
            Relevance::Skip if !opts.prefilter => {
                let part = Part::new(text, lines, range, 0);
                extract_part(sink, part, false, &mut duplicates, opts);
            }
            Relevance::Skip => {}
        }
    }
    if duplicates > MAX_DUPLICATE_KEY_WARNINGS {
        let loc = sink.loc(1, 1);
        let message = format!(
            "{} more duplicate keys in this file (only the first {MAX_DUPLICATE_KEY_WARNINGS} are listed)",
            duplicates - MAX_DUPLICATE_KEY_WARNINGS
        );
        sink.problem(loc, Severity::Warning, message);
    }
}

/// One YAML document (or stream) to parse: `text[range]`, where `lines`
/// indexes `text` and `text` starts `line_offset` lines into its file.
struct Part<'t> {
    text: &'t str,
    lines: &'t Lines,
    range: std::ops::Range<usize>,
    line_offset: u32,
    /// Columns before `text`'s lines in the file (a block scalar's indentation).
    col_shift: u32,
    /// How many YAML strings deep `text` is (0: the file itself).
    depth: u8,
}

impl<'t> Part<'t> {
    fn new(
        text: &'t str,
        lines: &'t Lines,
        range: std::ops::Range<usize>,
        line_offset: u32,
    ) -> Self {
        Part {
            text,
            lines,
            range,
            line_offset,
            col_shift: 0,
            depth: 0,
        }
    }
}

/// Parses a [deferred](super::Deferred) document of `cand` and returns the
/// Services it holds and the problems met (YAML syntax, duplicate keys),
/// and whether its YAML was cut short.
pub(crate) fn deferred_services(
    cand: &Candidate,
    doc: &super::Deferred,
    opts: &ExtractOptions,
) -> (Vec<super::kube::Object>, Vec<super::Problem>, bool) {
    let mut sink = Sink::new(cand, opts);
    let lines = Lines::new(&doc.text);
    let part = Part::new(&doc.text, &lines, 0..doc.text.len(), doc.line_base);
    extract_part(&mut sink, part, true, &mut 0, opts);
    let f = sink.facts;
    let services = f
        .objects
        .into_iter()
        .filter(|o| matches!(o.body, super::kube::Body::Service { .. }))
        .collect();
    (services, f.problems, f.incomplete)
}

/// Parses and extracts the documents in `part`. YAML problems are reported
/// only when the part is `relevant` (can hold a fact); duplicate keys are
/// counted in `duplicates` across the file's parts.
fn extract_part(
    sink: &mut Sink<'_>,
    part: Part<'_>,
    relevant: bool,
    duplicates: &mut usize,
    opts: &ExtractOptions,
) {
    let Part {
        text,
        lines,
        range,
        line_offset,
        col_shift,
        depth,
    } = part;
    let start = range.start;
    let part = &text[range];
    let stream = yaml::parse(part, &opts.yaml_limits);
    let cand = sink.cand;
    let file_at = |off: usize| {
        let (l, c) = lines.line_col(text, start + off);
        Location::new(cand.root, cand.rel.clone(), l + line_offset, c + col_shift)
    };
    if depth > 0 && stream.error.is_some() {
        // YAML-looking text in a string that does not parse as YAML (a
        // script quoting a manifest): read as text, as any string is.
        sink.pem_text(
            part.as_bytes(),
            "file (YAML in a string)",
            false,
            true,
            &file_at,
        );
        return;
    }
    let file_trust = is_trust_name(super::file_name(&cand.rel));
    if stream.error.is_some() && ["{{", "{%", "<%"].iter().any(|t| part.contains(t)) {
        // An unrendered template (a Helm chart's `templates/`, Jinja, a
        // Puppet ERB/EPP template of a kubeconfig): not YAML yet, and not a
        // fault; read for literals only (there are none in a part the
        // prefilter would skip).
        if !relevant {
            return;
        }
        template_part(sink, part, file_trust, &file_at, opts);
        return;
    }
    let line_base = lines.line_col(text, start).0 - 1 + line_offset;
    let frame = Frame::File {
        text,
        lines,
        line_base,
        line_offset,
        col_shift,
    };
    let mut end_char = 0;
    for doc in &stream.docs {
        extract_doc(sink, doc, &frame, depth, opts);
        if let Some(r) = doc.root() {
            end_char = end_char.max(doc.node(r).end.index);
        }
        // A repeated key matters only where one of its values holds TLS
        // material: which of the two is read then decides what is trusted
        // or served. Elsewhere (most Helm values) it is a style issue.
        let found: Vec<(NodeId, NodeId)> = if relevant {
            doc.duplicate_entries()
                .into_iter()
                .filter(|(a, b)| holds_tls(doc, a.1) || holds_tls(doc, b.1))
                .map(|(a, b)| (a.0, b.0))
                .collect()
        } else {
            Vec::new()
        };
        for (first, again) in found {
            *duplicates += 1;
            if *duplicates > MAX_DUPLICATE_KEY_WARNINGS {
                continue;
            }
            let (f, a) = (doc.node(first).start, doc.node(again).start);
            let loc = sink.loc(a.line + line_base, a.col + col_shift);
            let message = format!(
                "duplicate key {} in one mapping (first at line {} column {}): YAML requires \
                 unique keys and strict readers reject the file; certdrift, like most \
                 readers, uses the last value",
                show_key(doc.str(again).unwrap_or_default()),
                f.line + line_base,
                f.col + col_shift
            );
            sink.problem(loc, Severity::Warning, message);
        }
    }
    let Some(err) = &stream.error else { return };
    if !relevant {
        return;
    }
    let loc = sink.loc(err.mark.line + line_base, err.mark.col + col_shift);
    let limit = !matches!(
        err.kind,
        yaml::ErrorKind::Syntax | yaml::ErrorKind::UnknownAnchor
    );
    let what = match err.kind {
        yaml::ErrorKind::Internal => "the YAML reader failed",
        _ if limit => "YAML limit reached",
        _ => "YAML does not parse",
    };
    sink.problem(
        loc.clone(),
        Severity::Warning,
        format!(
            "{what}: {}; the rest of the document was only searched for PEM blocks and base64 of PEM",
            err.message
        ),
    );
    // Whatever follows the last complete document is still searched as
    // text, so a broken tail cannot hide a key: PEM blocks, and base64 of
    // PEM wherever it stands (a Secret's `tls.key: LS0t…`).
    let from = part
        .char_indices()
        .nth(end_char)
        .map(|(b, _)| b)
        .unwrap_or(part.len());
    let rest = &part.as_bytes()[from..];
    let at = |off: usize| file_at(from + off);
    sink.pem_text(rest, "file (after YAML error)", file_trust, true, &at);
    let unread = sink.base64_pem_text(rest, "file (after YAML error)", file_trust, true, &at);
    // Fail closed: a reader limit, or TLS material found and not read, is
    // a gap in the scan (exit 2 unless --allow-incomplete).
    if limit || unread > 0 {
        sink.facts.incomplete = true;
        let cause = if limit {
            format!("{what} at line {} ({})", loc.line, err.message)
        } else {
            format!(
                "{what} at line {}, and {unread} base64 PEM value(s) after it could not be decoded",
                loc.line
            )
        };
        sink.facts.gaps.push(cause);
    }
}

/// Reads an unevaluated template (a Helm chart's `templates/`, Jinja) that
/// does not parse as YAML: PEM blocks anywhere, and base64 literals on
/// `key: value` lines (a Secret's `tls.key: LS0t…` inside `{{- range }}`),
/// judged as the same key's value in a parsed document would be. The file
/// is listed in the report's summary as read this way.
fn template_part(
    sink: &mut Sink<'_>,
    part: &str,
    file_trust: bool,
    file_at: &dyn Fn(usize) -> Location,
    opts: &ExtractOptions,
) {
    sink.pem_text(
        part.as_bytes(),
        "file (template)",
        file_trust,
        true,
        file_at,
    );
    let mut offset = 0;
    for line in part.split_inclusive('\n') {
        if let Some((key, value, at)) = base64_line(line) {
            let via = format!("file (template) key {key}");
            let trust = is_trust_name(key);
            let loc = file_at(offset + at);
            base64_value(sink, value, key, &via, trust, loc, 0, false, opts);
        }
        offset += line.len();
    }
    sink.facts.template = true;
}

/// `key: value` where value is a base64 literal of at least 16 characters
/// (optionally quoted): the key, the value and the value's byte offset.
fn base64_line(line: &str) -> Option<(&str, &str, usize)> {
    let body = line.trim_end();
    let indent = body.len() - body.trim_start().len();
    let mut rest = &body[indent..];
    let mut at = indent;
    while let Some(r) = rest.strip_prefix("- ") {
        let r2 = r.trim_start();
        at += rest.len() - r2.len();
        rest = r2;
    }
    let colon = rest.find(": ")?;
    let key = rest[..colon].trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
    {
        return None;
    }
    let after = &rest[colon + 1..];
    let value = after.trim_start();
    at += colon + 1 + (after.len() - value.len());
    let (value, at) = match value.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) => {
            let inner = value[1..].strip_suffix(*q as char)?;
            (inner, at + 1)
        }
        _ => (value, at),
    };
    let is_b64 = value.len() >= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b));
    is_b64.then_some((key, value, at))
}

/// A mapping key for a message: quoted when short, else only its length.
fn show_key(key: &str) -> String {
    if key.chars().count() <= 40 && !key.chars().any(char::is_control) {
        format!("{key:?}")
    } else {
        format!("of {} characters", key.chars().count())
    }
}

/// A Kubernetes object: `kind` plus `metadata`.
#[derive(Clone)]
struct KubeObj {
    kind: String,
    name: String,
    namespace: Option<String>,
}

impl KubeObj {
    fn of(doc: &Document, node: NodeId) -> Option<KubeObj> {
        let kind = doc.str(doc.get(node, "kind")?)?.to_owned();
        doc.str(doc.get(node, "apiVersion")?)?;
        let meta = doc.get(node, "metadata");
        let field = |k: &str| meta.and_then(|m| doc.get(m, k)).and_then(|v| doc.str(v));
        Some(KubeObj {
            kind,
            name: field("name").unwrap_or("?").to_owned(),
            namespace: field("namespace").map(str::to_owned),
        })
    }

    fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {}/{}", self.kind, ns, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// The object a value belongs to (`List` items included) and the path inside it.
fn object_for<'p>(
    doc: &Document,
    root: NodeId,
    root_obj: &Option<KubeObj>,
    path: &'p [PathSeg],
) -> (Option<KubeObj>, &'p [PathSeg]) {
    if let (Some(o), [PathSeg::Key(items), PathSeg::Index(i), rest @ ..]) = (root_obj, path) {
        if o.kind.ends_with("List") && items == "items" {
            let item = doc
                .get(root, "items")
                .and_then(|l| doc.seq(l).get(*i).copied());
            if let Some(item) = item {
                return (KubeObj::of(doc, item), rest);
            }
        }
    }
    (root_obj.clone(), path)
}

fn path_string(path: &[PathSeg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            PathSeg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// What a scalar is, as far as certificates go.
enum Holds {
    Pem,
    Base64,
    /// A `!!binary` scalar: base64 whatever its key.
    Binary,
    /// YAML that kubectl would load (objects, a kubeconfig): parsed again.
    Yaml,
}

fn extract_doc(
    sink: &mut Sink<'_>,
    doc: &Document,
    frame: &Frame<'_>,
    depth: u8,
    opts: &ExtractOptions,
) {
    let Some(root) = doc.root() else { return };
    // Which value node became which certificate bundle: the object
    // extractor links `Secret` keys and `caBundle`s to them.
    let mut bundles: HashMap<NodeId, u32> = HashMap::new();
    let root_obj = KubeObj::of(doc, root);
    let root_kind = root_obj.as_ref().map(|o| o.kind.as_str());
    let is_list = root_kind.is_some_and(|k| k.ends_with("List"));
    doc.visit_scalars(|id, path| {
        let Some(value) = doc.str(id) else { return };
        let last_key = path.iter().rev().find_map(|s| match s {
            PathSeg::Key(k) => Some(k.as_str()),
            PathSeg::Index(_) => None,
        });
        // Cheap tests first: most scalars in a manifest hold nothing of interest.
        let pem = crate::read::pem::looks_like_pem(value.as_bytes());
        let kube_data = matches!(root_kind, Some("Secret" | "ConfigMap")) || is_list;
        // Base64 of a PEM block under any key (a Helm values file's
        // `tls: {crt: LS0t…, key: LS0t…}` on its way into a Secret): the
        // text itself says what it is, so a key or certificate is not missed.
        let named_b64 = last_key.is_some_and(|k| BASE64_KEYS.contains(&k))
            || value
                .trim_start()
                .starts_with(super::prefilter::BASE64_BEGIN);
        // Annotations are not applied: `last-applied-configuration` is the
        // object's own earlier copy (its strings are still searched).
        let in_annotations = path
            .windows(2)
            .any(|w| matches!(w, [PathSeg::Key(m), PathSeg::Key(a)] if m == "metadata" && a == "annotations"));
        let nested = depth < MAX_NESTING && !in_annotations && holds_yaml(value);
        let binary = matches!(
            &doc.node(id).kind,
            yaml::Kind::Scalar { tag: Some(t), .. } if t == "!!binary"
        );
        if !(pem || kube_data || named_b64 || nested || binary) {
            return;
        }
        let (obj, inner) = object_for(doc, root, &root_obj, path);
        let kind = obj.as_ref().map(|o| o.kind.as_str());
        let data_key = match (kind, inner) {
            (Some("Secret"), [PathSeg::Key(d), PathSeg::Key(k)])
                if d == "data" || d == "stringData" =>
            {
                Some(k.as_str())
            }
            (Some("ConfigMap"), [PathSeg::Key(d), PathSeg::Key(k)])
                if d == "data" || d == "binaryData" =>
            {
                Some(k.as_str())
            }
            _ => None,
        };
        let holds = if nested {
            Holds::Yaml
        } else if pem {
            Holds::Pem
        } else if binary {
            Holds::Binary
        } else if match (kind, inner) {
            (Some("Secret"), [PathSeg::Key(d), PathSeg::Key(_)]) => d == "data",
            (Some("ConfigMap"), [PathSeg::Key(d), PathSeg::Key(_)]) => d == "binaryData",
            _ => named_b64,
        } {
            Holds::Base64
        } else {
            return;
        };
        let via = match (&obj, data_key) {
            (Some(o), Some(k)) => format!("{} key {k}", o.describe()),
            (Some(o), None) => format!("{} {}", o.describe(), path_string(inner)),
            (None, _) => format!("key {}", path_string(path)),
        };
        // `ca.crt`, `tls.ca`, and `puppet_ca_content: {host: PEM}`: the value's
        // key or its parent's names the trust bundle.
        let trust = path
            .iter()
            .rev()
            .filter_map(|s| match s {
                PathSeg::Key(k) => Some(k.as_str()),
                PathSeg::Index(_) => None,
            })
            .take(2)
            .any(is_trust_name);
        let node = doc.node(id);
        let cand = sink.cand;
        let at = |off: usize| value_location(cand, frame, node, value, off);
        let bundle = match holds {
            Holds::Pem => Some(sink.pem_text(value.as_bytes(), &via, trust, true, &at).0),
            Holds::Base64 | Holds::Binary => {
                let key = data_key.or(last_key).unwrap_or("");
                let loc = at(0);
                let binary = matches!(holds, Holds::Binary);
                base64_value(sink, value, key, &via, trust, loc, depth, binary, opts)
            }
            Holds::Yaml => {
                nested_in_scalar(sink, frame, node, value, depth, opts);
                None
            }
        };
        if let Some(b) = bundle {
            bundles.insert(id, b);
        }
    });
    let cand = sink.cand;
    let locate = |id: NodeId| {
        let node = doc.node(id);
        match frame {
            Frame::Nested(loc) => loc.clone(),
            Frame::File {
                line_base,
                col_shift,
                ..
            } => Location::new(
                cand.root,
                cand.rel.clone(),
                node.start.line + line_base,
                node.start.col + col_shift,
            ),
        }
    };
    sink.facts
        .objects
        .extend(super::kube::objects(doc, root, &bundles, &locate));
}

fn looks_like_kubeconfig(s: &str) -> bool {
    BASE64_KEYS[1..].iter().any(|k| s.contains(k))
}

/// Whether a string is itself YAML that kubectl would load: a kubeconfig,
/// or a stream of Kubernetes objects (a values file's `extraManifests`, a
/// ConfigMap holding manifests), recognised as a file's content is.
fn holds_yaml(s: &str) -> bool {
    s.contains('\n') && (looks_like_kubeconfig(s) || crate::discover::sniff_yaml("", s.as_bytes()))
}

/// Reads the YAML in scalar `node` (whose value is `value`). In a literal
/// block scalar every value line is a line of the text above it, shifted
/// by the block's indentation, so facts keep their own line and column;
/// in any other style (quoted, folded) they point at the value.
fn nested_in_scalar(
    sink: &mut Sink<'_>,
    frame: &Frame<'_>,
    node: &yaml::Node,
    value: &str,
    depth: u8,
    opts: &ExtractOptions,
) {
    let literal = matches!(
        node.kind,
        yaml::Kind::Scalar {
            style: Style::Literal,
            ..
        }
    );
    if let (
        true,
        Frame::File {
            text,
            lines,
            line_base,
            line_offset,
            col_shift,
        },
    ) = (literal, frame)
    {
        // Content starts on the line after the indicator; the block's
        // indentation is that of its first non-blank line.
        let first = node.start.line + line_base + 1;
        let indent = value
            .split('\n')
            .enumerate()
            .find(|(_, l)| !l.trim().is_empty())
            .and_then(|(k, l)| {
                let file_line = first + k as u32 - line_offset;
                let lead = (l.len() - l.trim_start_matches(' ').len()) as u32;
                lines.indent_col(text, file_line).checked_sub(1 + lead)
            });
        if let Some(indent) = indent {
            let inner = Lines::new(value);
            let part = Part {
                text: value,
                lines: &inner,
                range: 0..value.len(),
                line_offset: first - 1,
                col_shift: col_shift + indent,
                depth: depth + 1,
            };
            extract_part(sink, part, true, &mut 0, opts);
            return;
        }
    }
    let loc = value_location(sink.cand, frame, node, value, 0);
    nested_yaml(sink, value.as_bytes(), loc, depth, opts);
}

/// Location of byte `off` inside a scalar's value.
fn value_location(
    cand: &Candidate,
    frame: &Frame<'_>,
    node: &yaml::Node,
    value: &str,
    off: usize,
) -> Location {
    let loc = |l: u32, c: u32| Location::new(cand.root, cand.rel.clone(), l, c);
    match frame {
        Frame::Nested(loc) => loc.clone(),
        Frame::File {
            text,
            lines,
            line_base,
            line_offset,
            col_shift,
        } => {
            let line = node.start.line + line_base;
            let style = match &node.kind {
                yaml::Kind::Scalar { style, .. } => *style,
                _ => Style::Plain,
            };
            match style {
                Style::Literal | Style::Folded => {
                    // Block scalar: content starts on the line after the indicator,
                    // one source line per value line (literal style).
                    let before = value.get(..off).unwrap_or(value);
                    let line = line + 1 + before.matches('\n').count() as u32;
                    loc(line, lines.indent_col(text, line - line_offset) + col_shift)
                }
                _ => loc(line, node.start.col + col_shift),
            }
        }
    }
}

/// What a key name says its base64 value should hold.
fn names_certificate(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    is_trust_name(key)
        || [".crt", ".pem", ".cer", ".der"]
            .iter()
            .any(|e| lower.ends_with(e))
        || lower.contains("cert")
}

#[allow(clippy::too_many_arguments)]
fn base64_value(
    sink: &mut Sink<'_>,
    value: &str,
    key: &str,
    via: &str,
    trust: bool,
    loc: Location,
    depth: u8,
    binary: bool,
    opts: &ExtractOptions,
) -> Option<u32> {
    // Base64 in a plain scalar has no blanks: copied only when it has.
    let compact: std::borrow::Cow<'_, str> = if value.chars().any(char::is_whitespace) {
        value.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        value.into()
    };
    let scaffold = super::placeholder(value).or_else(|| super::placeholder(&compact));
    if let Some(p) = scaffold {
        // `caBundle: Cg==`, base64 of "hush hush hush", of a lone BEGIN
        // line: a slot waiting for its value, not a broken certificate.
        let bundle = sink.new_bundle(loc, via, trust);
        sink.placeholder(bundle, p);
        return Some(bundle);
    }
    let decoded = match super::placeholder::lenient_base64(&compact) {
        Some(d) => d,
        None => {
            if names_certificate(key) || key.to_ascii_lowercase().contains("key") {
                sink.problem(
                    loc,
                    Severity::Error,
                    format!("{via}: value is not valid base64"),
                );
            } else if binary {
                sink.problem(
                    loc,
                    Severity::Warning,
                    format!("{via}: !!binary value is not valid base64"),
                );
            }
            return None;
        }
    };
    if depth < MAX_NESTING && std::str::from_utf8(&decoded).is_ok_and(holds_yaml) {
        // Base64 of YAML (a kubeconfig in a Secret, values in linkerd's
        // `linkerd-config-overrides`): read as YAML, facts at the value.
        nested_yaml(sink, &decoded, loc, depth, opts);
        return None;
    }
    if crate::read::pem::looks_like_pem(&decoded) {
        let l = loc.clone();
        return Some(sink.pem_text(&decoded, via, trust, true, &|_| l.clone()).0);
    }
    if let Some(kind) = super::der_private_key_kind(&decoded) {
        sink.facts.keys.push(super::KeySighting {
            location: loc,
            kind: kind.to_owned(),
            via: via.to_owned(),
            id: Some(super::der_key_id(&decoded)),
        });
        return None;
    }
    if decoded.first() == Some(&0x30) && crate::x509::is_crl(&decoded) {
        // A DER CRL (`ca.crl` in a Secret): inventoried, not a certificate.
        sink.der_crl(&decoded, loc, via);
        return None;
    }
    // `!!binary` says nothing of what the bytes are: any DER certificate counts.
    let der_cert = names_certificate(key) || (binary && crate::x509::parse(&decoded).is_ok());
    if decoded.first() == Some(&0x30) && der_cert {
        let bundle = sink.new_bundle(loc.clone(), via, trust);
        sink.der_cert(&decoded, loc, via, bundle, trust);
        return Some(bundle);
    }
    if names_certificate(key) && !key.to_ascii_lowercase().contains("key") {
        sink.problem(
            loc,
            Severity::Error,
            format!("{via}: base64 value holds neither PEM nor a DER certificate"),
        );
    }
    None
}

/// YAML inside a value (a kubeconfig in a ConfigMap): facts point at the
/// value. Text that does not parse is searched for PEM blocks instead.
fn nested_yaml(sink: &mut Sink<'_>, bytes: &[u8], loc: Location, depth: u8, opts: &ExtractOptions) {
    let text = String::from_utf8_lossy(bytes);
    let stream = yaml::parse(&text, &opts.yaml_limits);
    if stream.error.is_some() {
        sink.pem_text(
            text.as_bytes(),
            "file (YAML in a string)",
            false,
            true,
            &|_| loc.clone(),
        );
        return;
    }
    let frame = Frame::Nested(loc);
    for doc in &stream.docs {
        extract_doc(sink, doc, &frame, depth + 1, opts);
    }
}

/// Whether the subtree at `node` holds a scalar with a PEM marker or base64
/// of one (aliases are not followed: what they point at is checked where
/// it stands). Bounded by the document's size.
fn holds_tls(doc: &yaml::Document, node: NodeId) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match &doc.node(n).kind {
            yaml::Kind::Scalar { value, .. } => {
                if crate::read::text::has_tls_marker(value.as_bytes()) {
                    return true;
                }
            }
            yaml::Kind::Seq(items) => stack.extend(items.iter().copied()),
            yaml::Kind::Map(entries) => stack.extend(entries.iter().map(|e| e.1)),
            yaml::Kind::Alias(_) => {}
        }
    }
    false
}
