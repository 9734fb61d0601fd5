//! Unit tests of the YAML tree: positions, merges, aliases, limits, leniencies, YAML 1.1
//! scalars.

use std::time::Instant;

use super::*;

/// Regression (fuzzing, target `yaml`): without a final newline, the end of the last
/// document and of its block collections was on a line the text does not have.
#[test]
fn marks_at_the_end_stay_on_the_last_line() {
    for text in [
        "a:\n  b: c",
        "a:\r\n  b: c",
        "- x\n- y",
        "a: [1, 2",
        "k: v\n---\nz: 1",
    ] {
        let s = parse(text, &Limits::default());
        let lines = text.lines().count() as u32;
        let mut marks: Vec<Mark> = s.error.iter().map(|e| e.mark).collect();
        for d in &s.docs {
            marks.extend([d.start, d.end]);
            marks.extend(d.nodes().iter().flat_map(|n| [n.start, n.end]));
        }
        assert!(!marks.is_empty(), "{text:?}");
        for m in marks {
            assert!(m.line <= lines, "{text:?}: {m:?}");
            assert!(m.index <= text.chars().count(), "{text:?}: {m:?}");
        }
    }
    let s = parse("a:\n  b: cd", &Limits::default());
    assert_eq!((s.docs[0].end.line, s.docs[0].end.col), (2, 8));
}
fn parse_ok(text: &str) -> Vec<Document> {
    let s = parse(text, &Limits::default());
    assert!(s.error.is_none(), "unexpected error: {:?}", s.error);
    s.docs
}

