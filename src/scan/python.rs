//! Python: PyMongo, Motor, MongoEngine.
//!
//! The URI option names work as keyword arguments (`MongoClient(uri, tlsInsecure=True)`);
//! this family adds PyMongo 3's `ssl_cert_reqs` and `ssl_match_hostname`.

use super::family::{Family, Insecure, Reach, Spec};
use super::lang::Lang;
use super::strip::Syntax;
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax {
    line_comments: &["#"],
    quotes: b"\"'",
    triple_quotes: true,
    docstrings: true,
    // Ansible modules document themselves in these, with examples that set every option.
    doc_variables: &["DOCUMENTATION", "EXAMPLES", "RETURN", "__doc__"],
    ..Syntax::new()
};

pub static SPECS: &[Spec] = &[
    // Redis and Celery take `ssl_cert_reqs` too: it counts only when handed to MongoDB.
    Spec {
        words: &["ssl", "cert", "reqs"],
        rule: Rule::CertReqsNone,
        insecure: Insecure::WhenCertNone,
        reach: Reach::HandedToMongo,
        separated_reach: Reach::HandedToMongo,
        langs: &[],
    },
    Spec {
        words: &["ssl", "match", "hostname"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[Lang::Python],
    },
];

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure | Rule::CertReqsNone => {
            "MongoClient(uri, tlsCAFile=certifi.where()) — or the PEM of your private CA"
        }
        Rule::AllowInvalidHostnames => "connect with a host name the server certificate lists",
        Rule::TlsDisabledForRemoteHost => "drop `tls=False`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// Python: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("Python"),
    lang: Lang::Python,
    extensions: &["py", "pyi", "pyw"],
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
    fn pymongo_cases() {
        let pos = "from pymongo import MongoClient\nimport ssl\nc = MongoClient(uri,\n    ssl_cert_reqs=ssl.CERT_NONE)\nd = MongoClient(uri, tlsAllowInvalidCertificates=True)\n";
        assert_eq!(rules("a.py", pos), vec![(Rule::CertReqsNone, 4), (Rule::AllowInvalidCertificates, 5)]);
        let redis = "import redis, ssl\nr = redis.Redis(host='h', ssl=True, ssl_cert_reqs=ssl.CERT_NONE)\n# mongo lives elsewhere\n";
        assert!(rules("b.py", redis).is_empty());
        let celery = "broker_use_ssl = {'ssl_cert_reqs': ssl.CERT_NONE}\nMONGO = 'mongodb://localhost'\n";
        assert!(rules("celeryconfig.py", celery).is_empty());
        let settings =
            "MONGODB_SETTINGS = {\n    'host': 'mongodb+srv://c.example.net',\n    'ssl_cert_reqs': 'CERT_NONE',\n}\n";
        assert_eq!(rules("settings.py", settings), vec![(Rule::CertReqsNone, 3)]);
        let doc = "def f():\n    \"\"\"Never pass tlsInsecure=True to MongoClient.\"\"\"\n    return MongoClient(uri, tlsInsecure=False)\n";
        assert!(rules("c.py", doc).is_empty());
    }
}
