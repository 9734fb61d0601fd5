//! Puppet Hiera 5 lookups over a repository, with the origin (file, line, column) of every value
//! (part of the extract stage: Hiera data names the certificates a component trusts).
//!
//! In: a [`FileSource`] and the report-relative path of a `hiera.yaml` (version 5). Out: a
//! [`Lookup`] per key like `puppet lookup KEY --merge M --explain`: the value (every node keeps
//! the [`Origin`] of the YAML that set it), the hierarchy levels/files tried ([`Step`]) and
//! [`Note`]s about what could not be resolved or modelled, or the error where Puppet's lookup
//! fails. Files are parsed once and cached in
//! the [`Hiera`]; a lookup never panics and is bounded on hostile data.
//!
//! ## Semantics (Puppet 7, Hiera 5) and decisions
//!
//! * **Config**: `version: 5` only (anything else is a [`HieraError`]). `defaults` (`datadir`,
//!   `data_hash` / `lookup_key` / `data_dig`), `hierarchy` levels with `path`, `paths`, `glob`,
//!   `globs`, `mapped_paths: [fact, var, template]`, per-level `datadir`. No `hierarchy` = the
//!   Puppet default (`common.yaml` in `data`). Relative datadirs are relative to the directory
//!   of the config file; absolute ones (and absolute paths) go through
//!   [`HieraOptions::map_paths`] (longest prefix wins) and are otherwise skipped with a note.
//! * **What Puppet answers**: `tests/hiera_puppet.rs` runs real Puppet (Debian's `puppet`,
//!   Psych YAML) and this engine on the same hierarchies, facts and keys and compares the
//!   values as `puppet lookup --render-as json` prints them: Wikimedia's production and Cloud
//!   VPS hierarchies and a synthetic one with a case per difference family of issue 21.
//!   YAML is read as Psych reads it (`psych`: `1:30` is 5400, `1,000` is 1000, `1e5` a string;
//!   a date or time fails the file, a symbol the key; merge keys in Psych's order).
//! * **Backends**: `yaml_data`, `json_data` (read with the YAML reader) and `eyaml_lookup_key`
//!   (read as YAML; `ENC[...]` strings are kept verbatim: never decrypted, never interpolated).
//!   Other function names go through [`HieraOptions::functions`] (default:
//!   `wmflib::expand_path` → [`Builtin::ExpandPath`], `wmflib::regex_data` →
//!   [`Builtin::RegexData`]); unmapped functions, `hocon_data`, `hiera3_backend` and
//!   `uri`/`uris` levels (HTTP ENCs) are skipped with a note.
//! * **Level path interpolation**: `%{::x}`, `%{x}`, `%{facts.a.b}`, `%{trusted.x}`,
//!   `%{scope('x')}`, `%{literal('%')}`. An unknown variable interpolates to `''` as in Puppet;
//!   the step records it ([`Step::detail`]). `lookup()`/`alias()` are not allowed there (note).
//! * **`wmflib::expand_path`** (the real Ruby function): level path `P`, key `a::b::c` → file
//!   `P/a/b.yaml`; a key without `::` (or `lookup_options`) → `P.yaml`; only when `P` exists
//!   (a file or a directory: Puppet calls a `lookup_key` function only for an existing
//!   location). Only with [`HieraOptions::expand_path_scan`] (off by default: Puppet never
//!   does it) are `P.yaml` and every `*.yaml` under `P/` scanned for a key not in its file,
//!   with a note. **`wmflib::regex_data`**: the labels of the file in order, the first whose
//!   `__regex` matches the level's `options.node` and has the key.
//! * **Interpolation in data** (strings in values and map keys, recursively):
//!   `%{lookup('k')}` / `%{hiera('k')}` (string form: Ruby's `to_s`, `["a", 1]`,
//!   `{"k"=>"v"}`, `1.1`), `%{alias('k')}` (the value keeps its type), `%{literal('x')}`,
//!   `%{scope('x')}` and variables as above. A missing key or variable interpolates to `''`
//!   (Puppet: `lookup` with default `''`) with a note. As in Puppet, a recursive lookup, an
//!   `alias()` that is not the entire string and an unknown method fail the lookup
//!   ([`Lookup::error`]). More than 32 nested lookups, a string over 1 MiB or an exhausted
//!   per-lookup budget (1,000,000 nodes / 64 MiB produced) leave the `%{...}` text unresolved
//!   with a note. Sub-lookups use the key's `lookup_options` and are memoized within
//!   one top-level lookup. Dotted keys (`a.b.0`) dig into the merged value of the root key
//!   (with `first`, a root found without the sub-key is "not found", as in Puppet).
//!   Values are walked with a heap stack; Rust recursion only happens per nested lookup.
//! * **Merges** layer by layer as Puppet's `MergeStrategy#lookup` (a level's locations, the
//!   levels, Puppet's three providers; see `merge::merge_levels`), so a value found once is
//!   returned as is by `hash` and as `[value]` by `unique`, and the wrong types at two places
//!   are Puppet's type error. `first`; `unique` (arrays flattened, scalars as one-element
//!   arrays, duplicates removed, highest priority first); `hash` (top-level keys, higher
//!   priority wins, key order as Ruby's `lower.merge(higher)`); `deep` as Puppet's
//!   `DeepMerge.deep_merge!(higher, lower)`: hashes merge recursively, scalars take the higher
//!   value, a `~` at higher priority does not override, and **arrays are unioned with the lower
//!   priority elements first** (`lower | higher`, duplicates removed, not flattened) — that is
//!   what Puppet does with the default `merge_hash_arrays: false`. The `merge_hash_arrays`,
//!   `sort_merged_arrays` and `knockout_prefix` options are honoured when given in
//!   `lookup_options`. Each leaf keeps its own origin.
//! * **`lookup_options`**: read from every level (hash merge, first wins per key), matched on the
//!   root key: the exact key first, then keys starting with `^` as regular expressions (a small
//!   linear-time engine: literals, `.`, classes, `\d\w\s`, groups, `|`, `* + ? {m,n}`, anchors;
//!   other syntax is reported in a note and the pattern ignored). Used when `merge` is `None`.
//! * **Origins**: a scalar points at the scalar; a map or list that is the value of a key points
//!   at the key (the line that "sets" it); values merged in with `<<:` point at the anchored
//!   map. An alias keeps the position of the `*alias` for scalars. (Key order and overrides
//!   with `<<:` are Psych's: merged keys where the `<<` is, the later of `<<` and `k:` wins.)
//! * **Errors**: where Puppet's lookup fails, [`Lookup::error`] says why and there is no
//!   value: a data file on the way that cannot be read or parsed (never a quiet fall-through
//!   to lower levels), a merge of the wrong types, a sub-key into a non-hash, the
//!   interpolations above.
//! * **Notes**: load-time problems (levels skipped whatever the facts) are in
//!   [`Hiera::notes`] once; each lookup's [`Lookup::notes`] has what happened in that lookup
//!   (interpolation, loops, caps, bad data files, skips that depend on facts); skipped levels
//!   also show in [`Lookup::explain`].
//!
//! ## Files
//!
//! One concern each: `value` (the [`Value`] with its
//! [`Origin`], read from YAML by [`from_yaml`]; shared with the rest of certdrift),
//! `config` (`hiera.yaml` into levels: [`Hiera::load`]), `data` (data files, read and indexed
//! once), `facts` ([`Facts`]), `lookup` (levels, files, `lookup_options` and the result types:
//! [`Hiera::lookup`]), `interpolate` (`%{...}` in paths and data), `merge` ([`Merge`] and
//! [`MergeSpec`]), `psych` (Ruby's YAML scalars and number printing) and `rx` (the regular
//! expressions of `lookup_options` keys and `regex_data`, and why they are not the `regex`
//! crate's). The rendering of a [`Lookup`] is `crate::report::lookup`.

