//! End-to-end tests of the Hiera engine: configs, data files and facts in a temp dir (and
//! the Wikimedia corpus when present), looked up with every merge.

use super::value::value_cost;
use super::*;
use crate::read::source::DirSource;
use crate::read::yaml;
use crate::report::lookup::{render_lookup, yaml_scalar};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The Wikimedia corpus (tests using it are skipped when it is missing).
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/wikimedia");

/// A file source over a temp dir, counting reads.
struct Counting {
    inner: DirSource,
    reads: AtomicUsize,
}

impl FileSource for Counting {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read(rel)
    }
    fn is_file(&self, rel: &str) -> bool {
        self.inner.is_file(rel)
    }
    fn list(&self, dir: &str) -> Vec<String> {
        self.inner.list(dir)
    }
}

/// A directory plus in-memory files (a config for a corpus snapshot).
struct Overlay {
    base: DirSource,
    extra: Vec<(String, String)>,
}

impl FileSource for Overlay {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        match self.extra.iter().find(|(p, _)| p == rel) {
            Some((_, c)) => Ok(c.clone().into_bytes()),
            None => self.base.read(rel),
        }
    }
    fn is_file(&self, rel: &str) -> bool {
        self.extra.iter().any(|(p, _)| p == rel) || self.base.is_file(rel)
    }
    fn list(&self, dir: &str) -> Vec<String> {
        self.base.list(dir)
    }
}

fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let full = root.join(p);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(full, c).expect("write");
    }
}

fn setup_with(files: &[(&str, &str)], opts: HieraOptions) -> (tempfile::TempDir, Hiera) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(dir.path(), files);
    let src: Arc<dyn FileSource> = Arc::new(DirSource::new(dir.path()));
    let h = Hiera::load(src, "hiera.yaml", opts).expect("config loads");
    (dir, h)
}

fn setup(files: &[(&str, &str)]) -> (tempfile::TempDir, Hiera) {
    setup_with(files, HieraOptions::default())
}

fn facts(pairs: &[(&str, &str)]) -> Facts {
    let mut f = Facts::new();
    for (k, v) in pairs {
        f.set(k, v);
    }
    f
}

/// Compact, ordered rendering for assertions.
fn flat(v: &Value) -> String {
    match &v.kind {
        ValueKind::Null => "~".into(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Number(n) => n.clone(),
        ValueKind::String(s) => format!("'{s}'"),
        ValueKind::Seq(items) => {
            format!(
                "[{}]",
                items.iter().map(flat).collect::<Vec<_>>().join(", ")
            )
        }
        ValueKind::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}: {}", flat(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn value_of(l: &Lookup) -> String {
    l.value
        .as_ref()
        .map(flat)
        .unwrap_or_else(|| "<none>".into())
}

fn has_note(l: &Lookup, needle: &str) -> bool {
    l.notes.iter().any(|n| n.message.contains(needle))
}

const SIMPLE: &str =
    "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: common\n    path: common.yaml\n";

const INTERP_DATA: &str = r#"
site_name: "dc-%{::site}"
plain_var: "%{site}"
facts_nested: "%{facts.networking.fqdn}"
trusted_cn: "%{trusted.certname}"
scoped: "%{scope('site')}"
base: base-value
via_lookup: "x-%{lookup('base')}-y"
via_hiera: "%{hiera('base')}"
list: [1, 2, three]
aliased_list: "%{alias('list')}"
num: 42
aliased_num: "%{alias('num')}"
map: {a: 1}
aliased_map: "%{ alias('map') }"
lit: "%{literal('%')}{::site}"
keyed:
  "key-%{::site}": v
  fixed: "%{lookup('base')}"
nested:
  inner: ["%{::site}", {deep: "%{lookup('base')}"}]
unknown: "a%{::nope}b"
empty_expr: "a%{}b"
missing_lookup: "a%{lookup('no::such::key')}b"
alias_partial: "x%{alias('list')}"
bad_fn: "%{frobnicate('x')}"
list_in_string: "%{lookup('list')}"
"#;

#[test]
fn interpolation_forms() {
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", INTERP_DATA)]);
    let mut f = facts(&[
        ("site", "eqiad"),
        ("networking.fqdn", "h1.eqiad.wmnet"),
        ("trusted.certname", "h1.cert"),
    ]);
    f.set("::facts.ignored_prefix", "x");
    let get = |k: &str| h.lookup(k, &f, None);
    assert_eq!(value_of(&get("site_name")), "'dc-eqiad'");
    assert_eq!(value_of(&get("plain_var")), "'eqiad'");
    assert_eq!(value_of(&get("facts_nested")), "'h1.eqiad.wmnet'");
    assert_eq!(value_of(&get("trusted_cn")), "'h1.cert'");
    assert_eq!(value_of(&get("scoped")), "'eqiad'");
    assert_eq!(value_of(&get("via_lookup")), "'x-base-value-y'");
    assert_eq!(value_of(&get("via_hiera")), "'base-value'");
    assert_eq!(value_of(&get("lit")), "'%{::site}'");
    assert_eq!(
        value_of(&get("keyed")),
        "{key-eqiad: 'v', fixed: 'base-value'}"
    );
    assert_eq!(
        value_of(&get("nested")),
        "{inner: ['eqiad', {deep: 'base-value'}]}"
    );
    assert_eq!(value_of(&get("empty_expr")), "'ab'");
    // Ruby's Array#to_s.
    assert_eq!(value_of(&get("list_in_string")), "'[1, 2, \"three\"]'");
    let l = get("unknown");
    assert_eq!(value_of(&l), "'ab'");
    assert!(has_note(&l, "%{::nope}: variable not set"), "{:?}", l.notes);
    let l = get("missing_lookup");
    assert_eq!(value_of(&l), "'ab'");
    assert!(has_note(&l, "key not found"), "{:?}", l.notes);
    // Puppet fails these lookups.
    let l = get("alias_partial");
    assert_eq!(value_of(&l), "<none>");
    assert!(has_note(
        &l,
        "is only permitted if the expression is equal to the entire string"
    ));
    assert!(l.error.is_some());
    let l = get("bad_fn");
    assert_eq!(value_of(&l), "<none>");
    assert!(has_note(&l, "unknown interpolation method 'frobnicate'"));
    // Note origins point at the string.
    let n = &get("unknown").notes[0];
    assert_eq!(
        (n.origin.path.as_str(), n.origin.line),
        ("data/common.yaml", 22)
    );
    assert_eq!(f.get("ignored_prefix").as_deref(), Some("x"));
}

#[test]
fn alias_preserves_type_and_origin() {
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", INTERP_DATA)]);
    let f = Facts::new();
    let l = h.lookup("aliased_list", &f, None);
    let v = l.value.expect("found");
    assert_eq!(flat(&v), "[1, 2, 'three']");
    assert!(matches!(v.kind, ValueKind::Seq(_)));
    // Items keep the origin of the aliased data (line 10: `list: [1, 2, three]`).
    let items = v.as_seq().expect("seq");
    assert_eq!((items[2].origin.line, items[2].origin.column), (10, 14));
    let n = h.lookup("aliased_num", &f, None).value.expect("found");
    assert_eq!(n.kind, ValueKind::Number("42".into()));
    let m = h.lookup("aliased_map", &f, None).value.expect("found");
    assert_eq!(flat(&m), "{a: 1}");
    // The step points at the key that holds the alias.
    let l = h.lookup("aliased_num", &f, None);
    assert_eq!(
        l.explain[0].outcome,
        StepOutcome::Found(Origin::new("data/common.yaml", 13, 1))
    );
}

#[test]
fn lookup_loops_are_notes() {
    let data = "a: \"%{lookup('b')}\"\nb: \"x%{lookup('a')}\"\ns: \"%{alias('s')}\"\nc: \"%{hiera('c.sub')}\"\n";
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", data)]);
    let f = Facts::new();
    // Puppet fails a recursive lookup.
    let l = h.lookup("a", &f, None);
    assert_eq!(value_of(&l), "<none>");
    assert!(
        has_note(&l, "recursive lookup detected: a -> b -> a"),
        "{:?}",
        l.notes
    );
    assert!(l.error.is_some());
    let l = h.lookup("s", &f, None);
    assert_eq!(value_of(&l), "<none>");
    assert!(has_note(&l, "recursive lookup detected: s -> s"));
    let l = h.lookup("c", &f, None);
    assert!(has_note(&l, "recursive lookup detected"));
}

#[test]
fn deep_lookup_chains_are_capped() {
    let mut data = String::from("k0: end\n");
    for i in 1..60 {
        data.push_str(&format!("k{i}: \"%{{lookup('k{}')}}\"\n", i - 1));
    }
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
    let f = Facts::new();
    assert_eq!(value_of(&h.lookup("k20", &f, None)), "'end'");
    let l = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || h.lookup("k59", &f, None))
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert!(has_note(&l, "nested lookups"), "{:?}", l.notes);
}

