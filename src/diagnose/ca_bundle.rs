//! `ca-bundle-incomplete` and `ca-pins-intermediate`: whether a CA file holds the roots its
//! servers' CAs need, identified by subject and key, never by file name.

use super::diagnosis::Diagnose;
use crate::catalog::codes::DiagnosisCode as Code;
use crate::model::{ClusterReport, Diagnosis, Severity};
use crate::probe::ca_bundle::{BundleCert, CaBundle};

/// A root a CA family needs.
#[derive(Debug, Clone, Copy)]
pub struct Root {
    /// The subject's common name.
    pub name: &'static str,
    /// SHA-256 of its SubjectPublicKeyInfo, lowercase hex.
    pub spki_sha256: &'static str,
    /// Where to download it.
    pub url: &'static str,
}

pub const ISRG_ROOT_X1: Root = Root {
    name: "ISRG Root X1",
    spki_sha256: "0b9fa5a59eed715c26c1020c711b4f6ec42d58b0015e14337a39dad301c5afc3",
    url: "https://letsencrypt.org/certs/isrgrootx1.pem",
};

pub const GTS_ROOTS: [Root; 4] = [
    Root {
        name: "GTS Root R1",
        spki_sha256: "871a9194f4eed5b312ff40c84c1d524aed2f778bbff25f138cf81f680a7adc67",
        url: "https://pki.goog/repository/",
    },
    Root {
        name: "GTS Root R2",
        spki_sha256: "55f77de41c03792428f8d518c55104225be43a5598d926a528ad653e1ccec7bf",
        url: "https://pki.goog/repository/",
    },
    Root {
        name: "GTS Root R3",
        spki_sha256: "4179edd981ef747477b49626408af43daa2ca7ab7f9e082c1060f84096774348",
        url: "https://pki.goog/repository/",
    },
    Root {
        name: "GTS Root R4",
        spki_sha256: "9847e5653e5e9e847516e5cb818606aa7544a19be67fd7366d506988e8d84347",
        url: "https://pki.goog/repository/",
    },
];

/// Which CA families the servers of a cluster get their certificates from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Families {
    /// An Atlas host: Let's Encrypt and Google Trust Services, both, always.
    pub atlas: bool,
    /// A presented chain names Let's Encrypt (ISRG).
    pub lets_encrypt: bool,
    /// A presented chain names Google Trust Services.
    pub google: bool,
}

impl Families {
    fn required(self) -> Vec<Root> {
        let mut roots = Vec::new();
        if self.atlas || self.lets_encrypt {
            roots.push(ISRG_ROOT_X1);
        }
        if self.atlas || self.google {
            roots.extend(GTS_ROOTS);
        }
        roots
    }
}

/// The families a cluster's servers need: Atlas by its host names, others by the chains they
/// presented.
pub fn families(obs: &crate::probe::ClusterObservation) -> Families {
    let names = obs.hosts.iter().flat_map(|h| h.chain.iter().flatten()).flat_map(|c| [&c.issuer, &c.subject]);
    let mut f = Families {
        atlas: obs.hosts.iter().any(|h| h.is_atlas)
            || obs.srv.as_ref().is_some_and(|s| crate::probe::is_atlas_host(&s.name)),
        ..Families::default()
    };
    for name in names {
        let lower = name.to_lowercase();
        f.lets_encrypt |= lower.contains("let's encrypt") || lower.contains("internet security research group");
        f.google |= lower.contains("google trust services");
    }
    f
}

/// A CA file the repository's settings name, judged on its own: a report entry of its own
/// (no hosts), named after the file, whose `uri` says where the settings name it.
pub fn repository_file(reference: &crate::scan::ca_files::CaFileReference, bundle: &CaBundle) -> Option<ClusterReport> {
    let families = Families { atlas: reference.atlas, ..Families::default() };
    let named_at = reference.named_at.join(", ");
    let diagnoses = judge(bundle, families, &format!("the repository's MongoDB settings ({named_at})"));
    (!diagnoses.is_empty()).then(|| ClusterReport {
        name: format!("CA file {}", reference.path),
        uri: format!("named by {named_at}"),
        diagnoses,
        hosts: Vec::new(),
        required: true,
        policy_line: None,
        shared: Vec::new(),
    })
}

/// The file holds the root: a certificate with its name and key (a self-signed root or a
/// cross-signed copy of it, which clients accept as the same anchor).
fn holds(bundle: &CaBundle, root: &Root) -> bool {
    bundle.certs.iter().any(|c| c.spki_sha256 == root.spki_sha256 && c.common_name == root.name)
}

/// Intermediates (CA certificates that are not self-signed) whose issuer the file lacks.
fn orphan_intermediates(bundle: &CaBundle) -> Vec<&BundleCert> {
    bundle
        .certs
        .iter()
        .filter(|c| c.is_ca && !c.self_signed)
        .filter(|c| !bundle.certs.iter().any(|other| other.subject == c.issuer && other.self_signed))
        .collect()
}

