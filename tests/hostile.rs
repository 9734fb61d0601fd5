//! Bad input is normal input: each hostile file gives a finding or a skip
//! note, never a panic, a hang or a silent success; and no output ever
//! carries a byte of a private key.

mod common;
use common::*;
use std::collections::HashSet;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// The bound for each hostile input in the debug build (1 s in
/// release), as CPU time of the certdrift process: the test machine is
/// shared with other builds, so wall time only guards against hangs.
const CPU_BOUND_SECS: f64 = 5.0;
/// Wall-clock guard: a run that takes this long is hung (a FIFO opened, say).
const WALL_BOUND_SECS: f64 = 60.0;

/// One run of the binary and what it cost: wall time, and through GNU
/// `/usr/bin/time` (when present) CPU time and peak resident memory.
struct Measured {
    out: Output,
    wall: f64,
    cpu: Option<f64>,
    rss_kb: Option<u64>,
}

/// Runs certdrift with `args` in `dir` (as `common::run` does) and measures it.
fn measured(dir: &Path, args: &[&str]) -> Measured {
    let bin = env!("CARGO_BIN_EXE_certdrift");
    let time = Path::new("/usr/bin/time");
    let stats = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = if time.exists() {
        let mut c = assert_cmd::Command::new(time);
        c.args(["-f", "%e %U %S %M", "-o"])
            .arg(stats.path())
            .arg(bin);
        c
    } else {
        assert_cmd::Command::new(bin)
    };
    for v in ENV_VARS {
        cmd.env_remove(v);
    }
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(Duration::from_secs(WALL_BOUND_SECS as u64 * 2));
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let wall = start.elapsed().as_secs_f64();
    // GNU time writes "Command exited with non-zero status N" before its line.
    let line = std::fs::read_to_string(stats.path()).unwrap_or_default();
    let fields: Vec<&str> = line.lines().last().unwrap_or_default().split(' ').collect();
    let (cpu, rss_kb) = match fields[..] {
        [_, user, sys, rss] => (
            user.parse::<f64>()
                .ok()
                .zip(sys.parse::<f64>().ok())
                .map(|(u, s)| u + s),
            rss.parse().ok(),
        ),
        _ => (None, None),
    };
    Measured {
        out,
        wall,
        cpu,
        rss_kb,
    }
}

/// Asserts what every hostile run must give: exit 0 or 1, or 2 for a scan
/// that fails closed (a reader limit hit, a file that could not be read:
/// stderr says the scan is incomplete) — never a panic's 101 — within the
/// time bounds.
fn checked(what: &str, m: &Measured) {
    let stderr = String::from_utf8_lossy(&m.out.stderr);
    let closed = m.out.status.code() == Some(2) && stderr.contains("the scan is incomplete");
    eprintln!(
        "{what}: {:.2}s wall, {} CPU, {} peak RSS",
        m.wall,
        m.cpu.map_or("?".into(), |c| format!("{c:.2}s")),
        m.rss_kb.map_or("?".into(), |k| format!("{} MB", k / 1024)),
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(
        matches!(m.out.status.code(), Some(0 | 1)) || closed,
        "{what}: exit {:?}: {stderr}",
        m.out.status.code()
    );
    assert!(m.wall < WALL_BOUND_SECS, "{what}: {:.1}s wall", m.wall);
    let cpu = m.cpu.unwrap_or(m.wall);
    assert!(cpu < CPU_BOUND_SECS, "{what}: {cpu:.2}s CPU");
}

fn scan_measured(dir: &Path) -> (serde_json::Value, Measured) {
    let m = measured(
        dir,
        &[
            "scan",
            "--now",
            NOW,
            "--format",
            "json",
            "--allow-empty",
            ".",
        ],
    );
    checked(&format!("scan {}", dir.display()), &m);
    (json(&m.out), m)
}

fn scan_json(dir: &Path) -> (serde_json::Value, f64) {
    let (report, m) = scan_measured(dir);
    (report, m.wall)
}

fn one_file(name: &str, content: &[u8]) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), content).unwrap();
    let (report, secs) = scan_json(dir.path());
    eprintln!("{name}: {secs:.3}s");
    (dir, report)
}

fn malformed_at(report: &serde_json::Value, path: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "malformed" && f["location"]["path"] == path)
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect()
}

/// A "billion laughs": `levels` anchored lists, each of `width` aliases to the one before.
fn alias_bomb(first: &str, levels: &str, width: usize) -> String {
    let mut y = format!("a: &a [{first}]\n");
    for c in levels.chars() {
        let prev = (c as u8 - 1) as char;
        let items = vec![format!("*{prev}"); width].join(",");
        y.push_str(&format!("{c}: &{c} [{items}]\n"));
    }
    y
}

