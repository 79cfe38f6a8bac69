//! The lab's certificate authority and every certificate its endpoints present, generated fresh
//! at start so validity windows are always relative to "now".

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// Where the AIA extension of the `aia-missing-intermediate` leaf says its issuer lives.
pub const AIA_CA_ISSUERS_URL: &str = "http://ca.lab.test/lab-intermediate.crt";

/// Text meant to break Markdown and HTML if a renderer forgets to escape a certificate subject.
pub const HOSTILE_SUBJECT: &str = "@octocat <img src=x onerror=alert(1)> `code` | pipe";

/// A certificate chain and its key, in memory (for rustls) and on disk (for SecantusDB/OpenSSL).
pub struct Identity {
    /// Leaf first, then whatever else the server sends.
    pub chain: Vec<CertificateDer<'static>>,
    key_pkcs8: Vec<u8>,
    /// PEM of `chain`.
    pub chain_file: PathBuf,
    /// PEM of the leaf alone.
    pub leaf_file: PathBuf,
    /// PEM of the chain minus the leaf (may be empty).
    pub extra_chain_file: PathBuf,
    pub key_file: PathBuf,
    /// Chain then key in one PEM, the shape `tlsCertificateKeyFile` expects.
    pub combined_file: PathBuf,
}

impl Identity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }
}

/// Who signs a leaf.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The lab intermediate (which the lab root signs).
    LabIntermediate,
    /// The lab root directly.
    LabRoot,
    /// An intermediate under a root that is not in the lab's trust file.
    UntrustedIntermediate,
    SelfSigned,
}

/// What the server sends after the leaf.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Send {
    LeafOnly,
    WithIntermediate,
    WithIntermediateAndRoot,
}

pub struct LeafSpec {
    pub file_stem: &'static str,
    pub common_name: String,
    pub names: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub signer: Signer,
    pub send: Send,
    pub is_ca: bool,
    pub aia_ca_issuers: Option<&'static str>,
    pub client_auth: bool,
    /// A PKCS#8 PEM key to certify (e.g. RSA from [`rsa_key_pem`]); a fresh ECDSA P-256 key
    /// otherwise.
    pub key_pem: Option<String>,
    /// Bytes of an opaque private extension, to make the leaf as large as a hostile server
    /// wants (0: none).
    pub padding: usize,
}

impl LeafSpec {
    /// A server leaf valid from yesterday for a year, signed by the lab intermediate and sent
    /// with it: the healthy default that each endpoint then spoils in one way.
    pub fn server(file_stem: &'static str, names: Vec<String>) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        LeafSpec {
            file_stem,
            common_name: names.first().cloned().unwrap_or_else(|| file_stem.to_string()),
            names,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
            signer: Signer::LabIntermediate,
            send: Send::WithIntermediate,
            is_ca: false,
            aia_ca_issuers: None,
            client_auth: false,
            key_pem: None,
            padding: 0,
        }
    }
}

struct Authority {
    params: CertificateParams,
    key: KeyPair,
    der: CertificateDer<'static>,
    pem: String,
}

impl Authority {
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// The lab PKI: a trusted root with an intermediate, and an untrusted root with its own
/// intermediate (for "chain ends in a root you do not trust" and for a wrong client certificate).
pub struct Pki {
    dir: PathBuf,
    root: Authority,
    intermediate: Authority,
    untrusted_root: Authority,
    untrusted_intermediate: Authority,
    /// PEM of the lab root: the `--ca-file` / `tlsCAFile` the tests pass.
    pub ca_file: PathBuf,
    /// PEM of the other root, which signs nothing the lab trusts.
    pub untrusted_ca_file: PathBuf,
    /// PEM of the lab intermediate (what the AIA URL would serve).
    pub intermediate_file: PathBuf,
}

fn ca_params(common_name: &str, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationName, "mongo-preflight lab");
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = now - Duration::days(2);
    params.not_after = now + Duration::days(3650);
    params.use_authority_key_identifier_extension = true;
    params
}

fn new_authority(common_name: &str, parent: Option<&Authority>, now: OffsetDateTime) -> Authority {
    let key = KeyPair::generate().expect("lab: generate CA key");
    let params = ca_params(common_name, now);
    let cert = match parent {
        Some(parent) => params.signed_by(&key, &parent.issuer()),
        None => params.self_signed(&key),
    }
    .expect("lab: sign CA certificate");
    Authority { params, key, der: cert.der().clone(), pem: cert.pem() }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("lab: write {}: {e}", path.display()));
}

