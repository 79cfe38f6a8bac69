//! The one list of language families. Everything that differs by language (extensions, comment
//! syntax, option names, own rules, safe alternatives) comes from these values; adding a
//! language is one file exporting a [`Family`] and one line here.

use std::sync::LazyLock;

use crate::catalog::rules::Rule;

use super::family::Family;
use super::lang::Lang;
use super::matcher::OptionTable;
use super::{
    c_cpp, config, dotnet, go, infrastructure, javascript, jvm, php, python, ruby, rust_lang, server_tls, shell, uri,
};

/// In the order file extensions are tried, and the order `explain` lists safe alternatives.
pub static FAMILIES: &[&Family] = &[
    &python::FAMILY,
    &javascript::FAMILY,
    &go::FAMILY,
    &jvm::FAMILY,
    &dotnet::FAMILY,
    &rust_lang::FAMILY,
    &ruby::FAMILY,
    &php::FAMILY,
    &c_cpp::FAMILY,
    &shell::FAMILY,
    &config::YAML,
    &config::JSON,
    &config::PROPERTIES,
    &config::XML,
    &config::HCL,
    &config::CONF,
    &config::DOTENV,
    &config::DOCS,
    &config::PLAIN,
    &server_tls::FAMILY,
];

/// Every family's option names, and the connection-string options every file shares.
pub static OPTIONS: LazyLock<OptionTable> =
    LazyLock::new(|| OptionTable::new(uri::SPECS.iter().chain(FAMILIES.iter().flat_map(|f| f.specs.iter()))));

/// Literals that let a file through the prefilter on their own, for the rules outside the
/// option tables that fire in a file that neither names a `Reach::Anywhere` option nor mentions
/// MongoDB (the prefilter rejects any other file before parsing it). A family whose own `scan`
/// does not require `ctx.mongo` lists here what its findings cannot do without; a spec needs
/// nothing here, its names are keywords when its reach is `Anywhere`.
// The server-TLS rules add no trigger: with their literals in the prefilter (even only
// `TLS1_`), the scan took 1.5-2.5x ripgrep's time (BENCHMARKS, "Scan"). They run on files
// that name MongoDB or hold another keyword.
pub static TRIGGERS: &[&[&str]] = &[infrastructure::OPEN];

/// The family of a language.
pub fn of(lang: Lang) -> &'static Family {
    FAMILIES.iter().copied().find(|f| f.lang == lang).unwrap_or(&config::PLAIN)
}

/// Decides from the file name alone, so that the scan at `--base` sees the same language.
pub fn detect(path: &str) -> Lang {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env") {
        return Lang::Dotenv;
    }
    match lower.as_str() {
        "dockerfile" | "containerfile" | "makefile" | "gnumakefile" | "procfile" | "justfile" => {
            return Lang::Conf;
        }
        "jenkinsfile" => return Lang::Jvm,
        "gemfile" | "rakefile" | "podfile" => return Lang::Ruby,
        _ => {}
    }
    if lower.starts_with("dockerfile.") || lower.ends_with(".dockerfile") {
        return Lang::Conf;
    }
    // Rotated logs keep `.log` inside the name: `mongod.log.1`, `mongod.log.2024-05-01T00-00-00`.
    if let Some((_, rotation)) = lower.rsplit_once(".log.")
        && (rotation.starts_with(|c: char| c.is_ascii_digit()) || matches!(rotation, "old" | "bak"))
    {
        return Lang::Docs;
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    for family in FAMILIES {
        if family.extensions.contains(&ext) {
            return family.lang;
        }
    }
    Lang::Plain
}

/// The safe alternative for a rule in a language.
pub fn safe_alternative(lang: Lang, rule: Rule) -> Option<&'static str> {
    (of(lang).safe_alternative)(rule)
}

/// A rule's safe alternative in each language family, for `explain` and the docs.
pub fn safe_alternatives(rule: Rule) -> Vec<(&'static str, &'static str)> {
    // Infrastructure tools rather than languages: each finding's message names its tool's.
    if rule == Rule::AccessListOpenToWorld {
        return infrastructure::ALTERNATIVES.to_vec();
    }
    if matches!(rule, Rule::ServerTlsOptional | Rule::ServerOldTlsEnabled) {
        return server_tls::alternatives(rule);
    }
    FAMILIES.iter().filter_map(|f| Some((f.title?, (f.safe_alternative)(rule)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_name_and_extension() {
        let cases = [
            ("a/b/.env", Lang::Dotenv),
            (".env.production", Lang::Dotenv),
            ("deploy/prod.env", Lang::Dotenv),
            ("app.py", Lang::Python),
            ("src/App.TSX", Lang::JavaScript),
            ("Dockerfile", Lang::Conf),
            ("k8s/deploy.yaml", Lang::Yaml),
            ("README.md", Lang::Docs),
            ("main.tf", Lang::Hcl),
            ("Web.config", Lang::Xml),
            ("LICENSE", Lang::Plain),
            ("config/mongoid.yml", Lang::Yaml),
            ("var/log/mongodb/mongod.log", Lang::Docs),
            ("logs/mongod.log.2024-05-01T00-00-00", Lang::Docs),
            ("src/log.rs", Lang::Rust),
        ];
        for (path, want) in cases {
            assert_eq!(detect(path), want, "{path}");
        }
    }

    #[test]
    fn every_rule_has_safe_alternatives() {
        for rule in Rule::ALL {
            assert!(!safe_alternatives(*rule).is_empty(), "{rule}");
        }
        assert!(
            safe_alternatives(Rule::CertReqsNone)
                .iter()
                .any(|(lang, alt)| *lang == "Python" && alt.contains("tlsCAFile"))
        );
    }
}
