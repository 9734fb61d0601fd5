//! Policies: declarative knowledge of what flags and keys mean.
//!
//! In: `policies/kubernetes.yaml` (embedded in the binary). Out: a
//! [`Policy`] the graph builder reads — roles with the flags of each and
//! what they are for, flag groups that must share a CA, and the CA limit per
//! scope. Format knowledge lives here as data, not as branches in rules.
//! Parsed with the same positioned YAML reader as user files, so an invalid
//! policy is an error with its file:line.

use crate::read::yaml::{self, Document, NodeId};
use std::collections::BTreeMap;

/// The built-in Kubernetes policy.
pub const KUBERNETES: &str = include_str!("../policies/kubernetes.yaml");

/// What a flag's file is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The serving certificate on a channel.
    Serve(String),
    /// A directory whose `tls.crt` is served on a channel.
    ServeDir(String),
    /// The client certificate for a channel.
    Client(String),
    /// CAs trusted for servers on a channel.
    TrustServer(String),
    /// CAs trusted for clients on a channel.
    TrustClient(String),
    /// URLs the component serves a channel on (etcd's `--advertise-client-urls`): `probe` targets.
    Advertise(String),
}

/// Which TLS verifier a component's client side is, when the policy says
/// (`client:` on a role or a component); otherwise certdrift infers it
/// (`inventory::graph::Graph::client`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// Go's `crypto/x509`: Go's refusals are the client's (`trust-mismatch`
    /// errors), the strict profile is not judged.
    Go,
    /// OpenSSL with `-x509_strict`, as Python's default context since 3.13:
    /// a `strict-profile` refusal is an error.
    Strict,
    /// Neither (BoringSSL, rustls, Java, …): no Go or strict-profile
    /// judgement.
    Other,
}

/// The values of `client:`.
const CLIENTS: &[&str] = &["go", "strict", "other"];

/// `client: go | strict | other`.
fn client(p: &P<'_>, node: NodeId) -> Result<Client, PolicyError> {
    match p.str(node, "client")?.as_str() {
        "go" => Ok(Client::Go),
        "strict" => Ok(Client::Strict),
        "other" => Ok(Client::Other),
        other => Err(p.err(
            node,
            format!(
                "unknown client {other:?} (expected {}){}",
                CLIENTS.join(", "),
                did_you_mean(other, CLIENTS.iter().copied())
            ),
        )),
    }
}

/// One flag of a role.
#[derive(Clone, Debug, Default)]
pub struct FlagSpec {
    /// What the file is for (a flag can be several things).
    pub actions: Vec<Action>,
    /// The flag holding the peers' URLs, for trust-server.
    pub url: Option<String>,
}

/// A role: which containers, which flags.
#[derive(Clone, Debug, Default)]
pub struct Role {
    /// The role's name (`etcd`); `*` for the fallback.
    pub name: String,
    /// Names that identify its containers.
    pub matches: Vec<String>,
    /// `ETCD_`: environment variables that stand for flags.
    pub env_prefix: Option<String>,
    /// Flags by name (`--cert-file`).
    pub flags: BTreeMap<String, FlagSpec>,
    /// The TLS verifier its containers are, when the policy says.
    pub client: Option<Client>,
}

/// Everything a policy says.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Roles in file order; `*` last.
    pub roles: Vec<Role>,
    /// (role, flags) that must trust the same CAs.
    pub same_ca: Vec<(String, Vec<String>)>,
    /// Most distinct self-signed roots trusted in one scope.
    pub max_cas: Option<usize>,
    /// How to read Puppet hieradata.
    pub hiera: HieraSettings,
    /// Components declared by the policy (Hiera keys, values layers, files).
    pub components: Vec<ComponentSpec>,
    /// Components that must share a CA or a certificate source.
    pub groups: Vec<Group>,
    /// Severity per rule id; `None` turns a rule off.
    pub severities: BTreeMap<String, Option<crate::finding::Severity>>,
    /// Findings that are accepted, each with a reason.
    pub exceptions: Vec<Exception>,
    /// Named scopes (clusters): name → path globs; a component's scope is the
    /// first whose glob matches its file (default: its directory).
    pub scopes: Vec<(String, Vec<String>)>,
    /// Path globs whose files are tests, fixtures, examples or docs (a
    /// context, not a fault): `None` for [`DEFAULT_TEST_PATHS`]; a later
    /// policy's list replaces an earlier one (`[]`: no such context).
    pub test_paths: Option<Vec<String>>,
    /// Every rule id the policy names (severity keys, exceptions) and
    /// where: checked against the rule table by [`Policy::validate`] once
    /// the policies are merged — the table is the rules stage's, which
    /// comes after this one.
    pub rule_ids: Vec<(String, PolicyLoc)>,
    /// What the fields of the ecosystem's TLS shapes mean (Ingress, Gateway
    /// API, Istio, Linkerd, cert-manager CA injection): shape → field →
    /// values (Secret keys, object names, annotation names). See
    /// `policies/kubernetes.yaml` and `docs/shapes.md`.
    pub shapes: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// A place in a policy file.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyLoc {
    /// The policy file as given.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// `hiera:` settings.
#[derive(Clone, Debug, Default)]
pub struct HieraSettings {
    /// `config`: the hiera.yaml, relative to the scanned root.
    pub config: Option<String>,
    /// `map_paths`: absolute datadirs (and other host paths) and where they live in the repository.
    pub map_paths: Vec<(String, String)>,
    /// `functions`: custom lookup functions mapped to a built-in behaviour (`expand_path`, `regex_data`, `yaml_data`, `eyaml`).
    pub functions: Vec<(String, String)>,
    /// `nodes`: named fact sets.
    pub nodes: BTreeMap<String, Vec<(String, String)>>,
}

