//! The regular expressions of `lookup_options` keys (`"^profile::.*::users$": {merge: deep}`):
//! a small engine for the Ruby (Onigmo) syntax such keys use, that cannot run away on a
//! hostile pattern.
//!
//! In: a pattern from a data file under review. Out: a compiled [`Regex`] or why the pattern
//! is not supported (the caller turns it into a note and ignores the key), then whether it
//! matches a root key. A Thompson NFA compiled from a parsed pattern and simulated in lock
//! step (Pike VM): linear in the input, so nothing backtracks catastrophically. Bounded: at
//! most 1,000 pattern characters, 64 nested groups, repetition counts up to 1,000,
//! [`MAX_REGEX_PROGRAM`] instructions and [`MAX_REGEX_INPUT`] characters of input.
//!
//! Supported: literals, `.`, classes (ranges, negation, `\d\w\s` and their negations),
//! groups and `(?:...)`, `|`, `* + ? {m} {m,} {m,n}` (a lazy or possessive suffix is
//! accepted: it does not change whether a match exists), `^ $ \A \z \Z`. A `{` that does not
//! start a valid count is a literal, as in Ruby. Everything else (flags such as `(?i)`,
//! lookaround, backreferences, `\b`, `\h`, `\p{..}`, POSIX and nested classes) is an error.
//! Known differences from Ruby, none of which changes a match on a Puppet key (an ASCII
//! `a::b_c` name on one line): `^`/`$` anchor the whole text rather than each line, `\w`
//! also takes non-ASCII letters, and `{,n}` is literal text (Ruby reads it as `{0,n}`).
//!
//! ## Why not the `regex` crate (`regex-automata` with a size limit)
//!
//! It would be linear and bounded too, but it would not answer what Puppet answers. It
//! lacks what this engine lacks (lookaround and backreferences, the two non-regular Onigmo
//! features), so no pattern becomes usable; and of the patterns it accepts, some mean
//! something else than in Ruby and some stop being reported: `\d`, `\w` and `\s` are
//! Unicode-wide, `\Z`, `\h`, `{,n}` and `a{,` are errors, `a**` is accepted, and `(?i)`,
//! `\p{..}` and `[[:alpha:]]` would start to match where the answer has so far been a note
//! (checked against regex 1.13). Getting Ruby's meaning would take a translation layer that
//! parses the pattern anyway, to replace the 100-line VM below; and `regex` itself is not
//! in the build (only `regex-automata`, pulled in by `globset`). So this engine stays, and a
//! pattern it refuses is reported, never guessed at.

/// Largest compiled `lookup_options` regular expression (instructions).
const MAX_REGEX_PROGRAM: usize = 10_000;
/// Longest text a regular expression is matched against.
const MAX_REGEX_INPUT: usize = 10_000;

#[derive(Clone, Copy, Debug)]
enum Item {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

#[derive(Clone, Debug)]
struct Class {
    neg: bool,
    items: Vec<Item>,
}

impl Class {
    fn lit(c: char) -> Class {
        Class {
            neg: false,
            items: vec![Item::Range(c, c)],
        }
    }

    fn one(item: Item) -> Class {
        Class {
            neg: false,
            items: vec![item],
        }
    }

