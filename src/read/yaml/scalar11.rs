//! YAML 1.1 plain scalars: what `yes`, `0755` or `2001-12-14` mean to the YAML 1.1 readers
//! (Psych, go-yaml v2, PyYAML) that read the same files.

/// What a plain (unquoted, untagged) scalar means to a YAML 1.1 reader: Psych (Puppet/Hiera),
/// go-yaml v2 (kubectl and Helm through `sigs.k8s.io/yaml`) and PyYAML resolve `yes`, `off`,
/// `0755`, `1_000`, `.inf`, `2001-12-14` before anything else sees them. See [`resolve_plain`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar11 {
    /// `~`, `null`, `Null`, `NULL` or nothing.
    Null,
    /// `y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON` and their `false` counterparts.
    Bool(bool),
    /// Decimal, `0b`, `0x`, leading-`0` octal or sexagesimal (`190:20:30`), `_` ignored.
    Int(i128),
    /// `1.5`, `6.8523015e+5`, `.5`, `190:20:30.15`, `.inf`, `-.Inf`, `.NaN`.
    Float(f64),
    /// A YAML 1.1 timestamp (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`); the text is the value.
    Timestamp,
    /// Anything else (including `<<`, which is a merge key in key position: see
    /// [`Document::is_merge_key`](super::Document::is_merge_key)), and integers too large for
    /// `i128`.
    Str,
}

/// Resolves a plain scalar the YAML 1.1 way (the regular expressions of the YAML 1.1 type
/// repository, as PyYAML's resolver has them). Only for [`Style::Plain`](super::Style::Plain)
/// scalars without a tag: a quoted `'yes'` is a string everywhere.
///
/// Where the readers differ: PyYAML and Psych leave `y`/`n` strings (go-yaml v2 and the type
/// repository make them booleans, as here; Hiera's reader keeps them strings); Psych also
/// takes mixed case (`yEs`, `nULL`) and `0o17`; PyYAML wants a `.` and a signed exponent in
/// floats (`1e5` is a float here, as in go-yaml and Psych).
#[must_use]
pub fn resolve_plain(v: &str) -> Scalar11 {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar11::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar11::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar11::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar11::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar11::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar11::Float(f64::NAN),
        _ => {}
    }
    let b = v.as_bytes();
    if !(b[0].is_ascii_digit() || matches!(b[0], b'-' | b'+' | b'.')) {
        return Scalar11::Str;
    }
    if let Some(i) = int11(v) {
        return i;
    }
    if let Some(f) = float11(v) {
        return Scalar11::Float(f);
    }
    if is_timestamp11(b) {
        return Scalar11::Timestamp;
    }
    Scalar11::Str
}

/// `[-+]?(0b[01_]+ | 0[0-7_]+ | 0 | [1-9][0-9_]* | 0x[0-9a-fA-F_]+ | [1-9][0-9_]*(:[0-5]?[0-9])+)`
fn int11(v: &str) -> Option<Scalar11> {
    let (neg, body) = match v.as_bytes()[0] {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    let digits = |s: &str, radix: u32| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c == b'_' || char::from(c).is_digit(radix))
            && s.bytes().any(|c| c != b'_')
    };
    let parse = |s: &str, radix: u32| -> Option<Scalar11> {
        let clean: String = s.chars().filter(|&c| c != '_').collect();
        let n = match i128::from_str_radix(&clean, radix) {
            Ok(n) => n,
            Err(_) => return Some(Scalar11::Str),
        };
        Some(Scalar11::Int(if neg { -n } else { n }))
    };
    if body == "0" {
        return Some(Scalar11::Int(0));
    }
    if let Some(bin) = body.strip_prefix("0b") {
        return if digits(bin, 2) { parse(bin, 2) } else { None };
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return if digits(hex, 16) {
            parse(hex, 16)
        } else {
            None
        };
    }
    if let Some(oct) = body.strip_prefix('0') {
        // PyYAML's `0[0-7_]+` also matches `0_`, which int() then reads as 0.
        return if oct.bytes().all(|c| c == b'_' || (b'0'..=b'7').contains(&c)) && !oct.is_empty() {
            if oct.bytes().all(|c| c == b'_') {
                Some(Scalar11::Int(0))
            } else {
                parse(oct, 8)
            }
        } else {
            None
        };
    }
    let first = body.bytes().next()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    if body.contains(':') {
        let mut parts = body.split(':');
        let head = parts.next()?;
        if !digits(head, 10) {
            return None;
        }
        let mut n: i128 = head.replace('_', "").parse().ok()?;
        for p in parts {
            if !sexagesimal_digit(p) {
                return None;
            }
            n = n.checked_mul(60)?.checked_add(p.parse::<i128>().ok()?)?;
        }
        return Some(Scalar11::Int(if neg { -n } else { n }));
    }
    if digits(body, 10) {
        return parse(body, 10);
    }
    None
}

/// `[0-5]?[0-9]`
fn sexagesimal_digit(p: &str) -> bool {
    let b = p.as_bytes();
    match b {
        [d] => d.is_ascii_digit(),
        [a, d] => (b'0'..=b'5').contains(a) && d.is_ascii_digit(),
        _ => false,
    }
}

