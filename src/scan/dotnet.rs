//! C# and the other .NET languages: `MongoClientSettings` and `SslSettings`.
//!
//! Adds `AllowInsecureTls = true` (and the 2.x driver's `VerifySslCertificate = false`),
//! `CheckCertificateRevocation = false`, and a
//! `ServerCertificateValidationCallback` that returns true, set in MongoDB's `SslSettings`
//! (never `ServicePointManager`'s global callback, nor `HttpClientHandler`'s).

use std::sync::LazyLock;

use regex::Regex;

use super::family::{Family, FileCtx, Hit, Insecure, Reach, Spec};
use super::lang::Lang;
use super::strip::{C_LIKE, Syntax};
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax { ..C_LIKE };

/// Where the .NET driver's setting names appear: C#, and the configuration that binds to
/// `MongoClientSettings` (appsettings.json, Web.config), including environment variables with
/// .NET's `__` section separator (`MongoDB__AllowInsecureTls`) in Helm values, Kubernetes
/// manifests, dotenv files and scripts.
const SETTINGS_LANGS: &[Lang] = &[
    Lang::DotNet,
    Lang::Json,
    Lang::Xml,
    Lang::Yaml,
    Lang::Dotenv,
    Lang::Conf,
    Lang::Shell,
    Lang::Hcl,
    Lang::Properties,
];

pub static SPECS: &[Spec] = &[
    Spec {
        words: &["allow", "insecure", "tls"],
        rule: Rule::TlsInsecure,
        insecure: Insecure::WhenTrue,
        reach: Reach::MongoSection,
        separated_reach: Reach::MongoSection,
        langs: SETTINGS_LANGS,
    },
    // The 2.x driver's `MongoClientSettings.VerifySslCertificate = false`, which the driver
    // replaced by its inverse `AllowInsecureTls`: it relaxes every check, not only the chain.
    Spec {
        words: &["verify", "ssl", "certificate"],
        rule: Rule::TlsInsecure,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoSection,
        separated_reach: Reach::MongoSection,
        langs: SETTINGS_LANGS,
    },
    // Its connection-string form, `sslVerifyCertificate=false`, means the same in any file;
    // the snake_case spelling is Ruby's narrower option (see `ruby::SPECS`).
    Spec {
        words: &["ssl", "verify", "certificate"],
        rule: Rule::TlsInsecure,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoFile,
        separated_reach: Reach::Never,
        langs: &[],
    },
    Spec {
        words: &["check", "certificate", "revocation"],
        rule: Rule::RevocationCheckDisabled,
        insecure: Insecure::WhenFalse,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[Lang::DotNet],
    },
];

pub fn scan(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    static CALLBACK: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(
            r"(\.\s*)?\bServerCertificateValidationCallback\s*=\s*(?:new\s+RemoteCertificateValidationCallback\s*\(\s*)?(?:(?:\([^)]*\)|\w+)\s*=>\s*(?:true\b|\{\s*return\s+true\s*;\s*\})|delegate\s*(?:\([^)]*\))?\s*\{\s*return\s+true\s*;\s*\}|(\w+)\s*[;,)}])",
        )
        .unwrap()
    });
    if !ctx.mongo || !(ctx.text.contains("SslSettings") || ctx.text.contains("MongoClientSettings")) {
        return;
    }
    let b = ctx.bytes();
    for caps in CALLBACK.captures_iter(ctx.text) {
        let Some(whole) = caps.get(0) else { continue };
        let name_at = whole.start() + caps.get(1).map(|m| m.len()).unwrap_or(0);
        let owner_start =
            b[..whole.start()].iter().rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.'));
        let owner = &ctx.text[owner_start.map(|p| p + 1).unwrap_or(0)..whole.start()];
        if owner.ends_with("ServicePointManager") {
            continue;
        }
        if let Some(method) = caps.get(2)
            && !method_returns_true(ctx.text, method.as_str())
        {
            continue;
        }
        out.push(Hit {
            rule: Rule::CustomVerifierAcceptsAll,
            offset: name_at,
            message: "`ServerCertificateValidationCallback` returns true for every certificate".to_string(),
        });
    }
}

/// `bool AcceptAll(...) => true;` or `{ return true; }`.
fn method_returns_true(text: &str, name: &str) -> bool {
    let pattern =
        format!(r"\bbool\s+{}\s*\([^)]*\)\s*(?:=>\s*true\s*;|\{{\s*return\s+true\s*;\s*\}})", regex::escape(name));
    Regex::new(&pattern).map(|re| re.is_match(text)).unwrap_or(false)
}

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure | Rule::CustomVerifierAcceptsAll => {
            "install your CA in the OS trust store, or validate against it in the callback (chain.ChainPolicy.CustomTrustStore)"
        }
        Rule::AllowInvalidHostnames => "connect with a host name the certificate lists",
        Rule::RevocationCheckDisabled => "drop CheckCertificateRevocation = false",
        Rule::TlsDisabledForRemoteHost => "drop `UseTls = false` / `tls=false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// C#: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("C#"),
    lang: Lang::DotNet,
    extensions: &["cs", "csx", "fs", "vb"],
    syntax: &SYNTAX,
    specs: SPECS,
    scan: Some(scan),
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;

    fn rules(text: &str) -> Vec<(Rule, u32)> {
        crate::scan::file::rule_lines("Db.cs", text)
    }

    #[test]
    fn settings_and_callbacks() {
        let cs = "var settings = MongoClientSettings.FromConnectionString(uri);\nsettings.AllowInsecureTls = true;\nsettings.SslSettings = new SslSettings {\n    CheckCertificateRevocation = false,\n    ServerCertificateValidationCallback = (s, c, ch, e) => true,\n};\n";
        assert_eq!(
            rules(cs),
            vec![(Rule::TlsInsecure, 2), (Rule::RevocationCheckDisabled, 4), (Rule::CustomVerifierAcceptsAll, 5)]
        );
        let legacy = "var s = new MongoClientSettings { VerifySslCertificate = false };\nvar u = \"mongodb://db.example.com/?ssl=true;sslVerifyCertificate=false\";\n";
        assert_eq!(rules(legacy), vec![(Rule::TlsInsecure, 1), (Rule::TlsInsecure, 2)]);
        let global = "var s = new MongoClientSettings();\nServicePointManager.ServerCertificateValidationCallback = (s, c, ch, e) => true;\nvar h = new HttpClientHandler { ServerCertificateCustomValidationCallback = (a, b, c, d) => true };\n";
        assert!(rules(global).is_empty());
        let group = "var s = new MongoClientSettings();\nssl.ServerCertificateValidationCallback = AcceptAll;\nstatic bool AcceptAll(object s, X509Certificate c, X509Chain ch, SslPolicyErrors e) => true;\n";
        assert_eq!(rules(group), vec![(Rule::CustomVerifierAcceptsAll, 2)]);
    }
}
