//! The Hiera 5 config (`hiera.yaml`): its `defaults` and `hierarchy` read into levels.
//!
//! In: the report-relative path of a `hiera.yaml` in a file source and the [`HieraOptions`].
//! Out: a [`Hiera`] with one [`Level`] per hierarchy entry (backend, datadir, locations,
//! whether it is skipped whatever the facts) and the load-time notes, or a [`HieraError`]
//! for an unreadable or invalid config. Absolute paths are mapped into the repository here
//! ([`Hiera::map_abs`]).

use super::data::decode_text;
use super::value::{from_yaml, Origin, Value, ValueKind};
use super::{join_rel, normalize_rel, parent_dir, Builtin, Hiera, HieraError, HieraOptions, Note};
use crate::read::source::FileSource;
use crate::read::yaml;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where a level's data comes from.
#[derive(Clone, Debug)]
pub(super) enum Backend {
    Data(Builtin),
    Skip(String),
}

/// The data files a level names, before interpolation.
#[derive(Clone, Debug)]
pub(super) enum Locs {
    Paths(Vec<String>),
    Globs(Vec<String>),
    Mapped {
        fact: String,
        var: String,
        template: String,
    },
    None,
}

/// One hierarchy level.
#[derive(Clone, Debug)]
pub(super) struct Level {
    pub(super) name: String,
    pub(super) origin: Origin,
    pub(super) backend: Backend,
    pub(super) datadir: String,
    pub(super) locs: Locs,
    /// Skipped whatever the facts (datadir outside the repository).
    pub(super) static_skip: Option<String>,
    /// `options.node` (for `wmflib::regex_data`), not yet interpolated.
    pub(super) option_node: Option<String>,
}

/// The keys a hierarchy level may have (others are ignored with a note).
const LEVEL_KEYS: [&str; 14] = [
    "name",
    "datadir",
    "data_hash",
    "lookup_key",
    "data_dig",
    "hiera3_backend",
    "path",
    "paths",
    "glob",
    "globs",
    "mapped_paths",
    "uri",
    "uris",
    "options",
];
/// The keys that name a level's backend function.
const FUNCTION_KEYS: [&str; 4] = ["data_hash", "lookup_key", "data_dig", "hiera3_backend"];
/// The keys that name a level's data locations (one is allowed).
const LOCATION_KEYS: [&str; 7] = [
    "path",
    "paths",
    "glob",
    "globs",
    "mapped_paths",
    "uri",
    "uris",
];

fn config_err(o: &Origin, message: String) -> HieraError {
    HieraError {
        path: o.path.clone(),
        line: o.line,
        column: o.column,
        message,
    }
}

fn config_str<'v>(v: &'v Value, what: &str) -> Result<&'v str, HieraError> {
    match &v.kind {
        ValueKind::String(s) => Ok(s),
        _ => Err(config_err(
            &v.origin,
            format!("{what} must be a string, not a {}", v.type_name()),
        )),
    }
}

fn config_strings(v: &Value, what: &str) -> Result<Vec<String>, HieraError> {
    match &v.kind {
        ValueKind::Seq(items) => items
            .iter()
            .map(|i| config_str(i, what).map(str::to_string))
            .collect(),
        _ => Err(config_err(
            &v.origin,
            format!("{what} must be a list of strings, not a {}", v.type_name()),
        )),
    }
}

/// (function key, function name) of a level or of `defaults`.
fn function_of(v: &Value) -> Result<Option<(&'static str, String)>, HieraError> {
    for k in FUNCTION_KEYS {
        if let Some(f) = v.get(k) {
            return Ok(Some((k, config_str(f, k)?.to_string())));
        }
    }
    Ok(None)
}

fn resolve_backend(kind: &str, name: &str, opts: &HieraOptions) -> Backend {
    if kind == "hiera3_backend" {
        return Backend::Skip(format!("hiera3_backend '{name}' is not supported"));
    }
    if let Some((_, b)) = opts.functions.iter().find(|(n, _)| n == name) {
        return Backend::Data(*b);
    }
    match name {
        "yaml_data" | "json_data" => Backend::Data(Builtin::YamlData),
        "eyaml_lookup_key" => Backend::Data(Builtin::EyamlLookupKey),
        "hocon_data" => Backend::Skip("hocon_data is not supported".to_string()),
        _ => Backend::Skip(format!(
            "{kind} function '{name}' is not supported (map it to a built-in: yaml_data, eyaml_lookup_key, expand_path or regex_data)"
        )),
    }
}

