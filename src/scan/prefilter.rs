//! One case-insensitive search per file, before any decoding or parsing.
//!
//! A file can only give a finding when it names an option that counts on its own (a spec whose
//! reach is [`Reach::Anywhere`]), when it mentions MongoDB (every other option, the verifiers
//! and `tls=false` count only in a MongoDB context, and a connection string says `mongodb`), or
//! when it holds a literal that a rule outside the option tables needs
//! ([`families::TRIGGERS`], such as the `0.0.0.0/0` of an open Atlas access list). A file with
//! none of them cannot produce a finding, and that is nearly every file.
//!
//! The keywords are derived from the registry, not listed here: a spec added to a family's
//! table, or a trigger added next to the families, reaches the prefilter by itself.
//!
//! The search runs on the file's raw bytes: every keyword is ASCII, and decoding UTF-8 with
//! replacement neither creates nor breaks a run of ASCII bytes, so the raw bytes hold a keyword
//! exactly when the decoded text does (UTF-16 is decoded first; see `file::scan_bytes`).
//!
//! How: a vectorised multi-literal search (aho-corasick's Teddy, the engine ripgrep's literal
//! searches use) finds every place where a keyword's first bytes appear in any letter case;
//! each such place is then compared with the keywords. Measured, not assumed: a case-insensitive
//! aho-corasick automaton, or one `regex` alternation of the keywords, falls back to a
//! byte-at-a-time search for some keyword sets (this one included), about ten times slower;
//! only the first bytes of each keyword decide the speed here, whatever the registry adds.

use std::io::Read;
use std::sync::LazyLock;

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

use super::families;
use super::family::{Reach, Spec};

/// What a MongoDB context looks like in a file: the name itself, and Motor (PyMongo's
/// asynchronous wrapper), whose imports and client class do not say "mongo".
pub const CONTEXT_KEYWORDS: &[&str] = &["mongo", "motor_asyncio", "motorclient"];

/// How many leading bytes of a keyword the vectorised search looks for.
const PREFIX_LEN: usize = 3;

/// One keyword: words matched case-insensitively (ASCII), with an optional `_` or `-` between
/// two words, as the option matcher spells option names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    pub words: Vec<&'static str>,
    /// A MongoDB context rather than an option or trigger.
    pub context: bool,
}

impl Keyword {
    /// Whether the keyword starts at the beginning of `b`.
    fn matches_at(&self, b: &[u8]) -> bool {
        let mut p = 0;
        for (i, word) in self.words.iter().enumerate() {
            if i > 0 && matches!(b.get(p), Some(b'_' | b'-')) {
                p += 1;
            }
            let end = p + word.len();
            if !b.get(p..end).is_some_and(|got| got.eq_ignore_ascii_case(word.as_bytes())) {
                return false;
            }
            p = end;
        }
        true
    }

    /// The longest text the keyword matches.
    fn max_len(&self) -> usize {
        self.words.iter().map(|w| w.len()).sum::<usize>() + self.words.len().saturating_sub(1)
    }

    fn prefix(&self) -> Vec<u8> {
        let first = self.words.first().map(|w| w.as_bytes()).unwrap_or_default();
        first[..first.len().min(PREFIX_LEN)].to_ascii_lowercase()
    }
}

/// Every keyword: the names of the specs that count anywhere, the triggers of the rules outside
/// the option tables, and the MongoDB context.
pub fn keywords() -> Vec<Keyword> {
    let counts_anywhere = |s: &&&Spec| s.reach == Reach::Anywhere || s.separated_reach == Reach::Anywhere;
    let mut all: Vec<Keyword> = families::OPTIONS
        .specs()
        .iter()
        .filter(counts_anywhere)
        .map(|s| Keyword { words: s.words.to_vec(), context: false })
        .chain(families::TRIGGERS.iter().flat_map(|t| t.iter()).map(|t| Keyword { words: vec![*t], context: false }))
        .chain(CONTEXT_KEYWORDS.iter().map(|k| Keyword { words: vec![*k], context: true }))
        .filter(|k| k.max_len() > 0)
        .collect();
    all.dedup();
    all
}

/// Finds the places where a keyword may start.
enum Candidates {
    /// Teddy over every letter-case variant of the keywords' prefixes.
    Packed(packed::Searcher),
    /// Where Teddy is unavailable (no SIMD, or too many prefixes): an automaton.
    Automaton(AhoCorasick),
}

impl Candidates {
    fn next(&self, haystack: &[u8], from: usize) -> Option<usize> {
        match self {
            Candidates::Packed(searcher) => {
                searcher.find_in(haystack, aho_corasick::Span { start: from, end: haystack.len() }).map(|m| m.start())
            }
            Candidates::Automaton(ac) => ac.find(Input::new(haystack).range(from..)).map(|m| m.start()),
        }
    }
}

