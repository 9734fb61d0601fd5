//! Kubernetes objects, reduced to what the trust graph needs.
//!
//! In: one parsed YAML document (and which of its values became which
//! certificate bundle). Out: [`Object`]s — Secrets and ConfigMaps with the
//! bundle behind each key, Services with their selectors, workloads with
//! their containers' flags, mounts and volumes, admission webhooks /
//! `APIService` / CRD conversion client configs, cert-manager `Certificate`
//! and issuers, trust-manager `Bundle`s, kubeconfigs, and the TLS of
//! Ingress, Gateway API and Istio objects ([`TlsShape`]). Nothing here
//! resolves a reference; `inventory::graph` does, across files.
//!
//! Field names follow the Kubernetes API reference
//! (<https://kubernetes.io/docs/reference/kubernetes-api/>).

use crate::finding::Location;
use crate::read::yaml::{Document, NodeId};
use std::collections::HashMap;

/// A Kubernetes object.
#[derive(Clone, Debug)]
pub struct Object {
    /// `kind`.
    pub kind: String,
    /// `metadata.name` (`?` when absent).
    pub name: String,
    /// `metadata.namespace`, when given.
    pub namespace: Option<String>,
    /// `metadata.labels`.
    pub labels: Vec<(String, String)>,
    /// Where the object is (its `kind` value).
    pub location: Location,
    /// What matters of it.
    pub body: Body,
}

/// The parts of an object the trust graph reads.
#[derive(Clone, Debug)]
pub enum Body {
    /// `Secret` or `ConfigMap`: each key with the bundle its value holds.
    Data {
        /// Keys in source order.
        entries: Vec<DataEntry>,
    },
    /// `Service`.
    Service {
        /// `spec.selector`.
        selector: Vec<(String, String)>,
    },
    /// A workload's pod template.
    Workload(PodSpec),
    /// Admission webhooks, `APIService`, CRD conversion: who the API server calls and what it trusts.
    Webhooks(Vec<ClientConfig>),
    /// cert-manager `Certificate`.
    Certificate(CertificateSpec),
    /// cert-manager `Issuer` / `ClusterIssuer`.
    Issuer {
        /// `spec.ca.secretName`: the Secret holding the issuing CA.
        ca_secret: Option<String>,
        /// `ca`, `selfSigned`, `acme`, `vault`, `venafi`, or `external` (another issuer group).
        issuer_type: String,
    },
    /// trust-manager `Bundle`.
    TrustBundle {
        /// Where its certificates come from.
        sources: Vec<BundleSource>,
        /// `spec.target.configMap.key` / `spec.target.secret.key`.
        target_key: Option<String>,
        /// Whether the target is a Secret (else a ConfigMap).
        target_secret: bool,
    },
    /// A kubeconfig (`kind: Config`).
    Kubeconfig {
        /// `clusters[]`.
        clusters: Vec<KubeconfigCluster>,
        /// `users[]` with client certificates.
        users: Vec<KubeconfigUser>,
    },
    /// Ingress, Gateway API `Gateway` and `BackendTLSPolicy`, Istio
    /// `Gateway` and `DestinationRule`: TLS terminated for hosts, and trust
    /// towards backends (see `docs/shapes.md`).
    Tls(TlsShape),
    /// Any other kind.
    Other,
}

/// What an ingress-like object says about TLS.
#[derive(Clone, Debug, Default)]
pub struct TlsShape {
    /// Which shape: `ingress`, `gateway-api`, `backend-tls-policy`,
    /// `istio-gateway`, `destination-rule` (the keys of the policy's `shapes`).
    pub shape: String,
    /// Where TLS is terminated for clients.
    pub listeners: Vec<TlsListener>,
    /// Where TLS is originated towards a backend.
    pub backends: Vec<BackendTls>,
}

/// A Secret or ConfigMap named by a shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    /// Whether it is a Secret (else a ConfigMap).
    pub secret: bool,
    /// Its name.
    pub name: String,
    /// Its namespace, when the reference says.
    pub namespace: Option<String>,
    /// Where the reference is.
    pub location: Location,
}

/// One TLS listener: serves `certs` for `hosts`.
#[derive(Clone, Debug)]
pub struct TlsListener {
    /// Its name (`tls[0]`, the listener's or server port's name).
    pub name: String,
    /// The host names it answers for, each with where it is written.
    pub hosts: Vec<(String, Location)>,
    /// The Secrets holding the served certificate.
    pub certs: Vec<ObjectRef>,
    /// Whether client certificates are verified against the same Secret's CA keys (Istio `MUTUAL`).
    pub mutual: bool,
}

/// TLS towards a backend: trusts `cas` to verify `host` on `peer`.
#[derive(Clone, Debug)]
pub struct BackendTls {
    /// The name verified against the backend's certificate (SNI / `hostname`).
    pub host: Option<String>,
    /// Where the name is written.
    pub host_location: Location,
    /// The backend: a Service name (`name.namespace.svc`) or host.
    pub peer: Option<String>,
    /// The CA certificates trusted.
    pub cas: Vec<ObjectRef>,
}

