//! Parser events to trees: the event loop ([`run`]), the [`Loader`] that checks limits and
//! anchors as events arrive, and the [`Builder`] of one document.

use std::collections::HashMap;

use libyaml_safer::{Event, EventData, Parser};

use super::input::Chunks;
use super::marks::Positions;
use super::{Document, ErrorKind, Kind, Limits, Mark, Node, NodeId, Stream, Style, YamlError};

/// Byte offset where a node's content starts, after its properties (`&anchor`, `!tag`) and the
/// blanks, line breaks and comments between them; never past `end`.
fn after_properties(bytes: &[u8], start: usize, end: usize) -> usize {
    let end = end.min(bytes.len());
    let mut i = start;
    let mut after_blank = true;
    while i < end {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                after_blank = true;
                continue;
            }
            b'#' if after_blank => {
                while i < end && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'&' => {
                i += 1;
                while i < end && is_anchor_byte(bytes[i]) {
                    i += 1;
                }
            }
            b'!' => {
                i += 1;
                if bytes.get(i) == Some(&b'<') {
                    while i < end && bytes[i] != b'>' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    while i < end
                        && !matches!(
                            bytes[i],
                            b' ' | b'\t' | b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}'
                        )
                    {
                        i += 1;
                    }
                }
            }
            _ => break,
        }
        after_blank = false;
    }
    i.min(end)
}

/// What libyaml allows in an anchor or alias name: ASCII letters, digits, `_` and `-`.
fn is_anchor_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Renders a parser tag (the resolved tag: handle prefix and suffix joined) the way it is
/// usually written.
fn tag_string(tag: String) -> String {
    const CORE: &str = "tag:yaml.org,2002:";
    if let Some(rest) = tag.strip_prefix(CORE) {
        format!("!!{rest}")
    } else if tag.starts_with('!') {
        // `!vault`, `!` (non-specific), verbatim `!<!foo>`, or a `%TAG` to a local prefix.
        tag
    } else {
        format!("!<{tag}>")
    }
}

enum Frame {
    Seq(NodeId),
    Map { id: NodeId, key: Option<NodeId> },
}

/// A document under construction.
struct Builder {
    nodes: Vec<Node>,
    root: Option<NodeId>,
    stack: Vec<Frame>,
    anchors: HashMap<String, NodeId>,
    start: Mark,
    /// Per node, its size with aliases expanded; 0 while a collection is still open.
    expanded: Vec<u64>,
}

impl Builder {
    fn new(start: Mark) -> Builder {
        Builder {
            nodes: Vec::new(),
            root: None,
            stack: Vec::new(),
            anchors: HashMap::new(),
            start,
            expanded: Vec::new(),
        }
    }

    fn push(&mut self, node: Node) -> NodeId {
        // The caller checks the node limit, which is below u32::MAX.
        let id = NodeId(u32::try_from(self.nodes.len()).unwrap_or(u32::MAX));
        // A scalar is one node, an alias as many as its target (set by the caller), a
        // collection is sized when it closes.
        self.expanded
            .push(u64::from(matches!(node.kind, Kind::Scalar { .. })));
        self.nodes.push(node);
        id
    }

    /// Expanded size of an alias's target: a collection still open (`&a [*a]`, a recursive
    /// alias) counts as one node, as it cannot be expanded at all.
    fn expanded_size(&self, target: NodeId) -> u64 {
        self.expanded.get(target.idx()).copied().unwrap_or(1).max(1)
    }

    /// Sizes a collection that just closed: itself plus its children, aliases expanded.
    fn close(&mut self, id: NodeId) {
        let children: u64 = match self.nodes.get(id.idx()).map(|n| &n.kind) {
            Some(Kind::Seq(items)) => items
                .iter()
                .map(|c| self.expanded_size(*c))
                .fold(0, u64::saturating_add),
            Some(Kind::Map(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    self.expanded_size(*k)
                        .saturating_add(self.expanded_size(*v))
                })
                .fold(0, u64::saturating_add),
            _ => 0,
        };
        if let Some(e) = self.expanded.get_mut(id.idx()) {
            *e = children.saturating_add(1);
        }
    }

    fn attach(&mut self, child: NodeId) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(child);
                }
            }
            Some(Frame::Seq(parent)) => {
                if let Some(Node {
                    kind: Kind::Seq(items),
                    ..
                }) = self.nodes.get_mut(parent.idx())
                {
                    items.push(child);
                }
            }
            Some(Frame::Map { id, key }) => match key.take() {
                None => *key = Some(child),
                Some(k) => {
                    if let Some(Node {
                        kind: Kind::Map(entries),
                        ..
                    }) = self.nodes.get_mut(id.idx())
                    {
                        entries.push((k, child));
                    }
                }
            },
        }
    }

    fn finish(mut self, end: Mark) -> Document {
        // An empty document (`---` alone, or only comments after it) has a single empty plain
        // scalar without properties as root: report it as no root at all.
        let empty = self.nodes.len() == 1
            && matches!(
                &self.nodes[0],
                Node {
                    kind: Kind::Scalar {
                        value,
                        style: Style::Plain,
                        tag: None,
                    },
                    anchor: None,
                    ..
                } if value.is_empty()
            );
        if empty {
            self.nodes.clear();
            self.root = None;
        }
        Document {
            nodes: self.nodes,
            root: self.root,
            start: self.start,
            end,
        }
    }
}

