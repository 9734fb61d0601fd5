//! `certdrift probe`: the live endpoints against what the repository says.
//!
//! In: a [`ScanResult`] (the repository's trust graph), the [`Target`]s to
//! dial — the addresses the graph knows ([`inventory_targets`]: URLs in
//! trusting flags such as `--etcd-servers`, webhook `clientConfig`s,
//! kubeconfig `server`s, advertised URLs, policy `reached_as` names with a
//! port) or given ones ([`parse_target`], [`parse_targets_file`]) — and
//! [`ProbeOptions`]. Out: a [`ProbeResult`]: per target the chain the
//! endpoint served (or why none came), and findings: `live-drift`,
//! `trust-mismatch` (with the same [`verify::verify`] decision the scan
//! uses), `san-coverage`, `expired`, `not-yet-valid`, `unreachable`.
//!
//! This module is the only place certdrift opens a network connection, and
//! it connects only to the targets it is given: one TCP connection and one
//! TLS handshake each (rustls with *ring*), no application data. The
//! handshake records whatever chain the server presents — it is not
//! trusted, but the handshake signature is still checked against the
//! leaf's key, so a server cannot present a certificate it holds no key
//! for. Every target has one deadline (`--timeout`) covering resolution of
//! the connect address's IPs, connect and handshake; each socket read is
//! bounded by what is left of it, so a server that accepts and never
//! answers costs one timeout.

use crate::finding::{sort_findings, Finding, Location};
use crate::inventory::graph::{join_host_port, Anchors, Direction, Graph};
use crate::inventory::Inventory;
use crate::rules::{self, ProbeContext, Stage};
use crate::scan::ScanResult;
use crate::verify::{self, Usage};
use crate::x509::{CertInfo, Fingerprint, ServedCert};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::collections::BTreeSet;
use std::io::{ErrorKind, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most certificates accepted from one server.
pub const MAX_CHAIN_CERTS: usize = 10;

/// Most bytes of certificates (DER) accepted from one server.
pub const MAX_CHAIN_BYTES: usize = 256 * 1024;

/// The path of findings about a `--target` given on the command line.
pub const COMMAND_LINE: &str = "(command line)";

/// One endpoint to dial, and which component of the repository it should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The component's name (as `certdrift inventory` prints it), or the
    /// host when no component of the repository serves the address.
    pub component: String,
    /// The component's index in the graph, when the target came from it.
    pub index: Option<usize>,
    /// The channel served there, when known (`etcd`, not `etcd-peer`).
    pub channel: Option<String>,
    /// The host name or IP address: SNI (for a name) and the name checked.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Where the address comes from.
    pub origin: Location,
    /// How it was found, for the report (`--target`, `kube-apiserver dials it (--etcd-cafile)`).
    pub from: String,
}

impl Target {
    /// `host:port`.
    pub fn address(&self) -> String {
        join_host_port(&self.host, self.port)
    }
}

/// A `--targets` file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// A line is not `COMPONENT=HOST:PORT`.
    #[error("{file}:{line}: {message}")]
    Targets {
        /// The file.
        file: String,
        /// 1-based line.
        line: u32,
        /// What is wrong.
        message: String,
    },
}

/// Parses `COMPONENT=HOST:PORT` (`[v6]:PORT` for an IPv6 address).
pub fn parse_target(spec: &str, origin: Location, from: &str) -> Result<Target, String> {
    let (component, address) = spec
        .split_once('=')
        .ok_or_else(|| format!("{spec:?} is not COMPONENT=HOST:PORT"))?;
    let component = component.trim();
    if component.is_empty() {
        return Err(format!("{spec:?} names no component (COMPONENT=HOST:PORT)"));
    }
    let (host, port) = crate::inventory::graph::split_host_port(address.trim());
    let Some(port) = port.filter(|p| *p != 0) else {
        return Err(format!("{spec:?}: {address:?} is not HOST:PORT"));
    };
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return Err(format!(
            "{spec:?}: {host:?} is not a host name or IP address"
        ));
    }
    Ok(Target {
        component: component.to_owned(),
        index: None,
        channel: None,
        host: host.to_ascii_lowercase(),
        port,
        origin,
        from: from.to_owned(),
    })
}