mod config;
mod data;
mod facts;
mod interpolate;
mod lookup;
mod merge;
mod psych;
mod rx;
#[cfg(test)]
mod tests;
mod value;

pub use facts::Facts;
pub use lookup::{Lookup, Step, StepOutcome};
pub use merge::{Merge, MergeSpec};
pub(crate) use value::plain_bool;
pub use value::{
    from_yaml, Origin, Value, ValueKind, MAX_STRING_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH,
    MAX_VALUE_NODES,
};

use crate::read::source::FileSource;
use config::Level;
use data::DataFile;
use lookup::Ctx;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use value::key_segments;

/// A built-in behaviour that a `data_hash` / `lookup_key` function can be mapped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// Read the file as YAML (`yaml_data`, `json_data`).
    YamlData,
    /// Read the file as YAML; `ENC[...]` strings stay opaque (`eyaml_lookup_key`).
    EyamlLookupKey,
    /// Wikimedia's `wmflib::expand_path`: `a::b::c` is looked up in `<path>/a/b.yaml`.
    ExpandPath,
    /// Wikimedia's `wmflib::regex_data`: the file maps labels to hashes whose `__regex`
    /// (`!ruby/regexp /.../`) is matched against the level's `options.node`; the first
    /// matching label that has the key gives the value.
    RegexData,
}

