//! A tolerant PEM framer that reports byte offsets.
//!
//! Existing PEM crates return decoded blocks but no positions; findings need
//! `file:line`, so the framing is done here. The scanner is deliberately
//! tolerant of what real configuration repositories contain:
//!
//! * indented blocks (PEM inside YAML block scalars), CRLF line endings,
//!   trailing whitespace, base64 wrapped at any width, missing `=` padding;
//! * RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`) before the
//!   blank line that starts the body;
//! * arbitrary text before, between and after blocks (comments, openssl's
//!   `subject=` / `issuer=` lines, ...);
//! * a block folded onto one line with spaces, as produced by YAML plain
//!   scalars: `-----BEGIN CERTIFICATE----- MIIB... -----END CERTIFICATE-----`.
//!
//! It is strict about the boundaries themselves, because strict consumers
//! (OpenSSL, Go's `encoding/pem`) silently skip a block whose boundary is
//! malformed. Such a block is reported as a [`PemError`] pointing at the BEGIN
//! line instead of being decoded.
//!
//! # What counts as a boundary
//!
//! `-{3,}(BEGIN|END) LABEL-*`, where `LABEL` is made of ASCII letters, digits,
//! spaces and `_.#` (single hyphens allowed between label characters), at
//! most 64 bytes, words of at most 16 characters. A
//! BEGIN boundary must be followed by whitespace or the end of the text, so
//! quoted boundaries in scripts (`grep -q "-----BEGIN CERTIFICATE-----"`) and
//! string literals with escaped newlines (`"-----BEGIN ...-----\nMII..."`) are
//! ignored rather than reported. An END boundary may be followed by anything
//! (e.g. a closing quote). A stray END boundary without a BEGIN is ignored.
//! Anything other than exactly five dashes on either side of a BEGIN or END
//! boundary is an error. `PGP SIGNED MESSAGE` (clear-signed text, which has no
//! END line of its own) is skipped, and the `=XXXX` armor checksum line of
//! `PGP ...` blocks is not treated as base64.
//!
//! # Secrets
//!
//! Blocks whose label contains `PRIVATE KEY` ([`is_private_key_label`]) are
//! validated (base64 alphabet, padding, length) but never decoded: their
//! [`PemBlock::der`] is always empty. No error message ever quotes a body
//! line; errors only name labels, boundary lines and line numbers.
//!
//! # Complexity
//!
//! [`scan`] is linear in the input: every byte is visited a bounded number of
//! times (the search for a block's END is a single forward search that also
//! serves as the search for the next block).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// A decoded PEM block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PemBlock {
    /// The label of the BEGIN line, e.g. `CERTIFICATE`.
    pub label: String,
    /// The decoded body. Always empty for private-key labels
    /// (see [`is_private_key_label`]).
    pub der: Vec<u8>,
    /// Byte offset of the first `-` of the BEGIN boundary.
    pub begin: usize,
    /// Byte offset just past the last `-` of the END boundary.
    pub end: usize,
}

/// A malformed PEM block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PemError {
    /// Byte offset of the first `-` of the offending BEGIN boundary.
    pub offset: usize,
    /// The label of the BEGIN boundary.
    pub label: Option<String>,
    /// Human-readable description. Never contains body content.
    pub message: String,
    /// The body's byte range when the armour is complete (matching BEGIN
    /// and END) and only the body is bad: a reader can still tell a
    /// placeholder body (`...`) or a private key from the label.
    pub body: Option<std::ops::Range<usize>>,
}

/// One item found by [`scan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PemItem {
    Block(PemBlock),
    Error(PemError),
}

/// Labels longer than this are not considered boundaries.
const MAX_LABEL: usize = 64;
/// Longest word (space- or hyphen-separated) allowed in a label.
const MAX_LABEL_WORD: usize = 16;
/// Minimum dash run before BEGIN/END for the line to be treated as a
/// (possibly malformed) boundary.
const MIN_LEAD_DASHES: usize = 3;
const DASHES: usize = 5;

const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `-----BEGIN` in base64 at each alignment of a 3-byte group: the first
/// starts an encoded PEM block, the others stand inside base64 of text that
/// holds one. The one definition (prefilter, text search, large files).
pub const BASE64_BEGINS: [&str; 3] = ["LS0tLS1CRUdJT", "0tLS0tQkVHSU", "tLS0tLUJFR0lO"];

/// Cheap pre-filter: does the text contain something that [`scan`] could
/// treat as a BEGIN boundary (`---BEGIN `, which includes the standard
/// `-----BEGIN `)?
pub fn looks_like_pem(text: &[u8]) -> bool {
    find(text, b"---BEGIN ", 0).is_some()
}

