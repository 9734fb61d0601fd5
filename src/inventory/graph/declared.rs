//! Components a policy declares: Hiera keys, Helm values layers, files.
//!
//! In: the policy's `components:` and the means to read what they name (the
//! scanned root's files, a Hiera engine, node facts). Out: components,
//! presented certificates, trust references and host names in the same
//! [`Graph`](super::Graph) as the Kubernetes ones — one inventory, one set of
//! rules. Values keep the file and line they came from, so a cert-manager
//! source points at the Hiera line that switched it on.

use super::{Anchors, Builder, Decided, Direction, PeerBy, Presented, Reach, Source, Trust};
use crate::extract::hiera::{Facts, Hiera, Merge, Origin, StepOutcome, Value, ValueKind};
use crate::extract::values::{self, helm_merge, select};
use crate::finding::{Location, Related};
use crate::policy::{CertRef, ComponentSpec, HostSpec, Layer, PolicyLoc, Switch, Test, When};
use crate::read::source::FileSource;
use crate::read::yaml;
use std::collections::BTreeMap;

/// One component's variables, values and Hiera node, for resolving its references.
struct Env<'e> {
    vars: &'e BTreeMap<String, String>,
    vals: &'e Value,
    node: Option<&'e str>,
}

/// What declared components need besides the inventory.
pub struct Declared<'a> {
    /// The first scanned root, where policy paths are relative to.
    pub files: &'a dyn FileSource,
    /// The Hiera engine, when the policy configures one.
    pub hiera: Option<&'a Hiera>,
    /// Facts from the command line (`--fact`, `--facts`), for components without a node.
    pub facts: Facts,
}

fn policy_location(l: &PolicyLoc) -> Location {
    Location::new(usize::MAX, l.file.clone(), l.line, l.column)
}

/// Where a values path a template names (`{cfssl.label}`,
/// `{mesh.certmanager.issuer|discovery}`) is set: the first set in one of
/// the component's `own` files (what makes it differ from its peers), else
/// the first set at all. The template's own variables are not values.
fn template_origin(
    template: &str,
    vars: &BTreeMap<String, String>,
    vals: &Value,
    own: &[String],
) -> Option<Location> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let inner = &after[..close];
        let path = inner
            .split('|')
            .next()
            .unwrap_or(inner)
            .trim_end_matches("[]");
        if !vars.contains_key(path) {
            if let Some(v) = select(vals, path).into_iter().next() {
                found.push(origin_location(&v.origin));
            }
        }
        rest = &after[close + 1..];
    }
    let own_first = found.iter().position(|l| own.contains(&l.path));
    own_first
        .map(|i| found.swap_remove(i))
        .or_else(|| found.into_iter().next())
}

fn origin_location(o: &Origin) -> Location {
    Location::new(0, o.path.clone(), o.line, o.column)
}

/// Most components one policy entry may declare.
const MAX_COMBINATIONS: usize = 1_000;

/// Most components all policy entries together may declare.
const MAX_DECLARED_COMPONENTS: usize = 2_000;

/// Most strings (names, hosts) all policy templates together may expand to.
const MAX_DECLARED_STRINGS: usize = 20_000;

/// What the policy may still declare in this scan. Each entry is capped on
/// its own ([`MAX_COMBINATIONS`], [`values::MAX_EXPANSIONS`]), but entries
/// multiply: a 600-byte policy of a few `for_each` products and list
/// templates asked for tens of millions of strings. Spending the budget is
/// a warning and makes the scan incomplete (exit 2 unless
/// `--allow-incomplete`): what was not declared was not checked.
#[derive(Debug)]
pub(super) struct Budget {
    components: usize,
    strings: usize,
    /// Whether the budget ran out (reported once).
    spent: bool,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            components: MAX_DECLARED_COMPONENTS,
            strings: MAX_DECLARED_STRINGS,
            spent: false,
        }
    }
}

