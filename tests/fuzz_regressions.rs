//! Replays every committed fuzz input through the same function the fuzz
//! target runs (`certdrift::fuzzing`): the seed corpus `fuzz/corpus/<target>/`
//! and the saved crashes, hangs and blow-ups `fuzz/regressions/<target>/`
//! (each named after the bug it reproduces; see `fuzz/README.md`). Runs on
//! stable in `cargo test`, so a fixed bug stays fixed without a nightly
//! toolchain.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use certdrift::fuzzing::{Target, TARGETS};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Runs `target` over every file in `dirs`; returns the failures.
fn replay(name: &str, target: Target, dirs: &[PathBuf]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut n = 0;
    for dir in dirs {
        for path in inputs(dir) {
            let data = std::fs::read(&path).expect("read fuzz input");
            n += 1;
            let started = Instant::now();
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| target(&data)));
            let took = started.elapsed();
            if outcome.is_err() {
                failures.push(format!("{name}: {} panicked", path.display()));
            } else if took > Duration::from_secs(20) {
                // libFuzzer runs with -timeout=10 on an optimised build; a
                // debug build is slower, but not by this much.
                failures.push(format!("{name}: {} took {took:?}", path.display()));
            }
        }
    }
    (n, failures)
}

#[test]
fn every_corpus_and_regression_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let corpus = root.join("corpus").join(name);
        let regressions = root.join("regressions").join(name);
        let (n, f) = replay(name, *target, &[corpus.clone(), regressions]);
        assert!(
            !inputs(&corpus).is_empty(),
            "fuzz target {name} has no seed corpus in {}",
            corpus.display()
        );
        eprintln!("fuzz target {name}: {n} inputs replayed");
        failures.extend(f);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fuzz_target_has_a_binary() {
    // A target listed in `certdrift::fuzzing::TARGETS` without a cargo-fuzz
    // binary would never be fuzzed (and CI would not notice).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in TARGETS {
        let file = root.join("fuzz_targets").join(format!("{name}.rs"));
        let body = std::fs::read_to_string(&file).expect("fuzz target source");
        assert!(
            body.contains(&format!("certdrift::fuzzing::{name}(")),
            "{} does not call certdrift::fuzzing::{name}",
            file.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}