/// DER of an AuthorityInfoAccess extension value holding one caIssuers URI. rcgen has no
/// built-in for it, and every length here is short, so single-byte DER lengths suffice.
fn aia_ca_issuers_extension(url: &str) -> CustomExtension {
    const CA_ISSUERS_OID: [u8; 10] = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut location = vec![0x86, u8::try_from(url.len()).expect("short AIA URL")];
    location.extend_from_slice(url.as_bytes());
    let mut description = vec![0x30, u8::try_from(CA_ISSUERS_OID.len() + location.len()).expect("short AIA")];
    description.extend_from_slice(&CA_ISSUERS_OID);
    description.extend_from_slice(&location);
    let mut syntax = vec![0x30, u8::try_from(description.len()).expect("short AIA")];
    syntax.extend_from_slice(&description);
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], syntax)
}

/// A non-critical extension under a private OID holding an OCTET STRING of `size` bytes:
/// verifiers skip unknown non-critical extensions, so only the size matters.
fn padding_extension(size: usize) -> CustomExtension {
    // DER wants the shortest length form: 0x80 | byte count, then the big-endian bytes.
    let len = u32::try_from(size).expect("padding under 4 GiB").to_be_bytes();
    let significant: Vec<u8> = len.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = vec![0x04];
    if size < 0x80 {
        content.push(size as u8);
    } else {
        content.push(0x80 | significant.len() as u8);
        content.extend_from_slice(&significant);
    }
    content.resize(content.len() + size, 0x5a);
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 7, 1], content)
}

impl Pki {
    pub fn generate(dir: &Path) -> Pki {
        let now = OffsetDateTime::now_utc();
        let root = new_authority("mongo-preflight Lab Root CA", None, now);
        let intermediate = new_authority("mongo-preflight Lab Intermediate CA", Some(&root), now);
        let untrusted_root = new_authority("Untrusted Elsewhere Root CA", None, now);
        let untrusted_intermediate = new_authority("Untrusted Elsewhere Intermediate CA", Some(&untrusted_root), now);
        let ca_file = dir.join("lab-ca.pem");
        let untrusted_ca_file = dir.join("untrusted-ca.pem");
        let intermediate_file = dir.join("lab-intermediate.pem");
        write(&ca_file, &root.pem);
        write(&untrusted_ca_file, &untrusted_root.pem);
        write(&intermediate_file, &intermediate.pem);
        Pki {
            dir: dir.to_path_buf(),
            root,
            intermediate,
            untrusted_root,
            untrusted_intermediate,
            ca_file,
            untrusted_ca_file,
            intermediate_file,
        }
    }

