//! Typed access to a [`Document`] and queries over it: aliases resolved, merge keys applied,
//! duplicate keys, and every scalar with its key path.

use std::collections::{HashMap, HashSet};

use super::{resolve_plain, Document, Kind, Mark, Node, NodeId, PathSeg, Scalar11, Style};

/// Bound on nested merge keys (`<<`) followed by [`Document::entries`] and [`Document::get`].
const MAX_MERGE_DEPTH: usize = 64;
/// Bound on alias hops in [`Document::resolve`] (aliases never point at aliases when built by
/// [`parse`](super::parse), so one hop is enough; this only guards hand-built documents).
const MAX_ALIAS_HOPS: usize = 16;
/// Longest key copied into a [`PathSeg`] when the key is an alias.
const MAX_ALIAS_KEY_BYTES: usize = 256;

/// Returned by [`Document::node`] for an id that is not in the document (never panics).
static MISSING_NODE: Node = Node {
    kind: Kind::Scalar {
        value: String::new(),
        style: Style::Plain,
        tag: None,
    },
    start: Mark::START,
    end: Mark::START,
    anchor: None,
    tag: None,
};

impl Document {
    /// The root node; `None` for an empty document.
    #[must_use]
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// The node with this id. An id from another document that is out of range yields an empty
    /// plain scalar rather than a panic.
    #[must_use]
    pub fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id.idx()).unwrap_or(&MISSING_NODE)
    }

    /// All nodes, indexed by `NodeId.0`, in document order (a collection precedes its content).
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes in the document.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True for an empty document.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Follows aliases to the anchored node.
    #[must_use]
    pub fn resolve(&self, id: NodeId) -> NodeId {
        let mut cur = id;
        for _ in 0..MAX_ALIAS_HOPS {
            match self.node(cur).kind {
                Kind::Alias(target) => cur = target,
                _ => return cur,
            }
        }
        cur
    }

    /// Scalar value after resolving aliases.
    #[must_use]
    pub fn str(&self, id: NodeId) -> Option<&str> {
        match &self.node(self.resolve(id)).kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Sequence items after resolving aliases; empty if not a sequence.
    #[must_use]
    pub fn seq(&self, id: NodeId) -> &[NodeId] {
        match &self.node(self.resolve(id)).kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    /// Raw entries of a mapping after resolving aliases (no merge keys applied); empty if not a
    /// mapping.
    #[must_use]
    pub fn raw_entries(&self, id: NodeId) -> &[(NodeId, NodeId)] {
        match &self.node(self.resolve(id)).kind {
            Kind::Map(entries) => entries,
            _ => &[],
        }
    }

    /// True if `key` is a merge key: a plain `<<` (untagged or tagged `!!merge`).
    #[must_use]
    pub fn is_merge_key(&self, key: NodeId) -> bool {
        matches!(
            &self.node(key).kind,
            Kind::Scalar { value, style: Style::Plain, tag }
                if value == "<<" && tag.as_deref().is_none_or(|t| t == "!!merge")
        )
    }

    /// The string form of a key for lookups: the scalar value after resolve, `None` if the key
    /// is a collection.
    fn key_str(&self, key: NodeId) -> Option<&str> {
        self.str(key)
    }

    /// Path segment for a mapping key. A key that is an alias is cut to `MAX_ALIAS_KEY_BYTES`
    /// (one long anchored scalar used as the key of many entries would otherwise be copied once
    /// per entry); direct keys are copied whole, which is linear in the input.
    fn path_key(&self, key: NodeId) -> PathSeg {
        let Some(s) = self.key_str(key) else {
            return PathSeg::Key("?".to_string());
        };
        if matches!(self.node(key).kind, Kind::Alias(_)) && s.len() > MAX_ALIAS_KEY_BYTES {
            let mut cut = MAX_ALIAS_KEY_BYTES;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            return PathSeg::Key(format!("{}…", &s[..cut]));
        }
        PathSeg::Key(s.to_string())
    }

    /// Pushes the maps named by a merge value (`*a`, `[*a, *b]` or an inline map) onto the
    /// traversal stack so that the first one listed is popped first.
    fn push_merge_sources(&self, value: NodeId, depth: usize, out: &mut Vec<(NodeId, usize)>) {
        let value = self.resolve(value);
        match &self.node(value).kind {
            Kind::Map(_) => out.push((value, depth)),
            Kind::Seq(items) => {
                for &item in items.iter().rev() {
                    let item = self.resolve(item);
                    if matches!(self.node(item).kind, Kind::Map(_)) {
                        out.push((item, depth));
                    }
                }
            }
            _ => {}
        }
    }

    /// Visits `map` and the maps merged into it in precedence order (the map itself, then each
    /// merge source depth-first in list order), each at most once, nested at most
    /// `MAX_MERGE_DEPTH` levels. `f` gets the map's raw entries and whether to stop.
    fn for_each_merged_map(&self, map: NodeId, mut f: impl FnMut(&[(NodeId, NodeId)]) -> bool) {
        let map = self.resolve(map);
        let Kind::Map(entries) = &self.node(map).kind else {
            return;
        };
        if !entries.iter().any(|&(k, _)| self.is_merge_key(k)) {
            // The common case needs no visited set (this runs for every `get`).
            f(entries);
            return;
        }
        let mut visited: HashSet<NodeId> = HashSet::new();
        let mut todo: Vec<(NodeId, usize)> = vec![(map, 0)];
        let mut sources: Vec<(NodeId, usize)> = Vec::new();
        while let Some((m, depth)) = todo.pop() {
            if !visited.insert(m) {
                continue;
            }
            let Kind::Map(entries) = &self.node(m).kind else {
                continue;
            };
            if f(entries) {
                return;
            }
            if depth >= MAX_MERGE_DEPTH {
                continue;
            }
            sources.clear();
            // Several `<<` entries: the earlier entry's maps take precedence.
            for &(k, v) in entries.iter().rev() {
                if self.is_merge_key(k) {
                    self.push_merge_sources(v, depth + 1, &mut sources);
                }
            }
            todo.extend_from_slice(&sources);
        }
    }

    /// Effective entries of a mapping after resolve, with YAML merge keys (`<<: *a` and
    /// `<<: [*a, *b]`) applied: explicit keys win over merged ones; among merged maps the earlier
    /// one in the list wins; merges nest. Order: explicit keys in source order, then merged-in
    /// keys. A key repeated within one map keeps the position of its first occurrence and the
    /// key/value nodes of its last one (last wins). Non-scalar keys are never deduplicated.
    /// Empty if not a mapping.
    #[must_use]
    pub fn entries(&self, id: NodeId) -> Vec<(NodeId, NodeId)> {
        let mut out: Vec<(NodeId, NodeId)> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        self.for_each_merged_map(id, |entries| {
            let base = out.len();
            for &(k, v) in entries {
                if self.is_merge_key(k) {
                    continue;
                }
                match self.key_str(k) {
                    Some(s) => match seen.get(s) {
                        Some(&i) if i >= base => out[i] = (k, v),
                        Some(_) => {}
                        None => {
                            seen.insert(s, out.len());
                            out.push((k, v));
                        }
                    },
                    None => out.push((k, v)),
                }
            }
            false
        });
        out
    }

    /// Keys that repeat an earlier key of the same mapping, as (first, repeated) key nodes in
    /// document order: one pair per repetition. Keys compare by their scalar value (aliases
    /// resolved, so `a` and `"a"` are the same key, as they are in JSON); collection keys and
    /// `<<` merge keys are never duplicates. [`Document::get`] and [`Document::entries`] take
    /// the last one's value. Linear in the document.
    #[must_use]
    pub fn duplicate_keys(&self) -> Vec<(NodeId, NodeId)> {
        self.duplicate_entries()
            .into_iter()
            .map(|(first, again)| (first.0, again.0))
            .collect()
    }

    /// [`Document::duplicate_keys`] with their values: `((key, value),
    /// (key, value))`, the first entry and the repeat.
    pub fn duplicate_entries(&self) -> Vec<((NodeId, NodeId), (NodeId, NodeId))> {
        let mut out = Vec::new();
        let mut seen: HashMap<&str, (NodeId, NodeId)> = HashMap::new();
        for node in &self.nodes {
            let Kind::Map(entries) = &node.kind else {
                continue;
            };
            let key = |k: NodeId| (!self.is_merge_key(k)).then(|| self.key_str(k)).flatten();
            if entries.len() <= 8 {
                // Small maps (nearly all): compare pairwise, no allocation.
                for (i, &(k, v)) in entries.iter().enumerate() {
                    let Some(s) = key(k) else { continue };
                    let first = entries[..i].iter().find(|&&(f, _)| key(f) == Some(s));
                    if let Some(&first) = first {
                        out.push((first, (k, v)));
                    }
                }
            } else {
                seen.clear();
                for &(k, v) in entries {
                    let Some(s) = key(k) else { continue };
                    match seen.get(s) {
                        Some(&first) => out.push((first, (k, v))),
                        None => {
                            seen.insert(s, (k, v));
                        }
                    }
                }
            }
        }
        out
    }

    /// Value for a string key over [`Document::entries`] (merge keys applied).
    #[must_use]
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        let mut found = None;
        self.for_each_merged_map(map, |entries| {
            found = entries
                .iter()
                .rev()
                .find(|&&(k, _)| !self.is_merge_key(k) && self.key_str(k) == Some(key))
                .map(|&(_, v)| v);
            found.is_some()
        });
        found
    }

    /// Follows `path` through mappings with [`Document::get`].
    #[must_use]
    pub fn get_path(&self, node: NodeId, path: &[&str]) -> Option<NodeId> {
        path.iter().try_fold(node, |cur, key| self.get(cur, key))
    }

    /// Plain `~`, `null`, `Null`, `NULL` or empty plain scalar (after resolve), or anything
    /// tagged `!!null`.
    #[must_use]
    pub fn is_null(&self, id: NodeId) -> bool {
        match &self.node(self.resolve(id)).kind {
            Kind::Scalar { tag: Some(t), .. } if t == "!!null" => true,
            Kind::Scalar {
                value,
                style: Style::Plain,
                tag: None,
            } => matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"),
            _ => false,
        }
    }

    /// The boolean a YAML 1.1 reader sees: a plain `yes`/`on`/`true`/`y`..., or a value tagged
    /// `!!bool`; `None` for anything else (a quoted `'yes'` is a string).
    #[must_use]
    pub fn bool11(&self, id: NodeId) -> Option<bool> {
        match &self.node(self.resolve(id)).kind {
            Kind::Scalar {
                value,
                style: Style::Plain,
                tag,
            } if tag.as_deref().is_none_or(|t| t == "!!bool") => match resolve_plain(value) {
                Scalar11::Bool(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    /// Calls `f` for every scalar value node (not keys) with its key path from the root, depth
    /// first in document order. Aliases are not followed (an aliased scalar is visited once, at
    /// its anchor). Mapping values come from the raw entries; the value of a `<<` merge entry is
    /// normally an alias and therefore skipped. No path is cloned: cost is linear in the
    /// document.
    pub fn visit_scalars(&self, mut f: impl FnMut(NodeId, &[PathSeg])) {
        let Some(root) = self.root else { return };
        let mut path: Vec<PathSeg> = Vec::new();
        // Invariant while non-empty: path.len() + 1 == stack.len().
        let mut stack: Vec<(NodeId, usize)> = Vec::new();
        match &self.node(root).kind {
            Kind::Scalar { .. } => f(root, &path),
            Kind::Seq(_) | Kind::Map(_) => stack.push((root, 0)),
            Kind::Alias(_) => {}
        }
        while let Some(top) = stack.last_mut() {
            let (id, i) = (top.0, top.1);
            top.1 += 1;
            let next = match &self.node(id).kind {
                Kind::Seq(items) => items.get(i).map(|&c| (c, PathSeg::Index(i))),
                Kind::Map(entries) => entries.get(i).map(|&(k, v)| (v, self.path_key(k))),
                _ => None,
            };
            let Some((child, seg)) = next else {
                stack.pop();
                if !stack.is_empty() {
                    path.pop();
                }
                continue;
            };
            match &self.node(child).kind {
                Kind::Scalar { .. } => {
                    path.push(seg);
                    f(child, &path);
                    path.pop();
                }
                Kind::Seq(_) | Kind::Map(_) => {
                    path.push(seg);
                    stack.push((child, 0));
                }
                Kind::Alias(_) => {}
            }
        }
    }

    /// Every scalar value node (not keys) with its key path from the root; see
    /// [`Document::visit_scalars`]. Paths are cloned per scalar, so total work is capped by
    /// `budget`, in bytes counted as the size of each cloned path (its segments plus key bytes):
    /// an adversarial file with long keys over many deep scalars could otherwise need memory far
    /// beyond its size. Past the budget the remaining scalars are still returned, with an empty
    /// path. Returns whether paths were dropped.
    #[must_use]
    pub fn scalars_budgeted(&self, budget: usize) -> (Vec<(NodeId, Vec<PathSeg>)>, bool) {
        let mut out = Vec::new();
        let mut spent: usize = 0;
        let mut truncated = false;
        let seg_size = std::mem::size_of::<PathSeg>();
        self.visit_scalars(|id, path| {
            if !truncated {
                let cost = path
                    .iter()
                    .fold(std::mem::size_of::<Vec<PathSeg>>(), |acc, seg| {
                        acc + seg_size
                            + match seg {
                                PathSeg::Key(k) => k.len(),
                                PathSeg::Index(_) => 0,
                            }
                    });
                spent = spent.saturating_add(cost);
                truncated = spent > budget;
            }
            if truncated {
                out.push((id, Vec::new()));
            } else {
                out.push((id, path.to_vec()));
            }
        });
        (out, truncated)
    }
}
