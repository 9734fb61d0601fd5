//! Puppet's `%{...}` interpolation: in `hiera.yaml` strings (datadir, paths: variables,
//! `scope()`, `literal()`) and in data values and hash keys (also `lookup()`/`hiera()`,
//! `alias()`), with the loop, nesting and size caps the module doc lists.
//!
//! In: a string and the [`Facts`] (for data: the lookup in progress, `Ctx`). Out: the
//! interpolated string, or value for `alias()`, or `None` = left as written, with a note
//! saying why. Values are walked with a heap stack; Rust recursion happens only per nested
//! lookup.

use super::facts::Facts;
use super::lookup::{Ctx, MAX_NESTED_LOOKUPS};
use super::merge::upsert_entries;
use super::value::{
    key_segments, puppet_string, value_cost, value_depth, Origin, Value, ValueKind,
    MAX_STRING_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH, MAX_VALUE_NODES,
};

/// An eyaml `ENC[...]` value: never decrypted, never interpolated.
fn is_encrypted(s: &str) -> bool {
    s.trim_start().starts_with("ENC[")
}

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
pub(super) fn interp_config(
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
                match facts.get_value_with(var, extra) {
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

/// The step detail for variables that were not set in a config string.
pub(super) fn unknown_detail(original: &str, unknown: &[String]) -> Option<String> {
    if unknown.is_empty() {
        return None;
    }
    let vars: Vec<String> = unknown.iter().map(|u| format!("%{{{u}}}")).collect();
    Some(format!(
        "{} not set: interpolated as '' in \"{original}\"",
        vars.join(", ")
    ))
}

/// The result of a lookup made by interpolation.
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
                let out = if renamed {
                    upsert_entries(Vec::new(), out)
                } else {
                    out
                };
                Value::new(ValueKind::Map(out), origin)
            }
        }
    }
}

impl Ctx<'_> {
    /// Takes `nodes` and `bytes` from the lookup's budget; false (and a note, once) when it
    /// is exhausted.
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
    pub(super) fn interp(&mut self, v: Value, depth: usize) -> Value {
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
                self.fail(
                    origin,
                    format!("%{{{e}}}: 'alias' interpolation is only permitted if the expression is equal to the entire string"),
                );
                None
            }
            _ => {
                self.fail(
                    origin,
                    format!("%{{{e}}}: unknown interpolation method '{name}'"),
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
            self.fail(
                origin,
                format!("recursive lookup detected: {chain} -> {root}"),
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