/// One key of a Secret or ConfigMap.
#[derive(Clone, Debug)]
pub struct DataEntry {
    /// The key (`tls.crt`, `ca.crt`).
    pub key: String,
    /// File-local bundle index of its certificates, if the value held any PEM/DER.
    pub bundle: Option<u32>,
    /// Where the value is.
    pub location: Location,
}

/// A pod template.
#[derive(Clone, Debug, Default)]
pub struct PodSpec {
    /// The pod's labels (what Services select).
    pub labels: Vec<(String, String)>,
    /// Containers and init containers.
    pub containers: Vec<Container>,
    /// `volumes[]`.
    pub volumes: Vec<Volume>,
}

/// A container.
#[derive(Clone, Debug, Default)]
pub struct Container {
    /// `name`.
    pub name: String,
    /// `image`.
    pub image: String,
    /// `command` then `args`, split on whitespace (shell forms too), each with its location.
    pub args: Vec<(String, Location)>,
    /// `env[]` with literal `value`s.
    pub env: Vec<(String, String, Location)>,
    /// `volumeMounts[]`.
    pub mounts: Vec<Mount>,
}

/// A `volumeMount`.
#[derive(Clone, Debug)]
pub struct Mount {
    /// The volume's name.
    pub name: String,
    /// `mountPath`.
    pub path: String,
    /// `subPath`.
    pub sub_path: Option<String>,
}

/// A pod volume.
#[derive(Clone, Debug)]
pub struct Volume {
    /// `name`.
    pub name: String,
    /// Where its files come from.
    pub sources: Vec<VolumeSource>,
    /// Where it is declared.
    pub location: Location,
}

/// One source of a volume's files (a projected volume has several).
#[derive(Clone, Debug)]
pub enum VolumeSource {
    /// A Secret (`secret.secretName` or a projected `secret.name`).
    Secret {
        /// Secret name.
        name: String,
        /// `items[]` remapping (`key` → `path`); empty: every key as a file of its name.
        items: Vec<(String, String)>,
    },
    /// A ConfigMap.
    ConfigMap {
        /// ConfigMap name.
        name: String,
        /// `items[]` remapping.
        items: Vec<(String, String)>,
    },
    /// `hostPath.path`.
    HostPath(String),
}

/// Where the API server connects to and what it trusts there.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The webhook's name (or the object's, for `APIService` and CRDs).
    pub name: String,
    /// File-local bundle of `caBundle`, if it held certificates.
    pub ca_bundle: Option<u32>,
    /// Whether a `caBundle` key is present at all.
    pub has_ca_bundle: bool,
    /// Where `caBundle` is (or the client config, when absent).
    pub location: Location,
    /// `service` (name, namespace, port).
    pub service: Option<(String, String, Option<u16>)>,
    /// `url`.
    pub url: Option<String>,
    /// `insecureSkipTLSVerify` (APIService).
    pub insecure: bool,
    /// The object's `cert-manager.io/inject-*` annotations (name, value):
    /// what cert-manager's CA injector writes into `caBundle`.
    pub inject: Vec<(String, String)>,
}

/// cert-manager `Certificate.spec`.
#[derive(Clone, Debug, Default)]
pub struct CertificateSpec {
    /// `secretName`.
    pub secret_name: Option<String>,
    /// `issuerRef.name`.
    pub issuer_name: String,
    /// `issuerRef.kind` (default `Issuer`).
    pub issuer_kind: String,
    /// `issuerRef.group` (default `cert-manager.io`).
    pub issuer_group: String,
    /// `dnsNames[]` and `ipAddresses[]`.
    pub names: Vec<String>,
    /// `commonName`.
    pub common_name: Option<String>,
    /// `isCA`.
    pub is_ca: bool,
    /// Where `dnsNames` is (or the spec).
    pub names_location: Option<Location>,
}

/// A trust-manager `Bundle` source.
#[derive(Clone, Debug)]
pub enum BundleSource {
    /// `secret: {name, key}` or `configMap: {name, key}`.
    Object {
        /// Whether it is a Secret.
        secret: bool,
        /// Name.
        name: String,
        /// Key.
        key: String,
    },
    /// `inLine` PEM (file-local bundle).
    Inline(Option<u32>),
    /// `useDefaultCAs: true`.
    DefaultCas,
}

/// A kubeconfig cluster.
#[derive(Clone, Debug)]
pub struct KubeconfigCluster {
    /// `name`.
    pub name: String,
    /// `cluster.server`.
    pub server: Option<String>,
    /// `certificate-authority-data` bundle.
    pub ca: Option<u32>,
    /// `certificate-authority` (a path).
    pub ca_path: Option<String>,
    /// Where the cluster entry is.
    pub location: Location,
}