/// A Helm values layer of a policy component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    /// A values file (a template over the component's variables).
    File(String),
    /// The values files of `release` in a plain-YAML `helmfile.yaml` (paths relative to it).
    Helmfile {
        /// The helmfile (template).
        path: String,
        /// The release name (template).
        release: String,
    },
    /// A Hiera key looked up for a node; `keys` are sub-keys deep-merged in order.
    Hiera {
        /// The key.
        key: String,
        /// The node whose facts pick hierarchy levels.
        node: Option<String>,
        /// Sub-keys (templates) merged in order, e.g. `[default, eqiad]`.
        keys: Vec<String>,
    },
}

/// Where a certificate or bundle comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertRef {
    /// A file in the repository (template).
    File(String),
    /// A Hiera key whose value is PEM, a `puppet:///` URL or a host path.
    Hiera {
        /// The key.
        key: String,
        /// The node (default: the component's).
        node: Option<String>,
    },
    /// A path in the component's values (`mesh.certs.cert`).
    Values(String),
    /// A Kubernetes Secret or ConfigMap key.
    Object {
        /// `Secret` or `ConfigMap`.
        kind: String,
        /// Its namespace, if any.
        namespace: Option<String>,
        /// Its name.
        name: String,
        /// The key.
        key: String,
    },
}

/// cert-manager branch of a certificate-source selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertManagerSpec {
    /// The source kind: `cert-manager`, `pki`, `puppet`, `vault`, `acme`.
    pub kind: String,
    /// What selects this source.
    pub when: When,
    /// Where `when` is written.
    pub when_at: PolicyLoc,
    /// The issuer (template), e.g. `ClusterIssuer/{mesh.certmanager.issuer|discovery}`.
    pub issuer: String,
    /// The signing intermediate or profile within the issuer (template),
    /// when the issuer is an external one that signs with several (a cfssl
    /// `label`, a Vault role): `{issuer.label}`.
    pub intermediate: Option<String>,
    /// dnsNames templates (each may expand to several names).
    pub names: Vec<String>,
    /// The issuing CA's certificate, when the repository holds it (the PKI
    /// intermediate, the Puppet CA file): trust is then checked with it.
    pub ca: Option<CertRef>,
}

/// The source kinds a policy's `serves` may name besides `static`, in the
/// order they are tried: the first whose `when` holds is the source.
pub const SOURCE_KINDS: &[&str] = &["cert-manager", "pki", "puppet", "vault", "acme"];

/// A source switch: what selects a source for a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Always selected.
    Always,
    /// A value, tested.
    Is {
        /// Where the value is read.
        what: Switch,
        /// What it must be.
        test: Test,
    },
    /// The opposite of a switch.
    Not(Box<When>),
}

/// Where a switch's value is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Switch {
    /// A path in the component's Helm values (`mesh.certmanager.enabled`).
    Values(String),
    /// A Hiera key looked up for a node (the component's by default).
    Hiera {
        /// The key, e.g. `profile::etcd::v3::use_pki_certs`.
        key: String,
        /// The node whose facts pick the hierarchy levels.
        node: Option<String>,
    },
}

/// What a switch's value must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// True as YAML 1.1 and Puppet data say: `true`, `yes` (any case), a
    /// non-zero number; a string "true"/"yes" too (Helm values often quote).
    Truthy,
    /// Equal to this scalar (compared as text: `1` equals "1").
    Equals(String),
    /// Equal to one of these.
    In(Vec<String>),
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            When::Always => write!(f, "always"),
            When::Is { what, test } => {
                match what {
                    Switch::Values(p) => write!(f, "{p}")?,
                    Switch::Hiera { key, node: None } => write!(f, "{key}")?,
                    Switch::Hiera { key, node: Some(n) } => write!(f, "{key} (node {n})")?,
                }
                match test {
                    Test::Truthy => write!(f, " is true"),
                    Test::Equals(v) => write!(f, " is {v:?}"),
                    Test::In(list) => write!(f, " is one of {}", list.join(", ")),
                }
            }
            When::Not(w) => write!(f, "not ({w})"),
        }
    }
}

/// A `when:`: `always`; a values path or a Hiera key (with `::`) that must
/// be true; `{values: PATH | hiera: KEY, node?, equals?: V, in?: [V..]}`;
/// `{not: WHEN}`.
fn when(p: &P<'_>, node: NodeId) -> Result<When, PolicyError> {
    if let Some(s) = p.doc.str(node) {
        let s = s.trim();
        if s == "always" {
            return Ok(When::Always);
        }
        let what = if s.contains("::") {
            Switch::Hiera {
                key: s.to_owned(),
                node: None,
            }
        } else if is_values_path(s) {
            Switch::Values(s.to_owned())
        } else {
            return Err(p.err(
                node,
                format!(
                    "`when` is `always`, a values path like mesh.certmanager.enabled, a Hiera key like profile::etcd::use_pki, or a map; not {s:?}"
                ),
            ));
        };
        return Ok(When::Is {
            what,
            test: Test::Truthy,
        });
    }
    let f = p.fields(
        node,
        "when",
        &["values", "hiera", "node", "equals", "in", "not"],
    )?;
    if let Some(&n) = f.get("not") {
        if f.len() > 1 {
            return Err(p.err(node, "`not` stands alone in its map: {not: WHEN}"));
        }
        return Ok(When::Not(Box::new(when(p, n)?)));
    }
    let what = match (f.get("values"), f.get("hiera")) {
        (Some(&v), None) => {
            let path = p.str(v, "values")?;
            if !is_values_path(&path) {
                return Err(p.err(v, format!("not a values path: {path:?}")));
            }
            Switch::Values(path)
        }
        (None, Some(&h)) => Switch::Hiera {
            key: p.str(h, "hiera")?,
            node: f.get("node").map(|&n| p.str(n, "node")).transpose()?,
        },
        _ => {
            return Err(p.err(
                node,
                "`when` as a map names one of `values: PATH` or `hiera: KEY`",
            ))
        }
    };
    let test = match (f.get("equals"), f.get("in")) {
        (None, None) => Test::Truthy,
        (Some(&e), None) => Test::Equals(p.str(e, "equals")?),
        (None, Some(&l)) => Test::In(p.strings(l, "in")?),
        _ => return Err(p.err(node, "`when` takes `equals` or `in`, not both")),
    };
    Ok(When::Is { what, test })
}

