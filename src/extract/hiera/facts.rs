//! Facts and top-scope variables, as `%{...}` interpolation and `mapped_paths` read them.
//!
//! In: `--fact k=v`, a `--facts` file, the policy's nodes ([`Facts::set`],
//! [`Facts::from_value`]). Out: the value of a variable name (`::x`, `x`, `facts.a.b`,
//! `trusted.certname`). Besides the facts given, the top-scope variables
//! Puppet computes itself, as `puppet lookup` has them: `$trusted` (from the
//! `clientcert` fact) and `$environment` (`production`), unless given.

use super::value::{key_segments, split_key, Value, ValueKind};

/// Facts and top-scope variables: a nested map. `%{::x}`, `%{x}`, `%{facts.x}`,
/// `%{facts.a.b}` and `%{trusted.certname}` (from a `trusted` map) all read it.
#[derive(Clone, Debug)]
pub struct Facts {
    root: Value,
    /// The top-scope variables Puppet sets itself, read by `%{x}`/`%{::x}`
    /// when the facts do not give `x` (never by `%{facts.x}`).
    puppet: Value,
}

impl Default for Facts {
    fn default() -> Facts {
        Facts::with_root(Value::default())
    }
}

impl Facts {
    fn with_root(root: Value) -> Facts {
        let mut f = Facts {
            root,
            puppet: Value::default(),
        };
        f.refresh();
        f
    }

    /// Recomputes what Puppet derives from the facts. `puppet lookup` (and a
    /// compile) has `$environment` = `production` and `$trusted` = `{authenticated
    /// => local, certname => the clientcert fact, extensions => {}, hostname,
    /// domain => certname split at its first dot, external => {}}`, whatever
    /// facts of those names say. Here a `trusted` or `environment` the user gives
    /// wins: a policy's node states them on purpose.
    fn refresh(&mut self) {
        let certname = self
            .root
            .get("clientcert")
            .filter(|v| !v.is_null())
            .map(Value::to_interpolated);
        let (hostname, domain) = match certname.as_deref().map(|c| c.split_once('.')) {
            Some(Some((h, d))) => (Some(h.to_owned()), Some(d.to_owned())),
            Some(None) => (certname.clone(), None),
            None => (None, None),
        };
        let opt = |s: Option<String>| s.map_or_else(Value::default, |s| Value::string(&s));
        let empty = || Value::new(ValueKind::Map(Vec::new()), Default::default());
        let trusted = Value::new(
            ValueKind::Map(vec![
                ("authenticated".into(), Value::string("local")),
                ("certname".into(), opt(certname)),
                ("extensions".into(), empty()),
                ("hostname".into(), opt(hostname)),
                ("domain".into(), opt(domain)),
                ("external".into(), empty()),
            ]),
            Default::default(),
        );
        self.puppet = Value::new(
            ValueKind::Map(vec![
                ("trusted".into(), trusted),
                ("environment".into(), Value::string("production")),
            ]),
            Default::default(),
        );
    }

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
        self.refresh();
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
            ValueKind::Map(_) => Facts::with_root(src.clone()),
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
        resolve_var(&self.root, Some(&self.puppet), dotted, None)
    }

    /// The value of a variable the facts give, leaving out what Puppet sets
    /// itself (`$trusted`, `$environment`).
    #[must_use]
    pub fn given(&self, dotted: &str) -> Option<&Value> {
        resolve_var(&self.root, None, dotted, None)
    }

    /// [`Facts::get_value`] with one more variable bound (`mapped_paths`' item).
    pub(super) fn get_value_with<'v>(
        &'v self,
        dotted: &str,
        extra: Option<(&str, &'v Value)>,
    ) -> Option<&'v Value> {
        resolve_var(&self.root, Some(&self.puppet), dotted, extra)
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

/// Resolves a variable against facts, then what Puppet sets itself (and an
/// extra binding, for `mapped_paths`).
fn resolve_var<'v>(
    root: &'v Value,
    puppet: Option<&'v Value>,
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
    root.get(first)
        .or_else(|| puppet?.get(first))?
        .get_path(rest)
}
