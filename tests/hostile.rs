//! Bad input is normal input: each hostile file gives a finding or a skip
//! note, never a panic, a hang or a silent success; and no output ever
//! carries a byte of a private key.

mod common;
use common::*;
use std::path::Path;
use std::time::Instant;

fn scan_json(dir: &Path) -> (serde_json::Value, f64) {
    let start = Instant::now();
    let out = run(
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
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    (json(&out), secs)
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

#[test]
fn yaml_alias_bomb_is_not_expanded() {
    let mut y = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, c) in "bcdefghi".chars().enumerate() {
        let prev = (b'a' + i as u8) as char;
        y.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    assert!(y.len() < 1100);
    let (_d, report) = one_file("bomb.yaml", y.as_bytes());
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(malformed_at(&report, "bomb.yaml").len(), 1);
    assert_eq!(report["complete"], false);
}

#[test]
fn ten_thousand_nested_flow_sequences() {
    let (_d, report) = one_file("deep.yaml", "[".repeat(10_000).as_bytes());
    let m = malformed_at(&report, "deep.yaml");
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(report["complete"], false);
}

#[test]
fn four_thousand_nested_block_mappings() {
    let mut y = String::new();
    for i in 0..4000 {
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
