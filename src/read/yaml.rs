//! Positioned YAML tree built from `saphyr-parser` events.
//!
//! [`parse`] turns a YAML stream (one or many documents) into [`Document`]s: an arena of
//! [`Node`]s where every node carries its line and column. The input is treated as hostile:
//!
//! * The tree is built from the parser's event iterator with an explicit stack; nothing here
//!   recurses on the input's nesting. Nesting is capped by [`Limits::max_depth`], and the parse
//!   stops at the first collection that exceeds it, so the parser is never driven deeper.
//! * Aliases become [`Kind::Alias`] nodes that point at the anchored node; subtrees are never
//!   copied, so an alias bomb ("billion laughs") costs one node per alias in the source.
//!   [`Document::entries`], [`Document::seq`] and [`Document::scalars`] never expand aliases
//!   recursively (merge keys are applied with a visited set).
//! * What a naive loader would build is bounded too: every alias adds the size of its anchored
//!   subtree (aliases inside it included), and past [`Limits::max_alias_expansion`] added nodes
//!   the stream is refused ([`ErrorKind::AliasExpansion`]), because every other tool that reads
//!   the file (kubectl, Helm, Ruby's YAML under Hiera) expands it. The 342-byte "billion
//!   laughs" (9 levels of 9 aliases) would be 387 million nodes. Computed as collections close,
//!   so it costs one counter per node.
//! * A node count limit and an input size limit bound memory. The parser reads through
//!   `GuardedInput`, which stops it (error [`ErrorKind::TooLarge`]) once it has read ~512Ki
//!   tokens ahead without producing an event, which it otherwise does for a large flow
//!   collection in key position (see below). Documents before that point are still returned.
//! * Any panic inside the parser is caught and reported as a syntax error (none was found by
//!   the mutation tests; this is a safety net, and the default panic hook still prints).
//!
//! ## Notes on `saphyr-parser` 0.3.4 (what this module relies on / works around)
//!
//! * `Marker` lines are 1-based, columns 0-based (in chars), indexes count chars (not bytes).
//!   [`Mark`] converts the column to 1-based. A lone `\r` counts as a line break, `\r\n` as one.
//! * `ScanError`'s mark is the position of the offending token (its `Display` says "at byte N"
//!   but N is a char index); we keep its `info()` as the message and convert the mark.
//! * The parser's `Event` iterator does not recurse (only its `load` API does, which is not
//!   used). Its state stack grows one entry per open collection, and we stop at `max_depth`.
//! * The scanner caps flow nesting (`[`/`{`) at 255 levels and reports "recursion limit
//!   exceeded"; this is mapped to [`ErrorKind::TooDeep`] (10,000 `[` fail at the 256th).
//! * The scanner queues tokens while the first of them may still be a simple key; inside a flow
//!   collection that is settled only by the next `,`/`:`/closing bracket of that level. So a
//!   top-level `[1,1,...]`, `- [...]` or `key: [[...]]` is tokenised whole before the first
//!   event, at ~180 bytes per token (700 MB for a 4 MB input); `key: [...]` streams. Hence
//!   `GuardedInput` (a 4 MB `[1,1,...]` is now refused after ~0.1 s and ~90 MB).
//! * `StrInput` counts bytes instead of chars for non-ASCII directive parameters, so later
//!   marks drift; `GuardedInput` counts chars (otherwise the events are identical).
//! * Events carry anchor *ids*, not names. Names are read back from the source text at the
//!   event's span (a node with properties has its span start at the first property).
//! * The span of a node with properties (`&a`, `!tag`) starts at the properties. [`Node::start`]
//!   is moved past them, to the content.
//! * A block scalar's span starts at its first content line, not at the `|`/`>` indicator;
//!   the indicator is found again in the source (after the previous event).
//! * An indentless sequence (`key:\n- a`) is reported as starting *after* the first `- `; it is
//!   moved back to the `-`.
//! * The end of a block collection is where the parser noticed it ended: the start of the next
//!   token (which may be on a later line, after comments).
//! * A tab right after `:` followed by a letter, digit or `-` (`a:\t1`) is a syntax error in
//!   this parser ("':' must be followed by a valid YAML whitespace"); `a: \t1` is fine.
//! * `"q" [x]` is refused by the scanner ("invalid trailing content after double-quoted
//!   scalar") before it buffers anything.
//! * The scanner stores each plain scalar in a `String` with spare capacity; values are shrunk
//!   when copied into the tree.
//! * Unknown anchors are reported by the parser itself ("found unknown anchor"); an alias in a
//!   later document to an anchor of an earlier one is accepted by the parser's iterator API but
//!   rejected here (anchors are per document).

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use saphyr_parser::input::SkipTabs;
use saphyr_parser::{Event, Input, Marker, Parser, ScalarStyle, ScanError, Span, Tag};

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

    fn from_marker(m: Marker) -> Mark {
        Mark {
            line: saturating_u32(m.line()),
            col: saturating_u32(m.col().saturating_add(1)),
            index: m.index(),
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} column {}", self.line, self.col)
    }
}

fn saturating_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
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
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
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
}

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
};

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

/// Bound on nested merge keys (`<<`) followed by [`Document::entries`] and [`Document::get`].
const MAX_MERGE_DEPTH: usize = 64;
/// Bound on alias hops in [`Document::resolve`] (aliases never point at aliases when built by
/// [`parse`], so one hop is enough; this only guards hand-built documents).
const MAX_ALIAS_HOPS: usize = 16;
/// Longest key copied into a [`PathSeg`] when the key is an alias.
const MAX_ALIAS_KEY_BYTES: usize = 256;
/// Chars per checkpoint of the char-index → byte-offset table (non-ASCII input only).
const CHECKPOINT_EVERY: usize = 64;

/// Parse a YAML stream.
///
/// Never panics. Documents completed before an error are kept in `docs`; the error (first one)
/// is in `error`. A document that was cut short by an error is NOT included (partial documents
/// would read as real data).
#[must_use]
pub fn parse(text: &str, limits: &Limits) -> Stream {
    let cap = MAX_LOOKAHEAD_UNITS.min(limits.max_nodes.saturating_mul(4).saturating_add(1024));
    parse_with_lookahead(text, limits, cap)
}

/// [`parse`] with an explicit lookahead cap (see `GuardedInput`).
fn parse_with_lookahead(text: &str, limits: &Limits, cap: usize) -> Stream {
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
        run(text, limits, cap, &mut stream, &mut last_mark);
    }));
    if outcome.is_err() && stream.error.is_none() {
        stream.error = Some(YamlError {
            kind: ErrorKind::Syntax,
            mark: last_mark,
            message: "internal error in the YAML parser (it panicked on this input)".to_string(),
        });
    }
    clamp_to_end(&mut stream, text);
    stream
}

/// Moves marks past the last line back to the end of the text.
///
/// When the text does not end with a line break, `saphyr`'s scanner puts the stream end on
/// the line after the last one, column 0 (`fetch_stream_end` "forces a new line"), so a block
/// collection, a document or an error that ends at the end of the input would point at a line
/// the file does not have (found by fuzzing: `a:\n  b: c` without a final newline gave the
/// document's end line 3).
fn clamp_to_end(stream: &mut Stream, text: &str) {
    let mut eof = Mark::START;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        eof.index += 1;
        if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
            eof.line = eof.line.saturating_add(1);
            eof.col = 1;
        } else {
            eof.col = eof.col.saturating_add(1);
        }
    }
    if eof.col == 1 {
        // Ends with a line break (or is empty): the scanner's marks are right.
        return;
    }
    let fix = |m: &mut Mark| {
        if m.line > eof.line {
            *m = eof;
        }
    };
    for doc in &mut stream.docs {
        fix(&mut doc.start);
        fix(&mut doc.end);
        for n in &mut doc.nodes {
            fix(&mut n.start);
            fix(&mut n.end);
        }
    }
    if let Some(e) = &mut stream.error {
        fix(&mut e.mark);
    }
}

/// Most lookahead units (see `GuardedInput`) the scanner may read without the parser emitting
/// an event.
const MAX_LOOKAHEAD_UNITS: usize = 1 << 19;

/// State shared by `GuardedInput` and the event loop.
struct Budget {
    /// Units read since the parser last emitted an event.
    units: Cell<usize>,
    cap: usize,
    /// Set when `units` went over `cap`: the scanner has been shown an early end of input.
    cut: Cell<bool>,
}

/// The parser's input: a `&str` (like `saphyr`'s `StrInput`) that stops, as if the text ended
/// there, once the scanner has read more than `cap` units without the parser emitting an event.
///
/// Why: the scanner does not emit a token while it may still be a simple key (`[a, b]: c`,
/// `{[a]: b}`), and inside a flow collection that is settled only by the next `,`, `:` or
/// closing bracket of that level. So a flow collection that starts where a key may start (first
/// thing on a line, after `- `, or right after `[`, `{` or `,` inside another one) is tokenised
/// completely before the parser sees its first event, at ~180 bytes per token: 700 MB for a
/// 4 MB `[1,1,1,...]`, before any of our limits can act. (`key: [...]` streams.)
///
/// A unit is a non-blank character that follows a blank or is one of `,[]{}:?`; every token
/// but the zero-width ones (which come at most four per `:`/`?`/key, or with indentation)
/// covers one, so units bound the queued tokens. Comments (read through
/// `skip_while_non_breakz` and the end of `skip_ws_to_eol`) and block scalar lines (read through
/// `raw_read_non_breakz_ch`) do not count. A single huge plain or quoted scalar does count,
/// since its characters look the same to us: with the default cap of 512Ki units that takes
/// ~2.5 MB of prose or JSON in one scalar.
///
/// Buffer semantics follow `saphyr`'s `BufferedInput` (looked-ahead characters are "buffered"
/// until consumed, `bufmaxlen` 16) so that block scalar lines go through
/// `raw_read_non_breakz_ch`; the resulting events are the same as with `StrInput` (checked by
/// `guarded_input_matches_str_input`).
struct GuardedInput<'a> {
    rest: &'a str,
    /// Characters looked ahead and not consumed yet (virtual: `rest` holds everything).
    buffered: usize,
    /// The last consumed character was a blank or a flow indicator.
    after_blank: bool,
    budget: Rc<Budget>,
}