fn one(text: &str) -> Document {
    let mut docs = parse_ok(text);
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

/// Runs `f` on a fresh thread with an explicit 2 MiB stack (what test threads get).
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn at(doc: &Document, path: &[&str]) -> NodeId {
    let root = doc.root().expect("root");
    doc.get_path(root, path)
        .unwrap_or_else(|| panic!("no {path:?}"))
}

fn pos(doc: &Document, id: NodeId) -> (u32, u32) {
    let n = doc.node(id);
    (n.start.line, n.start.col)
}

/// Every scalar value with its whole key path (no budget).
fn scalars(doc: &Document) -> Vec<(NodeId, Vec<PathSeg>)> {
    doc.scalars_budgeted(usize::MAX).0
}

/// The key node of `key` in the mapping at `path`.
fn key_node(doc: &Document, path: &[&str], key: &str) -> NodeId {
    let map = if path.is_empty() {
        doc.root().expect("root")
    } else {
        at(doc, path)
    };
    doc.entries(map)
        .into_iter()
        .find(|&(k, _)| doc.str(k) == Some(key))
        .map(|(k, _)| k)
        .expect("key")
}

#[test]
fn positions_in_multi_document_stream() {
    let text = "a: 1\n---\nname: web\nport:   8080\n---\n# comment\nitems:\n  - x\n  - y: z\n";
    let docs = parse_ok(text);
    assert_eq!(docs.len(), 3);
    assert_eq!((docs[0].start.line, docs[0].start.col), (1, 1));
    assert_eq!(docs[1].start.line, 2);
    assert_eq!(docs[2].start.line, 5);

    let d = &docs[1];
    assert_eq!(pos(d, key_node(d, &[], "name")), (3, 1));
    assert_eq!(pos(d, at(d, &["name"])), (3, 7));
    assert_eq!(d.str(at(d, &["name"])), Some("web"));
    assert_eq!(pos(d, at(d, &["port"])), (4, 9));
    let port = d.node(at(d, &["port"]));
    assert_eq!((port.end.line, port.end.col), (4, 13));
    assert_eq!(port.start.index, text.find("8080").unwrap());

    let d = &docs[2];
    assert_eq!(pos(d, key_node(d, &[], "items")), (7, 1));
    let items = at(d, &["items"]);
    assert_eq!(
        pos(d, items),
        (8, 3),
        "block sequence starts at its first `-`"
    );
    let seq = d.seq(items);
    assert_eq!(seq.len(), 2);
    assert_eq!(pos(d, seq[0]), (8, 5));
    assert_eq!(pos(d, seq[1]), (9, 5));
    assert_eq!(pos(d, d.get(seq[1], "y").unwrap()), (9, 8));
    assert_eq!(d.str(d.get(seq[1], "y").unwrap()), Some("z"));
}

#[test]
fn indentless_sequence_starts_at_dash() {
    let d = one("list:\n- a\n-   b\n");
    let list = at(&d, &["list"]);
    assert_eq!(pos(&d, list), (2, 1));
    assert_eq!(pos(&d, d.seq(list)[1]), (3, 5));
    // A flow sequence in a block sequence is not moved to the dash.
    let d = one("- [a]\n");
    let inner = d.seq(d.root().unwrap())[0];
    assert_eq!(pos(&d, inner), (1, 3));
}

#[test]
fn block_scalar_value_and_position() {
    let text = "tls:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----\n  key: !!binary >-\n    QUJD\n    REVG\nnext: 1\n";
    let d = one(text);
    let cert = at(&d, &["tls", "cert"]);
    assert_eq!(
        d.str(cert),
        Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    );
    let n = d.node(cert);
    assert!(matches!(
        n.kind,
        Kind::Scalar {
            style: Style::Literal,
            tag: None,
            ..
        }
    ));
    assert_eq!((n.start.line, n.start.col), (2, 9), "at the `|`");
    assert_eq!(n.end.line, 6);

    let key = at(&d, &["tls", "key"]);
    let n = d.node(key);
    assert_eq!(d.str(key), Some("QUJD REVG"));
    match &n.kind {
        Kind::Scalar { style, tag, .. } => {
            assert_eq!(*style, Style::Folded);
            assert_eq!(tag.as_deref(), Some("!!binary"));
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        (n.start.line, n.start.col),
        (6, 17),
        "after the tag, at the `>`"
    );
    assert_eq!(pos(&d, at(&d, &["next"])), (9, 7));
    // Indicator found after blank lines / in sequences / at the document root.
    let d = one("a:\n  - x\nb: |+\n\n  text\nc:\n  - >\n    folded\n");
    assert_eq!(pos(&d, at(&d, &["b"])), (3, 4));
    assert_eq!(d.str(at(&d, &["b"])), Some("\ntext\n"));
    assert_eq!(pos(&d, d.seq(at(&d, &["c"]))[0]), (7, 5));
    let d = one("--- |\n  root text\n");
    assert_eq!(pos(&d, d.root().unwrap()), (1, 5));
    // After `...` libyaml needs `---` before the next document.
    let docs = parse_ok("# c | x\n>\n  root\n...\n--- |\n  two\n");
    assert_eq!(pos(&docs[0], docs[0].root().unwrap()), (2, 1));
    assert_eq!(pos(&docs[1], docs[1].root().unwrap()), (5, 5));
    let s = parse("x\n...\n|\n  two\n", &Limits::default());
    assert_eq!(s.docs.len(), 1);
    assert_eq!(
        s.error.expect("error").message,
        "did not find expected <document start>"
    );
}

#[test]
fn merge_keys() {
    let text = "\
base: &base {a: 1, b: 2}
ext: &ext
  <<: *base
  c: 3
list:
  <<: [*ext, {b: 20, d: 4}]
  a: 10
over:
  <<: *base
  b: override
nested:
  <<: *ext
inline:
  <<: {x: 1}
  y: 2
dup: {k: 1, j: 0, k: 2}
";
    let d = one(text);
    let root = d.root().unwrap();
    let flat = |path: &[&str]| -> Vec<(String, String)> {
        let m = d.get_path(root, path).unwrap();
        d.entries(m)
            .into_iter()
            .map(|(k, v)| (d.str(k).unwrap().to_string(), d.str(v).unwrap().to_string()))
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(flat(&["ext"]), pairs(&[("c", "3"), ("a", "1"), ("b", "2")]));
    // Explicit first, then the merge list in order; the earlier merged map wins.
    assert_eq!(
        flat(&["list"]),
        pairs(&[("a", "10"), ("c", "3"), ("b", "2"), ("d", "4")])
    );
    assert_eq!(flat(&["over"]), pairs(&[("b", "override"), ("a", "1")]));
    assert_eq!(
        flat(&["nested"]),
        pairs(&[("c", "3"), ("a", "1"), ("b", "2")])
    );
    assert_eq!(flat(&["inline"]), pairs(&[("y", "2"), ("x", "1")]));
    // Duplicate explicit keys: one entry, last value, first position.
    assert_eq!(flat(&["dup"]), pairs(&[("k", "2"), ("j", "0")]));

    assert_eq!(d.str(at(&d, &["list", "b"])), Some("2"));
    assert_eq!(d.str(at(&d, &["nested", "a"])), Some("1"));
    assert_eq!(d.str(at(&d, &["over", "b"])), Some("override"));
    assert_eq!(d.str(at(&d, &["dup", "k"])), Some("2"));
    assert_eq!(d.get(at(&d, &["over"]), "<<"), None);
    // Raw entries keep the `<<` entry.
    let over = at(&d, &["over"]);
    assert_eq!(d.raw_entries(over).len(), 2);
    assert!(d.is_merge_key(d.raw_entries(over)[0].0));
    // A quoted "<<" is an ordinary key.
    let d = one("a: &a {x: 1}\nb:\n  '<<': *a\n");
    assert!(d.get(at(&d, &["b"]), "x").is_none());
    assert!(d.get(at(&d, &["b"]), "<<").is_some());
}

#[test]
fn self_referencing_merges_and_aliases_terminate() {
    let d = one("r: &r\n  a: 1\n  <<: *r\n  self: *r\ns: &s [1, *s]\n");
    let r = at(&d, &["r"]);
    let keys: Vec<_> = d
        .entries(r)
        .iter()
        .map(|&(k, _)| d.str(k).unwrap())
        .collect();
    assert_eq!(keys, ["a", "self"]);
    assert_eq!(d.get(r, "missing"), None);
    assert_eq!(d.resolve(at(&d, &["r", "self"])), r);
    assert_eq!(d.str(at(&d, &["r", "self", "self", "a"])), Some("1"));
    let s = at(&d, &["s"]);
    assert_eq!(d.resolve(d.seq(s)[1]), s);
    assert_eq!(scalars(&d).len(), 2);
    // Wide merge lists of the same map are visited once.
    let mut text = String::from("m: &m {k: v}\nx:\n  <<: [");
    for i in 0..5000 {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str("*m");
    }
    text.push_str("]\n");
    let d = one(&text);
    assert_eq!(d.entries(at(&d, &["x"])).len(), 1);
}

#[test]
fn aliases_are_references() {
    let text = "a: &anc\n  k: v\n  list: [1, 2]\nb: *anc\nc: &s hello\nd: *s\n";
    let d = one(text);
    let a = at(&d, &["a"]);
    let b = at(&d, &["b"]);
    assert!(matches!(d.node(b).kind, Kind::Alias(t) if t == a));
    assert_eq!(d.resolve(b), a);
    assert_eq!(d.node(a).anchor.as_deref(), Some("anc"));
    assert_eq!(pos(&d, a), (2, 3), "after the anchor, at the first key");
    assert_eq!(pos(&d, b), (4, 4));
    assert_eq!(d.str(at(&d, &["b", "k"])), Some("v"));
    assert_eq!(d.seq(at(&d, &["b", "list"])).len(), 2);
    assert_eq!(d.str(at(&d, &["d"])), Some("hello"));
    let c = at(&d, &["c"]);
    assert_eq!(d.node(c).anchor.as_deref(), Some("s"));
    assert_eq!(pos(&d, c), (5, 7));
    assert_eq!(d.resolve(at(&d, &["d"])), c);
    // Anchors can be redefined; an alias refers to the latest one.
    let d = one("a: &x 1\nb: &x 2\nc: *x\n");
    assert_eq!(d.str(at(&d, &["c"])), Some("2"));
}

/// An alias bomb: `first` (the line anchoring `a`), then for each of `names` (consecutive
/// letters after `a`) a line anchoring a list of `width` aliases of the name before it.
fn alias_levels(first: &str, names: &str, width: usize) -> String {
    let mut text = String::from(first);
    for c in names.chars() {
        let prev = (c as u8 - 1) as char;
        text.push_str(&format!(
            "{c}: &{c} [{}]\n",
            vec![format!("*{prev}"); width].join(",")
        ));
    }
    text
}

/// The 342-byte "billion laughs": 9 levels of 9 aliases.
fn billion_laughs() -> String {
    alias_levels(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        "bcdefghi",
        9,
    )
}

#[test]
fn alias_bomb_stays_small() {
    let text = billion_laughs();
    assert!(text.len() < 1024);
    let started = Instant::now();
    // Refused by default (see `alias_bomb_is_refused`); with the check off, the tree still
    // holds one node per alias in the source.
    let limits = Limits {
        max_alias_expansion: u64::MAX,
        ..Limits::default()
    };
    let mut s = parse(&text, &limits);
    assert!(s.error.is_none(), "{:?}", s.error);
    let d = s.docs.remove(0);
    assert!(d.len() < 150, "{} nodes", d.len());
    let i = at(&d, &["i"]);
    assert_eq!(d.seq(i).len(), 9);
    let all_aliases = d
        .seq(i)
        .iter()
        .all(|&x| matches!(d.node(x).kind, Kind::Alias(_)));
    assert!(all_aliases);
    assert_eq!(d.entries(d.root().unwrap()).len(), 9);
    assert_eq!(scalars(&d).len(), 9);
    assert!(started.elapsed().as_secs() < 5);
}

/// The 342-byte "billion laughs" (9 levels of 9 aliases: 387 million nodes expanded) and
/// a wider 1 KB one are refused at the alias that crosses the limit; earlier documents
/// are kept.
#[test]
fn alias_bomb_is_refused() {
    let bomb = billion_laughs();
    assert_eq!(bomb.len(), 342);
    let text = format!("ok: 1\n---\n{bomb}");
    let started = Instant::now();
    let s = parse(&text, &Limits::default());
    assert!(started.elapsed().as_secs() < 5);
    assert_eq!(s.docs.len(), 1, "the document before the bomb is kept");
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::AliasExpansion);
    // Each alias adds its target's expanded size less one: 9 × (9, 90, 819, 7380, 66429)
    // for b to f, 672,543 in all; g's first alias adds 597,870 and crosses the million.
    assert_eq!((e.mark.line, e.mark.col), (9, 8), "{e}");

    let wide = alias_levels(
        "a: &a [x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x]\n",
        "bcdefghijklmnopqr",
        16,
    );
    assert_eq!(wide.len(), 1000);
    let e = parse(&wide, &Limits::default()).error.expect("error");
    assert_eq!(e.kind, ErrorKind::AliasExpansion);

    // A recursive alias expands to nothing more; merges of a shared map are fine.
    assert!(parse("a: &a [1, *a]\n", &Limits::default()).error.is_none());
    let mut merges = String::from("base: &b {x: 1, y: 2, z: 3}\n");
    for i in 0..10_000 {
        merges.push_str(&format!("k{i}: {{<<: *b, w: {i}}}\n"));
    }
    assert!(parse(&merges, &Limits::default()).error.is_none());
}

#[test]
fn duplicate_keys_are_listed_at_the_repetition() {
    let d = one("a: 1\nb:\n  x: 1\n  \"x\": 2\na: 3\nc: {<<: {}, <<: {}}\na: 4\n");
    let dups: Vec<((u32, u32), (u32, u32))> = d
        .duplicate_keys()
        .into_iter()
        .map(|(f, r)| (pos(&d, f), pos(&d, r)))
        .collect();
    // The root map is node 0, so its repetitions come first.
    assert_eq!(dups, [((1, 1), (5, 1)), ((1, 1), (7, 1)), ((3, 3), (4, 3))]);
    // The last value wins.
    assert_eq!(d.str(at(&d, &["a"])), Some("4"));
    // Large maps take the hashed path.
    let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
    text.push_str("k42: again\n");
    let d = one(&text);
    let dups = d.duplicate_keys();
    assert_eq!(dups.len(), 1);
    assert_eq!(
        (pos(&d, dups[0].0), pos(&d, dups[0].1)),
        ((43, 1), (101, 1))
    );
}

#[test]
fn ten_thousand_open_brackets_is_too_deep() {
    let (kind, mark, elapsed) = on_small_stack(|| {
        let text = "[".repeat(10_000);
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        let e = s.error.expect("error");
        assert!(s.docs.is_empty());
        (e.kind, e.mark, started.elapsed())
    });
    println!("10k `[`: {elapsed:?} (debug build), error at {mark}");
    assert_eq!(kind, ErrorKind::TooDeep);
    assert_eq!(mark.line, 1);

    let elapsed = on_small_stack(|| {
        let text = "x: ".to_string() + &"{a: [".repeat(5_000);
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        assert_eq!(s.error.expect("error").kind, ErrorKind::TooDeep);
        started.elapsed()
    });
    println!("5k `{{a: [`: {elapsed:?} (debug build)");

    // Our own limit applies below the scanner's 255.
    let limits = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let s = parse("k: [[[[[[1]]]]]]\n", &limits);
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::TooDeep);
    assert_eq!((e.mark.line, e.mark.col), (1, 8), "{e}");
}

#[test]
fn four_thousand_nested_block_mappings_is_too_deep() {
    let (text_len, kind, mark, elapsed) = on_small_stack(|| {
        // ~2 KB per level: 1-space indentation plus a trailing comment.
        let mut text = String::new();
        for level in 0..4000 {
            text.push_str(&" ".repeat(level));
            text.push_str("k: #");
            text.push_str(&"x".repeat(2000usize.saturating_sub(level)));
            text.push('\n');
        }
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        let elapsed = started.elapsed();
        assert!(s.docs.is_empty());
        let e = s.error.expect("error");
        (text.len(), e.kind, e.mark, elapsed)
    });
    println!("4000 nested block mappings, {text_len} bytes: {elapsed:?} (debug build)");
    assert_eq!(kind, ErrorKind::TooDeep);
    assert_eq!((mark.line, mark.col), (257, 257));

    let (text_len, kind, elapsed) = on_small_stack(|| {
        // 2-space indentation (16 MB).
        let mut text = String::new();
        for level in 0..4000 {
            text.push_str(&"  ".repeat(level));
            text.push_str("k:\n");
        }
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        (text.len(), s.error.expect("error").kind, started.elapsed())
    });
    let what = "4000 nested block mappings, 2-space indent";
    println!("{what}, {text_len} bytes: {elapsed:?} (debug build)");
    assert_eq!(kind, ErrorKind::TooDeep);

    let (kind, elapsed) = on_small_stack(|| {
        let text = "- ".repeat(4000) + "x\n";
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        (s.error.expect("error").kind, started.elapsed())
    });
    println!("4000 compact nested sequences: {elapsed:?} (debug build)");
    assert_eq!(kind, ErrorKind::TooDeep);
}

#[test]
fn depth_exactly_at_limit_is_fine() {
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let s = parse("a:\n  b:\n    c: 1\n", &limits);
    assert!(s.error.is_none(), "{:?}", s.error);
    let s = parse("a:\n  b:\n    c:\n      d: 1\n", &limits);
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::TooDeep);
    assert_eq!((e.mark.line, e.mark.col), (4, 7));
}

