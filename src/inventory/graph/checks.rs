//! Trust checks: each trust reference decided against every peer
//! certificate it covers (a [`Verdict`] per pair, from `crate::verify`),
//! and the names clients reach components by against what they serve.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn verdict(
        &self,
        anchors: &Anchors,
        p: &Presented,
        usage: Usage,
        host: Option<&str>,
    ) -> Option<Verdict> {
        let anchor_certs = self.anchor_certs(anchors)?;
        match (&p.source, p.bundle) {
            (_, Some(b)) => {
                let chain = self.certs_of(b);
                if chain.is_empty() {
                    return None;
                }
                // Verdicts are cached in a plain scan too: a thousand
                // identical trust bundles cost one path-building search.
                let verdicts = self.cache.map_or(&self.verdicts, |c| &c.verdicts);
                Some(verdicts.verify(&chain, &anchor_certs, self.now, usage, host))
            }
            (
                Source::CertManager {
                    kind,
                    issuer,
                    names,
                    issuer_ca,
                    ..
                },
                None,
            ) => {
                let Some(ca) = issuer_ca.as_ref().and_then(|fp| self.inv.certs.get(fp)) else {
                    // ACME, Vault, an external issuer: nothing in the repository to compare.
                    return None;
                };
                let ca = &*ca.info;
                let anchored = anchor_certs.iter().any(|a| {
                    a.fingerprint == ca.fingerprint
                        || x509::issued_by(ca, a) == x509::Issuance::Issued
                });
                if !anchored {
                    return Some(Verdict::NoPath {
                        reason: format!(
                            "the certificate will be issued by {}{issuer} (CA {}), which no anchor in the bundle is or issued",
                            if kind == "cert-manager" { String::new() } else { format!("{kind} ") },
                            crate::x509::describe_cert(ca)
                        ),
                    });
                }
                match host {
                    // A policy's PKI or Puppet source may not say its names:
                    // then they are not judged (a Certificate's always are).
                    Some(h)
                        if usage == Usage::ServerAuth
                            && (kind == "cert-manager" || !names.is_empty())
                            && !names.iter().any(|n| verify::san_covers(n, h)) =>
                    {
                        Some(Verdict::NameMismatch {
                            name: h.to_owned(),
                            presented: crate::verify::presented_for_message(names),
                        })
                    }
                    _ => Some(Verdict::Valid),
                }
            }
            _ => None,
        }
    }

    /// The certificates a trust reference's anchors name: a bundle's, or the
    /// issuing CA of a cert-manager issuer (`None` when not known).
    fn anchor_certs(&self, anchors: &Anchors) -> Option<Vec<&CertInfo>> {
        match anchors {
            Anchors::Bundle(b) => Some(self.certs_of(*b)),
            Anchors::Issuer { ca: Some(fp), .. } => Some(
                self.inv
                    .certs
                    .get(fp)
                    .map(|e| &*e.info)
                    .into_iter()
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Why a Go client refuses the chain `p` presents against `anchors`, for
    /// a verdict the verifier could not decide (`verify::golang`).
    fn go_refusal(&self, anchors: &Anchors, p: &Presented) -> Option<String> {
        let anchor_certs = self.anchor_certs(anchors)?;
        verify::golang::refusal(&self.certs_of(p.bundle?), &anchor_certs)
    }

    /// The check of `t` against what peer `peer` presents (`s`, at
    /// `presented`), with verdict `v`: for an undecided verdict, why a Go
    /// client refuses it; for a valid one whose client verifies strictly
    /// or is not known ([`Graph::client`]), why a strict client refuses it
    /// (`verify::strict`).
    fn check(&self, t: &Trust, peer: usize, presented: usize, s: &Presented, v: Verdict) -> Check {
        let chain_and_anchors = || Some((self.certs_of(s.bundle?), self.anchor_certs(&t.anchors)?));
        let go_refusal = match v {
            Verdict::Unknown { .. } => self.go_refusal(&t.anchors, s),
            _ => None,
        };
        let judged = matches!(
            self.graph.client(t),
            ClientKind::Strict | ClientKind::Unknown
        );
        let strict_refusal = match v {
            Verdict::Valid if judged => chain_and_anchors().and_then(|(chain, anchors)| {
                let verdicts = self.cache.map_or(&self.verdicts, |c| &c.verdicts);
                verdicts.strict_refusal(&chain, &anchors, self.now)
            }),
            _ => None,
        };
        Check {
            peer,
            presented,
            verdict: v,
            go_refusal,
            strict_refusal,
        }
    }

    /// `CN=x (sha256:…)` of a certificate in the inventory.
    fn describe(&self, fp: &Fingerprint) -> String {
        self.inv.certs.get(fp).map_or_else(
            || format!("sha256:{}", fp.short()),
            |e| x509::describe_cert(&e.info),
        )
    }

    /// Whether what each component serves covers the host names it is reached by.
    pub(super) fn check_reaches(&mut self) {
        for ri in 0..self.graph.reaches.len() {
            let r = &self.graph.reaches[ri];
            let Some(si) = r.serve else { continue };
            let s = &self.graph.serves[si];
            let names: Option<std::borrow::Cow<'_, [String]>> = match (&s.source, s.bundle) {
                (_, Some(b)) => self
                    .certs_of(b)
                    .first()
                    .map(|leaf| verify::presented_names(leaf).into()),
                (Source::CertManager { names, .. }, None) => Some(names.as_slice().into()),
                _ => None,
            };
            let verdict = names.map(|names| {
                if names.iter().any(|n| verify::san_covers(n, &r.host)) {
                    Verdict::Valid
                } else {
                    Verdict::NameMismatch {
                        name: r.host.clone(),
                        presented: crate::verify::presented_for_message(&names),
                    }
                }
            });
            self.graph.reaches[ri].verdict = verdict;
        }
    }

    /// Resolves every trust reference to its peers and verifies.
    pub(super) fn check_trusts(&mut self) {
        let inv = self.inv;
        // The Services trusts can name, parsed from deferred documents.
        let names: std::collections::BTreeSet<&str> = self
            .graph
            .trusts
            .iter()
            .filter(|t| t.direction == Direction::Server)
            .filter_map(|t| {
                let host = match &t.peer_by {
                    PeerBy::Name(n) => n,
                    _ => t.host.as_ref()?,
                };
                service_ref(host, None)
            })
            .map(|(name, _)| name)
            .collect();
        // Keep what the declared components already reported (a spent
        // policy budget).
        let earlier = std::mem::take(&mut self.late);
        self.late = inv.materialize_services(&names, self.cache);
        self.late.problems.extend(earlier.problems);
        self.late.gaps.extend(earlier.gaps);
        self.late.incomplete |= earlier.incomplete;
        for (i, o) in self.late.services.iter().enumerate() {
            self.late_by_name
                .entry(o.object.name.clone())
                .or_default()
                .push(i);
        }
        for &oi in self.of_object.keys() {
            if let Body::Workload(pod) = &inv.objects[oi].object.body {
                for (k, v) in &pod.labels {
                    self.by_label.entry((k, v)).or_default().push(oi);
                }
            }
        }
        for (si, sv) in self.graph.serves.iter().enumerate() {
            self.serves_of.entry(sv.component).or_default().push(si);
            let Some(b) = sv.bundle else { continue };
            // The leaf as `certs_of` sees it: the first member inventoried.
            let Some(leaf) = inv.bundles[b]
                .members
                .iter()
                .find_map(|(fp, _)| inv.certs.get(fp))
            else {
                continue;
            };
            for n in &leaf.info.sans {
                if let San::Dns(d) | San::Ip(d) = n {
                    self.by_san
                        .entry(d.to_ascii_lowercase())
                        .or_default()
                        .push(si);
                }
            }
        }
        let checked: Vec<_> = (0..self.graph.trusts.len())
            .into_par_iter()
            .map(|ti| self.check_trust(ti))
            .collect();
        let mut notes = Vec::new();
        for (ti, (checks, n)) in checked.into_iter().enumerate() {
            self.graph.trusts[ti].checks = checks;
            notes.extend(n);
        }
        for (loc, comp, msg) in notes {
            self.note(&loc, comp, msg);
        }
    }

    /// The checks of trust `ti` (peers resolved, chains verified) and the
    /// notes met on the way; reads the builder only, so trusts are checked
    /// in parallel.
    pub(super) fn check_trust(&self, ti: usize) -> (Vec<Check>, Vec<PendingNote>) {
        let mut notes = Vec::new();
        let t = &self.graph.trusts[ti];
        let comp = &self.graph.components[t.component];
        let (from, ns) = match self.inv.objects.get(comp.object) {
            Some(o) => (o.path.clone(), o.object.namespace.clone()),
            None => (String::new(), None),
        };
        if let Anchors::Unresolved(why) = &t.anchors {
            notes.push((
                t.location.clone(),
                Some(t.component),
                format!("{}: cannot follow: {why}", t.flag),
            ));
            return (Vec::new(), notes);
        }
        let mut checks = Vec::new();
        if let PeerBy::Serve(si, starts_with) = &t.peer_by {
            let (si, s) = (*si, &self.graph.serves[*si]);
            let first = s
                .bundle
                .and_then(|b| self.inv.bundles[b].members.first())
                .map(|m| &m.0);
            let order = match (starts_with, first) {
                (Some(want), Some(got)) if want != got => Some(Verdict::NoPath {
                    reason: format!(
                        "the chain starts with {}, not with the CA certificate {} that signs: peers get a chain that does not lead from their issuer to the root",
                        self.describe(got),
                        self.describe(want)
                    ),
                }),
                _ => None,
            };
            if let Some(v) = order.or_else(|| self.verdict(&t.anchors, s, Usage::ServerAuth, None))
            {
                checks.push(self.check(t, s.component, si, s, v));
            }
            return (checks, notes);
        }
        let lookup = match &t.peer_by {
            PeerBy::Name(n) => Some(n),
            _ => t.host.as_ref(),
        };
        match t.direction {
            Direction::Server => {
                let peers = match lookup {
                    Some(h) => match self.peers_for_host(&from, h, ns.as_deref()) {
                        Peers::Found(p) => p,
                        Peers::Ambiguous(e) => {
                            notes.push((
                                t.location.clone(),
                                Some(t.component),
                                format!("{}: peer {h}: {e}", t.flag),
                            ));
                            return (Vec::new(), notes);
                        }
                        Peers::None => self
                            .by_channel(&from, &t.channel, false, t.component)
                            .into_iter()
                            .map(|c| c.0)
                            .collect(),
                    },
                    None => self
                        .by_channel(&from, &t.channel, false, t.component)
                        .into_iter()
                        .map(|c| c.0)
                        .collect(),
                };
                let peers: BTreeSet<usize> = peers.into_iter().collect();
                if peers.is_empty() {
                    let what = lookup
                        .cloned()
                        .unwrap_or_else(|| format!("a {} server", t.channel));
                    notes.push((
                        t.location.clone(),
                        Some(t.component),
                        format!(
                            "{}: no component in the scanned files serves {what}",
                            t.flag
                        ),
                    ));
                    return (Vec::new(), notes);
                }
                for peer in peers {
                    let served = self.serves_of.get(&peer).map_or(&[][..], Vec::as_slice);
                    let pick = served
                        .iter()
                        .copied()
                        .find(|&i| self.graph.serves[i].channel == t.channel)
                        .or_else(|| served.first().copied());
                    let Some(si) = pick else {
                        notes.push((
                            t.location.clone(),
                            Some(t.component),
                            format!(
                                "{}: peer {} presents no serving certificate",
                                t.flag, self.graph.components[peer].name
                            ),
                        ));
                        continue;
                    };
                    let s = &self.graph.serves[si];
                    if let Source::Unresolved(why) = &s.source {
                        notes.push((
                            s.location.clone(),
                            Some(peer),
                            format!("serving certificate: cannot follow: {why}"),
                        ));
                        continue;
                    }
                    if let Some(v) =
                        self.verdict(&t.anchors, s, Usage::ServerAuth, t.host.as_deref())
                    {
                        checks.push(self.check(t, peer, si, s, v));
                    }
                }
            }
            Direction::Client => {
                for (peer, ci) in self.by_channel(&from, &t.channel, true, t.component) {
                    let s = &self.graph.clients[ci];
                    if let Some(v) = self.verdict(&t.anchors, s, Usage::ClientAuth, None) {
                        checks.push(self.check(t, peer, ci, s, v));
                    }
                }
            }
        }
        (checks, notes)
    }
}
