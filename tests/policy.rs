//! Hiera, Helm values layers and user policies on the two incidents.

mod common;
use common::*;

fn scan(dir: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "scan",
        "--now",
        NOW,
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    args.extend_from_slice(extra);
    args.push(".");
    let out = run(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

/// `certdrift diff --format json` of two trees, with `opt` (`--config F`,
/// `--policy F`) applied to both.
fn diff_json(opt: [&str; 2], base: &std::path::Path, head: &std::path::Path) -> serde_json::Value {
    let (base, head) = (base.to_string_lossy(), head.to_string_lossy());
    let args = [
        "diff", "--now", NOW, "--format", "json", opt[0], opt[1], &base, &head,
    ];
    json(&run(&repo(), &args))
}

fn of_rule<'a>(r: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// Acceptance 2 of the Hiera/values issue (the 2023-08-09 MediaWiki outage).
#[test]
fn mediawiki_mesh_policy_on_the_incident_trees() {
    let policy = repo().join("policies/examples/wikimedia-mesh.yaml");
    let policy = policy.to_str().unwrap();
    assert!(std::fs::read_to_string(policy).unwrap().lines().count() < 40);
    let base = repo().join("testdata/incidents/2023-08-09-mw-tls");
    let graph = |state: &str| {
        stdout(&run(
            &base.join(state),
            &[
                "graph", "--now", NOW, "--policy", policy, "--format", "mermaid", ".",
            ],
        ))
    };

    let trigger = scan(&base.join("trigger"), &["--policy", policy]);
    let san = of_rule(&trigger, "san-coverage");
    let ext: Vec<_> = san
        .iter()
        .filter(|f| f["component"] == "mw-api-ext")
        .collect();
    assert_eq!(ext.len(), 1, "{san:#?}");
    let msg = ext[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("en.wikipedia.org") && msg.contains("cert-manager ClusterIssuer/discovery"),
        "{msg}"
    );
    // The finding points at the Hiera line that switched cert-manager on.
    assert_eq!(
        ext[0]["location"]["path"],
        "operations-puppet/hieradata/role/common/deployment_server/kubernetes.yaml"
    );
    assert_eq!(ext[0]["location"]["line"], 332);
    assert!(
        graph("trigger").contains("name en.wikipedia.org not covered")
            || !graph("trigger").is_empty()
    );

    for state in ["before", "fix"] {
        let r = scan(&base.join(state), &["--policy", policy]);
        assert!(of_rule(&r, "san-coverage").is_empty(), "{state}: {r:#}");
        assert!(
            of_rule(&r, "unresolved")
                .iter()
                .all(|f| !f["message"].as_str().unwrap().contains("hiera")),
            "{state}: {r:#}"
        );
    }
}

/// Acceptance 3: the Toolforge outage in Puppet form — two hierarchy levels,
/// two CA files; the finding names both keys and both files.
#[test]
fn toolforge_in_puppet_form() {
    let dir = repo().join("testdata/incidents/2019-09-10-toolforge-puppet");
    let r = scan(&dir, &[]);
    let tm = of_rule(&r, "trust-mismatch");
    assert_eq!(tm.len(), 1, "{r:#}");
    let f = tm[0];
    let all = serde_json::to_string(f).unwrap();
    for needle in [
        "profile::kubernetes::master::etcd_ca",
        "profile::etcd::cert_file",
        "cloudinfra-puppetmaster-ca.pem",
        "tools-k8s-etcd-1.crt",
    ] {
        assert!(all.contains(needle), "{needle} missing from {all}");
    }
    assert_eq!(
        f["location"]["path"],
        "hieradata/role/kubernetes/master.yaml"
    );
    let div = of_rule(&r, "ca-divergence");
    assert_eq!(div.len(), 1, "{r:#}");
    let all = serde_json::to_string(div[0]).unwrap();
    assert!(
        all.contains("labs-puppetmaster") && all.contains("cloudinfra-puppetmaster"),
        "{all}"
    );
}

/// A plain-YAML helmfile's release values are layers (files and inline maps, later wins).
#[test]
fn helmfile_release_layers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("helmfile.d")).unwrap();
    std::fs::write(
        d.join("helmfile.d/helmfile.yaml"),
        "releases:\n  - name: api\n    chart: charts/api\n    values:\n      - values.yaml\n      - mesh: {certmanager: {enabled: true}}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("helmfile.d/values.yaml"),
        "mesh:\n  certmanager: {enabled: false, domains: [svc.example.org]}\n",
    )
    .unwrap();
    std::fs::write(
        d.join(".certdrift.yaml"),
        "components:\n  - name: api\n    values: [{helmfile: helmfile.d/helmfile.yaml, release: api}]\n    serves:\n      cert-manager: {when: mesh.certmanager.enabled, issuer: ClusterIssuer/internal, names: [\"api.{mesh.certmanager.domains[]}\"]}\n    reached_as: [api.svc.example.org, api.example.com]\n",
    )
    .unwrap();
    let r = scan(d, &["--allow-empty"]);
    let san = of_rule(&r, "san-coverage");
    assert_eq!(san.len(), 1, "{r:#}");
    assert!(san[0]["message"]
        .as_str()
        .unwrap()
        .contains("api.example.com"));
    // The inline layer, not values.yaml, switched cert-manager on.
    assert_eq!(san[0]["location"]["path"], "helmfile.d/helmfile.yaml");
}