#[test]
fn syntax_error_keeps_earlier_documents() {
    let text = "a: 1\n---\nb: 2\n---\nc: [1, 2\nd: 3\n";
    let s = parse(text, &Limits::default());
    assert_eq!(s.docs.len(), 2);
    assert_eq!(
        s.docs[1].str(s.docs[1].get(s.docs[1].root().unwrap(), "b").unwrap()),
        Some("2")
    );
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(!e.message.is_empty());
    assert!(e.mark.line >= 5, "{e}");
    assert!(e.to_string().contains("line"));

    let s = parse("a: 1\nb: : :\n", &Limits::default());
    assert!(s.docs.is_empty(), "a document cut short is not returned");
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(e.mark.line, 2);
}

#[test]
fn unknown_anchor() {
    let s = parse("a: *nope\n", &Limits::default());
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::UnknownAnchor);
    assert!(e.message.contains("*nope"), "{e}");
    assert_eq!((e.mark.line, e.mark.col), (1, 4));
    // Anchors do not carry over to the next document.
    let s = parse("a: &x 1\n---\nb: *x\n", &Limits::default());
    assert_eq!(s.docs.len(), 1);
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::UnknownAnchor);
    assert!(e.message.contains("*x"), "{e}");
    assert_eq!(e.mark.line, 3);
}