/// How a component's serving certificate is chosen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServeSpec {
    /// cert-manager when its `when` is true.
    pub cert_manager: Option<CertManagerSpec>,
    /// The other issued kinds (`pki`, `puppet`, `vault`, `acme`), tried
    /// after cert-manager in that order.
    pub issued: Vec<CertManagerSpec>,
    /// Otherwise, this static certificate.
    pub static_cert: Option<CertRef>,
}

/// A trust bundle or client certificate of a component, for a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerRef {
    /// The peer: a component name (template) or a channel.
    pub peer: String,
    /// `clients: true`: the bundle verifies clients connecting to this component (peer optional).
    pub clients: bool,
    /// Where the bundle or certificate is.
    pub cert: CertRef,
}

/// A host name clients use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostSpec {
    /// A literal (template).
    Name(String),
    /// Read from a Hiera value: `path` (template) navigates it, `[]` iterating lists.
    Hiera {
        /// The key.
        key: String,
        /// The node.
        node: Option<String>,
        /// Path inside the value, e.g. `{name}.probes[].host`.
        path: String,
    },
}

/// A component declared in a policy.
#[derive(Clone, Debug, Default)]
pub struct ComponentSpec {
    /// Name template, e.g. `{release}`.
    pub name: String,
    /// Variables: each combination makes one component.
    pub for_each: Vec<(String, Vec<String>)>,
    /// Default Hiera node.
    pub node: Option<String>,
    /// Scope (cluster) template; default: the policy file's.
    pub scope: Option<String>,
    /// Helm values layers, later wins.
    pub values: Vec<Layer>,
    /// Serving certificate.
    pub serves: Option<ServeSpec>,
    /// Trust bundles by peer.
    pub trusts: Vec<PeerRef>,
    /// Client certificates by peer.
    pub clients: Vec<PeerRef>,
    /// Host names clients use to reach it.
    pub reached_as: Vec<HostSpec>,
    /// The TLS verifier it is as a client, when the policy says.
    pub client: Option<Client>,
    /// Where it is declared.
    pub location: PolicyLoc,
}

/// What a group's members must share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Same {
    /// The same trusted CAs for the same peer.
    Ca,
    /// The same certificate source.
    Source,
}

/// A group of components that must agree.
#[derive(Clone, Debug)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// What must agree.
    pub same: Same,
    /// Component name globs.
    pub members: Vec<String>,
    /// Where it is declared.
    pub location: PolicyLoc,
}

/// Where tests, fixtures, examples and docs live, unless a policy's
/// `test_paths` says otherwise: material there is a context, not a fault
/// (hygiene findings about it are notes; a private key, a warning).
pub const DEFAULT_TEST_PATHS: &[&str] = &[
    "**/test/**",
    "**/tests/**",
    "**/testdata/**",
    "**/test-data/**",
    "**/test_data/**",
    "**/testing/**",
    "**/__tests__/**",
    "**/fixture/**",
    "**/fixtures/**",
    "**/example/**",
    "**/examples/**",
    "**/sample/**",
    "**/samples/**",
    "**/doc/**",
    "**/docs/**",
    "**/*_test.*",
    "**/*.test.*",
    "**/test_*.py",
    "**/*.md",
    "**/*.rst",
    "**/*.golden",
];

/// The compiled test paths of a policy: [`Policy::fixtures`].
#[derive(Clone, Debug)]
pub struct Fixtures(globset::GlobSet);

impl Default for Fixtures {
    fn default() -> Self {
        Policy::default().fixtures()
    }
}

impl Fixtures {
    /// Whether `path` (relative to its root) is a test, fixture, example or doc.
    pub fn matches(&self, path: &str) -> bool {
        self.0.is_match(path)
    }
}

impl Group {
    /// Whether a component belongs to the group (by name glob).
    pub fn has(&self, component: &str) -> bool {
        self.members.iter().any(|m| glob_matches(m, component))
    }
}

/// Whether `text` matches the glob `pattern` (an invalid glob matches only itself).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(text))
        .unwrap_or(pattern == text)
}

/// An accepted finding.
#[derive(Clone, Debug)]
pub struct Exception {
    /// The rule id.
    pub rule: String,
    /// Component glob.
    pub component: Option<String>,
    /// Path glob.
    pub path: Option<String>,
    /// Certificate fingerprint (`sha256:…`, a prefix is enough).
    pub fingerprint: Option<String>,
    /// Why it is accepted (required).
    pub reason: String,
    /// Where it is declared.
    pub location: PolicyLoc,
}

/// An invalid policy: where and what.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PolicyError {
    /// The policy file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

/// A positioned reader over one policy document: typed access whose errors
/// carry file:line:column (also used for the `settings:` of a config file).
pub(crate) struct P<'a> {
    pub(crate) doc: &'a Document,
    pub(crate) file: &'a str,
}