/// The classic 342-byte bomb (387 million nodes expanded) and a 1 KB one
/// (16^17) are refused as `malformed` where the expansion crosses a million
/// nodes, in little memory (other YAML readers would expand them).
#[test]
fn yaml_alias_bombs_are_refused() {
    let lol = ["\"lol\""; 9].join(",");
    let bombs = [
        ("bomb342.yaml", alias_bomb(&lol, "bcdefghi", 9), 342, 7),
        (
            "bomb1k.yaml",
            alias_bomb(&["x"; 20].join(","), "bcdefghijklmnopqr", 16),
            1000,
            5,
        ),
    ];
    for (name, y, len, line) in bombs {
        assert_eq!(y.len(), len);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), &y).unwrap();
        let (report, m) = scan_measured(dir.path());
        assert_eq!(report["summary"]["files_scanned"], 1);
        let f: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "malformed")
            .collect();
        assert_eq!(f.len(), 1, "{report:#}");
        assert_eq!(f[0]["location"]["path"], name);
        assert_eq!(f[0]["location"]["line"], line, "{name}");
        assert!(f[0]["message"].as_str().unwrap().contains("alias bomb"));
        assert_eq!(report["complete"], false);
        if let Some(kb) = m.rss_kb {
            assert!(kb < 50 * 1024, "{name}: {kb} KB peak RSS");
        }
    }
}

#[test]
fn ten_thousand_nested_flow_sequences() {
    // In a Secret (a document that can hold a certificate): parsed, the
    // depth limit reported.
    let y = format!(
        "kind: Secret\napiVersion: v1\ndata:\n  ca.crt: {}",
        "[".repeat(10_000)
    );
    let (_d, report) = one_file("deep.yaml", y.as_bytes());
    let m = malformed_at(&report, "deep.yaml");
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(report["complete"], false);
}

#[test]
fn nesting_without_tls_content_is_not_parsed() {
    // Nothing in it can be a certificate fact: the prefilter skips it, so
    // it costs a byte search and reports nothing (certdrift is no linter).
    let (_d, report) = one_file("deep.yaml", "[".repeat(10_000).as_bytes());
    assert_eq!(malformed_at(&report, "deep.yaml"), Vec::<String>::new());
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(report["complete"], true);
}

#[test]
fn four_thousand_nested_block_mappings() {
    let mut y = String::from("kind: ConfigMap\napiVersion: v1\ndata:\n");
    for i in 1..4000 {
        y.push_str(&" ".repeat(i));
        y.push_str("k:\n");
    }
    assert!(y.len() > 7_000_000);
    let (_d, report) = one_file("deep.yaml", y.as_bytes());
    assert_eq!(malformed_at(&report, "deep.yaml").len(), 1);
}

#[test]
fn truncated_pem_is_malformed() {
    let (_d, report) = one_file(
        "ca.crt",
        b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0l7\n",
    );
    assert_eq!(malformed_at(&report, "ca.crt").len(), 1);
}

#[test]
fn binary_file_named_crt_is_malformed() {
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let (_d, report) = one_file("server.crt", &bytes);
    assert_eq!(malformed_at(&report, "server.crt").len(), 1);
}

#[test]
fn latin1_and_invalid_utf8_yaml_are_read_with_a_warning() {
    let (_d, report) = one_file("latin1.yaml", b"name: caf\xe9\nother: ok\n");
    assert_eq!(malformed_at(&report, "latin1.yaml").len(), 1);
    let (_d, report) = one_file("junk.yaml", b"a: \xff\xfe\xfd\nb: [\xc3\x28]\n");
    assert!(!malformed_at(&report, "junk.yaml").is_empty());
}

#[cfg(unix)]
#[test]
fn symlinks_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::os::unix::fs::symlink(p.join("b.pem"), p.join("a.pem")).unwrap();
    std::os::unix::fs::symlink(p.join("a.pem"), p.join("b.pem")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", p.join("zero.crt")).unwrap();
    std::fs::create_dir(p.join("sub")).unwrap();
    std::os::unix::fs::symlink(p, p.join("sub/loop")).unwrap();
    std::fs::write(p.join("ok.yaml"), "a: 1\n").unwrap();
    let (report, _) = scan_json(p);
    let skipped: Vec<&str> = report["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["a.pem", "b.pem", "sub/loop", "zero.crt"]);
    assert_eq!(report["summary"]["files_scanned"], 1);
}

/// The base64 body lines of every private key in a tree, and the base64
/// forms of Secret values that hold one.
fn key_material(dir: &Path) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut texts = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Some((_, v)) = line.split_once("tls.key: ") {
                out.push(v.trim().to_owned());
                let d = base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .unwrap();
                texts.push(String::from_utf8(d).unwrap());
            }
        }
        texts.push(text);
    }
    for text in texts {
        let mut inside = false;
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with("-----BEGIN") && l.contains("PRIVATE KEY") {
                inside = true;
            } else if l.starts_with("-----END") {
                inside = false;
            } else if inside && l.len() >= 16 {
                out.push(l.to_owned());
            }
        }
    }
    out
}

#[test]
fn no_private_key_byte_in_any_output() {
    let dir = repo().join("testdata/private-key-in-repo/fail");
    let material = key_material(&dir);
    assert!(material.len() >= 6, "{material:?}");
    let runs = [
        vec!["scan", "--now", NOW, "."],
        vec!["scan", "--now", NOW, "--format", "json", "."],
        vec!["inventory", "--now", NOW, "."],
        vec!["inventory", "--now", NOW, "--format", "json", "."],
        vec!["inventory", "--now", NOW, "--format", "csv", "."],
    ];
    for args in runs {
        let out = run(&dir, &args);
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        for m in &material {
            for w in m.as_bytes().windows(16).step_by(8) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!all.contains(w), "{args:?} prints key material {w:?}");
            }
        }
    }
}