/// How to read a hierarchy that points outside the repository or at custom functions.
#[derive(Clone, Debug)]
pub struct HieraOptions {
    /// (absolute host path prefix, report-relative repository path), e.g.
    /// `("/etc/puppet/hieradata", "operations-puppet/hieradata")`.
    pub map_paths: Vec<(String, String)>,
    /// Custom `lookup_key` / `data_hash` function names mapped to a built-in behaviour; the
    /// default maps `wmflib::expand_path` to [`Builtin::ExpandPath`] and `wmflib::regex_data`
    /// to [`Builtin::RegexData`].
    pub functions: Vec<(String, Builtin)>,
    /// [`Builtin::ExpandPath`]: when the key is not in the file the function reads, scan
    /// `<path>.yaml` and `<path>/**.yaml` (with a note: Puppet would not see the value).
    /// Default false, as Puppet.
    pub expand_path_scan: bool,
}

impl Default for HieraOptions {
    fn default() -> HieraOptions {
        HieraOptions {
            map_paths: Vec::new(),
            functions: vec![
                ("wmflib::expand_path".to_string(), Builtin::ExpandPath),
                ("wmflib::regex_data".to_string(), Builtin::RegexData),
            ],
            expand_path_scan: false,
        }
    }
}

/// Something the lookup could not resolve or model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Note {
    /// Where.
    pub origin: Origin,
    /// What.
    pub message: String,
}

/// An unreadable or invalid Hiera config.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct HieraError {
    /// Report-relative path of the file.
    pub path: String,
    /// Line, from 1 (0 if unknown).
    pub line: u32,
    /// Column, from 1 (0 if unknown).
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

/// A loaded Hiera 5 configuration over a file source, with a cache of parsed data files.
pub struct Hiera {
    files: Arc<dyn FileSource>,
    config: String,
    config_dir: String,
    levels: Vec<Level>,
    /// (normalized absolute prefix without leading `/`, repository path), longest first.
    map_paths: Vec<(String, String)>,
    expand_path_scan: bool,
    notes: Vec<Note>,
    cache: Mutex<HashMap<String, Arc<DataFile>>>,
    lists: Mutex<HashMap<String, Arc<Vec<String>>>>,
    /// Whether a level location exists (file or directory), by path.
    locations: Mutex<HashMap<String, bool>>,
}

impl fmt::Debug for Hiera {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hiera")
            .field("config", &self.config)
            .field(
                "levels",
                &self.levels.iter().map(|l| &l.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Lexically normalizes a relative path (`.`, `..`, empty components); `None` if it climbs
/// above its start.
fn normalize_rel(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

fn join_rel(base: &str, p: &str) -> Option<String> {
    if base.is_empty() {
        normalize_rel(p)
    } else {
        normalize_rel(&format!("{base}/{p}"))
    }
}

fn parent_dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => p[..i].to_string(),
        None => String::new(),
    }
}

impl Hiera {
    /// Notes from loading the config (skipped levels, ignored keys).
    #[must_use]
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// Looks up `key` like `puppet lookup KEY --merge M --explain`. `merge: None` uses the
    /// key's `lookup_options` (exact key, then `^regex` keys), default `first`.
    #[must_use]
    pub fn lookup(&self, key: &str, facts: &Facts, merge: Option<Merge>) -> Lookup {
        self.lookup_spec(key, facts, merge.map(MergeSpec::from))
    }

    /// [`Hiera::lookup`] with deep-merge options.
    #[must_use]
    pub fn lookup_spec(&self, key: &str, facts: &Facts, merge: Option<MergeSpec>) -> Lookup {
        let mut ctx = Ctx::new(self, facts);
        let root = key_segments(key).into_iter().next().unwrap_or_default();
        let spec = match merge {
            Some(s) => s,
            None => ctx.options_for(&root),
        };
        let sensitive = ctx.sensitive(&root);
        let (value, explain) = ctx.lookup_with(key, &spec);
        let error = ctx.error.take();
        Lookup {
            value: if error.is_some() { None } else { value },
            explain,
            notes: ctx.finish(),
            merge: spec.strategy,
            error,
            sensitive,
        }
    }
}