/// Whether a PEM label denotes private key material: `PRIVATE KEY`,
/// `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `DSA PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`,
/// ... (any label containing `PRIVATE KEY`, ASCII case-insensitive).
pub fn is_private_key_label(label: &str) -> bool {
    label.to_ascii_uppercase().contains("PRIVATE KEY")
}

/// Scans `text` for PEM blocks, returning blocks and errors in order of
/// appearance. Never panics; linear time.
pub fn scan(text: &[u8]) -> Vec<PemItem> {
    let lines = LineStarts::new(text);
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut pending: Option<Boundary> = None;

    while let Some(b) = pending.take().or_else(|| find_boundary(text, pos)) {
        pos = b.end;
        if b.kind == Kind::End || b.label == "PGP SIGNED MESSAGE" {
            // Stray END (no BEGIN), or clear-signed text: nothing to frame.
            continue;
        }
        let begin_line = lines.line(b.start);
        let err = |message: String| {
            PemItem::Error(PemError {
                offset: b.start,
                label: Some(b.label.clone()),
                message,
                body: None,
            })
        };
        let malformed = boundary_problem(text, &b)
            .or_else(|| {
                // `-----BEGIN -----`: strict readers find no block here.
                b.label
                    .is_empty()
                    .then(|| format!("BEGIN boundary at line {begin_line} has an empty label"))
            })
            .or_else(|| {
                b.glued_prev.then(|| {
                    format!(
                        "BEGIN {} at line {begin_line} is on the same line as the previous END \
                     boundary (missing newline between concatenated PEM files?)",
                        b.label
                    )
                })
            });
        let next = find_boundary(text, b.end);
        let end = match next {
            Some(nb) if nb.kind == Kind::End => nb,
            other => {
                // No END before the next BEGIN (or before EOF).
                out.push(err(malformed.unwrap_or_else(|| {
                    format!(
                        "BEGIN {} at line {} has no END {} line",
                        b.label, begin_line, b.label
                    )
                })));
                if let Some(nb) = other {
                    pos = nb.start;
                    pending = Some(nb);
                    continue;
                }
                break;
            }
        };
        pos = end.end;
        if let Some(message) = malformed {
            // Strict tools skip this block; so do we, up to its END line.
            out.push(err(message));
            continue;
        }
        let end_line = lines.line(end.start);
        if end.label != b.label {
            out.push(err(format!(
                "BEGIN {} at line {} is closed by END {} at line {}",
                b.label, begin_line, end.label, end_line
            )));
            continue;
        }
        if let Some(problem) = boundary_problem(text, &end) {
            out.push(err(format!(
                "{problem} (line {end_line}, closing BEGIN {} at line {begin_line})",
                b.label
            )));
            continue;
        }
        if end.glued_next {
            out.push(err(format!(
                "END {} at line {end_line} is followed by another PEM boundary on the same \
                 line (missing newline between concatenated PEM files?)",
                b.label
            )));
            continue;
        }
        let private = is_private_key_label(&b.label);
        let pgp = b.label.starts_with("PGP ");
        match decode_body(text, b.end, end.start, &lines, private, pgp) {
            Ok(der) => out.push(PemItem::Block(PemBlock {
                label: b.label.clone(),
                der,
                begin: b.start,
                end: end.end,
            })),
            Err(problem) => {
                let mut e = err(format!("{} block at line {begin_line}: {problem}", b.label));
                if let PemItem::Error(e) = &mut e {
                    e.body = Some(b.end..end.start);
                }
                out.push(e);
            }
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Begin,
    End,
}

#[derive(Clone, Debug)]
struct Boundary {
    kind: Kind,
    /// Offset of the first dash.
    start: usize,
    /// Offset just past the trailing dashes.
    end: usize,
    lead: usize,
    trail: usize,
    label: String,
    /// The leading dashes continue a previous boundary's trailing dashes
    /// (`-----END X----------BEGIN X-----`).
    glued_prev: bool,
    /// The trailing dashes run straight into another boundary.
    glued_next: bool,
}

fn boundary_problem(text: &[u8], b: &Boundary) -> Option<String> {
    if b.lead == DASHES && b.trail == DASHES {
        return None;
    }
    let shown = String::from_utf8_lossy(text.get(b.start..b.end).unwrap_or_default());
    let detail = match (b.lead == DASHES, b.trail == DASHES) {
        (false, true) => format!("has {} leading dashes", b.lead),
        (true, false) => format!("has {} trailing dashes", b.trail),
        _ => format!("has {} leading and {} trailing dashes", b.lead, b.trail),
    };
    Some(format!(
        "PEM boundary \"{shown}\" {detail}, expected {DASHES}"
    ))
}

fn is_label_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b' ' | b'_' | b'.' | b'#')
}

