//! Configuration formats: dotenv, YAML (docker-compose, Kubernetes, GitHub workflows, Helm
//! values, Spring `application.yml`, `mongoid.yml`), JSON, `.properties`, XML, Terraform/HCL,
//! and `#`-commented formats (TOML, INI, Dockerfiles).
//!
//! Their comment syntaxes live here, and the decoders that undo XML entities and
//! `.properties` escapes while remembering where each decoded byte came from.

use crate::catalog::rules::Rule;

use super::bytes::find_bytes;
use super::family::Family;
use super::lang::Lang;
use super::strip::{C_LIKE, NO_COMMENTS, Syntax};

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

/// Keys whose values are prose about a setting, never the setting: schema descriptions, help
/// texts, examples.
const PROSE_KEYS: &[&str] = &[
    "description",
    "desc",
    "doc",
    "docs",
    "documentation",
    "help",
    "help_text",
    "helptext",
    "summary",
    "title",
    "comment",
    "usage",
    "example",
    "examples",
    "note",
    "notes",
    "hint",
    "message",
];

/// Blanks the values of [`PROSE_KEYS`] in YAML, JSON, HCL and TOML/INI, keeping every offset.
pub fn blank_prose(text: &mut String, lang: Lang) {
    if !matches!(lang, Lang::Yaml | Lang::Json | Lang::Hcl | Lang::Conf) && !lang.is_code() {
        return;
    }
    let lower = text.to_ascii_lowercase();
    if !PROSE_KEYS.iter().any(|k| lower.contains(k)) {
        return;
    }
    let mut bytes = std::mem::take(text).into_bytes();
    match lang {
        Lang::Yaml => blank_yaml_prose(&mut bytes),
        Lang::Json => blank_json_prose(&mut bytes, lower.as_bytes()),
        _ if lang.is_code() => blank_code_prose(&mut bytes),
        _ => blank_assigned_prose(&mut bytes),
    }
    *text = into_text(bytes);
}

/// Code: a string literal handed to a prose key, as a configuration schema writes it (convict's
/// `doc: '…'`, `Field(description="…")`, `help="…"`): `KEY: "…"`, `KEY = "…"`, `KEY="…"`.
fn blank_code_prose(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        if !(bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') || (i > 0 && is_word(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        if !is_prose_key(&bytes[start..i]) {
            continue;
        }
        let mut p = i;
        while p < bytes.len() && (bytes[p] == b' ' || bytes[p] == b'\t') {
            p += 1;
        }
        if !matches!(bytes.get(p), Some(b':' | b'=')) || matches!(bytes.get(p + 1), Some(b'=' | b':')) {
            continue;
        }
        p += 1;
        while p < bytes.len() && (bytes[p] == b' ' || bytes[p] == b'\t') {
            p += 1;
        }
        let Some(&quote) = bytes.get(p) else { break };
        if !matches!(quote, b'"' | b'\'' | b'`') {
            continue;
        }
        let mut q = p + 1;
        while q < bytes.len() && bytes[q] != quote && (bytes[q] != b'\n' || quote == b'`') {
            q += if bytes[q] == b'\\' { 2 } else { 1 };
        }
        blank(bytes, p + 1, q.min(bytes.len()));
        i = q + 1;
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Blanks mongod's structured log lines (`{"t":{"$date":…},"s":"I",…}`): a server log quotes
/// client options and connection strings, and sets none of them.
pub fn blank_server_log(text: &mut String) {
    const START: &str = r#"{"t":{"$date""#;
    if !text.contains(START) {
        return;
    }
    let mut bytes = std::mem::take(text).into_bytes();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let end = line_end(&bytes, line_start);
        if bytes[line_start..end].trim_ascii_start().starts_with(START.as_bytes()) {
            blank(&mut bytes, line_start, end);
        }
        line_start = end + 1;
    }
    *text = into_text(bytes);
}

fn into_text(bytes: Vec<u8>) -> String {
    // Only ASCII delimiters bound the blanked ranges, so the text stays UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from.min(bytes.len())..].iter().position(|&c| c == b'\n').map(|p| p + from).unwrap_or(bytes.len())
}

fn blank(bytes: &mut [u8], from: usize, to: usize) {
    let to = to.min(bytes.len());
    for c in &mut bytes[from.min(to)..to] {
        if *c != b'\n' && *c != b'\r' {
            *c = b' ';
        }
    }
}

fn is_prose_key(key: &[u8]) -> bool {
    PROSE_KEYS.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(key))
}

