//! Output on a shared CI runner: `--output` and `--write-baseline` never
//! write through a symbolic link and replace their file whole; a report
//! that cannot be written (closed or full standard output) fails the run.

mod common;
use common::*;
use std::process::Command;

fn demo() -> String {
    repo().join("testdata/demo").to_string_lossy().into_owned()
}

#[test]
fn outputs_refuse_links_and_replace_whole() {
    let dir = repo_dir();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    for (flag, name) in [
        ("--output", "json=link.json"),
        ("--write-baseline", "link.json"),
    ] {
        let link = dir.path().join("link.json");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let out = run(dir.path(), &["scan", "--now", NOW, &demo(), flag, name]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }

    // An existing report is replaced by a complete one, and nothing else
    // is left in the directory.
    let target = dir.path().join("report.json");
    std::fs::write(&target, "old").unwrap();
    let out = run(
        dir.path(),
        &[
            "scan",
            "--now",
            NOW,
            &demo(),
            "--output",
            "json=report.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert!(!written["findings"].as_array().unwrap().is_empty());
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".git", "link.json", "report.json", "victim"]);
}

#[test]
fn a_report_that_goes_nowhere_fails() {
    let bin = assert_cmd::cargo::cargo_bin("certdrift");
    let sh = |redirect: &str, cmd: &str| {
        Command::new("bash")
            .arg("-c")
            .arg(format!("exec \"$0\" {cmd} --now {NOW} \"$1\" {redirect}"))
            .arg(&bin)
            .arg(demo())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    for cmd in ["inventory", "graph", "scan --fail-on never"] {
        let closed = sh(">&-", cmd);
        assert_eq!(
            closed.status.code(),
            Some(2),
            "{cmd} >&-: {}",
            stderr(&closed)
        );
        assert!(stderr(&closed).contains("standard output is closed"));
        let full = sh(">/dev/full", cmd);
        assert_eq!(full.status.code(), Some(2), "{cmd} >/dev/full");
        // Discarding the report on purpose is the user's choice.
        let null = sh(">/dev/null", cmd);
        assert_eq!(
            null.status.code(),
            Some(0),
            "{cmd} >/dev/null: {}",
            stderr(&null)
        );
    }
}

/// A baseline as large as `--write-baseline` writes for 50,000 findings
/// (11 MB) is read back.
#[test]
fn a_large_baseline_is_read_back() {
    let dir = repo_dir();
    let entries: Vec<serde_json::Value> = (0..50_000)
        .map(|i| {
            serde_json::json!({
                "rule": "expired",
                "component": null,
                "certificates": [format!("sha256:{i:064x}")],
                "path": format!("certs/c{i:05}.pem"),
                "count": 1,
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({"version": 1, "entries": entries}))
        .unwrap();
    assert!(text.len() > 10_000_000);
    std::fs::write(dir.path().join("baseline.json"), text).unwrap();
    let out = run(
        dir.path(),
        &[
            "scan",
            "--now",
            NOW,
            &demo(),
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    // Every entry was read (all stale here); the report shows a thousand
    // and says how many more there are.
    let stale: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "stale-baseline")
        .collect();
    assert_eq!(stale.len(), 1_000);
    assert!(stale.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("49001 more stale-baseline findings")));
}
