//! `certdrift lookup`: a Hiera [`Lookup`] as text.
//!
//! In: the key and its [`Lookup`] (from [`Hiera::lookup`](crate::extract::hiera::Hiera::lookup)).
//! Out: the value as YAML, each leaf annotated with where it was set, then (with `explain`)
//! the levels and files tried like `puppet lookup --explain`, then the notes. Parts that come
//! from input (level names, paths, keys, notes) are escaped.

use crate::extract::hiera::{plain_bool, Lookup, StepOutcome, Value, ValueKind};
use std::fmt::Write as _;

/// The lookup as text: the value as YAML (`show` may replace any string, e.g. a PEM by
/// `<certificate sha256:… CN=…>`), then with `explain` every level tried (like
/// `puppet lookup --explain`) and where the value was set (each leaf is annotated with its
/// line), then the notes.
#[must_use]
pub fn render_lookup(
    key: &str,
    l: &Lookup,
    explain: bool,
    show: &dyn Fn(&Value) -> Option<String>,
) -> String {
    let mut r = Render {
        out: String::new(),
        show,
        base: None,
    };
    match &l.value {
        None if l.error.is_some() => {
            let _ = writeln!(r.out, "{}: <lookup failed>", yaml_scalar(key));
        }
        None => {
            let _ = writeln!(r.out, "{}: <not found>", yaml_scalar(key));
        }
        Some(_) if l.sensitive => {
            let _ = writeln!(r.out, "{}: {}", yaml_scalar(key), Lookup::REDACTED);
        }
        Some(v) => {
            if explain {
                r.base = Some(v.origin.path.clone());
            }
            r.after_colon(format!("{}:", yaml_scalar(key)), 0, v);
        }
    }
    let mut out = r.out;
    if explain {
        out.push('\n');
        line(
            &mut out,
            format!("Searching for \"{key}\" (merge: {})", l.merge.name()),
        );
        let mut last: Option<&str> = None;
        for s in &l.explain {
            if last != Some(s.level.as_str()) {
                line(&mut out, format!("  Hierarchy entry \"{}\"", s.level));
                last = Some(&s.level);
            }
            let ind = match &s.path {
                Some(p) => {
                    line(&mut out, format!("    Path \"{p}\""));
                    "      "
                }
                None => "    ",
            };
            let text = match &s.outcome {
                StepOutcome::Found(o) => {
                    format!("Found key at line {}, column {}", o.line, o.column)
                }
                StepOutcome::NotFound => "No such key".to_string(),
                StepOutcome::FileMissing => "Path not found".to_string(),
                StepOutcome::Skipped(why) => format!("Skipped: {why}"),
                StepOutcome::Error(e) => format!("Error: {e}"),
            };
            line(&mut out, format!("{ind}{text}"));
            if let Some(d) = &s.detail {
                line(&mut out, format!("{ind}({d})"));
            }
        }
        match &l.value {
            Some(v) => {
                line(&mut out, format!("Value set at {}", v.origin));
                let mut files: std::collections::BTreeMap<&str, usize> =
                    std::collections::BTreeMap::new();
                count_leaves(v, &mut files);
                if files.len() > 1 || files.keys().any(|p| *p != v.origin.path) {
                    out.push_str("Merged from:\n");
                    for (p, n) in files {
                        line(
                            &mut out,
                            format!("  {p} ({n} value{})", if n == 1 { "" } else { "s" }),
                        );
                    }
                }
            }
            None => {
                out.push_str("No value found\n");
            }
        }
    }
    if !l.notes.is_empty() {
        out.push_str("Notes:\n");
        for n in &l.notes {
            line(&mut out, format!("  {}: {}", n.origin, n.message));
        }
    }
    out
}

/// The value as `puppet lookup --render-as json` prints it (compact JSON, map keys in order,
/// numbers as Ruby prints them, a `Sensitive` value as `"Sensitive [value redacted]"`);
/// `Ok(None)` when the lookup found nothing or failed, `Err` for what Ruby's JSON generator
/// refuses (an infinite or NaN float).
pub fn render_json(l: &Lookup) -> Result<Option<String>, String> {
    let Some(v) = l.value.as_ref() else {
        return Ok(None);
    };
    if l.sensitive {
        return Ok(Some(serde_json::Value::from(Lookup::REDACTED).to_string()));
    }
    Ok(Some(to_json(v)?.to_string()))
}