/// `description: text`, and every following line indented deeper than the key (block scalars,
/// folded plain text).
fn blank_yaml_prose(bytes: &mut [u8]) {
    let mut deeper_than: Option<usize> = None;
    let mut line_start = 0;
    while line_start < bytes.len() {
        let end = line_end(bytes, line_start);
        let line = &bytes[line_start..end];
        let indent = line.iter().take_while(|&&c| c == b' ').count();
        let blank_line = line.iter().all(|c| c.is_ascii_whitespace());
        if let Some(col) = deeper_than {
            if blank_line || indent > col {
                blank(bytes, line_start, end);
                line_start = end + 1;
                continue;
            }
            deeper_than = None;
        }
        let mut key_col = indent;
        while line.get(key_col) == Some(&b'-') && line.get(key_col + 1) == Some(&b' ') {
            key_col += 2;
            while line.get(key_col) == Some(&b' ') {
                key_col += 1;
            }
        }
        let rest = &line[key_col.min(line.len())..];
        let quoted = rest.first().is_some_and(|c| *c == b'"' || *c == b'\'');
        let key_end = if quoted {
            rest[1..].iter().position(|&c| c == rest[0]).map(|p| p + 2)
        } else {
            rest.iter().position(|&c| c == b':')
        };
        if let Some(key_end) = key_end
            && rest.get(key_end) == Some(&b':')
            && rest.get(key_end + 1).is_none_or(|c| c.is_ascii_whitespace())
        {
            let key = if quoted { &rest[1..key_end - 1] } else { &rest[..key_end] };
            if is_prose_key(key) {
                blank(bytes, line_start + key_col + key_end + 1, end);
                deeper_than = Some(key_col);
            }
        }
        line_start = end + 1;
    }
}

/// `"description": "text"` and `"examples": [ … ]`.
fn blank_json_prose(bytes: &mut [u8], lower: &[u8]) {
    for key in PROSE_KEYS {
        let needle = format!("\"{key}\"");
        let mut from = 0;
        while let Some(at) = find_bytes(&lower[from..], needle.as_bytes()).map(|p| p + from) {
            from = at + needle.len();
            let mut p = from;
            while p < bytes.len() && bytes[p].is_ascii_whitespace() {
                p += 1;
            }
            if bytes.get(p) != Some(&b':') {
                continue;
            }
            p += 1;
            while p < bytes.len() && bytes[p].is_ascii_whitespace() {
                p += 1;
            }
            let end = match bytes.get(p) {
                Some(b'"') => json_string_end(bytes, p),
                Some(b'[') => json_array_end(bytes, p),
                _ => continue,
            };
            blank(bytes, p, end);
            from = end.max(from);
        }
    }
}

/// One past the closing quote of the JSON string that opens at `open`.
fn json_string_end(bytes: &[u8], open: usize) -> usize {
    let mut q = open + 1;
    while q < bytes.len() {
        match bytes[q] {
            b'\\' => q += 2,
            b'"' => return q + 1,
            _ => q += 1,
        }
    }
    bytes.len()
}

/// One past the `]` that closes the JSON array opening at `open`.
fn json_array_end(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut q = open;
    while q < bytes.len() {
        match bytes[q] {
            b'"' => {
                q = json_string_end(bytes, q);
                continue;
            }
            b'[' => depth += 1,
            b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return q + 1;
                }
            }
            _ => {}
        }
        q += 1;
    }
    bytes.len()
}