impl P<'_> {
    pub(crate) fn err(&self, node: NodeId, message: impl Into<String>) -> PolicyError {
        let n = self.doc.node(node);
        PolicyError {
            file: self.file.to_owned(),
            line: n.start.line,
            column: n.start.col,
            message: message.into(),
        }
    }

    pub(crate) fn str(&self, node: NodeId, what: &str) -> Result<String, PolicyError> {
        self.doc
            .str(node)
            .map(str::to_owned)
            .ok_or_else(|| self.err(node, format!("{what} must be a string")))
    }

    pub(crate) fn map(
        &self,
        node: NodeId,
        what: &str,
    ) -> Result<Vec<(String, NodeId, NodeId)>, PolicyError> {
        let node = self.doc.resolve(node);
        if !matches!(self.doc.node(node).kind, yaml::Kind::Map(_)) {
            return Err(self.err(node, format!("{what} must be a mapping")));
        }
        self.doc
            .entries(node)
            .into_iter()
            .map(|(k, v)| Ok((self.str(k, "a key")?, k, v)))
            .collect()
    }

    fn loc(&self, node: NodeId) -> PolicyLoc {
        let n = self.doc.node(node);
        PolicyLoc {
            file: self.file.to_owned(),
            line: n.start.line,
            column: n.start.col,
        }
    }

    fn items(&self, node: NodeId, what: &str) -> Result<Vec<NodeId>, PolicyError> {
        let node = self.doc.resolve(node);
        if !matches!(self.doc.node(node).kind, yaml::Kind::Seq(_)) {
            return Err(self.err(node, format!("{what} must be a list")));
        }
        Ok(self.doc.seq(node).to_vec())
    }

    /// A mapping whose keys must be among `allowed`.
    pub(crate) fn fields(
        &self,
        node: NodeId,
        what: &str,
        allowed: &[&str],
    ) -> Result<BTreeMap<String, NodeId>, PolicyError> {
        let mut out = BTreeMap::new();
        for (key, k, v) in self.map(node, what)? {
            if !allowed.contains(&key.as_str()) {
                return Err(self.err(
                    k,
                    format!(
                        "unknown key {key:?} in {what} (expected {}){}",
                        allowed.join(", "),
                        did_you_mean(&key, allowed.iter().copied())
                    ),
                ));
            }
            out.insert(key, v);
        }
        Ok(out)
    }

    /// A string, or a list of strings.
    pub(crate) fn strings(&self, node: NodeId, what: &str) -> Result<Vec<String>, PolicyError> {
        if self.doc.str(node).is_some() {
            return Ok(vec![self.str(node, what)?]);
        }
        self.list(node, what)
    }

    pub(crate) fn list(&self, node: NodeId, what: &str) -> Result<Vec<String>, PolicyError> {
        let node = self.doc.resolve(node);
        if !matches!(self.doc.node(node).kind, yaml::Kind::Seq(_)) {
            return Err(self.err(node, format!("{what} must be a list")));
        }
        self.doc
            .seq(node)
            .iter()
            .map(|&i| self.str(i, what))
            .collect()
    }
}

/// The first document of a policy file's text and its root; `None` when
/// the file is empty.
pub(crate) fn first_document(
    file: &str,
    text: &str,
) -> Result<Option<(Document, NodeId)>, PolicyError> {
    let stream = yaml::parse(text, &yaml::Limits::default());
    if let Some(e) = stream.error {
        return Err(PolicyError {
            file: file.to_owned(),
            line: e.mark.line,
            column: e.mark.col,
            message: e.message,
        });
    }
    let Some(doc) = stream.docs.into_iter().next() else {
        return Ok(None);
    };
    Ok(doc.root().map(|root| (doc, root)))
}

/// Parses a policy file's text.
pub fn parse(file: &str, text: &str) -> Result<Policy, PolicyError> {
    let mut policy = Policy::default();
    let Some((doc, root)) = first_document(file, text)? else {
        return Ok(policy);
    };
    let doc = &doc;
    let p = P { doc, file };
    for (key, k, v) in p.map(root, "a policy")? {
        match key.as_str() {
            "version" => {
                if p.str(v, "version")? != "1" {
                    return Err(p.err(v, "unsupported policy version (expected 1)"));
                }
            }
            // Tool settings: read by `crate::config`, not a policy's business.
            "settings" => {}
            "roles" => {
                for (name, _, rv) in p.map(v, "roles")? {
                    policy.roles.push(role(&p, name, rv)?);
                }
            }
            "same_ca" => {
                for item in p.items(v, "same_ca")? {
                    let words = p.list(item, "a same_ca entry")?;
                    let Some((role, flags)) = words.split_first() else {
                        return Err(p.err(item, "a same_ca entry names a role and its flags"));
                    };
                    policy.same_ca.push((role.clone(), flags.to_vec()));
                }
            }
            "max_cas" => {
                if !doc.is_null(v) {
                    let n = p.str(v, "max_cas")?;
                    policy.max_cas = Some(
                        n.parse()
                            .map_err(|_| p.err(v, "max_cas must be a whole number"))?,
                    );
                }
            }
            "hiera" => policy.hiera = hiera(&p, v)?,
            "shapes" => {
                for (shape, _, sv) in p.map(v, "shapes")? {
                    let fields = policy.shapes.entry(shape).or_default();
                    for (field, _, fv) in p.map(sv, "a shape")? {
                        fields.insert(field, p.list(fv, "a shape field")?);
                    }
                }
            }
            "test_paths" => {
                let list = p.strings(v, "test path globs")?;
                for g in &list {
                    globset::Glob::new(g)
                        .map_err(|e| p.err(v, format!("invalid glob {g:?}: {e}")))?;
                }
                policy.test_paths = Some(list);
            }
            "scopes" => {
                for (name, _, globs) in p.map(v, "scopes")? {
                    let list = p.strings(globs, "scope globs")?;
                    for g in &list {
                        globset::Glob::new(g)
                            .map_err(|e| p.err(globs, format!("invalid glob {g:?}: {e}")))?;
                    }
                    policy.scopes.push((name, list));
                }
            }
            "components" => {
                for item in p.items(v, "components")? {
                    policy.components.push(component(&p, item)?);
                }
            }
            "groups" => {
                for item in p.items(v, "groups")? {
                    policy.groups.push(group(&p, item)?);
                }
            }
            "severity" => {
                for (rule, rk, sv) in p.map(v, "severity")? {
                    policy.rule_ids.push((rule.clone(), p.loc(rk)));
                    let sev = match p.str(sv, "a severity")?.as_str() {
                        "error" => Some(crate::finding::Severity::Error),
                        "warning" => Some(crate::finding::Severity::Warning),
                        "note" => Some(crate::finding::Severity::Note),
                        "off" => None,
                        other => {
                            return Err(p.err(
                                sv,
                                format!(
                                "unknown severity {other:?} (expected error, warning, note, off){}",
                                did_you_mean(other, SEVERITIES.iter().copied())
                            ),
                            ))
                        }
                    };
                    policy.severities.insert(rule, sev);
                }
            }
            "exceptions" => {
                for item in p.items(v, "exceptions")? {
                    let (e, rule_at) = exception(&p, item)?;
                    policy.rule_ids.push((e.rule.clone(), rule_at));
                    policy.exceptions.push(e);
                }
            }
            other => {
                return Err(p.err(
                    k,
                    format!(
                        "unknown key {other:?} (expected {}){}",
                        TOP_KEYS.join(", "),
                        did_you_mean(other, TOP_KEYS.iter().copied())
                    ),
                ))
            }
        }
    }
    // The fallback role is tried last.
    policy.roles.sort_by_key(|r| r.name == "*");
    Ok(policy)
}

