//! Stage 4, inventory: the one model every later stage reads.
//!
//! In: the [`FileFacts`] of every file, in path order. Out: an [`Inventory`]
//! — certificates keyed by SHA-256 fingerprint of the DER, each with every
//! place it is referenced; bundles (the certificates one value or file holds,
//! in order); private key sightings; read problems; scan counts.

pub mod compare;
pub mod graph;

use crate::discover::{Candidate, FileClass, Skip};
use crate::extract::kube::Object;
use crate::extract::{
    prefilter, CrlSighting, Deferred, ExtractOptions, FileFacts, KeySighting, Placeholder, Problem,
};
use crate::finding::Location;
use crate::x509::{CertInfo, Fingerprint};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// One place a certificate is referenced.
#[derive(Clone, Debug)]
pub struct Reference {
    /// Where.
    pub location: Location,
    /// How it was reached (`file`, `Secret ns/name key ca.crt`, `key tls.ca`).
    pub via: String,
    /// Index into [`Inventory::bundles`].
    pub bundle: usize,
    /// Whether this is a trust-bundle context.
    pub trust: bool,
}

/// A certificate and every place it appears.
#[derive(Clone, Debug)]
pub struct CertEntry {
    /// Its parsed facts.
    pub info: Arc<CertInfo>,
    /// Where it appears, in path order.
    pub refs: Vec<Reference>,
}

/// The certificates of one value or file, in order of appearance.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// Where the bundle starts (its first certificate).
    pub location: Location,
    /// How it was reached.
    pub via: String,
    /// Whether it is a trust-bundle context.
    pub trust: bool,
    /// Members in order, with the location of each.
    pub members: Vec<(Fingerprint, Location)>,
    /// The scaffold value it holds instead of certificates, if it does.
    pub placeholder: Option<Placeholder>,
    /// Whether it is what a text search found in a file that is not a PEM
    /// file, rather than one bundle.
    pub searched: bool,
}

/// Everything the scan found.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Certificates by fingerprint.
    pub certs: BTreeMap<Fingerprint, CertEntry>,
    /// Certificate groups by value or file.
    pub bundles: Vec<Bundle>,
    /// Private keys seen.
    pub keys: Vec<KeySighting>,
    /// Certificate revocation lists seen, in path order.
    pub crls: Vec<CrlSighting>,
    /// Read problems, for the `malformed` rule.
    pub problems: Vec<Problem>,
    /// Files read and examined.
    pub files_scanned: usize,
    /// Files not read, with why.
    pub skipped: Vec<Skip>,
    /// What made the scan incomplete, by file: `(path, cause)`, in path
    /// order (skipped files that may hold TLS material, reader limits,
    /// base64 of PEM that did not decode).
    pub gaps: Vec<(String, String)>,
    /// Files (or parts) read as unevaluated templates: only their PEM
    /// blocks and base64 `key: value` literals were checked.
    pub templates: Vec<String>,
    /// Whether every file was read to its end.
    pub complete: bool,
    /// Certificate sightings, counting repeats.
    pub sightings: usize,
    /// Kubernetes objects, in path order.
    pub objects: Vec<PlacedObject>,
    /// The bundle of each PEM/DER file, by (root, path): where `hostPath` mounts lead.
    pub file_bundles: HashMap<(usize, String), usize>,
    /// Components and trust edges, linked by [`Inventory::link`].
    pub graph: graph::Graph,
    /// Documents that can hold only a Service, unparsed, in path order
    /// (see [`Inventory::materialize_services`]).
    pub deferred: Vec<DeferredDoc>,
    /// How files were read: deferred documents are parsed the same way.
    pub extract: ExtractOptions,
}

/// A [deferred](crate::extract::Deferred) YAML document and its file.
#[derive(Clone, Debug)]
pub struct DeferredDoc {
    /// Root index of its file.
    pub root: usize,
    /// Its file's report path.
    pub path: String,
    /// The document.
    pub doc: Deferred,
}

/// What the scans of a diff share once the files are read: the Services
/// of deferred documents (parsed once for both sides when unchanged) and
/// chain verdicts.
#[derive(Debug, Default)]
pub struct LinkCache {
    /// Verdicts by chain, anchors, time, usage and name.
    pub verdicts: crate::verify::VerdictCache,
    /// Parsed deferred documents by (root, path, first line, text).
    services: crate::memo::Memo<ServiceKey, Parsed>,
}