/// Finds the next BEGIN/END boundary starting at or after `from`.
fn find_boundary(text: &[u8], from: usize) -> Option<Boundary> {
    let mut i = from;
    loop {
        let rest = text.get(i..)?;
        i += rest.iter().position(|&c| c == b'-')?;
        let start = i;
        while text.get(i) == Some(&b'-') {
            i += 1;
        }
        let lead = i - start;
        if lead >= MIN_LEAD_DASHES {
            if let Some(b) = parse_boundary(text, start, i) {
                return Some(b);
            }
        }
    }
}

/// Parses a boundary whose dash run spans `start..after_dashes`.
fn parse_boundary(text: &[u8], start: usize, after_dashes: usize) -> Option<Boundary> {
    let rest = text.get(after_dashes..)?;
    let (kind, kw_len) = if rest.starts_with(b"BEGIN ") {
        (Kind::Begin, 6)
    } else if rest.starts_with(b"END ") {
        (Kind::End, 4)
    } else {
        return None;
    };
    let label_start = after_dashes + kw_len;
    let mut j = label_start;
    while let Some(&c) = text.get(j) {
        let ok = is_label_char(c)
            || (c == b'-'
                && j > label_start
                && text
                    .get(j + 1)
                    .is_some_and(|&n| n != b' ' && is_label_char(n)));
        if !ok {
            break;
        }
        j += 1;
        if j - label_start > MAX_LABEL {
            return None;
        }
    }
    let label = std::str::from_utf8(text.get(label_start..j)?).ok()?.trim();
    // An empty label is a boundary only as `-----BEGIN -----` (a broken
    // BEGIN line, reported by `scan`); a stray `END ` is nothing.
    let empty_begin = label.is_empty()
        && kind == Kind::Begin
        && text.get(j..).is_some_and(|r| r.starts_with(b"---"));
    // Real labels are short words; this also keeps base64 (which could be
    // key material) out of labels and therefore out of error messages.
    if (label.is_empty() && !empty_begin)
        || label.split([' ', '-']).any(|w| w.len() > MAX_LABEL_WORD)
    {
        return None;
    }
    let mut k = j;
    while text.get(k) == Some(&b'-') {
        k += 1;
    }
    let mut trail = k - j;
    let mut glued_next = false;
    if trail >= DASHES + MIN_LEAD_DASHES {
        let after = text.get(k..).unwrap_or_default();
        if after.starts_with(b"BEGIN ") || after.starts_with(b"END ") {
            // Two boundaries glued together: give this one five dashes and
            // leave the rest as the next boundary's leading dashes.
            trail = DASHES;
            k = j + DASHES;
            glued_next = true;
        }
    }
    if trail == 0 {
        // Without trailing dashes the label must end the line.
        let mut m = k;
        while matches!(text.get(m), Some(b' ' | b'\t')) {
            m += 1;
        }
        if !matches!(text.get(m), None | Some(b'\r' | b'\n')) {
            return None;
        }
    }
    if kind == Kind::Begin
        && !glued_next
        && !matches!(text.get(k), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
    {
        return None;
    }
    Some(Boundary {
        kind,
        start,
        end: k,
        lead: after_dashes - start,
        trail,
        label: label.to_string(),
        glued_prev: start > 0 && text.get(start - 1) == Some(&b'-'),
        glued_next,
    })
}

fn is_b64_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// Validates (and, unless `private`, decodes) the body between the BEGIN
/// boundary's end and the END boundary's start. Error strings never contain
/// body bytes.
fn decode_body(
    text: &[u8],
    body_start: usize,
    body_end: usize,
    lines: &LineStarts,
    private: bool,
    pgp: bool,
) -> Result<Vec<u8>, String> {
    let body = text.get(body_start..body_end).unwrap_or_default();
    let mut b64: Vec<u8> = Vec::with_capacity(if private { 0 } else { body.len() });
    let mut count = 0usize; // base64 symbols seen, including '='
    let mut pad = 0usize;
    let mut in_headers = true;
    let mut saw_header = false;
    let mut line_off = body_start;
    for raw_line in body.split(|&c| c == b'\n') {
        let this_off = line_off;
        line_off += raw_line.len() + 1;
        let t = raw_line.trim_ascii();
        if in_headers {
            if t.is_empty() {
                if saw_header {
                    in_headers = false;
                }
                continue;
            }
            if t.contains(&b':') {
                saw_header = true;
                continue;
            }
            in_headers = false;
        }
        if pgp && t.first() == Some(&b'=') && t.len() == 5 && count > 0 {
            // OpenPGP armor checksum ("=XXXX"), not part of the data.
            continue;
        }
        for (idx, &c) in raw_line.iter().enumerate() {
            if c.is_ascii_whitespace() {
                continue;
            }
            let at = || lines.line(this_off + idx);
            if c == b'=' {
                pad += 1;
                if pad > 2 {
                    return Err(format!("too much '=' padding at line {}", at()));
                }
            } else if is_b64_char(c) {
                if pad > 0 {
                    return Err(format!(
                        "base64 continues after '=' padding at line {}",
                        at()
                    ));
                }
            } else {
                return Err(format!("invalid base64 character at line {}", at()));
            }
            count += 1;
            if !private {
                b64.push(c);
            }
        }
    }
    if count == 0 {
        return Err("empty body".to_string());
    }
    if count % 4 == 1 || (pad > 0 && !count.is_multiple_of(4)) {
        return Err(format!(
            "base64 body has an invalid length ({count} characters; truncated?)"
        ));
    }
    if private {
        return Ok(Vec::new());
    }
    B64.decode(&b64).map_err(|e| {
        let what = match e {
            base64::DecodeError::InvalidByte(..) => "invalid base64 character",
            base64::DecodeError::InvalidLength(_) => "invalid base64 length",
            base64::DecodeError::InvalidLastSymbol(..) => "invalid last base64 symbol",
            base64::DecodeError::InvalidPadding => "invalid base64 padding",
        };
        what.to_string()
    })
}

/// Byte-substring search starting at `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    loop {
        let rest = hay.get(i..)?;
        let p = rest.iter().position(|&c| c == first)?;
        i += p;
        if hay.get(i..)?.starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
}

