//! Text decoding and line tables shared by the readers.
//!
//! In: raw bytes. Out: a `String` (lossy where the input is not UTF-8, with
//! the offset of the first bad byte) and a [`Lines`] table mapping byte
//! offsets to 1-based line/column and back.
//!
//! UTF-16 and UTF-32 text is decoded when it starts with a byte order mark
//! (what Windows editors write; YAML 1.2 allows both, section 5.2), so that a
//! key saved as "Unicode" is not skipped as a binary file. Without a mark,
//! bytes are read as UTF-8.

/// The file's text and, when it was not valid UTF-8, where the first bad byte was.
pub struct Decoded<'a> {
    /// The text (borrowed when the bytes are valid UTF-8); invalid
    /// sequences replaced by U+FFFD.
    pub text: std::borrow::Cow<'a, str>,
    /// Byte offset in `text` of the first invalid sequence (UTF-8, or an
    /// unpaired UTF-16 surrogate / invalid UTF-32 unit), if any.
    pub invalid_at: Option<usize>,
}

/// A byte order mark of a wide Unicode encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WideBom {
    /// `FF FE`.
    Utf16Le,
    /// `FE FF`.
    Utf16Be,
    /// `FF FE 00 00` (checked before UTF-16LE, as YAML 1.2 does).
    Utf32Le,
    /// `00 00 FE FF`.
    Utf32Be,
}

/// The UTF-16/UTF-32 byte order mark `bytes` start with, if any. Such text
/// holds NUL bytes and must not be taken for binary.
pub fn wide_bom(bytes: &[u8]) -> Option<WideBom> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some(WideBom::Utf32Le),
        [0, 0, 0xFE, 0xFF, ..] => Some(WideBom::Utf32Be),
        [0xFF, 0xFE, ..] => Some(WideBom::Utf16Le),
        [0xFE, 0xFF, ..] => Some(WideBom::Utf16Be),
        _ => None,
    }
}

/// Decodes bytes as UTF-8, replacing invalid sequences (Latin-1 files, binary
/// junk), or as UTF-16/UTF-32 after a byte order mark. A UTF-8 mark is dropped.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    if let Some(bom) = wide_bom(bytes) {
        return decode_wide(bytes, bom);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: s.into(),
            invalid_at: None,
        },
        Err(e) => Decoded {
            text: String::from_utf8_lossy(bytes),
            invalid_at: Some(e.valid_up_to()),
        },
    }
}

/// UTF-16 or UTF-32 after its mark; a trailing partial unit is invalid.
fn decode_wide(bytes: &[u8], bom: WideBom) -> Decoded<'static> {
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut invalid_at = None;
    let mut push = |c: Option<char>, text: &mut String| {
        if c.is_none() && invalid_at.is_none() {
            invalid_at = Some(text.len());
        }
        text.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
    };
    match bom {
        WideBom::Utf16Le | WideBom::Utf16Be => {
            let body = &bytes[2..];
            let units = body.chunks_exact(2).map(|u| match bom {
                WideBom::Utf16Le => u16::from_le_bytes([u[0], u[1]]),
                _ => u16::from_be_bytes([u[0], u[1]]),
            });
            for c in char::decode_utf16(units) {
                push(c.ok(), &mut text);
            }
            if !body.len().is_multiple_of(2) {
                push(None, &mut text);
            }
        }
        WideBom::Utf32Le | WideBom::Utf32Be => {
            let body = &bytes[4..];
            for u in body.chunks_exact(4) {
                let u = [u[0], u[1], u[2], u[3]];
                let v = match bom {
                    WideBom::Utf32Le => u32::from_le_bytes(u),
                    _ => u32::from_be_bytes(u),
                };
                push(char::from_u32(v), &mut text);
            }
            if !body.len().is_multiple_of(4) {
                push(None, &mut text);
            }
        }
    }
    Decoded {
        text: text.into(),
        invalid_at,
    }
}

/// Rewrites every run of base64 characters (`A-Z a-z 0-9 + / =`) in `line`:
/// where `f` returns `Some`, the run is replaced. Used to keep certificate and
/// key bodies out of excerpts and diffs.
pub fn replace_base64_runs(line: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    let mut out = String::with_capacity(line.len());
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (is_b64(c), start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                let run = &line[st..i];
                out.push_str(&f(run).unwrap_or_else(|| run.to_owned()));
                out.push(c);
                start = None;
            }
            (false, None) => out.push(c),
            (true, Some(_)) => {}
        }
    }
    if let Some(st) = start {
        let run = &line[st..];
        out.push_str(&f(run).unwrap_or_else(|| run.to_owned()));
    }
    out
}