#[test]
fn expansion_over_1mib_is_capped() {
    let mut data = format!("l0: \"{}\"\n", "x".repeat(1024));
    for i in 1..=14 {
        data.push_str(&format!(
            "l{i}: \"%{{lookup('l{p}')}}%{{lookup('l{p}')}}\"\n",
            p = i - 1
        ));
    }
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
    let f = Facts::new();
    let start = Instant::now();
    let ok = h.lookup("l10", &f, None);
    assert_eq!(
        ok.value.and_then(|v| v.as_str().map(str::len)),
        Some(1 << 20)
    );
    let l = h.lookup("l14", &f, None);
    assert!(has_note(&l, "over 1 MiB"), "{:?}", l.notes);
    // Left unresolved at the level that overflowed (l11), so l14 stays bounded.
    assert!(value_of(&l).len() < 4 << 20);
    assert!(start.elapsed().as_secs() < 20);
}

#[test]
fn alias_bomb_in_yaml_is_bounded() {
    let bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\nsmall: *b\n";
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", bomb)]);
    let f = Facts::new();
    let start = Instant::now();
    let l = h.lookup("i", &f, None);
    assert!(l.value.is_none());
    assert!(matches!(l.explain[0].outcome, StepOutcome::Error(_)));
    // The YAML reader refuses the whole file (387 million nodes expanded).
    assert!(has_note(&l, "alias bomb"), "{:?}", l.notes);
    assert!(start.elapsed().as_secs() < 20);
    // Reasonable aliases still expand.
    let small = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nsmall: *b\n";
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", small)]);
    let s = h.lookup("small", &f, None).value.expect("found");
    assert_eq!(s.as_seq().map(<[Value]>::len), Some(9));
    // Recursive aliases are refused, not followed.
    let s = yaml::parse("a: &a [1, *a]\n", &yaml::Limits::default());
    if let Some(doc) = s.docs.first() {
        let root = doc.root().expect("root");
        let err = from_yaml(doc, root, "x.yaml").expect_err("recursive");
        assert!(err.contains("recursive"), "{err}");
    }
}

#[test]
fn alias_bomb_through_interpolation_is_bounded() {
    let mut data = String::from("x0: [a, b, c, d, e, f, g, h, i, j]\n");
    for i in 1..=9 {
        let item = format!("\"%{{alias('x{}')}}\"", i - 1);
        data.push_str(&format!("x{i}: [{}]\n", vec![item; 10].join(", ")));
    }
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
    let f = Facts::new();
    let start = Instant::now();
    let l = h.lookup("x9", &f, None);
    assert!(has_note(&l, "lookup produced more than"), "{:?}", l.notes);
    assert!(start.elapsed().as_secs() < 30);
    let l = h.lookup("x3", &f, None);
    let (nodes, _) = value_cost(l.value.as_ref().expect("found"));
    assert_eq!(nodes, 1 + 10 + 100 + 1000 + 10000);
}

const MERGE_CFG: &str = "version: 5\nhierarchy:\n  - name: node\n    path: \"nodes/%{::hostname}.yaml\"\n  - name: common\n    path: common.yaml\n";
const NODE: &str = "arr: [b, c]\nscalar_u: x\nh: {a: 1, nested: {x: 1}}\ndeep: {a: {list: [n1, shared], k: node}, only_node: 1, nil_here: ~}\ndeepother: {k: node}\nhm: [{a: 1}, {b: 2}]\nko: [--gone, keep]\n";
const COMMON: &str = "arr: [a, b, [d]]\nscalar_u: [y, x]\nh: {a: 2, b: 2, nested: {y: 2}}\ndeep: {a: {list: [c1, shared], k: common, k2: common}, only_common: 2, nil_here: kept}\ndeepother: {j: common}\nhm: [{c: 3}, {d: 4}, {e: 5}]\nko: [gone, other]\nlookup_options:\n  h: {merge: hash}\n  \"^deep.*$\": {merge: deep}\n  arr: {merge: unique}\n  hm: {merge: {strategy: deep, merge_hash_arrays: true}}\n  ko:\n    merge:\n      strategy: deep\n      knockout_prefix: \"--\"\n";

