//! The trust graph: who serves what, who trusts whom, and where each comes from.
//!
//! In: the inventory's Kubernetes objects and bundles, and the policy that
//! says what each flag means. Out: a [`Graph`] of components (workloads,
//! webhook configurations, kubeconfigs), the certificates they present
//! (serving and client identities, each with its [`Source`]), the trust
//! references they hold for each peer, a [`Verdict`] for every
//! trust-reference/peer pair, and [`Note`]s for references that could not
//! be followed. Rules read this; nothing here decides severities.
//!
//! References resolve to the *nearest* matching object: the same file, then
//! the same directory, then the nearest common ancestor — a repository of
//! rendered output holds the same names once per cluster.
//!
//! This file holds the model (the types above) and the [`Builder`]'s state;
//! the work is by concern: `build.rs` resolves workloads, webhooks and
//! kubeconfigs into components and references (and is where [`Builder::build`]
//! runs it all), `checks.rs` decides each trust reference against its
//! peers, `declared.rs` adds the policy's declared components, `urls.rs`
//! reads hosts, ports and Service names out of URLs.

mod build;
mod checks;
mod declared;
mod shapes;
mod urls;

pub use declared::Declared;
pub use urls::{join_host_port, split_host_port, url_address, url_host};
use urls::{ns_match, service_ref};

use super::{Inventory, PlacedObject};
use crate::extract::kube::{Body, ClientConfig, Container, PodSpec, VolumeSource};
use crate::finding::Location;
use crate::policy::{Action, Policy, Role};
use crate::verify::{self, Usage, Verdict};
use crate::x509::{self, CertInfo, Fingerprint, San};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// A component: a workload (container), a webhook configuration, a kubeconfig.
#[derive(Clone, Debug)]
pub struct Component {
    /// `namespace/name` (and `/container` when a pod has several TLS containers).
    pub name: String,
    /// The object's kind.
    pub kind: String,
    /// The policy role it matched (`etcd`), if any.
    pub role: Option<String>,
    /// Its scope: the directory of its file (one cluster's rendered output).
    pub scope: String,
    /// Where it is declared.
    pub location: Location,
    /// Index into the inventory's objects (`usize::MAX` for policy components).
    pub object: usize,
    /// The files that define this component alone (its manifest; a release's own values files).
    pub own_files: Vec<String>,
    /// The TLS verifier it is as a client, when its role or declaration in
    /// the policy says (`client:`); see [`Graph::client`].
    pub client: Option<crate::policy::Client>,
}

/// Who verifies for a trusting component, as far as certdrift knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// A Go program (`crypto/x509`): who, for messages.
    Go(String),
    /// A client that verifies strictly (OpenSSL `-x509_strict`, Python
    /// 3.13), because the policy says so.
    Strict,
    /// Known to be neither (a proxy, a mesh's own check, `client: other`).
    Other,
    /// Not known.
    Unknown,
}

/// Who verifies for `comp` on a trust reference (`mesh`: a mesh's own CA
/// check against its anchors): the policy's `client:` first, else Go for
/// the Kubernetes components and what kube-apiserver calls
/// (`verify::golang::go_client`), else not strict for the proxies and
/// kubeconfigs `verify::strict::may_be_strict` names and for mesh checks,
/// else unknown. [`Graph::client`] asks it for a trust reference.
fn client_of(comp: &Component, mesh: bool) -> ClientKind {
    use crate::policy::Client;
    match comp.client {
        Some(Client::Go) => ClientKind::Go(format!("{} (the policy's client: go)", comp.name)),
        Some(Client::Strict) => ClientKind::Strict,
        Some(Client::Other) => ClientKind::Other,
        None => match crate::verify::golang::go_client(comp.role.as_deref(), &comp.kind) {
            Some(who) => ClientKind::Go(who),
            None if mesh || !crate::verify::strict::may_be_strict(&comp.kind) => ClientKind::Other,
            None => ClientKind::Unknown,
        },
    }
}