fn role(p: &P<'_>, name: String, node: NodeId) -> Result<Role, PolicyError> {
    let mut role = Role {
        name,
        ..Role::default()
    };
    for (key, k, v) in p.map(node, "a role")? {
        match key.as_str() {
            "match" => role.matches = p.list(v, "match")?,
            "env_prefix" => role.env_prefix = Some(p.str(v, "env_prefix")?),
            "client" => role.client = Some(client(p, v)?),
            "flags" => {
                for (flag, _, fv) in p.map(v, "flags")? {
                    let mut spec = FlagSpec::default();
                    for (what, wk, wv) in p.map(fv, "a flag")? {
                        let channel = || p.str(wv, &what);
                        match what.as_str() {
                            "serve" => spec.actions.push(Action::Serve(channel()?)),
                            "serve-dir" => spec.actions.push(Action::ServeDir(channel()?)),
                            "client" => spec.actions.push(Action::Client(channel()?)),
                            "trust-server" => spec.actions.push(Action::TrustServer(channel()?)),
                            "trust-client" => spec.actions.push(Action::TrustClient(channel()?)),
                            "url" => spec.url = Some(channel()?),
                            "advertise" => spec.actions.push(Action::Advertise(channel()?)),
                            other => {
                                return Err(p.err(
                                    wk,
                                    format!(
                                        "unknown flag meaning {other:?} (expected {}){}",
                                        FLAG_MEANINGS.join(", "),
                                        did_you_mean(other, FLAG_MEANINGS.iter().copied())
                                    ),
                                ))
                            }
                        }
                    }
                    role.flags.insert(flag, spec);
                }
            }
            other => {
                return Err(p.err(
                    k,
                    format!(
                        "unknown role key {other:?} (expected match, env_prefix, client, flags){}",
                        did_you_mean(other, ["match", "env_prefix", "client", "flags"])
                    ),
                ))
            }
        }
    }
    Ok(role)
}

impl Policy {
    /// The scope of a file: the first named scope whose glob matches, else its directory.
    pub fn scope_of(&self, path: &str) -> String {
        for (name, globs) in &self.scopes {
            if globs
                .iter()
                .any(|g| globset::Glob::new(g).is_ok_and(|g| g.compile_matcher().is_match(path)))
            {
                return name.clone();
            }
        }
        path.rsplit_once('/').map_or("", |(d, _)| d).to_owned()
    }

    /// Adds a user policy on top: a role of the same name replaces the
    /// built-in one (a role that says only `client:` sets that and keeps
    /// the rest, so marking a built-in role does not drop its flags),
    /// `same_ca` entries add up, `max_cas` overrides.
    pub fn merge(&mut self, other: Policy) {
        for role in other.roles {
            let only_client =
                role.matches.is_empty() && role.env_prefix.is_none() && role.flags.is_empty();
            match self.roles.iter_mut().find(|r| r.name == role.name) {
                Some(r) if only_client => r.client = role.client,
                Some(r) => *r = role,
                None => self.roles.push(role),
            }
        }
        self.roles.sort_by_key(|r| r.name == "*");
        self.same_ca.extend(other.same_ca);
        if other.max_cas.is_some() {
            self.max_cas = other.max_cas;
        }
        if other.hiera.config.is_some() {
            self.hiera.config = other.hiera.config;
        }
        self.hiera.map_paths.extend(other.hiera.map_paths);
        self.hiera.functions.extend(other.hiera.functions);
        self.hiera.nodes.extend(other.hiera.nodes);
        self.components.extend(other.components);
        self.groups.extend(other.groups);
        self.severities.extend(other.severities);
        self.exceptions.extend(other.exceptions);
        self.scopes.extend(other.scopes);
        self.rule_ids.extend(other.rule_ids);
        if other.test_paths.is_some() {
            self.test_paths = other.test_paths;
        }
        // A field a later policy names replaces the earlier one's values.
        for (shape, fields) in other.shapes {
            self.shapes.entry(shape).or_default().extend(fields);
        }
    }

