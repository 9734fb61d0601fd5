//! One lookup, as `puppet lookup KEY --merge M --explain` does it: every level's locations
//! (datadir and paths interpolated with the facts, globs listed, `mapped_paths` expanded),
//! the key read from each data file (or, for `wmflib::expand_path`, from the file the key's
//! namespace names), `lookup_options` (exact key, then `^regex` keys), the values found
//! interpolated and merged, dotted keys dug into.
//!
//! In: a [`Hiera`], a key, the [`Facts`] and a merge (or `None`: `lookup_options`). Out: a
//! [`Lookup`]: the value, the [`Step`]s tried and the notes. `Ctx` holds the state of one
//! top-level lookup and of the lookups its interpolations make (see `interpolate`).

use super::config::{Backend, Level, Locs};
use super::data::DataFile;
use super::facts::Facts;
use super::interpolate::{interp_config, unknown_detail};
use super::merge::{merge_levels, LevelFound, Merge, MergeSpec};
use super::rx;
use super::value::{
    convert_entry, dig_owned, key_segments, psych_entries, Budget, Origin, Value, ValueKind,
};
use super::{join_rel, Builtin, Hiera, Note};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

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
    /// Why the lookup fails where Puppet's fails (an unreadable data file on the way, a merge
    /// of the wrong types, an interpolation Puppet refuses); `value` is then `None`. A failed
    /// lookup is incomplete, not "not found".
    pub error: Option<Note>,
    /// `lookup_options` convert the value to `Sensitive`: Puppet shows it as
    /// `Sensitive [value redacted]`.
    pub sensitive: bool,
}