impl<'a> GuardedInput<'a> {
    fn new(text: &'a str, budget: Rc<Budget>) -> GuardedInput<'a> {
        GuardedInput {
            rest: text,
            buffered: 0,
            after_blank: true,
            budget,
        }
    }

    /// Consumes the next character, counting it toward the budget if `counted`.
    fn consume(&mut self, counted: bool) -> Option<char> {
        let c = match *self.rest.as_bytes().first()? {
            b if b.is_ascii() => {
                self.rest = &self.rest[1..];
                char::from(b)
            }
            _ => {
                let mut chars = self.rest.chars();
                let c = chars.next()?;
                self.rest = chars.as_str();
                c
            }
        };
        let blank = matches!(c, ' ' | '\t' | '\n' | '\r');
        let flow = matches!(c, ',' | '[' | ']' | '{' | '}');
        if counted && !blank && (self.after_blank || flow || c == ':' || c == '?') {
            let units = self.budget.units.get() + 1;
            self.budget.units.set(units);
            if units > self.budget.cap {
                // From here on the scanner sees the end of the input.
                self.budget.cut.set(true);
                self.rest = "";
            }
        }
        self.after_blank = blank || flow || !counted;
        Some(c)
    }
}

impl Input for GuardedInput<'_> {
    fn lookahead(&mut self, count: usize) {
        self.buffered = self.buffered.max(count);
    }

    fn buflen(&self) -> usize {
        self.buffered
    }

    fn bufmaxlen(&self) -> usize {
        16
    }

    fn raw_read_ch(&mut self) -> char {
        self.consume(true).unwrap_or('\0')
    }

    fn raw_read_non_breakz_ch(&mut self) -> Option<char> {
        match self.rest.chars().next() {
            Some(c) if !matches!(c, '\0' | '\n' | '\r' | '\u{feff}') => self.consume(false),
            _ => None,
        }
    }

    fn skip(&mut self) {
        self.buffered = self.buffered.saturating_sub(1);
        self.consume(true);
    }

    fn skip_n(&mut self, count: usize) {
        for _ in 0..count {
            self.skip();
        }
    }

    // The peeks below read bytes where the text is ASCII, as `saphyr`'s
    // `StrInput` does; every character they test for is ASCII.

    #[inline]
    fn peek(&self) -> char {
        match self.rest.as_bytes().first() {
            Some(&b) if b.is_ascii() => char::from(b),
            _ => self.rest.chars().next().unwrap_or('\0'),
        }
    }

    #[inline]
    fn peek_nth(&self, n: usize) -> char {
        match self.rest.as_bytes().get(..=n) {
            Some(head) if head.is_ascii() => char::from(head[n]),
            _ => self.rest.chars().nth(n).unwrap_or('\0'),
        }
    }

    #[inline]
    fn peek_opt(&self) -> Option<char> {
        match self.rest.as_bytes().first() {
            Some(&b) if b.is_ascii() => Some(char::from(b)),
            _ => self.rest.chars().next(),
        }
    }

    #[inline]
    fn next_is_document_indicator(&self) -> bool {
        let b = self.rest.as_bytes();
        b.len() >= 3
            && (b.len() == 3 || matches!(b[3], b' ' | b'\t' | b'\n' | b'\r' | 0))
            && (b[0] == b'.' || b[0] == b'-')
            && b[0] == b[1]
            && b[1] == b[2]
    }

    #[inline]
    fn next_is_document_start(&self) -> bool {
        let b = self.rest.as_bytes();
        b.len() >= 3
            && (b.len() == 3 || matches!(b[3], b' ' | b'\t' | b'\n' | b'\r' | 0))
            && b[..3] == *b"---"
    }

    #[inline]
    fn next_is_document_end(&self) -> bool {
        let b = self.rest.as_bytes();
        b.len() >= 3
            && (b.len() == 3 || matches!(b[3], b' ' | b'\t' | b'\n' | b'\r' | 0))
            && b[..3] == *b"..."
    }

    #[inline]
    fn next_is_blank_or_break(&self) -> bool {
        self.rest
            .as_bytes()
            .first()
            .is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    }

    #[inline]
    fn next_is_blank_or_breakz(&self) -> bool {
        self.rest
            .as_bytes()
            .first()
            .is_none_or(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\0'))
    }

    #[inline]
    fn next_is_blank(&self) -> bool {
        self.rest
            .as_bytes()
            .first()
            .is_some_and(|&b| matches!(b, b' ' | b'\t'))
    }

    #[inline]
    fn next_is_break(&self) -> bool {
        self.rest
            .as_bytes()
            .first()
            .is_some_and(|&b| matches!(b, b'\n' | b'\r'))
    }

    #[inline]
    fn next_is_breakz(&self) -> bool {
        self.rest
            .as_bytes()
            .first()
            .is_none_or(|&b| matches!(b, b'\n' | b'\r' | b'\0'))
    }

    #[inline]
    fn next_is_z(&self) -> bool {
        self.rest.as_bytes().first().is_none_or(|&b| b == 0)
    }

    #[inline]
    fn next_is_flow(&self) -> bool {
        self.rest
            .as_bytes()
            .first()
            .is_some_and(|&b| matches!(b, b',' | b'[' | b']' | b'{' | b'}'))
    }

    #[inline]
    fn next_is_digit(&self) -> bool {
        self.rest.as_bytes().first().is_some_and(u8::is_ascii_digit)
    }

    #[inline]
    fn next_is_alpha(&self) -> bool {
        self.rest
            .as_bytes()
            .first()
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    fn skip_while_non_breakz(&mut self) -> usize {
        let mut count = 0;
        while self
            .peek_opt()
            .is_some_and(|c| !matches!(c, '\0' | '\n' | '\r' | '\u{feff}'))
        {
            self.buffered = self.buffered.saturating_sub(1);
            self.consume(false);
            count += 1;
        }
        count
    }

    fn skip_ws_to_eol(&mut self, skip_tabs: SkipTabs) -> (usize, Result<SkipTabs, &'static str>) {
        // As the trait's default, except that the comment is not counted.
        let mut encountered_tab = false;
        let mut has_yaml_ws = false;
        let mut chars_consumed = 0;
        loop {
            match self.look_ch() {
                ' ' => {
                    has_yaml_ws = true;
                    self.skip();
                }
                '\t' if skip_tabs != SkipTabs::No => {
                    encountered_tab = true;
                    self.skip();
                }
                '#' if !encountered_tab && !has_yaml_ws => {
                    return (
                        chars_consumed,
                        Err("comments must be separated from other tokens by whitespace"),
                    );
                }
                '#' => chars_consumed += self.skip_while_non_breakz() - 1,
                _ => break,
            }
            chars_consumed += 1;
        }
        (
            chars_consumed,
            Ok(SkipTabs::Result(encountered_tab, has_yaml_ws)),
        )
    }
}

/// Maps char indexes (what `saphyr` markers count) to byte offsets in the source.
struct Source<'a> {
    text: &'a str,
    ascii: bool,
    /// Byte offset of every `CHECKPOINT_EVERY`-th char; built on first use for non-ASCII text.
    checkpoints: Option<Vec<usize>>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Source<'a> {
        Source {
            text,
            ascii: text.is_ascii(),
            checkpoints: None,
        }
    }

