//! Tool settings: the `settings:` section of `.certdrift.yaml`, and where
//! that file is.
//!
//! In: a directory to search from ([`discover`]) and the file's text
//! ([`parse`]). Out: [`Settings`], every field optional or empty, so that the
//! command line can layer flag > environment variable > file > built-in
//! default. The rest of the same file is a policy: [`crate::policy::parse`]
//! skips `settings`, this module reads nothing else. Both use the same
//! positioned reader, so an unknown key or a wrong type is a
//! [`PolicyError`] with file:line:column.

use crate::extract::hiera::Value;
use crate::policy::{PolicyError, P};
use crate::read::yaml;
use std::path::{Path, PathBuf};

/// The config file's name.
pub const FILE_NAME: &str = ".certdrift.yaml";

/// Values of `fail_on` (the command line's `--fail-on`).
pub const FAIL_ON: &[&str] = &["error", "warning", "note", "never"];

/// Values of `format`: the formats `scan` and `diff` both have, so one
/// setting serves both commands.
pub const FORMATS: &[&str] = &["text", "json", "sarif", "junit", "github", "markdown"];

const KEYS: &[&str] = &[
    "roots",
    "exclude",
    "facts",
    "policies",
    "fail_on",
    "warn_days",
    "format",
    "map_paths",
    "allow_incomplete",
];

/// What a config file's `settings:` say; unset settings are `None` or empty.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Paths to scan when the command line names none, resolved against the file's directory.
    pub roots: Vec<PathBuf>,
    /// Globs to exclude (relative to the scanned root, like `--exclude`).
    pub exclude: Vec<String>,
    /// Facts for Hiera lookups: dotted name → value.
    pub facts: Vec<(String, Value)>,
    /// More policy files, resolved against the file's directory.
    pub policies: Vec<PathBuf>,
    /// One of [`FAIL_ON`].
    pub fail_on: Option<String>,
    /// `expires-soon` threshold in days.
    pub warn_days: Option<i64>,
    /// One of [`FORMATS`].
    pub format: Option<String>,
    /// Host path prefix → repository path (like `--map-path HOST=REPO`).
    pub map_paths: Vec<(String, String)>,
    /// Accept an incomplete scan (like `--allow-incomplete`).
    pub allow_incomplete: Option<bool>,
}

/// The config file for a run started in `start` (an absolute directory):
/// `.certdrift.yaml` there or in the nearest parent. The search stops at the
/// file system root, or after a directory that holds `.git` (a directory, or
/// a file in worktrees and submodules): a repository's settings never come
/// from outside it.
pub fn discover(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        // A symlink is returned too (not followed): the loader refuses it.
        if candidate
            .symlink_metadata()
            .is_ok_and(|m| m.is_file() || m.file_type().is_symlink())
        {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Reads the `settings:` of a config file's `text`; `file` names it in
/// errors, and relative `roots` and `policies` are resolved against `base`
/// (the file's directory; empty or `.` leaves them as written).
///
/// `confined`: the file was found in the repository, not named by the user,
/// so a pull request may have written it: its `roots`, `policies` and
/// `map_paths` targets must stay inside `base` (no absolute path, no `..`,
/// no symbolic link on the way), or the file is refused with the place of
/// the offending path. Nothing outside the repository is opened or quoted.
pub fn parse(file: &str, text: &str, base: &Path, confined: bool) -> Result<Settings, PolicyError> {
    let mut settings = Settings::default();
    let Some((doc, root)) = crate::policy::first_document(file, text)? else {
        return Ok(settings);
    };
    let doc = &doc;
    let p = P { doc, file };
    let Some(node) = doc
        .get(doc.resolve(root), "settings")
        .filter(|&n| !doc.is_null(n))
    else {
        // The policy parser reports a root that is not a mapping.
        return Ok(settings);
    };
    let resolve = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() || base.as_os_str().is_empty() || base == Path::new(".") {
            p
        } else if p == Path::new(".") {
            base.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let inside = |v: yaml::NodeId, what: &str, list: Vec<String>| {
        if confined {
            for path in &list {
                if let Err(why) = stays_inside(base, path) {
                    return Err(p.err(
                        v,
                        format!(
                            "{what} {path:?} {why}: a repository's own settings stay inside it \
                             (name files outside it on the command line or with --config)"
                        ),
                    ));
                }
            }
        }
        Ok(list)
    };
    for (key, v) in p.fields(node, "settings", KEYS)? {
        if doc.is_null(v) {
            continue;
        }
        match key.as_str() {
            "roots" => {
                let list = inside(v, "roots entry", p.strings(v, "roots")?)?;
                settings.roots = list.into_iter().map(resolve).collect();
            }
            "exclude" => {
                settings.exclude = p.strings(v, "exclude")?;
                for g in &settings.exclude {
                    globset::Glob::new(g)
                        .map_err(|e| p.err(v, format!("invalid glob {g:?}: {e}")))?;
                }
            }
            "policies" => {
                let list = inside(v, "policies entry", p.strings(v, "policies")?)?;
                settings.policies = list.into_iter().map(resolve).collect();
            }
            "facts" => {
                for (name, k, fv) in p.map(v, "facts")? {
                    let value =
                        crate::extract::hiera::from_yaml(doc, fv, file).map_err(|e| p.err(k, e))?;
                    settings.facts.push((name, value));
                }
            }
            "map_paths" => {
                for (host, _, rv) in p.map(v, "map_paths")? {
                    let target = p.str(rv, "a map_paths entry")?;
                    let target = inside(rv, "map_paths target", vec![target])?;
                    settings.map_paths.push((host, target.concat()));
                }
            }
            "fail_on" => settings.fail_on = Some(one_of(&p, v, "fail_on", FAIL_ON)?),
            "format" => settings.format = Some(one_of(&p, v, "format", FORMATS)?),
            "allow_incomplete" => {
                let b = doc
                    .bool11(v)
                    .ok_or_else(|| p.err(v, "allow_incomplete must be true or false"))?;
                settings.allow_incomplete = Some(b);
            }
            "warn_days" => {
                let days = doc.str(v).and_then(|n| n.parse().ok()).filter(|d| *d >= 0);
                let days =
                    days.ok_or_else(|| p.err(v, "warn_days must be a whole number of days"))?;
                settings.warn_days = Some(days);
            }
            // fields() admits only KEYS.
            _ => {}
        }
    }
    Ok(settings)
}

/// Why `written` (a path from a repository's settings) would leave `base`:
/// absolute, a `..` component, or a symbolic link on the way.
fn stays_inside(base: &Path, written: &str) -> Result<(), &'static str> {
    let path = Path::new(written);
    if path.is_absolute() || written.starts_with('~') {
        return Err("is absolute");
    }
    let mut at = base.to_path_buf();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => continue,
            std::path::Component::Normal(part) => at.push(part),
            _ => return Err("leaves the repository (`..`)"),
        }
        if at
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err("goes through a symbolic link");
        }
    }
    Ok(())
}

