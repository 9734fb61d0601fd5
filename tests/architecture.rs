//! The pipeline is the folder layout, and it has no import cycles: each
//! top-level module of the library uses only modules before it in
//! [`LAYERS`]. Read from the source text (`crate::module` paths outside
//! comments and test code), so a new dependency that points back up the
//! pipeline fails here, with the file that makes it.

use std::collections::BTreeMap;
use std::path::Path;

/// The library's top-level modules, lowest first: a module may use the
/// ones before it, never one after it. Stages in pipeline order, with the
/// shared pieces (certificates, findings, settings) where they are first
/// needed.
const LAYERS: &[&str] = &[
    "memo",      // a bounded cache
    "x509",      // certificates: parse, name, compare
    "finding",   // what a rule reports
    "verify",    // chain verification (webpki and a Go-like fallback)
    "read",      // bytes to text, YAML events, PEM, git objects
    "discover",  // stage 1: which files
    "policy",    // what flags and components mean
    "extract",   // stage 2: facts per file (Kubernetes, values, Hiera)
    "config",    // `.certdrift.yaml` settings
    "gate",      // the gate's own configuration in a diff
    "inventory", // stage 3-4: the model, the trust graph, two compared
    "rules",     // stage 5: judgements, in scan, diff and probe
    "suppress",  // stage 6: policy, inline comments, baselines
    "scan",      // the pipeline end to end
    "diff",      // two scans compared
    "probe",     // live endpoints against a scan
    "report",    // stage 7: every output format
];

/// Not part of the layering: the crate root, and the fuzzing harness that
/// drives every stage.
const OUTSIDE: &[&str] = &["lib", "fuzzing"];

/// Every `crate::name` a file's code (not its comments or tests) names.
fn uses(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
            rest = tail;
        }
    }
    out
}

/// (module, file) → the modules it uses, for every library file.
fn edges() -> BTreeMap<(String, String), Vec<String>> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<(String, String), Vec<String>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, src, out);
                continue;
            }
            let rel = p
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            // The binary (`main.rs`, `cli/`) is not part of the library;
            // `tests.rs` files are test modules.
            if !rel.ends_with(".rs")
                || rel == "main.rs"
                || rel.starts_with("cli/")
                || rel.ends_with("/tests.rs")
            {
                continue;
            }
            let module = rel
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            out.insert((module, rel), uses(&text));
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&src, &src, &mut out);
    out
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    for ((module, file), used) in edges() {
        if OUTSIDE.contains(&module.as_str()) {
            continue;
        }
        let Some(mine) = rank(&module) else {
            wrong.push(format!("src/{file}: module `{module}` is not in LAYERS"));
            continue;
        };
        for u in used {
            if u == module {
                continue;
            }
            match rank(&u) {
                Some(theirs) if theirs < mine => {}
                Some(_) => wrong.push(format!(
                    "src/{file}: `{module}` uses `crate::{u}`, which comes after it"
                )),
                None => wrong.push(format!(
                    "src/{file}: `crate::{u}` is not a module in LAYERS"
                )),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The checker itself: it sees a use that points back up, and not one in a
/// comment or a test.
#[test]
fn the_reader_sees_code_not_comments_or_tests() {
    let text = "use crate::x509::CertInfo;\n// crate::report is mentioned here\nfn f() { crate::finding::sort(); } // crate::scan\n#[cfg(test)]\nmod tests { use crate::report; }\n";
    assert_eq!(uses(text), ["x509", "finding"]);
}