impl Hiera {
    /// Loads `config` (report-relative path of a `hiera.yaml` inside `files`). Relative
    /// datadirs are relative to the config file's directory; absolute ones go through
    /// `opts.map_paths`, else the level is skipped with a note ([`Hiera::notes`]). Errors only
    /// for an unreadable or invalid config.
    pub fn load(
        files: Arc<dyn FileSource>,
        config: &str,
        opts: HieraOptions,
    ) -> Result<Hiera, HieraError> {
        let config = normalize_rel(config).unwrap_or_else(|| config.to_string());
        let at = |line: u32, column: u32, message: String| HieraError {
            path: config.clone(),
            line,
            column,
            message,
        };
        let bytes = files
            .read(&config)
            .map_err(|e| at(0, 0, format!("cannot read the Hiera config: {e}")))?;
        let text = decode_text(bytes).map_err(|m| at(1, 1, m))?;
        let stream = yaml::parse(&text, &yaml::Limits::default());
        if let Some(e) = &stream.error {
            return Err(at(
                e.mark.line,
                e.mark.col,
                format!("invalid YAML: {}", e.message),
            ));
        }
        let Some((doc, root)) = stream.docs.first().and_then(|d| d.root().map(|r| (d, r))) else {
            return Err(at(1, 1, "empty Hiera config".to_string()));
        };
        let cfg = from_yaml(doc, root, &config).map_err(|m| at(1, 1, m))?;
        if cfg.as_map().is_none() {
            return Err(config_err(
                &cfg.origin,
                "a Hiera config must be a mapping".to_string(),
            ));
        }
        match cfg.get("version") {
            None => {
                return Err(config_err(
                    &cfg.origin,
                    "no 'version': only Hiera 5 configs are supported".to_string(),
                ))
            }
            Some(v) => {
                let s = match &v.kind {
                    ValueKind::Number(n) | ValueKind::String(n) => n.trim(),
                    _ => "",
                };
                if s != "5" {
                    return Err(config_err(
                        &v.origin,
                        format!("Hiera config version '{s}' is not supported (only version 5)"),
                    ));
                }
            }
        }
        let mut map_paths: Vec<(String, String)> = opts
            .map_paths
            .iter()
            .filter_map(|(abs, rel)| Some((normalize_rel(abs)?, normalize_rel(rel)?)))
            .collect();
        map_paths.sort_by_key(|(abs, _)| std::cmp::Reverse(abs.len()));
        let mut h = Hiera {
            files,
            config_dir: parent_dir(&config),
            config: config.clone(),
            levels: Vec::new(),
            map_paths,
            expand_path_scan: opts.expand_path_scan,
            notes: Vec::new(),
            cache: Mutex::new(HashMap::new()),
            lists: Mutex::new(HashMap::new()),
            locations: Mutex::new(HashMap::new()),
        };
        for (k, v) in cfg.as_map().unwrap_or(&[]) {
            if !matches!(k.as_str(), "version" | "defaults" | "hierarchy") {
                h.notes.push(Note {
                    origin: v.origin.clone(),
                    message: format!("'{k}' in the Hiera config is ignored"),
                });
            }
        }
        let mut def_datadir = "data".to_string();
        let mut def_fn = None;
        if let Some(d) = cfg.get("defaults").filter(|d| !d.is_null()) {
            if d.as_map().is_none() {
                return Err(config_err(
                    &d.origin,
                    "'defaults' must be a mapping".to_string(),
                ));
            }
            if let Some(dd) = d.get("datadir") {
                def_datadir = config_str(dd, "datadir")?.to_string();
            }
            def_fn = function_of(d)?;
        }
        let default_level;
        let items: &[Value] = match cfg.get("hierarchy") {
            None => {
                default_level = [Value::new(
                    ValueKind::Map(vec![
                        ("name".to_string(), Value::string("Common")),
                        ("path".to_string(), Value::string("common.yaml")),
                    ]),
                    cfg.origin.clone(),
                )];
                &default_level
            }
            Some(Value {
                kind: ValueKind::Seq(items),
                ..
            }) => items,
            Some(v) => {
                return Err(config_err(
                    &v.origin,
                    "'hierarchy' must be a list".to_string(),
                ));
            }
        };
        for item in items {
            let level = h.parse_level(item, &def_datadir, def_fn.as_ref(), &opts)?;
            h.levels.push(level);
        }
        Ok(h)
    }