    fn matches(&self, c: char) -> bool {
        let hit = self.items.iter().any(|i| match *i {
            Item::Range(a, b) => a <= c && c <= b,
            Item::Digit(neg) => c.is_ascii_digit() != neg,
            Item::Word(neg) => (c.is_alphanumeric() || c == '_') != neg,
            Item::Space(neg) => matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c') != neg,
        });
        hit != self.neg
    }
}

enum Ast {
    Class(Class),
    Any,
    Start,
    End,
    Cat(Vec<Ast>),
    Alt(Vec<Ast>),
    Rep(Box<Ast>, u32, Option<u32>),
}

#[derive(Clone, Debug)]
enum Inst {
    Class(Class),
    Any,
    Split(usize, usize),
    Jmp(usize),
    Start,
    End,
    Match,
}

/// A compiled pattern.
#[derive(Debug)]
pub(super) struct Regex {
    prog: Vec<Inst>,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn alt(&mut self) -> Result<Ast, String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err("groups nested too deeply".into());
        }
        let mut alts = vec![self.cat()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            alts.push(self.cat()?);
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Ast::Cat(Vec::new()))
        } else {
            Ast::Alt(alts)
        })
    }

    fn cat(&mut self) -> Result<Ast, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let a = self.atom()?;
            items.push(self.quant(a)?);
        }
        Ok(Ast::Cat(items))
    }

    fn quant(&mut self, a: Ast) -> Result<Ast, String> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => match self.braces() {
                Some(r) => return self.after_quant(a, r),
                None => return Ok(a),
            },
            _ => return Ok(a),
        };
        self.pos += 1;
        self.after_quant(a, (min, max))
    }

    fn after_quant(&mut self, a: Ast, (min, max): (u32, Option<u32>)) -> Result<Ast, String> {
        // Lazy / possessive suffixes do not change whether a match exists.
        if matches!(self.peek(), Some('?' | '+')) {
            self.pos += 1;
        }
        if matches!(self.peek(), Some('*' | '+' | '?')) {
            return Err("nested quantifier".into());
        }
        if min > 1000 || max.is_some_and(|m| m > 1000 || m < min) {
            return Err("bad repetition count".into());
        }
        Ok(Ast::Rep(Box::new(a), min, max))
    }

    /// `{n}`, `{n,}`, `{n,m}` (consumed only if well-formed; otherwise `{` is a literal).
    fn braces(&mut self) -> Option<(u32, Option<u32>)> {
        let start = self.pos;
        let rest: String = self.chars[start..].iter().take(24).collect();
        let close = rest.find('}')?;
        let body = &rest[1..close];
        let num = |s: &str| -> Option<u32> {
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
                None
            } else {
                s.parse().ok()
            }
        };
        let r = match body.split_once(',') {
            None => {
                let n = num(body)?;
                (n, Some(n))
            }
            Some((a, "")) => (num(a)?, None),
            Some((a, b)) => (num(a)?, Some(num(b)?)),
        };
        self.pos = start + body.chars().count() + 2;
        Some(r)
    }

    fn atom(&mut self) -> Result<Ast, String> {
        match self.bump() {
            None => Err("unexpected end".into()),
            Some('(') => {
                if self.peek() == Some('?') {
                    if self.chars.get(self.pos + 1) == Some(&':') {
                        self.pos += 2;
                    } else {
                        return Err("unsupported group syntax '(?'".into());
                    }
                }
                let a = self.alt()?;
                if self.bump() != Some(')') {
                    return Err("missing ')'".into());
                }
                Ok(a)
            }
            Some('[') => self.class(),
            Some('.') => Ok(Ast::Any),
            Some('^') => Ok(Ast::Start),
            Some('$') => Ok(Ast::End),
            Some('\\') => match self.bump() {
                None => Err("trailing backslash".into()),
                Some('A') => Ok(Ast::Start),
                Some('z' | 'Z') => Ok(Ast::End),
                Some(c) => Ok(Ast::Class(Class::one(escape(c)?))),
            },
            Some('*' | '+' | '?') => Err("nothing to repeat".into()),
            Some(c) => Ok(Ast::Class(Class::lit(c))),
        }
    }

    fn class(&mut self) -> Result<Ast, String> {
        let mut cls = Class {
            neg: false,
            items: Vec::new(),
        };
        if self.peek() == Some('^') {
            self.pos += 1;
            cls.neg = true;
        }
        let mut first = true;
        loop {
            let c = self.bump().ok_or("missing ']'")?;
            if c == ']' && !first {
                break;
            }
            first = false;
            if c == '[' || (c == '&' && self.peek() == Some('&')) {
                return Err("unsupported character class syntax".into());
            }
            let item = if c == '\\' {
                escape(self.bump().ok_or("trailing backslash")?)?
            } else {
                Item::Range(c, c)
            };
            if let Item::Range(lo, _) = item {
                if self.peek() == Some('-')
                    && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']')
                {
                    self.pos += 1;
                    let hi = match self.bump() {
                        Some('\\') => match escape(self.bump().ok_or("trailing backslash")?)? {
                            Item::Range(h, _) => h,
                            _ => return Err("bad range".into()),
                        },
                        Some(h) => h,
                        None => return Err("missing ']'".into()),
                    };
                    if hi < lo {
                        return Err("bad range".into());
                    }
                    cls.items.push(Item::Range(lo, hi));
                    continue;
                }
            }
            cls.items.push(item);
        }
        Ok(Ast::Class(cls))
    }
}

fn escape(c: char) -> Result<Item, String> {
    Ok(match c {
        'd' => Item::Digit(false),
        'D' => Item::Digit(true),
        'w' => Item::Word(false),
        'W' => Item::Word(true),
        's' => Item::Space(false),
        'S' => Item::Space(true),
        'n' => Item::Range('\n', '\n'),
        't' => Item::Range('\t', '\t'),
        'r' => Item::Range('\r', '\r'),
        'f' => Item::Range('\x0c', '\x0c'),
        'v' => Item::Range('\x0b', '\x0b'),
        c if c.is_ascii_alphanumeric() => {
            return Err(format!("unsupported escape '\\{c}'"));
        }
        c => Item::Range(c, c),
    })
}

struct Compiler {
    prog: Vec<Inst>,
}

impl Compiler {
    fn push(&mut self, i: Inst) -> Result<usize, String> {
        if self.prog.len() >= MAX_REGEX_PROGRAM {
            return Err("pattern too large".into());
        }
        self.prog.push(i);
        Ok(self.prog.len() - 1)
    }

    fn patch(&mut self, at: usize, i: Inst) {
        if let Some(slot) = self.prog.get_mut(at) {
            *slot = i;
        }
    }