    /// The values of a shape's field (`shapes.SHAPE.FIELD`); empty when not set.
    pub fn shape_field(&self, shape: &str, field: &str) -> &[String] {
        self.shapes
            .get(shape)
            .and_then(|f| f.get(field))
            .map_or(&[], Vec::as_slice)
    }

    /// The test, fixture, example and doc paths in force, compiled.
    pub fn fixtures(&self) -> Fixtures {
        let globs: Vec<&str> = match &self.test_paths {
            Some(list) => list.iter().map(String::as_str).collect(),
            None => DEFAULT_TEST_PATHS.to_vec(),
        };
        let mut set = globset::GlobSetBuilder::new();
        for g in globs {
            // Checked when parsed; the defaults are tested below.
            if let Ok(glob) = globset::Glob::new(g) {
                set.add(glob);
            }
        }
        Fixtures(set.build().unwrap_or_else(|_| globset::GlobSet::empty()))
    }

    /// The second phase of reading policies (the first is [`parse`] and
    /// [`Policy::merge`]): every rule id named must be one of `known` (the
    /// rule table). The first unknown one, in file order, is the error,
    /// with the nearest known id as a suggestion.
    pub fn validate(&self, known: &[&str]) -> Result<(), PolicyError> {
        match self
            .rule_ids
            .iter()
            .find(|(id, _)| !known.contains(&id.as_str()))
        {
            Some((id, at)) => Err(PolicyError {
                file: at.file.clone(),
                line: at.line,
                column: at.column,
                message: format!(
                    "unknown rule {id:?} (`certdrift rules` lists them){}",
                    did_you_mean(id, known.iter().copied())
                ),
            }),
            None => Ok(()),
        }
    }
}

/// The policy file's top-level keys.
const TOP_KEYS: &[&str] = &[
    "version",
    "settings",
    "hiera",
    "scopes",
    "components",
    "groups",
    "severity",
    "exceptions",
    "roles",
    "same_ca",
    "max_cas",
    "shapes",
];

/// Values of `severity:` entries.
const SEVERITIES: &[&str] = &["error", "warning", "note", "off"];

/// What a role's flag can mean.
const FLAG_MEANINGS: &[&str] = &[
    "serve",
    "serve-dir",
    "client",
    "trust-server",
    "trust-client",
    "url",
    "advertise",
];

/// `: did you mean "x"?` when one of `candidates` is a likely typo of
/// `word` (an edit distance of at most a third of its length, at least
/// 1), else nothing: the tail of an "unknown …" message.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word, &c.to_ascii_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        // The nearest; the first of equals, in the caller's order.
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| format!(": did you mean {c:?}?"))
        .unwrap_or_default()
}

fn hiera(p: &P<'_>, node: NodeId) -> Result<HieraSettings, PolicyError> {
    let f = p.fields(
        node,
        "hiera",
        &["config", "map_paths", "functions", "nodes"],
    )?;
    let mut h = HieraSettings::default();
    if let Some(&v) = f.get("config") {
        h.config = Some(p.str(v, "hiera.config")?);
    }
    if let Some(&v) = f.get("map_paths") {
        for (host, _, repo) in p.map(v, "hiera.map_paths")? {
            h.map_paths.push((host, p.str(repo, "a repository path")?));
        }
    }
    if let Some(&v) = f.get("functions") {
        for (name, _, b) in p.map(v, "hiera.functions")? {
            let builtin = p.str(b, "a built-in function")?;
            if !["expand_path", "regex_data", "yaml_data", "eyaml"].contains(&builtin.as_str()) {
                return Err(p.err(
                    b,
                    format!(
                        "unknown built-in {builtin:?} (expected expand_path, regex_data, yaml_data, eyaml)"
                    ),
                ));
            }
            h.functions.push((name, builtin));
        }
    }
    if let Some(&v) = f.get("nodes") {
        for (name, _, facts) in p.map(v, "hiera.nodes")? {
            let mut list = Vec::new();
            for (k, _, fv) in p.map(facts, "a node's facts")? {
                list.push((k, p.str(fv, "a fact")?));
            }
            h.nodes.insert(name, list);
        }
    }
    Ok(h)
}

fn peer_refs(p: &P<'_>, node: NodeId, what: &str) -> Result<Vec<PeerRef>, PolicyError> {
    let mut out = Vec::new();
    for item in p.items(node, what)? {
        let cert = cert_ref(p, item, what, &["peer", "clients"])?;
        let clients = match p.doc.get(item, "clients") {
            Some(v) => match p.doc.bool11(v) {
                Some(b) => b,
                None => return Err(p.err(v, "clients is true or false")),
            },
            None => false,
        };
        let peer = match p.doc.get(item, "peer") {
            Some(v) => p.str(v, "peer")?,
            None if clients => String::new(),
            None => {
                return Err(p.err(
                    item,
                    format!("{what} entries need `peer` (or `clients: true`)"),
                ))
            }
        };
        out.push(PeerRef {
            peer,
            clients,
            cert,
        });
    }
    Ok(out)
}

/// A certificate reference: one of `file`, `hiera` (+`node`), `values`,
/// `secret`/`configmap` (+`namespace`, `key`); `extra` keys are allowed beside it.
fn cert_ref(p: &P<'_>, node: NodeId, what: &str, extra: &[&str]) -> Result<CertRef, PolicyError> {
    let mut allowed = vec![
        "file",
        "hiera",
        "node",
        "values",
        "secret",
        "configmap",
        "namespace",
        "key",
    ];
    allowed.extend_from_slice(extra);
    let f = p.fields(node, what, &allowed)?;
    let get = |k: &str| f.get(k).map(|&v| p.str(v, k)).transpose();
    if let Some(file) = get("file")? {
        return Ok(CertRef::File(file));
    }
    if let Some(key) = get("hiera")? {
        return Ok(CertRef::Hiera {
            key,
            node: get("node")?,
        });
    }
    if let Some(path) = get("values")? {
        return Ok(CertRef::Values(path));
    }
    for (k, kind) in [("secret", "Secret"), ("configmap", "ConfigMap")] {
        if let Some(name) = get(k)? {
            let key = get("key")?
                .ok_or_else(|| p.err(node, format!("{what}: a {kind} reference needs `key`")))?;
            return Ok(CertRef::Object {
                kind: kind.into(),
                namespace: get("namespace")?,
                name,
                key,
            });
        }
    }
    Err(p.err(
        node,
        format!("{what} needs one of file, hiera, values, secret, configmap"),
    ))
}