/// Parses a `--targets` file: one `COMPONENT=HOST:PORT` per line; blank
/// lines and `#` comments (whole-line or trailing) are ignored.
pub fn parse_targets_file(file: &str, text: &str) -> Result<Vec<Target>, ProbeError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let spec = raw.split('#').next().unwrap_or("").trim();
        if spec.is_empty() {
            continue;
        }
        let origin = Location::new(usize::MAX, file, line, 1);
        let t =
            parse_target(spec, origin, &format!("--targets {file}:{line}")).map_err(|message| {
                ProbeError::Targets {
                    file: file.to_owned(),
                    line,
                    message,
                }
            })?;
        out.push(t);
    }
    Ok(out)
}

/// Every address the repository gives for a component: the URLs clients
/// dial (with the component the graph resolved behind them, or the host
/// when none), the URLs components advertise, and policy `reached_as`
/// names with a port. Sorted by component then address, one per pair.
pub fn inventory_targets(inv: &Inventory) -> Vec<Target> {
    let g = &inv.graph;
    let mut out = Vec::new();
    let mut add = |component: Option<usize>,
                   channel: Option<String>,
                   address: &str,
                   origin: &Location,
                   from: String| {
        let (host, port) = crate::inventory::graph::split_host_port(address);
        let Some(port) = port else { return };
        out.push(Target {
            component: component.map_or_else(|| host.clone(), |c| g.components[c].name.clone()),
            index: component,
            channel,
            host,
            port,
            origin: origin.clone(),
            from,
        });
    };
    for t in &g.trusts {
        if t.direction != Direction::Server {
            continue;
        }
        let comp = &g.components[t.component].name;
        let origin = t.host_location.as_ref().unwrap_or(&t.location);
        let peers: BTreeSet<usize> = t.checks.iter().map(|c| c.peer).collect();
        for address in &t.addresses {
            let from = format!("{comp} dials it ({})", t.flag);
            if peers.is_empty() {
                add(None, Some(t.channel.clone()), address, origin, from.clone());
            }
            for &p in &peers {
                add(
                    Some(p),
                    Some(t.channel.clone()),
                    address,
                    origin,
                    from.clone(),
                );
            }
        }
    }
    for a in &g.advertised {
        let from = format!("{} advertises it", g.components[a.component].name);
        add(
            Some(a.component),
            Some(a.channel.clone()),
            &a.address,
            &a.location,
            from,
        );
    }
    for r in &g.reaches {
        if let Some(port) = r.port {
            let address = join_host_port(&r.host, port);
            add(
                Some(r.component),
                None,
                &address,
                &r.location,
                "the policy's reached_as".into(),
            );
        }
    }
    sort_targets(&mut out);
    out
}

/// Sorts targets by component then address and keeps the first of each
/// (component, address) pair: the sort is stable, so among the
/// repository's origins the client's URL (listed first) wins over an
/// advertised one, and a repository origin over a given one.
pub fn sort_targets(list: &mut Vec<Target>) {
    list.sort_by(|a, b| (&a.component, &a.host, a.port).cmp(&(&b.component, &b.host, b.port)));
    list.dedup_by(|b, a| a.component == b.component && a.host == b.host && a.port == b.port);
}

/// How to probe.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Per target: resolve, connect and handshake within this.
    pub timeout: Duration,
    /// Targets probed at once.
    pub jobs: usize,
    /// `HOST:PORT` → `ADDR:PORT`: dial another address for a target (as
    /// curl's `--connect-to`); SNI and name checks still use the target's host.
    pub connect_to: Vec<(String, String)>,
    /// Evaluation time, unix seconds.
    pub now: i64,
    /// Whether `now` is the clock rather than `--now`.
    pub clock: bool,
}

/// What one handshake produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fetched {
    /// The socket address connected to.
    pub peer: Option<SocketAddr>,
    /// The TLS version negotiated (`TLS 1.3`), when the handshake completed.
    pub protocol: Option<String>,
    /// The certificates the server presented, leaf first, as sent.
    pub chain: Vec<Vec<u8>>,
    /// Why the connection or handshake failed (with the OS error), if it did.
    pub error: Option<String>,
}

/// Records the chain a server presents; checks only the handshake signature.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<Vec<u8>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let count = 1 + intermediates.len();
        let bytes = end_entity.len() + intermediates.iter().map(|c| c.len()).sum::<usize>();
        if count > MAX_CHAIN_CERTS || bytes > MAX_CHAIN_BYTES {
            return Err(rustls::Error::General(format!(
                "the server sent {count} certificates ({bytes} bytes); certdrift accepts at most {MAX_CHAIN_CERTS} ({MAX_CHAIN_BYTES} bytes)"
            )));
        }
        let mut chain = self.chain.lock().unwrap_or_else(|e| e.into_inner());
        *chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.to_vec())
            .collect();
        // Not a trust decision: the chain is judged afterwards, against the
        // repository's bundles, with the scan's verifier.
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