fn one_of(
    p: &P<'_>,
    node: yaml::NodeId,
    what: &str,
    allowed: &[&str],
) -> Result<String, PolicyError> {
    let s = p.str(node, what)?;
    if allowed.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(p.err(
            node,
            format!("{what} {s:?} is not one of {}", allowed.join(", ")),
        ))
    }
}

/// The file `certdrift init` writes: every setting with its default, and a
/// policy part to fill in. It must parse as settings and as a policy (tested).
pub const STARTER: &str = r#"# certdrift configuration and policy.
#
# certdrift reads this file from the current directory or the nearest parent
# (up to the repository's top, the directory holding .git), or the file named
# by --config or CERTDRIFT_CONFIG. Command-line flags override these settings;
# the CERTDRIFT_* environment variables sit between the two.

settings:
  # What `scan`, `inventory` and `graph` read when no path is given on the
  # command line, relative to this file: here, the whole repository, even
  # when certdrift runs in a subdirectory.
  roots: [.]
  # Paths to leave out (globs relative to the scanned root), added to
  # --exclude. .gitignore is not honoured, so a change cannot hide a file.
  exclude: []
  #  - "vendor/**"
  # Lowest severity that makes `scan` and `diff` exit 1: error, warning,
  # note or never.
  fail_on: error
  # Days before expiry that `expires-soon` warns.
  warn_days: 30
  # Output of `scan` and `diff`: text, json, sarif, junit, github or
  # markdown.
  format: text
  # More policy files (docs/policy.md), relative to this file.
  policies: []
  # Facts for Hiera lookups (dotted names for nested facts); --facts and
  # --fact override them.
  facts: {}
  #  environment: production
  # Host path prefixes (static pods' hostPath, absolute Hiera datadirs) and
  # where those files live in this repository.
  map_paths: {}
  #  /etc/kubernetes/pki: pki
  # An incomplete scan (a file too large to read that holds a PEM marker,
  # an unreadable file, a reader limit) exits 2; true accepts it, as
  # --allow-incomplete does. In `diff`, BASE's setting counts.
  allow_incomplete: false

