//! Shell scripts and CI steps: `mongosh`, `mongo`, `mongodump`, `mongorestore` … with
//! `--tlsAllowInvalidCertificates`, `--tlsAllowInvalidHostnames`, `--tlsInsecure`,
//! `--sslAllowInvalidCertificates`. The engine recognises a `--flag` in any file; this family
//! supplies the shell's comment syntax (a `#` that starts a word) and the safe alternatives.

use crate::catalog::rules::Rule;

use super::family::Family;
use super::lang::Lang;
use super::strip::Syntax;

pub static SYNTAX: Syntax = Syntax {
    line_comments: &["#"],
    comment_needs_space: true,
    quotes: b"\"'",
    multiline_quotes: b"\"'",
    ..Syntax::new()
};

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure => "mongosh \"$URI\" --tls --tlsCAFile /path/to/ca.pem",
        Rule::AllowInvalidHostnames => "connect with a host name the certificate lists",
        Rule::TlsDisabledForRemoteHost => "drop `tls=false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// shell: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("shell"),
    lang: Lang::Shell,
    extensions: &["sh", "bash", "zsh", "ksh", "fish", "ps1", "psm1", "bat", "cmd"],
    syntax: &SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;

    use crate::scan::file::rule_lines as rules;

    #[test]
    fn cli_flags() {
        let sh = "#!/bin/sh\n# mongosh --tlsInsecure\nmongosh \"$MONGODB_URI\" \\\n  --tlsAllowInvalidCertificates \\\n  --eval 'db.ping()'\nexport MONGODB_TLS_INSECURE=${MONGODB_TLS_INSECURE:-false}\n";
        assert_eq!(rules("ci.sh", sh), vec![(Rule::AllowInvalidCertificates, 4)]);
        let wf = "jobs:\n  t:\n    steps:\n      - run: mongosh \"$URI\" --tlsAllowInvalidHostnames --quiet\n";
        assert_eq!(rules(".github/workflows/ci.yml", wf), vec![(Rule::AllowInvalidHostnames, 4)]);
        let argparse = "parser.add_argument('--tlsInsecure', action='store_true')  # mongo\n";
        assert!(rules("cli.py", argparse).is_empty());
    }

    #[test]
    fn ci_steps_that_search_for_an_option_are_silent() {
        let wf = r#"jobs:
  guard:
    steps:
      - run: |
          if grep -rnE "tlsInsecure=true|tlsAllowInvalidCertificates=true" --include='*.py' .; then
            echo "::error::insecure MongoDB TLS option"; exit 1
          fi
      - run: test -z "$(grep -rl tlsInsecure=true src)"
      - run: grep -q 'tlsInsecure=true' settings.env || echo "tlsInsecure=true not found"
      - run: mongosh "$URI" --tlsInsecure --eval 'db.ping()' | grep -c ok
"#;
        assert_eq!(rules(".github/workflows/guard.yml", wf), vec![(Rule::TlsInsecure, 10)]);
    }
}
