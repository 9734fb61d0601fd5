//! Placeholders: the one definition of a scaffold value in a certificate or key slot.
//!
//! Charts, kustomize bases and documentation ship slots that are filled at
//! deploy time: `caBundle: Cg==` (base64 of a newline, kubebuilder), a Secret
//! whose `tls.crt` is base64 of `hush hush hush`, `crtPEM: ""`, `$(VAR)`
//! references, `<base64-encoded CA>`, or a PEM block whose body is `...`.
//! None of them is a broken certificate: they are never an error, and at most
//! one note says that a slot where a real value is expected holds one.
//!
//! Every reader that judges a certificate or key slot (a YAML value, a PEM
//! body, a graph note) asks [`placeholder`]; nothing else decides it.

use base64::Engine as _;

/// Which kind of scaffold value a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placeholder {
    /// Empty or only whitespace.
    Empty,
    /// Base64 of whitespace only (`Cg==`, `IA==`).
    Base64Whitespace,
    /// An elision: `...`, `…`, or text cut off with one (`MIIB...`).
    Elided,
    /// `snip`, `<snip>`, `[snip]`.
    Snip,
    /// Any `<…>` text: `<base64>`, `<base64-encoded CA bundle>`.
    AngleBrackets,
    /// A placeholder word: `REDACTED`, `CHANGEME`, `TODO`, `xxx…`.
    Word,
    /// Only variable references: `$VAR`, `${VAR}`, `$(VAR)` (and separators).
    Variable,
    /// Base64 of a short line of plain text (`aHVzaCBodXNoIGh1c2gK`, "hush hush hush").
    Base64Text,
    /// Base64 of a lone PEM BEGIN line, with no body and no END.
    Base64BeginLine,
    /// A PEM block whose body is a placeholder (`-----BEGIN CERTIFICATE-----` `...` `-----END …`).
    PemBody,
}

impl std::fmt::Display for Placeholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Placeholder::Empty => "empty",
            Placeholder::Base64Whitespace => "base64 of whitespace",
            Placeholder::Elided => "an elision (...)",
            Placeholder::Snip => "snip",
            Placeholder::AngleBrackets => "<placeholder> text",
            Placeholder::Word => "a placeholder word",
            Placeholder::Variable => "a variable reference",
            Placeholder::Base64Text => "base64 of plain text",
            Placeholder::Base64BeginLine => "base64 of a lone PEM BEGIN line",
            Placeholder::PemBody => "a PEM block with a placeholder body",
        })
    }
}

/// Longest decoded text that still counts as "plain words" ([`Placeholder::Base64Text`]).
const MAX_WORDS: usize = 128;
/// Longest text that can be a placeholder token; keeps [`placeholder`]
/// cheap on whole files.
const MAX_TOKEN: usize = 256;

/// Whether `value`, the whole content of a certificate or key slot, is a
/// placeholder, and which. Real PEM, base64 of PEM or DER, and anything
/// else are `None`.
pub fn placeholder(value: &str) -> Option<Placeholder> {
    let t = value.trim();
    if t.is_empty() {
        return Some(Placeholder::Empty);
    }
    if let Some(p) = (t.len() <= MAX_TOKEN).then(|| token(t)).flatten() {
        return Some(p);
    }
    if t.starts_with("-----BEGIN ") {
        return pem_block(t);
    }
    base64_text(t)
}

/// Whether a PEM body (the text between BEGIN and END) is a placeholder:
/// empty, a placeholder token, or elided — some line is a placeholder token
/// or ends in `...` (`MIIB...`, `<snip>` between base64 lines).
pub fn placeholder_body(body: &str) -> Option<Placeholder> {
    let t = body.trim();
    if t.is_empty() || (t.len() <= MAX_TOKEN && token(t).is_some()) {
        return Some(Placeholder::PemBody);
    }
    if is_dummy_words(t) {
        return Some(Placeholder::PemBody);
    }
    let elided = t.lines().map(str::trim).any(|l| {
        !l.is_empty()
            && l.len() <= MAX_TOKEN
            && (token(l).is_some() || l.ends_with("...") || l.ends_with('…'))
    });
    elided.then_some(Placeholder::PemBody)
}

/// A body of one short line of words (`test-key-data`, `fake cert`): no
/// certificate or key is that short, and base64 has no `-`, `_`, `.` or
/// blank; a short line that is base64 of DER (an Ed25519 key is 64
/// characters) is not a placeholder.
fn is_dummy_words(t: &str) -> bool {
    const MAX_LINE: usize = 64;
    if t.len() > MAX_LINE || t.contains('\n') {
        return false;
    }
    let wordy = t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" _.-".contains(&b));
    let der = lenient_base64(t).is_some_and(|d| d.first() == Some(&0x30));
    wordy && (t.bytes().any(|b| b" _.-".contains(&b)) || !der)
}

