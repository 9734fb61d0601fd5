//! Helpers shared by the integration tests: run the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// The pinned evaluation time of every fixture.
pub const NOW: &str = "2026-11-01T00:00:00Z";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository, if present.
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("CERTDRIFT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    p.join("DESIGN.md").exists().then_some(p)
}

/// A state of the CA rotation fixture, as an absolute path.
pub fn rotation(state: &str) -> String {
    repo()
        .join("testdata/rotation")
        .join(state)
        .to_string_lossy()
        .into_owned()
}

/// Copies a directory tree (fixtures to a temporary directory).
pub fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Runs certdrift with `args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[])
}

/// The `CERTDRIFT_*` variables certdrift reads; tests start without them.
pub const ENV_VARS: &[&str] = &[
    "CERTDRIFT_CONFIG",
    "CERTDRIFT_FAIL_ON",
    "CERTDRIFT_FORMAT",
    "CERTDRIFT_NOW",
    "CERTDRIFT_WARN_DAYS",
];

/// Runs certdrift with `args` in `dir`, with `env` set and no other
/// `CERTDRIFT_*` variable from the caller's environment.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("certdrift").unwrap();
    for v in ENV_VARS {
        cmd.env_remove(v);
    }
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary directory that is the top of a repository (it holds `.git`),
/// so that no `.certdrift.yaml` above it is found.
pub fn repo_dir() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join(".git")).unwrap();
    t
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stdout: {}; stderr: {}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Rule ids of a JSON report's findings.
pub fn rules_of(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

/// Generates a corpus with `../shared/tools/gen-corpus.py` into a temp dir and
/// returns (dir guard, tree path, EXPECTED.json); `None` without `../shared`.
pub fn gen_corpus(
    clusters: u32,
    releases: u32,
    filler_mb: u32,
) -> Option<(tempfile::TempDir, PathBuf, serde_json::Value)> {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared not found");
        return None;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    let gen = std::process::Command::new("python3")
        .arg(shared.join("tools/gen-corpus.py"))
        .arg("--out")
        .arg(&t)
        .args([
            "--clusters",
            &clusters.to_string(),
            "--releases",
            &releases.to_string(),
        ])
        .args(["--filler-mb", &filler_mb.to_string()])
        .output()
        .unwrap();
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let expected_path = t.join("EXPECTED.json");
    let expected = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    // EXPECTED.json is the answer key, not part of the scanned tree.
    std::fs::remove_file(expected_path).unwrap();
    Some((tmp, t, expected))
}

/// Runs git in `dir` with a fixed identity and no signing; panics with
/// git's error when it fails. Returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=certdrift",
            "-c",
            "user.email=certdrift@example.org",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "core.symlinks=true"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Every place of a finding in a JSON report: where it is reported, then
/// the other places of the same certificate or key (related places whose
/// note starts "the same "), as `location` objects.
pub fn places_of(f: &serde_json::Value) -> Vec<&serde_json::Value> {
    let same = f["related"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|r| r["note"].as_str().unwrap_or("").starts_with("the same "))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    std::iter::once(&f["location"]).chain(same).collect()
}
