//! Workload resolution: Kubernetes objects (Pods and their controllers,
//! webhook configurations, APIServices, kubeconfigs) into components, the
//! certificates they present and the trust references they hold, each
//! file path or Secret key followed to the nearest object that holds it.

use super::*;

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Directory distance between two files: 0 same file, 1 same directory,
/// then steps up to the common ancestor and down again.
fn distance(a: &str, b: &str) -> usize {
    if a == b {
        return 0;
    }
    let (da, db) = (dir_of(a), dir_of(b));
    let plain = |d: &str| !d.starts_with('/') && !d.ends_with('/') && !d.contains("//");
    if !plain(da) || !plain(db) {
        return distance_by_parts(da, db);
    }
    // Directories without empty components: count in bytes, no allocation
    // (this runs for every candidate of every lookup).
    let slashes = |s: &str| memchr::memchr_iter(b'/', s.as_bytes()).count();
    let parts = |d: &str| if d.is_empty() { 0 } else { slashes(d) + 1 };
    let same = da
        .bytes()
        .zip(db.bytes())
        .take_while(|(x, y)| x == y)
        .count();
    let ends_part = |d: &str| d.len() == same || d.as_bytes()[same] == b'/';
    let common = slashes(&da[..same]) + usize::from(same > 0 && ends_part(da) && ends_part(db));
    1 + (parts(da) - common) + (parts(db) - common)
}

/// [`distance`] of two directories, by their non-empty components.
fn distance_by_parts(da: &str, db: &str) -> usize {
    let pa: Vec<&str> = da.split('/').filter(|s| !s.is_empty()).collect();
    let pb: Vec<&str> = db.split('/').filter(|s| !s.is_empty()).collect();
    let common = pa.iter().zip(&pb).take_while(|(x, y)| x == y).count();
    1 + (pa.len() - common) + (pb.len() - common)
}

/// A flag, its value, and where it is.
type Flag = (String, String, Location);

/// Flags and their values from a container's words: `--a=b` and `--a b`.
fn flags(c: &Container, role: &Role) -> Vec<Flag> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.args.len() {
        let (w, loc) = &c.args[i];
        if let Some(rest) = w.strip_prefix("--") {
            if let Some((k, v)) = rest.split_once('=') {
                out.push((format!("--{k}"), v.to_owned(), loc.clone()));
            } else if let Some((next, _)) = c.args.get(i + 1) {
                if !next.starts_with('-') {
                    out.push((w.clone(), next.clone(), loc.clone()));
                    i += 1;
                }
            }
        }
        i += 1;
    }
    if let Some(prefix) = &role.env_prefix {
        for (name, value, loc) in &c.env {
            if let Some(rest) = name.strip_prefix(prefix.as_str()) {
                out.push((
                    format!("--{}", rest.to_ascii_lowercase().replace('_', "-")),
                    value.clone(),
                    loc.clone(),
                ));
            }
        }
    }
    out
}

fn base_name(s: &str) -> &str {
    let s = s.rsplit('/').next().unwrap_or(s);
    s.split([':', '@']).next().unwrap_or(s)
}

fn role_for<'p>(policy: &'p Policy, c: &Container) -> Option<&'p Role> {
    let first_word = c
        .args
        .iter()
        .map(|(w, _)| w.as_str())
        .find(|w| !w.starts_with('-') && !w.ends_with("sh"));
    let names = [
        first_word.map(base_name),
        Some(c.name.as_str()),
        Some(base_name(&c.image)),
    ];
    policy
        .roles
        .iter()
        .find(|r| r.name != "*" && r.matches.iter().any(|m| names.contains(&Some(m.as_str()))))
        .or_else(|| policy.roles.iter().find(|r| r.name == "*"))
}