fn merge_setup() -> (tempfile::TempDir, Hiera, Facts) {
    let (d, h) = setup(&[
        ("hiera.yaml", MERGE_CFG),
        ("data/nodes/n1.yaml", NODE),
        ("data/common.yaml", COMMON),
    ]);
    (d, h, facts(&[("hostname", "n1")]))
}

#[test]
fn merge_behaviours() {
    let (_d, h, f) = merge_setup();
    assert_eq!(
        value_of(&h.lookup("arr", &f, Some(Merge::First))),
        "['b', 'c']"
    );
    assert_eq!(
        value_of(&h.lookup("arr", &f, Some(Merge::Unique))),
        "['b', 'c', 'a', 'd']"
    );
    assert_eq!(
        value_of(&h.lookup("scalar_u", &f, Some(Merge::Unique))),
        "['x', 'y']"
    );
    assert_eq!(
        value_of(&h.lookup("h", &f, Some(Merge::Hash))),
        "{a: 1, b: 2, nested: {x: 1}}"
    );
    let l = h.lookup("deep", &f, Some(Merge::Deep));
    assert_eq!(
            value_of(&l),
            "{a: {list: ['c1', 'shared', 'n1'], k: 'node', k2: 'common'}, only_common: 2, nil_here: 'kept', only_node: 1}"
        );
    let v = l.value.expect("found");
    let k = v.get_path(&["a", "k"]).expect("k");
    let k2 = v.get_path(&["a", "k2"]).expect("k2");
    assert_eq!(k.origin.path, "data/nodes/n1.yaml");
    assert_eq!(k2.origin.path, "data/common.yaml");
    assert_eq!(k2.origin.line, 4);
    // Hash merge with a non-hash at two levels, unique with a hash at two levels: Puppet's
    // type errors.
    let l = h.lookup("arr", &f, Some(Merge::Hash));
    assert!(has_note(&l, "expects a Hash value"), "{:?}", l.notes);
    assert_eq!(value_of(&l), "<none>");
    assert!(l.error.is_some());
    let l = h.lookup("h", &f, Some(Merge::Unique));
    assert!(
        has_note(&l, "expects a value of type Scalar or Array"),
        "{:?}",
        l.notes
    );
    assert_eq!(value_of(&l), "<none>");
}

#[test]
fn lookup_options_exact_and_regex() {
    let (_d, h, f) = merge_setup();
    let l = h.lookup("h", &f, None);
    assert_eq!(l.merge, Merge::Hash);
    assert_eq!(value_of(&l), "{a: 1, b: 2, nested: {x: 1}}");
    let l = h.lookup("arr", &f, None);
    assert_eq!(l.merge, Merge::Unique);
    let l = h.lookup("deepother", &f, None);
    assert_eq!(l.merge, Merge::Deep);
    assert_eq!(value_of(&l), "{j: 'common', k: 'node'}");
    let l = h.lookup("scalar_u", &f, None);
    assert_eq!(l.merge, Merge::First);
    assert_eq!(value_of(&l), "'x'");
    // Deep-merge options from lookup_options.
    let l = h.lookup("hm", &f, None);
    assert_eq!(value_of(&l), "[{c: 3, a: 1}, {d: 4, b: 2}, {e: 5}]");
    let l = h.lookup("ko", &f, None);
    assert_eq!(value_of(&l), "['other', 'keep']");
    // The merged lookup_options themselves.
    let lo = h.lookup("lookup_options", &f, None).value.expect("lo");
    assert!(lo.get("^deep.*$").is_some());
    // An explicit merge wins over lookup_options.
    assert_eq!(h.lookup("h", &f, Some(Merge::First)).merge, Merge::First);
    // Deep options through lookup_spec.
    let spec = MergeSpec {
        sort_merged_arrays: true,
        ..MergeSpec::from(Merge::Deep)
    };
    let l = h.lookup_spec("arr", &f, Some(spec));
    assert_eq!(value_of(&l), "['a', 'b', 'c', ['d']]");
}

#[test]
fn dotted_keys_dig() {
    let (_d, h, f) = merge_setup();
    assert_eq!(value_of(&h.lookup("h.nested.x", &f, None)), "1");
    assert_eq!(value_of(&h.lookup("arr.1", &f, Some(Merge::First))), "'c'");
    let l = h.lookup("h.nested.y", &f, Some(Merge::First));
    assert!(l.value.is_none());
    assert!(l
        .explain
        .iter()
        .any(|s| s.detail.as_deref().is_some_and(|d| d.contains("has no"))));
    assert_eq!(
        value_of(&h.lookup("h.nested.y", &f, Some(Merge::Deep))),
        "2"
    );
}

#[test]
fn paths_globs_mapped_paths() {
    let cfg = r#"version: 5
defaults:
  datadir: data
hierarchy:
  - name: paths
    paths: ["nodes/%{::hostname}.yaml", "roles/%{::role}.yaml"]
  - name: glob
    glob: "groups/*.yaml"
  - name: globs
    globs: ["extra/**/*.yaml", "none/*.yaml"]
  - name: mapped
    mapped_paths: [groups_fact, g, "mapped/%{g}.yaml"]
  - name: common
    path: common.yaml
"#;
    let (_d, h) = setup(&[
        ("hiera.yaml", cfg),
        ("data/nodes/h1.yaml", "k: node\n"),
        ("data/roles/.yaml", "k: empty-role\n"),
        ("data/groups/b.yaml", "k: gb\n"),
        ("data/groups/a.yaml", "k: ga\n"),
        ("data/groups/sub/c.yaml", "k: not-matched\n"),
        ("data/extra/x/y.yaml", "k: extra\n"),
        ("data/mapped/m1.yaml", "k: m1\n"),
        ("data/mapped/m2.yaml", "k: m2\n"),
        ("data/common.yaml", "k: common\n"),
    ]);
    let mut f = facts(&[("hostname", "h1")]);
    f.set_value(
        "groups_fact",
        Value::new(
            ValueKind::Seq(vec![
                Value::string("m1"),
                Value::string("m2"),
                Value::string("m3"),
            ]),
            Origin::default(),
        ),
    );
    let l = h.lookup("k", &f, Some(Merge::Unique));
    assert_eq!(
        value_of(&l),
        "['node', 'empty-role', 'ga', 'gb', 'extra', 'm1', 'm2', 'common']"
    );
    let paths: Vec<&str> = l.explain.iter().filter_map(|s| s.path.as_deref()).collect();
    assert_eq!(
        paths,
        [
            "data/nodes/h1.yaml",
            "data/roles/.yaml",
            "data/groups/a.yaml",
            "data/groups/b.yaml",
            "data/extra/x/y.yaml",
            "data/none/*.yaml",
            "data/mapped/m1.yaml",
            "data/mapped/m2.yaml",
            "data/mapped/m3.yaml",
            "data/common.yaml"
        ]
    );
    // The unknown fact is interpolated as '' and recorded.
    let role = &l.explain[1];
    assert!(
        role.detail
            .as_deref()
            .is_some_and(|d| d.contains("%{::role} not set")),
        "{role:?}"
    );
    assert_eq!(l.explain[5].outcome, StepOutcome::FileMissing);
    assert_eq!(l.explain[8].outcome, StepOutcome::FileMissing);
    // First found.
    assert_eq!(value_of(&h.lookup("k", &f, None)), "'node'");
    // Without the mapped fact the level yields nothing.
    let l = h.lookup("k", &facts(&[("hostname", "zz")]), Some(Merge::Unique));
    assert_eq!(
        value_of(&l),
        "['empty-role', 'ga', 'gb', 'extra', 'common']"
    );
}

