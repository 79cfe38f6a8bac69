//! Which language or format a file is, decided from its name, and the comment syntax that goes
//! with it. Each language family's own rules live in its own module; this only dispatches.

use super::strip::Syntax;

/// A language or file format, as far as the scanner distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Python,
    JavaScript,
    Go,
    Jvm,
    DotNet,
    Rust,
    Ruby,
    Php,
    CCpp,
    Shell,
    Dotenv,
    Yaml,
    Json,
    Properties,
    Xml,
    Hcl,
    /// TOML, INI, `.conf`, Dockerfiles, Makefiles: `#`-commented line formats.
    Conf,
    /// Anything else that is text: scanned without comment stripping.
    Plain,
    /// Markdown, reStructuredText and other documentation, and logs: text that configures
    /// nothing, never scanned.
    Docs,
}

impl Lang {
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
            if family.1.contains(&ext) {
                return family.0;
            }
        }
        Lang::Plain
    }

    pub fn syntax(self) -> &'static Syntax {
        match self {
            Lang::Python => &super::python::SYNTAX,
            Lang::JavaScript => &super::javascript::SYNTAX,
            Lang::Go => &super::go::SYNTAX,
            Lang::Jvm => &super::jvm::SYNTAX,
            Lang::DotNet => &super::dotnet::SYNTAX,
            Lang::Rust => &super::rust_lang::SYNTAX,
            Lang::Ruby => &super::ruby::SYNTAX,
            Lang::Php => &super::php::SYNTAX,
            Lang::CCpp => &super::c_cpp::SYNTAX,
            Lang::Shell => &super::shell::SYNTAX,
            Lang::Dotenv | Lang::Conf => &super::config::HASH_SYNTAX,
            Lang::Yaml => &super::config::YAML_SYNTAX,
            Lang::Json => &super::config::JSON_SYNTAX,
            Lang::Properties => &super::config::PROPERTIES_SYNTAX,
            Lang::Xml => &super::config::XML_SYNTAX,
            Lang::Hcl => &super::config::HCL_SYNTAX,
            Lang::Plain | Lang::Docs => &super::strip::NO_COMMENTS,
        }
    }

    /// Programming languages, where an option is usually a keyword argument, a field or a call.
    pub fn is_code(self) -> bool {
        matches!(
            self,
            Lang::Python
                | Lang::JavaScript
                | Lang::Go
                | Lang::Jvm
                | Lang::DotNet
                | Lang::Rust
                | Lang::Ruby
                | Lang::Php
                | Lang::CCpp
        )
    }
}

const FAMILIES: &[(Lang, &[&str])] = &[
    (Lang::Python, &["py", "pyi", "pyw"]),
    (Lang::JavaScript, &["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "vue", "svelte"]),
    (Lang::Go, &["go"]),
    (Lang::Jvm, &["java", "kt", "kts", "scala", "groovy", "gradle"]),
    (Lang::DotNet, &["cs", "csx", "fs", "vb"]),
    (Lang::Rust, &["rs"]),
    (Lang::Ruby, &["rb", "rake", "gemspec", "erb"]),
    (Lang::Php, &["php", "phtml", "inc"]),
    (Lang::CCpp, &["c", "h", "cc", "cpp", "cxx", "hpp", "hh", "hxx", "ipp"]),
    (Lang::Shell, &["sh", "bash", "zsh", "ksh", "fish", "ps1", "psm1", "bat", "cmd"]),
    (Lang::Yaml, &["yml", "yaml"]),
    (Lang::Json, &["json", "jsonc", "json5", "tfvars.json"]),
    (Lang::Properties, &["properties"]),
    (Lang::Xml, &["xml", "config", "csproj", "props", "targets", "plist", "xsd", "wsdl", "pom"]),
    (Lang::Hcl, &["tf", "tfvars", "hcl", "nomad"]),
    (Lang::Conf, &["toml", "ini", "cfg", "conf", "cnf", "env", "service", "mk"]),
    (
        Lang::Docs,
        &["md", "markdown", "mdx", "rst", "adoc", "asciidoc", "txt", "html", "htm", "rtf", "tex", "pod", "man", "log"],
    ),
];

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
            assert_eq!(Lang::detect(path), want, "{path}");
        }
    }
}
