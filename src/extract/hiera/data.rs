//! Hiera data files, each read, parsed and indexed by top-level key once per [`Hiera`]
//! (lookups share them across threads), and directory listings for globs and
//! `wmflib::expand_path` scans.
//!
//! In: a report-relative path. Out: a [`DataFile`]: missing, unusable (with why and where),
//! or the parsed document with its keys.

use super::value::{psych_entries, refused_scalar, Origin};
use super::Hiera;
use crate::read::yaml::{self, Kind, NodeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// One data file as read.
pub(super) enum DataFile {
    /// Not there (or the path is empty).
    Missing,
    /// Unreadable, not UTF-8 or not YAML.
    Bad { origin: Origin, message: String },
    /// Parsed; `keys` maps each top-level key to its (key, value) nodes.
    Loaded {
        doc: Option<yaml::Document>,
        keys: HashMap<String, (NodeId, NodeId)>,
        warning: Option<String>,
        /// A `!ruby/regexp` in the file: only `wmflib::regex_data` loads such a file; for
        /// `yaml_data` and `expand_path` it cannot be loaded (Puppet's safe loading).
        regexp_at: Option<Origin>,
        /// A Ruby symbol (`:a`) in the file: `yaml_data` loads it (only the key holding it
        /// fails), `wmflib::expand_path` loads without symbols and fails the file.
        symbol_at: Option<Origin>,
    },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The text of a file: UTF-8, a leading byte-order mark dropped.
pub(super) fn decode_text(bytes: Vec<u8>) -> Result<String, String> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

impl Hiera {
    /// The data file at `rel`, from the cache or read now.
    pub(super) fn data_file(&self, rel: &str) -> Arc<DataFile> {
        if let Some(f) = lock(&self.cache).get(rel) {
            return f.clone();
        }
        let f = Arc::new(self.load_data_file(rel));
        lock(&self.cache)
            .entry(rel.to_string())
            .or_insert(f)
            .clone()
    }

    fn load_data_file(&self, rel: &str) -> DataFile {
        if rel.is_empty() || !self.files.is_file(rel) {
            return DataFile::Missing;
        }
        let bad = |line: u32, column: u32, message: String| DataFile::Bad {
            origin: Origin::new(rel, line, column),
            message,
        };
        let bytes = match self.files.read(rel) {
            Ok(b) => b,
            Err(e) => return bad(0, 0, format!("cannot read data file: {e}")),
        };
        let text = match decode_text(bytes) {
            Ok(t) => t,
            Err(m) => return bad(1, 1, format!("data file is {m}")),
        };
        let stream = yaml::parse(&text, &yaml::Limits::default());
        if let Some(e) = stream.error {
            return bad(
                e.mark.line,
                e.mark.col,
                format!("invalid YAML in data file: {}", e.message),
            );
        }
        let mut keys = HashMap::new();
        let mut warning = None;
        let doc = stream.docs.into_iter().next();
        // Puppet loads data with Psych's safe_load: a date or a time is a Ruby object it
        // refuses, and the whole file fails to load.
        let mut regexp_at = None;
        let mut symbol_at = None;
        if let Some(d) = &doc {
            for n in d.nodes() {
                // `!!set` (Psych::Set) and `!ruby/...` objects other than a regexp are Ruby
                // classes Puppet's safe loading refuses: the file fails to load.
                let tag = match &n.kind {
                    Kind::Scalar { tag, .. } => tag.as_deref(),
                    _ => n.tag.as_deref(),
                };
                if let Some(t) = tag
                    .filter(|t| *t == "!!set" || (t.starts_with("!ruby/") && *t != "!ruby/regexp"))
                {
                    return bad(
                        n.start.line,
                        n.start.col,
                        format!("data file cannot be loaded: Puppet's YAML loading refuses the tag {t} (a Ruby object)"),
                    );
                }
                if let Kind::Scalar { tag: Some(t), .. } = &n.kind {
                    if t == "!ruby/regexp" && regexp_at.is_none() {
                        regexp_at = Some(Origin::new(rel, n.start.line, n.start.col));
                    }
                }
                if let Kind::Scalar { value, style, tag } = &n.kind {
                    // A symbol is allowed by yaml_data's loading; the value that holds one
                    // is refused when it is looked up (see `convert_entry`).
                    let refused = refused_scalar(value, *style, tag.as_deref());
                    if refused == Some("Symbol") && symbol_at.is_none() {
                        symbol_at = Some(Origin::new(rel, n.start.line, n.start.col));
                    }
                    if let Some(class) = refused.filter(|c| *c != "Symbol") {
                        return bad(
                            n.start.line,
                            n.start.col,
                            format!(
                                "data file cannot be loaded: Puppet's YAML loading refuses '{value}' (a Ruby {class})"
                            ),
                        );
                    }
                }
            }
        }
        if let Some(d) = &doc {
            if let Some(root) = d.root() {
                if matches!(d.node(d.resolve(root)).kind, Kind::Map(_)) {
                    for (k, v) in psych_entries(d, root) {
                        if let Some(s) = d.str(k) {
                            keys.insert(s.to_string(), (k, v));
                        }
                    }
                } else if !d.is_null(root) {
                    warning = Some("data file does not contain a YAML hash; ignored".to_string());
                }
            }
        }
        DataFile::Loaded {
            doc,
            keys,
            warning,
            regexp_at,
            symbol_at,
        }
    }

    /// Whether a level location exists as a file or a directory (with files in it).
    pub(super) fn location_exists(&self, rel: &str) -> bool {
        if let Some(&e) = lock(&self.locations).get(rel) {
            return e;
        }
        let e = !rel.is_empty() && (self.files.is_file(rel) || !self.list(rel).is_empty());
        lock(&self.locations).insert(rel.to_string(), e);
        e
    }

    /// The files under `dir`, from the cache or listed now.
    pub(super) fn list(&self, dir: &str) -> Arc<Vec<String>> {
        if let Some(l) = lock(&self.lists).get(dir) {
            return l.clone();
        }
        let l = Arc::new(self.files.list(dir));
        lock(&self.lists)
            .entry(dir.to_string())
            .or_insert(l)
            .clone()
    }
}
