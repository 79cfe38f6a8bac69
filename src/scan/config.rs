//! Configuration formats: dotenv, YAML (docker-compose, Kubernetes, GitHub workflows, Helm
//! values, Spring `application.yml`, `mongoid.yml`), JSON, `.properties`, XML, Terraform/HCL,
//! and `#`-commented formats (TOML, INI, Dockerfiles).
//!
//! Their comment syntaxes live here, and the decoders that undo XML entities and
//! `.properties` escapes while remembering where each decoded byte came from.

use super::rules::Rule;
use super::strip::{C_LIKE, Syntax};

/// dotenv, TOML, INI, Dockerfiles, Makefiles.
pub static HASH_SYNTAX: Syntax = Syntax {
    line_comments: &["#"],
    comment_needs_space: true,
    quotes: b"\"'",
    quote_needs_boundary: true,
    ..Syntax::new()
};

pub static YAML_SYNTAX: Syntax = Syntax {
    line_comments: &["#"],
    comment_needs_space: true,
    quotes: b"\"'",
    quote_needs_boundary: true,
    ..Syntax::new()
};

/// JSON, with the `//` and `/* */` comments of JSONC (tsconfig, VS Code settings).
pub static JSON_SYNTAX: Syntax = Syntax { quotes: b"\"", ..C_LIKE };

pub static PROPERTIES_SYNTAX: Syntax =
    Syntax { line_comments: &["#", "!"], comment_at_line_start_only: true, backslash_escapes: false, ..Syntax::new() };

pub static XML_SYNTAX: Syntax = Syntax { block_comments: &[("<!--", "-->")], ..Syntax::new() };

pub static HCL_SYNTAX: Syntax =
    Syntax { line_comments: &["#", "//"], block_comments: &[("/*", "*/")], quotes: b"\"", ..Syntax::new() };

/// Text after decoding, with the source offset of every decoded byte (and one past the end).
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub origin: Vec<usize>,
}

impl Decoded {
    fn new(capacity: usize) -> Decoded {
        Decoded { text: String::with_capacity(capacity), origin: Vec::with_capacity(capacity + 1) }
    }

    /// Copies source text that needs no decoding.
    fn copy(&mut self, s: &str, from: usize) {
        self.text.push_str(s);
        self.origin.extend(from..from + s.len());
    }

    /// Adds decoded text that came from the escape at `at`.
    fn decoded(&mut self, c: char, at: usize) {
        let before = self.text.len();
        self.text.push(c);
        self.origin.extend(std::iter::repeat_n(at, self.text.len() - before));
    }

    fn finish(mut self, source_len: usize) -> Decoded {
        self.origin.push(source_len);
        self
    }
}

/// Undoes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric character references.
pub fn decode_xml(text: &str) -> Decoded {
    let mut out = Decoded::new(text.len());
    let (mut i, mut copied) = (0, 0);
    while let Some(p) = text[i..].find('&') {
        let amp = i + p;
        let tail = &text[amp..];
        let entity = tail.as_bytes().iter().take(12).position(|&c| c == b';').map(|e| (&tail[1..e], e + 1));
        let decoded = entity.and_then(|(name, len)| {
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, len))
        });
        match decoded {
            Some((c, len)) => {
                out.copy(&text[copied..amp], copied);
                out.decoded(c, amp);
                i = amp + len;
                copied = i;
            }
            None => i = amp + 1,
        }
    }
    out.copy(&text[copied..], copied);
    out.finish(text.len())
}

/// Undoes `.properties` escapes: `\=`, `\:`, `\uXXXX`, and line continuations.
pub fn decode_properties(text: &str) -> Decoded {
    let b = text.as_bytes();
    let mut out = Decoded::new(text.len());
    let (mut i, mut copied) = (0, 0);
    while let Some(p) = text[i..].find('\\') {
        let at = i + p;
        let Some(&next) = b.get(at + 1) else { break };
        out.copy(&text[copied..at], copied);
        i = match next {
            b'u' => {
                let c = text.get(at + 2..at + 6).and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
                match c {
                    Some(c) => {
                        out.decoded(c, at);
                        at + 6
                    }
                    None => {
                        out.decoded('u', at + 1);
                        at + 2
                    }
                }
            }
            b'\r' | b'\n' => {
                // A continuation: the logical line goes on after the next line's indentation.
                let mut j = at + 1;
                if b[j] == b'\r' && b.get(j + 1) == Some(&b'\n') {
                    j += 1;
                }
                j += 1;
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
                j
            }
            b't' | b'n' | b'r' | b'f' => {
                out.decoded(' ', at + 1);
                at + 2
            }
            c if c.is_ascii() => {
                out.decoded(c as char, at + 1);
                at + 2
            }
            _ => {
                out.decoded('\\', at);
                at + 1
            }
        };
        copied = i;
    }
    out.copy(&text[copied..], copied);
    out.finish(text.len())
}

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure | Rule::CertReqsNone => {
            "remove the toggle; give the client the right CA (`tlsCAFile=/path/to/ca.pem` in the connection string)"
        }
        Rule::AllowInvalidHostnames => "remove the toggle; connect with a host name the certificate lists",
        Rule::OcspCheckDisabled | Rule::RevocationCheckDisabled => {
            "remove the toggle; allow egress to the CA's OCSP/CRL endpoints"
        }
        Rule::TlsDisabledForRemoteHost => "remove `tls=false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::rules::Rule;
    use crate::scan::scan_text;

    fn rules(path: &str, text: &str) -> Vec<(Rule, u32, u32)> {
        scan_text(path, text).into_iter().map(|h| (h.rule, h.line, h.column)).collect()
    }

    #[test]
    fn xml_entities_are_undone_with_offsets_kept() {
        let d = decode_xml("a&amp;b&#61;c");
        assert_eq!(d.text, "a&b=c");
        assert_eq!(d.origin, vec![0, 1, 6, 7, 12, 13]);
    }

    #[test]
    fn properties_escapes_are_undone() {
        let d = decode_properties("k=a\\=b\\u0074rue\\\n    x");
        assert_eq!(d.text, "k=a=btruex");
        assert_eq!(d.origin[3], 4);
        assert_eq!(d.origin[9], 21);
    }

    #[test]
    fn formats() {
        let env = "# MONGODB_TLS_INSECURE=true\nMONGODB_URI=mongodb+srv://u:p@c.example.net/\nMONGODB_TLS_ALLOW_INVALID_CERTIFICATES=true\n";
        assert_eq!(rules(".env", env), vec![(Rule::AllowInvalidCertificates, 3, 1)]);
        let xml = "<uri>mongodb://h.example.net/?tls=true&amp;tlsAllowInvalidHostnames&#61;true</uri>\n<!-- <tlsInsecure>true</tlsInsecure> -->\n";
        assert_eq!(rules("app.config", xml), vec![(Rule::AllowInvalidHostnames, 1, 44)]);
        let props = "# tlsInsecure=true\nspring.data.mongodb.uri=mongodb://h.example.net/?tlsInsecure\\=\\u0074rue\n";
        assert_eq!(rules("application.properties", props), vec![(Rule::TlsInsecure, 2, 50)]);
        let hcl =
            "resource \"x\" \"y\" {\n  environment = [{ name = \"MONGODB_TLS_INSECURE\", value = \"true\" }]\n}\n";
        assert_eq!(rules("main.tf", hcl), vec![(Rule::TlsInsecure, 2, 28)]);
        let md = "Set `tlsAllowInvalidCertificates=true` to debug.\n";
        assert!(rules("README.md", md).is_empty());
    }
}