/// A policy cannot make certdrift enumerate without bound: `for_each`
/// products and list placeholders are capped, with a note.
#[test]
fn policy_expansion_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<String> = (0..300).map(|i| format!("v{i}")).collect();
    let list = format!("[{}]", many.join(", "));
    std::fs::write(dir.path().join("values.yaml"), format!("d: {list}\n")).unwrap();
    std::fs::write(
        dir.path().join(".certdrift.yaml"),
        format!(
            "components:\n  - name: \"{{a}}-{{b}}\"\n    for_each: {{a: {list}, b: {list}}}\n    values: [values.yaml]\n    serves:\n      cert-manager: {{when: d, issuer: x, names: [\"{{d[]}}.{{d[]}}.{{d[]}}\"]}}\n    reached_as: [h.example.org]\n"
        ),
    )
    .unwrap();
    let start = Instant::now();
    let (report, _) = scan_json(dir.path());
    eprintln!("policy expansion: {:.2}s", start.elapsed().as_secs_f64());
    let notes: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule"] == "unresolved"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("for_each makes 90000")
        })
        .collect();
    assert_eq!(notes.len(), 1);
}

// ---------------------------------------------------------------------------
// Helpers for the cases below: real certificates and keys, generated here.

/// A self-signed certificate with common name `cn` (valid 1975–4096).
fn cert(cn: &str) -> rcgen::Certificate {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec![format!("{cn}.example.org")]).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.self_signed(&key).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `text` with every line indented by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

fn of_rule<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// (path, line, column) of a finding.
fn at(f: &serde_json::Value) -> (String, u64, u64) {
    let l = &f["location"];
    (
        l["path"].as_str().unwrap().to_owned(),
        l["line"].as_u64().unwrap(),
        l["column"].as_u64().unwrap(),
    )
}

/// `inventory --format json` of `dir`, checked like every hostile run.
fn inventory_json(dir: &Path) -> serde_json::Value {
    let m = measured(
        dir,
        &[
            "inventory",
            "--now",
            NOW,
            "--format",
            "json",
            "--allow-empty",
            ".",
        ],
    );
    checked(&format!("inventory {}", dir.display()), &m);
    json(&m.out)
}

/// Common names of the inventoried certificates, sorted.
fn subjects(inventory: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = inventory["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject_cn"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// YAML

/// Rendered Helm output can be one file of many documents: 100,000 small
/// ones are read whole (the certificate in the last one is found) and the
/// cost is linear (twice the documents, about twice the time).
#[test]
fn stream_of_100k_small_documents_is_read_in_linear_time() {
    let pem = cert("end-of-stream").pem();
    let last = format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: last}}\ndata:\n  ca.crt: |\n{}",
        indent(&pem, 4)
    );
    let mut cpu = Vec::new();
    for n in [50_000, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let mut y: String = (0..n).map(|i| format!("---\nk: {i}\n")).collect();
        y.push_str(&last);
        std::fs::write(dir.path().join("rendered.yaml"), y).unwrap();
        let (report, m) = scan_measured(dir.path());
        assert_eq!(report["summary"]["files_scanned"], 1);
        assert!(of_rule(&report, "malformed").is_empty(), "{report:#}");
        assert_eq!(report["summary"]["certificates"], 1, "{n} documents");
        assert_eq!(report["complete"], true);
        cpu.push(m.cpu.unwrap_or(m.wall));
    }
    // Linear, with slack for the fixed start-up cost and the clock's 10 ms ticks.
    assert!(
        cpu[1] < 2.6 * cpu[0] + 0.3,
        "50k: {:.2}s, 100k: {:.2}s",
        cpu[0],
        cpu[1]
    );
}

/// A key given twice in one mapping is a `malformed` warning at the second
/// one. Both values are still searched: a certificate or key in the shadowed
/// one is in the repository all the same.
#[test]
fn duplicate_keys_warn_at_the_second_key() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (cert("first-value"), cert("second-value"));
    std::fs::write(
        dir.path().join("secret.yaml"),
        format!(
            "apiVersion: v1\nkind: Namespace\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-tls\ndata:\n  tls.crt: {}\n  tls.crt: {}\n",
            b64(first.pem().as_bytes()),
            b64(second.pem().as_bytes())
        ),
    )
    .unwrap();
    let (report, _) = scan_measured(dir.path());
    let m = of_rule(&report, "malformed");
    assert_eq!(m.len(), 1, "{report:#}");
    // In the second document of the file: lines count from the file's top.
    assert_eq!(at(m[0]), ("secret.yaml".into(), 10, 3));
    assert_eq!(m[0]["severity"], "warning");
    let msg = m[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("\"tls.crt\"") && msg.contains("line 9"),
        "{msg}"
    );
    let inv = inventory_json(dir.path());
    assert_eq!(subjects(&inv), ["first-value", "second-value"]);
}

