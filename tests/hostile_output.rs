//! Input written by the change's author reaches every output format: a
//! certificate whose CN and SANs hold newlines, a `::error` workflow
//! command, ESC sequences (OSC 8 links), a bidi override, HTML, a mention,
//! a fence and a spreadsheet formula; a file named the same way; a Hiera
//! level named the same way. Every format is read back by a real consumer
//! (serde_json, Python's XML and CSV readers, Graphviz `dot`) and checked
//! for what would let the input act.

mod common;
use common::*;
use rcgen::{date_time_ymd, CertificateParams, DnType, KeyPair, SanType};
use std::path::Path;

const HOSTILE: &str =
    "x\n::error file=pwn.yaml,line=1::owned\r\x1b]8;;https://evil.example\x07link\x1b]8;;\x07\u{202e}txt.exe <img src=x onerror=alert(1)> </details> @everyone ``` =HYPERLINK(\"https://evil.example\")";

/// The tree: an expired certificate with hostile names in a file with a
/// hostile name, and a Hiera hierarchy whose level name is hostile.
fn hostile_tree() -> tempfile::TempDir {
    let dir = repo_dir();
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, HOSTILE);
    p.subject_alt_names = vec![SanType::DnsName(
        "a\n::warning::san\x1b[2J.example".try_into().unwrap(),
    )];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2021, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    let name = "=cmd|' -C calc'!A0\n::error file=x::named\x1b[31m.pem";
    std::fs::write(dir.path().join(name), cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("hiera.yaml"),
        format!(
            "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: {}\n    path: common.yaml\n",
            r#""lvl\n::error::hiera\e[2J""#
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/common.yaml"), "profile::x: 1\n").unwrap();
    dir
}

fn python(script: &str, input: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Nothing a terminal or a CI log would act on: no control character but
/// newline, no bidi override, and no line that starts with `::` (the
/// `github` format's own annotations aside, checked separately).
fn inert_text(label: &str, out: &str) {
    for (i, line) in out.lines().enumerate() {
        assert!(
            !line.chars().any(|c| (c.is_control() && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
            "{label}: control character on line {}: {line:?}",
            i + 1
        );
        assert!(
            !line.starts_with("::"),
            "{label}: line {} is a workflow command: {line:?}",
            i + 1
        );
    }
}

fn out_of(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--now", NOW];
    all.splice(0..0, args.iter().copied());
    let o = run(dir, &all);
    assert!(o.status.code() != Some(2), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn hostile_names_reach_no_output_as_commands() {
    let t = hostile_tree();
    let d = t.path();

    for args in [
        &["scan", "--format", "text", "."][..],
        &["inventory", "--format", "text", "."],
        &["lookup", "profile::x", ".", "--explain"],
    ] {
        let out = if args[0] == "lookup" {
            stdout(&run(d, args))
        } else {
            out_of(d, args)
        };
        inert_text(&args.join(" "), &out);
        assert!(out.contains("\\n::error") || args[0] == "lookup", "{out}");
    }
    let lookup = stdout(&run(d, &["lookup", "profile::x", ".", "--explain"]));
    assert!(lookup.contains("lvl\\n::error::hiera\\x1b[2J"), "{lookup}");

    // github: only certdrift's own annotations start with `::`, one per
    // finding, and the input inside them is escaped.
    let gh = out_of(d, &["scan", "--format", "github", "."]);
    let findings = out_of(d, &["scan", "--format", "json", "."]);
    let report: serde_json::Value = serde_json::from_str(&findings).unwrap();
    let n = report["findings"].as_array().unwrap().len();
    assert!(n >= 1);
    // One per finding, and the closing notice with the counts.
    assert_eq!(gh.lines().count(), n + 1, "{gh}");
    for line in gh.lines() {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file=")
                || line.starts_with("::notice title=certdrift::"),
            "{line:?}"
        );
        assert!(!line.contains('\x1b') && !line.contains('\r'), "{line:?}");
    }

    // JSON and SARIF keep the exact values, as JSON strings.
    let cn = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "expired")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cn.contains("\n::error file=pwn.yaml"), "{cn}");
    let sarif = out_of(d, &["scan", "--format", "sarif", "."]);
    serde_json::from_str::<serde_json::Value>(&sarif).unwrap();
    let inv: serde_json::Value =
        serde_json::from_str(&out_of(d, &["inventory", "--format", "json", "."])).unwrap();
    assert_eq!(inv["certificates"].as_array().unwrap().len(), 1);

    // JUnit: well-formed XML (Python's parser), the values intact.
    let junit = out_of(d, &["scan", "--format", "junit", "."]);
    let parsed = python(
        "import sys, xml.etree.ElementTree as E\nr = E.fromstring(sys.stdin.buffer.read())\nprint(sum(1 for _ in r.iter('failure')))",
        junit.as_bytes(),
    );
    assert!(parsed.trim().parse::<usize>().unwrap() >= 1, "{parsed}");

    // Markdown: no HTML but certdrift's own, no mention, no closed fence.
    let md = out_of(d, &["scan", "--format", "markdown", "."]);
    let own = [
        "<details>",
        "</details>",
        "<summary>",
        "</summary>",
        "<code>",
        "</code>",
    ];
    let mut rest = md.clone();
    for tag in own {
        rest = rest.replace(tag, "");
    }
    assert!(!rest.contains('<') && !rest.contains('>'), "{md}");
    assert!(!md.contains("@everyone") && !md.contains("```"), "{md}");
    inert_text("markdown", &md);

    // CSV: every cell read back by Python's csv module; none is a formula.
    let csv = out_of(d, &["inventory", "--format", "csv", "."]);
    let cells = python(
        "import csv, sys, io\nrows = list(csv.reader(io.StringIO(sys.stdin.read())))\nbad = [c for r in rows[1:] for c in r if c[:1] in ('=', '+', '-', '@', '\\t', '\\r') and not c.lstrip('-').replace('.', '').isdigit()]\nprint(len(rows) - 1, len(bad))",
        csv.as_bytes(),
    );
    assert_eq!(cells.trim(), "1 0", "{csv}");

    // DOT renders with Graphviz; Mermaid carries no HTML.
    let dot = out_of(d, &["graph", "--format", "dot", "."]);
    let svg = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(dot.as_bytes())?;
            c.wait_with_output()
        })
        .expect("dot (graphviz) is needed by this test");
    assert!(
        svg.status.success(),
        "dot: {}",
        String::from_utf8_lossy(&svg.stderr)
    );
    let mermaid = out_of(d, &["graph", "--format", "mermaid", "."]);
    assert!(
        !mermaid.contains("<img") && !mermaid.contains('\x1b'),
        "{mermaid}"
    );
}
