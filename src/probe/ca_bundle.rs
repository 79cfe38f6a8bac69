//! What a CA file holds: each certificate's names, whether it is a root or an intermediate,
//! and the SHA-256 of its public key (SubjectPublicKeyInfo), by which roots are identified.

use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The most certificates read from one file: a full system bundle holds about 150.
pub const MAX_CERTIFICATES: usize = 1000;
/// The largest file read: a full system bundle is about 200 KiB. A repository's file may be
/// anything a pull request puts there.
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// One certificate of a CA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleCert {
    pub subject: String,
    pub issuer: String,
    /// The subject's common name, if any.
    pub common_name: String,
    pub is_ca: bool,
    /// Issuer equals subject and the signature verifies with its own key.
    pub self_signed: bool,
    /// SHA-256 of the SubjectPublicKeyInfo, lowercase hex.
    pub spki_sha256: String,
}

/// A CA file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    pub path: PathBuf,
    pub certs: Vec<BundleCert>,
    /// Why the file (or part of it) could not be read.
    pub error: Option<String>,
}

pub fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Facts about one DER certificate, `None` if it does not parse.
pub fn facts(der: &[u8]) -> Option<BundleCert> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(crate::redact::printable)
        .unwrap_or_default();
    let self_issued = cert.subject() == cert.issuer();
    Some(BundleCert {
        subject: crate::redact::printable(&cert.subject().to_string()),
        issuer: crate::redact::printable(&cert.issuer().to_string()),
        common_name,
        is_ca: cert.is_ca(),
        self_signed: self_issued && cert.verify_signature(None).is_ok(),
        spki_sha256: sha256_hex(cert.public_key().raw),
    })
}

/// Reads every certificate of a PEM file.
pub fn read(path: &Path) -> CaBundle {
    let mut bundle = CaBundle { path: path.to_path_buf(), certs: Vec::new(), error: None };
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > MAX_BYTES
    {
        bundle.error =
            Some(format!("{} holds {} bytes, more than any CA file needs: not read", path.display(), meta.len()));
        return bundle;
    }
    let iter = match CertificateDer::pem_file_iter(path) {
        Ok(iter) => iter,
        Err(e) => {
            bundle.error = Some(format!("cannot read {}: {e}", path.display()));
            return bundle;
        }
    };
    for item in iter.take(MAX_CERTIFICATES) {
        match item {
            Ok(der) => {
                if let Some(facts) = facts(der.as_ref()) {
                    bundle.certs.push(facts);
                }
            }
            Err(e) => {
                bundle.error = Some(format!("cannot parse {}: {e}", path.display()));
                break;
            }
        }
    }
    bundle
}
