//! C and C++: libmongoc (`mongoc_ssl_opt_t`, `MONGOC_URI_*`) and mongocxx (`options::tls`).
//!
//! The `MONGOC_URI_TLS*` constants are matched as URI option names with a prefix; this family
//! adds `mongoc_ssl_opt_t`'s `weak_cert_validation` and `allow_invalid_hostname`.

use super::family::{Family, Insecure, Reach, Spec};
use super::lang::Lang;
use super::strip::{C_LIKE, Syntax};
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax { ..C_LIKE };

pub static SPECS: &[Spec] = &[
    Spec {
        words: &["weak", "cert", "validation"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenTrue,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[],
    },
    Spec {
        words: &["allow", "invalid", "hostname"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenTrue,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[],
    },
];

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure => {
            "set ssl_opts.ca_file (libmongoc) or tls_options.ca_file() (mongocxx) to your CA bundle"
        }
        Rule::AllowInvalidHostnames => "connect with a host name the certificate lists",
        Rule::TlsDisabledForRemoteHost => "drop `tls=false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// C/C++: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("C/C++"),
    lang: Lang::CCpp,
    extensions: &["c", "h", "cc", "cpp", "cxx", "hpp", "hh", "hxx", "ipp"],
    syntax: &SYNTAX,
    specs: SPECS,
    scan: None,
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;

    use crate::scan::file::rule_lines as rules;

    #[test]
    fn libmongoc_and_mongocxx() {
        let c = "#include <mongoc/mongoc.h>\nmongoc_ssl_opt_t ssl_opts = {0};\nssl_opts.weak_cert_validation = true;\nssl_opts.allow_invalid_hostname = false;\nmongoc_uri_set_option_as_bool (uri, MONGOC_URI_TLSALLOWINVALIDHOSTNAMES, true);\n";
        assert_eq!(rules("db.c", c), vec![(Rule::AllowInvalidCertificates, 3), (Rule::AllowInvalidHostnames, 5)]);
        let cpp = "#include <mongocxx/client.hpp>\nmongocxx::options::tls tls_options;\ntls_options.allow_invalid_certificates(true);\n";
        assert_eq!(rules("db.cpp", cpp), vec![(Rule::AllowInvalidCertificates, 3)]);
    }
}
