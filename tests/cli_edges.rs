//! The command line's rough edges of issue 17, one regression test each:
//! help wording, the progress count, why nothing was scanned, repeated
//! causes, where a bad `--now` came from, `rules` columns, "did you mean",
//! `--exclude ./…`.

mod common;

use common::{repo, run, run_env, stderr, stdout, NOW};
use std::path::Path;

/// One certificate (not parseable, but a file certdrift scans) and
/// `filler` text files it reads and skips by content.
fn tree(filler: usize) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("x")).unwrap();
    std::fs::write(
        d.path().join("x/ca.crt"),
        "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    for i in 0..filler {
        std::fs::write(d.path().join(format!("notes{i}.txt")), "nothing here\n").unwrap();
    }
    d
}

/// In `diff`, PATHS are prefixes inside both sides, not scan roots.
#[test]
fn diff_help_says_what_paths_are() {
    let o = run(&repo(), &["diff", "--help"]);
    let help = stdout(&o);
    assert!(
        help.contains("Path prefixes inside both BASE and HEAD"),
        "{help}"
    );
    assert!(!help.contains("Directories or files to scan"), "{help}");
    let o = run(&repo(), &["scan", "--help"]);
    assert!(stdout(&o).contains("Directories or files to scan"));
}

/// The progress line counted files walked (17,817) where the summary
/// counted files scanned (803).
#[test]
fn progress_counts_scanned_files() {
    let d = tree(30);
    let o = run(
        d.path(),
        &[
            "scan",
            "--now",
            NOW,
            "--progress",
            "--fail-on",
            "never",
            ".",
        ],
    );
    let err = stderr(&o);
    let last = err.lines().rfind(|l| l.starts_with("scanned ")).unwrap();
    assert!(last.starts_with("scanned 1 files ("), "{err}");
    assert!(stdout(&o).contains("1 file scanned"), "{}", stdout(&o));
}

/// A --max-file-size too small for every file said only "no files were
/// scanned".
#[test]
fn nothing_scanned_says_the_size_limit() {
    let d = tree(2);
    let o = run(d.path(), &["scan", "--max-file-size", "1", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("3 files were skipped as larger than --max-file-size 1"),
        "{}",
        stderr(&o)
    );
    // No such hint when the tree is just empty.
    let empty = tempfile::tempdir().unwrap();
    let o = run(empty.path(), &["scan", "."]);
    assert!(!stderr(&o).contains("--max-file-size"), "{}", stderr(&o));
}

/// `cannot read root /x: No such file or directory (os error 2): No such
/// file or directory (os error 2)`; and the time crate's error, which also
/// prints its source.
#[test]
fn causes_are_printed_once() {
    let missing = repo().join("testdata/no-such-root");
    let o = run(&repo(), &["scan", &missing.to_string_lossy()]);
    let err = stderr(&o);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    let o = run(&repo(), &["scan", "--now", "2026-13-01", "testdata/demo"]);
    let err = stderr(&o);
    let first = err.lines().next().unwrap();
    let parts: Vec<&str> = first.split(": ").collect();
    for w in parts.windows(2) {
        assert_ne!(w[0], w[1], "{err}");
    }
}

/// A bad CERTDRIFT_NOW was reported as if `--now` had been typed.
#[test]
fn bad_now_names_its_origin() {
    let demo = repo().join("testdata/demo");
    let o = run_env(&demo, &["scan", "."], &[("CERTDRIFT_NOW", "yesterday")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("certdrift: error: CERTDRIFT_NOW \"yesterday\" is not"),
        "{}",
        stderr(&o)
    );
    let o = run(&demo, &["scan", "--now", "yesterday", "."]);
    assert!(
        stderr(&o).starts_with("certdrift: error: --now \"yesterday\" is not"),
        "{}",
        stderr(&o)
    );
    // The flag wins over the variable, and its error names the flag.
    let o = run_env(
        &demo,
        &["scan", "--now=soon", "."],
        &[("CERTDRIFT_NOW", NOW)],
    );
    assert!(stderr(&o).contains("--now \"soon\""), "{}", stderr(&o));
}

/// `certdrift rules`: the severity and summary columns start at the same
/// place on every line, however long the ids.
#[test]
fn rules_columns_align() {
    let o = run(&repo(), &["rules"]);
    let text = stdout(&o);
    let starts = |l: &str| {
        // The column after each run of two or more spaces.
        let mut at = Vec::new();
        let b = l.as_bytes();
        for i in 2..b.len() {
            if b[i] != b' ' && b[i - 1] == b' ' && b[i - 2] == b' ' {
                at.push(i);
            }
        }
        at[..2].to_vec()
    };
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 10, "{text}");
    let first = starts(lines[0]);
    for l in &lines {
        assert_eq!(starts(l), first, "{l:?}\n{text}");
    }
}

#[test]
fn unknown_rule_ids_and_keys_get_a_suggestion() {
    let o = run(&repo(), &["explain", "expird"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean \"expired\"?"),
        "{}",
        stderr(&o)
    );
    let d = tree(0);
    let policy = |text: &str| {
        std::fs::write(d.path().join("p.yaml"), text).unwrap();
        let o = run(d.path(), &["scan", "--policy", "p.yaml", "--now", NOW, "."]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        stderr(&o)
    };
    let err = policy("severity:\n  expires_soon: error\n");
    assert!(
        err.contains("p.yaml:2:3: unknown rule \"expires_soon\""),
        "{err}"
    );
    assert!(err.contains("did you mean \"expires-soon\"?"), "{err}");
    let err = policy("exceptions:\n  - {rule: weak-crypt, reason: legacy}\n");
    assert!(err.contains("did you mean \"weak-crypto\"?"), "{err}");
    let err = policy("severty:\n  expired: note\n");
    assert!(err.contains("did you mean \"severity\"?"), "{err}");
    let err = policy("exceptions:\n  - {rule: expired, reson: legacy}\n");
    assert!(err.contains("did you mean \"reason\"?"), "{err}");
    // Nothing near: no guess.
    let err = policy("severity:\n  zzz: error\n");
    assert!(!err.contains("did you mean"), "{err}");
}

/// `--exclude './x/**'` matched nothing: paths are matched without `./`.
#[test]
fn exclude_with_leading_dot_slash() {
    let d = tree(0);
    let scanned = |args: &[&str]| {
        let mut all = vec!["scan", "--now", NOW, "--allow-empty", "--fail-on", "never"];
        all.extend(args);
        all.push(".");
        let o = run(d.path(), &all);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .rfind(|l| l.contains(" scanned, "))
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(scanned(&[]), "1");
    assert_eq!(scanned(&["--exclude", "./x/**"]), "0");
    assert_eq!(scanned(&["--exclude", "./x"]), "0");
    assert_eq!(scanned(&["--exclude", "x/**"]), "0");
    let o = run(Path::new("."), &["scan", "--help"]);
    assert!(stdout(&o).contains("a leading `./` ignored"));
}

/// Without `--now` the evaluation time is the clock: an expired
/// certificate is "N days ago", not "before --now" (which was not given).
#[test]
fn age_is_told_against_the_clock_without_now() {
    let dir = repo().join("testdata/expired/fail");
    let text = stdout(&run(&dir, &["scan", "."]));
    assert!(text.contains(" days ago"), "{text}");
    assert!(!text.contains("before --now"), "{text}");
    let text = stdout(&run(&dir, &["scan", "--now", NOW, "."]));
    assert!(text.contains(" days before --now"), "{text}");
}
