//! `why`: the cause behind a pasted error message. The text is cleaned (`text`), the
//! catalogue's "What you may see" texts are found in it (`matcher`), nearby matches make one
//! failure with its client (`drivers`) and hosts (`hosts`), causes are ranked and what they
//! rule out is said (`rank`), and the probe command that decides is built (`command`).
//! `render` shows a [`Reading`]; nothing here touches the network.

pub mod command;
pub mod drivers;
pub mod hosts;
pub mod matcher;
pub mod rank;
pub mod reading;
pub mod render;
pub mod text;

pub use reading::{Cause, Failure, Reading, RuledOut};

use crate::catalog::{Documented, Likelihood, Stage};

/// Matches more than this many lines apart belong to different failures.
const LINE_GAP: usize = 40;
/// Failures examined at most; a log repeating one failure a thousand times is one failure.
const MAX_FAILURES: usize = 200;
/// Failures listed at most.
const MAX_SHOWN: usize = 20;
/// Up to this many non-empty lines, the input is a pasted message: it needs no word naming
/// MongoDB to be read as a MongoDB failure.
const PASTED_LINES: usize = 5;
/// Characters of an excerpt.
const EXCERPT: usize = 320;

fn mongodb_port(host_port: &str) -> bool {
    host_port
        .rsplit_once(':')
        .is_some_and(|(h, p)| matches!(p, "27017" | "27018" | "27019") || h.ends_with(".mongodb.net"))
}

/// The line of `hit`, redacted before it is cut, so a cut never splits a connection string
/// from its scheme.
fn excerpt(clean: &text::Clean, hit: &matcher::Hit) -> String {
    let line = clean.lines(clean.line_of(hit.start), clean.line_of(hit.start));
    let redacted = crate::redact::text(line.trim());
    let words = clean.text.get(hit.start..hit.end).unwrap_or_default();
    let chars: Vec<char> = redacted.chars().collect();
    if chars.len() <= EXCERPT {
        return redacted.into_owned();
    }
    let at_byte = redacted.find(words).unwrap_or(0);
    let at = redacted[..at_byte].chars().count();
    let from = at.saturating_sub(EXCERPT / 3);
    let to = (from + EXCERPT).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(&chars[from..to]);
    if to < chars.len() {
        out.push('…');
    }
    // A cut may still split a URI's user info from its scheme: hide any `user:pass@` left.
    crate::redact::text(&out).into_owned()
}

/// Reads `input`: every MongoDB connection failure in it, and what they point at.
pub fn read(input: &str) -> Reading {
    let clean = text::clean(input);
    let hits = matcher::hits(&clean);
    let pasted = clean.non_empty_lines() <= PASTED_LINES;

    let mut groups: Vec<Vec<matcher::Hit>> = Vec::new();
    let mut last_line = 0usize;
    for hit in hits {
        let line = clean.line_of(hit.start);
        let full = groups.len() >= MAX_FAILURES;
        match groups.last_mut() {
            Some(group) if line.saturating_sub(last_line) <= LINE_GAP => group.push(hit),
            _ if full => break,
            _ => groups.push(vec![hit]),
        }
        last_line = line;
    }

    let mut errors: Vec<Failure> = Vec::new();
    let mut srv: Option<String> = None;
    let mut tls_words = false;
    for group in &groups {
        let (Some(first_hit), Some(last_hit)) = (group.first(), group.last()) else { continue };
        let first = clean.line_of(first_hit.start);
        let last = clean.line_of(last_hit.end.saturating_sub(1));
        let window = clean.compact_range(first.saturating_sub(60), last + 10);
        let (driver, mongodb) = drivers::driver(&clean.compact[window.clone()]);
        let around = clean.lines(first.saturating_sub(60), last + 40);
        let failure_hosts = hosts::hosts(around);
        if !(mongodb || pasted || failure_hosts.iter().any(|h| mongodb_port(h))) {
            continue;
        }
        let (causes, stage) = rank::causes(&clean, group);
        if causes.is_empty() {
            continue;
        }
        let best = group
            .iter()
            .find(|h| h.seen.likelihood == Likelihood::Likely && causes.iter().any(|c| c.code == h.code))
            .unwrap_or(last_hit);
        let window_bytes = &clean.compact[window];
        tls_words |= [b"ssl".as_slice(), b"tls"].iter().any(|w| window_bytes.windows(3).any(|x| x == *w));
        if srv.is_none() {
            srv = hosts::srv_names(around).into_iter().next();
        }
        let failure = Failure { driver, excerpt: excerpt(&clean, best), hosts: failure_hosts, causes, stage };
        let same = |f: &Failure| {
            f.driver == failure.driver
                && f.hosts == failure.hosts
                && f.causes.iter().map(|c| c.code).eq(failure.causes.iter().map(|c| c.code))
        };
        if !errors.iter().any(same) {
            errors.push(failure);
        }
    }

    let (causes, stage) = rank::merge(&errors);
    let rules_out = rank::rules_out(stage);
    let mut all_hosts: Vec<String> = Vec::new();
    for h in errors.iter().flat_map(|f| f.hosts.iter()) {
        if !all_hosts.contains(h) {
            all_hosts.push(h.clone());
        }
    }
    let uri = if errors.is_empty() {
        None
    } else {
        let uris = hosts::connection_strings(&clean.text);
        let names = |u: &crate::uri::ConnectionString| -> Vec<String> {
            u.hosts.iter().map(|h| h.to_string().to_ascii_lowercase()).collect()
        };
        uris.iter()
            .find(|u| {
                u.srv_name().is_some_and(|s| srv.as_deref() == Some(&s.to_ascii_lowercase()))
                    || names(u).iter().any(|n| all_hosts.contains(n))
            })
            .or_else(|| if all_hosts.is_empty() && srv.is_none() { uris.first() } else { None })
            .cloned()
    };
    if let Some(u) = &uri
        && u.srv_name().is_none()
    {
        for h in &u.hosts {
            let hp = h.to_string().to_ascii_lowercase();
            if !all_hosts.contains(&hp) {
                all_hosts.push(hp);
            }
        }
    }
    let tls = causes.iter().any(|c| matches!(c.code.explanation().stage(), Some(Stage::TlsHello | Stage::Certificate)))
        || tls_words
        || all_hosts.iter().any(|h| mongodb_port(h) && h.contains(".mongodb.net"))
        || uri.as_ref().is_some_and(|u| u.tls_enabled());
    errors.truncate(MAX_SHOWN);
    Reading { causes, hosts: all_hosts, srv, uri, tls, rules_out, errors }
}