/// The diagnoses for one CA file; `used_for` says who uses it (a cluster, a file's setting).
pub fn judge(bundle: &CaBundle, families: Families, used_for: &str) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    // A file that holds part of a family (its intermediate, one of its roots) is meant for it.
    let mut families = families;
    for name in bundle.certs.iter().flat_map(|c| [&c.issuer, &c.subject]) {
        let lower = name.to_lowercase();
        families.lets_encrypt |= lower.contains("let's encrypt") || lower.contains("internet security research group");
        families.google |= lower.contains("google trust services");
    }
    let path = bundle.path.display().to_string();
    let missing: Vec<Root> = families.required().into_iter().filter(|r| !holds(bundle, r)).collect();
    if !missing.is_empty() && bundle.error.is_none() {
        let names: Vec<&str> = missing.iter().map(|r| r.name).collect();
        // One source per download location, naming the roots it serves.
        let mut urls: Vec<&str> = missing.iter().map(|r| r.url).collect();
        urls.dedup();
        let sources: Vec<String> = urls
            .iter()
            .map(|url| {
                let served: Vec<&str> = missing.iter().filter(|r| r.url == *url).map(|r| r.name).collect();
                format!("{} from {url}", served.join(", "))
            })
            .collect();
        let why = if families.atlas {
            "Atlas issues cluster certificates from Let's Encrypt (ISRG Root X1) and Google Trust Services (GTS Root \
             R1-R4); a cluster's next certificate may come from either"
        } else {
            "the server's chain comes from this CA family, which issues from each of these roots"
        };
        let held: Vec<String> = bundle.certs.iter().map(|c| format!("`{}`", c.common_name)).collect();
        let mut d = Code::CaBundleIncomplete.diagnose(
            format!("The CA file `{path}` lacks {}", names.join(", ")),
            format!(
                "{used_for} uses `{path}`, which replaces the default trust store; {why}. It holds {} certificate(s){}; \
                 roots are matched by name and SHA-256 of the public key",
                bundle.certs.len(),
                if held.is_empty() { String::new() } else { format!(": {}", held.join(", ")) }
            ),
            format!(
                "Add {} to `{path}`: {}. Or stop replacing the trust store: the operating system's bundle and \
                 certifi hold them all. Do not pin intermediates.",
                names.join(", "),
                sources.join("; ")
            ),
        );
        if !families.atlas {
            d.severity = Severity::Warning;
        }
        out.push(d);
    }
    let orphans = orphan_intermediates(bundle);
    if !orphans.is_empty() {
        let listed: Vec<String> =
            orphans.iter().map(|c| format!("`{}` (issued by `{}`)", c.subject, c.issuer)).collect();
        let issuers: Vec<String> = {
            let mut v: Vec<String> = orphans.iter().map(|c| format!("`{}`", c.issuer)).collect();
            v.dedup();
            v
        };
        let atlas = if families.atlas {
            format!(
                " For Atlas: {} from {}, and GTS Root R1-R4 from {}.",
                ISRG_ROOT_X1.name, ISRG_ROOT_X1.url, GTS_ROOTS[0].url
            )
        } else {
            String::new()
        };
        out.push(Code::CaPinsIntermediate.diagnose(
            format!("The CA file `{path}` pins {} intermediate certificate(s) without their root", orphans.len()),
            format!("{used_for} uses `{path}`; it holds {} but not the root that issued them", listed.join(", ")),
            format!(
                "Replace the intermediates in `{path}` with the root(s) that issued them: {}. Servers send their \
                 intermediates during the handshake; clients need only roots, and CAs rotate intermediates often.{atlas}",
                issuers.join(", ")
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(cn: &str, issuer: &str, is_ca: bool, self_signed: bool, spki: &str) -> BundleCert {
        BundleCert {
            subject: format!("CN={cn}"),
            issuer: format!("CN={issuer}"),
            common_name: cn.into(),
            is_ca,
            self_signed,
            spki_sha256: spki.into(),
        }
    }

    fn bundle(certs: Vec<BundleCert>) -> CaBundle {
        CaBundle { path: "ca.pem".into(), certs, error: None }
    }

    #[test]
    fn roots_are_matched_by_name_and_key() {
        let atlas = Families { atlas: true, ..Families::default() };
        let mut certs: Vec<BundleCert> = std::iter::once(ISRG_ROOT_X1)
            .chain(GTS_ROOTS)
            .map(|r| cert(r.name, r.name, true, true, r.spki_sha256))
            .collect();
        assert!(judge(&bundle(certs.clone()), atlas, "cluster `a`").is_empty());
        // Same name, another key: not the root.
        certs[1].spki_sha256 = "00".into();
        let d = judge(&bundle(certs.clone()), atlas, "cluster `a`");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::CaBundleIncomplete);
        assert!(d[0].summary.contains("GTS Root R1") && !d[0].summary.contains("R2"), "{}", d[0].summary);
        assert_eq!(d[0].severity, Severity::Error);
        // Not Atlas, no family seen: nothing required.
        assert!(judge(&bundle(certs), Families::default(), "cluster `a`").is_empty());
    }

    #[test]
    fn an_intermediate_without_its_root_is_a_pin() {
        let r11 = cert("R11", "ISRG Root X1", true, false, "11");
        let d = judge(&bundle(vec![r11.clone()]), Families::default(), "cluster `a`");
        assert_eq!(d.iter().map(|d| d.code).collect::<Vec<_>>(), vec![Code::CaPinsIntermediate]);
        let root = cert("ISRG Root X1", "ISRG Root X1", true, true, ISRG_ROOT_X1.spki_sha256);
        assert!(judge(&bundle(vec![r11, root]), Families::default(), "cluster `a`").is_empty());
    }
}
