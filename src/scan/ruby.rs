//! Ruby: the Ruby driver (`Mongo::Client`) and Mongoid (`mongoid.yml`).
//!
//! The Ruby driver says "verify" where the URI spec says "allow invalid": `ssl_verify: false`
//! relaxes everything, `ssl_verify_certificate: false` and `ssl_verify_hostname: false` one
//! check each, `ssl_verify_ocsp_endpoint: false` the OCSP check.

use super::family::{Family, Insecure, Reach, Spec};
use super::lang::Lang;
use super::strip::Syntax;
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax =
    Syntax { line_comments: &["#"], quotes: b"\"'", multiline_quotes: b"\"'", begin_end_blocks: true, ..Syntax::new() };

const WHERE: &[Lang] = &[Lang::Ruby, Lang::Yaml];

pub static SPECS: &[Spec] = &[
    Spec {
        words: &["ssl", "verify"],
        rule: Rule::TlsInsecure,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: WHERE,
    },
    // Only the snake_case spelling: camelCase `sslVerifyCertificate` is the C# driver's
    // connection-string option, which relaxes every check (see `dotnet::SPECS`).
    Spec {
        words: &["ssl", "verify", "certificate"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenFalse,
        reach: Reach::Never,
        separated_reach: Reach::MongoFile,
        langs: &[],
    },
    Spec {
        words: &["ssl", "verify", "hostname"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: WHERE,
    },
    Spec {
        words: &["ssl", "verify", "ocsp", "endpoint"],
        rule: Rule::OcspCheckDisabled,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: WHERE,
    },
];

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure => {
            "Mongo::Client.new(uri, ssl: true, ssl_ca_cert: '/path/to/ca.pem') — keep ssl_verify on"
        }
        Rule::AllowInvalidHostnames => "connect with a host name the certificate lists; keep ssl_verify_hostname on",
        Rule::OcspCheckDisabled => "drop ssl_verify_ocsp_endpoint: false",
        Rule::TlsDisabledForRemoteHost => "drop `ssl: false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// Ruby: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("Ruby"),
    lang: Lang::Ruby,
    extensions: &["rb", "rake", "gemspec", "erb"],
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
    fn ruby_driver_and_mongoid() {
        let rb = "client = Mongo::Client.new(['db.example.net:27017'],\n  ssl: true,\n  ssl_verify: false)\n:ssl_verify_hostname => false\n";
        assert_eq!(rules("db.rb", rb), vec![(Rule::TlsInsecure, 3), (Rule::AllowInvalidHostnames, 4)]);
        let yml =
            "production:\n  clients:\n    default:\n      options:\n        ssl: true\n        ssl_verify: false\n";
        assert_eq!(rules("config/mongoid.yml", yml), vec![(Rule::TlsInsecure, 6)]);
        let conda = "ssl_verify: false\nchannels: [defaults]\n";
        assert!(rules(".condarc.yml", conda).is_empty());
    }
}