    pub fn root_der(&self) -> &CertificateDer<'static> {
        &self.root.der
    }

    pub fn issue(&self, spec: &LeafSpec) -> Identity {
        let key = match &spec.key_pem {
            Some(pem) => KeyPair::from_pem(pem).expect("lab: load leaf key"),
            None => KeyPair::generate().expect("lab: generate leaf key"),
        };
        let mut params = CertificateParams::new(spec.names.clone()).expect("lab: leaf names");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::OrganizationName, "mongo-preflight lab");
        params.distinguished_name.push(DnType::CommonName, spec.common_name.as_str());
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.use_authority_key_identifier_extension = spec.signer != Signer::SelfSigned;
        if spec.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages =
                vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        } else {
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![if spec.client_auth {
                ExtendedKeyUsagePurpose::ClientAuth
            } else {
                ExtendedKeyUsagePurpose::ServerAuth
            }];
        }
        if let Some(url) = spec.aia_ca_issuers {
            params.custom_extensions.push(aia_ca_issuers_extension(url));
        }
        if spec.padding > 0 {
            params.custom_extensions.push(padding_extension(spec.padding));
        }
        let (issuer, parents): (Option<&Authority>, Vec<&Authority>) = match spec.signer {
            Signer::LabIntermediate => (Some(&self.intermediate), vec![&self.intermediate, &self.root]),
            Signer::LabRoot => (Some(&self.root), vec![&self.root]),
            Signer::UntrustedIntermediate => {
                (Some(&self.untrusted_intermediate), vec![&self.untrusted_intermediate, &self.untrusted_root])
            }
            Signer::SelfSigned => (None, vec![]),
        };
        let cert = match issuer {
            Some(authority) => params.signed_by(&key, &authority.issuer()),
            None => params.self_signed(&key),
        }
        .expect("lab: sign leaf");
        let sent_parents: Vec<&Authority> = match spec.send {
            Send::LeafOnly => vec![],
            // A root-signed leaf has no intermediate: "with intermediate" then sends nothing more.
            Send::WithIntermediate => parents[..parents.len().saturating_sub(1)].to_vec(),
            Send::WithIntermediateAndRoot => parents,
        };
        let mut chain = vec![(cert.der().clone(), cert.pem())];
        chain.extend(sent_parents.iter().map(|a| (a.der.clone(), a.pem.clone())));
        self.save(spec.file_stem, chain, key)
    }

    fn save(&self, stem: &str, chain: Vec<(CertificateDer<'static>, String)>, key: KeyPair) -> Identity {
        let chain_file = self.dir.join(format!("{stem}.chain.pem"));
        let leaf_file = self.dir.join(format!("{stem}.leaf.pem"));
        let extra_chain_file = self.dir.join(format!("{stem}.extra.pem"));
        let key_file = self.dir.join(format!("{stem}.key.pem"));
        let combined_file = self.dir.join(format!("{stem}.combined.pem"));
        let key_pem = key.serialize_pem();
        let chain_pem: String = chain.iter().map(|(_, pem)| pem.as_str()).collect();
        write(&chain_file, &chain_pem);
        write(&leaf_file, &chain[0].1);
        write(&extra_chain_file, &chain[1..].iter().map(|(_, pem)| pem.as_str()).collect::<String>());
        write(&key_file, &key_pem);
        write(&combined_file, &format!("{chain_pem}{key_pem}"));
        let chain = chain.into_iter().map(|(der, _)| der).collect();
        Identity {
            chain,
            key_pkcs8: key.serialize_der(),
            chain_file,
            leaf_file,
            extra_chain_file,
            key_file,
            combined_file,
        }
    }

    /// A leaf under `depth` certificate authorities in a line (the lab root signs the first),
    /// sent with all of them, closest issuer first: `depth + 1` certificates, much deeper than
    /// any verifier follows.
    pub fn issue_long_chain(&self, stem: &'static str, names: &[String], depth: usize) -> Identity {
        let now = OffsetDateTime::now_utc();
        let mut authorities: Vec<Authority> = Vec::with_capacity(depth);
        for i in 0..depth {
            let parent = authorities.last().unwrap_or(&self.root);
            let authority = new_authority(&format!("Long chain CA {}", i + 1), Some(parent), now);
            authorities.push(authority);
        }
        let key = KeyPair::generate().expect("lab: generate leaf key");
        let mut params = CertificateParams::new(names.to_vec()).expect("lab: leaf names");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, names[0].as_str());
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let signer = authorities.last().unwrap_or(&self.root);
        let cert = params.signed_by(&key, &signer.issuer()).expect("lab: sign long-chain leaf");
        let mut chain = vec![(cert.der().clone(), cert.pem())];
        chain.extend(authorities.iter().rev().map(|a| (a.der.clone(), a.pem.clone())));
        self.save(stem, chain, key)
    }

    /// A leaf the lab intermediate signs with ecdsa-with-SHA1, which webpki refuses
    /// (`UnsupportedSignatureAlgorithm`). rcgen cannot sign with SHA-1, so OpenSSL does.
    pub fn issue_sha1_signed(&self, stem: &'static str, names: &[String]) -> Identity {
        let key = KeyPair::generate().expect("lab: generate leaf key");
        let mut params = CertificateParams::new(names.to_vec()).expect("lab: leaf names");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, names[0].as_str());
        let csr = params.serialize_request(&key).and_then(|csr| csr.pem()).expect("lab: CSR");
        let csr_file = self.dir.join(format!("{stem}.csr.pem"));
        let ext_file = self.dir.join(format!("{stem}.ext"));
        let issuer_key_file = self.dir.join("lab-intermediate.key.pem");
        let leaf_file = self.dir.join(format!("{stem}.openssl.pem"));
        write(&csr_file, &csr);
        write(&issuer_key_file, &self.intermediate.key.serialize_pem());
        let alt_names: Vec<String> = names
            .iter()
            .map(|n| if n.parse::<std::net::IpAddr>().is_ok() { format!("IP:{n}") } else { format!("DNS:{n}") })
            .collect();
        write(
            &ext_file,
            &format!(
                "subjectAltName={}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\n",
                alt_names.join(",")
            ),
        );
        let openssl = super::process::tool("MONGO_PREFLIGHT_OPENSSL", &["openssl"]);
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let output = std::process::Command::new(&openssl)
            .args(["x509", "-req", "-sha1", "-days", "365", "-set_serial", "4242"])
            .args(["-in", &path(&csr_file), "-CA", &path(&self.intermediate_file), "-CAkey", &path(&issuer_key_file)])
            .args(["-extfile", &path(&ext_file), "-out", &path(&leaf_file)])
            .output()
            .expect("lab: run openssl x509");
        assert!(output.status.success(), "lab: openssl x509 -sha1 failed: {}", String::from_utf8_lossy(&output.stderr));
        let leaf_pem = std::fs::read_to_string(&leaf_file).expect("lab: read SHA-1 leaf");
        let leaf_der = CertificateDer::from_pem_slice(leaf_pem.as_bytes()).expect("lab: parse SHA-1 leaf");
        let chain = vec![(leaf_der, leaf_pem), (self.intermediate.der.clone(), self.intermediate.pem.clone())];
        self.save(stem, chain, key)
    }

    /// Also hand the untrusted root to tests that need "trust the other CA".
    pub fn untrusted_root_der(&self) -> &CertificateDer<'static> {
        &self.untrusted_root.der
    }
}

