//! Escaping what came from input, one function per output syntax.
//!
//! Certificate fields (CN, SANs), file names, Hiera level names and YAML
//! keys are written by whoever wrote the change under review. Each renderer
//! passes every such string through the function for its syntax, so that
//! no input starts a line of its own (a `::error` workflow command in a CI
//! log), moves the terminal (ESC, OSC 8 links), reorders text (bidi
//! overrides), injects HTML or mentions into a pull-request comment, closes
//! a code fence, runs a spreadsheet formula, or breaks `dot`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a log as it is: C0 and C1
/// controls (newline, carriage return, ESC, NUL, …), DEL, and the Unicode
/// format characters that reorder or hide text (bidi embeddings, overrides
/// and isolates, zero-width characters, the line and paragraph separators).
pub(crate) fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

/// Plain text (terminal, CI log): hostile characters as visible escapes —
/// `\n`, `\r`, `\t`, `\x1b`, `\u{202e}` — so input never starts a line.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hostile(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_hostile(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A source line shown in an excerpt: as [`text`], but a tab stays a tab
/// (it is layout, and cannot start a line).
pub fn excerpt(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\t' && is_hostile(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.split('\t')
            .map(|part| text(part).into_owned())
            .collect::<Vec<_>>()
            .join("\t"),
    )
}

/// Markdown prose or a table cell (GitHub-flavoured): HTML and Markdown
/// syntax as entities or backslash escapes, `@` as an entity (no mention,
/// no `@everyone`), `|` escaped for tables, hostile characters as in [`text`].
pub fn markdown(s: &str) -> String {
    let s = text(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("&#64;"),
            '|' => out.push_str("\\|"),
            // What makes emphasis, code, links, images, headings and
            // strike-through; `(` is inert once `[` is escaped, and a cell
            // or list item never starts a line.
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside HTML (a `<summary>` of a Markdown comment): `&`, `<`, `>`,
/// quotes and `@` as entities, hostile characters as in [`text`].
pub fn html(s: &str) -> String {
    let s = text(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '@' => out.push_str("&#64;"),
            c => out.push(c),
        }
    }
    out
}

/// Inline code in Markdown: backticks around `s` (hostile characters
/// escaped), more of them than the longest run inside, with padding where
/// `s` starts or ends with one.
pub fn markdown_code(s: &str) -> String {
    let s = text(s);
    let ticks = "`".repeat(longest_backtick_run(&s) + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// A fenced code block around `body`: a fence of backticks longer than any
/// run of backticks in the body, so no line of it can close the fence.
pub fn markdown_fence(info: &str, body: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(body).max(2) + 1);
    let mut out = format!("{fence}{info}\n");
    for line in body.lines() {
        out.push_str(&excerpt(line));
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A CSV cell's text: one that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
/// leading `'` (OWASP's advice); hostile characters are escaped as in
/// [`text`]. Quoting is the caller's.
pub fn csv(s: &str) -> Cow<'_, str> {
    let s = text(s);
    // A number (`-30` days left) is no formula.
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err() {
        Cow::Owned(format!("'{s}"))
    } else {
        s
    }
}

/// The inside of a DOT double-quoted string: `"` and `\` escaped, hostile
/// characters as visible escapes (a NUL or ESC would break `dot`).
pub fn dot(s: &str) -> String {
    text(s).replace('\\', "\\\\").replace('"', "\\\"")
}

/// The inside of a Mermaid `"…"` label: quotes, `<`, `>`, `&` and `#` as
/// Mermaid entity codes (`#quot;`), so no HTML reaches the page.
pub fn mermaid(s: &str) -> String {
    let s = text(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '`' => out.push_str("#96;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_never_starts_a_line() {
        let hostile = "CN=x\n::error file=a::owned\r\x1b]8;;http://e\x07\u{202e}gpj.exe\0";
        let t = text(hostile);
        assert!(!t.contains(['\n', '\r', '\x1b', '\x07', '\0', '\u{202e}']));
        assert_eq!(
            t,
            "CN=x\\n::error file=a::owned\\r\\x1b]8;;http://e\\x07\\u{202e}gpj.exe\\x00"
        );
        assert!(matches!(text("plain é"), Cow::Borrowed(_)));
        assert_eq!(excerpt("a\tb\x1b"), "a\tb\\x1b");
    }

    #[test]
    fn markdown_is_inert() {
        let m = markdown("<img src=x onerror=alert(1)> </details> @everyone [a](http://e) |");
        assert!(
            !m.contains('<') && !m.contains("@everyone") && !m.contains(" |"),
            "{m}"
        );
        assert!(m.contains("\\[a\\](http"), "{m}");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        let fence = markdown_fence("diff", "+```\n+x");
        assert!(
            fence.starts_with("````diff\n") && fence.ends_with("\n````\n"),
            "{fence}"
        );
    }

    #[test]
    fn csv_dot_mermaid() {
        assert_eq!(csv("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv("-1+2"), "'-1+2");
        assert_eq!(csv("CN=a"), "CN=a");
        assert_eq!(csv("-30"), "-30");
        assert_eq!(dot("a\"b\\c\0"), "a\\\"b\\\\c\\\\x00");
        assert_eq!(mermaid("<b>\"x\"</b>"), "#lt;b#gt;#quot;x#quot;#lt;/b#gt;");
    }
}
