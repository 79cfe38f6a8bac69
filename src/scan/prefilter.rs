//! One case-insensitive multi-pattern search per file, before any parsing.
//!
//! Every rule needs either an option name that only MongoDB uses (`allowinvalid…`,
//! `tlsinsecure`, `disableocsp…`) or a mention of MongoDB in the file (for the generic names,
//! the verifiers and `tls=false`, which count only in a MongoDB context). A file with neither
//! cannot produce a finding, and that is nearly every file.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Keywords that can start an option finding on their own.
const OPTION_KEYWORDS: &[&str] = &[
    "allowinvalid",
    "allow_invalid",
    "allow-invalid",
    "tlsinsecure",
    "tls_insecure",
    "tls-insecure",
    "disableocsp",
    "disable_ocsp",
    "disable-ocsp",
    "disablecertificaterevocation",
    "disable_certificate_revocation",
    "disable-certificate-revocation",
    // An Atlas IP access list opened to every address (rule `access-list-open-to-world`).
    "0.0.0.0/0",
    "::/0",
];

/// Keywords that put a file in a MongoDB context.
const CONTEXT_KEYWORDS: &[&str] = &["mongo", "motor_asyncio", "motorclient"];

static SEARCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(OPTION_KEYWORDS.iter().chain(CONTEXT_KEYWORDS))
        .ok()
});

/// What the search saw in a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sighting {
    pub option: bool,
    pub mongo: bool,
}

impl Sighting {
    pub fn any(self) -> bool {
        self.option || self.mongo
    }
}

pub fn sight(bytes: &[u8]) -> Sighting {
    let Some(searcher) = SEARCHER.as_ref() else {
        // Unreachable with constant patterns; scanning everything is the safe fallback.
        return Sighting { option: true, mongo: true };
    };
    let mut seen = Sighting::default();
    for m in searcher.find_iter(bytes) {
        if m.pattern().as_usize() < OPTION_KEYWORDS.len() {
            seen.option = true;
        } else {
            seen.mongo = true;
        }
        if seen.option && seen.mongo {
            break;
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_options_and_context_in_any_case() {
        assert_eq!(sight(b"x TLS_ALLOW_INVALID_CERTIFICATES=1"), Sighting { option: true, mongo: false });
        assert_eq!(sight(b"from motor.motor_asyncio import x"), Sighting { option: false, mongo: true });
        assert_eq!(sight(b"MongoClient(tlsInsecure=True)"), Sighting { option: true, mongo: true });
        assert!(!sight(b"requests.get(url, verify=False)").any());
    }
}
