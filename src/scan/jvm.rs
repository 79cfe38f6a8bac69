//! Java, Kotlin, Scala, Groovy: the Java driver's `MongoClientSettings` builders.
//!
//! Adds `SslSettings.Builder.invalidHostNameAllowed(true)` and trust-all trust managers
//! (an empty `checkServerTrusted`, Netty's `InsecureTrustManagerFactory`) in a file that hands
//! an `SSLContext` to the MongoDB client's SSL settings.

use std::sync::LazyLock;

use regex::Regex;

use super::family::{Family, FileCtx, Hit, Insecure, Reach, Spec};
use super::lang::Lang;
use super::strip::{C_LIKE, Syntax};
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax { triple_quotes: true, ..C_LIKE };

pub static SPECS: &[Spec] = &[
    Spec {
        words: &["invalid", "host", "name", "allowed"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenTrue,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[Lang::Jvm, Lang::Xml, Lang::Properties, Lang::Yaml],
    },
    // The 3.x driver's `MongoClientOptions.Builder.sslInvalidHostNameAllowed(true)`.
    Spec {
        words: &["ssl", "invalid", "host", "name", "allowed"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenTrue,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[Lang::Jvm, Lang::Xml, Lang::Properties, Lang::Yaml],
    },
];

pub fn scan(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    static TRUST_ALL: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(
            r"\bcheckServerTrusted\s*\([^)]*\)\s*(?::\s*Unit\s*)?(?:throws\s+[\w.,\s]+)?(?:\{\s*(?:return\s*;?\s*)?\}|=\s*Unit\b|=\s*\{\s*\})|\bInsecureTrustManagerFactory\.INSTANCE\b",
        )
        .unwrap()
    });
    static MONGO_TLS_SINK: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r"applyToSslSettings|SslSettings|MongoClientOptions|NettyStreamFactoryFactory|TransportSettings|MongoClientSettings").unwrap()
    });
    if !ctx.mongo || !MONGO_TLS_SINK.is_match(ctx.text) {
        return;
    }
    for m in TRUST_ALL.find_iter(ctx.text) {
        let message = if m.as_str().starts_with("Insecure") {
            "Netty's `InsecureTrustManagerFactory` trusts every certificate"
        } else {
            "a trust manager whose `checkServerTrusted` accepts every certificate"
        };
        out.push(Hit { rule: Rule::CustomVerifierAcceptsAll, offset: m.start(), message: message.to_string() });
    }
}

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure | Rule::CustomVerifierAcceptsAll => {
            "applyToSslSettings(b -> b.enabled(true).context(sslContext)) with an SSLContext built from a trust store holding your CA"
        }
        Rule::AllowInvalidHostnames => {
            "drop invalidHostNameAllowed(true); connect with a host name the certificate lists"
        }
        Rule::TlsDisabledForRemoteHost => "drop `tls=false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// Java/Kotlin: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("Java/Kotlin"),
    lang: Lang::Jvm,
    extensions: &["java", "kt", "kts", "scala", "groovy", "gradle"],
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
    fn builders_and_trust_managers() {
        let java = "MongoClientSettings s = MongoClientSettings.builder()\n    .applyToSslSettings(b -> b.enabled(true)\n        .invalidHostNameAllowed(true)\n        .context(ctx))\n    .build();\nTrustManager tm = new X509TrustManager() {\n  public void checkServerTrusted(X509Certificate[] c, String a) {}\n};\n";
        assert_eq!(rules("Db.java", java), vec![(Rule::AllowInvalidHostnames, 3), (Rule::CustomVerifierAcceptsAll, 7)]);
        let http_only = "class H { public void checkServerTrusted(X509Certificate[] c, String a) {} }\n";
        assert!(rules("Http.java", http_only).is_empty());
        let legacy = "MongoClientOptions o = MongoClientOptions.builder().sslEnabled(true).sslInvalidHostNameAllowed(true).build();\n";
        assert_eq!(rules("Legacy.java", legacy), vec![(Rule::AllowInvalidHostnames, 1)]);
        let kotlin = "val s = MongoClientSettings.builder()\noverride fun checkServerTrusted(chain: Array<X509Certificate>, authType: String) {}\n";
        assert_eq!(rules("Db.kt", kotlin), vec![(Rule::CustomVerifierAcceptsAll, 2)]);
    }
}