/// Acceptance 1 of the Hiera issue: `certdrift lookup` on Wikimedia's production hierarchy.
#[test]
fn lookup_on_the_wikimedia_hierarchy() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let puppet = shared.join("corpus/wikimedia/operations-puppet");
    let args = [
        "lookup",
        "profile::kubernetes::deployment_server::general",
        "--hiera-config",
        "modules/puppetmaster/files/hiera/production.yaml",
        "--map-path",
        "/etc/puppet/hieradata=hieradata",
        "--fact",
        "site=eqiad",
        "--fact",
        "_role=deployment_server/kubernetes",
        "--fact",
        "hostname=deploy1003",
        "--merge",
        "deep",
        "--explain",
    ];
    let out = run(&puppet, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = stdout(&out);
    // Anchors and `<<:` merge keys resolved: every cluster carries its certmanager domains.
    assert!(
        s.contains("staging-eqiad:") && s.contains("k8s-staging.discovery.wmnet"),
        "{s}"
    );
    assert!(
        s.contains("svc.eqiad.wmnet") && s.contains("image_version"),
        "{s}"
    );
    // --explain names the levels and files.
    assert!(
        s.contains("hieradata/role/common/deployment_server/kubernetes.yaml"),
        "{s}"
    );
    assert!(
        s.contains("hieradata/role/eqiad/deployment_server/kubernetes.yaml"),
        "{s}"
    );
    assert!(s.contains("private node") && s.contains("Skipped"), "{s}");
    // A key that is nowhere: exit 1, like `puppet lookup`.
    let missing = run(
        &puppet,
        &[
            "lookup",
            "no::such::key",
            "--hiera-config",
            "modules/puppetmaster/files/hiera/production.yaml",
        ],
    );
    assert_eq!(missing.status.code(), Some(1));
}

/// `scopes:` names clusters; findings speak of them by name.
#[test]
fn named_scopes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = repo().join("testdata/source-divergence/fail");
    for c in ["eqiad", "codfw"] {
        let d = tmp.path().join("clusters").join(c).join("apps");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(
            src.join(format!("rendered/{c}/api.yaml")),
            d.join("api.yaml"),
        )
        .unwrap();
    }
    std::fs::write(
        tmp.path().join(".certdrift.yaml"),
        "scopes:\n  main-eqiad: [\"clusters/eqiad/**\"]\n  main-codfw: [\"clusters/codfw/**\"]\n",
    )
    .unwrap();
    let r = scan(tmp.path(), &[]);
    let sd = of_rule(&r, "source-divergence");
    assert_eq!(sd.len(), 1, "{r:#}");
    assert!(
        sd[0]["message"].as_str().unwrap().contains("in main-eqiad"),
        "{r:#}"
    );
}