/// `!!binary` is base64 wherever it is: a DER certificate in it is
/// inventoried, a PEM key in it is a leak; bad base64 there is a warning.
/// Unknown tags keep the value a string (a PEM block in it is still read).
#[test]
fn binary_values_are_decoded_and_unknown_tags_kept_opaque() {
    let dir = tempfile::tempdir().unwrap();
    let der = b64(cert("binary-der").der());
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let mut lines = vec!["der: !!binary |".to_owned()];
    lines.extend(
        der.as_bytes()
            .chunks(76)
            .map(|c| format!("  {}", std::str::from_utf8(c).unwrap())),
    );
    let pem_line = lines.len() + 1;
    lines.push(format!(
        "pem: !!binary {}",
        b64(cert("binary-pem").pem().as_bytes())
    ));
    let key_line = lines.len() + 1;
    lines.push(format!("signing: !!binary {}", b64(key.as_bytes())));
    lines.push("vault: !vault |".to_owned());
    lines.extend(cert("vault-tagged").pem().lines().map(|l| format!("  {l}")));
    lines.push("custom: !custom {a: 1, b: [x]}".to_owned());
    lines.push("verbatim: !<tag:example.org,2024:x> 5".to_owned());
    let junk_line = lines.len() + 1;
    lines.push("junk: !!binary \"@@@ not base64 @@@\"".to_owned());
    std::fs::write(dir.path().join("tags.yaml"), lines.join("\n") + "\n").unwrap();

    let (report, _) = scan_measured(dir.path());
    let m = of_rule(&report, "malformed");
    assert_eq!(m.len(), 1, "{report:#}");
    assert_eq!(at(m[0]).1, junk_line as u64);
    assert!(m[0]["message"].as_str().unwrap().contains("!!binary"));
    let keys = of_rule(&report, "private-key-in-repo");
    assert_eq!(keys.len(), 1, "{report:#}");
    assert_eq!(at(keys[0]).1, key_line as u64);
    let inv = inventory_json(dir.path());
    assert_eq!(subjects(&inv), ["binary-der", "binary-pem", "vault-tagged"]);
    let lines_of: Vec<u64> = inv["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["references"][0]["line"].as_u64().unwrap())
        .collect();
    assert!(lines_of.contains(&(pem_line as u64)), "{lines_of:?}");
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

/// Text saved as "Unicode" by a Windows editor is UTF-16 with a byte order
/// mark: it is read (it used to be skipped as binary, hiding what it holds).
#[test]
fn utf16_files_with_a_bom_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let ca = format!("# ca\nca.crt: |\n{}", indent(&cert("utf16-le").pem(), 2));
    std::fs::write(p.join("le.yaml"), utf16(&ca, false)).unwrap();
    std::fs::write(p.join("be.crt"), utf16(&cert("utf16-be").pem(), true)).unwrap();
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    std::fs::write(
        p.join("notes.txt"),
        utf16(&format!("deploy key:\n{key}"), false),
    )
    .unwrap();
    let (report, _) = scan_measured(p);
    assert_eq!(report["summary"]["files_scanned"], 3, "{report:#}");
    assert!(of_rule(&report, "malformed").is_empty(), "{report:#}");
    let keys = of_rule(&report, "private-key-in-repo");
    assert_eq!(keys.len(), 1);
    assert_eq!(at(keys[0]), ("notes.txt".into(), 2, 1));
    let inv = inventory_json(p);
    assert_eq!(subjects(&inv), ["utf16-be", "utf16-le"]);
    let le = inv["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject_cn"] == "utf16-le")
        .unwrap();
    assert_eq!(le["references"][0]["line"], 3);
}

// ---------------------------------------------------------------------------
// PEM

