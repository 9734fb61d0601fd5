//! The documentation's examples are run: every fenced block with the info
//! string `console` in README.md and docs/*.md is a case file, in the
//! format of trycmd's Markdown cases, and is compared with what the binary
//! prints today.
//!
//! A case is `$ certdrift ARGS…` (a line ending in ` \` continues on the
//! next), optionally `? CODE` (the exit code; without it, 0), then the
//! expected output: stdout, then stderr. A line that is only `…` or `...`
//! stands for any number of lines; `[..]` in a line for any text within
//! it. Blocks that cannot run here (CI YAML, a probe of a live host) are
//! fenced as `text` and skipped; a `$ certdrift` line in a block fenced as
//! anything else is an error, so an example cannot be skipped by accident.
//!
//! Every case runs in the repository's root with `CERTDRIFT_NOW` pinned,
//! `NO_COLOR` set and the other `CERTDRIFT_*` variables and `CI` cleared.
//!
//! `CERTDRIFT_UPDATE_DOCS=1 cargo test --test readme` rewrites the blocks
//! that do not match with the real output, keeping a block's leading and
//! trailing lines around its first and last `…` (the lines between are
//! collapsed into one `…`); review the result with `git diff`.
//!
//! A runner of our own rather than trycmd: the cases live in prose
//! documents next to other code blocks, the update has to keep the
//! elisions a reader needs, and `similar` (already a dependency) gives the
//! diff; trycmd would add a dozen crates for this one file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The evaluation time of every example (as in `tests/common`).
const NOW: &str = "2026-11-01T00:00:00Z";

/// Info strings of blocks that run.
const RUN: &str = "console";
/// Info string of blocks that show a command but are not run.
const SKIP: &str = "text";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The documents whose examples run.
fn documents() -> Vec<PathBuf> {
    let mut docs = vec![repo().join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

/// A fenced block: its info string and the line numbers (0-based) of its
/// body, between the fences.
struct Block {
    info: String,
    body: std::ops::Range<usize>,
}

fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, String, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        match &open {
            None if t.starts_with("```") => {
                open = Some((indent.to_owned(), t[3..].trim().to_owned(), i + 1));
            }
            Some((ind, info, start)) if t == "```" && indent == ind => {
                out.push(Block {
                    info: info.clone(),
                    body: *start..i,
                });
                open = None;
            }
            _ => {}
        }
    }
    assert!(open.is_none(), "an unclosed ``` block");
    out
}

/// One `$ certdrift …` and what it should print.
struct Case {
    /// The command as written (its lines, continuations included).
    command: Vec<String>,
    args: Vec<String>,
    code: i32,
    expected: Vec<String>,
}

fn cases(body: &[&str]) -> Result<Vec<Case>, String> {
    let mut out: Vec<Case> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i];
        let Some(cmd) = line.strip_prefix("$ ") else {
            match out.last_mut() {
                Some(c) => c.expected.push(line.to_owned()),
                None => return Err(format!("text before the first `$ ` line: {line:?}")),
            }
            i += 1;
            continue;
        };
        let mut command = vec![line.to_owned()];
        let mut text = cmd.to_owned();
        while text.ends_with('\\') && i + 1 < body.len() {
            text.pop();
            i += 1;
            command.push(body[i].to_owned());
            text.push(' ');
            text.push_str(body[i].trim());
        }
        let args = split_words(&text)?;
        if args.first().map(String::as_str) != Some("certdrift") {
            return Err(format!(
                "{text:?} does not run certdrift (fence the block as `{SKIP}` to skip it)"
            ));
        }
        let mut code = 0;
        if let Some(c) = body.get(i + 1).and_then(|l| l.strip_prefix("? ")) {
            code = c
                .trim()
                .parse()
                .map_err(|_| format!("bad exit code line `? {c}`"))?;
            i += 1;
        }
        out.push(Case {
            command,
            args: args[1..].to_vec(),
            code,
            expected: Vec::new(),
        });
        i += 1;
    }
    Ok(out)
}

