//! A broken run never reads as a pass: the exit-code matrix, a panic in a
//! worker, the JSON report's closing `complete` flag, output independent of
//! threads, file creation order, `TZ` and `LANG`, and no network access
//! from `scan` or `diff`.

mod common;

use common::{json, repo, run, run_env, stderr, stdout};
use std::path::Path;

const NOW: &str = "2026-11-01T00:00:00Z";

fn code(args: &[&str]) -> Option<i32> {
    run(&repo(), args).status.code()
}

#[test]
fn exit_codes_follow_the_matrix() {
    // Clean: 0. Findings at or above --fail-on: 1.
    assert_eq!(
        code(&["scan", "testdata/expired/pass", "--now", NOW]),
        Some(0)
    );
    assert_eq!(
        code(&["scan", "testdata/expired/fail", "--now", NOW]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "scan",
            "testdata/expired/fail",
            "--now",
            NOW,
            "--fail-on",
            "never"
        ]),
        Some(0)
    );
    // Usage and input errors: 2.
    assert_eq!(code(&["scan", "--no-such-flag"]), Some(2));
    assert_eq!(
        code(&["scan", "testdata/expired/fail", "--fail-on", "sometimes"]),
        Some(2)
    );
    assert_eq!(code(&["scan", "/nonexistent/certdrift-root"]), Some(2));
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(code(&["scan", empty.path().to_str().unwrap()]), Some(2));
    let policy = empty.path().join("policy.yaml");
    std::fs::write(&policy, "roles: [not, a, mapping]\n").unwrap();
    assert_eq!(
        code(&[
            "scan",
            "testdata/expired/pass",
            "--policy",
            policy.to_str().unwrap()
        ]),
        Some(2)
    );
}

#[test]
fn a_panic_in_a_worker_is_an_error_not_a_pass() {
    for format in ["json", "text", "sarif"] {
        let out = run_env(
            &repo(),
            &[
                "scan",
                "testdata/expired/pass",
                "--now",
                NOW,
                "--format",
                format,
            ],
            &[("CERTDRIFT_TEST_PANIC_ON", "server.crt")],
        );
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        assert!(stderr(&out).contains("internal error"), "{}", stderr(&out));
        // Nothing on stdout that a CI step could take for a report.
        assert!(out.stdout.is_empty(), "{format}: {}", stdout(&out));
    }
    // Without the fault the same scan passes: the hook is what failed it.
    assert_eq!(
        code(&["scan", "testdata/expired/pass", "--now", NOW]),
        Some(0)
    );
}

#[test]
fn json_report_ends_with_complete_so_a_cut_report_cannot_pass() {
    let out = run(
        &repo(),
        &[
            "scan",
            "testdata/expired/pass",
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    let text = stdout(&out);
    let report = json(&out);
    let keys: Vec<&String> = report.as_object().unwrap().keys().collect();
    assert_eq!(keys.last().map(|k| k.as_str()), Some("complete"));
    assert_eq!(report["complete"], true);
    assert!(text.trim_end().ends_with("\"complete\": true\n}"), "{text}");
    // Any cut leaves invalid JSON (and no `complete: true`).
    let trimmed = text.trim_end();
    for cut in (1..trimmed.len()).step_by(7) {
        assert!(
            serde_json::from_str::<serde_json::Value>(&trimmed[..cut]).is_err(),
            "a report cut at byte {cut} still parses"
        );
    }
}

/// Writes the files of `from` into `to`, in `order` (a permutation of the
/// sorted file list), so directory entries come back in another order.
fn copy_in_order(from: &Path, to: &Path, reverse: bool) {
    let mut files: Vec<_> = walk(from);
    files.sort();
    if reverse {
        files.reverse();
    }
    for rel in files {
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&rel)).unwrap() {
            let e = e.unwrap();
            let r = rel.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                stack.push(r);
            } else if e.file_type().unwrap().is_file() {
                out.push(r);
            }
        }
    }
    out
}

