//! Puppet Hiera 5 lookups over a repository, with the origin (file, line, column) of every value.
//!
//! In: a [`FileSource`] and the report-relative path of a `hiera.yaml` (version 5). Out: a
//! [`Lookup`] per key like `puppet lookup KEY --merge M --explain`: the value (every node keeps
//! the [`Origin`] of the YAML that set it), the hierarchy levels/files tried ([`Step`]) and
//! [`Note`]s about what could not be resolved or modelled. Files are parsed once and cached in
//! the [`Hiera`]; a lookup never panics and is bounded on hostile data.
//!
//! ## Semantics (Puppet 7, Hiera 5) and decisions
//!
//! * **Config**: `version: 5` only (anything else is a [`HieraError`]). `defaults` (`datadir`,
//!   `data_hash` / `lookup_key` / `data_dig`), `hierarchy` levels with `path`, `paths`, `glob`,
//!   `globs`, `mapped_paths: [fact, var, template]`, per-level `datadir`. No `hierarchy` = the
//!   Puppet default (`common.yaml` in `data`). Relative datadirs are relative to the directory
//!   of the config file; absolute ones (and absolute paths) go through
//!   [`HieraOptions::map_paths`] (longest prefix wins) and are otherwise skipped with a note.
//! * **Backends**: `yaml_data`, `json_data` (read with the YAML reader) and `eyaml_lookup_key`
//!   (read as YAML; `ENC[...]` strings are kept verbatim: never decrypted, never interpolated).
//!   Other function names go through [`HieraOptions::functions`] (default:
//!   `wmflib::expand_path` → [`Builtin::ExpandPath`]); unmapped functions, `hocon_data`,
//!   `hiera3_backend` and `uri`/`uris` levels (HTTP ENCs) are skipped with a note.
//! * **Level path interpolation**: `%{::x}`, `%{x}`, `%{facts.a.b}`, `%{trusted.x}`,
//!   `%{scope('x')}`, `%{literal('%')}`. An unknown variable interpolates to `''` as in Puppet;
//!   the step records it ([`Step::detail`]). `lookup()`/`alias()` are not allowed there (note).
//! * **`wmflib::expand_path`** (the real Ruby function): level path `P`, key `a::b::c` → file
//!   `P/a/b.yaml`; a key without `::` (or `lookup_options`) → `P.yaml`. If the key is not there
//!   and [`HieraOptions::expand_path_scan`] is on (default), `P.yaml` and every `*.yaml` under
//!   `P/` (sorted) are scanned and the first file with the key wins — with a note, because
//!   Puppet itself would not see a value in the wrong file. `lookup_options` are never scanned.
//! * **Interpolation in data** (strings in values and map keys, recursively):
//!   `%{lookup('k')}` / `%{hiera('k')}` (string form), `%{alias('k')}` (only as the entire
//!   string; the value keeps its type), `%{literal('x')}`, `%{scope('x')}` and variables as
//!   above. A missing key or variable interpolates to `''` (Puppet: `lookup` with default `''`)
//!   with a note. Lookup loops (key stack), more than 32 nested lookups, a string over 1 MiB or
//!   an exhausted per-lookup budget (1,000,000 nodes / 64 MiB produced) leave the `%{...}` text
//!   unresolved with a note. Sub-lookups use the key's `lookup_options` and are memoized within
//!   one top-level lookup. Dotted keys (`a.b.0`) dig into the merged value of the root key
//!   (with `first`, a root found without the sub-key is "not found", as in Puppet).
//!   Values are walked with a heap stack; Rust recursion only happens per nested lookup.
//! * **Merges** (found values in priority order, highest first):
//!   `first`; `unique` (arrays flattened, scalars as one-element arrays, duplicates removed,
//!   highest priority first; hashes are ignored with a note); `hash` (top-level keys, higher
//!   priority wins, key order as Ruby's `lower.merge(higher)`); `deep` as Puppet's
//!   `DeepMerge.deep_merge!(higher, lower)`: hashes merge recursively, scalars take the higher
//!   value, a `~` at higher priority does not override, and **arrays are unioned with the lower
//!   priority elements first** (`lower | higher`, duplicates removed, not flattened) — that is
//!   what Puppet does with the default `merge_hash_arrays: false`. The `merge_hash_arrays`,
//!   `sort_merged_arrays` and `knockout_prefix` options are honoured when given in
//!   `lookup_options`. Each leaf keeps its own origin.
//! * **`lookup_options`**: read from every level (hash merge, first wins per key), matched on the
//!   root key: the exact key first, then keys starting with `^` as regular expressions (a small
//!   linear-time engine: literals, `.`, classes, `\d\w\s`, groups, `|`, `* + ? {m,n}`, anchors;
//!   other syntax is reported in a note and the pattern ignored). Used when `merge` is `None`.
//! * **Origins**: a scalar points at the scalar; a map or list that is the value of a key points
//!   at the key (the line that "sets" it); values merged in with `<<:` point at the anchored
//!   map. An alias keeps the position of the `*alias` for scalars. (Key order after `<<:`:
//!   explicit keys first, then merged-in ones — the values are what Ruby's YAML gives.)
//! * **Notes**: load-time problems (levels skipped whatever the facts) are in
//!   [`Hiera::notes`] once; each lookup's [`Lookup::notes`] has what happened in that lookup
//!   (interpolation, loops, caps, bad data files, skips that depend on facts); skipped levels
//!   also show in [`Lookup::explain`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::read::source::FileSource;
use crate::read::yaml::{self, Kind, NodeId, Style};

/// Most nodes one conversion / one top-level lookup may produce (alias bombs stop here).
pub const MAX_VALUE_NODES: usize = 1_000_000;
/// Most string bytes one conversion / one top-level lookup may produce.
pub const MAX_VALUE_BYTES: usize = 64 << 20;
/// Longest string an interpolation may produce.
pub const MAX_STRING_BYTES: usize = 1 << 20;
/// Deepest value (nesting of lists/maps) produced; deeper data is reported, not built.
pub const MAX_VALUE_DEPTH: usize = 200;
/// Most lookups nested through interpolation.
const MAX_NESTED_LOOKUPS: usize = 32;
/// Most notes kept per lookup (the rest are counted).
const MAX_NOTES: usize = 200;
/// Largest compiled `lookup_options` regular expression (instructions).
const MAX_REGEX_PROGRAM: usize = 10_000;
/// Longest text a regular expression is matched against.
const MAX_REGEX_INPUT: usize = 10_000;

// ---------------------------------------------------------------------------------------------
// Values

/// A data value with where it came from.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Value {
    /// What it is.
    pub kind: ValueKind,
    /// Where it was set.
    pub origin: Origin,
}

/// The shape of a [`Value`].
#[derive(Clone, Debug, PartialEq, Default)]
pub enum ValueKind {
    /// `~`, `null`, empty.
    #[default]
    Null,
    /// `true`/`false` (also YAML 1.1 `yes`/`no`/`on`/`off`, as Ruby's YAML reads them).
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// A list.
    Seq(Vec<Value>),
    /// A mapping; keeps insertion order, keys are unique.
    Map(Vec<(String, Value)>),
}

/// Where a value was set: report-relative `/`-separated path, 1-based line and column
/// (0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Origin {
    /// Report-relative path.
    pub path: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl Origin {
    /// An origin.
    #[must_use]
    pub fn new(path: &str, line: u32, column: u32) -> Origin {
        Origin {
            path: path.to_string(),
            line,
            column,
        }
    }

    fn at(path: &str, mark: yaml::Mark) -> Origin {
        Origin::new(path, mark.line, mark.col)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.path)
        } else {
            write!(f, "{}:{}:{}", self.path, self.line, self.column)
        }
    }
}

impl Value {
    /// A value.
    #[must_use]
    pub fn new(kind: ValueKind, origin: Origin) -> Value {
        Value { kind, origin }
    }

    /// A string value without origin.
    #[must_use]
    pub fn string(s: &str) -> Value {
        Value::new(ValueKind::String(s.to_string()), Origin::default())
    }

    /// The value of `key` in a map.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.kind {
            ValueKind::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows map keys (and list indexes, for numeric segments).
    #[must_use]
    pub fn get_path(&self, dotted: &[&str]) -> Option<&Value> {
        let mut cur = self;
        for seg in dotted {
            cur = match &cur.kind {
                ValueKind::Map(_) => cur.get(seg)?,
                ValueKind::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The string, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is a list.
    #[must_use]
    pub fn as_seq(&self) -> Option<&[Value]> {
        match &self.kind {
            ValueKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    #[must_use]
    pub fn as_map(&self) -> Option<&[(String, Value)]> {
        match &self.kind {
            ValueKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// True for `~`/`null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self.kind, ValueKind::Null)
    }

    /// `true`, the strings `true`/`yes` (any case), or a non-zero number.
    #[must_use]
    pub fn is_truthy(&self) -> bool {
        match &self.kind {
            ValueKind::Bool(b) => *b,
            ValueKind::String(s) => {
                let s = s.trim();
                s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes")
            }
            ValueKind::Number(n) => number_is_nonzero(n),
            _ => false,
        }
    }

    /// `null`, `boolean`, `number`, `string`, `list` or `map`.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ValueKind::Null => "null",
            ValueKind::Bool(_) => "boolean",
            ValueKind::Number(_) => "number",
            ValueKind::String(_) => "string",
            ValueKind::Seq(_) => "list",
            ValueKind::Map(_) => "map",
        }
    }

    /// The string Puppet interpolates for this value (`''` for `undef`, `['a', 1]`,
    /// `{'k' => 'v'}` for collections).
    #[must_use]
    pub fn to_interpolated(&self) -> String {
        let mut out = String::new();
        puppet_string(self, &mut out, true);
        out
    }
}

fn number_is_nonzero(n: &str) -> bool {
    let t: String = n.trim().chars().filter(|&c| c != '_').collect();
    let t = t.trim_start_matches(['+', '-']);
    if let Ok(f) = t.parse::<f64>() {
        return f != 0.0 || f.is_nan();
    }
    let lower = t.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return rest.chars().any(|c| c.is_digit(radix) && c != '0');
        }
    }
    lower == ".inf" || lower == ".nan" || lower.chars().any(|c| matches!(c, '1'..='9'))
}

/// Puppet's string form of a value (`top`: strings unquoted at the top level).
fn puppet_string(v: &Value, out: &mut String, top: bool) {
    match &v.kind {
        ValueKind::Null => {
            if !top {
                out.push_str("undef");
            }
        }
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Number(n) => out.push_str(n),
        ValueKind::String(s) => {
            if top {
                out.push_str(s);
            } else {
                out.push('\'');
                out.push_str(&s.replace('\\', "\\\\").replace('\'', "\\'"));
                out.push('\'');
            }
        }
        ValueKind::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                puppet_string(item, out, false);
                if out.len() > MAX_STRING_BYTES {
                    return;
                }
            }
            out.push(']');
        }
        ValueKind::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                puppet_string(&Value::string(k), out, false);
                out.push_str(" => ");
                puppet_string(item, out, false);
                if out.len() > MAX_STRING_BYTES {
                    return;
                }
            }
            out.push('}');
        }
    }
}

/// Nesting depth (0 for a scalar). Values are at most [`MAX_VALUE_DEPTH`] deep by construction.
fn value_depth(v: &Value) -> usize {
    match &v.kind {
        ValueKind::Seq(items) => 1 + items.iter().map(value_depth).max().unwrap_or(0),
        ValueKind::Map(m) => 1 + m.iter().map(|(_, v)| value_depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// (nodes, string bytes) of a value.
fn value_cost(v: &Value) -> (usize, usize) {
    match &v.kind {
        ValueKind::Seq(items) => items.iter().fold((1, 0), |(n, b), i| {
            let (n2, b2) = value_cost(i);
            (n.saturating_add(n2), b.saturating_add(b2))
        }),
        ValueKind::Map(m) => m.iter().fold((1, 0), |(n, b), (k, i)| {
            let (n2, b2) = value_cost(i);
            (
                n.saturating_add(n2),
                b.saturating_add(b2).saturating_add(k.len()),
            )
        }),
        ValueKind::String(s) | ValueKind::Number(s) => (1, s.len()),
        _ => (1, 0),
    }
}

/// A canonical form for equality as Ruby's `Array#|` sees it (maps compare unordered, origins
/// are ignored).
fn canon(v: &Value, out: &mut String) {
    match &v.kind {
        ValueKind::Null => out.push('~'),
        ValueKind::Bool(b) => out.push_str(if *b { "T" } else { "F" }),
        ValueKind::Number(n) => {
            let _ = write!(out, "n{}:{n}", n.len());
        }
        ValueKind::String(s) => {
            let _ = write!(out, "s{}:{s}", s.len());
        }
        ValueKind::Seq(items) => {
            out.push('[');
            for i in items {
                canon(i, out);
                out.push(',');
            }
            out.push(']');
        }
        ValueKind::Map(m) => {
            let mut parts: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    let mut s = format!("{}:{k}=", k.len());
                    canon(v, &mut s);
                    s
                })
                .collect();
            parts.sort();
            out.push('{');
            for p in parts {
                out.push_str(&p);
                out.push(',');
            }
            out.push('}');
        }
    }
}

fn canon_of(v: &Value) -> String {
    let mut s = String::new();
    canon(v, &mut s);
    s
}

/// Order for `sort_merged_arrays`: numbers (numerically), then strings, then the rest
/// (Ruby would refuse to sort mixed arrays).
fn sort_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn key(v: &Value) -> (u8, f64, String) {
        match &v.kind {
            ValueKind::Number(n) => (0, n.replace('_', "").parse().unwrap_or(f64::NAN), n.clone()),
            ValueKind::String(s) => (1, 0.0, s.clone()),
            _ => (2, 0.0, canon_of(v)),
        }
    }
    let (ra, fa, sa) = key(a);
    let (rb, fb, sb) = key(b);
    ra.cmp(&rb).then(fa.total_cmp(&fb)).then(sa.cmp(&sb))
}

fn is_falsy(v: &Value) -> bool {
    matches!(v.kind, ValueKind::Null | ValueKind::Bool(false))
}

/// Follows a dotted key's segments into a value.
fn dig<'v>(v: &'v Value, segs: &[String]) -> Option<&'v Value> {
    let mut cur = v;
    for seg in segs {
        cur = match &cur.kind {
            ValueKind::Map(_) => cur.get(seg)?,
            ValueKind::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Splits a Puppet key or variable name on dots; segments may be quoted (`a."b.c"`).
/// `None` for a malformed key (empty segment, unbalanced quote).
fn split_key(key: &str) -> Option<Vec<String>> {
    let mut segs = Vec::new();
    let mut chars = key.chars().peekable();
    loop {
        let mut seg = String::new();
        match chars.peek().copied() {
            Some(q @ ('"' | '\'')) => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return None,
                        Some(c) if c == q => break,
                        Some(c) => seg.push(c),
                    }
                }
            }
            _ => {
                while let Some(&c) = chars.peek() {
                    if c == '.' {
                        break;
                    }
                    seg.push(c);
                    chars.next();
                }
                if seg.is_empty() {
                    return None;
                }
            }
        }
        segs.push(seg);
        match chars.next() {
            None => return Some(segs),
            Some('.') => {}
            Some(_) => return None,
        }
    }
}

/// Key segments, or the whole key as one segment when it cannot be split.
fn key_segments(key: &str) -> Vec<String> {
    split_key(key).unwrap_or_else(|| vec![key.to_string()])
}

// ---------------------------------------------------------------------------------------------
// YAML → Value

struct Budget {
    nodes: usize,
    bytes: usize,
}

impl Budget {
    fn full() -> Budget {
        Budget {
            nodes: MAX_VALUE_NODES,
            bytes: MAX_VALUE_BYTES,
        }
    }

    fn take_node(&mut self) -> Result<(), String> {
        self.nodes = self.nodes.checked_sub(1).ok_or_else(|| {
            format!("more than {MAX_VALUE_NODES} values after expanding YAML aliases")
        })?;
        Ok(())
    }

    fn take_bytes(&mut self, n: usize) -> Result<(), String> {
        self.bytes = self.bytes.checked_sub(n).ok_or_else(|| {
            format!(
                "more than {} MiB of text after expanding YAML aliases",
                MAX_VALUE_BYTES >> 20
            )
        })?;
        Ok(())
    }
}

enum Frame {
    Seq {
        id: NodeId,
        origin: Origin,
        src: Vec<NodeId>,
        next: usize,
        items: Vec<Value>,
    },
    Map {
        id: NodeId,
        origin: Origin,
        src: Vec<(NodeId, NodeId)>,
        next: usize,
        entries: Vec<(String, Value)>,
        key: String,
    },
}

impl Frame {
    fn id(&self) -> NodeId {
        match self {
            Frame::Seq { id, .. } | Frame::Map { id, .. } => *id,
        }
    }

    fn finish(self) -> Value {
        match self {
            Frame::Seq { origin, items, .. } => Value::new(ValueKind::Seq(items), origin),
            Frame::Map {
                origin, entries, ..
            } => Value::new(ValueKind::Map(entries), origin),
        }
    }
}

/// Converts a positioned YAML node into a [`Value`]. Aliases are expanded by walking the
/// anchored nodes (never recursively on the Rust stack); merge keys (`<<`) are applied via
/// [`yaml::Document::entries`]. Errors (instead of exploding) past [`MAX_VALUE_NODES`] nodes,
/// [`MAX_VALUE_BYTES`] bytes, [`MAX_VALUE_DEPTH`] levels, or on a recursive alias.
pub fn from_yaml(doc: &yaml::Document, node: NodeId, path: &str) -> Result<Value, String> {
    let origin = Origin::at(path, doc.node(node).start);
    convert(doc, node, origin, path, &mut Budget::full())
}

/// The value of a map entry: a collection points at its key.
fn convert_entry(
    doc: &yaml::Document,
    key: NodeId,
    value: NodeId,
    path: &str,
    budget: &mut Budget,
) -> Result<Value, String> {
    convert(
        doc,
        value,
        entry_origin(doc, key, value, path),
        path,
        budget,
    )
}

fn entry_origin(doc: &yaml::Document, key: NodeId, value: NodeId, path: &str) -> Origin {
    let target = doc.resolve(value);
    match doc.node(target).kind {
        Kind::Seq(_) | Kind::Map(_) => Origin::at(path, doc.node(key).start),
        _ => Origin::at(path, doc.node(value).start),
    }
}

fn convert(
    doc: &yaml::Document,
    start: NodeId,
    origin: Origin,
    path: &str,
    budget: &mut Budget,
) -> Result<Value, String> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut pending = open(doc, start, origin, budget, &mut stack)?;
    loop {
        if let Some(v) = pending.take() {
            match stack.last_mut() {
                None => return Ok(v),
                Some(Frame::Seq { items, .. }) => items.push(v),
                Some(Frame::Map { entries, key, .. }) => entries.push((std::mem::take(key), v)),
            }
        }
        let Some(top) = stack.last_mut() else {
            return Ok(Value::default());
        };
        let next = match top {
            Frame::Seq { src, next, .. } => {
                let r = src
                    .get(*next)
                    .map(|&c| (c, Origin::at(path, doc.node(c).start)));
                *next += 1;
                r
            }
            Frame::Map { src, next, key, .. } => loop {
                let Some(&(k, v)) = src.get(*next) else {
                    break None;
                };
                *next += 1;
                // Non-scalar keys (`? [a, b]`) cannot be Hiera keys: skipped.
                let Some(ks) = doc.str(k) else { continue };
                budget.take_bytes(ks.len())?;
                *key = ks.to_string();
                break Some((v, entry_origin(doc, k, v, path)));
            },
        };
        match next {
            Some((child, o)) => pending = open(doc, child, o, budget, &mut stack)?,
            None => pending = stack.pop().map(Frame::finish),
        }
    }
}

