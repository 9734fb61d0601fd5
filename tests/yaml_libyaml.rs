//! certdrift's YAML reader against libyaml itself (PyYAML's `CSafeLoader`, which is libyaml's
//! parser under PyYAML's composer and safe constructor), on every YAML file of the shared
//! corpus, and the cases that made the reader move to libyaml.
//!
//! One python3 process loads every file and prints, per file, whether libyaml accepts it
//! (`yaml.compose_all`) and the documents' values (`yaml.load_all`). Both sides are turned into
//! JSON the same way:
//!
//! * plain scalars resolved the YAML 1.1 way (null, bool, int, float, timestamp), tags applied
//!   (`!!str`, `!!int`, `!!binary`, ...), aliases and `<<` merge keys expanded (PyYAML's
//!   rules: explicit keys win over merged ones, earlier maps of a merged list over later ones);
//! * a timestamp as Python's `isoformat()` (`2001-12-14`, `2001-12-14T21:59:43.100000-05:00`);
//! * `!!binary` as standard base64 text; `!!set` as a mapping to null;
//! * NaN and the infinities as the strings `.nan`, `.inf`, `-.inf`;
//! * a key that is not a string as the JSON text of its value (`true`, `1`, `null`);
//! * an unknown tag (`!vault`, `!ruby/object`) as the untagged value (PyYAML's safe
//!   constructor has no constructor for them: a fallback one is registered).
//!
//! Where the reader's [`resolve_plain`] deliberately follows go-yaml and Psych rather than
//! PyYAML (`y`/`n` as booleans; floats without `.` or without an exponent sign), the
//! comparison takes PyYAML's reading. A file whose values PyYAML cannot construct (an
//! unhashable key, a recursive alias) is compared on acceptance only.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use certdrift::read::yaml::{self, resolve_plain, Document, Kind, NodeId, Scalar11, Style};
use common::*;
use serde_json::{Map, Value};

const LOADER: &str = r#"
import base64, datetime, json, math, sys
import yaml

if not getattr(yaml, "__with_libyaml__", False):
    print(json.dumps({"error": "PyYAML is built without libyaml"}))
    sys.exit(0)

class Loader(yaml.CSafeLoader):
    pass

def untagged(loader, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)

Loader.add_constructor(None, untagged)

def conv(v, depth=0):
    if depth > 200:
        raise ValueError("too deep (recursive alias?)")
    if isinstance(v, dict):
        return {key(k, depth): conv(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [conv(x, depth + 1) for x in v]
    if isinstance(v, (set, frozenset)):
        return {key(k, depth): None for k in v}
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, float) and math.isnan(v):
        return ".nan"
    if isinstance(v, float) and math.isinf(v):
        return ".inf" if v > 0 else "-.inf"
    return v

def key(k, depth):
    c = conv(k, depth + 1)
    return c if isinstance(c, str) else json.dumps(c)

out = {}
for path in sys.stdin.read().splitlines():
    with open(path, encoding="utf-8") as f:
        text = f.read()
    r = {}
    try:
        for _ in yaml.compose_all(text, Loader=yaml.CSafeLoader):
            pass
        r["accepts"] = True
    except yaml.YAMLError as e:
        r["accepts"] = False
        r["error"] = str(e).replace("\n", " ")
    if r["accepts"]:
        try:
            r["docs"] = [conv(d) for d in yaml.load_all(text, Loader=Loader)]
        except Exception as e:
            r["construct_error"] = str(e).replace("\n", " ")
    out[path] = r
print(json.dumps(out))
"#;

/// Files where certdrift and libyaml may differ, with the reason. Empty: none do.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Every `.yaml/.yml/.json/.eyaml` file under `corpus`, plus the files `EXPECTED.json` marks
/// as loading or rejected YAML.
fn corpus_files(corpus: &Path) -> Vec<PathBuf> {
    let mut files = BTreeSet::new();
    let mut stack = vec![corpus.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "json" | "eyaml")
            ) {
                files.insert(p);
            }
        }
    }
    let expected = corpus.join("realworld/EXPECTED.json");
    if let Ok(text) = std::fs::read_to_string(&expected) {
        let v: Value = serde_json::from_str(&text).expect("EXPECTED.json");
        for (rel, f) in v["files"].as_object().expect("files") {
            if matches!(f["yaml"].as_str(), Some("loads" | "rejects")) {
                files.insert(corpus.join("realworld").join(rel));
            }
        }
    }
    files.into_iter().collect()
}

