//! Server names: whether a certificate's DNS/IP subjectAltNames (RFC 5280
//! §4.2.1.6) cover the name a client uses, and the names it presents, for a
//! message. webpki decides for the certificates it parses; [`san_covers`]
//! is the one DNS/wildcard rule for the others and for the inventory graph.

use rustls_pki_types::{CertificateDer, ServerName};
use webpki::{EndEntityCert, Error};

use super::Verdict;
use crate::x509::{CertInfo, San};

/// The DNS and IP subjectAltNames of `c`, in certificate order.
pub(crate) fn presented_names(c: &CertInfo) -> Vec<String> {
    c.sans
        .iter()
        .filter_map(|s| match s {
            San::Dns(n) | San::Ip(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Most names a [`Verdict::NameMismatch`] keeps: a policy template can give
/// a certificate a thousand names, and every host that misses it holds the
/// list.
pub const MAX_PRESENTED: usize = 32;

/// The names a certificate presents, for a [`Verdict::NameMismatch`]: at most
/// [`MAX_PRESENTED`], then one entry `… (N more)`.
pub fn presented_for_message(names: &[String]) -> Vec<String> {
    if names.len() <= MAX_PRESENTED {
        return names.to_vec();
    }
    let mut out = names[..MAX_PRESENTED].to_vec();
    out.push(format!("… ({} more)", names.len() - MAX_PRESENTED));
    out
}

/// Whether `leaf` is valid for the DNS name or IP address `name` (its
/// subjectAltNames, as a TLS client checks them): [`Verdict::Valid`],
/// [`Verdict::NameMismatch`], or [`Verdict::Unknown`] for a name that is neither.
pub fn check_name(leaf: &CertInfo, name: &str) -> Verdict {
    let trimmed = name.trim();
    let host = trimmed
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(trimmed);
    let Ok(server_name) = ServerName::try_from(host) else {
        return Verdict::Unknown {
            reason: format!("cannot check the name {name:?}: not a valid DNS name or IP address"),
        };
    };
    let der = CertificateDer::from(&*leaf.der);
    let matched = match EndEntityCert::try_from(&der) {
        Ok(ee) => match ee.verify_is_valid_for_subject_name(&server_name) {
            Ok(()) => true,
            Err(Error::CertNotValidForName(_)) => false,
            Err(e) => {
                return Verdict::Unknown {
                    reason: format!("cannot check the name {name:?}: {e:?}"),
                };
            }
        },
        // webpki cannot parse the certificate (e.g. v1): match the SANs
        // ourselves.
        Err(_) => own_name_match(leaf, &server_name),
    };
    if matched {
        Verdict::Valid
    } else {
        Verdict::NameMismatch {
            name: name.to_string(),
            presented: presented_for_message(&presented_names(leaf)),
        }
    }
}

/// DNS (case-insensitive, `*.` for exactly one leftmost label) and IP SAN
/// matching, for certificates webpki cannot parse.
fn own_name_match(leaf: &CertInfo, server_name: &ServerName<'_>) -> bool {
    match server_name {
        ServerName::DnsName(d) => {
            // An absolute name (trailing dot) is the same name.
            let reference = d.as_ref().trim_end_matches('.').to_ascii_lowercase();
            leaf.sans.iter().any(|s| match s {
                San::Dns(p) => san_covers(p, &reference),
                _ => false,
            })
        }
        // RFC 5280 §4.2.1.6: an iPAddress SAN is the address's octets, so
        // addresses compare as addresses (`::1` = `0:0::1`), not as text.
        ServerName::IpAddress(ip) => {
            let ip = std::net::IpAddr::from(*ip);
            leaf.sans.iter().any(|s| match s {
                San::Ip(p) => p.parse::<std::net::IpAddr>().is_ok_and(|p| p == ip),
                _ => false,
            })
        }
        _ => false,
    }
}

/// Whether the presented name `san` covers `host`, which must be lowercase:
/// ASCII case-insensitively equal (RFC 6125 §6.4.1), or `*.rest` where `host`
/// is one non-empty label followed by `.rest` (RFC 6125 §6.4.3, restricted
/// as RFC 9525 and webpki restrict it: the wildcard is the whole leftmost
/// label, and it matches exactly one label). IP addresses compare as text
/// here.
pub(crate) fn san_covers(san: &str, host: &str) -> bool {
    let san = san.to_ascii_lowercase();
    match san.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => san == host,
    }
}

#[cfg(test)]
mod tests {
    use super::san_covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(san_covers("*.example.org", "a.example.org"));
        assert!(!san_covers("*.example.org", "a.b.example.org"));
        assert!(!san_covers("*.example.org", ".example.org"));
        assert!(!san_covers("*.example.org", "example.org"));
        assert!(san_covers("Etcd.Svc", "etcd.svc"));
        // The host is not lowercased: callers pass it lowercase.
        assert!(!san_covers("etcd.svc", "Etcd.Svc"));
        // `*` is a label like any other on the host side: the same wildcard
        // text covers itself (the inventory graph's former copy tested
        // equality first; same answer).
        assert!(san_covers("*.example.org", "*.example.org"));
    }
}
