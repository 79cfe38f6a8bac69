//! The eight scan rules of CONTRACT.md, each with its explanation.

use crate::catalog::{Documented, Explanation};
use crate::model::Severity;

macro_rules! scan_rules {
    ($(
        $variant:ident = $id:literal, {
            title: $title:literal,
            cause: $cause:literal,
            detection: $detection:literal,
            remedy: $remedy:literal,
            avoid: $avoid:literal $(,)?
        }
    ),+ $(,)?) => {
        /// A scan rule id (see CONTRACT.md). Every rule is error severity by default.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $($variant),+ }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),+];

            pub fn from_id(id: &str) -> Option<Rule> {
                match id { $($id => Some(Rule::$variant),)+ _ => None }
            }
        }

        impl Documented for Rule {
            fn id(&self) -> &'static str {
                match self { $(Rule::$variant => $id),+ }
            }
            fn default_severity(&self) -> Severity {
                Severity::Error
            }
            fn explanation(&self) -> &'static Explanation {
                match self { $(Rule::$variant => &Explanation {
                    title: $title, cause: $cause, detection: $detection, remedy: $remedy, avoid: $avoid,
                }),+ }
            }
        }
    };
}

scan_rules! {
    AllowInvalidCertificates = "allow-invalid-certificates", {
        title: "Certificate-chain validation is switched off for a MongoDB client",
        cause: "`tlsAllowInvalidCertificates=true` (or `sslAllowInvalidCertificates`, or a driver's equivalent) makes the client accept any certificate, so anyone on the network path can impersonate the cluster and read the credentials. It is usually added to \"fix\" `CERTIFICATE_VERIFY_FAILED` or `TLSV1_ALERT_INTERNAL_ERROR`; the latter is Atlas's IP access list and cannot be fixed this way at all.",
        detection: "The option, a driver's equivalent, a CLI flag or an environment toggle set to a true literal.",
        remedy: "Remove the setting. Run `mongo-preflight probe URI` to see the real cause. Supply the right CA with `tlsCAFile` (Python: `tlsCAFile=certifi.where()`; Node: `tlsCAFile`; Java: an SSLContext with the right trust store; Go: `RootCAs`).",
        avoid: "Replacing it with `tlsInsecure=true` or a trust-all verifier is the same hole.",
    },
    AllowInvalidHostnames = "allow-invalid-hostnames", {
        title: "Hostname verification is switched off for a MongoDB client",
        cause: "`tlsAllowInvalidHostnames=true` accepts a valid certificate issued for any other host, so any server with any publicly trusted certificate can impersonate the cluster.",
        detection: "The option, a driver's equivalent or a CLI flag set to a true literal.",
        remedy: "Remove it and connect with a host name the server's certificate lists; re-issue the certificate with the right subjectAltName if needed.",
        avoid: "Connecting by IP address and disabling the name check is not a fix.",
    },
    TlsInsecure = "tls-insecure", {
        title: "One switch disables both certificate and hostname verification",
        cause: "`tlsInsecure=true`, Go's `InsecureSkipVerify: true` in a Mongo client's TLS config, C#'s `AllowInsecureTls = true` and Ruby's `ssl_verify: false` relax every check at once.",
        detection: "The option or the language's equivalent set to a true literal, in a MongoDB client context.",
        remedy: "Remove it; supply the right CA (`tlsCAFile`, `RootCAs`, a trust store).",
        avoid: "Splitting it into `tlsAllowInvalidCertificates` and `tlsAllowInvalidHostnames` is the same hole.",
    },
    CertReqsNone = "cert-reqs-none", {
        title: "PyMongo 3 `ssl_cert_reqs=CERT_NONE` disables certificate validation",
        cause: "PyMongo 3's `ssl_cert_reqs=ssl.CERT_NONE` (or the string `CERT_NONE` in a URI) turns certificate validation off.",
        detection: "`ssl_cert_reqs` set to `CERT_NONE` in any spelling, in a MongoDB client context.",
        remedy: "Remove it; on PyMongo 4 use `tlsCAFile=certifi.where()` if the system CA bundle is outdated.",
        avoid: "`tlsAllowInvalidCertificates=True` is the same thing under PyMongo 4's name.",
    },
    CustomVerifierAcceptsAll = "custom-verifier-accepts-all", {
        title: "A certificate verification hook that accepts anything is handed to a MongoDB client",
        cause: "A trust-all `X509TrustManager`, a `ServerCertificateValidationCallback` returning true, a `VerifyPeerCertificate` that returns nil, or a rustls verifier that always succeeds, installed in the MongoDB client's TLS settings.",
        detection: "A verifier whose body unconditionally accepts, and that is passed to a MongoDB client's settings.",
        remedy: "Delete the custom verifier and use the platform's default verification with the right trust anchors.",
        avoid: "Logging-and-accepting verifiers are still trust-all.",
    },
    TlsDisabledForRemoteHost = "tls-disabled-for-remote-host", {
        title: "TLS is switched off towards a remote MongoDB host",
        cause: "`tls=false` / `ssl=false` to a non-local host (Atlas, `mongodb+srv`) sends credentials and data in plaintext; Atlas refuses it anyway.",
        detection: "`tls=false` or `ssl=false` in a connection string or client options whose hosts are not localhost/127.0.0.1/::1.",
        remedy: "Remove `tls=false`; `mongodb+srv` strings enable TLS by default.",
        avoid: "Do not turn TLS off to get around certificate errors.",
    },
    OcspCheckDisabled = "ocsp-check-disabled", {
        title: "OCSP endpoint checking is switched off",
        cause: "`tlsDisableOCSPEndpointCheck=true` stops the driver from asking the CA whether the certificate was revoked.",
        detection: "The option set to a true literal.",
        remedy: "Remove it; if OCSP responders are unreachable from your network, allow egress to them.",
        avoid: "Do not switch off revocation checks to silence network errors.",
    },
    RevocationCheckDisabled = "revocation-check-disabled", {
        title: "Certificate revocation checking is switched off",
        cause: "`tlsDisableCertificateRevocationCheck=true` makes the client accept revoked certificates.",
        detection: "The option set to a true literal.",
        remedy: "Remove it.",
        avoid: "Do not switch off revocation checks to silence network errors.",
    },
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