/// PyYAML's reading where `resolve_plain` follows go-yaml/Psych instead.
fn pyyaml_plain(v: &str) -> Scalar11 {
    match resolve_plain(v) {
        Scalar11::Bool(_) if v.len() == 1 => Scalar11::Str,
        Scalar11::Float(f) if f.is_finite() => {
            let exp = v.find(['e', 'E']).map(|i| &v[i + 1..]);
            if !v.contains('.') || exp.is_some_and(|e| !e.starts_with(['-', '+'])) {
                Scalar11::Str
            } else {
                Scalar11::Float(f)
            }
        }
        r => r,
    }
}

fn int_value(n: i128) -> Value {
    if let Ok(i) = i64::try_from(n) {
        Value::from(i)
    } else if let Ok(u) = u64::try_from(n) {
        Value::from(u)
    } else {
        Value::from(n as f64)
    }
}

fn float_value(f: f64) -> Value {
    if f.is_nan() {
        Value::from(".nan")
    } else if f.is_infinite() {
        Value::from(if f > 0.0 { ".inf" } else { "-.inf" })
    } else {
        Value::from(f)
    }
}

/// A YAML 1.1 timestamp as Python's `isoformat()` prints the datetime PyYAML makes of it.
fn iso_timestamp(s: &str) -> Option<String> {
    let num = |t: &str| t.parse::<u32>().ok();
    let split = s.find(['T', 't', ' ', '\t']);
    let (date, rest) = match split {
        Some(i) => (
            &s[..i],
            Some(s[i..].trim_start_matches(['T', 't', ' ', '\t'])),
        ),
        None => (s, None),
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let date = format!("{y:04}-{m:02}-{day:02}");
    let Some(rest) = rest else {
        return Some(date);
    };
    let tz_at = rest.find(['Z', '+', '-', ' ', '\t']).unwrap_or(rest.len());
    let (time, tz) = rest.split_at(tz_at);
    let tz = tz.trim_start_matches([' ', '\t']);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let (h, mi, sec) = (num(t.next()?)?, num(t.next()?)?, num(t.next()?)?);
    let mut micro: String = frac.chars().take(6).collect();
    while micro.len() < 6 {
        micro.push('0');
    }
    let micro = num(&micro)?;
    let mut out = format!("{date}T{h:02}:{mi:02}:{sec:02}");
    if micro != 0 {
        out.push_str(&format!(".{micro:06}"));
    }
    if tz == "Z" {
        out.push_str("+00:00");
    } else if let Some(sign) = tz.chars().next() {
        let (th, tm) = tz[1..].split_once(':').unwrap_or((&tz[1..], "0"));
        let minutes = num(th)? * 60 + num(tm)?;
        if minutes == 0 {
            out.push_str("+00:00");
        } else {
            let sign = if sign == '-' { '-' } else { '+' };
            out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
        }
    }
    Some(out)
}

fn scalar_value(value: &str, style: Style, tag: Option<&str>) -> Result<Value, String> {
    let plain = |v: &str| match pyyaml_plain(v) {
        Scalar11::Null => Value::Null,
        Scalar11::Bool(b) => Value::Bool(b),
        Scalar11::Int(n) => int_value(n),
        Scalar11::Float(f) => float_value(f),
        Scalar11::Timestamp => iso_timestamp(v).map_or(Value::from(v), Value::from),
        _ => Value::from(v),
    };
    Ok(match tag {
        None if style == Style::Plain => plain(value),
        Some("!!null") => Value::Null,
        Some("!!bool" | "!!int" | "!!float" | "!!timestamp") => plain(value),
        Some("!!binary") => {
            let clean: String = value
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map_err(|e| format!("!!binary: {e}"))?;
            Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        _ => Value::from(value),
    })
}

/// A mapping's entries with `<<` merges applied the way PyYAML's `flatten_mapping` does.
fn flat_entries(doc: &Document, id: NodeId, depth: usize) -> Result<Vec<(NodeId, NodeId)>, String> {
    if depth > 200 {
        return Err("merges nested too deeply".into());
    }
    let (mut merged, mut own) = (Vec::new(), Vec::new());
    for &(k, v) in doc.raw_entries(id) {
        if !doc.is_merge_key(k) {
            own.push((k, v));
            continue;
        }
        let t = doc.resolve(v);
        match &doc.node(t).kind {
            Kind::Map(_) => merged.extend(flat_entries(doc, t, depth + 1)?),
            Kind::Seq(items) => {
                let mut subs = Vec::new();
                for &item in items {
                    let item = doc.resolve(item);
                    if !matches!(doc.node(item).kind, Kind::Map(_)) {
                        return Err("merge list item is not a mapping".into());
                    }
                    subs.push(flat_entries(doc, item, depth + 1)?);
                }
                for s in subs.into_iter().rev() {
                    merged.extend(s);
                }
            }
            _ => return Err("merge value is not a mapping".into()),
        }
    }
    merged.extend(own);
    Ok(merged)
}

fn to_json(doc: &Document, id: NodeId, depth: usize) -> Result<Value, String> {
    if depth > 200 {
        return Err("too deep (recursive alias?)".into());
    }
    let id = doc.resolve(id);
    let node = doc.node(id);
    match &node.kind {
        Kind::Scalar { value, style, tag } => scalar_value(value, *style, tag.as_deref()),
        Kind::Seq(items) => items
            .iter()
            .map(|&i| to_json(doc, i, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Kind::Map(_) => {
            let mut map = Map::new();
            for (k, v) in flat_entries(doc, id, depth)? {
                let key = match to_json(doc, k, depth + 1)? {
                    Value::String(s) => s,
                    Value::Array(_) | Value::Object(_) => return Err("unhashable key".into()),
                    other => other.to_string(),
                };
                map.insert(key, to_json(doc, v, depth + 1)?);
            }
            Ok(Value::Object(map))
        }
        Kind::Alias(_) => Err("alias to an alias".into()),
    }
}

fn certdrift_docs(text: &str) -> (bool, Result<Vec<Value>, String>, String) {
    let s = yaml::parse(text, &yaml::Limits::default());
    let err = s
        .error
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let docs = s
        .docs
        .iter()
        .map(|d| match d.root() {
            Some(r) => to_json(d, r, 0),
            None => Ok(Value::Null),
        })
        .collect();
    (s.error.is_none(), docs, err)
}

fn pyyaml(paths: &[PathBuf]) -> Option<Value> {
    let child = Command::new("python3")
        .arg("-c")
        .arg(LOADER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "python3 on CI: {e}");
            eprintln!("skipped: no python3 ({e})");
            return None;
        }
    };
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        for p in paths {
            writeln!(stdin, "{}", p.display()).expect("write");
        }
    }
    let out = child.wait_with_output().expect("python3");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            std::env::var_os("CI").is_none() || !err.contains("No module named 'yaml'"),
            "PyYAML on CI: {err}"
        );
        eprintln!("skipped: python3 failed: {err}");
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("python3 JSON");
    if let Some(e) = v.get("error") {
        assert!(std::env::var_os("CI").is_none(), "{e}");
        eprintln!("skipped: {e}");
        return None;
    }
    Some(v)
}