/// Every combination of the `for_each` variables (at most [`MAX_COMBINATIONS`]).
fn combinations(spec: &ComponentSpec) -> Vec<BTreeMap<String, String>> {
    let mut out = vec![BTreeMap::new()];
    for (var, vals) in &spec.for_each {
        out = out
            .into_iter()
            .flat_map(|m| {
                vals.iter().map(move |v| {
                    let mut m = m.clone();
                    m.insert(var.clone(), v.clone());
                    m
                })
            })
            .take(MAX_COMBINATIONS)
            .collect();
    }
    out
}

/// What a Hiera string that cannot be a file path is, for a message that
/// must not quote it: inline PEM without a certificate may be a private key,
/// and an interpolation can make a megabyte string.
fn not_a_path(s: &str) -> Option<String> {
    let s = s.trim();
    if crate::read::pem::looks_like_pem(s.as_bytes()) {
        let key = s.contains("PRIVATE KEY");
        Some(if key {
            "inline PEM holding a private key (not shown)".to_owned()
        } else {
            "inline PEM without a certificate".to_owned()
        })
    } else if s.chars().count() > 256 || s.chars().any(char::is_control) {
        Some(format!(
            "a {}-character string (not shown)",
            s.chars().count()
        ))
    } else {
        None
    }
}