/// Starts converting `id`: a scalar is returned, a collection pushes a frame.
fn open(
    doc: &yaml::Document,
    id: NodeId,
    origin: Origin,
    budget: &mut Budget,
    stack: &mut Vec<Frame>,
) -> Result<Option<Value>, String> {
    budget.take_node()?;
    let target = doc.resolve(id);
    let node = doc.node(target);
    let is_collection = matches!(node.kind, Kind::Seq(_) | Kind::Map(_));
    if is_collection {
        if stack.iter().any(|f| f.id() == target) {
            return Err(format!(
                "recursive YAML alias (an anchor used inside itself) at line {}",
                doc.node(id).start.line
            ));
        }
        if stack.len() >= MAX_VALUE_DEPTH {
            return Err(format!("nested more than {MAX_VALUE_DEPTH} levels deep"));
        }
    }
    match &node.kind {
        Kind::Scalar { value, style, tag } => {
            budget.take_bytes(value.len())?;
            Ok(Some(Value::new(
                scalar_kind(value, *style, tag.as_deref()),
                origin,
            )))
        }
        Kind::Seq(items) => {
            stack.push(Frame::Seq {
                id: target,
                origin,
                src: items.clone(),
                next: 0,
                items: Vec::new(),
            });
            Ok(None)
        }
        Kind::Map(_) => {
            stack.push(Frame::Map {
                id: target,
                origin,
                src: doc.entries(target),
                next: 0,
                entries: Vec::new(),
                key: String::new(),
            });
            Ok(None)
        }
        Kind::Alias(_) => Ok(Some(Value::new(ValueKind::Null, origin))),
    }
}

/// How Ruby's YAML (Psych, YAML 1.1) types a scalar.
fn scalar_kind(value: &str, style: Style, tag: Option<&str>) -> ValueKind {
    match tag {
        Some("!!str") => return ValueKind::String(value.to_string()),
        Some("!!null") => return ValueKind::Null,
        Some("!!int" | "!!float") => return ValueKind::Number(value.to_string()),
        Some("!!bool") => {
            return match plain_bool(value) {
                Some(b) => ValueKind::Bool(b),
                None => ValueKind::String(value.to_string()),
            }
        }
        _ => {}
    }
    if style != Style::Plain || tag.is_some() {
        return ValueKind::String(value.to_string());
    }
    match yaml::resolve_plain(value) {
        yaml::Scalar11::Null => ValueKind::Null,
        // Psych, unlike go-yaml and the YAML 1.1 type repository, keeps `y`/`n` strings.
        yaml::Scalar11::Bool(_) if value.len() == 1 => ValueKind::String(value.to_string()),
        yaml::Scalar11::Bool(b) => ValueKind::Bool(b),
        yaml::Scalar11::Int(_) | yaml::Scalar11::Float(_) => ValueKind::Number(value.to_string()),
        yaml::Scalar11::Timestamp | yaml::Scalar11::Str => ValueKind::String(value.to_string()),
    }
}

fn plain_bool(v: &str) -> Option<bool> {
    if ["true", "yes", "on"]
        .iter()
        .any(|t| v.eq_ignore_ascii_case(t))
    {
        Some(true)
    } else if ["false", "no", "off"]
        .iter()
        .any(|t| v.eq_ignore_ascii_case(t))
    {
        Some(false)
    } else {
        None
    }
}

fn is_yaml_number(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = t.strip_prefix(prefix) {
            return !rest.is_empty()
                && rest.chars().all(|c| c.is_digit(radix) || c == '_')
                && rest.chars().any(|c| c != '_');
        }
    }
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [digits][.digits][(e|E)[sign]digits], with `_` separators, at least one digit.
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = mant.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !digits(int) || !frac.is_none_or(digits) {
        return false;
    }
    if !int.starts_with(|c: char| c.is_ascii_digit()) && int.starts_with('_') {
        return false;
    }
    let has_digit = int.chars().any(|c| c.is_ascii_digit())
        || frac.is_some_and(|f| f.chars().any(|c| c.is_ascii_digit()));
    if !has_digit {
        return false;
    }
    match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Facts

/// Facts and top-scope variables: a nested map. `%{::x}`, `%{x}`, `%{facts.x}`,
/// `%{facts.a.b}` and `%{trusted.certname}` (from a `trusted` map) all read it.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    root: Value,
}

impl Facts {
    /// No facts.
    #[must_use]
    pub fn new() -> Facts {
        Facts::default()
    }

    /// Sets a string fact; dotted names build nested maps (`networking.fqdn`). A leading `::`
    /// or `facts.` is ignored.
    pub fn set(&mut self, dotted: &str, value: &str) {
        self.set_value(dotted, Value::string(value));
    }

    /// Sets a fact to any value (see [`Facts::set`]).
    pub fn set_value(&mut self, dotted: &str, value: Value) {
        let name = dotted.trim();
        let name = name.strip_prefix("::").unwrap_or(name);
        let name = name.strip_prefix("facts.").unwrap_or(name);
        let segs = key_segments(name);
        let Some((last, parents)) = segs.split_last() else {
            return;
        };
        let mut cur = &mut self.root;
        for seg in parents {
            let Some(m) = ensure_map(cur) else { return };
            let i = match m.iter().position(|(k, _)| k == seg) {
                Some(i) => i,
                None => {
                    m.push((seg.clone(), Value::default()));
                    m.len() - 1
                }
            };
            let Some(entry) = m.get_mut(i) else { return };
            cur = &mut entry.1;
        }
        let Some(m) = ensure_map(cur) else { return };
        match m.iter_mut().find(|(k, _)| k == last) {
            Some(slot) => slot.1 = value,
            None => m.push((last.clone(), value)),
        }
    }

    /// Facts from a `--facts` file value: a map of facts, or Puppet's
    /// `{name: ..., values: {...}}` facts YAML.
    #[must_use]
    pub fn from_value(v: &Value) -> Facts {
        let src = match (v.get("values"), v.get("name")) {
            (
                Some(
                    vals @ Value {
                        kind: ValueKind::Map(_),
                        ..
                    },
                ),
                Some(_),
            ) => vals,
            _ => v,
        };
        match src.kind {
            ValueKind::Map(_) => Facts { root: src.clone() },
            _ => Facts::default(),
        }
    }

    /// The string value of a variable as interpolation sees it (`None` if unset or `~`).
    #[must_use]
    pub fn get(&self, dotted: &str) -> Option<String> {
        let v = self.get_value(dotted)?;
        if v.is_null() {
            return None;
        }
        Some(v.to_interpolated())
    }

    /// The value of a variable: `::x`, `x`, `facts.x.y`, `trusted.certname`.
    #[must_use]
    pub fn get_value(&self, dotted: &str) -> Option<&Value> {
        resolve_var(&self.root, dotted, None)
    }
}

fn ensure_map(v: &mut Value) -> Option<&mut Vec<(String, Value)>> {
    if !matches!(v.kind, ValueKind::Map(_)) {
        v.kind = ValueKind::Map(Vec::new());
    }
    match &mut v.kind {
        ValueKind::Map(m) => Some(m),
        _ => None,
    }
}

/// Resolves a variable against facts (and an extra binding, for `mapped_paths`).
fn resolve_var<'v>(
    root: &'v Value,
    name: &str,
    extra: Option<(&str, &'v Value)>,
) -> Option<&'v Value> {
    let n = name.trim();
    let n = n.strip_prefix("::").unwrap_or(n);
    let segs = split_key(n)?;
    let (first, rest) = segs.split_first()?;
    if let Some((var, val)) = extra {
        if var == first {
            return dig(val, rest);
        }
    }
    if first == "facts" {
        return match root.kind {
            ValueKind::Map(_) => dig(root, rest),
            _ => None,
        };
    }
    dig(root.get(first)?, rest)
}

// ---------------------------------------------------------------------------------------------
// Merging

/// Merge behaviour across hierarchy levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// First found.
    First,
    /// Flattened, de-duplicated list.
    Unique,
    /// Top-level hash keys.
    Hash,
    /// Recursive.
    Deep,
}

impl Merge {
    /// `first`, `unique`, `hash` or `deep`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Merge> {
        match s.trim() {
            "first" => Some(Merge::First),
            "unique" => Some(Merge::Unique),
            "hash" => Some(Merge::Hash),
            "deep" => Some(Merge::Deep),
            _ => None,
        }
    }

    /// The Puppet name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Merge::First => "first",
            Merge::Unique => "unique",
            Merge::Hash => "hash",
            Merge::Deep => "deep",
        }
    }
}

/// A merge strategy with Puppet's deep-merge options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeSpec {
    /// The behaviour.
    pub strategy: Merge,
    /// `deep`: merge hashes inside arrays by position.
    pub merge_hash_arrays: bool,
    /// `deep`: sort merged arrays.
    pub sort_merged_arrays: bool,
    /// `deep`: prefix that removes values (`--value`).
    pub knockout_prefix: Option<String>,
}

impl From<Merge> for MergeSpec {
    fn from(strategy: Merge) -> MergeSpec {
        MergeSpec {
            strategy,
            merge_hash_arrays: false,
            sort_merged_arrays: false,
            knockout_prefix: None,
        }
    }
}

impl MergeSpec {
    /// From a `merge:` value of `lookup_options` (`deep` or `{strategy: deep, ...}`).
    fn from_option(v: &Value) -> Result<MergeSpec, String> {
        match &v.kind {
            ValueKind::String(s) => Merge::parse(s)
                .map(MergeSpec::from)
                .ok_or_else(|| format!("unknown merge strategy '{s}'")),
            ValueKind::Map(_) => {
                let name = v
                    .get("strategy")
                    .and_then(Value::as_str)
                    .ok_or("merge hash without a 'strategy'")?;
                let mut spec = MergeSpec::from(
                    Merge::parse(name).ok_or_else(|| format!("unknown merge strategy '{name}'"))?,
                );
                spec.merge_hash_arrays = v.get("merge_hash_arrays").is_some_and(Value::is_truthy);
                spec.sort_merged_arrays = v.get("sort_merged_arrays").is_some_and(Value::is_truthy);
                spec.knockout_prefix = v
                    .get("knockout_prefix")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                Ok(spec)
            }
            _ => Err(format!(
                "merge must be a string or a hash, not a {}",
                v.type_name()
            )),
        }
    }
}

/// Merges the values found (highest priority first). `locations` is how many data sources
/// were consulted (Puppet's `unique` with a single source only de-duplicates).
fn merge_values(
    found: Vec<Value>,
    spec: &MergeSpec,
    locations: usize,
    problems: &mut Vec<(Origin, String)>,
) -> Option<Value> {
    let mut it = found.into_iter();
    let first = it.next()?;
    match spec.strategy {
        Merge::First => Some(first),
        Merge::Unique => {
            if locations <= 1 && it.len() == 0 {
                return Some(match first.kind {
                    ValueKind::Seq(items) => Value::new(ValueKind::Seq(uniq(items)), first.origin),
                    _ => first,
                });
            }
            let origin = first.origin.clone();
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            for v in std::iter::once(first).chain(it) {
                if matches!(v.kind, ValueKind::Map(_)) {
                    problems.push((
                        v.origin.clone(),
                        "unique merge cannot merge a hash; this value is ignored".to_string(),
                    ));
                    continue;
                }
                flatten_into(v, &mut out, &mut seen);
            }
            Some(Value::new(ValueKind::Seq(out), origin))
        }
        Merge::Hash => {
            let mut acc: Option<Value> = None;
            for v in std::iter::once(first).chain(it) {
                if !matches!(v.kind, ValueKind::Map(_)) {
                    problems.push((
                        v.origin.clone(),
                        format!(
                            "hash merge: value is a {}, not a hash; ignored",
                            v.type_name()
                        ),
                    ));
                    continue;
                }
                acc = Some(match acc {
                    None => v,
                    Some(higher) => hash_merge(higher, v),
                });
            }
            acc
        }
        Merge::Deep => {
            let mut acc = first;
            for lower in it {
                acc = deep_merge(acc, lower, spec);
            }
            Some(acc)
        }
    }
}

fn uniq(items: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|v| seen.insert(canon_of(v)))
        .collect()
}

fn flatten_into(v: Value, out: &mut Vec<Value>, seen: &mut HashSet<String>) {
    match v.kind {
        ValueKind::Seq(items) => {
            for i in items {
                flatten_into(i, out, seen);
            }
        }
        _ => {
            if seen.insert(canon_of(&v)) {
                out.push(v);
            }
        }
    }
}

/// Ruby's `lower.merge(higher)`.
fn hash_merge(higher: Value, lower: Value) -> Value {
    let (ValueKind::Map(h), ValueKind::Map(mut out)) = (higher.kind, lower.kind) else {
        return Value::default();
    };
    let mut idx: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.clone(), i))
        .collect();
    for (k, v) in h {
        match idx.get(&k) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    slot.1 = v;
                }
            }
            None => {
                idx.insert(k.clone(), out.len());
                out.push((k, v));
            }
        }
    }
    Value::new(ValueKind::Map(out), higher.origin)
}

/// Puppet's `DeepMerge.deep_merge!(source, dest)` with `preserve_unmergeables: false`:
/// `source` has the higher priority.
fn deep_merge(source: Value, dest: Value, spec: &MergeSpec) -> Value {
    if source.is_null() {
        return dest;
    }
    if is_falsy(&dest) {
        return source;
    }
    let ko = spec.knockout_prefix.as_deref().filter(|k| !k.is_empty());
    let Value {
        kind: skind,
        origin: sorigin,
    } = source;
    let Value {
        kind: dkind,
        origin: dorigin,
    } = dest;
    match (skind, dkind) {
        (ValueKind::Map(src), ValueKind::Map(mut dst)) => {
            let mut idx: HashMap<String, usize> = dst
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            for (k, sv) in src {
                match idx.get(&k).copied() {
                    Some(i) => {
                        if let Some(slot) = dst.get_mut(i) {
                            let dv = std::mem::take(&mut slot.1);
                            slot.1 = if is_falsy(&dv) {
                                let dup = sv.clone();
                                deep_merge(sv, dup, spec)
                            } else {
                                deep_merge(sv, dv, spec)
                            };
                        }
                    }
                    None => {
                        let dup = sv.clone();
                        idx.insert(k.clone(), dst.len());
                        dst.push((k, deep_merge(sv, dup, spec)));
                    }
                }
            }
            Value::new(ValueKind::Map(dst), sorigin)
        }
        // An empty source hash never touches a non-hash destination.
        (ValueKind::Map(src), dkind) if src.is_empty() => Value::new(dkind, dorigin),
        (ValueKind::Seq(mut src), ValueKind::Seq(mut dst)) => {
            if let Some(ko) = ko {
                if src.iter().any(|x| x.as_str() == Some(ko)) {
                    dst.clear();
                    src.retain(|x| x.as_str() != Some(ko));
                }
                let mut kept = Vec::with_capacity(src.len());
                for item in src {
                    let knocked = item.as_str().and_then(|s| {
                        s.strip_prefix(ko)
                            .map(|rest| (rest.to_string(), s.to_string()))
                    });
                    match knocked {
                        Some((rest, full)) => dst.retain(|d| {
                            d.as_str() != Some(rest.as_str()) && d.as_str() != Some(full.as_str())
                        }),
                        None => kept.push(item),
                    }
                }
                src = kept;
            }
            let all_maps = |v: &[Value]| v.iter().all(|i| matches!(i.kind, ValueKind::Map(_)));
            let mut out = if spec.merge_hash_arrays && all_maps(&src) && all_maps(&dst) {
                let mut src_it = src.into_iter();
                let mut list: Vec<Value> = dst
                    .into_iter()
                    .map(|d| match src_it.next() {
                        Some(s) => deep_merge(s, d, spec),
                        None => d,
                    })
                    .collect();
                list.extend(src_it);
                list
            } else {
                let mut seen = HashSet::new();
                dst.into_iter()
                    .chain(src)
                    .filter(|v| seen.insert(canon_of(v)))
                    .collect()
            };
            if spec.sort_merged_arrays {
                out.sort_by(sort_order);
            }
            Value::new(ValueKind::Seq(out), sorigin)
        }
        (ValueKind::Seq(mut src), _) => {
            if let Some(ko) = ko {
                src.retain(|x| !x.as_str().is_some_and(|s| s.starts_with(ko)));
            }
            Value::new(ValueKind::Seq(src), sorigin)
        }
        (ValueKind::String(s), _) if ko.is_some_and(|k| s.starts_with(k)) => {
            Value::new(ValueKind::String(String::new()), sorigin)
        }
        (skind, _) => Value::new(skind, sorigin),
    }
}

// ---------------------------------------------------------------------------------------------
// A small regular-expression engine for `lookup_options` keys (`^...`): Thompson NFA compiled
// from a parsed pattern, simulated in lock step (Pike VM), so matching is linear in the input
// and cannot backtrack catastrophically.

mod rx {
    #[derive(Clone, Copy, Debug)]
    enum Item {
        Range(char, char),
        Digit(bool),
        Word(bool),
        Space(bool),
    }

    #[derive(Clone, Debug)]
    struct Class {
        neg: bool,
        items: Vec<Item>,
    }

    impl Class {
        fn lit(c: char) -> Class {
            Class {
                neg: false,
                items: vec![Item::Range(c, c)],
            }
        }

        fn one(item: Item) -> Class {
            Class {
                neg: false,
                items: vec![item],
            }
        }

        fn matches(&self, c: char) -> bool {
            let hit = self.items.iter().any(|i| match *i {
                Item::Range(a, b) => a <= c && c <= b,
                Item::Digit(neg) => c.is_ascii_digit() != neg,
                Item::Word(neg) => (c.is_alphanumeric() || c == '_') != neg,
                Item::Space(neg) => matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c') != neg,
            });
            hit != self.neg
        }
    }

    enum Ast {
        Class(Class),
        Any,
        Start,
        End,
        Cat(Vec<Ast>),
        Alt(Vec<Ast>),
        Rep(Box<Ast>, u32, Option<u32>),
    }

    #[derive(Clone, Debug)]
    enum Inst {
        Class(Class),
        Any,
        Split(usize, usize),
        Jmp(usize),
        Start,
        End,
        Match,
    }

    /// A compiled pattern.
    #[derive(Debug)]
    pub(super) struct Regex {
        prog: Vec<Inst>,
    }

    struct Parser {
        chars: Vec<char>,
        pos: usize,
        depth: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.chars.get(self.pos).copied()
        }

        fn bump(&mut self) -> Option<char> {
            let c = self.peek();
            if c.is_some() {
                self.pos += 1;
            }
            c
        }

        fn alt(&mut self) -> Result<Ast, String> {
            self.depth += 1;
            if self.depth > 64 {
                return Err("groups nested too deeply".into());
            }
            let mut alts = vec![self.cat()?];
            while self.peek() == Some('|') {
                self.pos += 1;
                alts.push(self.cat()?);
            }
            self.depth -= 1;
            Ok(if alts.len() == 1 {
                alts.pop().unwrap_or(Ast::Cat(Vec::new()))
            } else {
                Ast::Alt(alts)
            })
        }

        fn cat(&mut self) -> Result<Ast, String> {
            let mut items = Vec::new();
            while let Some(c) = self.peek() {
                if c == '|' || c == ')' {
                    break;
                }
                let a = self.atom()?;
                items.push(self.quant(a)?);
            }
            Ok(Ast::Cat(items))
        }

