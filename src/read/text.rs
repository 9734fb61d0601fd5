//! Text decoding and line tables shared by the readers.
//!
//! In: raw bytes. Out: a `String` (lossy where the input is not UTF-8, with
//! the offset of the first bad byte) and a [`Lines`] table mapping byte
//! offsets to 1-based line/column and back.

/// The file's text and, when it was not valid UTF-8, where the first bad byte was.
pub struct Decoded {
    /// The text; invalid sequences replaced by U+FFFD.
    pub text: String,
    /// Byte offset of the first invalid UTF-8 sequence, if any.
    pub invalid_at: Option<usize>,
}

/// Decodes bytes as UTF-8, replacing invalid sequences (Latin-1 files, binary junk).
pub fn decode(bytes: &[u8]) -> Decoded {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: s.to_owned(),
            invalid_at: None,
        },
        Err(e) => Decoded {
            text: String::from_utf8_lossy(bytes).into_owned(),
            invalid_at: Some(e.valid_up_to()),
        },
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
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
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

    #[test]
    fn latin1_is_decoded_lossily() {
        let d = decode(b"name: caf\xe9\n");
        assert_eq!(d.invalid_at, Some(9));
        assert!(d.text.starts_with("name: caf"));
    }
}