/// Splits a command line into words: spaces separate, '…' and "…" quote.
/// Anything a shell would do more (pipes, redirections, `$VAR`) is refused.
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' | '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(x) => w.push(x),
                        None => return Err(format!("unclosed quote in {s:?}")),
                    }
                }
            }
            '|' | '>' | '<' | '$' | '&' | ';' | '`' => {
                return Err(format!(
                    "{s:?} needs a shell ({c:?}); fence the block as `{SKIP}` to skip it"
                ))
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

fn is_elision(line: &str) -> bool {
    matches!(line.trim(), "…" | "...")
}

/// `line` matches `pattern`, in which `[..]` is any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for p in middle {
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// `actual` matches `pattern` line by line, `…` lines standing for any
/// number of lines.
fn lines_match(pattern: &[String], actual: &[String]) -> bool {
    // reach[j]: the pattern so far can end just before actual[j].
    let mut reach = vec![false; actual.len() + 1];
    reach[0] = true;
    for p in pattern {
        let mut next = vec![false; actual.len() + 1];
        if is_elision(p) {
            let mut any = false;
            for j in 0..=actual.len() {
                any |= reach[j];
                next[j] = any;
            }
        } else {
            for j in 0..actual.len() {
                next[j + 1] = reach[j] && line_matches(p, &actual[j]);
            }
        }
        reach = next;
    }
    reach[actual.len()]
}

/// The expected output rewritten to what was printed, keeping the lines
/// around the first and last elision when they still fit.
fn updated(pattern: &[String], actual: &[String]) -> Vec<String> {
    let (Some(first), Some(last)) = (
        pattern.iter().position(|l| is_elision(l)),
        pattern.iter().rposition(|l| is_elision(l)),
    ) else {
        return actual.to_vec();
    };
    let tail = pattern.len() - last - 1;
    if first + tail >= actual.len() {
        return actual.to_vec();
    }
    let keep = |p: &String, a: &String| if line_matches(p, a) { p } else { a }.clone();
    let mut out: Vec<String> = pattern[..first]
        .iter()
        .zip(&actual[..first])
        .map(|(p, a)| keep(p, a))
        .collect();
    out.push(pattern[first].clone());
    out.extend(
        pattern[last + 1..]
            .iter()
            .zip(&actual[actual.len() - tail..])
            .map(|(p, a)| keep(p, a)),
    );
    out
}

/// Runs one case; its exit code and output lines (stdout, then stderr),
/// trailing spaces removed as Markdown editors do.
fn run(args: &[String]) -> (i32, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certdrift"));
    cmd.args(args).current_dir(repo());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CERTDRIFT_") || k == "CI" {
            cmd.env_remove(&*k);
        }
    }
    cmd.env("CERTDRIFT_NOW", NOW).env("NO_COLOR", "1");
    let out = cmd.output().expect("run certdrift");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let lines = text.lines().map(|l| l.trim_end().to_owned()).collect();
    (out.status.code().unwrap_or(-1), lines)
}

fn render(case: &Case, code: i32, output: &[String]) -> Vec<String> {
    let mut out = case.command.clone();
    if code != 0 {
        out.push(format!("? {code}"));
    }
    out.extend(output.iter().cloned());
    out
}

/// What checking one document found.
#[derive(Default)]
struct Checked {
    /// Examples that cannot run as written (rewriting cannot fix them).
    broken: Vec<String>,
    /// Examples whose output or exit code differs, with a diff each.
    differ: Vec<String>,
    /// Blocks rewritten (update mode).
    rewritten: usize,
}