    fn parse_level(
        &mut self,
        v: &Value,
        def_datadir: &str,
        def_fn: Option<&(&'static str, String)>,
        opts: &HieraOptions,
    ) -> Result<Level, HieraError> {
        let Some(entries) = v.as_map() else {
            return Err(config_err(
                &v.origin,
                "a hierarchy level must be a mapping".to_string(),
            ));
        };
        let name = match v.get("name") {
            Some(n) => config_str(n, "name")?.to_string(),
            None => {
                return Err(config_err(
                    &v.origin,
                    "a hierarchy level needs a 'name'".to_string(),
                ));
            }
        };
        for (k, val) in entries {
            if !LEVEL_KEYS.contains(&k.as_str()) {
                self.notes.push(Note {
                    origin: val.origin.clone(),
                    message: format!("hierarchy level '{name}': '{k}' is ignored"),
                });
            }
        }
        let mut backend = match function_of(v)?.or_else(|| def_fn.cloned()) {
            None => Backend::Data(Builtin::YamlData),
            Some((kind, fname)) => resolve_backend(kind, &fname, opts),
        };
        let datadir = match v.get("datadir") {
            Some(d) => config_str(d, "datadir")?.to_string(),
            None => def_datadir.to_string(),
        };
        let present: Vec<&str> = LOCATION_KEYS
            .iter()
            .copied()
            .filter(|k| v.get(k).is_some())
            .collect();
        if present.len() > 1 {
            self.notes.push(Note {
                origin: v.origin.clone(),
                message: format!(
                    "hierarchy level '{name}' has {} (only one is allowed); using '{}'",
                    present.join(", "),
                    present.first().copied().unwrap_or_default()
                ),
            });
        }
        let mut locs = Locs::None;
        match present.first().copied() {
            Some(k @ ("path" | "glob")) => {
                let s = v
                    .get(k)
                    .map(|p| config_str(p, k))
                    .transpose()?
                    .unwrap_or("")
                    .to_string();
                locs = if k == "path" {
                    Locs::Paths(vec![s])
                } else {
                    Locs::Globs(vec![s])
                };
            }
            Some(k @ ("paths" | "globs")) => {
                let list = match v.get(k) {
                    Some(p) => config_strings(p, k)?,
                    None => Vec::new(),
                };
                locs = if k == "paths" {
                    Locs::Paths(list)
                } else {
                    Locs::Globs(list)
                };
            }
            Some("mapped_paths") => {
                let mp = v.get("mapped_paths").cloned().unwrap_or_default();
                let list = config_strings(&mp, "mapped_paths")?;
                let [fact, var, template] = list.as_slice() else {
                    return Err(config_err(
                        &mp.origin,
                        "mapped_paths must be [fact, variable, path template]".to_string(),
                    ));
                };
                locs = Locs::Mapped {
                    fact: fact.clone(),
                    var: var.clone(),
                    template: template.clone(),
                };
            }
            Some(k @ ("uri" | "uris")) => {
                let shown = v.get(k).map(|u| match &u.kind {
                    ValueKind::String(s) => s.clone(),
                    _ => u.to_interpolated(),
                });
                backend = Backend::Skip(format!(
                    "reads URIs ({}), e.g. an HTTP ENC: not available offline",
                    shown.unwrap_or_default()
                ));
            }
            _ => {
                if matches!(backend, Backend::Data(_)) {
                    backend =
                        Backend::Skip("no path, paths, glob, globs or mapped_paths".to_string());
                }
            }
        }
        let mut static_skip = None;
        if matches!(backend, Backend::Data(_))
            && !datadir.contains("%{")
            && datadir.starts_with('/')
            && self.map_abs(&datadir).is_none()
        {
            static_skip = Some(format!(
                "datadir {datadir} is not in the repository (no map-path for it)"
            ));
        }
        if let Some(reason) = static_skip.as_ref().or(match &backend {
            Backend::Skip(r) => Some(r),
            Backend::Data(_) => None,
        }) {
            self.notes.push(Note {
                origin: v.origin.clone(),
                message: format!("hierarchy level '{name}' skipped: {reason}"),
            });
        }
        let option_node = v
            .get("options")
            .and_then(|o| o.get("node"))
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(Level {
            option_node,
            name,
            origin: v.origin.clone(),
            backend,
            datadir,
            locs,
            static_skip,
        })
    }

    /// Maps an absolute host path into the repository.
    pub(super) fn map_abs(&self, abs: &str) -> Option<String> {
        let norm = normalize_rel(abs)?;
        for (prefix, rel) in &self.map_paths {
            if norm == *prefix {
                return Some(rel.clone());
            }
            let rest = if prefix.is_empty() {
                Some(norm.as_str())
            } else {
                norm.strip_prefix(prefix.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            if let Some(rest) = rest {
                return join_rel(rel, rest);
            }
        }
        None
    }
}