/// A kubeconfig user with a client certificate.
#[derive(Clone, Debug)]
pub struct KubeconfigUser {
    /// `name`.
    pub name: String,
    /// `client-certificate-data` bundle.
    pub cert: Option<u32>,
    /// `client-certificate` (a path).
    pub cert_path: Option<String>,
    /// Where the user entry is.
    pub location: Location,
}

/// Reads values of one document.
struct Reader<'a> {
    doc: &'a Document,
    bundles: &'a HashMap<NodeId, u32>,
    locate: &'a dyn Fn(NodeId) -> Location,
}

impl Reader<'_> {
    fn get(&self, node: NodeId, path: &[&str]) -> Option<NodeId> {
        self.doc.get_path(node, path)
    }

    fn string(&self, node: NodeId, path: &[&str]) -> Option<String> {
        self.get(node, path)
            .and_then(|n| self.doc.str(n))
            .map(str::to_owned)
    }

    fn items(&self, node: NodeId, path: &[&str]) -> Vec<NodeId> {
        self.get(node, path)
            .map(|n| self.doc.seq(n).to_vec())
            .unwrap_or_default()
    }

    fn map_pairs(&self, node: NodeId, path: &[&str]) -> Vec<(String, String)> {
        let Some(m) = self.get(node, path) else {
            return Vec::new();
        };
        self.doc
            .entries(m)
            .into_iter()
            .filter_map(|(k, v)| Some((self.doc.str(k)?.to_owned(), self.doc.str(v)?.to_owned())))
            .collect()
    }

    fn bundle(&self, node: Option<NodeId>) -> Option<u32> {
        node.and_then(|n| {
            self.bundles
                .get(&self.doc.resolve(n))
                .or_else(|| self.bundles.get(&n))
        })
        .copied()
    }

    /// A boolean field as kubectl reads it (go-yaml v2, YAML 1.1): plain `true`, `yes`, `on`...
    fn truthy(&self, node: NodeId, path: &[&str]) -> bool {
        self.get(node, path)
            .and_then(|n| self.doc.bool11(n))
            .unwrap_or(false)
    }

    fn key_items(&self, node: NodeId) -> Vec<(String, String)> {
        self.items(node, &["items"])
            .into_iter()
            .filter_map(|i| Some((self.string(i, &["key"])?, self.string(i, &["path"])?)))
            .collect()
    }
}

/// The name of an object without `metadata.name`.
pub const UNNAMED: &str = "?";

/// The objects of one document: one, several for a `List`, none if it is not Kubernetes.
pub fn objects(
    doc: &Document,
    root: NodeId,
    bundles: &HashMap<NodeId, u32>,
    locate: &dyn Fn(NodeId) -> Location,
) -> Vec<Object> {
    let r = Reader {
        doc,
        bundles,
        locate,
    };
    let Some(kind) = r.string(root, &["kind"]) else {
        return Vec::new();
    };
    if kind.ends_with("List") && r.get(root, &["items"]).is_some() {
        return r
            .items(root, &["items"])
            .into_iter()
            .filter_map(|i| object(&r, i))
            .filter(matters)
            .collect();
    }
    object(&r, root).into_iter().filter(matters).collect()
}

/// Whether the trust graph can use an object: kinds it does not read, and
/// workloads that name no file and mount nothing, are dropped here so that
/// a monorepo's thousands of plain Deployments cost no memory.
fn matters(o: &Object) -> bool {
    match &o.body {
        Body::Other => false,
        Body::Workload(p) => {
            !p.volumes.is_empty()
                || p.containers
                    .iter()
                    .any(|c| !c.args.is_empty() || !c.env.is_empty() || !c.mounts.is_empty())
        }
        _ => true,
    }
}