/// The position of the first character that libyaml's reader refuses (control characters,
/// `\u{7f}`, C1 controls other than `\u{85}`, surrogates cannot occur in a `&str`, U+FFFE/FFFF).
fn first_refused_char(text: &str) -> Option<usize> {
    text.char_indices()
        .find(|&(_, ch)| {
            !(ch == '\t'
                || ch == '\n'
                || ch == '\r'
                || ('\x20'..='\x7e').contains(&ch)
                || ch == '\u{85}'
                || ('\u{a0}'..='\u{d7ff}').contains(&ch)
                || ('\u{e000}'..='\u{fffd}').contains(&ch)
                || ch >= '\u{10000}')
        })
        .map(|(b, _)| b)
}

/// Builds documents from parser events.
struct Loader<'a> {
    text: &'a str,
    /// Bytes before the text the parser reads (a skipped byte order mark).
    offset: usize,
    pos: Positions<'a>,
    limits: Limits,
    max_nodes: usize,
    doc: Option<Builder>,
    total_nodes: usize,
    /// Nodes that expanding the stream's aliases would add (see [`Limits::max_alias_expansion`]).
    alias_expansion: u64,
}

impl Loader<'_> {
    fn fail(kind: ErrorKind, mark: Mark, message: String) -> Result<(), YamlError> {
        Err(YamlError {
            kind,
            mark,
            message,
        })
    }

    /// The mark at a parser byte offset.
    fn mark(&mut self, parser_index: u64) -> Mark {
        let byte = usize::try_from(parser_index).unwrap_or(usize::MAX);
        self.pos.mark(byte.saturating_add(self.offset))
    }

    fn error_from_parser(&mut self, e: &libyaml_safer::Error, last: Mark) -> YamlError {
        let problem = e.problem();
        let mark = match e.problem_mark() {
            Some(m) => self.mark(m.index),
            None => match first_refused_char(self.text) {
                Some(b) => self.pos.mark(b),
                None => last,
            },
        };
        let message = match (e.context(), e.context_mark()) {
            (Some(context), Some(cm)) => {
                let cm = self.mark(cm.index);
                format!("{problem} ({context} at {cm})")
            }
            (Some(context), None) => format!("{problem} ({context})"),
            _ => problem.to_string(),
        };
        YamlError {
            kind: ErrorKind::Syntax,
            mark,
            message,
        }
    }

    /// Handles a node event (scalar, alias, collection start).
    fn node(&mut self, event: Event) -> Result<(), YamlError> {
        let start_byte = usize::try_from(event.start_mark.index).unwrap_or(usize::MAX);
        let end_byte = usize::try_from(event.end_mark.index).unwrap_or(usize::MAX);
        let (anchor, has_tag) = match &event.data {
            EventData::Scalar { anchor, tag, .. }
            | EventData::SequenceStart { anchor, tag, .. }
            | EventData::MappingStart { anchor, tag, .. } => (anchor.clone(), tag.is_some()),
            _ => (None, false),
        };
        let start = if anchor.is_some() || has_tag {
            let content = after_properties(
                self.text.as_bytes(),
                start_byte.saturating_add(self.offset),
                end_byte.saturating_add(self.offset),
            );
            self.pos.mark(content)
        } else {
            self.mark(event.start_mark.index)
        };
        if self.doc.is_none() {
            return Self::fail(
                ErrorKind::Syntax,
                start,
                "node outside of a document".into(),
            );
        }
        if self.total_nodes >= self.max_nodes {
            let message = format!("more than {} YAML nodes", self.max_nodes);
            return Self::fail(ErrorKind::TooManyNodes, start, message);
        }
        let mut end = self.mark(event.end_mark.index);
        let depth = self.doc.as_ref().map_or(0, |b| b.stack.len());
        let collection_tag = match &event.data {
            EventData::SequenceStart { tag, .. } | EventData::MappingStart { tag, .. } => {
                tag.clone().map(tag_string)
            }
            _ => None,
        };
        let kind = match event.data {
            EventData::Scalar {
                value, style, tag, ..
            } => Kind::Scalar {
                value,
                style: style.into(),
                tag: tag.map(tag_string),
            },
            EventData::SequenceStart { .. } | EventData::MappingStart { .. } => {
                if depth >= self.limits.max_depth {
                    let message = format!(
                        "collections nested more than {} levels deep",
                        self.limits.max_depth
                    );
                    return Self::fail(ErrorKind::TooDeep, start, message);
                }
                end = start;
                if matches!(event.data, EventData::SequenceStart { .. }) {
                    Kind::Seq(Vec::new())
                } else {
                    Kind::Map(Vec::new())
                }
            }
            EventData::Alias { anchor: name } => {
                let Some(b) = self.doc.as_mut() else {
                    return Ok(());
                };
                let Some(&target) = b.anchors.get(&name) else {
                    let message = format!(
                        "alias *{name} refers to an anchor that is not defined in this document"
                    );
                    return Self::fail(ErrorKind::UnknownAnchor, start, message);
                };
                let adds = b.expanded_size(target) - 1;
                self.alias_expansion = self.alias_expansion.saturating_add(adds);
                if self.alias_expansion > self.limits.max_alias_expansion {
                    let message = format!(
                        "aliases would expand to more than {} extra nodes (an alias bomb: \
                         YAML readers that copy aliased nodes run out of memory)",
                        self.limits.max_alias_expansion
                    );
                    return Self::fail(ErrorKind::AliasExpansion, start, message);
                }
                Kind::Alias(target)
            }
            _ => return Ok(()),
        };
        let Some(b) = self.doc.as_mut() else {
            return Ok(());
        };
        self.total_nodes += 1;
        let frame = match kind {
            Kind::Seq(_) => Some(false),
            Kind::Map(_) => Some(true),
            _ => None,
        };
        let alias_size = match kind {
            Kind::Alias(target) => Some(b.expanded_size(target)),
            _ => None,
        };
        let id = b.push(Node {
            kind,
            start,
            end,
            anchor: None,
            tag: collection_tag,
        });
        if let (Some(size), Some(e)) = (alias_size, b.expanded.get_mut(id.idx())) {
            *e = size;
        }
        if let Some(name) = anchor {
            // A repeated anchor name refers to its latest node from here on (libyaml, Psych
            // and go-yaml accept redefinitions).
            b.anchors.insert(name.clone(), id);
            if let Some(n) = b.nodes.get_mut(id.idx()) {
                n.anchor = Some(name);
            }
        }
        b.attach(id);
        match frame {
            Some(false) => b.stack.push(Frame::Seq(id)),
            Some(true) => b.stack.push(Frame::Map { id, key: None }),
            None => {}
        }
        Ok(())
    }

    /// Handles one event, pushing completed documents to `docs`; `Ok(false)` at the end of the
    /// stream.
    fn event(&mut self, event: Event, docs: &mut Vec<Document>) -> Result<bool, YamlError> {
        match &event.data {
            EventData::Scalar { .. }
            | EventData::SequenceStart { .. }
            | EventData::MappingStart { .. }
            | EventData::Alias { .. } => self.node(event)?,
            EventData::DocumentStart { .. } => {
                let start = self.mark(event.start_mark.index);
                self.doc = Some(Builder::new(start));
            }
            EventData::DocumentEnd { implicit } => {
                if let Some(b) = self.doc.take() {
                    // An explicit end is the `...` marker; an implicit one is where the next
                    // token starts (the next `---` or the end of the stream), which is not part
                    // of this document.
                    let at = if *implicit {
                        event.start_mark.index
                    } else {
                        event.end_mark.index
                    };
                    let end = self.mark(at);
                    docs.push(b.finish(end));
                }
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                let end = self.mark(event.end_mark.index);
                let closed = self.doc.as_mut().and_then(|b| {
                    let (Frame::Seq(id) | Frame::Map { id, .. }) = b.stack.pop()?;
                    b.close(id);
                    b.nodes.get_mut(id.idx())
                });
                match closed {
                    Some(node) if end.index >= node.start.index => node.end = end,
                    _ => {}
                }
            }
            EventData::StreamEnd => return Ok(false),
            EventData::StreamStart { .. } => {}
        }
        Ok(true)
    }
}

/// The event loop. Stores finished documents and the first error into `stream`.
pub(super) fn run(text: &str, limits: &Limits, stream: &mut Stream, last_mark: &mut Mark) {
    // The parser skips a byte order mark without counting it in its marks.
    let offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let input = Chunks::new(text.as_bytes().get(offset..).unwrap_or_default());
    let mut loader = Loader {
        text,
        offset,
        pos: Positions::new(text),
        limits: *limits,
        max_nodes: limits.max_nodes.min(u32::MAX as usize - 1),
        doc: None,
        total_nodes: 0,
        alias_expansion: 0,
    };
    let mut parser = Parser::new();
    parser.set_input(input);
    loop {
        let event = match parser.parse() {
            Ok(event) => event,
            Err(e) => {
                stream.error = Some(loader.error_from_parser(&e, *last_mark));
                return;
            }
        };
        *last_mark = loader.mark(event.start_mark.index);
        match loader.event(event, &mut stream.docs) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                stream.error = Some(e);
                return;
            }
        }
    }
}