/// Start offsets of every line (line 1 starts at 0).
#[derive(Clone, Debug)]
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &[u8]) -> Self {
        let mut v = Vec::with_capacity(text.len() / 40 + 1);
        v.push(0);
        v.extend(
            text.iter()
                .enumerate()
                .filter(|(_, &c)| c == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineStarts(v)
    }

    /// Index into `self.0` of the line containing `offset`.
    fn index(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// 1-based line number of `offset`.
    fn line(&self, offset: usize) -> u32 {
        u32::try_from(self.index(offset) + 1).unwrap_or(u32::MAX)
    }
}

const CHUNK: usize = 256;

/// Maps byte offsets to 1-based line and column (column counted in chars)
/// for one text.
///
/// Does not keep a copy of the text (so no key material is retained): it
/// stores line starts, the number of chars before every 256-byte chunk, and
/// for chunks containing UTF-8 continuation bytes a 256-bit map of them.
/// A lookup is `O(log n)` regardless of line length, so a minified one-line
/// file with thousands of blocks stays linear overall. Characters are counted
/// as bytes that are not UTF-8 continuation bytes (`0x80..=0xBF`); for
/// invalid UTF-8 this is an approximation.
#[derive(Clone)]
pub struct LineIndex {
    starts: LineStarts,
    len: usize,
    /// `chunk_chars[k]` = number of chars in `text[..k * CHUNK]`.
    chunk_chars: Vec<usize>,
    /// `(chunk index, continuation-byte bitmap)`, sorted, only for chunks
    /// that contain continuation bytes.
    cont_maps: Vec<(usize, [u64; 4])>,
}

impl std::fmt::Debug for LineIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineIndex")
            .field("lines", &self.starts.0.len())
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

fn is_continuation(c: u8) -> bool {
    (0x80..=0xBF).contains(&c)
}

impl LineIndex {
    pub fn new(text: &[u8]) -> Self {
        let mut chunk_chars = Vec::with_capacity(text.len() / CHUNK + 1);
        let mut cont_maps = Vec::new();
        let mut acc = 0usize;
        chunk_chars.push(0);
        for (k, chunk) in text.chunks(CHUNK).enumerate() {
            let mut map = [0u64; 4];
            let mut conts = 0usize;
            for (i, &c) in chunk.iter().enumerate() {
                if is_continuation(c) {
                    conts += 1;
                    if let Some(w) = map.get_mut(i / 64) {
                        *w |= 1u64 << (i % 64);
                    }
                }
            }
            if conts > 0 {
                cont_maps.push((k, map));
            }
            acc += chunk.len() - conts;
            chunk_chars.push(acc);
        }
        LineIndex {
            starts: LineStarts::new(text),
            len: text.len(),
            chunk_chars,
            cont_maps,
        }
    }

    /// Number of chars in `text[..offset]`, `offset <= len`.
    fn chars_before(&self, offset: usize) -> usize {
        let k = offset / CHUNK;
        let within = offset % CHUNK;
        let base = self.chunk_chars.get(k).copied().unwrap_or(0);
        let conts = match self.cont_maps.binary_search_by_key(&k, |(i, _)| *i) {
            Ok(pos) => self.cont_maps.get(pos).map_or(0, |(_, map)| {
                map.iter()
                    .enumerate()
                    .map(|(w, &bits)| {
                        let lo = w * 64;
                        if within >= lo + 64 {
                            bits.count_ones() as usize
                        } else if within > lo {
                            (bits & ((1u64 << (within - lo)) - 1)).count_ones() as usize
                        } else {
                            0
                        }
                    })
                    .sum()
            }),
            Err(_) => 0,
        };
        base + within - conts
    }

    /// 1-based `(line, column)` of a byte offset; offsets past the end are
    /// clamped to the end of the text.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.len);
        let idx = self.starts.index(offset);
        let line_start = self.starts.0.get(idx).copied().unwrap_or(0);
        let col = self
            .chars_before(offset)
            .saturating_sub(self.chars_before(line_start))
            + 1;
        (
            u32::try_from(idx + 1).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> u32 {
        self.line_col(offset).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(items: &[PemItem]) -> Vec<&PemBlock> {
        items
            .iter()
            .filter_map(|i| match i {
                PemItem::Block(b) => Some(b),
                PemItem::Error(_) => None,
            })
            .collect()
    }

    fn errors(items: &[PemItem]) -> Vec<&PemError> {
        items
            .iter()
            .filter_map(|i| match i {
                PemItem::Error(e) => Some(e),
                PemItem::Block(_) => None,
            })
            .collect()
    }

    /// A fake "certificate" body: arbitrary bytes, encoded and wrapped.
    fn payload(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn pem(label: &str, der: &[u8], width: usize, indent: &str, eol: &str) -> String {
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let mut s = format!("{indent}-----BEGIN {label}-----{eol}");
        for chunk in b.as_bytes().chunks(width) {
            s.push_str(indent);
            s.push_str(std::str::from_utf8(chunk).unwrap());
            s.push_str(eol);
        }
        s.push_str(&format!("{indent}-----END {label}-----{eol}"));
        s
    }

    #[test]
    fn plain_block_offsets() {
        let der = payload(100, 1);
        let text = format!(
            "# comment\n{}trailing\n",
            pem("CERTIFICATE", &der, 64, "", "\n")
        );
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 1);
        let b = blocks(&items)[0];
        assert_eq!(b.der, der);
        assert_eq!(b.label, "CERTIFICATE");
        assert_eq!(b.begin, 10);
        assert_eq!(&text[b.begin..b.begin + 5], "-----");
        assert!(text[..b.end].ends_with("-----END CERTIFICATE-----"));
        assert!(looks_like_pem(text.as_bytes()));
        assert!(!looks_like_pem(b"hello world"));
    }

    #[test]
    fn indented_crlf_odd_width_missing_padding() {
        let der = payload(101, 2); // 101 bytes -> base64 needs padding
        let mut text = String::from("tls:\r\n  cert: |\r\n");
        text.push_str(&pem("CERTIFICATE", &der, 17, "    ", "  \r\n"));
        let text = text.replace('=', "");
        let items = scan(text.as_bytes());
        let bs = blocks(&items);
        assert_eq!(bs.len(), 1, "{items:?}");
        assert_eq!(bs[0].der, der);
        let idx = LineIndex::new(text.as_bytes());
        assert_eq!(idx.line_col(bs[0].begin), (3, 5));
    }

    #[test]
    fn rfc1421_headers_are_skipped() {
        let der = payload(48, 3);
        let b = base64::engine::general_purpose::STANDARD.encode(&der);
        let text = format!(
            "-----BEGIN RSA PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n\n{b}\n-----END RSA PUBLIC KEY-----\n"
        );
        let items = scan(text.as_bytes());
        assert_eq!(blocks(&items).len(), 1, "{items:?}");
        assert_eq!(blocks(&items)[0].der, der);
    }

    #[test]
    fn folded_on_one_line() {
        let der = payload(90, 4);
        let b = base64::engine::general_purpose::STANDARD.encode(&der);
        let (h1, h2) = b.split_at(40);
        let text = format!(
            "ca: -----BEGIN CERTIFICATE----- {h1} {h2} -----END CERTIFICATE-----\nnext: 1\n"
        );
        let items = scan(text.as_bytes());
        let bs = blocks(&items);
        assert_eq!(bs.len(), 1, "{items:?}");
        assert_eq!(bs[0].der, der);
        assert_eq!(bs[0].begin, 4);
        assert_eq!(&text[bs[0].end..bs[0].end + 1], "\n");
    }

    #[test]
    fn six_dash_begin_is_reported_and_other_block_kept() {
        let a = payload(60, 5);
        let c = payload(70, 6);
        let good = pem("CERTIFICATE", &a, 64, "", "\n");
        let bad = pem("CERTIFICATE", &c, 64, "", "\n").replacen("-----BEGIN", "------BEGIN", 1);
        let third = pem("CERTIFICATE", &a, 64, "", "\n");
        let text = format!("{good}{bad}{third}");
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(matches!(items[0], PemItem::Block(_)));
        assert!(matches!(items[2], PemItem::Block(_)));
        let e = errors(&items)[0];
        assert_eq!(e.offset, good.len());
        assert_eq!(
            e.message,
            "PEM boundary \"------BEGIN CERTIFICATE-----\" has 6 leading dashes, expected 5"
        );
        assert_eq!(e.label.as_deref(), Some("CERTIFICATE"));
        let idx = LineIndex::new(text.as_bytes());
        let bad_line = text.lines().position(|l| l.starts_with("------")).unwrap() + 1;
        assert_eq!(idx.line_col(e.offset), (bad_line as u32, 1));
    }

    #[test]
    fn trailing_dash_count_and_bad_end_boundary() {
        let a = payload(30, 7);
        let t1 = pem("CERTIFICATE", &a, 64, "", "\n").replacen(
            "CERTIFICATE-----\n",
            "CERTIFICATE----\n",
            1,
        );
        let items = scan(t1.as_bytes());
        assert_eq!(items.len(), 1);
        assert!(errors(&items)[0]
            .message
            .contains("has 4 trailing dashes, expected 5"));

        let t2 = pem("CERTIFICATE", &a, 64, "", "\n").replace("-----END", "------END");
        let items = scan(t2.as_bytes());
        assert_eq!(items.len(), 1);
        let e = errors(&items)[0];
        assert_eq!(e.offset, 0);
        assert!(e.message.contains("6 leading dashes"), "{}", e.message);
        assert!(
            e.message
                .contains("(line 3, closing BEGIN CERTIFICATE at line 1)"),
            "{}",
            e.message
        );
    }

    #[test]
    fn truncated_block() {
        let a = payload(100, 8);
        let full = pem("CERTIFICATE", &a, 64, "", "\n");
        let cut = &full[..full.len() - 40];
        let text = format!("x\n{cut}");
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 1);
        let e = errors(&items)[0];
        assert_eq!(e.offset, 2);
        assert_eq!(
            e.message,
            "BEGIN CERTIFICATE at line 2 has no END CERTIFICATE line"
        );

        // Truncated block followed by a complete one: both reported.
        let text = format!("{cut}\n{full}");
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(items[0], PemItem::Error(_)));
        assert_eq!(blocks(&items)[0].der, a);
    }

    #[test]
    fn glued_end_and_begin_are_both_reported() {
        let a = pem("CERTIFICATE", &payload(30, 12), 64, "", "\n");
        let c = pem("CERTIFICATE", &payload(40, 13), 64, "", "\n");
        let good = pem("CERTIFICATE", &payload(50, 14), 64, "", "\n");
        let text = format!("{}{c}{good}", a.trim_end());
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 3, "{items:?}");
        let es = errors(&items);
        assert_eq!(es.len(), 2);
        assert_eq!(es[0].offset, 0);
        assert!(
            es[0]
                .message
                .starts_with("END CERTIFICATE at line 3 is followed by"),
            "{}",
            es[0].message
        );
        assert_eq!(es[1].offset, a.trim_end().len());
        // The second error points at the BEGIN glued to the END on line 3.
        assert_eq!(LineIndex::new(text.as_bytes()).line(es[1].offset), 3);
        assert!(
            es[1].message.contains("same line as the previous END"),
            "{}",
            es[1].message
        );
        assert_eq!(blocks(&items)[0].der, payload(50, 14));
    }

    #[test]
    fn end_label_mismatch() {
        let a = payload(30, 9);
        let text = pem("CERTIFICATE", &a, 64, "", "\n").replace("END CERTIFICATE", "END X509 CRL");
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 1);
        assert_eq!(
            errors(&items)[0].message,
            "BEGIN CERTIFICATE at line 1 is closed by END X509 CRL at line 3"
        );
    }

    /// istio `root-verify-fail.pem`: `-----BEGIN -----` over a certificate
    /// body closed by `END CERTIFICATE` was silently no block at all.
    #[test]
    fn empty_begin_label_is_an_error() {
        let a = payload(30, 15);
        let text = pem("CERTIFICATE", &a, 64, "", "\n").replacen("BEGIN CERTIFICATE", "BEGIN ", 1);
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(
            errors(&items)[0].message,
            "BEGIN boundary at line 1 has an empty label"
        );
        // A stray `-----END -----` is still nothing.
        assert!(scan(b"-----END -----\n").is_empty());
    }

    #[test]
    fn body_range_only_when_armour_is_complete() {
        let text = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n";
        let items = scan(text.as_bytes());
        let body = errors(&items)[0].body.clone().expect("body");
        assert_eq!(text[body].trim(), "...");
        let items = scan(b"-----BEGIN CERTIFICATE-----\nTUlJ\n");
        assert_eq!(errors(&items)[0].body, None);
    }

    #[test]
    fn bad_base64_and_empty_body() {
        let text = "-----BEGIN CERTIFICATE-----\nTUlJ\nTU*J\n-----END CERTIFICATE-----\n";
        let items = scan(text.as_bytes());
        let e = errors(&items)[0];
        assert_eq!(
            e.message,
            "CERTIFICATE block at line 1: invalid base64 character at line 3"
        );
        assert!(!e.message.contains("TU"));

        let text = "-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n";
        let items = scan(text.as_bytes());
        assert!(errors(&items)[0].message.ends_with("empty body"));

        let text = "-----BEGIN CERTIFICATE-----\nTUl=JTUlJ\n-----END CERTIFICATE-----\n";
        let items = scan(text.as_bytes());
        assert!(errors(&items)[0]
            .message
            .contains("after '=' padding at line 2"));

        let text = "-----BEGIN CERTIFICATE-----\nTUlJT\n-----END CERTIFICATE-----\n";
        let items = scan(text.as_bytes());
        assert!(errors(&items)[0].message.contains("invalid length"));
    }

    #[test]
    fn private_keys_are_never_kept() {
        let secret = b"super secret key material 0123456789";
        let b = base64::engine::general_purpose::STANDARD.encode(secret);
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
        ] {
            let text = format!("-----BEGIN {label}-----\n{b}\n-----END {label}-----\n");
            let items = scan(text.as_bytes());
            let bs = blocks(&items);
            assert_eq!(bs.len(), 1);
            assert!(bs[0].der.is_empty());
            let dbg = format!("{items:?}");
            assert!(!dbg.contains(&b[..20]), "{dbg}");
            assert!(!dbg.contains("secret"));
        }
        // Broken private key: message must not quote the body.
        let text = format!(
            "-----BEGIN PRIVATE KEY-----\n{b}\n{}!\n-----END PRIVATE KEY-----\n",
            &b[..8]
        );
        let items = scan(text.as_bytes());
        let dbg = format!("{items:?}");
        assert!(!dbg.contains(&b[..8]), "{dbg}");
        assert_eq!(errors(&items).len(), 1);
        for l in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "DSA PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "PGP PRIVATE KEY BLOCK",
            "ec private key",
        ] {
            assert!(is_private_key_label(l), "{l}");
        }
        assert!(!is_private_key_label("CERTIFICATE"));
        assert!(!is_private_key_label("PUBLIC KEY"));
    }

    #[test]
    fn labels_never_carry_base64() {
        let text = b"-----BEGIN PRIVATE KEY MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nAAAA\n-----END PRIVATE KEY-----\n";
        let items = scan(text);
        assert!(!format!("{items:?}").contains("MIIE"), "{items:?}");
    }

    #[test]
    fn quoted_boundaries_in_scripts_are_ignored() {
        let text = br#"if grep -q "-----BEGIN CERTIFICATE-----" "$f"; then
  case "$x" in *"-----BEGIN PRIVATE KEY"*) ;; esac
  printf '%s' "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