#[test]
fn size_and_node_limits() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    let s = parse("a: 1234567890\n", &limits);
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert_eq!((e.mark.line, e.mark.col), (1, 1));

    let limits = Limits {
        max_nodes: 5,
        ..Limits::default()
    };
    let s = parse("a: 1\n---\nb: 2\nc: 3\n", &limits);
    assert_eq!(s.docs.len(), 1);
    let e = s.error.expect("error");
    assert_eq!(e.kind, ErrorKind::TooManyNodes);
    assert_eq!((e.mark.line, e.mark.col), (3, 4));
}

#[test]
fn empty_documents() {
    let docs = parse_ok("---\n");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].root(), None);
    assert!(docs[0].is_empty());
    assert!(scalars(&docs[0]).is_empty());

    let docs = parse_ok("---\n# nothing\n---\na: 1\n...\n---\n");
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0].root(), None);
    assert!(docs[1].root().is_some());
    assert_eq!(docs[2].root(), None);

    let d = one("--- ~\n");
    assert!(d.is_null(d.root().unwrap()));
    let d = one("--- ''\n");
    assert!(!d.is_null(d.root().unwrap()));
}

#[test]
fn only_a_comment_or_nothing() {
    assert!(parse_ok("# just a comment\n").is_empty());
    assert!(parse_ok("# one\n\n   # two\n").is_empty());
    assert!(parse_ok("").is_empty());
    assert!(parse_ok("\n\n").is_empty());
}

