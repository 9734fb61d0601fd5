//! The parser's input: the text handed over in chunks, with a line break after a last line
//! that has none.

/// Bytes handed to the parser's reader per read.
const READ_CHUNK: usize = 16 * 1024;

/// The parser's input: the text in chunks of [`READ_CHUNK`] bytes.
///
/// `libyaml-safer` decodes whatever `fill_buf` returns into its `VecDeque<char>` (4 bytes per
/// char); a plain `&[u8]` would hand it the whole text at once. In chunks, the decoded buffer
/// holds what the scanner needs plus one chunk (see the module doc on look-ahead).
///
/// A text that does not end with a line break gets one after its last byte: `libyaml-safer`
/// 0.3.0 panics ("unexpected end of input", scanner.rs `read_line_break`) on a block scalar
/// whose last line has none, where libyaml reads the end of input as a break. The added break
/// changes no value libyaml gives except a `|+` scalar's last line, and lies past every mark
/// of the text.
pub(super) struct Chunks<'a> {
    text: &'a [u8],
    /// The line break still to give after `text`, if any.
    tail: &'static [u8],
}

impl<'a> Chunks<'a> {
    pub(super) fn new(text: &'a [u8]) -> Self {
        let tail: &[u8] = if text.is_empty() || text.ends_with(b"\n") || text.ends_with(b"\r") {
            b""
        } else {
            b"\n"
        };
        Chunks { text, tail }
    }

    fn current(&self) -> &'a [u8] {
        if self.text.is_empty() {
            self.tail
        } else {
            self.text
        }
    }
}

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let cur = self.current();
        let n = buf.len().min(cur.len()).min(READ_CHUNK);
        buf[..n].copy_from_slice(&cur[..n]);
        std::io::BufRead::consume(self, n);
        Ok(n)
    }
}

impl std::io::BufRead for Chunks<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let cur = self.current();
        Ok(&cur[..cur.len().min(READ_CHUNK)])
    }

    fn consume(&mut self, amt: usize) {
        if self.text.is_empty() {
            self.tail = &self.tail[amt.min(self.tail.len())..];
        } else {
            self.text = &self.text[amt.min(self.text.len())..];
        }
    }
}

#[cfg(test)]
mod tests {
    use libyaml_safer::{EventData, Parser};

    use super::*;
    use crate::read::yaml::{parse, ErrorKind, Limits};

    /// A block scalar on the last line with no line break after it (argo-cd's
    /// `docs/operator-manual/argocd-secret.yaml`): libyaml reads it; the port panicked.
    #[test]
    fn block_scalar_at_end_of_input_without_a_line_break() {
        for (text, want) in [
            ("a: |\n  x", "x\n"),
            ("a: |-\n  x", "x"),
            ("a: >\n  x\n  y", "x y\n"),
            ("a: |\r\n  x", "x\n"),
        ] {
            let s = parse(text, &Limits::default());
            assert!(s.error.is_none(), "{text:?}: {:?}", s.error);
            let d = &s.docs[0];
            let v = d.get(d.root().unwrap(), "a").unwrap();
            assert_eq!(d.str(v), Some(want), "{text:?}");
        }
        let s = parse("a: 1", &Limits::default());
        let d = &s.docs[0];
        assert_eq!(d.node(d.root().unwrap()).end.index, 4);
    }

    /// The line break fed after a text that has none is past every mark: the
    /// fuzz target's position invariants hold (marks within the text).
    #[test]
    fn marks_stay_inside_the_text() {
        for text in [
            "a: |\n  x",
            "a: 1",
            "- a\n- b",
            "a: >\n  x\n  y",
            "--- |\n  x",
            "a: [1,\n 2]",
            "x",
            "a: |\r\n  x",
            "\"a\"",
            "a: &x 1\nb: *x",
        ] {
            crate::fuzzing::yaml(text.as_bytes());
        }
    }

    /// A reader that counts what the parser has taken from it.
    struct Counting<'a> {
        inner: Chunks<'a>,
        taken: std::rc::Rc<std::cell::Cell<usize>>,
    }

    impl std::io::Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.taken.set(self.taken.get() + n);
            Ok(n)
        }
    }

    impl std::io::BufRead for Counting<'_> {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            self.inner.fill_buf()
        }
        fn consume(&mut self, amt: usize) {
            self.taken.set(self.taken.get() + amt);
            self.inner.consume(amt);
        }
    }

    /// Most bytes the parser read past the end of the event it had just produced.
    fn worst_lookahead(text: &str) -> usize {
        let taken = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut parser = Parser::new();
        parser.set_input(Counting {
            inner: Chunks::new(text.as_bytes()),
            taken: std::rc::Rc::clone(&taken),
        });
        let mut worst = 0;
        while let Ok(ev) = parser.parse() {
            let end = usize::try_from(ev.end_mark.index).unwrap();
            worst = worst.max(taken.get().saturating_sub(end));
            if matches!(ev.data, EventData::StreamEnd) {
                break;
            }
        }
        worst
    }

    /// saphyr tokenised a flow collection in key position whole before its first event (700 MB
    /// for a 4 MB `[1,1,...]`), hence a look-ahead guard. libyaml gives up a possible simple key
    /// after 1024 chars or at a line break, so the scanner never reads more than that plus one
    /// read chunk ahead, in every context the guard covered.
    #[test]
    fn flow_collections_in_key_position_stream() {
        let items = vec!["1"; 200_000].join(",");
        let bound = 1024 + 2 * READ_CHUNK;
        for prefix in [
            "",
            "- ",
            "- - ",
            "? ",
            "&a ",
            "!!seq ",
            "key: [",
            "key: {",
            "key: [x, ",
            "k: [a: ",
            "  - &a !t ",
            "key: {[",
            "--- [",
        ] {
            let text = format!("a: 1\n---\n{prefix}[{items}]\n");
            let worst = worst_lookahead(&text);
            assert!(worst <= bound, "{prefix:?}: read {worst} bytes ahead");
            // The node limit acts as the nodes arrive.
            let limits = Limits {
                max_nodes: 100,
                ..Limits::default()
            };
            let s = parse(&text, &limits);
            assert!(!s.docs.is_empty(), "{prefix:?}");
            assert_eq!(
                s.error.map(|e| e.kind),
                Some(ErrorKind::TooManyNodes),
                "{prefix:?}"
            );
        }
        // (`[x] [...]` is not YAML, but is read ahead no further.)
        assert!(worst_lookahead(&format!("[x] [{items}]\n")) <= bound);
        let anchors = vec!["&a"; 100_000].join(" ");
        assert!(worst_lookahead(&format!("k: [{anchors} x]\n")) <= bound);
        // One large scalar is one token: read whole, as any YAML reader must.
        let big = format!("- \"{items}\"\n");
        let s = parse(&big, &Limits::default());
        assert!(s.error.is_none(), "{:?}", s.error);
    }
}