fn component(p: &P<'_>, node: NodeId) -> Result<ComponentSpec, PolicyError> {
    let f = p.fields(
        node,
        "a component",
        &[
            "name",
            "for_each",
            "node",
            "scope",
            "values",
            "serves",
            "trusts",
            "clients",
            "reached_as",
            "client",
        ],
    )?;
    let mut c = ComponentSpec {
        location: p.loc(node),
        ..ComponentSpec::default()
    };
    c.name = match f.get("name") {
        Some(&v) => p.str(v, "name")?,
        None => return Err(p.err(node, "a component needs `name`")),
    };
    if let Some(&v) = f.get("for_each") {
        for (var, _, vals) in p.map(v, "for_each")? {
            c.for_each.push((var, p.strings(vals, "for_each values")?));
        }
    }
    if let Some(&v) = f.get("node") {
        c.node = Some(p.str(v, "node")?);
    }
    if let Some(&v) = f.get("scope") {
        c.scope = Some(p.str(v, "scope")?);
    }
    if let Some(&v) = f.get("client") {
        c.client = Some(client(p, v)?);
    }
    if let Some(&v) = f.get("values") {
        for item in p.items(v, "values")? {
            if p.doc.str(item).is_some() {
                c.values.push(Layer::File(p.str(item, "a values file")?));
                continue;
            }
            let lf = p.fields(
                item,
                "a values layer",
                &["file", "hiera", "node", "keys", "helmfile", "release"],
            )?;
            if let Some(&hf) = lf.get("helmfile") {
                let release = lf
                    .get("release")
                    .map(|&r| p.str(r, "release"))
                    .transpose()?
                    .ok_or_else(|| p.err(item, "a helmfile layer needs `release`"))?;
                c.values.push(Layer::Helmfile {
                    path: p.str(hf, "helmfile")?,
                    release,
                });
                continue;
            }
            let layer = match (lf.get("file"), lf.get("hiera")) {
                (Some(&fv), None) => Layer::File(p.str(fv, "file")?),
                (None, Some(&hv)) => Layer::Hiera {
                    key: p.str(hv, "hiera")?,
                    node: lf.get("node").map(|&n| p.str(n, "node")).transpose()?,
                    keys: lf.get("keys").map(|&k| p.strings(k, "keys")).transpose()?.unwrap_or_default(),
                },
                _ => return Err(p.err(item, "a values layer is a file path, {file: PATH} or {hiera: KEY, node: N, keys: [..]}")),
            };
            c.values.push(layer);
        }
    }
    if let Some(&v) = f.get("serves") {
        let mut allowed: Vec<&str> = SOURCE_KINDS.to_vec();
        allowed.push("static");
        let sf = p.fields(v, "serves", &allowed)?;
        let mut spec = ServeSpec::default();
        for kind in SOURCE_KINDS {
            let Some(&cm) = sf.get(*kind) else { continue };
            let what = format!("serves.{kind}");
            let cf = p.fields(
                cm,
                &what,
                &["when", "issuer", "intermediate", "names", "ca"],
            )?;
            let req = |k: &str| {
                cf.get(k)
                    .copied()
                    .ok_or_else(|| p.err(cm, format!("{what} needs `{k}`")))
            };
            let when_node = req("when")?;
            let names = match cf.get("names") {
                Some(&n) => p.strings(n, "names")?,
                None if *kind == "cert-manager" => {
                    return Err(p.err(cm, format!("{what} needs `names`")))
                }
                None => Vec::new(),
            };
            let s = CertManagerSpec {
                kind: (*kind).to_owned(),
                when: when(p, when_node)?,
                when_at: p.loc(when_node),
                issuer: p.str(req("issuer")?, "issuer")?,
                intermediate: cf
                    .get("intermediate")
                    .map(|&i| p.str(i, "intermediate"))
                    .transpose()?,
                names,
                ca: cf
                    .get("ca")
                    .map(|&c| cert_ref(p, c, &format!("{what}.ca"), &[]))
                    .transpose()?,
            };
            if *kind == "cert-manager" {
                spec.cert_manager = Some(s);
            } else {
                spec.issued.push(s);
            }
        }
        if let Some(&st) = sf.get("static") {
            spec.static_cert = Some(cert_ref(p, st, "serves.static", &[])?);
        }
        c.serves = Some(spec);
    }
    if let Some(&v) = f.get("trusts") {
        c.trusts = peer_refs(p, v, "trusts")?;
    }
    if let Some(&v) = f.get("clients") {
        c.clients = peer_refs(p, v, "clients")?;
    }
    if let Some(&v) = f.get("reached_as") {
        for item in p.items(v, "reached_as")? {
            if p.doc.str(item).is_some() {
                c.reached_as.push(HostSpec::Name(p.str(item, "a host")?));
                continue;
            }
            let hf = p.fields(item, "reached_as", &["hiera", "node", "path"])?;
            let key = hf
                .get("hiera")
                .map(|&h| p.str(h, "hiera"))
                .transpose()?
                .ok_or_else(|| {
                    p.err(
                        item,
                        "reached_as entries are host names or {hiera: KEY, path: P}",
                    )
                })?;
            c.reached_as.push(HostSpec::Hiera {
                key,
                node: hf.get("node").map(|&n| p.str(n, "node")).transpose()?,
                path: hf
                    .get("path")
                    .map(|&n| p.str(n, "path"))
                    .transpose()?
                    .unwrap_or_default(),
            });
        }
    }
    Ok(c)
}