impl Lookup {
    /// What `puppet lookup` shows for a Sensitive value.
    pub const REDACTED: &'static str = "Sensitive [value redacted]";
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

/// Most lookups nested through interpolation.
pub(super) const MAX_NESTED_LOOKUPS: usize = 32;
/// Most notes kept per lookup (the rest are counted).
const MAX_NOTES: usize = 200;

/// One location of a level, after interpolation.
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

/// A key read from one data file, before interpolation.
enum Raw {
    Missing,
    Absent,
    Found { value: Value, key_origin: Origin },
    Error(String),
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

/// The source and flags of a `!ruby/regexp` scalar (`/src/flags`); `None` if it is not in
/// slashes.
fn ruby_regexp_source(v: &str) -> Option<(String, String)> {
    let body = v.strip_prefix('/')?;
    let end = body.rfind('/')?;
    Some((body[..end].to_string(), body[end + 1..].to_string()))
}

/// State of one top-level lookup (and the lookups its interpolations make).
pub(super) struct Ctx<'a> {
    h: &'a Hiera,
    pub(super) facts: &'a Facts,
    notes: Vec<Note>,
    note_keys: HashSet<(Origin, String)>,
    suppressed: usize,
    /// Root keys being looked up, outermost first (loop detection).
    pub(super) stack: Vec<String>,
    /// Sub-lookups made by interpolation, by key.
    pub(super) memo: HashMap<String, Option<Value>>,
    pub(super) budget: Budget,
    pub(super) budget_noted: bool,
    locs: Vec<Option<Rc<Vec<Loc>>>>,
    lookup_options: Option<Rc<Vec<(String, Value)>>>,
    regexes: HashMap<String, Result<Rc<rx::Regex>, String>>,
    /// The first reason this lookup fails as Puppet's would.
    pub(super) error: Option<Note>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(h: &'a Hiera, facts: &'a Facts) -> Ctx<'a> {
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
            error: None,
        }
    }

    /// Records why the lookup fails (the first reason is kept) and notes it.
    pub(super) fn fail(&mut self, origin: &Origin, message: String) {
        if self.error.is_none() {
            self.error = Some(Note {
                origin: origin.clone(),
                message: message.clone(),
            });
        }
        self.note(origin, message);
    }

    /// Records a note once; past `MAX_NOTES` they are only counted.
    pub(super) fn note(&mut self, origin: &Origin, message: String) {
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

    /// The notes, with the count of those not kept.
    pub(super) fn finish(mut self) -> Vec<Note> {
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

    /// The key's raw value in a data file; `no_symbols`: the file is loaded as
    /// `wmflib::expand_path` loads it (a symbol anywhere fails the file).
    fn raw_find(&mut self, rel: &str, key: &str, no_symbols: bool) -> Raw {
        let file = self.h.data_file(rel);
        if let (
            true,
            DataFile::Loaded {
                symbol_at: Some(o), ..
            },
        ) = (no_symbols, &*file)
        {
            let message = "data file cannot be loaded: wmflib::expand_path's YAML loading refuses a Ruby Symbol".to_string();
            self.fail(o, message.clone());
            return Raw::Error(message);
        }
        match &*file {
            DataFile::Missing => Raw::Missing,
            DataFile::Bad { origin, message } => {
                self.fail(origin, message.clone());
                Raw::Error(message.clone())
            }
            DataFile::Loaded {
                regexp_at: Some(o), ..
            } => {
                let message = "data file cannot be loaded: Puppet's YAML loading refuses a !ruby/regexp (a Ruby Regexp) outside wmflib::regex_data".to_string();
                self.fail(o, message.clone());
                Raw::Error(message)
            }
            DataFile::Loaded {
                doc, keys, warning, ..
            } => {
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
                        self.fail(&key_origin, format!("value of '{key}' cannot be used: {m}"));
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
        no_symbols: bool,
    ) -> Option<Value> {
        let (outcome, value) = match self.raw_find(rel, key, no_symbols) {
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
        // Puppet calls a lookup_key function only for a location that exists (the level's
        // path as a file or a directory): no `<site>/` directory, no `<site>.yaml` read.
        if !self.h.location_exists(base) {
            steps.push(Step {
                level: level.to_string(),
                path: Some(base.to_string()),
                outcome: StepOutcome::FileMissing,
                detail: detail.cloned(),
            });
            return None;
        }
        let mapped = expand_target(base, key);
        match &mapped {
            Some(m) => {
                if let Some(v) = self.find_in_file(level, m, key, detail, steps, true) {
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
            if let Raw::Found { value, key_origin } = self.raw_find(c, key, true) {
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

    /// `wmflib::regex_data`: the labels of the file in order; the first whose `__regex`
    /// matches the level's `options.node` and that has the key gives the value. As in the Ruby
    /// function, an error while matching (no `__regex`, a pattern that is not a regexp) makes
    /// the value `undef`; a pattern this engine cannot run is a note and the label is skipped.
    fn find_regex(
        &mut self,
        level: &Level,
        rel: &str,
        key: &str,
        detail: Option<&String>,
        steps: &mut Vec<Step>,
    ) -> Option<Value> {
        let step = |outcome: StepOutcome, detail: Option<String>| Step {
            level: level.name.clone(),
            path: Some(rel.to_string()),
            outcome,
            detail,
        };
        let file = self.h.data_file(rel);
        let (doc, root) = match &*file {
            DataFile::Missing => {
                steps.push(step(StepOutcome::FileMissing, detail.cloned()));
                return None;
            }
            DataFile::Bad { origin, message } => {
                self.fail(origin, message.clone());
                steps.push(step(StepOutcome::Error(message.clone()), detail.cloned()));
                return None;
            }
            DataFile::Loaded { doc, .. } => match doc.as_ref().and_then(|d| Some((d, d.root()?))) {
                Some(x) => x,
                None => {
                    steps.push(step(StepOutcome::NotFound, detail.cloned()));
                    return None;
                }
            },
        };
        let mut unknown = Vec::new();
        let mut problems = Vec::new();
        let node = level
            .option_node
            .as_deref()
            .map(|t| interp_config(self.facts, t, None, &mut unknown, &mut problems))
            .unwrap_or_default();
        for (label_k, section) in psych_entries(doc, root) {
            let entries = psych_entries(doc, section);
            let undef = |o: Origin| Some(Value::new(ValueKind::Null, o));
            let label_origin = Origin::at(rel, doc.node(label_k).start);
            if !matches!(
                doc.node(doc.resolve(section)).kind,
                crate::read::yaml::Kind::Map(_)
            ) {
                steps.push(step(
                    StepOutcome::Found(label_origin.clone()),
                    Some("label is not a hash: regex_data returns undef".into()),
                ));
                return undef(label_origin);
            }
            let Some(&(_, rx_node)) = entries.iter().find(|(k, _)| doc.str(*k) == Some("__regex"))
            else {
                steps.push(step(
                    StepOutcome::Found(label_origin.clone()),
                    Some("label has no __regex: regex_data returns undef".into()),
                ));
                return undef(label_origin);
            };
            let rx_origin = Origin::at(rel, doc.node(rx_node).start);
            let pattern = match &doc.node(doc.resolve(rx_node)).kind {
                crate::read::yaml::Kind::Scalar {
                    value,
                    tag: Some(t),
                    ..
                } if t == "!ruby/regexp" => ruby_regexp_source(value),
                _ => None,
            };
            let Some((pattern, flags)) = pattern else {
                // `String#match` would work on a plain string pattern; anything else fails.
                steps.push(step(
                    StepOutcome::Found(rx_origin.clone()),
                    Some("__regex is not a !ruby/regexp: regex_data returns undef".into()),
                ));
                return undef(rx_origin);
            };
            let compiled = if flags.is_empty() {
                self.regex(&pattern)
            } else {
                Err(format!("flags '{flags}' are not supported"))
            };
            let re = match compiled {
                Ok(r) => r,
                Err(e) => {
                    self.note(&rx_origin, format!("regex_data pattern /{pattern}/ cannot be evaluated here ({e}); label skipped"));
                    continue;
                }
            };
            if !re.is_match(&node) {
                continue;
            }
            let Some(&(k, v)) = entries.iter().find(|(k, _)| doc.str(*k) == Some(key)) else {
                continue;
            };
            let key_origin = Origin::at(rel, doc.node(k).start);
            let mut budget = Budget {
                nodes: self.budget.nodes,
                bytes: self.budget.bytes,
            };
            return match convert_entry(doc, k, v, rel, &mut budget) {
                Ok(value) => {
                    self.budget = budget;
                    steps.push(step(StepOutcome::Found(key_origin), detail.cloned()));
                    Some(value)
                }
                Err(m) => {
                    self.fail(&key_origin, format!("value of '{key}' cannot be used: {m}"));
                    steps.push(step(StepOutcome::Error(m), detail.cloned()));
                    None
                }
            };
        }
        steps.push(step(StepOutcome::NotFound, detail.cloned()));
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
            // wmflib::regex_data looks `lookup_options` up in the matching labels like any key;
            // labels that set it are not modelled.
            if *b == Builtin::RegexData {
                continue;
            }
            let locs = self.locations(i);
            for loc in locs.iter() {
                let Loc::File { rel, .. } = loc else { continue };
                let file = if *b == Builtin::ExpandPath {
                    if !h.location_exists(rel) {
                        continue;
                    }
                    format!("{rel}.yaml")
                } else {
                    rel.clone()
                };
                let Raw::Found { value, key_origin } =
                    self.raw_find(&file, "lookup_options", *b == Builtin::ExpandPath)
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
    pub(super) fn options_for(&mut self, root: &str) -> MergeSpec {
        let chosen = self.options_entry(root);
        let Some(m) = chosen.as_ref().and_then(|o| o.get("merge")) else {
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

    /// Whether `lookup_options` convert the root key's value to `Sensitive`
    /// (`convert_to: Sensitive` or `convert_to: [Sensitive, ...]`).
    pub(super) fn sensitive(&mut self, root: &str) -> bool {
        let Some(o) = self.options_entry(root) else {
            return false;
        };
        match o.get("convert_to").map(|c| &c.kind) {
            Some(ValueKind::String(t)) => t == "Sensitive",
            Some(ValueKind::Seq(items)) => {
                items.first().and_then(Value::as_str) == Some("Sensitive")
            }
            _ => false,
        }
    }

    /// The `lookup_options` entry for a root key: the exact key, else the first `^regex` key
    /// that matches.
    fn options_entry(&mut self, root: &str) -> Option<Value> {
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
        chosen.cloned()
    }

    // --- lookup

    /// Looks up `key` (dotted: digs into the merged root) with a merge; the value and the
    /// steps tried.
    pub(super) fn lookup_with(
        &mut self,
        key: &str,
        spec: &MergeSpec,
    ) -> (Option<Value>, Vec<Step>) {
        let segs = key_segments(key);
        let root = segs.first().cloned().unwrap_or_default();
        let sub = segs.get(1..).unwrap_or(&[]);
        let mut steps = Vec::new();
        if root == "lookup_options" {
            let lo = self.lookup_options_map();
            let v = Value::new(ValueKind::Map(lo.to_vec()), Origin::default());
            return (dig_owned(v, sub).unwrap_or(None), steps);
        }
        let h = self.h;
        let first = spec.strategy == Merge::First;
        let mut levels: Vec<LevelFound> = Vec::new();
        self.stack.push(root.clone());
        'levels: for (i, level) in h.levels.iter().enumerate() {
            levels.push(LevelFound {
                locations: 0,
                found: Vec::new(),
            });
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
                if let Some(l) = levels.last_mut() {
                    l.locations += 1;
                }
                let hit = match builtin {
                    Builtin::ExpandPath => {
                        self.find_expand(&level.name, rel, &root, detail, &mut steps)
                    }
                    Builtin::RegexData => self.find_regex(level, rel, &root, detail, &mut steps),
                    Builtin::YamlData | Builtin::EyamlLookupKey => {
                        self.find_in_file(&level.name, rel, &root, detail, &mut steps, false)
                    }
                };
                let Some(v) = hit else { continue };
                let v = self.interp(v, 0);
                if let Some(l) = levels.last_mut() {
                    l.found.push(v);
                }
                if first || self.error.is_some() {
                    break 'levels;
                }
            }
        }
        self.stack.pop();
        let merged = match merge_levels(levels, spec) {
            Ok(v) => v,
            Err((o, m)) => {
                self.fail(&o, m);
                None
            }
        };
        // Puppet digs into the merged value of the root key (`key.dig(merged)`).
        let value = match merged.map(|v| dig_owned(v, sub)) {
            Some(Ok(v)) => v,
            Some(Err(m)) => {
                let o = Origin::new(&h.config, 0, 0);
                self.fail(&o, format!("{key}: {m}"));
                None
            }
            None => None,
        };
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
}
