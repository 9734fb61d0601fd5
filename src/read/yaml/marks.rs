//! Byte offsets to [`Mark`]s: the parser's marks count bytes and break lines where editors do
//! not, so line, column and char index are recomputed here from the byte offset.

use super::Mark;

/// Bytes between two checkpoints of the byte offset → position cursor.
const CHECKPOINT_EVERY: usize = 16 * 1024;

fn saturating_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Where the cursor of [`Positions`] stands.
#[derive(Clone, Copy, Debug)]
struct CursorState {
    /// Byte offset.
    byte: usize,
    /// Chars before `byte`.
    chars: usize,
    /// 1-based line of `byte`.
    line: usize,
    /// Chars before the start of that line.
    line_start: usize,
    /// The byte before `byte` is a `\r` (a following `\n` belongs to the same line break).
    after_cr: bool,
}

/// Turns the parser's byte offsets into [`Mark`]s.
///
/// `libyaml-safer` marks count `index` in bytes and `column` in chars, and count `\u{85}`,
/// U+2028 and U+2029 as line breaks too. Lines and columns are recomputed here from the byte
/// offset, with `\n`, `\r\n` and a lone `\r` as the only line breaks (what editors, `grep -n`
/// and the rest of certdrift count). Marks arrive nearly in order, so a cursor walks forward;
/// a jump back restarts from the last checkpoint (one every [`CHECKPOINT_EVERY`] bytes) before
/// it.
pub(super) struct Positions<'a> {
    bytes: &'a [u8],
    ascii: bool,
    cur: CursorState,
    checkpoints: Vec<CursorState>,
}

impl<'a> Positions<'a> {
    pub(super) fn new(text: &'a str) -> Positions<'a> {
        let start = CursorState {
            byte: 0,
            chars: 0,
            line: 1,
            line_start: 0,
            after_cr: false,
        };
        Positions {
            bytes: text.as_bytes(),
            ascii: text.is_ascii(),
            cur: start,
            checkpoints: vec![start],
        }
    }

    /// The mark at byte offset `byte` (clamped to the text, and back to a char boundary).
    pub(super) fn mark(&mut self, byte: usize) -> Mark {
        let mut byte = byte.min(self.bytes.len());
        while byte > 0 && byte < self.bytes.len() && (self.bytes[byte] & 0xC0) == 0x80 {
            byte -= 1;
        }
        if byte < self.cur.byte {
            let at = self.checkpoints.partition_point(|c| c.byte <= byte);
            self.cur = self.checkpoints[at.saturating_sub(1)];
        }
        while self.cur.byte < byte {
            let next = (self.cur.byte / CHECKPOINT_EVERY + 1) * CHECKPOINT_EVERY;
            let to = byte.min(next);
            self.advance(to);
            if to == next && self.checkpoints.last().is_some_and(|c| c.byte < to) {
                self.checkpoints.push(self.cur);
            }
        }
        let s = &self.cur;
        Mark {
            line: saturating_u32(s.line),
            col: saturating_u32(s.chars - s.line_start + 1),
            index: s.chars,
        }
    }

    fn advance(&mut self, to: usize) {
        let seg = &self.bytes[self.cur.byte..to];
        let base = self.cur.byte;
        let chars_at = |b: usize, s: &CursorState| -> usize {
            if self.ascii {
                b
            } else {
                s.chars + count_chars(&self.bytes[s.byte..b])
            }
        };
        let mut s = self.cur;
        for off in memchr::memchr2_iter(b'\n', b'\r', seg) {
            let b = base + off;
            let chars = chars_at(b, &s);
            let crlf =
                seg[off] == b'\n' && (off > 0 && seg[off - 1] == b'\r' || off == 0 && s.after_cr);
            if !crlf {
                s.line += 1;
            }
            s.line_start = chars + 1;
            s.chars = chars + 1;
            s.byte = b + 1;
            s.after_cr = seg[off] == b'\r';
        }
        s.chars = chars_at(to, &s);
        if s.byte < to {
            s.after_cr = false;
        }
        s.byte = to;
        self.cur = s;
    }
}

/// Chars in a UTF-8 byte slice that starts at a char boundary.
fn count_chars(b: &[u8]) -> usize {
    b.iter().filter(|&&x| (x & 0xC0) != 0x80).count()
}