/// A one-piece placeholder written as text (not base64).
fn token(t: &str) -> Option<Placeholder> {
    // Called on every line of a broken PEM body: no allocation.
    let any = |list: &[&str], s: &str| list.iter().any(|w| w.eq_ignore_ascii_case(s));
    if t.chars().all(|c| c == '.' || c == '…') && (t.contains('…') || t.len() >= 3) {
        return Some(Placeholder::Elided);
    }
    if any(
        &["snip", "<snip>", "[snip]", "(snip)", "...snip...", "[...]"],
        t,
    ) {
        return Some(Placeholder::Snip);
    }
    if t.len() >= 2 && t.starts_with('<') && t.ends_with('>') && !t[1..].contains('<') {
        return Some(Placeholder::AngleBrackets);
    }
    let word = t.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let words = [
        "redacted",
        "changeme",
        "change_me",
        "change-me",
        "todo",
        "tbd",
    ];
    if any(&words, word) || (word.len() >= 3 && word.chars().all(|c| c == 'x' || c == 'X')) {
        return Some(Placeholder::Word);
    }
    if is_variables(t) {
        return Some(Placeholder::Variable);
    }
    if t.len() > 3 && (t.ends_with("...") || t.ends_with('…')) && !t.contains(char::is_whitespace)
    {
        return Some(Placeholder::Elided);
    }
    None
}

/// `$VAR`, `${VAR}`, `$(VAR)`, or several joined by `/ - _ . :`.
fn is_variables(t: &str) -> bool {
    let b = t.as_bytes();
    let name = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    let mut vars = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let (close, start) = match b.get(i + 1) {
                Some(b'{') => (Some(b'}'), i + 2),
                Some(b'(') => (Some(b')'), i + 2),
                _ => (None, i + 1),
            };
            let mut j = start;
            while j < b.len() && name(b[j]) {
                j += 1;
            }
            if j == start {
                return false;
            }
            if let Some(c) = close {
                if b.get(j) != Some(&c) {
                    return false;
                }
                j += 1;
            }
            vars += 1;
            i = j;
        } else if matches!(b[i], b'/' | b'-' | b'_' | b'.' | b':') {
            i += 1;
        } else {
            return false;
        }
    }
    vars > 0
}

/// `-----BEGIN X-----` … `-----END X-----` whose body is a placeholder, or a
/// lone BEGIN line.
fn pem_block(t: &str) -> Option<Placeholder> {
    let after = t.strip_prefix("-----BEGIN ")?;
    let (_label, rest) = after.split_once("-----")?;
    if rest.trim().is_empty() {
        // A BEGIN line and nothing else: a template's first line.
        return Some(Placeholder::PemBody);
    }
    let end = rest.find("-----END ")?;
    // Only one block: a bundle with a real certificate is not a placeholder.
    let tail = &rest[end + 9..];
    let tail = tail.split_once("-----").map_or("", |(_, r)| r);
    if !tail.trim().is_empty() {
        return None;
    }
    placeholder_body(&rest[..end])
}

/// Base64 of whitespace, of a lone BEGIN line, or of a short line of words.
fn base64_text(t: &str) -> Option<Placeholder> {
    if t.len() > MAX_TOKEN || t.contains(char::is_whitespace) {
        return None;
    }
    let decoded = lenient_base64(t)?;
    let text = std::str::from_utf8(&decoded).ok()?;
    if text.trim().is_empty() {
        return Some(Placeholder::Base64Whitespace);
    }
    let line = text.trim();
    if line.starts_with("-----BEGIN ") && line.ends_with("-----") && !line.contains('\n') {
        return Some(Placeholder::Base64BeginLine);
    }
    let words = text.len() <= MAX_WORDS
        && !line.contains('\n')
        && !line.contains("-----")
        && line.chars().any(|c| c.is_ascii_alphabetic())
        && text
            .bytes()
            .all(|c| (0x20..0x7f).contains(&c) || matches!(c, b'\n' | b'\r' | b'\t'));
    words.then_some(Placeholder::Base64Text)
}

