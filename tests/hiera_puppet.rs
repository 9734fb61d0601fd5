//! Differential test: certdrift's Hiera lookups against real Puppet (issue 21).
//!
//! The same hierarchy, facts and keys go to Puppet's own lookup API (Debian's `puppet`
//! package, Psych YAML; `testdata/hiera-puppet/batch_lookup.rb`, one Ruby process for every
//! key × node × merge) and to [`Hiera::lookup`]; the values are compared as
//! `puppet lookup --render-as json` prints them (key order included), and "not found" and
//! "fails" must agree too. Suites: Wikimedia's production and Cloud VPS hierarchies over the
//! real data in `../shared/corpus/wikimedia` (the `wmflib` functions they name are in
//! `testdata/hiera-puppet/modules`), and `testdata/hiera-puppet/synthetic`, which has a
//! regression case for each difference family of the issue (`data/fN_*`, `fN_*` keys).
//!
//! CI installs `puppet` (`.ci/run`), so there the test must run; elsewhere, without `ruby`
//! and Puppet, it says loudly that it skipped.

mod common;
use certdrift::extract::hiera::{Facts, Hiera, HieraOptions, Merge};
use certdrift::read::source::DirSource;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const MERGES: [Option<&str>; 5] = [
    None,
    Some("first"),
    Some("unique"),
    Some("hash"),
    Some("deep"),
];

struct Suite {
    name: &'static str,
    /// A directory with `hiera.yaml` (relative datadirs) and its data.
    dir: PathBuf,
    nodes: Vec<(String, serde_json::Value)>,
    keys: Vec<String>,
}