#[test]
fn eyaml_values_stay_opaque() {
    let cfg = "version: 5\nhierarchy:\n  - name: secrets\n    lookup_key: eyaml_lookup_key\n    path: secrets.eyaml\n    options:\n      pkcs7_private_key: /etc/keys/private_key.pkcs7.pem\n  - name: common\n    path: common.yaml\n";
    let secret = "ENC[PKCS7,MIIBiQYJKoZIhvcNAQcDoIIBejCCAXYCAQAxggEhMIIBHQIBADAFMAACAQEw]";
    let data = format!("db_password: {secret}\nfolded: >\n  ENC[PKCS7,MIIBiQYJKoZIhvc\n  NAQcDoIIBejCCAXYCAQAx%{{x}}]\nplain: \"%{{::site}}\"\n");
    let (_d, h) = setup(&[
        ("hiera.yaml", cfg),
        ("data/secrets.eyaml", &data),
        ("data/common.yaml", "other: 1\n"),
    ]);
    let f = facts(&[("site", "eqiad")]);
    let l = h.lookup("db_password", &f, None);
    assert_eq!(l.value.as_ref().and_then(Value::as_str), Some(secret));
    assert!(l.notes.is_empty());
    let l = h.lookup("folded", &f, None);
    assert!(value_of(&l).contains("%{x}"), "not interpolated");
    assert!(l.notes.is_empty());
    assert_eq!(value_of(&h.lookup("plain", &f, None)), "'eqiad'");
}

#[test]
fn absolute_datadirs_and_skips() {
    let cfg = r#"version: 5
defaults:
  datadir: /etc/puppet/hieradata
  data_hash: yaml_data
hierarchy:
  - name: private
    datadir: /etc/puppet/private/hieradata
    path: common.yaml
  - name: env
    datadir: "/etc/puppet/code/environments/%{::environment}/hieradata"
    path: common.yaml
  - name: custom
    data_hash: custom::loader
    path: custom.yaml
  - name: unmapped function
    lookup_key: custom::other
    path: other.yaml
  - name: http
    data_hash: cloudlib::httpyaml
    uri: "https://enc.example/v1/%{::project}"
  - name: hocon
    data_hash: hocon_data
    path: x.conf
  - name: abs path
    path: /srv/extra/abs.yaml
  - name: common
    path: common.yaml
"#;
    let opts = HieraOptions {
        map_paths: vec![
            ("/etc/puppet/hieradata".into(), "repo/hieradata".into()),
            ("/srv/extra/".into(), "repo/extra".into()),
        ],
        functions: vec![("custom::loader".into(), Builtin::YamlData)],
        ..HieraOptions::default()
    };
    let (_d, h) = setup_with(
        &[
            ("hiera.yaml", cfg),
            ("repo/hieradata/common.yaml", "k: common\nonly_custom: no\n"),
            ("repo/hieradata/custom.yaml", "k: custom\n"),
            ("repo/extra/abs.yaml", "k: abs\n"),
        ],
        opts,
    );
    let msgs: Vec<&str> = h.notes().iter().map(|n| n.message.as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.contains(
            "'private' skipped: datadir /etc/puppet/private/hieradata is not in the repository"
        )),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains(
            "'unmapped function' skipped: lookup_key function 'custom::other' is not supported"
        )),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("'http' skipped: reads URIs")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("hocon_data is not supported")),
        "{msgs:?}"
    );
    let f = facts(&[("environment", "production")]);
    let l = h.lookup("k", &f, Some(Merge::Unique));
    assert_eq!(value_of(&l), "['custom', 'abs', 'common']");
    let outcomes: Vec<(&str, String)> = l
        .explain
        .iter()
        .map(|s| (s.level.as_str(), format!("{:?}", s.outcome)))
        .collect();
    assert!(
        outcomes[0]
            .1
            .starts_with("Skipped(\"datadir /etc/puppet/private"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[1].1.contains(
            "/etc/puppet/code/environments/production/hieradata is not in the repository"
        ),
        "{outcomes:?}"
    );
    // The dynamic skip is a lookup note.
    assert!(has_note(&l, "'env' skipped"));
    assert_eq!(
        outcomes[2],
        (
            "custom",
            "Found(Origin { path: \"repo/hieradata/custom.yaml\", line: 1, column: 1 })".into()
        )
    );
    assert!(outcomes[3].1.starts_with("Skipped(\"lookup_key function"));
    assert!(outcomes[4]
        .1
        .contains("reads URIs (https://enc.example/v1/%{::project})"));
    // YAML 1.1 booleans.
    assert_eq!(value_of(&h.lookup("only_custom", &f, None)), "false");
}