fn object(r: &Reader<'_>, node: NodeId) -> Option<Object> {
    let kind_node = r.get(node, &["kind"])?;
    let kind = r.doc.str(kind_node)?.to_owned();
    // A kubeconfig has `kind: Config` and no metadata; everything else needs apiVersion.
    r.string(node, &["apiVersion"])?;
    let mut body = match kind.as_str() {
        "Secret" | "ConfigMap" => data(r, node),
        "Service" => Body::Service {
            selector: r.map_pairs(node, &["spec", "selector"]),
        },
        "Pod" => Body::Workload(pod(
            r,
            r.get(node, &["spec"]),
            r.map_pairs(node, &["metadata", "labels"]),
        )),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => {
            let t = r.get(node, &["spec", "template"]);
            Body::Workload(pod(
                r,
                t.and_then(|t| r.get(t, &["spec"])),
                t.map(|t| r.map_pairs(t, &["metadata", "labels"]))
                    .unwrap_or_default(),
            ))
        }
        "CronJob" => {
            let t = r.get(node, &["spec", "jobTemplate", "spec", "template"]);
            Body::Workload(pod(
                r,
                t.and_then(|t| r.get(t, &["spec"])),
                t.map(|t| r.map_pairs(t, &["metadata", "labels"]))
                    .unwrap_or_default(),
            ))
        }
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => Body::Webhooks(
            r.items(node, &["webhooks"])
                .into_iter()
                .filter_map(|w| {
                    let name = r.string(w, &["name"]).unwrap_or_default();
                    client_config(r, r.get(w, &["clientConfig"])?, name)
                })
                .collect(),
        ),
        "APIService" => {
            let name = r.string(node, &["metadata", "name"]).unwrap_or_default();
            let spec = r.get(node, &["spec"]);
            Body::Webhooks(
                spec.and_then(|s| client_config(r, s, name))
                    .into_iter()
                    .collect(),
            )
        }
        "CustomResourceDefinition" => {
            let name = r.string(node, &["metadata", "name"]).unwrap_or_default();
            let cc = r
                .get(node, &["spec", "conversion", "webhook", "clientConfig"])
                .or_else(|| r.get(node, &["spec", "conversion", "webhookClientConfig"]));
            Body::Webhooks(
                cc.and_then(|c| client_config(r, c, name))
                    .into_iter()
                    .collect(),
            )
        }
        "Ingress" => ingress(r, node),
        "Gateway" | "BackendTLSPolicy" | "DestinationRule" => gateway(r, node, &kind),
        "Certificate" => certificate(r, node),
        "Issuer" | "ClusterIssuer" => issuer(r, node),
        "Bundle" => trust_bundle(r, node),
        // Only `apiVersion: v1` with clusters, users or contexts is a
        // kubeconfig; Skaffold and others have a `kind: Config` of their own.
        "Config"
            if r.string(node, &["apiVersion"]).as_deref() == Some("v1")
                && ["clusters", "users", "contexts"]
                    .iter()
                    .any(|k| r.get(node, &[k]).is_some()) =>
        {
            kubeconfig(r, node)
        }
        _ => Body::Other,
    };
    if let Body::Webhooks(ccs) = &mut body {
        let inject = inject_annotations(r, node);
        for cc in ccs {
            cc.inject.clone_from(&inject);
        }
    }
    Some(Object {
        name: r
            .string(node, &["metadata", "name"])
            .unwrap_or_else(|| UNNAMED.into()),
        namespace: r.string(node, &["metadata", "namespace"]),
        labels: r.map_pairs(node, &["metadata", "labels"]),
        location: (r.locate)(kind_node),
        kind,
        body,
    })
}

fn data(r: &Reader<'_>, node: NodeId) -> Body {
    let mut entries = Vec::new();
    for section in ["data", "stringData", "binaryData"] {
        let Some(m) = r.get(node, &[section]) else {
            continue;
        };
        for (k, v) in r.doc.entries(m) {
            let Some(key) = r.doc.str(k) else { continue };
            entries.push(DataEntry {
                key: key.to_owned(),
                bundle: r.bundle(Some(v)),
                location: (r.locate)(v),
            });
        }
    }
    Body::Data { entries }
}

fn pod(r: &Reader<'_>, spec: Option<NodeId>, labels: Vec<(String, String)>) -> PodSpec {
    let Some(spec) = spec else {
        return PodSpec {
            labels,
            ..PodSpec::default()
        };
    };
    let mut containers = Vec::new();
    for section in ["initContainers", "containers"] {
        for c in r.items(spec, &[section]) {
            containers.push(container(r, c));
        }
    }
    let volumes = r
        .items(spec, &["volumes"])
        .into_iter()
        .filter_map(|v| volume(r, v))
        .collect();
    PodSpec {
        labels,
        containers,
        volumes,
    }
}

fn container(r: &Reader<'_>, c: NodeId) -> Container {
    let mut args = Vec::new();
    for section in ["command", "args"] {
        for a in r.items(c, &[section]) {
            let Some(text) = r.doc.str(a) else { continue };
            let loc = (r.locate)(a);
            // `sh -c "etcd --cert-file=…"`: the words of a shell line are flags too.
            for word in text.split_whitespace() {
                let word = word.trim_matches(|ch| ch == '"' || ch == '\'');
                args.push((word.to_owned(), loc.clone()));
            }
        }
    }
    // Only values that are paths can name a certificate file; keeping the
    // rest would hold every setting of every workload in memory.
    let env = r
        .items(c, &["env"])
        .into_iter()
        .filter_map(|e| {
            let v = r.get(e, &["value"])?;
            let value = r.doc.str(v)?;
            if !value.starts_with('/') {
                return None;
            }
            Some((r.string(e, &["name"])?, value.to_owned(), (r.locate)(v)))
        })
        .collect();
    let mounts = r
        .items(c, &["volumeMounts"])
        .into_iter()
        .filter_map(|m| {
            Some(Mount {
                name: r.string(m, &["name"])?,
                path: r.string(m, &["mountPath"])?,
                sub_path: r.string(m, &["subPath"]).filter(|s| !s.is_empty()),
            })
        })
        .collect();
    Container {
        name: r.string(c, &["name"]).unwrap_or_default(),
        image: r.string(c, &["image"]).unwrap_or_default(),
        args,
        env,
        mounts,
    }
}