/// Connects to `dial` (`HOST:PORT`, resolved with the system resolver) and
/// runs one TLS handshake naming `host`, all within `timeout`.
pub fn fetch(host: &str, dial: &str, timeout: Duration) -> Fetched {
    let start = Instant::now();
    let deadline = start + timeout;
    let mut out = Fetched::default();
    let addrs: Vec<SocketAddr> = match dial.to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            out.error = Some(format!("cannot resolve {dial}: {e}"));
            return out;
        }
    };
    let mut last = format!("{dial} resolves to no address");
    let mut sock = None;
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            last = format!("connect to {a}: timed out after {}", secs(timeout));
            break;
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => {
                sock = Some(s);
                out.peer = Some(a);
                break;
            }
            Err(e) if timed_out(&e) => {
                last = format!("connect to {a}: timed out after {}", secs(timeout))
            }
            Err(e) => last = format!("connect to {a}: {e}"),
        }
    }
    let Some(mut sock) = sock else {
        out.error = Some(last);
        return out;
    };
    let name = match host.parse::<IpAddr>() {
        // An IP address: no SNI (RFC 6066 section 3 allows only host names).
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => match ServerName::try_from(host.to_owned()) {
            Ok(n) => n,
            Err(e) => {
                out.error = Some(format!("{host:?} is not a valid host name: {e}"));
                return out;
            }
        },
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(Recorder {
        provider: provider.clone(),
        chain: Mutex::new(Vec::new()),
    });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth(),
        Err(e) => {
            out.error = Some(format!("cannot set up TLS: {e}"));
            return out;
        }
    };
    let result = match rustls::ClientConnection::new(Arc::new(config), name) {
        Ok(mut conn) => handshake(&mut conn, &mut sock, deadline, timeout).map(|()| {
            out.protocol = conn.protocol_version().map(|v| match v {
                rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_owned(),
                rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_owned(),
                other => format!("{other:?}"),
            });
            conn.send_close_notify();
            // Best effort: the server learns we are done; nothing depends on it.
            let _ = conn.write_tls(&mut sock);
        }),
        Err(e) => Err(format!("cannot start TLS: {e}")),
    };
    out.chain = std::mem::take(&mut *recorder.chain.lock().unwrap_or_else(|e| e.into_inner()));
    out.error = result.err();
    out
}

/// Drives the handshake, one socket read at a time, each bounded by what is
/// left until `deadline`.
fn handshake(
    conn: &mut rustls::ClientConnection,
    sock: &mut TcpStream,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), String> {
    let late = || {
        format!(
            "timed out after {} waiting for the TLS handshake",
            secs(timeout)
        )
    };
    while conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(late());
        }
        sock.set_read_timeout(Some(left))
            .and_then(|()| sock.set_write_timeout(Some(left)))
            .map_err(|e| format!("socket: {e}"))?;
        while conn.wants_write() {
            match conn.write_tls(sock) {
                Ok(_) => {}
                Err(e) if timed_out(&e) => return Err(late()),
                Err(e) => return Err(format!("TLS handshake: send: {e}")),
            }
        }
        let _ = sock.flush();
        if !conn.is_handshaking() {
            break;
        }
        match conn.read_tls(sock) {
            Ok(0) => {
                return Err(
                    "TLS handshake: the server closed the connection (is it speaking TLS?)".into(),
                )
            }
            Ok(_) => {}
            Err(e) if timed_out(&e) => return Err(late()),
            Err(e) => return Err(format!("TLS handshake: receive: {e}")),
        }
        if let Err(e) = conn.process_new_packets() {
            // Tell the server why (the alert is queued); it may not listen.
            let _ = conn.write_tls(sock);
            return Err(format!("TLS handshake: {e}"));
        }
    }
    Ok(())
}

/// Probes every target, at most `opts.jobs` at a time; results in target order.
pub fn fetch_all(targets: &[Target], opts: &ProbeOptions) -> Vec<Fetched> {
    let results: Vec<Mutex<Option<Fetched>>> = targets.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(t) = targets.get(i) else { break };
        let address = t.address();
        let dial = opts
            .connect_to
            .iter()
            .find(|(from, _)| *from == address)
            .map_or(address.as_str(), |(_, to)| to.as_str());
        let f = fetch(&t.host, dial, opts.timeout);
        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    };
    let jobs = opts.jobs.clamp(1, targets.len().max(1));
    std::thread::scope(|s| {
        let spawned = (0..jobs)
            .filter(|_| std::thread::Builder::new().spawn_scoped(s, work).is_ok())
            .count();
        // No thread could start: probe on this one.
        if spawned == 0 {
            work();
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_default()
        })
        .collect()
}