/// A [`Value`] as JSON; `Err` for a float JSON cannot hold (`.inf`, `.nan`).
pub fn to_json(v: &Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match &v.kind {
        ValueKind::Null => J::Null,
        ValueKind::Bool(b) => J::Bool(*b),
        ValueKind::Number(n) => match serde_json::from_str::<serde_json::Number>(n) {
            Ok(num) => J::Number(num),
            Err(_) if matches!(n.as_str(), "Infinity" | "-Infinity" | "NaN") => {
                return Err(format!("{n} not allowed in JSON (at {})", v.origin));
            }
            Err(_) => J::String(n.clone()),
        },
        ValueKind::String(s) => J::String(s.clone()),
        ValueKind::Seq(items) => J::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        ValueKind::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Appends one line of the lookup report whose parts (level names, paths,
/// keys, notes) came from input: escaped as a whole, so that no hierarchy
/// name starts a line of its own or sends a control sequence.
fn line(out: &mut String, line: String) {
    out.push_str(&crate::report::escape::text(&line));
    out.push('\n');
}

fn count_leaves<'v>(v: &'v Value, files: &mut std::collections::BTreeMap<&'v str, usize>) {
    match &v.kind {
        ValueKind::Seq(items) if !items.is_empty() => {
            items.iter().for_each(|i| count_leaves(i, files))
        }
        ValueKind::Map(m) if !m.is_empty() => m.iter().for_each(|(_, i)| count_leaves(i, files)),
        _ => {
            if !v.origin.path.is_empty() {
                *files.entry(v.origin.path.as_str()).or_insert(0) += 1;
            }
        }
    }
}

struct Render<'a> {
    out: String,
    show: &'a dyn Fn(&Value) -> Option<String>,
    /// With explain: the value's file (leaves elsewhere are annotated with their file).
    base: Option<String>,
}

impl Render<'_> {
    fn annot(&self, v: &Value) -> String {
        match &self.base {
            Some(b) if v.origin.line > 0 => {
                if v.origin.path == *b {
                    format!("  # line {}", v.origin.line)
                } else {
                    format!("  # {}:{}", v.origin.path, v.origin.line)
                }
            }
            _ => String::new(),
        }
    }

    fn after_colon(&mut self, lead: String, indent: usize, v: &Value) {
        match &v.kind {
            ValueKind::Map(m) if !m.is_empty() => {
                let _ = writeln!(self.out, "{lead}");
                self.map(m, indent + 2, None);
            }
            ValueKind::Seq(items) if !items.is_empty() => {
                let _ = writeln!(self.out, "{lead}");
                self.seq(items, indent + 2, None);
            }
            _ => self.scalar(&lead, indent, v),
        }
    }

    fn map(&mut self, m: &[(String, Value)], indent: usize, first_lead: Option<String>) {
        for (i, (k, v)) in m.iter().enumerate() {
            let prefix = match (i, &first_lead) {
                (0, Some(l)) => l.clone(),
                _ => " ".repeat(indent),
            };
            self.after_colon(format!("{prefix}{}:", yaml_scalar(k)), indent, v);
        }
    }

    fn seq(&mut self, items: &[Value], indent: usize, first_lead: Option<String>) {
        for (i, item) in items.iter().enumerate() {
            let prefix = match (i, &first_lead) {
                (0, Some(l)) => l.clone(),
                _ => " ".repeat(indent),
            };
            let lead = format!("{prefix}- ");
            match &item.kind {
                ValueKind::Map(m) if !m.is_empty() => self.map(m, indent + 2, Some(lead)),
                ValueKind::Seq(s) if !s.is_empty() => self.seq(s, indent + 2, Some(lead)),
                _ => self.scalar(lead.trim_end(), indent, item),
            }
        }
    }

    fn scalar(&mut self, lead: &str, indent: usize, v: &Value) {
        let annot = self.annot(v);
        let text = match &v.kind {
            ValueKind::Null => "~".to_string(),
            ValueKind::Bool(b) => b.to_string(),
            ValueKind::Number(n) => n.clone(),
            ValueKind::Map(_) => "{}".to_string(),
            ValueKind::Seq(_) => "[]".to_string(),
            ValueKind::String(s) => {
                if let Some(shown) = (self.show)(v) {
                    shown
                } else if let Some((indicator, body)) = block_literal(s) {
                    let _ = writeln!(self.out, "{lead} {indicator}{annot}");
                    let pad = " ".repeat(indent + 2);
                    for line in body.split('\n') {
                        if line.is_empty() {
                            self.out.push('\n');
                        } else {
                            let _ = writeln!(self.out, "{pad}{line}");
                        }
                    }
                    return;
                } else {
                    yaml_scalar(s)
                }
            }
        };
        let _ = writeln!(self.out, "{lead} {text}{annot}");
    }
}

