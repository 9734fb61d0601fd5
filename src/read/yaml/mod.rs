//! Positioned YAML tree built from `libyaml-safer` events.
//!
//! [`parse`] turns a YAML stream (one or many documents) into [`Document`]s: an arena of
//! [`Node`]s where every node carries its line and column. The parser is `libyaml-safer`, a
//! safe Rust port of libyaml 0.2.5, so this module accepts what libyaml accepts: the reader
//! under kubectl and Helm (go-yaml is a libyaml port), Puppet/Hiera (Ruby's Psych) and PyYAML's
//! `CSafeLoader` (`tests/yaml_libyaml.rs` compares the two on the shared corpus). Plain scalars
//! are strings here; [`resolve_plain`] reads them the YAML 1.1 way those tools do. The input is
//! treated as hostile:
//!
//! * The tree is built from the parser's events with an explicit stack; nothing here recurses
//!   on the input's nesting, nor does the parser (its state stack grows one entry per open
//!   collection). Nesting is capped by [`Limits::max_depth`], and the parse stops at the first
//!   collection that exceeds it, so the parser is never driven deeper.
//! * Aliases become [`Kind::Alias`] nodes that point at the anchored node; subtrees are never
//!   copied, so an alias bomb ("billion laughs") costs one node per alias in the source.
//!   [`Document::entries`], [`Document::seq`] and [`Document::visit_scalars`] never expand
//!   aliases recursively (merge keys are applied with a visited set).
//! * What a naive loader would build is bounded too: every alias adds the size of its anchored
//!   subtree (aliases inside it included), and past [`Limits::max_alias_expansion`] added nodes
//!   the stream is refused ([`ErrorKind::AliasExpansion`]), because every other tool that reads
//!   the file (kubectl, Helm, Ruby's YAML under Hiera) expands it. The 342-byte "billion
//!   laughs" (9 levels of 9 aliases) would be 387 million nodes. Computed as collections close,
//!   so it costs one counter per node.
//! * A node count limit and an input size limit bound memory. Look-ahead is bounded by libyaml
//!   itself: a possible simple key (the only reason the scanner queues tokens) is dropped after
//!   1024 chars or at a line break, so the scanner never gets more than that plus one read chunk
//!   ahead of the events (`flow_collections_in_key_position_stream`); saphyr needed a guarded
//!   input for this.
//! * Any panic inside the parser is caught and reported as a syntax error (the port has a few
//!   `panic!`/`expect` on states it considers unreachable; this is a safety net, and the default
//!   panic hook still prints).
//!
//! ## Notes on `libyaml-safer` 0.3.0 (what this module relies on / works around)
//!
//! * `Mark.index` counts bytes, `Mark.column` chars, and libyaml counts `\u{85}`, U+2028 and
//!   U+2029 as line breaks. [`Mark`]s are recomputed from the byte index (`Positions`): lines
//!   break at `\n`, `\r\n` and a lone `\r` only, columns and `index` count chars.
//! * A UTF-8 byte order mark is skipped by the reader and not counted in its marks; we strip it
//!   before parsing and add it back.
//! * Fed a `&[u8]`, the reader decodes the whole input into a `VecDeque<char>` (4 bytes per
//!   char) at the first read; [`parse`] feeds it 16 KiB chunks.
//! * The reader refuses control characters (error without a mark); the mark is found again
//!   in the text.
//! * Events carry anchor names and resolved tags (`%TAG` applied, `!!x` as
//!   `tag:yaml.org,2002:x`); tags are rendered back to the short forms.
//! * A node's start mark is at its properties (`&a`, `!t`); [`Node::start`] is moved past them,
//!   to the content. A block scalar starts at its `|`/`>`, an indentless sequence at its first
//!   `-`, a block mapping at its first key.
//! * The end of a block collection is where the parser noticed it ended: the start of the next
//!   token (which may be on a later line, after comments).
//! * The parser does not check aliases (libyaml leaves that to the composer): an alias to an
//!   anchor not defined before it in the same document is refused here, as by every libyaml
//!   composer. A repeated anchor name is accepted and refers to the latest node (libyaml, Psych
//!   and go-yaml; PyYAML's composer refuses it).
//! * What libyaml accepts that a YAML 1.2 parser does not, and so do we: flow collections and
//!   multi-line quoted scalars continued at the parent key's indentation, an alias as a mapping
//!   key (`*a : v`), a tab after `:`. What it refuses: anchor names other than ASCII letters,
//!   digits, `_` and `-`, and a document after `...` without `---`.

mod document;
mod input;
mod load;
mod marks;
mod scalar11;
#[cfg(test)]
mod tests;

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use libyaml_safer::ScalarStyle;

pub use scalar11::{resolve_plain, Scalar11};

/// 1-based line and column (column counted in chars), plus char index from the start of the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Mark {
    /// Line, from 1.
    pub line: u32,
    /// Column in chars, from 1.
    pub col: u32,
    /// Chars before this position.
    pub index: usize,
}

impl Mark {
    const START: Mark = Mark {
        line: 1,
        col: 1,
        index: 0,
    };
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} column {}", self.line, self.col)
    }
}

