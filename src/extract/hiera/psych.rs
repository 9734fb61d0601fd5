//! What Ruby's YAML reader (Psych 4, under Puppet 7) makes of a plain scalar, and how Ruby
//! prints numbers: the parts of Hiera's answers that come from Ruby rather than from Hiera.
//!
//! In: the text of a plain (unquoted, untagged) scalar, or a number. Out: a [`Psych`] value
//! (`Psych::ScalarScanner#tokenize`, step by step), or Ruby's `Float#to_s`.
//!
//! Psych is not the YAML 1.1 type repository: `1,000` is 1000, `1:30` is 5400 (its
//! sexagesimal reading multiplies the first part by 60² whatever the number of parts), `1e5`
//! and `0o17` are strings (a float needs a `.`), a word longer than 5 characters is never a
//! boolean. Dates, times and `:symbols` become Ruby objects that Puppet's safe YAML loading
//! refuses: [`Psych::Refused`].

/// A plain scalar as Psych reads it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Psych {
    /// `nil`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An Integer.
    Int(i128),
    /// A Float.
    Float(f64),
    /// A String (the text as is).
    Str,
    /// A Ruby object Puppet's safe loading refuses (`Date`, `Time`, `Symbol`), by class name.
    Refused(&'static str),
}

/// `[[:alpha:]_\s!@#$%\^&*(){}<>|/\\~;=]`
fn wordy(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c.is_whitespace() || "!@#$%^&*(){}<>|/\\~;=".contains(c)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Ruby's `String#to_i`: leading sign and digits (underscores between digits), else 0.
fn ruby_to_i(s: &str) -> i128 {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i128 = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => {
                n = n
                    .saturating_mul(10)
                    .saturating_add(i128::from(c as u8 - b'0'))
            }
            '_' => {}
            _ => break,
        }
    }
    if neg {
        -n
    } else {
        n
    }
}

/// `Psych::ScalarScanner::TIME`.
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize, min: usize, max: usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - st < max {
            *i += 1;
        }
        *i - st >= min
    };
    let lit = |i: &mut usize, c: u8| {
        if *i < b.len() && b[*i] == c {
            *i += 1;
            true
        } else {
            false
        }
    };
    lit(&mut i, b'-');
    if !(digits(&mut i, 4, 4)
        && lit(&mut i, b'-')
        && digits(&mut i, 1, 2)
        && lit(&mut i, b'-')
        && digits(&mut i, 1, 2))
    {
        return false;
    }
    if i < b.len() && (b[i] == b'T' || b[i] == b't') {
        i += 1;
    } else {
        let st = i;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == st {
            return false;
        }
    }
    if !(digits(&mut i, 1, 2)
        && lit(&mut i, b':')
        && digits(&mut i, 2, 2)
        && lit(&mut i, b':')
        && digits(&mut i, 2, 2))
    {
        return false;
    }
    if lit(&mut i, b'.') {
        digits(&mut i, 0, usize::MAX);
    }
    let rest = &s[i..];
    let tz = rest.trim_start();
    if tz.is_empty() {
        return true;
    }
    if tz == "Z" {
        return true;
    }
    let tb = tz.as_bytes();
    if !(tb[0] == b'-' || tb[0] == b'+') {
        return false;
    }
    let mut j = 1;
    let st = j;
    while j < tb.len() && tb[j].is_ascii_digit() && j - st < 2 {
        j += 1;
    }
    if j == st {
        return false;
    }
    if j < tb.len() && tb[j] == b':' {
        j += 1;
    }
    let st2 = j;
    while j < tb.len() && tb[j].is_ascii_digit() && j - st2 < 2 {
        j += 1;
    }
    j == tb.len() && (j - st2 == 0 || j - st2 == 2)
}

