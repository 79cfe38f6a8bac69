//! `tls-interception-suspected`: who re-signed the chain. The inspection products are
//! recognised by the names they give their CAs; for Atlas hosts, a chain from neither of
//! Atlas's CAs is suspect too.

use super::diagnosis::Diagnose;
use crate::catalog::codes::DiagnosisCode as Code;
use crate::model::Diagnosis;
use crate::probe::HostObservation;
use crate::probe::certs::CertFacts;

/// TLS-inspecting proxies and antivirus products, each with the lowercase fragments their CA
/// names carry (in the subject or issuer of the certificates they mint).
pub const INSPECTION_PRODUCTS: &[(&str, &[&str])] = &[
    ("Zscaler", &["zscaler"]),
    ("Netskope", &["netskope", "goskope"]),
    ("Palo Alto Networks", &["palo alto networks", "paloaltonetworks"]),
    ("Fortinet FortiGate", &["fortinet", "fortigate"]),
    ("Blue Coat / Symantec ProxySG", &["blue coat", "bluecoat", "proxysg"]),
    ("Forcepoint (Websense)", &["forcepoint", "websense"]),
    ("Cisco Umbrella", &["cisco umbrella", "opendns"]),
    ("Sophos", &["sophos"]),
    ("Kaspersky", &["kaspersky"]),
    ("mitmproxy", &["mitmproxy"]),
    ("Charles Proxy", &["charles proxy", "charlesproxy"]),
    ("Fiddler", &["fiddler"]),
    ("Avast / AVG", &["avast", "avg technologies"]),
    ("ESET", &["eset ssl filter"]),
    ("Bitdefender", &["bitdefender"]),
    ("Check Point", &["check point"]),
    ("McAfee / Skyhigh Web Gateway", &["mcafee", "skyhigh"]),
    ("Barracuda", &["barracuda"]),
    ("Menlo Security", &["menlo security"]),
    ("iboss", &["iboss"]),
    ("Lightspeed Systems", &["lightspeed systems"]),
    ("Securly", &["securly"]),
    ("GoGuardian", &["goguardian"]),
    ("ContentKeeper", &["contentkeeper"]),
    ("Trend Micro", &["trend micro"]),
];

/// The CAs Atlas issues cluster certificates from, as their names appear in chains.
const ATLAS_CA_NAMES: &[&str] = &["let's encrypt", "internet security research group", "google trust services"];

/// The product whose name a certificate of the chain carries, with the name that matched.
pub fn product(chain: &[&CertFacts]) -> Option<(&'static str, String)> {
    chain.iter().flat_map(|c| [&c.issuer, &c.subject]).find_map(|name| {
        let lower = name.to_lowercase();
        INSPECTION_PRODUCTS
            .iter()
            .find(|(_, fragments)| fragments.iter().any(|f| lower.contains(f)))
            .map(|(product, _)| (*product, name.clone()))
    })
}

/// Whether any certificate of the chain names one of Atlas's CAs.
pub fn from_atlas_cas(chain: &[&CertFacts]) -> bool {
    chain.iter().flat_map(|c| [&c.issuer, &c.subject]).any(|name| {
        let lower = name.to_lowercase();
        ATLAS_CA_NAMES.iter().any(|ca| lower.contains(ca))
    })
}

/// `tls-interception-suspected` for an unverifiable chain, when its issuer says so.
pub fn suspected(obs: &HostObservation, target: &str) -> Option<Diagnosis> {
    let chain: Vec<&CertFacts> = obs.chain.iter().flatten().collect();
    let top = chain.last()?;
    let (summary, evidence) = match product(&chain) {
        Some((product, name)) => (
            format!("A TLS-inspecting proxy ({product}) re-signs the certificate of {target}"),
            format!(
                "the presented chain carries `{name}`, the CA name of {product}, a TLS-inspecting proxy or \
                 antivirus product; the chain of {} ends at `{}`, issued by `{}`, which the trust does not hold. \
                 Trust: {}",
                chain.len(),
                top.subject,
                top.issuer,
                obs.trust
            ),
        ),
        None if obs.is_atlas && !from_atlas_cas(&chain) => (
            format!(
                "Something between this runner and {target} re-signs its certificate: it does not come from Atlas's CAs"
            ),
            format!(
                "Atlas issues cluster certificates only from Let's Encrypt and Google Trust Services, but the chain \
                 of {} ends at `{}`, issued by `{}`, and names neither; the trust does not hold it. Trust: {}",
                chain.len(),
                top.subject,
                top.issuer,
                obs.trust
            ),
        ),
        None => return None,
    };
    let exempt = if obs.is_atlas { "`*.mongodb.net:27017`".to_string() } else { format!("`{target}`") };
    let remedy = format!(
        "The server is not at fault: the network path is. Either exempt {exempt} from TLS inspection in the \
         proxy's policy (ask the network team), or trust the proxy's root explicitly: pass it with `tlsCAFile` \
         (or `--ca-file`) in a bundle that also holds the server's real roots. Disabling certificate verification \
         is never the way out."
    );
    Some(Code::TlsInterceptionSuspected.diagnose(summary, evidence, remedy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(subject: &str, issuer: &str) -> CertFacts {
        CertFacts { subject: subject.into(), issuer: issuer.into(), ..CertFacts::default() }
    }

    #[test]
    fn products_are_recognised_by_their_ca_names_and_public_cas_are_not() {
        let zscaler = cert("CN=db.example.com", "O=Zscaler Inc., CN=Zscaler Intermediate Root CA");
        assert_eq!(product(&[&zscaler]).map(|(p, _)| p), Some("Zscaler"));
        let forti = cert("CN=db", "CN=FortiGate CA, O=Fortinet");
        assert_eq!(product(&[&forti]).map(|(p, _)| p), Some("Fortinet FortiGate"));
        let le = cert("CN=db.mongodb.net", "C=US, O=Let's Encrypt, CN=R11");
        let reset = cert("CN=reset.example.com", "CN=Preset Corp Root");
        assert_eq!(product(&[&le, &reset]), None);
        assert!(from_atlas_cas(&[&le]));
        assert!(from_atlas_cas(&[&cert("CN=x", "C=US, O=Google Trust Services, CN=WR1")]));
        assert!(!from_atlas_cas(&[&zscaler]));
    }
}