/// An etcd cluster in two sites whose certificate source a Hiera boolean
/// decides (`profile::etcd::v3::use_pki_certs`: the PKI's etcd
/// intermediate, else a static certificate from Hiera).
fn etcd_sites(dir: &std::path::Path, eqiad: Option<bool>, codfw: Option<bool>) {
    let put = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    put(
        "hiera.yaml",
        "version: 5\ndefaults:\n  datadir: hieradata\n  data_hash: yaml_data\nhierarchy:\n  - name: site\n    path: \"site/%{::site}.yaml\"\n  - name: common\n    path: common.yaml\n",
    );
    put(
        "hieradata/common.yaml",
        "profile::etcd::v3::use_pki_certs: false\nprofile::etcd::cert_file: puppet:///modules/profile/etcd/etcd.pem\n",
    );
    for (site, v) in [("eqiad", eqiad), ("codfw", codfw)] {
        let text = match v {
            Some(b) => format!("# {site}\nprofile::etcd::v3::use_pki_certs: {b}\n"),
            None => format!("# {site}\n"),
        };
        put(&format!("hieradata/site/{site}.yaml"), &text);
    }
    put(
        ".certdrift.yaml",
        "hiera:\n  config: hiera.yaml\n  nodes:\n    etcd-eqiad: {site: eqiad}\n    etcd-codfw: {site: codfw}\ncomponents:\n  - name: etcd\n    for_each: {site: [eqiad, codfw]}\n    node: \"etcd-{site}\"\n    scope: \"{site}\"\n    serves:\n      cert-manager:\n        when: profile::etcd::v3::use_pki_certs\n        issuer: ClusterIssuer/pki-etcd\n        names: [\"etcd.{site}.example\"]\n      static: {hiera: profile::etcd::cert_file}\n",
    );
}

/// Issue "Hiera switches": the switch is a Hiera key; the sites that
/// disagree are a divergence at the Hiera line that decides, a flip is a
/// source change, agreement is silence, a switch never on is a note.
#[test]
fn a_hiera_key_switches_the_certificate_source() {
    let tmp = tempfile::tempdir().unwrap();
    etcd_sites(tmp.path(), None, Some(true));
    let r = scan(tmp.path(), &[]);
    let d = of_rule(&r, "source-divergence");
    assert_eq!(d.len(), 1, "{r:#}");
    assert_eq!(
        d[0]["location"]["path"], "hieradata/site/codfw.yaml",
        "{r:#}"
    );
    assert_eq!(d[0]["location"]["line"], 2);
    let msg = d[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("etcd in codfw gets its certificate from cert-manager"),
        "{msg}"
    );
    assert!(msg.contains("1 from static (etcd in eqiad)"), "{msg}");
    // The chain that led there, as `lookup --explain` shows it: the lower
    // level that set the key too, and the other site's deciding line.
    let related: Vec<(String, String)> = d[0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}:{}", r["path"].as_str().unwrap(), r["line"]),
                r["note"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        related.contains(&(
            "hieradata/common.yaml:1".into(),
            "profile::etcd::v3::use_pki_certs at hiera level \"common\", overridden by \"site\""
                .into()
        )),
        "{related:?}"
    );
    assert!(
        related.contains(&(
            "hieradata/common.yaml:1".into(),
            "etcd in eqiad: static, decided by false here".into()
        )),
        "{related:?}"
    );

    // One against one, the other way round: the PKI is the default and
    // codfw overrides it back to static. The odd one is still the site
    // that overrides, at its line, not the default's.
    etcd_sites(tmp.path(), None, Some(false));
    std::fs::write(
        tmp.path().join("hieradata/common.yaml"),
        "profile::etcd::v3::use_pki_certs: true\nprofile::etcd::cert_file: puppet:///modules/profile/etcd/etcd.pem\n",
    )
    .unwrap();
    let r = scan(tmp.path(), &[]);
    let d = of_rule(&r, "source-divergence");
    assert_eq!(d.len(), 1, "{r:#}");
    assert_eq!(
        d[0]["location"]["path"], "hieradata/site/codfw.yaml",
        "{r:#}"
    );
    assert_eq!(d[0]["location"]["line"], 2, "{r:#}");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("etcd in codfw gets its certificate from static"),
        "{msg}"
    );

    // Both sites agree: no divergence.
    etcd_sites(tmp.path(), Some(true), Some(true));
    let r = scan(tmp.path(), &[]);
    assert!(of_rule(&r, "source-divergence").is_empty(), "{r:#}");

    // The switch is never on: said once, at the `when`.
    etcd_sites(tmp.path(), None, None);
    let r = scan(tmp.path(), &[]);
    let never: Vec<&serde_json::Value> = of_rule(&r, "unresolved")
        .into_iter()
        .filter(|f| f["message"].as_str().unwrap().contains("never selected"))
        .collect();
    assert_eq!(never.len(), 1, "{r:#}");
    assert!(never[0]["location"]["path"]
        .as_str()
        .unwrap()
        .ends_with(".certdrift.yaml"));

    // The flip, as a change: BASE all static, HEAD codfw on PKI.
    let base = tempfile::tempdir().unwrap();
    etcd_sites(base.path(), None, None);
    etcd_sites(tmp.path(), None, Some(true));
    let config = tmp
        .path()
        .join(".certdrift.yaml")
        .to_string_lossy()
        .into_owned();
    let r = diff_json(["--config", &config], base.path(), tmp.path());
    let sc = of_rule(&r, "source-change");
    assert_eq!(sc.len(), 1, "{r:#}");
    let msg = sc[0]["message"].as_str().unwrap();
    assert!(msg.contains("codfw/etcd"), "{msg}");
    assert!(msg.contains("from static to cert-manager"), "{msg}");
    assert!(
        sc[0]["related"][0]["note"]
            .as_str()
            .unwrap()
            .ends_with("caused by hieradata/site/codfw.yaml:2"),
        "{r:#}"
    );

    // The override removed again: HEAD's deciding line (common.yaml) did
    // not change; the cause is the line that decided at BASE.
    let r = diff_json(["--config", &config], tmp.path(), base.path());
    let sc = of_rule(&r, "source-change");
    assert_eq!(sc.len(), 1, "{r:#}");
    assert_eq!(sc[0]["location"]["path"], "hieradata/common.yaml", "{r:#}");
    assert!(
        sc[0]["related"][0]["note"]
            .as_str()
            .unwrap()
            .ends_with("caused by hieradata/site/codfw.yaml:2 at BASE"),
        "{r:#}"
    );
}