/// `^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$` and a real date (else `strptime` fails
/// and Psych keeps the string).
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts[..] else { return false };
    if y.len() != 4 || !all_digits(y) || !all_digits(m) || !all_digits(d) {
        return false;
    }
    if m.len() > 2 || d.len() > 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}` then `$` (`frac: false`) or `\.[0-9_]*$`.
fn sexagesimal(s: &str, frac: bool) -> Option<Vec<&str>> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, tail) = if frac {
        let i = body.rfind('.')?;
        (&body[..i], Some(&body[i + 1..]))
    } else {
        (body, None)
    };
    if let Some(t) = tail {
        if !t.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
            return None;
        }
    }
    let parts: Vec<&str> = main.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let head = parts[0];
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    for p in &parts[1..] {
        let ok = match p.as_bytes() {
            [a] => a.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    Some(s.split(':').collect())
}

/// `FLOAT = ^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`
fn is_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let Some(dot) = body.find('.') else {
        return false;
    };
    let int = &body[..dot];
    let int_ok = int.is_empty()
        || (int.starts_with(|c: char| c.is_ascii_digit())
            && int
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'_' || b == b','));
    if !int_ok {
        return false;
    }
    let rest = &body[dot + 1..];
    let (frac, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match exp {
        None => true,
        Some(e) => match e.strip_prefix(['-', '+']) {
            Some(d) => all_digits(d),
            None => false,
        },
    }
}

/// `INTEGER` (bases 2, 8, 10 with `,`/`_` separators, 16), read as Ruby's `Integer()` reads
/// the text without separators.
fn integer(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let sep = |b: u8| b == b'_' || b == b',';
    let clean = |t: &str| -> String { t.chars().filter(|&c| c != '_' && c != ',').collect() };
    let parsed = if let Some(bin) = body.strip_prefix("0b") {
        if bin.is_empty() || !bin.bytes().all(|b| b == b'0' || b == b'1' || sep(b)) {
            return None;
        }
        i128::from_str_radix(&clean(bin), 2).ok()
    } else if let Some(hex) = body.strip_prefix("0x") {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit() || sep(b)) {
            return None;
        }
        i128::from_str_radix(&clean(hex), 16).ok()
    } else if body == "0" {
        Some(0)
    } else if let Some(oct) = body.strip_prefix('0') {
        if oct.is_empty() || !oct.bytes().all(|b| (b'0'..=b'7').contains(&b) || sep(b)) {
            return None;
        }
        let c = clean(oct);
        if c.is_empty() {
            Some(0)
        } else {
            i128::from_str_radix(&c, 8).ok()
        }
    } else {
        // [1-9](?:[0-9]|,[0-9]|_[0-9])*
        let b = body.as_bytes();
        if b.is_empty() || !(b'1'..=b'9').contains(&b[0]) {
            return None;
        }
        let mut i = 1;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                i += 1;
            } else if sep(b[i]) && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                i += 2;
            } else {
                return None;
            }
        }
        clean(body).parse::<i128>().ok()
    };
    parsed.map(|n| if neg { -n } else { n })
}

/// `Psych::ScalarScanner#tokenize` on a plain scalar.
pub(crate) fn tokenize(s: &str) -> Psych {
    if s.is_empty() {
        return Psych::Null;
    }
    let mut cs = s.chars();
    let c0 = cs.next().unwrap_or(' ');
    let c1 = cs.next();
    let word = wordy(c0) || (!(c0.is_ascii_digit() || ".:-".contains(c0)) && c1.is_some_and(wordy));
    if word || s.contains('\n') {
        if s.chars().count() > 5 {
            return Psych::Str;
        }
        let lower = s.to_ascii_lowercase();
        if !lower.starts_with(['y', 't', 'o', 'n', 'f', '~']) {
            return Psych::Str;
        }
        return match lower.as_str() {
            "~" | "null" => Psych::Null,
            "yes" | "true" | "on" => Psych::Bool(true),
            "no" | "false" | "off" => Psych::Bool(false),
            _ => Psych::Str,
        };
    }
    if is_time(s) {
        return Psych::Refused("Time");
    }
    if is_date(s) {
        return Psych::Refused("Date");
    }
    let lower = s.to_ascii_lowercase();
    if lower == ".inf" || lower == "+.inf" {
        return Psych::Float(f64::INFINITY);
    }
    if lower == "-.inf" {
        return Psych::Float(f64::NEG_INFINITY);
    }
    if lower == ".nan" {
        return Psych::Float(f64::NAN);
    }
    if s.starts_with(':') && s.len() > 1 {
        return Psych::Refused("Symbol");
    }
    if let Some(parts) = sexagesimal(s, false) {
        let n = parts.len() as i32;
        let mut total: i128 = 0;
        for (e, p) in parts.iter().enumerate() {
            let pow = 60i128.pow((e as i32 - 2).unsigned_abs());
            total = total.saturating_add(ruby_to_i(p).saturating_mul(pow));
        }
        let _ = n;
        return Psych::Int(total);
    }
    if let Some(parts) = sexagesimal(s, true) {
        let mut total = 0.0;
        for (e, p) in parts.iter().enumerate() {
            let pow = 60f64.powi((e as i32 - 2).abs());
            total += ruby_to_f(p) * pow;
        }
        return Psych::Float(total);
    }
    if is_float(s) {
        let body = s.strip_prefix(['-', '+']).unwrap_or(s);
        if body == "." {
            return Psych::Str;
        }
        let clean: String = s.chars().filter(|&c| c != ',' && c != '_').collect();
        return match ruby_float_parse(&clean) {
            Some(f) => Psych::Float(f),
            None => Psych::Str,
        };
    }
    if let Some(i) = integer(s) {
        return Psych::Int(i);
    }
    Psych::Str
}