struct Searcher {
    keywords: Vec<Keyword>,
    candidates: Candidates,
    /// The most bytes a keyword spans.
    max_len: usize,
    /// How many leading bytes the candidates are found by (0: by the automaton); the tests
    /// check each way is taken.
    #[cfg_attr(not(test), allow(dead_code))]
    prefix_len: usize,
}

/// Every ASCII letter-case variant of `prefix`.
fn case_variants(prefix: &[u8]) -> Vec<Vec<u8>> {
    let mut variants = vec![Vec::with_capacity(prefix.len())];
    for &c in prefix {
        let cases: &[u8] =
            if c.is_ascii_alphabetic() { &[c.to_ascii_lowercase(), c.to_ascii_uppercase()] } else { &[c] };
        variants = variants
            .into_iter()
            .flat_map(|v| {
                cases.iter().map(move |&c| {
                    let mut v = v.clone();
                    v.push(c);
                    v
                })
            })
            .collect();
    }
    variants
}

fn build(keywords: Vec<Keyword>) -> Option<Searcher> {
    let mut prefixes: Vec<Vec<u8>> = keywords.iter().map(Keyword::prefix).collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    let max_len = keywords.iter().map(Keyword::max_len).max().unwrap_or(0);
    // Shorter prefixes mean fewer variants: try until Teddy takes them.
    for len in (1..=PREFIX_LEN).rev() {
        let mut short: Vec<Vec<u8>> = prefixes.iter().map(|p| p[..p.len().min(len)].to_vec()).collect();
        short.sort_unstable();
        short.dedup();
        let variants: Vec<Vec<u8>> = short.iter().flat_map(|p| case_variants(p)).collect();
        if let Some(searcher) =
            packed::Config::new().match_kind(packed::MatchKind::LeftmostFirst).builder().extend(&variants).build()
        {
            return Some(Searcher { keywords, candidates: Candidates::Packed(searcher), max_len, prefix_len: len });
        }
    }
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(&prefixes)
        .ok()?;
    Some(Searcher { keywords, candidates: Candidates::Automaton(ac), max_len, prefix_len: 0 })
}

static SEARCHER: LazyLock<Option<Searcher>> = LazyLock::new(|| build(keywords()));

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

/// Looks for the keywords in a file's bytes (raw UTF-8 or anything but UTF-16, or decoded text).
pub fn sight(bytes: &[u8]) -> Sighting {
    match SEARCHER.as_ref() {
        Some(searcher) => searcher.sight(bytes),
        // Unreachable with the registry's constant words; scanning everything is the safe
        // fallback.
        None => Sighting { option: true, mongo: true },
    }
}

impl Searcher {
    fn sight(&self, bytes: &[u8]) -> Sighting {
        let mut seen = Sighting::default();
        let mut from = 0;
        while let Some(at) = self.candidates.next(bytes, from) {
            for keyword in &self.keywords {
                if keyword.matches_at(&bytes[at..]) {
                    if keyword.context {
                        seen.mongo = true;
                    } else {
                        seen.option = true;
                    }
                }
            }
            if seen.option && seen.mongo {
                break;
            }
            // Every start is looked at: a keyword may begin inside another candidate.
            from = at + 1;
        }
        seen
    }
}

/// Whether a stream holds any keyword, read in pieces without keeping it: what a file too large
/// to read whole is checked with before it is decoded and scanned in windows.
pub fn any_in_stream(reader: impl Read) -> std::io::Result<bool> {
    match SEARCHER.as_ref() {
        Some(searcher) => searcher.any_in_stream(reader, 1024 * 1024),
        None => Ok(true),
    }
}

