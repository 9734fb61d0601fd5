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
//!   one top-level lookup. Dotted keys (`a.b.0`) dig into the found value.
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
//!   map. An alias keeps the position of the `*alias` for scalars.

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
/// Most recursive interpolation frames in one top-level lookup (bounds stack use).
const MAX_INTERP_FRAMES: usize = 1500;
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
    if value.is_empty() || value == "~" || value.eq_ignore_ascii_case("null") {
        return ValueKind::Null;
    }
    if let Some(b) = plain_bool(value) {
        return ValueKind::Bool(b);
    }
    if is_yaml_number(value) {
        return ValueKind::Number(value.to_string());
    }
    ValueKind::String(value.to_string())
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
                let n = dst.len();
                let mut src_it = src.into_iter();
                let mut list: Vec<Value> = dst
                    .into_iter()
                    .map(|d| match src_it.next() {
                        Some(s) => deep_merge(s, d, spec),
                        None => d,
                    })
                    .collect();
                debug_assert!(list.len() == n);
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
                out.sort_by_cached_key(canon_of);
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
                    present[0]
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
    frames: usize,
    frames_noted: bool,
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
            frames: 0,
            frames_noted: false,
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
                let v = self.interp(v, 0);
                match dig_owned(v, sub) {
                    Some(v) => {
                        found.push(v);
                        if first {
                            break 'levels;
                        }
                    }
                    None => {
                        if let Some(last) = steps.last_mut() {
                            last.detail =
                                Some(format!("'{root}' is here but has no '{}'", sub.join(".")));
                        }
                        if first {
                            break 'levels;
                        }
                    }
                }
            }
        }
        self.stack.pop();
        let mut problems = Vec::new();
        let value = merge_values(found, spec, locations, &mut problems);
        for (o, m) in problems {
            self.note(&o, m);
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

    fn interp(&mut self, v: Value, depth: usize) -> Value {
        let needed = match &v.kind {
            ValueKind::String(s) => s.contains("%{"),
            ValueKind::Seq(_) | ValueKind::Map(_) => true,
            _ => false,
        };
        if !needed {
            return v;
        }
        if self.frames >= MAX_INTERP_FRAMES {
            if !self.frames_noted {
                self.frames_noted = true;
                self.note(
                    &v.origin,
                    "interpolation nested too deeply; the rest is left unresolved".to_string(),
                );
            }
            return v;
        }
        self.frames += 1;
        let Value { kind, origin } = v;
        let out = match kind {
            ValueKind::String(s) => match self.expand(&s, &origin, depth) {
                Some(v) => v,
                None => Value::new(ValueKind::String(s), origin),
            },
            ValueKind::Seq(items) => {
                let items = items
                    .into_iter()
                    .map(|i| self.interp(i, depth + 1))
                    .collect();
                Value::new(ValueKind::Seq(items), origin)
            }
            ValueKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                let mut renamed = false;
                for (k, v) in entries {
                    let k = if k.contains("%{") {
                        renamed = true;
                        self.interp_key(k, &v.origin)
                    } else {
                        k
                    };
                    out.push((k, self.interp(v, depth + 1)));
                }
                if renamed {
                    out = dedup_keys(out);
                }
                Value::new(ValueKind::Map(out), origin)
            }
            other => Value::new(other, origin),
        };
        self.frames -= 1;
        out
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
        let v = match self.memo.get(key) {
            Some(v) => v.clone(),
            None => {
                let spec = self.options_for(&root);
                let (v, _) = self.lookup_with(key, &spec);
                self.memo.insert(key.to_string(), v.clone());
                v
            }
        };
        match v {
            None => Sub::Missing,
            Some(v) => {
                let (n, b) = value_cost(&v);
                if self.charge(n, b, origin) {
                    Sub::Found(v)
                } else {
                    Sub::Unresolved
                }
            }
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
        let _ = writeln!(out, "\nSearching for \"{key}\" (merge: {})", l.merge.name());
        let mut last: Option<&str> = None;
        for s in &l.explain {
            if last != Some(s.level.as_str()) {
                let _ = writeln!(out, "  Hierarchy entry \"{}\"", s.level);
                last = Some(&s.level);
            }
            let ind = match &s.path {
                Some(p) => {
                    let _ = writeln!(out, "    Path \"{p}\"");
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
            let _ = writeln!(out, "{ind}{text}");
            if let Some(d) = &s.detail {
                let _ = writeln!(out, "{ind}({d})");
            }
        }
        match &l.value {
            Some(v) => {
                let _ = writeln!(out, "Value set at {}", v.origin);
                let mut files: std::collections::BTreeMap<&str, usize> =
                    std::collections::BTreeMap::new();
                count_leaves(v, &mut files);
                if files.len() > 1 || files.keys().any(|p| *p != v.origin.path) {
                    let _ = writeln!(out, "Merged from:");
                    for (p, n) in files {
                        let _ = writeln!(out, "  {p} ({n} value{})", if n == 1 { "" } else { "s" });
                    }
                }
            }
            None => {
                let _ = writeln!(out, "No value found");
            }
        }
    }
    if !l.notes.is_empty() {
        let _ = writeln!(out, "Notes:");
        for n in &l.notes {
            let _ = writeln!(out, "  {}: {}", n.origin, n.message);
        }
    }
    out
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