#[test]
fn expand_path_mapping_and_scan() {
    let cfg = "version: 5\nhierarchy:\n  - name: site\n    lookup_key: wmflib::expand_path\n    path: \"%{::site}\"\n  - name: common\n    lookup_key: wmflib::expand_path\n    path: common\n";
    let files = [
        ("hiera.yaml", cfg),
        (
            "data/eqiad.yaml",
            "cluster: eqiad-cluster\nlookup_options:\n  prof::m::list: {merge: unique}\n",
        ),
        ("data/eqiad/prof/m.yaml", "prof::m::list: [site]\n"),
        ("data/common.yaml", "cluster: common-cluster\n"),
        (
            "data/common/prof/m.yaml",
            "prof::m::list: [common]\nprof::m::x: 1\n",
        ),
        (
            "data/common/misplaced.yaml",
            "prof::other::key: found-by-scan\n",
        ),
        ("data/common/z/bad.yaml", "prof::z::k: [unclosed\n"),
        ("data/common/prof/z.yaml", "a: b\n  c: d\n"),
    ];
    // Scanning is a diagnostic, off by default (Puppet never reads the other files).
    let (_d, h) = setup_with(
        &files,
        HieraOptions {
            expand_path_scan: true,
            ..HieraOptions::default()
        },
    );
    let f = facts(&[("site", "eqiad")]);
    let l = h.lookup("cluster", &f, None);
    assert_eq!(value_of(&l), "'eqiad-cluster'");
    assert_eq!(l.explain[0].path.as_deref(), Some("data/eqiad.yaml"));
    let l = h.lookup("prof::m::list", &f, None);
    assert_eq!(l.merge, Merge::Unique);
    assert_eq!(value_of(&l), "['site', 'common']");
    assert_eq!(l.explain[0].path.as_deref(), Some("data/eqiad/prof/m.yaml"));
    assert_eq!(
        l.explain[1].path.as_deref(),
        Some("data/common/prof/m.yaml")
    );
    let l = h.lookup("prof::other::key", &f, None);
    assert_eq!(value_of(&l), "'found-by-scan'");
    assert!(
        has_note(
            &l,
            "wmflib::expand_path reads only data/common/prof/other.yaml"
        ),
        "{:?}",
        l.notes
    );
    let last = l.explain.last().expect("step");
    assert_eq!(last.path.as_deref(), Some("data/common/misplaced.yaml"));
    // Bad YAML in the mapped file: the lookup fails (as Puppet's), with the line.
    let l = h.lookup("prof::z::k", &f, None);
    assert!(l.value.is_none());
    assert_eq!(
        l.error.as_ref().map(|e| e.origin.path.as_str()),
        Some("data/common/prof/z.yaml")
    );
    assert!(
        l.notes
            .iter()
            .any(|n| n.origin.path == "data/common/prof/z.yaml" && n.origin.line == 2),
        "{:?}",
        l.notes
    );
    // Scanning met the other bad file too.
    assert!(
        l.notes
            .iter()
            .any(|n| n.origin.path == "data/common/z/bad.yaml"),
        "{:?}",
        l.notes
    );
    assert!(l
        .explain
        .iter()
        .any(|s| matches!(s.outcome, StepOutcome::Error(_))));
    // Default: no scan.
    let (_d2, h2) = setup(&files);
    assert!(h2.lookup("prof::other::key", &f, None).value.is_none());
}

#[test]
fn bad_data_and_bad_config() {
    let (_d, h) = setup(&[
            ("hiera.yaml", "version: 5\nhierarchy:\n  - name: a\n    path: a.yaml\n  - name: b\n    path: b.yaml\n  - name: c\n    path: c.yaml\n"),
            ("data/a.yaml", "k: [1,\n  2\nx: : :\n"),
            ("data/b.yaml", "- just\n- a list\n"),
            ("data/c.yaml", "k: c\n"),
        ]);
    // A data file that cannot be read fails the lookup (Puppet's does); no quiet fallback
    // to c.yaml.
    let l = h.lookup("k", &Facts::new(), None);
    assert_eq!(value_of(&l), "<none>");
    let e = l.error.as_ref().expect("the lookup fails");
    assert!(
        e.origin.path == "data/a.yaml" && e.origin.line >= 1 && e.message.contains("invalid YAML"),
        "{e:?}"
    );
    assert!(has_note(&l, "does not contain a YAML hash"));

    let dir = tempfile::tempdir().expect("tempdir");
    write_files(
        dir.path(),
        &[
            (
                "bad.yaml",
                "version: 5\nhierarchy:\n  - name: x\n    path: [a\n",
            ),
            ("v3.yaml", ":backends:\n  - yaml\n"),
            ("v4.yaml", "version: 4\n"),
            ("noname.yaml", "version: 5\nhierarchy:\n  - path: x.yaml\n"),
            (
                "badmapped.yaml",
                "version: 5\nhierarchy:\n  - name: m\n    mapped_paths: [a, b]\n",
            ),
        ],
    );
    let src: Arc<dyn FileSource> = Arc::new(DirSource::new(dir.path()));
    let e = Hiera::load(src.clone(), "bad.yaml", HieraOptions::default()).expect_err("bad");
    assert_eq!(e.path, "bad.yaml");
    assert!(e.line >= 4, "{e}");
    let e = Hiera::load(src.clone(), "v3.yaml", HieraOptions::default()).expect_err("v3");
    assert!(e.message.contains("only Hiera 5"), "{e}");
    let e = Hiera::load(src.clone(), "v4.yaml", HieraOptions::default()).expect_err("v4");
    assert_eq!((e.line, e.column), (1, 10));
    let e = Hiera::load(src.clone(), "noname.yaml", HieraOptions::default()).expect_err("noname");
    assert_eq!(e.line, 3);
    let e =
        Hiera::load(src.clone(), "badmapped.yaml", HieraOptions::default()).expect_err("mapped");
    assert!(e.message.contains("mapped_paths"));
    let e = Hiera::load(src, "missing.yaml", HieraOptions::default()).expect_err("missing");
    assert!(e.to_string().starts_with("missing.yaml:0:0: cannot read"));
}

#[test]
fn data_files_are_parsed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(
        dir.path(),
        &[
            ("hiera.yaml", MERGE_CFG),
            ("data/nodes/n1.yaml", NODE),
            ("data/common.yaml", COMMON),
        ],
    );
    let src = Arc::new(Counting {
        inner: DirSource::new(dir.path()),
        reads: AtomicUsize::new(0),
    });
    let h = Hiera::load(src.clone(), "hiera.yaml", HieraOptions::default()).expect("load");
    let f = facts(&[("hostname", "n1")]);
    for _ in 0..20 {
        let _ = h.lookup("deep", &f, None);
        let _ = h.lookup("arr", &f, None);
    }
    // hiera.yaml + two data files.
    assert_eq!(src.reads.load(Ordering::SeqCst), 3);
}