#[test]
fn output_does_not_depend_on_creation_order_threads_tz_or_lang() {
    let src = repo().join("testdata");
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    copy_in_order(&src, a.path(), false);
    copy_in_order(&src, b.path(), true);
    for format in ["json", "text", "sarif", "markdown"] {
        let args = ["scan", ".", "--now", NOW, "--format", format];
        let base = run_env(a.path(), &args, &[("TZ", "UTC"), ("LANG", "C")]);
        assert!(
            matches!(base.status.code(), Some(0 | 1)),
            "{}",
            stderr(&base)
        );
        for (dir, threads, tz, lang) in [
            (b.path(), "1", "Asia/Kolkata", "tr_TR.UTF-8"),
            (b.path(), "4", "America/St_Johns", "de_DE.UTF-8"),
            (a.path(), "3", "Pacific/Chatham", "ja_JP.eucJP"),
        ] {
            let mut with_threads = args.to_vec();
            with_threads.extend(["--threads", threads]);
            let out = run_env(
                dir,
                &with_threads,
                &[("TZ", tz), ("LANG", lang), ("LC_ALL", lang)],
            );
            assert!(
                out.stdout == base.stdout,
                "--format {format} differs with {threads} threads, TZ={tz}, LANG={lang}"
            );
        }
    }
}

/// System calls of the network family that `scan` and `diff` made, from
/// `strace -f`; `None` when strace cannot run here.
fn network_calls(args: &[&str], dir: &Path) -> Option<Vec<String>> {
    let log = tempfile::NamedTempFile::new().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("certdrift");
    let status = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=network", "-o"])
        .arg(log.path())
        .arg(&bin)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    let text = std::fs::read_to_string(log.path()).ok()?;
    if !matches!(status.code(), Some(0 | 1)) {
        // strace itself refused (no ptrace in this sandbox, say).
        return None;
    }
    Some(
        text.lines()
            .filter(|l| !l.contains("AF_UNIX") && !l.contains("+++") && !l.contains("---"))
            .map(str::to_owned)
            .collect(),
    )
}

/// Runs git in `dir` with a fixed identity; panics when it fails.

#[test]
fn scan_and_diff_open_no_network_connection() {
    // A real git repository, so `diff` runs its git mode (child processes).
    let tmp = tempfile::tempdir().unwrap();
    let g = tmp.path();
    let git = |args: &[&str]| common::git(g, args);
    git(&["init", "-q"]);
    common::copy_tree(&repo().join("testdata/trust-mismatch/fail"), g);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    common::copy_tree(&repo().join("testdata/trust-mismatch/pass"), g);
    git(&["commit", "-qam", "head"]);
    let runs: [&[&str]; 3] = [
        &["scan", ".", "--now", NOW],
        &["diff", "HEAD~1", "HEAD", "--now", NOW],
        &["inventory", ".", "--now", NOW],
    ];
    let mut checked = 0;
    for args in runs {
        match network_calls(args, g) {
            Some(calls) => {
                assert!(calls.is_empty(), "{args:?} made network calls: {calls:#?}");
                checked += 1;
            }
            None => {
                // No strace: run inside a network namespace with no interfaces.
                let out = std::process::Command::new("unshare")
                    .args(["-rn"])
                    .arg(assert_cmd::cargo::cargo_bin("certdrift"))
                    .args(args)
                    .current_dir(g)
                    .output();
                match out {
                    Ok(o) if matches!(o.status.code(), Some(0 | 1)) => checked += 1,
                    _ => eprintln!("skipped {args:?}: neither strace nor unshare -rn works here"),
                }
            }
        }
    }
    eprintln!("{checked} commands checked for network access");
}