/// A BEGIN closed by another label's END, junk around blocks and CRLF line
/// ends: the good blocks are read, the bad one is `malformed` at its line.
#[test]
fn pem_label_mismatch_garbage_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let pem = cert("pem-edge").pem();
    let body: Vec<&str> = pem.lines().collect();
    let mismatch = format!(
        "{}\n{}\n-----END X509 CRL-----\n",
        body[0],
        body[1..body.len() - 1].join("\n")
    );
    std::fs::write(p.join("mismatch.crt"), mismatch).unwrap();
    let garbage = format!(
        "junk before %%%\n\x01\x02 more\n{pem}trailing junk\n{}\n",
        body[0]
    );
    std::fs::write(p.join("garbage.crt"), garbage).unwrap();
    std::fs::write(p.join("crlf.crt"), pem.replace('\n', "\r\n")).unwrap();
    let (report, _) = scan_measured(p);
    let mut bad: Vec<(String, u64, u64)> =
        of_rule(&report, "malformed").into_iter().map(at).collect();
    bad.sort();
    let garbage_begin = 3 + body.len() as u64 + 1;
    assert_eq!(
        bad,
        [
            ("garbage.crt".into(), garbage_begin, 1),
            ("mismatch.crt".into(), 1, 1)
        ],
        "{report:#}"
    );
    let msgs: Vec<&str> = of_rule(&report, "malformed")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("END X509 CRL")), "{msgs:?}");
    // One certificate each from garbage.crt and crlf.crt.
    let inv = inventory_json(p);
    assert_eq!(
        inv["certificates"][0]["references"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

// ---------------------------------------------------------------------------
// Hiera

/// Hieradata that interpolates itself, a → b → a (a lookup Puppet fails),
/// and a chain where each of 40 keys doubles the one below (2^40 copies):
/// each is an `unresolved` note at the key's line, the message is short, and
/// the run is fast.
#[test]
fn hiera_loops_and_doubling_chains_are_unresolved_and_capped() {
    let dir = repo_dir();
    let p = dir.path();
    std::fs::create_dir(p.join("data")).unwrap();
    std::fs::write(
        p.join("hiera.yaml"),
        "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: common\n    path: common.yaml\n",
    )
    .unwrap();
    let mut data = vec![
        "self: \"%{lookup('self')}\"".to_owned(),
        "a: \"%{lookup('b')}\"".to_owned(),
        "b: \"%{hiera('a')}\"".to_owned(),
    ];
    for i in 0..40 {
        let next = format!("%{{lookup('d{}')}}", i + 1);
        data.push(format!("d{i}: \"{next}{next}\""));
    }
    data.push(format!("d40: {}", "x".repeat(64)));
    std::fs::write(p.join("data/common.yaml"), data.join("\n") + "\n").unwrap();
    std::fs::write(
        p.join(".certdrift.yaml"),
        "hiera: {config: hiera.yaml}\ncomponents:\n  - name: web\n    trusts:\n      - {peer: db, hiera: self}\n      - {peer: db, hiera: a}\n      - {peer: db, hiera: d0}\n",
    )
    .unwrap();
    let (report, m) = scan_measured(p);
    assert!(
        m.out.stdout.len() < 64 * 1024,
        "{} bytes of output",
        m.out.stdout.len()
    );
    let notes = of_rule(&report, "unresolved");
    let line_of = |needle: &str| -> Vec<u64> {
        notes
            .iter()
            .filter(|f| {
                f["message"].as_str().unwrap().contains(needle)
                    && f["location"]["path"] == "data/common.yaml"
            })
            .map(|f| f["location"]["line"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        line_of("recursive lookup detected: self -> self"),
        [1],
        "{report:#}"
    );
    assert_eq!(
        line_of("recursive lookup detected: a -> b -> a"),
        [3],
        "{report:#}"
    );
    assert_eq!(line_of("over 1 MiB"), [19], "{report:#}");
    for f in &notes {
        let len = f["message"].as_str().unwrap().len();
        assert!(len < 1000, "a {len}-byte message");
    }
    // The policy's references to the three keys are unresolved too.
    let refs = notes
        .iter()
        .filter(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with(".certdrift.yaml")
        })
        .count();
    // Two of them fail as Puppet's lookups do (a recursive lookup): one more note each,
    // and the scan is incomplete.
    assert_eq!(refs, 5, "{report:#}");
}

// ---------------------------------------------------------------------------
// Files

/// Special files and links out of the root: a FIFO (opening it would block
/// for ever), links to a file and to a directory outside the root holding a
/// canary, which a policy names both directly and as a Hiera datadir. None
/// is opened: the canary never appears in any output.
#[cfg(unix)]
#[test]
fn special_files_and_links_out_of_the_root_are_never_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    const CANARY: &str = "CANARY-5e0b2c71";
    let canary_pem = format!("# {CANARY}\n{}", cert(CANARY).pem());
    std::fs::write(outside.join("canary.pem"), &canary_pem).unwrap();
    std::fs::write(outside.join("common.yaml"), format!("ca: {CANARY}.pem\n")).unwrap();
    std::os::unix::fs::symlink(outside.join("canary.pem"), root.join("ca.pem")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("data")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.pem")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.yaml"))
        .status()
        .is_ok_and(|s| s.success());
    if !fifo {
        eprintln!("mkfifo not available: the FIFO case is not covered");
    }
    std::fs::write(root.join("ok.yaml"), "a: 1\n").unwrap();
    std::fs::write(
        root.join("hiera.yaml"),
        "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: common\n    path: common.yaml\n",
    )
    .unwrap();
    std::fs::write(
        root.join(".certdrift.yaml"),
        "hiera: {config: hiera.yaml}\ncomponents:\n  - name: web\n    trusts:\n      - {peer: db, file: ca.pem}\n      - {peer: db, hiera: ca}\n",
    )
    .unwrap();

    let (report, _) = scan_measured(&root);
    let skipped: Vec<(&str, &str)> = report["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    let link = "symbolic link (not followed)";
    let mut expected = vec![("ca.pem", link), ("data", link)];
    if fifo {
        expected.push(("pipe.yaml", "not a regular file"));
    }
    expected.push(("zero.pem", link));
    assert_eq!(skipped, expected);
    assert_eq!(report["summary"]["certificates"], 0);
    let runs: [&[&str]; 5] = [
        &["scan", "--now", NOW, "."],
        &["scan", "--now", NOW, "--format", "markdown", "."],
        &["inventory", "--now", NOW, "--format", "json", "."],
        &["graph", "--now", NOW, "."],
        &[
            "lookup",
            "ca",
            ".",
            "--hiera-config",
            "hiera.yaml",
            "--explain",
        ],
    ];
    for args in runs {
        let m = measured(&root, args);
        let all = format!("{}{}", stdout(&m.out), stderr(&m.out));
        assert!(!all.contains(CANARY), "{args:?} shows the canary:\n{all}");
        assert!(m.wall < WALL_BOUND_SECS);
    }
}

/// A 100 MB random file is skipped by its size, unread (no time spent on
/// it), and the report says the scan is incomplete.
#[test]
fn hundred_megabyte_random_file_is_skipped() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut f = std::fs::File::create(p.join("bundle.pem")).unwrap();
    let mut random = std::fs::File::open("/dev/urandom").unwrap().take(100 << 20);
    assert_eq!(std::io::copy(&mut random, &mut f).unwrap(), 100 << 20);
    drop(f);
    std::fs::write(p.join("ok.yaml"), "a: 1\n").unwrap();
    let (report, m) = scan_measured(p);
    assert_eq!(report["summary"]["files_scanned"], 1);
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped[0]["path"], "bundle.pem", "{report:#}");
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("larger than --max-file-size (104857600 > "));
    // A byte search found nothing a certificate or key starts with: the
    // skip loses nothing, and the scan passes.
    assert!(
        reason.ends_with("no PEM or base64-PEM marker in it"),
        "{reason}"
    );
    assert_eq!(report["complete"], true);
    if let Some(kb) = m.rss_kb {
        assert!(kb < 50 * 1024, "{kb} KB: the file was read");
    }
}