#[test]
fn deep_values_do_not_overflow_the_stack() {
    let depth = 190;
    let mut deep = String::new();
    for _ in 0..depth {
        deep.push('[');
    }
    deep.push_str("\"%{::site}\"");
    for _ in 0..depth {
        deep.push(']');
    }
    // An anchor chain that nests through aliases beyond the limit.
    let mut chain = String::from("c0: &c0 [x]\n");
    for i in 1..260 {
        chain.push_str(&format!("c{i}: &c{i} [*c{}]\n", i - 1));
    }
    let data = format!("deep: {deep}\nwrap: [\"%{{alias('deep')}}\"]\nwrap2: [[[[[[[[[[[[\"%{{alias('deep')}}\"]]]]]]]]]]]]\n{chain}");
    let (_d, h) = setup(&[("hiera.yaml", SIMPLE), ("data/common.yaml", &data)]);
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let f = facts(&[("site", "eqiad")]);
            let a = h.lookup("deep", &f, None);
            let b = h.lookup("wrap", &f, None);
            let c = h.lookup("wrap2", &f, None);
            let d = h.lookup("c259", &f, None);
            let e = h.lookup("c150", &f, None);
            let text = render_lookup("wrap", &b, true, &|_| None);
            (a, b, c, d, e, text.len())
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert!(value_of(&r.0).contains("'eqiad'"));
    assert!(value_of(&r.1).contains("'eqiad'"));
    assert!(has_note(&r.2, "deeper than"), "{:?}", r.2.notes);
    assert!(has_note(&r.3, "nested more than"), "{:?}", r.3.notes);
    assert!(r.4.value.is_some());
    assert!(r.5 > 0);
}

#[test]
fn worst_case_stack_use() {
    fn nest(depth: usize, inner: &str) -> String {
        format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
    }
    // 40 lookups nested through strings that sit 45 levels deep: MAX_NESTED_LOOKUPS stops
    // them, not the stack (interpolation walks values with a heap stack).
    let mut data = String::from("k0: end\n");
    for i in 1..40 {
        data.push_str(&format!(
            "k{i}: {}\n",
            nest(45, &format!("\"%{{lookup('k{}')}}\"", i - 1))
        ));
    }
    // Deep maps in two levels, merged every way.
    let mut lower = String::from("v");
    let mut higher = String::from("w");
    for i in 0..190 {
        lower = format!("{{a{}: {lower}, l: [x, {{q: 1}}]}}", i % 3);
        higher = format!("{{a{}: {higher}, l: [y]}}", i % 3);
    }
    let cfg = "version: 5\nhierarchy:\n  - name: hi\n    path: hi.yaml\n  - name: common\n    path: common.yaml\n";
    let (_d, h) = setup(&[
        ("hiera.yaml", cfg),
        ("data/common.yaml", &format!("{data}dm: {lower}\n")),
        ("data/hi.yaml", &format!("dm: {higher}\n")),
    ]);
    let out = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let f = Facts::new();
            let a = h.lookup("k39", &f, None);
            let mut sizes = Vec::new();
            for m in [Merge::Deep, Merge::Hash, Merge::Unique, Merge::First] {
                let l = h.lookup("dm", &f, Some(m));
                sizes.push(render_lookup("dm", &l, true, &|_| None).len());
            }
            let spec = MergeSpec {
                merge_hash_arrays: true,
                sort_merged_arrays: true,
                ..MergeSpec::from(Merge::Deep)
            };
            let l = h.lookup_spec("dm", &f, Some(spec));
            (a, sizes, l.value.is_some())
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert!(
        has_note(&out.0, "more than 32 nested lookups"),
        "{:?}",
        out.0.notes
    );
    assert!(out.1.iter().all(|&n| n > 0));
    assert!(out.2);
}

#[test]
fn hiera_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Hiera>();
    check::<Lookup>();
}

#[test]
fn hiera_function_in_keys_2019_labs() {
    let snap = Path::new(CORPUS)
        .join("history/2019-09-10-toolforge-k8s-etcd-ca/operations-puppet@e55af4a76788");
    if !snap.is_dir() {
        eprintln!("corpus missing; skipped");
        return;
    }
    let src: Arc<dyn FileSource> = Arc::new(Overlay {
            base: DirSource::new(&snap),
            extra: vec![(
                "hiera.yaml".into(),
                "version: 5\ndefaults:\n  datadir: hieradata\nhierarchy:\n  - name: labs\n    path: labs.yaml\n".into(),
            )],
        });
    let h = Hiera::load(src, "hiera.yaml", HieraOptions::default()).expect("load");
    let l = h.lookup("puppetmaster::servers", &Facts::new(), None);
    assert_eq!(
            value_of(&l),
            "{puppetmaster.cloudinfra.wmflabs.org: [{worker: 'puppetmaster.cloudinfra.wmflabs.org', loadfactor: 10}]}"
        );
    let ca = h.lookup(
        "profile::base::certificates::puppet_ca_content",
        &Facts::new(),
        None,
    );
    let pem = ca
        .value
        .as_ref()
        .and_then(|v| v.get("puppetmaster.cloudinfra.wmflabs.org"))
        .and_then(Value::as_str)
        .expect("pem");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
}

fn production() -> Option<Hiera> {
    let root = Path::new(CORPUS).join("operations-puppet");
    if !root.is_dir() {
        eprintln!("corpus missing; skipped");
        return None;
    }
    let opts = HieraOptions {
        map_paths: vec![("/etc/puppet/hieradata".into(), "hieradata".into())],
        ..HieraOptions::default()
    };
    Some(
        Hiera::load(
            Arc::new(DirSource::new(root)),
            "modules/puppetmaster/files/hiera/production.yaml",
            opts,
        )
        .expect("production.yaml loads"),
    )
}

fn deploy_facts() -> Facts {
    facts(&[
        ("site", "eqiad"),
        ("_role", "deployment_server/kubernetes"),
        ("hostname", "deploy1003"),
    ])
}