impl Builder<'_> {
    fn facts_for(&self, d: &Declared<'_>, node: Option<&str>) -> Facts {
        let mut f = d.facts.clone();
        if let Some(facts) = node.and_then(|n| self.policy.hiera.nodes.get(n)) {
            for (k, v) in facts {
                f.set(k, v);
            }
        }
        f
    }

    /// A Hiera key's value for a node, with the levels below the winning
    /// one that set it too (what `lookup --explain` shows as overridden),
    /// as related locations.
    fn hiera_explained(
        &mut self,
        d: &Declared<'_>,
        key: &str,
        node: Option<&str>,
        at: &Location,
        comp: Option<usize>,
    ) -> (Option<Value>, Vec<Related>) {
        let Some(h) = d.hiera else {
            self.note(
                at,
                comp,
                format!("hiera key {key}: the policy configures no hiera (hiera.config)"),
            );
            return (None, Vec::new());
        };
        let l = h.lookup(key, &self.facts_for(d, node), Some(Merge::Deep));
        let found: Vec<(&str, &Origin)> = l
            .explain
            .iter()
            .filter_map(|step| match &step.outcome {
                StepOutcome::Found(o) => Some((step.level.as_str(), o)),
                _ => None,
            })
            .collect();
        let mut chain = Vec::new();
        if let Some(&(winner, _)) = found.first() {
            // A scalar or list: the first level wins outright; a hash is
            // merged from every level.
            let merged = l
                .value
                .as_ref()
                .is_some_and(|v| matches!(v.kind, ValueKind::Map(_)));
            for &(level, o) in &found[1..] {
                chain.push(Related {
                    location: origin_location(o),
                    note: if merged {
                        format!("{key} at hiera level \"{level}\", merged under \"{winner}\"")
                    } else {
                        format!("{key} at hiera level \"{level}\", overridden by \"{winner}\"")
                    },
                });
            }
        }
        for n in l.notes {
            self.note(
                &origin_location(&n.origin),
                comp,
                format!("hiera {key}: {}", n.message),
            );
        }
        if let Some(e) = &l.error {
            // Puppet's lookup fails here (an unreadable data file on the way, a merge of the
            // wrong types): not "no value", and what depends on it is not checked.
            let message = format!(
                "hiera key {key}: the lookup fails for node {}, as Puppet's would ({}: {})",
                node.unwrap_or("(command-line facts)"),
                e.origin,
                e.message
            );
            self.note(at, comp, message.clone());
            self.late.incomplete = true;
            self.late
                .gaps
                .push((at.path.clone(), format!("line {}: {message}", at.line)));
        } else if l.value.is_none() {
            self.note(
                at,
                comp,
                format!(
                    "hiera key {key} has no value for node {}",
                    node.unwrap_or("(command-line facts)")
                ),
            );
        }
        (l.value, chain)
    }

    fn values_file(
        &mut self,
        d: &Declared<'_>,
        path: &str,
        at: &Location,
        comp: Option<usize>,
    ) -> Option<Value> {
        if let Some(v) = self.values_cache.get(path) {
            return v.clone();
        }
        let v = self.read_values_file(d, path, at, comp);
        self.values_cache.insert(path.to_owned(), v.clone());
        v
    }

    fn read_values_file(
        &mut self,
        d: &Declared<'_>,
        path: &str,
        at: &Location,
        comp: Option<usize>,
    ) -> Option<Value> {
        let bytes = match d.files.read(path) {
            Ok(b) => b,
            Err(e) => {
                self.note(at, comp, format!("values file {path}: {e}"));
                return None;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let stream = yaml::parse(&text, &yaml::Limits::default());
        if let Some(e) = &stream.error {
            self.note(
                &Location::new(0, path, e.mark.line, e.mark.col),
                comp,
                format!("values file does not parse: {}", e.message),
            );
        }
        let doc = stream.docs.first()?;
        let root = doc.root()?;
        match crate::extract::hiera::from_yaml(doc, root, path) {
            Ok(v) => Some(v),
            Err(e) => {
                self.note(at, comp, format!("values file {path}: {e}"));
                None
            }
        }
    }

    /// The values layers of one release of a plain-YAML helmfile, in order.
    /// A Go-templated helmfile is not evaluated: the policy lists the layers instead.
    fn helmfile_layers(
        &mut self,
        d: &Declared<'_>,
        path: &str,
        release: &str,
        at: &Location,
    ) -> Vec<Value> {
        let text = match d.files.read(path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                self.note(at, None, format!("helmfile {path}: {e}"));
                return Vec::new();
            }
        };
        if text.contains("{{") {
            self.note(at, None, format!("helmfile {path} is a Go template; certdrift does not evaluate it: list its values files in the policy"));
            return Vec::new();
        }
        let Some(hf) = self.values_file(d, path, at, None) else {
            return Vec::new();
        };
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let Some(rel) = select(&hf, "releases[]")
            .into_iter()
            .find(|r| r.get("name").and_then(|n| n.as_str()) == Some(release))
        else {
            self.note(
                at,
                None,
                format!("helmfile {path} has no release {release}"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in select(rel, "values[]") {
            match item.as_str() {
                Some(file) => {
                    let p = if dir.is_empty() {
                        file.to_owned()
                    } else {
                        format!("{dir}/{}", file.trim_start_matches("./"))
                    };
                    if let Some(v) = self.values_file(d, &p, at, None) {
                        out.push(v);
                    }
                }
                // Inline values in the helmfile.
                None => out.push(item.clone()),
            }
        }
        out
    }

    /// The bundle that a value at `origin` became when its file was scanned.
    fn bundle_at(&self, origin: &Origin) -> Option<usize> {
        self.inv
            .bundles
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.location.path == origin.path
                    && (b.location.line == origin.line || b.location.line == origin.line + 1)
            })
            .min_by_key(|(_, b)| (b.location.line, b.location.column))
            .map(|(i, _)| i)
    }

    /// A file named in the repository, a `puppet:///modules/M/P` URL, or a mapped host path, to its bundle.
    fn file_bundle(&self, path: &str) -> Result<usize, String> {
        let rel = if let Some(rest) = path.strip_prefix("puppet:///modules/") {
            // puppet:///modules/M/P is modules/M/files/P in the Puppet tree.
            let (module, p) = rest
                .split_once('/')
                .ok_or_else(|| format!("{path} is not puppet:///modules/MODULE/PATH"))?;
            let suffix = format!("modules/{module}/files/{p}");
            let hits: Vec<usize> = self
                .inv
                .file_bundles
                .iter()
                .filter(|((_, r), _)| *r == suffix || r.ends_with(&format!("/{suffix}")))
                .map(|(_, &b)| b)
                .collect();
            return match hits.as_slice() {
                [b] => Ok(*b),
                [] => Err(format!("{path}: no {suffix} in the scanned files")),
                _ => Err(format!("{path}: {suffix} is in several places")),
            };
        } else if path.starts_with('/') {
            match self.host_file(path) {
                super::Target::Bundle { bundle, .. } => return Ok(bundle),
                super::Target::Missing(why) => return Err(why),
                _ => return Err(format!("{path}: not a certificate file")),
            }
        } else {
            path.to_owned()
        };
        self.inv
            .file_bundles
            .iter()
            .find(|((_, r), _)| *r == rel)
            .map(|(_, &b)| b)
            .ok_or_else(|| format!("{rel} is not a scanned certificate file"))
    }

    /// Follows a certificate reference to a bundle (or says why not).
    fn cert_ref(
        &mut self,
        d: &Declared<'_>,
        r: &CertRef,
        env: &Env<'_>,
        at: &Location,
        comp: usize,
    ) -> Result<(usize, String, Location), String> {
        let (vars, vals, node) = (env.vars, env.vals, env.node);
        match r {
            CertRef::File(t) => {
                let path = values::expand_vars(t, vars);
                let b = self.file_bundle(&path)?;
                Ok((
                    b,
                    format!("file {path}"),
                    self.inv.bundles[b].location.clone(),
                ))
            }
            CertRef::Values(p) => {
                let path = values::expand_vars(p, vars);
                let v = select(vals, &path)
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("values {path} is not set"))?;
                let loc = origin_location(&v.origin);
                match self.bundle_at(&v.origin) {
                    Some(b) if !self.inv.bundles[b].members.is_empty() => {
                        Ok((b, format!("values {path}"), loc))
                    }
                    _ => Err(format!(
                        "values {path} (set at {loc}) holds no certificate in the repository"
                    )),
                }
            }
            CertRef::Hiera { key, node: n } => {
                let key = values::expand_vars(key, vars);
                let node = n.as_deref().or(node);
                let v = self
                    .hiera_explained(d, &key, node, at, Some(comp))
                    .0
                    .ok_or_else(|| format!("hiera key {key} has no value"))?;
                let loc = origin_location(&v.origin);
                if let Some(b) = self
                    .bundle_at(&v.origin)
                    .filter(|&b| !self.inv.bundles[b].members.is_empty())
                {
                    return Ok((b, format!("hiera {key}"), loc));
                }
                let s = v
                    .as_str()
                    .ok_or_else(|| format!("hiera key {key} (at {loc}) is not a string"))?;
                if let Some(what) = not_a_path(s) {
                    return Err(format!(
                        "hiera key {key} (at {loc}) is {what}, neither a certificate nor a path to one"
                    ));
                }
                let b = self
                    .file_bundle(s.trim())
                    .map_err(|e| format!("hiera key {key} (at {loc}): {e}"))?;
                Ok((b, format!("hiera {key} → {s}"), loc))
            }
            CertRef::Object {
                kind,
                namespace,
                name,
                key,
            } => {
                let from = self
                    .inv
                    .objects
                    .first()
                    .map(|o| o.path.clone())
                    .unwrap_or_default();
                match self.object_key(&from, kind == "Secret", name, key, namespace.as_deref()) {
                    super::Target::Bundle { bundle, via, .. } => {
                        Ok((bundle, via, self.inv.bundles[bundle].location.clone()))
                    }
                    super::Target::Missing(why) => Err(why),
                    _ => Err(format!(
                        "{kind} {name} key {key} is managed by cert-manager"
                    )),
                }
            }
        }
    }

    /// Adds every component the policy declares.
    pub(super) fn declared(&mut self, d: &Declared<'_>) {
        let specs = self.policy.components.clone();
        'specs: for spec in &specs {
            let product: usize = spec
                .for_each
                .iter()
                .map(|(_, v)| v.len().max(1))
                .fold(1, usize::saturating_mul);
            if product > MAX_COMBINATIONS {
                let at = policy_location(&spec.location);
                self.note(&at, None, format!("for_each makes {product} components; only the first {MAX_COMBINATIONS} are checked"));
            }
            let all = combinations(spec);
            if all.is_empty() {
                let at = policy_location(&spec.location);
                self.note(
                    &at,
                    None,
                    format!(
                        "component {}: for_each yields no combination, so it declares nothing",
                        spec.name
                    ),
                );
            }
            for vars in all {
                if self.policy_budget.components == 0 {
                    self.budget_spent(&spec.location, "components");
                    break 'specs;
                }
                self.policy_budget.components -= 1;
                self.declared_one(d, spec, &vars);
            }
        }
        self.selects_nothing(&specs);
    }

    /// Notes for a policy that selects nothing: a source switch set for no
    /// component, or never on; a group with fewer than two members.
    fn selects_nothing(&mut self, specs: &[ComponentSpec]) {
        let kinds = specs
            .iter()
            .filter_map(|spec| spec.serves.as_ref())
            .flat_map(|s| s.cert_manager.iter().chain(&s.issued));
        for cm in kinds {
            let Some(&(made, set, on)) = self.switches.get(&cm.when_at) else {
                continue;
            };
            let at = policy_location(&cm.when_at);
            let what = match (&cm.when, set, on) {
                (When::Always, ..) => continue,
                (_, 0, _) => format!(
                    "when {}: no value for any of its {made} component(s) (the key or path is never set), so {} is never selected",
                    cm.when, cm.kind
                ),
                (_, _, 0) => format!(
                    "when {}: false for all {made} component(s), so {} is never selected",
                    cm.when, cm.kind
                ),
                _ => continue,
            };
            self.note(&at, None, what);
        }
        // Components whose every switch is off and that have no `static`:
        // they serve nothing the policy can name.
        for (at, (made, who)) in std::mem::take(&mut self.unsourced) {
            if who.is_empty() {
                continue;
            }
            let mut list: Vec<String> = who.iter().take(5).cloned().collect();
            if who.len() > 5 {
                list.push(format!("{} more", who.len() - 5));
            }
            self.note(
                &policy_location(&at),
                None,
                format!(
                    "no certificate source selected for {} of {made} component(s) ({}): every `when` is false and `serves` has no `static`",
                    who.len(),
                    list.join(", ")
                ),
            );
        }
        let groups = self.policy.groups.clone();
        for g in &groups {
            // Members are components, one per scope: `etcd` in four sites is four.
            let n = self
                .graph
                .components
                .iter()
                .filter(|c| g.has(&c.name))
                .count();
            if n < 2 {
                let at = policy_location(&g.location);
                self.note(
                    &at,
                    None,
                    format!(
                        "group {} has {n} member(s) in the scanned files: nothing to compare",
                        g.name
                    ),
                );
            }
        }
    }

    /// Reports, once, that the policy's expansion budget ran out.
    fn budget_spent(&mut self, at: &PolicyLoc, what: &str) {
        if self.policy_budget.spent {
            return;
        }
        self.policy_budget.spent = true;
        let location = policy_location(at);
        let message = format!(
            "the policy's components expand past the scan's budget ({MAX_DECLARED_COMPONENTS} components, \
             {MAX_DECLARED_STRINGS} names in all; {what} ran out here): the rest is not checked"
        );
        self.late.problems.push(crate::extract::Problem {
            location: location.clone(),
            severity: crate::finding::Severity::Warning,
            message: message.clone(),
        });
        self.late.incomplete = true;
        self.late.gaps.push((
            location.path.clone(),
            format!("line {}: {message}", location.line),
        ));
    }

    /// [`expand`] within the policy's budget: at most `max` strings, and
    /// what it returns is spent.
    fn expand_budgeted(
        &mut self,
        template: &str,
        vars: &BTreeMap<String, String>,
        vals: &crate::extract::hiera::Value,
        max: usize,
        at: &PolicyLoc,
    ) -> Vec<String> {
        let out = values::expand_at_most(template, vars, vals, max.min(self.policy_budget.strings));
        self.policy_budget.strings -= out.len();
        if self.policy_budget.strings == 0 {
            self.budget_spent(at, "names");
        }
        out
    }

    /// Whether `when` selects its source for one component, and where the
    /// value that decided is (its line in the values file or at the Hiera
    /// level that won, with the lower levels that set it too); `None` when
    /// the value is not set anywhere.
    fn decide(
        &mut self,
        d: &Declared<'_>,
        when: &When,
        env: &Env<'_>,
        at: &Location,
        comp: usize,
    ) -> (bool, Option<Decided>) {
        match when {
            When::Always => (true, None),
            When::Not(w) => {
                let (on, cause) = self.decide(d, w, env, at, comp);
                (!on, cause)
            }
            When::Is { what, test } => {
                let (value, chain) = match what {
                    Switch::Values(path) => {
                        let path = values::expand_vars(path, env.vars);
                        (
                            select(env.vals, &path).into_iter().next().cloned(),
                            Vec::new(),
                        )
                    }
                    Switch::Hiera { key, node } => {
                        let key = values::expand_vars(key, env.vars);
                        let node = node.as_deref().map(|n| values::expand_vars(n, env.vars));
                        let node = node.as_deref().or(env.node);
                        self.hiera_explained(d, &key, node, at, Some(comp))
                    }
                };
                let Some(v) = value else {
                    return (false, None);
                };
                let on = match test {
                    Test::Truthy => v.is_truthy(),
                    Test::Equals(x) => v.scalar_text().as_deref() == Some(x.as_str()),
                    Test::In(list) => v.scalar_text().is_some_and(|t| list.contains(&t)),
                };
                let shown = v
                    .scalar_text()
                    .map(|t| {
                        if t.chars().count() > 60 {
                            format!("{}…", t.chars().take(60).collect::<String>())
                        } else {
                            t
                        }
                    })
                    .unwrap_or_else(|| "a list or map".into());
                (
                    on,
                    Some(Decided {
                        at: origin_location(&v.origin),
                        value: shown,
                        chain,
                    }),
                )
            }
        }
    }

    /// Counts, per component spec, how often its switch was set and on:
    /// a switch never set, or never on, is reported once the policy is done.
    fn switch_seen(&mut self, spec: &PolicyLoc, set: bool, on: bool) {
        let e = self.switches.entry(spec.clone()).or_default();
        e.0 += 1;
        e.1 += usize::from(set);
        e.2 += usize::from(on);
    }

    fn declared_one(
        &mut self,
        d: &Declared<'_>,
        spec: &ComponentSpec,
        vars: &BTreeMap<String, String>,
    ) {
        let at = policy_location(&spec.location);
        let node = spec.node.as_deref().map(|n| values::expand_vars(n, vars));
        let node = node.as_deref();
        // Values layers, later wins.
        let mut vals = values::empty();
        for layer in &spec.values {
            if let Layer::Helmfile { path, release } = layer {
                let path = values::expand_vars(path, vars);
                let release = values::expand_vars(release, vars);
                for v in self.helmfile_layers(d, &path, &release, &at) {
                    vals = helm_merge(vals, v);
                }
                continue;
            }
            let v = match layer {
                Layer::Helmfile { .. } => None,
                Layer::File(t) => {
                    let path = values::expand_vars(t, vars);
                    self.values_file(d, &path, &at, None)
                }
                Layer::Hiera { key, node: n, keys } => {
                    let key = values::expand_vars(key, vars);
                    let n = n.as_deref().or(node);
                    self.hiera_explained(d, &key, n, &at, None).0.map(|v| {
                        if keys.is_empty() {
                            return v;
                        }
                        keys.iter()
                            .filter_map(|k| v.get(&values::expand_vars(k, vars)).cloned())
                            .fold(values::empty(), helm_merge)
                    })
                }
            };
            if let Some(v) = v {
                vals = helm_merge(vals, v);
            }
        }
        let name = values::expand_at_most(&spec.name, vars, &vals, 1)
            .into_iter()
            .next()
            .unwrap_or_else(|| spec.name.clone());
        // A layer whose path depends on the component's own variables is its own;
        // shared layers (global defaults, Hiera) are not.
        let own_files = spec
            .values
            .iter()
            .filter_map(|l| match l {
                Layer::File(t)
                    if vars.is_empty() || vars.keys().any(|k| t.contains(&format!("{{{k}}}"))) =>
                {
                    Some(values::expand_vars(t, vars))
                }
                _ => None,
            })
            .collect();
        let scope = spec
            .scope
            .as_ref()
            .and_then(|s| values::expand_at_most(s, vars, &vals, 1).into_iter().next())
            .unwrap_or_default();
        self.graph.components.push(super::Component {
            name: name.clone(),
            kind: "policy".into(),
            role: None,
            client: spec.client,
            scope,
            location: at.clone(),
            object: usize::MAX,
            own_files,
        });
        let comp = self.graph.components.len() - 1;
        // The serving certificate: the source selector, then the static reference.
        let mut serve = None;
        let mut decided_at = None;
        if let Some(s) = &spec.serves {
            self.unsourced.entry(spec.location.clone()).or_default().0 += 1;
            // The issued kinds in order (cert-manager, pki, puppet, vault,
            // acme): the first whose switch holds is the source.
            let env = Env {
                vars,
                vals: &vals,
                node,
            };
            let mut cm = None;
            for spec_k in s.cert_manager.iter().chain(&s.issued) {
                let (on, decided) = self.decide(d, &spec_k.when, &env, &at, comp);
                self.switch_seen(&spec_k.when_at, decided.is_some(), on);
                let cause = decided.as_ref().map(|x| x.at.clone());
                if decided_at.is_none() {
                    decided_at = decided.clone();
                }
                if on {
                    // `always` decides nothing by a value: the switch that
                    // was off before it did.
                    if decided.is_some() {
                        decided_at = decided;
                    }
                    let cause = cause.unwrap_or_else(|| policy_location(&spec_k.when_at));
                    cm = Some((spec_k, cause));
                    break;
                }
            }
            let presented = if let Some((cm, cause)) = cm {
                let issuer = values::expand_at_most(&cm.issuer, vars, &vals, 1)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let mut names: Vec<String> = Vec::new();
                for t in &cm.names {
                    let max = values::MAX_EXPANSIONS;
                    names.extend(self.expand_budgeted(t, vars, &vals, max, &spec.location));
                }
                let intermediate = cm
                    .intermediate
                    .as_ref()
                    .and_then(|t| values::expand_at_most(t, vars, &vals, 1).into_iter().next());
                // The issuer is where a set value names it (a cfssl label in
                // one cluster's values): that line decides which CA signs.
                // The intermediate's value first: within one issuer, it is
                // what differs.
                let own = &self.graph.components[comp].own_files;
                let location = cm
                    .intermediate
                    .as_ref()
                    .and_then(|t| template_origin(t, vars, &vals, own))
                    .or_else(|| template_origin(&cm.issuer, vars, &vals, own))
                    .unwrap_or_else(|| cause.clone());
                // The issuing CA, when the policy names its certificate: trust
                // in this source is then checked with it.
                let issuer_ca = cm.ca.as_ref().and_then(|r| {
                    let (b, _, _) = self.cert_ref(d, r, &env, &at, comp).ok()?;
                    self.inv
                        .bundles
                        .get(b)?
                        .members
                        .first()
                        .map(|m| m.0.clone())
                });
                Presented {
                    component: comp,
                    channel: name.clone(),
                    bundle: None,
                    source: Source::CertManager {
                        kind: cm.kind.clone(),
                        issuer: issuer.clone(),
                        intermediate,
                        certificate: cause.clone(),
                        names,
                        issuer_ca,
                    },
                    location,
                    via: format!("{} {issuer} (when {})", cm.kind, cm.when),
                }
            } else if let Some(r) = &s.static_cert {
                match self.cert_ref(
                    d,
                    r,
                    &Env {
                        vars,
                        vals: &vals,
                        node,
                    },
                    &at,
                    comp,
                ) {
                    Ok((b, via, loc)) => Presented {
                        component: comp,
                        channel: name.clone(),
                        bundle: Some(b),
                        source: Source::Static,
                        location: loc,
                        via,
                    },
                    Err(why) => {
                        // A static certificate kept outside the repository (private
                        // hieradata) is still a static source; its names are unknown.
                        let loc = match r {
                            CertRef::Values(p) => select(&vals, &values::expand_vars(p, vars))
                                .first()
                                .map(|v| origin_location(&v.origin))
                                .unwrap_or_else(|| at.clone()),
                            _ => at.clone(),
                        };
                        Presented {
                            component: comp,
                            channel: name.clone(),
                            bundle: None,
                            source: Source::Static,
                            location: loc,
                            via: format!("static ({why})"),
                        }
                    }
                }
            } else {
                let c = &self.graph.components[comp];
                let who = if c.scope.is_empty() {
                    c.name.clone()
                } else {
                    format!("{} in {}", c.name, c.scope)
                };
                self.unsourced
                    .entry(spec.location.clone())
                    .or_default()
                    .1
                    .push(who);
                Presented {
                    component: comp,
                    channel: name.clone(),
                    bundle: None,
                    source: Source::Unresolved("no source selected".into()),
                    location: at.clone(),
                    via: "serves".into(),
                }
            };
            self.graph.serves.push(presented);
            serve = Some(self.graph.serves.len() - 1);
            if let (Some(si), Some(at)) = (serve, decided_at) {
                self.graph.decided_at.insert(si, at);
            }
        }
        for (list, direction) in [
            (&spec.trusts, Direction::Server),
            (&spec.clients, Direction::Client),
        ] {
            for pr in list {
                let peer = values::expand_vars(&pr.peer, vars);
                let r = self.cert_ref(
                    d,
                    &pr.cert,
                    &Env {
                        vars,
                        vals: &vals,
                        node,
                    },
                    &at,
                    comp,
                );
                if direction == Direction::Client {
                    match r {
                        Ok((b, via, loc)) => self.graph.clients.push(Presented {
                            component: comp,
                            channel: peer,
                            bundle: Some(b),
                            source: Source::Static,
                            location: loc,
                            via,
                        }),
                        Err(why) => self.note(
                            &at,
                            Some(comp),
                            format!("client certificate for {peer}: cannot follow: {why}"),
                        ),
                    }
                    continue;
                }
                let (anchors, via, loc) = match r {
                    Ok((b, via, loc)) => (Anchors::Bundle(b), via, loc),
                    Err(why) => (Anchors::Unresolved(why.clone()), why, at.clone()),
                };
                // `clients: true` verifies whoever connects to this component.
                let (channel, direction) = if pr.clients {
                    (name.clone(), Direction::Client)
                } else {
                    (peer, Direction::Server)
                };
                self.graph.trusts.push(Trust {
                    component: comp,
                    channel,
                    direction,
                    flag: "trusts".into(),
                    anchors,
                    location: loc,
                    via,
                    host: None,
                    host_location: None,
                    addresses: Vec::new(),
                    checks: Vec::new(),
                    peer_by: PeerBy::Host,
                });
            }
        }
        for h in &spec.reached_as {
            let hosts: Vec<(String, Location)> = match h {
                HostSpec::Name(t) => self
                    .expand_budgeted(t, vars, &vals, values::MAX_EXPANSIONS, &spec.location)
                    .into_iter()
                    .map(|n| (n, at.clone()))
                    .collect(),
                HostSpec::Hiera { key, node: n, path } => {
                    let key = values::expand_vars(key, vars);
                    let n = n.as_deref().or(node);
                    match self.hiera_explained(d, &key, n, &at, Some(comp)).0 {
                        Some(v) => select(&v, &values::expand_vars(path, vars))
                            .into_iter()
                            .filter_map(|x| Some((values::scalar(x)?, origin_location(&x.origin))))
                            .collect(),
                        None => Vec::new(),
                    }
                }
            };
            for (host, location) in hosts {
                // `host:port` names a probe target as well as a name.
                let (host, port) = super::split_host_port(&host);
                self.graph.reaches.push(Reach {
                    component: comp,
                    host: host.to_ascii_lowercase(),
                    port,
                    location,
                    serve,
                    verdict: None,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::not_a_path;

    #[test]
    fn hiera_strings_that_are_not_paths_are_described_not_quoted() {
        assert_eq!(not_a_path("modules/profile/files/ca.pem"), None);
        assert_eq!(not_a_path("/etc/ssl/certs/Puppet_Internal_CA.pem"), None);
        let key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----\n";
        let what = not_a_path(key).unwrap();
        assert!(
            what.contains("private key") && !what.contains("MHcC"),
            "{what}"
        );
        let long = "x".repeat(1 << 20);
        assert_eq!(
            not_a_path(&long).unwrap(),
            "a 1048576-character string (not shown)"
        );
    }
}