impl<'a> Builder<'a> {
    /// A builder over an inventory.
    pub fn new(
        inv: &'a Inventory,
        policy: &'a Policy,
        now: i64,
        map_paths: &'a [(String, String)],
    ) -> Self {
        let mut by_name: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        let mut certs_by_secret: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, o) in inv.objects.iter().enumerate() {
            if let Body::Certificate(c) = &o.object.body {
                if let Some(secret) = c.secret_name.as_deref() {
                    certs_by_secret.entry(secret).or_default().push(i);
                }
            }
        }
        for (i, o) in inv.objects.iter().enumerate() {
            by_name
                .entry((o.object.kind.as_str(), o.object.name.as_str()))
                .or_default()
                .push(i);
        }
        Builder {
            inv,
            policy,
            now,
            map_paths,
            graph: Graph::default(),
            by_name,
            of_object: BTreeMap::new(),
            by_label: BTreeMap::new(),
            by_san: BTreeMap::new(),
            values_cache: std::collections::HashMap::new(),
            certs_by_secret,
            late: crate::inventory::Materialized::default(),
            late_by_name: std::collections::HashMap::new(),
            policy_budget: declared::Budget::default(),
            switches: BTreeMap::new(),
            unsourced: BTreeMap::new(),
            verdicts: verify::VerdictCache::default(),
            serves_of: BTreeMap::new(),
            cache: None,
        }
    }

    pub(super) fn obj(&self, i: usize) -> &'a PlacedObject {
        &self.inv.objects[i]
    }

    pub(super) fn note(&mut self, location: &Location, component: Option<usize>, message: String) {
        let component = component.map(|c| self.graph.components[c].name.clone());
        self.graph.notes.push(Note {
            location: location.clone(),
            component,
            message,
        });
    }

    /// The nearest object of `kind` named `name` in namespace `ns`, seen from `from`.
    pub(super) fn nearest(
        &self,
        from: &str,
        kinds: &[&str],
        name: &str,
        ns: Option<&str>,
    ) -> Result<Option<usize>, String> {
        let mut cands: Vec<(usize, usize)> = Vec::new();
        for kind in kinds {
            for &i in self.by_name.get(&(*kind, name)).into_iter().flatten() {
                let o = self.obj(i);
                if ns_match(ns, o.object.namespace.as_deref()) {
                    cands.push((distance(from, &o.path), i));
                }
            }
        }
        let Some(best) = cands.iter().map(|c| c.0).min() else {
            return Ok(None);
        };
        let at: Vec<usize> = cands.iter().filter(|c| c.0 == best).map(|c| c.1).collect();
        let mut places: Vec<String> = at
            .iter()
            .map(|&i| self.obj(i).object.location.to_string())
            .collect();
        places.dedup();
        if places.len() > 1 {
            return Err(format!(
                "{} {name} is ambiguous: {} are equally near",
                kinds[0],
                places.join(", ")
            ));
        }
        Ok(at.first().copied())
    }

    /// The Service `name` nearest to `from` (see [`Builder::nearest`]),
    /// among those of parsed documents and those parsed late.
    pub(super) fn nearest_service(
        &self,
        from: &str,
        name: &str,
        ns: Option<&str>,
    ) -> Result<Option<&PlacedObject>, String> {
        let eager = self
            .by_name
            .get(&("Service", name))
            .into_iter()
            .flatten()
            .map(|&i| self.obj(i));
        let late = self
            .late_by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.late.services[i]);
        let mut cands: Vec<(usize, &PlacedObject)> = eager
            .chain(late)
            .filter(|o| ns_match(ns, o.object.namespace.as_deref()))
            .map(|o| (distance(from, &o.path), o))
            .collect();
        let Some(best) = cands.iter().map(|c| c.0).min() else {
            return Ok(None);
        };
        cands.retain(|c| c.0 == best);
        cands.sort_by(|a, b| a.1.object.location.cmp(&b.1.object.location));
        let mut places: Vec<String> = cands
            .iter()
            .map(|c| c.1.object.location.to_string())
            .collect();
        places.dedup();
        if places.len() > 1 {
            return Err(format!(
                "Service {name} is ambiguous: {} are equally near",
                places.join(", ")
            ));
        }
        Ok(cands.first().map(|c| c.1))
    }

    pub(super) fn certs_of(&self, bundle: usize) -> Vec<&'a CertInfo> {
        self.inv.bundles[bundle]
            .members
            .iter()
            .filter_map(|(fp, _)| self.inv.certs.get(fp).map(|e| &*e.info))
            .collect()
    }

    /// The issuing CA of a cert-manager issuer, when it is a `ca` issuer with its Secret in the repository.
    pub(super) fn issuer_ca(
        &self,
        from: &str,
        name: &str,
        kind: &str,
        ns: Option<&str>,
    ) -> Option<Fingerprint> {
        let kinds: &[&str] = if kind == "ClusterIssuer" {
            &["ClusterIssuer"]
        } else {
            &["Issuer"]
        };
        let i = self
            .nearest(
                from,
                kinds,
                name,
                if kind == "ClusterIssuer" { None } else { ns },
            )
            .ok()??;
        let Body::Issuer {
            ca_secret: Some(secret),
            ..
        } = &self.obj(i).object.body
        else {
            return None;
        };
        let s = self.nearest(from, &["Secret"], secret, None).ok()??;
        let o = self.obj(s);
        let Body::Data { entries } = &o.object.body else {
            return None;
        };
        entries
            .iter()
            .filter(|e| e.key == "tls.crt" || e.key == "ca.crt")
            .filter_map(|e| o.bundle(e.bundle))
            .flat_map(|b| self.certs_of(b))
            .find(|c| c.is_ca)
            .map(|c| c.fingerprint.clone())
    }

    pub(super) fn issuer_label(c: &crate::extract::kube::CertificateSpec) -> String {
        if c.issuer_group == "cert-manager.io" {
            format!("{}/{}", c.issuer_kind, c.issuer_name)
        } else {
            format!("{}/{} ({})", c.issuer_kind, c.issuer_name, c.issuer_group)
        }
    }

    /// The cert-manager `Certificate` writing Secret `name`, nearest to `from`, with its distance.
    pub(super) fn certificate_for(
        &self,
        from: &str,
        name: &str,
        ns: Option<&str>,
    ) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for &i in self.certs_by_secret.get(name).into_iter().flatten() {
            let o = self.obj(i);
            if ns_match(ns, o.object.namespace.as_deref()) {
                let d = distance(from, &o.path);
                if best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, i));
                }
            }
        }
        best
    }

    /// Follows a Secret or ConfigMap key to its bundle.
    pub(super) fn object_key(
        &self,
        from: &str,
        secret: bool,
        name: &str,
        key: &str,
        ns: Option<&str>,
    ) -> Target {
        let kind = if secret { "Secret" } else { "ConfigMap" };
        let cm = if secret {
            self.certificate_for(from, name, ns)
        } else {
            None
        };
        let mut found = self.nearest(from, &[kind], name, ns);
        // Of a Secret and a Certificate that writes it, the nearer one is this
        // cluster's; the other belongs to another scope.
        let secret_distance = match &found {
            Ok(Some(i)) => distance(from, &self.obj(*i).path),
            _ => usize::MAX,
        };
        let cm = cm.filter(|(d, _)| *d <= secret_distance);
        if cm.is_some_and(|(d, _)| d < secret_distance) {
            found = Ok(None);
        }
        let cm = cm.map(|(_, c)| c);
        match found {
            Err(e) => return Target::Missing(e),
            Ok(Some(i)) => {
                let o = self.obj(i);
                let via = format!("{kind} {} key {key}", self.qualified(o));
                let Body::Data { entries } = &o.object.body else {
                    return Target::Missing(via);
                };
                match entries.iter().find(|e| e.key == key) {
                    Some(e) => match o.bundle(e.bundle) {
                        Some(b) if !self.inv.bundles[b].members.is_empty() => {
                            return Target::Bundle {
                                bundle: b,
                                via,
                                cert_manager: cm,
                            }
                        }
                        Some(b) if cm.is_none() => {
                            let what = match self.inv.bundles[b].placeholder {
                                Some(p) => format!("a placeholder ({p})"),
                                None => "no certificate".to_owned(),
                            };
                            return Target::Missing(format!("{via} holds {what}"));
                        }
                        _ if cm.is_none() => {
                            return Target::Missing(format!("{via} holds no certificate"))
                        }
                        _ => {}
                    },
                    None if cm.is_none() => {
                        return Target::Missing(format!(
                            "{kind} {} has no key {key}",
                            self.qualified(o)
                        ))
                    }
                    None => {}
                }
            }
            Ok(None) => {}
        }
        if let Some(c) = cm {
            let via = format!(
                "Secret {name} key {key} (written by cert-manager Certificate {})",
                self.qualified(self.obj(c))
            );
            if key == "ca.crt" {
                if let Body::Certificate(spec) = &self.obj(c).object.body {
                    let ns = self.obj(c).object.namespace.as_deref();
                    let ca =
                        self.issuer_ca(&self.obj(c).path, &spec.issuer_name, &spec.issuer_kind, ns);
                    return Target::Trust {
                        issuer: Self::issuer_label(spec),
                        ca,
                        via,
                    };
                }
            }
            return Target::CertManager {
                certificate: c,
                via,
            };
        }
        // trust-manager writes a ConfigMap (or Secret) named after the Bundle.
        if let Ok(Some(b)) = self.nearest(from, &["Bundle"], name, None) {
            if let Body::TrustBundle {
                sources,
                target_key,
                target_secret,
            } = &self.obj(b).object.body
            {
                if *target_secret == secret && target_key.as_deref() == Some(key) {
                    return self.trust_manager(from, b, sources);
                }
            }
        }
        Target::Missing(format!("{kind} {name} is not in the scanned files"))
    }

    pub(super) fn trust_manager(
        &self,
        from: &str,
        b: usize,
        sources: &[crate::extract::kube::BundleSource],
    ) -> Target {
        use crate::extract::kube::BundleSource;
        let via = format!("trust-manager Bundle {}", self.qualified(self.obj(b)));
        for s in sources {
            match s {
                BundleSource::Inline(Some(l)) => {
                    if let Some(g) = self.obj(b).bundle(Some(*l)) {
                        return Target::Bundle {
                            bundle: g,
                            via,
                            cert_manager: None,
                        };
                    }
                }
                BundleSource::Object { secret, name, key } => {
                    if let Target::Bundle { bundle, via: v, .. } =
                        self.object_key(from, *secret, name, key, None)
                    {
                        return Target::Bundle {
                            bundle,
                            via: format!("{via} from {v}"),
                            cert_manager: None,
                        };
                    }
                }
                _ => {}
            }
        }
        Target::Missing(format!("{via}: no source in the scanned files"))
    }

    pub(super) fn qualified(&self, o: &PlacedObject) -> String {
        match &o.object.namespace {
            Some(ns) => format!("{ns}/{}", o.object.name),
            None => o.object.name.clone(),
        }
    }

    /// Follows a file path inside a container to what it holds.
    pub(super) fn resolve_file(
        &self,
        oi: usize,
        pod: &PodSpec,
        c: &Container,
        path: &str,
    ) -> Target {
        let o = self.obj(oi);
        let ns = o.object.namespace.as_deref();
        let mut best: Option<(&crate::extract::kube::Mount, String)> = None;
        for m in &c.mounts {
            let rest = if let Some(sub) = &m.sub_path {
                (path == m.path).then(|| sub.clone())
            } else {
                path.strip_prefix(m.path.trim_end_matches('/'))
                    .and_then(|r| r.strip_prefix('/'))
                    .map(str::to_owned)
            };
            if let Some(rest) = rest {
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| m.path.len() > b.path.len())
                {
                    best = Some((m, rest));
                }
            }
        }
        let Some((mount, rest)) = best else {
            // Not mounted from a volume: a host path (static pods), if mapped into the repository.
            return self.host_file(path);
        };
        let Some(vol) = pod.volumes.iter().find(|v| v.name == mount.name) else {
            return Target::Missing(format!("volume {} is not declared", mount.name));
        };
        let mut last = Target::Missing(format!("volume {} has no file {rest}", vol.name));
        for src in &vol.sources {
            let (secret, name, items) = match src {
                VolumeSource::Secret { name, items } => (true, name, items),
                VolumeSource::ConfigMap { name, items } => (false, name, items),
                VolumeSource::HostPath(p) => {
                    return self.host_file(&format!("{}/{rest}", p.trim_end_matches('/')));
                }
            };
            let key = if items.is_empty() {
                Some(rest.clone())
            } else {
                items
                    .iter()
                    .find(|(_, p)| *p == rest)
                    .map(|(k, _)| k.clone())
            };
            let Some(key) = key else { continue };
            last = self.object_key(&o.path, secret, name, &key, ns);
            if !matches!(last, Target::Missing(_)) {
                return last;
            }
        }
        last
    }

    pub(super) fn host_file(&self, path: &str) -> Target {
        for (host, repo) in self.map_paths {
            let Some(rest) = path.strip_prefix(host.trim_end_matches('/')) else {
                continue;
            };
            let rel = format!("{}{}", repo.trim_end_matches('/'), rest);
            let rel = rel.trim_start_matches("./").to_owned();
            for ((_, p), &b) in &self.inv.file_bundles {
                if *p == rel {
                    return Target::Bundle {
                        bundle: b,
                        via: format!("host path {path} → {rel}"),
                        cert_manager: None,
                    };
                }
            }
            return Target::Missing(format!(
                "host path {path} maps to {rel}, which is not in the scanned files"
            ));
        }
        Target::Missing(format!(
            "{path} is not in a mounted volume (for host paths, use --map-path HOST=REPO)"
        ))
    }

    pub(super) fn add_component(&mut self, oi: usize, name: String, role: Option<String>) -> usize {
        let o = self.obj(oi);
        let client = role
            .as_ref()
            .and_then(|r| self.policy.roles.iter().find(|pr| &pr.name == r))
            .and_then(|r| r.client);
        self.graph.components.push(Component {
            name,
            kind: o.object.kind.clone(),
            role,
            client,
            scope: self.policy.scope_of(&o.path),
            location: o.object.location.clone(),
            object: oi,
            own_files: vec![o.path.clone()],
        });
        let id = self.graph.components.len() - 1;
        self.of_object.entry(oi).or_default().push(id);
        id
    }

    /// Presented certificate from a target.
    pub(super) fn presented(
        &self,
        comp: usize,
        channel: &str,
        target: Target,
        location: Location,
        flag: &str,
    ) -> Presented {
        let (bundle, source, via) = match target {
            Target::Bundle {
                bundle,
                via,
                cert_manager: Some(c),
            } => (Some(bundle), self.cm_source(c), via),
            Target::Bundle {
                bundle,
                via,
                cert_manager: None,
            } => (Some(bundle), Source::Static, via),
            Target::CertManager { certificate, via } => (None, self.cm_source(certificate), via),
            Target::Trust { via, .. } => (
                None,
                Source::Unresolved("a CA bundle where a certificate was expected".into()),
                via,
            ),
            Target::Missing(why) => (None, Source::Unresolved(why.clone()), why),
        };
        Presented {
            component: comp,
            channel: channel.to_owned(),
            bundle,
            source,
            location,
            via: format!("{flag} → {via}"),
        }
    }

    pub(super) fn cm_source(&self, c: usize) -> Source {
        let o = self.obj(c);
        let Body::Certificate(spec) = &o.object.body else {
            return Source::Unresolved("not a Certificate".into());
        };
        Source::CertManager {
            kind: "cert-manager".into(),
            issuer: Self::issuer_label(spec),
            intermediate: None,
            certificate: o.object.location.clone(),
            names: spec.names.clone(),
            issuer_ca: self.issuer_ca(
                &o.path,
                &spec.issuer_name,
                &spec.issuer_kind,
                o.object.namespace.as_deref(),
            ),
        }
    }

    pub(super) fn anchors(&self, target: Target) -> (Anchors, String) {
        match target {
            Target::Bundle { bundle, via, .. } => (Anchors::Bundle(bundle), via),
            Target::Trust { issuer, ca, via } => (Anchors::Issuer { issuer, ca }, via),
            Target::CertManager { via, .. } => (
                Anchors::Unresolved(format!("{via} holds a certificate, not a CA bundle")),
                via,
            ),
            Target::Missing(why) => (Anchors::Unresolved(why.clone()), why),
        }
    }

    pub(super) fn workload(&mut self, oi: usize, pod: &'a PodSpec) {
        let o = self.obj(oi);
        let base = self.qualified(o);
        let mut made = Vec::new();
        let tls: Vec<(usize, &Role, Vec<Flag>)> = pod
            .containers
            .iter()
            .enumerate()
            .filter_map(|(ci, c)| {
                let role = role_for(self.policy, c)?;
                // The flags the role gives a meaning, and the URL flags they
                // name (`url: --etcd-servers`), which the loop below reads.
                let urls: BTreeSet<&str> = role
                    .flags
                    .values()
                    .filter_map(|s| s.url.as_deref())
                    .collect();
                let fl: Vec<_> = flags(c, role)
                    .into_iter()
                    .filter(|(f, _, _)| role.flags.contains_key(f) || urls.contains(f.as_str()))
                    .collect();
                fl.iter()
                    .any(|(f, _, _)| role.flags.contains_key(f))
                    .then_some((ci, role, fl))
            })
            .collect();
        for (ci, role, fl) in &tls {
            let c = &pod.containers[*ci];
            let name = if tls.len() > 1 {
                format!("{base}/{}", c.name)
            } else {
                base.clone()
            };
            let role_name = (role.name != "*").then(|| role.name.clone());
            let comp = self.add_component(oi, name, role_name);
            made.push(comp);
            let own = self.graph.components[comp].name.clone();
            for (flag, value, loc) in fl {
                let Some(spec) = role.flags.get(flag) else {
                    continue;
                };
                for action in &spec.actions {
                    let ch = |c: &String| if c == "self" { own.clone() } else { c.clone() };
                    match action {
                        Action::Serve(channel) | Action::ServeDir(channel) => {
                            let path = if matches!(action, Action::ServeDir(_)) {
                                format!("{}/tls.crt", value.trim_end_matches('/'))
                            } else {
                                value.clone()
                            };
                            let t = self.resolve_file(oi, pod, c, &path);
                            let p = self.presented(comp, &ch(channel), t, loc.clone(), flag);
                            self.graph.serves.push(p);
                        }
                        Action::Advertise(channel) => {
                            for address in value.split(',').filter_map(url_address) {
                                self.graph.advertised.push(Advertised {
                                    component: comp,
                                    channel: ch(channel),
                                    address,
                                    location: loc.clone(),
                                });
                            }
                        }
                        Action::Client(channel) => {
                            let t = self.resolve_file(oi, pod, c, value);
                            let p = self.presented(comp, &ch(channel), t, loc.clone(), flag);
                            self.graph.clients.push(p);
                        }
                        Action::TrustServer(channel) | Action::TrustClient(channel) => {
                            let t = self.resolve_file(oi, pod, c, value);
                            let (anchors, via) = self.anchors(t);
                            let (host, host_location) = spec
                                .url
                                .as_ref()
                                .and_then(|u| fl.iter().find(|(f, _, _)| f == u))
                                .and_then(|(_, v, l)| {
                                    Some((v.split(',').find_map(url_host)?, l.clone()))
                                })
                                .unzip();
                            let addresses = spec
                                .url
                                .as_ref()
                                .and_then(|u| fl.iter().find(|(f, _, _)| f == u))
                                .map(|(_, v, _)| v.split(',').filter_map(url_address).collect())
                                .unwrap_or_default();
                            self.graph.trusts.push(Trust {
                                component: comp,
                                channel: ch(channel),
                                direction: if matches!(action, Action::TrustServer(_)) {
                                    Direction::Server
                                } else {
                                    Direction::Client
                                },
                                flag: flag.clone(),
                                anchors,
                                location: loc.clone(),
                                via: format!("{flag} → {via}"),
                                host,
                                host_location,
                                addresses,
                                checks: Vec::new(),
                                peer_by: PeerBy::Host,
                            });
                        }
                    }
                }
            }
        }
        // A workload that names no serving certificate in its flags but mounts a
        // TLS Secret (a `kubernetes.io/tls` or cert-manager Secret) serves that.
        let serves_now = made
            .iter()
            .any(|&m| self.graph.serves.iter().any(|s| s.component == m));
        if !serves_now {
            for v in &pod.volumes {
                for src in &v.sources {
                    let VolumeSource::Secret { name, items } = src else {
                        continue;
                    };
                    let key = if items.is_empty() {
                        "tls.crt".to_owned()
                    } else {
                        match items.iter().find(|(k, _)| k == "tls.crt") {
                            Some((k, _)) => k.clone(),
                            None => continue,
                        }
                    };
                    let t =
                        self.object_key(&o.path, true, name, &key, o.object.namespace.as_deref());
                    if matches!(t, Target::Missing(_)) {
                        continue;
                    }
                    let comp = match made.first() {
                        Some(&c) => c,
                        None => {
                            let c = self.add_component(oi, base.clone(), None);
                            made.push(c);
                            c
                        }
                    };
                    let own = self.graph.components[comp].name.clone();
                    let p = self.presented(
                        comp,
                        &own,
                        t,
                        v.location.clone(),
                        &format!("volume {}", v.name),
                    );
                    self.graph.serves.push(p);
                }
            }
        }
    }

    pub(super) fn client_configs(&mut self, oi: usize, ccs: &'a [ClientConfig]) {
        let o = self.obj(oi);
        for cc in ccs {
            if cc.insecure {
                continue;
            }
            // No caBundle: what cert-manager's CA injector will write, if it is told to.
            let injected = if cc.has_ca_bundle {
                None
            } else {
                match self.injected(oi, cc) {
                    Some(i) => Some(i),
                    None => continue,
                }
            };
            let name = if o.object.kind.ends_with("WebhookConfiguration") {
                format!("{}/{}", o.object.name, cc.name)
            } else {
                o.object.name.clone()
            };
            let comp = self.add_component(oi, name, None);
            let (anchors, flag, via) = match injected {
                Some((anchors, annotation, via)) => (
                    anchors,
                    annotation.to_owned(),
                    format!("{} {} {via}", o.object.kind, o.object.name),
                ),
                None => (
                    match o.bundle(cc.ca_bundle) {
                        Some(b) => match self.inv.bundles[b].placeholder {
                            Some(p) => {
                                Anchors::Unresolved(format!("caBundle holds a placeholder ({p})"))
                            }
                            None => Anchors::Bundle(b),
                        },
                        None => Anchors::Unresolved("caBundle holds no certificate".into()),
                    },
                    "caBundle".to_owned(),
                    format!("{} {} caBundle", o.object.kind, o.object.name),
                ),
            };
            let host = match (&cc.service, &cc.url) {
                (Some((n, ns, _)), _) => Some(format!("{n}.{ns}.svc")),
                (None, Some(u)) => url_host(u),
                _ => None,
            };
            // A Service's port defaults to 443 (admissionregistration/v1 ServiceReference).
            let address = match (&cc.service, &cc.url) {
                (Some((_, _, port)), _) => host
                    .as_deref()
                    .map(|h| join_host_port(h, port.unwrap_or(443))),
                (None, Some(u)) => url_address(u),
                _ => None,
            };
            self.graph.trusts.push(Trust {
                component: comp,
                channel: "webhook".into(),
                direction: Direction::Server,
                flag,
                anchors,
                location: cc.location.clone(),
                via,
                host,
                host_location: Some(cc.location.clone()),
                addresses: address.into_iter().collect(),
                checks: Vec::new(),
                peer_by: PeerBy::Host,
            });
        }
    }

    pub(super) fn kubeconfig(
        &mut self,
        oi: usize,
        clusters: &'a [crate::extract::kube::KubeconfigCluster],
        users: &'a [crate::extract::kube::KubeconfigUser],
    ) {
        let o = self.obj(oi);
        let base = format!("kubeconfig {}", o.path);
        let comp = self.add_component(oi, base, None);
        for c in clusters {
            let anchors = match (o.bundle(c.ca), &c.ca_path) {
                (Some(b), _) => Anchors::Bundle(b),
                (None, Some(p)) => match self.host_file(p) {
                    Target::Bundle { bundle, .. } => Anchors::Bundle(bundle),
                    _ => continue,
                },
                _ => continue,
            };
            self.graph.trusts.push(Trust {
                component: comp,
                channel: "kube-apiserver".into(),
                direction: Direction::Server,
                flag: "certificate-authority-data".into(),
                anchors,
                location: c.location.clone(),
                via: format!("kubeconfig cluster {}", c.name),
                host: c.server.as_deref().and_then(url_host),
                host_location: Some(c.location.clone()),
                addresses: c
                    .server
                    .as_deref()
                    .and_then(url_address)
                    .into_iter()
                    .collect(),
                checks: Vec::new(),
                peer_by: PeerBy::Host,
            });
        }
        for u in users {
            if let Some(b) = o.bundle(u.cert) {
                self.graph.clients.push(Presented {
                    component: comp,
                    channel: "kube-apiserver".into(),
                    bundle: Some(b),
                    source: Source::Static,
                    location: u.location.clone(),
                    via: format!("kubeconfig user {}", u.name),
                });
            }
        }
    }

    /// Components behind a host, seen from `from`.
    pub(super) fn peers_for_host(&self, from: &str, host: &str, ns: Option<&str>) -> Peers {
        if let Some((name, sns)) = service_ref(host, ns) {
            match self.nearest_service(from, name, sns) {
                Err(e) => return Peers::Ambiguous(e),
                Ok(Some(so)) => {
                    if let Body::Service { selector } = &so.object.body {
                        if let Some((k, v)) = selector.first() {
                            let mut cands: Vec<(usize, usize)> = Vec::new();
                            let selected = self.by_label.get(&(k.as_str(), v.as_str()));
                            for &oi in selected.into_iter().flatten() {
                                let comps = &self.of_object[&oi];
                                let o = self.obj(oi);
                                let Body::Workload(pod) = &o.object.body else {
                                    continue;
                                };
                                if !ns_match(
                                    so.object.namespace.as_deref(),
                                    o.object.namespace.as_deref(),
                                ) {
                                    continue;
                                }
                                if selector.iter().all(|kv| pod.labels.contains(kv)) {
                                    for &c in comps {
                                        cands.push((distance(&so.path, &o.path), c));
                                    }
                                }
                            }
                            if let Some(best) = cands.iter().map(|c| c.0).min() {
                                return Peers::Found(
                                    cands.iter().filter(|c| c.0 == best).map(|c| c.1).collect(),
                                );
                            }
                        }
                    }
                }
                Ok(None) => {}
            }
        }
        // A workload whose serving certificate names the host.
        let mut cands: Vec<(usize, usize)> = Vec::new();
        // The serves whose leaf names `host` (`verify::san_covers`): exactly, or by a
        // wildcard over its first label; in serve order.
        let wildcard = host
            .split_once('.')
            .filter(|(first, _)| !first.is_empty())
            .map(|(_, tail)| format!("*.{tail}"));
        let mut named: Vec<usize> = [Some(host.to_owned()), wildcard]
            .into_iter()
            .flatten()
            .filter_map(|k| self.by_san.get(&k))
            .flatten()
            .copied()
            .collect();
        named.sort_unstable();
        named.dedup();
        for si in named {
            let s = &self.graph.serves[si];
            let c = &self.graph.components[s.component];
            let path = self
                .inv
                .objects
                .get(c.object)
                .map_or("", |o| o.path.as_str());
            cands.push((distance(from, path), s.component));
        }
        match cands.iter().map(|c| c.0).min() {
            Some(best) => Peers::Found(cands.iter().filter(|c| c.0 == best).map(|c| c.1).collect()),
            None => Peers::None,
        }
    }

    /// Components serving (or holding a client certificate for) a channel, nearest to `from`.
    pub(super) fn by_channel(
        &self,
        from: &str,
        channel: &str,
        client: bool,
        except: usize,
    ) -> Vec<(usize, usize)> {
        let list = if client {
            &self.graph.clients
        } else {
            &self.graph.serves
        };
        let mut cands: Vec<(usize, usize, usize)> = Vec::new();
        for (pi, p) in list.iter().enumerate() {
            if p.channel != channel || (p.component == except && !channel.ends_with("-peer")) {
                continue;
            }
            let c = &self.graph.components[p.component];
            let path = self
                .inv
                .objects
                .get(c.object)
                .map_or("", |o| o.path.as_str());
            cands.push((distance(from, path), p.component, pi));
        }
        let Some(best) = cands.iter().map(|c| c.0).min() else {
            return Vec::new();
        };
        cands
            .into_iter()
            .filter(|c| c.0 == best)
            .map(|c| (c.1, c.2))
            .collect()
    }

    /// Builds the graph, with the policy's declared components when `declared` is given.
    pub fn build(
        mut self,
        declared: Option<&Declared<'_>>,
    ) -> (Graph, crate::inventory::Materialized) {
        for oi in 0..self.inv.objects.len() {
            match &self.obj(oi).object.body {
                Body::Workload(pod) => self.workload(oi, pod),
                Body::Webhooks(ccs) => self.client_configs(oi, ccs),
                Body::Kubeconfig { clusters, users } => self.kubeconfig(oi, clusters, users),
                Body::Tls(shape) => self.tls_shape(oi, shape),
                Body::Data { .. } | Body::Certificate(_) => self.mesh_ca(oi),
                _ => {}
            }
        }
        self.mesh_values();
        for pi in 0..self.graph.serves.len() + self.graph.clients.len() {
            let (p, kind) = if pi < self.graph.serves.len() {
                (&self.graph.serves[pi], "serving")
            } else {
                (&self.graph.clients[pi - self.graph.serves.len()], "client")
            };
            if let Source::Unresolved(why) = &p.source {
                let (loc, comp, msg) = (
                    p.location.clone(),
                    p.component,
                    format!("{kind} certificate: cannot follow: {why}"),
                );
                self.note(&loc, Some(comp), msg);
            }
        }
        if let Some(d) = declared {
            self.declared(d);
        }
        self.check_trusts();
        self.check_reaches();
        self.graph.notes.sort();
        self.graph.notes.dedup();
        self.late.services.clear();
        (self.graph, self.late)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn distance_counts_directory_steps() {
        let paths = [
            "x.yaml",
            "a/x.yaml",
            "a/y.yaml",
            "ab/x.yaml",
            "a/b/x.yaml",
            "a/bc/x.yaml",
            "a/b/c/x.yaml",
            "b/x.yaml",
            "a//b/x.yaml",
            "/a/b/x.yaml",
            "a/b/",
        ];
        for a in paths {
            for b in paths {
                let want = if a == b {
                    0
                } else {
                    distance_by_parts(dir_of(a), dir_of(b))
                };
                assert_eq!(distance(a, b), want, "{a} {b}");
            }
        }
        assert_eq!(distance("a/b/x.yaml", "a/c/y.yaml"), 3);
        assert_eq!(distance("a/x.yaml", "ab/y.yaml"), 3);
    }

    #[test]
    pub(super) fn nearest_is_by_directory() {
        assert_eq!(distance("a/b/x.yaml", "a/b/x.yaml"), 0);
        assert_eq!(distance("a/b/x.yaml", "a/b/y.yaml"), 1);
        assert!(distance("a/b/x.yaml", "a/c/y.yaml") < distance("a/b/x.yaml", "d/c/y.yaml"));
    }
}
