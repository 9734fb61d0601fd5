//! The ecosystem's TLS shapes as edges of the one graph: Ingress, Gateway
//! API `Gateway` and `BackendTLSPolicy`, Istio `Gateway`, `DestinationRule`
//! and the `cacerts` plug-in CA, Linkerd's trust anchors and identity
//! issuer, and cert-manager's CA injection into webhooks. A terminator
//! becomes a component that serves a Secret's certificate and is reached by
//! its hosts (so `san-coverage` and `expired` apply); a backend policy
//! becomes a trust reference towards a Service (`trust-mismatch`); a mesh
//! CA becomes a trust of its root against the CA certificate. Which Secret
//! keys, object names and annotations mean what is the policy's `shapes`
//! table (`policies/kubernetes.yaml`); the table of shapes is
//! `docs/shapes.md`.

use super::*;
use crate::extract::kube::{ObjectRef, TlsShape};

/// How a shape's object is named in components (`Ingress web/shop`).
fn label(shape: &str) -> &str {
    match shape {
        "ingress" => "Ingress",
        "gateway-api" => "Gateway",
        "backend-tls-policy" => "BackendTLSPolicy",
        "istio-gateway" => "Istio Gateway",
        "destination-rule" => "DestinationRule",
        other => other,
    }
}

impl<'a> Builder<'a> {
    /// Whether a Secret or ConfigMap `name` is in the scanned files (or
    /// written by a cert-manager Certificate or trust-manager Bundle there).
    fn known_object(&self, from: &str, secret: bool, name: &str, ns: Option<&str>) -> bool {
        let kind = if secret { "Secret" } else { "ConfigMap" };
        !matches!(self.nearest(from, &[kind], name, ns), Ok(None))
            || (secret && self.certificate_for(from, name, ns).is_some())
            || matches!(self.nearest(from, &["Bundle"], name, None), Ok(Some(_)))
    }

    /// Whether the nearest object `r` has one of `keys` holding no
    /// certificate (a placeholder, plain text: a chart's test values).
    fn holds_no_certificate(
        &self,
        from: &str,
        r: &ObjectRef,
        keys: &[String],
        ns: Option<&str>,
    ) -> bool {
        let kind = if r.secret { "Secret" } else { "ConfigMap" };
        let Ok(Some(i)) = self.nearest(from, &[kind], &r.name, ns) else {
            return false;
        };
        let o = self.obj(i);
        let Body::Data { entries } = &o.object.body else {
            return false;
        };
        entries.iter().any(|e| {
            keys.contains(&e.key)
                && o.bundle(e.bundle)
                    .is_none_or(|b| self.inv.bundles[b].members.is_empty())
        })
    }

    /// The first of `keys` that the object `r` holds, followed; `None` when
    /// the object is not in the scanned files at all (created at install
    /// time, as most TLS Secrets are) or its key holds a placeholder, not a
    /// certificate: nothing to say. A key that is absent is a fault (the
    /// controller cannot load it) and comes back as `Missing`.
    fn shape_target(
        &self,
        from: &str,
        r: &ObjectRef,
        keys: &[String],
        ns: Option<&str>,
    ) -> Option<Target> {
        if !self.known_object(from, r.secret, &r.name, ns) {
            return None;
        }
        if self.holds_no_certificate(from, r, keys, ns) {
            return None;
        }
        let mut first = None;
        for key in keys {
            let t = self.object_key(from, r.secret, &r.name, key, ns);
            if !matches!(t, Target::Missing(_)) {
                return Some(t);
            }
            first.get_or_insert(t);
        }
        first
    }