/// In git mode a committed symlink (mode 120000) is a link, never file
/// contents: neither a link whose target text is itself a PEM certificate
/// nor a link to a canary outside the repository is read, while a regular
/// file in the same commit is.
#[cfg(unix)]
#[test]
fn git_mode_reads_symlink_blobs_as_links() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, outside) = (tmp.path().join("repo"), tmp.path().join("outside"));
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    const CANARY: &str = "CANARY-9d41aa03";
    std::fs::write(outside.join("canary.pem"), cert(CANARY).pem()).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("ok.yaml"), "a: 1\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    // A link's blob is its target: here a whole PEM certificate.
    let target = cert("link-target-text").pem();
    std::os::unix::fs::symlink(&target, repo.join("inline.pem")).unwrap();
    std::os::unix::fs::symlink(outside.join("canary.pem"), repo.join("canary.pem")).unwrap();
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    std::fs::write(repo.join("deploy.key"), key).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "head"]);
    let mode = git(&repo, &["ls-tree", "HEAD", "inline.pem"]);
    assert!(mode.starts_with("120000 "), "{mode}");
    for format in ["json", "text", "markdown"] {
        let args = [
            "diff", "--now", NOW, "--format", format, "--repo", ".", &base, "HEAD",
        ];
        let m = measured(&repo, &args);
        checked(&format!("diff --format {format}"), &m);
        let all = format!("{}{}", stdout(&m.out), stderr(&m.out));
        assert!(!all.contains(CANARY), "{format}: {all}");
        assert!(!all.contains("link-target-text"), "{format}: {all}");
        if format == "json" {
            let report = json(&m.out);
            // The link is listed as skipped (as in directory mode), never read.
            let skipped = report["summary"]["skipped"].as_array().unwrap();
            assert!(
                skipped.iter().any(|s| s["path"] == "inline.pem"
                    && s["reason"].as_str().unwrap().contains("symbolic link")),
                "{report:#}"
            );
            let keys: Vec<String> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule"] == "private-key-in-repo")
                .map(|f| f["location"]["path"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(keys, ["deploy.key"], "{report:#}");
        }
    }
}

// ---------------------------------------------------------------------------
// Secrets

/// Runs `program args`, returning its stdout; `None` (with a message) when
/// the program is missing or fails.
fn generate(program: &str, args: &[&str]) -> Option<String> {
    match std::process::Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => {
            eprintln!("skipped: {program} {args:?} failed: {}", stderr(&o));
            None
        }
        Err(e) => {
            eprintln!("skipped: cannot run {program}: {e}");
            None
        }
    }
}

/// One private key of every common kind, as PEM: (name, PEM label, PEM).
fn private_keys(scratch: &Path) -> Vec<(&'static str, &'static str, String)> {
    let mut keys = vec![(
        "pkcs8",
        "PRIVATE KEY",
        rcgen::KeyPair::generate().unwrap().serialize_pem(),
    )];
    let openssl: [(&str, &str, &[&str]); 3] = [
        (
            "pkcs1",
            "RSA PRIVATE KEY",
            &["genrsa", "-traditional", "2048"],
        ),
        (
            "sec1",
            "EC PRIVATE KEY",
            &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
        ),
        (
            "encrypted-pkcs8",
            "ENCRYPTED PRIVATE KEY",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-aes256",
                "-pass",
                "pass:hostile",
            ],
        ),
    ];
    for (name, label, args) in openssl {
        if let Some(pem) = generate("openssl", args) {
            assert!(pem.contains(&format!("BEGIN {label}-----")), "{pem}");
            keys.push((name, label, pem));
        }
    }
    let ssh = scratch.join("id_ed25519");
    let path = ssh.to_str().unwrap();
    if generate(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path],
    )
    .is_some()
    {
        keys.push((
            "openssh",
            "OPENSSH PRIVATE KEY",
            std::fs::read_to_string(&ssh).unwrap(),
        ));
    }
    keys
}

/// Every 16-character window of every key's base64 body, and of the base64
/// form of the whole PEM (what a Secret's `data` holds).
fn key_windows(keys: &[(&str, &str, String)]) -> HashSet<String> {
    let mut out = HashSet::new();
    for (_, _, pem) in keys {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        for text in [body, b64(pem.as_bytes())] {
            for w in text.as_bytes().windows(16) {
                out.insert(String::from_utf8(w.to_vec()).unwrap());
            }
        }
    }
    out
}