/// HCL and TOML: `description = "text"`, a heredoc (`<<-EOT … EOT`) or a TOML `"""` string.
fn blank_assigned_prose(bytes: &mut [u8]) {
    let mut line_start = 0;
    while line_start < bytes.len() {
        let end = line_end(bytes, line_start);
        let line = &bytes[line_start..end];
        let indent = line.iter().take_while(|c| c.is_ascii_whitespace()).count();
        let key_len = line[indent..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        let key = &line[indent..indent + key_len];
        let mut p = indent + key_len;
        while line.get(p).is_some_and(|c| *c == b' ' || *c == b'\t') {
            p += 1;
        }
        if key_len == 0 || !is_prose_key(key) || line.get(p) != Some(&b'=') || line.get(p + 1) == Some(&b'=') {
            line_start = end + 1;
            continue;
        }
        let value_at = line_start + p + 1;
        let value = bytes[value_at..end].trim_ascii_start();
        let value_start = end - value.len();
        let until = if let Some(tag) = value.strip_prefix(b"<<") {
            let tag = String::from_utf8_lossy(tag.strip_prefix(b"-").unwrap_or(tag)).trim().to_string();
            closing_line(bytes, end, tag.as_bytes()).unwrap_or(bytes.len())
        } else if value.starts_with(br#"""""#) || value.starts_with(b"'''") {
            let quote = [value[0]; 3];
            let open = value_start + 3;
            find_bytes(&bytes[open..], &quote).map(|q| open + q + 3).unwrap_or(bytes.len())
        } else {
            end
        };
        blank(bytes, value_at, until);
        line_start = line_end(bytes, until.max(end)) + 1;
    }
}

/// The end of the first line after `from` that is `tag` alone: a heredoc's end.
fn closing_line(bytes: &[u8], from: usize, tag: &[u8]) -> Option<usize> {
    let mut start = from + 1;
    while start < bytes.len() {
        let end = line_end(bytes, start);
        if bytes[start..end].trim_ascii() == tag {
            return Some(end);
        }
        start = end + 1;
    }
    None
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

/// `.env` files (recognised by name: `.env`, `.env.*`, `*.env`).
pub static DOTENV: Family = Family {
    title: None,
    lang: Lang::Dotenv,
    extensions: &[],
    syntax: &HASH_SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// YAML.
pub static YAML: Family = Family {
    title: Some("configuration"),
    lang: Lang::Yaml,
    extensions: &["yml", "yaml"],
    syntax: &YAML_SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// JSON.
pub static JSON: Family = Family {
    title: None,
    lang: Lang::Json,
    extensions: &["json", "jsonc", "json5"],
    syntax: &JSON_SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// Java `.properties`.
pub static PROPERTIES: Family = Family {
    title: None,
    lang: Lang::Properties,
    extensions: &["properties"],
    syntax: &PROPERTIES_SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// XML, including .NET `Web.config`.
pub static XML: Family = Family {
    title: None,
    lang: Lang::Xml,
    extensions: &["xml", "config", "csproj", "props", "targets", "plist", "xsd", "wsdl", "pom"],
    syntax: &XML_SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// Terraform and other HCL.
pub static HCL: Family = Family {
    title: None,
    lang: Lang::Hcl,
    extensions: &["tf", "tfvars", "hcl", "nomad"],
    syntax: &HCL_SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// `#`-commented line formats: TOML, INI, `.conf`; Dockerfiles and Makefiles by name.
pub static CONF: Family = Family {
    title: None,
    lang: Lang::Conf,
    extensions: &["toml", "ini", "cfg", "conf", "cnf", "service", "mk"],
    syntax: &HASH_SYNTAX,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// Any other text, scanned without comment stripping.
pub static PLAIN: Family = Family {
    title: None,
    lang: Lang::Plain,
    extensions: &[],
    syntax: &NO_COMMENTS,
    specs: &[],
    scan: None,
    safe_alternative,
};

/// Documentation and logs: text that configures nothing, never scanned.
pub static DOCS: Family = Family {
    title: None,
    lang: Lang::Docs,
    extensions: &[
        "md", "markdown", "mdx", "rst", "adoc", "asciidoc", "txt", "html", "htm", "rtf", "tex", "pod", "man", "log",
    ],
    syntax: &NO_COMMENTS,
    specs: &[],
    scan: None,
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::rules::Rule;
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
        let schema = "tlsInsecure:\n  type: boolean\n  description: |\n    tlsInsecure: true skips every check\n  default: false\nmongo:\n  tlsInsecure: true\n";
        assert_eq!(rules("schema.yaml", schema), vec![(Rule::TlsInsecure, 7, 3)]);
        let json = "{\"description\": \"tlsInsecure=true \\\" quoted\", \"examples\": [\"tlsInsecure=true\"],\n \"tlsInsecure\": true}";
        assert_eq!(rules("schema.json", json), vec![(Rule::TlsInsecure, 2, 3)]);
        let tf = "variable \"x\" {\n  description = <<-EOT\n    MONGODB_TLS_INSECURE=true\n  EOT\n}\nlocals { MONGODB_TLS_INSECURE = true }\n";
        assert_eq!(rules("vars.tf", tf), vec![(Rule::TlsInsecure, 6, 10)]);
        let log = "{\"t\":{\"$date\":\"2024-05-01T10:00:00Z\"},\"s\":\"I\",\"attr\":{\"uri\":\"mongodb://h.example.net/?tlsInsecure=true\"}}\n";
        assert!(rules("captured.jsonl", log).is_empty());
        let convict = "const config = convict({\n  mongo: { uri: {\n    doc: 'MongoDB URI. Forbidden: tlsAllowInvalidCertificates=true',\n    format: String,\n  } },\n});\nconst opts = { tlsAllowInvalidCertificates: true }; // mongo\n";
        assert_eq!(rules("config.js", convict), vec![(Rule::AllowInvalidCertificates, 7, 16)]);
        let py = "uri: str = Field(..., doc=\"forbidden: tlsAllowInvalidCertificates=true\")\n";
        assert!(rules("settings.py", py).is_empty());
        let md = "Set `tlsAllowInvalidCertificates=true` to debug.\n";
        assert!(rules("README.md", md).is_empty());
    }
}