/// Where a presented certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A certificate kept in the repository.
    Static,
    /// A cert-manager `Certificate`, before anything is issued.
    CertManager {
        /// Who issues it: `cert-manager`, or a policy's `pki`, `puppet`,
        /// `vault`, `acme`.
        kind: String,
        /// `ClusterIssuer/name` or `Issuer/name` (with the group when not
        /// cert-manager.io); a PKI intermediate's, a Vault role's name.
        issuer: String,
        /// The signing intermediate or profile within the issuer (a cfssl
        /// label, a Vault role), when the policy names it.
        intermediate: Option<String>,
        /// The `Certificate`'s location.
        certificate: Location,
        /// Its `dnsNames` and `ipAddresses`.
        names: Vec<String>,
        /// The issuing CA, when the issuer is a `ca` issuer whose Secret is in the repository.
        issuer_ca: Option<Fingerprint>,
    },
    /// It could not be followed; why.
    Unresolved(String),
}

impl Source {
    /// `static`, `cert-manager ClusterIssuer/x`, `unresolved`.
    pub fn label(&self) -> String {
        match self {
            Source::Static => "static".into(),
            Source::CertManager {
                kind,
                issuer,
                intermediate,
                ..
            } => match intermediate {
                Some(i) => format!("{kind} {issuer} (intermediate {i})"),
                None => format!("{kind} {issuer}"),
            },
            Source::Unresolved(_) => "unresolved".into(),
        }
    }

    /// The parts of a source, for saying which differs: kind, issuer,
    /// intermediate, issuing CA (its fingerprint).
    fn parts(&self) -> [(&'static str, Option<String>); 4] {
        match self {
            Source::CertManager {
                kind,
                issuer,
                intermediate,
                issuer_ca,
                ..
            } => [
                ("kind", Some(kind.clone())),
                ("issuer", Some(issuer.clone())),
                ("intermediate", intermediate.clone()),
                ("issuing CA", issuer_ca.as_ref().map(|f| f.short())),
            ],
            other => [
                ("kind", Some(other.label())),
                ("issuer", None),
                ("intermediate", None),
                ("issuing CA", None),
            ],
        }
    }

    /// Which parts of two sources differ, in words: `the kind`, `the
    /// intermediate`, `the issuer and the issuing CA`; `None` when they
    /// are the same. A different kind is said alone (everything else
    /// follows from it).
    pub fn differing_parts(&self, other: &Source) -> Option<String> {
        let (a, b) = (self.parts(), other.parts());
        if a[0] != b[0] {
            return Some("the kind".into());
        }
        let differ: Vec<String> = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x.1 != y.1)
            .map(|(x, _)| format!("the {}", x.0))
            .collect();
        match differ.len() {
            0 => None,
            1 => Some(differ[0].clone()),
            n => Some(format!(
                "{} and {}",
                differ[..n - 1].join(", "),
                differ[n - 1]
            )),
        }
    }
}

/// A certificate a component presents (as server or as client).
#[derive(Clone, Debug)]
pub struct Presented {
    /// Index into [`Graph::components`].
    pub component: usize,
    /// The channel it is presented on.
    pub channel: String,
    /// The bundle holding it (leaf first), when static.
    pub bundle: Option<usize>,
    /// Where it comes from.
    pub source: Source,
    /// The flag or volume that names it.
    pub location: Location,
    /// `--cert-file → Secret kube-system/etcd-tls key tls.crt`.
    pub via: String,
}

/// Which side a trust reference verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The component is the client and verifies servers.
    Server,
    /// The component is the server and verifies clients.
    Client,
}

/// What a trust reference holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchors {
    /// A bundle in the repository.
    Bundle(usize),
    /// The CA of a cert-manager issuer (`ca.crt` of a Certificate's Secret).
    Issuer {
        /// The issuer.
        issuer: String,
        /// Its CA, when known.
        ca: Option<Fingerprint>,
    },
    /// It could not be followed; why.
    Unresolved(String),
}

