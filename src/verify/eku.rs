//! Extended key usage (RFC 5280 §4.2.1.12) as Go checks it: for webpki
//! (an `ExtendedKeyUsageValidator`) and, read with x509-parser, for the
//! fallback and for reasons.

use webpki::{
    Error, ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter, KeyUsage,
    RequiredEkuNotFoundContext,
};
use x509_parser::asn1_rs::FromDer;
use x509_parser::certificate::X509Certificate;

use super::Usage;
use crate::x509::CertInfo;

// id-kp-serverAuth 1.3.6.1.5.5.7.3.1, id-kp-clientAuth 1.3.6.1.5.5.7.3.2,
// anyExtendedKeyUsage 2.5.29.37.0 (OID contents octets).
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
const OID_ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
/// Tag, length and contents of the OID 2.5.29.37 (extKeyUsage): a
/// certificate whose DER lacks these bytes has no EKU extension.
const EKU_EXTENSION_OID_TLV: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x25];

impl Usage {
    fn oid(self) -> &'static [u8] {
        match self {
            Usage::ServerAuth => OID_SERVER_AUTH,
            Usage::ClientAuth => OID_CLIENT_AUTH,
        }
    }

    fn key_usage(self) -> KeyUsage {
        match self {
            Usage::ServerAuth => KeyUsage::server_auth(),
            Usage::ClientAuth => KeyUsage::client_auth(),
        }
    }
}

/// Go's EKU rule for one certificate: no EKU extension, or one that lists
/// the requested purpose or `anyExtendedKeyUsage`. (webpki's own
/// `KeyUsage` does not accept `anyExtendedKeyUsage`.)
pub(super) struct GoEku(pub(super) Usage);

impl ExtendedKeyUsageValidator for GoEku {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), Error> {
        let wanted = KeyPurposeId::new(self.0.oid());
        let any = KeyPurposeId::new(OID_ANY_EKU);
        let mut present = Vec::new();
        for id in iter {
            let id = id?;
            if id == wanted || id == any {
                return Ok(());
            }
            present.push(id.to_decoded_oid());
        }
        if present.is_empty() {
            Ok(())
        } else {
            Err(Error::RequiredEkuNotFoundContext(
                RequiredEkuNotFoundContext {
                    required: self.0.key_usage(),
                    present,
                },
            ))
        }
    }
}

/// The error that makes webpki refuse a path whose anchor's EKU does not
/// allow `usage` (webpki itself does not check the anchor's EKU).
pub(super) fn eku_error(usage: Usage) -> Error {
    Error::RequiredEkuNotFoundContext(RequiredEkuNotFoundContext {
        required: usage.key_usage(),
        present: Vec::new(),
    })
}

/// Go's EKU rule on one certificate, read with x509-parser. `Err` holds the
/// purposes the certificate does allow, for the reason.
pub(super) fn eku_check(c: &CertInfo, usage: Usage) -> Result<(), String> {
    if !c
        .der
        .windows(EKU_EXTENSION_OID_TLV.len())
        .any(|w| w == EKU_EXTENSION_OID_TLV)
    {
        return Ok(());
    }
    let Ok((_, cert)) = X509Certificate::from_der(&c.der) else {
        return Ok(());
    };
    let eku = match cert.extended_key_usage() {
        Ok(Some(ext)) => ext.value,
        Ok(None) => return Ok(()),
        Err(_) => return Err("malformed".to_string()),
    };
    let allowed = eku.any
        || match usage {
            Usage::ServerAuth => eku.server_auth,
            Usage::ClientAuth => eku.client_auth,
        };
    let mut names: Vec<String> = [
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| (*n).to_string())
    .collect();
    names.extend(eku.other.iter().map(|o| o.to_id_string()));
    // An empty EKU extension: Go treats it as no extension.
    if allowed || names.is_empty() {
        Ok(())
    } else {
        Err(names.join(", "))
    }
}

/// The reason a chain is refused for `usage`: the extended key usage of
/// `issuer` (`None`: of the end entity) allows only `present`.
pub(super) fn eku_refusal(usage: Usage, issuer: Option<&CertInfo>, present: &str) -> String {
    let u = usage.describe();
    match issuer {
        Some(c) => format!(
            "certificate is not valid for {u} (extended key usage of issuer {}: {present})",
            c.subject
        ),
        None => format!("certificate is not valid for {u} (extended key usage: {present})"),
    }
}