/// A leaked 16-character window of key material in `text`, if any.
fn leak(text: &str, windows: &HashSet<String>) -> Option<String> {
    text.as_bytes()
        .windows(16)
        .filter_map(|w| std::str::from_utf8(w).ok())
        .find(|w| windows.contains(*w))
        .map(str::to_owned)
}

/// PKCS#1, PKCS#8, encrypted PKCS#8, SEC1 and OpenSSH keys as files, as
/// YAML values (also Hiera data), and base64 in a Secret: each is a
/// `private-key-in-repo` finding, and no output of any command, format or
/// verbosity flag carries a 16-character window of any of them, stderr
/// included.
#[test]
fn no_private_key_material_in_any_output() {
    let scratch = tempfile::tempdir().unwrap();
    let keys = private_keys(scratch.path());
    eprintln!(
        "key kinds: {:?}",
        keys.iter().map(|k| k.0).collect::<Vec<_>>()
    );
    let tmp = tempfile::tempdir().unwrap();
    let (empty, tree) = (tmp.path().join("empty"), tmp.path().join("tree"));
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(tree.join("data")).unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    let mut expected = Vec::new();
    let mut values = String::new();
    let mut secret = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n  name: keys\ndata:\n");
    for (name, _, pem) in &keys {
        let file = if *name == "openssh" {
            "id_ed25519".to_owned()
        } else {
            format!("{name}.key")
        };
        std::fs::write(tree.join(&file), pem).unwrap();
        expected.push((file, 1));
        expected.push((
            "data/common.yaml".to_owned(),
            values.lines().count() as u64 + 2,
        ));
        values.push_str(&format!("{name}: |\n{}", indent(pem, 2)));
        expected.push(("secret.yaml".to_owned(), secret.lines().count() as u64 + 1));
        secret.push_str(&format!("  {name}.key: {}\n", b64(pem.as_bytes())));
    }
    // Hiera data also keeps keys base64-encoded (for a Secret it renders):
    // found there too, since base64 of a PEM block says what it is.
    for (name, _, pem) in &keys {
        expected.push((
            "data/common.yaml".to_owned(),
            values.lines().count() as u64 + 1,
        ));
        values.push_str(&format!("{name}_b64: {}\n", b64(pem.as_bytes())));
    }
    std::fs::write(tree.join("data/common.yaml"), &values).unwrap();
    std::fs::write(tree.join("secret.yaml"), &secret).unwrap();
    std::fs::write(
        tree.join("hiera.yaml"),
        "version: 5\ndefaults:\n  datadir: data\nhierarchy:\n  - name: common\n    path: common.yaml\n",
    )
    .unwrap();
    // A policy that (wrongly) names each key as a CA: the unresolved
    // reference must describe the value, not quote it.
    let trusts: String = keys
        .iter()
        .map(|(name, ..)| format!("      - {{peer: db, hiera: {name}}}\n"))
        .collect();
    std::fs::write(
        tree.join(".certdrift.yaml"),
        format!("hiera: {{config: hiera.yaml}}\ncomponents:\n  - name: web\n    trusts:\n{trusts}"),
    )
    .unwrap();

    let (report, _) = scan_measured(&tree);
    let mut found: Vec<(String, u64)> = of_rule(&report, "private-key-in-repo")
        .into_iter()
        .flat_map(common::places_of)
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_owned(),
                l["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected, "{report:#}");

    let windows = key_windows(&keys);
    let mut runs: Vec<Vec<String>> = Vec::new();
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for flags in [&[][..], &["--progress"], &["--show-suppressed"]] {
        for format in [
            "text", "json", "csv", "sarif", "junit", "github", "markdown",
        ] {
            if format != "csv" {
                let mut a = args(&["scan", "--now", NOW, "--format", format, "tree"]);
                a.extend(args(flags));
                runs.push(a);
            }
            if matches!(format, "text" | "json" | "csv") {
                // inventory has no --show-suppressed.
                let mut a = args(&["inventory", "--now", NOW, "--format", format, "tree"]);
                a.extend(args(flags).into_iter().filter(|f| f != "--show-suppressed"));
                runs.push(a);
            }
            if format != "csv" {
                let mut a = args(&["diff", "--now", NOW, "--format", format, "empty", "tree"]);
                a.extend(args(flags));
                runs.push(a);
            }
        }
    }
    for format in ["dot", "mermaid"] {
        runs.push(args(&["graph", "--now", NOW, "--format", format, "tree"]));
        runs.push(args(&[
            "graph",
            "--now",
            NOW,
            "--format",
            format,
            "--progress",
            "tree",
        ]));
    }
    for (name, ..) in &keys {
        runs.push(args(&[
            "lookup",
            name,
            "tree",
            "--hiera-config",
            "hiera.yaml",
        ]));
        runs.push(args(&[
            "lookup",
            name,
            "tree",
            "--hiera-config",
            "hiera.yaml",
            "--explain",
        ]));
        let b = format!("{name}_b64");
        runs.push(args(&[
            "lookup",
            &b,
            "tree",
            "--hiera-config",
            "hiera.yaml",
            "--explain",
        ]));
    }
    let out_file = tmp.path().join("out.sarif");
    runs.push(args(&[
        "scan",
        "--now",
        NOW,
        "--output",
        &format!("sarif={}", out_file.display()),
        "--write-baseline",
        tmp.path().join("baseline.json").to_str().unwrap(),
        "tree",
    ]));
    for a in &runs {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let m = measured(tmp.path(), &a);
        checked(&a.join(" "), &m);
        for (what, text) in [("stdout", stdout(&m.out)), ("stderr", stderr(&m.out))] {
            if let Some(w) = leak(&text, &windows) {
                panic!("{a:?} {what} carries key material {w:?}:\n{text}");
            }
        }
    }
    for f in [out_file, tmp.path().join("baseline.json")] {
        let text = std::fs::read_to_string(&f).unwrap();
        assert_eq!(leak(&text, &windows), None, "{}", f.display());
    }
}

#[test]
fn base64_pem_under_any_key_is_read() {
    use base64::Engine;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["api.example.org".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let values = format!(
        "# a Helm values file: the chart copies these into a Secret\nservice:\n  tls:\n    crt: {}\n    key: {}\n",
        b64(&cert.pem()),
        b64(&key.serialize_pem())
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("values.yaml"), &values).unwrap();
    let out = common::run(
        dir.path(),
        &["inventory", ".", "--now", NOW, "--format", "json"],
    );
    let report = json(&out);
    assert_eq!(
        report["certificates"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    let keys = report["private_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{report:#}");
    assert_eq!(keys[0]["location"]["line"], 5, "{report:#}");
    let scan = common::run(dir.path(), &["scan", ".", "--now", NOW, "--format", "json"]);
    let findings = json(&scan);
    assert!(
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "private-key-in-repo" && f["location"]["line"] == 5),
        "{findings:#}"
    );
    let outer: String = b64(&key.serialize_pem());
    let inner: String = key
        .serialize_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for window in [
        &outer[40..56],
        &outer[100..116],
        &inner[20..36],
        &inner[60..76],
    ] {
        assert!(!common::stdout(&scan).contains(window));
        assert!(!common::stdout(&out).contains(window));
    }
}

#[test]
fn der_private_keys_in_files_and_secrets_are_found() {
    use base64::Engine;
    let key = rcgen::KeyPair::generate().unwrap();
    let der = key.serialize_der();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.key"), &der).unwrap();
    std::fs::write(dir.path().join("client.der"), &der).unwrap();
    std::fs::write(
        dir.path().join("secret.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: k\ndata:\n  tls.key: {}\n",
            base64::engine::general_purpose::STANDARD.encode(&der)
        ),
    )
    .unwrap();
    let out = common::run(dir.path(), &["scan", ".", "--now", NOW, "--format", "json"]);
    let report = json(&out);
    let mut at: Vec<(String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "private-key-in-repo")
        .flat_map(common::places_of)
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_owned(),
                l["line"].as_u64().unwrap(),
            )
        })
        .collect();
    at.sort();
    assert_eq!(
        at,
        [
            ("client.der".to_owned(), 1),
            ("secret.yaml".to_owned(), 6),
            ("server.key".to_owned(), 1)
        ],
        "{report:#}"
    );
    // No certificate-parse error for a key, and no key bytes in the report.
    assert!(
        common::rules_of(&report).iter().all(|r| r != "malformed"),
        "{report:#}"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    assert!(!common::stdout(&out).contains(&b64[30..46]));
}

/// A small policy whose `for_each` products and list templates multiply
/// (tens of millions of names unbounded) is capped by the scan's budget:
/// a warning at the policy, an incomplete scan (exit 2), a bounded report,
/// and at most a thousand findings of one rule shown.
#[test]
fn policy_expansion_is_budgeted() {
    let dir = repo_dir();
    let d = dir.path();
    let list: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
    std::fs::write(
        d.join("values.yaml"),
        format!(
            "l: [{}]\nmesh: {{certmanager: {{enabled: true}}}}\n",
            list.join(",")
        ),
    )
    .unwrap();
    let xs: Vec<String> = (0..32).map(|i| i.to_string()).collect();
    let xs = xs.join(",");
    let one = format!(
        "  - name: \"c{{a}}{{b}}\"\n    for_each: {{a: [{xs}], b: [{xs}]}}\n    values: [values.yaml]\n    serves: {{cert-manager: {{when: mesh.certmanager.enabled, issuer: \"I/x\", names: [\"{{l[]}}.{{l[]}}.{{l[]}}\"]}}}}\n    reached_as: [\"{{l[]}}{{l[]}}.{{l[]}}\"]\n"
    );
    std::fs::write(
        d.join(".certdrift.yaml"),
        format!("components:\n{}", one.repeat(4)),
    )
    .unwrap();
    let (report, m) = scan_measured(d);
    checked("policy bomb", &m);
    assert_eq!(m.out.status.code(), Some(2));
    assert_eq!(report["complete"], false);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "malformed" && f["message"].as_str().unwrap().contains("budget")));
    let san = findings
        .iter()
        .filter(|f| f["rule"] == "san-coverage")
        .count();
    assert!(san <= 1_001, "{san} san-coverage findings shown");
    assert!(
        m.out.stdout.len() < 5_000_000,
        "{} bytes",
        m.out.stdout.len()
    );
    if let Some(kb) = m.rss_kb {
        assert!(kb < 500 * 1024, "{kb} KB peak RSS");
    }
}