/// What one target answered, and what the repository expected of it.
#[derive(Clone, Debug)]
pub struct TargetReport {
    /// The target.
    pub target: Target,
    /// The address actually dialled, when `--connect-to` changed it.
    pub dialled: Option<String>,
    /// The outcome of the connection.
    pub fetched: Fetched,
    /// The chain as served, leaf first.
    pub chain: Vec<ServedCert>,
    /// Whether the repository has the component.
    pub known: bool,
    /// The leaf the repository configures, when it holds one.
    pub expected: Option<Fingerprint>,
    /// Components whose trust bundles were checked against the chain.
    pub trusted_by: Vec<String>,
}

/// What `probe` produced: the scan (its `findings` replaced by the probe's,
/// so every scan renderer shows them) and one report per target.
pub struct ProbeResult {
    /// The repository scan; `findings`/`suppressed` are the probe's.
    pub scan: ScanResult,
    /// Per target, in order (component, then address).
    pub targets: Vec<TargetReport>,
}

/// Probes `targets` and judges each against the repository with the
/// rules' probe checks; `read` the scanned files' text, `policy`'s
/// severities and exceptions and the files' inline comments apply to the
/// findings (the suppress stage, as in `scan`).
pub fn run(
    mut scan: ScanResult,
    targets: Vec<Target>,
    opts: &ProbeOptions,
    policy: &crate::policy::Policy,
) -> ProbeResult {
    let fetched = fetch_all(&targets, opts);
    let mut reports = Vec::new();
    let mut findings = Vec::new();
    for (t, f) in targets.into_iter().zip(fetched) {
        let dialled = opts
            .connect_to
            .iter()
            .find(|(from, _)| *from == t.address())
            .map(|(_, to)| to.clone());
        let (report, mut list) = evaluate(
            &scan.inventory,
            t,
            f,
            dialled,
            (opts.now, opts.clock),
            policy,
        );
        sort_findings(&mut list);
        findings.extend(list);
        reports.push(report);
    }
    let outcome = crate::suppress::apply(
        findings,
        &crate::suppress::Suppressors {
            policy,
            stage: Stage::Probe,
            read: &|root, path| scan.read_text(root, path),
            baseline: None,
        },
    );
    scan.findings = outcome.findings;
    scan.suppressed = outcome.suppressed;
    ProbeResult {
        scan,
        targets: reports,
    }
}

/// The serving identity of component `c` to compare a live endpoint with:
/// the one on `channel` when given, else the one on the role's channel or
/// the component's own, else its first.
fn pick_serve(g: &Graph, c: usize, channel: Option<&str>) -> Option<usize> {
    let served: Vec<usize> = (0..g.serves.len())
        .filter(|&i| g.serves[i].component == c)
        .collect();
    let comp = &g.components[c];
    let on = |ch: &str| served.iter().copied().find(|&i| g.serves[i].channel == ch);
    channel
        .and_then(on)
        .or_else(|| comp.role.as_deref().and_then(on))
        .or_else(|| on(&comp.name))
        .or_else(|| served.first().copied())
}