    /// The text from char index `index` on (empty if out of range).
    fn text_from(&mut self, index: usize) -> &'a str {
        let text = self.text;
        if self.ascii {
            return text.get(index..).unwrap_or("");
        }
        let checkpoints = self.checkpoints.get_or_insert_with(|| {
            text.char_indices()
                .step_by(CHECKPOINT_EVERY)
                .map(|(b, _)| b)
                .collect()
        });
        let Some(&base) = checkpoints.get(index / CHECKPOINT_EVERY) else {
            return "";
        };
        let rest = &text[base..];
        match rest.char_indices().nth(index % CHECKPOINT_EVERY) {
            Some((b, _)) => &rest[b..],
            None => "",
        }
    }

    /// Reads the properties (`&anchor`, `!tag`) at the start of a node's span and returns the
    /// anchor name and the position of the node's content after them. Never reads past
    /// `span.end`.
    fn properties(&mut self, span: Span) -> (Option<String>, Mark) {
        let rest = self.text_from(span.start.index());
        let end = span.end.index();
        let mut pos = Cursor {
            index: span.start.index(),
            line: span.start.line(),
            col: span.start.col(),
        };
        let mut anchor = None;
        let mut chars = rest.chars().peekable();
        while pos.index < end {
            let Some(&c) = chars.peek() else { break };
            match c {
                ' ' | '\t' => {
                    chars.next();
                    pos.advance(false);
                }
                '\n' => {
                    chars.next();
                    pos.advance(true);
                }
                '\r' => {
                    chars.next();
                    // CRLF counts as one line break, the CR as a column (like the scanner).
                    pos.advance(chars.peek() != Some(&'\n'));
                }
                '#' => {
                    while let Some(&c) = chars.peek() {
                        if c == '\n' || c == '\r' || pos.index >= end {
                            break;
                        }
                        chars.next();
                        pos.advance(false);
                    }
                }
                '&' => {
                    chars.next();
                    pos.advance(false);
                    let mut name = String::new();
                    while let Some(&c) = chars.peek() {
                        if !is_anchor_char(c) || pos.index >= end {
                            break;
                        }
                        name.push(c);
                        chars.next();
                        pos.advance(false);
                    }
                    anchor = Some(name);
                }
                '!' => {
                    chars.next();
                    pos.advance(false);
                    let verbatim = chars.peek() == Some(&'<');
                    while let Some(&c) = chars.peek() {
                        if pos.index >= end
                            || c == ' '
                            || c == '\t'
                            || c == '\n'
                            || c == '\r'
                            || (!verbatim && matches!(c, ',' | '[' | ']' | '{' | '}'))
                        {
                            break;
                        }
                        chars.next();
                        pos.advance(false);
                        if verbatim && c == '>' {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        (anchor, pos.mark())
    }

    /// The `|`/`>` indicator of a block scalar without properties: the scanner's span starts at
    /// the first content line, so look for the indicator after the previous event's end.
    fn block_indicator(&mut self, from: Marker, to: Marker) -> Option<Mark> {
        let rest = self.text_from(from.index());
        let mut pos = Cursor {
            index: from.index(),
            line: from.line(),
            col: from.col(),
        };
        let mut chars = rest.chars().peekable();
        let mut after_blank = true;
        while pos.index < to.index() {
            let c = chars.next()?;
            match c {
                '|' | '>' => return Some(pos.mark()),
                '#' if after_blank => {
                    while let Some(&c) = chars.peek() {
                        if c == '\n' || c == '\r' || pos.index >= to.index() {
                            break;
                        }
                        chars.next();
                        pos.advance(false);
                    }
                }
                '\n' => pos.advance(true),
                '\r' => pos.advance(chars.peek() != Some(&'\n')),
                _ => pos.advance(false),
            }
            after_blank = matches!(c, ' ' | '\t' | '\n' | '\r');
        }
        None
    }

    /// Where the next token starts after `from`, the end of the last event: skips blanks, line
    /// breaks, comments and the indicators (`-`, `?`, `:`, `,`) that already produced events.
    fn next_token(&mut self, from: Marker) -> Mark {
        let rest = self.text_from(from.index());
        let mut pos = Cursor {
            index: from.index(),
            line: from.line(),
            col: from.col(),
        };
        let mut chars = rest.chars().peekable();
        let mut comment = false;
        while let Some(c) = chars.next() {
            let next = chars.peek().copied();
            let separated = matches!(next, None | Some(' ' | '\t' | '\n' | '\r'));
            match c {
                '\n' | '\r' => comment = false,
                '#' => comment = true,
                _ if comment => {}
                ' ' | '\t' | ',' => {}
                '-' | '?' | ':' if separated => {}
                _ => break,
            }
            pos.advance(c == '\n' || (c == '\r' && next != Some('\n')));
        }
        pos.mark()
    }

    /// Name of the alias at `span` (`*name`), for messages.
    fn alias_name(&mut self, start: Marker) -> String {
        let rest = self.text_from(start.index());
        rest.strip_prefix('*')
            .unwrap_or(rest)
            .chars()
            .take_while(|&c| is_anchor_char(c))
            .take(200)
            .collect()
    }

    /// For an indentless sequence the parser's span starts after `- `; move back to the `-`.
    /// Block (`-`) and flow (`[`) sequences already start at their indicator.
    fn dash_before(&mut self, at: Mark) -> Mark {
        let rest = self.text_from(at.index);
        let mut next = rest.chars();
        match (next.next(), next.next()) {
            (Some('['), _) | (Some('-'), None | Some(' ' | '\t' | '\r' | '\n')) => return at,
            _ => {}
        }
        let Some(here) = self.text.len().checked_sub(rest.len()) else {
            return at;
        };
        let before = &self.text.as_bytes()[..here];
        let blanks = before
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let Some(dash) = before.len().checked_sub(blanks + 1) else {
            return at;
        };
        let steps = blanks + 1;
        if before[dash] != b'-' || (at.col as usize) <= steps {
            return at;
        }
        Mark {
            line: at.line,
            col: at.col - saturating_u32(steps),
            index: at.index - steps,
        }
    }
}

fn is_anchor_char(c: char) -> bool {
    !matches!(
        c,
        ' ' | '\t' | '\n' | '\r' | '\0' | '\u{feff}' | ',' | '[' | ']' | '{' | '}'
    )
}

struct Cursor {
    index: usize,
    line: usize,
    col: usize,
}

impl Cursor {
    fn advance(&mut self, newline: bool) {
        self.index += 1;
        if newline {
            self.line += 1;
            self.col = 0;
        } else {
            self.col += 1;
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            line: saturating_u32(self.line),
            col: saturating_u32(self.col.saturating_add(1)),
            index: self.index,
        }
    }
}

/// Renders a parser tag the way it is usually written.
fn tag_string(tag: &Tag) -> String {
    const CORE: &str = "tag:yaml.org,2002:";
    let (handle, suffix) = (tag.handle.as_str(), tag.suffix.as_str());
    if handle == CORE {
        format!("!!{suffix}")
    } else if handle.starts_with('!') {
        // `!vault` is handle "!" + suffix "vault"; a `%TAG` to a local prefix also lands here.
        format!("{handle}{suffix}")
    } else if handle.is_empty() {
        if suffix == "!" || suffix.starts_with('!') {
            // `!` (non-specific tag) or verbatim local `!<!foo>`.
            suffix.to_string()
        } else if let Some(rest) = suffix.strip_prefix(CORE) {
            format!("!!{rest}")
        } else {
            format!("!<{suffix}>")
        }
    } else {
        let full = format!("{handle}{suffix}");
        match full.strip_prefix(CORE) {
            Some(rest) => format!("!!{rest}"),
            None => format!("!<{full}>"),
        }
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
    anchors: HashMap<usize, NodeId>,
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

fn error_from_scan(e: &ScanError, src: &mut Source<'_>) -> YamlError {
    let mark = Mark::from_marker(*e.marker());
    let info = e.info();
    let (kind, message) = if info == "recursion limit exceeded" {
        (
            ErrorKind::TooDeep,
            "flow collections ([ or {) nested too deeply (the parser allows 255 levels)"
                .to_string(),
        )
    } else if info.contains("unknown anchor") {
        let name = src.alias_name(*e.marker());
        (
            ErrorKind::UnknownAnchor,
            format!("alias *{name} refers to an anchor that is not defined before it"),
        )
    } else {
        (ErrorKind::Syntax, info.to_string())
    };
    YamlError {
        kind,
        mark,
        message,
    }
}

/// Builds documents from parser events.
struct Loader<'a> {
    src: Source<'a>,
    limits: Limits,
    max_nodes: usize,
    doc: Option<Builder>,
    total_nodes: usize,
    /// Nodes that expanding the stream's aliases would add (see [`Limits::max_alias_expansion`]).
    alias_expansion: u64,
    /// End of the previous event (where to look for a block scalar's indicator).
    prev_end: Marker,
}

impl Loader<'_> {
    fn fail(kind: ErrorKind, mark: Mark, message: String) -> Result<(), YamlError> {
        Err(YamlError {
            kind,
            mark,
            message,
        })
    }

    /// Handles a node event (scalar, alias, collection start).
    fn node(&mut self, event: Event<'_>, span: Span, anchor_id: usize) -> Result<(), YamlError> {
        let Some(b) = self.doc.as_mut() else {
            let mark = Mark::from_marker(span.start);
            return Self::fail(ErrorKind::Syntax, mark, "node outside of a document".into());
        };
        let has_props = anchor_id != 0
            || matches!(
                &event,
                Event::Scalar(_, _, _, Some(_))
                    | Event::SequenceStart(_, Some(_))
                    | Event::MappingStart(_, Some(_))
            );
        let (anchor, mut start) = if has_props {
            self.src.properties(span)
        } else {
            (None, Mark::from_marker(span.start))
        };
        let anchor = if anchor_id == 0 { None } else { anchor };
        if self.total_nodes >= self.max_nodes {
            let message = format!("more than {} YAML nodes", self.max_nodes);
            return Self::fail(ErrorKind::TooManyNodes, start, message);
        }
        let mut end = Mark::from_marker(span.end);
        let kind = match event {
            Event::Scalar(value, style, _, tag) => {
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                let indicator = (block && !has_props)
                    .then(|| self.src.block_indicator(self.prev_end, span.start))
                    .flatten();
                start = indicator.unwrap_or(start);
                // The scanner reserves ~160 bytes per plain scalar; don't keep that.
                let mut value = value.into_owned();
                if value.capacity() - value.len() > 16 {
                    value.shrink_to_fit();
                }
                Kind::Scalar {
                    value,
                    style: style.into(),
                    tag: tag.map(|t| tag_string(&t)),
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if b.stack.len() >= self.limits.max_depth {
                    let message = format!(
                        "collections nested more than {} levels deep",
                        self.limits.max_depth
                    );
                    return Self::fail(ErrorKind::TooDeep, start, message);
                }
                end = start;
                if matches!(event, Event::SequenceStart(..)) {
                    if !has_props {
                        start = self.src.dash_before(start);
                        end = start;
                    }
                    Kind::Seq(Vec::new())
                } else {
                    Kind::Map(Vec::new())
                }
            }
            Event::Alias(id) => {
                if let Some(&target) = b.anchors.get(&id) {
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
                } else {
                    let name = self.src.alias_name(span.start);
                    let message = format!(
                        "alias *{name} refers to an anchor that is not defined in this document"
                    );
                    return Self::fail(ErrorKind::UnknownAnchor, start, message);
                }
            }
            _ => return Ok(()),
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
            anchor,
        });
        if let (Some(size), Some(e)) = (alias_size, b.expanded.get_mut(id.idx())) {
            *e = size;
        }
        if anchor_id != 0 {
            b.anchors.insert(anchor_id, id);
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
    fn event(
        &mut self,
        event: Event<'_>,
        span: Span,
        docs: &mut Vec<Document>,
    ) -> Result<bool, YamlError> {
        match event {
            Event::Scalar(_, _, a, _) | Event::SequenceStart(a, _) | Event::MappingStart(a, _) => {
                self.node(event, span, a)?;
            }
            Event::Alias(_) => self.node(event, span, 0)?,
            Event::DocumentStart(_) => {
                self.doc = Some(Builder::new(Mark::from_marker(span.start)));
            }
            Event::DocumentEnd => {
                if let Some(b) = self.doc.take() {
                    // The span is the `...` marker if there is one, else the next token (the
                    // next `---` or the end of the stream), which is not part of this document.
                    let end = if self.src.text_from(span.start.index()).starts_with("...") {
                        span.end
                    } else {
                        span.start
                    };
                    docs.push(b.finish(Mark::from_marker(end)));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let closed = self.doc.as_mut().and_then(|b| {
                    let (Frame::Seq(id) | Frame::Map { id, .. }) = b.stack.pop()?;
                    b.close(id);
                    b.nodes.get_mut(id.idx())
                });
                let end = Mark::from_marker(span.end);
                match closed {
                    Some(node) if end.index >= node.start.index => node.end = end,
                    _ => {}
                }
            }
            Event::StreamEnd => return Ok(false),
            Event::StreamStart | Event::Nothing => {}
        }
        Ok(true)
    }
}

/// The event loop. Stores finished documents and the first error into `stream`.
fn run(text: &str, limits: &Limits, cap: usize, stream: &mut Stream, last_mark: &mut Mark) {
    let mut loader = Loader {
        src: Source::new(text),
        limits: *limits,
        max_nodes: limits.max_nodes.min(u32::MAX as usize - 1),
        doc: None,
        total_nodes: 0,
        alias_expansion: 0,
        prev_end: Marker::new(0, 1, 0),
    };
    let budget = Rc::new(Budget {
        units: Cell::new(0),
        cap,
        cut: Cell::new(false),
    });
    let mut parser = Parser::new(GuardedInput::new(text, Rc::clone(&budget)));
    while let Some(next) = parser.next_event() {
        if budget.cut.get() {
            // The scanner saw an artificial end of input: nothing from here on is real.
            let mark = loader.src.next_token(loader.prev_end);
            stream.error = Some(YamlError {
                kind: ErrorKind::TooLarge,
                mark,
                message: format!(
                    "refusing to read more than {cap} tokens ahead from here before the parser \
                     produces anything: a [...] or {{...}} that could be a mapping key (first on \
                     its line, after `- `, or directly inside another [...] or {{...}}) is read \
                     whole, and so is one scalar; `key: [...]` on one line would stream"
                ),
            });
            return;
        }
        let (event, span) = match next {
            Ok(ev) => ev,
            Err(e) => {
                stream.error = Some(error_from_scan(&e, &mut loader.src));
                return;
            }
        };
        *last_mark = Mark::from_marker(span.start);
        // An implicit document start has the span of the document's first token.
        let advance = !matches!(event, Event::DocumentStart(false));
        let result = loader.event(event, span, &mut stream.docs);
        if advance {
            loader.prev_end = span.end;
        }
        budget.units.set(0);
        match result {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                stream.error = Some(e);
                return;
            }
        }
    }
}

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
        let mut out = Vec::new();
        let mut seen: HashMap<&str, NodeId> = HashMap::new();
        for node in &self.nodes {
            let Kind::Map(entries) = &node.kind else {
                continue;
            };
            let key = |k: NodeId| (!self.is_merge_key(k)).then(|| self.key_str(k)).flatten();
            if entries.len() <= 8 {
                // Small maps (nearly all): compare pairwise, no allocation.
                for (i, &(k, _)) in entries.iter().enumerate() {
                    let Some(s) = key(k) else { continue };
                    let first = entries[..i]
                        .iter()
                        .map(|&(f, _)| f)
                        .find(|&f| key(f) == Some(s));
                    if let Some(first) = first {
                        out.push((first, k));
                    }
                }
            } else {
                seen.clear();
                for &(k, _) in entries {
                    let Some(s) = key(k) else { continue };
                    match seen.get(s) {
                        Some(&first) => out.push((first, k)),
                        None => {
                            seen.insert(s, k);
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
    /// [`Document::visit_scalars`]. Paths are cloned per scalar, so total work is capped (an
    /// adversarial file with long keys over many deep scalars could otherwise need memory far
    /// beyond its size): the budget is 32 bytes per char of the document plus 4 MiB, at most
    /// 1 GiB. Past the budget the remaining scalars are still returned, with an empty path.
    /// Use [`Document::scalars_budgeted`] to know whether that happened.
    #[must_use]
    pub fn scalars(&self) -> Vec<(NodeId, Vec<PathSeg>)> {
        let size = self.end.index.saturating_sub(self.start.index);
        let budget = size.saturating_mul(32).saturating_add(4 << 20).min(1 << 30);
        self.scalars_budgeted(budget).0
    }

    /// Like [`Document::scalars`] with an explicit budget in bytes (counted as the size of each
    /// cloned path: its segments plus key bytes). Returns whether paths were dropped.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (fuzzing, target `yaml`): without a final newline, the end of the last
    /// document and of its block collections was on a line the text does not have.
    #[test]
    fn marks_at_the_end_stay_on_the_last_line() {
        for text in [
            "a:\n  b: c",
            "a:\r\n  b: c",
            "- x\n- y",
            "a: [1, 2",
            "k: v\n---\nz: 1",
        ] {
            let s = parse(text, &Limits::default());
            let lines = text.lines().count() as u32;
            let mut marks: Vec<Mark> = s.error.iter().map(|e| e.mark).collect();
            for d in &s.docs {
                marks.extend([d.start, d.end]);
                marks.extend(d.nodes().iter().flat_map(|n| [n.start, n.end]));
            }
            assert!(!marks.is_empty(), "{text:?}");
            for m in marks {
                assert!(m.line <= lines, "{text:?}: {m:?}");
                assert!(m.index <= text.chars().count(), "{text:?}: {m:?}");
            }
        }
        let s = parse("a:\n  b: cd", &Limits::default());
        assert_eq!((s.docs[0].end.line, s.docs[0].end.col), (2, 8));
    }
    use std::time::Instant;

    fn parse_ok(text: &str) -> Vec<Document> {
        let s = parse(text, &Limits::default());
        assert!(s.error.is_none(), "unexpected error: {:?}", s.error);
        s.docs
    }

    fn one(text: &str) -> Document {
        let mut docs = parse_ok(text);
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    /// Runs `f` on a fresh thread with an explicit 2 MiB stack (what test threads get).
    fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .expect("spawn")
            .join()
            .expect("no panic")
    }

    fn at(doc: &Document, path: &[&str]) -> NodeId {
        let root = doc.root().expect("root");
        doc.get_path(root, path)
            .unwrap_or_else(|| panic!("no {path:?}"))
    }

    fn pos(doc: &Document, id: NodeId) -> (u32, u32) {
        let n = doc.node(id);
        (n.start.line, n.start.col)
    }

    /// The key node of `key` in the mapping at `path`.
    fn key_node(doc: &Document, path: &[&str], key: &str) -> NodeId {
        let map = if path.is_empty() {
            doc.root().expect("root")
        } else {
            at(doc, path)
        };
        doc.entries(map)
            .into_iter()
            .find(|&(k, _)| doc.str(k) == Some(key))
            .map(|(k, _)| k)
            .expect("key")
    }

    #[test]
    fn positions_in_multi_document_stream() {
        let text = "a: 1\n---\nname: web\nport:   8080\n---\n# comment\nitems:\n  - x\n  - y: z\n";
        let docs = parse_ok(text);
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[0].start.line, docs[0].start.col), (1, 1));
        assert_eq!(docs[1].start.line, 2);
        assert_eq!(docs[2].start.line, 5);

        let d = &docs[1];
        assert_eq!(pos(d, key_node(d, &[], "name")), (3, 1));
        assert_eq!(pos(d, at(d, &["name"])), (3, 7));
        assert_eq!(d.str(at(d, &["name"])), Some("web"));
        assert_eq!(pos(d, at(d, &["port"])), (4, 9));
        let port = d.node(at(d, &["port"]));
        assert_eq!((port.end.line, port.end.col), (4, 13));
        assert_eq!(port.start.index, text.find("8080").unwrap());

        let d = &docs[2];
        assert_eq!(pos(d, key_node(d, &[], "items")), (7, 1));
        let items = at(d, &["items"]);
        assert_eq!(
            pos(d, items),
            (8, 3),
            "block sequence starts at its first `-`"
        );
        let seq = d.seq(items);
        assert_eq!(seq.len(), 2);
        assert_eq!(pos(d, seq[0]), (8, 5));
        assert_eq!(pos(d, seq[1]), (9, 5));
        assert_eq!(pos(d, d.get(seq[1], "y").unwrap()), (9, 8));
        assert_eq!(d.str(d.get(seq[1], "y").unwrap()), Some("z"));
    }

    #[test]
    fn indentless_sequence_starts_at_dash() {
        let d = one("list:\n- a\n-   b\n");
        let list = at(&d, &["list"]);
        assert_eq!(pos(&d, list), (2, 1));
        assert_eq!(pos(&d, d.seq(list)[1]), (3, 5));
        // A flow sequence in a block sequence is not moved to the dash.
        let d = one("- [a]\n");
        let inner = d.seq(d.root().unwrap())[0];
        assert_eq!(pos(&d, inner), (1, 3));
    }

    #[test]
    fn block_scalar_value_and_position() {
        let text = "tls:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----\n  key: !!binary >-\n    QUJD\n    REVG\nnext: 1\n";
        let d = one(text);
        let cert = at(&d, &["tls", "cert"]);
        assert_eq!(
            d.str(cert),
            Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        );
        let n = d.node(cert);
        assert!(matches!(
            n.kind,
            Kind::Scalar {
                style: Style::Literal,
                tag: None,
                ..
            }
        ));
        assert_eq!((n.start.line, n.start.col), (2, 9), "at the `|`");
        assert_eq!(n.end.line, 6);

        let key = at(&d, &["tls", "key"]);
        let n = d.node(key);
        assert_eq!(d.str(key), Some("QUJD REVG"));
        match &n.kind {
            Kind::Scalar { style, tag, .. } => {
                assert_eq!(*style, Style::Folded);
                assert_eq!(tag.as_deref(), Some("!!binary"));
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(
            (n.start.line, n.start.col),
            (6, 17),
            "after the tag, at the `>`"
        );
        assert_eq!(pos(&d, at(&d, &["next"])), (9, 7));
        // Indicator found after blank lines / in sequences / at the document root.
        let d = one("a:\n  - x\nb: |+\n\n  text\nc:\n  - >\n    folded\n");
        assert_eq!(pos(&d, at(&d, &["b"])), (3, 4));
        assert_eq!(d.str(at(&d, &["b"])), Some("\ntext\n"));
        assert_eq!(pos(&d, d.seq(at(&d, &["c"]))[0]), (7, 5));
        let d = one("--- |\n  root text\n");
        assert_eq!(pos(&d, d.root().unwrap()), (1, 5));
        let docs = parse_ok("# c | x\n>\n  root\n...\n|\n  two\n");
        assert_eq!(pos(&docs[0], docs[0].root().unwrap()), (2, 1));
        assert_eq!(pos(&docs[1], docs[1].root().unwrap()), (5, 1));
    }

    #[test]
    fn merge_keys() {
        let text = "\
base: &base {a: 1, b: 2}
ext: &ext
  <<: *base
  c: 3
list:
  <<: [*ext, {b: 20, d: 4}]
  a: 10
over:
  <<: *base
  b: override
nested:
  <<: *ext
inline:
  <<: {x: 1}
  y: 2
dup: {k: 1, j: 0, k: 2}
";
        let d = one(text);
        let root = d.root().unwrap();
        let flat = |path: &[&str]| -> Vec<(String, String)> {
            let m = d.get_path(root, path).unwrap();
            d.entries(m)
                .into_iter()
                .map(|(k, v)| (d.str(k).unwrap().to_string(), d.str(v).unwrap().to_string()))
                .collect()
        };
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(flat(&["ext"]), pairs(&[("c", "3"), ("a", "1"), ("b", "2")]));
        // Explicit first, then the merge list in order; the earlier merged map wins.
        assert_eq!(
            flat(&["list"]),
            pairs(&[("a", "10"), ("c", "3"), ("b", "2"), ("d", "4")])
        );
        assert_eq!(flat(&["over"]), pairs(&[("b", "override"), ("a", "1")]));
        assert_eq!(
            flat(&["nested"]),
            pairs(&[("c", "3"), ("a", "1"), ("b", "2")])
        );
        assert_eq!(flat(&["inline"]), pairs(&[("y", "2"), ("x", "1")]));
        // Duplicate explicit keys: one entry, last value, first position.
        assert_eq!(flat(&["dup"]), pairs(&[("k", "2"), ("j", "0")]));

        assert_eq!(d.str(at(&d, &["list", "b"])), Some("2"));
        assert_eq!(d.str(at(&d, &["nested", "a"])), Some("1"));
        assert_eq!(d.str(at(&d, &["over", "b"])), Some("override"));
        assert_eq!(d.str(at(&d, &["dup", "k"])), Some("2"));
        assert_eq!(d.get(at(&d, &["over"]), "<<"), None);
        // Raw entries keep the `<<` entry.
        let over = at(&d, &["over"]);
        assert_eq!(d.raw_entries(over).len(), 2);
        assert!(d.is_merge_key(d.raw_entries(over)[0].0));
        // A quoted "<<" is an ordinary key.
        let d = one("a: &a {x: 1}\nb:\n  '<<': *a\n");
        assert!(d.get(at(&d, &["b"]), "x").is_none());
        assert!(d.get(at(&d, &["b"]), "<<").is_some());
    }

    #[test]
    fn self_referencing_merges_and_aliases_terminate() {
        let d = one("r: &r\n  a: 1\n  <<: *r\n  self: *r\ns: &s [1, *s]\n");
        let r = at(&d, &["r"]);
        let keys: Vec<_> = d
            .entries(r)
            .iter()
            .map(|&(k, _)| d.str(k).unwrap())
            .collect();
        assert_eq!(keys, ["a", "self"]);
        assert_eq!(d.get(r, "missing"), None);
        assert_eq!(d.resolve(at(&d, &["r", "self"])), r);
        assert_eq!(d.str(at(&d, &["r", "self", "self", "a"])), Some("1"));
        let s = at(&d, &["s"]);
        assert_eq!(d.resolve(d.seq(s)[1]), s);
        assert_eq!(d.scalars().len(), 2);
        // Wide merge lists of the same map are visited once.
        let mut text = String::from("m: &m {k: v}\nx:\n  <<: [");
        for i in 0..5000 {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str("*m");
        }
        text.push_str("]\n");
        let d = one(&text);
        assert_eq!(d.entries(at(&d, &["x"])).len(), 1);
    }

    #[test]
    fn aliases_are_references() {
        let text = "a: &anc\n  k: v\n  list: [1, 2]\nb: *anc\nc: &s hello\nd: *s\n";
        let d = one(text);
        let a = at(&d, &["a"]);
        let b = at(&d, &["b"]);
        assert!(matches!(d.node(b).kind, Kind::Alias(t) if t == a));
        assert_eq!(d.resolve(b), a);
        assert_eq!(d.node(a).anchor.as_deref(), Some("anc"));
        assert_eq!(pos(&d, a), (2, 3), "after the anchor, at the first key");
        assert_eq!(pos(&d, b), (4, 4));
        assert_eq!(d.str(at(&d, &["b", "k"])), Some("v"));
        assert_eq!(d.seq(at(&d, &["b", "list"])).len(), 2);
        assert_eq!(d.str(at(&d, &["d"])), Some("hello"));
        let c = at(&d, &["c"]);
        assert_eq!(d.node(c).anchor.as_deref(), Some("s"));
        assert_eq!(pos(&d, c), (5, 7));
        assert_eq!(d.resolve(at(&d, &["d"])), c);
        // Anchors can be redefined; an alias refers to the latest one.
        let d = one("a: &x 1\nb: &x 2\nc: *x\n");
        assert_eq!(d.str(at(&d, &["c"])), Some("2"));
    }

    #[test]
    fn alias_bomb_stays_small() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let items = vec![format!("*{}", w[0]); 9].join(",");
            text.push_str(&format!("{}: &{} [{items}]\n", w[1], w[1]));
        }
        assert!(text.len() < 1024);
        let started = Instant::now();
        // Refused by default (see `alias_bomb_is_refused`); with the check off, the tree still
        // holds one node per alias in the source.
        let limits = Limits {
            max_alias_expansion: u64::MAX,
            ..Limits::default()
        };
        let mut s = parse(&text, &limits);
        assert!(s.error.is_none(), "{:?}", s.error);
        let d = s.docs.remove(0);
        assert!(d.len() < 150, "{} nodes", d.len());
        let i = at(&d, &["i"]);
        assert_eq!(d.seq(i).len(), 9);
        let all_aliases = d
            .seq(i)
            .iter()
            .all(|&x| matches!(d.node(x).kind, Kind::Alias(_)));
        assert!(all_aliases);
        assert_eq!(d.entries(d.root().unwrap()).len(), 9);
        assert_eq!(d.scalars().len(), 9);
        assert!(started.elapsed().as_secs() < 5);
    }

    /// The 342-byte "billion laughs" (9 levels of 9 aliases: 387 million nodes expanded) and
    /// a wider 1 KB one are refused at the alias that crosses the limit; earlier documents
    /// are kept.
    #[test]
    fn alias_bomb_is_refused() {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for c in "bcdefghi".chars() {
            let prev = (c as u8 - 1) as char;
            bomb.push_str(&format!(
                "{c}: &{c} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        assert_eq!(bomb.len(), 342);
        let text = format!("ok: 1\n---\n{bomb}");
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        assert!(started.elapsed().as_secs() < 5);
        assert_eq!(s.docs.len(), 1, "the document before the bomb is kept");
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::AliasExpansion);
        // Each alias adds its target's expanded size less one: 9 × (9, 90, 819, 7380, 66429)
        // for b to f, 672,543 in all; g's first alias adds 597,870 and crosses the million.
        assert_eq!((e.mark.line, e.mark.col), (9, 8), "{e}");

        let mut wide = String::from("a: &a [x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x]\n");
        for c in "bcdefghijklmnopqr".chars() {
            let prev = (c as u8 - 1) as char;
            wide.push_str(&format!(
                "{c}: &{c} [{}]\n",
                vec![format!("*{prev}"); 16].join(",")
            ));
        }
        assert_eq!(wide.len(), 1000);
        let e = parse(&wide, &Limits::default()).error.expect("error");
        assert_eq!(e.kind, ErrorKind::AliasExpansion);

        // A recursive alias expands to nothing more; merges of a shared map are fine.
        assert!(parse("a: &a [1, *a]\n", &Limits::default()).error.is_none());
        let mut merges = String::from("base: &b {x: 1, y: 2, z: 3}\n");
        for i in 0..10_000 {
            merges.push_str(&format!("k{i}: {{<<: *b, w: {i}}}\n"));
        }
        assert!(parse(&merges, &Limits::default()).error.is_none());
    }

    #[test]
    fn duplicate_keys_are_listed_at_the_repetition() {
        let d = one("a: 1\nb:\n  x: 1\n  \"x\": 2\na: 3\nc: {<<: {}, <<: {}}\na: 4\n");
        let dups: Vec<((u32, u32), (u32, u32))> = d
            .duplicate_keys()
            .into_iter()
            .map(|(f, r)| (pos(&d, f), pos(&d, r)))
            .collect();
        // The root map is node 0, so its repetitions come first.
        assert_eq!(dups, [((1, 1), (5, 1)), ((1, 1), (7, 1)), ((3, 3), (4, 3))]);
        // The last value wins.
        assert_eq!(d.str(at(&d, &["a"])), Some("4"));
        // Large maps take the hashed path.
        let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k42: again\n");
        let d = one(&text);
        let dups = d.duplicate_keys();
        assert_eq!(dups.len(), 1);
        assert_eq!(
            (pos(&d, dups[0].0), pos(&d, dups[0].1)),
            ((43, 1), (101, 1))
        );
    }

    #[test]
    fn ten_thousand_open_brackets_is_too_deep() {
        let (kind, mark, elapsed) = on_small_stack(|| {
            let text = "[".repeat(10_000);
            let started = Instant::now();
            let s = parse(&text, &Limits::default());
            let e = s.error.expect("error");
            assert!(s.docs.is_empty());
            (e.kind, e.mark, started.elapsed())
        });
        println!("10k `[`: {elapsed:?} (debug build), error at {mark}");
        assert_eq!(kind, ErrorKind::TooDeep);
        assert_eq!(mark.line, 1);

        let elapsed = on_small_stack(|| {
            let text = "x: ".to_string() + &"{a: [".repeat(5_000);
            let started = Instant::now();
            let s = parse(&text, &Limits::default());
            assert_eq!(s.error.expect("error").kind, ErrorKind::TooDeep);
            started.elapsed()
        });
        println!("5k `{{a: [`: {elapsed:?} (debug build)");

        // Our own limit applies below the scanner's 255.
        let limits = Limits {
            max_depth: 5,
            ..Limits::default()
        };
        let s = parse("k: [[[[[[1]]]]]]\n", &limits);
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::TooDeep);
        assert_eq!((e.mark.line, e.mark.col), (1, 8), "{e}");
    }

    #[test]
    fn four_thousand_nested_block_mappings_is_too_deep() {
        let (text_len, kind, mark, elapsed) = on_small_stack(|| {
            // ~2 KB per level: 1-space indentation plus a trailing comment.
            let mut text = String::new();
            for level in 0..4000 {
                text.push_str(&" ".repeat(level));
                text.push_str("k: #");
                text.push_str(&"x".repeat(2000usize.saturating_sub(level)));
                text.push('\n');
            }
            let started = Instant::now();
            let s = parse(&text, &Limits::default());
            let elapsed = started.elapsed();
            assert!(s.docs.is_empty());
            let e = s.error.expect("error");
            (text.len(), e.kind, e.mark, elapsed)
        });
        println!("4000 nested block mappings, {text_len} bytes: {elapsed:?} (debug build)");
        assert_eq!(kind, ErrorKind::TooDeep);
        assert_eq!((mark.line, mark.col), (257, 257));

        let (text_len, kind, elapsed) = on_small_stack(|| {
            // 2-space indentation (16 MB).
            let mut text = String::new();
            for level in 0..4000 {
                text.push_str(&"  ".repeat(level));
                text.push_str("k:\n");
            }
            let started = Instant::now();
            let s = parse(&text, &Limits::default());
            (text.len(), s.error.expect("error").kind, started.elapsed())
        });
        let what = "4000 nested block mappings, 2-space indent";
        println!("{what}, {text_len} bytes: {elapsed:?} (debug build)");
        assert_eq!(kind, ErrorKind::TooDeep);

        let (kind, elapsed) = on_small_stack(|| {
            let text = "- ".repeat(4000) + "x\n";
            let started = Instant::now();
            let s = parse(&text, &Limits::default());
            (s.error.expect("error").kind, started.elapsed())
        });
        println!("4000 compact nested sequences: {elapsed:?} (debug build)");
        assert_eq!(kind, ErrorKind::TooDeep);
    }

    #[test]
    fn depth_exactly_at_limit_is_fine() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let s = parse("a:\n  b:\n    c: 1\n", &limits);
        assert!(s.error.is_none(), "{:?}", s.error);
        let s = parse("a:\n  b:\n    c:\n      d: 1\n", &limits);
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::TooDeep);
        assert_eq!((e.mark.line, e.mark.col), (4, 7));
    }

    #[test]
    fn syntax_error_keeps_earlier_documents() {
        let text = "a: 1\n---\nb: 2\n---\nc: [1, 2\nd: 3\n";
        let s = parse(text, &Limits::default());
        assert_eq!(s.docs.len(), 2);
        assert_eq!(
            s.docs[1].str(s.docs[1].get(s.docs[1].root().unwrap(), "b").unwrap()),
            Some("2")
        );
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert!(!e.message.is_empty());
        assert!(e.mark.line >= 5, "{e}");
        assert!(e.to_string().contains("line"));

        let s = parse("a: 1\nb: : :\n", &Limits::default());
        assert!(s.docs.is_empty(), "a document cut short is not returned");
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.mark.line, 2);
    }

    #[test]
    fn unknown_anchor() {
        let s = parse("a: *nope\n", &Limits::default());
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::UnknownAnchor);
        assert!(e.message.contains("*nope"), "{e}");
        assert_eq!((e.mark.line, e.mark.col), (1, 4));
        // Anchors do not carry over to the next document.
        let s = parse("a: &x 1\n---\nb: *x\n", &Limits::default());
        assert_eq!(s.docs.len(), 1);
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::UnknownAnchor);
        assert!(e.message.contains("*x"), "{e}");
        assert_eq!(e.mark.line, 3);
    }

    #[test]
    fn size_and_node_limits() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let s = parse("a: 1234567890\n", &limits);
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert_eq!((e.mark.line, e.mark.col), (1, 1));

        let limits = Limits {
            max_nodes: 5,
            ..Limits::default()
        };
        let s = parse("a: 1\n---\nb: 2\nc: 3\n", &limits);
        assert_eq!(s.docs.len(), 1);
        let e = s.error.expect("error");
        assert_eq!(e.kind, ErrorKind::TooManyNodes);
        assert_eq!((e.mark.line, e.mark.col), (3, 4));
    }

    #[test]
    fn empty_documents() {
        let docs = parse_ok("---\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].root(), None);
        assert!(docs[0].is_empty());
        assert!(docs[0].scalars().is_empty());

        let docs = parse_ok("---\n# nothing\n---\na: 1\n...\n---\n");
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].root(), None);
        assert!(docs[1].root().is_some());
        assert_eq!(docs[2].root(), None);

        let d = one("--- ~\n");
        assert!(d.is_null(d.root().unwrap()));
        let d = one("--- ''\n");
        assert!(!d.is_null(d.root().unwrap()));
    }

    #[test]
    fn only_a_comment_or_nothing() {
        assert!(parse_ok("# just a comment\n").is_empty());
        assert!(parse_ok("# one\n\n   # two\n").is_empty());
        assert!(parse_ok("").is_empty());
        assert!(parse_ok("\n\n").is_empty());
    }

    #[test]
    fn nulls() {
        let text = "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: ''\ng: \"null\"\nh: !!null ''\ni: nil\nj: &n ~\nk: *n\nl: !!str\nm: 0\n";
        let d = one(text);
        let null = |k: &str| d.is_null(at(&d, &[k]));
        for k in ["a", "b", "c", "d", "e", "h", "j", "k"] {
            assert!(null(k), "{k} should be null");
        }
        for k in ["f", "g", "i", "l", "m"] {
            assert!(!null(k), "{k} should not be null");
        }
        assert!(!d.is_null(d.root().unwrap()));
    }

    #[test]
    fn scalars_walker_paths() {
        let text = "\
top: &t
  list:
    - one
    - k: two
  'quoted key': three
copy: *t
merged:
  <<: *t
  own: four
? [complex]
: five
";
        let d = one(text);
        let got: Vec<(String, String)> = d
            .scalars()
            .into_iter()
            .map(|(id, path)| {
                let p: Vec<String> = path.iter().map(ToString::to_string).collect();
                (p.join("."), d.str(id).unwrap().to_string())
            })
            .collect();
        let want = [
            ("top.list.[0]", "one"),
            ("top.list.[1].k", "two"),
            ("top.quoted key", "three"),
            ("merged.own", "four"),
            ("?", "five"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want);
        let (list, truncated) = d.scalars_budgeted(usize::MAX);
        assert!(!truncated);
        assert_eq!(
            list[1].1,
            [
                PathSeg::Key("top".into()),
                PathSeg::Key("list".into()),
                PathSeg::Index(1),
                PathSeg::Key("k".into()),
            ]
        );
        // A scalar root has an empty path.
        let d = one("just text\n");
        assert_eq!(d.scalars().len(), 1);
        assert!(d.scalars()[0].1.is_empty());
        // Budget exhausted: every scalar is still returned, later ones without a path.
        let d = one("a:\n  b: 1\n  c: 2\n  d: 3\n");
        let (list, truncated) = d.scalars_budgeted(100);
        assert!(truncated);
        assert_eq!(list.len(), 3);
        assert!(!list[0].1.is_empty());
        assert!(list[2].1.is_empty());
    }

    #[test]
    fn long_aliased_keys_are_cut_in_paths() {
        let long = "k".repeat(10_000);
        let mut text = format!("x: &k {long}\nm:\n");
        for i in 0..50 {
            text.push_str(&format!("  - *k : {i}\n"));
        }
        let d = one(&text);
        let scalars = d.scalars();
        assert_eq!(scalars.len(), 51);
        match &scalars[1].1[2] {
            PathSeg::Key(k) => assert!(k.len() < 300 && k.starts_with("kkk")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tabs_and_crlf() {
        let d = one("a: 1\r\nb:\r\n  c: \"x\"\r\n  d: [1,\t2]\r\n");
        assert_eq!(pos(&d, at(&d, &["a"])), (1, 4));
        assert_eq!(pos(&d, at(&d, &["b", "c"])), (3, 6));
        assert_eq!(d.str(at(&d, &["b", "c"])), Some("x"));
        assert_eq!(pos(&d, at(&d, &["b", "d"])), (4, 6));
        assert_eq!(d.seq(at(&d, &["b", "d"])).len(), 2);
        let d = one("a: \t1\nb: |\r\n  line1\r\n  line2\r\n");
        assert_eq!(d.str(at(&d, &["a"])), Some("1"));
        assert_eq!(pos(&d, at(&d, &["b"])), (2, 4));
        assert_eq!(d.str(at(&d, &["b"])), Some("line1\nline2\n"));
        // saphyr quirk: a tab right after `:` followed by a letter, digit or `-` is refused.
        let s = parse("a:\t1\n", &Limits::default());
        assert_eq!(s.error.expect("error").kind, ErrorKind::Syntax);
        let d = one("a:\t\"1\"\n");
        assert_eq!(d.str(at(&d, &["a"])), Some("1"));
        // Tabs as indentation are an error, not a panic.
        let s = parse("a:\n\tb: 1\n", &Limits::default());
        assert_eq!(s.error.expect("error").kind, ErrorKind::Syntax);
        // Lone CR line breaks count as lines too.
        let d = one("a: 1\rb: 2\r");
        assert_eq!(pos(&d, at(&d, &["b"])), (2, 4));
    }

    #[test]
    fn tags() {
        let text = "%TAG !e! tag:example.com,2000:\n---\na: !!binary QUJD\nb: !vault x\nc: ! y\nd: !<tag:yaml.org,2002:str> z\ne: !e!foo w\nf: !<!bar> v\ng: !<urn:x> u\nh: !!map {k: v}\n";
        let d = one(text);
        let tag = |k: &str| match &d.node(at(&d, &[k])).kind {
            Kind::Scalar { tag, .. } => tag.clone(),
            _ => None,
        };
        assert_eq!(tag("a").as_deref(), Some("!!binary"));
        assert_eq!(tag("b").as_deref(), Some("!vault"));
        assert_eq!(tag("c").as_deref(), Some("!"));
        assert_eq!(tag("d").as_deref(), Some("!!str"));
        assert_eq!(tag("e").as_deref(), Some("!<tag:example.com,2000:foo>"));
        assert_eq!(tag("f").as_deref(), Some("!bar"));
        assert_eq!(tag("g").as_deref(), Some("!<urn:x>"));
        assert_eq!(pos(&d, at(&d, &["b"])), (4, 11));
        assert_eq!(pos(&d, at(&d, &["h"])), (10, 10));
    }

    #[test]
    fn non_ascii_positions_and_anchor_names() {
        let text = "ключ: &якорь значение\nб: *якорь\n\"ä\": [ü, &ö ß]\n";
        let d = one(text);
        let v = at(&d, &["ключ"]);
        assert_eq!(d.node(v).anchor.as_deref(), Some("якорь"));
        assert_eq!(pos(&d, v), (1, 14));
        assert_eq!(d.node(v).start.index, 13);
        assert_eq!(d.resolve(at(&d, &["б"])), v);
        assert_eq!(pos(&d, at(&d, &["б"])), (2, 4));
        let items = d.seq(at(&d, &["ä"]));
        assert_eq!(pos(&d, items[1]), (3, 13));
        assert_eq!(d.node(items[1]).anchor.as_deref(), Some("ö"));
        // Many anchors far into a non-ASCII text (checkpointed char → byte mapping).
        let mut text = String::from("é: 1\n");
        for i in 0..2000 {
            text.push_str(&format!("k{i}: &a{i} v{i}é\n"));
        }
        let d = one(&text);
        let v = at(&d, &["k1999"]);
        assert_eq!(d.node(v).anchor.as_deref(), Some("a1999"));
        assert_eq!(pos(&d, v), (2001, 15));
    }

    #[test]
    fn results_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Stream>();
        send_sync::<Document>();
        send_sync::<YamlError>();
    }

    #[test]
    fn missing_ids_do_not_panic() {
        let d = one("a: 1\n");
        let bogus = NodeId(9999);
        assert_eq!(d.str(bogus), Some(""));
        assert!(d.seq(bogus).is_empty());
        assert!(d.entries(bogus).is_empty());
        assert_eq!(d.get(bogus, "a"), None);
        assert_eq!(d.resolve(bogus), bogus);
        assert_eq!(d.get_path(d.root().unwrap(), &["a", "b"]), None);
        assert_eq!(d.get_path(d.root().unwrap(), &[]), d.root());
    }

    #[test]
    fn oversized_flow_collections_are_refused_before_buffering() {
        // The cap follows max_nodes: 4 * 100 + 1024 units.
        let limits = Limits {
            max_nodes: 100,
            ..Limits::default()
        };
        let items = vec!["1"; 2000].join(",");
        // (prefix, column where the buffered node starts)
        for (prefix, col) in [
            ("", 1),
            ("- ", 3),
            ("- - ", 5),
            ("? ", 3),
            ("&a ", 1),
            ("!!seq ", 1),
            ("[x] ", 1),
            ("  - &a !t ", 5),
        ] {
            let text = format!("a: 1\n---\n{prefix}[{items}]\n");
            let s = parse(&text, &limits);
            assert_eq!(s.docs.len(), 1, "{prefix:?}");
            let e = s.error.expect("error");
            assert_eq!(e.kind, ErrorKind::TooLarge, "{prefix:?}: {e}");
            assert_eq!((e.mark.line, e.mark.col), (3, col), "{prefix:?}");
        }
        // After `key:` on the same line the parser streams: the node limit applies instead.
        let s = parse(&format!("key: [{items}]\n"), &limits);
        assert_eq!(s.error.expect("error").kind, ErrorKind::TooManyNodes);
        // ... but not for a collection nested where a key may start inside it.
        for body in [
            format!("[[{items}]]"),
            format!("{{[{items}]: 1}}"),
            format!("[x, {{{items}}}]"),
            format!("[[a] [{items}]]"),
            format!("[&a &b {}]", vec!["&c"; 2000].join(" ")),
        ] {
            let s = parse(&format!("key: {body}\n"), &limits);
            let e = s.error.expect("error");
            assert_eq!(e.kind, ErrorKind::TooLarge, "{body:.40}: {e}");
        }
        let s = parse(&format!("key: [x, [{items}]]\n"), &limits);
        let e = s.error.expect("error");
        assert_eq!((e.mark.line, e.mark.col), (1, 10), "{e}");
        // Many small nested collections are fine.
        let small = vec!["{a: 1}"; 300].join(", ");
        let s = parse(&format!("key: [{small}]\n"), &Limits::default());
        assert!(s.error.is_none(), "{:?}", s.error);
        // Block scalars and comments are not counted, however large.
        let lines = format!("  [{items}\n").repeat(20);
        let comments = format!("# [{items}\n").repeat(20);
        let s = parse(&format!("- |\n{lines}{comments}- x # {items}\n"), &limits);
        assert!(s.error.is_none(), "{:?}", s.error);
        // A single scalar with that many words or indicators is refused too (documented).
        let s = parse(&format!("- \"{items}\"\n"), &limits);
        assert_eq!(s.error.expect("error").kind, ErrorKind::TooLarge);
    }

    #[test]
    fn prefixes_and_mutations_never_panic() {
        let sample = "\
%YAML 1.2
---
a: &a {x: [1, 2, {y: \"q\\\"\"}], 'z': |
    block}
b: *a
c: !!binary >-
  QUJD
? [k, l]
: - m
  - &n !t n
  - *n
\"é\": [ü: v, w]
...
--- !!str
text
";
        let limits = Limits::default();
        let chars: Vec<(usize, char)> = sample.char_indices().collect();
        for &(i, _) in &chars {
            assert_same_events(&sample[..i]);
            let s = parse(&sample[..i], &limits);
            check_ids(&s);
        }
        // Deterministic pseudo-random mutations.
        let alphabet: Vec<char> = "[]{}:,-?&*!|>'\"#\n\t \r%@`~é\u{feff}ab1".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let mut s: Vec<char> = sample.chars().collect();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % s.len();
                let c = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 => s[at] = c,
                    1 => s.insert(at, c),
                    _ => {
                        s.remove(at);
                    }
                }
            }
            let text: String = s.into_iter().collect();
            assert_same_events(&text);
            let out = parse(&text, &limits);
            check_ids(&out);
            for d in &out.docs {
                let _ = d.scalars();
                if let Some(r) = d.root() {
                    let _ = d.entries(r);
                }
            }
        }
    }

    type EventLog<'a> = Vec<Result<(Event<'a>, Span), ScanError>>;

    fn events_of<'a, T: Input>(parser: Parser<'a, T>) -> EventLog<'a> {
        let mut out = Vec::new();
        for ev in parser {
            let stop = ev.is_err();
            out.push(ev);
            if stop {
                break;
            }
        }
        out
    }

    /// Our input gives the scanner exactly what `StrInput` gives it.
    fn assert_same_events(text: &str) {
        let budget = Rc::new(Budget {
            units: Cell::new(0),
            cap: usize::MAX,
            cut: Cell::new(false),
        });
        let ours = events_of(Parser::new(GuardedInput::new(text, budget)));
        let reference = events_of(Parser::new_from_str(text));
        // `StrInput` counts bytes instead of chars for non-ASCII directive parameters (a saphyr
        // bug: later marks drift); we count chars. Compare events only, then.
        let drift = text
            .split(['\n', '\r'])
            .any(|l| l.starts_with('%') && !l.is_ascii());
        if drift {
            fn strip(log: &EventLog<'_>) -> Vec<Result<String, String>> {
                log.iter()
                    .map(|r| match r {
                        Ok((e, _)) => Ok(format!("{e:?}")),
                        Err(e) => Err(e.info().to_string()),
                    })
                    .collect()
            }
            assert_eq!(strip(&ours), strip(&reference), "input {text:?}");
        } else {
            assert_eq!(ours, reference, "input {text:?}");
        }
    }

    #[test]
    fn guarded_input_matches_str_input() {
        let texts = [
            "a: 1\n---\nname: web\nport:   8080\n---\n# comment\nitems:\n  - x\n  - y: z\n",
            "tls:\n  cert: |\n    -----BEGIN-----\n    MIIB\n  key: !!binary >-\n    QUJD\n\n    REVG\n",
            "b: |+\n\n  text\n\n\nc: >2\n     indented\n   x\nd: |-\n  \ttab\n",
            "a: 1\r\nb:\r\n  c: \"x\"\r\n  d: [1,\t2] # c\r\n",
            "key: [a, {b: c}, \"d\":e, 'f''g', ? h : i, [j]: k]\n",
            "%YAML 1.2\n%TAG !e! tag:e,2000:\n--- !e!x\n? |\n  long key\n: &a !!str v # c\n...\n",
            "ключ: &якорь значение\nб: *якорь\n\"ä\": [ü, &ö ß]\n",
            "  # only\n\n\t\n",
            "- |\n  [ not, flow\n  # not a comment\n- 'multi\n\n  line' #c\n- \"esc\\\n  aped\\t\"\n",
        ];
        for text in texts {
            assert_same_events(text);
        }
    }

    /// `HYAML_CORPUS=<file with one path per line> cargo test -- --ignored corpus`: every file
    /// gives the same events as with `StrInput` and is not refused by the lookahead cap.
    #[test]
    #[ignore = "needs a corpus of YAML files"]
    fn corpus() {
        let list = std::env::var("HYAML_CORPUS").expect("HYAML_CORPUS");
        let list = std::fs::read_to_string(list).expect("list");
        let mut count = 0;
        for path in list.lines() {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            assert_same_events(&text);
            let s = parse(&text, &Limits::default());
            assert!(
                s.error
                    .as_ref()
                    .is_none_or(|e| e.kind != ErrorKind::TooLarge),
                "{path}: {:?}",
                s.error
            );
            count += 1;
        }
        println!("{count} files");
    }

    fn check_ids(s: &Stream) {
        for d in &s.docs {
            let n = d.len();
            let ok = |id: &NodeId| (id.0 as usize) < n;
            assert!(d.root().is_none_or(|r| ok(&r)));
            for node in d.nodes() {
                match &node.kind {
                    Kind::Seq(items) => assert!(items.iter().all(ok)),
                    Kind::Map(entries) => assert!(entries.iter().all(|(k, v)| ok(k) && ok(v))),
                    Kind::Alias(t) => assert!(ok(t)),
                    Kind::Scalar { .. } => {}
                }
                assert!(node.start.line >= 1 && node.start.col >= 1);
            }
        }
    }

    fn refused_with_cap_100(text: &str) -> bool {
        parse_with_lookahead(text, &Limits::default(), 100)
            .error
            .is_some_and(|e| e.kind == ErrorKind::TooLarge)
    }

    /// The longest run of events the parser emitted without the scanner reading any further
    /// input: a long run means the scanner had buffered that many tokens.
    fn scanner_buffered_run(text: &str) -> usize {
        let consumed = Rc::new(Cell::new(0usize));
        let counter = Rc::clone(&consumed);
        let chars = text
            .chars()
            .inspect(move |_| counter.set(counter.get() + 1));
        let (mut worst, mut run, mut last) = (0, 0, usize::MAX);
        for ev in Parser::new_from_iter(chars) {
            if ev.is_err() {
                break;
            }
            if consumed.get() == last {
                run += 1;
            } else {
                run = 1;
                last = consumed.get();
            }
            worst = worst.max(run);
        }
        worst
    }

    /// Differential check of the lookahead cap against the scanner itself: wherever the
    /// scanner buffers a large flow collection, the cap must stop it.
    #[test]
    fn guard_covers_every_buffering_context() {
        let items = vec!["1"; 300].join(",");
        let prefixes = [
            "key: [",
            "key: {",
            "key: [x, ",
            "key: {a: 1, ",
            "key: [[a] ",
            "- k: {",
            "k: &a [",
            "k: !t {",
            "--- [",
            "k: [\"x\" ",
            "k: [a: ",
            "k: {a: ",
            "k: [? ",
            "",
            "- ",
            "- - ",
            "? ",
            "? x\n: ",
            "&a ",
            "!t ",
            "&a !t ",
            "!t &a ",
            "\"q\" ",
            "'q' ",
            "[x] ",
            "{x: y} ",
            "key: ",
            "key:\n  ",
            "- key: ",
            "\"k\": ",
            "? [a]\n: ",
            "--- ",
            "--- &a ",
            "k: &a ",
            "k: !t ",
            "k:\n  - ",
            "k: |\n  text\n",
            "\t",
            "  ",
            "\u{feff}",
            "-\t",
            "- &a\n  ",
            "a: b\n",
            "? a : ",
            "k: \"multi\n  line\" ",
            "k: 'x'\n",
            "k: x # c\n",
            "x: 1\r",
            "x: 1\r\n",
            "!<tag:a,b> ",
            "&a[x] ",
            "- !t\n  ",
            "k: [1]\n",
            "...\n",
            "---\n",
            "%YAML 1.2\n---\n",
            "k: >\n  t\n",
            "*a ",
        ];
        let bodies = [
            format!("[{items}]"),
            format!("{{{items}}}"),
            format!("[\"]\", {items}]"),
            format!("[a: b, {items}]"),
            format!("[x 'y, {items}, 'z']"),
            format!("[a # ]\n, {items}]"),
            format!("[{{\"k\":\"]\"}}, {items}]"),
            format!("[!<a]b> x, {items}]"),
            format!("[\"a\"#]\n  , {items}]"),
            format!("[a\n---\"]\", {items}]"),
            format!("[a\n...\n\"]\", {items}]"),
            format!("[\"a\" # c\n:\"]\", {items}]"),
            format!("[a\n%FOO \"]\"\n, {items}]"),
            format!("[a, \"b\"\n# ]\n:\"]\", {items}]"),
        ];
        let suffixes = [
            "\n",
            "",
            ": v\n",
            " # c\n",
            "\nnext: 1\n",
            "]\n",
            "}\n",
            ", x]\n",
        ];
        let mut buffered = 0;
        for prefix in prefixes {
            for body in &bodies {
                for suffix in suffixes {
                    let text = format!("{prefix}{body}{suffix}");
                    if scanner_buffered_run(&text) > 150 {
                        buffered += 1;
                        assert!(
                            refused_with_cap_100(&text),
                            "buffered but not caught: {:?}",
                            &text[..text.len().min(60)]
                        );
                    }
                }
            }
        }
        // Flow-looking text that is not flow (a comment, a block scalar, a quote) before a real
        // collection.
        let swallowers = [
            "# note: {a: 'oops\n",
            "\n#key: [!!str [x] :\n",
            "a: |\n  x: [\n",
            "# x: [\"\n",
            "# x: [a: \"\n",
            "k: \"x: ['\n  y\"\n",
            "# x: [a\n---\n",
        ];
        for swallower in swallowers {
            for body in &bodies {
                for (before, after) in [("- ", "\n"), ("", "\n# '\"\n"), ("? ", ": x\n")] {
                    let text = format!("{swallower}{before}{body}{after}");
                    if scanner_buffered_run(&text) > 150 {
                        buffered += 1;
                        assert!(
                            refused_with_cap_100(&text),
                            "buffered but not caught: {:?}",
                            text.replace(&items, "…")
                        );
                    }
                }
            }
        }
        assert!(buffered > 100, "{buffered}");
    }

    #[test]
    fn timing_large_inputs() {
        // Prints only: debug-build timings of large but legal inputs.
        let timings = on_small_stack(|| {
            let mut out = Vec::new();
            let mut text = String::new();
            for i in 0..20_000 {
                text.push_str(&format!("- name: item{i}\n  value: [1, 2, 3]\n"));
            }
            let started = Instant::now();
            let s = parse(&text, &Limits::default());
            assert!(s.error.is_none());
            out.push((
                format!("20k block items, {} bytes", text.len()),
                started.elapsed(),
            ));

            let started = Instant::now();
            let n = s.docs[0].scalars().len();
            out.push((format!("scalars() over {n} scalars"), started.elapsed()));

            let mut text = "[".repeat(250);
            text.push_str(&vec!["1"; 20_000].join(","));
            text.push_str(&"]".repeat(250));
            let started = Instant::now();
            let s = parse(&text, &Limits::default());
            assert!(s.error.is_none(), "{:?}", s.error);
            out.push((
                format!("250-deep flow, {} bytes", text.len()),
                started.elapsed(),
            ));
            out
        });
        for (what, t) in timings {
            println!("{what}: {t:?} (debug build)");
        }
    }
    /// Random lines around a large flow collection, checked against the scanner like
    /// [`guard_covers_every_buffering_context`]. `GUARD_FUZZ=<n> GUARD_SEED=<u64>` run more.
    #[test]
    fn guard_fuzz_against_scanner() {
        let items = vec!["1"; 300].join(",");
        let frags = [
            "- ", "? ", ": ", "&a ", "!t ", "\"q\" ", "'q' ", "[x] ", "{x: y} ", "key: ", "\n",
            "\n  ", "\r", "# c", "|", ">", "\"", "'", " ", "\t", "[", "]", "{", "}", ",", "x",
            "*a ", "---\n", "...\n", "!<a]b> ", "\\", "#", ":", "-", "k:", "\n- ", "\n  - ", ", ",
            "[a] ", "\"k\":", "'k':", "a: ", "? ", "!!str ", "&x", "*x", "\"a\" ", "x y ", "#x\n",
            ":x", "-x", "\n---", "\n--- ", "\n...", "\n%X ", "\"a\"#", "] #", "\n#",
        ];
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let runs = env("GUARD_FUZZ").unwrap_or(3000);
        let mut seed = env("GUARD_SEED").unwrap_or(0x1234_5678_9abc_def1) | 1;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % 1_000_003).unwrap_or(0)
        };
        let mut buffered = 0;
        for _ in 0..runs {
            let mut text = String::new();
            for _ in 0..next() % 8 {
                text.push_str(frags[next() % frags.len()]);
            }
            text.push_str(&match next() % 4 {
                0 => format!("[{items}]"),
                1 => format!("{{{items}}}"),
                2 => format!("[a: b, {items}]"),
                _ => vec!["&a"; 300].join(" "),
            });
            for _ in 0..next() % 5 {
                text.push_str(frags[next() % frags.len()]);
            }
            if scanner_buffered_run(&text) > 150 {
                buffered += 1;
                assert!(
                    refused_with_cap_100(&text),
                    "buffered but not caught: {:?}",
                    text.replace(&items, "…")
                );
            }
        }
        assert!(buffered > 0);
    }
}