/// Line start offsets of a text.
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines { starts }
    }

    /// 1-based line and column (in chars) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line as u32, col as u32 + 1)
    }

    /// The text of 1-based line `line`, without its line ending.
    pub fn line<'t>(&self, text: &'t str, line: u32) -> Option<&'t str> {
        let i = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(i)?;
        let end = self.starts.get(i + 1).copied().unwrap_or(text.len());
        let s = text.get(start..end)?;
        Some(s.trim_end_matches(['\n', '\r']))
    }

    /// 1-based column of the first non-blank character of `line` (1 if none).
    pub fn indent_col(&self, text: &str, line: u32) -> u32 {
        self.line(text, line)
            .map(|l| l.chars().take_while(|c| c.is_whitespace()).count() as u32 + 1)
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod marker_tests {
    #[test]
    fn markers_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        let mut body = vec![b'a'; (1 << 20) - 5];
        body.extend_from_slice(b"LS0tLS1CRUdJTiBQUklW");
        std::fs::write(&p, &body).unwrap();
        assert!(super::holds_tls_marker(&p).unwrap());
        std::fs::write(&p, vec![b'x'; 3 << 20]).unwrap();
        assert!(!super::holds_tls_marker(&p).unwrap());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_round_trip() {
        let t = "a: 1\r\nbé: |\n  x\n";
        let l = Lines::new(t);
        assert_eq!(l.line_col(t, 0), (1, 1));
        assert_eq!(l.line_col(t, 6), (2, 1));
        assert_eq!(l.line_col(t, t.find('|').unwrap()), (2, 5));
        assert_eq!(l.line(t, 1), Some("a: 1"));
        assert_eq!(l.indent_col(t, 3), 3);
        assert_eq!(l.line(t, 9), None);
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in text.encode_utf16() {
            out.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn utf16_and_utf32_with_a_bom_are_decoded() {
        let t = "a: café\nb: 😀\n";
        for be in [false, true] {
            let bytes = utf16(t, be);
            let d = decode(&bytes);
            assert_eq!(d.text, t);
            assert_eq!(d.invalid_at, None);
        }
        let mut le32 = vec![0xFF, 0xFE, 0, 0];
        le32.extend(t.chars().flat_map(|c| (c as u32).to_le_bytes()));
        assert_eq!(decode(&le32).text, t);
        let mut be32 = vec![0, 0, 0xFE, 0xFF];
        be32.extend(t.chars().flat_map(|c| (c as u32).to_be_bytes()));
        assert_eq!(decode(&be32).text, t);
        // An unpaired surrogate and a dangling byte are replaced and reported.
        let mut bad = utf16("ok: 1\n", false);
        bad.extend([0x00, 0xD8, b'x', 0, b'y']);
        let d = decode(&bad);
        assert_eq!(d.invalid_at, Some(6));
        assert_eq!(d.text, "ok: 1\n\u{FFFD}x\u{FFFD}");
        // No mark: UTF-8 (NUL bytes and all).
        assert_eq!(wide_bom(b"a\0b\0"), None);
    }

    #[test]
    fn latin1_is_decoded_lossily() {
        let d = decode(b"name: caf\xe9\n");
        assert_eq!(d.invalid_at, Some(9));
        assert!(d.text.starts_with("name: caf"));
    }
}

/// Whether `bytes` hold what a certificate or key starts with in text: a
/// PEM boundary, or base64 of one ([`super::pem::BASE64_BEGINS`]).
pub fn has_tls_marker(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"-----BEGIN").is_some()
        || super::pem::BASE64_BEGINS
            .iter()
            .any(|m| memchr::memmem::find(bytes, m.as_bytes()).is_some())
}

/// Whether the file at `path` holds a PEM boundary (`-----BEGIN`) or
/// base64 of one (at any of the three alignments): read in chunks, never
/// whole, for files too large to extract. A file without one holds no
/// certificate or key certdrift could read.
pub fn holds_tls_marker(path: &std::path::Path) -> std::io::Result<bool> {
    use std::io::Read;
    const CHUNK: usize = 1 << 20;
    const KEEP: usize = 16;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; CHUNK + KEEP];
    let mut kept = 0;
    loop {
        let n = f.read(&mut buf[kept..])?;
        if n == 0 {
            return Ok(false);
        }
        let window = &buf[..kept + n];
        if has_tls_marker(window) {
            return Ok(true);
        }
        // Keep the tail: a marker may straddle two reads.
        let tail = window.len().saturating_sub(KEEP);
        buf.copy_within(tail..kept + n, 0);
        kept = kept + n - tail;
    }
}
