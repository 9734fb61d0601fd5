//! Helm values layers and the small template language of policies.
//!
//! In: values layers (parsed YAML files, Hiera values), each a
//! [`Value`] that remembers the file and line of every leaf. Out: the
//! effective values of a release — the layers deep-merged the Helm way (maps
//! merge, lists and scalars replace, `null` deletes) — and strings expanded
//! from templates such as `{release}.{mesh.certmanager.domains[]}`.

use crate::extract::hiera::{Origin, Value, ValueKind};
use std::collections::BTreeMap;

/// Deep-merges `top` over `base` as Helm merges values files
/// (<https://helm.sh/docs/chart_template_guide/values_files/>).
pub fn helm_merge(base: Value, top: Value) -> Value {
    match (base.kind, top.kind) {
        (ValueKind::Map(mut b), ValueKind::Map(t)) => {
            for (k, tv) in t {
                let pos = b.iter().position(|(bk, _)| *bk == k);
                match (pos, &tv.kind) {
                    // `key: null` in a later layer deletes the key.
                    (Some(i), ValueKind::Null) => {
                        b.remove(i);
                    }
                    (None, ValueKind::Null) => {}
                    (Some(i), _) => {
                        let old = b.remove(i).1;
                        b.insert(i, (k, helm_merge(old, tv)));
                    }
                    (None, _) => b.push((k, tv)),
                }
            }
            Value {
                kind: ValueKind::Map(b),
                origin: top.origin,
            }
        }
        (_, kind) => Value {
            kind,
            origin: top.origin,
        },
    }
}

/// An empty map value.
pub fn empty() -> Value {
    Value {
        kind: ValueKind::Map(Vec::new()),
        origin: Origin::default(),
    }
}

/// Navigates `a.b[].c`: `[]` iterates a list. Returns every value reached.
pub fn select<'v>(v: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut cur = vec![v];
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (name, iterate) = match seg.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (seg, false),
        };
        let mut next = Vec::new();
        for c in cur {
            let Some(x) = (if name.is_empty() {
                Some(c)
            } else {
                c.get(name)
            }) else {
                continue;
            };
            if iterate {
                if let ValueKind::Seq(items) = &x.kind {
                    next.extend(items.iter());
                }
            } else {
                next.push(x);
            }
        }
        cur = next;
    }
    cur
}

/// A scalar value as text (`true`, `42`, `x`); `None` for maps, lists and null.
pub fn scalar(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::String(s) | ValueKind::Number(s) => Some(s.clone()),
        ValueKind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Most strings one template expands to.
pub const MAX_EXPANSIONS: usize = 1_000;

/// Expands a template. `{var}` is a variable; any other `{a.b}` a values
/// path; `{a.b[]}` expands to one string per list item (several such
/// placeholders multiply); `{x|default}` falls back to `default`. A
/// placeholder with no value makes the template expand to nothing.
pub fn expand(template: &str, vars: &BTreeMap<String, String>, values: &Value) -> Vec<String> {
    expand_at_most(template, vars, values, MAX_EXPANSIONS)
}

/// [`expand`], keeping at most `max` strings (every intermediate product
/// too, so a template of many list placeholders costs at most `max` strings
/// per placeholder).
pub fn expand_at_most(
    template: &str,
    vars: &BTreeMap<String, String>,
    values: &Value,
    max: usize,
) -> Vec<String> {
    let max = max.min(MAX_EXPANSIONS);
    if max == 0 {
        return Vec::new();
    }
    let mut results = vec![String::new()];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        for r in &mut results {
            r.push_str(&rest[..open]);
        }
        let inner = &rest[open + 1..close];
        let (expr, default) = match inner.split_once('|') {
            Some((e, d)) => (e.trim(), Some(d.trim())),
            None => (inner.trim(), None),
        };
        let mut choices: Vec<String> = match vars.get(expr) {
            Some(v) => vec![v.clone()],
            None => select(values, &expand_vars(expr, vars))
                .into_iter()
                .filter_map(scalar)
                .collect(),
        };
        if choices.is_empty() {
            if let Some(d) = default {
                choices.push(d.to_owned());
            }
        }
        // Several list placeholders multiply; a policy must not be able to
        // make that explode.
        results = results
            .iter()
            .flat_map(|r| choices.iter().map(move |c| format!("{r}{c}")))
            .take(max)
            .collect();
        rest = &rest[close + 1..];
    }
    for r in &mut results {
        r.push_str(rest);
    }
    results
}

/// Substitutes `{var}`s only (for paths like `{release}.probes[].host`).
pub fn expand_vars(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut s = template.to_owned();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(kind: ValueKind) -> Value {
        Value {
            kind,
            origin: Origin::default(),
        }
    }
    fn s(x: &str) -> Value {
        v(ValueKind::String(x.into()))
    }
    fn m(items: Vec<(&str, Value)>) -> Value {
        v(ValueKind::Map(
            items.into_iter().map(|(k, x)| (k.to_owned(), x)).collect(),
        ))
    }

    #[test]
    fn helm_merge_maps_merge_lists_replace_null_deletes() {
        let base = m(vec![
            ("a", m(vec![("x", s("1")), ("y", s("2"))])),
            ("l", v(ValueKind::Seq(vec![s("1"), s("2")]))),
        ]);
        let top = m(vec![
            ("a", m(vec![("y", s("3")), ("x", v(ValueKind::Null))])),
            ("l", v(ValueKind::Seq(vec![s("9")]))),
        ]);
        let r = helm_merge(base, top);
        assert_eq!(r.get("a").unwrap().get("y").unwrap().as_str(), Some("3"));
        assert!(r.get("a").unwrap().get("x").is_none());
        assert_eq!(select(&r, "l[]").len(), 1);
    }

    #[test]
    fn templates_expand_lists_and_defaults() {
        let vals = m(vec![(
            "mesh",
            m(vec![(
                "domains",
                v(ValueKind::Seq(vec![
                    s("discovery.wmnet"),
                    s("svc.eqiad.wmnet"),
                ])),
            )]),
        )]);
        let vars = BTreeMap::from([("release".to_owned(), "mw-api-ext".to_owned())]);
        assert_eq!(
            expand("{release}.{mesh.domains[]}", &vars, &vals),
            ["mw-api-ext.discovery.wmnet", "mw-api-ext.svc.eqiad.wmnet"]
        );
        assert_eq!(
            expand("ClusterIssuer/{mesh.issuer|discovery}", &vars, &vals),
            ["ClusterIssuer/discovery"]
        );
        assert!(expand("{mesh.extraFQDNs[]}", &vars, &vals).is_empty());
    }
}