/// A root and intermediate outside the lab's trust, named like a real CA (an inspection
/// product's, or a public CA's look-alike), for "who issued this chain" cases.
pub struct NamedCa {
    root: Authority,
    intermediate: Authority,
    /// PEM of the root.
    pub root_file: PathBuf,
    /// PEM of the intermediate alone.
    pub intermediate_file: PathBuf,
}

fn named_authority(organization: &str, common_name: &str, parent: Option<&Authority>) -> Authority {
    let now = OffsetDateTime::now_utc();
    let key = KeyPair::generate().expect("lab: generate CA key");
    let mut params = ca_params(common_name, now);
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationName, organization);
    params.distinguished_name.push(DnType::CommonName, common_name);
    let cert = match parent {
        Some(parent) => params.signed_by(&key, &parent.issuer()),
        None => params.self_signed(&key),
    }
    .expect("lab: sign named CA certificate");
    Authority { params, key, der: cert.der().clone(), pem: cert.pem() }
}

impl Pki {
    /// A CA named `organization` / `root_cn` with an intermediate `intermediate_cn`.
    pub fn named_ca(&self, stem: &str, organization: &str, root_cn: &str, intermediate_cn: &str) -> NamedCa {
        let root = named_authority(organization, root_cn, None);
        let intermediate = named_authority(organization, intermediate_cn, Some(&root));
        let root_file = self.dir.join(format!("{stem}-root.pem"));
        let intermediate_file = self.dir.join(format!("{stem}-intermediate.pem"));
        write(&root_file, &root.pem);
        write(&intermediate_file, &intermediate.pem);
        NamedCa { root, intermediate, root_file, intermediate_file }
    }

    /// A server leaf from `ca`'s intermediate, sent with that intermediate (spec's signer and
    /// send are ignored).
    pub fn issue_by(&self, ca: &NamedCa, spec: &LeafSpec) -> Identity {
        let key = KeyPair::generate().expect("lab: generate leaf key");
        let mut params = CertificateParams::new(spec.names.clone()).expect("lab: leaf names");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, spec.common_name.as_str());
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &ca.intermediate.issuer()).expect("lab: sign leaf");
        let chain = vec![(cert.der().clone(), cert.pem()), (ca.intermediate.der.clone(), ca.intermediate.pem.clone())];
        self.save(spec.file_stem, chain, key)
    }

    /// Where the lab's files live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The lab intermediate's PEM text and the lab root's, for building CA bundles.
    pub fn lab_pems(&self) -> (String, String) {
        (self.intermediate.pem.clone(), self.root.pem.clone())
    }
}

impl NamedCa {
    pub fn root_pem(&self) -> &str {
        &self.root.pem
    }
}

/// A fresh RSA key (PKCS#8 PEM) from OpenSSL: ring, rcgen's backend here, cannot generate RSA.
pub async fn rsa_key_pem(bits: u32) -> String {
    let openssl = super::process::tool("MONGO_PREFLIGHT_OPENSSL", &["openssl"]);
    let output = tokio::process::Command::new(&openssl)
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", &format!("rsa_keygen_bits:{bits}")])
        .output()
        .await
        .expect("lab: run openssl genpkey");
    assert!(output.status.success(), "lab: openssl genpkey failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("lab: RSA key PEM is text")
}