impl Anchors {
    /// The fingerprints it trusts, when known.
    pub fn set(&self, inv: &Inventory) -> Option<BTreeSet<Fingerprint>> {
        match self {
            Anchors::Bundle(b) => Some(
                inv.bundles[*b]
                    .members
                    .iter()
                    .map(|m| m.0.clone())
                    .collect(),
            ),
            Anchors::Issuer { ca: Some(fp), .. } => Some(BTreeSet::from([fp.clone()])),
            _ => None,
        }
    }
}

/// One verdict: a trust reference against one peer's certificate.
#[derive(Clone, Debug)]
pub struct Check {
    /// The peer component.
    pub peer: usize,
    /// Index into `serves` (server direction) or `clients` (client direction).
    pub presented: usize,
    /// What verification says.
    pub verdict: Verdict,
    /// For a [`Verdict::Unknown`]: why a Go client refuses the chain, when
    /// `verify::golang` models the refusal (a key Go's parser does not take).
    pub go_refusal: Option<String>,
    /// For a [`Verdict::Valid`] whose client is not known to be a Go
    /// program: the certificate of the path a strict client refuses
    /// (`verify::strict`), reported by `strict-profile`.
    pub strict_refusal: Option<crate::verify::strict::Refusal>,
}

/// A trust reference: a component trusts these anchors for a peer.
#[derive(Clone, Debug)]
pub struct Trust {
    /// The trusting component.
    pub component: usize,
    /// The channel.
    pub channel: String,
    /// Server or client verification.
    pub direction: Direction,
    /// The flag or key (`--etcd-cafile`, `caBundle`).
    pub flag: String,
    /// What it trusts.
    pub anchors: Anchors,
    /// The flag or `caBundle` value.
    pub location: Location,
    /// How the bundle was reached.
    pub via: String,
    /// The host the client uses, when known.
    pub host: Option<String>,
    /// Where the host comes from.
    pub host_location: Option<Location>,
    /// Every `host:port` the client dials (all URLs of the flag), for `probe`.
    pub addresses: Vec<String>,
    /// One verdict per peer.
    pub checks: Vec<Check>,
    /// How its peers are found.
    pub peer_by: PeerBy,
}

/// How a trust reference's peers are found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PeerBy {
    /// By `host` (a Service, or a serving certificate naming it), else by channel.
    #[default]
    Host,
    /// By this name instead of `host` (a `BackendTLSPolicy`'s target
    /// Service; a `DestinationRule`'s host when its SNI differs).
    Name(String),
    /// Exactly this serve (an index into [`Graph::serves`]): a CA checked
    /// against the root it must chain to (Linkerd's issuer, Istio's plug-in
    /// CA), and the certificate its chain must start with, when known
    /// (Istio's `cert-chain.pem` starts with `ca-cert.pem`).
    Serve(usize, Option<Fingerprint>),
}

/// A reference that could not be followed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    /// Where.
    pub location: Location,
    /// The component concerned.
    pub component: Option<String>,
    /// Why.
    pub message: String,
}

/// Where a policy's source switch got the value that decided a serve's
/// source, as `lookup --explain` would show it.
#[derive(Clone, Debug)]
pub struct Decided {
    /// The value's line (in a values file, or at the Hiera level that won).
    pub at: Location,
    /// The value, in words (a scalar as written, else `a list or map`).
    pub value: String,
    /// The lower Hiera levels that set the key too, overridden (or merged).
    pub chain: Vec<crate::finding::Related>,
}

/// The whole graph.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// For serves a policy's source switch chose: where the switch's value
    /// is set (the line that made this source, on or off), by serve index.
    pub decided_at: BTreeMap<usize, Decided>,
    /// Components in object order.
    pub components: Vec<Component>,
    /// Serving identities.
    pub serves: Vec<Presented>,
    /// Client identities.
    pub clients: Vec<Presented>,
    /// Trust references with their verdicts.
    pub trusts: Vec<Trust>,
    /// References that could not be followed.
    pub notes: Vec<Note>,
    /// Host names clients use to reach components (declared in policies).
    pub reaches: Vec<Reach>,
    /// Addresses components advertise for themselves (etcd's `--advertise-client-urls`).
    pub advertised: Vec<Advertised>,
}

