//! Rust: the `mongodb` crate's `TlsOptions` (`allow_invalid_certificates`,
//! `allow_invalid_hostnames`), as builder calls or struct fields (`Some(true)`). The same
//! names serve mongocxx and configuration files, in a file that mentions MongoDB.

use super::family::{Family, Insecure, Reach, Spec};
use super::lang::Lang;
use super::strip::Syntax;
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax {
    line_comments: &["//"],
    block_comments: &[("/*", "*/")],
    quotes: b"\"'",
    multiline_quotes: b"\"",
    short_char_literals: true,
    ..Syntax::new()
};

pub static SPECS: &[Spec] = &[
    Spec {
        words: &["allow", "invalid", "certificates"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenTrue,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[],
    },
    Spec {
        words: &["allow", "invalid", "hostnames"],
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
            "TlsOptions::builder().ca_file_path(Some(\"ca.pem\".into())).build()"
        }
        Rule::AllowInvalidHostnames => "connect with a host name the certificate lists",
        Rule::TlsDisabledForRemoteHost => "drop `tls=false` / `Tls::Disabled`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// Rust: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("Rust"),
    lang: Lang::Rust,
    extensions: &["rs"],
    syntax: &SYNTAX,
    specs: SPECS,
    scan: None,
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;
    use crate::scan::scan_text;

    fn rules(text: &str) -> Vec<(Rule, u32)> {
        scan_text("db.rs", text).into_iter().map(|h| (h.rule, h.line)).collect()
    }

    #[test]
    fn mongodb_crate_tls_options() {
        let rs = "use mongodb::options::TlsOptions;\nlet a = TlsOptions::builder()\n    .allow_invalid_certificates(true)\n    .build();\nlet b = TlsOptions { allow_invalid_hostnames: Some(true), ..Default::default() };\nlet c = TlsOptions { allow_invalid_hostnames: Some(false), ..Default::default() };\n";
        assert_eq!(rules(rs), vec![(Rule::AllowInvalidCertificates, 3), (Rule::AllowInvalidHostnames, 5)]);
        let other = "// reqwest\nlet c = Client::builder().danger_accept_invalid_certs(true);\nlet allow_invalid_certificates = true;\n";
        assert!(rules(other).is_empty());
    }
}