impl Searcher {
    fn any_in_stream(&self, mut reader: impl Read, piece: usize) -> std::io::Result<bool> {
        // Each piece starts with the end of the one before, so that a keyword across a cut is whole.
        let keep = self.max_len.saturating_sub(1);
        let mut buffer = vec![0u8; piece.max(1) + keep];
        let mut filled = 0;
        loop {
            let n = reader.read(&mut buffer[filled..])?;
            if n == 0 {
                return Ok(false);
            }
            filled += n;
            if self.sight(&buffer[..filled]).any() {
                return Ok(true);
            }
            let tail = filled.saturating_sub(keep);
            buffer.copy_within(tail..filled, 0);
            filled -= tail;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::rules::Rule;

    #[test]
    fn sees_options_and_context_in_any_case() {
        assert_eq!(sight(b"x TLS_ALLOW_INVALID_CERTIFICATES=1"), Sighting { option: true, mongo: false });
        assert_eq!(sight(b"from motor.motor_asyncio import x"), Sighting { option: false, mongo: true });
        assert_eq!(sight(b"MongoClient(tlsInsecure=True)"), Sighting { option: true, mongo: true });
        assert_eq!(sight(b"ingress 0.0.0.0/0"), Sighting { option: true, mongo: false });
        assert_eq!(sight(b"x = ssl-allow-invalid-hostnames"), Sighting { option: true, mongo: false });
        assert!(!sight(b"requests.get(url, verify=False)").any());
        assert!(!sight(b"tls_allow__invalid_certificates tlsallowinvalid mong").any());
        // Binary bytes around a keyword do not hide it, nor does a candidate just before it.
        assert!(sight(b"\0\xFF\xFEtlsDisableOCSPEndpointCheck\0").option);
        assert!(sight(b"tltlsInsecure").option);
        assert!(sight(b"momongo").mongo);
    }

    #[test]
    fn keywords_come_from_the_registry() {
        // Every option that counts anywhere, in each spelling the matcher accepts.
        for spec in families::OPTIONS.specs() {
            if spec.reach == Reach::Anywhere || spec.separated_reach == Reach::Anywhere {
                for sep in ["", "_", "-"] {
                    let name = spec.words.join(sep).to_ascii_uppercase();
                    assert!(sight(format!("x {name} y").as_bytes()).option, "{name}");
                }
            }
        }
        for trigger in families::TRIGGERS.iter().flat_map(|t| t.iter()) {
            assert!(sight(trigger.as_bytes()).option, "{trigger}");
        }
        // A name that needs a MongoDB context is not a keyword on its own.
        assert!(!sight(b"InsecureSkipVerify: true").any());
    }

    /// Many keywords: the search takes shorter prefixes, or an automaton, and still finds each.
    #[test]
    fn any_number_of_keywords_is_searched_correctly() {
        const WORDS: &[&str] = &[
            "alpha",
            "bravo",
            "charlie",
            "delta",
            "echo",
            "foxtrot",
            "golf",
            "hotel",
            "india",
            "juliett",
            "kilo",
            "lima",
            "mike",
            "november",
            "oscar",
            "papa",
            "quebec",
            "romeo",
            "sierra",
            "tango",
            "uniform",
            "victor",
            "whiskey",
            "xray",
            "yankee",
            "zulu",
            "0.0.0.0/0",
            "::/0",
            "a",
            "mongo",
        ];
        let mut ways = Vec::new();
        for n in [2, 8, 20, WORDS.len()] {
            let keywords: Vec<Keyword> =
                WORDS[..n].iter().map(|w| Keyword { words: vec![*w, "x"], context: false }).collect();
            let Some(searcher) = build(keywords) else { panic!("{n} keywords") };
            ways.push(searcher.prefix_len);
            for word in &WORDS[..n] {
                let text = format!("{}..{}-X..", "z".repeat(70), word.to_ascii_uppercase());
                assert!(searcher.sight(text.as_bytes()).option, "{n}: {word}");
                assert!(!searcher.sight(format!("..{word}..").as_bytes()).option, "{n}: {word}");
            }
        }
        // Each way of finding candidates was tried.
        assert!(ways.contains(&PREFIX_LEN) && ways.contains(&0), "{ways:?}");
    }

    #[test]
    fn a_stream_is_searched_across_its_pieces() {
        let Some(searcher) = SEARCHER.as_ref() else { panic!("no searcher") };
        let keyword = b"tls-allow-invalid-certificates";
        for cut in 0..=keyword.len() {
            let mut bytes = vec![b'.'; 100];
            bytes[64 - cut..64 - cut + keyword.len()].copy_from_slice(keyword);
            let Ok(found) = searcher.any_in_stream(bytes.as_slice(), 64) else { panic!("read") };
            assert!(found, "keyword cut {cut} bytes before the end of a piece");
        }
        let Ok(found) = searcher.any_in_stream(vec![b'.'; 1000].as_slice(), 64) else { panic!("read") };
        assert!(!found);
    }

    /// A rule whose examples the prefilter rejects would never fire in a real file: a new rule
    /// that needs no MongoDB context must add its literal to `families::TRIGGERS` or be a
    /// `Reach::Anywhere` spec.
    #[test]
    fn every_flagged_example_passes_the_prefilter() {
        for rule in Rule::ALL {
            for example in rule.examples().iter().filter(|e| e.flagged) {
                let passes =
                    sight(example.text.as_bytes()).any() || example.path.to_ascii_lowercase().contains("mongo");
                assert!(passes, "{rule}: the prefilter rejects {} in {}", example.text, example.path);
            }
        }
    }
}
