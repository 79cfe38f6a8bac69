//! JavaScript and TypeScript: the Node.js driver and Mongoose.
//!
//! Adds the Node driver's TLS options that it passes through to `tls.connect`
//! (`rejectUnauthorized`, `checkServerIdentity`), which count only when handed to a MongoDB
//! client, and the legacy `sslValidate`.

use std::sync::LazyLock;

use regex::Regex;

use super::family::{Family, FileCtx, Hit, Insecure, Reach, Spec};
use super::lang::Lang;
use super::reach::handed_to_mongo;
use super::strip::{C_LIKE, Syntax};
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax { quotes: b"\"'`", multiline_quotes: b"`", ..C_LIKE };

pub static SPECS: &[Spec] = &[
    Spec {
        words: &["ssl", "validate"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[Lang::JavaScript, Lang::Json, Lang::Yaml],
    },
    Spec {
        words: &["reject", "unauthorized"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenFalse,
        reach: Reach::HandedToMongo,
        separated_reach: Reach::HandedToMongo,
        langs: &[Lang::JavaScript],
    },
    Spec {
        words: &["check", "server", "identity"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenFalse,
        reach: Reach::HandedToMongo,
        separated_reach: Reach::HandedToMongo,
        langs: &[Lang::JavaScript],
    },
];

/// `checkServerIdentity: () => undefined` and friends: a hostname check that accepts anything.
pub fn scan(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    static ACCEPT_ALL: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(
            r"checkServerIdentity\s*:\s*(?:(?:async\s*)?(?:\([^)]*\)|\w+)\s*=>\s*(?:undefined|null|\{\s*(?:return\s*(?:undefined|null)?\s*;?\s*)?\})|function\s*\w*\s*\([^)]*\)\s*\{\s*(?:return\s*(?:undefined|null)?\s*;?\s*)?\})",
        )
        .unwrap()
    });
    if !ctx.mongo {
        return;
    }
    for m in ACCEPT_ALL.find_iter(ctx.text) {
        if m.start() > 0 && super::bytes::is_ident_byte(ctx.bytes()[m.start() - 1]) {
            continue;
        }
        if handed_to_mongo(ctx, m.start()) {
            out.push(Hit {
                rule: Rule::CustomVerifierAcceptsAll,
                offset: m.start(),
                message: "`checkServerIdentity` accepts every host name".to_string(),
            });
        }
    }
}

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure => {
            "new MongoClient(uri, { tlsCAFile: '/path/to/ca.pem' }) — the CA that issued the server certificate"
        }
        Rule::AllowInvalidHostnames | Rule::CustomVerifierAcceptsAll => {
            "remove the hook; connect with a host name the certificate lists"
        }
        Rule::TlsDisabledForRemoteHost => "drop `tls: false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// JavaScript/TypeScript: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("JavaScript/TypeScript"),
    lang: Lang::JavaScript,
    extensions: &["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "vue", "svelte"],
    syntax: &SYNTAX,
    specs: SPECS,
    scan: Some(scan),
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;

    use crate::scan::file::rule_lines as rules;

    #[test]
    fn node_driver_cases() {
        let pos = "const { MongoClient } = require('mongodb');\nconst client = new MongoClient(uri, {\n  tls: true,\n  tlsAllowInvalidHostnames: true,\n  checkServerIdentity: () => undefined,\n});\n";
        assert_eq!(rules("db.js", pos), vec![(Rule::AllowInvalidHostnames, 4), (Rule::CustomVerifierAcceptsAll, 5)]);
        let https = "// uses mongodb too\nconst agent = new https.Agent({ rejectUnauthorized: false, checkServerIdentity: () => undefined });\n";
        assert!(rules("http.ts", https).is_empty());
        let mongoose = "mongoose.connect(uri, { ssl: true, sslValidate: false });\n";
        assert_eq!(rules("app.ts", mongoose), vec![(Rule::AllowInvalidCertificates, 1)]);
    }
}