/// `Float(s)` after Psych dropped the separators (`1.` and `1.e5` are fine for it).
fn ruby_float_parse(s: &str) -> Option<f64> {
    let t = s.replace(".e", "e").replace(".E", "E");
    let t = t.strip_suffix('.').unwrap_or(&t);
    t.parse::<f64>().ok()
}

/// Ruby's `String#to_f` (leading numeric part, else 0.0).
fn ruby_to_f(s: &str) -> f64 {
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let mut end = 0;
    for (i, c) in clean.char_indices() {
        if c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0) {
            end = i + c.len_utf8();
        } else {
            break;
        }
    }
    clean[..end]
        .trim_end_matches('.')
        .parse::<f64>()
        .unwrap_or(0.0)
}

/// Ruby's `Float#to_s`: the shortest digits that read back, fixed notation when the decimal
/// exponent is in -4 < e <= 16 (`1.1`, `5400.0`, `0.0001`), else `1.0e+20`, `1.0e-05`.
pub(crate) fn ruby_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let decpt = exp + 1;
    let sign = if f < 0.0 { "-" } else { "" };
    if -4 < decpt && decpt <= 16 {
        let n = digits.len() as i32;
        if decpt <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
        } else if decpt >= n {
            format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (a, b) = digits.split_at(1);
        let b = if b.is_empty() { "0" } else { b };
        let e = decpt - 1;
        let esign = if e < 0 { '-' } else { '+' };
        format!("{sign}{a}.{b}e{esign}{:02}", e.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psych_scalars() {
        assert_eq!(tokenize("1:30"), Psych::Int(5400));
        assert_eq!(tokenize("1:02:03"), Psych::Int(3723));
        assert_eq!(tokenize("1,000"), Psych::Int(1000));
        assert_eq!(tokenize("1e5"), Psych::Str);
        assert_eq!(tokenize("0o17"), Psych::Str);
        assert_eq!(tokenize("017"), Psych::Int(15));
        assert_eq!(tokenize("0x10"), Psych::Int(16));
        assert_eq!(tokenize("1.10"), Psych::Float(1.1));
        assert_eq!(tokenize("1.5e+3"), Psych::Float(1500.0));
        assert_eq!(tokenize("yes"), Psych::Bool(true));
        assert_eq!(tokenize("y"), Psych::Str);
        assert_eq!(tokenize("nULL"), Psych::Null);
        assert_eq!(tokenize("2024-01-02"), Psych::Refused("Date"));
        assert_eq!(tokenize("2024-02-30"), Psych::Str);
        assert_eq!(
            tokenize("2001-12-14t21:59:43.10-05:00"),
            Psych::Refused("Time")
        );
        assert_eq!(tokenize("::1"), Psych::Refused("Symbol"));
        assert_eq!(tokenize(":a"), Psych::Refused("Symbol"));
        assert_eq!(tokenize("."), Psych::Str);
        assert_eq!(tokenize("-"), Psych::Str);
        assert_eq!(tokenize("1.2.3"), Psych::Str);
        assert_eq!(tokenize("10.0.0.1"), Psych::Str);
        assert_eq!(tokenize("+1"), Psych::Int(1));
        assert_eq!(tokenize("1_000"), Psych::Int(1000));
        assert_eq!(tokenize("1__0"), Psych::Str);
    }

    #[test]
    fn ruby_floats() {
        assert_eq!(ruby_float(1.1), "1.1");
        assert_eq!(ruby_float(5400.0), "5400.0");
        assert_eq!(ruby_float(1e16), "1.0e+16");
        assert_eq!(ruby_float(1e15), "1000000000000000.0");
        assert_eq!(ruby_float(0.0001), "0.0001");
        assert_eq!(ruby_float(0.00001), "1.0e-05");
        assert_eq!(ruby_float(-2.5e-7), "-2.5e-07");
        assert_eq!(ruby_float(123.456), "123.456");
    }
}