#[test]
fn nulls() {
    let text = "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: ''\ng: \"null\"\nh: !!null ''\ni: nil\nj: &n ~\nk: *n\nl: !!str\nm: 0\n";
    let d = one(text);
    let null = |k: &str| d.is_null(at(&d, &[k]));
    for k in ["a", "b", "c", "d", "e", "h", "j", "k"] {
        assert!(null(k), "{k} should be null");
    }
    for k in ["f", "g", "i", "l", "m"] {
        assert!(!null(k), "{k} should not be null");
    }
    assert!(!d.is_null(d.root().unwrap()));
}

#[test]
fn scalars_walker_paths() {
    let text = "\
top: &t
  list:
    - one
    - k: two
  'quoted key': three
copy: *t
merged:
  <<: *t
  own: four
? [complex]
: five
";
    let d = one(text);
    let got: Vec<(String, String)> = scalars(&d)
        .into_iter()
        .map(|(id, path)| {
            let p: Vec<String> = path.iter().map(ToString::to_string).collect();
            (p.join("."), d.str(id).unwrap().to_string())
        })
        .collect();
    let want = [
        ("top.list.[0]", "one"),
        ("top.list.[1].k", "two"),
        ("top.quoted key", "three"),
        ("merged.own", "four"),
        ("?", "five"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want);
    let (list, truncated) = d.scalars_budgeted(usize::MAX);
    assert!(!truncated);
    assert_eq!(
        list[1].1,
        [
            PathSeg::Key("top".into()),
            PathSeg::Key("list".into()),
            PathSeg::Index(1),
            PathSeg::Key("k".into()),
        ]
    );
    // A scalar root has an empty path.
    let d = one("just text\n");
    assert_eq!(scalars(&d).len(), 1);
    assert!(scalars(&d)[0].1.is_empty());
    // Budget exhausted: every scalar is still returned, later ones without a path.
    let d = one("a:\n  b: 1\n  c: 2\n  d: 3\n");
    let (list, truncated) = d.scalars_budgeted(100);
    assert!(truncated);
    assert_eq!(list.len(), 3);
    assert!(!list[0].1.is_empty());
    assert!(list[2].1.is_empty());
}

#[test]
fn long_aliased_keys_are_cut_in_paths() {
    let long = "k".repeat(10_000);
    let mut text = format!("x: &k {long}\nm:\n");
    for i in 0..50 {
        text.push_str(&format!("  - *k : {i}\n"));
    }
    let d = one(&text);
    let scalars = scalars(&d);
    assert_eq!(scalars.len(), 51);
    match &scalars[1].1[2] {
        PathSeg::Key(k) => assert!(k.len() < 300 && k.starts_with("kkk")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tabs_and_crlf() {
    let d = one("a: 1\r\nb:\r\n  c: \"x\"\r\n  d: [1,\t2]\r\n");
    assert_eq!(pos(&d, at(&d, &["a"])), (1, 4));
    assert_eq!(pos(&d, at(&d, &["b", "c"])), (3, 6));
    assert_eq!(d.str(at(&d, &["b", "c"])), Some("x"));
    assert_eq!(pos(&d, at(&d, &["b", "d"])), (4, 6));
    assert_eq!(d.seq(at(&d, &["b", "d"])).len(), 2);
    let d = one("a: \t1\nb: |\r\n  line1\r\n  line2\r\n");
    assert_eq!(d.str(at(&d, &["a"])), Some("1"));
    assert_eq!(pos(&d, at(&d, &["b"])), (2, 4));
    assert_eq!(d.str(at(&d, &["b"])), Some("line1\nline2\n"));
    // A tab right after `:` separates like a space (saphyr refused `a:\t1`; libyaml not).
    let d = one("a:\t1\n");
    assert_eq!(d.str(at(&d, &["a"])), Some("1"));
    let d = one("a:\t\"1\"\n");
    assert_eq!(d.str(at(&d, &["a"])), Some("1"));
    // Tabs as indentation are an error, not a panic.
    let s = parse("a:\n\tb: 1\n", &Limits::default());
    assert_eq!(s.error.expect("error").kind, ErrorKind::Syntax);
    // Lone CR line breaks count as lines too.
    let d = one("a: 1\rb: 2\r");
    assert_eq!(pos(&d, at(&d, &["b"])), (2, 4));
}

#[test]
fn tags() {
    let text = "%TAG !e! tag:example.com,2000:\n---\na: !!binary QUJD\nb: !vault x\nc: ! y\nd: !<tag:yaml.org,2002:str> z\ne: !e!foo w\nf: !<!bar> v\ng: !<urn:x> u\nh: !!map {k: v}\n";
    let d = one(text);
    let tag = |k: &str| match &d.node(at(&d, &[k])).kind {
        Kind::Scalar { tag, .. } => tag.clone(),
        _ => None,
    };
    assert_eq!(tag("a").as_deref(), Some("!!binary"));
    assert_eq!(tag("b").as_deref(), Some("!vault"));
    assert_eq!(tag("c").as_deref(), Some("!"));
    assert_eq!(tag("d").as_deref(), Some("!!str"));
    assert_eq!(tag("e").as_deref(), Some("!<tag:example.com,2000:foo>"));
    assert_eq!(tag("f").as_deref(), Some("!bar"));
    assert_eq!(tag("g").as_deref(), Some("!<urn:x>"));
    assert_eq!(pos(&d, at(&d, &["b"])), (4, 11));
    assert_eq!(pos(&d, at(&d, &["h"])), (10, 10));
}

#[test]
fn non_ascii_positions_and_anchor_names() {
    // libyaml allows only ASCII letters, digits, `_` and `-` in anchor names.
    let s = parse("ключ: &якорь значение\n", &Limits::default());
    assert_eq!(s.error.expect("error").kind, ErrorKind::Syntax);
    let text = "ключ: &yakor значение\nб: *yakor\n\"ä\": [ü, &o ß]\n";
    let d = one(text);
    let v = at(&d, &["ключ"]);
    assert_eq!(d.node(v).anchor.as_deref(), Some("yakor"));
    assert_eq!(pos(&d, v), (1, 14));
    assert_eq!(d.node(v).start.index, 13);
    assert_eq!(d.resolve(at(&d, &["б"])), v);
    assert_eq!(pos(&d, at(&d, &["б"])), (2, 4));
    let items = d.seq(at(&d, &["ä"]));
    assert_eq!(pos(&d, items[1]), (3, 13));
    assert_eq!(d.node(items[1]).anchor.as_deref(), Some("o"));
    // Many anchors far into a non-ASCII text (checkpointed byte → char mapping).
    let mut text = String::from("é: 1\n");
    for i in 0..2000 {
        text.push_str(&format!("k{i}: &a{i} v{i}é\n"));
    }
    let d = one(&text);
    let v = at(&d, &["k1999"]);
    assert_eq!(d.node(v).anchor.as_deref(), Some("a1999"));
    assert_eq!(pos(&d, v), (2001, 15));
}

#[test]
fn results_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Stream>();
    send_sync::<Document>();
    send_sync::<YamlError>();
}

#[test]
fn missing_ids_do_not_panic() {
    let d = one("a: 1\n");
    let bogus = NodeId(9999);
    assert_eq!(d.str(bogus), Some(""));
    assert!(d.seq(bogus).is_empty());
    assert!(d.entries(bogus).is_empty());
    assert_eq!(d.get(bogus, "a"), None);
    assert_eq!(d.resolve(bogus), bogus);
    assert_eq!(d.get_path(d.root().unwrap(), &["a", "b"]), None);
    assert_eq!(d.get_path(d.root().unwrap(), &[]), d.root());
}

#[test]
fn prefixes_and_mutations_never_panic() {
    let sample = "\
%YAML 1.2
---
a: &a {x: [1, 2, {y: \"q\\\"\"}], 'z': |
    block}
b: *a
c: !!binary >-
  QUJD
? [k, l]
: - m
  - &n !t n
  - *n
\"é\": [ü: v, w]
...
--- !!str
text
";
    let limits = Limits::default();
    let chars: Vec<(usize, char)> = sample.char_indices().collect();
    for &(i, _) in &chars {
        let s = parse(&sample[..i], &limits);
        check_ids(&s);
    }
    // Deterministic pseudo-random mutations.
    let alphabet: Vec<char> = "[]{}:,-?&*!|>'\"#\n\t \r%@`~é\u{feff}ab1".chars().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let mut s: Vec<char> = sample.chars().collect();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() as usize) % s.len();
            let c = alphabet[(next() as usize) % alphabet.len()];
            match next() % 3 {
                0 => s[at] = c,
                1 => s.insert(at, c),
                _ => {
                    s.remove(at);
                }
            }
        }
        let text: String = s.into_iter().collect();
        let out = parse(&text, &limits);
        check_ids(&out);
        for d in &out.docs {
            let _ = scalars(d);
            if let Some(r) = d.root() {
                let _ = d.entries(r);
            }
        }
    }
}

fn check_ids(s: &Stream) {
    for d in &s.docs {
        let n = d.len();
        let ok = |id: &NodeId| (id.0 as usize) < n;
        assert!(d.root().is_none_or(|r| ok(&r)));
        for node in d.nodes() {
            match &node.kind {
                Kind::Seq(items) => assert!(items.iter().all(ok)),
                Kind::Map(entries) => assert!(entries.iter().all(|(k, v)| ok(k) && ok(v))),
                Kind::Alias(t) => assert!(ok(t)),
                Kind::Scalar { .. } => {}
            }
            assert!(node.start.line >= 1 && node.start.col >= 1);
        }
    }
}

#[test]
fn timing_large_inputs() {
    // Prints only: debug-build timings of large but legal inputs.
    let timings = on_small_stack(|| {
        let mut out = Vec::new();
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("- name: item{i}\n  value: [1, 2, 3]\n"));
        }
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        assert!(s.error.is_none());
        out.push((
            format!("20k block items, {} bytes", text.len()),
            started.elapsed(),
        ));

        let started = Instant::now();
        let n = scalars(&s.docs[0]).len();
        out.push((format!("scalars over {n} scalars"), started.elapsed()));

        let mut text = "[".repeat(250);
        text.push_str(&vec!["1"; 20_000].join(","));
        text.push_str(&"]".repeat(250));
        let started = Instant::now();
        let s = parse(&text, &Limits::default());
        assert!(s.error.is_none(), "{:?}", s.error);
        out.push((
            format!("250-deep flow, {} bytes", text.len()),
            started.elapsed(),
        ));
        out
    });
    for (what, t) in timings {
        println!("{what}: {t:?} (debug build)");
    }
}