/// Index of a [`Node`] in its [`Document`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    fn idx(self) -> usize {
        self.0 as usize
    }
}

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|` block
    Literal,
    /// `>` block
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(s: ScalarStyle) -> Style {
        match s {
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
            // `Any` is for emitters; the parser never reports it.
            _ => Style::Plain,
        }
    }
}

/// What a node is.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A scalar.
    Scalar {
        /// The value, with escapes, folding and chomping applied.
        value: String,
        /// How it was written.
        style: Style,
        /// Rendered in the usual short forms (`!!binary`, `!vault`, `!`), other global tags
        /// as `!<uri>`.
        tag: Option<String>,
    },
    /// A sequence: its items.
    Seq(Vec<NodeId>),
    /// Raw entries in source order, including `<<` merge-key entries.
    Map(Vec<(NodeId, NodeId)>),
    /// The anchored node; the subtree is never copied. The target may be an ancestor of the
    /// alias (`&a [*a]` is valid YAML), so never follow aliases recursively without a bound.
    Alias(NodeId),
}

/// A node of a [`Document`].
#[derive(Clone, Debug)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Where the node's content starts (after any anchor/tag). For a block scalar: the `|`/`>`.
    /// For a block mapping: its first key. For a sequence: its `-` or `[`.
    pub start: Mark,
    /// Where the node ends (exclusive). For block collections this is where the parser noticed
    /// the end, i.e. the start of the next token.
    pub end: Mark,
    /// Name of the anchor defined on this node (`&name`), if any.
    pub anchor: Option<String>,
    /// The tag of a sequence or mapping (`!!omap`, `!!set`), in the short form scalars use;
    /// a scalar's tag is in [`Kind::Scalar`].
    pub tag: Option<String>,
}

/// One YAML document of a stream.
#[derive(Clone, Debug)]
pub struct Document {
    nodes: Vec<Node>,
    root: Option<NodeId>,
    /// Where the document starts: its `---` marker, or its first token if implicit.
    pub start: Mark,
    /// Where the document ends: its `...` marker, the next `---`, or the end of the stream.
    pub end: Mark,
}

/// One segment of a key path from the document root.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// Mapping key. Non-scalar keys (`? [a, b]`) are rendered as `"?"`.
    Key(String),
    /// Sequence index (0-based).
    Index(usize),
}

impl fmt::Display for PathSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSeg::Key(k) => f.write_str(k),
            PathSeg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Why parsing stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not valid YAML (as far as the parser can tell).
    Syntax,
    /// Collections nested more than [`Limits::max_depth`] (or 255 flow levels).
    TooDeep,
    /// More than [`Limits::max_nodes`] nodes.
    TooManyNodes,
    /// More than [`Limits::max_bytes`], or too much for the parser to read ahead.
    TooLarge,
    /// An alias to an anchor not defined before it in the same document.
    UnknownAnchor,
    /// Expanding the aliases would add more than [`Limits::max_alias_expansion`] nodes (an
    /// alias bomb).
    AliasExpansion,
    /// The parser failed on input libyaml may well accept (`libyaml-safer` 0.3.0 panics on a
    /// few inputs, e.g. a tag followed directly by `,` in a flow collection, where its source
    /// says "TODO"): the document could not be read, which is a gap, not a syntax fault.
    Internal,
}

/// The first error of a stream.
#[derive(Clone, Debug)]
pub struct YamlError {
    /// Why.
    pub kind: ErrorKind,
    /// Where.
    pub mark: Mark,
    /// For a human, without the position.
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.mark)
    }
}

impl std::error::Error for YamlError {}

/// Resource limits for [`parse`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum nesting of collections (the root collection is depth 1).
    pub max_depth: usize,
    /// Maximum number of nodes over the whole stream (aliases count as one node each).
    pub max_nodes: usize,
    /// Maximum input size in bytes.
    pub max_bytes: usize,
    /// Most nodes that expanding every alias of the stream would add (each alias counts the
    /// expanded size of its anchored node, less one). The tree never expands them; this
    /// refuses alias bombs that every other reader of the file would expand.
    pub max_alias_expansion: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 256,
            max_nodes: 2_000_000,
            max_bytes: 64 * 1024 * 1024,
            max_alias_expansion: 1_000_000,
        }
    }
}

/// Result of [`parse`].
#[derive(Clone, Debug)]
pub struct Stream {
    /// Documents completed before the first error (all of them if `error` is `None`).
    pub docs: Vec<Document>,
    /// The first error; parsing stops there.
    pub error: Option<YamlError>,
}

/// Parse a YAML stream.
///
/// Never panics. Documents completed before an error are kept in `docs`; the error (first one)
/// is in `error`. A document that was cut short by an error is NOT included (partial documents
/// would read as real data).
#[must_use]
pub fn parse(text: &str, limits: &Limits) -> Stream {
    let mut stream = Stream {
        docs: Vec::new(),
        error: None,
    };
    if text.len() > limits.max_bytes {
        stream.error = Some(YamlError {
            kind: ErrorKind::TooLarge,
            mark: Mark::START,
            message: format!(
                "input is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        });
        return stream;
    }
    let mut last_mark = Mark::START;
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        load::run(text, limits, &mut stream, &mut last_mark);
    }));
    if outcome.is_err() && stream.error.is_none() {
        stream.error = Some(YamlError {
            kind: ErrorKind::Internal,
            mark: last_mark,
            message: "internal error in the YAML parser (it panicked on this input)".to_string(),
        });
    }
    stream
}

/// Keeps the parser's own panics (caught in [`parse`] and reported as
/// [`ErrorKind::Internal`]) off standard error: installs, once, a panic hook
/// that ignores panics raised in `libyaml-safer`'s source and hands every
/// other panic to the hook in place before (the default one, or a fuzzer's,
/// which must still see certdrift's own panics). Call it before any thread
/// parses YAML.
pub fn quiet_parser_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|l| l.file().contains("libyaml-safer"));
            if !in_parser {
                previous(info);
            }
        }));
    });
}
