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