#[test]
fn wikimedia_deployment_server_general() {
    let Some(h) = production() else { return };
    let msgs: Vec<&str> = h.notes().iter().map(|n| n.message.as_str()).collect();
    assert!(msgs.iter().any(|m| m.contains("'private node' skipped")));
    assert!(msgs
        .iter()
        .any(|m| m.contains("'netbox node hierarchy' skipped")));
    // wmflib::regex_data is a built-in now: the level is read (regex.yaml is not public).
    assert!(!msgs.iter().any(|m| m.contains("'Regex lookup' skipped")));
    let f = deploy_facts();
    let key = "profile::kubernetes::deployment_server::general";
    let file = "hieradata/role/common/deployment_server/kubernetes.yaml";
    for merge in [None, Some(Merge::Deep)] {
        let l = h.lookup(key, &f, merge);
        let v = l.value.as_ref().expect("general resolves");
        assert_eq!(v.origin.path, file);
        let keys: Vec<&str> = v
            .as_map()
            .expect("map")
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "default",
                "eqiad",
                "codfw",
                "staging-eqiad",
                "staging-codfw",
                "ml-serve-eqiad",
                "ml-serve-codfw",
                "ml-staging-codfw",
                "dse-k8s-eqiad",
                "aux-k8s-eqiad"
            ]
        );
        // Anchors and `<<:` merge keys resolved as Psych does (merged keys where the `<<`
        // is); merged-in leaves point at the anchor.
        let cm = v
            .get_path(&["staging-codfw", "mesh", "certmanager"])
            .expect("cm");
        assert_eq!(
                flat(cm),
                "{enabled: true, domains: ['k8s-staging.discovery.wmnet'], extraFQDNs: ['staging.svc.codfw.wmnet']}"
            );
        let enabled = cm.get("enabled").expect("enabled");
        let anchor = v
            .get_path(&["staging-eqiad", "mesh", "certmanager", "enabled"])
            .expect("anchor");
        assert_eq!(enabled.origin, anchor.origin);
        let ml = v
            .get_path(&["ml-serve-eqiad", "mesh", "certmanager"])
            .expect("ml");
        assert_eq!(
            flat(ml),
            "{enabled: true, domains: ['discovery.wmnet', 'svc.eqiad.wmnet']}"
        );
        assert_eq!(
            v.get_path(&["default", "docker", "registry"])
                .and_then(Value::as_str),
            Some("docker-registry.discovery.wmnet")
        );
        // Explain names the files.
        let paths: Vec<&str> = l.explain.iter().filter_map(|s| s.path.as_deref()).collect();
        assert!(
            paths.contains(&"hieradata/hosts/deploy1003.yaml"),
            "{paths:?}"
        );
        assert!(paths.contains(&"hieradata/role/eqiad/deployment_server/kubernetes.yaml"));
        assert!(paths.contains(&file));
        let found: Vec<&Step> = l
            .explain
            .iter()
            .filter(|s| matches!(s.outcome, StepOutcome::Found(_)))
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].level, "role");
        if merge.is_some() {
            // Deep merge goes on through the expand_path levels.
            assert!(
                paths.contains(&"hieradata/common/profile/kubernetes/deployment_server.yaml"),
                "{paths:?}"
            );
            assert!(l.explain.iter().any(
                |s| s.level == "private common" && matches!(s.outcome, StepOutcome::Skipped(_))
            ));
        } else {
            assert_eq!(l.merge, Merge::First);
            assert_eq!(l.explain.last().map(|s| s.level.as_str()), Some("role"));
        }
        assert!(l.notes.is_empty(), "{:?}", l.notes);
    }
}

#[test]
fn wikimedia_expand_path_files() {
    let Some(h) = production() else { return };
    let f = deploy_facts();
    let cases = [
        (
            "profile::base::certificates::puppet_ca_content",
            "hieradata/common/profile/base/certificates.yaml",
        ),
        ("kubernetes::clusters", "hieradata/common/kubernetes.yaml"),
        ("service::catalog", "hieradata/common/service.yaml"),
        (
            "profile::pki::client::mutual_tls_client_cert",
            "hieradata/common/profile/pki/client.yaml",
        ),
    ];
    for (key, file) in cases {
        let l = h.lookup(key, &f, None);
        let v = l.value.as_ref().unwrap_or_else(|| panic!("{key} resolves"));
        let step = l.explain.last().expect("step");
        assert_eq!(step.path.as_deref(), Some(file), "{key}");
        assert_eq!(step.level, "common");
        assert_eq!(v.origin.path, file);
        assert!(
            step.detail.is_none(),
            "{key}: found where expand_path looks"
        );
    }
    let ca = h.lookup("profile::base::certificates::puppet_ca_content", &f, None);
    assert_eq!(value_of(&ca), "{}");
    // %{facts...} interpolation with an unset fact: '' plus a note.
    let l = h.lookup("profile::pki::client::mutual_tls_client_cert", &f, None);
    assert_eq!(value_of(&l), "''");
    assert!(has_note(
        &l,
        "%{facts.puppet_config.hostcert}: variable not set"
    ));
    let mut f2 = deploy_facts();
    f2.set(
        "puppet_config.hostcert",
        "/var/lib/puppet/ssl/certs/deploy1003.pem",
    );
    let l = h.lookup("profile::pki::client::mutual_tls_client_cert", &f2, None);
    assert_eq!(value_of(&l), "'/var/lib/puppet/ssl/certs/deploy1003.pem'");
    // %{::site} inside service::catalog.
    let cat = h.lookup("service::catalog", &f, None);
    let text = render_lookup("service::catalog", &cat, false, &|_| None);
    assert!(text.contains("prometheus-eqiad.wikimedia.org"));
    assert!(!text.contains("%{::site}"));
    // kubernetes::clusters: anchors + merge keys, deep structure.
    let k = h
        .lookup("kubernetes::clusters", &f, None)
        .value
        .expect("clusters");
    assert!(k.as_map().is_some_and(|m| !m.is_empty()));
    // Site-level role file, alias from another key.
    let l = h.lookup("profile::pki::multirootca::prometheus_nodes", &f, None);
    assert!(has_note(&l, "alias('prometheus_nodes')"), "{:?}", l.notes);
}