fn puppet_available() -> bool {
    Command::new("ruby")
        .args(["-e", "require 'puppet'"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The top-level keys of a data file, each with its first sub-key when its value is a hash
/// (read with certdrift's YAML reader; a file it cannot read adds no keys, Puppet still
/// reads it for the keys of the others).
fn top_keys(text: &str) -> Vec<(String, Option<String>)> {
    let stream = certdrift::read::yaml::parse(text, &certdrift::read::yaml::Limits::default());
    let mut out = Vec::new();
    let Some(doc) = stream.docs.first() else {
        return out;
    };
    let Some(root) = doc.root() else { return out };
    let Ok(v) = certdrift::extract::hiera::from_yaml(doc, root, "x") else {
        return out;
    };
    for (k, v) in v.as_map().unwrap_or(&[]) {
        let sub = v
            .as_map()
            .and_then(|m| m.first())
            .map(|(s, _)| s.clone())
            .filter(|s| !s.contains(['.', '"', '\'']));
        out.push((k.clone(), sub));
    }
    out
}

/// Every top-level key of every data file under `dir`, and `key.sub` for a hash.
fn all_keys(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut keys = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (k, sub) in top_keys(&text) {
            if k == "lookup_options" || k.contains(['.', '"', '\'']) || k.is_empty() {
                continue;
            }
            if let Some(s) = sub {
                keys.push(format!("{k}.{s}"));
            }
            keys.push(k);
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

#[derive(Debug, PartialEq)]
enum Answer {
    Found(String),
    NotFound,
    Error(String),
}

/// Canonical compact JSON (key order kept).
fn canon(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.to_string(),
        Err(_) => format!("<not JSON: {text}>"),
    }
}

fn same(puppet: &Answer, ours: &Answer) -> bool {
    match (puppet, ours) {
        (Answer::Found(a), Answer::Found(b)) => canon(a) == canon(b),
        (Answer::NotFound, Answer::NotFound) | (Answer::Error(_), Answer::Error(_)) => true,
        _ => false,
    }
}

/// The two answers for a report: values cut to where they start to differ.
fn excerpts(puppet: &Answer, ours: &Answer) -> (String, String) {
    let text = |a: &Answer| match a {
        Answer::Found(j) => format!("found {}", canon(j)),
        Answer::NotFound => "not found".to_string(),
        Answer::Error(e) => format!("error: {e}"),
    };
    let (a, b) = (text(puppet), text(ours));
    let at = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(0, |((i, _), _)| i);
    let cut = |s: &str| -> String {
        let mut start = at.saturating_sub(60).min(s.len());
        while !s.is_char_boundary(start) {
            start -= 1;
        }
        let mut t: String = s[start..].chars().take(200).collect();
        if start > 0 {
            t.insert(0, '…');
        }
        t
    };
    (cut(&a), cut(&b))
}

/// Starts Puppet on one suite (`batch_lookup.rb`, its answers written to a file).
fn start_puppet(s: &Suite, work: &Path) -> (std::process::Child, PathBuf) {
    let modules = repo().join("testdata/hiera-puppet/modules");
    let request = serde_json::json!({
        "hiera_config": s.dir.join("hiera.yaml"),
        "modulepath": modules,
        "keys": s.keys,
        "merges": MERGES,
        "nodes": s.nodes.iter().map(|(n, f)| serde_json::json!({"name": n, "facts": f})).collect::<Vec<_>>(),
    });
    let req = work.join(format!("{}-request.json", s.name));
    std::fs::write(&req, request.to_string()).unwrap();
    let answers = work.join(format!("{}-puppet.jsonl", s.name));
    let child = Command::new("ruby")
        .arg(repo().join("testdata/hiera-puppet/batch_lookup.rb"))
        .arg(&req)
        .arg(work.join(format!("{}-puppet", s.name)))
        .stdout(std::fs::File::create(&answers).unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ruby runs");
    (child, answers)
}

/// certdrift's answers for a suite, in `batch_lookup.rb`'s order (node, merge, key).
fn our_answers(s: &Suite) -> Vec<Answer> {
    let h = Hiera::load(
        Arc::new(DirSource::new(&s.dir)),
        "hiera.yaml",
        HieraOptions::default(),
    )
    .expect("hiera.yaml loads");
    let mut out = Vec::new();
    for (_, f) in &s.nodes {
        let facts = Facts::parse_file("facts.json", &f.to_string())
            .expect("facts parse")
            .expect("facts");
        for merge in MERGES {
            let m = merge.map(|m| match m {
                "first" => Merge::First,
                "unique" => Merge::Unique,
                "hash" => Merge::Hash,
                _ => Merge::Deep,
            });
            for key in &s.keys {
                let l = h.lookup(key, &facts, m);
                out.push(
                    match (&l.error, certdrift::report::lookup::render_json(&l)) {
                        (Some(e), _) => Answer::Error(format!("{}: {}", e.origin, e.message)),
                        (None, Err(e)) => Answer::Error(e),
                        (None, Ok(Some(j))) => Answer::Found(j),
                        (None, Ok(None)) => Answer::NotFound,
                    },
                );
            }
        }
    }
    out
}

/// Compares Puppet's answers (one JSON line each) with ours; (lookups, differences).
fn compare(s: &Suite, puppet_lines: &str, ours: &[Answer]) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut diffs = Vec::new();
    for (line, ours) in puppet_lines.lines().zip(ours) {
        let r: serde_json::Value = serde_json::from_str(line).expect("batch_lookup prints JSON");
        let node = r["node"].as_str().unwrap();
        let key = r["key"].as_str().unwrap();
        let merge = r["merge"].as_str();
        let puppet = match r["status"].as_str().unwrap() {
            "found" => Answer::Found(r["json"].as_str().unwrap().to_string()),
            "not_found" => Answer::NotFound,
            _ => Answer::Error(r["message"].as_str().unwrap_or("").to_string()),
        };
        count += 1;
        if !same(&puppet, ours) {
            let (p, o) = excerpts(&puppet, ours);
            diffs.push(format!(
                "{} {node} {key} merge={}:\n    puppet:    {p}\n    certdrift: {o}",
                s.name,
                merge.unwrap_or("default")
            ));
        }
    }
    (count, diffs)
}

/// `hiera.yaml` of `from`, with its absolute datadirs replaced (`map`: prefix → relative).
fn rewrite_config(from: &Path, to: &Path, map: &[(&str, &str)], drop_level: Option<&str>) {
    let mut text = std::fs::read_to_string(from).unwrap();
    for (a, b) in map {
        text = text.replace(a, b);
    }
    if let Some(level) = drop_level {
        // Drops the level whose `- name:` line is `level`, up to the next level.
        let mut out = String::new();
        let mut skipping = false;
        for line in text.lines() {
            if line.trim_start().starts_with("- name:") {
                skipping = line.contains(level);
            }
            if !skipping {
                out.push_str(line);
                out.push('\n');
            }
        }
        text = out;
    }
    std::fs::write(to, text).unwrap();
}

fn wikimedia_suites(work: &Path) -> Vec<Suite> {
    let Some(shared) = shared() else {
        eprintln!("hiera_puppet: ../shared not found: Wikimedia suites skipped");
        return Vec::new();
    };
    let puppet = shared.join("corpus/wikimedia/operations-puppet");
    let mut suites = Vec::new();
    // Production: hiera.yaml as in the repository, the public datadir copied beside it; the
    // private and netbox datadirs are not public (both sides find nothing there).
    let prod = work.join("production");
    std::fs::create_dir_all(prod.join("hieradata")).unwrap();
    copy_tree(&puppet.join("hieradata"), &prod.join("hieradata"));
    rewrite_config(
        &puppet.join("modules/puppetmaster/files/hiera/production.yaml"),
        &prod.join("hiera.yaml"),
        &[
            ("/etc/puppet/private/hieradata", "private/hieradata"),
            ("/etc/puppet/netbox", "netbox"),
            ("/etc/puppet/hieradata", "hieradata"),
        ],
        None,
    );
    let keys = all_keys(&prod.join("hieradata"));
    let roles = [
        ("aux_k8s::master", "eqiad"),
        ("deployment_server::kubernetes", "eqiad"),
        ("etcd::v3::aux_k8s_etcd", "codfw"),
        ("etcd::v3::ml_etcd", "codfw"),
        ("kubernetes::master_stacked", "eqiad"),
        ("kubernetes::worker", "codfw"),
        ("ml_k8s::master", "eqiad"),
        ("pki::multirootca", "codfw"),
        ("puppetserver", "eqiad"),
        ("", "drmrs"),
    ];
    let nodes = roles
        .iter()
        .enumerate()
        .map(|(i, (role, site))| {
            let host = format!("host{i}");
            let fqdn = format!("{host}.{site}.wmnet");
            let mut f = serde_json::json!({
                "hostname": host, "fqdn": fqdn, "site": site, "domain": format!("{site}.wmnet"),
                "networking": {"fqdn": fqdn, "hostname": host},
                "puppet_config": {"hostcert": format!("/var/lib/puppet/ssl/certs/{fqdn}.pem"),
                                  "localcacert": "/var/lib/puppet/ssl/certs/ca.pem"},
            });
            if !role.is_empty() {
                f["_role"] = serde_json::Value::from(role.replace("::", "/"));
            }
            (fqdn, f)
        })
        .collect();
    suites.push(Suite {
        name: "wikimedia-production",
        dir: prod,
        nodes,
        keys,
    });
    // Cloud VPS: the HTTP ENC level (an external service) is left out on both sides.
    let cloud = work.join("cloud");
    std::fs::create_dir_all(cloud.join("hieradata")).unwrap();
    copy_tree(&puppet.join("hieradata"), &cloud.join("hieradata"));
    rewrite_config(
        &puppet.join("modules/profile/files/puppetserver/hiera/wmcs-eqiad1.yaml"),
        &cloud.join("hiera.yaml"),
        &[
            ("/etc/puppet/private/hieradata", "private/hieradata"),
            (
                "/etc/puppet/code/environments/%{::environment}/hieradata",
                "hieradata",
            ),
        ],
        Some("Http Yaml"),
    );
    let keys = all_keys(&cloud.join("hieradata"));
    let nodes = [
        "tools",
        "toolsbeta",
        "deployment-prep",
        "cloudinfra",
        "testlabs",
    ]
    .iter()
    .map(|project| {
        let host = format!("{project}-vm1");
        let fqdn = format!("{host}.{project}.eqiad1.wikimedia.cloud");
        let f = serde_json::json!({
            "hostname": host, "fqdn": fqdn, "wmcs_project": project,
            "wmcs_deployment": "eqiad1", "realm": "labs",
            "networking": {"fqdn": fqdn, "hostname": host},
            "puppet_config": {"hostcert": format!("/var/lib/puppet/ssl/certs/{fqdn}.pem"),
                              "localcacert": "/var/lib/puppet/ssl/certs/ca.pem"},
        });
        (fqdn, f)
    })
    .collect();
    suites.push(Suite {
        name: "wikimedia-cloud",
        dir: cloud,
        nodes,
        keys,
    });
    suites
}

fn synthetic_suite(work: &Path) -> Suite {
    let dir = work.join("synthetic");
    std::fs::create_dir_all(&dir).unwrap();
    copy_tree(&repo().join("testdata/hiera-puppet/synthetic"), &dir);
    let mut keys = all_keys(&dir.join("data"));
    // Keys that are only inside the labels of regex.yaml (wmflib::regex_data).
    keys.extend(["f7_drives", "f7_fallback", "f7_nowhere"].map(String::from));
    let nodes = [
        ("web1", "eqiad", "web"),
        ("db2", "codfw", "db"),
        ("misc3", "esams", ""),
        ("sym4", "eqiad", "web"),
        ("set5", "esams", "web"),
        ("rx6", "codfw", "db"),
        ("sym7", "symsite", "db"),
    ]
    .iter()
    .map(|(host, site, role)| {
        let fqdn = format!("{host}.{site}.example.org");
        let mut facts = serde_json::json!({"hostname": host, "fqdn": fqdn, "site": site, "role": role,
                                   "networking": {"fqdn": fqdn}, "list": ["a", 1]});
        // f11: Puppet's $trusted comes from the clientcert fact.
        if ["web1", "db2"].contains(host) {
            facts["clientcert"] = serde_json::json!(fqdn);
        }
        (fqdn.clone(), facts)
    })
    .collect();
    Suite {
        name: "synthetic",
        dir,
        nodes,
        keys,
    }
}

#[test]
fn lookups_equal_puppet_lookup() {
    if !puppet_available() {
        let msg =
            "hiera_puppet: SKIPPED: `ruby` with Puppet is not installed (apt-get install puppet); \
                   the differential test against real Puppet did not run";
        assert!(
            std::env::var_os("CI").is_none(),
            "{msg} (and CI is set: .ci/run installs it)"
        );
        eprintln!("\n!!!!!!!!!! {msg} !!!!!!!!!!\n");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let mut suites = wikimedia_suites(work.path());
    suites.push(synthetic_suite(work.path()));
    // Puppet runs (one Ruby process per suite) while certdrift answers the same lookups.
    let t0 = std::time::Instant::now();
    let started: Vec<_> = suites
        .iter()
        .map(|s| start_puppet(s, work.path()))
        .collect();
    let ours: Vec<Vec<Answer>> = std::thread::scope(|sc| {
        let hs: Vec<_> = suites.iter().map(|s| sc.spawn(|| our_answers(s))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!(
        "hiera_puppet: certdrift answered in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let mut all = Vec::new();
    for ((s, (child, answers)), ours) in suites.iter().zip(started).zip(&ours) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "batch_lookup.rb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = std::fs::read_to_string(answers).unwrap();
        let (n, diffs) = compare(s, &lines, ours);
        eprintln!(
            "hiera_puppet: {}: {} lookups ({} keys x {} nodes x {} merges), {} differences",
            s.name,
            n,
            s.keys.len(),
            s.nodes.len(),
            MERGES.len(),
            diffs.len()
        );
        assert_eq!(
            n,
            s.keys.len() * s.nodes.len() * MERGES.len(),
            "{}: batch_lookup.rb answered every lookup",
            s.name
        );
        all.extend(diffs);
    }
    eprintln!(
        "hiera_puppet: Puppet and certdrift done in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    if let Some(p) = std::env::var_os("HIERA_PUPPET_DIFFS") {
        std::fs::write(p, all.join("\n")).unwrap();
    }
    if !all.is_empty() {
        let shown: Vec<&String> = all.iter().take(60).collect();
        panic!(
            "{} lookups differ from Puppet's:\n{}",
            all.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
