//! A repository's own `.certdrift.yaml` may come from the pull request under
//! review: what it names must stay inside the repository.

mod common;
use common::*;

#[test]
fn repository_settings_cannot_reach_outside() {
    let outer = tempfile::tempdir().unwrap();
    let secret = outer.path().join("outside");
    std::fs::create_dir(&secret).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    std::fs::write(secret.join("host.key"), key.serialize_pem()).unwrap();
    std::fs::write(secret.join("policy.yaml"), "secret_first_key: 1\n").unwrap();
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::os::unix::fs::symlink(&secret, repo.join("linked")).unwrap();
    let abs = secret.to_string_lossy().into_owned();
    for settings in [
        "roots: [../outside]".to_owned(),
        format!("roots: [{abs}]"),
        "policies: [../outside/policy.yaml]".to_owned(),
        "policies: [linked/policy.yaml]".to_owned(),
    ] {
        std::fs::write(
            repo.join(".certdrift.yaml"),
            format!("settings:\n  {settings}\n"),
        )
        .unwrap();
        let out = run(&repo, &["scan", "--format", "json"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{settings}: {err}");
        assert!(err.contains(".certdrift.yaml:2:"), "{err}");
        assert!(
            !err.contains("secret_first_key") && !stdout(&out).contains("host.key"),
            "{err}"
        );
    }
    // The same file named on the command line is the user's choice.
    std::fs::write(
        repo.join(".certdrift.yaml"),
        "settings:\n  roots: [../outside]\n",
    )
    .unwrap();
    let out = run(
        &repo,
        &["--config", ".certdrift.yaml", "scan", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("host.key"));

    // A policy file at the scanned root that is a link is refused too.
    std::fs::remove_file(repo.join(".certdrift.yaml")).unwrap();
    std::os::unix::fs::symlink(secret.join("policy.yaml"), repo.join(".certdrift.yaml")).unwrap();
    let out = run(&repo, &["scan", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !stderr(&out).contains("secret_first_key"),
        "{}",
        stderr(&out)
    );
}

/// A pull request that adds a private key and switches the gate off in the
/// same change: `diff` uses BASE's configuration, still fails, and says
/// what the change would weaken.
#[test]
fn a_change_cannot_switch_its_own_gate_off() {
    let t = tempfile::tempdir().unwrap();
    let g = t.path();
    git(g, &["init", "-q"]);
    std::fs::write(g.join("values.yaml"), "replicas: 1\n").unwrap();
    std::fs::write(g.join(".certdrift.yaml"), "settings:\n  fail_on: error\n").unwrap();
    git(g, &["add", "-A"]);
    git(g, &["commit", "-qm", "base"]);
    git(g, &["tag", "base"]);
    let key = rcgen::KeyPair::generate().unwrap();
    std::fs::write(g.join("tls.key"), key.serialize_pem()).unwrap();
    for (config, weakens) in [
        ("settings:\n  fail_on: never\n", "fail_on error → never"),
        (
            "severity:\n  private-key-in-repo: off\n",
            "private-key-in-repo → off",
        ),
        (
            "exceptions:\n  - rule: private-key-in-repo\n    path: tls.key\n    reason: fine\n",
            "1 more exception",
        ),
        // Go's refusals of etcd's chains would be warnings, not errors.
        (
            "roles:\n  etcd:\n    client: other\n",
            "role etcd client unset → other",
        ),
    ] {
        std::fs::write(g.join(".certdrift.yaml"), config).unwrap();
        git(g, &["add", "-A"]);
        git(g, &["commit", "-qm", "head", "--allow-empty"]);
        let out = run(
            g,
            &["diff", "base", "HEAD", "--format", "json", "--now", NOW],
        );
        let report = json(&out);
        assert_eq!(out.status.code(), Some(1), "{config}: {report}");
        let rules: Vec<_> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["rule"].as_str().unwrap(), f["severity"].as_str().unwrap()))
            .collect();
        assert!(
            rules.contains(&("private-key-in-repo", "error")),
            "{rules:?}"
        );
        let gate = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "gate-change")
            .unwrap_or_else(|| panic!("no gate-change: {report}"));
        assert_eq!(gate["severity"], "warning");
        let msg = gate["message"].as_str().unwrap();
        assert!(msg.contains(weakens), "{config}: {msg}");
    }
    // The same file named by the job (--config) is obeyed.
    std::fs::write(g.join("job.yaml"), "settings:\n  fail_on: never\n").unwrap();
    let out = run(g, &["--config", "job.yaml", "diff", "base", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