impl Graph {
    /// Who verifies for trust reference `t`: `client_of` its trusting
    /// component, a mesh's own CA check (the peer is a serve) being the
    /// mesh's.
    pub fn client(&self, t: &Trust) -> ClientKind {
        client_of(
            &self.components[t.component],
            matches!(t.peer_by, PeerBy::Serve(..)),
        )
    }
}

/// An address a component says it serves a channel on.
#[derive(Clone, Debug)]
pub struct Advertised {
    /// The component.
    pub component: usize,
    /// The channel served there.
    pub channel: String,
    /// `host:port`.
    pub address: String,
    /// The flag holding it.
    pub location: Location,
}

/// A host name a component must answer for.
#[derive(Clone, Debug)]
pub struct Reach {
    /// The component.
    pub component: usize,
    /// The host name.
    pub host: String,
    /// The port, when the policy names one (`host:port`): a `probe` target.
    pub port: Option<u16>,
    /// Where the host name comes from.
    pub location: Location,
    /// Index into `serves` of what the component serves.
    pub serve: Option<usize>,
    /// Whether what it serves covers the host (None: nothing to compare).
    pub verdict: Option<Verdict>,
}

/// What a file path inside a container leads to.
enum Target {
    Bundle {
        bundle: usize,
        via: String,
        cert_manager: Option<usize>,
    },
    CertManager {
        certificate: usize,
        via: String,
    },
    Trust {
        issuer: String,
        ca: Option<Fingerprint>,
        via: String,
    },
    Missing(String),
}

/// How a host name resolved.
enum Peers {
    Found(Vec<usize>),
    Ambiguous(String),
    None,
}

/// Builds the graph.
pub struct Builder<'a> {
    inv: &'a Inventory,
    policy: &'a Policy,
    now: i64,
    map_paths: &'a [(String, String)],
    graph: Graph,
    /// Objects by (kind, name).
    by_name: BTreeMap<(&'a str, &'a str), Vec<usize>>,
    /// Component indexes of each object.
    of_object: BTreeMap<usize, Vec<usize>>,
    /// Workloads with components by each pod label (key, value), in object
    /// order: what a Service selector can match. Filled before trusts are checked.
    by_label: BTreeMap<(&'a str, &'a str), Vec<usize>>,
    /// Serving certificates (indexes into `graph.serves`) by each DNS/IP
    /// subjectAltName of their leaf, lowercased (`*.x` kept as is): what a
    /// host can match. Filled before trusts are checked.
    by_san: BTreeMap<String, Vec<usize>>,
    /// cert-manager Certificates by the Secret they write.
    certs_by_secret: BTreeMap<&'a str, Vec<usize>>,
    /// Values files read for policy components, parsed once.
    values_cache: std::collections::HashMap<String, Option<crate::extract::hiera::Value>>,
    /// Services of the deferred documents that may hold a Service a trust
    /// names, and what parsing them met; parsed before trusts are checked.
    late: super::Materialized,
    /// Verdicts shared with another scan (the other side of a diff).
    pub cache: Option<&'a super::LinkCache>,
    /// What the policy's components may still expand to, over the whole
    /// scan (see `declared::Budget`).
    policy_budget: declared::Budget,
    /// Per declared component spec (by its place): components made, how
    /// many had its source switch set, how many had it on.
    switches: BTreeMap<crate::policy::PolicyLoc, (usize, usize, usize)>,
    /// Per declared component spec with `serves` (by its place): components
    /// made, and those that got no source (every switch off, no `static`).
    unsourced: BTreeMap<crate::policy::PolicyLoc, (usize, Vec<String>)>,
    /// Verdicts of this scan, when no cache is shared with another.
    verdicts: verify::VerdictCache,
    /// Serves (indexes into `graph.serves`) of each component, in order.
    serves_of: BTreeMap<usize, Vec<usize>>,
    /// `late.services` by name.
    late_by_name: std::collections::HashMap<String, Vec<usize>>,
}

/// A note to add once trusts are checked: where, which component, what.
type PendingNote = (Location, Option<usize>, String);