fn volume(r: &Reader<'_>, v: NodeId) -> Option<Volume> {
    let name = r.string(v, &["name"])?;
    let mut sources = Vec::new();
    if let Some(s) = r.get(v, &["secret"]) {
        if let Some(n) = r.string(s, &["secretName"]) {
            sources.push(VolumeSource::Secret {
                name: n,
                items: r.key_items(s),
            });
        }
    }
    if let Some(s) = r.get(v, &["configMap"]) {
        if let Some(n) = r.string(s, &["name"]) {
            sources.push(VolumeSource::ConfigMap {
                name: n,
                items: r.key_items(s),
            });
        }
    }
    for p in r.items(v, &["projected", "sources"]) {
        if let Some(s) = r.get(p, &["secret"]) {
            if let Some(n) = r.string(s, &["name"]) {
                sources.push(VolumeSource::Secret {
                    name: n,
                    items: r.key_items(s),
                });
            }
        }
        if let Some(s) = r.get(p, &["configMap"]) {
            if let Some(n) = r.string(s, &["name"]) {
                sources.push(VolumeSource::ConfigMap {
                    name: n,
                    items: r.key_items(s),
                });
            }
        }
    }
    if let Some(p) = r.string(v, &["hostPath", "path"]) {
        sources.push(VolumeSource::HostPath(p));
    }
    Some(Volume {
        name,
        sources,
        location: (r.locate)(v),
    })
}

/// The `cert-manager.io/inject-*` annotations of the object at `node`.
fn inject_annotations(r: &Reader<'_>, node: NodeId) -> Vec<(String, String)> {
    r.map_pairs(node, &["metadata", "annotations"])
        .into_iter()
        .filter(|(k, _)| k.starts_with("cert-manager.io/inject-"))
        .collect()
}

fn client_config(r: &Reader<'_>, cc: NodeId, name: String) -> Option<ClientConfig> {
    let ca = r.get(cc, &["caBundle"]);
    let service = r.get(cc, &["service"]).and_then(|s| {
        let port = r.string(s, &["port"]).and_then(|p| p.parse().ok());
        Some((
            r.string(s, &["name"])?,
            r.string(s, &["namespace"])
                .unwrap_or_else(|| "default".into()),
            port,
        ))
    });
    let url = r.string(cc, &["url"]);
    if ca.is_none() && service.is_none() && url.is_none() {
        return None;
    }
    Some(ClientConfig {
        name,
        ca_bundle: r.bundle(ca),
        has_ca_bundle: ca.is_some_and(|c| !r.doc.is_null(c)),
        location: (r.locate)(ca.unwrap_or(cc)),
        service,
        url,
        insecure: r.truthy(cc, &["insecureSkipTLSVerify"]),
        inject: Vec::new(),
    })
}

fn certificate(r: &Reader<'_>, node: NodeId) -> Body {
    let Some(spec) = r.get(node, &["spec"]) else {
        return Body::Other;
    };
    let mut names: Vec<String> = Vec::new();
    for section in ["dnsNames", "ipAddresses"] {
        names.extend(
            r.items(spec, &[section])
                .into_iter()
                .filter_map(|n| r.doc.str(n).map(str::to_owned)),
        );
    }
    Body::Certificate(CertificateSpec {
        secret_name: r.string(spec, &["secretName"]),
        issuer_name: r.string(spec, &["issuerRef", "name"]).unwrap_or_default(),
        issuer_kind: r
            .string(spec, &["issuerRef", "kind"])
            .unwrap_or_else(|| "Issuer".into()),
        issuer_group: r
            .string(spec, &["issuerRef", "group"])
            .unwrap_or_else(|| "cert-manager.io".into()),
        names,
        common_name: r.string(spec, &["commonName"]),
        is_ca: r.truthy(spec, &["isCA"]),
        names_location: Some((r.locate)(r.get(spec, &["dnsNames"]).unwrap_or(spec))),
    })
}

fn issuer(r: &Reader<'_>, node: NodeId) -> Body {
    let spec = r.get(node, &["spec"]);
    let ca_secret = spec.and_then(|s| r.string(s, &["ca", "secretName"]));
    let issuer_type = ["ca", "selfSigned", "acme", "vault", "venafi"]
        .into_iter()
        .find(|t| spec.and_then(|s| r.get(s, &[t])).is_some())
        .unwrap_or("external")
        .to_owned();
    Body::Issuer {
        ca_secret,
        issuer_type,
    }
}