/// A cert-manager external issuer whose signing intermediate (a cfssl
/// `label`) is set per cluster: the cluster that differs is reported at
/// its `label:` line.
#[test]
fn a_changed_cfssl_label_is_reported_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let put = |rel: &str, text: &str| {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    for (cluster, label) in [
        ("eqiad", "discovery"),
        ("codfw", "discovery"),
        ("staging", "staging-ca"),
    ] {
        put(
            &format!("values/{cluster}/cfssl-issuer-values.yaml"),
            &format!("# {cluster}\nissuer:\n  kind: ClusterIssuer\n  label: {label}\n"),
        );
    }
    put(
        ".certdrift.yaml",
        "components:\n  - name: api\n    for_each: {cluster: [eqiad, codfw, staging]}\n    scope: \"{cluster}\"\n    values: [\"values/{cluster}/cfssl-issuer-values.yaml\"]\n    serves:\n      cert-manager:\n        when: always\n        issuer: \"CfsslIssuer/{issuer.label}\"\n        names: [\"api.{cluster}.example\"]\n",
    );
    let r = scan(tmp.path(), &[]);
    let d = of_rule(&r, "source-divergence");
    assert_eq!(d.len(), 1, "{r:#}");
    assert_eq!(
        d[0]["location"]["path"],
        "values/staging/cfssl-issuer-values.yaml"
    );
    assert_eq!(d[0]["location"]["line"], 4, "{r:#}");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(
        msg.contains(
            "api in staging gets its certificate from cert-manager CfsslIssuer/staging-ca"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("2 from cert-manager CfsslIssuer/discovery (api in eqiad, api in codfw)"),
        "{msg}"
    );
}

/// `policies/examples/wikimedia-etcd-pki.yaml` on the real Wikimedia Hiera
/// data: every etcd cluster agrees today (PKI certificates); a copy whose
/// aux_k8s_etcd role data turns the PKI off is a divergence at that line.
#[test]
fn wikimedia_etcd_pki_switch_on_the_real_hieradata() {
    let Some(shared) = shared() else {
        eprintln!("skipping: ../shared missing");
        return;
    };
    let corpus = shared.join("corpus/wikimedia");
    let policy = repo().join("policies/examples/wikimedia-etcd-pki.yaml");
    let policy = policy.to_string_lossy().into_owned();
    let r = scan(&corpus, &["--policy", &policy]);
    assert!(of_rule(&r, "source-divergence").is_empty(), "{r:#}");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&corpus.join("operations-puppet"), &{
        let d = tmp.path().join("operations-puppet");
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let role = tmp
        .path()
        .join("operations-puppet/hieradata/role/common/etcd/v3/aux_k8s_etcd.yaml");
    let text = std::fs::read_to_string(&role).unwrap();
    std::fs::write(
        &role,
        text.replace(
            "profile::etcd::v3::use_pki_certs: true",
            "profile::etcd::v3::use_pki_certs: false",
        ),
    )
    .unwrap();
    let r = scan(tmp.path(), &["--policy", &policy]);
    let d = of_rule(&r, "source-divergence");
    assert_eq!(d.len(), 1, "{r:#}");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("etcd in aux-etcd-eqiad gets its certificate from puppet puppetmaster"),
        "{msg}"
    );
    assert!(msg.contains("3 from pki etcd"), "{msg}");
    assert_eq!(
        d[0]["location"]["path"],
        "operations-puppet/hieradata/role/common/etcd/v3/aux_k8s_etcd.yaml",
        "{r:#}"
    );
}

/// Source kinds with their CAs in the repository: etcd's certificate comes
/// from the PKI's etcd intermediate when a Hiera key says so, else from the
/// Puppet CA; kube-apiserver trusts the Puppet CA file. Switching etcd to
/// the PKI without moving the API server's trust is a trust mismatch,
/// checked with the real CA certificates.
#[test]
fn a_client_still_trusting_the_puppet_ca_after_a_switch_to_the_pki() {
    let ca = |cn: &str| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.self_signed(&key).unwrap().pem()
    };
    let tmp = tempfile::tempdir().unwrap();
    let put = |rel: &str, text: &str| {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    put(
        "pki/etcd-intermediate.pem",
        &ca("Wikimedia PKI etcd intermediate"),
    );
    put("puppet/ca.pem", &ca("Puppet CA: puppetmaster"));
    put(
        "hiera.yaml",
        "version: 5\ndefaults:\n  datadir: hieradata\n  data_hash: yaml_data\nhierarchy:\n  - name: common\n    path: common.yaml\n",
    );
    let policy = |use_pki: bool| {
        put(
            "hieradata/common.yaml",
            &format!("profile::etcd::v3::use_pki_certs: {use_pki}\n"),
        );
        put(
            ".certdrift.yaml",
            "hiera:\n  config: hiera.yaml\n  nodes:\n    etcd1: {}\ncomponents:\n  - name: etcd\n    node: etcd1\n    serves:\n      pki:\n        when: profile::etcd::v3::use_pki_certs\n        issuer: etcd\n        ca: {file: pki/etcd-intermediate.pem}\n      puppet:\n        when: always\n        issuer: puppetmaster\n        ca: {file: puppet/ca.pem}\n  - name: kube-apiserver\n    trusts: [{peer: etcd, file: puppet/ca.pem}]\n",
        );
    };
    policy(false);
    let r = scan(tmp.path(), &[]);
    assert!(of_rule(&r, "trust-mismatch").is_empty(), "{r:#}");
    policy(true);
    let r = scan(tmp.path(), &[]);
    let tm = of_rule(&r, "trust-mismatch");
    assert_eq!(tm.len(), 1, "{r:#}");
    let msg = tm[0]["message"].as_str().unwrap();
    assert!(msg.contains("pki etcd"), "{msg}");
    assert!(msg.contains("Wikimedia PKI etcd intermediate"), "{msg}");
}

/// `policies/examples/cfssl-issuer-rollout.yaml` on the incident's real
/// cfssl-issuer values: eqiad and codfw agree; a profile rolled out to one
/// cluster only is a divergence at that cluster's `profile:` line.
#[test]
fn cfssl_issuer_rollout_example() {
    let policy = repo().join("policies/examples/cfssl-issuer-rollout.yaml");
    let policy = policy.to_string_lossy().into_owned();
    let tree = repo().join("testdata/incidents/2023-08-09-mw-tls/trigger");
    let r = scan(&tree, &["--policy", &policy]);
    assert!(of_rule(&r, "source-divergence").is_empty(), "{r:#}");
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&tree, tmp.path());
    let codfw = tmp.path().join(
        "operations-deployment-charts/helmfile.d/admin_ng/values/codfw/cfssl-issuer-values.yaml",
    );
    let text = std::fs::read_to_string(&codfw).unwrap();
    assert!(text.contains("k8s_wikikube"), "{text}");
    std::fs::write(&codfw, text.replace("k8s_wikikube", "k8s_wikikube_2026")).unwrap();
    // A third cluster like eqiad, so that codfw is the odd one out (with
    // two, either could be).
    let values = tmp
        .path()
        .join("operations-deployment-charts/helmfile.d/admin_ng/values");
    std::fs::create_dir_all(values.join("dse")).unwrap();
    std::fs::copy(
        values.join("eqiad/cfssl-issuer-values.yaml"),
        values.join("dse/cfssl-issuer-values.yaml"),
    )
    .unwrap();
    let three = tmp.path().join("three.yaml");
    std::fs::write(
        &three,
        std::fs::read_to_string(&policy)
            .unwrap()
            .replace("[eqiad, codfw]", "[eqiad, codfw, dse]"),
    )
    .unwrap();
    let policy = three.to_string_lossy().into_owned();
    let r = scan(tmp.path(), &["--policy", &policy]);
    let d = of_rule(&r, "source-divergence");
    assert_eq!(d.len(), 1, "{r:#}");
    assert_eq!(
        d[0]["location"]["path"],
        "operations-deployment-charts/helmfile.d/admin_ng/values/codfw/cfssl-issuer-values.yaml"
    );
    assert_eq!(d[0]["location"]["line"], 3, "{r:#}");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(msg.contains("profile k8s_wikikube_2026"), "{msg}");
    assert!(msg.ends_with("(the intermediate differs)"), "{msg}");

    // The same rollout as a change (eqiad and codfw, as the example
    // policy has them): which part of the source moved, at its line.
    let policy = repo().join("policies/examples/cfssl-issuer-rollout.yaml");
    let policy = policy.to_string_lossy().into_owned();
    let r = diff_json(["--policy", &policy], &tree, tmp.path());
    let sc = of_rule(&r, "source-change");
    assert_eq!(sc.len(), 1, "{r:#}");
    let msg = sc[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("(the intermediate changes): codfw/cfssl-issuer"),
        "{msg}"
    );
    assert_eq!(
        sc[0]["location"]["path"],
        "operations-deployment-charts/helmfile.d/admin_ng/values/codfw/cfssl-issuer-values.yaml",
        "{r:#}"
    );
}