fi
"#;
        assert!(scan(text).is_empty(), "{:?}", scan(text));
    }

    #[test]
    fn pgp_armor_and_stray_end() {
        let der = payload(40, 10);
        let b = base64::engine::general_purpose::STANDARD.encode(&der);
        let text = format!(
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nVersion: x\n\n{b}\n=AbCd\n-----END PGP PUBLIC KEY BLOCK-----\n-----END CERTIFICATE-----\n"
        );
        let items = scan(text.as_bytes());
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(blocks(&items)[0].der, der);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples: &[&[u8]] = &[
            b"",
            b"-",
            b"-----",
            b"-----BEGIN ",
            b"-----BEGIN X",
            b"-----BEGIN X-----",
            b"-----BEGIN X-----\n",
            b"-----BEGIN X-----\n-----END X",
            b"-----BEGIN X-----\n-----END X-----",
            b"-----BEGIN X-----\n=\n-----END X-----",
            b"-----BEGIN \xff\xfe-----\n",
            b"\xff\xfe\xfd-----BEGIN CERTIFICATE-----\n\xc3\xa9\n-----END CERTIFICATE-----",
            b"----------------------------------------",
        ];
        for s in samples {
            let _ = scan(s);
            let idx = LineIndex::new(s);
            for off in 0..s.len() + 3 {
                let _ = idx.line_col(off);
            }
        }
    }

    #[test]
    fn line_index() {
        let text = "ab\né€x\r\n\nz";
        let idx = LineIndex::new(text.as_bytes());
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(2), (1, 3));
        assert_eq!(idx.line_col(3), (2, 1));
        let x = text.find('x').unwrap();
        assert_eq!(idx.line_col(x), (2, 3));
        let z = text.find('z').unwrap();
        assert_eq!(idx.line_col(z), (4, 1));
        assert_eq!(idx.line_col(10_000), (4, 2));
        // Long single line crossing several checkpoints.
        let long = format!("{}é{}", "a".repeat(700), "b".repeat(700));
        let idx = LineIndex::new(long.as_bytes());
        assert_eq!(idx.line_col(700), (1, 701)); // the 2-byte 'é'
        assert_eq!(idx.line_col(702), (1, 702)); // the 'b' after it
        assert_eq!(idx.line_col(1200), (1, 1200));
    }

    #[test]
    fn line_index_matches_brute_force() {
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(["ab", "é", "€€", "\n", "\r\n", "𝄞", "x y"][i % 7]);
            if i % 13 == 0 {
                text.push_str(&"z".repeat(i));
            }
        }
        let mut bytes = text.into_bytes();
        bytes.extend([0xff, 0x80, b'a', b'\n', 0xc3]);
        let idx = LineIndex::new(&bytes);
        for off in 0..=bytes.len() {
            let before = &bytes[..off];
            let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
            let ls = before
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1);
            let col = bytes[ls..off]
                .iter()
                .filter(|&&c| !(0x80..=0xBF).contains(&c))
                .count()
                + 1;
            assert_eq!(idx.line_col(off), (line as u32, col as u32), "offset {off}");
        }
        assert!(!format!("{idx:?}").contains("ab"));
    }

    #[test]
    fn linear_on_large_inputs() {
        // Many blocks, one BEGIN with no END at the top, and a huge one-liner.
        let one = pem("CERTIFICATE", &payload(800, 11), 64, "", "\n");
        let mut text = String::from("-----BEGIN CERTIFICATE-----\n");
        while text.len() < 10 * 1024 * 1024 {
            text.push_str(&one);
        }
        let t = std::time::Instant::now();
        let items = scan(text.as_bytes());
        let n = items.len();
        assert!(matches!(items[0], PemItem::Error(_)));
        assert!(n > 5000);
        let no_end = format!(
            "-----BEGIN CERTIFICATE-----\n{}",
            "QUFB\n".repeat(2_000_000)
        );
        let items = scan(no_end.as_bytes());
        assert_eq!(items.len(), 1);
        let folded = one.replace('\n', " ").repeat(3000);
        let items = scan(folded.as_bytes());
        assert_eq!(blocks(&items).len(), 3000);
        let idx = LineIndex::new(folded.as_bytes());
        for b in blocks(&items) {
            let _ = idx.line_col(b.begin);
        }
        eprintln!(
            "pem: scanned {n} blocks in 10 MiB + 10 MB no-END + 3000 folded in {:?}",
            t.elapsed()
        );
    }

    /// Real public bundle whose 2nd block starts with 6 dashes (uses
    /// `crate::x509` for the CN/fingerprint check).
    #[test]
    fn real_puppet_ca_bundle() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/wikimedia/operations-puppet/modules/profile/files/puppetserver/puppet_ca.pem");
        let Ok(text) = std::fs::read(path) else {
            eprintln!("skipping: {path} missing");
            return;
        };
        let items = scan(&text);
        assert_eq!(items.len(), 2, "{items:?}");
        let PemItem::Block(b) = &items[0] else {
            panic!("{items:?}")
        };
        let ci = crate::x509::parse(&b.der).expect("parse");
        assert_eq!(ci.subject_cn.as_deref(), Some("puppet_rsa"));
        assert!(ci.fingerprint.hex().starts_with("5f9d75461982965f"));
        let PemItem::Error(e) = &items[1] else {
            panic!("{items:?}")
        };
        let idx = LineIndex::new(&text);
        let (line, col) = idx.line_col(e.offset);
        let bad_line = String::from_utf8_lossy(&text)
            .lines()
            .position(|l| l.starts_with("------BEGIN CERTIFICATE-----"))
            .unwrap()
            + 1;
        assert_eq!((line as usize, col), (bad_line, 1));
        assert!(e.message.contains("6 leading dashes"), "{}", e.message);
    }
}
