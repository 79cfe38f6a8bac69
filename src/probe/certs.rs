//! What the presented certificates say, parsed independently of any verifier's verdict.

use rustls::pki_types::CertificateDer;
use serde::Serialize;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

const SECONDS_PER_DAY: i64 = 86_400;

/// One certificate of the chain, as facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    /// Whole days until notAfter (negative when expired).
    pub days_left: i64,
    #[serde(skip)]
    pub not_before_unix: i64,
    #[serde(skip)]
    pub not_after_unix: i64,
    pub key: String,
    /// The key's algorithm alone (`RSA`, `EC`, `Ed25519`, …) and its size, for the posture lock.
    #[serde(skip)]
    pub key_type: String,
    #[serde(skip)]
    pub key_bits: u32,
    pub signature_algorithm: String,
    /// Issuer equals subject and the signature verifies with the certificate's own key.
    pub self_signed: bool,
    pub is_ca: bool,
    /// AIA caIssuers URLs: where the issuer certificate can be downloaded.
    pub ca_issuers: Vec<String>,
}

/// Parses a presented chain (leaf first). Unparseable certificates yield `None` in place.
pub fn analyse(chain: &[CertificateDer<'_>], now_unix: i64) -> Vec<Option<CertFacts>> {
    chain.iter().map(|der| parse_one(der, now_unix)).collect()
}

fn parse_one(der: &CertificateDer<'_>, now_unix: i64) -> Option<CertFacts> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let validity = cert.validity();
    let not_before_unix = validity.not_before.timestamp();
    let not_after_unix = validity.not_after.timestamp();
    let mut sans = Vec::new();
    let mut ca_issuers = Vec::new();
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(d) => sans.push(format!("DNS:{}", crate::redact::printable(d))),
                        GeneralName::IPAddress(ip) => sans.push(format!("IP:{}", format_ip(ip))),
                        _ => {}
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in aia.iter() {
                    if desc.access_method == x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS
                        && let GeneralName::URI(uri) = &desc.access_location
                    {
                        ca_issuers.push(crate::redact::printable(uri));
                    }
                }
            }
            _ => {}
        }
    }
    use x509_parser::public_key::PublicKey;
    let (key, key_type, key_bits) = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => (format!("RSA {} bits", rsa.key_size()), "RSA", rsa.key_size()),
        Ok(PublicKey::EC(ec)) => (format!("EC {} bits", ec.key_size()), "EC", ec.key_size()),
        Ok(other) => {
            let kind = match &other {
                PublicKey::DSA(_) => "DSA",
                PublicKey::GostR3410(_) | PublicKey::GostR3410_2012(_) => "GOST",
                _ => match cert.public_key().algorithm.algorithm.to_id_string().as_str() {
                    "1.3.101.112" => "Ed25519",
                    "1.3.101.113" => "Ed448",
                    _ => "unknown",
                },
            };
            (format!("{} bits", other.key_size()), kind, other.key_size())
        }
        Err(_) => ("unknown".to_string(), "unknown", 0),
    };
    let key_type = key_type.to_string();
    let key_bits = u32::try_from(key_bits).unwrap_or(0);
    let signature_algorithm = signature_name(&cert.signature_algorithm.algorithm.to_id_string());
    let self_issued = cert.subject() == cert.issuer();
    let self_signed = self_issued && cert.verify_signature(None).is_ok();
    Some(CertFacts {
        subject: crate::redact::printable(&cert.subject().to_string()),
        issuer: crate::redact::printable(&cert.issuer().to_string()),
        sans,
        not_before: validity.not_before.to_string(),
        not_after: validity.not_after.to_string(),
        days_left: (not_after_unix - now_unix).div_euclid(SECONDS_PER_DAY),
        not_before_unix,
        not_after_unix,
        key,
        key_type,
        key_bits,
        signature_algorithm,
        self_signed,
        is_ca: cert.is_ca(),
        ca_issuers,
    })
}

/// A trust anchor as the posture lock names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnchorFacts {
    /// Lowercase hex SHA-256 of the anchor's DER SubjectPublicKeyInfo (the usual key pin).
    pub spki_sha256: String,
    /// The anchor's subject, for people.
    pub subject: String,
}

/// Names a trust anchor by its public key. webpki keeps the subject and the key without
/// their outer SEQUENCE, so both are wrapped again to hash and parse the standard encodings.
pub fn anchor_facts(anchor: &rustls::pki_types::TrustAnchor<'_>) -> AnchorFacts {
    let spki = der_sequence(anchor.subject_public_key_info.as_ref());
    let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
    let spki_sha256 = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let subject_der = der_sequence(anchor.subject.as_ref());
    let subject = match x509_parser::x509::X509Name::from_der(&subject_der) {
        Ok((_, name)) => crate::redact::printable(&name.to_string()),
        Err(_) => "(unparsable subject)".to_string(),
    };
    AnchorFacts { spki_sha256, subject }
}

/// `content` as the value of a DER SEQUENCE (tag 0x30, definite length).
fn der_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

fn format_ip(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("{bytes:02x?}"),
    }
}

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption (weak)",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption (broken)",
        "1.2.840.113549.1.1.10" => "rsassa-pss",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1 (weak)",
        "1.3.101.112" => "Ed25519",
        other => return other.to_string(),
    }
    .to_string()
}

/// Whether `host` is covered by one of the leaf's SANs (DNS wildcards in the left-most label).
pub fn name_matches(facts: &CertFacts, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ip = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok();
    facts.sans.iter().any(|san| {
        if let Some(ip) = san.strip_prefix("IP:") {
            return host_ip.is_some_and(|h| ip.parse::<std::net::IpAddr>().ok() == Some(h));
        }
        let Some(dns) = san.strip_prefix("DNS:") else { return false };
        if host_ip.is_some() {
            return false;
        }
        let dns = dns.trim_end_matches('.').to_ascii_lowercase();
        match dns.strip_prefix("*.") {
            Some(suffix) => host.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
            None => dns == host,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sans: &[&str]) -> CertFacts {
        CertFacts { sans: sans.iter().map(|s| s.to_string()).collect(), ..CertFacts::default() }
    }

    #[test]
    fn wildcards_cover_one_label_only() {
        let f = facts(&["DNS:*.example.net", "DNS:exact.test", "IP:127.0.0.1"]);
        assert!(name_matches(&f, "a.example.net"));
        assert!(name_matches(&f, "EXACT.test."));
        assert!(name_matches(&f, "127.0.0.1"));
        assert!(!name_matches(&f, "a.b.example.net"));
        assert!(!name_matches(&f, "example.net"));
        assert!(!name_matches(&f, "other.test"));
        assert!(!name_matches(&f, "127.0.0.2"));
    }
}