/// What the repository says about one target's answer: the component and
/// its serving identity, the trust references that cover the endpoint and
/// their verdicts on the served chain; then the rules' probe checks.
pub fn evaluate(
    inv: &Inventory,
    target: Target,
    fetched: Fetched,
    dialled: Option<String>,
    (now, clock): (i64, bool),
    policy: &crate::policy::Policy,
) -> (TargetReport, Vec<Finding>) {
    let g = &inv.graph;
    let address = target.address();
    let at = match &dialled {
        Some(d) => format!("{address} (dialled at {d})"),
        None => address.clone(),
    };
    let comps: Vec<usize> = match target.index {
        Some(i) => vec![i],
        None => (0..g.components.len())
            .filter(|&i| g.components[i].name == target.component)
            .collect(),
    };
    let comp = comps.first().copied();
    let si = comp.and_then(|c| pick_serve(g, c, target.channel.as_deref()));
    let expected = si
        .and_then(|si| g.serves[si].bundle)
        .and_then(|b| inv.bundles[b].members.first())
        .map(|m| m.0.clone());
    let chain: Vec<ServedCert> = fetched
        .chain
        .iter()
        .map(|der| ServedCert::parse(der))
        .collect();
    // Components whose trust reference covers this endpoint: the graph put
    // what it serves behind their URL, or their URL is this address.
    let trusting: Vec<usize> = (0..g.trusts.len())
        .filter(|&ti| {
            let t = &g.trusts[ti];
            t.direction == Direction::Server
                && (si.is_some_and(|si| t.checks.iter().any(|c| c.presented == si))
                    || t.addresses.contains(&address))
        })
        .collect();
    let mut trusted_by: Vec<String> = trusting
        .iter()
        .map(|&ti| g.components[g.trusts[ti].component].name.clone())
        .collect();
    trusted_by.sort();
    trusted_by.dedup();
    // Each trusting component's anchors on the served chain: the scan's decision.
    let mut verdicts = Vec::new();
    if chain.first().is_some_and(|l| l.info.is_some()) {
        let served: Vec<&CertInfo> = chain.iter().filter_map(|c| c.info.as_deref()).collect();
        for &ti in &trusting {
            let t = &g.trusts[ti];
            let anchors: Vec<&CertInfo> = match &t.anchors {
                Anchors::Bundle(b) => inv.bundles[*b]
                    .members
                    .iter()
                    .filter_map(|(fp, _)| inv.certs.get(fp).map(|e| &*e.info))
                    .collect(),
                Anchors::Issuer { ca: Some(fp), .. } => {
                    inv.certs.get(fp).map(|e| &*e.info).into_iter().collect()
                }
                _ => continue,
            };
            let host = t.host.as_deref().unwrap_or(&target.host);
            let v = verify::verify(&served, &anchors, now, Usage::ServerAuth, Some(host));
            verdicts.push((ti, v));
        }
    }
    let ctx = ProbeContext {
        inventory: inv,
        now,
        clock,
        component: &target.component,
        host: &target.host,
        at: &at,
        origin: &target.origin,
        from: &target.from,
        chain: &chain,
        error: fetched.error.as_deref(),
        components: &comps,
        serve: si,
        expected: expected.as_ref(),
        trusting: &trusting,
        verdicts: &verdicts,
    };
    let out = rules::check_probe(&ctx, policy);
    let report = TargetReport {
        target,
        dialled,
        fetched,
        chain,
        known: comp.is_some(),
        expected,
        trusted_by,
    };
    (report, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Location {
        Location::new(usize::MAX, COMMAND_LINE, 1, 1)
    }

    #[test]
    fn targets_parse() {
        let t = parse_target("kube-system/etcd=Etcd.Example:2379", at(), "--target").unwrap();
        assert_eq!(
            (t.component.as_str(), t.address()),
            ("kube-system/etcd", "etcd.example:2379".to_owned())
        );
        let t = parse_target("x=[::1]:443", at(), "--target").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.address(), "[::1]:443");
        for bad in ["x", "=h:1", "x=h", "x=h:0", "x=h:http", "x=:443", "x=a/b:1"] {
            assert!(parse_target(bad, at(), "--target").is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_file_lines() {
        let list = parse_targets_file("t.txt", "# all\n\na=h:1  # one\n b=h:2\n").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].origin.line, 4);
        assert_eq!(list[1].from, "--targets t.txt:4");
        let e = parse_targets_file("t.txt", "a=h:1\nb h:2\n").unwrap_err();
        assert!(e.to_string().starts_with("t.txt:2: "), "{e}");
    }

    #[test]
    fn targets_sort_and_dedup() {
        let mut list = vec![
            parse_target("b=h:1", at(), "--target").unwrap(),
            parse_target("a=h:2", at(), "--target").unwrap(),
            parse_target("a=h:1", at(), "--target").unwrap(),
            parse_target("a=h:2", at(), "--target").unwrap(),
        ];
        sort_targets(&mut list);
        let got: Vec<String> = list
            .iter()
            .map(|t| format!("{}={}", t.component, t.address()))
            .collect();
        assert_eq!(got, ["a=h:1", "a=h:2", "b=h:1"]);
    }

    /// Nothing listening: the OS error, well within the deadline.
    #[test]
    fn refused_is_an_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let f = fetch(
            "127.0.0.1",
            &format!("127.0.0.1:{port}"),
            Duration::from_secs(2),
        );
        assert!(f.chain.is_empty());
        assert!(f.error.unwrap().contains("os error"));
    }
}
