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
//! * A node count limit and an input size limit bound memory.
//! * Any panic inside the parser is caught and reported as a syntax error.
//!
//! ## Notes on `saphyr-parser` 0.3.4 (what this module relies on / works around)
//!
//! * `Marker` lines are 1-based, columns 0-based (in chars), indexes count chars (not bytes).
//!   [`Mark`] converts the column to 1-based.
//! * Events carry anchor *ids*, not names. Names are read back from the source text at the
//!   event's span (a node with properties has its span start at the first property).
//! * The span of a node with properties (`&a`, `!tag`) starts at the properties. [`Node::start`]
//!   is moved past them, to the content (for a block scalar: the `|`/`>` indicator).
//! * An indentless sequence (`key:\n- a`) is reported by the parser as starting *after* the
//!   first `- `; it is moved back to the `-`.
//! * The end of a block collection is where the parser noticed it ended: the start of the next
//!   token (which may be on a later line, after comments).
//! * The scanner caps flow nesting (`[`/`{`) at 255 levels and reports "recursion limit
//!   exceeded"; this is mapped to [`ErrorKind::TooDeep`].
//! * The scanner buffers a whole top-level flow collection (`[ ... ]` or `{ ... }`) before the
//!   parser emits its first event (it may be a simple key until proven otherwise). This is linear
//!   in the input and bounded by [`Limits::max_bytes`], but means flow content deeper than
//!   `max_depth` (yet within the scanner's 255) is fully tokenised before the depth error.
//! * Unknown anchors are reported by the parser itself ("found unknown anchor"); an alias in a
//!   later document to an anchor of an earlier one is accepted by the parser's iterator API but
//!   rejected here (anchors are per document).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};

/// 1-based line and column (column counted in chars), plus char index from the start of the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Mark {
    pub line: u32,
    pub col: u32,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    fn idx(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
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

#[derive(Clone, Debug)]
pub enum Kind {
    /// `tag` is rendered as written in the usual short forms: `!!binary`, `!vault`, `!`;
    /// other global tags as `!<uri>`.
    Scalar {
        value: String,
        style: Style,
        tag: Option<String>,
    },
    Seq(Vec<NodeId>),
    /// Raw entries in source order, including `<<` merge-key entries.
    Map(Vec<(NodeId, NodeId)>),
    /// The anchored node; the subtree is never copied. The target may be an ancestor of the
    /// alias (`&a [*a]` is valid YAML), so never follow aliases recursively without a bound.
    Alias(NodeId),
}

#[derive(Clone, Debug)]
pub struct Node {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Syntax,
    TooDeep,
    TooManyNodes,
    TooLarge,
    UnknownAnchor,
}

#[derive(Clone, Debug)]
pub struct YamlError {
    pub kind: ErrorKind,
    pub mark: Mark,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.mark)
    }
}

impl std::error::Error for YamlError {}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum nesting of collections (the root collection is depth 1).
    pub max_depth: usize,
    /// Maximum number of nodes over the whole stream (aliases count as one node each).
    pub max_nodes: usize,
    /// Maximum input size in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 256,
            max_nodes: 2_000_000,
            max_bytes: 64 * 1024 * 1024,
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
    let cap = MAX_FLOW_LOOKAHEAD.min(limits.max_nodes.saturating_mul(4).saturating_add(1024));
    let oversized = find_oversized_flow(text.as_bytes(), cap);
    // Parse only up to the line of an oversized flow collection; see `find_oversized_flow`.
    let parsed = match &oversized {
        Some(hit) => &text[..hit.line_start],
        None => text,
    };
    let mut last_mark = Mark::START;
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        run(parsed, limits, &mut stream, &mut last_mark);
    }));
    if outcome.is_err() && stream.error.is_none() {
        stream.error = Some(YamlError {
            kind: ErrorKind::Syntax,
            mark: last_mark,
            message: "internal error in the YAML parser (it panicked on this input)".to_string(),
        });
    }
    if let Some(hit) = oversized {
        // The document running into the cut was ended by the artificial end of input: drop it,
        // and report the guard's error unless a real one came earlier.
        let cut = char_count(parsed);
        stream.docs.retain(|d| d.end.index < cut);
        if stream.error.as_ref().is_none_or(|e| e.mark.index >= cut) {
            stream.error = Some(YamlError {
                kind: ErrorKind::TooLarge,
                mark: mark_at(text, hit.offset),
                message: format!(
                    "flow collection ([...] or {{...}}) too large for the parser: about {} tokens, \
                     more than the limit of {cap}; the parser would hold all of them in memory \
                     because it starts where a mapping key could (start it on its key's line, \
                     `key: [...]`, which is streamed)",
                    hit.units
                ),
            });
        }
    }
    stream
}

fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// The [`Mark`] of byte offset `offset` (a char boundary) in `text`, counting line breaks the
/// way the scanner does (`\n`, `\r\n` or a lone `\r`).
fn mark_at(text: &str, offset: usize) -> Mark {
    let before = text.get(..offset).unwrap_or(text);
    let mut line = 1usize;
    let mut line_start = 0usize;
    let bytes = before.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            line += 1;
            line_start = i + 1;
        }
    }
    Mark {
        line: saturating_u32(line),
        col: saturating_u32(char_count(&before[line_start..]).saturating_add(1)),
        index: char_count(before),
    }
}

/// Most tokens (counted in lexer units, see [`find_oversized_flow`]) the scanner may be made to
/// buffer at once.
const MAX_FLOW_LOOKAHEAD: usize = 1 << 20;

/// A flow collection in which the scanner would buffer too many tokens at once.
struct OversizedFlow {
    /// Byte offset of its `[` or `{`.
    offset: usize,
    /// Byte offset of the start of its line.
    line_start: usize,
    /// Units that would be buffered (more than the cap).
    units: usize,
}

fn is_blank_or_break_at(b: &[u8], i: usize) -> bool {
    matches!(b.get(i), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

fn is_break(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Guard against the scanner's unbounded lookahead.
///
/// `saphyr-parser`'s scanner does not emit a token while it may still be a simple key
/// (`[a, b]: value`, `{[a]: b}`): everything after it stays queued until a `:`, a `,`, the end of
/// the enclosing flow collection or (outside flow collections only) the end of the line settles
/// the question. So a flow collection that *starts where a key may start* is tokenised
/// completely before the parser sees its first event: the first thing on a line (or after `- `,
/// `? `, `: `, `,`, properties, a quoted scalar or another flow collection there), or right after
/// `[`, `{` or `,` inside a flow collection; likewise for a run of tokens without a `,`
/// between them inside a flow collection. That costs 150-350 bytes per token (700 MB for a 4 MB
/// `[1,1,1,...]`) before any of our limits can act. (`key: [...]` itself is streamed: no key can
/// start after `key:` on that line.)
///
/// This pre-scan finds the flow collections of block context (those starting at such a line
/// position, and those after a `: ` value indicator, which may contain nested ones) and lexes
/// each like the scanner does, tracking for every nesting level whether a possible key is
/// pending and how many units have been read since the oldest pending one started. Units are
/// flow indicators, `:`/`&`/`!`/`*`/`?`, and word starts, counted *everywhere*, inside quoted
/// scalars and comments too, so a quote the lexer misreads can only over-count. Quotes and
/// comments are tracked to know where things end, following the scanner's rules (a quote opens
/// a scalar only at a token start; `#` starts a comment only after a blank; `:` is a value
/// indicator when followed by a blank or a flow indicator, or right after a quoted scalar or a
/// closing bracket). Lines inside block or multi-line scalars are looked at too, which can only
/// over-count. Linear time.
fn find_oversized_flow(b: &[u8], cap: usize) -> Option<OversizedFlow> {
    let mut i = 0;
    while i < b.len() {
        let line_start = i;
        // Leading run of the line: a key may start at each of these positions.
        let mut key_pos = true;
        if b[i..].starts_with(b"---") && is_blank_or_break_at(b, i + 3) {
            i += 3;
            key_pos = false;
        }
        loop {
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            if b[i..].starts_with("\u{feff}".as_bytes()) {
                i += 3;
                continue;
            }
            let Some(&c) = b.get(i) else { break };
            match c {
                // (The scanner takes a stray `,` outside flow collections as an entry separator.)
                b'-' | b'?' | b':' if is_blank_or_break_at(b, i + 1) => {
                    i += 1;
                    key_pos = true;
                }
                b',' => {
                    i += 1;
                    key_pos = true;
                }
                b'&' | b'!' | b'*' => i = skip_property(b, i),
                b'"' | b'\'' => match skip_quoted_on_line(b, i) {
                    Some(end) => i = end,
                    None => break,
                },
                b'[' | b'{' => {
                    let (end, units) = measure_flow(b, i, key_pos, cap);
                    if units > cap {
                        return Some(OversizedFlow {
                            offset: i,
                            line_start,
                            units,
                        });
                    }
                    i = end;
                }
                _ => break,
            }
        }
        // Rest of the line: flow collections after any `: ` (over-inclusive: also inside
        // quoted scalars and comments), which may hold pending keys of their own.
        while i < b.len() && !is_break(b[i]) {
            if b[i] == b':' && is_blank_or_break_at(b, i + 1) {
                let mut j = i + 1;
                loop {
                    while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                        j += 1;
                    }
                    match b.get(j) {
                        Some(b'&' | b'!') => j = skip_property(b, j),
                        _ => break,
                    }
                }
                if matches!(b.get(j), Some(b'[' | b'{')) {
                    let (end, units) = measure_flow(b, j, false, cap);
                    if units > cap {
                        return Some(OversizedFlow {
                            offset: j,
                            line_start,
                            units,
                        });
                    }
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        i += 1;
    }
    None
}

/// End of the quoted scalar starting at `b[i]` if it closes on the same line.
fn skip_quoted_on_line(b: &[u8], mut i: usize) -> Option<usize> {
    let q = b[i];
    i += 1;
    while let Some(&c) = b.get(i) {
        i += 1;
        match c {
            b'\n' | b'\r' => return None,
            // An escaped char (a line break after `\` is a line continuation either way).
            b'\\' if q == b'"' && b.get(i).is_some_and(|&n| !is_break(n)) => i += 1,
            b'\'' if q == b'\'' && b.get(i) == Some(&b'\'') => i += 1,
            _ if c == q => return Some(i),
            _ => {}
        }
    }
    None
}

/// End of the anchor, alias or tag starting at `b[i]`.
fn skip_property(b: &[u8], mut i: usize) -> usize {
    let verbatim = b[i] == b'!' && b.get(i + 1) == Some(&b'<');
    i += 1;
    while let Some(&c) = b.get(i) {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') || (!verbatim && is_flow_indicator(c)) {
            break;
        }
        i += 1;
        if verbatim && c == b'>' {
            break;
        }
    }
    i
}

/// Pending possible keys per flow level while lexing a flow collection.
struct Pending {
    /// One flag per open level; index 0 is the block context around the collection.
    levels: Vec<bool>,
    /// Level and starting unit of the oldest pending key. Keys of outer levels start before
    /// those of inner ones, and a level's key is settled only while that level is innermost,
    /// so settling the oldest one leaves none.
    oldest: Option<(usize, usize)>,
}

impl Pending {
    fn top(&self) -> usize {
        self.levels.len() - 1
    }

    fn start(&mut self, units: usize) {
        let top = self.top();
        if !self.levels[top] {
            self.levels[top] = true;
            self.oldest.get_or_insert((top, units));
        }
    }

    fn settle(&mut self) {
        let top = self.top();
        self.levels[top] = false;
        if self.oldest.is_some_and(|(level, _)| level == top) {
            self.oldest = None;
        }
    }
}

/// Lexes the flow collection opening at `b[start]` like the scanner would. Returns the offset
/// after its closing bracket (or the end of input) and the most units buffered behind a pending
/// key (stopping as soon as that exceeds `cap`). `key_pos`: the collection itself may be a key.
fn measure_flow(b: &[u8], start: usize, key_pos: bool, cap: usize) -> (usize, usize) {
    #[derive(PartialEq)]
    enum St {
        Normal,
        Single,
        Double,
        Comment,
    }
    let mut st = St::Normal;
    let mut pending = Pending {
        levels: vec![key_pos],
        oldest: if key_pos { Some((0, 0)) } else { None },
    };
    let mut units: usize = 0;
    let mut worst: usize = 0;
    // Whether a key may start at the next token (after `[`, `{`, `,`, `?`).
    let mut key_allowed = false;
    let mut in_plain = false;
    let mut prev_blank = true;
    // A `:` here is a value indicator even when not followed by a blank (JSON-like keys).
    let mut adjacent_quote = false;
    let mut adjacent_bracket = false;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        let blank = matches!(c, b' ' | b'\t' | b'\n' | b'\r');
        // Units are counted in every state: see `find_oversized_flow`.
        if !blank
            && (prev_blank || is_flow_indicator(c) || matches!(c, b':' | b'&' | b'!' | b'*' | b'?'))
        {
            units += 1;
            if let Some((_, since)) = pending.oldest {
                worst = worst.max(units - since);
                if worst > cap {
                    return (i, worst);
                }
            }
        }
        let was_blank = prev_blank;
        prev_blank = blank || is_flow_indicator(c);
        let here = units.saturating_sub(1);
        i += 1;
        match st {
            St::Comment => {
                if is_break(c) {
                    st = St::Normal;
                }
            }
            St::Double => match c {
                // An escaped char (a line break after `\` is a line continuation either way).
                b'\\' if b.get(i).is_some_and(|&n| !is_break(n)) => i += 1,
                b'"' => {
                    st = St::Normal;
                    adjacent_quote = true;
                }
                _ => {}
            },
            St::Single => {
                if c == b'\'' {
                    if b.get(i) == Some(&b'\'') {
                        i += 1;
                    } else {
                        st = St::Normal;
                        adjacent_quote = true;
                    }
                }
            }
            St::Normal => {
                if blank {
                    if is_break(c) {
                        adjacent_bracket = false;
                    }
                    continue;
                }
                let adjacent = adjacent_quote || adjacent_bracket;
                adjacent_quote = false;
                adjacent_bracket = false;
                match c {
                    b'#' if was_blank => {
                        st = St::Comment;
                        in_plain = false;
                    }
                    b'[' | b'{' => {
                        if key_allowed {
                            pending.start(here);
                        }
                        pending.levels.push(false);
                        key_allowed = true;
                        in_plain = false;
                    }
                    b']' | b'}' => {
                        pending.settle();
                        pending.levels.pop();
                        if pending.levels.len() <= 1 {
                            return (i, worst);
                        }
                        key_allowed = false;
                        in_plain = false;
                        adjacent_bracket = true;
                    }
                    b',' => {
                        pending.settle();
                        key_allowed = true;
                        in_plain = false;
                    }
                    b':' if adjacent
                        || is_blank_or_break_at(b, i)
                        || b.get(i).is_some_and(|&n| is_flow_indicator(n)) =>
                    {
                        pending.settle();
                        key_allowed = false;
                        in_plain = false;
                    }
                    b'?' if !in_plain && is_blank_or_break_at(b, i) => key_allowed = true,
                    _ if in_plain => {}
                    _ => {
                        if key_allowed {
                            pending.start(here);
                            key_allowed = false;
                        }
                        match c {
                            b'"' => st = St::Double,
                            b'\'' => st = St::Single,
                            b'&' | b'!' | b'*' => i = skip_property(b, i - 1),
                            _ => in_plain = true,
                        }
                    }
                }
            }
        }
    }
    (b.len(), worst)
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
}

impl Builder {
    fn new(start: Mark) -> Builder {
        Builder {
            nodes: Vec::new(),
            root: None,
            stack: Vec::new(),
            anchors: HashMap::new(),
            start,
        }
    }

    fn push(&mut self, node: Node) -> NodeId {
        // The caller checks the node limit, which is below u32::MAX.
        let id = NodeId(u32::try_from(self.nodes.len()).unwrap_or(u32::MAX));
        self.nodes.push(node);
        id
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
        if let Some(root) = self.root {
            if self.nodes.len() == 1 {
                if let Node {
                    kind:
                        Kind::Scalar {
                            value,
                            style: Style::Plain,
                            tag: None,
                        },
                    anchor: None,
                    ..
                } = &self.nodes[root.idx()]
                {
                    if value.is_empty() {
                        self.nodes.clear();
                        self.root = None;
                    }
                }
            }
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
                if !has_props && matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    if let Some(indicator) = self.src.block_indicator(self.prev_end, span.start) {
                        start = indicator;
                    }
                }
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
        let id = b.push(Node {
            kind,
            start,
            end,
            anchor,
        });
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
                if let Some(b) = self.doc.as_mut() {
                    if let Some(Frame::Seq(id) | Frame::Map { id, .. }) = b.stack.pop() {
                        if let Some(node) = b.nodes.get_mut(id.idx()) {
                            let end = Mark::from_marker(span.end);
                            if end.index >= node.start.index {
                                node.end = end;
                            }
                        }
                    }
                }
            }
            Event::StreamEnd => return Ok(false),
            Event::StreamStart | Event::Nothing => {}
        }
        Ok(true)
    }
}

/// The event loop. Stores finished documents and the first error into `stream`.
fn run(text: &str, limits: &Limits, stream: &mut Stream, last_mark: &mut Mark) {
    let mut loader = Loader {
        src: Source::new(text),
        limits: *limits,
        max_nodes: limits.max_nodes.min(u32::MAX as usize - 1),
        doc: None,
        total_nodes: 0,
        prev_end: Marker::new(0, 1, 0),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
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
        if !matches!(self.node(map).kind, Kind::Map(_)) {
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
        let d = one(&text);
        assert!(d.len() < 150, "{} nodes", d.len());
        let i = at(&d, &["i"]);
        assert_eq!(d.seq(i).len(), 9);
        assert!(d
            .seq(i)
            .iter()
            .all(|&x| matches!(d.node(x).kind, Kind::Alias(_))));
        assert_eq!(d.entries(d.root().unwrap()).len(), 9);
        assert_eq!(d.scalars().len(), 9);
        assert!(started.elapsed().as_secs() < 5);
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
        println!("4000 nested block mappings, 2-space indent, {text_len} bytes: {elapsed:?} (debug build)");
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
        for prefix in [
            "",
            "- ",
            "- - ",
            "? ",
            "&a ",
            "!!seq ",
            "\"q\" ",
            "[x] ",
            "  - &a !t ",
        ] {
            let text = format!("a: 1\n---\n{prefix}[{items}]\n");
            let s = parse(&text, &limits);
            assert_eq!(s.docs.len(), 1, "{prefix:?}");
            let e = s.error.expect("error");
            assert_eq!(e.kind, ErrorKind::TooLarge, "{prefix:?}: {e}");
            assert_eq!(e.mark.line, 3);
            assert_eq!(e.mark.col as usize, prefix.chars().count() + 1);
        }
        // Quotes and comments cannot hide the end of the collection or its tokens.
        for body in [
            format!("[\"]\", {items}]"),
            format!("['it''s]', {items}]"),
            format!("[a # ]\n, {items}]"),
            format!("[{{\"k\":\"]\"}}, {items}]"),
            format!("[x 'y, {items}, 'z]"),
        ] {
            let s = parse(&format!("- {body}\n"), &limits);
            let e = s.error.expect("error");
            assert_eq!(e.kind, ErrorKind::TooLarge, "{body:.40}: {e}");
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
        // Many small nested collections are fine.
        let small = vec!["{a: 1}"; 300].join(", ");
        let s = parse(&format!("key: [{small}]\n"), &Limits::default());
        assert!(s.error.is_none(), "{:?}", s.error);
        // Small collections and flow-like text in scalars are fine.
        let s = parse(
            &format!("- [1, 2]\n- |\n  [ not, flow ]\n  {{ x\n  y }}\n- \"[{items}]\"\n"),
            &limits,
        );
        assert!(s.error.is_none(), "{:?}", s.error);
        // Known over-count: an unbalanced bracket at the start of a block scalar line is
        // measured as if it were flow, up to the end of its (apparent) collection.
        let s = parse(&format!("- |\n  [ not flow\n- \"{items}\"\n"), &limits);
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

    /// The longest run of events the parser emitted without the scanner reading any further
    /// input: a long run means the scanner had buffered that many tokens.
    fn scanner_buffered_run(text: &str) -> usize {
        use std::cell::Cell;
        use std::rc::Rc;
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

    /// Differential check of the pre-scan against the scanner itself: wherever the scanner
    /// buffers a flow collection, the pre-scan must have measured it.
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
                            find_oversized_flow(text.as_bytes(), 100).is_some(),
                            "buffered but not caught: {:?}",
                            &text[..text.len().min(60)]
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
            ":x", "-x",
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
                    find_oversized_flow(text.as_bytes(), 100).is_some(),
                    "buffered but not caught: {:?}",
                    text.replace(&items, "…")
                );
            }
        }
        assert!(buffered > 0);
    }
}