/// What libyaml accepts and saphyr (a YAML 1.2 parser) refused; found in real files.
#[test]
fn libyaml_leniencies_of_real_files() {
    // Hiera: a flow sequence closed at the key's indentation.
    let d = one("profile::foo::hosts: [\n  'a.example', 'b.example',\n]\nother: 1\n");
    let hosts = at(&d, &["profile::foo::hosts"]);
    let items: Vec<_> = d.seq(hosts).iter().map(|&i| d.str(i).unwrap()).collect();
    assert_eq!(items, ["a.example", "b.example"]);
    assert_eq!(pos(&d, hosts), (1, 22));
    assert_eq!(d.str(at(&d, &["other"])), Some("1"));
    // istio spire-quickstart.yaml: items and `]` at the parent key's indentation, nested.
    let text = "spec:\n  containers:\n    - name: csi\n      args: [\n          \"-a\", \"/x\",\n      ]\n      env: []\n";
    let d = one(text);
    let c = d.seq(at(&d, &["spec", "containers"]))[0];
    assert_eq!(d.seq(d.get(c, "args").unwrap()).len(), 2);
    assert!(d.get(c, "env").is_some());
    let text = "k: [\na,\nb]\nm: {\nx: 1\n}\n";
    let d = one(text);
    assert_eq!(d.seq(at(&d, &["k"])).len(), 2);
    assert_eq!(d.str(at(&d, &["m", "x"])), Some("1"));
    // kubectl wraps long annotations: quoted scalars continued at the key's indentation.
    let text =
        "metadata:\n  annotations:\n    a: \"one\n    two\"\n    b: 'three\n    four'\n  name: x\n";
    let d = one(text);
    assert_eq!(
        d.str(at(&d, &["metadata", "annotations", "a"])),
        Some("one two")
    );
    assert_eq!(
        d.str(at(&d, &["metadata", "annotations", "b"])),
        Some("three four")
    );
    assert_eq!(d.str(at(&d, &["metadata", "name"])), Some("x"));
    let d = one("a: \"x\ny\"\n");
    assert_eq!(d.str(at(&d, &["a"])), Some("x y"));
}