type ServiceKey = (usize, String, u32, String);
type Parsed = (Vec<Object>, Vec<Problem>, bool);

impl LinkCache {
    fn parsed(&self, d: &DeferredDoc, parse: impl FnOnce() -> Parsed) -> Parsed {
        let key = (d.root, d.path.clone(), d.doc.line_base, d.doc.text.clone());
        self.services.get_or_insert_with(key, parse)
    }
}

/// Services parsed from deferred documents, and what parsing them met.
#[derive(Debug, Default)]
pub struct Materialized {
    /// The Services, in path order.
    pub services: Vec<PlacedObject>,
    /// Problems of the documents that may hold a named Service.
    pub problems: Vec<Problem>,
    /// Whether one of those documents was cut short, or a budget of the
    /// trust graph was spent (see `gaps`).
    pub incomplete: bool,
    /// What made the graph incomplete: `(place, cause)`.
    pub gaps: Vec<(String, String)>,
}

/// A Kubernetes object and where it was found.
#[derive(Clone, Debug)]
pub struct PlacedObject {
    /// The object; its bundle indexes are file-local.
    pub object: Object,
    /// Add to a file-local bundle index to get an index into [`Inventory::bundles`].
    pub bundle_base: usize,
    /// Root index of its file.
    pub root: usize,
    /// Its file's report path.
    pub path: String,
}

impl PlacedObject {
    /// The global bundle index of a file-local one.
    pub fn bundle(&self, local: Option<u32>) -> Option<usize> {
        local.map(|l| self.bundle_base + l as usize)
    }
}

impl Inventory {
    /// Merges per-file facts, given in the same order as `files`.
    pub fn build(
        files: &[Candidate],
        facts: Vec<FileFacts>,
        mut skipped: Vec<Skip>,
        extract: &ExtractOptions,
    ) -> Inventory {
        let mut inv = Inventory {
            complete: true,
            extract: extract.clone(),
            ..Inventory::default()
        };
        for (cand, f) in files.iter().zip(facts) {
            if let Some(reason) = f.skip {
                skipped.push(Skip {
                    path: cand.rel.clone(),
                    reason,
                });
                continue;
            }
            if f.scanned {
                inv.files_scanned += 1;
            }
            if f.incomplete {
                inv.complete = false;
            }
            inv.gaps
                .extend(f.gaps.into_iter().map(|g| (cand.rel.clone(), g)));
            if f.template {
                inv.templates.push(cand.rel.clone());
            }
            // File-local bundle indexes become global ones by an offset.
            let base = inv.bundles.len();
            inv.bundles.extend(f.bundles.into_iter().map(|b| Bundle {
                location: b.location,
                via: b.via,
                trust: b.trust,
                members: Vec::new(),
                placeholder: b.placeholder,
                searched: b.searched,
            }));
            if matches!(cand.class, FileClass::Pem | FileClass::Der) && inv.bundles.len() > base {
                inv.file_bundles.insert((cand.root, cand.rel.clone()), base);
            }
            for s in f.certs {
                inv.sightings += 1;
                let b = base + s.bundle as usize;
                let fp = s.cert.fingerprint.clone();
                if let Some(bundle) = inv.bundles.get_mut(b) {
                    bundle.members.push((fp.clone(), s.location.clone()));
                }
                inv.certs
                    .entry(fp)
                    .or_insert_with(|| CertEntry {
                        info: s.cert.clone(),
                        refs: Vec::new(),
                    })
                    .refs
                    .push(Reference {
                        location: s.location,
                        via: s.via,
                        bundle: b,
                        trust: s.trust,
                    });
            }
            inv.objects
                .extend(f.objects.into_iter().map(|object| PlacedObject {
                    object,
                    bundle_base: base,
                    root: cand.root,
                    path: cand.rel.clone(),
                }));
            inv.keys.extend(f.keys);
            inv.crls.extend(f.crls);
            inv.problems.extend(f.problems);
            inv.deferred
                .extend(f.deferred.into_iter().map(|doc| DeferredDoc {
                    root: cand.root,
                    path: cand.rel.clone(),
                    doc,
                }));
        }
        skipped.sort();
        // Symlinks and binary files hold nothing to read; anything else
        // skipped (too large, unreadable) is a gap in coverage.
        for s in skipped.iter().filter(|s| !s.is_benign()) {
            inv.complete = false;
            inv.gaps
                .push((s.path.clone(), format!("not read: {}", s.reason)));
        }
        inv.gaps.sort();
        inv.skipped = skipped;
        inv
    }