#[test]
fn corpus_reads_as_libyaml_reads_it() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let corpus = shared.join("corpus");
    let files = corpus_files(&corpus);
    assert!(files.len() > 50, "{} files", files.len());
    let Some(py) = pyyaml(&files) else {
        return;
    };
    let (mut accepted, mut rejected, mut values_compared) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&corpus)
            .unwrap_or(path)
            .display()
            .to_string();
        let exception = EXCEPTIONS.iter().find(|(f, _)| *f == name);
        let text = std::fs::read_to_string(path).expect("utf-8");
        let r = &py[path.display().to_string()];
        let py_accepts = r["accepts"].as_bool().expect("accepts");
        let (ours, docs, our_err) = certdrift_docs(&text);
        let mismatch = if ours != py_accepts {
            Some(format!(
                "libyaml {} ({}), certdrift {} ({our_err})",
                if py_accepts { "accepts" } else { "rejects" },
                r["error"].as_str().unwrap_or(""),
                if ours { "accepts" } else { "rejects" },
            ))
        } else if let (true, Some(want)) = (py_accepts, r.get("docs")) {
            values_compared += 1;
            match docs {
                Ok(got) if &Value::Array(got.clone()) == want => None,
                Ok(got) => Some(first_difference(&Value::Array(got), want)),
                Err(e) => Some(format!("certdrift could not convert: {e}")),
            }
        } else {
            None
        };
        if py_accepts {
            accepted += 1;
        } else {
            rejected += 1;
        }
        match (mismatch, exception) {
            (Some(m), None) => failures.push(format!("{name}: {m}")),
            (None, Some((_, why))) => failures.push(format!(
                "{name}: listed as an exception ({why}) but certdrift and libyaml agree"
            )),
            _ => {}
        }
    }
    println!(
        "{} files: libyaml accepts {accepted}, rejects {rejected}; values compared for {values_compared}",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The first path where two values differ, for the failure message.
fn first_difference(got: &Value, want: &Value) -> String {
    fn walk(got: &Value, want: &Value, path: &mut String) -> Option<String> {
        match (got, want) {
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if let Some(d) = walk(x, y, path) {
                        return Some(d);
                    }
                    path.truncate(len);
                }
                None
            }
            (Value::Object(a), Value::Object(b)) if a.len() == b.len() => {
                for (k, x) in a {
                    let len = path.len();
                    path.push_str(&format!(".{k}"));
                    match b.get(k) {
                        Some(y) => {
                            if let Some(d) = walk(x, y, path) {
                                return Some(d);
                            }
                        }
                        None => return Some(format!("{path}: only certdrift has it")),
                    }
                    path.truncate(len);
                }
                None
            }
            _ if got == want => None,
            _ => Some(format!(
                "{path}: certdrift {:.200}, libyaml {:.200}",
                got.to_string(),
                want.to_string()
            )),
        }
    }
    walk(got, want, &mut String::new()).unwrap_or_else(|| "values differ".into())
}