# Everything else in this file is a policy (docs/policy.md): what files alone
# do not say. Some starting points, commented out:
version: 1
# severity:
#   expires-soon: error
# exceptions:
#   - rule: private-key-in-repo
#     path: "testdata/**"
#     reason: throwaway keys for tests, never deployed
# groups:
#   - {name: etcd-ca, same: ca, members: [etcd, kube-apiserver]}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        parse("c.yaml", text, Path::new(""), false)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn starter_parses_as_settings_and_as_policy() {
        let s = parse(FILE_NAME, STARTER, Path::new(""), false).unwrap();
        assert_eq!(s.roots, [PathBuf::from(".")]);
        assert_eq!(s.fail_on.as_deref(), Some("error"));
        assert_eq!(s.warn_days, Some(30));
        assert_eq!(s.format.as_deref(), Some("text"));
        crate::policy::parse(FILE_NAME, STARTER).unwrap();
    }

    #[test]
    fn repository_settings_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("in")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("out")).unwrap();
        let parse_in = |text: &str| parse("c.yaml", text, dir.path(), true);
        assert!(parse_in("settings: {roots: [., in, ./in/x], policies: [in/p.yaml]}").is_ok());
        for (bad, why) in [
            (
                "settings: {roots: [../../outside]}",
                "leaves the repository",
            ),
            ("settings: {roots: [/abs/path]}", "is absolute"),
            ("settings: {policies: [out/passwd]}", "symbolic link"),
            (
                "settings: {policies: [in/../../x]}",
                "leaves the repository",
            ),
            (
                "settings: {map_paths: {/etc/pki: ../x}}",
                "leaves the repository",
            ),
        ] {
            let e = parse_in(bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("c.yaml:1:"), "{bad}: {e}");
        }
        // Named by the user, a file may point anywhere.
        assert!(parse("c.yaml", "settings: {roots: [/abs]}", dir.path(), false).is_ok());
    }

    #[test]
    fn every_setting() {
        let s = parse(
            "c.yaml",
            "settings:\n  roots: [a, /abs, .]\n  exclude: ['vendor/**']\n  facts: {role: etcd, trusted.certname: n1, os: {family: Debian}}\n  policies: p.yaml\n  fail_on: warning\n  warn_days: 7\n  format: sarif\n  map_paths: {/etc/pki: pki}\n",
            Path::new("/repo"),
            false,
        )
        .unwrap();
        assert_eq!(
            s.roots,
            [
                PathBuf::from("/repo/a"),
                PathBuf::from("/abs"),
                PathBuf::from("/repo")
            ]
        );
        assert_eq!(s.exclude, ["vendor/**"]);
        assert_eq!(s.policies, [PathBuf::from("/repo/p.yaml")]);
        let names: Vec<_> = s.facts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["role", "trusted.certname", "os"]);
        assert_eq!(s.fail_on.as_deref(), Some("warning"));
        assert_eq!(s.warn_days, Some(7));
        assert_eq!(s.format.as_deref(), Some("sarif"));
        assert_eq!(s.map_paths, [("/etc/pki".to_owned(), "pki".to_owned())]);
    }

    #[test]
    fn no_settings_is_all_defaults() {
        let s = parse("c.yaml", "version: 1\nsettings:\n", Path::new(""), false).unwrap();
        assert!(s.roots.is_empty() && s.fail_on.is_none() && s.warn_days.is_none());
        let s = parse("c.yaml", "", Path::new(""), false).unwrap();
        assert!(s.format.is_none());
        // Not a mapping: the policy parser says so, with its position.
        assert!(parse("c.yaml", "[a]\n", Path::new(""), false).is_ok());
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(
            parse_err("settings:\n  fail_on: error\n  colour: always\n"),
            "c.yaml:3:3: unknown key \"colour\" in settings (expected roots, exclude, facts, policies, fail_on, warn_days, format, map_paths, allow_incomplete)"
        );
        assert_eq!(
            parse_err("settings:\n  fail_on: sometimes\n"),
            "c.yaml:2:12: fail_on \"sometimes\" is not one of error, warning, note, never"
        );
        assert_eq!(
            parse_err("settings:\n  warn_days: soon\n"),
            "c.yaml:2:14: warn_days must be a whole number of days"
        );
        assert_eq!(
            parse_err("settings:\n  warn_days: [30]\n"),
            "c.yaml:2:14: warn_days must be a whole number of days"
        );
        assert_eq!(
            parse_err("settings:\n  roots: {a: b}\n"),
            "c.yaml:2:10: roots must be a list"
        );
        assert_eq!(
            parse_err("settings:\n  facts: [a]\n"),
            "c.yaml:2:10: facts must be a mapping"
        );
        assert_eq!(
            parse_err("settings: [roots]\n"),
            "c.yaml:1:11: settings must be a mapping"
        );
        assert!(
            parse_err("settings:\n  exclude: ['a/[']\n").starts_with("c.yaml:2:12: invalid glob")
        );
    }

    #[test]
    fn discovery_stops_at_the_repository_top() {
        let t = tempfile::tempdir().unwrap();
        let repo = t.path().join("repo");
        let sub = repo.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(t.path().join(FILE_NAME), "").unwrap();
        // Above the repository: not ours.
        std::fs::create_dir(repo.join(".git")).unwrap();
        assert_eq!(discover(&sub), None);
        std::fs::write(repo.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&sub), Some(repo.join(FILE_NAME)));
        std::fs::write(sub.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&sub), Some(sub.join(FILE_NAME)));
    }
}
