//! The one matcher: every "What you may see" text of the catalogue, found in one pass over the
//! compact input (Aho-Corasick). A text may hold `…`: its parts must follow one another within
//! a few hundred characters. A match inside a longer match is dropped, so
//! `querySrv ECONNREFUSED` (DNS) is not also `connect ECONNREFUSED` (TCP) and
//! `self-signed certificate in certificate chain` is not also `self-signed certificate`.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::text::{Clean, compact};
use crate::catalog::Documented;
use crate::catalog::codes::DiagnosisCode;
use crate::catalog::{Seen, Stage};

/// How far (compact bytes) the next part of a `…` text may be.
const PART_WINDOW: usize = 400;

struct Entry {
    code: DiagnosisCode,
    seen: &'static Seen,
    rest: Vec<Vec<u8>>,
}

struct Matcher {
    automaton: Option<AhoCorasick>,
    /// Per pattern of the automaton, the catalogue texts that start with it.
    entries: Vec<Vec<Entry>>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut firsts: Vec<Vec<u8>> = Vec::new();
    let mut entries: Vec<Vec<Entry>> = Vec::new();
    for code in DiagnosisCode::ALL {
        for seen in code.explanation().seen {
            let mut parts = seen.text.split('…').map(compact).filter(|p| !p.is_empty());
            let Some(first) = parts.next() else { continue };
            let entry = Entry { code: *code, seen, rest: parts.collect() };
            match firsts.iter().position(|f| *f == first) {
                Some(i) => entries[i].push(entry),
                None => {
                    firsts.push(first);
                    entries.push(vec![entry]);
                }
            }
        }
    }
    Matcher { automaton: AhoCorasick::new(&firsts).ok(), entries }
});

/// One catalogue text found in the input.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub code: DiagnosisCode,
    pub seen: &'static Seen,
    /// Byte range in the cleaned text.
    pub start: usize,
    pub end: usize,
}

impl Hit {
    pub fn stage(&self) -> Option<Stage> {
        self.code.explanation().stage()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every catalogue text in `clean`, in order, without those inside a longer match.
pub fn hits(clean: &Clean) -> Vec<Hit> {
    let matcher = &*MATCHER;
    let Some(automaton) = &matcher.automaton else { return Vec::new() };
    let hay = &clean.compact;
    // (start, end) in compact bytes.
    let mut raw: Vec<(usize, usize, &Entry)> = Vec::new();
    for m in automaton.find_overlapping_iter(hay.as_slice()) {
        for entry in &matcher.entries[m.pattern().as_usize()] {
            let mut end = m.end();
            let complete = entry.rest.iter().all(|part| {
                let window = &hay[end..hay.len().min(end + PART_WINDOW)];
                match find(window, part) {
                    Some(at) => {
                        end += at + part.len();
                        true
                    }
                    None => false,
                }
            });
            if complete {
                raw.push((m.start(), end, entry));
            }
        }
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out = Vec::with_capacity(raw.len());
    let mut max_end = 0usize;
    let mut i = 0;
    while i < raw.len() {
        let (start, end) = (raw[i].0, raw[i].1);
        let mut j = i;
        while j < raw.len() && raw[j].0 == start && raw[j].1 == end {
            j += 1;
        }
        let contained = i > 0 && max_end >= end;
        if !contained {
            for (s, e, entry) in &raw[i..j] {
                let text_start = clean.origin[*s] as usize;
                let text_end = clean.origin[e - 1] as usize + 1;
                out.push(Hit { code: entry.code, seen: entry.seen, start: text_start, end: text_end });
            }
        }
        max_end = max_end.max(end);
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::why::text::clean;

    fn codes(s: &str) -> Vec<&'static str> {
        let mut v: Vec<&str> = hits(&clean(s)).iter().map(|h| h.code.id()).collect();
        v.dedup();
        v
    }

    #[test]
    fn longer_matches_win() {
        assert_eq!(codes("querySrv ECONNREFUSED _mongodb._tcp.x.example.net"), ["dns-lookup-failed"]);
        assert!(codes("connect ECONNREFUSED 127.0.0.1:27017").contains(&"tcp-connection-refused"));
        assert!(!codes("self-signed certificate in certificate chain").contains(&"cert-self-signed"));
        assert_eq!(
            codes("x509: certificate has expired or is not yet valid: current time 2025 is after 2024")[0],
            "cert-expired"
        );
        assert!(codes("E11000 duplicate key error collection: test.users").is_empty());
    }
}