/// `|` / `|-` block form for a multi-line string, if it can be written that way.
fn block_literal(s: &str) -> Option<(&'static str, &str)> {
    if !s.contains('\n')
        || s.starts_with([' ', '\t', '\n'])
        || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return None;
    }
    match s.strip_suffix('\n') {
        Some(body) if !body.ends_with('\n') => Some(("|", body)),
        Some(_) => None,
        None => Some(("|-", s)),
    }
}

/// A scalar or key as YAML: plain if unambiguous, else double-quoted.
pub(crate) fn yaml_scalar(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(c))
        || s.ends_with(|c: char| c.is_whitespace() || c == ':')
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(char::is_control)
        || s == "~"
        || s.eq_ignore_ascii_case("null")
        || plain_bool(s).is_some()
        || is_yaml_number(s);
    if !needs_quotes {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a plain scalar reads as a YAML 1.1 number (so a string must be quoted).
fn is_yaml_number(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = t.strip_prefix(prefix) {
            return !rest.is_empty()
                && rest.chars().all(|c| c.is_digit(radix) || c == '_')
                && rest.chars().any(|c| c != '_');
        }
    }
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [digits][.digits][(e|E)[sign]digits], with `_` separators, at least one digit.
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = mant.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !digits(int) || !frac.is_none_or(digits) {
        return false;
    }
    if !int.starts_with(|c: char| c.is_ascii_digit()) && int.starts_with('_') {
        return false;
    }
    let has_digit = int.chars().any(|c| c.is_ascii_digit())
        || frac.is_some_and(|f| f.chars().any(|c| c.is_ascii_digit()));
    if !has_digit {
        return false;
    }
    match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::hiera::{Facts, Hiera, HieraOptions};
    use crate::read::source::DirSource;
    use std::sync::Arc;

    const SIMPLE: &str = "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: common\n    path: common.yaml\n";

    #[test]
    fn render_with_show_and_explain() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let data = format!(
            "certs:\n  main: |\n{}\n  note: \"yes\"\n  empty: {{}}\n  list:\n    - a: 1\n      b: [x, y]\n    - [1, 2]\n    - ''\n",
            pem.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
        );
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("data")).expect("mkdir");
        std::fs::write(dir.path().join("hiera.yaml"), SIMPLE).expect("write");
        std::fs::write(dir.path().join("data/common.yaml"), data).expect("write");
        let h = Hiera::load(
            Arc::new(DirSource::new(dir.path())),
            "hiera.yaml",
            HieraOptions::default(),
        )
        .expect("config loads");
        let l = h.lookup("certs", &Facts::new(), None);
        let show = |v: &Value| {
            v.as_str()
                .filter(|s| s.contains("BEGIN CERTIFICATE"))
                .map(|_| "<certificate sha256:abcd CN=test>".to_string())
        };
        let text = render_lookup("certs", &l, false, &show);
        assert_eq!(
            text,
            "certs:\n  main: <certificate sha256:abcd CN=test>\n  note: \"yes\"\n  empty: {}\n  list:\n    - a: 1\n      b:\n        - x\n        - y\n    - - 1\n      - 2\n    - \"\"\n"
        );
        let text = render_lookup("certs", &l, true, &|_| None);
        assert!(
            text.contains("  main: |  # line 2\n    -----BEGIN CERTIFICATE-----\n    MIIB\n"),
            "{text}"
        );
        assert!(text.contains("Searching for \"certs\" (merge: first)"));
        assert!(text.contains("  Hierarchy entry \"common\"\n    Path \"data/common.yaml\"\n      Found key at line 1, column 1\n"), "{text}");
        assert!(text.contains("Value set at data/common.yaml:1:1"));
        let missing = h.lookup("nope", &Facts::new(), None);
        let text = render_lookup("nope", &missing, true, &|_| None);
        assert!(text.starts_with("nope: <not found>\n"));
        assert!(text.contains("No such key"));
    }
}