/// Checks (or, with `update`, rewrites) one document.
fn check_document(path: &Path, update: bool) -> Checked {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path
        .strip_prefix(repo())
        .unwrap_or(path)
        .display()
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut c = Checked::default();
    let mut replace: Vec<(std::ops::Range<usize>, Vec<String>)> = Vec::new();
    let mut ran = 0;
    for block in blocks(&lines) {
        let body = &lines[block.body.clone()];
        let at = format!("{name}:{}", block.body.start);
        if block.info != RUN {
            if block.info != SKIP && body.iter().any(|l| l.starts_with("$ certdrift")) {
                c.broken.push(format!(
                    "{at}: a `$ certdrift` example fenced as `{}`: fence it `{RUN}` to run it or `{SKIP}` to skip it",
                    block.info
                ));
            }
            continue;
        }
        let cases = match cases(body) {
            Ok(c) => c,
            Err(e) => {
                c.broken.push(format!("{at}: {e}"));
                continue;
            }
        };
        let mut new_body = Vec::new();
        let mut changed = false;
        for case in &cases {
            ran += 1;
            let (code, actual) = run(&case.args);
            let ok = code == case.code && lines_match(&case.expected, &actual);
            let output = if ok {
                case.expected.clone()
            } else {
                changed = true;
                let expected = case.expected.join("\n") + "\n";
                let got = actual.join("\n") + "\n";
                let diff = similar::TextDiff::from_lines(&expected, &got)
                    .unified_diff()
                    .context_radius(3)
                    .header("documented", "actual")
                    .to_string();
                c.differ.push(format!(
                    "{at}: `{}`: exit code {code} (documented {}){}\n{diff}",
                    case.command.join(" "),
                    case.code,
                    if lines_match(&case.expected, &actual) {
                        ", output matches"
                    } else {
                        ""
                    }
                ));
                updated(&case.expected, &actual)
            };
            new_body.extend(render(case, code, &output));
        }
        if changed {
            replace.push((block.body.clone(), new_body));
        }
    }
    assert!(
        ran > 0 || name != "README.md",
        "README.md has no `{RUN}` examples"
    );
    c.rewritten = replace.len();
    if update && !replace.is_empty() {
        let mut out: Vec<String> = Vec::new();
        let mut next = 0;
        for (range, body) in replace {
            out.extend(lines[next..range.start].iter().map(|l| l.to_string()));
            out.extend(body);
            next = range.end;
        }
        out.extend(lines[next..].iter().map(|l| l.to_string()));
        std::fs::write(path, out.join("\n") + "\n").unwrap();
    }
    c
}

#[test]
fn documented_examples_match() {
    let update = std::env::var_os("CERTDRIFT_UPDATE_DOCS").is_some_and(|v| v == "1");
    let mut all = Checked::default();
    for doc in documents() {
        let c = check_document(&doc, update);
        all.broken.extend(c.broken);
        all.differ.extend(c.differ);
        all.rewritten += c.rewritten;
    }
    assert!(all.broken.is_empty(), "{}", all.broken.join("\n"));
    if update {
        eprintln!(
            "rewrote {} block(s); review them with `git diff`",
            all.rewritten
        );
        return;
    }
    let failures = all.differ;
    assert!(
        failures.is_empty(),
        "{}\n\n{} example(s) differ from the binary's output; \
         `CERTDRIFT_UPDATE_DOCS=1 cargo test --test readme` rewrites them",
        failures.join("\n\n"),
        failures.len()
    );
}

#[test]
fn elisions_match_any_lines() {
    let v = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
    assert!(lines_match(&v("a\n…\nd"), &v("a\nb\nc\nd")));
    assert!(lines_match(&v("a\n...\nb"), &v("a\nb")));
    assert!(!lines_match(&v("a\n…\nd"), &v("a\nb\nc")));
    assert!(lines_match(&v("x [..] z"), &v("x y y z")));
    assert!(!lines_match(&v("x [..] z"), &v("x y y")));
    // `<…>` inside a line is the report's own elision, matched literally.
    assert!(!lines_match(&v("tls.crt: <…>"), &v("tls.crt: abc")));
    assert_eq!(
        updated(&v("a\nB\n…\nz"), &v("a\nb\nc\nd\nz")),
        v("a\nb\n…\nz")
    );
}

#[test]
fn commands_split_like_a_shell() {
    assert_eq!(
        split_words(r#"certdrift scan --exclude './x/**' "a b""#).unwrap(),
        ["certdrift", "scan", "--exclude", "./x/**", "a b"]
    );
    assert!(split_words("certdrift man | man -l -").is_err());
}