    /// Resolves the Kubernetes objects (and the policy's declared components) into the trust graph.
    pub fn link(
        &mut self,
        policy: &crate::policy::Policy,
        now: i64,
        map_paths: &[(String, String)],
        declared: Option<&graph::Declared<'_>>,
        cache: Option<&LinkCache>,
    ) {
        let mut builder = graph::Builder::new(self, policy, now, map_paths);
        builder.cache = cache;
        let (graph, late) = builder.build(declared);
        self.graph = graph;
        self.problems.extend(late.problems);
        if late.incomplete {
            self.complete = false;
            if late.gaps.is_empty() {
                self.gaps.push((
                    "(Service documents)".into(),
                    "a document that may hold a named Service was cut short".into(),
                ));
            }
            self.gaps.extend(late.gaps);
            self.gaps.sort();
        }
    }

    /// The Services of the deferred documents that may hold one named by
    /// `names`, with those documents' problems. A document is parsed only
    /// if one of the names occurs in it as a whole word
    /// ([`prefilter::NameFinder`]): a Service's name is in its document's
    /// bytes as written. With the prefilter off every document is parsed
    /// (the Services of the others are never looked up), and the problems
    /// kept are the same.
    pub fn materialize_services(
        &self,
        names: &BTreeSet<&str>,
        cache: Option<&LinkCache>,
    ) -> Materialized {
        use rayon::prelude::*;
        let finder = prefilter::NameFinder::new(names.iter().copied());
        let named = |d: &DeferredDoc| {
            finder
                .as_ref()
                .is_none_or(|f| f.may_name(d.doc.text.as_bytes()))
        };
        let parsed: Vec<_> = self
            .deferred
            .par_iter()
            .filter_map(|d| {
                let named = named(d);
                if !named && self.extract.prefilter {
                    return None;
                }
                let cand = Candidate {
                    root: d.root,
                    rel: d.path.clone(),
                    abs: std::path::PathBuf::new(),
                    size: 0,
                    class: FileClass::Yaml,
                    explicit: false,
                };
                let parse = || crate::extract::deferred_services(&cand, &d.doc, &self.extract);
                let (objects, problems, incomplete) = match cache {
                    Some(c) => c.parsed(d, parse),
                    None => parse(),
                };
                let services: Vec<PlacedObject> = objects
                    .into_iter()
                    .map(|object| PlacedObject {
                        object,
                        bundle_base: 0,
                        root: d.root,
                        path: d.path.clone(),
                    })
                    .collect();
                Some(if named {
                    (services, problems, incomplete)
                } else {
                    (services, Vec::new(), false)
                })
            })
            .collect();
        let mut out = Materialized::default();
        for (services, problems, incomplete) in parsed {
            out.services.extend(services);
            out.problems.extend(problems);
            out.incomplete |= incomplete;
        }
        out
    }

    /// Distinct certificates.
    pub fn distinct(&self) -> usize {
        self.certs.len()
    }
}

/// `CN=x (sha256:…)` for a fingerprint in the inventory (the short fingerprint if absent).
pub fn describe_fp(inv: &Inventory, fp: &crate::x509::Fingerprint) -> String {
    inv.certs
        .get(fp)
        .map(|e| crate::x509::describe_cert(&e.info))
        .unwrap_or_else(|| fp.short())
}

/// `CN=a (sha256:…), CN=b (sha256:…)` for a set of certificates; `no certificate` when empty.
pub fn describe_set(
    inv: &Inventory,
    set: &std::collections::BTreeSet<crate::x509::Fingerprint>,
) -> String {
    let v: Vec<String> = set.iter().map(|fp| describe_fp(inv, fp)).collect();
    if v.is_empty() {
        "no certificate".into()
    } else {
        v.join(", ")
    }
}
