//! PHP: the `mongodb` extension and library (`MongoDB\Client`, `MongoDB\Driver\Manager`).
//!
//! The URI options work in the `$uriOptions` array; this family adds the legacy stream
//! context options (`verify_peer`, `verify_peer_name`, `allow_self_signed`), which count only
//! when the context is handed to a MongoDB client, never to `file_get_contents` or curl.

use super::family::{Family, Insecure, Reach, Spec};
use super::lang::Lang;
use super::strip::{C_LIKE, Syntax};
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax { line_comments: &["//", "#"], multiline_quotes: b"\"'", ..C_LIKE };

pub static SPECS: &[Spec] = &[
    Spec {
        words: &["verify", "peer"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenFalse,
        reach: Reach::HandedToMongo,
        separated_reach: Reach::HandedToMongo,
        langs: &[Lang::Php],
    },
    Spec {
        words: &["verify", "peer", "name"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenFalse,
        reach: Reach::HandedToMongo,
        separated_reach: Reach::HandedToMongo,
        langs: &[Lang::Php],
    },
    Spec {
        words: &["allow", "self", "signed"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenTrue,
        reach: Reach::HandedToMongo,
        separated_reach: Reach::HandedToMongo,
        langs: &[Lang::Php],
    },
];

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure => {
            "new MongoDB\\Client($uri, ['tls' => true, 'tlsCAFile' => '/path/to/ca.pem'])"
        }
        Rule::AllowInvalidHostnames => "connect with a host name the certificate lists",
        Rule::TlsDisabledForRemoteHost => "drop `'tls' => false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// PHP: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("PHP"),
    lang: Lang::Php,
    extensions: &["php", "phtml", "inc"],
    syntax: &SYNTAX,
    specs: SPECS,
    scan: None,
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;

    fn rules(text: &str) -> Vec<(Rule, u32)> {
        crate::scan::file::rule_lines("db.php", text)
    }

    #[test]
    fn uri_options_and_stream_contexts() {
        let php = "<?php\n$client = new MongoDB\\Client($uri, ['tlsAllowInvalidCertificates' => true]);\n$m = new MongoDB\\Driver\\Manager($uri, [], ['context' => stream_context_create(['ssl' => [\n    'verify_peer' => false,\n]])]);\n";
        assert_eq!(rules(php), vec![(Rule::AllowInvalidCertificates, 2), (Rule::AllowInvalidCertificates, 4)]);
        let http = "<?php\n// MongoDB is used elsewhere\n$ctx = stream_context_create(['ssl' => ['verify_peer' => false]]);\nfile_get_contents($url, false, $ctx);\n";
        assert!(rules(http).is_empty());
    }
}