/// Standard or URL-safe base64, padding optional: the one lenient decoder
/// of certificate and key slots.
pub(crate) fn lenient_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let bare = s.trim_end_matches('=');
    STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(bare))
        .or_else(|_| URL_SAFE_NO_PAD.decode(bare))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::{placeholder, placeholder_body, Placeholder as P};
    use base64::Engine as _;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn scaffold_values_are_placeholders() {
        let cases: &[(&str, P)] = &[
            ("", P::Empty),
            ("  \n ", P::Empty),
            ("Cg==", P::Base64Whitespace),
            ("IA==", P::Base64Whitespace),
            ("...", P::Elided),
            ("…", P::Elided),
            ("LS0tLS1CRUdJTi...", P::Elided),
            ("snip", P::Snip),
            ("<snip>", P::Snip),
            ("[snip]", P::Snip),
            ("<base64>", P::AngleBrackets),
            ("<base64-encoded CA bundle>", P::AngleBrackets),
            ("<your certificate here>", P::AngleBrackets),
            ("REDACTED", P::Word),
            ("CHANGEME", P::Word),
            ("changeme", P::Word),
            ("TODO", P::Word),
            ("xxx", P::Word),
            ("XXXXXXXX", P::Word),
            ("$CA_BUNDLE", P::Variable),
            ("${CA_BUNDLE}", P::Variable),
            ("$(CA_BUNDLE)", P::Variable),
            ("$(CERTIFICATE_NAMESPACE)/$(CERTIFICATE_NAME)", P::Variable),
            ("$CREDENTIAL_NAME", P::Variable),
            // istio gateway-secrets-validation.yaml: "hush hush hush\n".
            ("aHVzaCBodXNoIGh1c2gK", P::Base64Text),
            ("c2VjcmV0IHNlY3JldAo=", P::Base64Text),
            // linkerd goldens: "test-profile-validator-ca-bundle", "proxy injector CA bundle".
            ("dGVzdC1wcm9maWxlLXZhbGlkYXRvci1jYS1idW5kbGU=", P::Base64Text),
            ("cHJveHkgaW5qZWN0b3IgQ0EgYnVuZGxl", P::Base64Text),
            ("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==", P::Base64BeginLine),
            (
                "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----",
                P::PemBody,
            ),
            (
                "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgI...\n<snip>\n-----END CERTIFICATE-----\n",
                P::PemBody,
            ),
            ("-----BEGIN CERTIFICATE-----\n", P::PemBody),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nREDACTED\n-----END RSA PRIVATE KEY-----",
                P::PemBody,
            ),
        ];
        for (value, want) in cases {
            assert_eq!(placeholder(value), Some(*want), "{value:?}");
        }
        assert_eq!(placeholder(&b64(" \n\t")), Some(P::Base64Whitespace));
    }

    #[test]
    fn real_values_are_not_placeholders() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["a.example".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let pem = cert.pem();
        let der = base64::engine::general_purpose::STANDARD.encode(cert.der());
        let yaml = b64("apiVersion: v1\nkind: Config\nclusters: []\n");
        for value in [
            pem.as_str(),
            &b64(&pem),
            &der,
            &yaml,
            "this is not base64!",
            "-----BEGIN CERTIFICATE-----\nTUlJ\nTU*J\n-----END CERTIFICATE-----",
            "$",
            "$(unclosed",
            "ca.crt",
            "a1b2",
        ] {
            assert_eq!(placeholder(value), None, "{value:?}");
        }
        // A bundle whose first block is elided but which holds a real one.
        let mixed = format!("-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n{pem}");
        assert_eq!(placeholder(&mixed), None);
    }

    #[test]
    fn pem_bodies() {
        assert_eq!(placeholder_body("\n...\n"), Some(P::PemBody));
        assert_eq!(placeholder_body(""), Some(P::PemBody));
        assert_eq!(placeholder_body("MIIB\nAAAA...\n"), Some(P::PemBody));
        // istio key-parse-fail.pem: a text line inserted in a real body is a fault.
        assert_eq!(
            placeholder_body("MIIB\n---- bad key file ---\nAAAA\n"),
            None
        );
        assert_eq!(placeholder_body("MIIB\nAAAA\n"), None);
        assert_eq!(placeholder_body("test-key-data\n"), Some(P::PemBody));
        assert_eq!(placeholder_body("dummy\n"), Some(P::PemBody));
        // An Ed25519 PKCS#8 key is one 64-character line.
        assert_eq!(
            placeholder_body("MC4CAQAwBQYDK2VwBCIEIHt1Z5eFdj7lEiKSFcbmN+ZmEwU0y9nSEhRUt9Bd5T3K\n"),
            None
        );
    }
}
