//! Facts and top-scope variables, as `%{...}` interpolation and `mapped_paths` read them.
//!
//! In: `--fact k=v`, a `--facts` file, the policy's nodes ([`Facts::set`],
//! [`Facts::from_value`]). Out: the value of a variable name (`::x`, `x`, `facts.a.b`,
//! `trusted.certname`).

use super::value::{key_segments, split_key, Value, ValueKind};

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

    /// The facts a YAML or JSON file (`--facts`) gives: its first document,
    /// a mapping of fact names. `Ok(None)` for a file with no document;
    /// errors carry `file:line:column`.
    pub fn parse_file(file: &str, text: &str) -> Result<Option<Facts>, String> {
        let stream = crate::read::yaml::parse(text, &crate::read::yaml::Limits::default());
        if let Some(e) = stream.error {
            return Err(format!(
                "{file}:{}:{}: {}",
                e.mark.line, e.mark.col, e.message
            ));
        }
        let Some((doc, root)) = stream.docs.first().and_then(|d| Some((d, d.root()?))) else {
            return Ok(None);
        };
        let v = super::from_yaml(doc, root, file)?;
        Ok(Some(Facts::from_value(&v)))
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

    /// [`Facts::get_value`] with one more variable bound (`mapped_paths`' item).
    pub(super) fn get_value_with<'v>(
        &'v self,
        dotted: &str,
        extra: Option<(&str, &'v Value)>,
    ) -> Option<&'v Value> {
        resolve_var(&self.root, dotted, extra)
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
            return val.get_path(rest);
        }
    }
    if first == "facts" {
        return match root.kind {
            ValueKind::Map(_) => root.get_path(rest),
            _ => None,
        };
    }
    root.get(first)?.get_path(rest)
}