/// The reader accepts what libyaml accepts in files certdrift meets.
#[test]
fn libyaml_leniencies() {
    for (text, want) in [
        (
            "profile::foo::hosts: [\n  'a.example', 'b.example',\n]\nother: 1\n",
            r#"{"profile::foo::hosts": ["a.example", "b.example"], "other": 1}"#,
        ),
        (
            "args: [\n    \"-a\", \"/x\",\n]\nenv: []\n",
            r#"{"args": ["-a", "/x"], "env": []}"#,
        ),
        (
            "domain: &d example.org\nhosts:\n  *d : primary\n",
            r#"{"domain": "example.org", "hosts": {"example.org": "primary"}}"#,
        ),
        (
            "metadata:\n  annotations:\n    a: \"one\n    two\"\n    b: 'three\n    four'\n",
            r#"{"metadata": {"annotations": {"a": "one two", "b": "three four"}}}"#,
        ),
        (
            "a: yes\nb: 'on'\nc: 0755\nd: 0x1F\ne: ~\nbase: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
            r#"{"a": true, "b": "on", "c": 493, "d": 31, "e": null, "base": {"x": 1}, "m": {"x": 1, "y": 2}}"#,
        ),
    ] {
        let (ok, docs, err) = certdrift_docs(text);
        assert!(ok, "{text:?}: {err}");
        let want: Value = serde_json::from_str(want).expect("json");
        assert_eq!(docs.expect("convert"), vec![want], "{text:?}");
    }
}

/// A Hiera data file whose multi-line flow list closes at column 0 is read whole: the key on
/// its first line is found, as Puppet finds it.
#[test]
fn lookup_in_a_hiera_file_with_a_flow_list_closed_at_column_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    std::fs::write(
        root.join("hiera.yaml"),
        "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: common\n    path: common.yaml\n",
    )
    .expect("write");
    std::fs::write(
        root.join("data/common.yaml"),
        "profile::pki::ca_host: 'ca1001.example.org'\nprofile::foo::hosts: [\n  'a.example', 'b.example',\n]\nprofile::foo::enabled: yes\n",
    )
    .expect("write");
    for (key, want) in [
        ("profile::pki::ca_host", "ca1001.example.org"),
        ("profile::foo::hosts", "b.example"),
        ("profile::foo::enabled", "true"),
    ] {
        let out = run(root, &["lookup", key, "--hiera-config", "hiera.yaml"]);
        let s = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{key}: {s}{}", stderr(&out));
        assert!(s.contains(want), "{key}: {s}");
    }
}