#[test]
fn alias_as_mapping_key() {
    let text = "domain: &domain example.org\nhosts:\n  *domain : primary\n  *domain: dup\n";
    let d = one(text);
    let hosts = at(&d, &["hosts"]);
    let entries = d.raw_entries(hosts);
    assert_eq!(entries.len(), 2);
    let (k, v) = entries[0];
    assert!(matches!(d.node(k).kind, Kind::Alias(_)));
    assert_eq!(d.str(k), Some("example.org"));
    assert_eq!(d.str(v), Some("primary"));
    assert_eq!(pos(&d, k), (3, 3));
    assert!(d.get(hosts, "example.org").is_some());
    assert_eq!(d.duplicate_keys().len(), 1);
    // A whole mapping as an alias key.
    let d = one("- &m {a: 1}\n- *m : x\n");
    let m = d.seq(d.root().unwrap())[1];
    assert_eq!(d.entries(m).len(), 1);
}

#[test]
fn yaml11_plain_scalars() {
    use Scalar11::*;
    for (v, want) in [
        ("", Null),
        ("~", Null),
        ("NULL", Null),
        ("nULL", Str),
        ("yes", Bool(true)),
        ("Y", Bool(true)),
        ("ON", Bool(true)),
        ("oN", Str),
        ("Off", Bool(false)),
        ("n", Bool(false)),
        ("FALSE", Bool(false)),
        ("0", Int(0)),
        ("0755", Int(0o755)),
        ("0o755", Str),
        ("0x_1F", Int(31)),
        ("-0b101", Int(-5)),
        ("1_000", Int(1000)),
        ("+12", Int(12)),
        ("190:20:30", Int(685_230)),
        ("08", Str),
        ("1.5", Float(1.5)),
        ("-.5", Str),
        (".5", Float(0.5)),
        ("1.", Float(1.0)),
        ("6.8523015e+5", Float(685_230.15)),
        ("1e5", Float(1e5)),
        ("1.0e5", Float(1e5)),
        ("1.5E-3", Float(1.5e-3)),
        ("1e", Str),
        ("e5", Str),
        ("190:20:30.15", Float(685_230.15)),
        ("-.inf", Float(f64::NEG_INFINITY)),
        ("2001-12-14", Timestamp),
        ("2001-12-14t21:59:43.10-05:00", Timestamp),
        ("2001-12-14 21:59:43.10 -5", Timestamp),
        ("2001-1-4 1:59:43Z", Timestamp),
        ("2001-12-14x", Str),
        ("<<", Str),
        ("1.2.3", Str),
        ("-", Str),
        ("99999999999999999999999999999999999999999", Str),
    ] {
        assert_eq!(resolve_plain(v), want, "{v:?}");
    }
    assert!(matches!(resolve_plain(".NaN"), Float(f) if f.is_nan()));
    let d = one("a: yes\nb: 'yes'\nc: !!bool on\nd: !!str on\ne: *x\n"
        .replace("*x", "&x off")
        .as_str());
    assert_eq!(d.bool11(at(&d, &["a"])), Some(true));
    assert_eq!(d.bool11(at(&d, &["b"])), None);
    assert_eq!(d.bool11(at(&d, &["c"])), Some(true));
    assert_eq!(d.bool11(at(&d, &["d"])), None);
    assert_eq!(d.bool11(at(&d, &["e"])), Some(false));
}

/// `libyaml-safer` 0.3.0 panics on a tag followed directly by `,` in a
/// flow collection (found by the fuzzer); libyaml reads it. The panic is
/// caught and the document is a gap, not a syntax error.
#[test]
fn a_parser_panic_is_an_internal_error() {
    quiet_parser_panics();
    let s = parse("a: [!x, 1]\n", &Limits::default());
    let e = s.error.expect("the port panics here");
    assert_eq!(e.kind, ErrorKind::Internal, "{e:?}");
}
