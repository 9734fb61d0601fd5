//! Delivery: the config file (discovery, precedence, validation), `init`,
//! `completions`, `man` and the progress line.

mod common;
use common::*;
use std::path::Path;

/// A repository whose only finding is an `expires-soon` warning (exit 0 at
/// the default `--fail-on error`, 1 at `warning`), with `config` as its
/// `.certdrift.yaml`.
fn warning_repo(config: &str) -> tempfile::TempDir {
    let t = repo_dir();
    copy_tree(&repo().join("testdata/expires-soon/fail"), t.path());
    std::fs::write(t.path().join(".certdrift.yaml"), config).unwrap();
    t
}

fn code(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Option<i32> {
    let o = run_env(dir, args, env);
    assert!(o.status.code() != Some(2), "{}", stderr(&o));
    o.status.code()
}

#[test]
fn fail_on_flag_over_env_over_file() {
    let now = [("CERTDRIFT_NOW", NOW)];
    // No config: the built-in default (error) holds.
    let t = warning_repo("");
    assert_eq!(code(t.path(), &["scan"], &now), Some(0));

    let t = warning_repo("settings:\n  fail_on: warning\n");
    let d = t.path();
    assert_eq!(code(d, &["scan"], &now), Some(1), "file");
    let env_never = [now[0], ("CERTDRIFT_FAIL_ON", "never")];
    assert_eq!(code(d, &["scan"], &env_never), Some(0), "env over file");
    assert_eq!(
        code(d, &["scan", "--fail-on", "warning"], &env_never),
        Some(1),
        "flag over env"
    );
    assert_eq!(
        code(d, &["scan", "--fail-on", "error"], &now),
        Some(0),
        "flag over file"
    );
    // `diff` reads the same setting from BASE: HEAD adds the warning.
    let base = repo_dir();
    std::fs::write(
        base.path().join(".certdrift.yaml"),
        "settings:\n  fail_on: warning\n",
    )
    .unwrap();
    assert_eq!(
        code(d, &["diff", base.path().to_str().unwrap(), "."], &now),
        Some(1)
    );
    // A setting only HEAD has is the change's, not the gate's.
    let base = repo_dir();
    assert_eq!(
        code(d, &["diff", base.path().to_str().unwrap(), "."], &now),
        Some(0)
    );
}

#[test]
fn discovered_from_a_subdirectory() {
    let t = warning_repo("settings:\n  roots: [.]\n  fail_on: warning\n  format: json\n");
    let sub = t.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let o = run_env(&sub, &["scan"], &[("CERTDRIFT_NOW", NOW)]);
    // The settings apply: the repository is scanned (roots relative to the
    // file), as JSON, and the warning fails.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(rules_of(&json(&o)), ["expires-soon"]);

    // Discovery stops at the repository's top: a file above it is not read.
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(
        outer.path().join(".certdrift.yaml"),
        "settings:\n  fail_on: bogus\n",
    )
    .unwrap();
    let inner = outer.path().join("repo");
    std::fs::create_dir_all(inner.join(".git")).unwrap();
    copy_tree(&repo().join("testdata/expires-soon/fail"), &inner);
    assert_eq!(code(&inner, &["scan", "--now", NOW], &[]), Some(0));

    // --config and CERTDRIFT_CONFIG name a file anywhere.
    let cfg = t.path().join(".certdrift.yaml");
    let cfg = cfg.to_str().unwrap();
    assert_eq!(
        code(&inner, &["scan", "--now", NOW, "--config", cfg, "."], &[]),
        Some(1)
    );
    let o = run_env(
        &inner,
        &["scan", "--now", NOW, "."],
        &[("CERTDRIFT_CONFIG", cfg)],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with('{'), "format: json from the file");
}

#[test]
fn the_config_file_is_a_policy_too() {
    // The warning is accepted by the policy part of the same file that sets
    // fail_on: warning. Found from a subdirectory, it is also the scanned
    // root's .certdrift.yaml: read twice, its exception would match nothing
    // the second time (`unused-exception`, a warning).
    let t = warning_repo(
        "settings:\n  fail_on: warning\nexceptions:\n  - {rule: expires-soon, path: server.crt, reason: test}\n",
    );
    let sub = t.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    assert_eq!(code(&sub, &["scan", "--now", NOW, ".."], &[]), Some(0));
    assert_eq!(code(t.path(), &["scan", "--now", NOW], &[]), Some(0));
}

#[test]
fn invalid_settings_exit_2_with_file_and_line() {
    let t = warning_repo("version: 1\nsettings:\n  fail_on: warning\n  colour: always\n");
    let o = run(t.path(), &["scan", "--now", NOW]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(".certdrift.yaml:4:3: unknown key \"colour\" in settings"),
        "{err}"
    );

    let t = warning_repo("settings:\n  warn_days: [30]\n");
    let sub = t.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let o = run(&sub, &["scan", "--now", NOW]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let file = t.path().join(".certdrift.yaml");
    assert!(
        err.contains(&format!(
            "{}:2:14: warn_days must be a whole number of days",
            file.display()
        )),
        "{err}"
    );

    // A missing --config is an error, not "no config".
    let o = run(t.path(), &["scan", "--config", "nope.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read config nope.yaml"));
    // Commands that need no settings work despite a broken file.
    assert_eq!(run(&sub, &["rules"]).status.code(), Some(0));
}

#[test]
fn init_then_scan() {
    let t = repo_dir();
    copy_tree(&repo().join("testdata/expires-soon/fail"), t.path());
    let o = run(t.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(t.path().join(".certdrift.yaml")).unwrap();
    assert!(written.contains("settings:") && written.starts_with('#'));
    // The starter's settings are the defaults: the warning does not fail.
    assert_eq!(code(t.path(), &["scan", "--now", NOW], &[]), Some(0));
    let sub = t.path().join("deep/er");
    std::fs::create_dir_all(&sub).unwrap();
    let o = run(&sub, &["scan", "--now", NOW, "--format", "json"]);
    assert_eq!(rules_of(&json(&o)), ["expires-soon"], "roots: [.]");

    // No overwrite without --force.
    std::fs::write(t.path().join(".certdrift.yaml"), "# mine\n").unwrap();
    let o = run(t.path(), &["init"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(t.path().join(".certdrift.yaml")).unwrap(),
        "# mine\n"
    );
    let other = repo_dir();
    let o = run(
        other.path(),
        &["init", t.path().to_str().unwrap(), "--force"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(t.path().join(".certdrift.yaml")).unwrap(),
        written
    );
}

#[test]
fn env_sets_format_now_and_warn_days() {
    let t = warning_repo("settings:\n  format: json\n  warn_days: 0\n");
    let d = t.path();
    // warn_days 0 from the file: nothing expires soon.
    let o = run_env(d, &["scan"], &[("CERTDRIFT_NOW", NOW)]);
    assert_eq!(rules_of(&json(&o)), Vec::<String>::new());
    let o = run_env(
        d,
        &["scan"],
        &[("CERTDRIFT_NOW", NOW), ("CERTDRIFT_WARN_DAYS", "365")],
    );
    assert_eq!(rules_of(&json(&o)), ["expires-soon"]);
    let o = run_env(
        d,
        &["scan", "--warn-days", "30"],
        &[
            ("CERTDRIFT_NOW", NOW),
            ("CERTDRIFT_WARN_DAYS", "0"),
            ("CERTDRIFT_FORMAT", "github"),
        ],
    );
    assert!(stdout(&o).starts_with("::warning "), "{}", stdout(&o));
    // A bad value in the environment is a usage error; an empty one is unset
    // (the file's warn_days 0 applies).
    let o = run_env(d, &["scan"], &[("CERTDRIFT_FAIL_ON", "sometimes")]);
    assert_eq!(o.status.code(), Some(2));
    let o = run_env(
        d,
        &["scan"],
        &[
            ("CERTDRIFT_NOW", NOW),
            ("CERTDRIFT_WARN_DAYS", ""),
            ("CERTDRIFT_FAIL_ON", ""),
            ("CERTDRIFT_FORMAT", ""),
            ("CERTDRIFT_CONFIG", ""),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(rules_of(&json(&o)), Vec::<String>::new());
}

#[test]
fn completions_and_man() {
    let d = repo();
    let o = run(&d, &["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let bash = stdout(&o);
    assert!(
        bash.contains("certdrift") && bash.contains("scan"),
        "{bash}"
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let o = run(&d, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(stdout(&o).contains("certdrift"), "{shell}");
    }
    let o = run(&d, &["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = stdout(&o);
    // roff's portable-apostrophe definition (`.ie \n(.g .ds Aq \(aq`, `.el
    // .ds Aq '`) comes first, for the `\*(Aq` in the text; then the title.
    let page = man
        .lines()
        .skip_while(|l| l.starts_with(".ie ") || l.starts_with(".el "))
        .collect::<Vec<_>>();
    assert!(
        page[0].starts_with(".TH certdrift 1"),
        "{}",
        &man[..man.len().min(200)]
    );
    assert!(man.contains("completions"));
}

#[test]
fn progress_only_when_asked_off_a_terminal() {
    let t = warning_repo("");
    let o = run(t.path(), &["scan", "--now", NOW]);
    assert!(!stderr(&o).contains("scanned"), "{}", stderr(&o));
    let o = run(t.path(), &["scan", "--now", NOW, "--progress"]);
    assert!(
        stderr(&o).starts_with("scanned 2 files ("),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_found_config_that_is_a_symlink_is_refused_not_followed() {
    let t = warning_repo("");
    let outside = tempfile::tempdir().unwrap();
    let canary = outside.path().join("secret.yaml");
    std::fs::write(&canary, "settings:\n  fail_on: CANARY-7f3a\n").unwrap();
    std::fs::remove_file(t.path().join(".certdrift.yaml")).unwrap();
    std::os::unix::fs::symlink(&canary, t.path().join(".certdrift.yaml")).unwrap();
    let o = run_env(t.path(), &["scan"], &[("CERTDRIFT_NOW", NOW)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("CANARY") && !stdout(&o).contains("CANARY"));
}
