//! Go: the official driver (`go.mongodb.org/mongo-driver`).
//!
//! Go relaxes TLS through a `tls.Config`: `InsecureSkipVerify: true` or a
//! `VerifyPeerCertificate` that returns nil. Both count only when that config reaches the
//! MongoDB client through `SetTLSConfig`; an `http.Transport`'s `TLSClientConfig` never does.

use std::sync::LazyLock;

use regex::Regex;

use super::bytes::callee_before;
use super::family::{Family, FileCtx, Hit};
use super::lang::Lang;
use super::strip::{C_LIKE, Syntax};
use crate::catalog::rules::Rule;

pub static SYNTAX: Syntax = Syntax { quotes: b"\"'`", multiline_quotes: b"`", ..C_LIKE };

pub fn scan(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    static FIELD: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r"\bInsecureSkipVerify\s*:\s*true\b").unwrap()
    });
    static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r"\b(\w+)\.InsecureSkipVerify\s*=\s*true\b").unwrap()
    });
    static VERIFY_NIL: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r"\bVerifyPeerCertificate\s*:\s*func\s*\([^)]*\)\s*error\s*\{\s*return\s+nil\s*\}").unwrap()
    });
    if !ctx.mongo || !ctx.text.contains("SetTLSConfig") {
        return;
    }
    for m in FIELD.find_iter(ctx.text) {
        if config_reaches_mongo(ctx, m.start()) {
            out.push(Hit {
                rule: Rule::TlsInsecure,
                offset: m.start(),
                message: "`InsecureSkipVerify: true` in the MongoDB client's tls.Config".to_string(),
            });
        }
    }
    for caps in ASSIGN.captures_iter(ctx.text) {
        let Some(var) = caps.get(1) else { continue };
        if passed_to_set_tls_config(ctx.text, var.as_str()) {
            out.push(Hit {
                rule: Rule::TlsInsecure,
                offset: var.end() + 1,
                message: format!("`{}.InsecureSkipVerify = true` on the MongoDB client's tls.Config", var.as_str()),
            });
        }
    }
    for m in VERIFY_NIL.find_iter(ctx.text) {
        if config_reaches_mongo(ctx, m.start()) {
            out.push(Hit {
                rule: Rule::CustomVerifierAcceptsAll,
                offset: m.start(),
                message: "`VerifyPeerCertificate` returns nil for every certificate".to_string(),
            });
        }
    }
}

/// Whether the `tls.Config{…}` literal holding `offset` ends up in `SetTLSConfig`.
fn config_reaches_mongo(ctx: &FileCtx<'_>, offset: usize) -> bool {
    let b = ctx.bytes();
    let mut depth = 0usize;
    let mut i = offset;
    let floor = offset.saturating_sub(4000);
    let open = loop {
        if i <= floor {
            return false;
        }
        i -= 1;
        match b[i] {
            b'}' => depth += 1,
            b'{' if depth > 0 => depth -= 1,
            b'{' => break i,
            _ => {}
        }
    };
    let literal_type = callee_before(b, open);
    if !literal_type.ends_with("Config") {
        return false;
    }
    // What the literal is given to: `SetTLSConfig(&tls.Config{`, `TLSClientConfig: &tls.Config{`,
    // `cfg := &tls.Config{`.
    let mut j = open - literal_type.len().min(open);
    while j > 0 && matches!(b[j - 1], b' ' | b'\t' | b'&') {
        j -= 1;
    }
    let line_start = b[..j].iter().rposition(|&c| c == b'\n').map(|p| p + 1).unwrap_or(0);
    let before = String::from_utf8_lossy(&b[line_start..j]);
    let before = before.trim_end();
    if before.ends_with('(') {
        return callee_before(b, j - 1).ends_with("SetTLSConfig");
    }
    if before.ends_with("TLSClientConfig:") {
        return false;
    }
    static DECL: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r"(\w+)\s*(?::=|=)$").unwrap()
    });
    if let Some(var) = DECL.captures(before).and_then(|c| c.get(1)) {
        return passed_to_set_tls_config(ctx.text, var.as_str());
    }
    // Returned from a helper: count it only in a file that configures MongoDB TLS and nothing else.
    before.ends_with("return") && !ctx.text.contains("TLSClientConfig")
}

fn passed_to_set_tls_config(text: &str, var: &str) -> bool {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find("SetTLSConfig(").map(|p| p + from) {
        from = pos + 1;
        let arg_start = pos + "SetTLSConfig(".len();
        let arg_end = b[arg_start..].iter().position(|&c| c == b')').map(|p| p + arg_start).unwrap_or(b.len());
        let arg = text[arg_start..arg_end].trim().trim_start_matches('&');
        if arg == var {
            return true;
        }
    }
    false
}

pub fn safe_alternative(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::AllowInvalidCertificates | Rule::TlsInsecure | Rule::CustomVerifierAcceptsAll => {
            "SetTLSConfig(&tls.Config{RootCAs: pool}) with the CA that issued the server certificate"
        }
        Rule::AllowInvalidHostnames => "connect with a host name the certificate lists (tls.Config.ServerName)",
        Rule::TlsDisabledForRemoteHost => "drop `tls=false`; `mongodb+srv://` turns TLS on",
        _ => return None,
    })
}

/// Go: the scanner's one entry for this family.
pub static FAMILY: Family = Family {
    title: Some("Go"),
    lang: Lang::Go,
    extensions: &["go"],
    syntax: &SYNTAX,
    specs: &[],
    scan: Some(scan),
    safe_alternative,
};

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;

    fn rules(text: &str) -> Vec<(Rule, u32)> {
        crate::scan::file::rule_lines("main.go", text)
    }

    #[test]
    fn insecure_skip_verify_only_for_mongo() {
        let inline = "import \"go.mongodb.org/mongo-driver/mongo/options\"\nopts := options.Client().ApplyURI(uri).SetTLSConfig(&tls.Config{\n\tInsecureSkipVerify: true,\n})\n";
        assert_eq!(rules(inline), vec![(Rule::TlsInsecure, 3)]);
        let var = "import \"go.mongodb.org/mongo-driver/mongo\"\ncfg := &tls.Config{InsecureSkipVerify: true}\nhttpCfg := &tls.Config{InsecureSkipVerify: true}\nc := options.Client().SetTLSConfig(cfg)\n_ = &http.Transport{TLSClientConfig: httpCfg}\n";
        assert_eq!(rules(var), vec![(Rule::TlsInsecure, 2)]);
        let http = "c, _ := mongo.Connect(ctx, options.Client().SetTLSConfig(caCfg))\ntr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}\n";
        assert!(rules(http).is_empty());
        let verify = "import \"go.mongodb.org/mongo-driver/mongo\"\nopts.SetTLSConfig(&tls.Config{\n\tVerifyPeerCertificate: func(raw [][]byte, chains [][]*x509.Certificate) error { return nil },\n})\n";
        assert_eq!(rules(verify), vec![(Rule::CustomVerifierAcceptsAll, 3)]);
    }
}
