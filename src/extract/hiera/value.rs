//! The value with origins: data read from YAML that remembers, for every node, the file,
//! line and column that set it. Hiera lookups produce it; `config`, `extract::values` and
//! `inventory::graph` read their YAML into it too.
//!
//! In: a positioned YAML node ([`from_yaml`]). Out: a [`Value`] typed as Ruby's YAML (Psych,
//! YAML 1.1) types it, bounded by [`MAX_VALUE_NODES`], [`MAX_VALUE_BYTES`] and
//! [`MAX_VALUE_DEPTH`]. Also here: Puppet's string form of a value and dotted keys
//! (`a."b.c".0`).

use super::psych::Psych;
use crate::read::yaml::{self, Kind, NodeId, Style};
use std::fmt;

/// Most nodes one conversion / one top-level lookup may produce (alias bombs stop here).
pub const MAX_VALUE_NODES: usize = 1_000_000;
/// Most string bytes one conversion / one top-level lookup may produce.
pub const MAX_VALUE_BYTES: usize = 64 << 20;
/// Longest string an interpolation may produce.
pub const MAX_STRING_BYTES: usize = 1 << 20;
/// Deepest value (nesting of lists/maps) produced; deeper data is reported, not built.
pub const MAX_VALUE_DEPTH: usize = 200;

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

    pub(super) fn at(path: &str, mark: yaml::Mark) -> Origin {
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
    pub fn get_path<S: AsRef<str>>(&self, segs: &[S]) -> Option<&Value> {
        let mut cur = self;
        for seg in segs {
            let seg = seg.as_ref();
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

    /// A scalar's text as a policy compares it (`true`, `3`, `eqiad`);
    /// `None` for null, lists and maps.
    #[must_use]
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            ValueKind::Bool(_) | ValueKind::Number(_) | ValueKind::String(_) => {
                let mut s = String::new();
                puppet_string(self, &mut s, true);
                Some(s)
            }
            _ => None,
        }
    }

    /// Whether a source switch reads this value as on: a YAML 1.1 / Puppet
    /// `true`, a non-zero number, or the strings `true` and `yes` (any
    /// case; Helm values often quote them).
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

/// Puppet's string form of a value, as its interpolation makes it: Ruby's `to_s` at the top
/// level (`top`: a string as is, `nil` as `''`), `inspect` inside collections (`["a", 1]`,
/// `{"k"=>"v"}`, `nil`), numbers as Ruby prints them.
pub(super) fn puppet_string(v: &Value, out: &mut String, top: bool) {
    match &v.kind {
        ValueKind::Null => {
            if !top {
                out.push_str("nil");
            }
        }
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Number(n) => out.push_str(n),
        ValueKind::String(s) => {
            if top {
                out.push_str(s);
            } else {
                ruby_inspect_str(s, out);
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
                ruby_inspect_str(k, out);
                out.push_str("=>");
                puppet_string(item, out, false);
                if out.len() > MAX_STRING_BYTES {
                    return;
                }
            }
            out.push('}');
        }
    }
}

/// Ruby's `String#inspect` for UTF-8 text: double-quoted, `\\`, `\"`, `\n`-style escapes,
/// `\#{`, other control characters as `\uXXXX`.
fn ruby_inspect_str(s: &str, out: &mut String) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\u{8}' => out.push_str("\\b"),
            '\u{7}' => out.push_str("\\a"),
            '\u{1b}' => out.push_str("\\e"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            c if c.is_control() => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Nesting depth (0 for a scalar). Values are at most [`MAX_VALUE_DEPTH`] deep by construction.
pub(super) fn value_depth(v: &Value) -> usize {
    match &v.kind {
        ValueKind::Seq(items) => 1 + items.iter().map(value_depth).max().unwrap_or(0),
        ValueKind::Map(m) => 1 + m.iter().map(|(_, v)| value_depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// (nodes, string bytes) of a value.
pub(super) fn value_cost(v: &Value) -> (usize, usize) {
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

/// Splits a Puppet key or variable name on dots; segments may be quoted (`a."b.c"`).
/// `None` for a malformed key (empty segment, unbalanced quote).
pub(super) fn split_key(key: &str) -> Option<Vec<String>> {
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
pub(super) fn key_segments(key: &str) -> Vec<String> {
    split_key(key).unwrap_or_else(|| vec![key.to_string()])
}

/// Puppet's sub-lookup (`a.b.0`) into a value, taking it apart: a hash is indexed by key,
/// a list by a numeric segment (out of range: not found), `undef` is "not found"; anything
/// else (a list with a non-numeric segment, a string, a number, a boolean) is Puppet's
/// "Data Provider type mismatch" error, `Err`.
pub(super) fn dig_owned(v: Value, segs: &[String]) -> Result<Option<Value>, String> {
    let mut cur = v;
    for seg in segs {
        let numeric = !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit());
        cur = match cur.kind {
            ValueKind::Null => return Ok(None),
            ValueKind::Map(m) => match m.into_iter().find(|(k, _)| k == seg) {
                Some((_, v)) if !numeric => v,
                _ => return Ok(None),
            },
            ValueKind::Seq(items) if numeric => {
                match seg.parse::<usize>().ok().and_then(|i| items.into_iter().nth(i)) {
                    Some(v) => v,
                    None => return Ok(None),
                }
            }
            _ => {
                return Err(format!(
                    "Data Provider type mismatch: got a {} when a hash-like object was expected to access value using '{seg}'",
                    cur.type_name()
                ))
            }
        };
    }
    Ok(Some(cur))
}

/// What one conversion or one top-level lookup may still produce.
pub(super) struct Budget {
    pub(super) nodes: usize,
    pub(super) bytes: usize,
}

impl Budget {
    pub(super) fn full() -> Budget {
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
    convert(doc, node, origin, path, &mut Budget::full(), false)
}

/// The value of a map entry: a collection points at its key.
pub(super) fn convert_entry(
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
        true,
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
    hiera_value: bool,
) -> Result<Value, String> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut pending = open(doc, start, origin, budget, &mut stack, hiera_value)?;
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
                if hiera_value {
                    if let Some(what) = non_string_key(doc, k) {
                        return Err(format!(
                            "key '{ks}' at line {} is a Ruby {what}, not a String: Puppet refuses a hash with such keys",
                            doc.node(k).start.line
                        ));
                    }
                }
                budget.take_bytes(ks.len())?;
                *key = ks.to_string();
                break Some((v, entry_origin(doc, k, v, path)));
            },
        };
        match next {
            Some((child, o)) => pending = open(doc, child, o, budget, &mut stack, hiera_value)?,
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
    hiera_value: bool,
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
            if hiera_value && refused_scalar(value, *style, tag.as_deref()).is_some() {
                // A Hiera value holding a Ruby symbol: Puppet's lookup refuses it
                // (`Runtime[ruby, 'Symbol']` is not a lookup value).
                return Err(format!(
                    "'{value}' at line {} is a Ruby Symbol, which is not a Puppet value",
                    node.start.line
                ));
            }
            Ok(Some(Value::new(
                scalar_kind(value, *style, tag.as_deref()),
                origin,
            )))
        }
        Kind::Seq(items) if node.tag.as_deref() == Some("!!omap") => {
            // Psych reads an ordered map as a hash: each item's (first) entry, in order.
            let mut src: Vec<(NodeId, NodeId)> = Vec::new();
            let mut idx: std::collections::HashMap<String, usize> =
                std::collections::HashMap::new();
            for &item in items {
                let Some(&(k, v)) = psych_entries(doc, item).first() else {
                    continue;
                };
                match doc.str(k).and_then(|ks| idx.get(ks).copied()) {
                    Some(i) => src[i] = (k, v),
                    None => {
                        if let Some(ks) = doc.str(k) {
                            idx.insert(ks.to_string(), src.len());
                        }
                        src.push((k, v));
                    }
                }
            }
            stack.push(Frame::Map {
                id: target,
                origin,
                src,
                next: 0,
                entries: Vec::new(),
                key: String::new(),
            });
            Ok(None)
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
                src: psych_entries(doc, target),
                next: 0,
                entries: Vec::new(),
                key: String::new(),
            });
            Ok(None)
        }
        Kind::Alias(_) => Ok(Some(Value::new(ValueKind::Null, origin))),
    }
}

/// Most nested merge keys followed (a `<<` inside a map merged in by `<<` ...).
const MAX_PSYCH_MERGE_DEPTH: usize = 64;

/// The entries of a mapping as Psych builds the Ruby hash (`ToRuby#revive_hash`): in source
/// order, `k: v` sets the key (a repeated key keeps its first place, takes the last value);
/// `<<: *a` (or an inline map) `merge!`s the merged map's own entries at that point, so merged
/// values overwrite keys set before the `<<` and keys set after it overwrite merged ones;
/// `<<: [*a, *b]` merges the list's maps with the earlier ones winning (Psych merges them in
/// reverse order into one hash first); a `<<` whose value is not a map (or a list with a
/// non-map) is an ordinary key `<<`. Empty if not a mapping.
pub(super) fn psych_entries(doc: &yaml::Document, id: NodeId) -> Vec<(NodeId, NodeId)> {
    let mut memo = std::collections::HashMap::new();
    psych_entries_at(doc, id, 0, &mut memo).to_vec()
}

type Entries = std::rc::Rc<Vec<(NodeId, NodeId)>>;

/// [`psych_entries`] of a map merged in (memoized: a map merged many times is computed once).
fn psych_entries_at(
    doc: &yaml::Document,
    id: NodeId,
    depth: usize,
    memo: &mut std::collections::HashMap<NodeId, Entries>,
) -> Entries {
    let target = doc.resolve(id);
    if let Some(e) = memo.get(&target) {
        return e.clone();
    }
    let Kind::Map(pairs) = &doc.node(target).kind else {
        return Entries::default();
    };
    let mut out: Vec<(NodeId, NodeId)> = Vec::new();
    let mut idx: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let key_of = |k: NodeId| -> Option<String> { doc.str(k).map(str::to_string) };
    fn put(
        out: &mut Vec<(NodeId, NodeId)>,
        idx: &mut std::collections::HashMap<String, usize>,
        key: Option<String>,
        entry: (NodeId, NodeId),
    ) {
        match key {
            Some(k) => match idx.get(&k) {
                Some(&i) => out[i] = entry,
                None => {
                    idx.insert(k, out.len());
                    out.push(entry);
                }
            },
            None => out.push(entry),
        }
    }
    for &(k, v) in pairs {
        if !doc.is_merge_key(k) || depth >= MAX_PSYCH_MERGE_DEPTH {
            put(&mut out, &mut idx, key_of(k), (k, v));
            continue;
        }
        let vt = doc.resolve(v);
        match &doc.node(vt).kind {
            Kind::Map(_) => {
                for &e in psych_entries_at(doc, vt, depth + 1, memo).iter() {
                    put(&mut out, &mut idx, key_of(e.0), e);
                }
            }
            Kind::Seq(items) => {
                let maps: Option<Vec<NodeId>> = items
                    .iter()
                    .map(|&i| {
                        let r = doc.resolve(i);
                        matches!(doc.node(r).kind, Kind::Map(_)).then_some(r)
                    })
                    .collect();
                let Some(maps) = maps else {
                    put(&mut out, &mut idx, key_of(k), (k, v));
                    continue;
                };
                let mut merged: Vec<(NodeId, NodeId)> = Vec::new();
                let mut midx = std::collections::HashMap::new();
                for m in maps.iter().rev() {
                    for &e in psych_entries_at(doc, *m, depth + 1, memo).iter() {
                        put(&mut merged, &mut midx, key_of(e.0), e);
                    }
                }
                for e in merged {
                    put(&mut out, &mut idx, key_of(e.0), e);
                }
            }
            _ => put(&mut out, &mut idx, key_of(k), (k, v)),
        }
    }
    let out = Entries::new(out);
    memo.insert(target, out.clone());
    out
}

/// How Ruby's YAML (Psych 4) types a scalar; numbers are kept as Ruby prints them (`0x10` is
/// `16`, `1.10` is `1.1`). A date, time or symbol (which Puppet refuses to load, see
/// [`refused_scalar`]) stays a string here.
fn scalar_kind(value: &str, style: Style, tag: Option<&str>) -> ValueKind {
    match tag {
        Some("!!str") => return ValueKind::String(value.to_string()),
        Some("!!null") => return ValueKind::Null,
        Some("!!int") => {
            return match super::psych::tokenize(value) {
                Psych::Int(i) => ValueKind::Number(i.to_string()),
                Psych::Float(f) => ValueKind::Number(super::psych::ruby_float(f)),
                _ => ValueKind::Number(value.to_string()),
            }
        }
        Some("!!float") => {
            // Psych: `Float(value)` after dropping `,` and `_`.
            let clean: String = value.chars().filter(|&c| c != ',' && c != '_').collect();
            return match clean.parse::<f64>() {
                Ok(f) => ValueKind::Number(super::psych::ruby_float(f)),
                Err(_) => ValueKind::Number(value.to_string()),
            };
        }
        Some("!!binary") => {
            // Psych: the base64 text decoded (`unpack('m')`), read here as UTF-8.
            use base64::Engine as _;
            let text: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            return match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => ValueKind::String(String::from_utf8_lossy(&bytes).into_owned()),
                Err(_) => ValueKind::String(value.to_string()),
            };
        }
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
    match super::psych::tokenize(value) {
        Psych::Null => ValueKind::Null,
        Psych::Bool(b) => ValueKind::Bool(b),
        Psych::Int(i) => ValueKind::Number(i.to_string()),
        Psych::Float(f) => ValueKind::Number(super::psych::ruby_float(f)),
        Psych::Str | Psych::Refused(_) => ValueKind::String(value.to_string()),
    }
}

/// The Ruby class of a map key that Psych does not read as a String (`1`, `0x10`, `1.5`,
/// `true`, `~`), if any.
fn non_string_key(doc: &yaml::Document, k: NodeId) -> Option<&'static str> {
    let Kind::Scalar { value, style, tag } = &doc.node(doc.resolve(k)).kind else {
        return None;
    };
    match scalar_kind(value, *style, tag.as_deref()) {
        ValueKind::Number(n) if n.contains(['.', 'e', 'I', 'N']) => Some("Float"),
        ValueKind::Number(_) => Some("Integer"),
        ValueKind::Bool(_) => Some("Boolean"),
        ValueKind::Null => Some("NilClass"),
        _ => None,
    }
}

/// The Ruby class Puppet's YAML loading refuses for this scalar (`Date`, `Time`, `Symbol`), if
/// any: a plain, untagged scalar Psych turns into one of those objects.
pub(super) fn refused_scalar(value: &str, style: Style, tag: Option<&str>) -> Option<&'static str> {
    if style != Style::Plain || tag.is_some() {
        return None;
    }
    match super::psych::tokenize(value) {
        Psych::Refused(class) => Some(class),
        _ => None,
    }
}

/// A YAML 1.1 boolean word (`yes`, `Off`, ...), as Psych reads it when tagged `!!bool`.
pub(crate) fn plain_bool(v: &str) -> Option<bool> {
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
