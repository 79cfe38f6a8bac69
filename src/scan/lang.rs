//! The languages and file formats the scanner tells apart. A leaf: which files are which, and
//! everything else about a family, is in that family's [`super::family::Family`].

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