    fn emit(&mut self, a: &Ast) -> Result<(), String> {
        match a {
            Ast::Class(c) => {
                self.push(Inst::Class(c.clone()))?;
            }
            Ast::Any => {
                self.push(Inst::Any)?;
            }
            Ast::Start => {
                self.push(Inst::Start)?;
            }
            Ast::End => {
                self.push(Inst::End)?;
            }
            Ast::Cat(items) => {
                for i in items {
                    self.emit(i)?;
                }
            }
            Ast::Alt(alts) => {
                let mut jumps = Vec::new();
                let last = alts.len().saturating_sub(1);
                for (i, alt) in alts.iter().enumerate() {
                    if i < last {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(alt)?;
                        jumps.push(self.push(Inst::Jmp(0))?);
                        let next = self.prog.len();
                        self.patch(split, Inst::Split(split + 1, next));
                    } else {
                        self.emit(alt)?;
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.patch(j, Inst::Jmp(end));
                }
            }
            Ast::Rep(inner, min, max) => {
                for _ in 0..*min {
                    self.emit(inner)?;
                }
                match max {
                    None => {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(inner)?;
                        self.push(Inst::Jmp(split))?;
                        let end = self.prog.len();
                        self.patch(split, Inst::Split(split + 1, end));
                    }
                    Some(max) => {
                        for _ in *min..*max {
                            let split = self.push(Inst::Split(0, 0))?;
                            self.emit(inner)?;
                            let end = self.prog.len();
                            self.patch(split, Inst::Split(split + 1, end));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Regex {
    /// Compiles a (Ruby-style) pattern; unsupported syntax is an error.
    pub(super) fn new(pattern: &str) -> Result<Regex, String> {
        if pattern.chars().count() > 1000 {
            return Err("pattern longer than 1000 characters".into());
        }
        let mut p = Parser {
            chars: pattern.chars().collect(),
            pos: 0,
            depth: 0,
        };
        let ast = p.alt()?;
        if p.pos < p.chars.len() {
            return Err("unbalanced ')'".into());
        }
        let mut c = Compiler { prog: Vec::new() };
        c.emit(&ast)?;
        c.push(Inst::Match)?;
        Ok(Regex { prog: c.prog })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub(super) fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().take(MAX_REGEX_INPUT + 1).collect();
        if chars.len() > MAX_REGEX_INPUT {
            return false;
        }
        let len = chars.len();
        let mut marks = vec![usize::MAX; self.prog.len()];
        let mut seeds: Vec<usize> = Vec::new();
        let mut threads: Vec<usize> = Vec::new();
        for pos in 0..=len {
            seeds.push(0);
            threads.clear();
            if self.closure(&seeds, pos, len, &mut marks, &mut threads) {
                return true;
            }
            seeds.clear();
            let Some(&c) = chars.get(pos) else { break };
            for &pc in &threads {
                let ok = match self.prog.get(pc) {
                    Some(Inst::Class(cls)) => cls.matches(c),
                    Some(Inst::Any) => c != '\n',
                    _ => false,
                };
                if ok {
                    seeds.push(pc + 1);
                }
            }
        }
        false
    }

    /// Follows empty transitions from `seeds` at `pos`; collects consuming instructions.
    fn closure(
        &self,
        seeds: &[usize],
        pos: usize,
        len: usize,
        marks: &mut [usize],
        out: &mut Vec<usize>,
    ) -> bool {
        let mut stack: Vec<usize> = seeds.iter().rev().copied().collect();
        let mut matched = false;
        while let Some(pc) = stack.pop() {
            let Some(mark) = marks.get_mut(pc) else {
                continue;
            };
            if *mark == pos {
                continue;
            }
            *mark = pos;
            match self.prog.get(pc) {
                Some(Inst::Split(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Some(Inst::Jmp(a)) => stack.push(*a),
                Some(Inst::Start) if pos == 0 => stack.push(pc + 1),
                Some(Inst::End) if pos == len => stack.push(pc + 1),
                Some(Inst::Start | Inst::End) => {}
                Some(Inst::Match) => matched = true,
                Some(Inst::Class(_) | Inst::Any) => out.push(pc),
                None => {}
            }
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn regex_engine() {
        let m = |p: &str, t: &str| Regex::new(p).expect("compiles").is_match(t);
        assert!(m("^profile::.*::users$", "profile::admin::users"));
        assert!(!m("^profile::.*::users$", "profile::admin::users_x"));
        assert!(m("^(a|b)+c$", "ababc"));
        assert!(!m("^(a|b)+c$", "abx"));
        assert!(m("[0-9]{2,3}", "x12"));
        assert!(!m("^[0-9]{2,3}$", "1234"));
        assert!(m(r"^\w+\.\d$", "ab_c.7"));
        assert!(m("^[^:]+$", "abc"));
        assert!(!m("^[^:]+$", "a:b"));
        assert!(m("(?:x)?y", "y"));
        assert!(m("a{,", "a{,"));
        assert!(m("^$", ""));
        // Pathological patterns stay linear.
        let start = Instant::now();
        assert!(!m("^(a*)*b$", &"a".repeat(5000)));
        assert!(start.elapsed().as_secs() < 5);
        for bad in ["(?i)x", "a**", "(a", "a)", "[a", r"\1", "*a", "a{5000}"] {
            assert!(Regex::new(bad).is_err(), "{bad}");
        }
    }
}