fn trust_bundle(r: &Reader<'_>, node: NodeId) -> Body {
    let Some(spec) = r.get(node, &["spec"]) else {
        return Body::Other;
    };
    let mut sources = Vec::new();
    for s in r.items(spec, &["sources"]) {
        for (section, secret) in [("secret", true), ("configMap", false)] {
            if let Some(o) = r.get(s, &[section]) {
                if let (Some(name), Some(key)) = (r.string(o, &["name"]), r.string(o, &["key"])) {
                    sources.push(BundleSource::Object { secret, name, key });
                }
            }
        }
        if let Some(i) = r.get(s, &["inLine"]) {
            sources.push(BundleSource::Inline(r.bundle(Some(i))));
        }
        if r.truthy(s, &["useDefaultCAs"]) {
            sources.push(BundleSource::DefaultCas);
        }
    }
    let (target_key, target_secret) = match r.string(spec, &["target", "secret", "key"]) {
        Some(k) => (Some(k), true),
        None => (r.string(spec, &["target", "configMap", "key"]), false),
    };
    Body::TrustBundle {
        sources,
        target_key,
        target_secret,
    }
}

fn kubeconfig(r: &Reader<'_>, node: NodeId) -> Body {
    let clusters = r
        .items(node, &["clusters"])
        .into_iter()
        .map(|c| KubeconfigCluster {
            name: r.string(c, &["name"]).unwrap_or_default(),
            server: r.string(c, &["cluster", "server"]),
            ca: r.bundle(r.get(c, &["cluster", "certificate-authority-data"])),
            ca_path: r.string(c, &["cluster", "certificate-authority"]),
            location: (r.locate)(
                r.get(c, &["cluster", "certificate-authority-data"])
                    .unwrap_or(c),
            ),
        })
        .collect();
    let users = r
        .items(node, &["users"])
        .into_iter()
        .filter_map(|u| {
            let data = r.get(u, &["user", "client-certificate-data"]);
            let path = r.string(u, &["user", "client-certificate"]);
            (data.is_some() || path.is_some()).then(|| KubeconfigUser {
                name: r.string(u, &["name"]).unwrap_or_default(),
                cert: r.bundle(data),
                cert_path: path,
                location: (r.locate)(data.unwrap_or(u)),
            })
        })
        .collect();
    Body::Kubeconfig { clusters, users }
}

/// A Secret reference of a shape, with where it is written.
fn secret_ref(r: &Reader<'_>, node: NodeId, name: String, namespace: Option<String>) -> ObjectRef {
    ObjectRef {
        secret: true,
        name,
        namespace,
        location: (r.locate)(node),
    }
}

/// `networking.k8s.io/v1` Ingress: each `spec.tls[]` entry serves its
/// `secretName` for its `hosts`, and for the rules' hosts that the entry
/// covers (all of them when it lists none: the controller then serves the
/// Secret for every rule host).
/// <https://kubernetes.io/docs/concepts/services-networking/ingress/#tls>
fn ingress(r: &Reader<'_>, node: NodeId) -> Body {
    let Some(spec) = r.get(node, &["spec"]) else {
        return Body::Other;
    };
    let rule_hosts: Vec<(String, Location)> = r
        .items(spec, &["rules"])
        .into_iter()
        .filter_map(|rule| {
            let h = r.get(rule, &["host"])?;
            Some((r.doc.str(h)?.to_owned(), (r.locate)(h)))
        })
        .collect();
    let mut listeners = Vec::new();
    for (i, t) in r.items(spec, &["tls"]).into_iter().enumerate() {
        let Some(secret) = r.get(t, &["secretName"]) else {
            continue;
        };
        let Some(name) = r.doc.str(secret).map(str::to_owned) else {
            continue;
        };
        let mut hosts: Vec<(String, Location)> = r
            .items(t, &["hosts"])
            .into_iter()
            .filter_map(|h| Some((r.doc.str(h)?.to_owned(), (r.locate)(h))))
            .collect();
        let listed: Vec<String> = hosts.iter().map(|h| h.0.clone()).collect();
        for (h, loc) in &rule_hosts {
            let under = listed.is_empty()
                || listed
                    .iter()
                    .any(|l| l != h && crate::verify::san_covers(l, h));
            if under && !hosts.iter().any(|x| &x.0 == h) {
                hosts.push((h.clone(), loc.clone()));
            }
        }
        listeners.push(TlsListener {
            name: format!("tls[{i}]"),
            hosts,
            certs: vec![secret_ref(r, secret, name, None)],
            mutual: false,
        });
    }
    if listeners.is_empty() {
        return Body::Other;
    }
    Body::Tls(TlsShape {
        shape: "ingress".into(),
        listeners,
        backends: Vec::new(),
    })
}

