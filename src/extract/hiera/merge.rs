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

/// What one hierarchy level found: how many locations it has (Puppet's "lookup variants";
/// a glob that matched nothing has none) and the values found, highest priority first.
pub(super) struct LevelFound {
    pub(super) locations: usize,
    pub(super) found: Vec<Value>,
}

/// Merges what the levels found as Puppet's `MergeStrategy#lookup` does, layer by layer: the
/// locations of a level, then the levels of the hierarchy, then Puppet's provider stack
/// (global, environment, module: three variants, so the hierarchy's value always goes through
/// `convert_value`). In each layer one variant means `merge_single` (unique: `uniq`), several
/// mean the first value found is `convert_value`d (unique: flattened, not made unique) and
/// each later one merged into it with `merge`, which checks the types first (hash:
/// `Hash[String, Data]` on both sides; unique: `Variant[Scalar, Array[Data]]`). A value found
/// at one variant of several is returned as is by hash (`--merge hash` on a list gives the
/// list) and as a one-element list by unique. `Err` is Puppet's type error.
pub(super) fn merge_levels(
    levels: Vec<LevelFound>,
    spec: &MergeSpec,
) -> Result<Option<Value>, (Origin, String)> {
    let n = levels.len();
    let mut per_level = Vec::new();
    for l in levels {
        if let Some(v) = reduce(l.locations, l.found, spec)? {
            per_level.push(v);
        }
    }
    let Some(v) = reduce(n, per_level, spec)? else {
        return Ok(None);
    };
    Ok(Some(convert_value(v, spec)))
}

/// One layer of `MergeStrategy#lookup` over `variants` variants of which `found` answered.
fn reduce(
    variants: usize,
    found: Vec<Value>,
    spec: &MergeSpec,
) -> Result<Option<Value>, (Origin, String)> {
    let mut it = found.into_iter();
    let Some(first) = it.next() else {
        return Ok(None);
    };
    if spec.strategy == Merge::First {
        return Ok(Some(first));
    }
    if variants <= 1 && it.len() == 0 {
        return Ok(Some(merge_single(first, spec)));
    }
    let mut memo = convert_value(first, spec);
    for v in it {
        memo = merge_two(memo, v, spec)?;
    }
    Ok(Some(memo))
}

fn merge_single(v: Value, spec: &MergeSpec) -> Value {
    match (spec.strategy, v.kind) {
        (Merge::Unique, ValueKind::Seq(items)) => Value::new(ValueKind::Seq(uniq(items)), v.origin),
        (_, kind) => Value::new(kind, v.origin),
    }
}

fn convert_value(v: Value, spec: &MergeSpec) -> Value {
    if spec.strategy != Merge::Unique {
        return v;
    }
    let origin = v.origin.clone();
    let mut out = Vec::new();
    flatten_all(v, &mut out);
    Value::new(ValueKind::Seq(out), origin)
}

/// Ruby's type name of a value, as Puppet's type errors give it.
fn puppet_type(v: &Value) -> &'static str {
    match &v.kind {
        ValueKind::Null => "Undef",
        ValueKind::Bool(_) => "Boolean",
        ValueKind::Number(n) if n.contains(['.', 'e', 'E']) => "Float",
        ValueKind::Number(_) => "Integer",
        ValueKind::String(_) => "String",
        ValueKind::Seq(_) => "Array",
        ValueKind::Map(_) => "Hash",
    }
}

fn merge_two(memo: Value, v: Value, spec: &MergeSpec) -> Result<Value, (Origin, String)> {
    match spec.strategy {
        Merge::First => Ok(memo),
        Merge::Hash => {
            for (what, x) in [("first", &memo), ("second", &v)] {
                if !matches!(x.kind, ValueKind::Map(_)) {
                    return Err((
                        x.origin.clone(),
                        format!(
                            "hash merge: the {what} element of the merge has wrong type, expects a Hash value, got {}",
                            puppet_type(x)
                        ),
                    ));
                }
            }
            Ok(hash_merge(memo, v))
        }
        Merge::Unique => {
            if matches!(v.kind, ValueKind::Map(_) | ValueKind::Null) {
                return Err((
                    v.origin.clone(),
                    format!(
                        "unique merge: the second element of the merge has wrong type, expects a value of type Scalar or Array, got {}",
                        puppet_type(&v)
                    ),
                ));
            }
            let origin = memo.origin.clone();
            let mut all = Vec::new();
            flatten_all(memo, &mut all);
            flatten_all(v, &mut all);
            Ok(Value::new(ValueKind::Seq(uniq(all)), origin))
        }
        Merge::Deep => Ok(deep_merge(memo, v, spec)),
    }
}

/// Ruby's `Array#flatten` of a value (`[e]` for a non-list), duplicates kept.
fn flatten_all(v: Value, out: &mut Vec<Value>) {
    match v.kind {
        ValueKind::Seq(items) => {
            for i in items {
                flatten_all(i, out);
            }
        }
        _ => out.push(v),
    }
}

fn uniq(items: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|v| seen.insert(canon_of(v)))
        .collect()
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