fn is_values_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-'))
        })
}

fn group(p: &P<'_>, node: NodeId) -> Result<Group, PolicyError> {
    let f = p.fields(node, "a group", &["name", "same", "members"])?;
    let req = |k: &str| {
        f.get(k)
            .copied()
            .ok_or_else(|| p.err(node, format!("a group needs `{k}`")))
    };
    let same = match p.str(req("same")?, "same")?.as_str() {
        "ca" => Same::Ca,
        "source" => Same::Source,
        other => {
            return Err(p.err(
                req("same")?,
                format!("`same` is ca or source, not {other:?}"),
            ))
        }
    };
    Ok(Group {
        name: p.str(req("name")?, "name")?,
        same,
        members: p.strings(req("members")?, "members")?,
        location: p.loc(node),
    })
}

/// An exception, and the place of its `rule` value.
fn exception(p: &P<'_>, node: NodeId) -> Result<(Exception, PolicyLoc), PolicyError> {
    let f = p.fields(
        node,
        "an exception",
        &["rule", "component", "path", "fingerprint", "reason"],
    )?;
    let get = |k: &str| f.get(k).map(|&v| p.str(v, k)).transpose();
    let rule = get("rule")?.ok_or_else(|| p.err(node, "an exception needs `rule`"))?;
    let rule_at = p.loc(f["rule"]);
    let reason = get("reason")?
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| p.err(node, "an exception needs a `reason`"))?;
    Ok((
        Exception {
            rule,
            component: get("component")?,
            path: get("path")?,
            fingerprint: get("fingerprint")?,
            reason,
            location: p.loc(node),
        },
        rule_at,
    ))
}

/// The built-in policy.
pub fn builtin() -> Policy {
    // The embedded file is tested below; a broken build-in is a bug, not input.
    parse("policies/kubernetes.yaml", KUBERNETES).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_parses() {
        let p = parse("policies/kubernetes.yaml", KUBERNETES).unwrap();
        let etcd = p.roles.iter().find(|r| r.name == "etcd").unwrap();
        assert_eq!(etcd.env_prefix.as_deref(), Some("ETCD_"));
        assert_eq!(
            etcd.flags["--peer-cert-file"].actions,
            [
                Action::Serve("etcd-peer".into()),
                Action::Client("etcd-peer".into())
            ]
        );
        let api = p.roles.iter().find(|r| r.name == "kube-apiserver").unwrap();
        assert_eq!(
            api.flags["--etcd-cafile"].url.as_deref(),
            Some("--etcd-servers")
        );
        assert_eq!(p.roles.last().unwrap().name, "*");
        assert_eq!(p.same_ca.len(), 1);
        assert_eq!(
            p.shape_field("istio-gateway", "cert_keys"),
            ["tls.crt", "cert"]
        );
        assert!(p.shape_field("istio-gateway", "nothing").is_empty());
    }

    #[test]
    fn a_later_policy_replaces_a_shape_field() {
        let mut p = parse("policies/kubernetes.yaml", KUBERNETES).unwrap();
        p.merge(parse("p.yaml", "shapes:\n  ingress:\n    cert_keys: [cert.pem]\n").unwrap());
        assert_eq!(p.shape_field("ingress", "cert_keys"), ["cert.pem"]);
        assert_eq!(p.shape_field("gateway-api", "cert_keys"), ["tls.crt"]);
        let e = parse("p.yaml", "shapes:\n  ingress:\n    cert_keys: tls.crt\n").unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn errors_point_at_the_line() {
        let e = parse(
            "p.yaml",
            "roles:\n  x:\n    flags:\n      --a: {serves: y}\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 13));
        assert!(e.message.contains("serves"), "{e}");
        let e = parse("p.yaml", "rules: []\n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn client_on_a_role_and_a_component() {
        let p = parse(
            "p.yaml",
            "roles:\n  reports:\n    match: [reports]\n    client: strict\ncomponents:\n  - name: api\n    client: go\n",
        )
        .unwrap();
        let reports = p.roles.iter().find(|r| r.name == "reports").unwrap();
        assert_eq!(reports.client, Some(Client::Strict));
        assert_eq!(p.components[0].client, Some(Client::Go));
        let e = parse("p.yaml", "roles:\n  r:\n    client: python\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 13));
        assert!(e.message.contains("expected go, strict, other"), "{e}");
    }

    #[test]
    fn a_role_that_says_only_client_keeps_the_built_in_flags() {
        let mut p = builtin();
        p.merge(parse("p.yaml", "roles:\n  etcd:\n    client: other\n").unwrap());
        let etcd = p.roles.iter().find(|r| r.name == "etcd").unwrap();
        assert_eq!(etcd.client, Some(Client::Other));
        assert!(etcd.flags.contains_key("--trusted-ca-file"));
        assert_eq!(etcd.env_prefix.as_deref(), Some("ETCD_"));
        // A role with flags replaces the built-in one whole, as before.
        p.merge(
            parse(
                "p.yaml",
                "roles:\n  etcd:\n    match: [etcd]\n    flags:\n      --x: {serve: etcd}\n",
            )
            .unwrap(),
        );
        let etcd = p.roles.iter().find(|r| r.name == "etcd").unwrap();
        assert_eq!((etcd.client, etcd.flags.len()), (None, 1));
    }
}
