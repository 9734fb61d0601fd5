//! Whether a name says "this is a trust bundle".
//!
//! A certificate under `ca.crt`, `caBundle`, `certificate-authority-data`,
//! `ats_trusted_ca.pem` or `profile::base::root_ca_bundle` is meant to be a
//! trust anchor; `not-a-ca` checks those. Names are split into words (on
//! punctuation and camelCase) so that `certificates.yaml` is not taken for
//! `ca`.

/// Words that mark a trust-bundle name.
const TRUST_WORDS: &[&str] = &[
    "ca",
    "cas",
    "cacert",
    "cacerts",
    "cabundle",
    "cafile",
    "trusted",
    "truststore",
    "trustbundle",
    "authority",
    "anchors",
];

/// Splits a key or file name into lowercase words.
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a key or file name marks a trust bundle.
pub fn is_trust_name(name: &str) -> bool {
    words(name)
        .iter()
        .any(|w| TRUST_WORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_names() {
        for n in [
            "ca.crt",
            "caBundle",
            "certificate-authority-data",
            "client_auth_CA.pem",
            "ats_trusted_ca.pem",
            "profile::base::root_ca_bundle",
            "ca-certificates.crt",
            "Wikimedia_Internal_Root_CA.pem",
            "cacert.pem",
        ] {
            assert!(is_trust_name(n), "{n}");
        }
        for n in [
            "tls.crt",
            "certificates.yaml",
            "appservers.svc.eqiad.wmnet.crt",
            "cacheSize",
            "client-certificate-data",
            "discovery-cert.pem",
        ] {
            assert!(!is_trust_name(n), "{n}");
        }
    }
}