        fn quant(&mut self, a: Ast) -> Result<Ast, String> {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => match self.braces() {
                    Some(r) => return self.after_quant(a, r),
                    None => return Ok(a),
                },
                _ => return Ok(a),
            };
            self.pos += 1;
            self.after_quant(a, (min, max))
        }

        fn after_quant(&mut self, a: Ast, (min, max): (u32, Option<u32>)) -> Result<Ast, String> {
            // Lazy / possessive suffixes do not change whether a match exists.
            if matches!(self.peek(), Some('?' | '+')) {
                self.pos += 1;
            }
            if matches!(self.peek(), Some('*' | '+' | '?')) {
                return Err("nested quantifier".into());
            }
            if min > 1000 || max.is_some_and(|m| m > 1000 || m < min) {
                return Err("bad repetition count".into());
            }
            Ok(Ast::Rep(Box::new(a), min, max))
        }

        /// `{n}`, `{n,}`, `{n,m}` (consumed only if well-formed; otherwise `{` is a literal).
        fn braces(&mut self) -> Option<(u32, Option<u32>)> {
            let start = self.pos;
            let rest: String = self.chars[start..].iter().take(24).collect();
            let close = rest.find('}')?;
            let body = &rest[1..close];
            let num = |s: &str| -> Option<u32> {
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
                    None
                } else {
                    s.parse().ok()
                }
            };
            let r = match body.split_once(',') {
                None => {
                    let n = num(body)?;
                    (n, Some(n))
                }
                Some((a, "")) => (num(a)?, None),
                Some((a, b)) => (num(a)?, Some(num(b)?)),
            };
            self.pos = start + body.chars().count() + 2;
            Some(r)
        }

        fn atom(&mut self) -> Result<Ast, String> {
            match self.bump() {
                None => Err("unexpected end".into()),
                Some('(') => {
                    if self.peek() == Some('?') {
                        if self.chars.get(self.pos + 1) == Some(&':') {
                            self.pos += 2;
                        } else {
                            return Err("unsupported group syntax '(?'".into());
                        }
                    }
                    let a = self.alt()?;
                    if self.bump() != Some(')') {
                        return Err("missing ')'".into());
                    }
                    Ok(a)
                }
                Some('[') => self.class(),
                Some('.') => Ok(Ast::Any),
                Some('^') => Ok(Ast::Start),
                Some('$') => Ok(Ast::End),
                Some('\\') => match self.bump() {
                    None => Err("trailing backslash".into()),
                    Some('A') => Ok(Ast::Start),
                    Some('z' | 'Z') => Ok(Ast::End),
                    Some(c) => Ok(Ast::Class(Class::one(escape(c)?))),
                },
                Some('*' | '+' | '?') => Err("nothing to repeat".into()),
                Some(c) => Ok(Ast::Class(Class::lit(c))),
            }
        }

        fn class(&mut self) -> Result<Ast, String> {
            let mut cls = Class {
                neg: false,
                items: Vec::new(),
            };
            if self.peek() == Some('^') {
                self.pos += 1;
                cls.neg = true;
            }
            let mut first = true;
            loop {
                let c = self.bump().ok_or("missing ']'")?;
                if c == ']' && !first {
                    break;
                }
                first = false;
                if c == '[' || (c == '&' && self.peek() == Some('&')) {
                    return Err("unsupported character class syntax".into());
                }
                let item = if c == '\\' {
                    escape(self.bump().ok_or("trailing backslash")?)?
                } else {
                    Item::Range(c, c)
                };
                if let Item::Range(lo, _) = item {
                    if self.peek() == Some('-')
                        && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']')
                    {
                        self.pos += 1;
                        let hi = match self.bump() {
                            Some('\\') => match escape(self.bump().ok_or("trailing backslash")?)? {
                                Item::Range(h, _) => h,
                                _ => return Err("bad range".into()),
                            },
                            Some(h) => h,
                            None => return Err("missing ']'".into()),
                        };
                        if hi < lo {
                            return Err("bad range".into());
                        }
                        cls.items.push(Item::Range(lo, hi));
                        continue;
                    }
                }
                cls.items.push(item);
            }
            Ok(Ast::Class(cls))
        }
    }

    fn escape(c: char) -> Result<Item, String> {
        Ok(match c {
            'd' => Item::Digit(false),
            'D' => Item::Digit(true),
            'w' => Item::Word(false),
            'W' => Item::Word(true),
            's' => Item::Space(false),
            'S' => Item::Space(true),
            'n' => Item::Range('\n', '\n'),
            't' => Item::Range('\t', '\t'),
            'r' => Item::Range('\r', '\r'),
            'f' => Item::Range('\x0c', '\x0c'),
            'v' => Item::Range('\x0b', '\x0b'),
            c if c.is_ascii_alphanumeric() => {
                return Err(format!("unsupported escape '\\{c}'"));
            }
            c => Item::Range(c, c),
        })
    }

    struct Compiler {
        prog: Vec<Inst>,
    }

    impl Compiler {
        fn push(&mut self, i: Inst) -> Result<usize, String> {
            if self.prog.len() >= super::MAX_REGEX_PROGRAM {
                return Err("pattern too large".into());
            }
            self.prog.push(i);
            Ok(self.prog.len() - 1)
        }

        fn patch(&mut self, at: usize, i: Inst) {
            if let Some(slot) = self.prog.get_mut(at) {
                *slot = i;
            }
        }

        fn emit(&mut self, a: &Ast) -> Result<(), String> {
            match a {
                Ast::Class(c) => {
                    self.push(Inst::Class(c.clone()))?;
                }
                Ast::Any => {
                    self.push(Inst::Any)?;
                }
                Ast::Start => {
                    self.push(Inst::Start)?;
                }
                Ast::End => {
                    self.push(Inst::End)?;
                }
                Ast::Cat(items) => {
                    for i in items {
                        self.emit(i)?;
                    }
                }
                Ast::Alt(alts) => {
                    let mut jumps = Vec::new();
                    let last = alts.len().saturating_sub(1);
                    for (i, alt) in alts.iter().enumerate() {
                        if i < last {
                            let split = self.push(Inst::Split(0, 0))?;
                            self.emit(alt)?;
                            jumps.push(self.push(Inst::Jmp(0))?);
                            let next = self.prog.len();
                            self.patch(split, Inst::Split(split + 1, next));
                        } else {
                            self.emit(alt)?;
                        }
                    }
                    let end = self.prog.len();
                    for j in jumps {
                        self.patch(j, Inst::Jmp(end));
                    }
                }
                Ast::Rep(inner, min, max) => {
                    for _ in 0..*min {
                        self.emit(inner)?;
                    }
                    match max {
                        None => {
                            let split = self.push(Inst::Split(0, 0))?;
                            self.emit(inner)?;
                            self.push(Inst::Jmp(split))?;
                            let end = self.prog.len();
                            self.patch(split, Inst::Split(split + 1, end));
                        }
                        Some(max) => {
                            for _ in *min..*max {
                                let split = self.push(Inst::Split(0, 0))?;
                                self.emit(inner)?;
                                let end = self.prog.len();
                                self.patch(split, Inst::Split(split + 1, end));
                            }
                        }
                    }
                }
            }
            Ok(())
        }
    }

    impl Regex {
        /// Compiles a (Ruby-style) pattern; unsupported syntax is an error.
        pub(super) fn new(pattern: &str) -> Result<Regex, String> {
            if pattern.chars().count() > 1000 {
                return Err("pattern longer than 1000 characters".into());
            }
            let mut p = Parser {
                chars: pattern.chars().collect(),
                pos: 0,
                depth: 0,
            };
            let ast = p.alt()?;
            if p.pos < p.chars.len() {
                return Err("unbalanced ')'".into());
            }
            let mut c = Compiler { prog: Vec::new() };
            c.emit(&ast)?;
            c.push(Inst::Match)?;
            Ok(Regex { prog: c.prog })
        }

        /// Whether the pattern matches anywhere in `text`.
        pub(super) fn is_match(&self, text: &str) -> bool {
            let chars: Vec<char> = text.chars().take(super::MAX_REGEX_INPUT + 1).collect();
            if chars.len() > super::MAX_REGEX_INPUT {
                return false;
            }
            let len = chars.len();
            let mut marks = vec![usize::MAX; self.prog.len()];
            let mut seeds: Vec<usize> = Vec::new();
            let mut threads: Vec<usize> = Vec::new();
            for pos in 0..=len {
                seeds.push(0);
                threads.clear();
                if self.closure(&seeds, pos, len, &mut marks, &mut threads) {
                    return true;
                }
                seeds.clear();
                let Some(&c) = chars.get(pos) else { break };
                for &pc in &threads {
                    let ok = match self.prog.get(pc) {
                        Some(Inst::Class(cls)) => cls.matches(c),
                        Some(Inst::Any) => c != '\n',
                        _ => false,
                    };
                    if ok {
                        seeds.push(pc + 1);
                    }
                }
            }
            false
        }

        /// Follows empty transitions from `seeds` at `pos`; collects consuming instructions.
        fn closure(
            &self,
            seeds: &[usize],
            pos: usize,
            len: usize,
            marks: &mut [usize],
            out: &mut Vec<usize>,
        ) -> bool {
            let mut stack: Vec<usize> = seeds.iter().rev().copied().collect();
            let mut matched = false;
            while let Some(pc) = stack.pop() {
                let Some(mark) = marks.get_mut(pc) else {
                    continue;
                };
                if *mark == pos {
                    continue;
                }
                *mark = pos;
                match self.prog.get(pc) {
                    Some(Inst::Split(a, b)) => {
                        stack.push(*b);
                        stack.push(*a);
                    }
                    Some(Inst::Jmp(a)) => stack.push(*a),
                    Some(Inst::Start) if pos == 0 => stack.push(pc + 1),
                    Some(Inst::End) if pos == len => stack.push(pc + 1),
                    Some(Inst::Start | Inst::End) => {}
                    Some(Inst::Match) => matched = true,
                    Some(Inst::Class(_) | Inst::Any) => out.push(pc),
                    None => {}
                }
            }
            matched
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Public lookup types

/// A built-in behaviour that a `data_hash` / `lookup_key` function can be mapped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// Read the file as YAML (`yaml_data`, `json_data`).
    YamlData,
    /// Read the file as YAML; `ENC[...]` strings stay opaque (`eyaml_lookup_key`).
    EyamlLookupKey,
    /// Wikimedia's `wmflib::expand_path`: `a::b::c` is looked up in `<path>/a/b.yaml`.
    ExpandPath,
}

impl Builtin {
    /// `yaml`/`yaml_data`/`json_data`, `eyaml`/`eyaml_lookup_key`, `expand_path`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Builtin> {
        match s.trim() {
            "yaml" | "yaml_data" | "json" | "json_data" => Some(Builtin::YamlData),
            "eyaml" | "eyaml_lookup_key" => Some(Builtin::EyamlLookupKey),
            "expand_path" | "wmflib::expand_path" => Some(Builtin::ExpandPath),
            _ => None,
        }
    }
}

/// How to read a hierarchy that points outside the repository or at custom functions.
#[derive(Clone, Debug)]
pub struct HieraOptions {
    /// (absolute host path prefix, report-relative repository path), e.g.
    /// `("/etc/puppet/hieradata", "operations-puppet/hieradata")`.
    pub map_paths: Vec<(String, String)>,
    /// Custom `lookup_key` / `data_hash` function names mapped to a built-in behaviour; the
    /// default maps `wmflib::expand_path` to [`Builtin::ExpandPath`].
    pub functions: Vec<(String, Builtin)>,
    /// [`Builtin::ExpandPath`]: when the key is not in the file the function reads, scan
    /// `<path>.yaml` and `<path>/**.yaml` (with a note). Default true.
    pub expand_path_scan: bool,
}

impl Default for HieraOptions {
    fn default() -> HieraOptions {
        HieraOptions {
            map_paths: Vec::new(),
            functions: vec![("wmflib::expand_path".to_string(), Builtin::ExpandPath)],
            expand_path_scan: true,
        }
    }
}

/// The result of [`Hiera::lookup`].
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// The (merged, interpolated) value; `None` if not found.
    pub value: Option<Value>,
    /// Every level/file tried, in order.
    pub explain: Vec<Step>,
    /// Problems: unresolved interpolation, loops, caps, bad data files, dynamic skips.
    pub notes: Vec<Note>,
    /// The merge behaviour used.
    pub merge: Merge,
}

/// One hierarchy location tried.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Hierarchy level name.
    pub level: String,
    /// Data file tried, report-relative.
    pub path: Option<String>,
    /// What happened.
    pub outcome: StepOutcome,
    /// Extra context: unknown variables interpolated as `''`, scan fallback, missing sub-key.
    pub detail: Option<String>,
}

/// What happened at one [`Step`].
#[derive(Clone, Debug, PartialEq)]
pub enum StepOutcome {
    /// The key is in the file, at this origin (of the key).
    Found(Origin),
    /// The file exists, the key is not in it.
    NotFound,
    /// No such file.
    FileMissing,
    /// Not read, and why (unmapped datadir, HTTP ENC, unsupported function).
    Skipped(String),
    /// The file or value could not be used (bad YAML, value too large).
    Error(String),
}

/// Something the lookup could not resolve or model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Note {
    /// Where.
    pub origin: Origin,
    /// What.
    pub message: String,
}

/// An unreadable or invalid Hiera config.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct HieraError {
    /// Report-relative path of the file.
    pub path: String,
    /// Line, from 1 (0 if unknown).
    pub line: u32,
    /// Column, from 1 (0 if unknown).
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[derive(Clone, Debug)]
enum Backend {
    Data(Builtin),
    Skip(String),
}

#[derive(Clone, Debug)]
enum Locs {
    Paths(Vec<String>),
    Globs(Vec<String>),
    Mapped {
        fact: String,
        var: String,
        template: String,
    },
    None,
}

#[derive(Clone, Debug)]
struct Level {
    name: String,
    origin: Origin,
    backend: Backend,
    datadir: String,
    locs: Locs,
    /// Skipped whatever the facts (datadir outside the repository).
    static_skip: Option<String>,
}

enum DataFile {
    Missing,
    Bad {
        origin: Origin,
        message: String,
    },
    Loaded {
        doc: Option<yaml::Document>,
        keys: HashMap<String, (NodeId, NodeId)>,
        warning: Option<String>,
    },
}

/// A loaded Hiera 5 configuration over a file source, with a cache of parsed data files.
pub struct Hiera {
    files: Arc<dyn FileSource>,
    config: String,
    config_dir: String,
    levels: Vec<Level>,
    /// (normalized absolute prefix without leading `/`, repository path), longest first.
    map_paths: Vec<(String, String)>,
    expand_path_scan: bool,
    notes: Vec<Note>,
    cache: Mutex<HashMap<String, Arc<DataFile>>>,
    lists: Mutex<HashMap<String, Arc<Vec<String>>>>,
}

impl fmt::Debug for Hiera {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hiera")
            .field("config", &self.config)
            .field(
                "levels",
                &self.levels.iter().map(|l| &l.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn decode_text(bytes: Vec<u8>) -> Result<String, String> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Lexically normalizes a relative path (`.`, `..`, empty components); `None` if it climbs
/// above its start.
fn normalize_rel(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

fn join_rel(base: &str, p: &str) -> Option<String> {
    if base.is_empty() {
        normalize_rel(p)
    } else {
        normalize_rel(&format!("{base}/{p}"))
    }
}

fn parent_dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => p[..i].to_string(),
        None => String::new(),
    }
}

fn is_encrypted(s: &str) -> bool {
    s.trim_start().starts_with("ENC[")
}

const LEVEL_KEYS: [&str; 14] = [
    "name",
    "datadir",
    "data_hash",
    "lookup_key",
    "data_dig",
    "hiera3_backend",
    "path",
    "paths",
    "glob",
    "globs",
    "mapped_paths",
    "uri",
    "uris",
    "options",
];
const FUNCTION_KEYS: [&str; 4] = ["data_hash", "lookup_key", "data_dig", "hiera3_backend"];
const LOCATION_KEYS: [&str; 7] = [
    "path",
    "paths",
    "glob",
    "globs",
    "mapped_paths",
    "uri",
    "uris",
];

fn config_err(o: &Origin, message: String) -> HieraError {
    HieraError {
        path: o.path.clone(),
        line: o.line,
        column: o.column,
        message,
    }
}

fn config_str<'v>(v: &'v Value, what: &str) -> Result<&'v str, HieraError> {
    match &v.kind {
        ValueKind::String(s) => Ok(s),
        _ => Err(config_err(
            &v.origin,
            format!("{what} must be a string, not a {}", v.type_name()),
        )),
    }
}

fn config_strings(v: &Value, what: &str) -> Result<Vec<String>, HieraError> {
    match &v.kind {
        ValueKind::Seq(items) => items
            .iter()
            .map(|i| config_str(i, what).map(str::to_string))
            .collect(),
        _ => Err(config_err(
            &v.origin,
            format!("{what} must be a list of strings, not a {}", v.type_name()),
        )),
    }
}

/// (function key, function name) of a level or of `defaults`.
fn function_of(v: &Value) -> Result<Option<(&'static str, String)>, HieraError> {
    for k in FUNCTION_KEYS {
        if let Some(f) = v.get(k) {
            return Ok(Some((k, config_str(f, k)?.to_string())));
        }
    }
    Ok(None)
}

fn resolve_backend(kind: &str, name: &str, opts: &HieraOptions) -> Backend {
    if kind == "hiera3_backend" {
        return Backend::Skip(format!("hiera3_backend '{name}' is not supported"));
    }
    if let Some((_, b)) = opts.functions.iter().find(|(n, _)| n == name) {
        return Backend::Data(*b);
    }
    match name {
        "yaml_data" | "json_data" => Backend::Data(Builtin::YamlData),
        "eyaml_lookup_key" => Backend::Data(Builtin::EyamlLookupKey),
        "hocon_data" => Backend::Skip("hocon_data is not supported".to_string()),
        _ => Backend::Skip(format!(
            "{kind} function '{name}' is not supported (map it to a built-in: yaml_data, eyaml_lookup_key or expand_path)"
        )),
    }
}