/// A component whose every switch is off and that has no `static` serves
/// nothing the policy can name: said once per spec, naming the members.
#[test]
fn a_component_with_no_source_selected_is_a_finding() {
    let tmp = tempfile::tempdir().unwrap();
    etcd_sites(tmp.path(), None, Some(true));
    std::fs::write(
        tmp.path().join(".certdrift.yaml"),
        "hiera:\n  config: hiera.yaml\n  nodes:\n    etcd-eqiad: {site: eqiad}\n    etcd-codfw: {site: codfw}\ncomponents:\n  - name: etcd\n    for_each: {site: [eqiad, codfw]}\n    node: \"etcd-{site}\"\n    scope: \"{site}\"\n    serves:\n      vault:\n        when: {not: profile::etcd::v3::use_pki_certs}\n        issuer: pki_int/etcd\n",
    )
    .unwrap();
    let r = scan(tmp.path(), &[]);
    let none: Vec<&serde_json::Value> = of_rule(&r, "unresolved")
        .into_iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .starts_with("no certificate source selected")
        })
        .collect();
    assert_eq!(none.len(), 1, "{r:#}");
    let msg = none[0]["message"].as_str().unwrap();
    assert!(msg.contains("1 of 2 component(s) (etcd in codfw)"), "{msg}");
    assert_eq!(none[0]["location"]["line"], 7, "{r:#}");
}