#[test]
fn git_mode_applies_the_size_limit_and_lists_links_as_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let g = tmp.path();
    let git = |args: &[&str]| common::git(g, args);
    git(&["init", "-q"]);
    std::fs::copy(
        repo().join("testdata/expired/pass/server.crt"),
        g.join("a.crt"),
    )
    .unwrap();
    std::fs::write(g.join("big.yaml"), format!("k: \"{}\"\n", "x".repeat(5000))).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", g.join("link.yaml")).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    std::fs::write(g.join("c.yaml"), "x: 1\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-qm", "head"]);
    let out = run(
        g,
        &[
            "diff",
            "HEAD~1",
            "HEAD",
            "--now",
            NOW,
            "--format",
            "json",
            "--max-file-size",
            "1000",
        ],
    );
    // The blob over the limit was searched: no marker, nothing lost.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.trim_end().ends_with("\"complete\": true\n}"), "{text}");
    let report = json(&out);
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped[0]["path"], "big.yaml");
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("--max-file-size") && reason.ends_with("marker in it"),
        "{reason}"
    );
    assert_eq!(skipped[1]["path"], "link.yaml");
    assert!(skipped[1]["reason"]
        .as_str()
        .unwrap()
        .contains("symbolic link"));
}

/// Fail closed (what could hold TLS material and was not judged fails the
/// gate): a YAML error before a Secret's base64 key no longer hides it; an
/// 11 MiB key file over `--max-file-size` makes the run incomplete (exit 2,
/// the file named) unless `--allow-incomplete`; a large file without a
/// marker costs a byte search and passes; a minified JSON List of Secrets
/// is read whole.
#[test]
fn what_could_not_be_judged_fails_the_gate() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let dir = common::repo_dir();
    let d = dir.path();

    // A syntax error, then a Secret whose key is base64: found as text.
    std::fs::write(
        d.join("broken.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1, 2\n---\nkind: Secret\napiVersion: v1\ndata:\n  tls.key: {}\n",
            b64(&key)
        ),
    )
    .unwrap();
    let out = run(d, &["scan", "--now", NOW, "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let keys: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "private-key-in-repo")
        .map(|f| f["location"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(keys, [9], "{report}");
    std::fs::remove_file(d.join("broken.yaml")).unwrap();

    // An 11 MiB file with a key in it, over the 10 MiB limit.
    let mut big = key.clone();
    big.push_str(&"# padding\n".repeat(11 << 17));
    std::fs::write(d.join("huge.pem"), &big).unwrap();
    std::fs::write(d.join("ok.yaml"), "a: 1\n").unwrap();
    let out = run(d, &["scan", "--now", NOW, "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the scan is incomplete")
            && err.contains("huge.pem: not read: larger than --max-file-size"),
        "{err}"
    );
    let report = json(&out);
    assert_eq!(report["complete"], false);
    let out = run(
        d,
        &[
            "scan",
            "--now",
            NOW,
            "--format",
            "json",
            "--allow-incomplete",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["complete"], false);
    // The same without a marker: searched, skipped, passes.
    std::fs::write(d.join("huge.pem"), "# padding\n".repeat(11 << 17)).unwrap();
    let out = run(d, &["scan", "--now", NOW, "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["complete"], true);
    std::fs::remove_file(d.join("huge.pem")).unwrap();

    // A 3 MB minified JSON List of Secrets, one of them with a key.
    let mut items: Vec<serde_json::Value> = (0..6000)
        .map(|i| {
            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": format!("s{i}"), "namespace": "default"},
                "data": {"password": b64(&"x".repeat(300))}})
        })
        .collect();
    items.push(serde_json::json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "tls"}, "data": {"tls.key": b64(&key)}}));
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string();
    assert!(list.len() > 3_000_000 && !list.contains('\n'));
    std::fs::write(d.join("list.json"), list).unwrap();
    let out = run(d, &["scan", "--now", NOW, "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["complete"], true);
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "private-key-in-repo" && f["location"]["path"] == "list.json"));
}