    /// Components, serves, reaches and trusts of an Ingress, Gateway or
    /// backend TLS policy.
    pub(super) fn tls_shape(&mut self, oi: usize, shape: &'a TlsShape) {
        let o = self.obj(oi);
        let own_ns = o.object.namespace.as_deref();
        // An Istio gateway's Secret is in the gateway workload's namespace,
        // which the Gateway does not say; the others default to their own.
        let ref_ns = |r: &'a ObjectRef| match (&r.namespace, shape.shape.as_str()) {
            (Some(n), _) => Some(n.as_str()),
            (None, "istio-gateway") => None,
            (None, _) => own_ns,
        };
        let name = format!("{} {}", label(&shape.shape), self.qualified(o));
        let cert_keys = self.policy.shape_field(&shape.shape, "cert_keys");
        let ca_keys = self.policy.shape_field(&shape.shape, "ca_keys");
        let mut comp = None;
        for l in &shape.listeners {
            for r in &l.certs {
                let Some(t) = self.shape_target(&o.path, r, cert_keys, ref_ns(r)) else {
                    continue;
                };
                let c = match comp {
                    Some(c) => c,
                    None => *comp.insert(self.add_component(oi, name.clone(), None)),
                };
                let p = self.presented(c, &name, t, r.location.clone(), &l.name);
                self.graph.serves.push(p);
                let si = self.graph.serves.len() - 1;
                for (host, location) in &l.hosts {
                    self.graph.reaches.push(Reach {
                        component: c,
                        host: host.clone(),
                        port: None,
                        location: location.clone(),
                        serve: Some(si),
                        verdict: None,
                    });
                }
                if !l.mutual {
                    continue;
                }
                // Istio MUTUAL: client certificates are verified against
                // the same Secret's CA key.
                let Some(t) = self.shape_target(&o.path, r, ca_keys, ref_ns(r)) else {
                    continue;
                };
                let (anchors, via) = self.anchors(t);
                self.graph.trusts.push(Trust {
                    component: c,
                    channel: name.clone(),
                    direction: Direction::Client,
                    flag: "credentialName".into(),
                    anchors,
                    location: r.location.clone(),
                    via: format!("{} credentialName → {via}", l.name),
                    host: None,
                    host_location: None,
                    addresses: Vec::new(),
                    checks: Vec::new(),
                    peer_by: PeerBy::Host,
                });
            }
        }
        for b in &shape.backends {
            for r in &b.cas {
                let Some(t) = self.shape_target(&o.path, r, ca_keys, ref_ns(r)) else {
                    continue;
                };
                let c = match comp {
                    Some(c) => c,
                    None => *comp.insert(self.add_component(oi, name.clone(), None)),
                };
                let (anchors, via) = self.anchors(t);
                let flag = if shape.shape == "destination-rule" {
                    "credentialName"
                } else {
                    "caCertificateRefs"
                };
                // The channel is the name verified: what the trust is for.
                self.graph.trusts.push(Trust {
                    component: c,
                    channel: b.host.clone().unwrap_or_else(|| name.clone()),
                    direction: Direction::Server,
                    flag: flag.into(),
                    anchors,
                    location: r.location.clone(),
                    via: format!("{flag} → {via}"),
                    host: b.host.clone(),
                    host_location: Some(b.host_location.clone()),
                    addresses: Vec::new(),
                    checks: Vec::new(),
                    peer_by: match &b.peer {
                        Some(p) if Some(p) != b.host.as_ref() => PeerBy::Name(p.clone()),
                        _ => PeerBy::Host,
                    },
                });
            }
        }
    }

    /// A mesh CA held in a Secret with well-known keys (Linkerd's identity
    /// issuer, Istio's `cacerts`): the CA certificate is served on the
    /// mesh's channel and checked against the root it must chain to.
    /// Linkerd's identity issuer may also be a cert-manager `Certificate`
    /// that writes the issuer Secret (Linkerd's documented rotation setup):
    /// it is then checked before anything is issued, its issuer's CA against
    /// the trust anchors; a Secret of that name in the files goes first.
    pub(super) fn mesh_ca(&mut self, oi: usize) {
        let o = self.obj(oi);
        let ns = o.object.namespace.as_deref();
        let from = o.path.as_str();
        // The Secret this object is or writes.
        let secret_name = match &o.object.body {
            Body::Data { .. } if o.object.kind == "Secret" => o.object.name.as_str(),
            Body::Certificate(spec) => match spec.secret_name.as_deref() {
                Some(n) if matches!(self.nearest(from, &["Secret"], n, ns), Ok(None)) => n,
                _ => return,
            },
            _ => return,
        };
        let is_certificate = matches!(o.object.body, Body::Certificate(_));
        let named = |shape: &str, field: &str| {
            self.policy
                .shape_field(shape, field)
                .iter()
                .any(|n| n == secret_name)
        };
        let shape = if named("linkerd", "issuer_secrets") {
            "linkerd"
        } else if !is_certificate && named("istio-cacerts", "secrets") {
            "istio-cacerts"
        } else {
            return;
        };
        let keys = |field: &str| self.policy.shape_field(shape, field);
        let own = ObjectRef {
            secret: true,
            name: secret_name.to_owned(),
            namespace: None,
            location: o.object.location.clone(),
        };
        // The roots: Linkerd's trust-anchors ConfigMap, Istio's root-cert.pem.
        let roots = if shape == "linkerd" {
            keys("anchor_configmaps").iter().find_map(|cm| {
                let r = ObjectRef {
                    secret: false,
                    name: cm.clone(),
                    namespace: None,
                    location: o.object.location.clone(),
                };
                self.shape_target(from, &r, keys("anchor_keys"), ns)
                    .map(|t| (t, cm.clone()))
            })
        } else {
            self.shape_target(from, &own, keys("root_keys"), ns)
                .map(|t| (t, o.object.name.clone()))
        };
        let Some((roots, roots_name)) = roots else {
            return;
        };
        let qualified = |n: &str| match ns {
            Some(ns) => format!("{ns}/{n}"),
            None => n.to_owned(),
        };
        let (issuer_name, anchors_name, channel) = if shape == "linkerd" {
            (
                format!("linkerd identity issuer {}", self.qualified(o)),
                format!("linkerd trust anchors {}", qualified(&roots_name)),
                "linkerd-identity",
            )
        } else {
            (
                format!("istio plug-in CA {}", self.qualified(o)),
                format!("istio root {}", qualified(&roots_name)),
                "istio-ca",
            )
        };
        let (anchors, via) = self.anchors(roots);
        let location = o.object.location.clone();
        // The chain as served (cert-chain.pem: the CA, then up to the root)
        // when the Secret has one, else the CA certificate alone; a chain
        // must start with the CA certificate that signs.
        let chain = self
            .shape_target(from, &own, keys("chain_keys"), ns)
            .filter(|t| !matches!(t, Target::Missing(_)));
        let ca = self.shape_target(from, &own, keys("cert_keys"), ns);
        let first = |t: &Target| match t {
            Target::Bundle { bundle, .. } => self.inv.bundles[*bundle]
                .members
                .first()
                .map(|m| m.0.clone()),
            _ => None,
        };
        let starts_with = match (&chain, &ca) {
            (Some(_), Some(c)) => first(c),
            _ => None,
        };
        let Some(served) = chain.or(ca) else {
            return;
        };
        let issuer = self.add_component(oi, issuer_name, None);
        let holder = self.add_component(oi, anchors_name, None);
        {
            let p = self.presented(issuer, channel, served, location.clone(), "CA certificate");
            self.graph.serves.push(p);
            let si = self.graph.serves.len() - 1;
            self.graph.trusts.push(Trust {
                component: holder,
                channel: channel.into(),
                direction: Direction::Server,
                flag: roots_name.clone(),
                anchors: anchors.clone(),
                location: location.clone(),
                via: via.clone(),
                host: None,
                host_location: None,
                addresses: Vec::new(),
                checks: Vec::new(),
                peer_by: PeerBy::Serve(si, starts_with),
            });
        }
    }

    /// What cert-manager's CA injector writes into a `caBundle` the object
    /// leaves empty: the CA of the named Certificate's issuer (through its
    /// Secret's `ca.crt`), or a named Secret's `ca.crt`: the anchors, the
    /// annotation and how they were reached; unresolved anchors when the
    /// named Certificate is not in the scanned files. `None` when no
    /// annotation applies, the named Secret is not in the scanned files (a
    /// Secret made at run time, as cert-manager's own webhook CA), the value
    /// is left for another tool to fill in, or the cluster's own CA is
    /// injected (`inject-apiserver-ca`: not in the repository).
    pub(super) fn injected(
        &self,
        oi: usize,
        cc: &'a ClientConfig,
    ) -> Option<(Anchors, &'a str, String)> {
        let o = self.obj(oi);
        let from = o.path.as_str();
        let field = |f: &str| self.policy.shape_field("ca-injection", f);
        let keys = field("secret_keys");
        let split = |v: &'a str| match v.split_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (o.object.namespace.as_deref(), v),
        };
        for (annotation, value) in &cc.inject {
            let secret = if field("from_certificate").contains(annotation) {
                let (ns, name) = split(value);
                let unresolved = |why: String| {
                    Some((
                        Anchors::Unresolved(why),
                        annotation.as_str(),
                        format!("{annotation} {value}"),
                    ))
                };
                let c = match self.nearest(from, &["Certificate"], name, ns) {
                    Ok(Some(c)) => c,
                    // A value another tool fills in (kustomize `$(VARS)`,
                    // `<namespace>/<name>`): nothing to follow yet.
                    Ok(None)
                        if std::iter::once(value.as_str())
                            .chain(value.split('/'))
                            .any(|v| crate::extract::placeholder::placeholder(v).is_some()) =>
                    {
                        continue
                    }
                    // The webhook's caBundle is whatever cert-manager
                    // injects from a Certificate the files do not hold: said,
                    // not skipped in silence.
                    Ok(None) => {
                        return unresolved(format!(
                            "Certificate {value} is not in the scanned files, so the CA cert-manager injects is not checked"
                        ))
                    }
                    Err(e) => return unresolved(format!("Certificate {value}: {e}")),
                };
                let Body::Certificate(spec) = &self.obj(c).object.body else {
                    continue;
                };
                let Some(secret) = spec.secret_name.as_deref() else {
                    continue;
                };
                (ns, secret)
            } else if field("from_secret").contains(annotation) {
                split(value)
            } else {
                continue;
            };
            let r = ObjectRef {
                secret: true,
                name: secret.1.to_owned(),
                namespace: secret.0.map(str::to_owned),
                location: cc.location.clone(),
            };
            // A Secret made at run time (cert-manager's own webhook CA): nothing to say.
            let t = self.shape_target(from, &r, keys, secret.0)?;
            let (anchors, via) = self.anchors(t);
            return Some((anchors, annotation, format!("{annotation} {value} → {via}")));
        }
        None
    }

    /// Linkerd's Helm values: the identity issuer certificate
    /// (`identity.issuer.tls.crtPEM`) against the trust anchors
    /// (`identityTrustAnchorsPEM`) of the same values file, as for the
    /// rendered Secret and ConfigMap.
    pub(super) fn mesh_values(&mut self) {
        let issuer_keys = self.policy.shape_field("linkerd", "issuer_values");
        let anchor_keys = self.policy.shape_field("linkerd", "anchor_values");
        let mut issuers = Vec::new();
        let mut anchors: BTreeMap<&str, usize> = BTreeMap::new();
        for (bi, b) in self.inv.bundles.iter().enumerate() {
            let Some(key) = b.via.strip_prefix("key ") else {
                continue;
            };
            if b.members.is_empty() {
                continue;
            }
            if issuer_keys.iter().any(|k| k == key) {
                issuers.push(bi);
            }
            if anchor_keys.iter().any(|k| k == key) {
                anchors.entry(b.location.path.as_str()).or_insert(bi);
            }
        }
        for bi in issuers {
            let b = &self.inv.bundles[bi];
            let path = b.location.path.clone();
            let Some(&ai) = anchors.get(path.as_str()) else {
                continue;
            };
            let anchor_at = self.inv.bundles[ai].location.clone();
            let mut component = |name: String, location: &Location| {
                self.graph.components.push(Component {
                    name,
                    kind: "Helm values".into(),
                    role: None,
                    client: None,
                    scope: self.policy.scope_of(&path),
                    location: location.clone(),
                    object: usize::MAX,
                    own_files: vec![path.clone()],
                });
                self.graph.components.len() - 1
            };
            let issuer = component(format!("linkerd identity issuer {path}"), &b.location);
            let holder = component(format!("linkerd trust anchors {path}"), &anchor_at);
            let issuer_key = b.via.trim_start_matches("key ").to_owned();
            let anchor_key = self.inv.bundles[ai]
                .via
                .trim_start_matches("key ")
                .to_owned();
            self.graph.serves.push(Presented {
                component: issuer,
                channel: "linkerd-identity".into(),
                bundle: Some(bi),
                source: Source::Static,
                location: b.location.clone(),
                via: format!("CA certificate → {issuer_key}"),
            });
            let si = self.graph.serves.len() - 1;
            self.graph.trusts.push(Trust {
                component: holder,
                channel: "linkerd-identity".into(),
                direction: Direction::Server,
                flag: anchor_key.clone(),
                anchors: Anchors::Bundle(ai),
                location: anchor_at,
                via: anchor_key,
                host: None,
                host_location: None,
                addresses: Vec::new(),
                checks: Vec::new(),
                peer_by: PeerBy::Serve(si, None),
            });
        }
    }
}