/// Gateway API (`gateway.networking.k8s.io`) `Gateway` and
/// `BackendTLSPolicy`, Istio (`networking.istio.io`) `Gateway` and
/// `DestinationRule`; any other API group's kind of the same name is not read.
/// <https://gateway-api.sigs.k8s.io/reference/spec/>,
/// <https://istio.io/latest/docs/reference/config/networking/gateway/>,
/// <https://istio.io/latest/docs/reference/config/networking/destination-rule/>
fn gateway(r: &Reader<'_>, node: NodeId, kind: &str) -> Body {
    let api = r.string(node, &["apiVersion"]).unwrap_or_default();
    let group = api.split('/').next().unwrap_or("");
    let Some(spec) = r.get(node, &["spec"]) else {
        return Body::Other;
    };
    let mut shape = TlsShape::default();
    match (group, kind) {
        ("gateway.networking.k8s.io", "Gateway") => {
            shape.shape = "gateway-api".into();
            for l in r.items(spec, &["listeners"]) {
                // `Passthrough` hands TLS to the backend; `Terminate` is the default.
                if r.string(l, &["tls", "mode"]).as_deref() == Some("Passthrough") {
                    continue;
                }
                let certs: Vec<ObjectRef> = r
                    .items(l, &["tls", "certificateRefs"])
                    .into_iter()
                    .filter(|c| {
                        r.string(*c, &["kind"]).is_none_or(|k| k == "Secret")
                            && r.string(*c, &["group"]).is_none_or(|g| g.is_empty())
                    })
                    .filter_map(|c| {
                        let name = r.string(c, &["name"])?;
                        Some(secret_ref(r, c, name, r.string(c, &["namespace"])))
                    })
                    .collect();
                if certs.is_empty() {
                    continue;
                }
                let hosts = r
                    .get(l, &["hostname"])
                    .and_then(|h| Some((r.doc.str(h)?.to_owned(), (r.locate)(h))))
                    .into_iter()
                    .collect();
                shape.listeners.push(TlsListener {
                    name: r.string(l, &["name"]).unwrap_or_default(),
                    hosts,
                    certs,
                    mutual: false,
                });
            }
        }
        ("gateway.networking.k8s.io", "BackendTLSPolicy") => {
            shape.shape = "backend-tls-policy".into();
            // v1alpha3+: `validation`; v1alpha2: `tls` with `caCertRefs`.
            let v = r
                .get(spec, &["validation"])
                .or_else(|| r.get(spec, &["tls"]));
            let Some(v) = v else {
                return Body::Other;
            };
            let host = r.get(v, &["hostname"]);
            let cas: Vec<ObjectRef> = ["caCertificateRefs", "caCertRefs"]
                .iter()
                .flat_map(|k| r.items(v, &[k]))
                .filter_map(|c| {
                    let kind = r.string(c, &["kind"]).unwrap_or_else(|| "ConfigMap".into());
                    let name = r.string(c, &["name"])?;
                    Some(ObjectRef {
                        secret: kind == "Secret",
                        name,
                        namespace: None,
                        location: (r.locate)(c),
                    })
                })
                .collect();
            let ns = r.string(node, &["metadata", "namespace"]);
            let mut targets = r.items(spec, &["targetRefs"]);
            targets.extend(r.get(spec, &["targetRef"]));
            for t in targets {
                if r.string(t, &["kind"]).is_some_and(|k| k != "Service") {
                    continue;
                }
                let Some(svc) = r.string(t, &["name"]) else {
                    continue;
                };
                let peer = match &ns {
                    Some(ns) => format!("{svc}.{ns}.svc"),
                    None => svc,
                };
                shape.backends.push(BackendTls {
                    host: host.and_then(|h| r.doc.str(h)).map(str::to_owned),
                    host_location: (r.locate)(host.unwrap_or(v)),
                    peer: Some(peer),
                    cas: cas.clone(),
                });
            }
        }
        ("networking.istio.io", "Gateway") => {
            shape.shape = "istio-gateway".into();
            for (i, s) in r.items(spec, &["servers"]).into_iter().enumerate() {
                let mode = r.string(s, &["tls", "mode"]).unwrap_or_default();
                if !matches!(mode.as_str(), "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL") {
                    continue;
                }
                let Some(cred) = r.get(s, &["tls", "credentialName"]) else {
                    continue;
                };
                let Some(name) = r.doc.str(cred) else {
                    continue;
                };
                // `kubernetes://name` is the older spelling of a Secret name.
                let name = name.trim_start_matches("kubernetes://").to_owned();
                // `ns/host`: the host for virtual services of namespace ns.
                let hosts = r
                    .items(s, &["hosts"])
                    .into_iter()
                    .filter_map(|h| {
                        let text = r.doc.str(h)?;
                        let host = text.rsplit_once('/').map_or(text, |(_, h)| h);
                        (host != "*").then(|| (host.to_owned(), (r.locate)(h)))
                    })
                    .collect();
                shape.listeners.push(TlsListener {
                    name: r
                        .string(s, &["port", "name"])
                        .unwrap_or_else(|| format!("servers[{i}]")),
                    hosts,
                    // The Secret lives in the gateway workload's namespace,
                    // which the Gateway does not say.
                    certs: vec![secret_ref(r, cred, name, None)],
                    mutual: mode != "SIMPLE",
                });
            }
        }
        ("networking.istio.io", "DestinationRule") => {
            shape.shape = "destination-rule".into();
            let host = r.string(spec, &["host"]);
            let mut policies: Vec<NodeId> = r.get(spec, &["trafficPolicy"]).into_iter().collect();
            policies.extend(
                r.items(spec, &["subsets"])
                    .into_iter()
                    .filter_map(|s| r.get(s, &["trafficPolicy"])),
            );
            for p in policies {
                let Some(tls) = r.get(p, &["tls"]) else {
                    continue;
                };
                let mode = r.string(tls, &["mode"]).unwrap_or_default();
                if !matches!(mode.as_str(), "SIMPLE" | "MUTUAL") {
                    continue;
                }
                let Some(cred) = r.get(tls, &["credentialName"]) else {
                    continue;
                };
                let Some(name) = r.doc.str(cred).map(str::to_owned) else {
                    continue;
                };
                let sni = r.get(tls, &["sni"]);
                shape.backends.push(BackendTls {
                    host: sni
                        .and_then(|n| r.doc.str(n))
                        .map(str::to_owned)
                        .or_else(|| host.clone()),
                    host_location: (r.locate)(sni.unwrap_or(tls)),
                    peer: host.clone(),
                    cas: vec![secret_ref(r, cred, name, None)],
                });
            }
        }
        _ => return Body::Other,
    }
    if shape.listeners.is_empty() && shape.backends.is_empty() {
        return Body::Other;
    }
    Body::Tls(shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::yaml;

    fn read(text: &str) -> Vec<Object> {
        let stream = yaml::parse(text, &yaml::Limits::default());
        let doc = &stream.docs[0];
        let locate = |_: NodeId| Location {
            path: "t.yaml".into(),
            line: 1,
            column: 1,
            root: 0,
        };
        objects(doc, doc.root().unwrap(), &HashMap::new(), &locate)
    }

    fn shape(text: &str) -> TlsShape {
        match read(text).pop().map(|o| o.body) {
            Some(Body::Tls(s)) => s,
            other => panic!("not a TLS shape: {other:?}"),
        }
    }

    /// Issue 19: Skaffold's `kind: Config` made phantom kubeconfig components.
    #[test]
    fn only_a_v1_config_with_clusters_is_a_kubeconfig() {
        let skaffold = "apiVersion: skaffold/v4beta11\nkind: Config\nbuild: {}\n";
        assert!(read(skaffold).is_empty());
        let empty = "apiVersion: v1\nkind: Config\npreferences: {}\n";
        assert!(read(empty).is_empty());
        let kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n";
        assert!(matches!(read(kubeconfig)[0].body, Body::Kubeconfig { .. }));
    }

    #[test]
    fn ingress_rule_hosts_under_a_wildcard_entry_are_served() {
        let s = shape(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\nspec:\n  tls:\n  - {hosts: ['*.x.org'], secretName: t}\n  rules:\n  - host: a.x.org\n  - host: b.y.org\n",
        );
        let hosts: Vec<&str> = s.listeners[0].hosts.iter().map(|h| h.0.as_str()).collect();
        assert_eq!(hosts, ["*.x.org", "a.x.org"]);
        // No `tls` entry: nothing served, not kept.
        assert!(
            read("apiVersion: networking.k8s.io/v1\nkind: Ingress\nspec: {rules: []}\n").is_empty()
        );
    }

    #[test]
    fn gateways_are_read_by_api_group() {
        let istio = shape(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  servers:\n  - hosts: ['ns/a.x.org', '*']\n    tls: {mode: SIMPLE, credentialName: c}\n  - hosts: [b.x.org]\n    tls: {mode: PASSTHROUGH}\n",
        );
        assert_eq!(istio.shape, "istio-gateway");
        assert_eq!(istio.listeners.len(), 1);
        assert_eq!(istio.listeners[0].hosts[0].0, "a.x.org");
        assert_eq!(istio.listeners[0].hosts.len(), 1);
        let api = shape(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  listeners:\n  - name: l\n    hostname: '*.x.org'\n    tls: {certificateRefs: [{name: s}]}\n  - name: p\n    tls: {mode: Passthrough, certificateRefs: [{name: s}]}\n",
        );
        assert_eq!(api.shape, "gateway-api");
        assert_eq!(api.listeners.len(), 1);
        assert_eq!(api.listeners[0].hosts[0].0, "*.x.org");
        // Another group's `Gateway` is not read.
        assert!(
            read("apiVersion: example.org/v1\nkind: Gateway\nspec: {servers: []}\n").is_empty()
        );
    }

    #[test]
    fn ca_injection_annotations_reach_every_client_config() {
        let o = read(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: w\n  annotations: {cert-manager.io/inject-ca-from: ns/c}\nwebhooks:\n- name: a\n  clientConfig: {service: {name: s, namespace: ns}}\n",
        );
        let Body::Webhooks(ccs) = &o[0].body else {
            panic!()
        };
        assert_eq!(
            ccs[0].inject,
            [("cert-manager.io/inject-ca-from".into(), "ns/c".into())]
        );
    }
}