impl Hiera {
    /// Loads `config` (report-relative path of a `hiera.yaml` inside `files`). Relative
    /// datadirs are relative to the config file's directory; absolute ones go through
    /// `opts.map_paths`, else the level is skipped with a note ([`Hiera::notes`]). Errors only
    /// for an unreadable or invalid config.
    pub fn load(
        files: Arc<dyn FileSource>,
        config: &str,
        opts: HieraOptions,
    ) -> Result<Hiera, HieraError> {
        let config = normalize_rel(config).unwrap_or_else(|| config.to_string());
        let at = |line: u32, column: u32, message: String| HieraError {
            path: config.clone(),
            line,
            column,
            message,
        };
        let bytes = files
            .read(&config)
            .map_err(|e| at(0, 0, format!("cannot read the Hiera config: {e}")))?;
        let text = decode_text(bytes).map_err(|m| at(1, 1, m))?;
        let stream = yaml::parse(&text, &yaml::Limits::default());
        if let Some(e) = &stream.error {
            return Err(at(
                e.mark.line,
                e.mark.col,
                format!("invalid YAML: {}", e.message),
            ));
        }
        let Some((doc, root)) = stream.docs.first().and_then(|d| d.root().map(|r| (d, r))) else {
            return Err(at(1, 1, "empty Hiera config".to_string()));
        };
        let cfg = from_yaml(doc, root, &config).map_err(|m| at(1, 1, m))?;
        if cfg.as_map().is_none() {
            return Err(config_err(
                &cfg.origin,
                "a Hiera config must be a mapping".to_string(),
            ));
        }
        match cfg.get("version") {
            None => {
                return Err(config_err(
                    &cfg.origin,
                    "no 'version': only Hiera 5 configs are supported".to_string(),
                ))
            }
            Some(v) => {
                let s = match &v.kind {
                    ValueKind::Number(n) | ValueKind::String(n) => n.trim(),
                    _ => "",
                };
                if s != "5" {
                    return Err(config_err(
                        &v.origin,
                        format!("Hiera config version '{s}' is not supported (only version 5)"),
                    ));
                }
            }
        }
        let mut map_paths: Vec<(String, String)> = opts
            .map_paths
            .iter()
            .filter_map(|(abs, rel)| Some((normalize_rel(abs)?, normalize_rel(rel)?)))
            .collect();
        map_paths.sort_by_key(|(abs, _)| std::cmp::Reverse(abs.len()));
        let mut h = Hiera {
            files,
            config_dir: parent_dir(&config),
            config: config.clone(),
            levels: Vec::new(),
            map_paths,
            expand_path_scan: opts.expand_path_scan,
            notes: Vec::new(),
            cache: Mutex::new(HashMap::new()),
            lists: Mutex::new(HashMap::new()),
        };
        for (k, v) in cfg.as_map().unwrap_or(&[]) {
            if !matches!(k.as_str(), "version" | "defaults" | "hierarchy") {
                h.notes.push(Note {
                    origin: v.origin.clone(),
                    message: format!("'{k}' in the Hiera config is ignored"),
                });
            }
        }
        let mut def_datadir = "data".to_string();
        let mut def_fn = None;
        if let Some(d) = cfg.get("defaults").filter(|d| !d.is_null()) {
            if d.as_map().is_none() {
                return Err(config_err(
                    &d.origin,
                    "'defaults' must be a mapping".to_string(),
                ));
            }
            if let Some(dd) = d.get("datadir") {
                def_datadir = config_str(dd, "datadir")?.to_string();
            }
            def_fn = function_of(d)?;
        }
        let default_level;
        let items: &[Value] = match cfg.get("hierarchy") {
            None => {
                default_level = [Value::new(
                    ValueKind::Map(vec![
                        ("name".to_string(), Value::string("Common")),
                        ("path".to_string(), Value::string("common.yaml")),
                    ]),
                    cfg.origin.clone(),
                )];
                &default_level
            }
            Some(Value {
                kind: ValueKind::Seq(items),
                ..
            }) => items,
            Some(v) => {
                return Err(config_err(
                    &v.origin,
                    "'hierarchy' must be a list".to_string(),
                ));
            }
        };
        for item in items {
            let level = h.parse_level(item, &def_datadir, def_fn.as_ref(), &opts)?;
            h.levels.push(level);
        }
        Ok(h)
    }