/// `[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?` (the integer part is required unless the
/// scalar is unsigned), `[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+`, or sexagesimal
/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`. The type repository and PyYAML want a sign in
/// the exponent and a `.`; go-yaml v2 and Psych, who read these files, do not.
fn float11(v: &str) -> Option<f64> {
    let (sign, body) = match v.as_bytes()[0] {
        b'-' => (-1.0, &v[1..]),
        b'+' => (1.0, &v[1..]),
        _ => (1.0, v),
    };
    let signed = body.len() != v.len();
    let Some(dot) = body.find('.') else {
        // `1e5`, `1_000E-3`
        let (m, e) = body.split_at(body.find(['e', 'E'])?);
        let e = e[1..].strip_prefix(['-', '+']).unwrap_or(&e[1..]);
        let ok = m.bytes().next().is_some_and(|c| c.is_ascii_digit())
            && m.bytes().all(|c| c == b'_' || c.is_ascii_digit())
            && !e.is_empty()
            && e.bytes().all(|c| c.is_ascii_digit());
        let clean: String = body.chars().filter(|&c| c != '_').collect();
        return if ok {
            clean.parse::<f64>().ok().map(|f| sign * f)
        } else {
            None
        };
    };
    let (int_part, rest) = body.split_at(dot);
    let frac_exp = &rest[1..];
    if int_part.contains(':') {
        let mut parts = int_part.split(':');
        let head = parts.next()?;
        if head.is_empty() || !head.as_bytes()[0].is_ascii_digit() {
            return None;
        }
        if !head.bytes().all(|c| c == b'_' || c.is_ascii_digit()) {
            return None;
        }
        let mut n: f64 = head.replace('_', "").parse().ok()?;
        for p in parts {
            if !sexagesimal_digit(p) {
                return None;
            }
            n = n * 60.0 + p.parse::<f64>().ok()?;
        }
        if !frac_exp.bytes().all(|c| c == b'_' || c.is_ascii_digit()) {
            return None;
        }
        let frac: String = frac_exp.chars().filter(|&c| c != '_').collect();
        let frac: f64 = format!("0.{frac}").parse().ok()?;
        return Some(sign * (n + frac));
    }
    if int_part.is_empty() {
        if signed {
            return None;
        }
    } else if !int_part.as_bytes()[0].is_ascii_digit()
        || !int_part.bytes().all(|c| c == b'_' || c.is_ascii_digit())
    {
        return None;
    }
    let (frac, exp) = match frac_exp.find(['e', 'E']) {
        Some(i) => (&frac_exp[..i], Some(&frac_exp[i + 1..])),
        None => (frac_exp, None),
    };
    if !frac.bytes().all(|c| c == b'_' || c.is_ascii_digit()) {
        return None;
    }
    if int_part.is_empty() && !frac.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if let Some(e) = exp {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let clean = if clean.starts_with('.') {
        format!("0{clean}")
    } else {
        clean
    };
    let clean = clean.replace(".e", ".0e").replace(".E", ".0E");
    clean.parse::<f64>().ok().map(|f| sign * f)
}

/// `YYYY-MM-DD`, or `YYYY-M?M-D?D([Tt]|[ \t]+)H?H:MM:SS(\.F*)?([ \t]*(Z|[-+]H?H(:MM)?))?`
fn is_timestamp11(b: &[u8]) -> bool {
    let digits = |b: &[u8], i: &mut usize, min: usize, max: usize| {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start >= min
    };
    let lit = |b: &[u8], i: &mut usize, c: u8| {
        let ok = b.get(*i) == Some(&c);
        if ok {
            *i += 1;
        }
        ok
    };
    let mut i = 0;
    if !(digits(b, &mut i, 4, 4) && lit(b, &mut i, b'-')) {
        return false;
    }
    let date_start = i;
    if digits(b, &mut i, 2, 2) && lit(b, &mut i, b'-') && digits(b, &mut i, 2, 2) && i == b.len() {
        return true;
    }
    i = date_start;
    if !(digits(b, &mut i, 1, 2) && lit(b, &mut i, b'-') && digits(b, &mut i, 1, 2)) {
        return false;
    }
    if matches!(b.get(i), Some(b'T' | b't')) {
        i += 1;
    } else {
        let s = i;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    if !(digits(b, &mut i, 1, 2)
        && lit(b, &mut i, b':')
        && digits(b, &mut i, 2, 2)
        && lit(b, &mut i, b':')
        && digits(b, &mut i, 2, 2))
    {
        return false;
    }
    if lit(b, &mut i, b'.') {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if i == b.len() {
        return true;
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if lit(b, &mut i, b'Z') {
        return i == b.len();
    }
    if !matches!(b.get(i), Some(b'-' | b'+')) {
        return false;
    }
    i += 1;
    if !digits(b, &mut i, 1, 2) {
        return false;
    }
    if lit(b, &mut i, b':') && !digits(b, &mut i, 2, 2) {
        return false;
    }
    i == b.len()
}
