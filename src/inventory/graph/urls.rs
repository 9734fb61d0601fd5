//! Hosts, ports and Service names read out of URLs and host names.

/// The Service (name, namespace) a host names: `name` (in `ns`),
/// `name.namespace` or `name.namespace.svc[.cluster.domain]`.
pub(super) fn service_ref<'h>(
    host: &'h str,
    ns: Option<&'h str>,
) -> Option<(&'h str, Option<&'h str>)> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => Some((*name, ns)),
        [name, n] => Some((*name, Some(*n))),
        [name, n, "svc", ..] => Some((*name, Some(*n))),
        _ => None,
    }
}

pub(super) fn ns_match(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        // Rendered charts often leave the namespace to install time.
        _ => true,
    }
}

/// The authority of a URL, without user info (`https://u@h:1/x` → `h:1`).
fn url_authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.rsplit_once('@').map_or(authority, |(_, h)| h))
}

/// The host of a URL (`https://etcd.kube-system.svc:2379` → `etcd.kube-system.svc`).
pub fn url_host(url: &str) -> Option<String> {
    let authority = url_authority(url)?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `host:port` of a URL (`https://etcd.kube-system.svc:2379/x` →
/// `etcd.kube-system.svc:2379`; `https://h` → `h:443`). `None` for a URL
/// with no host, a plain `http://` one (nothing to probe for TLS), or no
/// scheme and no port.
pub fn url_address(url: &str) -> Option<String> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let host = url_host(url)?;
    let authority = url_authority(url)?;
    let port = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => authority.split_once(':').map(|(_, p)| p),
    };
    let port: u16 = match (port, scheme.as_deref()) {
        (Some(p), _) => p.parse().ok()?,
        (None, Some("https" | "wss" | "grpcs")) => 443,
        _ => return None,
    };
    if scheme.as_deref() == Some("http") {
        return None;
    }
    Some(join_host_port(&host, port))
}

/// `host:port`, with brackets around an IPv6 address.
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Splits `host:port` (`[v6]:port`); a name without a numeric port is all host.
pub fn split_host_port(s: &str) -> (String, Option<u16>) {
    if let Some(v6) = s.strip_prefix('[') {
        if let Some((h, p)) = v6.split_once("]:") {
            if let Ok(p) = p.parse() {
                return (h.to_owned(), Some(p));
            }
        }
        return (v6.trim_end_matches(']').to_owned(), None);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(p) => (h.to_owned(), Some(p)),
            Err(_) => (s.to_owned(), None),
        },
        _ => (s.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://etcd.kube-system.svc:2379").as_deref(),
            Some("etcd.kube-system.svc")
        );
        assert_eq!(url_host("https://[::1]:2379/x").as_deref(), Some("::1"));
        assert_eq!(url_host("etcd:2379").as_deref(), Some("etcd"));
        assert_eq!(
            url_host("https://u:p@Example.org").as_deref(),
            Some("example.org")
        );
    }

    #[test]
    fn url_addresses() {
        assert_eq!(
            url_address("https://etcd.kube-system.svc:2379/v3").as_deref(),
            Some("etcd.kube-system.svc:2379")
        );
        assert_eq!(
            url_address("https://Api.Example").as_deref(),
            Some("api.example:443")
        );
        assert_eq!(
            url_address("https://[::1]:6443").as_deref(),
            Some("[::1]:6443")
        );
        assert_eq!(url_address("etcd:2379").as_deref(), Some("etcd:2379"));
        assert_eq!(url_address("http://etcd:2379"), None);
        assert_eq!(url_address("etcd"), None);
        assert_eq!(url_address("https://h:notaport"), None);
        assert_eq!(split_host_port("a.b:4447"), ("a.b".into(), Some(4447)));
        assert_eq!(split_host_port("[::1]:443"), ("::1".into(), Some(443)));
        assert_eq!(split_host_port("a.b"), ("a.b".into(), None));
        assert_eq!(split_host_port("::1"), ("::1".into(), None));
    }
}