#[test]
fn wikimedia_cloud_hierarchy() {
    let root = Path::new(CORPUS).join("operations-puppet");
    if !root.is_dir() {
        return;
    }
    let opts = HieraOptions {
        map_paths: vec![(
            "/etc/puppet/code/environments/production/hieradata".into(),
            "hieradata".into(),
        )],
        ..HieraOptions::default()
    };
    let h = Hiera::load(
        Arc::new(DirSource::new(root)),
        "modules/profile/files/puppetserver/hiera/wmcs-eqiad1.yaml",
        opts,
    )
    .expect("loads");
    assert!(h
        .notes()
        .iter()
        .any(|n| n.message.contains("'Http Yaml' skipped: reads URIs")));
    let f = facts(&[
        ("environment", "production"),
        ("wmcs_project", "tools"),
        ("wmcs_deployment", "eqiad1"),
    ]);
    let l = h.lookup("profile::puppetserver::hiera_data_dir", &f, None);
    assert_eq!(
        value_of(&l),
        "'/srv/puppet_code/environments/%{::environment}/hieradata'"
    );
    assert!(matches!(&l.explain[0].outcome, StepOutcome::Skipped(r) if r.contains("HTTP ENC")));
    let l = h.lookup("lookup_options", &f, None);
    assert_eq!(value_of(&l), "{classes: {merge: 'unique'}}");
    let l = h.lookup("puppet_ca_server", &f, None);
    assert_eq!(value_of(&l), "''");
    assert!(l
        .explain
        .iter()
        .any(|s| s.path.as_deref() == Some("hieradata/cloud.yaml")));
}

/// What `puppet lookup` has without being told: `$trusted` from the
/// `clientcert` fact and `$environment` = production; a `trusted` or
/// `environment` given wins, and `facts.x` reads only what was given.
#[test]
fn variables_puppet_sets_itself() {
    let mut f = Facts::new();
    assert_eq!(f.get("environment").as_deref(), Some("production"));
    assert_eq!(f.get("::environment").as_deref(), Some("production"));
    assert_eq!(f.get("facts.environment"), None);
    assert_eq!(f.given("environment"), None);
    assert_eq!(f.get("trusted.authenticated").as_deref(), Some("local"));
    assert_eq!(f.get("trusted.certname"), None);
    f.set("clientcert", "web1.eqiad.example.org");
    assert_eq!(
        f.get("trusted.certname").as_deref(),
        Some("web1.eqiad.example.org")
    );
    assert_eq!(f.get("trusted.hostname").as_deref(), Some("web1"));
    assert_eq!(
        f.get("trusted.domain").as_deref(),
        Some("eqiad.example.org")
    );
    assert_eq!(f.get("trusted.extensions").as_deref(), Some("{}"));
    f.set("trusted.certname", "given.example");
    assert_eq!(f.get("trusted.certname").as_deref(), Some("given.example"));
    assert_eq!(f.get("trusted.hostname"), None);
    f.set("environment", "staging");
    assert_eq!(f.get("environment").as_deref(), Some("staging"));
    assert!(f.given("environment").is_some());
}

#[test]
fn facts_and_scalars() {
    let s = yaml::parse(
            "name: host1\nvalues:\n  networking: {fqdn: h.example, ip: 10.0.0.1}\n  is_virtual: true\n  trusted: {certname: h.cert}\n  list: [a, b]\n",
            &yaml::Limits::default(),
        );
    let doc = s.docs.first().expect("doc");
    let v = from_yaml(doc, doc.root().expect("root"), "facts.yaml").expect("value");
    let f = Facts::from_value(&v);
    assert_eq!(f.get("networking.fqdn").as_deref(), Some("h.example"));
    assert_eq!(f.get("::networking.ip").as_deref(), Some("10.0.0.1"));
    assert_eq!(f.get("facts.is_virtual").as_deref(), Some("true"));
    assert_eq!(f.get("trusted.certname").as_deref(), Some("h.cert"));
    assert_eq!(f.get("list").as_deref(), Some("[\"a\", \"b\"]"));
    assert_eq!(f.get("list.1").as_deref(), Some("b"));
    assert_eq!(f.get("nope"), None);
    let mut f = Facts::new();
    f.set("a", "scalar");
    f.set("a.b", "nested");
    assert_eq!(f.get("a.b").as_deref(), Some("nested"));

    let s = yaml::parse(
            "a: yes\nb: Off\nc: 0x1F\nd: 1.5e3\ne: '1'\nf: ~\ng: 1.23.4\nh: !!str 12\ni: .inf\nj: 0\nk: -7\nl: NULL\nm: \"true\"\n",
            &yaml::Limits::default(),
        );
    let doc = s.docs.first().expect("doc");
    let v = from_yaml(doc, doc.root().expect("root"), "t.yaml").expect("value");
    assert_eq!(
            flat(&v),
            // As Psych reads them: numbers as Ruby prints them, no float without a `.` and a
            // signed exponent.
            "{a: true, b: false, c: 31, d: '1.5e3', e: '1', f: ~, g: '1.23.4', h: '12', i: Infinity, j: 0, k: -7, l: ~, m: 'true'}"
        );
    let truthy: Vec<bool> = ["a", "b", "c", "j", "k", "m", "e"]
        .iter()
        .map(|k| v.get(k).is_some_and(Value::is_truthy))
        .collect();
    assert_eq!(truthy, [true, false, true, false, true, true, false]);
    assert_eq!(
        v.get("c").map(|c| c.origin.clone()),
        Some(Origin::new("t.yaml", 3, 4))
    );
}

#[test]
fn hostile_inputs_do_not_panic() {
    let inputs = [
        "%{",
        "%{}",
        "%{lookup(}",
        "%{lookup('')}",
        "%{lookup(\"a'b\")}",
        "%{::}",
        "%{facts..x}",
        "%{'unterminated}",
        "%{alias('x')}%{alias('x')}",
        "%%{literal('%')}{{{",
        "é%{::sité}",
    ];
    let mut data = String::from("x: [1]\n");
    for (i, s) in inputs.iter().enumerate() {
        data.push_str(&format!("k{i}: {}\n", yaml_scalar(s)));
    }
    data.push_str("\"%{lookup('x')}\": 1\n");
    let cfg = "version: 5\nhierarchy:\n  - name: a\n    paths: [\"../../%{::x}\", \"%{lookup('a')}.yaml\", \"/abs\"]\n  - name: g\n    glob: \"[\"\n  - name: c\n    path: common.yaml\n";
    let (_d, h) = setup(&[("hiera.yaml", cfg), ("data/common.yaml", &data)]);
    let f = facts(&[("x", "../../../etc/passwd")]);
    for i in 0..inputs.len() {
        let l = h.lookup(&format!("k{i}"), &f, None);
        let _ = render_lookup("k", &l, true, &|_| None);
    }
    for key in ["", ".", "a..b", "'x", "x.99", "lookup_options.nope", "k0.x"] {
        let l = h.lookup(key, &f, Some(Merge::Deep));
        let _ = render_lookup(key, &l, true, &|_| None);
    }
    assert!(h.notes().is_empty() || !h.notes().is_empty());
}
