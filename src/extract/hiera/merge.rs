//! Merging the values found across hierarchy levels: `first`, `unique`, `hash` and `deep`
//! (Puppet's `DeepMerge`, with `merge_hash_arrays`, `sort_merged_arrays` and
//! `knockout_prefix`).
//!
//! In: the values found, highest priority first, and a [`MergeSpec`]. Out: one value (each
//! leaf keeps its origin) and the problems met.

use super::value::{Origin, Value, ValueKind};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

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
    pub(super) fn from_option(v: &Value) -> Result<MergeSpec, String> {
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
pub(super) fn merge_values(
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
    let (ValueKind::Map(h), ValueKind::Map(out)) = (higher.kind, lower.kind) else {
        return Value::default();
    };
    Value::new(ValueKind::Map(upsert_entries(out, h)), higher.origin)
}

/// Ruby's `Hash#merge` on map entries: a key already in `out` keeps its place and takes the
/// new value, a new key is appended (also when `entries` repeats a key).
pub(super) fn upsert_entries(
    mut out: Vec<(String, Value)>,
    entries: Vec<(String, Value)>,
) -> Vec<(String, Value)> {
    let mut idx: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.clone(), i))
        .collect();
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
