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
use super::merge::{merge_values, Merge, MergeSpec};
use super::rx;
use super::value::{convert_entry, dig_owned, key_segments, Budget, Origin, Value, ValueKind};
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
        }
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
    pub(super) fn options_for(&mut self, root: &str) -> MergeSpec {
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
                found.push(self.interp(v, 0));
                if first {
                    break 'levels;
                }
            }
        }
        self.stack.pop();
        let mut problems = Vec::new();
        let merged = merge_values(found, spec, locations, &mut problems);
        for (o, m) in problems {
            self.note(&o, m);
        }
        // Puppet digs into the merged value of the root key (`key.dig(merged)`).
        let value = merged.and_then(|v| dig_owned(v, sub));
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