    fn parse_level(
        &mut self,
        v: &Value,
        def_datadir: &str,
        def_fn: Option<&(&'static str, String)>,
        opts: &HieraOptions,
    ) -> Result<Level, HieraError> {
        let Some(entries) = v.as_map() else {
            return Err(config_err(
                &v.origin,
                "a hierarchy level must be a mapping".to_string(),
            ));
        };
        let name = match v.get("name") {
            Some(n) => config_str(n, "name")?.to_string(),
            None => {
                return Err(config_err(
                    &v.origin,
                    "a hierarchy level needs a 'name'".to_string(),
                ));
            }
        };
        for (k, val) in entries {
            if !LEVEL_KEYS.contains(&k.as_str()) {
                self.notes.push(Note {
                    origin: val.origin.clone(),
                    message: format!("hierarchy level '{name}': '{k}' is ignored"),
                });
            }
        }
        let mut backend = match function_of(v)?.or_else(|| def_fn.cloned()) {
            None => Backend::Data(Builtin::YamlData),
            Some((kind, fname)) => resolve_backend(kind, &fname, opts),
        };
        let datadir = match v.get("datadir") {
            Some(d) => config_str(d, "datadir")?.to_string(),
            None => def_datadir.to_string(),
        };
        let present: Vec<&str> = LOCATION_KEYS
            .iter()
            .copied()
            .filter(|k| v.get(k).is_some())
            .collect();
        if present.len() > 1 {
            self.notes.push(Note {
                origin: v.origin.clone(),
                message: format!(
                    "hierarchy level '{name}' has {} (only one is allowed); using '{}'",
                    present.join(", "),
                    present.first().copied().unwrap_or_default()
                ),
            });
        }
        let mut locs = Locs::None;
        match present.first().copied() {
            Some(k @ ("path" | "glob")) => {
                let s = v
                    .get(k)
                    .map(|p| config_str(p, k))
                    .transpose()?
                    .unwrap_or("")
                    .to_string();
                locs = if k == "path" {
                    Locs::Paths(vec![s])
                } else {
                    Locs::Globs(vec![s])
                };
            }
            Some(k @ ("paths" | "globs")) => {
                let list = match v.get(k) {
                    Some(p) => config_strings(p, k)?,
                    None => Vec::new(),
                };
                locs = if k == "paths" {
                    Locs::Paths(list)
                } else {
                    Locs::Globs(list)
                };
            }
            Some("mapped_paths") => {
                let mp = v.get("mapped_paths").cloned().unwrap_or_default();
                let list = config_strings(&mp, "mapped_paths")?;
                let [fact, var, template] = list.as_slice() else {
                    return Err(config_err(
                        &mp.origin,
                        "mapped_paths must be [fact, variable, path template]".to_string(),
                    ));
                };
                locs = Locs::Mapped {
                    fact: fact.clone(),
                    var: var.clone(),
                    template: template.clone(),
                };
            }
            Some(k @ ("uri" | "uris")) => {
                let shown = v.get(k).map(|u| match &u.kind {
                    ValueKind::String(s) => s.clone(),
                    _ => u.to_interpolated(),
                });
                backend = Backend::Skip(format!(
                    "reads URIs ({}), e.g. an HTTP ENC: not available offline",
                    shown.unwrap_or_default()
                ));
            }
            _ => {
                if matches!(backend, Backend::Data(_)) {
                    backend =
                        Backend::Skip("no path, paths, glob, globs or mapped_paths".to_string());
                }
            }
        }
        let mut static_skip = None;
        if matches!(backend, Backend::Data(_))
            && !datadir.contains("%{")
            && datadir.starts_with('/')
            && self.map_abs(&datadir).is_none()
        {
            static_skip = Some(format!(
                "datadir {datadir} is not in the repository (no map-path for it)"
            ));
        }
        if let Some(reason) = static_skip.as_ref().or(match &backend {
            Backend::Skip(r) => Some(r),
            Backend::Data(_) => None,
        }) {
            self.notes.push(Note {
                origin: v.origin.clone(),
                message: format!("hierarchy level '{name}' skipped: {reason}"),
            });
        }
        Ok(Level {
            name,
            origin: v.origin.clone(),
            backend,
            datadir,
            locs,
            static_skip,
        })
    }

    /// Notes from loading the config (skipped levels, ignored keys).
    #[must_use]
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// Report-relative path of the config.
    #[must_use]
    pub fn config_path(&self) -> &str {
        &self.config
    }

    /// Hierarchy level names, in order.
    #[must_use]
    pub fn level_names(&self) -> Vec<&str> {
        self.levels.iter().map(|l| l.name.as_str()).collect()
    }

    /// Maps an absolute host path into the repository.
    fn map_abs(&self, abs: &str) -> Option<String> {
        let norm = normalize_rel(abs)?;
        for (prefix, rel) in &self.map_paths {
            if norm == *prefix {
                return Some(rel.clone());
            }
            let rest = if prefix.is_empty() {
                Some(norm.as_str())
            } else {
                norm.strip_prefix(prefix.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            if let Some(rest) = rest {
                return join_rel(rel, rest);
            }
        }
        None
    }

    fn data_file(&self, rel: &str) -> Arc<DataFile> {
        if let Some(f) = lock(&self.cache).get(rel) {
            return f.clone();
        }
        let f = Arc::new(self.load_data_file(rel));
        lock(&self.cache)
            .entry(rel.to_string())
            .or_insert(f)
            .clone()
    }

    fn load_data_file(&self, rel: &str) -> DataFile {
        if rel.is_empty() || !self.files.is_file(rel) {
            return DataFile::Missing;
        }
        let bad = |line: u32, column: u32, message: String| DataFile::Bad {
            origin: Origin::new(rel, line, column),
            message,
        };
        let bytes = match self.files.read(rel) {
            Ok(b) => b,
            Err(e) => return bad(0, 0, format!("cannot read data file: {e}")),
        };
        let text = match decode_text(bytes) {
            Ok(t) => t,
            Err(m) => return bad(1, 1, format!("data file is {m}")),
        };
        let stream = yaml::parse(&text, &yaml::Limits::default());
        if let Some(e) = stream.error {
            return bad(
                e.mark.line,
                e.mark.col,
                format!("invalid YAML in data file: {}", e.message),
            );
        }
        let mut keys = HashMap::new();
        let mut warning = None;
        let doc = stream.docs.into_iter().next();
        if let Some(d) = &doc {
            if let Some(root) = d.root() {
                if matches!(d.node(d.resolve(root)).kind, Kind::Map(_)) {
                    for (k, v) in d.entries(root) {
                        if let Some(s) = d.str(k) {
                            keys.insert(s.to_string(), (k, v));
                        }
                    }
                } else if !d.is_null(root) {
                    warning = Some("data file does not contain a YAML hash; ignored".to_string());
                }
            }
        }
        DataFile::Loaded { doc, keys, warning }
    }

    fn list(&self, dir: &str) -> Arc<Vec<String>> {
        if let Some(l) = lock(&self.lists).get(dir) {
            return l.clone();
        }
        let l = Arc::new(self.files.list(dir));
        lock(&self.lists)
            .entry(dir.to_string())
            .or_insert(l)
            .clone()
    }

    /// Looks up `key` like `puppet lookup KEY --merge M --explain`. `merge: None` uses the
    /// key's `lookup_options` (exact key, then `^regex` keys), default `first`.
    #[must_use]
    pub fn lookup(&self, key: &str, facts: &Facts, merge: Option<Merge>) -> Lookup {
        self.lookup_spec(key, facts, merge.map(MergeSpec::from))
    }

    /// [`Hiera::lookup`] with deep-merge options.
    #[must_use]
    pub fn lookup_spec(&self, key: &str, facts: &Facts, merge: Option<MergeSpec>) -> Lookup {
        let mut ctx = Ctx::new(self, facts);
        let root = key_segments(key).into_iter().next().unwrap_or_default();
        let spec = match merge {
            Some(s) => s,
            None => ctx.options_for(&root),
        };
        let (value, explain) = ctx.lookup_with(key, &spec);
        Lookup {
            value,
            explain,
            notes: ctx.finish(),
            merge: spec.strategy,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Interpolation syntax

enum Piece<'a> {
    Text(&'a str),
    Expr { raw: &'a str, inner: &'a str },
}

/// Splits a string into text and `%{...}` expressions (Puppet: `/%\{([^\}]*)\}/`).
fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("%{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else { break };
        if i > 0 {
            out.push(Piece::Text(&rest[..i]));
        }
        out.push(Piece::Expr {
            raw: &rest[i..i + 3 + j],
            inner: &after[..j],
        });
        rest = &after[j + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// `name('arg')` / `name("arg")` (Puppet: `/^(\w+)\((?:["]([^"]+)["]|[']([^']+)['])\)$/`).
fn parse_method(e: &str) -> Option<(&str, &str)> {
    let open = e.find('(')?;
    let name = &e[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let rest = e[open + 1..].strip_suffix(')')?;
    let q = rest.chars().next().filter(|&c| c == '\'' || c == '"')?;
    let arg = rest[1..].strip_suffix(q)?;
    if arg.is_empty() || arg.contains(q) {
        return None;
    }
    Some((name, arg))
}

/// Interpolates a `hiera.yaml` string (datadir, path): variables, `scope()`, `literal()`.
fn interp_config(
    facts: &Facts,
    s: &str,
    extra: Option<(&str, &Value)>,
    unknown: &mut Vec<String>,
    problems: &mut Vec<String>,
) -> String {
    let mut out = String::new();
    for p in pieces(s) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr { inner, .. } => {
                let e = inner.trim();
                let var = match parse_method(e) {
                    Some(("literal", arg)) => {
                        out.push_str(arg);
                        continue;
                    }
                    Some(("scope", arg)) => arg,
                    Some((name, _)) => {
                        problems.push(format!(
                            "%{{{e}}}: {name}() cannot be used in hiera.yaml (only scope() and literal()); interpolated as ''"
                        ));
                        continue;
                    }
                    None => e,
                };
                if var.is_empty() {
                    continue;
                }
                match resolve_var(&facts.root, var, extra) {
                    Some(v) => puppet_string(v, &mut out, true),
                    None => unknown.push(var.to_string()),
                }
            }
        }
        if out.len() > MAX_STRING_BYTES {
            problems.push("interpolated path longer than 1 MiB; ignored".to_string());
            return String::new();
        }
    }
    out
}

fn unknown_detail(original: &str, unknown: &[String]) -> Option<String> {
    if unknown.is_empty() {
        return None;
    }
    let vars: Vec<String> = unknown.iter().map(|u| format!("%{{{u}}}")).collect();
    Some(format!(
        "{} not set: interpolated as '' in \"{original}\"",
        vars.join(", ")
    ))
}

/// The file `wmflib::expand_path` reads for `key` under level path `base`.
fn expand_target(base: &str, key: &str) -> Option<String> {
    let k = key.strip_prefix("::").unwrap_or(key);
    let mut ns: Vec<&str> = k.split("::").collect();
    ns.pop();
    if ns.is_empty() {
        return Some(format!("{base}.yaml"));
    }
    join_rel(base, &format!("{}.yaml", ns.join("/")))
}

fn dig_owned(v: Value, segs: &[String]) -> Option<Value> {
    let mut cur = v;
    for seg in segs {
        cur = match cur.kind {
            ValueKind::Map(m) => m.into_iter().find(|(k, _)| k == seg).map(|(_, v)| v)?,
            ValueKind::Seq(items) => items.into_iter().nth(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn dedup_keys(entries: Vec<(String, Value)>) -> Vec<(String, Value)> {
    let mut idx: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<(String, Value)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        match idx.get(&k) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    slot.1 = v;
                }
            }
            None => {
                idx.insert(k.clone(), out.len());
                out.push((k, v));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The lookup engine

#[derive(Clone, Debug)]
enum Loc {
    File {
        rel: String,
        detail: Option<String>,
    },
    Missing {
        path: Option<String>,
        detail: String,
    },
    Skip {
        path: Option<String>,
        reason: String,
    },
}

enum Raw {
    Missing,
    Absent,
    Found { value: Value, key_origin: Origin },
    Error(String),
}

enum Sub {
    Unresolved,
    Missing,
    Found(Value),
}

/// A collection being interpolated (see `Ctx::interp`).
enum InterpFrame {
    Seq {
        origin: Origin,
        src: std::vec::IntoIter<Value>,
        out: Vec<Value>,
    },
    Map {
        origin: Origin,
        src: std::vec::IntoIter<(String, Value)>,
        out: Vec<(String, Value)>,
        key: String,
        /// A key was interpolated: keys may now repeat (the later one wins).
        renamed: bool,
    },
}

impl InterpFrame {
    fn finish(self) -> Value {
        match self {
            InterpFrame::Seq { origin, out, .. } => Value::new(ValueKind::Seq(out), origin),
            InterpFrame::Map {
                origin,
                out,
                renamed,
                ..
            } => {
                let out = if renamed { dedup_keys(out) } else { out };
                Value::new(ValueKind::Map(out), origin)
            }
        }
    }
}

/// State of one top-level lookup (and the lookups its interpolations make).
struct Ctx<'a> {
    h: &'a Hiera,
    facts: &'a Facts,
    notes: Vec<Note>,
    note_keys: HashSet<(Origin, String)>,
    suppressed: usize,
    stack: Vec<String>,
    memo: HashMap<String, Option<Value>>,
    budget: Budget,
    budget_noted: bool,
    locs: Vec<Option<Rc<Vec<Loc>>>>,
    lookup_options: Option<Rc<Vec<(String, Value)>>>,
    regexes: HashMap<String, Result<Rc<rx::Regex>, String>>,
}

impl<'a> Ctx<'a> {
    fn new(h: &'a Hiera, facts: &'a Facts) -> Ctx<'a> {
        Ctx {
            h,
            facts,
            notes: Vec::new(),
            note_keys: HashSet::new(),
            suppressed: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
            budget: Budget::full(),
            budget_noted: false,
            locs: vec![None; h.levels.len()],
            lookup_options: None,
            regexes: HashMap::new(),
        }
    }

    fn note(&mut self, origin: &Origin, message: String) {
        let key = (origin.clone(), message);
        if self.note_keys.contains(&key) {
            return;
        }
        if self.notes.len() >= MAX_NOTES {
            self.suppressed += 1;
            return;
        }
        self.notes.push(Note {
            origin: key.0.clone(),
            message: key.1.clone(),
        });
        self.note_keys.insert(key);
    }

    fn finish(mut self) -> Vec<Note> {
        if self.suppressed > 0 {
            self.notes.push(Note {
                origin: Origin::new(&self.h.config, 0, 0),
                message: format!("{} more notes not shown", self.suppressed),
            });
        }
        self.notes
    }

    // --- locations

    fn locations(&mut self, i: usize) -> Rc<Vec<Loc>> {
        if let Some(Some(l)) = self.locs.get(i) {
            return l.clone();
        }
        let h = self.h;
        let l = Rc::new(match h.levels.get(i) {
            Some(level) => self.compute_locations(level),
            None => Vec::new(),
        });
        if let Some(slot) = self.locs.get_mut(i) {
            *slot = Some(l.clone());
        }
        l
    }

    fn compute_locations(&mut self, level: &Level) -> Vec<Loc> {
        if let Some(reason) = &level.static_skip {
            return vec![Loc::Skip {
                path: None,
                reason: reason.clone(),
            }];
        }
        let h = self.h;
        let facts = self.facts;
        let mut dd_unknown = Vec::new();
        let mut problems = Vec::new();
        let dd = interp_config(facts, &level.datadir, None, &mut dd_unknown, &mut problems);
        let base = if dd.starts_with('/') {
            match h.map_abs(&dd) {
                Some(b) => b,
                None => {
                    let reason =
                        format!("datadir {dd} is not in the repository (no map-path for it)");
                    self.note(
                        &level.origin,
                        format!("hierarchy level '{}' skipped: {reason}", level.name),
                    );
                    return vec![Loc::Skip { path: None, reason }];
                }
            }
        } else {
            match join_rel(&h.config_dir, &dd) {
                Some(b) => b,
                None => {
                    return vec![Loc::Skip {
                        path: None,
                        reason: format!("datadir {dd} leaves the repository"),
                    }]
                }
            }
        };
        let mut out = Vec::new();
        match &level.locs {
            Locs::Paths(paths) => {
                for p in paths {
                    let mut unk = dd_unknown.clone();
                    let s = interp_config(facts, p, None, &mut unk, &mut problems);
                    out.push(self.path_loc(&base, &s, p, &unk));
                }
            }
            Locs::Globs(globs) => {
                for g in globs {
                    let mut unk = dd_unknown.clone();
                    let s = interp_config(facts, g, None, &mut unk, &mut problems);
                    self.glob_locs(&base, &s, g, &unk, &mut out);
                }
            }
            Locs::Mapped {
                fact,
                var,
                template,
            } => {
                let items: Vec<&Value> = match facts.get_value(fact) {
                    Some(Value {
                        kind: ValueKind::Seq(items),
                        ..
                    }) => items.iter().collect(),
                    Some(v) if !v.is_null() && !matches!(v.kind, ValueKind::Map(_)) => vec![v],
                    _ => {
                        out.push(Loc::Missing {
                            path: None,
                            detail: format!(
                                "fact '{fact}' is not set (or not a list): mapped_paths yields no paths"
                            ),
                        });
                        Vec::new()
                    }
                };
                for item in items {
                    let mut unk = dd_unknown.clone();
                    let s =
                        interp_config(facts, template, Some((var, item)), &mut unk, &mut problems);
                    out.push(self.path_loc(&base, &s, template, &unk));
                }
            }
            Locs::None => {}
        }
        for p in problems {
            self.note(
                &level.origin,
                format!("hierarchy level '{}': {p}", level.name),
            );
        }
        out
    }

    fn path_loc(&self, base: &str, p: &str, original: &str, unknown: &[String]) -> Loc {
        let detail = unknown_detail(original, unknown);
        let rel = if p.starts_with('/') {
            match self.h.map_abs(p) {
                Some(r) => r,
                None => {
                    return Loc::Skip {
                        path: None,
                        reason: format!("path {p} is not in the repository (no map-path for it)"),
                    }
                }
            }
        } else {
            match join_rel(base, p) {
                Some(r) => r,
                None => {
                    return Loc::Skip {
                        path: None,
                        reason: format!("path {p} leaves the repository"),
                    }
                }
            }
        };
        Loc::File { rel, detail }
    }

    fn glob_locs(
        &self,
        base: &str,
        pattern: &str,
        original: &str,
        unknown: &[String],
        out: &mut Vec<Loc>,
    ) {
        let detail = unknown_detail(original, unknown);
        let full = if pattern.starts_with('/') {
            self.h.map_abs(pattern)
        } else {
            join_rel(base, pattern)
        };
        let Some(full) = full else {
            out.push(Loc::Skip {
                path: None,
                reason: format!("glob {pattern} is not in the repository"),
            });
            return;
        };
        let meta = |c: &str| c.contains(['*', '?', '[', '{']);
        if !meta(&full) {
            out.push(Loc::File { rel: full, detail });
            return;
        }
        let dir: Vec<&str> = full.split('/').take_while(|c| !meta(c)).collect();
        let matcher = match globset::GlobBuilder::new(&full)
            .literal_separator(true)
            .build()
        {
            Ok(g) => g.compile_matcher(),
            Err(e) => {
                out.push(Loc::Skip {
                    path: Some(full),
                    reason: format!("bad glob: {e}"),
                });
                return;
            }
        };
        let before = out.len();
        for p in self.h.list(&dir.join("/")).iter() {
            if matcher.is_match(p) {
                out.push(Loc::File {
                    rel: p.clone(),
                    detail: detail.clone(),
                });
            }
        }
        if out.len() == before {
            out.push(Loc::Missing {
                path: Some(full),
                detail: "glob matched no files".to_string(),
            });
        }
    }

    // --- reading data

    fn raw_find(&mut self, rel: &str, key: &str) -> Raw {
        let file = self.h.data_file(rel);
        match &*file {
            DataFile::Missing => Raw::Missing,
            DataFile::Bad { origin, message } => {
                self.note(origin, message.clone());
                Raw::Error(message.clone())
            }
            DataFile::Loaded { doc, keys, warning } => {
                if let Some(w) = warning {
                    self.note(&Origin::new(rel, 1, 1), w.clone());
                }
                let (Some(doc), Some(&(k, v))) = (doc, keys.get(key)) else {
                    return Raw::Absent;
                };
                let key_origin = Origin::at(rel, doc.node(k).start);
                let mut budget = Budget {
                    nodes: self.budget.nodes,
                    bytes: self.budget.bytes,
                };
                match convert_entry(doc, k, v, rel, &mut budget) {
                    Ok(value) => {
                        self.budget = budget;
                        Raw::Found { value, key_origin }
                    }
                    Err(m) => {
                        self.note(&key_origin, format!("value of '{key}' not used: {m}"));
                        Raw::Error(m)
                    }
                }
            }
        }
    }

    fn find_in_file(
        &mut self,
        level: &str,
        rel: &str,
        key: &str,
        detail: Option<&String>,
        steps: &mut Vec<Step>,
    ) -> Option<Value> {
        let (outcome, value) = match self.raw_find(rel, key) {
            Raw::Missing => (StepOutcome::FileMissing, None),
            Raw::Absent => (StepOutcome::NotFound, None),
            Raw::Error(m) => (StepOutcome::Error(m), None),
            Raw::Found { value, key_origin } => (StepOutcome::Found(key_origin), Some(value)),
        };
        steps.push(Step {
            level: level.to_string(),
            path: Some(rel.to_string()),
            outcome,
            detail: detail.cloned(),
        });
        value
    }

    fn find_expand(
        &mut self,
        level: &str,
        base: &str,
        key: &str,
        detail: Option<&String>,
        steps: &mut Vec<Step>,
    ) -> Option<Value> {
        let mapped = expand_target(base, key);
        match &mapped {
            Some(m) => {
                if let Some(v) = self.find_in_file(level, m, key, detail, steps) {
                    return Some(v);
                }
            }
            None => steps.push(Step {
                level: level.to_string(),
                path: None,
                outcome: StepOutcome::NotFound,
                detail: Some(format!("'{key}' cannot be mapped to a file under {base}")),
            }),
        }
        if !self.h.expand_path_scan || key == "lookup_options" {
            return None;
        }
        let listing = self.h.list(base);
        let own = format!("{base}.yaml");
        let candidates =
            std::iter::once(&own).chain(listing.iter().filter(|p| p.ends_with(".yaml")));
        for c in candidates {
            if Some(c) == mapped.as_ref() {
                continue;
            }
            if let Raw::Found { value, key_origin } = self.raw_find(c, key) {
                let expected = mapped.as_deref().unwrap_or("no file");
                self.note(
                    &key_origin,
                    format!(
                        "'{key}' found in {c} by scanning; wmflib::expand_path reads only {expected} for this key, so Puppet would not see this value"
                    ),
                );
                steps.push(Step {
                    level: level.to_string(),
                    path: Some(c.clone()),
                    outcome: StepOutcome::Found(key_origin),
                    detail: Some(format!(
                        "found by scanning {base}/ (expand_path reads {expected})"
                    )),
                });
                return Some(value);
            }
        }
        None
    }

    // --- lookup_options

    fn lookup_options_map(&mut self) -> Rc<Vec<(String, Value)>> {
        if let Some(lo) = &self.lookup_options {
            return lo.clone();
        }
        let h = self.h;
        let mut merged: Vec<(String, Value)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for (i, level) in h.levels.iter().enumerate() {
            let Backend::Data(b) = &level.backend else {
                continue;
            };
            let locs = self.locations(i);
            for loc in locs.iter() {
                let Loc::File { rel, .. } = loc else { continue };
                let file = if *b == Builtin::ExpandPath {
                    format!("{rel}.yaml")
                } else {
                    rel.clone()
                };
                let Raw::Found { value, key_origin } = self.raw_find(&file, "lookup_options")
                else {
                    continue;
                };
                match value.kind {
                    ValueKind::Map(m) => {
                        for (k, v) in m {
                            if seen.insert(k.clone()) {
                                merged.push((k, v));
                            }
                        }
                    }
                    _ => self.note(
                        &key_origin,
                        "lookup_options must be a hash; ignored".to_string(),
                    ),
                }
            }
        }
        let rc = Rc::new(merged);
        self.lookup_options = Some(rc.clone());
        rc
    }

    fn regex(&mut self, pattern: &str) -> Result<Rc<rx::Regex>, String> {
        if let Some(r) = self.regexes.get(pattern) {
            return r.clone();
        }
        let r = rx::Regex::new(pattern).map(Rc::new);
        self.regexes.insert(pattern.to_string(), r.clone());
        r
    }

    /// The merge behaviour `lookup_options` give a root key.
    fn options_for(&mut self, root: &str) -> MergeSpec {
        let lo = self.lookup_options_map();
        let mut chosen = lo.iter().find(|(k, _)| k == root).map(|(_, v)| v);
        if chosen.is_none() {
            for (k, v) in lo.iter() {
                if !k.starts_with('^') {
                    continue;
                }
                match self.regex(k) {
                    Ok(re) => {
                        if re.is_match(root) {
                            chosen = Some(v);
                            break;
                        }
                    }
                    Err(e) => self.note(
                        &v.origin,
                        format!("lookup_options pattern '{k}' ignored: {e}"),
                    ),
                }
            }
        }
        let Some(m) = chosen.and_then(|o| o.get("merge")) else {
            return MergeSpec::from(Merge::First);
        };
        match MergeSpec::from_option(m) {
            Ok(s) => s,
            Err(e) => {
                self.note(
                    &m.origin,
                    format!("lookup_options for '{root}': {e}; using first"),
                );
                MergeSpec::from(Merge::First)
            }
        }
    }

    // --- lookup

    fn lookup_with(&mut self, key: &str, spec: &MergeSpec) -> (Option<Value>, Vec<Step>) {
        let segs = key_segments(key);
        let root = segs.first().cloned().unwrap_or_default();
        let sub = segs.get(1..).unwrap_or(&[]);
        let mut steps = Vec::new();
        if root == "lookup_options" {
            let lo = self.lookup_options_map();
            let v = Value::new(ValueKind::Map(lo.to_vec()), Origin::default());
            return (dig_owned(v, sub), steps);
        }
        let h = self.h;
        let first = spec.strategy == Merge::First;
        let mut found = Vec::new();
        let mut locations = 0usize;
        self.stack.push(root.clone());
        'levels: for (i, level) in h.levels.iter().enumerate() {
            let builtin = match &level.backend {
                Backend::Skip(reason) => {
                    steps.push(Step {
                        level: level.name.clone(),
                        path: None,
                        outcome: StepOutcome::Skipped(reason.clone()),
                        detail: None,
                    });
                    continue;
                }
                Backend::Data(b) => *b,
            };
            let locs = self.locations(i);
            for loc in locs.iter() {
                let (rel, detail) = match loc {
                    Loc::Skip { path, reason } => {
                        steps.push(Step {
                            level: level.name.clone(),
                            path: path.clone(),
                            outcome: StepOutcome::Skipped(reason.clone()),
                            detail: None,
                        });
                        continue;
                    }
                    Loc::Missing { path, detail } => {
                        steps.push(Step {
                            level: level.name.clone(),
                            path: path.clone(),
                            outcome: StepOutcome::FileMissing,
                            detail: Some(detail.clone()),
                        });
                        continue;
                    }
                    Loc::File { rel, detail } => (rel, detail.as_ref()),
                };
                locations += 1;
                let hit = match builtin {
                    Builtin::ExpandPath => {
                        self.find_expand(&level.name, rel, &root, detail, &mut steps)
                    }
                    Builtin::YamlData | Builtin::EyamlLookupKey => {
                        self.find_in_file(&level.name, rel, &root, detail, &mut steps)
                    }
                };
                let Some(v) = hit else { continue };
                found.push(self.interp(v, 0));
                if first {
                    break 'levels;
                }
            }
        }
        self.stack.pop();
        let mut problems = Vec::new();
        let merged = merge_values(found, spec, locations, &mut problems);
        for (o, m) in problems {
            self.note(&o, m);
        }
        // Puppet digs into the merged value of the root key (`key.dig(merged)`).
        let value = merged.and_then(|v| dig_owned(v, sub));
        if value.is_none() && !sub.is_empty() {
            if let Some(last) = steps
                .iter_mut()
                .rev()
                .find(|s| matches!(s.outcome, StepOutcome::Found(_)))
            {
                last.detail = Some(format!("'{root}' is here but has no '{}'", sub.join(".")));
            }
        }
        (value, steps)
    }

    // --- interpolation of data

    fn charge(&mut self, nodes: usize, bytes: usize, origin: &Origin) -> bool {
        if self.budget.nodes >= nodes && self.budget.bytes >= bytes {
            self.budget.nodes -= nodes;
            self.budget.bytes -= bytes;
            return true;
        }
        if !self.budget_noted {
            self.budget_noted = true;
            self.note(
                origin,
                format!(
                    "lookup produced more than {MAX_VALUE_NODES} values or {} MiB; the rest is left unresolved",
                    MAX_VALUE_BYTES >> 20
                ),
            );
        }
        false
    }

    /// Interpolates a value, walking it with an explicit stack: Rust recursion happens only
    /// through nested lookups (at most `MAX_NESTED_LOOKUPS`). `depth` is where `v` sits.
    fn interp(&mut self, v: Value, depth: usize) -> Value {
        let mut stack: Vec<InterpFrame> = Vec::new();
        let mut pending = self.interp_open(v, depth, &mut stack);
        loop {
            if let Some(done) = pending.take() {
                match stack.last_mut() {
                    None => return done,
                    Some(InterpFrame::Seq { out, .. }) => out.push(done),
                    Some(InterpFrame::Map { out, key, .. }) => {
                        out.push((std::mem::take(key), done))
                    }
                }
            }
            let child_depth = depth + stack.len();
            let next = match stack.last_mut() {
                None => return Value::default(),
                Some(InterpFrame::Seq { src, .. }) => src.next(),
                Some(InterpFrame::Map {
                    src, key, renamed, ..
                }) => match src.next() {
                    Some((k, v)) => {
                        *key = if k.contains("%{") {
                            *renamed = true;
                            self.interp_key(k, &v.origin)
                        } else {
                            k
                        };
                        Some(v)
                    }
                    None => None,
                },
            };
            pending = match next {
                Some(child) => self.interp_open(child, child_depth, &mut stack),
                None => stack.pop().map(InterpFrame::finish),
            };
        }
    }

    /// A scalar is interpolated now; a collection is pushed onto `stack`.
    fn interp_open(
        &mut self,
        v: Value,
        depth: usize,
        stack: &mut Vec<InterpFrame>,
    ) -> Option<Value> {
        let Value { kind, origin } = v;
        match kind {
            ValueKind::String(s) if s.contains("%{") => {
                Some(match self.expand(&s, &origin, depth) {
                    Some(v) => v,
                    None => Value::new(ValueKind::String(s), origin),
                })
            }
            ValueKind::Seq(items) => {
                stack.push(InterpFrame::Seq {
                    origin,
                    out: Vec::with_capacity(items.len()),
                    src: items.into_iter(),
                });
                None
            }
            ValueKind::Map(entries) => {
                stack.push(InterpFrame::Map {
                    origin,
                    out: Vec::with_capacity(entries.len()),
                    src: entries.into_iter(),
                    key: String::new(),
                    renamed: false,
                });
                None
            }
            other => Some(Value::new(other, origin)),
        }
    }

    fn interp_key(&mut self, k: String, origin: &Origin) -> String {
        match self.expand(&k, origin, MAX_VALUE_DEPTH) {
            None => k,
            Some(Value {
                kind: ValueKind::String(s),
                ..
            }) => s,
            Some(_) => {
                self.note(
                    origin,
                    format!("hash key \"{k}\": alias() of a non-string; left unresolved"),
                );
                k
            }
        }
    }

    /// Interpolates one string; `None` = leave it as it is (unresolvable, or over a cap).
    fn expand(&mut self, s: &str, origin: &Origin, depth: usize) -> Option<Value> {
        if is_encrypted(s) {
            return None;
        }
        let ps = pieces(s);
        if let [Piece::Expr { inner, .. }] = ps.as_slice() {
            if let Some(("alias", arg)) = parse_method(inner.trim()) {
                return match self.sub_lookup(arg, origin) {
                    Sub::Unresolved => None,
                    Sub::Missing => {
                        self.note(
                            origin,
                            format!("%{{alias('{arg}')}}: key not found; interpolated as ''"),
                        );
                        Some(Value::new(ValueKind::String(String::new()), origin.clone()))
                    }
                    Sub::Found(v) => {
                        if depth + value_depth(&v) > MAX_VALUE_DEPTH {
                            self.note(
                                origin,
                                format!("%{{alias('{arg}')}}: value would nest deeper than {MAX_VALUE_DEPTH} levels; left unresolved"),
                            );
                            None
                        } else {
                            Some(v)
                        }
                    }
                };
            }
        }
        let mut out = String::new();
        for p in &ps {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Expr { raw, inner } => match self.eval_expr(inner.trim(), origin) {
                    Some(t) => out.push_str(&t),
                    None => out.push_str(raw),
                },
            }
            if out.len() > MAX_STRING_BYTES {
                self.note(
                    origin,
                    "interpolation would produce a string over 1 MiB; left unresolved".to_string(),
                );
                return None;
            }
        }
        if !self.charge(1, out.len(), origin) {
            return None;
        }
        Some(Value::new(ValueKind::String(out), origin.clone()))
    }

    /// One `%{...}` expression in a data string; `None` = unresolvable.
    fn eval_expr(&mut self, e: &str, origin: &Origin) -> Option<String> {
        if e.is_empty() {
            return Some(String::new());
        }
        let Some((name, arg)) = parse_method(e) else {
            return Some(self.data_var(e, origin));
        };
        match name {
            "literal" => Some(arg.to_string()),
            "scope" => Some(self.data_var(arg, origin)),
            "lookup" | "hiera" => match self.sub_lookup(arg, origin) {
                Sub::Unresolved => None,
                Sub::Missing => {
                    self.note(
                        origin,
                        format!("%{{{e}}}: key not found; interpolated as ''"),
                    );
                    Some(String::new())
                }
                Sub::Found(v) => Some(v.to_interpolated()),
            },
            "alias" => {
                self.note(
                    origin,
                    format!("%{{{e}}}: alias() must be the entire string; left unresolved"),
                );
                None
            }
            _ => {
                self.note(
                    origin,
                    format!("%{{{e}}}: unknown interpolation function '{name}'; left unresolved"),
                );
                None
            }
        }
    }

    fn data_var(&mut self, name: &str, origin: &Origin) -> String {
        match self.facts.get_value(name) {
            Some(v) => v.to_interpolated(),
            None => {
                self.note(
                    origin,
                    format!("%{{{name}}}: variable not set (no such fact); interpolated as ''"),
                );
                String::new()
            }
        }
    }

    fn sub_lookup(&mut self, key: &str, origin: &Origin) -> Sub {
        let root = key_segments(key).into_iter().next().unwrap_or_default();
        if let Some(pos) = self.stack.iter().position(|k| *k == root) {
            let chain = self.stack.get(pos..).unwrap_or(&[]).join(" -> ");
            self.note(
                origin,
                format!("lookup loop: {chain} -> {root}; left unresolved"),
            );
            return Sub::Unresolved;
        }
        if self.stack.len() >= MAX_NESTED_LOOKUPS {
            self.note(
                origin,
                format!(
                    "more than {MAX_NESTED_LOOKUPS} nested lookups at '{key}'; left unresolved"
                ),
            );
            return Sub::Unresolved;
        }
        if !self.memo.contains_key(key) {
            let spec = self.options_for(&root);
            let (v, _) = self.lookup_with(key, &spec);
            self.memo.insert(key.to_string(), v);
        }
        // Charge the copy before making it.
        let (n, b) = match self.memo.get(key) {
            Some(Some(v)) => value_cost(v),
            _ => return Sub::Missing,
        };
        if !self.charge(n, b, origin) {
            return Sub::Unresolved;
        }
        match self.memo.get(key) {
            Some(Some(v)) => Sub::Found(v.clone()),
            _ => Sub::Missing,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// The lookup as text: the value as YAML (`show` may replace any string, e.g. a PEM by
/// `<certificate sha256:… CN=…>`), then with `explain` every level tried (like
/// `puppet lookup --explain`) and where the value was set (each leaf is annotated with its
/// line), then the notes.
#[must_use]
pub fn render_lookup(
    key: &str,
    l: &Lookup,
    explain: bool,
    show: &dyn Fn(&Value) -> Option<String>,
) -> String {
    let mut r = Render {
        out: String::new(),
        show,
        base: None,
    };
    match &l.value {
        None => {
            let _ = writeln!(r.out, "{}: <not found>", yaml_scalar(key));
        }
        Some(v) => {
            if explain {
                r.base = Some(v.origin.path.clone());
            }
            r.after_colon(format!("{}:", yaml_scalar(key)), 0, v);
        }
    }
    let mut out = r.out;
    if explain {
        out.push('\n');
        line(
            &mut out,
            format!("Searching for \"{key}\" (merge: {})", l.merge.name()),
        );
        let mut last: Option<&str> = None;
        for s in &l.explain {
            if last != Some(s.level.as_str()) {
                line(&mut out, format!("  Hierarchy entry \"{}\"", s.level));
                last = Some(&s.level);
            }
            let ind = match &s.path {
                Some(p) => {
                    line(&mut out, format!("    Path \"{p}\""));
                    "      "
                }
                None => "    ",
            };
            let text = match &s.outcome {
                StepOutcome::Found(o) => {
                    format!("Found key at line {}, column {}", o.line, o.column)
                }
                StepOutcome::NotFound => "No such key".to_string(),
                StepOutcome::FileMissing => "Path not found".to_string(),
                StepOutcome::Skipped(why) => format!("Skipped: {why}"),
                StepOutcome::Error(e) => format!("Error: {e}"),
            };
            line(&mut out, format!("{ind}{text}"));
            if let Some(d) = &s.detail {
                line(&mut out, format!("{ind}({d})"));
            }
        }
        match &l.value {
            Some(v) => {
                line(&mut out, format!("Value set at {}", v.origin));
                let mut files: std::collections::BTreeMap<&str, usize> =
                    std::collections::BTreeMap::new();
                count_leaves(v, &mut files);
                if files.len() > 1 || files.keys().any(|p| *p != v.origin.path) {
                    out.push_str("Merged from:\n");
                    for (p, n) in files {
                        line(
                            &mut out,
                            format!("  {p} ({n} value{})", if n == 1 { "" } else { "s" }),
                        );
                    }
                }
            }
            None => {
                out.push_str("No value found\n");
            }
        }
    }
    if !l.notes.is_empty() {
        out.push_str("Notes:\n");
        for n in &l.notes {
            line(&mut out, format!("  {}: {}", n.origin, n.message));
        }
    }
    out
}

/// Appends one line of the lookup report whose parts (level names, paths,
/// keys, notes) came from input: escaped as a whole, so that no hierarchy
/// name starts a line of its own or sends a control sequence.
fn line(out: &mut String, line: String) {
    out.push_str(&crate::report::escape::text(&line));
    out.push('\n');
}

fn count_leaves<'v>(v: &'v Value, files: &mut std::collections::BTreeMap<&'v str, usize>) {
    match &v.kind {
        ValueKind::Seq(items) if !items.is_empty() => {
            items.iter().for_each(|i| count_leaves(i, files))
        }
        ValueKind::Map(m) if !m.is_empty() => m.iter().for_each(|(_, i)| count_leaves(i, files)),
        _ => {
            if !v.origin.path.is_empty() {
                *files.entry(v.origin.path.as_str()).or_insert(0) += 1;
            }
        }
    }
}

struct Render<'a> {
    out: String,
    show: &'a dyn Fn(&Value) -> Option<String>,
    /// With explain: the value's file (leaves elsewhere are annotated with their file).
    base: Option<String>,
}

impl Render<'_> {
    fn annot(&self, v: &Value) -> String {
        match &self.base {
            Some(b) if v.origin.line > 0 => {
                if v.origin.path == *b {
                    format!("  # line {}", v.origin.line)
                } else {
                    format!("  # {}:{}", v.origin.path, v.origin.line)
                }
            }
            _ => String::new(),
        }
    }

    fn after_colon(&mut self, lead: String, indent: usize, v: &Value) {
        match &v.kind {
            ValueKind::Map(m) if !m.is_empty() => {
                let _ = writeln!(self.out, "{lead}");
                self.map(m, indent + 2, None);
            }
            ValueKind::Seq(items) if !items.is_empty() => {
                let _ = writeln!(self.out, "{lead}");
                self.seq(items, indent + 2, None);
            }
            _ => self.scalar(&lead, indent, v),
        }
    }

    fn map(&mut self, m: &[(String, Value)], indent: usize, first_lead: Option<String>) {
        for (i, (k, v)) in m.iter().enumerate() {
            let prefix = match (i, &first_lead) {
                (0, Some(l)) => l.clone(),
                _ => " ".repeat(indent),
            };
            self.after_colon(format!("{prefix}{}:", yaml_scalar(k)), indent, v);
        }
    }

    fn seq(&mut self, items: &[Value], indent: usize, first_lead: Option<String>) {
        for (i, item) in items.iter().enumerate() {
            let prefix = match (i, &first_lead) {
                (0, Some(l)) => l.clone(),
                _ => " ".repeat(indent),
            };
            let lead = format!("{prefix}- ");
            match &item.kind {
                ValueKind::Map(m) if !m.is_empty() => self.map(m, indent + 2, Some(lead)),
                ValueKind::Seq(s) if !s.is_empty() => self.seq(s, indent + 2, Some(lead)),
                _ => self.scalar(lead.trim_end(), indent, item),
            }
        }
    }

    fn scalar(&mut self, lead: &str, indent: usize, v: &Value) {
        let annot = self.annot(v);
        let text = match &v.kind {
            ValueKind::Null => "~".to_string(),
            ValueKind::Bool(b) => b.to_string(),
            ValueKind::Number(n) => n.clone(),
            ValueKind::Map(_) => "{}".to_string(),
            ValueKind::Seq(_) => "[]".to_string(),
            ValueKind::String(s) => {
                if let Some(shown) = (self.show)(v) {
                    shown
                } else if let Some((indicator, body)) = block_literal(s) {
                    let _ = writeln!(self.out, "{lead} {indicator}{annot}");
                    let pad = " ".repeat(indent + 2);
                    for line in body.split('\n') {
                        if line.is_empty() {
                            self.out.push('\n');
                        } else {
                            let _ = writeln!(self.out, "{pad}{line}");
                        }
                    }
                    return;
                } else {
                    yaml_scalar(s)
                }
            }
        };
        let _ = writeln!(self.out, "{lead} {text}{annot}");
    }
}

/// `|` / `|-` block form for a multi-line string, if it can be written that way.
fn block_literal(s: &str) -> Option<(&'static str, &str)> {
    if !s.contains('\n')
        || s.starts_with([' ', '\t', '\n'])
        || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return None;
    }
    match s.strip_suffix('\n') {
        Some(body) if !body.ends_with('\n') => Some(("|", body)),
        Some(_) => None,
        None => Some(("|-", s)),
    }
}

/// A scalar or key as YAML: plain if unambiguous, else double-quoted.
fn yaml_scalar(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(c))
        || s.ends_with(|c: char| c.is_whitespace() || c == ':')
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(char::is_control)
        || s == "~"
        || s.eq_ignore_ascii_case("null")
        || plain_bool(s).is_some()
        || is_yaml_number(s);
    if !needs_quotes {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::source::DirSource;
    use std::io;
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// The Wikimedia corpus (tests using it are skipped when it is missing).
    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/wikimedia");

    /// A file source over a temp dir, counting reads.
    struct Counting {
        inner: DirSource,
        reads: AtomicUsize,
    }

    impl FileSource for Counting {
        fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.inner.read(rel)
        }
        fn is_file(&self, rel: &str) -> bool {
            self.inner.is_file(rel)
        }
        fn list(&self, dir: &str) -> Vec<String> {
            self.inner.list(dir)
        }
    }

    /// A directory plus in-memory files (a config for a corpus snapshot).
    struct Overlay {
        base: DirSource,
        extra: Vec<(String, String)>,
    }

    impl FileSource for Overlay {
        fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
            match self.extra.iter().find(|(p, _)| p == rel) {
                Some((_, c)) => Ok(c.clone().into_bytes()),
                None => self.base.read(rel),
            }
        }
        fn is_file(&self, rel: &str) -> bool {
            self.extra.iter().any(|(p, _)| p == rel) || self.base.is_file(rel)
        }
        fn list(&self, dir: &str) -> Vec<String> {
            self.base.list(dir)
        }
    }

    fn write_files(root: &Path, files: &[(&str, &str)]) {
        for (p, c) in files {
            let full = root.join(p);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(full, c).expect("write");
        }
    }

    fn setup_with(files: &[(&str, &str)], opts: HieraOptions) -> (tempfile::TempDir, Hiera) {
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(dir.path(), files);
        let src: Arc<dyn FileSource> = Arc::new(DirSource::new(dir.path()));
        let h = Hiera::load(src, "hiera.yaml", opts).expect("config loads");
        (dir, h)
    }

    fn setup(files: &[(&str, &str)]) -> (tempfile::TempDir, Hiera) {
        setup_with(files, HieraOptions::default())
    }

    fn facts(pairs: &[(&str, &str)]) -> Facts {
        let mut f = Facts::new();
        for (k, v) in pairs {
            f.set(k, v);
        }
        f
    }

    /// Compact, ordered rendering for assertions.
    fn flat(v: &Value) -> String {
        match &v.kind {
            ValueKind::Null => "~".into(),
            ValueKind::Bool(b) => b.to_string(),
            ValueKind::Number(n) => n.clone(),
            ValueKind::String(s) => format!("'{s}'"),
            ValueKind::Seq(items) => {
                format!(
                    "[{}]",
                    items.iter().map(flat).collect::<Vec<_>>().join(", ")
                )
            }
            ValueKind::Map(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{k}: {}", flat(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn value_of(l: &Lookup) -> String {
        l.value
            .as_ref()
            .map(flat)
            .unwrap_or_else(|| "<none>".into())
    }

    fn has_note(l: &Lookup, needle: &str) -> bool {
        l.notes.iter().any(|n| n.message.contains(needle))
    }

    const SIMPLE: &str = "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: common\n    path: common.yaml\n";

    const INTERP_DATA: &str = r#"
site_name: "dc-%{::site}"
plain_var: "%{site}"
facts_nested: "%{facts.networking.fqdn}"
trusted_cn: "%{trusted.certname}"
scoped: "%{scope('site')}"
base: base-value
via_lookup: "x-%{lookup('base')}-y"
via_hiera: "%{hiera('base')}"
list: [1, 2, three]
aliased_list: "%{alias('list')}"
num: 42
aliased_num: "%{alias('num')}"
map: {a: 1}
aliased_map: "%{ alias('map') }"
lit: "%{literal('%')}{::site}"
keyed:
  "key-%{::site}": v
  fixed: "%{lookup('base')}"
nested:
  inner: ["%{::site}", {deep: "%{lookup('base')}"}]
unknown: "a%{::nope}b"
empty_expr: "a%{}b"
missing_lookup: "a%{lookup('no::such::key')}b"
alias_partial: "x%{alias('list')}"
bad_fn: "%{frobnicate('x')}"
list_in_string: "%{lookup('list')}"
"#;

    #[test]
    fn interpolation_forms() {
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", INTERP_DATA)]);
        let mut f = facts(&[
            ("site", "eqiad"),
            ("networking.fqdn", "h1.eqiad.wmnet"),
            ("trusted.certname", "h1.cert"),
        ]);
        f.set("::facts.ignored_prefix", "x");
        let get = |k: &str| h.lookup(k, &f, None);
        assert_eq!(value_of(&get("site_name")), "'dc-eqiad'");
        assert_eq!(value_of(&get("plain_var")), "'eqiad'");
        assert_eq!(value_of(&get("facts_nested")), "'h1.eqiad.wmnet'");
        assert_eq!(value_of(&get("trusted_cn")), "'h1.cert'");
        assert_eq!(value_of(&get("scoped")), "'eqiad'");
        assert_eq!(value_of(&get("via_lookup")), "'x-base-value-y'");
        assert_eq!(value_of(&get("via_hiera")), "'base-value'");
        assert_eq!(value_of(&get("lit")), "'%{::site}'");
        assert_eq!(
            value_of(&get("keyed")),
            "{key-eqiad: 'v', fixed: 'base-value'}"
        );
        assert_eq!(
            value_of(&get("nested")),
            "{inner: ['eqiad', {deep: 'base-value'}]}"
        );
        assert_eq!(value_of(&get("empty_expr")), "'ab'");
        assert_eq!(value_of(&get("list_in_string")), "'[1, 2, 'three']'");
        let l = get("unknown");
        assert_eq!(value_of(&l), "'ab'");
        assert!(has_note(&l, "%{::nope}: variable not set"), "{:?}", l.notes);
        let l = get("missing_lookup");
        assert_eq!(value_of(&l), "'ab'");
        assert!(has_note(&l, "key not found"), "{:?}", l.notes);
        let l = get("alias_partial");
        assert_eq!(value_of(&l), "'x%{alias('list')}'");
        assert!(has_note(&l, "must be the entire string"));
        let l = get("bad_fn");
        assert_eq!(value_of(&l), "'%{frobnicate('x')}'");
        assert!(has_note(&l, "unknown interpolation function"));
        // Note origins point at the string.
        let n = &get("unknown").notes[0];
        assert_eq!(
            (n.origin.path.as_str(), n.origin.line),
            ("data/common.yaml", 22)
        );
        assert_eq!(f.get("ignored_prefix").as_deref(), Some("x"));
    }

    #[test]
    fn alias_preserves_type_and_origin() {
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", INTERP_DATA)]);
        let f = Facts::new();
        let l = h.lookup("aliased_list", &f, None);
        let v = l.value.expect("found");
        assert_eq!(flat(&v), "[1, 2, 'three']");
        assert!(matches!(v.kind, ValueKind::Seq(_)));
        // Items keep the origin of the aliased data (line 10: `list: [1, 2, three]`).
        let items = v.as_seq().expect("seq");
        assert_eq!((items[2].origin.line, items[2].origin.column), (10, 14));
        let n = h.lookup("aliased_num", &f, None).value.expect("found");
        assert_eq!(n.kind, ValueKind::Number("42".into()));
        let m = h.lookup("aliased_map", &f, None).value.expect("found");
        assert_eq!(flat(&m), "{a: 1}");
        // The step points at the key that holds the alias.
        let l = h.lookup("aliased_num", &f, None);
        assert_eq!(
            l.explain[0].outcome,
            StepOutcome::Found(Origin::new("data/common.yaml", 13, 1))
        );
    }

    #[test]
    fn lookup_loops_are_notes() {
        let data = "a: \"%{lookup('b')}\"\nb: \"x%{lookup('a')}\"\ns: \"%{alias('s')}\"\nc: \"%{hiera('c.sub')}\"\n";
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", data)]);
        let f = Facts::new();
        let l = h.lookup("a", &f, None);
        assert_eq!(value_of(&l), "'x%{lookup('a')}'");
        assert!(has_note(&l, "lookup loop: a -> b -> a"), "{:?}", l.notes);
        let l = h.lookup("s", &f, None);
        assert_eq!(value_of(&l), "'%{alias('s')}'");
        assert!(has_note(&l, "lookup loop: s -> s"));
        let l = h.lookup("c", &f, None);
        assert!(has_note(&l, "lookup loop"));
    }

    #[test]
    fn deep_lookup_chains_are_capped() {
        let mut data = String::from("k0: end\n");
        for i in 1..60 {
            data.push_str(&format!("k{i}: \"%{{lookup('k{}')}}\"\n", i - 1));
        }
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
        let f = Facts::new();
        assert_eq!(value_of(&h.lookup("k20", &f, None)), "'end'");
        let l = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || h.lookup("k59", &f, None))
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(has_note(&l, "nested lookups"), "{:?}", l.notes);
    }

    #[test]
    fn expansion_over_1mib_is_capped() {
        let mut data = format!("l0: \"{}\"\n", "x".repeat(1024));
        for i in 1..=14 {
            data.push_str(&format!(
                "l{i}: \"%{{lookup('l{p}')}}%{{lookup('l{p}')}}\"\n",
                p = i - 1
            ));
        }
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
        let f = Facts::new();
        let start = Instant::now();
        let ok = h.lookup("l10", &f, None);
        assert_eq!(
            ok.value.and_then(|v| v.as_str().map(str::len)),
            Some(1 << 20)
        );
        let l = h.lookup("l14", &f, None);
        assert!(has_note(&l, "over 1 MiB"), "{:?}", l.notes);
        // Left unresolved at the level that overflowed (l11), so l14 stays bounded.
        assert!(value_of(&l).len() < 4 << 20);
        assert!(start.elapsed().as_secs() < 20);
    }

    #[test]
    fn alias_bomb_in_yaml_is_bounded() {
        let bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\nsmall: *b\n";
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", bomb)]);
        let f = Facts::new();
        let start = Instant::now();
        let l = h.lookup("i", &f, None);
        assert!(l.value.is_none());
        assert!(matches!(l.explain[0].outcome, StepOutcome::Error(_)));
        // The YAML reader refuses the whole file (387 million nodes expanded).
        assert!(has_note(&l, "alias bomb"), "{:?}", l.notes);
        assert!(start.elapsed().as_secs() < 20);
        // Reasonable aliases still expand.
        let small = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nsmall: *b\n";
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", small)]);
        let s = h.lookup("small", &f, None).value.expect("found");
        assert_eq!(s.as_seq().map(<[Value]>::len), Some(9));
        // Recursive aliases are refused, not followed.
        let s = yaml::parse("a: &a [1, *a]\n", &yaml::Limits::default());
        if let Some(doc) = s.docs.first() {
            let root = doc.root().expect("root");
            let err = from_yaml(doc, root, "x.yaml").expect_err("recursive");
            assert!(err.contains("recursive"), "{err}");
        }
    }

    #[test]
    fn alias_bomb_through_interpolation_is_bounded() {
        let mut data = String::from("x0: [a, b, c, d, e, f, g, h, i, j]\n");
        for i in 1..=9 {
            let item = format!("\"%{{alias('x{}')}}\"", i - 1);
            data.push_str(&format!("x{i}: [{}]\n", vec![item; 10].join(", ")));
        }
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
        let f = Facts::new();
        let start = Instant::now();
        let l = h.lookup("x9", &f, None);
        assert!(has_note(&l, "lookup produced more than"), "{:?}", l.notes);
        assert!(start.elapsed().as_secs() < 30);
        let l = h.lookup("x3", &f, None);
        let (nodes, _) = value_cost(l.value.as_ref().expect("found"));
        assert_eq!(nodes, 1 + 10 + 100 + 1000 + 10000);
    }

    const MERGE_CFG: &str = "version: 5\nhierarchy:\n  - name: node\n    path: \"nodes/%{::hostname}.yaml\"\n  - name: common\n    path: common.yaml\n";
    const NODE: &str = "arr: [b, c]\nscalar_u: x\nh: {a: 1, nested: {x: 1}}\ndeep: {a: {list: [n1, shared], k: node}, only_node: 1, nil_here: ~}\ndeepother: {k: node}\nhm: [{a: 1}, {b: 2}]\nko: [--gone, keep]\n";
    const COMMON: &str = "arr: [a, b, [d]]\nscalar_u: [y, x]\nh: {a: 2, b: 2, nested: {y: 2}}\ndeep: {a: {list: [c1, shared], k: common, k2: common}, only_common: 2, nil_here: kept}\ndeepother: {j: common}\nhm: [{c: 3}, {d: 4}, {e: 5}]\nko: [gone, other]\nlookup_options:\n  h: {merge: hash}\n  \"^deep.*$\": {merge: deep}\n  arr: {merge: unique}\n  hm: {merge: {strategy: deep, merge_hash_arrays: true}}\n  ko:\n    merge:\n      strategy: deep\n      knockout_prefix: \"--\"\n";

    fn merge_setup() -> (tempfile::TempDir, Hiera, Facts) {
        let (d, h) = setup(&[
            ("hiera.yaml", MERGE_CFG),
            ("data/nodes/n1.yaml", NODE),
            ("data/common.yaml", COMMON),
        ]);
        (d, h, facts(&[("hostname", "n1")]))
    }

    #[test]
    fn merge_behaviours() {
        let (_d, h, f) = merge_setup();
        assert_eq!(
            value_of(&h.lookup("arr", &f, Some(Merge::First))),
            "['b', 'c']"
        );
        assert_eq!(
            value_of(&h.lookup("arr", &f, Some(Merge::Unique))),
            "['b', 'c', 'a', 'd']"
        );
        assert_eq!(
            value_of(&h.lookup("scalar_u", &f, Some(Merge::Unique))),
            "['x', 'y']"
        );
        assert_eq!(
            value_of(&h.lookup("h", &f, Some(Merge::Hash))),
            "{a: 1, b: 2, nested: {x: 1}}"
        );
        let l = h.lookup("deep", &f, Some(Merge::Deep));
        assert_eq!(
            value_of(&l),
            "{a: {list: ['c1', 'shared', 'n1'], k: 'node', k2: 'common'}, only_common: 2, nil_here: 'kept', only_node: 1}"
        );
        let v = l.value.expect("found");
        let k = v.get_path(&["a", "k"]).expect("k");
        let k2 = v.get_path(&["a", "k2"]).expect("k2");
        assert_eq!(k.origin.path, "data/nodes/n1.yaml");
        assert_eq!(k2.origin.path, "data/common.yaml");
        assert_eq!(k2.origin.line, 4);
        // Hash merge with a non-hash: ignored with a note.
        let l = h.lookup("arr", &f, Some(Merge::Hash));
        assert!(has_note(&l, "not a hash"));
        // Unique with a hash: ignored with a note.
        let l = h.lookup("h", &f, Some(Merge::Unique));
        assert!(has_note(&l, "cannot merge a hash"));
        assert_eq!(value_of(&l), "[]");
    }

    #[test]
    fn lookup_options_exact_and_regex() {
        let (_d, h, f) = merge_setup();
        let l = h.lookup("h", &f, None);
        assert_eq!(l.merge, Merge::Hash);
        assert_eq!(value_of(&l), "{a: 1, b: 2, nested: {x: 1}}");
        let l = h.lookup("arr", &f, None);
        assert_eq!(l.merge, Merge::Unique);
        let l = h.lookup("deepother", &f, None);
        assert_eq!(l.merge, Merge::Deep);
        assert_eq!(value_of(&l), "{j: 'common', k: 'node'}");
        let l = h.lookup("scalar_u", &f, None);
        assert_eq!(l.merge, Merge::First);
        assert_eq!(value_of(&l), "'x'");
        // Deep-merge options from lookup_options.
        let l = h.lookup("hm", &f, None);
        assert_eq!(value_of(&l), "[{c: 3, a: 1}, {d: 4, b: 2}, {e: 5}]");
        let l = h.lookup("ko", &f, None);
        assert_eq!(value_of(&l), "['other', 'keep']");
        // The merged lookup_options themselves.
        let lo = h.lookup("lookup_options", &f, None).value.expect("lo");
        assert!(lo.get("^deep.*$").is_some());
        // An explicit merge wins over lookup_options.
        assert_eq!(h.lookup("h", &f, Some(Merge::First)).merge, Merge::First);
        // Deep options through lookup_spec.
        let spec = MergeSpec {
            sort_merged_arrays: true,
            ..MergeSpec::from(Merge::Deep)
        };
        let l = h.lookup_spec("arr", &f, Some(spec));
        assert_eq!(value_of(&l), "['a', 'b', 'c', ['d']]");
    }

    #[test]
    fn dotted_keys_dig() {
        let (_d, h, f) = merge_setup();
        assert_eq!(value_of(&h.lookup("h.nested.x", &f, None)), "1");
        assert_eq!(value_of(&h.lookup("arr.1", &f, Some(Merge::First))), "'c'");
        let l = h.lookup("h.nested.y", &f, Some(Merge::First));
        assert!(l.value.is_none());
        assert!(l
            .explain
            .iter()
            .any(|s| s.detail.as_deref().is_some_and(|d| d.contains("has no"))));
        assert_eq!(
            value_of(&h.lookup("h.nested.y", &f, Some(Merge::Deep))),
            "2"
        );
    }

    #[test]
    fn paths_globs_mapped_paths() {
        let cfg = r#"version: 5
defaults:
  datadir: data
hierarchy:
  - name: paths
    paths: ["nodes/%{::hostname}.yaml", "roles/%{::role}.yaml"]
  - name: glob
    glob: "groups/*.yaml"
  - name: globs
    globs: ["extra/**/*.yaml", "none/*.yaml"]
  - name: mapped
    mapped_paths: [groups_fact, g, "mapped/%{g}.yaml"]
  - name: common
    path: common.yaml
"#;
        let (_d, h) = setup(&[
            ("hiera.yaml", cfg),
            ("data/nodes/h1.yaml", "k: node\n"),
            ("data/roles/.yaml", "k: empty-role\n"),
            ("data/groups/b.yaml", "k: gb\n"),
            ("data/groups/a.yaml", "k: ga\n"),
            ("data/groups/sub/c.yaml", "k: not-matched\n"),
            ("data/extra/x/y.yaml", "k: extra\n"),
            ("data/mapped/m1.yaml", "k: m1\n"),
            ("data/mapped/m2.yaml", "k: m2\n"),
            ("data/common.yaml", "k: common\n"),
        ]);
        let mut f = facts(&[("hostname", "h1")]);
        f.set_value(
            "groups_fact",
            Value::new(
                ValueKind::Seq(vec![
                    Value::string("m1"),
                    Value::string("m2"),
                    Value::string("m3"),
                ]),
                Origin::default(),
            ),
        );
        let l = h.lookup("k", &f, Some(Merge::Unique));
        assert_eq!(
            value_of(&l),
            "['node', 'empty-role', 'ga', 'gb', 'extra', 'm1', 'm2', 'common']"
        );
        let paths: Vec<&str> = l.explain.iter().filter_map(|s| s.path.as_deref()).collect();
        assert_eq!(
            paths,
            [
                "data/nodes/h1.yaml",
                "data/roles/.yaml",
                "data/groups/a.yaml",
                "data/groups/b.yaml",
                "data/extra/x/y.yaml",
                "data/none/*.yaml",
                "data/mapped/m1.yaml",
                "data/mapped/m2.yaml",
                "data/mapped/m3.yaml",
                "data/common.yaml"
            ]
        );
        // The unknown fact is interpolated as '' and recorded.
        let role = &l.explain[1];
        assert!(
            role.detail
                .as_deref()
                .is_some_and(|d| d.contains("%{::role} not set")),
            "{role:?}"
        );
        assert_eq!(l.explain[5].outcome, StepOutcome::FileMissing);
        assert_eq!(l.explain[8].outcome, StepOutcome::FileMissing);
        // First found.
        assert_eq!(value_of(&h.lookup("k", &f, None)), "'node'");
        // Without the mapped fact the level yields nothing.
        let l = h.lookup("k", &facts(&[("hostname", "zz")]), Some(Merge::Unique));
        assert_eq!(
            value_of(&l),
            "['empty-role', 'ga', 'gb', 'extra', 'common']"
        );
    }

    #[test]
    fn eyaml_values_stay_opaque() {
        let cfg = "version: 5\nhierarchy:\n  - name: secrets\n    lookup_key: eyaml_lookup_key\n    path: secrets.eyaml\n    options:\n      pkcs7_private_key: /etc/keys/private_key.pkcs7.pem\n  - name: common\n    path: common.yaml\n";
        let secret = "ENC[PKCS7,MIIBiQYJKoZIhvcNAQcDoIIBejCCAXYCAQAxggEhMIIBHQIBADAFMAACAQEw]";
        let data = format!("db_password: {secret}\nfolded: >\n  ENC[PKCS7,MIIBiQYJKoZIhvc\n  NAQcDoIIBejCCAXYCAQAx%{{x}}]\nplain: \"%{{::site}}\"\n");
        let (_d, h) = setup(&[
            ("hiera.yaml", cfg),
            ("data/secrets.eyaml", &data),
            ("data/common.yaml", "other: 1\n"),
        ]);
        let f = facts(&[("site", "eqiad")]);
        let l = h.lookup("db_password", &f, None);
        assert_eq!(l.value.as_ref().and_then(Value::as_str), Some(secret));
        assert!(l.notes.is_empty());
        let l = h.lookup("folded", &f, None);
        assert!(value_of(&l).contains("%{x}"), "not interpolated");
        assert!(l.notes.is_empty());
        assert_eq!(value_of(&h.lookup("plain", &f, None)), "'eqiad'");
    }

    #[test]
    fn absolute_datadirs_and_skips() {
        let cfg = r#"version: 5
defaults:
  datadir: /etc/puppet/hieradata
  data_hash: yaml_data
hierarchy:
  - name: private
    datadir: /etc/puppet/private/hieradata
    path: common.yaml
  - name: env
    datadir: "/etc/puppet/code/environments/%{::environment}/hieradata"
    path: common.yaml
  - name: custom
    data_hash: custom::loader
    path: custom.yaml
  - name: unmapped function
    lookup_key: custom::other
    path: other.yaml
  - name: http
    data_hash: cloudlib::httpyaml
    uri: "https://enc.example/v1/%{::project}"
  - name: hocon
    data_hash: hocon_data
    path: x.conf
  - name: abs path
    path: /srv/extra/abs.yaml
  - name: common
    path: common.yaml
"#;
        let opts = HieraOptions {
            map_paths: vec![
                ("/etc/puppet/hieradata".into(), "repo/hieradata".into()),
                ("/srv/extra/".into(), "repo/extra".into()),
            ],
            functions: vec![("custom::loader".into(), Builtin::YamlData)],
            ..HieraOptions::default()
        };
        let (_d, h) = setup_with(
            &[
                ("hiera.yaml", cfg),
                ("repo/hieradata/common.yaml", "k: common\nonly_custom: no\n"),
                ("repo/hieradata/custom.yaml", "k: custom\n"),
                ("repo/extra/abs.yaml", "k: abs\n"),
            ],
            opts,
        );
        let msgs: Vec<&str> = h.notes().iter().map(|n| n.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains(
                "'private' skipped: datadir /etc/puppet/private/hieradata is not in the repository"
            )),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains(
                "'unmapped function' skipped: lookup_key function 'custom::other' is not supported"
            )),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("'http' skipped: reads URIs")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("hocon_data is not supported")),
            "{msgs:?}"
        );
        let f = facts(&[("environment", "production")]);
        let l = h.lookup("k", &f, Some(Merge::Unique));
        assert_eq!(value_of(&l), "['custom', 'abs', 'common']");
        let outcomes: Vec<(&str, String)> = l
            .explain
            .iter()
            .map(|s| (s.level.as_str(), format!("{:?}", s.outcome)))
            .collect();
        assert!(
            outcomes[0]
                .1
                .starts_with("Skipped(\"datadir /etc/puppet/private"),
            "{outcomes:?}"
        );
        assert!(
            outcomes[1].1.contains(
                "/etc/puppet/code/environments/production/hieradata is not in the repository"
            ),
            "{outcomes:?}"
        );
        // The dynamic skip is a lookup note.
        assert!(has_note(&l, "'env' skipped"));
        assert_eq!(
            outcomes[2],
            (
                "custom",
                "Found(Origin { path: \"repo/hieradata/custom.yaml\", line: 1, column: 1 })".into()
            )
        );
        assert!(outcomes[3].1.starts_with("Skipped(\"lookup_key function"));
        assert!(outcomes[4]
            .1
            .contains("reads URIs (https://enc.example/v1/%{::project})"));
        // YAML 1.1 booleans.
        assert_eq!(value_of(&h.lookup("only_custom", &f, None)), "false");
    }

    #[test]
    fn expand_path_mapping_and_scan() {
        let cfg = "version: 5\nhierarchy:\n  - name: site\n    lookup_key: wmflib::expand_path\n    path: \"%{::site}\"\n  - name: common\n    lookup_key: wmflib::expand_path\n    path: common\n";
        let files = [
            ("hiera.yaml", cfg),
            (
                "data/eqiad.yaml",
                "cluster: eqiad-cluster\nlookup_options:\n  prof::m::list: {merge: unique}\n",
            ),
            ("data/eqiad/prof/m.yaml", "prof::m::list: [site]\n"),
            ("data/common.yaml", "cluster: common-cluster\n"),
            (
                "data/common/prof/m.yaml",
                "prof::m::list: [common]\nprof::m::x: 1\n",
            ),
            (
                "data/common/misplaced.yaml",
                "prof::other::key: found-by-scan\n",
            ),
            ("data/common/z/bad.yaml", "prof::z::k: [unclosed\n"),
            ("data/common/prof/z.yaml", "a: b\n  c: d\n"),
        ];
        let (_d, h) = setup(&files);
        let f = facts(&[("site", "eqiad")]);
        let l = h.lookup("cluster", &f, None);
        assert_eq!(value_of(&l), "'eqiad-cluster'");
        assert_eq!(l.explain[0].path.as_deref(), Some("data/eqiad.yaml"));
        let l = h.lookup("prof::m::list", &f, None);
        assert_eq!(l.merge, Merge::Unique);
        assert_eq!(value_of(&l), "['site', 'common']");
        assert_eq!(l.explain[0].path.as_deref(), Some("data/eqiad/prof/m.yaml"));
        assert_eq!(
            l.explain[1].path.as_deref(),
            Some("data/common/prof/m.yaml")
        );
        let l = h.lookup("prof::other::key", &f, None);
        assert_eq!(value_of(&l), "'found-by-scan'");
        assert!(
            has_note(
                &l,
                "wmflib::expand_path reads only data/common/prof/other.yaml"
            ),
            "{:?}",
            l.notes
        );
        let last = l.explain.last().expect("step");
        assert_eq!(last.path.as_deref(), Some("data/common/misplaced.yaml"));
        // Bad YAML in the mapped file: a note with the line, the lookup goes on.
        let l = h.lookup("prof::z::k", &f, None);
        assert!(l.value.is_none());
        assert!(
            l.notes
                .iter()
                .any(|n| n.origin.path == "data/common/prof/z.yaml" && n.origin.line == 2),
            "{:?}",
            l.notes
        );
        // Scanning met the other bad file too.
        assert!(
            l.notes
                .iter()
                .any(|n| n.origin.path == "data/common/z/bad.yaml"),
            "{:?}",
            l.notes
        );
        assert!(l
            .explain
            .iter()
            .any(|s| matches!(s.outcome, StepOutcome::Error(_))));
        // Strict: no scan.
        let (_d2, h2) = setup_with(
            &files,
            HieraOptions {
                expand_path_scan: false,
                ..HieraOptions::default()
            },
        );
        assert!(h2.lookup("prof::other::key", &f, None).value.is_none());
    }

    #[test]
    fn bad_data_and_bad_config() {
        let (_d, h) = setup(&[
            ("hiera.yaml", "version: 5\nhierarchy:\n  - name: a\n    path: a.yaml\n  - name: b\n    path: b.yaml\n  - name: c\n    path: c.yaml\n"),
            ("data/a.yaml", "k: [1,\n  2\nx: : :\n"),
            ("data/b.yaml", "- just\n- a list\n"),
            ("data/c.yaml", "k: c\n"),
        ]);
        let l = h.lookup("k", &Facts::new(), None);
        assert_eq!(value_of(&l), "'c'");
        assert!(
            l.notes.iter().any(|n| n.origin.path == "data/a.yaml"
                && n.origin.line >= 1
                && n.message.contains("invalid YAML")),
            "{:?}",
            l.notes
        );
        assert!(has_note(&l, "does not contain a YAML hash"));

        let dir = tempfile::tempdir().expect("tempdir");
        write_files(
            dir.path(),
            &[
                (
                    "bad.yaml",
                    "version: 5\nhierarchy:\n  - name: x\n    path: [a\n",
                ),
                ("v3.yaml", ":backends:\n  - yaml\n"),
                ("v4.yaml", "version: 4\n"),
                ("noname.yaml", "version: 5\nhierarchy:\n  - path: x.yaml\n"),
                (
                    "badmapped.yaml",
                    "version: 5\nhierarchy:\n  - name: m\n    mapped_paths: [a, b]\n",
                ),
            ],
        );
        let src: Arc<dyn FileSource> = Arc::new(DirSource::new(dir.path()));
        let e = Hiera::load(src.clone(), "bad.yaml", HieraOptions::default()).expect_err("bad");
        assert_eq!(e.path, "bad.yaml");
        assert!(e.line >= 4, "{e}");
        let e = Hiera::load(src.clone(), "v3.yaml", HieraOptions::default()).expect_err("v3");
        assert!(e.message.contains("only Hiera 5"), "{e}");
        let e = Hiera::load(src.clone(), "v4.yaml", HieraOptions::default()).expect_err("v4");
        assert_eq!((e.line, e.column), (1, 10));
        let e =
            Hiera::load(src.clone(), "noname.yaml", HieraOptions::default()).expect_err("noname");
        assert_eq!(e.line, 3);
        let e = Hiera::load(src.clone(), "badmapped.yaml", HieraOptions::default())
            .expect_err("mapped");
        assert!(e.message.contains("mapped_paths"));
        let e = Hiera::load(src, "missing.yaml", HieraOptions::default()).expect_err("missing");
        assert!(e.to_string().starts_with("missing.yaml:0:0: cannot read"));
    }

    #[test]
    fn data_files_are_parsed_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(
            dir.path(),
            &[
                ("hiera.yaml", MERGE_CFG),
                ("data/nodes/n1.yaml", NODE),
                ("data/common.yaml", COMMON),
            ],
        );
        let src = Arc::new(Counting {
            inner: DirSource::new(dir.path()),
            reads: AtomicUsize::new(0),
        });
        let h = Hiera::load(src.clone(), "hiera.yaml", HieraOptions::default()).expect("load");
        let f = facts(&[("hostname", "n1")]);
        for _ in 0..20 {
            let _ = h.lookup("deep", &f, None);
            let _ = h.lookup("arr", &f, None);
        }
        // hiera.yaml + two data files.
        assert_eq!(src.reads.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn deep_values_do_not_overflow_the_stack() {
        let depth = 190;
        let mut deep = String::new();
        for _ in 0..depth {
            deep.push('[');
        }
        deep.push_str("\"%{::site}\"");
        for _ in 0..depth {
            deep.push(']');
        }
        // An anchor chain that nests through aliases beyond the limit.
        let mut chain = String::from("c0: &c0 [x]\n");
        for i in 1..260 {
            chain.push_str(&format!("c{i}: &c{i} [*c{}]\n", i - 1));
        }
        let data = format!("deep: {deep}\nwrap: [\"%{{alias('deep')}}\"]\nwrap2: [[[[[[[[[[[[\"%{{alias('deep')}}\"]]]]]]]]]]]]\n{chain}");
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let f = facts(&[("site", "eqiad")]);
                let a = h.lookup("deep", &f, None);
                let b = h.lookup("wrap", &f, None);
                let c = h.lookup("wrap2", &f, None);
                let d = h.lookup("c259", &f, None);
                let e = h.lookup("c150", &f, None);
                let text = render_lookup("wrap", &b, true, &|_| None);
                (a, b, c, d, e, text.len())
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(value_of(&r.0).contains("'eqiad'"));
        assert!(value_of(&r.1).contains("'eqiad'"));
        assert!(has_note(&r.2, "deeper than"), "{:?}", r.2.notes);
        assert!(has_note(&r.3, "nested more than"), "{:?}", r.3.notes);
        assert!(r.4.value.is_some());
        assert!(r.5 > 0);
    }

    #[test]
    fn worst_case_stack_use() {
        fn nest(depth: usize, inner: &str) -> String {
            format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
        }
        // 40 lookups nested through strings that sit 45 levels deep: MAX_NESTED_LOOKUPS stops
        // them, not the stack (interpolation walks values with a heap stack).
        let mut data = String::from("k0: end\n");
        for i in 1..40 {
            data.push_str(&format!(
                "k{i}: {}\n",
                nest(45, &format!("\"%{{lookup('k{}')}}\"", i - 1))
            ));
        }
        // Deep maps in two levels, merged every way.
        let mut lower = String::from("v");
        let mut higher = String::from("w");
        for i in 0..190 {
            lower = format!("{{a{}: {lower}, l: [x, {{q: 1}}]}}", i % 3);
            higher = format!("{{a{}: {higher}, l: [y]}}", i % 3);
        }
        let cfg = "version: 5\nhierarchy:\n  - name: hi\n    path: hi.yaml\n  - name: common\n    path: common.yaml\n";
        let (_d, h) = setup(&[
            ("hiera.yaml", cfg),
            ("data/common.yaml", &format!("{data}dm: {lower}\n")),
            ("data/hi.yaml", &format!("dm: {higher}\n")),
        ]);
        let out = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let f = Facts::new();
                let a = h.lookup("k39", &f, None);
                let mut sizes = Vec::new();
                for m in [Merge::Deep, Merge::Hash, Merge::Unique, Merge::First] {
                    let l = h.lookup("dm", &f, Some(m));
                    sizes.push(render_lookup("dm", &l, true, &|_| None).len());
                }
                let spec = MergeSpec {
                    merge_hash_arrays: true,
                    sort_merged_arrays: true,
                    ..MergeSpec::from(Merge::Deep)
                };
                let l = h.lookup_spec("dm", &f, Some(spec));
                (a, sizes, l.value.is_some())
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(
            has_note(&out.0, "more than 32 nested lookups"),
            "{:?}",
            out.0.notes
        );
        assert!(out.1.iter().all(|&n| n > 0));
        assert!(out.2);
    }

    #[test]
    fn hiera_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Hiera>();
        check::<Lookup>();
    }

    #[test]
    fn render_with_show_and_explain() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let data = format!(
            "certs:\n  main: |\n{}\n  note: \"yes\"\n  empty: {{}}\n  list:\n    - a: 1\n      b: [x, y]\n    - [1, 2]\n    - ''\n",
            pem.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
        );
        let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
        let l = h.lookup("certs", &Facts::new(), None);
        let show = |v: &Value| {
            v.as_str()
                .filter(|s| s.contains("BEGIN CERTIFICATE"))
                .map(|_| "<certificate sha256:abcd CN=test>".to_string())
        };
        let text = render_lookup("certs", &l, false, &show);
        assert_eq!(
            text,
            "certs:\n  main: <certificate sha256:abcd CN=test>\n  note: \"yes\"\n  empty: {}\n  list:\n    - a: 1\n      b:\n        - x\n        - y\n    - - 1\n      - 2\n    - \"\"\n"
        );
        let text = render_lookup("certs", &l, true, &|_| None);
        assert!(
            text.contains("  main: |  # line 2\n    -----BEGIN CERTIFICATE-----\n    MIIB\n"),
            "{text}"
        );
        assert!(text.contains("Searching for \"certs\" (merge: first)"));
        assert!(text.contains("  Hierarchy entry \"common\"\n    Path \"data/common.yaml\"\n      Found key at line 1, column 1\n"), "{text}");
        assert!(text.contains("Value set at data/common.yaml:1:1"));
        let missing = h.lookup("nope", &Facts::new(), None);
        let text = render_lookup("nope", &missing, true, &|_| None);
        assert!(text.starts_with("nope: <not found>\n"));
        assert!(text.contains("No such key"));
    }

    #[test]
    fn hiera_function_in_keys_2019_labs() {
        let snap = Path::new(CORPUS)
            .join("history/2019-09-10-toolforge-k8s-etcd-ca/operations-puppet@e55af4a76788");
        if !snap.is_dir() {
            eprintln!("corpus missing; skipped");
            return;
        }
        let src: Arc<dyn FileSource> = Arc::new(Overlay {
            base: DirSource::new(&snap),
            extra: vec![(
                "hiera.yaml".into(),
                "version: 5\ndefaults:\n  datadir: hieradata\nhierarchy:\n  - name: labs\n    path: labs.yaml\n".into(),
            )],
        });
        let h = Hiera::load(src, "hiera.yaml", HieraOptions::default()).expect("load");
        let l = h.lookup("puppetmaster::servers", &Facts::new(), None);
        assert_eq!(
            value_of(&l),
            "{puppetmaster.cloudinfra.wmflabs.org: [{worker: 'puppetmaster.cloudinfra.wmflabs.org', loadfactor: 10}]}"
        );
        let ca = h.lookup(
            "profile::base::certificates::puppet_ca_content",
            &Facts::new(),
            None,
        );
        let pem = ca
            .value
            .as_ref()
            .and_then(|v| v.get("puppetmaster.cloudinfra.wmflabs.org"))
            .and_then(Value::as_str)
            .expect("pem");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    }

    fn production() -> Option<Hiera> {
        let root = Path::new(CORPUS).join("operations-puppet");
        if !root.is_dir() {
            eprintln!("corpus missing; skipped");
            return None;
        }
        let opts = HieraOptions {
            map_paths: vec![("/etc/puppet/hieradata".into(), "hieradata".into())],
            ..HieraOptions::default()
        };
        Some(
            Hiera::load(
                Arc::new(DirSource::new(root)),
                "modules/puppetmaster/files/hiera/production.yaml",
                opts,
            )
            .expect("production.yaml loads"),
        )
    }

    fn deploy_facts() -> Facts {
        facts(&[
            ("site", "eqiad"),
            ("_role", "deployment_server/kubernetes"),
            ("hostname", "deploy1003"),
        ])
    }

    #[test]
    fn wikimedia_deployment_server_general() {
        let Some(h) = production() else { return };
        let msgs: Vec<&str> = h.notes().iter().map(|n| n.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("'private node' skipped")));
        assert!(msgs
            .iter()
            .any(|m| m.contains("'netbox node hierarchy' skipped")));
        assert!(msgs.iter().any(
            |m| m.contains("'Regex lookup' skipped: lookup_key function 'wmflib::regex_data'")
        ));
        let f = deploy_facts();
        let key = "profile::kubernetes::deployment_server::general";
        let file = "hieradata/role/common/deployment_server/kubernetes.yaml";
        for merge in [None, Some(Merge::Deep)] {
            let l = h.lookup(key, &f, merge);
            let v = l.value.as_ref().expect("general resolves");
            assert_eq!(v.origin.path, file);
            let keys: Vec<&str> = v
                .as_map()
                .expect("map")
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            assert_eq!(
                keys,
                [
                    "default",
                    "eqiad",
                    "codfw",
                    "staging-eqiad",
                    "staging-codfw",
                    "ml-serve-eqiad",
                    "ml-serve-codfw",
                    "ml-staging-codfw",
                    "dse-k8s-eqiad",
                    "aux-k8s-eqiad"
                ]
            );
            // Anchors and `<<:` merge keys resolved; merged-in leaves point at the anchor.
            let cm = v
                .get_path(&["staging-codfw", "mesh", "certmanager"])
                .expect("cm");
            assert_eq!(
                flat(cm),
                "{extraFQDNs: ['staging.svc.codfw.wmnet'], enabled: true, domains: ['k8s-staging.discovery.wmnet']}"
            );
            let enabled = cm.get("enabled").expect("enabled");
            let anchor = v
                .get_path(&["staging-eqiad", "mesh", "certmanager", "enabled"])
                .expect("anchor");
            assert_eq!(enabled.origin, anchor.origin);
            let ml = v
                .get_path(&["ml-serve-eqiad", "mesh", "certmanager"])
                .expect("ml");
            assert_eq!(
                flat(ml),
                "{enabled: true, domains: ['discovery.wmnet', 'svc.eqiad.wmnet']}"
            );
            assert_eq!(
                v.get_path(&["default", "docker", "registry"])
                    .and_then(Value::as_str),
                Some("docker-registry.discovery.wmnet")
            );
            // Explain names the files.
            let paths: Vec<&str> = l.explain.iter().filter_map(|s| s.path.as_deref()).collect();
            assert!(
                paths.contains(&"hieradata/hosts/deploy1003.yaml"),
                "{paths:?}"
            );
            assert!(paths.contains(&"hieradata/role/eqiad/deployment_server/kubernetes.yaml"));
            assert!(paths.contains(&file));
            let found: Vec<&Step> = l
                .explain
                .iter()
                .filter(|s| matches!(s.outcome, StepOutcome::Found(_)))
                .collect();
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].level, "role");
            if merge.is_some() {
                // Deep merge goes on through the expand_path levels.
                assert!(
                    paths.contains(&"hieradata/common/profile/kubernetes/deployment_server.yaml"),
                    "{paths:?}"
                );
                assert!(l
                    .explain
                    .iter()
                    .any(|s| s.level == "private common"
                        && matches!(s.outcome, StepOutcome::Skipped(_))));
            } else {
                assert_eq!(l.merge, Merge::First);
                assert_eq!(l.explain.last().map(|s| s.level.as_str()), Some("role"));
            }
            assert!(l.notes.is_empty(), "{:?}", l.notes);
        }
    }

    #[test]
    fn wikimedia_expand_path_files() {
        let Some(h) = production() else { return };
        let f = deploy_facts();
        let cases = [
            (
                "profile::base::certificates::puppet_ca_content",
                "hieradata/common/profile/base/certificates.yaml",
            ),
            ("kubernetes::clusters", "hieradata/common/kubernetes.yaml"),
            ("service::catalog", "hieradata/common/service.yaml"),
            (
                "profile::pki::client::mutual_tls_client_cert",
                "hieradata/common/profile/pki/client.yaml",
            ),
        ];
        for (key, file) in cases {
            let l = h.lookup(key, &f, None);
            let v = l.value.as_ref().unwrap_or_else(|| panic!("{key} resolves"));
            let step = l.explain.last().expect("step");
            assert_eq!(step.path.as_deref(), Some(file), "{key}");
            assert_eq!(step.level, "common");
            assert_eq!(v.origin.path, file);
            assert!(
                step.detail.is_none(),
                "{key}: found where expand_path looks"
            );
        }
        let ca = h.lookup("profile::base::certificates::puppet_ca_content", &f, None);
        assert_eq!(value_of(&ca), "{}");
        // %{facts...} interpolation with an unset fact: '' plus a note.
        let l = h.lookup("profile::pki::client::mutual_tls_client_cert", &f, None);
        assert_eq!(value_of(&l), "''");
        assert!(has_note(
            &l,
            "%{facts.puppet_config.hostcert}: variable not set"
        ));
        let mut f2 = deploy_facts();
        f2.set(
            "puppet_config.hostcert",
            "/var/lib/puppet/ssl/certs/deploy1003.pem",
        );
        let l = h.lookup("profile::pki::client::mutual_tls_client_cert", &f2, None);
        assert_eq!(value_of(&l), "'/var/lib/puppet/ssl/certs/deploy1003.pem'");
        // %{::site} inside service::catalog.
        let cat = h.lookup("service::catalog", &f, None);
        let text = render_lookup("service::catalog", &cat, false, &|_| None);
        assert!(text.contains("prometheus-eqiad.wikimedia.org"));
        assert!(!text.contains("%{::site}"));
        // kubernetes::clusters: anchors + merge keys, deep structure.
        let k = h
            .lookup("kubernetes::clusters", &f, None)
            .value
            .expect("clusters");
        assert!(k.as_map().is_some_and(|m| !m.is_empty()));
        // Site-level role file, alias from another key.
        let l = h.lookup("profile::pki::multirootca::prometheus_nodes", &f, None);
        assert!(has_note(&l, "alias('prometheus_nodes')"), "{:?}", l.notes);
    }

    #[test]
    fn wikimedia_cloud_hierarchy() {
        let root = Path::new(CORPUS).join("operations-puppet");
        if !root.is_dir() {
            return;
        }
        let opts = HieraOptions {
            map_paths: vec![(
                "/etc/puppet/code/environments/production/hieradata".into(),
                "hieradata".into(),
            )],
            ..HieraOptions::default()
        };
        let h = Hiera::load(
            Arc::new(DirSource::new(root)),
            "modules/profile/files/puppetserver/hiera/wmcs-eqiad1.yaml",
            opts,
        )
        .expect("loads");
        assert!(h
            .notes()
            .iter()
            .any(|n| n.message.contains("'Http Yaml' skipped: reads URIs")));
        let f = facts(&[
            ("environment", "production"),
            ("wmcs_project", "tools"),
            ("wmcs_deployment", "eqiad1"),
        ]);
        let l = h.lookup("profile::puppetserver::hiera_data_dir", &f, None);
        assert_eq!(
            value_of(&l),
            "'/srv/puppet_code/environments/%{::environment}/hieradata'"
        );
        assert!(matches!(&l.explain[0].outcome, StepOutcome::Skipped(r) if r.contains("HTTP ENC")));
        let l = h.lookup("lookup_options", &f, None);
        assert_eq!(value_of(&l), "{classes: {merge: 'unique'}}");
        let l = h.lookup("puppet_ca_server", &f, None);
        assert_eq!(value_of(&l), "''");
        assert!(l
            .explain
            .iter()
            .any(|s| s.path.as_deref() == Some("hieradata/cloud.yaml")));
    }

    #[test]
    fn regex_engine() {
        let m = |p: &str, t: &str| rx::Regex::new(p).expect("compiles").is_match(t);
        assert!(m("^profile::.*::users$", "profile::admin::users"));
        assert!(!m("^profile::.*::users$", "profile::admin::users_x"));
        assert!(m("^(a|b)+c$", "ababc"));
        assert!(!m("^(a|b)+c$", "abx"));
        assert!(m("[0-9]{2,3}", "x12"));
        assert!(!m("^[0-9]{2,3}$", "1234"));
        assert!(m(r"^\w+\.\d$", "ab_c.7"));
        assert!(m("^[^:]+$", "abc"));
        assert!(!m("^[^:]+$", "a:b"));
        assert!(m("(?:x)?y", "y"));
        assert!(m("a{,", "a{,"));
        assert!(m("^$", ""));
        // Pathological patterns stay linear.
        let start = Instant::now();
        assert!(!m("^(a*)*b$", &"a".repeat(5000)));
        assert!(start.elapsed().as_secs() < 5);
        for bad in ["(?i)x", "a**", "(a", "a)", "[a", r"\1", "*a", "a{5000}"] {
            assert!(rx::Regex::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn facts_and_scalars() {
        let s = yaml::parse(
            "name: host1\nvalues:\n  networking: {fqdn: h.example, ip: 10.0.0.1}\n  is_virtual: true\n  trusted: {certname: h.cert}\n  list: [a, b]\n",
            &yaml::Limits::default(),
        );
        let doc = s.docs.first().expect("doc");
        let v = from_yaml(doc, doc.root().expect("root"), "facts.yaml").expect("value");
        let f = Facts::from_value(&v);
        assert_eq!(f.get("networking.fqdn").as_deref(), Some("h.example"));
        assert_eq!(f.get("::networking.ip").as_deref(), Some("10.0.0.1"));
        assert_eq!(f.get("facts.is_virtual").as_deref(), Some("true"));
        assert_eq!(f.get("trusted.certname").as_deref(), Some("h.cert"));
        assert_eq!(f.get("list").as_deref(), Some("['a', 'b']"));
        assert_eq!(f.get("list.1").as_deref(), Some("b"));
        assert_eq!(f.get("nope"), None);
        let mut f = Facts::new();
        f.set("a", "scalar");
        f.set("a.b", "nested");
        assert_eq!(f.get("a.b").as_deref(), Some("nested"));

        let s = yaml::parse(
            "a: yes\nb: Off\nc: 0x1F\nd: 1.5e3\ne: '1'\nf: ~\ng: 1.23.4\nh: !!str 12\ni: .inf\nj: 0\nk: -7\nl: NULL\nm: \"true\"\n",
            &yaml::Limits::default(),
        );
        let doc = s.docs.first().expect("doc");
        let v = from_yaml(doc, doc.root().expect("root"), "t.yaml").expect("value");
        assert_eq!(
            flat(&v),
            "{a: true, b: false, c: 0x1F, d: 1.5e3, e: '1', f: ~, g: '1.23.4', h: '12', i: .inf, j: 0, k: -7, l: ~, m: 'true'}"
        );
        let truthy: Vec<bool> = ["a", "b", "c", "j", "k", "m", "e"]
            .iter()
            .map(|k| v.get(k).is_some_and(Value::is_truthy))
            .collect();
        assert_eq!(truthy, [true, false, true, false, true, true, false]);
        assert_eq!(
            v.get("c").map(|c| c.origin.clone()),
            Some(Origin::new("t.yaml", 3, 4))
        );
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs = [
            "%{",
            "%{}",
            "%{lookup(}",
            "%{lookup('')}",
            "%{lookup(\"a'b\")}",
            "%{::}",
            "%{facts..x}",
            "%{'unterminated}",
            "%{alias('x')}%{alias('x')}",
            "%%{literal('%')}{{{",
            "é%{::sité}",
        ];
        let mut data = String::from("x: [1]\n");
        for (i, s) in inputs.iter().enumerate() {
            data.push_str(&format!("k{i}: {}\n", yaml_scalar(s)));
        }
        data.push_str("\"%{lookup('x')}\": 1\n");
        let cfg = "version: 5\nhierarchy:\n  - name: a\n    paths: [\"../../%{::x}\", \"%{lookup('a')}.yaml\", \"/abs\"]\n  - name: g\n    glob: \"[\"\n  - name: c\n    path: common.yaml\n";
        let (_d, h) = setup(&[("hiera.yaml", cfg), ("data/common.yaml", &data)]);
        let f = facts(&[("x", "../../../etc/passwd")]);
        for i in 0..inputs.len() {
            let l = h.lookup(&format!("k{i}"), &f, None);
            let _ = render_lookup("k", &l, true, &|_| None);
        }
        for key in ["", ".", "a..b", "'x", "x.99", "lookup_options.nope", "k0.x"] {
            let l = h.lookup(key, &f, Some(Merge::Deep));
            let _ = render_lookup(key, &l, true, &|_| None);
        }
        assert!(h.notes().is_empty() || !h.notes().is_empty());
    }
}
